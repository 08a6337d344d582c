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
#define CLIENT_CONFIG_KV_MAX 48

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
	bool padding_given;          /* -s: else the default follows the negotiated layout */
	/* full TWAMP and keyed Light */
	bool control;                /* --control: TWAMP-Control first (HOST:PORT is TCP) */
	uint32_t auth_mode;          /* -A as a Modes bit; 0: strongest offered (control) / open */
	const char *keyid;           /* -u */
	const char *keyfile;         /* -k */
	uint32_t max_count;          /* --max-count (RFC 5357 §6) */
	uint32_t features;           /* --isc, --reflect-octets, --symmetrical, --dscp-ecn */
	uint16_t reflect_len;        /* --reflect-octets LEN */
	uint16_t test_port;          /* --test-port: Receiver Port to request (0: server's choice) */
	int64_t control_timeout_ns;  /* connect and each control reply */
	/* what the control exchange settled, for the "config" object */
	const char *security;        /* "open", "auth", "enc", "mixed" */
	char features_text[96];
	char sid_text[33];
	char control_server_text[300];
	uint16_t negotiated_port;
	int64_t handshake_ns;        /* connect to Server-Start (PBKDF2 included) */
	int64_t setup_ns;            /* connect to Start-Ack */
	uint32_t greeting_count;
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

/* Fills c->kv from the parsed options (and what the control exchange settled). */
void client_config_export(struct client_config *c);

/* The Padding Length when -s was not given: equal sizes both ways (B9), plus RFC 6038 octets. */
size_t client_default_padding(const struct client_config *c);

void client_usage(FILE *f);

#endif
