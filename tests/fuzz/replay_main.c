/*
 * Corpus replay driver for builds without libFuzzer: runs a fuzz target
 * once on every file of a corpus directory (FUZZ_CORPUS, or argv[1]) and
 * reports TAP, one "ok" per file.  A target signals a bug by aborting, which
 * the TAP driver reports as a failure.  Each input sits in a heap buffer of
 * exactly its size so a sanitizer build catches any over-read.  A missing or
 * empty corpus is an error: it would make the test pass vacuously.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

#ifndef FUZZ_CORPUS
#define FUZZ_CORPUS "corpus"
#endif

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Reads a whole file into an exact-size buffer (1 octet allocated for an empty file). */
static uint8_t *read_file(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	struct stat st;

	if (!f)
		return NULL;
	if (fstat(fileno(f), &st) != 0 || st.st_size < 0) {
		fclose(f);
		return NULL;
	}
	*size = (size_t)st.st_size;
	uint8_t *buf = malloc(*size ? *size : 1);
	if (buf && *size && fread(buf, 1, *size, f) != *size) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : FUZZ_CORPUS;
	DIR *d = opendir(dir);
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;

	if (!d) {
		printf("Bail out! cannot open corpus %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[4096];
		struct stat st;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			char **grown = realloc(names, cap * sizeof(*names));
			if (!grown) {
				printf("Bail out! out of memory\n");
				return 1;
			}
			names = grown;
		}
		names[n] = strdup(e->d_name);
		if (!names[n]) {
			printf("Bail out! out of memory\n");
			return 1;
		}
		n++;
	}
	closedir(d);
	if (n == 0) {
		printf("Bail out! corpus %s is empty\n", dir);
		return 1;
	}
	qsort(names, n, sizeof(*names), cmp_names);

	printf("1..%zu\n", n);
	int status = 0;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		size_t size;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		uint8_t *buf = read_file(path, &size);
		if (!buf) {
			printf("not ok %zu - %s # cannot read: %s\n", i + 1, names[i], strerror(errno));
			status = 1;
		} else {
			fflush(stdout); /* the line before a crash must reach the log */
			LLVMFuzzerTestOneInput(buf, size);
			printf("ok %zu - %s (%zu octets)\n", i + 1, names[i], size);
			free(buf);
		}
		free(names[i]);
	}
	free(names);
	return status;
}
