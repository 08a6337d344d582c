/*
 * Table-driven configuration over libconfig (see config.h).  Every way a
 * value enters a struct goes through one parser per type: defaults are
 * parsed from their text exactly like a command-line value, and file values
 * are checked against the same ranges, so a default can never be something
 * the user could not have written.  Loading works on a scratch copy of the
 * struct and commits only when the whole file is valid, so a bad file
 * leaves the previous configuration intact.
 *
 * libconfig 1.5 silently truncates integer literals beyond 32 bits unless
 * they carry an "L" suffix (5000000000 reads as 705032704).  The text is
 * therefore pre-scanned: large literals get the suffix added and literals
 * beyond 64 bits are refused, so what the user wrote is what is checked.
 * The same pass refuses @include: the configuration is one file, and
 * reading arbitrary paths named by a string (or a fuzzer) is not wanted.
 */
#include "autoconfig.h"

#include <errno.h>
#include <inttypes.h>
#include <libconfig.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "parse.h"

#define CFG_PATH_MAX 256
#define CFG_FILE_MAX (1024 * 1024)
#define CFG_MSG_MAX 400
#define CFG_HINT_DIST 2

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Messages quote user text, which may hold control characters: keep them one line. */
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	char *p;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	for (p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/* ---- table sanity -------------------------------------------------------- */

static size_t list_max_entries(const struct cfg_option *o)
{
	if (o->type == CFG_STRING_LIST && o->max > 0 && o->max < CFG_LIST_MAX)
		return (size_t)o->max;
	return CFG_LIST_MAX;
}

static bool opt_size_ok(const struct cfg_option *o)
{
	switch (o->type) {
	case CFG_INT:
	case CFG_DURATION:
		return o->size == sizeof(int64_t);
	case CFG_BOOL:
		return o->size == sizeof(bool);
	case CFG_ENUM:
		return o->size == sizeof(int) && o->names && o->names[0];
	case CFG_STRING:
		return o->size >= 1;
	case CFG_STRING_LIST:
		return o->size == sizeof(struct cfg_string_list);
	case CFG_INT_LIST:
		return o->size == sizeof(struct cfg_int_list);
	}
	return false;
}

static size_t obj_extent(const struct cfg_option *tab, size_t n)
{
	size_t i, end = 0;

	for (i = 0; i < n; i++)
		if (tab[i].offset + tab[i].size > end)
			end = tab[i].offset + tab[i].size;
	return end;
}

/* ---- scalar helpers ------------------------------------------------------ */

static int64_t get_i64(const void *field)
{
	int64_t v;

	memcpy(&v, field, sizeof(v));
	return v;
}

static void put_i64(void *field, int64_t v)
{
	memcpy(field, &v, sizeof(v));
}

static int get_int(const void *field)
{
	int v;

	memcpy(&v, field, sizeof(v));
	return v;
}

static bool get_bool(const void *field)
{
	bool v;

	memcpy(&v, field, sizeof(v));
	return v;
}

static void put_bool(void *field, bool v)
{
	memcpy(field, &v, sizeof(v));
}

/* Signed decimal integer, no blanks.  -EINVAL or -ERANGE (beyond int64). */
static int parse_i64_text(const char *s, int64_t *out)
{
	uint64_t u;
	int rc;

	if (s[0] == '-') {
		rc = parse_uint(s + 1, 0, (uint64_t)INT64_MAX + 1, &u);
		if (rc == 0)
			*out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
		return rc;
	}
	rc = parse_uint(s[0] == '+' ? s + 1 : s, 0, INT64_MAX, &u);
	if (rc == 0)
		*out = (int64_t)u;
	return rc;
}

static void fmt_range(const struct cfg_option *o, char *buf, size_t len)
{
	char a[32], b[32];

	if (o->type == CFG_DURATION) {
		format_duration_ns(o->min, a, sizeof(a));
		format_duration_ns(o->max, b, sizeof(b));
	} else {
		snprintf(a, sizeof(a), "%" PRId64, o->min);
		snprintf(b, sizeof(b), "%" PRId64, o->max);
	}
	snprintf(buf, len, "%s..%s", a, b);
}

static int range_err(const struct cfg_option *o, const char *valtext, char *msg, size_t len)
{
	char r[80];

	fmt_range(o, r, sizeof(r));
	set_err(msg, len, "key '%s': %s is out of range %s", o->key, valtext, r);
	return -ERANGE;
}

static int check_int_range(const struct cfg_option *o, int64_t v, char *msg, size_t len)
{
	char t[32];

	if (v >= o->min && v <= o->max)
		return 0;
	snprintf(t, sizeof(t), "%" PRId64, v);
	return range_err(o, t, msg, len);
}

static int check_duration_range(const struct cfg_option *o, int64_t ns, char *msg, size_t len)
{
	char t[32];

	if (ns >= o->min && ns <= o->max)
		return 0;
	format_duration_ns(ns, t, sizeof(t));
	return range_err(o, t, msg, len);
}

static void enum_names_list(const struct cfg_option *o, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; o->names[i]; i++) {
		int k = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", o->names[i]);

		if (k < 0 || (size_t)k >= len - used)
			break;
		used += (size_t)k;
	}
}

static int enum_lookup(const struct cfg_option *o, const char *name, int *out, char *msg,
		       size_t len)
{
	char names[200];
	int i;

	for (i = 0; o->names[i]; i++) {
		if (strcmp(o->names[i], name) == 0) {
			*out = i;
			return 0;
		}
	}
	enum_names_list(o, names, sizeof(names));
	set_err(msg, len, "key '%s': unknown value '%.64s' (valid: %s)", o->key, name, names);
	return -EINVAL;
}

static int string_store(const struct cfg_option *o, void *field, size_t size, const char *s,
			const char *what, char *msg, size_t len)
{
	size_t l = strlen(s);

	if (l >= size) {
		set_err(msg, len, "key '%s': %s longer than %zu characters", o->key, what, size - 1);
		return -ERANGE;
	}
	memcpy(field, s, l + 1);
	return 0;
}

/* ---- values from command-line text -------------------------------------- */

static int int_from_text(const struct cfg_option *o, const char *s, int64_t *v, char *msg,
			 size_t len)
{
	int rc = parse_i64_text(s, v);

	if (rc == -ERANGE)
		return range_err(o, s, msg, len);
	if (rc < 0) {
		set_err(msg, len, "key '%s': '%.64s' is not an integer", o->key, s);
		return rc;
	}
	return check_int_range(o, *v, msg, len);
}

static int duration_from_text(const struct cfg_option *o, const char *s, int64_t *ns, char *msg,
			      size_t len)
{
	int rc = parse_duration_ns(s, ns);

	if (rc == -ERANGE)
		return range_err(o, s, msg, len);
	if (rc < 0) {
		set_err(msg, len, "key '%s': '%.64s' is not a duration (such as 10ms, 1.5s, 2m)",
			o->key, s);
		return rc;
	}
	return check_duration_range(o, *ns, msg, len);
}

static int bool_from_text(const struct cfg_option *o, const char *s, bool *b, char *msg,
			  size_t len)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*b = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*b = false;
			return 0;
		}
	}
	set_err(msg, len, "key '%s': '%.64s' is not a boolean (yes/no, true/false, on/off, 1/0)",
		o->key, s);
	return -EINVAL;
}

/* Splits "a, b,c" into trimmed elements; calls add for each.  "" is the empty list. */
static int split_list(const struct cfg_option *o, const char *s, void *field,
		      int (*add)(const struct cfg_option *, void *, const char *, size_t, char *,
				 size_t),
		      char *msg, size_t len)
{
	char elem[CFG_STR_MAX];
	const char *p = s, *end;
	size_t idx = 0;
	int rc;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return 0;
	for (;;) {
		size_t l;

		end = strchr(p, ',');
		if (!end)
			end = p + strlen(p);
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		l = (size_t)(end - p);
		while (l > 0 && (p[l - 1] == ' ' || p[l - 1] == '\t'))
			l--;
		idx++;
		if (l == 0) {
			set_err(msg, len, "key '%s': element %zu is empty", o->key, idx);
			return -EINVAL;
		}
		if (l >= sizeof(elem)) {
			set_err(msg, len, "key '%s': element %zu longer than %zu characters", o->key,
				idx, sizeof(elem) - 1);
			return -ERANGE;
		}
		memcpy(elem, p, l);
		elem[l] = '\0';
		rc = add(o, field, elem, idx, msg, len);
		if (rc < 0)
			return rc;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

static int too_many(const struct cfg_option *o, size_t max, char *msg, size_t len)
{
	set_err(msg, len, "key '%s': more than %zu entries", o->key, max);
	return -ERANGE;
}

static int add_string_elem(const struct cfg_option *o, void *field, const char *s, size_t idx,
			   char *msg, size_t len)
{
	struct cfg_string_list *l = field;
	char what[32];

	if (l->n >= list_max_entries(o))
		return too_many(o, list_max_entries(o), msg, len);
	snprintf(what, sizeof(what), "element %zu", idx);
	if (string_store(o, l->v[l->n], sizeof(l->v[l->n]), s, what, msg, len) < 0)
		return -ERANGE;
	l->n++;
	return 0;
}

static int add_int_elem_value(const struct cfg_option *o, struct cfg_int_list *l, int64_t v,
			      size_t idx, char *msg, size_t len)
{
	char r[80];

	if (l->n >= CFG_LIST_MAX)
		return too_many(o, CFG_LIST_MAX, msg, len);
	if (v < o->min || v > o->max) {
		fmt_range(o, r, sizeof(r));
		set_err(msg, len, "key '%s': element %zu: %" PRId64 " is out of range %s", o->key,
			idx, v, r);
		return -ERANGE;
	}
	l->v[l->n++] = v;
	return 0;
}

static int add_int_elem(const struct cfg_option *o, void *field, const char *s, size_t idx,
			char *msg, size_t len)
{
	char r[80];
	int64_t v;
	int rc = parse_i64_text(s, &v);

	if (rc == -ERANGE) {
		fmt_range(o, r, sizeof(r));
		set_err(msg, len, "key '%s': element %zu: %.64s is out of range %s", o->key, idx, s,
			r);
		return rc;
	}
	if (rc < 0) {
		set_err(msg, len, "key '%s': element %zu: '%.64s' is not an integer", o->key, idx, s);
		return rc;
	}
	return add_int_elem_value(o, field, v, idx, msg, len);
}

/* field points to a buffer of o->size bytes; lists are replaced. */
static int opt_from_text(const struct cfg_option *o, void *field, const char *s, char *msg,
			 size_t len)
{
	int64_t v;
	bool b;
	int e, rc;

	switch (o->type) {
	case CFG_INT:
		rc = int_from_text(o, s, &v, msg, len);
		if (rc == 0)
			put_i64(field, v);
		return rc;
	case CFG_DURATION:
		rc = duration_from_text(o, s, &v, msg, len);
		if (rc == 0)
			put_i64(field, v);
		return rc;
	case CFG_BOOL:
		rc = bool_from_text(o, s, &b, msg, len);
		if (rc == 0)
			put_bool(field, b);
		return rc;
	case CFG_STRING:
		return string_store(o, field, o->size, s, "value", msg, len);
	case CFG_ENUM:
		rc = enum_lookup(o, s, &e, msg, len);
		if (rc == 0)
			memcpy(field, &e, sizeof(e));
		return rc;
	case CFG_STRING_LIST:
		((struct cfg_string_list *)field)->n = 0;
		return split_list(o, s, field, add_string_elem, msg, len);
	case CFG_INT_LIST:
		((struct cfg_int_list *)field)->n = 0;
		return split_list(o, s, field, add_int_elem, msg, len);
	}
	set_err(msg, len, "key '%s': unknown option type", o->key);
	return -EINVAL;
}

/* ---- lookup and hints ---------------------------------------------------- */

const struct cfg_option *cfg_find(const struct cfg_option *tab, size_t n, const char *key)
{
	size_t i;

	if (!tab || !key)
		return NULL;
	for (i = 0; i < n; i++)
		if (strcmp(tab[i].key, key) == 0)
			return &tab[i];
	return NULL;
}

/* True when some key lies below path ("reflector" for "reflector.refwait"). */
static bool is_group_prefix(const struct cfg_option *tab, size_t n, const char *path)
{
	size_t i, l = strlen(path);

	for (i = 0; i < n; i++)
		if (strncmp(tab[i].key, path, l) == 0 && tab[i].key[l] == '.')
			return true;
	return false;
}

static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
	size_t row[CFG_PATH_MAX + 1], i, j;

	if (la > CFG_PATH_MAX || lb > CFG_PATH_MAX)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/*
 * Closest key or group name (every dotted prefix of a key) within
 * CFG_HINT_DIST edits; ties go to the first in table order.
 */
static void closest_key(const struct cfg_option *tab, size_t n, const char *unknown, char *out,
			size_t outlen)
{
	size_t i, best = SIZE_MAX, lu = strlen(unknown);

	out[0] = '\0';
	for (i = 0; i < n; i++) {
		const char *k = tab[i].key, *dot = k;

		for (;;) {
			size_t lk, d;

			dot = strchr(dot, '.');
			lk = dot ? (size_t)(dot - k) : strlen(k);
			d = edit_distance(unknown, lu, k, lk);
			if (d > 0 && d <= CFG_HINT_DIST && d < lk && d < best) {
				best = d;
				snprintf(out, outlen, "%.*s", (int)lk, k);
			}
			if (!dot)
				break;
			dot++;
		}
	}
}

static void unknown_key_msg(const struct cfg_option *tab, size_t n, const char *key, char *msg,
			    size_t len)
{
	char hint[CFG_PATH_MAX];

	closest_key(tab, n, key, hint, sizeof(hint));
	if (hint[0])
		set_err(msg, len, "unknown key '%.100s' (did you mean '%s'?)", key, hint);
	else
		set_err(msg, len, "unknown key '%.100s'", key);
}

/* ---- public: defaults, cfg_set ------------------------------------------- */

int cfg_set_defaults(const struct cfg_option *tab, size_t n, void *obj, char *err, size_t errlen)
{
	char msg[CFG_MSG_MAX];
	size_t i;
	int rc;

	for (i = 0; i < n; i++) {
		const struct cfg_option *o = &tab[i];
		unsigned char *field = (unsigned char *)obj + o->offset;

		if (!opt_size_ok(o)) {
			set_err(err, errlen, "key '%s': table entry has the wrong size", o->key);
			return -EINVAL;
		}
		memset(field, 0, o->size);
		if (!o->def)
			continue;
		rc = opt_from_text(o, field, o->def, msg, sizeof(msg));
		if (rc < 0) {
			memset(field, 0, o->size);
			set_err(err, errlen, "bad default: %s", msg);
			return -EINVAL;
		}
	}
	return 0;
}

int cfg_set(const struct cfg_option *tab, size_t n, void *obj, const char *key,
	    const char *value, char *err, size_t errlen)
{
	const struct cfg_option *o = cfg_find(tab, n, key);
	void *tmp;
	int rc;

	if (!o) {
		unknown_key_msg(tab, n, key ? key : "", err, errlen);
		return -ENOENT;
	}
	if (!opt_size_ok(o)) {
		set_err(err, errlen, "key '%s': table entry has the wrong size", o->key);
		return -EINVAL;
	}
	if (!value) {
		set_err(err, errlen, "key '%s': missing value", o->key);
		return -EINVAL;
	}
	/* Parsed into a copy so a failure leaves the old value in place. */
	tmp = calloc(1, o->size);
	if (!tmp) {
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = opt_from_text(o, tmp, value, err, errlen);
	if (rc == 0)
		memcpy((unsigned char *)obj + o->offset, tmp, o->size);
	free(tmp);
	return rc;
}

/* ---- values from libconfig settings -------------------------------------- */

static const char *setting_type_name(const config_setting_t *s)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	default: break;
	}
	return "nothing";
}

static int type_err(const struct cfg_option *o, const config_setting_t *s, char *msg, size_t len)
{
	char names[200];

	switch (o->type) {
	case CFG_INT:
		set_err(msg, len, "key '%s': expected an integer, got %s", o->key,
			setting_type_name(s));
		break;
	case CFG_BOOL:
		set_err(msg, len, "key '%s': expected true or false, got %s", o->key,
			setting_type_name(s));
		break;
	case CFG_DURATION:
		set_err(msg, len,
			"key '%s': expected a duration (a string such as \"10ms\" or seconds), got %s",
			o->key, setting_type_name(s));
		break;
	case CFG_STRING:
		set_err(msg, len, "key '%s': expected a string, got %s", o->key,
			setting_type_name(s));
		break;
	case CFG_ENUM:
		enum_names_list(o, names, sizeof(names));
		set_err(msg, len, "key '%s': expected a string (%s), got %s", o->key, names,
			setting_type_name(s));
		break;
	case CFG_STRING_LIST:
		set_err(msg, len, "key '%s': expected a list of strings, got %s", o->key,
			setting_type_name(s));
		break;
	case CFG_INT_LIST:
		set_err(msg, len, "key '%s': expected a list of integers, got %s", o->key,
			setting_type_name(s));
		break;
	}
	return -EINVAL;
}

static bool is_int_setting(const config_setting_t *s)
{
	return config_setting_type(s) == CONFIG_TYPE_INT ||
	       config_setting_type(s) == CONFIG_TYPE_INT64;
}

/* Shortest "%.*g" text that reads back as v, for messages. */
static void fmt_double(double v, char *buf, size_t len)
{
	int p;

	for (p = 1; p <= 17; p++) {
		snprintf(buf, len, "%.*g", p, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/*
 * Seconds as a float -> ns, exactly as if the user had written the
 * shortest decimal that reads back as the same double ("0.001" stays
 * 1000000 ns instead of 999999.99... rounded down).
 */
static int float_seconds_ns(double v, int64_t *ns)
{
	char buf[48];
	int d;

	if (!isfinite(v))
		return -EINVAL;
	if (v < 0 || v >= 9.3e9) /* INT64_MAX ns is 9.22e9 s */
		return -ERANGE;
	for (d = 0; d <= 9; d++) {
		snprintf(buf, sizeof(buf), "%.*f", d, v);
		if (strtod(buf, NULL) == v)
			return parse_duration_ns(buf, ns);
	}
	return -EINVAL; /* needs more than 9 fractional digits */
}

static int duration_from_setting(const struct cfg_option *o, const config_setting_t *s,
				 int64_t *ns, char *msg, size_t len)
{
	char t[48];
	int rc;

	switch (config_setting_type(s)) {
	case CONFIG_TYPE_STRING:
		return duration_from_text(o, config_setting_get_string(s), ns, msg, len);
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64: {
		long long secs = config_setting_get_int64(s);

		if (secs < 0 || secs > INT64_MAX / 1000000000LL) {
			snprintf(t, sizeof(t), "%llds", secs);
			return range_err(o, t, msg, len);
		}
		*ns = (int64_t)secs * 1000000000LL;
		return check_duration_range(o, *ns, msg, len);
	}
	case CONFIG_TYPE_FLOAT:
		fmt_double(config_setting_get_float(s), t, sizeof(t));
		rc = float_seconds_ns(config_setting_get_float(s), ns);
		if (rc == -ERANGE) {
			strncat(t, "s", sizeof(t) - strlen(t) - 1);
			return range_err(o, t, msg, len);
		}
		if (rc < 0) {
			set_err(msg, len, "key '%s': %s is not a whole number of nanoseconds",
				o->key, t);
			return rc;
		}
		return check_duration_range(o, *ns, msg, len);
	default:
		break;
	}
	return type_err(o, s, msg, len);
}

/*
 * List elements, or a single scalar taken as a one-element list.  *line is
 * set to the offending element's line on error.
 */
static int list_from_setting(const struct cfg_option *o, void *field, const config_setting_t *s,
			     unsigned *line, char *msg, size_t len)
{
	bool strings = o->type == CFG_STRING_LIST;
	int i, count;

	if (strings)
		((struct cfg_string_list *)field)->n = 0;
	else
		((struct cfg_int_list *)field)->n = 0;
	if (config_setting_type(s) == CONFIG_TYPE_ARRAY || config_setting_type(s) == CONFIG_TYPE_LIST)
		count = config_setting_length(s);
	else if (strings ? config_setting_type(s) == CONFIG_TYPE_STRING : is_int_setting(s))
		count = -1;
	else
		return type_err(o, s, msg, len);

	for (i = 0; i < (count < 0 ? 1 : count); i++) {
		const config_setting_t *e = count < 0 ? s : config_setting_get_elem(s, (unsigned)i);
		size_t idx = (size_t)i + 1;
		int rc;

		if (!e)
			return type_err(o, s, msg, len);
		*line = config_setting_source_line(e);
		if (strings) {
			if (config_setting_type(e) != CONFIG_TYPE_STRING) {
				set_err(msg, len, "key '%s': element %zu: expected a string, got %s",
					o->key, idx, setting_type_name(e));
				return -EINVAL;
			}
			rc = add_string_elem(o, field, config_setting_get_string(e), idx, msg, len);
		} else {
			if (!is_int_setting(e)) {
				set_err(msg, len, "key '%s': element %zu: expected an integer, got %s",
					o->key, idx, setting_type_name(e));
				return -EINVAL;
			}
			rc = add_int_elem_value(o, field, config_setting_get_int64(e), idx, msg, len);
		}
		if (rc < 0)
			return rc;
	}
	*line = config_setting_source_line(s);
	return 0;
}

static int opt_from_setting(const struct cfg_option *o, void *field, const config_setting_t *s,
			    unsigned *line, char *msg, size_t len)
{
	int64_t v;
	int e, rc;

	*line = config_setting_source_line(s);
	switch (o->type) {
	case CFG_INT:
		if (!is_int_setting(s))
			return type_err(o, s, msg, len);
		v = config_setting_get_int64(s);
		rc = check_int_range(o, v, msg, len);
		if (rc == 0)
			put_i64(field, v);
		return rc;
	case CFG_BOOL:
		if (config_setting_type(s) != CONFIG_TYPE_BOOL)
			return type_err(o, s, msg, len);
		put_bool(field, config_setting_get_bool(s) != 0);
		return 0;
	case CFG_DURATION:
		rc = duration_from_setting(o, s, &v, msg, len);
		if (rc == 0)
			put_i64(field, v);
		return rc;
	case CFG_STRING:
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return type_err(o, s, msg, len);
		return string_store(o, field, o->size, config_setting_get_string(s), "value", msg,
				    len);
	case CFG_ENUM:
		if (config_setting_type(s) != CONFIG_TYPE_STRING)
			return type_err(o, s, msg, len);
		rc = enum_lookup(o, config_setting_get_string(s), &e, msg, len);
		if (rc == 0)
			memcpy(field, &e, sizeof(e));
		return rc;
	case CFG_STRING_LIST:
	case CFG_INT_LIST:
		return list_from_setting(o, field, s, line, msg, len);
	}
	set_err(msg, len, "key '%s': unknown option type", o->key);
	return -EINVAL;
}

/* ---- walking a parsed file ----------------------------------------------- */

struct cfg_load {
	const struct cfg_option *tab;
	size_t n;
	unsigned char *obj; /* scratch copy */
	const char *name;
	char *err;
	size_t errlen;
};

static int load_err(const struct cfg_load *ld, const config_setting_t *s, unsigned line,
		    const char *msg, int rc)
{
	const char *file = config_setting_source_file(s);

	set_err(ld->err, ld->errlen, "%s:%u: %s", file ? file : ld->name, line, msg);
	return rc;
}

static int walk_group(const struct cfg_load *ld, const config_setting_t *g, const char *prefix)
{
	char path[CFG_PATH_MAX], msg[CFG_MSG_MAX];
	int i, count = config_setting_length(g), rc;

	for (i = 0; i < count; i++) {
		const config_setting_t *s = config_setting_get_elem(g, (unsigned)i);
		const struct cfg_option *o;
		const char *name;
		unsigned line;
		int k;

		if (!s)
			continue;
		name = config_setting_name(s) ? config_setting_name(s) : "";
		line = config_setting_source_line(s);
		k = snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", name);
		if (k < 0 || (size_t)k >= sizeof(path)) {
			set_err(msg, sizeof(msg), "key '%.64s...' is too long", path);
			return load_err(ld, s, line, msg, -EINVAL);
		}
		o = cfg_find(ld->tab, ld->n, path);
		if (o) {
			rc = opt_from_setting(o, ld->obj + o->offset, s, &line, msg, sizeof(msg));
			if (rc < 0)
				return load_err(ld, s, line, msg, rc);
			continue;
		}
		if (is_group_prefix(ld->tab, ld->n, path)) {
			if (!config_setting_is_group(s)) {
				set_err(msg, sizeof(msg), "key '%s': expected a group, got %s", path,
					setting_type_name(s));
				return load_err(ld, s, line, msg, -EINVAL);
			}
			rc = walk_group(ld, s, path);
			if (rc < 0)
				return rc;
			continue;
		}
		unknown_key_msg(ld->tab, ld->n, path, msg, sizeof(msg));
		return load_err(ld, s, line, msg, -EINVAL);
	}
	return 0;
}

/* ---- pre-scan (see the file comment) ------------------------------------- */

static bool is_dec(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_hex(char c)
{
	return is_dec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* libconfig's integer, hex and float tokens ("-5", "0x1F", ".5", "-.5e3"). */
static bool starts_number(const char *p)
{
	if (*p == '-' || *p == '+')
		p++;
	return is_dec(p[0]) || (p[0] == '.' && is_dec(p[1]));
}

static bool is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*';
}

static bool is_name_char(char c)
{
	return is_name_start(c) || is_dec(c) || c == '-' || c == '_';
}

/*
 * Copies text to a new buffer, adding "L" to integer literals outside the
 * 32-bit range.  Comments and strings are skipped following libconfig's
 * scanner; anything it would reject is copied as is for it to report.
 */
static int prescan(const char *text, const char *name, char **out, char *err, size_t errlen)
{
	size_t len = strlen(text);
	char *dst = malloc(len + len / 8 + 2); /* a suffix needs >= 10 digits */
	const char *p = text;
	size_t o = 0;
	unsigned line = 1;

	if (!dst) {
		set_err(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
#define COPY_TO(q) do { memcpy(dst + o, p, (size_t)((q) - p)); o += (size_t)((q) - p); p = (q); } while (0)
	while (*p) {
		const char *q = p;

		if (*p == '\n') {
			line++;
			q++;
			COPY_TO(q);
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			q = p + strcspn(p, "\n");
			COPY_TO(q);
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");

			q = e ? e + 2 : p + strlen(p);
			for (; p < q; p++, o++) {
				dst[o] = *p;
				if (*p == '\n')
					line++;
			}
		} else if (*p == '"') {
			for (q = p + 1; *q && *q != '"'; q++) {
				if (*q == '\\' && q[1])
					q++;
				if (*q == '\n')
					line++;
			}
			if (*q == '"')
				q++;
			COPY_TO(q);
		} else if (*p == '@') {
			if (strncmp(p, "@include", 8) == 0) {
				free(dst);
				set_err(err, errlen, "%s:%u: @include is not supported", name, line);
				return -EINVAL;
			}
			q++;
			COPY_TO(q);
		} else if (is_name_start(*p)) {
			while (is_name_char(*q))
				q++;
			COPY_TO(q);
		} else if (starts_number(p)) {
			bool hexnum = p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && is_hex(p[2]);
			bool isfloat = false, suffix = false, bad = false;
			char num[64];
			size_t nl;

			if (hexnum) {
				for (q = p + 2; is_hex(*q); q++)
					;
			} else {
				q = (*p == '-' || *p == '+') ? p + 1 : p;
				while (is_dec(*q))
					q++;
				if (*q == '.') {
					isfloat = true;
					for (q++; is_dec(*q); q++)
						;
				}
				if ((*q == 'e' || *q == 'E') &&
				    (is_dec(q[1]) || ((q[1] == '+' || q[1] == '-') && is_dec(q[2])))) {
					isfloat = true;
					for (q += 2; is_dec(*q); q++)
						;
				}
			}
			if (isfloat) {
				COPY_TO(q);
				continue;
			}
			nl = (size_t)(q - p);
			if (*q == 'L')
				suffix = true;
			if (nl >= sizeof(num)) {
				bad = true;
			} else {
				memcpy(num, p, nl);
				num[nl] = '\0';
				errno = 0;
				if (hexnum) {
					unsigned long long u = strtoull(num + 2, NULL, 16);

					bad = errno == ERANGE || u > (unsigned long long)INT64_MAX;
					suffix = suffix || u > 0x7fffffffULL;
				} else {
					long long v = strtoll(num, NULL, 10);

					bad = errno == ERANGE;
					suffix = suffix || v > INT32_MAX || v < INT32_MIN;
				}
			}
			if (bad) {
				free(dst);
				set_err(err, errlen, "%s:%u: integer %.*s%s is out of range", name, line,
					(int)(nl > 40 ? 40 : nl), p, nl > 40 ? "..." : "");
				return -ERANGE;
			}
			COPY_TO(q);
			if (suffix && *q != 'L')
				dst[o++] = 'L';
		} else {
			q++;
			COPY_TO(q);
		}
	}
#undef COPY_TO
	dst[o] = '\0';
	*out = dst;
	return 0;
}

/* ---- public: loading ----------------------------------------------------- */

int cfg_load_string(const struct cfg_option *tab, size_t n, void *obj, const char *text,
		    const char *name, char *err, size_t errlen)
{
	struct cfg_load ld;
	config_t cfg;
	char *scanned = NULL;
	size_t extent = obj_extent(tab, n), i;
	int rc;

	if (!name)
		name = "<string>";
	if (!text) {
		set_err(err, errlen, "%s: no text", name);
		return -EINVAL;
	}
	for (i = 0; i < n; i++) {
		if (!opt_size_ok(&tab[i])) {
			set_err(err, errlen, "key '%s': table entry has the wrong size", tab[i].key);
			return -EINVAL;
		}
	}
	rc = prescan(text, name, &scanned, err, errlen);
	if (rc < 0)
		return rc;

	config_init(&cfg);
	if (!config_read_string(&cfg, scanned)) {
		const char *why = config_error_text(&cfg) ? config_error_text(&cfg) : "?";

		/* libconfig's usual text is just "syntax error": do not say it twice. */
		if (strncmp(why, "syntax error", 12) == 0)
			set_err(err, errlen, "%s:%d: %s", name, config_error_line(&cfg), why);
		else
			set_err(err, errlen, "%s:%d: syntax error: %s", name,
				config_error_line(&cfg), why);
		config_destroy(&cfg);
		free(scanned);
		return -EINVAL;
	}
	free(scanned);

	memset(&ld, 0, sizeof(ld));
	ld.tab = tab;
	ld.n = n;
	ld.name = name;
	ld.err = err;
	ld.errlen = errlen;
	ld.obj = malloc(extent ? extent : 1);
	if (!ld.obj) {
		config_destroy(&cfg);
		set_err(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	memcpy(ld.obj, obj, extent);
	rc = walk_group(&ld, config_root_setting(&cfg), "");
	if (rc == 0)
		memcpy(obj, ld.obj, extent);
	free(ld.obj);
	config_destroy(&cfg);
	return rc;
}

int cfg_load_file(const struct cfg_option *tab, size_t n, void *obj, const char *path,
		  char *err, size_t errlen)
{
	FILE *f;
	char *buf;
	size_t len = 0, got;
	int rc;

	if (!path) {
		set_err(err, errlen, "no configuration file name");
		return -EINVAL;
	}
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	buf = malloc(CFG_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		set_err(err, errlen, "%s: out of memory", path);
		return -ENOMEM;
	}
	while ((got = fread(buf + len, 1, CFG_FILE_MAX + 1 - len, f)) > 0)
		len += got;
	if (ferror(f)) {
		rc = errno ? -errno : -EIO;
		set_err(err, errlen, "%s: %s", path, strerror(-rc));
		goto out;
	}
	if (len > CFG_FILE_MAX) {
		rc = -EFBIG;
		set_err(err, errlen, "%s: larger than %d bytes", path, CFG_FILE_MAX);
		goto out;
	}
	if (memchr(buf, '\0', len)) {
		rc = -EINVAL;
		set_err(err, errlen, "%s: contains a NUL byte (not a text file)", path);
		goto out;
	}
	buf[len] = '\0';
	rc = cfg_load_string(tab, n, obj, buf, path, err, errlen);
out:
	free(buf);
	fclose(f);
	return rc;
}

/* ---- output -------------------------------------------------------------- */

static void append(char *buf, size_t len, size_t *used, const char *s)
{
	int k;

	if (*used >= len)
		return;
	k = snprintf(buf + *used, len - *used, "%s", s);
	if (k > 0)
		*used += (size_t)k < len - *used ? (size_t)k : len - *used - 1;
}

void cfg_format_value(const struct cfg_option *opt, const void *obj, char *buf, size_t len)
{
	const unsigned char *field;
	size_t i, used = 0;
	char t[32];
	int e;

	if (!buf || len == 0)
		return;
	buf[0] = '\0';
	if (!opt || !obj || !opt_size_ok(opt))
		return;
	field = (const unsigned char *)obj + opt->offset;
	switch (opt->type) {
	case CFG_INT:
		snprintf(buf, len, "%" PRId64, get_i64(field));
		break;
	case CFG_DURATION:
		format_duration_ns(get_i64(field), buf, len);
		break;
	case CFG_BOOL:
		snprintf(buf, len, "%s", get_bool(field) ? "true" : "false");
		break;
	case CFG_STRING:
		snprintf(buf, len, "%.*s", (int)strnlen((const char *)field, opt->size),
			 (const char *)field);
		break;
	case CFG_ENUM:
		e = get_int(field);
		for (i = 0; opt->names[i]; i++)
			if ((int)i == e)
				snprintf(buf, len, "%s", opt->names[i]);
		break;
	case CFG_STRING_LIST: {
		const struct cfg_string_list *l = (const void *)field;

		for (i = 0; i < l->n && i < CFG_LIST_MAX; i++) {
			if (i)
				append(buf, len, &used, ",");
			append(buf, len, &used, l->v[i]);
		}
		break;
	}
	case CFG_INT_LIST: {
		const struct cfg_int_list *l = (const void *)field;

		for (i = 0; i < l->n && i < CFG_LIST_MAX; i++) {
			snprintf(t, sizeof(t), "%s%" PRId64, i ? "," : "", l->v[i]);
			append(buf, len, &used, t);
		}
		break;
	}
	}
}

static void write_quoted(FILE *f, const char *s, size_t max)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\f': fputs("\\f", f); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\x%02x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

static void write_int(FILE *f, int64_t v)
{
	/* The suffix keeps libconfig from truncating the value to 32 bits. */
	fprintf(f, "%" PRId64 "%s", v, (v > INT32_MAX || v < INT32_MIN) ? "L" : "");
}

static void write_value(FILE *f, const struct cfg_option *o, const unsigned char *field)
{
	char t[32];
	size_t i;
	int e;

	switch (o->type) {
	case CFG_INT:
		write_int(f, get_i64(field));
		break;
	case CFG_DURATION:
		format_duration_ns(get_i64(field), t, sizeof(t));
		write_quoted(f, t, sizeof(t));
		break;
	case CFG_BOOL:
		fputs(get_bool(field) ? "true" : "false", f);
		break;
	case CFG_STRING:
		write_quoted(f, (const char *)field, o->size);
		break;
	case CFG_ENUM:
		e = get_int(field);
		for (i = 0; o->names[i] && (int)i != e; i++)
			;
		write_quoted(f, o->names[i] ? o->names[i] : "", CFG_STR_MAX);
		break;
	case CFG_STRING_LIST: {
		const struct cfg_string_list *l = (const void *)field;

		fputs("[", f);
		for (i = 0; i < l->n && i < CFG_LIST_MAX; i++) {
			fputs(i ? ", " : " ", f);
			write_quoted(f, l->v[i], sizeof(l->v[i]));
		}
		fputs(" ]", f);
		break;
	}
	case CFG_INT_LIST: {
		const struct cfg_int_list *l = (const void *)field;

		fputs("[", f);
		for (i = 0; i < l->n && i < CFG_LIST_MAX; i++) {
			fputs(i ? ", " : " ", f);
			write_int(f, l->v[i]);
		}
		fputs(" ]", f);
		break;
	}
	}
}

static void write_help(FILE *f, const char *help, int depth)
{
	const char *p = help;

	while (p && *p) {
		size_t l = strcspn(p, "\n");

		fprintf(f, "%*s# %.*s\n", depth * 4, "", (int)l, p);
		p += l;
		if (*p == '\n')
			p++;
	}
}

/*
 * Writes the keys below prefix (plen characters, "" at the top).  A group
 * is written whole where its first key appears in the table, since
 * libconfig refuses a group name given twice.
 */
static void write_level(const struct cfg_option *tab, size_t n, const void *obj, FILE *f,
			const char *prefix, size_t plen, int depth, bool *done)
{
	bool first = true;
	size_t i;

	for (i = 0; i < n; i++) {
		const char *key = tab[i].key, *rest, *dot;

		if (done[i] || strncmp(key, prefix, plen) != 0)
			continue;
		rest = key + plen;
		if (!first)
			fputc('\n', f);
		first = false;
		dot = strchr(rest, '.');
		if (dot) {
			size_t glen = (size_t)(dot - key) + 1; /* through the dot */

			fprintf(f, "%*s%.*s = {\n", depth * 4, "", (int)(dot - rest), rest);
			write_level(tab, n, obj, f, key, glen, depth + 1, done);
			fprintf(f, "%*s};\n", depth * 4, "");
			continue;
		}
		done[i] = true;
		write_help(f, tab[i].help, depth);
		fprintf(f, "%*s%s = ", depth * 4, "", rest);
		write_value(f, &tab[i], (const unsigned char *)obj + tab[i].offset);
		fputs(";\n", f);
	}
}

int cfg_write_canonical(const struct cfg_option *tab, size_t n, const void *obj, FILE *f)
{
	bool *done;
	size_t i;

	if (!f || (n && (!tab || !obj)))
		return -EIO;
	for (i = 0; i < n; i++)
		if (!opt_size_ok(&tab[i]))
			return -EINVAL;
	done = calloc(n ? n : 1, sizeof(*done));
	if (!done)
		return -ENOMEM;
	write_level(tab, n, obj, f, "", 0, 0, done);
	free(done);
	if (fflush(f) != 0 || ferror(f))
		return -EIO;
	return 0;
}
