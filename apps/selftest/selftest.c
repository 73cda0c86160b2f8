// SPDX-License-Identifier: GPL-2.0
/*
 * selftest: the process model a UKL app relies on, checked from inside the app.
 *
 * Prints TAP ("ok N - what" / "not ok N - what") and "# selftest: N passed, N failed";
 * exits with the number of failed checks (capped at 100).  Options:
 *   --expect-cpl N   fail the CPL check unless the app runs at privilege level N
 *   --expect-release P  fail the uname check unless the kernel release starts with P
 *   --only A,B,...   run only these groups of checks (fresh runs only when named here) (cpl ids files uaccess memory tls threads
 *                    signals restart stack events sockets vdso fork fresh progress ret tcp smp
 *                    int3 trapflag sigframe tracer direct)
 *   --expect-cpus N  fail the smp group unless N CPUs are online (the harness gives QEMU's
 *                    vCPU count); with 2 or more it migrates, faults, takes signals and has
 *                    its mappings torn down on one CPU while it runs on the other
 *   --expect-ret 0|1, --expect-pf-df 0|1, --expect-shortcut 0|1   what the profile declares
 *                    (PROFILE_EXPECT of the profile file): the ret, stack and tcp groups check
 *                    the kernel's counters against these, never against the command line, so
 *                    a boot word that is dropped or misspelt fails.  With --expect-cpl 0 (a UKL
 *                    kernel) a missing counter is a failure; without an expectation the
 *                    counter is only reported.
 *   --exit N         print nothing, exit with N (exit-status propagation)
 *   --list           print the names of the groups a run without --only runs, one per line
 *   --reexec-fresh   dirty the data the fresh group checks, then exec itself with --only fresh
 *   --crash stack-user|stack-kernel  push onto an unmapped stack (fault reporting)
 *   --crash null|abort|ill|bus|sysrq  die as a buggy server does (crash reports): a NULL
 *                    write, abort(), ud2, a read past a file's end, a panic on the app's behalf
 *   --pf-storm SECS  page faults without pause for SECS seconds, every page checked, while the
 *                    harness injects NMIs (tests/boot/nmi.sh); exit 0 if no page was wrong
 *   --call-storm SECS  getppid() without pause for SECS seconds, every result checked, while
 *                    the harness injects NMIs (tests/boot/nmi.sh); exit 0 if none was wrong
 * The same source is built as a stock static binary and as a UKL app.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <elf.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/futex.h>
#include <sys/auxv.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/wait.h>
#include <ucontext.h>

static int passed, failed, expect_cpl = -1;
static const char *only, *expect_release = "";

static void check(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", passed + failed + 1);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (cond)
		passed++;
	else
		failed++;
}

/* --only takes a comma-separated list of group names */
static int selected(const char *group)
{
	size_t n = strlen(group);
	const char *p = only;

	if (!only)
		return 1;
	while ((p = strstr(p, group))) {
		if ((p == only || p[-1] == ',') && (p[n] == ',' || p[n] == 0))
			return 1;
		p += n;
	}
	return 0;
}

/* ---- privilege level */
static int cpl(void)
{
	unsigned short cs;

	asm volatile("mov %%cs, %0" : "=r"(cs));
	return cs & 3;
}

/*
 * ---- child processes.  A UKL image holds one copy of the app's data, linked into the
 * kernel: fork() of a UKL process is refused (EBUSY), and so is a second start of the image
 * while one runs (the fork group checks both).  A check that only needs a second process
 * makes one that shares the address space instead, as posix_spawn does: clone with CLONE_VM
 * and a stack of its own, on every profile alike.  fn ends the child with _exit or its
 * return value.  One child's stack at a time: the caller waits for it before the next.
 */
static int child_exit(void *code) { _exit((int)(long)code); }

static pid_t spawn_child(int (*fn)(void *), void *arg)
{
	static char *stack;
	size_t len = 256 << 10;

	if (stack)
		munmap(stack, len);
	stack = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED) {
		stack = NULL;
		return -1;
	}
	return clone(fn, stack + len, CLONE_VM | SIGCHLD, arg);
}

static void t_cpl(void)
{
	int level = cpl();

	if (expect_cpl >= 0)
		check(level == expect_cpl, "running at CPL %d (expected %d)", level, expect_cpl);
	else
		check(1, "running at CPL %d", level);
}

/* ---- identity */
static void t_ids(void)
{
	struct utsname u;

	check(getpid() > 0, "getpid() = %d", (int)getpid());
	check(getppid() >= 0, "getppid() = %d", (int)getppid());
	check(syscall(SYS_getpid) == getpid(), "syscall(SYS_getpid) agrees with getpid()");
	check(uname(&u) == 0 && !strcmp(u.sysname, "Linux") &&
	      !strncmp(u.release, expect_release, strlen(expect_release)),
	      "uname: %s %s %s", u.sysname, u.release, u.machine);
}

/* ---- files on tmpfs */
static char static_buf[8192];	/* under UKL this lives in the kernel half */

static void t_files(void)
{
	const char *path = "/tmp/selftest.dat";
	char buf[64];
	struct stat st;
	int fd, i;

	fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	check(fd >= 0, "open(O_CREAT) on /tmp");
	check(write(fd, "hello, file\n", 12) == 12, "write 12 bytes");
	check(lseek(fd, 0, SEEK_SET) == 0, "lseek to 0");
	memset(buf, 0, sizeof(buf));
	check(read(fd, buf, sizeof(buf)) == 12 && !memcmp(buf, "hello, file\n", 12), "read them back");
	check(fstat(fd, &st) == 0 && st.st_size == 12, "fstat size 12");
	for (i = 0; i < (int)sizeof(static_buf); i++)
		static_buf[i] = (char)i;
	check(pwrite(fd, static_buf, sizeof(static_buf), 0) == (ssize_t)sizeof(static_buf),
	      "write() from a static buffer");
	memset(static_buf, 0, sizeof(static_buf));
	check(pread(fd, static_buf, sizeof(static_buf), 0) == (ssize_t)sizeof(static_buf) &&
	      static_buf[1000] == (char)1000 && static_buf[8191] == (char)8191,
	      "read() into a static buffer (%p)", (void *)static_buf);
	close(fd);
	check(unlink(path) == 0, "unlink");
	errno = 0;
	check(open("/nonexistent/x", O_RDONLY) == -1 && errno == ENOENT, "open of a missing path: ENOENT");
	errno = 0;
	check(read(12345, buf, 1) == -1 && errno == EBADF, "read on a bad fd: EBADF");
}

/* ---- uaccess: kernel addresses outside the app image */
/* the start of the direct map: kernel memory that is never part of the app image */
#define KADDR_OUTSIDE_APP ((void *)0xffff888000000000UL)

static socklen_t st_len;
static struct sockaddr_in st_addr;
static int st_status;

static void t_uaccess(void)
{
	pid_t pid;
	void *kaddr = KADDR_OUTSIDE_APP;
	int fd = open("/proc/self/stat", O_RDONLY);
	ssize_t n;

	errno = 0;
	n = read(fd, kaddr, 16);
	check(n == -1 && errno == EFAULT, "read() into a kernel address outside the app: EFAULT (got %zd, %s)",
	      n, strerror(errno));
	errno = 0;
	n = write(1, (void *)0xffffffff81000000UL, 16);
	check(n == -1 && errno == EFAULT, "write() from kernel text: EFAULT (got %zd)", n);
	close(fd);

	/* scalars in static data: the kernel reads and writes them with get_user/put_user */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	st_len = sizeof(st_addr);
	errno = 0;
	n = getsockname(fd, (struct sockaddr *)&st_addr, &st_len);
	check(n == 0 && st_len == sizeof(st_addr) && st_addr.sin_family == AF_INET,
	      "getsockname() with its length in static data (get_user): %s", strerror(errno));
	errno = 0;
	n = getsockname(fd, (struct sockaddr *)&st_addr, (socklen_t *)kaddr);
	check(n == -1 && errno == EFAULT, "... with its length at a kernel address outside the app: EFAULT (got %zd)", n);
	close(fd);
	pid = spawn_child(child_exit, (void *)3L);
	st_status = -1;
	n = waitpid(pid, &st_status, 0);
	check(n == pid && WIFEXITED(st_status) && WEXITSTATUS(st_status) == 3,
	      "waitpid() into a static status (put_user): %#x", st_status);
}

/* ---- memory */
static sigjmp_buf segv_jmp;
static volatile sig_atomic_t segv_seen;

static void on_segv(int sig)
{
	(void)sig;
	segv_seen = 1;
	siglongjmp(segv_jmp, 1);
}

/* a RET instruction, kept as read-only data */
static const unsigned char rodata_ret[16] = { 0xc3 };

static void t_memory(void)
{
	size_t len = 1 << 20, big = 64 << 20, i;
	struct sigaction sa = { .sa_handler = on_segv };
	char *p, *m;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	check(p != MAP_FAILED, "mmap 1 MiB anonymous");
	for (i = 0; i < len; i += 4096)
		p[i] = 1;
	check(p[4096 * 100] == 1, "touch every page of it");
	check(mprotect(p, len, PROT_READ) == 0, "mprotect read-only");
	sigaction(SIGSEGV, &sa, NULL);
	segv_seen = 0;
	if (!sigsetjmp(segv_jmp, 1))
		*(volatile char *)p = 2;
	check(segv_seen && p[0] == 1, "a write to it raises SIGSEGV");
	/* the app's read-only data is neither writable nor executable, at CPL 0 too */
	segv_seen = 0;
	if (!sigsetjmp(segv_jmp, 1))
		*(unsigned char *volatile)&rodata_ret[0] = 0x90;
	check(segv_seen && rodata_ret[0] == 0xc3, "a write to the app's read-only data raises SIGSEGV");
	segv_seen = 0;
	if (!sigsetjmp(segv_jmp, 1))
		((void (*volatile)(void))(uintptr_t)rodata_ret)();
	check(segv_seen, "a call into the app's read-only data raises SIGSEGV: it is not executable");
	signal(SIGSEGV, SIG_DFL);
	check(munmap(p, len) == 0, "munmap");
	m = malloc(big);
	check(m != NULL, "malloc 64 MiB");
	if (m) {
		for (i = 0; i < big; i += 4096)
			m[i] = (char)i;
		check(m[big - 4096] == (char)(big - 4096), "touch every page of it");
		free(m);
	}
}

/* ---- thread-local storage */
static __thread int tls_init = 42;
static __thread char tls_zero[256];

static void *tls_thread(void *arg)
{
	int ok = tls_init == 42 && tls_zero[100] == 0;

	(void)arg;
	tls_init = 7;
	tls_zero[100] = 1;
	return (void *)(long)ok;
}

static void t_tls(void)
{
	pthread_t t;
	void *ok;

	check(tls_init == 42 && tls_zero[0] == 0, "__thread data initialised in main (.tdata 42, .tbss 0)");
	tls_init = 43;
	pthread_create(&t, NULL, tls_thread, NULL);
	pthread_join(t, &ok);
	check(ok == (void *)1, "a new thread sees the initial TLS image");
	check(tls_init == 43 && tls_zero[100] == 0, "the thread's writes stay in its own TLS");
}

/* ---- threads */
static pthread_key_t key;
static int destructor_runs;
static int cleanup_runs;
static sem_t detached_done;

static void destructor(void *v)
{
	if (v == (void *)0x5a)
		__atomic_add_fetch(&destructor_runs, 1, __ATOMIC_SEQ_CST);
}

/* every path ends in pthread_exit: that is the point */
#pragma GCC diagnostic ignored "-Winfinite-recursion"
static void __attribute__((noinline)) exit_from_deep(int depth)
{
	if (depth == 0)
		pthread_exit((void *)0x1234);
	exit_from_deep(depth - 1);
	asm volatile("" ::: "memory");
}

static void cleanup(void *arg)
{
	(void)arg;
	__atomic_add_fetch(&cleanup_runs, 1, __ATOMIC_SEQ_CST);
}

static void *exiting_thread(void *arg)
{
	(void)arg;
	pthread_setspecific(key, (void *)0x5a);
	pthread_cleanup_push(cleanup, NULL);
	exit_from_deep(10);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *detached_thread(void *arg)
{
	(void)arg;
	pthread_setspecific(key, (void *)0x5a);
	sem_post(&detached_done);
	return NULL;
}

static void *cancelled_thread(void *arg)
{
	int *fds = arg;
	char c;

	pthread_cleanup_push(cleanup, NULL);
	for (;;)
		read(fds[0], &c, 1);	/* a cancellation point that blocks */
	pthread_cleanup_pop(0);
	return NULL;
}

static pthread_mutex_t mtx = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static long counter;
static int ready_items;

static void *contender(void *arg)
{
	long i;

	(void)arg;
	for (i = 0; i < 200000; i++) {
		pthread_mutex_lock(&mtx);
		counter++;
		pthread_mutex_unlock(&mtx);
	}
	return NULL;
}

static void *producer(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 1000; i++) {
		pthread_mutex_lock(&mtx);
		ready_items++;
		pthread_cond_signal(&cond);
		pthread_mutex_unlock(&mtx);
	}
	return NULL;
}

static void t_threads(void)
{
	pthread_t t, ts[4];
	void *ret;
	int fds[2], i, consumed = 0;

	pthread_key_create(&key, destructor);
	sem_init(&detached_done, 0, 0);

	check(pthread_create(&t, NULL, exiting_thread, NULL) == 0, "pthread_create");
	check(pthread_join(t, &ret) == 0 && ret == (void *)0x1234, "pthread_exit from 10 frames deep returns its value to join");
	check(cleanup_runs == 1, "pthread_exit ran the cleanup handler (unwinding)");
	check(destructor_runs == 1, "pthread_exit ran the TSD destructor");

	pthread_create(&t, NULL, detached_thread, NULL);
	check(pthread_detach(t) == 0, "pthread_detach");
	sem_wait(&detached_done);
	for (i = 0; i < 100 && __atomic_load_n(&destructor_runs, __ATOMIC_SEQ_CST) < 2; i++)
		usleep(10000);
	check(destructor_runs == 2, "a detached thread's TSD destructor runs when it returns");

	pipe(fds);
	cleanup_runs = 0;
	pthread_create(&t, NULL, cancelled_thread, fds);
	usleep(50000);
	check(pthread_cancel(t) == 0, "pthread_cancel a thread blocked in read()");
	check(pthread_join(t, &ret) == 0 && ret == PTHREAD_CANCELED, "join returns PTHREAD_CANCELED");
	check(cleanup_runs == 1, "cancellation ran the cleanup handler");
	close(fds[0]);
	close(fds[1]);

	for (i = 0; i < 4; i++)
		pthread_create(&ts[i], NULL, contender, NULL);
	for (i = 0; i < 4; i++)
		pthread_join(ts[i], NULL);
	check(counter == 800000, "4 threads x 200000 increments under a contended mutex = %ld", counter);

	pthread_create(&t, NULL, producer, NULL);
	pthread_mutex_lock(&mtx);
	while (consumed < 1000) {
		while (ready_items == 0)
			pthread_cond_wait(&cond, &mtx);
		consumed += ready_items;
		ready_items = 0;
	}
	pthread_mutex_unlock(&mtx);
	pthread_join(t, NULL);
	check(consumed == 1000, "condvar producer/consumer passes 1000 items");
}

/* ---- signals */
static volatile sig_atomic_t alarms;
static volatile uintptr_t handler_sp;

static void on_alarm(int sig)
{
	int local;

	(void)sig;
	handler_sp = (uintptr_t)&local;
	alarms++;
}

/* spin with known values in every callee-saved register until a signal was handled */
static int regs_survive_signals(void)
{
	unsigned long bad;

	asm volatile(
		"push %%rbx; push %%rbp; push %%r12; push %%r13; push %%r14; push %%r15\n\t"
		"movabs $0x1111111111111111, %%rbx\n\t"
		"movabs $0x2222222222222222, %%rbp\n\t"
		"movabs $0x3333333333333333, %%r12\n\t"
		"movabs $0x4444444444444444, %%r13\n\t"
		"movabs $0x5555555555555555, %%r14\n\t"
		"movabs $0x6666666666666666, %%r15\n\t"
		"1: cmpl $3, %[alarms]\n\t"
		"jl 1b\n\t"
		"xor %%rax, %%rax\n\t"
		"movabs $0x1111111111111111, %%rcx; cmp %%rcx, %%rbx; setne %%al; or %%rax, %%rdx\n\t"
		"movabs $0x2222222222222222, %%rcx; cmp %%rcx, %%rbp; setne %%al; or %%rax, %%rdx\n\t"
		"movabs $0x3333333333333333, %%rcx; cmp %%rcx, %%r12; setne %%al; or %%rax, %%rdx\n\t"
		"movabs $0x4444444444444444, %%rcx; cmp %%rcx, %%r13; setne %%al; or %%rax, %%rdx\n\t"
		"movabs $0x5555555555555555, %%rcx; cmp %%rcx, %%r14; setne %%al; or %%rax, %%rdx\n\t"
		"movabs $0x6666666666666666, %%rcx; cmp %%rcx, %%r15; setne %%al; or %%rax, %%rdx\n\t"
		"pop %%r15; pop %%r14; pop %%r13; pop %%r12; pop %%rbp; pop %%rbx\n\t"
		: "=d"(bad)
		: "0"(0UL), [alarms] "m"(alarms)
		: "rax", "rcx", "memory", "cc");
	return bad == 0;
}

static void t_signals(void)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { { 0, 2000 }, { 0, 2000 } };
	static char altstack[64 * 1024];	/* a static alternate stack: kernel half under UKL */
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct timespec t0, t1;

	sigaction(SIGALRM, &sa, NULL);
	alarms = 0;
	alarm(1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!alarms) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		if (t1.tv_sec - t0.tv_sec > 5)
			break;
	}
	check(alarms == 1, "alarm(1) delivers SIGALRM to its handler");

	alarms = 0;
	setitimer(ITIMER_REAL, &it, NULL);
	check(regs_survive_signals(), "callee-saved registers survive signals taken in a busy loop");
	it.it_value.tv_usec = it.it_interval.tv_usec = 0;
	setitimer(ITIMER_REAL, &it, NULL);

	check(sigaltstack(&ss, NULL) == 0, "sigaltstack on a static buffer");
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGALRM, &sa, NULL);
	alarms = 0;
	raise(SIGALRM);
	check(alarms == 1 && handler_sp >= (uintptr_t)altstack && handler_sp < (uintptr_t)altstack + sizeof(altstack),
	      "an SA_ONSTACK handler runs on the alternate stack");
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	signal(SIGALRM, SIG_DFL);
}

/*
 * ---- progress: what a syscall fast path (profile ukl-byp) must not take away.  Bound
 * stated by the bypass: exit work (signals, rescheduling) is never delayed past the end
 * of the system call during which it became pending.
 */
static volatile sig_atomic_t usr1_seen;
static void on_usr1(int sig) { (void)sig; usr1_seen++; }

static volatile int spin_stop;
static volatile unsigned long spin_count, call_count;

static void pin_cpu0(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(0, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *spinner(void *a)
{
	(void)a;
	pin_cpu0();
	while (!spin_stop)
		spin_count++;
	return NULL;
}

static void *caller(void *a)
{
	(void)a;
	pin_cpu0();
	while (!spin_stop) {
		syscall(SYS_getppid);
		call_count++;
	}
	return NULL;
}

static void t_progress(void)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct itimerval it = { { 0, 0 }, { 0, 20000 } };
	struct timespec t0, t1;
	pthread_t a, b;
	unsigned long n = 0, ms;
	int i, all = 1;

	sigaction(SIGUSR1, &sa, NULL);
	for (i = 0; i < 1000; i++) {
		usr1_seen = 0;
		syscall(SYS_kill, getpid(), SIGUSR1);
		all &= usr1_seen == 1;
	}
	check(all, "a signal a system call raises is handled before that call returns (1000 of 1000)");

	sigaction(SIGALRM, &(struct sigaction){ .sa_handler = on_alarm }, NULL);
	alarms = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	setitimer(ITIMER_REAL, &it, NULL);
	do {
		syscall(SYS_getppid);
		n++;
		clock_gettime(CLOCK_MONOTONIC, &t1);
	} while (!alarms && t1.tv_sec - t0.tv_sec < 5);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	check(alarms == 1 && ms < 20 + 500, "a 20 ms timer interrupts a tight getppid loop (after %lu ms, %lu calls)", ms, n);
	signal(SIGALRM, SIG_DFL);

	spin_stop = 0;
	spin_count = call_count = 0;
	pthread_create(&a, NULL, spinner, NULL);
	pthread_create(&b, NULL, caller, NULL);
	usleep(500000);
	spin_stop = 1;
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	check(spin_count > 1000 && call_count > 100,
	      "on one CPU a CPU-bound thread (%lu loops) and a syscall-bound thread (%lu calls) both progress",
	      spin_count, call_count);
	signal(SIGUSR1, SIG_DFL);
}

/*
 * ---- ret: returns from interrupts and exceptions to the app.  With ukl_ret=1 (profiles
 * ukl-ret, ukl-ret-byp) the kernel jumps back instead of executing iretq and counts it in
 * /sys/kernel/debug/ukl/ret_count; every profile must give back all registers and flags.
 */
#define REG_CHECK(r, c) "movabs $" c ", %%rax\n\tcmp %%rax, %%" r "\n\tjne 2f\n\t"
#define ALL_REGS(X)                                                                              \
	X("rbx", "0x1111111111111111") X("rcx", "0x2222222222222222") X("rdx", "0x3333333333333333") \
	X("rsi", "0x4444444444444444") X("rdi", "0x5555555555555555") X("r8", "0x6666666666666666")  \
	X("r9", "0x7777777777777777") X("r10", "0x8888888888888888") X("r11", "0x9999999999999999")  \
	X("r12", "0xaaaaaaaaaaaaaaaa") X("r13", "0xbbbbbbbbbbbbbbbb") X("r14", "0xcccccccccccccccc")  \
	X("r15", "0xdddddddddddddddd")
#define REG_LOAD(r, c) "movabs $" c ", %%" r "\n\t"

/* spin with every general register and CF holding known values; count the iterations
 * after which one of them, or SS, differed (an interrupt return that lost it: IRET reloads
 * SS, and a return by jump must too, or the app runs on with the NULL SS of an IST delivery) */
static unsigned long regs_survive(unsigned long iters)
{
	unsigned long bad = 0;
	unsigned int ss;

	asm volatile("mov %%ss, %0" : "=r"(ss));
	ss &= 0xffff;
	asm volatile(ALL_REGS(REG_LOAD)
		     "1:\n\t"
		     "stc\n\t"
		     "nop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\tnop\n\t"
		     "jnc 2f\n\t"
		     ALL_REGS(REG_CHECK)
		     "mov %%ss, %%eax\n\t"
		     "movzwl %%ax, %%eax\n\t"
		     "cmp %[ss], %%eax\n\t"
		     "jne 2f\n\t"
		     "jmp 3f\n"
		     "2:\n\t"
		     "incq %[bad]\n\t"
		     ALL_REGS(REG_LOAD)
		     "3:\n\t"
		     "decq %[n]\n\t"
		     "jnz 1b\n\t"
		     : [n] "+m"(iters), [bad] "+m"(bad)
		     : [ss] "m"(ss)
		     : "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
		       "r15", "cc", "memory");
	return bad;
}

static long read_number(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* the NMIs this CPU set has taken (/proc/interrupts), or -1 */
static long nmi_count(void)
{
	FILE *f = fopen("/proc/interrupts", "r");
	char line[512];
	long n = -1, v;
	char *p, *e;

	while (f && fgets(line, sizeof(line), f)) {
		p = line + strspn(line, " ");
		if (strncmp(p, "NMI:", 4))
			continue;
		for (n = 0, p += 4; (v = strtol(p, &e, 10)), e != p; p = e)
			n += v;
	}
	if (f)
		fclose(f);
	return n;
}

/*
 * --pf-storm SECS: map, touch, check and unmap 4 MiB over and over for SECS seconds, while
 * the harness injects NMIs through QEMU's monitor (tests/boot/nmi.sh).  Each page fault (and
 * each interrupt) arrives on the #PF IST stack; an NMI in the instructions before the entry
 * code leaves it makes the kernel shift that stack (ist_shift_count, linux-patches 0004).
 */
static int pf_storm(int secs)
{
	const char *count = "/sys/kernel/debug/ukl/ist_shift_count";
	long shifts = read_number(count), nmis = nmi_count();
	size_t len = 4 << 20, i;
	unsigned long rounds = 0, bad = 0;
	time_t end = time(NULL) + secs;
	unsigned char *p, v;

	printf("pf-storm: start\n");
	fflush(stdout);
	while (time(NULL) < end) {
		p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 2;
		for (i = 0; i < len; i += 4096)
			p[i] = (unsigned char)((i >> 12) ^ rounds);
		for (i = 0; i < len; i += 4096) {
			v = (unsigned char)((i >> 12) ^ rounds);
			bad += p[i] != v;
		}
		munmap(p, len);
		rounds++;
	}
	printf("pf-storm: %lu rounds of %zu page faults, %lu pages wrong; NMIs taken: %ld; #PF IST shifts: %ld\n",
	       rounds, len / 4096, bad, nmi_count() - nmis, read_number(count) - shifts);
	return bad != 0;
}

/*
 * --call-storm SECS: getppid() over and over for SECS seconds, while the harness injects NMIs
 * (tests/boot/nmi.sh).  Each call returns by jump where the profile allows (the bypass, the
 * direct entries, ukl_ret=1), ending with STI and the jump; an NMI there ends STI's shadow,
 * and an interrupt may then arrive on the jump, which the kernel must make the app's
 * (tail_event_count, linux-patches 0012 and 0017).
 */
static int call_storm(int secs)
{
	const char *count = "/sys/kernel/debug/ukl/tail_event_count";
	long tails = read_number(count), nmis = nmi_count();
	pid_t ppid = getppid();
	unsigned long calls = 0, bad = 0, i;
	time_t end = time(NULL) + secs;

	printf("call-storm: start\n");
	fflush(stdout);
	while (time(NULL) < end) {
		for (i = 0; i < 4096; i++)
			bad += getppid() != ppid;
		calls += i;
	}
	printf("call-storm: %lu calls, %lu wrong; NMIs taken: %ld; tail events: %ld\n",
	       calls, bad, nmi_count() - nmis, tails < 0 ? -1 : read_number(count) - tails);
	return bad != 0;
}

/* what the profile declares: -1 not given, 0 off, 1 on */
static int expect_ret = -1, expect_pf_df = -1, expect_shortcut = -1;

/*
 * Check a UKL counter's presence: on a UKL kernel (--expect-cpl 0) it must exist, on stock
 * Linux (--expect-cpl 3) it must not.  Returns 1 when the caller may compare its values.
 */
static int counter_present(const char *path, long value)
{
	const char *name = strrchr(path, '/') + 1;

	if (expect_cpl == 0 && value < 0) {
		check(0, "the UKL kernel has %s (missing: %s)", name, path);
		return 0;
	}
	if (expect_cpl == 3) {
		check(value < 0, "stock Linux has no %s", name);
		return 0;
	}
	if (value < 0) {
		printf("# %s: not present, and no --expect-cpl to say whether it must be\n", name);
		return 0;
	}
	return 1;
}

static void t_ret(void)
{
	const char *count = "/sys/kernel/debug/ukl/ret_count";
	int want = expect_ret;
	long before = read_number(count), after;
	size_t pages = 256, i;
	unsigned long bad;
	char *p;

	p = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (i = 0; i < pages; i++)
		p[i * 4096] = 1;
	munmap(p, pages * 4096);
	bad = regs_survive(3000000);
	after = read_number(count);
	check(bad == 0, "every register, CF and SS survive the interrupts of a 3M-iteration spin (%lu lost)",
	      bad);
	if (!counter_present(count, before))
		return;
	if (want < 0)
		printf("# ret: no --expect-ret given; %ld returns by jump\n", after - before);
	else if (want)
		check(after - before >= (long)pages,
		      "ret expected: the kernel returned to the app by jump (%ld times for %zu page faults and the timer)",
		      after - before, pages);
	else
		check(after == before, "ret off: every return to the app is an iretq (%ld jumps)", after - before);
}

/* ---- stack growth */
static long __attribute__((noinline)) recurse(int depth)
{
	volatile char page[4096];

	page[0] = (char)depth;
	page[4095] = (char)depth;
	if (depth == 0)
		return page[0];
	return recurse(depth - 1) + page[4095] - (char)depth + 1;
}

/* the IST index of the #PF gate in the IDT (CPL 0 only: sidt) */
static int pf_gate_ist(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) idtr;

	asm volatile("sidt %0" : "=m"(idtr));
	return ((const uint8_t *)idtr.base)[14 * 16 + 4] & 7;
}

/*
 * Stack growth.  A UKL kernel takes the app's stack faults on the #PF IST stack, or with
 * ukl_pf_df=1 as double faults that the #DF entry hands to the page fault handler, counted
 * in /sys/kernel/debug/ukl/df_stack_count.
 */
static void t_stack(void)
{
	const char *count = "/sys/kernel/debug/ukl/df_stack_count";
	int df = expect_pf_df;
	long before = read_number(count), after;

	check(recurse(1200) == 1200, "recursion touching 1200 fresh stack pages (~4.7 MiB)");
	after = read_number(count);
	if (!counter_present(count, before))
		return;
	if (df < 0) {
		printf("# stack: no --expect-pf-df given; %ld stack faults as double faults\n", after - before);
		return;
	}
	if (cpl() == 0) {
		int ist = pf_gate_ist();

		check(df ? ist == 0 : ist != 0, "the #PF gate %s IST stack (IST %d)", df ? "has no" : "has an", ist);
	}
	if (df)
		check(after - before >= 1000,
		      "pf-df expected: the stack faults arrived as double faults and were handled (%ld for 1200 pages)",
		      after - before);
	else
		check(after == before, "the stack faults were page faults, none a double fault (%ld)", after - before);
}

/*
 * --crash stack-user|stack-kernel: point the stack at an unmapped page and push.  A stack in
 * the user half is the app's stack fault (SIGSEGV, as on Linux); one in the kernel half
 * (0xffff800000000000, the never-mapped guard hole) makes a UKL kernel with ukl_pf_df=1 take
 * a genuine double fault, which it must report as one.  Reaching the ud2 is a failure too.
 */
static void crash_stack(const char *where)
{
	uintptr_t sp = !strcmp(where, "stack-kernel") ? 0xffff800000001000UL : 0x10000UL;

	printf("# crash: stack pointer %#lx, then push\n", (unsigned long)sp);
	fflush(stdout);
	asm volatile("movq %0, %%rsp\n\tpushq $0\n\tud2" : : "r"(sp) : "memory");
}

/*
 * --crash null|abort|ill|bus|sysrq: each death goes through crash_via(), so its report has a
 * known chain of frames: crash_null <- crash_via <- main (the checks in tests/boot/crash.sh).
 * sysrq makes the kernel panic in the app's context ('c' to /proc/sysrq-trigger).
 */
/* read through a volatile: a constant NULL store is undefined, and gcc drops the call */
static int *volatile crash_null_ptr;

static __attribute__((noinline)) void crash_null(void)
{
	*crash_null_ptr = 1;
}

static __attribute__((noinline)) void crash_ill(void)
{
	asm volatile("ud2");
}

static __attribute__((noinline)) void crash_bus(void)
{
	int fd = memfd_create("crash-bus", 0);
	volatile char *p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, fd, 0);

	(void)p[0];	/* the file is empty: no page backs the mapping */
}

static __attribute__((noinline)) void crash_sysrq(void)
{
	int fd = open("/proc/sysrq-trigger", O_WRONLY);

	if (fd >= 0)
		write(fd, "c", 1);
	asm volatile("" ::: "memory");	/* no tail call: crash_sysrq stays in the chain */
}

static __attribute__((noinline)) void crash_via(const char *mode)
{
	printf("# crash: %s\n", mode);
	fflush(stdout);
	if (!strcmp(mode, "null"))
		crash_null();
	else if (!strcmp(mode, "abort"))
		abort();
	else if (!strcmp(mode, "ill"))
		crash_ill();
	else if (!strcmp(mode, "bus"))
		crash_bus();
	else if (!strcmp(mode, "sysrq"))
		crash_sysrq();
	else
		crash_stack(mode);
	/* not a tail call: crash_via stays in the chain */
	printf("not ok - --crash %s returned\n", mode);
	exit(1);
}

/* ---- epoll, eventfd, timerfd */
static void t_events(void)
{
	int ep = epoll_create1(0), efd = eventfd(0, EFD_NONBLOCK), tfd;
	struct itimerspec its = { .it_value = { 0, 10 * 1000 * 1000 } };
	struct epoll_event ev = { .events = EPOLLIN }, out[4];
	uint64_t v = 0;
	int n, seen = 0, i;

	ev.data.fd = efd;
	epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev);
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	ev.data.fd = tfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, tfd, &ev);
	check(epoll_wait(ep, out, 4, 0) == 0, "epoll: nothing ready yet");
	v = 5;
	write(efd, &v, sizeof(v));
	n = epoll_wait(ep, out, 4, 1000);
	check(n == 1 && out[0].data.fd == efd, "epoll reports the eventfd after a write");
	check(read(efd, &v, sizeof(v)) == 8 && v == 5, "eventfd reads back 5");
	timerfd_settime(tfd, 0, &its, NULL);
	for (i = 0; i < 3 && !seen; i++) {
		n = epoll_wait(ep, out, 4, 2000);
		seen = n == 1 && out[0].data.fd == tfd;
	}
	check(seen, "epoll reports the timerfd after 10 ms");
	check(read(tfd, &v, sizeof(v)) == 8 && v >= 1, "timerfd expirations >= 1");
	close(tfd);
	close(efd);
	close(ep);
}

/* ---- sockets */
#define TCP_BYTES (1 << 20)

static void *tcp_sender(void *arg)
{
	int fd = *(int *)arg, i;
	static char chunk[4096];
	size_t sent = 0;

	for (i = 0; i < 4096; i++)
		chunk[i] = (char)(i * 7);
	while (sent < TCP_BYTES) {
		ssize_t n = send(fd, chunk, sizeof(chunk), 0);

		if (n <= 0)
			break;
		sent += n;
	}
	shutdown(fd, SHUT_WR);
	return (void *)sent;
}

static void t_sockets(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), c, s, sv[2], ok = 1;
	char *buf = malloc(65536);
	size_t got = 0;
	pthread_t t;
	void *sent;
	ssize_t n;

	check(bind(l, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(l, 4) == 0 &&
	      getsockname(l, (struct sockaddr *)&a, &alen) == 0, "TCP listen on 127.0.0.1:%d", ntohs(a.sin_port));
	c = socket(AF_INET, SOCK_STREAM, 0);
	check(connect(c, (struct sockaddr *)&a, sizeof(a)) == 0, "TCP connect over loopback");
	s = accept(l, NULL, NULL);
	check(s >= 0, "TCP accept");
	pthread_create(&t, NULL, tcp_sender, &c);
	while ((n = recv(s, buf, 65536, 0)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != (char)(((got + i) % 4096) * 7))
				ok = 0;
		got += n;
	}
	pthread_join(t, &sent);
	check(got == TCP_BYTES && (size_t)sent == TCP_BYTES && ok, "1 MiB over TCP loopback, byte-exact");
	close(s);
	close(c);
	close(l);

	check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "AF_UNIX socketpair");
	check(write(sv[0], "ping", 4) == 4 && read(sv[1], buf, 4) == 4 && !memcmp(buf, "ping", 4),
	      "AF_UNIX socketpair carries data");
	close(sv[0]);
	close(sv[1]);
	free(buf);
}

/* ---- vDSO */
/* the address of a vDSO function, or NULL */
static void *vdso_sym(const char *name)
{
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)getauxval(AT_SYSINFO_EHDR);
	const Elf64_Phdr *ph;
	const Elf64_Shdr *sh;
	const Elf64_Sym *sym = NULL;
	const char *str = NULL;
	size_t nsyms = 0, i;
	uintptr_t bias = 0;

	if (!eh || memcmp(eh->e_ident, ELFMAG, SELFMAG))
		return NULL;
	ph = (const Elf64_Phdr *)((const char *)eh + eh->e_phoff);
	for (i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD) {
			bias = (uintptr_t)eh - ph[i].p_vaddr;
			break;
		}
	sh = (const Elf64_Shdr *)((const char *)eh + eh->e_shoff);
	for (i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type == SHT_DYNSYM) {
			sym = (const Elf64_Sym *)((const char *)eh + sh[i].sh_offset);
			nsyms = sh[i].sh_size / sizeof(*sym);
			str = (const char *)eh + sh[sh[i].sh_link].sh_offset;
		}
	}
	for (i = 0; i < nsyms; i++)
		if (sym[i].st_shndx != SHN_UNDEF && !strcmp(str + sym[i].st_name, name))
			return (void *)(bias + sym[i].st_value);
	return NULL;
}

static int ts_le(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec <= b->tv_nsec);
}

static void t_vdso(void)
{
	int (*vgettime)(clockid_t, struct timespec *) = vdso_sym("__vdso_clock_gettime");
	int (*vgettod)(struct timeval *, void *) = vdso_sym("__vdso_gettimeofday");
	struct timespec a, b, k, c0, c1;
	struct timeval tv = { 0 };
	int rc;

	check(getauxval(AT_SYSINFO_EHDR) != 0, "the vDSO is mapped (AT_SYSINFO_EHDR %#lx)", getauxval(AT_SYSINFO_EHDR));
	check(vgettime != NULL, "the vDSO exports __vdso_clock_gettime");
	clock_gettime(CLOCK_MONOTONIC, &a);
	syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &k);
	clock_gettime(CLOCK_MONOTONIC, &b);
	check(ts_le(&a, &k) && ts_le(&k, &b), "clock_gettime (vDSO) and the system call agree and are monotonic");
	if (!vgettime || !vgettod) {
		check(0, "the vDSO's functions are found in its symbol table");
		return;
	}
	/* called directly: the vDSO's own code runs in this context (CPL 0 under UKL) */
	/* (early in boot CLOCK_MONOTONIC may still be under 1 s) */
	a.tv_sec = b.tv_sec = a.tv_nsec = b.tv_nsec = -1;
	rc = vgettime(CLOCK_MONOTONIC, &a) | vgettime(CLOCK_MONOTONIC, &b);
	check(rc == 0 && a.tv_sec >= 0 && a.tv_nsec >= 0 && ts_le(&a, &b) && ts_le(&k, &a),
	      "__vdso_clock_gettime(CLOCK_MONOTONIC) called directly: %ld.%09ld", (long)a.tv_sec, a.tv_nsec);
	/* CPU-time clocks are not the vDSO's: it takes its system call fallback */
	check(vgettime(CLOCK_PROCESS_CPUTIME_ID, &c0) == 0 && vgettime(CLOCK_PROCESS_CPUTIME_ID, &c1) == 0 &&
	      ts_le(&c0, &c1), "__vdso_clock_gettime(CLOCK_PROCESS_CPUTIME_ID): the vDSO's system call fallback");
	check(vgettime(-1000, &c0) == -EINVAL, "an invalid clock: the fallback returns -EINVAL");
	check(vgettod(&tv, NULL) == 0 && tv.tv_sec > 0, "__vdso_gettimeofday");
	check(clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0) == 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) through the C library");
}

/*
 * ---- fork: a second process with its own view of the app's data.  On stock Linux fork()
 * gives the child copies; a UKL image holds one copy, linked into the kernel, so the kernel
 * must either give the child private copies or refuse the fork (EBUSY, with a console line
 * naming the limit).  Either way the parent never sees the child's writes: the global, the
 * bss, and the malloc arena (the child's malloc must not take the parent's free chunk).  A
 * second start of the image while this one runs is refused with EBUSY on UKL and runs on
 * stock Linux.
 */
static int fork_data = 1;
static long fork_bss;

static int child_pipe(void *fd)
{
	write((int)(long)fd, "F", 1);
	_exit(42);
}

static int child_exec_self(void *unused)
{
	char *argv[] = { "selftest", "--exit", "5", NULL };

	(void)unused;
	execv("/proc/self/exe", argv);
	_exit(errno == EBUSY ? 200 : 201);
}

static void t_fork(void)
{
	int fds[2], status = -1;
	char c = 0, *freed, *again, *guard;
	struct mallinfo2 m0, m1;
	pid_t pid;

	pipe(fds);
	pid = spawn_child(child_pipe, (void *)(long)fds[1]);
	check(pid > 0, "a child process (clone with CLONE_VM, as posix_spawn does)");
	check(read(fds[0], &c, 1) == 1 && c == 'F', "the child writes to a pipe");
	check(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 42,
	      "waitpid sees the child's exit status 42");
	close(fds[0]);
	close(fds[1]);

	/*
	 * A chunk too big for the thread's cache goes to an arena bin when freed (the guard keeps
	 * it from merging with the top chunk): the next malloc of that size takes it back, unless
	 * a child that shares the arena (main_arena is a global) took it first.
	 */
	freed = malloc(4000);
	guard = malloc(16);
	free(freed);
	m0 = mallinfo2();
	errno = 0;
	pid = fork();
	if (pid == 0) {
		char *mine = malloc(4000);
		int i;

		fork_data = 2;
		fork_bss = 2;
		memset(mine, 'c', 4000);
		for (i = 0; i < 256; i++)	/* 1 MiB more: the heap grows */
			memset(malloc(4000), 'c', 4000);
		_exit(7);
	}
	if (pid > 0) {
		check(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7,
		      "fork(): the child ran and exited 7");
	} else {
		check(cpl() == 0 && errno == EBUSY,
		      "fork() of a UKL process is refused with EBUSY (one copy of its data): %s",
		      strerror(errno));
	}
	check(fork_data == 1 && fork_bss == 0,
	      "the parent never sees the child's writes to a global (%d) or to bss (%ld)", fork_data, fork_bss);
	m1 = mallinfo2();
	check(m1.uordblks == m0.uordblks && m1.arena == m0.arena,
	      "the child's malloc is its own: the parent's arena still has %zu bytes in use (%zu before the fork)",
	      m1.uordblks, m0.uordblks);
	again = malloc(4000);
	check(again == freed, "... and the parent's next malloc(4000) gets its freed chunk back");
	free(again);
	free(guard);

	pid = spawn_child(child_exec_self, NULL);
	status = -1;
	waitpid(pid, &status, 0);
	if (cpl() == 0)
		check(WIFEXITED(status) && WEXITSTATUS(status) == 200,
		      "a second start of the image while this one runs is refused with EBUSY (status %#x)", status);
	else
		check(WIFEXITED(status) && WEXITSTATUS(status) == 5,
		      "a second copy of the program runs beside this one (status %#x)", status);
}

/*
 * ---- fresh: each start of the image begins with the app's data as the image has it (no
 * value an earlier start left in .data, .bss or the TLS template), then dirties all three and
 * leaves two threads running (one blocked, one busy in system calls) for exit_group to kill.
 * Run it in two starts of one boot (init's ukl.starts=2): the second sees none of the first.
 */
static int fresh_data = 41;
static long fresh_bss[512];
static __thread int fresh_tls = 7;

static void *fresh_blocked(void *a) { pause(); return a; }
static void *fresh_busy(void *a) { for (;;) getppid(); return a; }

static void t_fresh(void)
{
	pthread_t t1, t2;
	long dirty = 0;
	unsigned int i;

	for (i = 0; i < sizeof(fresh_bss) / sizeof(fresh_bss[0]); i++)
		dirty |= fresh_bss[i];
	check(fresh_data == 41 && !dirty && fresh_tls == 7,
	      "this start sees the image's data: .data %d (41), .bss %s, TLS %d (7)",
	      fresh_data, dirty ? "dirty" : "zero", fresh_tls);
	fresh_data = 42;
	memset(fresh_bss, 0xa5, sizeof(fresh_bss));
	fresh_tls = 8;
	check(pthread_create(&t1, NULL, fresh_blocked, NULL) == 0 &&
	      pthread_create(&t2, NULL, fresh_busy, NULL) == 0,
	      "two threads left running (blocked, busy) when the app exits");
}

/*
 * ---- tcp: read/write/sendto/recvfrom/sendmsg/recvmsg on TCP keep their meaning (data,
 * non-blocking mode, MSG_PEEK, EFAULT, end of stream, EPIPE and SIGPIPE); the profile
 * ukl-shortcut hands them to TCP directly and the kernel counts them in
 * /sys/kernel/debug/ukl/shortcut_count (--expect-shortcut 1: they must be counted; 0:
 * none may be).  Calls on other files (AF_UNIX, pipes) are never counted.
 */
static volatile sig_atomic_t pipe_seen;
static void on_pipe(int sig) { (void)sig; pipe_seen++; }

static int tcp_pair(int *c, int *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &alen))
		return -1;
	*c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(*c, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	*s = accept(l, NULL, NULL);
	close(l);
	setsockopt(*c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return *s >= 0 ? 0 : -1;
}

static void t_tcp(void)
{
	const char *count = "/sys/kernel/debug/ukl/shortcut_count";
	char out[64], in[64], a[16], b[48];
	struct iovec ov[2] = { { out, 16 }, { out + 16, 48 } }, iv[2] = { { a, 16 }, { b, 48 } };
	struct msghdr om = { .msg_iov = ov, .msg_iovlen = 2 }, im = { .msg_iov = iv, .msg_iovlen = 2 };
	long before, mid, after, calls = 0;
	int c, s, i, ok = 1, sv[2], fl;
	ssize_t n;

	if (tcp_pair(&c, &s)) {
		check(0, "a connected TCP pair over loopback");
		return;
	}
	before = read_number(count);
	for (i = 0; i < 100; i++) {
		memset(out, 'a' + i % 26, sizeof(out));
		ok &= write(c, out, 64) == 64 && read(s, in, 64) == 64 && !memcmp(in, out, 64);
		ok &= send(s, out, 64, 0) == 64 && recv(c, in, 64, MSG_WAITALL) == 64 && !memcmp(in, out, 64);
		ok &= sendmsg(c, &om, 0) == 64 && recvmsg(s, &im, MSG_WAITALL) == 64 && im.msg_flags == 0 &&
		      !memcmp(a, out, 16) && !memcmp(b, out + 16, 48);
		calls += 6;
	}
	check(ok, "100 rounds of write/read, send/recv and 2-iovec sendmsg/recvmsg carry the data");
	errno = 0;
	n = recv(s, in, sizeof(in), MSG_DONTWAIT);
	check(n == -1 && errno == EAGAIN, "recv(MSG_DONTWAIT) on an empty socket: EAGAIN (got %zd)", n);
	fl = fcntl(s, F_GETFL);
	fcntl(s, F_SETFL, fl | O_NONBLOCK);
	errno = 0;
	n = read(s, in, sizeof(in));
	check(n == -1 && errno == EAGAIN, "read() on an empty O_NONBLOCK socket: EAGAIN (got %zd)", n);
	fcntl(s, F_SETFL, fl);
	write(c, "peek", 4);
	check(recv(s, in, 4, MSG_PEEK | MSG_WAITALL) == 4 && read(s, in + 4, 4) == 4 && !memcmp(in, in + 4, 4),
	      "MSG_PEEK leaves the data for the next read()");
	write(c, "x", 1);
	errno = 0;
	n = read(s, KADDR_OUTSIDE_APP, 1);
	check(n == -1 && errno == EFAULT, "read() into a kernel address outside the app: EFAULT (got %zd)", n);
	calls += 6;

	/*
	 * MSG_SPLICE_PAGES (0x8000000) is a kernel-internal sendmsg flag, which net/socket.c
	 * drops from the app's flags: the data is copied, so changing the buffer after send()
	 * returned does not change what the peer reads.
	 */
	{
		char *pg = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		static char got[4096];
		int same = 1;

		n = read(s, got, 1);	/* the "x" left by the EFAULT check */
		memset(pg, 'A', 4096);
		n = send(c, pg, 4096, 0x8000000);
		memset(pg, 'B', 4096);
		for (i = 0; i < 4096; i++)
			got[i] = 0;
		if (n == 4096 && recv(s, got, 4096, MSG_WAITALL) == 4096)
			for (i = 0; i < 4096; i++)
				same &= got[i] == 'A';
		else
			same = 0;
		check(same, "send() with the kernel-internal MSG_SPLICE_PAGES: the flag is dropped, the data copied (sent %zd)", n);
		munmap(pg, 4096);
		calls += 3;
	}

	/* a read of 0 bytes returns 0 at once, even on an empty blocking socket (SysV behaviour) */
	{
		struct sigaction sa0 = { .sa_handler = on_alarm }, old_sa;

		sigaction(SIGALRM, &sa0, &old_sa);
		alarm(3);
		errno = 0;
		n = read(s, in, 0);
		alarm(0);
		sigaction(SIGALRM, &old_sa, NULL);
		check(n == 0, "read() of 0 bytes on an empty TCP socket returns 0 at once (got %zd, errno %d)", n, errno);
	}
	mid = read_number(count);

	/* files that are not TCP sockets: never a shortcut */
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	for (i = 0; i < 20; i++)
		ok &= write(sv[0], out, 8) == 8 && read(sv[1], in, 8) == 8;
	close(sv[0]);
	close(sv[1]);
	after = read_number(count);
	check(ok, "AF_UNIX read/write beside it");
	if (!counter_present(count, before))
		;
	else if (expect_shortcut < 0)
		printf("# tcp: no --expect-shortcut given; %ld shortcuts\n", after - before);
	else if (expect_shortcut)
		check(mid - before >= calls && after == mid,
		      "the TCP calls took the shortcut (%ld counted for %ld calls), the AF_UNIX ones did not (%ld)",
		      mid - before, calls, after - mid);
	else
		check(after == before, "shortcut off: no shortcut taken (%ld)", after - before);

	/* the peer goes away: end of stream, then EPIPE (with SIGPIPE unless MSG_NOSIGNAL) */
	close(s);
	check(read(c, in, sizeof(in)) == 0, "read() after the peer closed: 0 (end of stream)");
	signal(SIGPIPE, on_pipe);
	pipe_seen = 0;
	for (i = 0, n = 0; i < 50 && n >= 0; i++)
		n = send(c, out, 64, MSG_NOSIGNAL);
	check(n == -1 && errno == EPIPE && pipe_seen == 0, "send(MSG_NOSIGNAL) to a closed peer: EPIPE, no SIGPIPE");
	errno = 0;
	n = write(c, out, 64);
	check(n == -1 && errno == EPIPE && pipe_seen == 1, "write() to a closed peer: EPIPE and one SIGPIPE (%d)",
	      (int)pipe_seen);
	signal(SIGPIPE, SIG_DFL);
	close(c);
}


/*
 * restart: a system call interrupted by a signal is made again with SA_RESTART (the kernel
 * backs up over the call site: 5 bytes for a UKL app's "call rel32") and fails with EINTR
 * without it, for a blocking read and a futex wait.  At CPL 0, a system call made by an
 * indirect call to the kernel's entry cannot be made again from 5 bytes back: it fails with
 * EINTR even with SA_RESTART, and the app lives (backing up would land mid-instruction).
 */
static volatile long rs_signals;
static int rs_futex;

static void rs_handler(int sig)
{
	(void)sig;
	rs_signals++;
}

struct rs_call {
	int kind;		/* 0 read, 1 futex wait, 2 read by an indirect call of the entry */
	int fd;
	unsigned long entry;
	long ret;
	int err;
};

/* read(fd, buf, 1) through "call *%rbx" to the kernel's entry (a UKL app at CPL 0 only) */
static long rs_indirect_read(unsigned long entry, int fd, char *buf)
{
	long ret;

	asm volatile("call *%%rbx"
		     : "=a"(ret)
		     : "0"((long)SYS_read), "D"((long)fd), "S"(buf), "d"(1L), "b"(entry)
		     : "rcx", "r11", "memory", "cc");
	return ret;
}

static void *rs_blocker(void *p)
{
	struct rs_call *c = p;
	char ch;

	errno = 0;
	if (c->kind == 0)
		c->ret = read(c->fd, &ch, 1);
	else if (c->kind == 1)
		c->ret = syscall(SYS_futex, &rs_futex, FUTEX_WAIT, 0, NULL, NULL, 0);
	else
		c->ret = rs_indirect_read(c->entry, c->fd, &ch);
	c->err = errno;
	return NULL;
}

/* block a thread in KIND, signal it once (SA_RESTART or not), then wake it */
static struct rs_call rs_run(int kind, int restart, unsigned long entry)
{
	struct sigaction sa = { .sa_handler = rs_handler, .sa_flags = restart ? SA_RESTART : 0 };
	struct rs_call c = { .kind = kind, .entry = entry, .ret = -2 };
	int fds[2];
	pthread_t t;

	sigaction(SIGUSR2, &sa, NULL);
	rs_signals = 0;
	rs_futex = 0;
	if (pipe(fds))
		return c;
	c.fd = fds[0];
	pthread_create(&t, NULL, rs_blocker, &c);
	usleep(200000);
	pthread_kill(t, SIGUSR2);
	usleep(200000);
	if (write(fds[1], "x", 1) != 1)
		c.ret = -3;
	__atomic_store_n(&rs_futex, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, &rs_futex, FUTEX_WAKE, 1, NULL, NULL, 0);
	pthread_join(t, NULL);
	close(fds[0]);
	close(fds[1]);
	signal(SIGUSR2, SIG_DFL);
	return c;
}

/* the kernel's call entry, from /proc/kallsyms (root sees the values) */
static unsigned long kernel_symbol(const char *name)
{
	char line[256], sym[128], type;
	unsigned long addr, found = 0;
	FILE *f = fopen("/proc/kallsyms", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx %c %127s", &addr, &type, sym) == 3 && !strcmp(sym, name)) {
			found = addr;
			break;
		}
	if (f)
		fclose(f);
	return found;
}

static void t_restart(void)
{
	struct rs_call c;
	unsigned long entry;

	c = rs_run(0, 1, 0);
	check(c.ret == 1 && rs_signals == 1, "SA_RESTART: a read interrupted by a signal is made again and gets the byte (%ld, errno %d)", c.ret, c.err);
	c = rs_run(0, 0, 0);
	check(c.ret == -1 && c.err == EINTR && rs_signals == 1, "no SA_RESTART: the interrupted read fails with EINTR (%ld, errno %d)", c.ret, c.err);
	c = rs_run(1, 1, 0);
	check(!(c.ret == -1 && c.err == EINTR) && rs_signals == 1, "SA_RESTART: a futex wait interrupted by a signal is made again (%ld, errno %d)", c.ret, c.err);
	c = rs_run(1, 0, 0);
	check(c.ret == -1 && c.err == EINTR && rs_signals == 1, "no SA_RESTART: the interrupted futex wait fails with EINTR (%ld, errno %d)", c.ret, c.err);
	if (cpl() != 0)
		return;
	entry = kernel_symbol("ukl_entry_syscall");
	check(entry != 0, "ukl_entry_syscall is in /proc/kallsyms (%#lx)", entry);
	if (!entry)
		return;
	c = rs_run(2, 1, entry);
	check(c.ret == -EINTR && rs_signals == 1,
	      "a read made by an indirect call of the entry is not restarted (no call rel32 to back up over): -EINTR (%ld)", c.ret);
}

/*
 * direct: the direct entries (ukl_direct_NAME, linux-patches/0021; profile ukl-direct binds the
 * app's own call sites to them).  Called here through their kernel symbols, so every UKL
 * profile checks them: a direct entry makes the call its number names (another number in
 * %eax goes through the bypass: a restart_syscall after a rewind), keeps every register the
 * SYSCALL contract keeps, and honours a seccomp filter (syscall_work: the full path).  The
 * seccomp check runs on every profile: a filter that fails getppid() with EACCES.
 */
struct dc_regs { long rax, rdi, rsi, rdx, r10, r8, r9, rbx, rbp, r12, r13, r14, r15; };

/* call ENTRY with the SYSCALL contract: number and arguments from r, every register back in r */
static void dc_call(unsigned long entry, struct dc_regs *r)
{
	register struct dc_regs *r15 asm("r15") = r;

	asm volatile("push %%rbp\n\t"
		     "push %%r15\n\t"
		     "push %%rax\n\t"			/* entry */
		     "mov 0x00(%%r15), %%rax\n\t"
		     "mov 0x08(%%r15), %%rdi\n\t"
		     "mov 0x10(%%r15), %%rsi\n\t"
		     "mov 0x18(%%r15), %%rdx\n\t"
		     "mov 0x20(%%r15), %%r10\n\t"
		     "mov 0x28(%%r15), %%r8\n\t"
		     "mov 0x30(%%r15), %%r9\n\t"
		     "mov 0x38(%%r15), %%rbx\n\t"
		     "mov 0x40(%%r15), %%rbp\n\t"
		     "mov 0x48(%%r15), %%r12\n\t"
		     "mov 0x50(%%r15), %%r13\n\t"
		     "mov 0x58(%%r15), %%r14\n\t"
		     "mov 0x60(%%r15), %%r15\n\t"
		     "call *(%%rsp)\n\t"
		     "add $8, %%rsp\n\t"
		     "xchg %%r15, (%%rsp)\n\t"		/* r15 <- r, the app's r15 on the stack */
		     "mov %%rax, 0x00(%%r15)\n\t"
		     "mov %%rdi, 0x08(%%r15)\n\t"
		     "mov %%rsi, 0x10(%%r15)\n\t"
		     "mov %%rdx, 0x18(%%r15)\n\t"
		     "mov %%r10, 0x20(%%r15)\n\t"
		     "mov %%r8, 0x28(%%r15)\n\t"
		     "mov %%r9, 0x30(%%r15)\n\t"
		     "mov %%rbx, 0x38(%%r15)\n\t"
		     "mov %%rbp, 0x40(%%r15)\n\t"
		     "mov %%r12, 0x48(%%r15)\n\t"
		     "mov %%r13, 0x50(%%r15)\n\t"
		     "mov %%r14, 0x58(%%r15)\n\t"
		     "pop %%rax\n\t"
		     "mov %%rax, 0x60(%%r15)\n\t"
		     "pop %%rbp"
		     : "+a"(entry), "+r"(r15)
		     :
		     : "rbx", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
		       "memory", "cc");
}

/* the registers an entry must give back: all but rax (the result), rcx and r11 */
static int dc_kept(const struct dc_regs *a, const struct dc_regs *b)
{
	return !memcmp(&a->rdi, &b->rdi, sizeof(*a) - offsetof(struct dc_regs, rdi));
}

static struct dc_regs dc_fill(long nr, long a1, long a2, long a3)
{
	struct dc_regs r = { nr, a1, a2, a3, 0x1010, 0x0808, 0x0909, 0xb0b0, 0xbbbb, 0x1212, 0x1313,
			     0x1414, 0x1515 };

	return r;
}

static void *dc_seccomp_thread(void *p)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(*f), .filter = f };
	long *res = p;
	unsigned long entry = (unsigned long)res[3];
	struct dc_regs r;

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog)) {
		res[0] = -100 - errno;
		return NULL;
	}
	errno = 0;
	res[0] = getppid();
	res[1] = errno;
	if (entry) {
		r = dc_fill(SYS_getppid, 0, 0, 0);
		dc_call(entry, &r);
		res[2] = r.rax;
	}
	return NULL;
}

static void t_direct(void)
{
	unsigned long gp = 0, rd = 0;
	struct dc_regs r, w;
	long res[4] = { 0, 0, 0, 0 };
	pthread_t t;
	char buf[8] = "";
	int fds[2];

	if (cpl() == 0) {
		gp = kernel_symbol("ukl_direct_getppid");
		rd = kernel_symbol("ukl_direct_read");
		check(gp && rd, "ukl_direct_getppid and ukl_direct_read are in /proc/kallsyms (%#lx %#lx)", gp, rd);
	}
	if (gp && rd) {
		w = r = dc_fill(SYS_getppid, 0x1d1, 0x1e1, 0x1f1);
		dc_call(gp, &r);
		check(r.rax == getppid() && dc_kept(&r, &w),
		      "a direct getppid gives getppid() (%ld) and keeps rdi rsi rdx r8-r10 rbx rbp r12-r15", r.rax);
		w = r = dc_fill(SYS_getpid, 0x1d1, 0x1e1, 0x1f1);
		dc_call(gp, &r);
		check(r.rax == getpid() && dc_kept(&r, &w),
		      "the direct getppid entry with getpid's number in %%eax makes getpid (%ld; the bypass took it)", r.rax);
		if (pipe(fds) == 0) {
			if (write(fds[1], "direct", 6) != 6)
				fds[1] = -1;
			w = r = dc_fill(SYS_read, fds[0], (long)buf, 6);
			dc_call(rd, &r);
			check(r.rax == 6 && !memcmp(buf, "direct", 6) && dc_kept(&r, &w),
			      "a direct read takes its three arguments from rdi rsi rdx and keeps them (%ld)", r.rax);
			w = r = dc_fill(SYS_read, 1000, (long)buf, 6);
			dc_call(rd, &r);
			check(r.rax == -EBADF && dc_kept(&r, &w), "a direct read of a bad descriptor: -EBADF (%ld)", r.rax);
			close(fds[0]);
			close(fds[1]);
		}
	}
	res[3] = (long)gp;
	if (pthread_create(&t, NULL, dc_seccomp_thread, res) == 0)
		pthread_join(t, NULL);
	/* glibc's getppid() cannot fail: it returns the raw -EACCES */
	check(res[0] == -EACCES || (res[0] == -1 && res[1] == EACCES),
	      "a seccomp filter fails getppid() with EACCES in the thread that installed it (%ld, errno %ld)", res[0], res[1]);
	if (gp)
		check(res[2] == -EACCES, "... and the direct getppid entry obeys it: -EACCES (%ld)", res[2]);
	check(getppid() > 0, "getppid() in a thread without the filter still works (%d)", (int)getppid());
}

/*
 * smp: the app on more than one CPU.  The per-CPU return slot (ukl_ret=1), the IST stacks,
 * migration between CPUs and TLB shootdowns only race with two CPUs online.
 */
static int expect_cpus = -1;
static volatile int smp_stop;
static volatile long smp_signals, smp_loops;
static volatile long *volatile smp_seen;	/* the last page the CPU 1 thread read */

static void smp_usr1(int sig)
{
	(void)sig;
	smp_signals++;
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* wait up to 10 s (a loaded TCG host) for *p to become want */
static int wait_long(volatile long *p, long want)
{
	int w;

	for (w = 0; w < 100000 && __atomic_load_n(p, __ATOMIC_ACQUIRE) != want; w++)
		usleep(100);
	return *p == want;
}

/* on CPU 1: system calls, and loads from the page CPU 0 publishes last */
static void *smp_worker(void *arg)
{
	volatile long *volatile *page = arg;
	long sum = 0;

	if (pin(1))
		return (void *)1;
	while (!smp_stop) {
		volatile long *p = __atomic_load_n(page, __ATOMIC_ACQUIRE);

		sum += p ? p[0] : 0;
		__atomic_store_n(&smp_seen, p, __ATOMIC_RELEASE);
		if ((long)getppid() < 0)
			return (void *)2;
		smp_loops++;
	}
	return sched_getcpu() == 1 && sum >= 0 ? NULL : (void *)3;
}

static void t_smp(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	int i, wrong_cpu = 0, bad_page = 0, mapped_ok = 1;
	volatile long *live = NULL, *volatile page;
	struct sigaction sa = { .sa_handler = smp_usr1 };
	pthread_t t;
	void *ret;

	if (expect_cpus >= 0)
		check(n == expect_cpus, "%ld CPU(s) online, %d expected", n, expect_cpus);
	else
		printf("# smp: %ld CPU(s) online, no --expect-cpus given\n", n);
	if (n < 2) {
		printf("# smp: one CPU: no migration or cross-CPU checks\n");
		return;
	}

	/* migrate 400 times; on each CPU a system call, a fresh page's fault and a signal */
	sigaction(SIGUSR1, &sa, NULL);
	smp_signals = 0;
	for (i = 0; i < 400; i++) {
		char *m;

		if (pin(i % 2) || sched_getcpu() != i % 2)
			wrong_cpu++;
		m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			bad_page++;
			continue;
		}
		m[100] = (char)i;
		if (m[100] != (char)i || (long)getppid() < 0)
			bad_page++;
		munmap(m, 4096);
		raise(SIGUSR1);
	}
	check(wrong_cpu == 0, "400 migrations between CPU 0 and 1: the app ran where it was pinned (%d not)", wrong_cpu);
	check(bad_page == 0 && smp_signals == 400,
	      "... with a system call, a page fault and a signal on each CPU (%d bad, %ld signals)", bad_page, smp_signals);

	/*
	 * A thread on CPU 1 reads a page that CPU 0 then unmaps: CPU 0 publishes a new page,
	 * waits until the thread has read it, and unmaps the one before (a TLB shootdown of
	 * CPU 1 each time).  Every tenth page it also sends the thread a signal and waits for
	 * it to be taken.
	 */
	pin(0);
	smp_stop = 0;
	smp_signals = smp_loops = 0;
	page = NULL;
	smp_seen = NULL;
	check(pthread_create(&t, NULL, smp_worker, (void *)&page) == 0, "a thread pinned to CPU 1");
	for (i = 0; i < 300 && mapped_ok; i++) {
		volatile long *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED) {
			mapped_ok = 0;
			break;
		}
		m[0] = i;
		__atomic_store_n(&page, m, __ATOMIC_RELEASE);
		if (!wait_long((volatile long *)&smp_seen, (long)m))
			mapped_ok = 0;
		if (live)
			munmap((void *)live, 4096);
		live = m;
		if (i % 10 == 0) {
			pthread_kill(t, SIGUSR1);
			wait_long(&smp_signals, i / 10 + 1);
		}
	}
	__atomic_store_n(&page, NULL, __ATOMIC_RELEASE);
	wait_long((volatile long *)&smp_seen, 0);
	if (live)
		munmap((void *)live, 4096);
	smp_stop = 1;
	ret = (void *)-1;
	pthread_join(t, &ret);
	check(ret == NULL && mapped_ok,
	      "... it made %ld system calls on CPU 1 and read 300 pages that CPU 0 unmapped after it (status %ld)",
	      smp_loops, (long)ret);
	check(smp_signals == 30, "... and took the 30 signals CPU 0 sent it (%ld)", smp_signals);
	signal(SIGUSR1, SIG_DFL);
}

/*
 * ---- int3, trapflag, sigframe, tracer: traps and register state from a debugger's side.
 * int3 in the app; TF set by the app over a system call; sigreturn and signal handlers that
 * would send the app where its return faults; a tracer (the parent) that rewrites registers,
 * sets an instruction breakpoint on the app's code and a watchpoint on its global, and
 * single-steps over a system call.  On a UKL kernel the app runs at CPL 0: each of these once
 * crashed the kernel, lost the trap (with a WARNING) or was refused.
 */
static volatile long dbg_traps, dbg_traps_after;
static volatile int dbg_after_call;
static greg_t dbg_rip, dbg_rbx, dbg_r12, dbg_rsp;
static int dbg_code;

static void on_int3(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;

	(void)sig;
	dbg_traps++;
	dbg_code = si->si_code;
	dbg_rip = uc->uc_mcontext.gregs[REG_RIP];
	dbg_rbx = uc->uc_mcontext.gregs[REG_RBX];
	dbg_r12 = uc->uc_mcontext.gregs[REG_R12];
	dbg_rsp = uc->uc_mcontext.gregs[REG_RSP];
}

/*
 * TF is set and cleared through the signal frame: POPF is no instruction for an app at CPL 0
 * (it would set IF too, and the fusion's ring-0 scan refuses it)
 */
static volatile int dbg_tf_stop;
static void on_tf_set(int sig, siginfo_t *si, void *p)
{
	(void)sig;
	(void)si;
	((ucontext_t *)p)->uc_mcontext.gregs[REG_EFL] |= 0x100;
}

static void on_step(int sig, siginfo_t *si, void *p)
{
	(void)sig;
	(void)si;
	dbg_traps++;
	if (dbg_after_call)
		dbg_traps_after++;
	if (dbg_tf_stop)
		((ucontext_t *)p)->uc_mcontext.gregs[REG_EFL] &= ~(greg_t)0x100;
}

/* a handler that edits the frame sigreturn will load: RIP (mode 0), SS (1), CS (2) */
static int dbg_edit;
static void on_edit(int sig, siginfo_t *si, void *p)
{
	ucontext_t *uc = p;
	greg_t *csgsfs = &uc->uc_mcontext.gregs[REG_CSGSFS];

	(void)sig;
	(void)si;
	if (dbg_edit == 0)
		uc->uc_mcontext.gregs[REG_RIP] = (greg_t)0x0000800000000000UL;	/* first non-canonical */
	else if (dbg_edit == 1)
		*csgsfs = (*csgsfs & ~((greg_t)0xffff << 48)) | ((greg_t)0x1234 << 48);	/* SS */
	else
		*csgsfs = (*csgsfs & ~(greg_t)0xffff) | 0x33;	/* CS: the user code segment */
}

/* in a child: how does it end? "exit N" or "signal N" */
struct dbg_child { int edit; void *handler; };

static int dbg_child(void *arg)
{
	struct dbg_child *d = arg;
	struct sigaction sa = { 0 };

	dbg_edit = d->edit;
	if (d->handler) {
		sa.sa_handler = (void (*)(int))d->handler;
	} else {
		sa.sa_sigaction = on_edit;
		sa.sa_flags = SA_SIGINFO;
	}
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	_exit(0);
}

static int dbg_child_status(int edit, void *handler)
{
	struct dbg_child d = { edit, handler };
	int status = -1;

	waitpid(spawn_child(dbg_child, &d), &status, 0);
	return status;
}

static void __attribute__((noinline)) dbg_mark(void) { asm volatile("" ::: "memory"); }
static void __attribute__((noinline)) dbg_mark2(void) { asm volatile("" ::: "memory"); }
static volatile long dbg_watch;

/* what the traced child runs: a breakpoint, a watched store, a stepped system call */
static long __attribute__((noinline)) dbg_target(void)
{
	long r;

	dbg_mark();
	dbg_watch = 1;
	r = syscall(SYS_getppid);
	dbg_mark2();
	return r;
}

static int dbg_stopped(pid_t pid, int sig)
{
	int status = 0;

	return waitpid(pid, &status, 0) == pid && WIFSTOPPED(status) && WSTOPSIG(status) == sig;
}

#define DR(n) offsetof(struct user, u_debugreg[n])

static int dbg_traced(void *unused)
{
	(void)unused;
	ptrace(PTRACE_TRACEME, 0, 0, 0);
	raise(SIGSTOP);
	_exit(dbg_target() == getppid() ? 0 : 1);
}

static void t_tracer(void)
{
	struct user_regs_struct r, r2;
	unsigned long dr6, steps = 0, ip = 0;
	int status = -1, ok;
	pid_t pid = spawn_child(dbg_traced, NULL);

	if (!dbg_stopped(pid, SIGSTOP)) {
		check(0, "the traced child stops");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return;
	}
	ok = ptrace(PTRACE_GETREGS, pid, 0, &r) == 0;
	errno = 0;
	ok = ok && ptrace(PTRACE_SETREGS, pid, 0, &r) == 0 && ptrace(PTRACE_GETREGS, pid, 0, &r2) == 0 &&
	     !memcmp(&r, &r2, sizeof(r));
	check(ok, "a tracer writes back the registers it read (PTRACE_SETREGS, cs %#llx ss %#llx): %s",
	      r.cs, r.ss, strerror(errno));
	if (cpl() == 0) {
		static const struct {
			unsigned long off, val;
			const char *what;
		} bad[] = {
			{ offsetof(struct user, regs.rip), 0x0000800000000000UL, "... a non-canonical RIP is refused (EIO)" },
			{ offsetof(struct user, regs.rsp), 0x8000000000000000UL, "... a non-canonical RSP is refused (EIO)" },
			{ offsetof(struct user, regs.rsp), 0xffff888000100000UL,
			  "... so is an RSP in kernel memory outside the app (the app would push there)" },
			{ offsetof(struct user, regs.cs), 0x33, "... CS of the user code segment is refused: the app stays at CPL 0" },
			{ offsetof(struct user, regs.ss), 0x2b, "... so is SS of the user data segment" },
		};
		unsigned int i;
		long ret;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			errno = 0;
			ret = ptrace(PTRACE_POKEUSER, pid, bad[i].off, bad[i].val);
			check(ret == -1 && errno == EIO, "%s (%ld, %s)", bad[i].what, ret, strerror(errno));
		}
	}

	/* an instruction breakpoint on the app's own code (DR0, execute) */
	errno = 0;
	ok = ptrace(PTRACE_POKEUSER, pid, DR(0), (unsigned long)dbg_mark) == 0 &&
	     ptrace(PTRACE_POKEUSER, pid, DR(7), 1UL) == 0;
	check(ok, "the tracer sets an instruction breakpoint on the app's dbg_mark (%p): %s",
	      (void *)dbg_mark, strerror(errno));
	ok = ok && ptrace(PTRACE_CONT, pid, 0, 0) == 0 && dbg_stopped(pid, SIGTRAP) &&
	     ptrace(PTRACE_GETREGS, pid, 0, &r) == 0;
	dr6 = ptrace(PTRACE_PEEKUSER, pid, DR(6), 0);
	check(ok && r.rip == (unsigned long)dbg_mark && (dr6 & 1),
	      "... the child stops there with SIGTRAP (rip %#llx, dr6 %#lx)", ok ? r.rip : 0ULL, dr6);

	/* a write watchpoint on the app's global (DR1, 8 bytes); the breakpoint is resumed past */
	errno = 0;
	ok = ptrace(PTRACE_POKEUSER, pid, DR(7), 0UL) == 0 &&
	     ptrace(PTRACE_POKEUSER, pid, DR(1), (unsigned long)&dbg_watch) == 0 &&
	     ptrace(PTRACE_POKEUSER, pid, DR(7), (1UL << 2) | (1UL << 20) | (3UL << 22)) == 0;
	check(ok, "the tracer sets a write watchpoint on the app's global dbg_watch (%p): %s",
	      (void *)&dbg_watch, strerror(errno));
	ok = ok && ptrace(PTRACE_CONT, pid, 0, 0) == 0 && dbg_stopped(pid, SIGTRAP) &&
	     ptrace(PTRACE_GETREGS, pid, 0, &r) == 0;
	dr6 = ptrace(PTRACE_PEEKUSER, pid, DR(6), 0);
	check(ok && (dr6 & 2) && r.rip > (unsigned long)dbg_target && r.rip < (unsigned long)dbg_target + 64,
	      "... the store traps in dbg_target (rip %#llx, dr6 %#lx)", ok ? r.rip : 0ULL, dr6);
	ptrace(PTRACE_POKEUSER, pid, DR(7), 0UL);

	/* single-step over the getppid() call until dbg_mark2 */
	while (ok && steps < 100000) {
		if (ptrace(PTRACE_SINGLESTEP, pid, 0, 0) || !dbg_stopped(pid, SIGTRAP) ||
		    ptrace(PTRACE_GETREGS, pid, 0, &r)) {
			ok = 0;
			break;
		}
		steps++;
		ip = r.rip;
		if (ip == (unsigned long)dbg_mark2)
			break;
	}
	check(ok && ip == (unsigned long)dbg_mark2,
	      "single-stepping over a system call reaches dbg_mark2 (%lu steps, last rip %#lx)", steps, ip);
	ptrace(PTRACE_CONT, pid, 0, 0);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "... and the traced child's system call returned its parent's pid (status %#x)", status);
}

/* int3 in the app: SIGTRAP after the instruction, with its registers, and it goes on */
static void t_int3(void)
{
	struct sigaction sa = { 0 };
	unsigned long after, rsp, rbx, r12;

	sa.sa_sigaction = on_int3;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGTRAP, &sa, NULL);
	asm volatile("movabs $0x1122334455667788, %%rbx\n\t"
		     "movabs $0x99aabbccddeeff00, %%r12\n\t"
		     "mov %%rsp, %1\n\t"
		     "int3\n"
		     "1:\tlea 1b(%%rip), %0\n\t"
		     "mov %%rbx, %2\n\t"
		     "mov %%r12, %3"
		     : "=r"(after), "=r"(rsp), "=r"(rbx), "=r"(r12) : : "rbx", "r12", "memory");
	check(dbg_traps == 1 && dbg_code == SI_KERNEL, "int3 raises one SIGTRAP (si_code %#x)", dbg_code);
	check((unsigned long)dbg_rip == after && (unsigned long)dbg_rsp == rsp,
	      "... whose frame has the next instruction (%#lx) and the stack pointer (%#lx)",
	      (unsigned long)dbg_rip, (unsigned long)dbg_rsp);
	check((unsigned long)dbg_rbx == 0x1122334455667788UL && (unsigned long)dbg_r12 == 0x99aabbccddeeff00UL &&
	      rbx == 0x1122334455667788UL && r12 == 0x99aabbccddeeff00UL,
	      "... and the registers, in the frame and after the handler (rbx %#lx, r12 %#lx)", rbx, r12);

	signal(SIGTRAP, SIG_DFL);
}

/* TF set by the app itself, over a system call: traps before and after the call */
static void t_trapflag(void)
{
	struct sigaction sa = { .sa_flags = SA_SIGINFO };
	unsigned long parent;

	sa.sa_sigaction = on_step;
	sigaction(SIGTRAP, &sa, NULL);
	sa.sa_sigaction = on_tf_set;
	sigaction(SIGUSR2, &sa, NULL);
	dbg_traps = 0;
	raise(SIGUSR2);
	parent = syscall(SYS_getppid);
	dbg_after_call = 1;
	asm volatile("nop\n\tnop\n\tnop");
	dbg_tf_stop = 1;
	asm volatile("nop");
	dbg_after_call = 0;
	signal(SIGUSR2, SIG_DFL);
	check(parent == (unsigned long)getppid() && dbg_traps > 3 && dbg_traps_after > 3,
	      "TF set by the app traps each instruction and survives a system call (%ld traps, %ld after it)",
	      dbg_traps, dbg_traps_after);
	signal(SIGTRAP, SIG_DFL);
}

/* frames that must not be returned to: each in a child, which must die of SIGSEGV */
static void t_sigframe(void)
{
	int st;

	st = dbg_child_status(0, NULL);
	check(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
	      "sigreturn to a non-canonical RIP kills the app with SIGSEGV, and the kernel lives (status %#x)", st);
	st = dbg_child_status(1, NULL);
	check(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "sigreturn with a bad SS: SIGSEGV (status %#x)", st);
	if (cpl() == 0) {
		st = dbg_child_status(2, NULL);
		check(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
		      "sigreturn to the user code segment: SIGSEGV, the app stays at CPL 0 (status %#x)", st);
	}
	st = dbg_child_status(0, (void *)0x0000800000000000UL);
	check(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
	      "a signal handler at a non-canonical address: SIGSEGV (status %#x)", st);
	st = dbg_child_status(0, KADDR_OUTSIDE_APP);
	check(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV,
	      "a signal handler in kernel memory outside the app: SIGSEGV (status %#x)", st);
}

/* --reexec-fresh: dirty the data the fresh group checks, then exec this program to check it */
static void reexec_fresh(char *self)
{
	char *argv[] = { self, "--only", "fresh", NULL };

	fresh_data = 42;
	memset(fresh_bss, 0xa5, sizeof(fresh_bss));
	fresh_tls = 8;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# selftest: data dirtied; exec /proc/self/exe --only fresh\n");
	execv("/proc/self/exe", argv);
	printf("not ok 1 - the program execs itself: %s\n", strerror(errno));
	exit(1);
}

static const struct {
	const char *name;
	void (*fn)(void);
} groups[] = {
	{ "cpl", t_cpl },	{ "ids", t_ids },	  { "files", t_files }, { "uaccess", t_uaccess },
	{ "memory", t_memory }, { "tls", t_tls },	  { "threads", t_threads }, { "signals", t_signals },
	{ "restart", t_restart },
	{ "stack", t_stack },	{ "events", t_events },	  { "sockets", t_sockets }, { "vdso", t_vdso },
	{ "fork", t_fork },	{ "fresh", t_fresh },	{ "progress", t_progress }, { "ret", t_ret }, { "tcp", t_tcp },
	{ "smp", t_smp },	{ "int3", t_int3 },	  { "trapflag", t_trapflag }, { "sigframe", t_sigframe },
	{ "tracer", t_tracer }, { "direct", t_direct },
};

int main(int argc, char **argv)
{
	unsigned int i;
	int a;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--exit") && a + 1 < argc)
			return atoi(argv[a + 1]);
		if (!strcmp(argv[a], "--crash") && a + 1 < argc)
			crash_via(argv[a + 1]);
		if (!strcmp(argv[a], "--pf-storm") && a + 1 < argc)
			return pf_storm(atoi(argv[a + 1]));
		if (!strcmp(argv[a], "--call-storm") && a + 1 < argc)
			return call_storm(atoi(argv[a + 1]));
		if (!strcmp(argv[a], "--reexec-fresh"))
			reexec_fresh(argv[0]);
		if (!strcmp(argv[a], "--expect-cpl") && a + 1 < argc)
			expect_cpl = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--expect-release") && a + 1 < argc)
			expect_release = argv[++a];
		else if (!strcmp(argv[a], "--expect-ret") && a + 1 < argc)
			expect_ret = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--expect-pf-df") && a + 1 < argc)
			expect_pf_df = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--expect-shortcut") && a + 1 < argc)
			expect_shortcut = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--expect-cpus") && a + 1 < argc)
			expect_cpus = atoi(argv[++a]);
		else if (!strcmp(argv[a], "--only") && a + 1 < argc)
			only = argv[++a];
		else if (!strcmp(argv[a], "--list")) {
			for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
				if (strcmp(groups[i].name, "fresh"))
					puts(groups[i].name);
			return 0;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# selftest: pid %d, CPL %d\n", (int)getpid(), cpl());
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (!selected(groups[i].name))
			continue;
		/* fresh leaves threads running: only when asked for by name */
		if (!only && !strcmp(groups[i].name, "fresh"))
			continue;
		printf("# %s\n", groups[i].name);
		groups[i].fn();
	}
	printf("# selftest: %d passed, %d failed\n", passed, failed);
	return failed > 100 ? 100 : failed;
}
