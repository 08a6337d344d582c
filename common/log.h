/*
 * Logging for the programs: levels, printf-format checking, stderr or
 * syslog, and rate limiting for per-packet messages.  The library modules
 * never log (they return errors and count drops); only program code does.
 * A disabled level costs one integer comparison.
 */
#ifndef TK_LOG_H
#define TK_LOG_H

#include <stdbool.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

extern enum log_level log_max_level;

/* ident prefixes every line; to_syslog switches from stderr to syslog(3). */
void log_init(const char *ident, enum log_level level, bool to_syslog);
void log_set_level(enum log_level level);
void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...) log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...) \
	do { if (log_max_level >= LOG_LEVEL_INFO) log_msg(LOG_LEVEL_INFO, __VA_ARGS__); } while (0)
#define log_debug(...) \
	do { if (log_max_level >= LOG_LEVEL_DEBUG) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__); } while (0)

/* Token bucket for one message site: at most burst lines, refilled per_sec per second. */
struct log_ratelimit {
	uint32_t per_sec;
	uint32_t burst;
	double tokens;
	int64_t last_ns;
	uint64_t suppressed;
};
#define LOG_RATELIMIT_INIT(per_sec_, burst_) { (per_sec_), (burst_), (burst_), 0, 0 }

/* Logs unless the limit is exhausted; reports the number suppressed when it resumes. */
void log_ratelimited(struct log_ratelimit *rl, enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
