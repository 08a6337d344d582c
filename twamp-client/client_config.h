/*
 * twamp-client's command line: options, defaults, validation, and the list
 * of every option in effect for the result's "config" object.
 */
#ifndef TK_CLIENT_CONFIG_H
#define TK_CLIENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "output.h"
#include "sender.h"

#define CLIENT_DEFAULT_PORT 862
#define CLIENT_CONFIG_KV_MAX 24

struct client_config {
	struct sender_opts send;
	char target_text[300];
	char source_text[300];
	char target_resolved[300];   /* "ADDR:PORT" after resolution */
	int family;                  /* AF_UNSPEC, or -4/-6 */
	enum output_format format;
	const char *output_path;     /* NULL = stdout */
	bool verbose;
	bool quiet;
	/* storage for the "config" object */
	struct output_kv kv[CLIENT_CONFIG_KV_MAX];
	size_t n_kv;
	char kv_text[8][64];
};

/*
 * Parses argv.  Returns 0 to run, 1 when --help/--version was printed
 * (exit 0), or -EINVAL after writing a one-line error to err.
 */
int client_config_parse(struct client_config *c, int argc, char **argv, char *err, size_t errlen);

/* Fills c->kv from the parsed options. */
void client_config_export(struct client_config *c);

void client_usage(FILE *f);

#endif
