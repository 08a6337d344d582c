/*
 * procstat: the resource readings make bench needs, as one JSON object
 * each, so the shell driver never parses /proc itself.
 *
 *   procstat mem PID           VmRSS, VmHWM, RssAnon, RssFile (KiB) of PID
 *   procstat cpu PID           on-CPU ns of all PID's threads (schedstat)
 *   procstat run FILE CMD...   runs CMD, writes its wall, user and system
 *                              time and peak RSS to FILE, exits as CMD did
 *
 * CPU time comes from the scheduler (schedstat, rusage), not from tick
 * sampling, so a short run of a mostly sleeping sender is still measured.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int mem(const char *pid)
{
	char path[64], line[256];
	snprintf(path, sizeof(path), "/proc/%s/status", pid);
	FILE *f = fopen(path, "r");
	if (!f) {
		perror("procstat: status");
		return 2;
	}
	static const char *const keys[] = { "VmRSS", "VmHWM", "RssAnon", "RssFile", "VmData" };
	long vals[5] = { -1, -1, -1, -1, -1 };
	while (fgets(line, sizeof(line), f)) {
		for (size_t k = 0; k < 5; k++) {
			size_t kl = strlen(keys[k]);
			if (!strncmp(line, keys[k], kl) && line[kl] == ':')
				vals[k] = strtol(line + kl + 1, NULL, 10);
		}
	}
	fclose(f);
	printf("{\"vmrss_kib\":%ld,\"vmhwm_kib\":%ld,\"rss_anon_kib\":%ld,\"rss_file_kib\":%ld,"
	       "\"vmdata_kib\":%ld}\n", vals[0], vals[1], vals[2], vals[3], vals[4]);
	return vals[0] < 0 ? 2 : 0;
}

static int cpu(const char *pid)
{
	char path[300];
	snprintf(path, sizeof(path), "/proc/%s/task", pid);
	DIR *d = opendir(path);
	if (!d) {
		perror("procstat: task");
		return 2;
	}
	long long total = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/task/%s/schedstat", pid, e->d_name);
		FILE *f = fopen(path, "r");
		long long v;
		if (f) {
			if (fscanf(f, "%lld", &v) == 1)
				total += v;
			fclose(f);
		}
	}
	closedir(d);
	printf("{\"cpu_ns\":%lld}\n", total);
	return 0;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static int run(const char *out, char **argv)
{
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("procstat: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[0], argv);
		perror("procstat: exec");
		_exit(127);
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			perror("procstat: wait4");
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	FILE *f = fopen(out, "w");
	if (!f) {
		perror("procstat: output");
		return 2;
	}
	fprintf(f, "{\"wall_s\":%.6f,\"user_s\":%.6f,\"sys_s\":%.6f,\"maxrss_kib\":%ld,\"status\":%d}\n",
		wall, tv_s(ru.ru_utime), tv_s(ru.ru_stime), ru.ru_maxrss,
		WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	fclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "mem"))
		return mem(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "cpu"))
		return cpu(argv[2]);
	if (argc >= 4 && !strcmp(argv[1], "run"))
		return run(argv[2], argv + 3);
	fprintf(stderr, "usage: procstat mem PID | cpu PID | run FILE CMD [ARG...]\n");
	return 2;
}
