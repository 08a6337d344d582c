/*
 * Command-line parsing for twamp-client (DESIGN.md §2).  Every value is
 * validated here with a message that names the option, so the sender and
 * the output code can trust what they get.
 */
#include "autoconfig.h"
#include "client_config.h"

#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "parse.h"
#include "wire_control.h"
#include "wire_test.h"

enum long_only {
	OPT_SCHEDULE = 256,
	OPT_TSTAMP,
	OPT_ZERO_PADDING,
	OPT_SEED,
	OPT_SPIN,
	OPT_LATE_LIMIT,
	OPT_CONTROL,
	OPT_MAX_COUNT,
	OPT_ISC,
	OPT_REFLECT_OCTETS,
	OPT_SYMMETRICAL,
	OPT_DSCP_ECN,
	OPT_TEST_PORT,
	OPT_CONTROL_TIMEOUT,
};

static const struct option long_opts[] = {
	{ "count", required_argument, NULL, 'c' },
	{ "protocol", required_argument, NULL, 'P' },
	{ "interval", required_argument, NULL, 'i' },
	{ "duration", required_argument, NULL, 'd' },
	{ "schedule", required_argument, NULL, OPT_SCHEDULE },
	{ "padding", required_argument, NULL, 's' },
	{ "zero-padding", no_argument, NULL, OPT_ZERO_PADDING },
	{ "dscp", required_argument, NULL, 'D' },
	{ "ttl", required_argument, NULL, 'T' },
	{ "source", required_argument, NULL, 'S' },
	{ "timeout", required_argument, NULL, 'W' },
	{ "tstamp", required_argument, NULL, OPT_TSTAMP },
	{ "spin", required_argument, NULL, OPT_SPIN },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "late-limit", required_argument, NULL, OPT_LATE_LIMIT },
	{ "control", no_argument, NULL, OPT_CONTROL },
	{ "auth", required_argument, NULL, 'A' },
	{ "user", required_argument, NULL, 'u' },
	{ "keyfile", required_argument, NULL, 'k' },
	{ "max-count", required_argument, NULL, OPT_MAX_COUNT },
	{ "isc", no_argument, NULL, OPT_ISC },
	{ "reflect-octets", required_argument, NULL, OPT_REFLECT_OCTETS },
	{ "symmetrical", no_argument, NULL, OPT_SYMMETRICAL },
	{ "dscp-ecn", no_argument, NULL, OPT_DSCP_ECN },
	{ "test-port", required_argument, NULL, OPT_TEST_PORT },
	{ "control-timeout", required_argument, NULL, OPT_CONTROL_TIMEOUT },
	{ "format", required_argument, NULL, 'F' },
	{ "output", required_argument, NULL, 'o' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

void client_usage(FILE *f)
{
	fputs("Usage: twamp-client [options] HOST[:PORT]\n"
	      "TWAMP Session-Sender (TWAMP-Light, or full TWAMP with --control) and ICMP echo\n"
	      "prober: round-trip, one-way and reflector delays, TWAMP and ping side by side.\n"
	      "\n"
	      "  -P, --protocol LIST    twamp (default), icmp, or twamp,icmp (interleaved:\n"
	      "                         probe i of each sent back to back, order alternating)\n"
	      "  -c, --count N          probes to send per protocol (default 100)\n"
	      "  -i, --interval DUR     time between probes (default 1s; e.g. 1ms, 100us)\n"
	      "  -d, --duration DUR     send for this long instead of --count\n"
	      "      --schedule KIND    periodic (default) or poisson (exponential gaps)\n"
	      "  -s, --padding N        padding octets after the sender header (default: equal\n"
	      "                         sizes both ways: 27 open, 64 auth/enc, 30 with --dscp-ecn)\n"
	      "      --zero-padding     all-zero padding instead of pseudo-random\n"
	      "  -D, --dscp N           DSCP of the probes, 0..63 (default 0)\n"
	      "  -T, --ttl N            IP TTL / hop limit of the probes (default 255)\n"
	      "  -4, -6                 use IPv4 / IPv6 only when resolving HOST\n"
	      "  -S, --source ADDR[:PORT]  local address (and port) to send from\n"
	      "  -W, --timeout DUR      a probe not answered by then is lost (default 2s)\n"
	      "      --tstamp MODE      kernel (default, falls back to user) or user\n"
	      "      --spin DUR         precise timer: busy-wait the last DUR before each send (default 0)\n"
	      "      --late-limit DUR   skip (and count) a probe later than this (default max(interval, 10ms))\n"
	      "      --seed N           seed for Poisson gaps and padding (default: from the clock)\n"
	      "Full TWAMP and keyed TWAMP-Light:\n"
	      "      --control          negotiate over TWAMP-Control first (HOST[:PORT] is the\n"
	      "                         server's TCP port, default 862); the test goes to the\n"
	      "                         port the server returns\n"
	      "  -A, --auth MODE        open, auth, enc or mixed (control only); default with\n"
	      "                         --control: the strongest mode offered that the key allows\n"
	      "  -u, --user KEYID       KeyID of the shared secret (with -k)\n"
	      "  -k, --keyfile FILE     'KeyID secret' lines (keyed Light: a 64-octet secret)\n"
	      "      --max-count N      refuse greetings with a larger PBKDF2 Count (default 32768)\n"
	      "      --isc              use RFC 5938 Start-N/Stop-N when the server offers it\n"
	      "      --reflect-octets N RFC 6038: ask the reflector to return N padding octets\n"
	      "      --symmetrical      RFC 6038 Symmetrical Size sender format\n"
	      "      --dscp-ecn         RFC 7750: the reflector reports the DSCP/ECN it received\n"
	      "      --test-port N      Receiver Port to request (default 0: the server chooses)\n"
	      "      --control-timeout DUR  connect and control reply timeout (default 10s)\n"
	      "  -F, --format FMT       text (default), json or csv\n"
	      "  -o, --output FILE      write the result there instead of stdout\n"
	      "  -v, --verbose          one line per probe as replies arrive\n"
	      "  -q, --quiet            no text summary (only the -o file)\n"
	      "  -h, --help             this help\n"
	      "  -V, --version          version\n"
	      "\n"
	      "Durations: 1s, 10ms, 250us, 1000ns or plain seconds (0.001). Default port 862.\n"
	      "Exit status: 0 when replies came back, 1 when none did, 2 on errors.\n", f);
}

static int fail(char *err, size_t errlen, const char *fmt, const char *opt, const char *val)
{
	snprintf(err, errlen, fmt, opt, val);
	return -EINVAL;
}

static int parse_dur(const char *opt, const char *val, int64_t min, int64_t *out,
		     char *err, size_t errlen)
{
	int rc = parse_duration_ns(val, out);
	if (rc < 0)
		return fail(err, errlen, "option %s: '%s' is not a duration (e.g. 1s, 10ms, 250us)",
			    opt, val);
	if (*out < min)
		return fail(err, errlen, "option %s: '%s' is too small", opt, val);
	return 0;
}

static int parse_num(const char *opt, const char *val, uint64_t min, uint64_t max,
		     uint64_t *out, char *err, size_t errlen)
{
	if (parse_uint(val, min, max, out) < 0) {
		snprintf(err, errlen, "option %s: '%s' is not a number in %llu..%llu", opt, val,
			 (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	return 0;
}

/* "twamp", "icmp", "twamp,icmp" (either order); each at most once. */
static int parse_protocols(const char *text, bool proto[PROBE_NPROTO])
{
	char buf[64];
	if (strlen(text) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, text);
	bool seen[PROBE_NPROTO] = { false, false };
	char *save = NULL;
	int n = 0;
	for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		int p;
		if (!strcmp(tok, "twamp"))
			p = PROBE_TWAMP;
		else if (!strcmp(tok, "icmp"))
			p = PROBE_ICMP;
		else
			return -EINVAL;
		if (seen[p])
			return -EINVAL;
		seen[p] = true;
		n++;
	}
	if (n == 0)
		return -EINVAL;
	for (int i = 0; i < PROBE_NPROTO; i++)
		proto[i] = seen[i];
	return 0;
}

int client_config_parse(struct client_config *c, int argc, char **argv, char *err, size_t errlen)
{
	memset(c, 0, sizeof(*c));
	struct sender_opts *o = &c->send;
	o->count = 100;
	o->proto[PROBE_TWAMP] = true;
	o->interval_ns = 1000000000;
	o->schedule = SCHED_PERIODIC;
	o->padding = 27; /* B9: equal sizes both ways in unauthenticated mode */
	o->sec = WIRE_SEC_OPEN;
	c->max_count = WIRE_COUNT_DEFAULT_MAX;
	c->control_timeout_ns = 10000000000LL;
	c->security = "open";
	o->ttl = 255;    /* B6 */
	o->timeout_ns = 2000000000;
	o->tstamp = SOCK_TS_KERNEL;
	o->source.ss_family = AF_UNSPEC;
	c->family = AF_UNSPEC;
	c->format = OUTPUT_TEXT;
	bool have_count = false, have_duration = false;
	uint64_t v;
	int rc, opt;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:P:i:d:s:D:T:S:W:F:o:A:u:k:vq46hV", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'c':
			if ((rc = parse_num("-c", optarg, 1, 100000000, &v, err, errlen)))
				return rc;
			o->count = v;
			have_count = true;
			break;
		case 'P':
			if (parse_protocols(optarg, o->proto) < 0)
				return fail(err, errlen, "option %s: '%s' is not twamp, icmp or twamp,icmp",
					    "-P", optarg);
			break;
		case 'i':
			if ((rc = parse_dur("-i", optarg, 1000, &o->interval_ns, err, errlen)))
				return rc;
			break;
		case 'd':
			if ((rc = parse_dur("-d", optarg, 1, &o->duration_ns, err, errlen)))
				return rc;
			have_duration = true;
			break;
		case OPT_SCHEDULE:
			if (sched_kind_parse(optarg, &o->schedule) < 0)
				return fail(err, errlen, "option %s: '%s' is not periodic or poisson",
					    "--schedule", optarg);
			break;
		case 's':
			if ((rc = parse_num("-s", optarg, 0, 9000 - WIRE_SENDER_HDR_OPEN, &v, err, errlen)))
				return rc;
			o->padding = v;
			c->padding_given = true;
			break;
		case OPT_CONTROL:
			c->control = true;
			break;
		case 'A':
			c->auth_mode = ctrl_mode_parse(optarg);
			if (!c->auth_mode)
				return fail(err, errlen, "option %s: '%s' is not open, auth, enc or mixed",
					    "-A", optarg);
			break;
		case 'u':
			c->keyid = optarg;
			break;
		case 'k':
			c->keyfile = optarg;
			break;
		case OPT_MAX_COUNT:
			if ((rc = parse_num("--max-count", optarg, WIRE_COUNT_MIN, 1u << 30, &v, err, errlen)))
				return rc;
			c->max_count = (uint32_t)v;
			break;
		case OPT_ISC:
			c->features |= WIRE_MODE_ISC;
			break;
		case OPT_REFLECT_OCTETS:
			if ((rc = parse_num("--reflect-octets", optarg, 1, 4096, &v, err, errlen)))
				return rc;
			c->reflect_len = (uint16_t)v;
			c->features |= WIRE_MODE_REFLECT_OCTETS;
			break;
		case OPT_SYMMETRICAL:
			c->features |= WIRE_MODE_SYMMETRICAL;
			break;
		case OPT_DSCP_ECN:
			c->features |= WIRE_MODE_DSCP_ECN;
			break;
		case OPT_TEST_PORT:
			if ((rc = parse_num("--test-port", optarg, 1, 65535, &v, err, errlen)))
				return rc;
			c->test_port = (uint16_t)v;
			break;
		case OPT_CONTROL_TIMEOUT:
			if ((rc = parse_dur("--control-timeout", optarg, 1000000, &c->control_timeout_ns,
					    err, errlen)))
				return rc;
			break;
		case OPT_ZERO_PADDING:
			o->zero_padding = true;
			break;
		case 'D':
			if ((rc = parse_num("-D", optarg, 0, 63, &v, err, errlen)))
				return rc;
			o->dscp = (int)v;
			break;
		case 'T':
			if ((rc = parse_num("-T", optarg, 1, 255, &v, err, errlen)))
				return rc;
			o->ttl = (int)v;
			break;
		case '4':
			c->family = AF_INET;
			break;
		case '6':
			c->family = AF_INET6;
			break;
		case 'S':
			snprintf(c->source_text, sizeof(c->source_text), "%s", optarg);
			break;
		case 'W':
			if ((rc = parse_dur("-W", optarg, 1000000, &o->timeout_ns, err, errlen)))
				return rc;
			break;
		case OPT_TSTAMP:
			if (!strcmp(optarg, "kernel"))
				o->tstamp = SOCK_TS_KERNEL;
			else if (!strcmp(optarg, "user"))
				o->tstamp = SOCK_TS_USER;
			else
				return fail(err, errlen, "option %s: '%s' is not kernel or user",
					    "--tstamp", optarg);
			break;
		case OPT_SPIN:
			if ((rc = parse_dur("--spin", optarg, 0, &o->spin_ns, err, errlen)))
				return rc;
			break;
		case OPT_LATE_LIMIT:
			if ((rc = parse_dur("--late-limit", optarg, 1000, &o->late_limit_ns, err, errlen)))
				return rc;
			break;
		case OPT_SEED:
			if ((rc = parse_num("--seed", optarg, 0, UINT64_MAX, &o->seed, err, errlen)))
				return rc;
			break;
		case 'F':
			if (output_format_parse(optarg, &c->format) < 0)
				return fail(err, errlen, "option %s: '%s' is not text, json or csv",
					    "-F", optarg);
			break;
		case 'o':
			c->output_path = optarg;
			break;
		case 'v':
			c->verbose = true;
			break;
		case 'q':
			c->quiet = true;
			break;
		case 'h':
			client_usage(stdout);
			return 1;
		case 'V':
			printf("twamp-client %s\n", PACKAGE_VERSION);
			return 1;
		case ':':
			snprintf(err, errlen, "option %s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(err, errlen, "unknown option '%s' (see --help)", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind != argc - 1) {
		snprintf(err, errlen, optind >= argc ? "missing HOST[:PORT] (see --help)"
						     : "too many arguments: '%s'", argv[argc - 1]);
		return -EINVAL;
	}
	if (have_count && have_duration)
		return fail(err, errlen, "options %s and %s exclude each other", "-c", "-d");
	if (have_duration)
		o->count = 0;
	if (o->spin_ns >= o->interval_ns)
		return fail(err, errlen, "option %s must be shorter than %s", "--spin", "-i");
	bool keyed = c->auth_mode && c->auth_mode != WIRE_MODE_OPEN;
	if ((c->keyid != NULL) != (c->keyfile != NULL))
		return fail(err, errlen, "options %s and %s go together", "-u", "-k");
	if (keyed && !c->keyid)
		return fail(err, errlen, "option %s: '%s' needs -u KEYID and -k KEYFILE", "-A",
			    wire_mode_name(c->auth_mode));
	if (!c->control) {
		if (c->auth_mode == WIRE_MODE_MIXED)
			return fail(err, errlen, "option %s: '%s' exists only with --control", "-A", "mixed");
		if (c->features & WIRE_MODE_ISC)
			return fail(err, errlen, "option %s needs %s", "--isc", "--control");
		if ((c->features & WIRE_MODE_SYMMETRICAL) && c->reflect_len)
			return fail(err, errlen,
				    "options %s and %s together need --control (a Light reflector "
				    "cannot know the layout)", "--symmetrical", "--reflect-octets");
		if (c->test_port)
			return fail(err, errlen, "option %s needs %s", "--test-port", "--control");
		if (c->auth_mode == WIRE_MODE_AUTH)
			o->sec = WIRE_SEC_AUTH;
		else if (c->auth_mode == WIRE_MODE_ENC)
			o->sec = WIRE_SEC_ENC;
		c->security = wire_security_name(o->sec);
		o->dscp_ecn = c->features & WIRE_MODE_DSCP_ECN;
		o->symmetrical = c->features & WIRE_MODE_SYMMETRICAL;
		o->reflect_len = c->reflect_len;
	} else if (!o->proto[PROBE_TWAMP]) {
		return fail(err, errlen, "option %s needs twamp in %s", "--control", "-P");
	}

	snprintf(c->target_text, sizeof(c->target_text), "%s", argv[optind]);
	rc = parse_endpoint(c->target_text, c->family, CLIENT_DEFAULT_PORT, 0, &o->target,
			    &o->target_len);
	if (rc < 0)
		return fail(err, errlen, "%s '%s': not an address or resolvable name[:port]",
			    "target", c->target_text);
	if (c->source_text[0]) {
		rc = parse_endpoint(c->source_text, o->target.ss_family, 0, 0, &o->source,
				    &o->source_len);
		if (rc < 0)
			return fail(err, errlen, "option %s: '%s' is not a local address[:port] of the target's family",
				    "-S", c->source_text);
	}
	if (!c->padding_given)
		o->padding = client_default_padding(c);
	else if (o->padding + wire_sender_hdr_len(o->sec) > 9000)
		return fail(err, errlen, "option %s: '%s' makes packets larger than 9000 octets", "-s",
			    "padding");
	else if (o->reflect_len && o->padding < client_default_padding(c)) {
		/* RFC 6038 §4.3: the octets to reflect must fit inside equal-size packets. */
		snprintf(err, errlen, "option -s: --reflect-octets %u needs at least %zu octets of padding",
			 (unsigned)o->reflect_len, client_default_padding(c));
		return -EINVAL;
	}
	return 0;
}

size_t client_default_padding(const struct client_config *c)
{
	const struct sender_opts *o = &c->send;
	/* B9: the reflector header minus the sender's, so both directions are equal. */
	size_t gap = wire_reflector_hdr_len(o->sec, o->dscp_ecn) - wire_sender_hdr_len(o->sec);
	return gap + o->reflect_len;
}

static void kv_int(struct client_config *c, const char *key, long long v)
{
	c->kv[c->n_kv++] = (struct output_kv){ .key = key, .type = OUTPUT_KV_INT, .i = v };
}

static void kv_bool(struct client_config *c, const char *key, bool v)
{
	c->kv[c->n_kv++] = (struct output_kv){ .key = key, .type = OUTPUT_KV_BOOL, .b = v };
}

static void kv_str(struct client_config *c, const char *key, const char *v)
{
	c->kv[c->n_kv++] = (struct output_kv){ .key = key, .type = OUTPUT_KV_STRING, .s = v };
}

static const char *kv_dur(struct client_config *c, size_t slot, int64_t ns)
{
	format_duration_ns(ns, c->kv_text[slot], sizeof(c->kv_text[slot]));
	return c->kv_text[slot];
}

void client_config_export(struct client_config *c)
{
	const struct sender_opts *o = &c->send;
	c->n_kv = 0;
	kv_str(c, "protocol", o->proto[PROBE_TWAMP] ? (o->proto[PROBE_ICMP] ? "twamp,icmp" : "twamp")
						  : "icmp");
	kv_str(c, "mode", c->control ? "control" : "light");
	kv_str(c, "security", c->security);
	format_endpoint((const struct sockaddr *)&o->target, c->target_resolved,
			sizeof(c->target_resolved));
	kv_str(c, "target", c->target_resolved);
	kv_str(c, "source", c->source_text[0] ? c->source_text : "");
	kv_int(c, "count", (long long)o->count);
	kv_str(c, "interval", kv_dur(c, 1, o->interval_ns));
	kv_str(c, "duration", kv_dur(c, 2, o->duration_ns));
	kv_str(c, "schedule", sched_kind_name(o->schedule));
	kv_int(c, "padding", (long long)o->padding);
	kv_int(c, "packet_octets", (long long)(o->padding + wire_sender_hdr_len(o->sec)));
	kv_bool(c, "zero_padding", o->zero_padding);
	kv_int(c, "dscp", o->dscp);
	kv_int(c, "ttl", o->ttl);
	kv_str(c, "timeout", kv_dur(c, 3, o->timeout_ns));
	kv_str(c, "tstamp", o->tstamp == SOCK_TS_KERNEL ? "kernel" : "user");
	kv_str(c, "spin", kv_dur(c, 4, o->spin_ns));
	kv_str(c, "late_limit", kv_dur(c, 5, o->late_limit_ns ? o->late_limit_ns
			: (o->interval_ns > 10000000 ? o->interval_ns : 10000000)));
	kv_int(c, "seed", (long long)o->seed);
	kv_str(c, "format", output_format_name(c->format));
	kv_str(c, "keyid", c->keyid ? c->keyid : "");
	wire_modes_str(c->control ? (c->features & ~WIRE_MODE_SECURITY_MASK)
				  : (c->features & ~(uint32_t)WIRE_MODE_ISC),
		       c->features_text, sizeof(c->features_text));
	kv_str(c, "features", c->features_text);
	kv_int(c, "reflect_octets", c->reflect_len);
	if (!c->control)
		return;
	kv_str(c, "control_server", c->control_server_text);
	kv_str(c, "sid", c->sid_text);
	kv_int(c, "test_port", c->negotiated_port);
	kv_int(c, "max_count", c->max_count);
	kv_int(c, "greeting_count", c->greeting_count);
	kv_int(c, "control_handshake_us", (long long)(c->handshake_ns / 1000));
	kv_int(c, "control_setup_us", (long long)(c->setup_ns / 1000));
}
