/*
 * Host metadata recorded with every result: kernel, clock source, clock
 * synchronisation and which timestamping the run actually used, so figures
 * from different machines or fallbacks are never mistaken for each other.
 */
#ifndef TK_HOSTINFO_H
#define TK_HOSTINFO_H

#include <stdbool.h>
#include <stdint.h>

#include "tstamp.h"

struct host_info {
	char hostname[64];
	char kernel[128];        /* uname -sr */
	char machine[32];        /* uname -m */
	char clocksource[64];    /* /sys/.../current_clocksource, "unknown" if unreadable */
	int ncpu;
	struct ts_clock_status clock;
	bool clock_status_known;
	char tstamp_rx[32];      /* "kernel", "user" ... filled by the program */
	char tstamp_tx[32];
};

/* Fills what the system tells; never fails (unknown fields say "unknown"). */
void hostinfo_collect(struct host_info *h);

#endif
