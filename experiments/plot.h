/*
 * Figures of an experiment (twamp-experiment plot DIR), drawn by gnuplot
 * from data files this module writes: the paper's Fig. 2 (box plots of RTT
 * vs number of background VMs), one per load type x location x reservation
 * x protocol (x rate x NIC), an overlay of the protocols' medians with
 * their bootstrap 95% CI per load type x location x reservation, and the
 * paper's Fig. 3 (mean RTT at each capture point vs number of background
 * VMs) per load type x location x reservation x protocol.  The script and
 * data stay next to the images so a figure can be restyled by hand.
 */
#ifndef TK_PLOT_H
#define TK_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include "results.h"

/*
 * Writes OUTDIR/plots.gp, OUTDIR/data/<figure>.dat and runs gnuplot once
 * (fork/exec, PATH lookup, its messages in OUTDIR/gnuplot.log) to draw
 * OUTDIR/<figure>.<format>.  outdir NULL means e->dir/plots; it is created
 * when missing (its parent must exist).  format is "png" or "svg".
 * Names: fig2-LOAD-LOCATION-resR-PROTO-NIC-FREQhz, fig2-LOAD-LOCATION-resR-
 * protocols-NIC-FREQhz (the overlay), fig3-LOAD-LOCATION-resR-PROTO-NIC-
 * FREQhz; R is 1 with a reserved core, 0 without.  Each image written, then
 * the script, is printed as one path per line to list (may be NULL).
 * 0; -EINVAL (bad format); -ENOENT when gnuplot is not installed (err names
 * the Debian package gnuplot-nox); -ENODATA when there is nothing to draw;
 * -EIO when gnuplot fails; other -errno; err gets a one-line message.
 */
int plot_write(const struct experiment *e, const char *outdir, const char *format, FILE *list,
	       char *err, size_t errlen);

#endif
