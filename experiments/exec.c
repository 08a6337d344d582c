/*
 * fork/exec helpers for the testbed.
 *
 * The child does its placement work (cgroup, namespace, redirections)
 * between fork and exec and reports a failure through a close-on-exec pipe,
 * so a probe that could not be placed fails loudly instead of running in
 * the wrong namespace or on the wrong core.
 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

void tk_errf(char *err, size_t len, const char *fmt, ...)
{
	if (!err || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

int tk_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		if (len)
			buf[0] = 0;
		return -ENAMETOOLONG;
	}
	return 0;
}

static volatile sig_atomic_t *abort_flag;
static const char *registry;

void exec_registry_set(const char *path)
{
	registry = path;
}

/* Field 22 of /proc/PID/stat: start time in clock ticks since boot; 0 if gone. */
static unsigned long long start_time(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	/* The command name may hold spaces and parentheses: count from the last ')'. */
	char *p = strrchr(buf, ')');
	if (!p)
		return 0;
	unsigned long long v = 0;
	int field = 2;
	for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
		if (++field == 22) {
			v = strtoull(tok, NULL, 10);
			break;
		}
	}
	return v;
}

int tk_run_open(const char *path, int flags)
{
	if (mkdir(TK_RUN_DIR, 0700) < 0 && errno != EEXIST)
		return -errno;
	struct stat st;
	if (lstat(TK_RUN_DIR, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022))
		return -EPERM;
	int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022)) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

static void registry_add(pid_t pid)
{
	if (!registry)
		return;
	int fd = tk_run_open(registry, O_WRONLY | O_CREAT | O_APPEND);
	if (fd < 0)
		return;
	char line[64];
	int n = snprintf(line, sizeof(line), "%d %llu\n", (int)pid, start_time(pid));
	if (write(fd, line, (size_t)n) < 0) {
		/* best effort: clean falls back to the namespaces' process lists */
	}
	close(fd);
}

int exec_registry_kill(const char *path, int *killed)
{
	*killed = 0;
	int fd = tk_run_open(path, O_RDONLY);
	if (fd < 0)
		return fd == -ENOENT ? 0 : fd;
	FILE *f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -errno;
	}
	int pid;
	unsigned long long st;
	while (fscanf(f, "%d %llu", &pid, &st) == 2) {
		if (pid > 1 && st && start_time(pid) == st) {
			/* Its whole session: load generators fork workers. */
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			(*killed)++;
		}
	}
	fclose(f);
	return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

void exec_set_abort_flag(volatile sig_atomic_t *flag)
{
	abort_flag = flag;
}

int exec_write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t len = strlen(text);
	ssize_t n = write(fd, text, len);
	int err = n < 0 ? -errno : ((size_t)n != len ? -EIO : 0);
	if (close(fd) < 0 && !err)
		err = -errno;
	return err;
}

bool exec_have_program(const char *prog)
{
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/sbin:/usr/bin:/sbin:/bin";
	char buf[PATH_MAX];
	while (*path) {
		const char *end = strchr(path, ':');
		size_t len = end ? (size_t)(end - path) : strlen(path);
		if (len && len + 1 + strlen(prog) < sizeof(buf)) {
			snprintf(buf, sizeof(buf), "%.*s/%s", (int)len, path, prog);
			if (access(buf, X_OK) == 0)
				return true;
		}
		path += len + (end ? 1 : 0);
	}
	return false;
}

/* Child side: runs between fork and exec; reports errno through fd on failure. */
static void child(char *const argv[], const struct exec_opts *o, int report_fd)
{
	int err = 0;
	if (o->new_session)
		setsid();
	/* Default signal dispositions: the harness ignores or catches some. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* Output we parse (ping, ss, ip) must not be translated. */
	setenv("LC_ALL", "C", 1);

	if (o->cgroup_procs) {
		char pid[32];
		snprintf(pid, sizeof(pid), "%d", (int)getpid());
		err = exec_write_file(o->cgroup_procs, pid);
		if (err)
			goto fail;
	}
	if (o->netns) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "/var/run/netns/%s", o->netns);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) {
			err = -errno;
			goto fail;
		}
		close(fd);
	}
	int out = open(o->stdout_path ? o->stdout_path : "/dev/null",
		       O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		err = -errno;
		goto fail;
	}
	int errfd = out;
	if (o->stderr_path) {
		errfd = open(o->stderr_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (errfd < 0) {
			err = -errno;
			goto fail;
		}
	}
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (in < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0) {
		err = -errno;
		goto fail;
	}
	execvp(argv[0], argv);
	err = -errno;
fail:
	if (write(report_fd, &err, sizeof(err)) < 0) {
		/* nothing more to do: the parent sees the pipe close and exit 127 */
	}
	_exit(127);
}

int exec_spawn(char *const argv[], const struct exec_opts *o, pid_t *pid)
{
	static const struct exec_opts none;
	if (!o)
		o = &none;
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	pid_t p = fork();
	if (p < 0) {
		int err = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return err;
	}
	if (p == 0) {
		close(pfd[0]);
		child(argv, o, pfd[1]);
	}
	close(pfd[1]);
	int child_err = 0;
	ssize_t n;
	do
		n = read(pfd[0], &child_err, sizeof(child_err));
	while (n < 0 && errno == EINTR);
	close(pfd[0]);
	if (n == (ssize_t)sizeof(child_err)) {
		/* Placement or exec failed: reap and report why. */
		waitpid(p, NULL, 0);
		return child_err ? child_err : -ECHILD;
	}
	*pid = p;
	/* Long-running children get their own session; those are the ones to track. */
	if (o->new_session)
		registry_add(p);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int decode_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return -ECHILD;
}

int exec_wait(pid_t pid, int timeout_ms)
{
	int st;
	int64_t deadline = timeout_ms < 0 ? INT64_MAX : now_ms() + timeout_ms;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return decode_status(st);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (abort_flag && *abort_flag) {
			exec_stop(pid, SIGTERM, 2000);
			return -EINTR;
		}
		if (now_ms() >= deadline) {
			exec_stop(pid, SIGTERM, 2000);
			return -ETIMEDOUT;
		}
		struct timespec nap = { 0, 5 * 1000000 };
		nanosleep(&nap, NULL);
	}
}

int exec_run(char *const argv[], const struct exec_opts *o, int timeout_ms)
{
	pid_t pid;
	int rc = exec_spawn(argv, o, &pid);
	if (rc == -ENOENT)
		return 127;
	if (rc < 0)
		return rc;
	return exec_wait(pid, timeout_ms);
}

int exec_run_capture_err(char *const argv[], const char *netns, char *err, size_t errlen)
{
	char path[] = "/tmp/tk-exec-err.XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0)
		return -errno;
	close(fd);
	struct exec_opts o = { .netns = netns, .stdout_path = NULL, .stderr_path = path };
	int rc = exec_run(argv, &o, 30000);
	if (rc != 0 && err && errlen) {
		err[0] = 0;
		FILE *f = fopen(path, "r");
		if (f) {
			size_t n = fread(err, 1, errlen - 1, f);
			err[n] = 0;
			fclose(f);
			/* One line: the first. */
			char *nl = strchr(err, '\n');
			if (nl)
				*nl = 0;
		}
	}
	unlink(path);
	return rc;
}

int exec_run_checked(char *err, size_t errlen, const char *netns, char *const argv[])
{
	char out[256];
	int rc = exec_run_capture_err(argv, netns, out, sizeof(out));
	if (rc == 0)
		return 0;
	char cmd[256] = "";
	for (int i = 0; argv[i] && strlen(cmd) < 160; i++)
		snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), "%s%s", i ? " " : "", argv[i]);
	tk_errf(err, errlen, "'%s' failed (%d): %s", cmd, rc, out[0] ? out : "no message");
	return rc < 0 ? rc : -EIO;
}

int exec_stop(pid_t pid, int sig, int grace_ms)
{
	if (pid <= 0)
		return -EINVAL;
	if (kill(pid, sig) < 0 && errno != ESRCH)
		return -errno;
	int64_t deadline = now_ms() + grace_ms;
	int st;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD))
			return 0;
		if (now_ms() >= deadline)
			break;
		struct timespec nap = { 0, 5 * 1000000 };
		nanosleep(&nap, NULL);
	}
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return 0;
}
