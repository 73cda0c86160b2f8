// SPDX-License-Identifier: GPL-2.0
/*
 * qemu-exit STATUS: end the VM through QEMU's isa-debug-exit device (iobase 0xf4), which makes
 * QEMU exit with (STATUS << 1) | 1, after the console has drained.  Returns 1 if the port cannot be reached (no ioperm, or no
 * such device), so the caller can fall back to a reboot.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>
#include <termios.h>
#include <unistd.h>

#define DEBUG_EXIT_PORT 0xf4

int main(int argc, char **argv)
{
	int status = argc > 1 ? atoi(argv[1]) : 0;

	/* the console is a UART: let what was written reach it before the VM ends */
	tcdrain(STDOUT_FILENO);
	tcdrain(STDERR_FILENO);
	if (ioperm(DEBUG_EXIT_PORT, 4, 1)) {
		perror("qemu-exit: ioperm");
		return 1;
	}
	outl((unsigned int)status & 0x7f, DEBUG_EXIT_PORT);
	/* still here: the port has no device behind it */
	fprintf(stderr, "qemu-exit: no isa-debug-exit device at 0x%x\n", DEBUG_EXIT_PORT);
	return 1;
}
