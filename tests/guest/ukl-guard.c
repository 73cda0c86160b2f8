// SPDX-License-Identifier: GPL-2.0
/*
 * ukl-guard APP: try, from ordinary userspace, each route by which a process without the
 * right capability could run code at CPL 0 through the UKL application, and report whether
 * the kernel refused it (linux-patches 0007: starting the app needs CAP_SYS_ADMIN, a tracer
 * of its exec CAP_SYS_PTRACE, and the running app is not dumpable).  For apps/hello.
 *
 * APP is the trigger file (/UKL).  The guard starts it as a target ("APP 0", HELLO_SLEEP=6)
 * as root without CAP_SYS_PTRACE (dropped from the bounding set), so that the ordinary
 * ptrace rules (same uid, capabilities a superset of the target's) would let a root
 * process without CAP_SYS_PTRACE reach it: only the UKL rule can refuse.  Each route runs
 * in a child that first drops what the route must not have:
 *   as root without CAP_SYS_PTRACE: PTRACE_SEIZE of the target, /proc/PID/mem opened for
 *     writing, process_vm_writev() into it, and PTRACE_TRACEME followed by execve(APP);
 *   as uid/gid 65534 (no capabilities): execve(APP), and PTRACE_TRACEME + execve(APP).
 * A control shows the routes are reachable at all: root with every capability opens
 * /proc/PID/mem for reading.
 *
 * Prints "ukl-guard: refused ROUTE (errno)" or "ukl-guard: ALLOWED ROUTE" per route, and
 * exits with the number of routes whose outcome was not the expected one (0 = all good;
 * 100: the guard itself could not run).  Nothing is written into the target: the mem file
 * is only opened, process_vm_writev() aims at an unmapped address (EFAULT means the
 * permission check passed), and a seized or started-and-traced process is killed at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* a child's exit status: the route's errno, or one of these */
#define TRACEME_REFUSED	254	/* PTRACE_TRACEME itself was refused */
#define BROKEN		255	/* the child could not drop what it should */

static pid_t target;
static const char *app;
static int unexpected;

enum who { ROOT_ALL, ROOT_NO_PTRACE, NOBODY };

static void drop(enum who who)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	if (who == ROOT_NO_PTRACE) {
		if (prctl(PR_CAPBSET_DROP, CAP_SYS_PTRACE, 0, 0, 0) ||
		    syscall(SYS_capget, &hdr, data)) {
			perror("ukl-guard: capget");
			_exit(BROKEN);
		}
		data[0].effective &= ~(1u << CAP_SYS_PTRACE);
		data[0].permitted &= ~(1u << CAP_SYS_PTRACE);
		data[0].inheritable &= ~(1u << CAP_SYS_PTRACE);
		if (syscall(SYS_capset, &hdr, data)) {
			perror("ukl-guard: capset");
			_exit(BROKEN);
		}
	} else if (who == NOBODY) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534)) {
			perror("ukl-guard: becoming uid 65534");
			_exit(BROKEN);
		}
	}
}

/* the routes; each returns 0 if it got through, else an errno */
static int seize(void)
{
	return ptrace(PTRACE_SEIZE, target, 0, 0) ? errno : 0;
}

static int mem_open(int flags)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", target);
	fd = open(path, flags);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int mem_write(void) { return mem_open(O_RDWR); }
static int mem_read(void) { return mem_open(O_RDONLY); }

static int vm_write(void)
{
	char byte = 0;
	struct iovec local = { &byte, 1 }, remote = { (void *)0x1000, 1 };

	if (syscall(SYS_process_vm_writev, target, &local, 1, &remote, 1, 0) >= 0)
		return 0;
	/* EFAULT: the permission check passed, only the (unmapped) address did not */
	return errno == EFAULT ? 0 : errno;
}

static int exec_app(int traced)
{
	char *argv[] = { (char *)app, "0", NULL }, *envp[] = { "HELLO_SLEEP=6", NULL };

	if (traced && ptrace(PTRACE_TRACEME, 0, 0, 0))
		return TRACEME_REFUSED;
	execve(app, argv, envp);
	return errno;
}

static int exec_plain(void) { return exec_app(0); }
static int exec_traced(void) { return exec_app(1); }

/* fork, or end the guard (status 100) */
static pid_t spawn(void)
{
	pid_t pid = fork();

	if (pid < 0) {
		perror("ukl-guard: fork");
		exit(100);
	}
	return pid;
}

/*
 * Run ROUTE as WHO in a child.  The child exits with the route's errno (0: it got
 * through); an execve() that got through shows up as the app itself running, which is
 * killed at once.
 */
static void try(const char *name, enum who who, int (*route)(void), int expect_refused)
{
	int status, err, refused;
	pid_t pid = spawn();

	if (pid == 0) {
		drop(who);
		_exit(route());
	}
	if (waitpid(pid, &status, WUNTRACED) < 0) {
		perror("ukl-guard: waitpid");
		exit(100);
	}
	if (WIFSTOPPED(status)) {
		/* a traced execve() that got through stops at its SIGTRAP */
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		err = 0;
	} else if (WIFEXITED(status) && WEXITSTATUS(status) == BROKEN) {
		printf("ukl-guard: BROKEN %s: the child could not set itself up\n", name);
		unexpected++;
		return;
	} else {
		/* the app, started, exits 0 ("/UKL 0"); a refused route exits with its errno */
		err = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
	}
	if (err == ENOSYS) {
		printf("ukl-guard: BROKEN %s: not in this kernel (ENOSYS), cannot be tried\n", name);
		unexpected++;
		return;
	}
	refused = err != 0;
	if (refused)
		printf("ukl-guard: refused %s (%s)\n", name,
		       err == TRACEME_REFUSED ? "PTRACE_TRACEME refused" : strerror(err));
	else
		printf("ukl-guard: ALLOWED %s\n", name);
	if (refused != expect_refused) {
		printf("ukl-guard: UNEXPECTED: %s should have been %s\n", name,
		       expect_refused ? "refused" : "allowed");
		unexpected++;
	}
}

/* start the target: APP as root without CAP_SYS_PTRACE; wait until it runs as the app */
static void start_target(void)
{
	char path[64], comm[32] = "";
	int i, fd, n;

	target = spawn();
	if (target == 0) {
		drop(ROOT_NO_PTRACE);
		_exit(exec_plain());
	}
	snprintf(path, sizeof(path), "/proc/%d/comm", target);
	for (i = 0; i < 50 && strcmp(comm, "UKL\n"); i++) {
		usleep(100000);
		fd = open(path, O_RDONLY);
		n = fd < 0 ? 0 : read(fd, comm, sizeof(comm) - 1);
		comm[n > 0 ? n : 0] = 0;
		if (fd >= 0)
			close(fd);
	}
	if (strcmp(comm, "UKL\n")) {
		printf("ukl-guard: BROKEN: the target (pid %d) did not start as the app\n", target);
		exit(100);
	}
	printf("ukl-guard: target: %s as root without CAP_SYS_PTRACE, pid %d\n", app, target);
}

int main(int argc, char **argv)
{
	int status;

	if (argc != 2) {
		fprintf(stderr, "usage: ukl-guard APP\n");
		return 100;
	}
	app = argv[1];
	setvbuf(stdout, NULL, _IOLBF, 0);
	start_target();

	try("control: root with CAP_SYS_PTRACE opens /proc/PID/mem to read", ROOT_ALL,
	    mem_read, 0);
	try("root without CAP_SYS_PTRACE: PTRACE_SEIZE of the app", ROOT_NO_PTRACE, seize, 1);
	try("root without CAP_SYS_PTRACE: /proc/PID/mem opened to write", ROOT_NO_PTRACE,
	    mem_write, 1);
	try("root without CAP_SYS_PTRACE: process_vm_writev into the app", ROOT_NO_PTRACE,
	    vm_write, 1);
	try("root without CAP_SYS_PTRACE: PTRACE_TRACEME, then starting the app", ROOT_NO_PTRACE,
	    exec_traced, 1);
	try("uid 65534: starting the app", NOBODY, exec_plain, 1);
	try("uid 65534: PTRACE_TRACEME, then starting the app", NOBODY, exec_traced, 1);

	if (waitpid(target, &status, 0) != target || !WIFEXITED(status) || WEXITSTATUS(status)) {
		printf("ukl-guard: UNEXPECTED: the target did not exit 0 (wait status 0x%x)\n",
		       status);
		unexpected++;
	}
	printf("ukl-guard: %d unexpected\n", unexpected);
	return unexpected;
}
