// SPDX-License-Identifier: GPL-2.0
/*
 * hello: prints a line and its arguments, exits with argv[1] (default 0); with
 * HELLO_SLEEP=N in its environment it sleeps N seconds first (to be seen by ps).
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int i;

	printf("hello from %s\n", argv[0]);
	for (i = 1; i < argc; i++)
		printf("hello: argv[%d] = %s\n", i, argv[i]);
	fflush(stdout);
	if (getenv("HELLO_SLEEP"))
		sleep(atoi(getenv("HELLO_SLEEP")));
	return argc > 1 ? atoi(argv[1]) : 0;
}
