#!/usr/bin/env bash
# eval/perf-report.py off-line, on a small synthetic `perf script` text: a UKL chain (app,
# glibc and kernel, all [kernel.kallsyms] symbols prefixed ukl_) comes out with unprefixed
# names and the right origins, counts and seam crossings; a stock process's frames are told
# apart by DSO and by the glibc symbol list; --comm filters; --app-range overrides the name
# rule; the flame graph is a PNG; no samples or no input is a one-line error.  No kernel, no QEMU.
# time-limit: 120
. "$(dirname "$0")/../lib.sh"
pr=$TOP/eval/perf-report.py
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null ||
	{ not_ok "python3-matplotlib is installed" "fix: scripts/setup.sh"; t_done; }

# -- the input ------------------------------------------------------------------------------
# Leaf first, as perf prints it.  Fused app and glibc at ffffffff82000000.., the kernel's
# text at ffffffff81000000.. (the kernel's own ukl_entry_syscall too).
#   3 x memcached: main -> process_command -> __libc_sendmsg -> do_syscall_64 -> tcp_sendmsg
#   2 x swapper:   idle, kernel only
#   1 x memcached: main -> __libc_read -> ukl_entry_syscall (kernel) -> do_syscall_64
#   1 x "mc worker" (a comm with a space), a stock static binary: main -> conn_read ->
#       __libc_recv (glibc by the symbol list) -> entry_SYSCALL.. -> __sys_recvfrom -> sock_recvmsg
#   1 x "mc worker": [unknown] -> [unknown] -> main -> a C++ name (spaces, comma, parentheses) ->
#       _int_malloc in libc.so.6 (glibc by DSO; not in the list)
#   1 x memcached: main -> __libc_recv -> sock_recvmsg (straight into the socket layer)
#   1 x ksoftirqd/0: kernel only, in tcp_* (no seam crossing: no app frame under it)
s=$T_TMP/perf.txt
hd() { printf '%s: cpu-clock: \n' "$1"; } # COMM PID/TID [CPU] TIME
fr() { printf '\t%s\n' "$@"; }            # frame lines, leaf first
ukl_tcp() {
	hd "memcached   100/100     [000]  1000.00000$1"
	fr "ffffffff81a00010 tcp_sendmsg+0x10 ([kernel.kallsyms])" \
		"ffffffff81000020 do_syscall_64+0x20 ([kernel.kallsyms])" \
		"ffffffff82000040 ukl___libc_sendmsg+0x4 ([kernel.kallsyms])" \
		"ffffffff82000150 ukl_process_command+0x50 ([kernel.kallsyms])" \
		"ffffffff82000260 ukl_main+0x60 ([kernel.kallsyms])"
	echo
}
idle() {
	hd "swapper     0/0     [001]  1000.00001$1"
	fr "ffffffff8225295b pv_native_safe_halt+0xb ([kernel.kallsyms])" \
		"ffffffff813d0116 do_idle+0x136 ([kernel.kallsyms])" \
		"ffffffff81301573 common_startup_64+0x13b ([kernel.kallsyms])"
	echo
}
{
	ukl_tcp 1
	idle 1
	ukl_tcp 2
	hd "memcached   100/101     [000]  1000.000020"
	fr "ffffffff81000020 do_syscall_64+0x20 ([kernel.kallsyms])" \
		"ffffffff81000100 ukl_entry_syscall+0x5 ([kernel.kallsyms])" \
		"ffffffff82000070 ukl___libc_read+0x7 ([kernel.kallsyms])" \
		"ffffffff82000260 ukl_main+0x60 ([kernel.kallsyms])"
	echo
	hd "mc worker   200/201     [001]  1000.000021"
	fr "ffffffff81b00010 sock_recvmsg+0x10 ([kernel.kallsyms])" \
		"ffffffff81b00020 __sys_recvfrom+0x20 ([kernel.kallsyms])" \
		"ffffffff81000020 do_syscall_64+0x20 ([kernel.kallsyms])" \
		"ffffffff82400076 entry_SYSCALL_64_after_hwframe+0x76 ([kernel.kallsyms])" \
		"          41a0c4 __libc_recv+0x44 (/usr/bin/memcached)" \
		"          40b123 conn_read+0x23 (/usr/bin/memcached)" \
		"          401010 main+0x10 (/usr/bin/memcached)"
	echo
	hd "mc worker   200/202     [001]  1000.000022"
	fr "           97ca8 _int_malloc+0x948 (/usr/lib/x86_64-linux-gnu/libc.so.6)" \
		"          40c000 std::vector<int, std::allocator<int> >::push_back(int const&)+0x1f (/usr/bin/memcached)" \
		"          401010 main+0x10 (/usr/bin/memcached)" \
		"          7f0010 [unknown] ([unknown])" \
		"               0 [unknown] ([unknown])"
	echo
	ukl_tcp 3
	idle 2
	hd "memcached   100/102     [000]  1000.000030"
	fr "ffffffff81b00010 sock_recvmsg+0x10 ([kernel.kallsyms])" \
		"ffffffff82000080 ukl___libc_recv+0x8 ([kernel.kallsyms])" \
		"ffffffff82000260 ukl_main+0x60 ([kernel.kallsyms])"
	echo
	hd "ksoftirqd/0 15/15       [000]  1000.000031"
	fr "ffffffff81a00200 tcp_ack+0x12 ([kernel.kallsyms])" \
		"ffffffff81a00300 tcp_v4_rcv+0x30 ([kernel.kallsyms])" \
		"ffffffff81900000 net_rx_action+0x40 ([kernel.kallsyms])" \
		"ffffffff81200000 run_ksoftirqd+0x20 ([kernel.kallsyms])" \
		"ffffffff81001000 ret_from_fork+0x1f ([kernel.kallsyms])"
	echo
} >"$s"
# one name a line; an `nm` line counts by its last word
printf '__libc_sendmsg\n__libc_read\n__libc_recv\n0000000000000000 T memcpy\n' >"$T_TMP/glibc.syms"

run() { "$pr" --script "$s" --glibc-syms "$T_TMP/glibc.syms" --title "synthetic" "$@"; }
o=$T_TMP/report
expect_ok "perf-report turns the synthetic perf script into a report" run --out "$o"
cp "$T_TMP/out" "$T_TMP/stdout"
r=$o/report.txt f=$o/folded.csv

# -- report.txt --------------------------------------------------------------------------------
expect_grep "report: the title" "^synthetic$" "$r"
expect_grep "report: total samples 10" "^total samples: 10$" "$r"
expect_grep "report: samples per comm, a comm with a space kept whole" \
	"^samples per comm: memcached 5 \(50\.0%\), mc worker 2 \(20\.0%\), swapper 2 \(20\.0%\), ksoftirqd/0 1 \(10\.0%\)$" "$r"
if grep -q "  process_command$" "$r" && ! grep -q "ukl_process_command\|ukl___libc_sendmsg\|ukl_main" "$r"; then
	ok "report: app and glibc names lose their ukl_ prefix (process_command)"
else
	not_ok "report: app and glibc names lose their ukl_ prefix (process_command)" "$(grep -n "process_command\|ukl_" "$r")"
fi
# self: the leaf; inclusive: once per sample anywhere (main: 4 fused + 2 stock)
self=$(sed -n '/by self samples/,/^$/p' "$r")
incl=$(sed -n '/by inclusive samples/,$p' "$r")
want_row() { # WHAT TABLE PERCENT SAMPLES ORIGIN NAME
	if grep -Eq "^ +$3% +$4  $5 +$6\$" <<<"$2"; then ok "$1"; else not_ok "$1" "no row: $3% $4 $5 $6 in:" "$2"; fi
}
want_row "self: tcp_sendmsg, kernel, 3 samples" "$self" 30.00 3 kernel tcp_sendmsg
want_row "self: pv_native_safe_halt, kernel, 2 samples" "$self" 20.00 2 kernel pv_native_safe_halt
want_row "self: _int_malloc, glibc by its DSO" "$self" 10.00 1 glibc _int_malloc
want_row "inclusive: main (app) in 7 samples, fused and stock" "$incl" 70.00 7 app main
want_row "inclusive: process_command is app, 3 samples" "$incl" 30.00 3 app process_command
want_row "inclusive: __libc_sendmsg is glibc (the list), 3 samples" "$incl" 30.00 3 glibc __libc_sendmsg
want_row "inclusive: do_syscall_64 is kernel, 5 samples" "$incl" 50.00 5 kernel do_syscall_64
want_row "inclusive: __libc_recv is glibc (the list), fused and in a static binary" "$incl" 20.00 2 glibc __libc_recv
want_row "inclusive: a symbol twice in a chain counts once ([unknown])" "$incl" 10.00 1 unknown "\[unknown\]"
want_row "inclusive: the kernel's ukl_entry_syscall counts as app without --app-range" "$incl" 10.00 1 app entry_syscall

# crossings: the 3 tcp chains, the __libc_read one (do_syscall_64), the stock recv (sock_,
# __sys_), the fused recv (sock_); not ksoftirqd's tcp_ack (no app frame under it)
seam="seam crossings: 6 samples run from an app frame into the kernel \(3 into tcp_\*\)"
expect_grep "report: seam crossings 6, 3 into tcp_*" "^$seam$" "$r"
expect_grep "... printed on stdout too" "^$seam$" "$T_TMP/stdout"
expect_grep "report: an example tcp crossing, root to leaf" \
	"e\.g\. \(3 samples, root->leaf\): app:main;app:process_command;glibc:__libc_sendmsg;kernel:do_syscall_64;kernel:tcp_sendmsg$" "$r"

# -- folded.csv: every stack, its origins and count, in order ----------------------------------
cat >"$T_TMP/want.csv" <<'EOF'
samples,stack
3,app:main;app:process_command;glibc:__libc_sendmsg;kernel:do_syscall_64;kernel:tcp_sendmsg
2,kernel:common_startup_64;kernel:do_idle;kernel:pv_native_safe_halt
1,app:main;app:conn_read;glibc:__libc_recv;kernel:entry_SYSCALL_64_after_hwframe;kernel:do_syscall_64;kernel:__sys_recvfrom;kernel:sock_recvmsg
1,app:main;glibc:__libc_read;app:entry_syscall;kernel:do_syscall_64
1,app:main;glibc:__libc_recv;kernel:sock_recvmsg
1,kernel:ret_from_fork;kernel:run_ksoftirqd;kernel:net_rx_action;kernel:tcp_v4_rcv;kernel:tcp_ack
1,"unknown:[unknown];unknown:[unknown];app:main;app:std::vector<int, std::allocator<int> >::push_back(int const&);glibc:_int_malloc"
EOF
if diff -u "$T_TMP/want.csv" "$f" >"$T_TMP/diff"; then
	ok "folded.csv: stacks root to leaf as origin:name, counts, sorted"
else
	not_ok "folded.csv: stacks root to leaf as origin:name, counts, sorted" "$(cat "$T_TMP/diff")"
fi

# -- flame.png ---------------------------------------------------------------------------------
png=$o/flame.png
if [ "$(head -c 8 "$png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
	ok "flame.png is a PNG"
else
	not_ok "flame.png is a PNG" "$(ls -l "$png" 2>&1)"
fi
# the IHDR width: bytes 16..19, big-endian
w=$(od -An -tu1 -j16 -N4 "$png" 2>/dev/null | awk '{print $1*16777216 + $2*65536 + $3*256 + $4}')
if [ "${w:-0}" -ge 1400 ] && [ "${w:-0}" -le 1800 ]; then ok "flame.png is about 1600 px wide ($w)"; else not_ok "flame.png is about 1600 px wide" "width: ${w:-none}"; fi

# -- --comm ------------------------------------------------------------------------------------
expect_ok "--comm memcached" run --out "$T_TMP/comm" --comm memcached
expect_grep "... keeps its 5 samples" "^total samples: 5$" "$T_TMP/comm/report.txt"
if grep -q "swapper\|mc worker\|ksoftirqd" "$T_TMP/comm/report.txt" || grep -q "pv_native_safe_halt\|conn_read\|tcp_ack" "$T_TMP/comm/folded.csv"; then
	not_ok "... and none of another comm" "$(cat "$T_TMP/comm/folded.csv")"
else
	ok "... and none of another comm"
fi
expect_grep "... 5 seam crossings, 3 into tcp_*" \
	"^seam crossings: 5 samples run from an app frame into the kernel \(3 into tcp_\*\)$" "$T_TMP/comm/report.txt"
expect_ok "--comm 'mc worker' (a comm with a space)" run --out "$T_TMP/comm2" --comm "mc worker"
expect_grep "... keeps its 2 samples" "^total samples: 2$" "$T_TMP/comm2/report.txt"
expect_fail "--comm of no sample is an error naming the comms there" \
	"perf-report: error: no samples of comm 'nosuch' .*memcached" run --out "$T_TMP/comm3" --comm nosuch

# -- --app-range -------------------------------------------------------------------------------
expect_ok "--app-range ffffffff82000000-ffffffff82001000 (the fused app's text)" \
	run --out "$T_TMP/range" --app-range ffffffff82000000-ffffffff82001000
expect_grep "... a ukl_ symbol outside it is kernel, with its name (ukl_entry_syscall)" \
	"^1,app:main;glibc:__libc_read;kernel:ukl_entry_syscall;kernel:do_syscall_64$" "$T_TMP/range/folded.csv"
expect_grep "... those inside it stay app and glibc" \
	"^3,app:main;app:process_command;glibc:__libc_sendmsg;kernel:do_syscall_64;kernel:tcp_sendmsg$" "$T_TMP/range/folded.csv"
expect_ok "--app-range covering only main" run --out "$T_TMP/range2" --app-range ffffffff82000200-ffffffff82000300
expect_grep "... makes process_command (outside) a kernel ukl_ symbol" \
	"^3,app:main;kernel:ukl_process_command;kernel:ukl___libc_sendmsg;kernel:do_syscall_64;kernel:tcp_sendmsg$" \
	"$T_TMP/range2/folded.csv"
expect_fail "a malformed --app-range is a usage error" "perf-report: error: .*no START-END" \
	run --out "$T_TMP/range3" --app-range ffffffff82000000

# -- errors ------------------------------------------------------------------------------------
: >"$T_TMP/empty.txt"
rc=0
"$pr" --script "$T_TMP/empty.txt" --out "$T_TMP/empty" >"$T_TMP/e.out" 2>"$T_TMP/e.err" || rc=$?
if [ $rc = 1 ] && [ "$(wc -l <"$T_TMP/e.err")" = 1 ] && [ ! -s "$T_TMP/e.out" ] &&
	grep -q "^perf-report: error: no samples in $T_TMP/empty.txt (was perf record run with -g" "$T_TMP/e.err"; then
	ok "an empty input: exit 1, one error line naming the file and the fix"
else
	not_ok "an empty input: exit 1, one error line naming the file and the fix" "exit $rc" "$(cat "$T_TMP/e.out" "$T_TMP/e.err")"
fi
expect_status "... as is a missing one (exit 1)" 1 "$pr" --script "$T_TMP/nosuch.txt" --out "$T_TMP/nosuch"
expect_grep "... with an error naming it and how to write it" \
	"^perf-report: error: cannot read $T_TMP/nosuch.txt: .*perf script -F" "$T_TMP/out"
t_done
