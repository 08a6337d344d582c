/*
 * Fuzz target for configuration loading (common/config.c over libconfig,
 * with twamp-server's table) and the value parsers behind it.  The input,
 * NUL-terminated, is loaded as a config file and cross-checked with
 * server_config_check.  When it loads, its canonical print must load back
 * and print identically: a difference means the writer emitted something
 * the reader understands differently (quoting, 64-bit integers, durations),
 * and aborts.  The first line also goes through cfg_set for a few option
 * types and through the numeric endpoint and prefix parsers (no name
 * lookups: numeric only).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "fuzz.h"
#include "parse.h"
/* Program code, not in libtwampkit: compiled into the target directly. */
#include "server_config.h"

static char *canonical(const struct server_config *sc)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		abort();
	if (cfg_write_canonical(server_config_tab, server_config_tab_len, sc, f) != 0)
		abort();
	fclose(f);
	return buf;
}

static void check_round_trip(const struct server_config *sc)
{
	static struct server_config again;
	char err[CFG_ERR_LEN];
	char *one = canonical(sc), *two;

	if (cfg_set_defaults(server_config_tab, server_config_tab_len, &again, err,
			     sizeof(err)) != 0)
		abort();
	if (cfg_load_string(server_config_tab, server_config_tab_len, &again, one, "canonical",
			    err, sizeof(err)) != 0) {
		fprintf(stderr, "canonical output does not load: %s\n%s", err, one);
		abort();
	}
	two = canonical(&again);
	if (strcmp(one, two) != 0) {
		fprintf(stderr, "canonical output is not a fixed point:\n%s\n---\n%s", one, two);
		abort();
	}
	free(one);
	free(two);
}

static void first_line_values(struct server_config *sc, const char *text)
{
	static const char *const keys[] = {
		"listen", "refwait", "max_sessions", "stateful", "log_level", "dscp",
	};
	char line[320], err[CFG_ERR_LEN], out[512];
	struct sockaddr_storage ss;
	struct parse_prefix p;
	socklen_t sl;
	int64_t ns;
	size_t i, l = strcspn(text, "\n");

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_INET;
	if (l >= sizeof(line))
		l = sizeof(line) - 1;
	memcpy(line, text, l);
	line[l] = '\0';
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		cfg_set(server_config_tab, server_config_tab_len, sc, keys[i], line, err,
			sizeof(err));
	for (i = 0; i < server_config_tab_len; i++)
		cfg_format_value(&server_config_tab[i], sc, out, sizeof(out));
	if (parse_duration_ns(line, &ns) == 0) {
		int64_t back;

		format_duration_ns(ns, out, sizeof(out));
		if (parse_duration_ns(out, &back) != 0 || back != ns)
			abort();
	}
	if (parse_endpoint(line, AF_UNSPEC, 862, 1, &ss, &sl) == 0)
		format_endpoint((struct sockaddr *)&ss, out, sizeof(out));
	if (parse_prefix(line, &p) == 0)
		(void)prefix_contains(&p, (struct sockaddr *)&ss);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct server_config sc;
	char err[CFG_ERR_LEN];
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	if (cfg_set_defaults(server_config_tab, server_config_tab_len, &sc, err, sizeof(err)) != 0)
		abort();
	if (cfg_load_string(server_config_tab, server_config_tab_len, &sc, text, "fuzz.cfg", err,
			    sizeof(err)) == 0) {
		server_config_check(&sc, err, sizeof(err));
		check_round_trip(&sc);
	} else if (err[0] == '\0' || strchr(err, '\n')) {
		abort(); /* every failure has exactly one line of explanation */
	}
	first_line_values(&sc, text);
	free(text);
	return 0;
}
