/*
 * The experiment report (twamp-experiment report DIR): (a) the paper's
 * Table II layout for the no-load scenarios, per protocol; (b) the
 * sensitivity of each protocol to each load type, location and reservation
 * (median with its bootstrap 95% CI, p99, the increase over the no-load
 * baseline and the Mann-Whitney p-value against it, per number of
 * background VMs), with TWAMP-minus-ICMP and TWAMP-minus-ping rows;
 * (c) the mean RTT at each capture point and each path segment's share of
 * the tool's RTT, grouped like the paper's Fig. 3; (d) the three
 * qualitative claims checked against the numbers.  Repetitions of a
 * scenario are pooled.  One computation, four renderings: text, markdown,
 * CSV (long format, one value per row) and JSON ("twampkit.report/1").
 */
#ifndef TK_REPORT_H
#define TK_REPORT_H

#include <stdio.h>

#include "results.h"

#define REPORT_SCHEMA "twampkit.report/1"
#define REPORT_CSV_HEADER "section,proto,load_type,load_location,reservation,freq_hz,nic,bg_vms,metric,value"

enum report_format {
	REPORT_TEXT = 0,
	REPORT_MARKDOWN,
	REPORT_CSV,
	REPORT_JSON,
};

/* "text", "markdown", "csv", "json".  0 or -EINVAL. */
int report_format_parse(const char *s, enum report_format *out);
const char *report_format_name(enum report_format f);

/*
 * Writes the report of e to out.  Sections without data say so (text,
 * markdown) or are empty (csv, json); a claim whose scenarios the matrix
 * lacks is "not measured".  0, -EINVAL, -ENOMEM or -EIO.
 */
int report_write(const struct experiment *e, enum report_format f, FILE *out);

#endif
