/*
 * Host metadata for result files.  Each item is read independently and
 * falls back to "unknown" on its own, because a result with partial
 * metadata is still worth keeping while a failed run is not.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "hostinfo.h"

#define HOSTINFO_CLOCKSOURCE "/sys/devices/system/clocksource/clocksource0/current_clocksource"

/* Truncating copy: utsname fields may be longer than ours; sources are NUL-terminated. */
static void copy_str(char *dst, size_t size, const char *src)
{
	size_t len = strlen(src);

	if (len > size - 1)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static void append_str(char *dst, size_t size, const char *src)
{
	size_t used = strnlen(dst, size - 1);

	copy_str(dst + used, size - used, src);
}

static void read_clocksource(char *dst, size_t size)
{
	FILE *f = fopen(HOSTINFO_CLOCKSOURCE, "re");
	size_t len;

	copy_str(dst, size, "unknown");
	if (!f)
		return;
	if (fgets(dst, (int)size, f)) {
		len = strcspn(dst, "\r\n");
		dst[len] = '\0';
		if (len == 0)
			copy_str(dst, size, "unknown");
	} else {
		copy_str(dst, size, "unknown");
	}
	fclose(f);
}

void hostinfo_collect(struct host_info *h)
{
	struct utsname u;
	long ncpu;

	if (!h)
		return;
	memset(h, 0, sizeof(*h));

	/* gethostname() need not terminate a truncated name. */
	if (gethostname(h->hostname, sizeof(h->hostname) - 1) != 0 || h->hostname[0] == '\0')
		copy_str(h->hostname, sizeof(h->hostname), "unknown");
	h->hostname[sizeof(h->hostname) - 1] = '\0';

	if (uname(&u) == 0) {
		copy_str(h->kernel, sizeof(h->kernel), u.sysname);
		append_str(h->kernel, sizeof(h->kernel), " ");
		append_str(h->kernel, sizeof(h->kernel), u.release);
		copy_str(h->machine, sizeof(h->machine), u.machine);
	} else {
		copy_str(h->kernel, sizeof(h->kernel), "unknown");
		copy_str(h->machine, sizeof(h->machine), "unknown");
	}

	read_clocksource(h->clocksource, sizeof(h->clocksource));

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	h->ncpu = ncpu > 0 && ncpu <= 1000000 ? (int)ncpu : 0;

	h->clock_status_known = ts_clock_status_read(&h->clock) == 0;
	if (!h->clock_status_known)
		memset(&h->clock, 0, sizeof(h->clock));

	copy_str(h->tstamp_rx, sizeof(h->tstamp_rx), "unknown");
	copy_str(h->tstamp_tx, sizeof(h->tstamp_tx), "unknown");
}
