// SPDX-License-Identifier: GPL-2.0
/*
 * hello: prints a line and its arguments, exits with argv[1] (default 0); with
 * HELLO_SLEEP=N in its environment it sleeps N seconds first (to be seen by ps).
 * Harness checks (tests/boot/hello.sh), root only: argv[2] "fake-status" prints the harness's
 * exit marker with a status of 0, then ends the VM itself through isa-debug-exit with
 * argv[1] (by executing the initramfs' /bin/qemu-exit: the app itself has no port I/O, which
 * linker/scan.py refuses in a UKL app); "reboot-after" prints the marker and then resets the machine: neither marker may
 * be taken for the status; "sysrq-trace" makes the kernel print a backtrace (sysrq l), a
 * kernel complaint that must fail the boot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/reboot.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int i;

	printf("hello from %s\n", argv[0]);
	for (i = 1; i < argc; i++)
		printf("hello: argv[%d] = %s\n", i, argv[i]);
	if (argc > 2 && (!strcmp(argv[2], "fake-status") || !strcmp(argv[2], "reboot-after")))
		printf("ukl: exit status 0\n");
	fflush(stdout);
	if (argc > 2 && !strcmp(argv[2], "fake-status")) {
		execl("/bin/qemu-exit", "qemu-exit", argv[1], (char *)NULL);
		perror("hello: /bin/qemu-exit");
	}
	if (argc > 2 && !strcmp(argv[2], "reboot-after")) {
		sync();
		reboot(RB_AUTOBOOT);
	}
	if (argc > 2 && !strcmp(argv[2], "sysrq-trace")) {
		int fd = open("/proc/sysrq-trigger", O_WRONLY);

		if (fd < 0 || write(fd, "l", 1) != 1)
			perror("hello: /proc/sysrq-trigger");
		sleep(1);
	}
	if (getenv("HELLO_SLEEP"))
		sleep(atoi(getenv("HELLO_SLEEP")));
	return argc > 1 ? atoi(argv[1]) : 0;
}
