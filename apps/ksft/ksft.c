// SPDX-License-Identifier: GPL-2.0
/*
 * ksft NAME [ARGS...]: run the kernel selftest NAME (apps/ksft/Makefile) as this process, with
 * argv[0] = NAME; its exit status is the test's (kselftest: 0 pass, 4 skip, else fail).
 * ksft --list prints the names, one per line.
 */
#include <stdio.h>
#include <string.h>

#define T(name) int ksft_##name(int argc, char **argv);
#include "tests.h"
#undef T

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
} tests[] = {
#define T(name) { #name, ksft_##name },
#include "tests.h"
#undef T
};

int main(int argc, char **argv)
{
	unsigned int i;

	for (i = 0; argc > 1 && i < sizeof(tests) / sizeof(tests[0]); i++) {
		if (!strcmp(argv[1], tests[i].name))
			return tests[i].main(argc - 1, argv + 1);
		if (!strcmp(argv[1], "--list"))
			printf("%s\n", tests[i].name);
	}
	if (argc > 1 && !strcmp(argv[1], "--list"))
		return 0;
	fprintf(stderr, "usage: ksft --list | ksft NAME [ARGS...]\n");
	return 2;
}
