#!/usr/bin/env bash
# redis (Debian's 7.0.15, libc malloc, RDB persistence on) on stock Linux and as UKL images,
# driven through the forwarded host port by Debian's redis-tools: redis-cli runs
# tests/redis/commands.txt (strings, lists, hashes, sets, expiry, MULTI/EXEC/WATCH, Lua EVAL)
# and must print tests/redis/expected.txt byte for byte on every profile; pub/sub between two
# clients; redis-benchmark's standard mix with no error reply; BGSAVE while a client writes,
# then DEBUG RELOAD (save, flush, load the RDB file) gives the same dataset.  On a UKL image
# fork() is refused (one copy of the app's data): BGSAVE fails, redis logs the refused fork
# and keeps serving.
# time-limit: 2400
. "$(dirname "$0")/../lib.sh"
"$TOP/scripts/setup.sh" --check-or-install >/dev/null || { not_ok "host tools (scripts/setup.sh)"; t_done; }
# CI: the TCP shortcut profile (ret, bypass and the shortcut, which must carry redis unchanged;
# the CI budget has room for one UKL redis image); PROFILES=all: every UKL profile
use_profiles "ukl-shortcut"
args="$(. "$TOP/scripts/lib.sh"; "$TOP/scripts/app.sh" --show redis | sed -n 's/^APP_ARGS=//p') --enable-debug-command yes"

# listen_overflows: the host's TcpExt ListenOverflows (handshakes dropped for a full accept queue)
listen_overflows() {
	awk '$1 == "TcpExt:" { if (!n) { n = split($0, k) } else { split($0, v); for (i = 1; i <= n; i++) if (k[i] == "ListenOverflows") print v[i] } }' /proc/net/netstat
}
# info PORT SECTION FIELD: one field of INFO
info() { redis-cli -p "$1" INFO "$2" | tr -d '\r' | sed -n "s/^$3://p"; }

serve() {
	local profile=$1 out=$TOP/out/redis/$1 port runner cli d1 d2 sub bench
	build_image redis "$profile"
	port=$(free_port)
	env HOSTPORT="$port" TIMEOUT=900 ARGS="$args" "$TOP/scripts/boot-app.sh" redis "$profile" >"$T_TMP/console.$profile" 2>&1 &
	runner=$!
	if ! python3 "$TOP/scripts/resp.py" --wait 180 "127.0.0.1:$port" cmd PING >/dev/null 2>&1; then
		not_ok "$profile: redis answers on the forwarded port" "$(tail -n 20 "$out/run.log")"
		kill -TERM $runner; wait $runner
		return
	fi
	ok "$profile: redis answers on the forwarded port"
	cli=(redis-cli -h 127.0.0.1 -p "$port")
	expect_grep "$profile: ... redis 7.0.15, started by init" "Redis version=7\.0\.15" "$out/run.log"

	"${cli[@]}" --no-raw <"$TOP/tests/redis/commands.txt" >"$T_TMP/transcript.$profile" 2>&1
	if cmp -s "$TOP/tests/redis/expected.txt" "$T_TMP/transcript.$profile"; then
		ok "$profile: redis-cli gets tests/redis/expected.txt byte for byte ($(wc -l <"$TOP/tests/redis/commands.txt") commands: strings, lists, hashes, sets, expiry, MULTI/EXEC/WATCH, Lua)"
	else
		not_ok "$profile: redis-cli gets tests/redis/expected.txt byte for byte" \
			"$(diff "$TOP/tests/redis/expected.txt" "$T_TMP/transcript.$profile" | head -n 12)"
	fi

	# pub/sub: a subscriber on one connection, a publisher on another
	timeout 60 "${cli[@]}" --no-raw SUBSCRIBE news >"$T_TMP/sub" 2>&1 &
	sub=$!
	for _ in $(seq 100); do [ "$("${cli[@]}" PUBSUB NUMSUB news | tail -n 1)" = 1 ] && break; sleep 0.2; done
	expect_grep "$profile: PUBLISH reaches the one subscriber" '^1$' <("${cli[@]}" PUBLISH news "hello subscribers")
	for _ in $(seq 50); do grep -q 'hello subscribers' "$T_TMP/sub" && break; sleep 0.2; done
	kill $sub 2>/dev/null; wait $sub 2>/dev/null
	expect_grep "$profile: ... which receives the message" '"hello subscribers"' "$T_TMP/sub"

	# the standard command mix, then no error reply in the server's own statistics
	bench=set,get,incr,lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,mset
	if timeout 600 redis-benchmark -h 127.0.0.1 -p "$port" -n 1000 -c 20 -t "$bench" -q >"$T_TMP/bench" 2>&1 &&
		[ "$(grep -c 'requests per second' "$T_TMP/bench")" -ge 14 ] && ! grep -qi 'error' "$T_TMP/bench"; then
		ok "$profile: redis-benchmark runs the standard mix ($bench, 1000 requests each, 20 clients)"
	else
		not_ok "$profile: redis-benchmark runs the standard mix" "$(tail -n 8 "$T_TMP/bench")"
	fi
	# the paper's load shape: 100 clients connect at once (3 threads).  Through QEMU's user
	# networking that needs scripts/slirp-backlog.c: with slirp's own backlog of 1 the host
	# drops handshakes (ListenOverflows) and clients end with "Connection reset by peer"
	local o1 o2
	o1=$(listen_overflows)
	if timeout 300 redis-benchmark -h 127.0.0.1 -p "$port" -n 20000 -c 100 --threads 3 -t set,get -q >"$T_TMP/paper" 2>&1 &&
		[ "$(tr '\r' '\n' <"$T_TMP/paper" | grep -c 'requests per second')" = 2 ] && ! grep -qi 'error' "$T_TMP/paper"; then
		ok "$profile: redis-benchmark with the paper's 100 clients and 3 threads (SET and GET, 20000 each)"
	else
		not_ok "$profile: redis-benchmark with the paper's 100 clients and 3 threads" \
			"$(tr '\r' '\n' <"$T_TMP/paper" | grep -v 'rps=' | grep . | tail -n 4)"
	fi
	o2=$(listen_overflows)
	expect_grep "$profile: ... and the host's accept queue never overflowed (TcpExt ListenOverflows +0)" '^0$' <(echo $((o2 - o1)))

	# the transcript's deliberate errors (NOSCRIPT, an unknown command inside EVAL, WRONGTYPE)
	# count as 2 in total_error_replies on stock redis: nothing may add to them
	expect_grep "$profile: ... with no error reply beyond the transcript's deliberate ones (2)" '^2$' \
		<(info "$port" stats total_error_replies)

	# BGSAVE while a client writes, then DEBUG RELOAD gives the same dataset
	redis-benchmark -h 127.0.0.1 -p "$port" -t set -n 20000 -r 5000 -c 4 -q >"$T_TMP/writer" 2>&1 &
	local writer=$!
	sleep 2
	"${cli[@]}" BGSAVE >"$T_TMP/bgsave" 2>&1
	if [ "$profile" = linux ]; then
		for _ in $(seq 300); do [ "$(info "$port" persistence rdb_bgsave_in_progress)" = 0 ] && break; sleep 1; done
		expect_grep "$profile: BGSAVE while a client writes: the child saves" 'Background saving started' "$T_TMP/bgsave"
		expect_grep "$profile: ... and reports success" '^ok$' <(info "$port" persistence rdb_last_bgsave_status)
	else
		expect_grep "$profile: BGSAVE is refused (a UKL image cannot be forked)" 'ERR' "$T_TMP/bgsave"
		expect_grep "$profile: ... redis logs the refused fork" \
			"Can't save in background: fork: Device or resource busy" "$out/run.log"
		expect_grep "$profile: ... the kernel names the limit" \
			'ukl: fork\(\) of [^ ]+\[[0-9]+\] refused \(EBUSY\)' "$out/run.log"
		expect_grep "$profile: ... and redis keeps serving: PING" '^PONG$' <("${cli[@]}" PING)
		expect_grep "$profile: ... and a write (stop-writes-on-bgsave-error no)" '^OK$' <("${cli[@]}" SET after-bgsave 1)
	fi
	wait $writer
	if grep -q 'requests per second' "$T_TMP/writer" && ! grep -q 'Error' "$T_TMP/writer"; then
		ok "$profile: ... the writing client saw no error reply (20000 SETs)"
	else
		not_ok "$profile: ... the writing client saw no error reply" "$(tr '\r' '\n' <"$T_TMP/writer" | grep -v 'rps=' | grep . | tail -n 3)"
	fi
	d1=$("${cli[@]}" DEBUG DIGEST)
	"${cli[@]}" DEBUG RELOAD >"$T_TMP/reload" 2>&1
	d2=$("${cli[@]}" DEBUG DIGEST)
	if grep -q '^OK$' "$T_TMP/reload" && [ -n "$d1" ] && [ "$d1" = "$d2" ] && [ "$d1" != 0000000000000000000000000000000000000000 ]; then
		ok "$profile: DEBUG RELOAD (save, flush, load the RDB file) gives the same dataset (digest $d1, $("${cli[@]}" DBSIZE) keys)"
	else
		not_ok "$profile: DEBUG RELOAD gives the same dataset" "reload: $(cat "$T_TMP/reload"), digest $d1 -> $d2"
	fi
	expect_quiet_kernel "$profile: no kernel warning on the console" "$out/run.log"
	stop_runner "$profile: SIGTERM ends the runner (143)" $runner "$T_TMP/console.$profile"
}

serve linux
for profile in $UKL_SET; do
	serve "$profile"
done
demo=$(set -- $UKL_SET; echo "$1")
expect_ok "make demo APP=redis PROFILE=$demo boots redis, talks to it and powers off" \
	make -C "$TOP" --no-print-directory demo APP=redis PROFILE="$demo" HOSTPORT=auto
expect_grep "... showing the conversation" '< "hello from the guest"' "$T_TMP/out"
t_done
