/*
 * Bounds-checked read and write cursors over a byte buffer.
 *
 * Every wire codec goes through these instead of casting buffers to structs:
 * a cursor remembers the first failure (overrun) and later operations become
 * no-ops, so a codec can perform a run of reads and check once at the end.
 * Multi-octet values are big-endian (network order), as in every TWAMP RFC.
 */
#ifndef TK_CURSOR_H
#define TK_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct rcursor {
	const uint8_t *p;
	size_t len;
	size_t pos;
	bool bad;
};

struct wcursor {
	uint8_t *p;
	size_t cap;
	size_t pos;
	bool bad;
};

static inline void rc_init(struct rcursor *c, const uint8_t *p, size_t len)
{
	c->p = p;
	c->len = len;
	c->pos = 0;
	c->bad = false;
}

static inline size_t rc_left(const struct rcursor *c)
{
	return c->bad ? 0 : c->len - c->pos;
}

static inline bool rc_take(struct rcursor *c, size_t n)
{
	if (c->bad || c->len - c->pos < n) {
		c->bad = true;
		return false;
	}
	return true;
}

static inline void rc_skip(struct rcursor *c, size_t n)
{
	if (rc_take(c, n))
		c->pos += n;
}

static inline uint8_t rc_u8(struct rcursor *c)
{
	if (!rc_take(c, 1))
		return 0;
	return c->p[c->pos++];
}

static inline uint16_t rc_u16(struct rcursor *c)
{
	if (!rc_take(c, 2))
		return 0;
	uint16_t v = (uint16_t)((uint16_t)c->p[c->pos] << 8 | c->p[c->pos + 1]);
	c->pos += 2;
	return v;
}

static inline uint32_t rc_u32(struct rcursor *c)
{
	if (!rc_take(c, 4))
		return 0;
	const uint8_t *q = c->p + c->pos;
	c->pos += 4;
	return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

static inline uint64_t rc_u64(struct rcursor *c)
{
	uint64_t hi = rc_u32(c);
	uint64_t lo = rc_u32(c);
	return hi << 32 | lo;
}

static inline void rc_bytes(struct rcursor *c, void *dst, size_t n)
{
	if (!rc_take(c, n)) {
		memset(dst, 0, n);
		return;
	}
	memcpy(dst, c->p + c->pos, n);
	c->pos += n;
}

/* Pointer to the next n octets (valid while the buffer lives), NULL on overrun. */
static inline const uint8_t *rc_ptr(struct rcursor *c, size_t n)
{
	if (!rc_take(c, n))
		return NULL;
	const uint8_t *q = c->p + c->pos;
	c->pos += n;
	return q;
}

static inline void wc_init(struct wcursor *c, uint8_t *p, size_t cap)
{
	c->p = p;
	c->cap = cap;
	c->pos = 0;
	c->bad = false;
}

static inline bool wc_take(struct wcursor *c, size_t n)
{
	if (c->bad || c->cap - c->pos < n) {
		c->bad = true;
		return false;
	}
	return true;
}

static inline void wc_u8(struct wcursor *c, uint8_t v)
{
	if (wc_take(c, 1))
		c->p[c->pos++] = v;
}

static inline void wc_u16(struct wcursor *c, uint16_t v)
{
	if (!wc_take(c, 2))
		return;
	c->p[c->pos++] = (uint8_t)(v >> 8);
	c->p[c->pos++] = (uint8_t)v;
}

static inline void wc_u32(struct wcursor *c, uint32_t v)
{
	if (!wc_take(c, 4))
		return;
	c->p[c->pos++] = (uint8_t)(v >> 24);
	c->p[c->pos++] = (uint8_t)(v >> 16);
	c->p[c->pos++] = (uint8_t)(v >> 8);
	c->p[c->pos++] = (uint8_t)v;
}

static inline void wc_u64(struct wcursor *c, uint64_t v)
{
	wc_u32(c, (uint32_t)(v >> 32));
	wc_u32(c, (uint32_t)v);
}

static inline void wc_bytes(struct wcursor *c, const void *src, size_t n)
{
	if (!wc_take(c, n))
		return;
	if (n)
		memcpy(c->p + c->pos, src, n);
	c->pos += n;
}

static inline void wc_zero(struct wcursor *c, size_t n)
{
	if (!wc_take(c, n))
		return;
	memset(c->p + c->pos, 0, n);
	c->pos += n;
}

#endif
