/*
 * Unit tests for common/log.c: the stderr line format per level, level
 * filtering, errno preservation, truncation of long lines, and the token
 * bucket of log_ratelimited (burst, refill, the suppressed count on
 * resume).  stderr is redirected with dup2 into a temporary file and read
 * back; the clock is "advanced" by moving the bucket's last_ns back, which
 * keeps the test exact without sleeping.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

static char cap_path[64];
static int cap_saved = -1;
static char cap_buf[8192];

/* stderr -> a fresh temp file (O_APPEND, so truncating restarts at 0). */
static void capture_begin(void)
{
	int tmp, fd;

	snprintf(cap_path, sizeof(cap_path), "/tmp/test_log.XXXXXX");
	tmp = mkstemp(cap_path);
	assert_true(tmp >= 0);
	fd = open(cap_path, O_RDWR | O_APPEND);
	assert_true(fd >= 0);
	close(tmp);
	fflush(stderr);
	cap_saved = dup(STDERR_FILENO);
	assert_true(cap_saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

/* Restores stderr (before any assertion can print) and returns what was written. */
static const char *capture_end(void)
{
	ssize_t n;
	int fd;

	fflush(stderr);
	dup2(cap_saved, STDERR_FILENO);
	close(cap_saved);
	cap_saved = -1;
	fd = open(cap_path, O_RDONLY);
	assert_true(fd >= 0);
	n = read(fd, cap_buf, sizeof(cap_buf) - 1);
	close(fd);
	unlink(cap_path);
	assert_true(n >= 0);
	cap_buf[n] = '\0';
	return cap_buf;
}

static void emit_all_levels(void)
{
	log_err("e%d", 1);
	log_warn("w%d", 1);
	log_notice("n%d", 1);
	log_info("i%d", 1);
	log_debug("d%d", 1);
}

static void test_levels(void **state)
{
	(void)state;
	capture_begin();
	log_init("tk-test", LOG_LEVEL_NOTICE, false);
	emit_all_levels();
	log_set_level(LOG_LEVEL_ERR);
	emit_all_levels();
	log_set_level(LOG_LEVEL_DEBUG);
	emit_all_levels();
	assert_string_equal(capture_end(),
			    "tk-test: error: e1\n"
			    "tk-test: warning: w1\n"
			    "tk-test: n1\n"
			    "tk-test: error: e1\n"
			    "tk-test: error: e1\n"
			    "tk-test: warning: w1\n"
			    "tk-test: n1\n"
			    "tk-test: i1\n"
			    "tk-test: debug: d1\n");
	assert_int_equal(log_max_level, LOG_LEVEL_DEBUG);
	/* Out-of-range levels clamp to debug. */
	log_set_level((enum log_level)42);
	assert_int_equal(log_max_level, LOG_LEVEL_DEBUG);
}

static void test_format_details(void **state)
{
	char big[3000];
	const char *out;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_init("tk-test", LOG_LEVEL_INFO, false);
	capture_begin();
	log_notice("trailing newline is dropped\n");
	errno = EACCES;
	log_warn("open: %s", strerror(errno));
	assert_int_equal(errno, EACCES); /* logging must not clobber errno */
	log_notice("%s", big);
	out = capture_end();
	assert_int_equal(strncmp(out,
				 "tk-test: trailing newline is dropped\n"
				 "tk-test: warning: open: Permission denied\n"
				 "tk-test: xxx",
				 strlen("tk-test: trailing newline is dropped\n"
					"tk-test: warning: open: Permission denied\n"
					"tk-test: xxx")),
			 0);
	/* The long line is cut to 1023 message characters but still ends the line. */
	assert_int_equal(strlen(out), strlen("tk-test: trailing newline is dropped\n"
					     "tk-test: warning: open: Permission denied\n"
					     "tk-test: ") + 1023 + 1);
	assert_int_equal(out[strlen(out) - 1], '\n');
}

static void test_ratelimit_burst_and_resume(void **state)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(1, 3);
	int i;

	(void)state;
	log_init("tk-test", LOG_LEVEL_NOTICE, false);
	capture_begin();
	for (i = 1; i <= 10; i++)
		log_ratelimited(&rl, LOG_LEVEL_WARN, "drop %d", i);
	/* 2.5 s later: two tokens back (burst 3, 1 per second). */
	rl.last_ns -= 2500000000LL;
	for (i = 11; i <= 13; i++)
		log_ratelimited(&rl, LOG_LEVEL_WARN, "drop %d", i);
	/* A long pause refills to the burst, never beyond it. */
	rl.last_ns -= 3600LL * 1000000000LL;
	for (i = 14; i <= 18; i++)
		log_ratelimited(&rl, LOG_LEVEL_WARN, "drop %d", i);
	assert_string_equal(capture_end(),
			    "tk-test: warning: drop 1\n"
			    "tk-test: warning: drop 2\n"
			    "tk-test: warning: drop 3\n"
			    "tk-test: warning: drop 11 (7 similar messages suppressed)\n"
			    "tk-test: warning: drop 12\n"
			    "tk-test: warning: drop 14 (1 similar message suppressed)\n"
			    "tk-test: warning: drop 15\n"
			    "tk-test: warning: drop 16\n");
	assert_int_equal(rl.suppressed, 2);
	assert_true(rl.tokens < 1.0);
}

static void test_ratelimit_zero_rate(void **state)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(0, 1);

	(void)state;
	log_init("tk-test", LOG_LEVEL_NOTICE, false);
	capture_begin();
	log_ratelimited(&rl, LOG_LEVEL_ERR, "once");
	rl.last_ns -= 1000LL * 1000000000LL;
	log_ratelimited(&rl, LOG_LEVEL_ERR, "never");
	assert_string_equal(capture_end(), "tk-test: error: once\n");
	assert_int_equal(rl.suppressed, 1);
}

/* A disabled level neither prints nor spends tokens nor counts as suppressed. */
static void test_ratelimit_disabled_level(void **state)
{
	struct log_ratelimit rl = LOG_RATELIMIT_INIT(1, 2);
	int i;

	(void)state;
	log_init("tk-test", LOG_LEVEL_NOTICE, false);
	capture_begin();
	for (i = 0; i < 5; i++)
		log_ratelimited(&rl, LOG_LEVEL_DEBUG, "hidden %d", i);
	log_ratelimited(&rl, LOG_LEVEL_NOTICE, "shown");
	assert_string_equal(capture_end(), "tk-test: shown\n");
	assert_int_equal(rl.suppressed, 0);
	assert_true(rl.tokens >= 1.0 && rl.tokens < 1.5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_format_details),
		cmocka_unit_test(test_ratelimit_burst_and_resume),
		cmocka_unit_test(test_ratelimit_zero_rate),
		cmocka_unit_test(test_ratelimit_disabled_level),
	};

	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
