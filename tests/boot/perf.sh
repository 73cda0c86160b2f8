#!/usr/bin/env bash
# make perf (scripts/perf.sh): Debian's perf in the guest beside memcached under the bench's
# load, on ukl and on the linux twin, 3 s per perf run.  The ukl profile must yield call chains
# from memcached's frames through the system-call entry into the TCP stack, one symbol table
# with app names unprefixed and marked, a flame graph, perf stat on the app, and perf trace's
# system calls all inside the fuse report's reachable set.
# Cold: both kernels and memcached twice are built first
# time-limit: 3000
. "$(dirname "$0")/../lib.sh"

profile=${PERF_PROFILE:-ukl}
build_image memcached "$profile"
build_image memcached linux
expect_ok "make perf APP=memcached PROFILE=$profile (and the linux twin), SECS=3" \
	env SECS=3 "$TOP/scripts/perf.sh" memcached "$profile"
cp "$T_TMP/out" "$T_TMP/perf-run"
for p in "$profile" linux; do
	d=$TOP/out/memcached/$p/perf
	expect_grep "$p: report.txt lists memcached's drive_machine as an app symbol" \
		'^ +[0-9.]+% +[0-9]+ +app +drive_machine$' "$d/report.txt"
	# (by the call chains: in a lightly loaded 3 s window it may miss report.txt's top 30)
	expect_grep "$p: ... and the kernel's tcp_sendmsg as a kernel one" ';kernel:tcp_sendmsg(;|$)' "$d/folded.csv"
	# (the kernel's own ukl_ functions, ukl_entry_syscall, keep their names)
	if grep -Eq '(app|glibc):ukl_' "$d/folded.csv"; then
		not_ok "$p: no app or glibc name keeps the ukl_ prefix" "$(grep -Eo '(app|glibc):ukl_[a-zA-Z_]*' "$d/folded.csv" | sort -u | head -5)"
	else
		ok "$p: no app or glibc name keeps the ukl_ prefix"
	fi
	if [ "$(head -c 8 "$d/flame.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
		ok "$p: flame.png is a PNG"
	else
		not_ok "$p: flame.png is a PNG" "$(ls -l "$d" 2>&1 | head)"
	fi
	expect_grep "$p: perf stat counted the app's task-clock" '^ *[0-9.,]+ +msec +task-clock' "$d/stat.txt"
done
d=$TOP/out/memcached/$profile/perf
# a chain with an app frame below the kernel's TCP send: app -> seam -> tcp_sendmsg
expect_grep "$profile: a sampled call chain runs from memcached's drive_machine through the entry into tcp_sendmsg" \
	'app:drive_machine;.*kernel:tcp_sendmsg' "$d/folded.csv"
n=$(sed -n 's/^seam crossings: [0-9]* samples run from an app frame into the kernel (\([0-9]*\) into tcp_\*)$/\1/p' "$d/report.txt")
if [ "${n:-0}" -gt 0 ]; then ok "$profile: report.txt counts $n samples from an app frame into tcp_*"
else not_ok "$profile: report.txt counts samples from an app frame into tcp_*" "$(grep -m1 'seam crossings' "$d/report.txt")"; fi
expect_grep "$profile: every system call perf trace saw is in the fuse report's reachable set" \
	"^all [1-9][0-9]* of them are in the fuse report's reachable set" "$d/calls.txt"
expect_grep "$profile: perf trace saw the app's sendmsg calls" '^ +sendmsg +[1-9]' "$d/calls.txt"
t_done
