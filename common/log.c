/*
 * Program logging (see log.h): "ident: level: message" lines on stderr, or
 * syslog(3).  Each line is formatted into one buffer and written with a
 * single call so lines from concurrent processes (the server and its
 * helpers share a terminal) never interleave.  Notice and info lines carry
 * no level word: they are the normal output of a daemon and read better
 * plain.  This is the only module allowed to print.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX 1024
#define LOG_IDENT_MAX 64

enum log_level log_max_level = LOG_LEVEL_NOTICE;

static char log_ident[LOG_IDENT_MAX] = "twampkit";
static bool log_to_syslog;

void log_init(const char *ident, enum log_level level, bool to_syslog)
{
	if (ident && *ident)
		snprintf(log_ident, sizeof(log_ident), "%s", ident);
	log_set_level(level);
	if (log_to_syslog && !to_syslog)
		closelog();
	log_to_syslog = to_syslog;
	if (to_syslog)
		openlog(log_ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void log_set_level(enum log_level level)
{
	if (level > LOG_LEVEL_DEBUG)
		level = LOG_LEVEL_DEBUG;
	log_max_level = level;
}

static const char *level_word(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERR: return "error: ";
	case LOG_LEVEL_WARN: return "warning: ";
	case LOG_LEVEL_DEBUG: return "debug: ";
	case LOG_LEVEL_NOTICE:
	case LOG_LEVEL_INFO:
		break;
	}
	return "";
}

static int syslog_priority(enum log_level level)
{
	switch (level) {
	case LOG_LEVEL_ERR: return LOG_ERR;
	case LOG_LEVEL_WARN: return LOG_WARNING;
	case LOG_LEVEL_NOTICE: return LOG_NOTICE;
	case LOG_LEVEL_INFO: return LOG_INFO;
	case LOG_LEVEL_DEBUG: break;
	}
	return LOG_DEBUG;
}

/* suffix (may be NULL) is appended to the message, e.g. the suppressed count. */
static void log_vemit(enum log_level level, const char *suffix, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX + LOG_IDENT_MAX + 32];
	size_t n;
	int saved_errno = errno;
	int len;

	/* errno is restored so "%m" in fmt reports the caller's error. */
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	if (log_to_syslog) {
		syslog(syslog_priority(level), "%s%s", msg, suffix ? suffix : "");
	} else {
		len = snprintf(line, sizeof(line), "%s: %s%s%s\n", log_ident, level_word(level), msg,
			       suffix ? suffix : "");
		if (len < 0)
			len = 0;
		if ((size_t)len >= sizeof(line)) {
			len = (int)sizeof(line) - 1;
			line[len - 1] = '\n';
		}
		fflush(stderr);
		if (write(STDERR_FILENO, line, (size_t)len) < 0) {
			/* nowhere left to report it */
		}
	}
	errno = saved_errno;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	if (level > log_max_level)
		return;
	va_start(ap, fmt);
	log_vemit(level, NULL, fmt, ap);
	va_end(ap);
}

static int64_t log_mono_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void log_ratelimited(struct log_ratelimit *rl, enum log_level level, const char *fmt, ...)
{
	char suffix[64];
	int64_t now;
	va_list ap;

	if (level > log_max_level)
		return;
	now = log_mono_ns();
	/* last_ns == 0: first use, the bucket starts full (LOG_RATELIMIT_INIT). */
	if (rl->last_ns != 0 && now > rl->last_ns) {
		rl->tokens += (double)(now - rl->last_ns) * rl->per_sec / 1e9;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
	}
	if (rl->last_ns == 0 || now > rl->last_ns)
		rl->last_ns = now;
	if (rl->tokens < 1.0) {
		rl->suppressed++;
		return;
	}
	rl->tokens -= 1.0;
	suffix[0] = '\0';
	if (rl->suppressed) {
		snprintf(suffix, sizeof(suffix), " (%llu similar message%s suppressed)",
			 (unsigned long long)rl->suppressed, rl->suppressed == 1 ? "" : "s");
		rl->suppressed = 0;
	}
	va_start(ap, fmt);
	log_vemit(level, suffix[0] ? suffix : NULL, fmt, ap);
	va_end(ap);
}
