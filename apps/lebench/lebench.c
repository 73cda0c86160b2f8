// SPDX-License-Identifier: GPL-2.0
/*
 * lebench: LEBench-style kernel microbenchmarks, built as a stock binary and as a UKL app
 * from this one source.
 *
 *   lebench [--only T1,T2,...] [--scale F] [--out DIR] [--list]
 *
 * Each test warms up, then times every iteration twice: with the TSC (rdtsc, fenced;
 * converted to ns with a frequency calibrated against CLOCK_MONOTONIC at start) and with
 * clock_gettime(CLOCK_MONOTONIC).  It writes DIR/<test>.csv (index,size,tsc_ns,clock_ns; one
 * row per timed iteration) and appends its medians to DIR/summary.csv
 * (test,size,iters,median_ns,min_ns,max_ns,clock_median_ns); a test the kernel refuses (fork
 * of a UKL image) is named with the reason in DIR/skipped.txt.  --scale multiplies every
 * iteration count (0.1 for a quick run).  The exit status is the number of tests that failed.
 *
 * --meter adds, after each timed series point, the same number of calls again, each
 * bracketed by meter_window_begin() and meter_window_end(), then one meter_flush(): the
 * instruction meter (eval/meter/meter.c, make eval-micro METER=1) sums the instructions of
 * each bracket by region and writes a row at each flush.  DIR/meter.csv names the rows in
 * order (seq,test,size,iters).  Before the tests it meters its own calibration, meter_loop:
 * a loop of 0 and of 2000 instructions, which must read exactly 2000 apart.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define MAXSZ 8192

static const char *outdir = "/out";
static FILE *meter;		/* --meter: DIR/meter.csv */
static long meter_seq;
static double scale = 1.0;
static double tsc_per_ns;
static FILE *summary;
static int failures;

static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("lfence; rdtsc; lfence" : "=a"(lo), "=d"(hi) :: "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void calibrate(void)
{
	uint64_t t0 = tsc(), n0 = mono_ns(), n1;

	do
		n1 = mono_ns();
	while (n1 - n0 < 50000000ull);
	tsc_per_ns = (double)(tsc() - t0) / (double)(n1 - n0);
}

static void die(const char *what)
{
	fprintf(stderr, "lebench: %s: %s\n", what, strerror(errno));
	exit(100);
}

/*
 * The instruction meter's marks: the meter counts a window from the first instruction of
 * meter_window_begin to the first of meter_window_end, on the vCPU that runs them, and writes
 * a row at meter_flush.  noipa keeps each its own address (no inlining, no identical-code
 * folding of the three empty bodies).
 */
__attribute__((noipa)) void meter_window_begin(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noipa)) void meter_window_end(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noipa)) void meter_flush(void) { __asm__ volatile("" ::: "memory"); }

static void meter_row(const char *test, long size, long n)
{
	meter_flush();
	fprintf(meter, "%ld,%s,%ld,%ld\n", meter_seq++, test, size, n);
	fflush(meter);
}

/* meter_loop: a window holding a loop of exactly 2 * k instructions (dec; jnz) and a fixed
 * prologue of 3 (mov; test; jz) */
static void meter_loop(long k)
{
	long i;

	for (i = 0; i < 5; i++) {
		meter_window_begin();
		__asm__ volatile("mov %0, %%rcx\n\t"
				 "test %%rcx, %%rcx\n\t"
				 "jz 2f\n"
				 "1:\tdec %%rcx\n\t"
				 "jnz 1b\n"
				 "2:" :: "r"(k) : "rcx", "cc");
		meter_window_end();
	}
	meter_row("meter_loop", 2 * k, 5);
}

/* ---- recording ------------------------------------------------------------------------ */

struct series {
	const char *test;
	FILE *csv;
	uint64_t *tsc_ns, *clk_ns;
	long n, cap;
};

static void series_open(struct series *s, const char *test)
{
	char path[512];

	s->test = test;
	snprintf(path, sizeof(path), "%s/%s.csv", outdir, test);
	s->csv = fopen(path, "w");
	if (!s->csv)
		die(path);
	fprintf(s->csv, "index,size,tsc_ns,clock_ns\n");
	s->cap = 0;
	s->tsc_ns = s->clk_ns = NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, long n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* one (size, iterations) point: rows to the CSV, medians to the summary */
static void series_point(struct series *s, long size, long n)
{
	long i;
	uint64_t med, mn, mx, cmed;

	for (i = 0; i < n; i++)
		fprintf(s->csv, "%ld,%ld,%llu,%llu\n", i, size,
			(unsigned long long)s->tsc_ns[i], (unsigned long long)s->clk_ns[i]);
	med = median(s->tsc_ns, n);
	mn = s->tsc_ns[0];
	mx = s->tsc_ns[n - 1];
	cmed = median(s->clk_ns, n);
	fprintf(summary, "%s,%ld,%ld,%llu,%llu,%llu,%llu\n", s->test, size, n,
		(unsigned long long)med, (unsigned long long)mn, (unsigned long long)mx,
		(unsigned long long)cmed);
	printf("lebench: %-14s size %6ld  n %5ld  median %8llu ns  (min %llu, max %llu)\n",
	       s->test, size, n, (unsigned long long)med, (unsigned long long)mn,
	       (unsigned long long)mx);
}

static void series_close(struct series *s)
{
	fclose(s->csv);
	free(s->tsc_ns);
	free(s->clk_ns);
	fflush(summary);
}

static long iters(long base)
{
	long n = (long)(base * scale);

	return n < 5 ? 5 : n;
}

/*
 * Time fn(arg, size) n times after n/10 (at least 2) warm-up calls.  fn returns 0 on
 * success; the iteration's two clocks bracket exactly one call.  pre and post, when set,
 * run around each call outside the bracket (priming or draining a socket).
 */
typedef int (*bench_fn)(void *arg, long size);
static bench_fn pre, post;

static int run_point(struct series *s, bench_fn fn, void *arg, long size, long n)
{
	long i, warm = n / 10 < 2 ? 2 : n / 10;

	if (n > s->cap) {
		s->tsc_ns = realloc(s->tsc_ns, n * sizeof(uint64_t));
		s->clk_ns = realloc(s->clk_ns, n * sizeof(uint64_t));
		s->cap = n;
	}
	for (i = 0; i < warm; i++)
		if ((pre && pre(arg, size)) || fn(arg, size) || (post && post(arg, size)))
			return -1;
	for (i = 0; i < n; i++) {
		uint64_t c0, t0, t1, c1;
		int rc;

		if (pre && pre(arg, size))
			return -1;
		c0 = mono_ns();
		t0 = tsc();
		rc = fn(arg, size);
		t1 = tsc();
		c1 = mono_ns();
		if (rc || (post && post(arg, size)))
			return -1;
		s->tsc_ns[i] = (uint64_t)((double)(t1 - t0) / tsc_per_ns);
		s->clk_ns[i] = c1 - c0;
	}
	series_point(s, size, n);
	if (!meter)
		return 0;
	for (i = 0; i < n; i++) {
		int rc;

		if (pre && pre(arg, size))
			return -1;
		meter_window_begin();
		rc = fn(arg, size);
		meter_window_end();
		if (rc || (post && post(arg, size)))
			return -1;
	}
	meter_row(s->test, size, n);
	return 0;
}

static void fail(const char *test, const char *why)
{
	fprintf(stderr, "lebench: %s failed: %s (%s)\n", test, why, strerror(errno));
	failures++;
}

/* ---- the tests ------------------------------------------------------------------------ */

static __attribute__((noinline)) int do_null(void *a, long sz)
{
	__asm__ volatile("" ::: "memory");
	(void)a; (void)sz;
	return 0;
}

static int do_getppid(void *a, long sz) { (void)a; (void)sz; return getppid() < 0; }

static int do_clock(void *a, long sz)
{
	struct timespec ts;

	(void)a; (void)sz;
	return clock_gettime(CLOCK_REALTIME, &ts);
}

static char buf[MAXSZ * 2];
struct fdpair { int a, b; };

static int do_read(void *a, long sz) { return pread(*(int *)a, buf, sz, 0) != sz; }
static int do_write(void *a, long sz) { return pwrite(*(int *)a, buf, sz, 0) != sz; }

static int do_send(void *a, long sz)
{
	struct fdpair *p = a;

	return sendto(p->a, buf, sz, 0, NULL, 0) != sz;
}

static int do_recv(void *a, long sz)
{
	struct fdpair *p = a;

	return recvfrom(p->b, buf + MAXSZ, sz, MSG_WAITALL, NULL, NULL) != sz;
}

static int drain(void *a, long sz) { return do_recv(a, sz); }
static int prime(void *a, long sz) { return do_send(a, sz); }

static void sized(const char *test, bench_fn fn, void *arg, long base)
{
	struct series s;
	long sz;

	series_open(&s, test);
	if (run_point(&s, fn, arg, 1, iters(base)))
		fail(test, "size 1");
	for (sz = 256; sz <= MAXSZ; sz += 256)
		if (run_point(&s, fn, arg, sz, iters(base))) {
			fail(test, "sized call");
			break;
		}
	series_close(&s);
}

static void single(const char *test, bench_fn fn, void *arg, long base)
{
	struct series s;

	series_open(&s, test);
	if (run_point(&s, fn, arg, 0, iters(base)))
		fail(test, "call");
	series_close(&s);
}

static void t_file(const char *rw)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/.lebench-file", outdir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || pwrite(fd, buf, MAXSZ, 0) != MAXSZ) {
		fail(rw, "tmpfs file");
		return;
	}
	unlink(path);
	sized(rw, rw[0] == 'r' ? do_read : do_write, &fd, 200);
	close(fd);
}

static int tcp_pair(struct fdpair *p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (l < 0 || bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1) ||
	    getsockname(l, (struct sockaddr *)&sa, &len))
		return -1;
	p->a = socket(AF_INET, SOCK_STREAM, 0);
	if (p->a < 0 || connect(p->a, (struct sockaddr *)&sa, sizeof(sa)))
		return -1;
	p->b = accept(l, NULL, NULL);
	close(l);
	setsockopt(p->a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return p->b < 0 ? -1 : 0;
}

static void t_net(const char *kind)
{
	struct fdpair p;
	char name[64];
	int fds[2];

	if (!strcmp(kind, "unix")) {
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds)) {
			fail("unix", "socketpair");
			return;
		}
		p.a = fds[0];
		p.b = fds[1];
	} else if (tcp_pair(&p)) {
		fail("tcp", "loopback connection");
		return;
	}
	snprintf(name, sizeof(name), "sendto_%s", kind);
	post = drain;
	sized(name, do_send, &p, 100);
	post = NULL;
	snprintf(name, sizeof(name), "recvfrom_%s", kind);
	pre = prime;
	sized(name, do_recv, &p, 100);
	pre = NULL;
	close(p.a);
	close(p.b);
}

static int do_anon_fault(void *a, long pages)
{
	char *m = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long i;

	(void)a;
	if (m == MAP_FAILED)
		return 1;
	for (i = 0; i < pages; i++)
		m[i * PAGE] = 1;
	return munmap(m, pages * PAGE);
}

static const long fault_counts[] = { 1, 2, 5, 10, 20, 50, 100 };

static void t_anon_fault(void)
{
	struct series s;
	unsigned i;

	series_open(&s, "pagefault_anon");
	for (i = 0; i < sizeof(fault_counts) / sizeof(*fault_counts); i++)
		if (run_point(&s, do_anon_fault, NULL, fault_counts[i], iters(50))) {
			fail("pagefault_anon", "mmap");
			break;
		}
	series_close(&s);
}

/*
 * Stack faults: each timed call runs on a fresh, never-touched thread stack and recurses
 * down `pages` pages, so every page is first touched through the stack pointer (a push or
 * a frame store), the way a growing stack faults.
 */
static __attribute__((noinline)) int descend(long pages)
{
	volatile char frame[PAGE - 128];

	frame[0] = (char)pages;
	if (pages > 1)
		return descend(pages - 1) + frame[0] - (char)pages;
	return 0;
}

struct stack_job { long pages; uint64_t t_tsc, t_clk; int rc; };

static void *stack_thread(void *a)
{
	struct stack_job *j = a;
	uint64_t c0 = mono_ns(), t0 = tsc();

	j->rc = descend(j->pages);
	j->t_tsc = tsc() - t0;
	j->t_clk = mono_ns() - c0;
	return NULL;
}

static void t_stack_fault(void)
{
	struct series s;
	unsigned k;
	size_t ssz = 128 * PAGE + 2 * PAGE;

	series_open(&s, "pagefault_stack");
	s.cap = iters(50);
	s.tsc_ns = malloc(s.cap * sizeof(uint64_t));
	s.clk_ns = malloc(s.cap * sizeof(uint64_t));
	for (k = 0; k < sizeof(fault_counts) / sizeof(*fault_counts); k++) {
		long i, n = s.cap;

		for (i = -2; i < n; i++) {
			struct stack_job j = { .pages = fault_counts[k] };
			pthread_attr_t at;
			pthread_t th;
			void *st = mmap(NULL, ssz, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);

			if (st == MAP_FAILED || pthread_attr_init(&at) ||
			    pthread_attr_setstack(&at, st, ssz) ||
			    pthread_create(&th, &at, stack_thread, &j) || pthread_join(th, NULL) || j.rc) {
				fail("pagefault_stack", "thread on a fresh stack");
				series_close(&s);
				return;
			}
			munmap(st, ssz);
			if (i >= 0) {
				s.tsc_ns[i] = (uint64_t)((double)j.t_tsc / tsc_per_ns);
				s.clk_ns[i] = j.t_clk;
			}
		}
		series_point(&s, fault_counts[k], n);
	}
	series_close(&s);
}

static int do_fork(void *a, long sz)
{
	int st;
	pid_t p = fork();

	(void)a; (void)sz;
	if (p == 0)
		_exit(0);
	return p < 0 || waitpid(p, &st, 0) != p || st != 0;
}

static void *nop_thread(void *a) { return a; }

static int do_thread(void *a, long sz)
{
	pthread_t th;

	(void)a; (void)sz;
	return pthread_create(&th, NULL, nop_thread, NULL) || pthread_join(th, NULL);
}

static int do_mmap(void *a, long sz)
{
	void *m = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	(void)a; (void)sz;
	return m == MAP_FAILED || munmap(m, PAGE);
}

struct fdset { int n, fds[1000], ep; };

static int do_select(void *a, long n)
{
	struct fdset *f = a;
	struct timeval tv = { 0, 0 };
	fd_set rd;
	int i;

	FD_ZERO(&rd);
	for (i = 0; i < n; i++)
		FD_SET(f->fds[i], &rd);
	return select(f->fds[n - 1] + 1, &rd, NULL, NULL, &tv) < 0;
}

static int do_poll(void *a, long n)
{
	static struct pollfd p[1000];
	struct fdset *f = a;
	int i;

	for (i = 0; i < n; i++) {
		p[i].fd = f->fds[i];
		p[i].events = POLLIN;
	}
	return poll(p, n, 0) < 0;
}

static int do_epoll(void *a, long n)
{
	static struct epoll_event ev[1000];
	struct fdset *f = a;

	(void)n;
	return epoll_wait(f->ep, ev, 1000, 0) < 0;
}

static void t_multiplex(const char *test)
{
	static struct fdset f;
	struct series s;
	int p[2], i;
	long n;

	if (pipe(p)) {
		fail(test, "pipe");
		return;
	}
	f.fds[0] = p[0];
	for (i = 1; i < 1000; i++)
		f.fds[i] = dup(p[0]);
	series_open(&s, test);
	for (n = 10; n <= 1000; n = n == 10 ? 1000 : n + 1) {
		if (f.fds[n - 1] < 0) {
			fail(test, "dup");
			break;
		}
		if (test[0] == 'e') {
			f.ep = epoll_create1(0);
			for (i = 0; i < n; i++) {
				struct epoll_event ev = { .events = EPOLLIN, .data.fd = f.fds[i] };

				epoll_ctl(f.ep, EPOLL_CTL_ADD, f.fds[i], &ev);
			}
		}
		if (run_point(&s, test[0] == 's' ? do_select : test[0] == 'p' ? do_poll : do_epoll,
			      &f, n, iters(test[0] == 'e' ? 200 : n == 10 ? 200 : 40)))
			fail(test, "call");
		if (test[0] == 'e')
			close(f.ep);
	}
	series_close(&s);
	for (i = 1; i < 1000; i++)
		close(f.fds[i]);
	close(p[0]);
	close(p[1]);
}

/* one round trip: parent writes a byte to the child, the child answers on a second pipe */
static int ctx_fd[4];

static int do_ctxsw(void *a, long sz)
{
	char c = 'x';

	(void)a; (void)sz;
	return write(ctx_fd[1], &c, 1) != 1 || read(ctx_fd[2], &c, 1) != 1;
}

/* the echoing process: it shares the address space (a UKL image cannot be forked) */
static int ctx_echo(void *unused)
{
	char c;

	(void)unused;
	close(ctx_fd[1]);
	close(ctx_fd[2]);
	while (read(ctx_fd[0], &c, 1) == 1 && write(ctx_fd[3], &c, 1) == 1)
		;
	_exit(0);
}

static void t_ctxsw(void)
{
	size_t len = 256 << 10;
	char *stack = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	pid_t child;
	int st;

	if (pipe(ctx_fd) || pipe(ctx_fd + 2)) {
		fail("ctxsw_pipe", "pipe");
		return;
	}
	child = stack == MAP_FAILED ? -1 : clone(ctx_echo, stack + len, CLONE_VM | SIGCHLD, NULL);
	if (child < 0) {
		fail("ctxsw_pipe", "clone");
		return;
	}
	single("ctxsw_pipe", do_ctxsw, NULL, 300);
	close(ctx_fd[1]);
	waitpid(child, &st, 0);
	munmap(stack, len);
	close(ctx_fd[0]);
	close(ctx_fd[2]);
	close(ctx_fd[3]);
}

/* ---- driver --------------------------------------------------------------------------- */

static void t_null(void) { single("null_call", do_null, NULL, 2000); }
static void t_getppid(void) { single("getppid", do_getppid, NULL, 2000); }
static void t_clock(void) { single("clock_gettime", do_clock, NULL, 2000); }
static void t_read(void) { t_file("read"); }
static void t_write(void) { t_file("write"); }
static void t_unix(void) { t_net("unix"); }
static void t_tcp(void) { t_net("tcp"); }
/* fork of a UKL image is refused (one copy of the app's data): not measured there */
static void t_fork(void)
{
	pid_t p = fork();
	int st;

	if (p < 0 && errno == EBUSY) {
		char path[512];
		FILE *f;

		printf("# fork: refused with EBUSY (a UKL image cannot be forked): not measured\n");
		snprintf(path, sizeof(path), "%s/skipped.txt", outdir);
		f = fopen(path, "a");
		if (f) {
			fprintf(f, "fork: refused with EBUSY (a UKL image cannot be forked)\n");
			fclose(f);
		}
		return;
	}
	if (p == 0)
		_exit(0);
	if (p > 0)
		waitpid(p, &st, 0);
	single("fork", do_fork, NULL, 50);
}
static void t_thread(void) { single("thread_create", do_thread, NULL, 100); }
static void t_mmap(void) { single("mmap_munmap", do_mmap, NULL, 500); }
static void t_select(void) { t_multiplex("select"); }
static void t_poll(void) { t_multiplex("poll"); }
static void t_epoll(void) { t_multiplex("epoll"); }

static const struct { const char *name, *what; void (*fn)(void); } tests[] = {
	{ "null_call", "an empty function call: the timing bracket's own cost", t_null },
	{ "getppid", "getppid()", t_getppid },
	{ "clock_gettime", "clock_gettime(CLOCK_REALTIME)", t_clock },
	{ "read", "pread on a tmpfs file, 1 B and 256..8192 B", t_read },
	{ "write", "pwrite on a tmpfs file, 1 B and 256..8192 B", t_write },
	{ "unix", "sendto/recvfrom over an AF_UNIX stream socketpair, same sizes", t_unix },
	{ "tcp", "sendto/recvfrom over TCP loopback, same sizes", t_tcp },
	{ "pagefault_anon", "first touch of 1..100 anonymous pages (mmap+touch+munmap)", t_anon_fault },
	{ "pagefault_stack", "first touch of 1..100 stack pages through the stack pointer", t_stack_fault },
	{ "fork", "fork + child exit + waitpid", t_fork },
	{ "thread_create", "pthread_create + join", t_thread },
	{ "mmap_munmap", "mmap + munmap of one anonymous page", t_mmap },
	{ "select", "select over 10 and 1000 pipe descriptors, no wait", t_select },
	{ "poll", "poll over 10 and 1000 pipe descriptors, no wait", t_poll },
	{ "epoll", "epoll_wait on a set of 10 and 1000 descriptors, no wait", t_epoll },
	{ "ctxsw_pipe", "pipe round trip between two processes sharing the address space (2 context switches)", t_ctxsw },
};
#define NTESTS (sizeof(tests) / sizeof(*tests))

static int selected(const char *only, const char *name)
{
	size_t n = strlen(name);
	const char *p = only;

	if (!only)
		return 1;
	while ((p = strstr(p, name))) {
		if ((p == only || p[-1] == ',') && (p[n] == ',' || p[n] == 0))
			return 1;
		p += n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	char path[512];
	unsigned i, ran = 0;
	int a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--only") && a + 1 < argc)
			only = argv[++a];
		else if (!strcmp(argv[a], "--scale") && a + 1 < argc)
			scale = atof(argv[++a]);
		else if (!strcmp(argv[a], "--out") && a + 1 < argc)
			outdir = argv[++a];
		else if (!strcmp(argv[a], "--meter"))
			meter = stdout;	/* opened below, once DIR exists */
		else if (!strcmp(argv[a], "--list")) {
			for (i = 0; i < NTESTS; i++)
				printf("%-16s %s\n", tests[i].name, tests[i].what);
			return 0;
		} else {
			fprintf(stderr, "usage: lebench [--only T1,T2] [--scale F] [--out DIR] [--meter] [--list]\n");
			return 100;
		}
	}
	if (only)
		for (const char *p = only; *p;) {
			size_t n = strcspn(p, ",");
			int known = 0;

			for (i = 0; i < NTESTS; i++)
				known |= strlen(tests[i].name) == n && !strncmp(tests[i].name, p, n);
			if (!known) {
				fprintf(stderr, "lebench: unknown test '%.*s' (--list shows them)\n", (int)n, p);
				return 100;
			}
			p += n + (p[n] == ',');
		}
	mkdir(outdir, 0755);
	snprintf(path, sizeof(path), "%s/summary.csv", outdir);
	summary = fopen(path, "w");
	if (!summary)
		die(path);
	fprintf(summary, "test,size,iters,median_ns,min_ns,max_ns,clock_median_ns\n");
	if (meter) {
		snprintf(path, sizeof(path), "%s/meter.csv", outdir);
		meter = fopen(path, "w");
		if (!meter)
			die(path);
		fprintf(meter, "seq,test,size,iters\n");
		meter_loop(0);
		meter_loop(1000);
	}
	memset(buf, 'b', sizeof(buf));
	calibrate();
	printf("lebench: TSC %.3f GHz (calibrated against CLOCK_MONOTONIC), scale %.2f\n",
	       tsc_per_ns, scale);
	for (i = 0; i < NTESTS; i++)
		if (selected(only, tests[i].name)) {
			tests[i].fn();
			ran++;
		}
	fclose(summary);
	if (meter)
		fclose(meter);
	printf("lebench: %u tests, %d failed\n", ran, failures);
	return failures;
}
