/*
 * Send schedules on CLOCK_MONOTONIC absolute deadlines.
 *
 * Deadlines are computed from the start time and the probe index (periodic)
 * or by accumulating exponential gaps drawn from a seeded generator
 * (Poisson, RFC 2330 §11.1.1), never from "now + interval", so a late send
 * does not shift every later one.  Waiting uses clock_nanosleep(TIMER_ABSTIME)
 * and optionally spins for the last stretch (precise timer).
 */
#ifndef TK_SCHED_H
#define TK_SCHED_H

#include <stdbool.h>
#include <stdint.h>

enum sched_kind {
	SCHED_PERIODIC = 0,
	SCHED_POISSON,
};

const char *sched_kind_name(enum sched_kind k);
int sched_kind_parse(const char *s, enum sched_kind *out);

struct sched {
	enum sched_kind kind;
	int64_t start_ns;      /* monotonic time of probe 0 */
	int64_t interval_ns;   /* period, or mean gap for Poisson */
	uint64_t index;        /* index of the next deadline */
	int64_t next_ns;       /* next deadline (Poisson accumulates) */
	uint64_t rng;          /* xorshift64* state for Poisson gaps */
};

/* interval_ns must be > 0.  seed 0 picks a fixed non-zero default. */
void sched_init(struct sched *s, enum sched_kind kind, int64_t interval_ns,
		int64_t start_mono_ns, uint64_t seed);

/* Deadline of the next probe (monotonic ns); advances the schedule. */
int64_t sched_next(struct sched *s);

/*
 * Sleeps until deadline_ns (monotonic).  spin_ns > 0 sleeps until
 * deadline - spin_ns and busy-waits the rest (lower lateness, one core busy).
 * Returns 0 (also when the deadline had already passed) or -errno.
 */
int sched_wait_until(int64_t deadline_ns, int64_t spin_ns);

/* Lower the calling thread's timer slack to 1 ns (Linux PR_SET_TIMERSLACK). 0 or -errno. */
int sched_set_timer_slack_ns(unsigned long ns);

#endif
