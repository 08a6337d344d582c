/*
 * Send schedules (see sched.h).  Periodic deadlines are start + index *
 * interval, computed afresh for every probe so no rounding or lateness ever
 * accumulates.  Poisson deadlines add exponential gaps (RFC 2330 §11.1.1)
 * drawn from a xorshift64* generator: it is seeded explicitly so a run can be
 * repeated exactly, and it needs no allocation or locking.  Waiting sleeps on
 * absolute CLOCK_MONOTONIC deadlines, which are immune to wall-clock steps
 * and to the drift a chain of relative sleeps would build up.
 */
#include "autoconfig.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "sched.h"

#define SCHED_NSEC_PER_SEC 1000000000LL

/*
 * Default generator state for seed 0: xorshift64* has a fixed point at 0, so
 * the state must never be zero.  The constant is 2^64 / golden ratio.
 */
#define SCHED_DEFAULT_SEED 0x9e3779b97f4a7c15ULL

/*
 * Poisson gaps are capped at this multiple of the mean.  An untruncated
 * exponential has no upper bound; RFC 2330 §11.1.1 accepts approximating
 * the distribution in practice, and RFC 3432 §4 makes the same allowance of
 * bounded gaps for periodic-like sampling.  The cap only matters with
 * probability e^-10 (about 4.5e-5) per gap and lowers the mean by the same
 * factor (E[min(X, 10m)] = m (1 - e^-10)), well below anything a run of
 * measurements could detect, while keeping one freak gap from stalling a
 * short run for many intervals.  Clamping (rather than redrawing) keeps one
 * random number per gap, so sequences stay reproducible by index.
 */
#define SCHED_POISSON_CAP 10

static const char *const sched_names[] = {
	[SCHED_PERIODIC] = "periodic",
	[SCHED_POISSON] = "poisson",
};

const char *sched_kind_name(enum sched_kind k)
{
	if ((unsigned)k < sizeof(sched_names) / sizeof(sched_names[0]))
		return sched_names[k];
	return "unknown";
}

int sched_kind_parse(const char *s, enum sched_kind *out)
{
	if (s == NULL || out == NULL)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(sched_names) / sizeof(sched_names[0]); i++) {
		if (strcmp(s, sched_names[i]) == 0) {
			*out = (enum sched_kind)i;
			return 0;
		}
	}
	return -EINVAL;
}

/* xorshift64* (Vigna 2016): 64-bit state, good enough high bits for doubles. */
static uint64_t sched_rng_next(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* Exponential gap with mean interval_ns, in [1, SCHED_POISSON_CAP * mean] ns. */
static int64_t sched_poisson_gap(struct sched *s)
{
	/* Top 53 bits + 1, scaled: U in (0, 1], so log(U) is finite. */
	double u = (double)((sched_rng_next(&s->rng) >> 11) + 1) * 0x1.0p-53;
	double mean = (double)s->interval_ns;
	double gap = -log(u) * mean;
	double cap = mean * SCHED_POISSON_CAP;
	int64_t g;

	if (gap > cap)
		gap = cap;
	/* The cap may exceed int64 for absurd means; saturate before converting. */
	if (gap >= 0x1.0p63)
		return INT64_MAX;
	g = (int64_t)llround(gap);
	/* U = 1 gives 0; a zero gap would send two probes at one deadline. */
	return g > 0 ? g : 1;
}

static int64_t sched_sat_add(int64_t a, int64_t b)
{
	int64_t r;

	if (__builtin_add_overflow(a, b, &r))
		return b > 0 ? INT64_MAX : INT64_MIN;
	return r;
}

void sched_init(struct sched *s, enum sched_kind kind, int64_t interval_ns,
		int64_t start_mono_ns, uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->kind = kind;
	/* The contract says > 0; a zero period would spin the sender, so clamp. */
	s->interval_ns = interval_ns > 0 ? interval_ns : 1;
	s->start_ns = start_mono_ns;
	s->index = 0;
	s->next_ns = start_mono_ns;
	s->rng = seed != 0 ? seed : SCHED_DEFAULT_SEED;
}

int64_t sched_next(struct sched *s)
{
	int64_t deadline;

	if (s->kind == SCHED_POISSON) {
		deadline = s->next_ns;
		s->next_ns = sched_sat_add(s->next_ns, sched_poisson_gap(s));
	} else {
		int64_t off;

		/*
		 * index * interval in one multiplication: exact for every index,
		 * saturating instead of wrapping if a run outlives int64 ns.
		 */
		if (s->index > (uint64_t)INT64_MAX ||
		    __builtin_mul_overflow((int64_t)s->index, s->interval_ns, &off))
			off = INT64_MAX;
		deadline = sched_sat_add(s->start_ns, off);
		s->next_ns = deadline;
	}
	s->index++;
	return deadline;
}

static int64_t sched_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * SCHED_NSEC_PER_SEC + ts.tv_nsec;
}

static inline void sched_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Absolute sleep; 0 or -errno.  EINTR restarts with the same deadline. */
static int sched_sleep_abs(int64_t deadline_ns)
{
	struct timespec ts;
	int rc;

	if (deadline_ns <= 0)
		return 0;
	ts.tv_sec = (time_t)(deadline_ns / SCHED_NSEC_PER_SEC);
	ts.tv_nsec = (long)(deadline_ns % SCHED_NSEC_PER_SEC);
	do {
		/* clock_nanosleep returns the error number instead of setting errno. */
		rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
	} while (rc == EINTR);
	return -rc;
}

int sched_wait_until(int64_t deadline_ns, int64_t spin_ns)
{
	int rc;

	if (sched_mono_ns() >= deadline_ns)
		return 0;
	if (spin_ns <= 0)
		return sched_sleep_abs(deadline_ns);

	/*
	 * Timer wakeups are late by the slack plus scheduling latency; sleeping
	 * only until deadline - spin and polling the clock for the rest trades
	 * one busy core for sub-microsecond lateness.
	 */
	rc = sched_sleep_abs(sched_sat_add(deadline_ns, -spin_ns));
	if (rc < 0)
		return rc;
	while (sched_mono_ns() < deadline_ns)
		sched_cpu_relax();
	return 0;
}

int sched_set_timer_slack_ns(unsigned long ns)
{
#if defined(__linux__) && defined(PR_SET_TIMERSLACK)
	/* ns = 0 would restore the thread's default slack, not remove it. */
	if (prctl(PR_SET_TIMERSLACK, ns, 0, 0, 0) < 0)
		return -errno;
	return 0;
#else
	(void)ns;
	return -ENOSYS;
#endif
}
