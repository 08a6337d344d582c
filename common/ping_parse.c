/*
 * iputils ping output -> probe results (see ping_parse.h).  The formats
 * follow iputils' ping_common.c: "[%lu.%06lu] " stamps, reply times printed
 * with 3, 2, 1 or 0 decimals of a millisecond depending on size, "%g" for
 * the loss percentage, three decimals in the rtt summary.  Every number is
 * read with integer arithmetic into nanoseconds, so a stamp or an rtt is
 * exactly what ping printed; only the loss percentage becomes a double.
 *
 * A line is "known" when its leading words identify it; a known line that
 * does not parse is -EBADMSG, anything else (headers, ICMP errors, garbage)
 * is PING_LINE_OTHER.  Lines are scanned between a start and an end pointer
 * and never modified, so arbitrary bytes are safe.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ping_parse.h"

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL
#define SEQ_WRAP 65536u

struct scan {
	const char *p, *end;
};

static bool at_end(const struct scan *s)
{
	return s->p >= s->end;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Consumes lit when the text continues with it. */
static bool take(struct scan *s, const char *lit)
{
	size_t l = strlen(lit);

	if ((size_t)(s->end - s->p) < l || memcmp(s->p, lit, l) != 0)
		return false;
	s->p += l;
	return true;
}

static bool peek_digit(const struct scan *s)
{
	return !at_end(s) && is_digit(*s->p);
}

/* Decimal digits (at least one) up to max.  -EBADMSG on none or overflow. */
static int take_u64(struct scan *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!peek_digit(s))
		return -EBADMSG;
	while (peek_digit(s)) {
		unsigned d = (unsigned)(*s->p - '0');

		if (v > (max - d) / 10)
			return -EBADMSG;
		v = v * 10 + d;
		s->p++;
	}
	*out = v;
	return 0;
}

/* Fraction digits after a '.', as a count of 10^-scale units; at most scale digits. */
static int take_fraction(struct scan *s, unsigned scale, uint64_t *out)
{
	uint64_t v = 0;
	unsigned n = 0;

	if (!peek_digit(s))
		return -EBADMSG;
	while (peek_digit(s)) {
		if (n == scale)
			return -EBADMSG; /* finer than a nanosecond */
		v = v * 10 + (uint64_t)(*s->p++ - '0');
		n++;
	}
	for (; n < scale; n++)
		v *= 10;
	*out = v;
	return 0;
}

/* "S[.F]" seconds -> ns (the -D stamp). */
static int take_stamp(struct scan *s, int64_t *ns)
{
	uint64_t sec, frac = 0;

	if (take_u64(s, (uint64_t)INT64_MAX / NS_PER_S - 1, &sec) < 0)
		return -EBADMSG;
	if (take(s, ".") && take_fraction(s, 9, &frac) < 0)
		return -EBADMSG;
	*ns = (int64_t)sec * NS_PER_S + (int64_t)frac;
	return 0;
}

/* "I[.F]" milliseconds -> ns, at most 6 decimals (ping prints 0 to 3). */
static int take_ms(struct scan *s, int64_t *ns)
{
	uint64_t ms, frac = 0;

	if (take_u64(s, (uint64_t)INT64_MAX / NS_PER_MS - 1, &ms) < 0)
		return -EBADMSG;
	if (take(s, ".") && take_fraction(s, 6, &frac) < 0)
		return -EBADMSG;
	*ns = (int64_t)ms * NS_PER_MS + (int64_t)frac;
	return 0;
}

/* Exact powers of ten representable in a double. */
static double pow10_exact(unsigned k)
{
	double v = 1;

	while (k--)
		v *= 10;
	return v;
}

/*
 * printf "%g" output ("1", "33.3333", "1e-05") without strtod, whose
 * decimal point follows the locale.  At most 19 significant digits.
 */
static int take_g(struct scan *s, double *out)
{
	uint64_t mant = 0, e = 0;
	int exp10 = 0, digits = 0;
	bool neg_exp = false;
	double v;

	if (!peek_digit(s))
		return -EBADMSG;
	while (peek_digit(s)) {
		if (++digits > 19)
			return -EBADMSG;
		mant = mant * 10 + (uint64_t)(*s->p++ - '0');
	}
	if (take(s, ".")) {
		if (!peek_digit(s))
			return -EBADMSG;
		while (peek_digit(s)) {
			if (++digits > 19)
				return -EBADMSG;
			mant = mant * 10 + (uint64_t)(*s->p++ - '0');
			exp10--;
		}
	}
	if (!at_end(s) && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (take(s, "-"))
			neg_exp = true;
		else
			take(s, "+");
		if (take_u64(s, 99, &e) < 0)
			return -EBADMSG;
		exp10 += neg_exp ? -(int)e : (int)e;
	}
	/* 10^22 is the largest exact power; beyond it the value is absurd for a percentage. */
	if (exp10 < -22 - 19 || exp10 > 22)
		return -EBADMSG;
	v = (double)mant;
	if (exp10 < -22) {
		v /= pow10_exact(22);
		exp10 += 22;
	}
	v = exp10 < 0 ? v / pow10_exact((unsigned)-exp10) : v * pow10_exact((unsigned)exp10);
	*out = v;
	return 0;
}

static void skip_blanks(struct scan *s)
{
	while (!at_end(s) && (*s->p == ' ' || *s->p == '\t'))
		s->p++;
}

/* Only blanks left. */
static bool rest_blank(struct scan *s)
{
	skip_blanks(s);
	return at_end(s);
}

/* Finds lit in [s->p, s->end); moves past it. */
static bool seek(struct scan *s, const char *lit)
{
	size_t l = strlen(lit);
	const char *q;

	for (q = s->p; (size_t)(s->end - q) >= l; q++) {
		if (memcmp(q, lit, l) == 0) {
			s->p = q + l;
			return true;
		}
	}
	return false;
}

/* The next blank-separated word as [w, s->p). */
static const char *next_word(struct scan *s)
{
	const char *w;

	skip_blanks(s);
	w = s->p;
	while (!at_end(s) && *s->p != ' ' && *s->p != '\t')
		s->p++;
	return w;
}

static bool word_is(const char *w, const struct scan *s, const char *lit)
{
	size_t l = strlen(lit);

	return (size_t)(s->p - w) == l && memcmp(w, lit, l) == 0;
}

/* "... bytes from ADDR: icmp_seq=N [ttl=N] [time=X ms] [(DUP!)] ...", after the byte count. */
static int parse_reply(struct scan *s, struct ping_line *out)
{
	uint64_t v;
	bool bad_checksum = false;

	/* ADDR may hold colons (IPv6) and "name (addr)": find the field itself. */
	if (!seek(s, " icmp_seq=") && !seek(s, " icmp_req="))
		return -EBADMSG;
	if (take_u64(s, UINT32_MAX, &v) < 0)
		return -EBADMSG;
	out->icmp_seq = (uint32_t)v;
	if (!at_end(s) && *s->p != ' ' && *s->p != '\t')
		return -EBADMSG;
	while (!rest_blank(s)) {
		const char *w = next_word(s);
		struct scan ws = { w, s->p };

		if (take(&ws, "ttl=")) {
			if (take_u64(&ws, 255, &v) < 0 || !at_end(&ws))
				return -EBADMSG;
			out->ttl = (int)v;
		} else if (take(&ws, "time=")) {
			if (out->rtt_ns >= 0 || take_ms(&ws, &out->rtt_ns) < 0 || !at_end(&ws))
				return -EBADMSG;
			w = next_word(s);
			if (!word_is(w, s, "ms"))
				return -EBADMSG;
		} else if (word_is(w, s, "(DUP!)")) {
			out->dup = true;
		} else if (word_is(w, s, "(BAD")) {
			w = next_word(s);
			bad_checksum = word_is(w, s, "CHECKSUM!)");
		}
		/* "(DIFFERENT ADDRESS!)", "(truncated)" and unknown words change nothing. */
	}
	if (bad_checksum)
		out->kind = PING_LINE_OTHER;
	return 0;
}

/* "N packets transmitted, N received[, +N duplicates][, +N errors][, X% packet loss][, time Nms]" */
static int parse_counts(struct scan *s, struct ping_line *out)
{
	uint64_t v;

	if (!take(s, ", ") || take_u64(s, UINT64_MAX, &out->received) < 0 || !take(s, " received"))
		return -EBADMSG;
	while (!rest_blank(s)) {
		if (!take(s, ","))
			return -EBADMSG;
		skip_blanks(s);
		if (take(s, "+")) {
			if (take_u64(s, UINT64_MAX, &v) < 0 || !take(s, " "))
				return -EBADMSG;
			if (take(s, "duplicates"))
				out->duplicates = v;
			else if (take(s, "errors"))
				out->errors = v;
			/* "+N corrupted" and unknown counters: nothing to keep. */
		} else if (peek_digit(s)) {
			if (take_g(s, &out->loss_pct) < 0 || !take(s, "% packet loss"))
				return -EBADMSG;
		} else if (take(s, "time ")) {
			if (take_u64(s, UINT64_MAX, &v) < 0 || !take(s, "ms"))
				return -EBADMSG;
		}
		/* Anything else: an item we do not know; skip it. */
		while (!at_end(s) && *s->p != ',')
			s->p++;
	}
	return 0;
}

/* "rtt min/avg/max/mdev = A/B/C/D ms[, pipe N][, ipg/ewma ...]", after the "=". */
static int parse_rtt(struct scan *s, struct ping_line *out)
{
	skip_blanks(s);
	if (take_ms(s, &out->min_ns) < 0 || !take(s, "/") || take_ms(s, &out->avg_ns) < 0 ||
	    !take(s, "/") || take_ms(s, &out->max_ns) < 0 || !take(s, "/") ||
	    take_ms(s, &out->mdev_ns) < 0 || !take(s, " ms"))
		return -EBADMSG;
	if (!rest_blank(s) && *s->p != ',')
		return -EBADMSG;
	return 0;
}

static void line_reset(struct ping_line *out, enum ping_line_kind kind)
{
	memset(out, 0, sizeof(*out));
	out->kind = kind;
	out->ttl = -1;
	out->rtt_ns = -1;
}

/* Marks a known line malformed: its kind stays, its values do not. */
static int malformed(struct ping_line *out)
{
	enum ping_line_kind kind = out->kind;

	memset(out, 0, sizeof(*out));
	out->kind = kind;
	return -EBADMSG;
}

int ping_parse_line(const char *line, struct ping_line *out)
{
	struct scan s, t;
	bool stamp_ok = true, stamped = false;
	int64_t stamp = 0;
	uint64_t v;

	line_reset(out, PING_LINE_OTHER);
	if (!line)
		return 0;
	s.p = line;
	s.end = line + strlen(line);
	while (s.end > s.p && (s.end[-1] == '\r' || s.end[-1] == '\n'))
		s.end--;

	/* -D stamp; a broken one only matters if the rest is a known line. */
	if (take(&s, "[")) {
		t = s;
		if (!seek(&t, "]"))
			return 0;
		stamped = true;
		stamp_ok = take_stamp(&s, &stamp) == 0 && take(&s, "]");
		s.p = t.p;
		take(&s, " ");
	}

	if (take(&s, "no answer yet for icmp_seq=")) {
		out->kind = PING_LINE_NO_ANSWER;
		if (!stamp_ok || take_u64(&s, UINT32_MAX, &v) < 0 || !rest_blank(&s))
			return malformed(out);
		out->icmp_seq = (uint32_t)v;
		out->stamp_ns = stamp;
		return 0;
	}
	t = s;
	if (take_u64(&t, UINT64_MAX, &v) == 0 && take(&t, " bytes from ")) {
		out->kind = PING_LINE_REPLY;
		if (!stamp_ok || parse_reply(&t, out) < 0)
			return malformed(out);
		if (out->kind == PING_LINE_REPLY)
			out->stamp_ns = stamp;
		else
			line_reset(out, PING_LINE_OTHER);
		return 0;
	}
	if (stamped)
		return 0; /* ping stamps only the lines above */

	if (take(&s, "--- ")) {
		static const char tail[] = " ping statistics ---";
		size_t l = sizeof(tail) - 1;

		if ((size_t)(s.end - s.p) >= l && memcmp(s.end - l, tail, l) == 0)
			out->kind = PING_LINE_STATS_HEADER;
		return 0;
	}
	t = s;
	if (take_u64(&t, UINT64_MAX, &v) == 0 && take(&t, " packets transmitted")) {
		out->kind = PING_LINE_COUNTS;
		out->transmitted = v;
		if (parse_counts(&t, out) < 0)
			return malformed(out);
		return 0;
	}
	if (take(&s, "rtt min/avg/max/mdev =")) {
		out->kind = PING_LINE_RTT;
		if (parse_rtt(&s, out) < 0)
			return malformed(out);
		return 0;
	}
	return 0;
}

/* ---- runs ----------------------------------------------------------------- */

void ping_run_init(struct ping_run *r)
{
	memset(r, 0, sizeof(*r));
}

void ping_run_free(struct ping_run *r)
{
	free(r->replies);
	ping_run_init(r);
}

/*
 * The 32-bit sequence number nearest to max_seq whose low 16 bits are v.
 * Values above 65535 come from something other than iputils: kept as is.
 */
static uint32_t unwrap_seq(const struct ping_run *r, uint32_t v)
{
	uint64_t ref, c;

	if (v >= SEQ_WRAP || !r->have_seq)
		return v;
	ref = r->max_seq;
	c = (ref & ~(uint64_t)(SEQ_WRAP - 1)) | v;
	if (c + SEQ_WRAP / 2 < ref)
		c += SEQ_WRAP;
	else if (c > ref + SEQ_WRAP / 2 && c >= SEQ_WRAP)
		c -= SEQ_WRAP;
	return c > UINT32_MAX ? v : (uint32_t)c;
}

static void note_seq(struct ping_run *r, uint32_t seq)
{
	if (!r->have_seq || seq > r->max_seq)
		r->max_seq = seq;
	r->have_seq = true;
}

int ping_run_feed(struct ping_run *r, const char *line)
{
	struct ping_line l;
	int rc = ping_parse_line(line, &l);

	if (rc < 0)
		return rc;
	switch (l.kind) {
	case PING_LINE_REPLY:
		if (r->n_replies == r->cap) {
			size_t cap = r->cap ? 2 * r->cap : 64;
			struct ping_line *grown;

			if (cap > SIZE_MAX / sizeof(*grown))
				return -ENOMEM;
			grown = realloc(r->replies, cap * sizeof(*grown));
			if (!grown)
				return -ENOMEM;
			r->replies = grown;
			r->cap = cap;
		}
		l.icmp_seq = unwrap_seq(r, l.icmp_seq);
		note_seq(r, l.icmp_seq);
		r->replies[r->n_replies++] = l;
		break;
	case PING_LINE_NO_ANSWER:
		note_seq(r, unwrap_seq(r, l.icmp_seq));
		break;
	case PING_LINE_COUNTS:
		r->counts = l;
		r->have_counts = true;
		break;
	case PING_LINE_RTT:
		r->rtt = l;
		r->have_rtt = true;
		break;
	default:
		break;
	}
	return 0;
}

int ping_run_probes(const struct ping_run *r, struct probe_result **out, size_t *n)
{
	struct probe_result *v;
	uint64_t total;
	size_t i;

	*out = NULL;
	*n = 0;
	if (r->have_counts)
		total = r->counts.transmitted;
	else if (r->have_seq)
		total = r->max_seq;
	else
		total = 0;
	if (total == 0)
		return -ENODATA;
	if (total > PING_MAX_PROBES)
		return -E2BIG;
	v = calloc((size_t)total, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < total; i++) {
		v[i].proto = PROBE_ICMP;
		v[i].seq = (uint32_t)i;
		v[i].refl_seq = (uint32_t)((i + 1) % SEQ_WRAP);
		v[i].sent = true;
		v[i].ttl = -1;
	}
	for (i = 0; i < r->n_replies; i++) {
		const struct ping_line *l = &r->replies[i];
		struct probe_result *p;

		if (l->icmp_seq < 1 || l->icmp_seq > total)
			continue;
		p = &v[l->icmp_seq - 1];
		if (p->received) {
			if (p->dup < UINT16_MAX)
				p->dup++;
			continue;
		}
		p->received = true;
		p->ttl = (int16_t)l->ttl;
		if (l->stamp_ns > 0) {
			p->t4_ns = l->stamp_ns;
			p->t4_src = TS_SRC_USER;
		}
		if (l->rtt_ns >= 0 && p->t4_ns) {
			p->rtt_ns = l->rtt_ns;
			p->t1_ns = p->t4_ns - l->rtt_ns;
			p->t1_wire_ns = p->t1_ns;
			p->t1_src = TS_SRC_USER;
			p->ts_valid = true;
		} else if (l->rtt_ns >= 0) {
			p->rtt_ns = l->rtt_ns; /* no -D: the delay alone */
			p->ts_valid = true;
		}
	}
	*out = v;
	*n = (size_t)total;
	return 0;
}
