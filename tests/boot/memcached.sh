#!/usr/bin/env bash
# memcached (Debian's 1.6.18, unmodified, 4 worker threads) on stock Linux and as UKL
# images (every UKL profile), each driven through the forwarded host port by real clients: Debian's
# libmemcached-tools (memccapable binary and ascii, memcstat, memccp/memccat) and the
# project's correctness run (tests/memcached/correctness.py).  The UKL server must give
# exactly the answers the stock one gives.
# time-limit: 2400
. "$(dirname "$0")/../lib.sh"
"$TOP/scripts/setup.sh" --check-or-install >/dev/null || { not_ok "host tools (scripts/setup.sh)"; t_done; }
# CI: the fast paths (ukl-shortcut: ret, bypass, TCP shortcut); the direct entries serve
# memcached's real clients in tests/boot/pgo.sh (ukl-lto), the full entry and the #DF route
# are the selftest's and lebench's (PROFILES=all: every UKL profile)
use_profiles "ukl-shortcut"
mcload=$("$TOP/eval/loadgen/build.sh") || { not_ok "the load generator builds"; t_done; }

# a busy host port is an error naming the fix, before QEMU starts
build_image memcached linux
port=$(free_port)
python3 -c 'import socket,time,sys; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(60)' "$port" &
holder=$!
sleep 0.5
expect_fail "a busy HOSTPORT is an error naming the fix" "port $port is already in use.*HOSTPORT=auto" \
	env HOSTPORT="$port" TIMEOUT=30 "$TOP/scripts/boot-app.sh" memcached linux
kill $holder; wait $holder 2>/dev/null

# serve PROFILE: boot out/memcached/PROFILE in the background and run every client against it
serve() {
	local profile=$1 out=$TOP/out/memcached/$1 port runner srv
	build_image memcached "$profile"
	port=$(free_port)
	env HOSTPORT="$port" TIMEOUT=900 MONITOR="$T_TMP/monitor.$profile" "$TOP/scripts/boot-app.sh" memcached "$profile" >"$T_TMP/console.$profile" 2>&1 &
	runner=$!
	srv=127.0.0.1:$port
	if ! python3 "$TOP/scripts/memcache.py" --wait 180 "$srv" raw 'version\r\n' >/dev/null 2>&1; then
		not_ok "$profile: memcached answers on the forwarded port" "$(tail -n 20 "$out/run.log")"
		kill -TERM $runner; wait $runner
		return
	fi
	ok "$profile: memcached answers on the forwarded port"
	expect_grep "$profile: ... started by init with 4 worker threads" \
		"ukl-init: starting memcached: /.* -u root -t 4" "$out/run.log"
	expect_grep "$profile: ... on 2 CPUs (the kernel brought up both vCPUs)" \
		"smp: Brought up 1 node, 2 CPUs" "$out/run.log"

	expect_ok "$profile: memccapable (binary protocol) passes" timeout 300 memccapable -h 127.0.0.1 -p "$port"
	expect_grep "$profile: ... all of its tests" "All tests passed" "$T_TMP/out"
	expect_ok "$profile: memccapable -a (ascii protocol) passes" timeout 300 memccapable -a -h 127.0.0.1 -p "$port"
	expect_grep "$profile: ... all of its tests" "All tests passed" "$T_TMP/out"

	head -c 300000 /dev/urandom >"$T_TMP/blob.$profile"
	expect_ok "$profile: memccp stores a 300 kB file" memccp --servers="$srv" "$T_TMP/blob.$profile"
	memccat --servers="$srv" "blob.$profile" >"$T_TMP/back.$profile" 2>"$T_TMP/err"
	# memccat ends each value with a newline of its own
	{ cat "$T_TMP/blob.$profile"; echo; } >"$T_TMP/want.$profile"
	if cmp -s "$T_TMP/want.$profile" "$T_TMP/back.$profile"; then
		ok "$profile: memccat returns it byte-exact"
	else
		not_ok "$profile: memccat returns it byte-exact" "$(cat "$T_TMP/err")"
	fi
	expect_ok "$profile: memcstat reports the server" memcstat --servers="$srv"
	expect_grep "$profile: ... with 4 threads" "threads: 4" "$T_TMP/out"

	python3 "$TOP/tests/memcached/correctness.py" "$srv" "$T_TMP/transcript.$profile" >"$T_TMP/client" 2>&1
	sed -n 's/^\(not \)\?ok - /&'"$profile"': /p; /^#/p' "$T_TMP/client"
	grep -q '^not ok' "$T_TMP/client" && T_FAILED=1
	grep -q '^# 0 failed' "$T_TMP/client" || not_ok "$profile: the correctness run finished" "$(tail -n 5 "$T_TMP/client")"
	expect_ok "$profile: after all of it the server still serves" \
		python3 "$TOP/scripts/memcache.py" "$srv" raw 'version\r\n'

	# the privilege level memcached runs at, seen by the CPU while it serves a load: QEMU's
	# monitor samples every vCPU's RIP and CPL (scripts/guest-cpl.py)
	"$mcload" -s "$srv" -t 1 -c 4 -P 2 -R 1:4 -k 1000 -d 64 --prefill -D 8 >"$T_TMP/load" 2>&1 &
	local load=$! want=ukl
	[ "$profile" = linux ] && want=linux
	sleep 1
	if "$TOP/scripts/guest-cpl.py" "$T_TMP/monitor.$profile" "$out/System.map" --seconds 5 --expect $want --min-app 3 >"$T_TMP/cpl" 2>&1; then
		ok "$profile: under load the CPU runs memcached at CPL $([ $want = ukl ] && echo '0 (samples in the fused app'"'"'s text)' || echo '3 (samples in user space)'): $(tail -n 1 "$T_TMP/cpl" | sed 's/^guest-cpl: //')"
	else
		not_ok "$profile: under load the CPU runs memcached at the profile's CPL" "$(cat "$T_TMP/cpl")"
	fi
	wait $load || true
	expect_quiet_kernel "$profile: no kernel warning on the console" "$out/run.log"
	stop_runner "$profile: SIGTERM ends the runner (143)" $runner "$T_TMP/console.$profile"
	if pgrep -f "qemu-system-x86_64.*out/memcached/$profile/" >/dev/null; then
		not_ok "$profile: ... no QEMU left behind"
	else
		ok "$profile: ... no QEMU left behind"
	fi
}

serve linux
for profile in $UKL_SET; do
	serve "$profile"
	if diff "$T_TMP/transcript.linux" "$T_TMP/transcript.$profile" >"$T_TMP/diff"; then
		ok "$profile answers every deterministic command exactly as stock Linux ($(wc -l <"$T_TMP/transcript.$profile") exchanges)"
	else
		not_ok "$profile answers every deterministic command exactly as stock Linux" "$(head -n 10 "$T_TMP/diff")"
	fi
done
expect_ok "make demo (default profile) boots memcached, talks to it and powers off" \
	make -C "$TOP" --no-print-directory demo APP=memcached HOSTPORT=auto
expect_grep "... showing the conversation" "< VERSION 1.6.18" "$T_TMP/out"
t_done
