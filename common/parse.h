/*
 * Parsing of the small value syntaxes shared by command lines and config
 * files: durations ("1s", "10ms", "250us", "1000ns", plain seconds
 * "0.001"), counts, and endpoints ("127.0.0.1:862", "[::1]:862", "::1",
 * "host", "host:port").  Pure functions: 0 or a negative errno code.
 */
#ifndef TK_PARSE_H
#define TK_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * Duration -> nanoseconds (>= 0): digits, optional fraction, optional unit
 * ns, us, ms, s, m, h, d (none = seconds).  The value must be a whole number
 * of nanoseconds ("1.5ns" and 10 fractional digits of seconds are -EINVAL).
 * -EINVAL on syntax (incl. sign, blanks), -ERANGE beyond INT64_MAX ns.
 */
int parse_duration_ns(const char *s, int64_t *out_ns);

/* Formats ns in the largest unit that is exact ("1s", "250us", "1500ns", "15m"). */
void format_duration_ns(int64_t ns, char *buf, size_t len);

/* Decimal unsigned integer in [min, max].  -EINVAL or -ERANGE. */
int parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/*
 * Endpoint "ADDR[:PORT]" with IPv6 in brackets when a port is given.
 * Numeric addresses only when numeric_only; otherwise names resolve with
 * getaddrinfo (family AF_UNSPEC, AF_INET or AF_INET6 restricts the result).
 * default_port is used when the text has none; port 0 (ephemeral) is
 * allowed.  Returns 0, -EINVAL (syntax, or a literal of another family),
 * -ERANGE (port) or -ENOENT (name does not resolve).
 */
int parse_endpoint(const char *s, int family, uint16_t default_port, int numeric_only,
		   struct sockaddr_storage *out, socklen_t *out_len);

/* "ADDR:PORT" / "[ADDR]:PORT" text of a socket address. */
void format_endpoint(const struct sockaddr *sa, char *buf, size_t len);

/*
 * CIDR prefix "192.0.2.0/24", "2001:db8::/32" or a bare address (full
 * length).  Output: family, 16 address octets (IPv4 in the first 4) and
 * prefix length; host bits are cleared.  -EINVAL (syntax) or -ERANGE (length).
 */
struct parse_prefix {
	int family;
	uint8_t addr[16];
	unsigned plen;
};
int parse_prefix(const char *s, struct parse_prefix *out);
/* True when sa (AF_INET/AF_INET6, v4-mapped IPv6 treated as IPv4) is inside p. */
bool prefix_contains(const struct parse_prefix *p, const struct sockaddr *sa);

#endif
