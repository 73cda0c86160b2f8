#!/usr/bin/env bash
# Build the load generator into build/tools/mcload (when its source changed); print its path.
. "$(dirname "$0")/../../scripts/lib.sh"
src=$UKL_TOP/eval/loadgen/mcload.c
bin=$UKL_BUILD/tools/mcload
if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
	mkdir -p "$(dirname "$bin")"
	step CC "eval/loadgen/mcload" >&2
	gcc -O2 -g -Wall -pthread -o "$bin.tmp" "$src" -lm || die "the load generator does not build"
	mv "$bin.tmp" "$bin"
fi
printf '%s\n' "$bin"
