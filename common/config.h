/*
 * Configuration files (libconfig syntax) mapped onto plain structs through a
 * typed table of {key, type, offset, range, default}, in the style of
 * linuxptp's config_tab.  One table drives defaults, file loading, command
 * line overrides and the canonical print of `-n`, so they cannot disagree.
 * Errors name the key and the file line: "FILE:LINE: key 'port': 70000 is
 * out of range 1..65535".
 */
#ifndef TK_CONFIG_H
#define TK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cfg_type {
	CFG_INT,         /* int64_t, range [min, max] */
	CFG_BOOL,        /* bool */
	CFG_DURATION,    /* int64_t ns; file value is a string "10ms" or a number of seconds; range in ns */
	CFG_STRING,      /* char[size]; size = max_len + 1 */
	CFG_ENUM,        /* int, index into names[] */
	CFG_STRING_LIST, /* struct cfg_string_list; max = max entries */
	CFG_INT_LIST,    /* struct cfg_int_list; [min, max] per element */
};

#define CFG_LIST_MAX 64
#define CFG_STR_MAX 256

struct cfg_string_list {
	size_t n;
	char v[CFG_LIST_MAX][CFG_STR_MAX];
};

struct cfg_int_list {
	size_t n;
	int64_t v[CFG_LIST_MAX];
};

struct cfg_option {
	const char *key;          /* libconfig path: "refwait" or "reflector.refwait" */
	enum cfg_type type;
	size_t offset;            /* offsetof(struct ..., field) */
	size_t size;              /* sizeof the field (strings: buffer size) */
	int64_t min, max;         /* ranges for INT, DURATION, INT_LIST; max entries for lists */
	const char *def;          /* default as text, parsed like a command-line value; NULL = zero/empty */
	const char *const *names; /* CFG_ENUM: NULL-terminated value names */
	const char *help;         /* one line for --help, man pages and -n comments */
};

#define CFG_ERR_LEN 512

/* Sets every option to its default.  0, or -EINVAL when a default is malformed (a bug). */
int cfg_set_defaults(const struct cfg_option *tab, size_t n, void *obj, char *err, size_t errlen);

/*
 * Loads path over the current values.  Unknown keys, wrong types and values
 * out of range are errors.  0, or -errno with a one-line message in err
 * naming the file, line and key.  All or nothing: on error obj is unchanged.
 * Keys map to dotted paths through groups ("reflector = { refwait = 5; }");
 * durations may be strings or numbers of seconds; a list option also takes
 * a single scalar.  @include is refused; files are limited to 1 MiB.
 */
int cfg_load_file(const struct cfg_option *tab, size_t n, void *obj, const char *path,
		  char *err, size_t errlen);

/* Same, from a string (tests, -o style overrides); name stands in for the file name. */
int cfg_load_string(const struct cfg_option *tab, size_t n, void *obj, const char *text,
		    const char *name, char *err, size_t errlen);

/*
 * Sets one option from text as given on a command line ("10ms", "yes",
 * "a,b,c" for lists).  Lists replace the current value.  0 or -EINVAL /
 * -ERANGE / -ENOENT (unknown key) with a message in err.
 */
int cfg_set(const struct cfg_option *tab, size_t n, void *obj, const char *key,
	    const char *value, char *err, size_t errlen);

/* Looks up an option by key; NULL if none. */
const struct cfg_option *cfg_find(const struct cfg_option *tab, size_t n, const char *key);

/* Formats one option's current value as text accepted by cfg_set (list elements joined by ","). */
void cfg_format_value(const struct cfg_option *opt, const void *obj, char *buf, size_t len);

/*
 * Writes the whole configuration in canonical libconfig syntax (every key,
 * table order, help as comments; a group where its first key appears) to f.
 * The output loads back to the same values.  0 or -EIO (-ENOMEM, or
 * -EINVAL for a malformed table).
 */
int cfg_write_canonical(const struct cfg_option *tab, size_t n, const void *obj, FILE *f);

#endif
