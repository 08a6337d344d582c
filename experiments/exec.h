/*
 * Running the testbed's commands: iproute2 and tc for the topology, load
 * generators and probes inside network namespaces, optionally confined to a
 * cgroup.  Everything is fork/exec with an argument vector (no shell, no
 * quoting problems); a child enters its namespace with setns() and its
 * cgroup before exec, so not one instruction of the probe runs outside its
 * placement.  Processes are stopped by PID only.
 */
#ifndef TK_EXEC_H
#define TK_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

/* execvp takes char *const[] but never writes the strings: this is the one place we drop const. */
static inline char *exec_arg(const char *s)
{
	return (char *)(uintptr_t)s;
}

/* One-line error message into err[0..len) (NULL or 0: nothing), for the -errno + message convention. */
void tk_errf(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * snprintf for paths and names: returns 0, or -ENAMETOOLONG (buf then
 * holds "") so a truncated path can never be used by mistake.
 */
int tk_path(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

struct exec_opts {
	const char *netns;        /* name under /var/run/netns, or NULL */
	const char *cgroup_procs; /* path of a cgroup.procs file to join, or NULL */
	const char *stdout_path;  /* file for stdout (truncated), NULL = /dev/null */
	const char *stderr_path;  /* file for stderr, NULL = same as stdout */
	bool new_session;         /* setsid(), so a terminal's SIGINT does not reach it */
};

/*
 * While *flag is non-zero, exec_wait stops the child it waits for and
 * returns -EINTR, so SIGINT/SIGTERM of the harness cut a long probe short.
 */
void exec_set_abort_flag(volatile sig_atomic_t *flag);

/*
 * Root-owned state of the harness (lock, PID registries).  Not /run/lock:
 * that is world-writable, and root must never act on a file another user
 * could have planted there.
 */
#define TK_RUN_DIR "/run/twampkit"

/*
 * Creates TK_RUN_DIR (0700) if needed and opens path inside it with flags
 * (O_NOFOLLOW added); refuses a file not owned by us or writable by others.
 * Returns the fd or -errno.
 */
int tk_run_open(const char *path, int flags);

/*
 * Every process exec_spawn starts is appended to this registry file as
 * "PID STARTTIME" (STARTTIME from /proc/PID/stat, so a reused PID is never
 * mistaken for ours).  NULL disables.  exec_registry_kill stops what is
 * still alive of it (after a crash of the harness) and empties it.
 */
void exec_registry_set(const char *path);
int exec_registry_kill(const char *path, int *killed);

/* Starts argv[0] with PATH lookup; *pid set.  0 or -errno (exec failure is reported by the wait). */
int exec_spawn(char *const argv[], const struct exec_opts *o, pid_t *pid);

/*
 * Waits for pid up to timeout_ms (< 0: forever); on timeout sends SIGTERM,
 * then SIGKILL after 2 s.  Returns the exit status (0..255), 128+signal when
 * killed by a signal, or -ETIMEDOUT / -errno.
 */
int exec_wait(pid_t pid, int timeout_ms);

/* Spawn + wait.  Status as exec_wait; 127 when the program does not exist. */
int exec_run(char *const argv[], const struct exec_opts *o, int timeout_ms);

/* Runs argv quietly; on non-zero status copies up to errlen-1 octets of its stderr into err. */
int exec_run_capture_err(char *const argv[], const char *netns, char *err, size_t errlen);

/*
 * Runs argv (in netns when non-NULL); on failure err names the command and
 * its first line of stderr.  0, or -errno / -EIO.
 */
int exec_run_checked(char *err, size_t errlen, const char *netns, char *const argv[]);

/* In a function with char *err and size_t errlen: run, and return its error on failure. */
#define EXEC_RUN(...) do { char *const argv_[] = { __VA_ARGS__, NULL }; \
	int rc_ = exec_run_checked(err, errlen, NULL, argv_); if (rc_) return rc_; } while (0)

/* SIGTERM, wait up to grace_ms, then SIGKILL; reaps.  0 or -errno. */
int exec_stop(pid_t pid, int sig, int grace_ms);

/* True when a program named prog is found in PATH. */
bool exec_have_program(const char *prog);

/* Writes text to path (no newline added).  0 or -errno. */
int exec_write_file(const char *path, const char *text);

#endif
