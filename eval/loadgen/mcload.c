// SPDX-License-Identifier: GPL-2.0
/*
 * mcload: a memcached load generator (text protocol) for the ukl benchmarks.
 *
 *   mcload -s HOST:PORT [-t THREADS] [-c CONNS/THREAD] [-P DEPTH] [-R SET:GET]
 *          [-k KEYS] [-d SIZE | -d MIN-MAX] [--prefill]
 *          [--qps N (open loop) | closed loop] [-w WARMUP_S] (-D SECONDS | -n REQUESTS)
 *          [--hdr PREFIX] [--json FILE] [--csv FILE] [--label NAME] [--seed N]
 *   mcload --selftest        the histogram's own checks (TAP)
 *
 * Closed loop: every connection keeps DEPTH requests outstanding (maximum throughput).
 * Open loop: requests are issued on a fixed schedule of N/s in all (split over threads,
 * round-robin over connections, at most DEPTH outstanding per connection, the rest wait);
 * latency counts from each request's scheduled time, so a stalled server is not hidden
 * (no coordinated omission).  Latencies go into a log-linear histogram (128 sub-buckets
 * per power of two: values within 1/64 of the truth), reported as p50/p90/p99/p99.9/max.
 * --hdr writes PREFIX.txt in HdrHistogram's percentile-distribution format (Value in ms,
 * Percentile, TotalCount, 1/(1-Percentile)), as memtier_benchmark's --hdr-file-prefix does.
 * Exit status: 0, or 1 if any request got an error or the server went away.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ---- histogram ---------------------------------------------------------------------- */

#define SUB_BITS 7
#define SUB (1 << SUB_BITS)		/* 128 */
#define HALF (SUB / 2)			/* 64 */
#define NBUCKETS (SUB + 57 * HALF)	/* up to 2^63 */

struct hist {
	uint64_t count[NBUCKETS];
	uint64_t total, max, min;
	double sum, sumsq;
};

static int h_index(uint64_t v)
{
	int msb, shift;

	if (v < SUB)
		return (int)v;
	msb = 63 - __builtin_clzll(v);
	shift = msb - (SUB_BITS - 1);
	return SUB + (shift - 1) * HALF + (int)((v >> shift) - HALF);
}

static uint64_t h_lowest(int i)
{
	int j, shift;

	if (i < SUB)
		return i;
	j = i - SUB;
	shift = j / HALF + 1;
	return (uint64_t)(j % HALF + HALF) << shift;
}

static uint64_t h_highest(int i)
{
	return i < SUB ? (uint64_t)i : h_lowest(i + 1) - 1;
}

static void h_add(struct hist *h, uint64_t v)
{
	h->count[h_index(v)]++;
	if (!h->total || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->total++;
	h->sum += (double)v;
	h->sumsq += (double)v * (double)v;
}

static void h_merge(struct hist *d, const struct hist *s)
{
	int i;

	for (i = 0; i < NBUCKETS; i++)
		d->count[i] += s->count[i];
	if (s->total && (!d->total || s->min < d->min))
		d->min = s->min;
	if (s->max > d->max)
		d->max = s->max;
	d->total += s->total;
	d->sum += s->sum;
	d->sumsq += s->sumsq;
}

/* the highest value equivalent to the one at percentile p (0..100), as HdrHistogram */
static uint64_t h_pct(const struct hist *h, double p)
{
	uint64_t want, seen = 0;
	int i;

	if (!h->total)
		return 0;
	want = (uint64_t)ceil(p / 100.0 * (double)h->total);
	if (want < 1)
		want = 1;
	for (i = 0; i < NBUCKETS; i++) {
		seen += h->count[i];
		if (seen >= want) {
			uint64_t v = h_highest(i);

			return v > h->max ? h->max : v;
		}
	}
	return h->max;
}

static double h_mean(const struct hist *h) { return h->total ? h->sum / (double)h->total : 0; }

static void h_write_hdr(const struct hist *h, FILE *f)
{
	double mean = h_mean(h) / 1e6, var = h->total ? h->sumsq / (double)h->total - (h->sum / (double)h->total) * (h->sum / (double)h->total) : 0;
	uint64_t seen = 0;
	int i, buckets = 0;

	fprintf(f, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
	for (i = 0; i < NBUCKETS; i++) {
		double pct;

		if (!h->count[i])
			continue;
		buckets++;
		seen += h->count[i];
		pct = (double)seen / (double)h->total;
		if (seen == h->total)
			fprintf(f, "%12.3f %14.12f %10llu\n", (double)h_highest(i) / 1e6, 1.0,
				(unsigned long long)seen);
		else
			fprintf(f, "%12.3f %14.12f %10llu %14.2f\n", (double)h_highest(i) / 1e6, pct,
				(unsigned long long)seen, 1.0 / (1.0 - pct));
	}
	fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", mean, sqrt(var > 0 ? var : 0) / 1e6);
	fprintf(f, "#[Max     = %12.3f, Total count    = %12llu]\n", (double)h->max / 1e6,
		(unsigned long long)h->total);
	fprintf(f, "#[Buckets = %12d, SubBuckets     = %12d]\n", buckets, SUB);
}

/* ---- configuration -------------------------------------------------------------------- */

static struct sockaddr_storage srv;
static socklen_t srvlen;
static int nthreads = 1, nconns = 4, depth = 1, set_w = 1, get_w = 10, prefill;
static long keys = 10000, dmin = 32, dmax = 32, nreq;
static double qps, warmup = 1, duration = 10;
static const char *hdr, *json, *csvf, *label = "run";
static unsigned long seed = 1;
static volatile int stop;
static double t_start, t_measure, t_end;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rnd(uint64_t *s)	/* xorshift64* */
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

static char *value_buf;

/* ---- connections ---------------------------------------------------------------------- */

enum { OP_GET, OP_SET };

struct req { double t0; int op; };

struct conn {
	int fd;
	char in[1 << 20];
	size_t inlen;
	struct req *q;			/* outstanding, FIFO */
	int qh, qn, qcap;
	long backlog;			/* open loop: requests due but not yet sent */
	double *backlog_t;
	int bh, bn, bcap;
	char *out;
	size_t outlen, outcap;
};

struct worker {
	pthread_t th;
	int id;
	struct conn *c;
	struct hist lat, lat_get, lat_set;
	uint64_t gets, sets, hits, misses, errors, done;
	uint64_t rng;
	int failed;
	char why[160];
};

static void out_add(struct conn *c, const char *s, size_t n)
{
	if (c->outlen + n > c->outcap) {
		c->outcap = (c->outlen + n) * 2;
		c->out = realloc(c->out, c->outcap);
	}
	memcpy(c->out + c->outlen, s, n);
	c->outlen += n;
}

static void issue(struct worker *w, struct conn *c, double t0)
{
	char line[128];
	uint64_t k = rnd(&w->rng) % keys;
	int op = (int)(rnd(&w->rng) % (set_w + get_w)) < set_w ? OP_SET : OP_GET;
	long n;

	if (op == OP_GET) {
		n = snprintf(line, sizeof(line), "get key:%llu\r\n", (unsigned long long)k);
		out_add(c, line, n);
	} else {
		long sz = dmin + (dmax > dmin ? (long)(rnd(&w->rng) % (dmax - dmin + 1)) : 0);

		n = snprintf(line, sizeof(line), "set key:%llu 0 0 %ld\r\n", (unsigned long long)k, sz);
		out_add(c, line, n);
		out_add(c, value_buf, sz);
		out_add(c, "\r\n", 2);
	}
	if (c->qn == c->qcap) {
		struct req *nq = malloc(sizeof(*nq) * (c->qcap * 2 + 4));
		int i;

		for (i = 0; i < c->qn; i++)
			nq[i] = c->q[(c->qh + i) % c->qcap];
		free(c->q);
		c->q = nq;
		c->qh = 0;
		c->qcap = c->qcap * 2 + 4;
	}
	c->q[(c->qh + c->qn) % c->qcap] = (struct req){ t0, op };
	c->qn++;
}

static int flush_out(struct worker *w, struct conn *c)
{
	while (c->outlen) {
		ssize_t r = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EAGAIN)
				return 0;
			snprintf(w->why, sizeof(w->why), "send: %s", strerror(errno));
			return -1;
		}
		memmove(c->out, c->out + r, c->outlen - r);
		c->outlen -= r;
	}
	return 0;
}

enum { R_STORED, R_MISS, R_HIT, R_ERROR };

/* a reply inside the measured window counts; errors count wherever they happen */
static void record(struct worker *w, struct req *r, double t, int kind)
{
	uint64_t ns = (uint64_t)((t - r->t0) * 1e9);

	if (kind == R_ERROR)
		w->errors++;
	if (r->t0 < t_measure || t > t_end)
		return;
	if (kind == R_STORED)
		w->sets++;
	else if (kind == R_MISS || kind == R_HIT) {
		w->gets++;
		if (kind == R_HIT)
			w->hits++;
		else
			w->misses++;
	}
	h_add(&w->lat, ns);
	h_add(r->op == OP_GET ? &w->lat_get : &w->lat_set, ns);
	w->done++;
}

/* parse every complete reply in c->in; -1 on a protocol error (w->why says which) */
static int parse(struct worker *w, struct conn *c)
{
	size_t off = 0;
	double t = now();

	while (c->qn) {
		struct req *r = &c->q[c->qh];
		char *s = c->in + off, *eol = memmem(s, c->inlen - off, "\r\n", 2);
		size_t used;
		int kind;

		if (!eol)
			break;
		if (r->op == OP_SET) {
			if (eol - s == 6 && !memcmp(s, "STORED", 6))
				kind = R_STORED;
			else {
				kind = R_ERROR;
				snprintf(w->why, sizeof(w->why), "set answered '%.*s'", (int)(eol - s), s);
			}
			used = eol + 2 - s;
		} else if (eol - s == 3 && !memcmp(s, "END", 3)) {
			kind = R_MISS;
			used = 5;
		} else if (eol - s > 6 && !memcmp(s, "VALUE ", 6)) {
			unsigned long flags, bytes;
			char key[256];

			if (sscanf(s, "VALUE %255s %lu %lu", key, &flags, &bytes) != 3) {
				snprintf(w->why, sizeof(w->why), "bad VALUE line '%.*s'", (int)(eol - s), s);
				return -1;
			}
			used = (eol + 2 - s) + bytes + 2 + 5;
			if (c->inlen - off < used)
				break;
			if (memcmp(s + used - 7, "\r\nEND\r\n", 7)) {
				snprintf(w->why, sizeof(w->why), "get reply not ended by END");
				return -1;
			}
			kind = R_HIT;
		} else {
			kind = R_ERROR;
			snprintf(w->why, sizeof(w->why), "get answered '%.*s'", (int)(eol - s), s);
			used = eol + 2 - s;
		}
		off += used;
		record(w, r, t, kind);
		c->qh = (c->qh + 1) % c->qcap;
		c->qn--;
	}
	if (!c->qn && off < c->inlen) {
		snprintf(w->why, sizeof(w->why), "unexpected bytes from the server: '%.20s'", c->in + off);
		return -1;
	}
	memmove(c->in, c->in + off, c->inlen - off);
	c->inlen -= off;
	return 0;
}

static int conn_open(struct worker *w, struct conn *c)
{
	int one = 1;

	memset(c, 0, sizeof(*c));
	c->fd = socket(srv.ss_family, SOCK_STREAM, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&srv, srvlen)) {
		snprintf(w->why, sizeof(w->why), "connect: %s", strerror(errno));
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	return 0;
}

static void *worker_main(void *a)
{
	struct worker *w = a;
	struct epoll_event ev[64];
	int ep = epoll_create1(0), i, open_loop = qps > 0;
	double interval = open_loop ? nthreads / qps : 0, next = t_start + (open_loop ? interval * w->id / nthreads : 0);
	long per_thread = nreq ? (nreq + nthreads - 1) / nthreads : 0, issued = 0;
	int rr = 0;

	w->c = calloc(nconns, sizeof(*w->c));
	for (i = 0; i < nconns; i++) {
		struct epoll_event e = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = i };

		if (conn_open(w, &w->c[i])) {
			w->failed = 1;
			return NULL;
		}
		epoll_ctl(ep, EPOLL_CTL_ADD, w->c[i].fd, &e);
	}
	if (!open_loop)
		for (i = 0; i < nconns; i++)
			for (int d = 0; d < depth; d++, issued++)
				issue(w, &w->c[i], now());
	while (!stop) {
		double t = now();
		int n, timeout_ms = 100;

		if (t >= t_end || (per_thread && issued >= per_thread && !w->c[0].qn)) {
			int busy = 0;

			for (i = 0; i < nconns; i++)
				busy |= w->c[i].qn > 0;
			if (!busy || t > t_end + 5)
				break;
		}
		if (open_loop && t < t_end) {
			/* every slot that is due becomes a request, timed from its slot */
			while (next <= t && (!per_thread || issued < per_thread)) {
				struct conn *c = &w->c[rr++ % nconns];

				if (c->qn < depth)
					issue(w, c, next);
				else {
					if (c->bn == c->bcap) {
						double *nb = malloc(sizeof(*nb) * (c->bcap * 2 + 16));

						for (int k = 0; k < c->bn; k++)
							nb[k] = c->backlog_t[(c->bh + k) % c->bcap];
						free(c->backlog_t);
						c->backlog_t = nb;
						c->bh = 0;
						c->bcap = c->bcap * 2 + 16;
					}
					c->backlog_t[(c->bh + c->bn++) % c->bcap] = next;
				}
				issued++;
				next += interval;
			}
			timeout_ms = (int)((next - t) * 1000);
			if (timeout_ms < 0)
				timeout_ms = 0;
		}
		for (i = 0; i < nconns; i++)
			if (w->c[i].outlen && flush_out(w, &w->c[i]))
				goto fail;
		n = epoll_wait(ep, ev, 64, timeout_ms > 100 ? 100 : timeout_ms);
		for (int e = 0; e < n; e++) {
			struct conn *c = &w->c[ev[e].data.u32];

			for (;;) {
				ssize_t r = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);

				if (r == 0) {
					snprintf(w->why, sizeof(w->why), "the server closed the connection");
					goto fail;
				}
				if (r < 0) {
					if (errno == EAGAIN)
						break;
					snprintf(w->why, sizeof(w->why), "recv: %s", strerror(errno));
					goto fail;
				}
				c->inlen += r;
				if (parse(w, c))
					goto fail;
			}
			/* refill: closed loop keeps DEPTH outstanding, open loop drains its backlog */
			while (c->qn < depth && now() < t_end) {
				if (open_loop) {
					if (!c->bn)
						break;
					issue(w, c, c->backlog_t[c->bh]);
					c->bh = (c->bh + 1) % c->bcap;
					c->bn--;
				} else {
					if (per_thread && issued >= per_thread)
						break;
					issue(w, c, now());
					issued++;
				}
			}
			if (c->outlen && flush_out(w, c))
				goto fail;
		}
	}
	for (i = 0; i < nconns; i++)
		close(w->c[i].fd);
	return NULL;
fail:
	w->failed = 1;
	return NULL;
}

/* ---- prefill ----------------------------------------------------------------------------- */

static int do_prefill(void)
{
	struct worker w = { .rng = seed };
	struct conn *c = calloc(1, sizeof(*c));
	long k = 0;
	char line[128];

	if (conn_open(&w, c)) {
		fprintf(stderr, "mcload: prefill: %s\n", w.why);
		return -1;
	}
	fcntl(c->fd, F_SETFL, 0);
	t_measure = 1e300;
	while (k < keys) {
		long batch = 0;

		for (; k < keys && batch < 100; k++, batch++) {
			int n = snprintf(line, sizeof(line), "set key:%ld 0 0 %ld\r\n", k, dmin);

			out_add(c, line, n);
			out_add(c, value_buf, dmin);
			out_add(c, "\r\n", 2);
			c->q = c->q ? c->q : calloc(1, sizeof(*c->q));
		}
		if (send(c->fd, c->out, c->outlen, MSG_NOSIGNAL) != (ssize_t)c->outlen)
			return -1;
		c->outlen = 0;
		while (batch) {
			ssize_t r = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);
			char *p;

			if (r <= 0)
				return -1;
			c->inlen += r;
			while ((p = memmem(c->in, c->inlen, "STORED\r\n", 8)) == c->in) {
				memmove(c->in, c->in + 8, c->inlen - 8);
				c->inlen -= 8;
				batch--;
			}
			if (c->inlen >= 8 && memcmp(c->in, "STORED\r\n", 8)) {
				fprintf(stderr, "mcload: prefill: server answered '%.40s'\n", c->in);
				return -1;
			}
		}
	}
	close(c->fd);
	return 0;
}

/* ---- selftest of the histogram ------------------------------------------------------- */

static int selftest(void)
{
	static struct hist h, h2;
	int n = 0, bad = 0, i;
	uint64_t v;
#define T(cond, ...) do { n++; if (cond) printf("ok %d - ", n); else { bad++; printf("not ok %d - ", n); } \
			     printf(__VA_ARGS__); printf("\n"); } while (0)

	for (i = 0; i < NBUCKETS - 1; i++)
		if (h_highest(i) + 1 != h_lowest(i + 1) || h_index(h_lowest(i)) != i || h_index(h_highest(i)) != i)
			break;
	T(i == NBUCKETS - 1, "buckets tile the value range without gaps or overlaps (%d buckets)", NBUCKETS);
	for (v = 1, i = 0; v < (1ull << 40); v = v * 3 + 7)
		if ((double)(h_highest(h_index(v)) - v) > (double)v / 64.0)
			i++;
	T(i == 0, "every value is represented within 1/64 of itself");
	for (v = 1; v <= 100000; v++)
		h_add(&h, v * 1000);
	T(llabs((long long)h_pct(&h, 50) - 50000000) <= 50000000 / 64, "uniform 1..100000 us: p50 %llu ns ~ 50 ms",
	  (unsigned long long)h_pct(&h, 50));
	T(llabs((long long)h_pct(&h, 99) - 99000000) <= 99000000 / 64, "... p99 %llu ns ~ 99 ms",
	  (unsigned long long)h_pct(&h, 99));
	T(llabs((long long)h_pct(&h, 99.9) - 99900000) <= 99900000 / 64, "... p99.9 %llu ns ~ 99.9 ms",
	  (unsigned long long)h_pct(&h, 99.9));
	T(h_pct(&h, 100) == 100000000 && h.max == 100000000, "... p100 = max = 100 ms exactly");
	T(fabs(h_mean(&h) - 50000500.0) < 1, "... mean %.1f ns exact", h_mean(&h));
	for (i = 0; i < 990; i++)
		h_add(&h2, 100);
	for (i = 0; i < 10; i++)
		h_add(&h2, 1000000);
	T(h_pct(&h2, 99) == 100 && h_pct(&h2, 99.1) >= 1000000 - 1000000 / 64,
	  "990 x 100 ns + 10 x 1 ms: p99 = 100 ns, p99.1 ~ 1 ms");
	h_merge(&h2, &h);
	T(h2.total == 101000 && h2.max == 100000000 && h2.min == 100, "merge adds counts and keeps min/max");
	printf("# %d passed, %d failed\n", n - bad, bad);
	return bad != 0;
}

/* ---- main ------------------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: mcload -s HOST:PORT [-t THREADS] [-c CONNS] [-P DEPTH] [-R SET:GET] [-k KEYS]\n"
		"              [-d SIZE|MIN-MAX] [--prefill] [--qps N] [-w WARMUP] (-D SECONDS | -n REQUESTS)\n"
		"              [--hdr PREFIX] [--json FILE] [--csv FILE] [--label NAME] [--seed N]\n"
		"       mcload --selftest\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static struct hist all, hget, hset;
	struct worker *ws;
	uint64_t gets = 0, sets = 0, hits = 0, misses = 0, errors = 0, done = 0;
	const char *server = NULL, *why = NULL;
	double elapsed, rate;
	int i, failed = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--selftest"))
			return selftest();
		if (!strcmp(a, "--prefill")) {
			prefill = 1;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "-s")) server = v;
		else if (!strcmp(a, "-t")) nthreads = atoi(v);
		else if (!strcmp(a, "-c")) nconns = atoi(v);
		else if (!strcmp(a, "-P")) depth = atoi(v);
		else if (!strcmp(a, "-R")) { if (sscanf(v, "%d:%d", &set_w, &get_w) != 2) usage(); }
		else if (!strcmp(a, "-k")) keys = atol(v);
		else if (!strcmp(a, "-d")) { if (sscanf(v, "%ld-%ld", &dmin, &dmax) < 2) dmax = dmin = atol(v); }
		else if (!strcmp(a, "--qps")) qps = atof(v);
		else if (!strcmp(a, "-w")) warmup = atof(v);
		else if (!strcmp(a, "-D")) duration = atof(v);
		else if (!strcmp(a, "-n")) nreq = atol(v);
		else if (!strcmp(a, "--hdr")) hdr = v;
		else if (!strcmp(a, "--json")) json = v;
		else if (!strcmp(a, "--csv")) csvf = v;
		else if (!strcmp(a, "--label")) label = v;
		else if (!strcmp(a, "--seed")) seed = strtoul(v, NULL, 0);
		else usage();
	}
	if (!server || nthreads < 1 || nconns < 1 || depth < 1 || keys < 1 || dmin < 1 || dmax < dmin ||
	    dmax > 1000000 || set_w < 0 || get_w < 0 || set_w + get_w == 0)
		usage();
	{
		char host[256], *colon;
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;

		snprintf(host, sizeof(host), "%s", server);
		colon = strrchr(host, ':');
		if (!colon)
			usage();
		*colon = 0;
		if (getaddrinfo(host, colon + 1, &hints, &ai)) {
			fprintf(stderr, "mcload: cannot resolve %s\n", server);
			return 1;
		}
		memcpy(&srv, ai->ai_addr, ai->ai_addrlen);
		srvlen = ai->ai_addrlen;
		freeaddrinfo(ai);
	}
	value_buf = malloc(dmax);
	for (i = 0; i < dmax; i++)
		value_buf[i] = 'a' + i % 26;
	if (prefill && do_prefill()) {
		fprintf(stderr, "mcload: prefill of %ld keys failed\n", keys);
		return 1;
	}
	t_start = now();
	t_measure = t_start + (nreq ? 0 : warmup);
	t_end = nreq ? 1e300 : t_measure + duration;
	ws = calloc(nthreads, sizeof(*ws));
	for (i = 0; i < nthreads; i++) {
		ws[i].id = i;
		ws[i].rng = seed * 0x9e3779b97f4a7c15ull + i + 1;
		pthread_create(&ws[i].th, NULL, worker_main, &ws[i]);
	}
	for (i = 0; i < nthreads; i++) {
		pthread_join(ws[i].th, NULL);
		h_merge(&all, &ws[i].lat);
		h_merge(&hget, &ws[i].lat_get);
		h_merge(&hset, &ws[i].lat_set);
		gets += ws[i].gets; sets += ws[i].sets; hits += ws[i].hits; misses += ws[i].misses;
		errors += ws[i].errors; done += ws[i].done;
		if (ws[i].failed) {
			failed = 1;
			why = ws[i].why;
		} else if (ws[i].errors && !why)
			why = ws[i].why;
	}
	elapsed = (nreq ? now() : t_end) - t_measure;
	rate = done / elapsed;
	printf("mcload %s: %s loop%s, %d threads x %d conns, depth %d, set:get %d:%d, %ld keys, values %ld-%ld B\n",
	       label, qps > 0 ? "open" : "closed", qps > 0 ? "" : "", nthreads, nconns, depth, set_w, get_w,
	       keys, dmin, dmax);
	if (qps > 0)
		printf("  offered %.0f req/s\n", qps);
	printf("  %.0f ops/s over %.1f s (%llu requests: %llu gets, %llu hits, %llu misses, %llu sets, %llu errors)\n",
	       rate, elapsed, (unsigned long long)done, (unsigned long long)gets, (unsigned long long)hits,
	       (unsigned long long)misses, (unsigned long long)sets, (unsigned long long)errors);
	printf("  latency us: mean %.1f p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f\n",
	       h_mean(&all) / 1e3, h_pct(&all, 50) / 1e3, h_pct(&all, 90) / 1e3, h_pct(&all, 99) / 1e3,
	       h_pct(&all, 99.9) / 1e3, all.max / 1e3);
	if (why)
		printf("  error: %s\n", why);
	if (hdr) {
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s.txt", hdr);
		f = fopen(path, "w");
		if (f) {
			h_write_hdr(&all, f);
			fclose(f);
		}
	}
	if (json) {
		FILE *f = fopen(json, "w");

		if (f) {
			fprintf(f, "{\"label\": \"%s\", \"mode\": \"%s\", \"offered_qps\": %.0f, \"ops_per_sec\": %.1f, "
				"\"seconds\": %.3f, \"requests\": %llu, \"gets\": %llu, \"hits\": %llu, \"misses\": %llu, "
				"\"sets\": %llu, \"errors\": %llu, \"failed\": %s, \"latency_us\": {\"mean\": %.2f, "
				"\"p50\": %.2f, \"p90\": %.2f, \"p99\": %.2f, \"p99.9\": %.2f, \"max\": %.2f}}\n",
				label, qps > 0 ? "open" : "closed", qps, rate, elapsed, (unsigned long long)done,
				(unsigned long long)gets, (unsigned long long)hits, (unsigned long long)misses,
				(unsigned long long)sets, (unsigned long long)errors, failed ? "true" : "false",
				h_mean(&all) / 1e3, h_pct(&all, 50) / 1e3, h_pct(&all, 90) / 1e3,
				h_pct(&all, 99) / 1e3, h_pct(&all, 99.9) / 1e3, all.max / 1e3);
			fclose(f);
		}
	}
	if (csvf) {
		FILE *f = fopen(csvf, "a");

		if (f) {
			if (ftell(f) == 0)
				fprintf(f, "label,mode,offered_qps,ops_per_sec,requests,hits,misses,errors,mean_us,p50_us,p90_us,p99_us,p999_us,max_us\n");
			fprintf(f, "%s,%s,%.0f,%.1f,%llu,%llu,%llu,%llu,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f\n", label,
				qps > 0 ? "open" : "closed", qps, rate, (unsigned long long)done,
				(unsigned long long)hits, (unsigned long long)misses, (unsigned long long)errors,
				h_mean(&all) / 1e3, h_pct(&all, 50) / 1e3, h_pct(&all, 90) / 1e3,
				h_pct(&all, 99) / 1e3, h_pct(&all, 99.9) / 1e3, all.max / 1e3);
			fclose(f);
		}
	}
	return failed || errors ? 1 : 0;
}
