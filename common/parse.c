/*
 * Value syntaxes shared by command lines and config files (see parse.h).
 * Durations are parsed with exact integer arithmetic: the integer and
 * fractional digits are kept apart and the fraction is scaled through the
 * gcd of the unit and its power of ten, so "0.001" is exactly 1000000 ns and
 * a value finer than a nanosecond is refused rather than silently rounded,
 * as a double conversion would do.  Endpoint parsing decides between
 * "host:port" and a bare IPv6 literal by counting colons, the convention of
 * ping, ssh and most resolvers.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "parse.h"

#define NS_PER_S 1000000000LL

struct duration_unit {
	const char *name;
	int64_t ns;
};

/* Largest first: format_duration_ns picks the first unit that divides exactly. */
static const struct duration_unit duration_units[] = {
	{ "d", 86400LL * NS_PER_S },
	{ "h", 3600LL * NS_PER_S },
	{ "m", 60LL * NS_PER_S },
	{ "s", NS_PER_S },
	{ "ms", 1000000LL },
	{ "us", 1000LL },
	{ "ns", 1LL },
};

#define N_DURATION_UNITS (sizeof(duration_units) / sizeof(duration_units[0]))

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static uint64_t gcd_u64(uint64_t a, uint64_t b)
{
	while (b) {
		uint64_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

int parse_duration_ns(const char *s, int64_t *out_ns)
{
	const char *p = s, *frac, *unit_s;
	uint64_t ipart = 0, fpart = 0, pow10 = 1, unit = 0;
	size_t nfrac, i;
	bool overflow = false;

	if (!s || !is_digit(*p))
		return -EINVAL; /* also rejects "", "-1", "+1", " 1" and ".5" */
	for (; is_digit(*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (ipart > (UINT64_MAX - d) / 10)
			overflow = true; /* keep scanning: junk later is still -EINVAL */
		else
			ipart = ipart * 10 + d;
	}
	frac = p;
	nfrac = 0;
	if (*p == '.') {
		frac = ++p;
		for (; is_digit(*p); p++)
			nfrac++;
		if (nfrac == 0)
			return -EINVAL;
	}
	unit_s = p;
	if (*unit_s == '\0') {
		unit = NS_PER_S;
	} else {
		for (i = 0; i < N_DURATION_UNITS; i++) {
			if (strcmp(unit_s, duration_units[i].name) == 0) {
				unit = (uint64_t)duration_units[i].ns;
				break;
			}
		}
		if (!unit)
			return -EINVAL;
	}
	if (overflow)
		return -ERANGE;

	/* Trailing zeros add no precision: "1.500000000000ms" is fine. */
	while (nfrac > 0 && frac[nfrac - 1] == '0')
		nfrac--;
	/* 10^19 exceeds every unit, so more digits can never be exact. */
	if (nfrac > 18)
		return -EINVAL;
	for (i = 0; i < nfrac; i++) {
		fpart = fpart * 10 + (uint64_t)(frac[i] - '0');
		pow10 *= 10;
	}
	if (nfrac > 0) {
		uint64_t g = gcd_u64(unit, pow10);
		uint64_t den = pow10 / g;

		if (fpart % den != 0)
			return -EINVAL; /* finer than one nanosecond */
		/* fpart < pow10, so the product stays below unit. */
		fpart = (fpart / den) * (unit / g);
	}
	if (ipart > (uint64_t)INT64_MAX / unit)
		return -ERANGE;
	ipart *= unit;
	if (ipart > (uint64_t)INT64_MAX - fpart)
		return -ERANGE;
	*out_ns = (int64_t)(ipart + fpart);
	return 0;
}

void format_duration_ns(int64_t ns, char *buf, size_t len)
{
	uint64_t mag;
	size_t i;

	if (!buf || len == 0)
		return;
	if (ns == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	mag = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
	for (i = 0; i < N_DURATION_UNITS; i++) {
		uint64_t u = (uint64_t)duration_units[i].ns;

		if (mag % u == 0) {
			snprintf(buf, len, "%s%llu%s", ns < 0 ? "-" : "",
				 (unsigned long long)(mag / u), duration_units[i].name);
			return;
		}
	}
}

int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	bool overflow = false;
	const char *p = s;

	if (!s || !is_digit(*p))
		return -EINVAL;
	for (; is_digit(*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			overflow = true;
		else
			v = v * 10 + d;
	}
	if (*p != '\0')
		return -EINVAL;
	if (overflow || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* Numeric literal of the other family than requested: a syntax error, not a lookup failure. */
static bool is_literal_of_other_family(const char *host, int family)
{
	unsigned char buf[sizeof(struct in6_addr)];
	char tmp[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	size_t n;

	if (family == AF_INET6)
		return inet_pton(AF_INET, host, buf) == 1;
	if (family != AF_INET)
		return false;
	/* Strip a zone ("fe80::1%eth0") before inet_pton. */
	n = strcspn(host, "%");
	if (n >= sizeof(tmp))
		return false;
	memcpy(tmp, host, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, buf) == 1;
}

int parse_endpoint(const char *s, int family, uint16_t default_port, int numeric_only,
		   struct sockaddr_storage *out, socklen_t *out_len)
{
	char host[NI_MAXHOST];
	const char *port_s = NULL, *colon;
	size_t hlen;
	uint64_t port = default_port;
	struct addrinfo hints, *res = NULL;
	bool bracketed = false;
	int rc;

	if (!s || !*s || !out || !out_len)
		return -EINVAL;
	if (family != AF_UNSPEC && family != AF_INET && family != AF_INET6)
		return -EINVAL;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close)
			return -EINVAL;
		hlen = (size_t)(close - s - 1);
		if (close[1] == ':')
			port_s = close + 2;
		else if (close[1] != '\0')
			return -EINVAL;
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hlen);
		host[hlen] = '\0';
		bracketed = true;
	} else {
		colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL; /* two or more colons: a bare IPv6 literal */
		hlen = colon ? (size_t)(colon - s) : strlen(s);
		if (colon)
			port_s = colon + 1;
		if (hlen == 0 || hlen >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hlen);
		host[hlen] = '\0';
	}
	if (port_s) {
		rc = parse_uint(port_s, 0, 65535, &port);
		if (rc < 0)
			return rc;
	}
	if (bracketed && family == AF_INET)
		return -EINVAL; /* brackets only ever hold an IPv6 address */
	if (is_literal_of_other_family(host, family))
		return -EINVAL;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = bracketed ? AF_INET6 : family;
	hints.ai_socktype = SOCK_DGRAM;
	hints.ai_flags = (numeric_only || bracketed) ? AI_NUMERICHOST : 0;
	rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0) {
		if (rc == EAI_MEMORY)
			return -ENOMEM;
		if (numeric_only || bracketed)
			return -EINVAL; /* not an address literal */
		return -ENOENT;
	}
	if (!res || res->ai_addrlen > sizeof(*out) ||
	    (res->ai_family != AF_INET && res->ai_family != AF_INET6)) {
		freeaddrinfo(res);
		return -ENOENT;
	}
	memset(out, 0, sizeof(*out));
	memcpy(out, res->ai_addr, res->ai_addrlen);
	*out_len = (socklen_t)res->ai_addrlen;
	if (res->ai_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, out, sizeof(sin));
		sin.sin_port = htons((uint16_t)port);
		memcpy(out, &sin, sizeof(sin));
	} else {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, out, sizeof(sin6));
		sin6.sin6_port = htons((uint16_t)port);
		memcpy(out, &sin6, sizeof(sin6));
	}
	freeaddrinfo(res);
	return 0;
}

void format_endpoint(const struct sockaddr *sa, char *buf, size_t len)
{
	char addr[INET6_ADDRSTRLEN], zone[IF_NAMESIZE + 1];

	if (!buf || len == 0)
		return;
	if (!sa) {
		snprintf(buf, len, "?");
		return;
	}
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		if (!inet_ntop(AF_INET, &sin.sin_addr, addr, sizeof(addr)))
			snprintf(addr, sizeof(addr), "?");
		snprintf(buf, len, "%s:%u", addr, (unsigned)ntohs(sin.sin_port));
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		if (!inet_ntop(AF_INET6, &sin6.sin6_addr, addr, sizeof(addr)))
			snprintf(addr, sizeof(addr), "?");
		zone[0] = '\0';
		if (sin6.sin6_scope_id != 0 && !if_indextoname(sin6.sin6_scope_id, zone))
			snprintf(zone, sizeof(zone), "%u", (unsigned)sin6.sin6_scope_id);
		snprintf(buf, len, "[%s%s%s]:%u", addr, zone[0] ? "%" : "", zone,
			 (unsigned)ntohs(sin6.sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}

int parse_prefix(const char *s, struct parse_prefix *out)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash;
	size_t alen, i;
	unsigned maxlen, plen;
	uint64_t v;
	int rc;

	if (!s || !out)
		return -EINVAL;
	slash = strchr(s, '/');
	alen = slash ? (size_t)(slash - s) : strlen(s);
	if (alen == 0 || alen >= sizeof(addr))
		return -EINVAL;
	memcpy(addr, s, alen);
	addr[alen] = '\0';

	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, addr, out->addr) == 1) {
		out->family = AF_INET;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, addr, out->addr) == 1) {
		out->family = AF_INET6;
		maxlen = 128;
	} else {
		return -EINVAL;
	}
	plen = maxlen;
	if (slash) {
		rc = parse_uint(slash + 1, 0, maxlen, &v);
		if (rc < 0)
			return rc;
		plen = (unsigned)v;
	}
	out->plen = plen;
	/*
	 * Host bits are cleared so "192.0.2.1/24" means the network, as in
	 * iptables and most routers, and matching needs no mask of the prefix.
	 */
	for (i = 0; i < 16; i++) {
		unsigned bits = plen > i * 8 ? plen - (unsigned)i * 8 : 0;

		if (bits < 8)
			out->addr[i] &= (uint8_t)(0xff00u >> bits);
	}
	return 0;
}

static const uint8_t v4_mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

bool prefix_contains(const struct parse_prefix *p, const struct sockaddr *sa)
{
	uint8_t a[16];
	unsigned i, full, rest;

	if (!p || !sa)
		return false;
	memset(a, 0, sizeof(a));
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;

		memcpy(&sin, sa, sizeof(sin));
		if (p->family == AF_INET) {
			memcpy(a, &sin.sin_addr, 4);
		} else {
			memcpy(a, v4_mapped_prefix, 12);
			memcpy(a + 12, &sin.sin_addr, 4);
		}
	} else if (sa->sa_family == AF_INET6) {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		if (p->family == AF_INET) {
			if (memcmp(sin6.sin6_addr.s6_addr, v4_mapped_prefix, 12) != 0)
				return false;
			memcpy(a, sin6.sin6_addr.s6_addr + 12, 4);
		} else {
			memcpy(a, sin6.sin6_addr.s6_addr, 16);
		}
	} else {
		return false;
	}
	if (p->family != AF_INET && p->family != AF_INET6)
		return false;
	if (p->plen > (p->family == AF_INET ? 32u : 128u))
		return false;
	full = p->plen / 8;
	rest = p->plen % 8;
	for (i = 0; i < full; i++)
		if (a[i] != p->addr[i])
			return false;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff00u >> rest);

		if ((a[full] & mask) != (p->addr[full] & mask))
			return false;
	}
	return true;
}
