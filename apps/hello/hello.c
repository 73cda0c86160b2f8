// SPDX-License-Identifier: GPL-2.0
/* hello: prints a line and its arguments, exits with argv[1] (default 0). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
	int i;

	printf("hello from %s\n", argv[0]);
	for (i = 1; i < argc; i++)
		printf("hello: argv[%d] = %s\n", i, argv[i]);
	fflush(stdout);
	return argc > 1 ? atoi(argv[1]) : 0;
}
