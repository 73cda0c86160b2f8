// SPDX-License-Identifier: GPL-2.0
/*
 * mcload: a memcached load generator (text protocol) for the ukl benchmarks.
 *
 *   mcload -s HOST:PORT [-t THREADS] [-c CONNS/THREAD] [-P DEPTH] [-R SET:GET]
 *          [-k KEYS] [-d SIZE | -d MIN-MAX] [--prefill]
 *          [--qps N (open loop) | closed loop] [-w WARMUP_S] (-D SECONDS | -n REQUESTS)
 *          [--drain SECONDS] [--hdr PREFIX] [--json FILE] [--csv FILE] [--label NAME] [--seed N]
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
 *
 * Accounting: the measured window is [WARMUP, WARMUP + SECONDS) after the start (with -n:
 * the whole run).  A request belongs to it when its slot (open loop) or its send time
 * (closed loop) falls inside, and every such request is "scheduled" and ends up exactly
 * one of: completed (answered STORED, a hit or a miss; its latency counts from its slot
 * however late the answer comes), an error (an error reply, or its connection failed), or
 * timed out.  When the window closes the run stops scheduling and drains for --drain
 * seconds (default 5): outstanding requests, and open-loop requests still waiting for a
 * free slot on their connection, may complete until then; what has not is timed out, and
 * its wait so far enters the latency histogram as a lower bound of its latency.  A closed
 * loop with -n also gives up when no answer has come for --drain seconds.  ops_per_sec
 * counts the requests completed inside the window only; "requests" = completed + errors.
 *
 * --json FILE: one object with label, mode, offered_qps, ops_per_sec, seconds, requests,
 * gets, hits, misses, sets, errors, failed (a connection failed), latency_us {mean, p50,
 * p90, p99, p99.9, max}, scheduled, completed, completed_after_window, timed_out,
 * warmup_failures (warmup requests that got an error or no answer), drain_seconds and ok
 * (the exit status is 0).  --csv FILE appends one row under the header
 *   label,mode,offered_qps,ops_per_sec,requests,hits,misses,errors,mean_us,p50_us,p90_us,
 *   p99_us,p999_us,max_us,scheduled,completed,timed_out
 * (one line), and refuses a FILE that has another header.
 *
 * Exit status: 0 when requests completed and none got an error or timed out (warmup
 * requests included); 1 when any request got an error or timed out, a connection failed,
 * or nothing completed in the window; 2 for a bad command line.
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
#include <sys/time.h>
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
static double qps, warmup = 1, duration = 10, drain = 5;
static const char *hdr, *json, *csvf, *label = "run";
static unsigned long seed = 1;
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

/* a request is measured when its slot (open loop) or send time (closed loop) is in the window */
static int in_window(double t0)
{
	return t0 >= t_measure && t0 < t_end;
}

static uint64_t ns_between(double t0, double t)
{
	return t > t0 ? (uint64_t)((t - t0) * 1e9) : 0;
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
	double *backlog_t;		/* open loop: slots due but not yet sent (DEPTH outstanding) */
	int bh, bn, bcap;
	char *out;
	size_t outlen, outcap;
};

struct worker {
	pthread_t th;
	int id;
	struct conn *c;
	long quota;			/* -n: requests (slots) of this thread; -1: the window bounds them */
	long issued;			/* requests sent (closed loop) or slots scheduled (open loop) */
	double next;			/* open loop: the next slot */
	int rr;				/* open loop: the connection the next slot goes to */
	double closed_at;		/* when this thread's window closed; 0 while open */
	double last_progress;		/* the last answer or send (closed loop -n gives up after --drain) */
	struct hist lat, lat_get, lat_set;
	/* requests of the measured window: scheduled = completed + errors + timed_out */
	uint64_t scheduled, completed, late, errors, timed_out;
	uint64_t gets, sets, hits, misses;
	uint64_t warmup_failed;		/* warmup requests answered by an error or not at all */
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

/* grow a full ring buffer of N elements of SIZE bytes (head *HEAD, capacity *CAP), in order */
static void ring_grow(void **buf, size_t size, int *head, int n, int *cap)
{
	int ncap = *cap * 2 + 16, i;
	char *nb = malloc(size * ncap);

	if (!nb) {
		perror("mcload: malloc");
		exit(1);
	}
	for (i = 0; i < n; i++)
		memcpy(nb + (size_t)i * size, (char *)*buf + (size_t)((*head + i) % *cap) * size, size);
	free(*buf);
	*buf = nb;
	*head = 0;
	*cap = ncap;
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
	if (c->qn == c->qcap)
		ring_grow((void **)&c->q, sizeof(*c->q), &c->qh, c->qn, &c->qcap);
	c->q[(c->qh + c->qn) % c->qcap] = (struct req){ t0, op };
	c->qn++;
	w->last_progress = now();
}

static void backlog_push(struct conn *c, double t0)
{
	if (c->bn == c->bcap)
		ring_grow((void **)&c->backlog_t, sizeof(*c->backlog_t), &c->bh, c->bn, &c->bcap);
	c->backlog_t[(c->bh + c->bn++) % c->bcap] = t0;
}

static double backlog_pop(struct conn *c)
{
	double t0 = c->backlog_t[c->bh];

	c->bh = (c->bh + 1) % c->bcap;
	c->bn--;
	return t0;
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

/* an answer at t: a measured request counts however late it comes, a warmup one only if it failed */
static void record_answer(struct worker *w, const struct req *r, double t, int kind)
{
	uint64_t ns = ns_between(r->t0, t);

	if (!in_window(r->t0)) {
		w->warmup_failed += kind == R_ERROR;
		return;
	}
	if (kind == R_ERROR) {
		w->errors++;
	} else {
		w->completed++;
		w->late += t >= t_end;
		if (kind == R_STORED) {
			w->sets++;
		} else {
			w->gets++;
			if (kind == R_HIT)
				w->hits++;
			else
				w->misses++;
		}
	}
	h_add(&w->lat, ns);
	h_add(r->op == OP_GET ? &w->lat_get : &w->lat_set, ns);
}

/* a request given up at t: an error if its connection failed, else timed out (its wait a lower bound) */
static void record_unanswered(struct worker *w, double t0, double t, int conn_failed)
{
	if (!in_window(t0)) {
		w->warmup_failed++;
	} else if (conn_failed) {
		w->errors++;
	} else {
		w->timed_out++;
		h_add(&w->lat, ns_between(t0, t));
	}
}

/* account every request of w still outstanding or waiting for its connection, and drop them */
static void give_up(struct worker *w, double t, int conn_failed)
{
	int i;

	for (i = 0; i < nconns; i++) {
		struct conn *c = &w->c[i];

		for (; c->qn; c->qn--, c->qh = (c->qh + 1) % c->qcap)
			record_unanswered(w, c->q[c->qh].t0, t, conn_failed);
		while (c->bn)
			record_unanswered(w, backlog_pop(c), t, conn_failed);
	}
}

static int unanswered(const struct worker *w)
{
	int i;

	for (i = 0; i < nconns; i++)
		if (w->c[i].qn || w->c[i].bn)
			return 1;
	return 0;
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
		record_answer(w, r, t, kind);
		w->last_progress = t;
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
		if (c->fd >= 0)
			close(c->fd);
		c->fd = -1;
		return -1;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	return 0;
}

/* does w still schedule (open loop) or send (closed loop) requests at t? */
static int window_open(const struct worker *w, double t)
{
	if (w->quota >= 0)
		return w->issued < w->quota;
	return qps > 0 ? w->next < t_end : t < t_end;
}

/* open loop: the slot t0 goes to the next connection, or waits there while DEPTH are outstanding */
static void schedule_slot(struct worker *w, double t0)
{
	struct conn *c = &w->c[w->rr];

	w->rr = (w->rr + 1) % nconns;
	w->scheduled += in_window(t0);
	w->issued++;
	if (c->qn < depth)
		issue(w, c, t0);
	else
		backlog_push(c, t0);
}

/* up to DEPTH outstanding on c: open loop from its backlog (the drain too), closed loop while open */
static void refill(struct worker *w, struct conn *c)
{
	while (c->qn < depth) {
		double t;

		if (qps > 0) {
			if (!c->bn)
				break;
			issue(w, c, backlog_pop(c));
			continue;
		}
		t = now();
		if (!window_open(w, t))
			break;
		w->scheduled += in_window(t);
		w->issued++;
		issue(w, c, t);
	}
}

/* read what c's server sent and parse it; -1 when the connection failed (w->why says how) */
static int receive(struct worker *w, struct conn *c)
{
	for (;;) {
		ssize_t r = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, 0);

		if (r == 0) {
			snprintf(w->why, sizeof(w->why), "the server closed the connection");
			return -1;
		}
		if (r < 0) {
			if (errno == EAGAIN)
				return 0;
			snprintf(w->why, sizeof(w->why), "recv: %s", strerror(errno));
			return -1;
		}
		c->inlen += r;
		if (parse(w, c))
			return -1;
	}
}

/*
 * One thread's run: schedule or send while its window is open, then drain until nothing is
 * outstanding or --drain seconds have passed, and give up on the rest (timed out).
 */
static void *worker_main(void *a)
{
	struct worker *w = a;
	struct epoll_event ev[64];
	int ep = epoll_create1(0), i;
	double interval = qps > 0 ? nthreads / qps : 0;

	w->next = t_start + interval * w->id / nthreads;
	w->c = calloc(nconns, sizeof(*w->c));
	for (i = 0; i < nconns; i++)
		w->c[i].fd = -1;
	for (i = 0; i < nconns; i++) {
		struct epoll_event e = { .events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = i };

		if (conn_open(w, &w->c[i])) {
			w->failed = 1;
			goto out;
		}
		epoll_ctl(ep, EPOLL_CTL_ADD, w->c[i].fd, &e);
	}
	if (qps <= 0)
		for (i = 0; i < nconns; i++)
			refill(w, &w->c[i]);
	for (;;) {
		double t = now(), wake = t + 0.1;
		int n;

		/* every slot that is due becomes a request, timed from its slot */
		if (qps > 0) {
			while (w->next <= t && window_open(w, t)) {
				schedule_slot(w, w->next);
				w->next += interval;
			}
			if (window_open(w, t) && w->next < wake)
				wake = w->next;
		}
		if (!w->closed_at && !window_open(w, t))
			w->closed_at = w->quota >= 0 ? t : t_end;
		if (!unanswered(w)) {
			if (w->closed_at)
				break;
		} else {
			double deadline = w->closed_at ? w->closed_at + drain : 1e300;

			if (w->quota >= 0 && qps <= 0 && w->last_progress + drain < deadline)
				deadline = w->last_progress + drain;
			if (t >= deadline) {
				give_up(w, t, 0);
				break;
			}
			if (deadline < wake)
				wake = deadline;
		}
		for (i = 0; i < nconns; i++)
			if (w->c[i].outlen && flush_out(w, &w->c[i]))
				goto fail;
		n = epoll_wait(ep, ev, 64, (int)((wake - t) * 1000));
		for (int e = 0; e < n; e++) {
			struct conn *c = &w->c[ev[e].data.u32];

			if (receive(w, c))
				goto fail;
			refill(w, c);
			if (c->outlen && flush_out(w, c))
				goto fail;
		}
	}
	goto out;
fail:
	w->failed = 1;
	give_up(w, now(), 1);
out:
	for (i = 0; i < nconns; i++)
		if (w->c[i].fd >= 0)
			close(w->c[i].fd);
	close(ep);
	return NULL;
}

/* ---- prefill ----------------------------------------------------------------------------- */

static int do_prefill(void)
{
	struct worker w = { .rng = seed };
	struct conn *c = calloc(1, sizeof(*c));
	struct timeval tv = { .tv_sec = 10 };	/* a stalled server fails the prefill, not hangs it */
	long k = 0;
	char line[128];

	if (conn_open(&w, c)) {
		fprintf(stderr, "mcload: prefill: %s\n", w.why);
		return -1;
	}
	fcntl(c->fd, F_SETFL, 0);
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
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

			if (r <= 0) {
				fprintf(stderr, "mcload: prefill: %s\n", r ? "no answer for 10 s (did the server stall?)" :
					"the server closed the connection");
				return -1;
			}
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
		"              [--drain SECONDS] [--hdr PREFIX] [--json FILE] [--csv FILE] [--label NAME] [--seed N]\n"
		"       mcload --selftest\n");
	exit(2);
}

static void bad_arg(const char *opt, const char *v, const char *want)
{
	fprintf(stderr, "mcload: %s %s: %s\n", opt, v, want);
	exit(2);
}

/* the number v of option opt; > 0, or >= 0 when zero_ok, else a usage error saying so */
static double arg_seconds(const char *opt, const char *v, int zero_ok, const char *want)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (end == v || *end || errno || !isfinite(x) || x < 0 || (x == 0 && !zero_ok))
		bad_arg(opt, v, want);
	return x;
}

static long arg_count(const char *opt, const char *v, long max)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(v, &end, 10);
	if (end == v || *end || errno || x < 1 || x > max) {
		char want[64];

		if (max < 1000000000)
			snprintf(want, sizeof(want), "wants a whole number from 1 to %ld", max);
		else
			snprintf(want, sizeof(want), "wants a positive whole number");
		bad_arg(opt, v, want);
	}
	return x;
}

static void parse_args(int argc, char **argv, const char **server)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--selftest"))
			exit(selftest());
		if (!strcmp(a, "--prefill")) {
			prefill = 1;
			continue;
		}
		if (!v) {
			fprintf(stderr, "mcload: %s wants a value\n", a);
			usage();
		}
		i++;
		if (!strcmp(a, "-s"))
			*server = v;
		else if (!strcmp(a, "-t"))
			nthreads = arg_count(a, v, 1024);
		else if (!strcmp(a, "-c"))
			nconns = arg_count(a, v, 65536);
		else if (!strcmp(a, "-P"))
			depth = arg_count(a, v, 1 << 20);
		else if (!strcmp(a, "-R")) {
			if (sscanf(v, "%d:%d", &set_w, &get_w) != 2 || set_w < 0 || get_w < 0 || set_w + get_w == 0)
				bad_arg(a, v, "wants the SET:GET weights, e.g. 1:10 (not both 0)");
		} else if (!strcmp(a, "-k"))
			keys = arg_count(a, v, 1L << 40);
		else if (!strcmp(a, "-d")) {
			char *end;

			dmin = dmax = strtol(v, &end, 10);
			if (*end == '-')
				dmax = strtol(end + 1, &end, 10);
			if (end == v || *end || dmin < 1 || dmax < dmin || dmax > 1000000)
				bad_arg(a, v, "wants a value size or MIN-MAX, from 1 to 1000000 bytes");
		} else if (!strcmp(a, "--qps"))
			qps = arg_seconds(a, v, 0, "the offered rate must be a positive number of requests per second "
					  "(leave --qps out for a closed loop)");
		else if (!strcmp(a, "-w"))
			warmup = arg_seconds(a, v, 1, "the warmup must be a number of seconds, 0 or more");
		else if (!strcmp(a, "-D"))
			duration = arg_seconds(a, v, 0, "the measured window must be a positive number of seconds");
		else if (!strcmp(a, "-n"))
			nreq = arg_count(a, v, 1L << 50);
		else if (!strcmp(a, "--drain"))
			drain = arg_seconds(a, v, 0, "the drain must be a positive number of seconds");
		else if (!strcmp(a, "--hdr"))
			hdr = v;
		else if (!strcmp(a, "--json"))
			json = v;
		else if (!strcmp(a, "--csv"))
			csvf = v;
		else if (!strcmp(a, "--label"))
			label = v;
		else if (!strcmp(a, "--seed"))
			seed = strtoul(v, NULL, 0);
		else {
			fprintf(stderr, "mcload: unknown option %s\n", a);
			usage();
		}
	}
	if (!*server) {
		fprintf(stderr, "mcload: -s HOST:PORT is required\n");
		usage();
	}
}

static void resolve(const char *server)
{
	char host[256], *colon;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;

	snprintf(host, sizeof(host), "%s", server);
	colon = strrchr(host, ':');
	if (!colon)
		bad_arg("-s", server, "wants HOST:PORT");
	*colon = 0;
	if (getaddrinfo(host, colon + 1, &hints, &ai)) {
		fprintf(stderr, "mcload: cannot resolve %s\n", server);
		exit(1);
	}
	memcpy(&srv, ai->ai_addr, ai->ai_addrlen);
	srvlen = ai->ai_addrlen;
	freeaddrinfo(ai);
}

#define CSV_HEADER "label,mode,offered_qps,ops_per_sec,requests,hits,misses,errors,mean_us,p50_us,p90_us," \
		   "p99_us,p999_us,max_us,scheduled,completed,timed_out"

int main(int argc, char **argv)
{
	static struct hist all, hget, hset;
	static struct worker tot;
	struct worker *ws;
	const char *server = NULL, *why = NULL;
	double elapsed, rate;
	int i, failed = 0, status;

	parse_args(argc, argv, &server);
	resolve(server);
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
		ws[i].quota = nreq ? nreq / nthreads + (i < nreq % nthreads) : -1;
		ws[i].rng = seed * 0x9e3779b97f4a7c15ull + i + 1;
		pthread_create(&ws[i].th, NULL, worker_main, &ws[i]);
	}
	for (i = 0; i < nthreads; i++) {
		struct worker *w = &ws[i];

		pthread_join(w->th, NULL);
		h_merge(&all, &w->lat);
		h_merge(&hget, &w->lat_get);
		h_merge(&hset, &w->lat_set);
		tot.scheduled += w->scheduled;
		tot.completed += w->completed;
		tot.late += w->late;
		tot.errors += w->errors;
		tot.timed_out += w->timed_out;
		tot.warmup_failed += w->warmup_failed;
		tot.gets += w->gets;
		tot.sets += w->sets;
		tot.hits += w->hits;
		tot.misses += w->misses;
		if (w->failed) {
			failed = 1;
			why = w->why;
		} else if (w->errors && !why) {
			why = w->why;
		}
	}
	status = failed || tot.errors || tot.timed_out || tot.warmup_failed || !tot.completed;
	elapsed = (nreq ? now() : t_end) - t_measure;
	rate = (tot.completed - tot.late) / elapsed;
	printf("mcload %s: %s loop, %d threads x %d conns, depth %d, set:get %d:%d, %ld keys, values %ld-%ld B\n",
	       label, qps > 0 ? "open" : "closed", nthreads, nconns, depth, set_w, get_w, keys, dmin, dmax);
	if (qps > 0)
		printf("  offered %.0f req/s\n", qps);
	printf("  %.0f ops/s over %.1f s (%llu requests: %llu gets, %llu hits, %llu misses, %llu sets, %llu errors)\n",
	       rate, elapsed, (unsigned long long)(tot.completed + tot.errors), (unsigned long long)tot.gets,
	       (unsigned long long)tot.hits, (unsigned long long)tot.misses, (unsigned long long)tot.sets,
	       (unsigned long long)tot.errors);
	printf("  scheduled %llu: %llu completed (%llu after the window closed), %llu timed out, %llu errors\n",
	       (unsigned long long)tot.scheduled, (unsigned long long)tot.completed, (unsigned long long)tot.late,
	       (unsigned long long)tot.timed_out, (unsigned long long)tot.errors);
	printf("  latency us: mean %.1f p50 %.1f p90 %.1f p99 %.1f p99.9 %.1f max %.1f\n",
	       h_mean(&all) / 1e3, h_pct(&all, 50) / 1e3, h_pct(&all, 90) / 1e3, h_pct(&all, 99) / 1e3,
	       h_pct(&all, 99.9) / 1e3, all.max / 1e3);
	if (tot.timed_out)
		printf("  timed out: %llu of the %llu requests scheduled got no answer %s %.1f s (did the server "
		       "stall?); the latencies count their waits as lower bounds\n",
		       (unsigned long long)tot.timed_out, (unsigned long long)tot.scheduled,
		       nreq && qps <= 0 ? "after none came for" : "by the window's end +", drain);
	if (tot.warmup_failed)
		printf("  warmup: %llu requests sent during the warmup got an error or no answer\n",
		       (unsigned long long)tot.warmup_failed);
	if (!tot.completed)
		printf("  error: no request completed in the measured window\n");
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
				"\"p50\": %.2f, \"p90\": %.2f, \"p99\": %.2f, \"p99.9\": %.2f, \"max\": %.2f}, "
				"\"scheduled\": %llu, \"completed\": %llu, \"completed_after_window\": %llu, "
				"\"timed_out\": %llu, \"warmup_failures\": %llu, \"drain_seconds\": %.3f, \"ok\": %s}\n",
				label, qps > 0 ? "open" : "closed", qps, rate, elapsed,
				(unsigned long long)(tot.completed + tot.errors), (unsigned long long)tot.gets,
				(unsigned long long)tot.hits, (unsigned long long)tot.misses,
				(unsigned long long)tot.sets, (unsigned long long)tot.errors, failed ? "true" : "false",
				h_mean(&all) / 1e3, h_pct(&all, 50) / 1e3, h_pct(&all, 90) / 1e3,
				h_pct(&all, 99) / 1e3, h_pct(&all, 99.9) / 1e3, all.max / 1e3,
				(unsigned long long)tot.scheduled, (unsigned long long)tot.completed,
				(unsigned long long)tot.late, (unsigned long long)tot.timed_out,
				(unsigned long long)tot.warmup_failed, drain, status ? "false" : "true");
			fclose(f);
		}
	}
	if (csvf) {
		FILE *f = fopen(csvf, "a+");
		char head[512] = "";

		if (f && fgets(head, sizeof(head), f) && strcmp(head, CSV_HEADER "\n")) {
			fprintf(stderr, "mcload: %s has another header (an older mcload's?), not appending to it: "
				"remove it or name another --csv\n", csvf);
			fclose(f);
			return 1;
		}
		if (f) {
			fseek(f, 0, SEEK_END);
			if (!head[0])
				fprintf(f, CSV_HEADER "\n");
			fprintf(f, "%s,%s,%.0f,%.1f,%llu,%llu,%llu,%llu,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%llu,%llu,%llu\n",
				label, qps > 0 ? "open" : "closed", qps, rate,
				(unsigned long long)(tot.completed + tot.errors), (unsigned long long)tot.hits,
				(unsigned long long)tot.misses, (unsigned long long)tot.errors,
				h_mean(&all) / 1e3, h_pct(&all, 50) / 1e3, h_pct(&all, 90) / 1e3,
				h_pct(&all, 99) / 1e3, h_pct(&all, 99.9) / 1e3, all.max / 1e3,
				(unsigned long long)tot.scheduled, (unsigned long long)tot.completed,
				(unsigned long long)tot.timed_out);
			fclose(f);
		}
	}
	return status;
}
