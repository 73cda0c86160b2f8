#!/usr/bin/env bash
# The load generator (eval/loadgen/mcload.c): its histogram math, its accounting against a
# server that stalls (every request of the measured window completed, an error or timed out,
# and the exit status says so), and its protocol handling against a real memcached (Debian's
# 1.6.18, our stock build, run on the host).
. "$(dirname "$0")/../lib.sh"
pids=
trap 'kill $pids 2>/dev/null; rm -rf "$T_TMP"' EXIT
mc=$("$TOP/eval/loadgen/build.sh") || { not_ok "mcload builds"; t_done; }
ok "mcload builds"
"$mc" --selftest >"$T_TMP/self" 2>&1
sed -n 's/^\(not \)\?ok [0-9]* - /&/p' "$T_TMP/self" | sed 's/^ok [0-9]* - /ok - histogram: /; s/^not ok [0-9]* - /not ok - histogram: /'
grep -q '^not ok' "$T_TMP/self" && T_FAILED=1
grep -q '^# [0-9]* passed, 0 failed' "$T_TMP/self" || not_ok "histogram selftest finished" "$(tail -n 3 "$T_TMP/self")"

# -- accounting against a server that stalls -----------------------------------------------
cat >"$T_TMP/stall.py" <<'PY'
# A memcached text-protocol server (get, set) that stops answering STALL seconds after its
# first connection: it keeps every connection open but reads and answers nothing more (a
# stall, not a close).  It writes its port to PORT_FILE and exits after LIFE seconds.
import socket, sys, threading, time, os
stall, life, port_file = float(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
store, first = {}, []

def answer(buf):
    """the replies to the complete commands at the start of buf, and what is left of it"""
    out = []
    while True:
        eol = buf.find(b"\r\n")
        if eol < 0:
            break
        w = buf[:eol].split()
        if len(w) == 5 and w[0] == b"set":
            end = eol + 2 + int(w[4])
            if len(buf) < end + 2:
                break
            store[w[1]] = (w[2], buf[eol + 2:end])
            out.append(b"STORED\r\n")
            buf = buf[end + 2:]
            continue
        if len(w) >= 2 and w[0] == b"get":
            for k in w[1:]:
                if k in store:
                    f, v = store[k]
                    out.append(b"VALUE %s %s %d\r\n%s\r\n" % (k, f, len(v), v))
            out.append(b"END\r\n")
        else:
            out.append(b"ERROR\r\n")
        buf = buf[eol + 2:]
    return b"".join(out), buf

def serve(s):
    buf = b""
    while True:
        left = first[0] + stall - time.monotonic()
        if left <= 0:
            time.sleep(life)            # stalled: the connection stays open, unread
            return
        s.settimeout(min(left, 1.0))
        try:
            d = s.recv(65536)
        except socket.timeout:
            continue
        if not d:
            return
        out, buf = answer(buf + d)
        s.sendall(out)

threading.Timer(life, lambda: os._exit(0)).start()
ls = socket.socket()
ls.bind(("127.0.0.1", 0))
ls.listen(64)
with open(port_file + ".tmp", "w") as f:
    f.write("%d\n" % ls.getsockname()[1])
os.rename(port_file + ".tmp", port_file)
while True:
    s, _ = ls.accept()
    if not first:
        first.append(time.monotonic())
    threading.Thread(target=serve, args=(s,), daemon=True).start()
PY
# stall_server SECONDS: start stall.py stalling SECONDS after its first connection (1e9: never),
# living 30 s at most; sets $port and $spid
stall_server() {
	rm -f "$T_TMP/port"
	python3 "$T_TMP/stall.py" "$1" 30 "$T_TMP/port" &
	spid=$!
	pids="$pids $spid"
	for _ in $(seq 100); do [ -s "$T_TMP/port" ] && break; sleep 0.1; done
	port=$(cat "$T_TMP/port" 2>/dev/null) || { not_ok "the stalling server starts and writes its port"; t_done; }
}
stop_server() { kill "$spid" 2>/dev/null; wait "$spid" 2>/dev/null; }
# check_accounting WHAT JSON SCHEDULED TIMED_OUT: every request of the window accounted for,
# SCHEDULED within 3%, TIMED_OUT within 5% of SCHEDULED and the p99 showing them (0: none)
check_accounting() {
	python3 - "$@" >"$T_TMP/check" <<'PY'
import json, sys
what, j, sched, tout = sys.argv[1], json.load(open(sys.argv[2])), int(sys.argv[3]), int(sys.argv[4])
print("# %s: scheduled %d, completed %d (%d after the window), timed out %d, errors %d, p99 %.0f us"
      % (what, j["scheduled"], j["completed"], j["completed_after_window"], j["timed_out"], j["errors"],
         j["latency_us"]["p99"]))
def check(w, cond):
    print(("ok - " if cond else "not ok - ") + what + ": " + w + ("" if cond else " (%r)" % j))
check("scheduled = offered rate x window (3%)", abs(j["scheduled"] - sched) <= 0.03 * sched)
check("completed + timed out + errors = scheduled", j["completed"] + j["timed_out"] + j["errors"] == j["scheduled"])
if tout:
    check("timed out = the stalled share of the window (5% of scheduled)", abs(j["timed_out"] - tout) <= 0.05 * sched)
    check("p99 counts the stalled requests (>= 0.5 s)", j["latency_us"]["p99"] >= 500000)
    check("the JSON says the run is not ok", j["ok"] is False)
else:
    check("all completed, none timed out, no error", j["completed"] == j["scheduled"] and j["timed_out"] == 0 and j["errors"] == 0)
PY
	cat "$T_TMP/check"
	grep -q '^not ok' "$T_TMP/check" && T_FAILED=1
}

# the window is [0.5 s, 6.5 s) after the start: a stall at 3.5 s times out its second half
stall_server 3.5
expect_fail "open loop, server stalls mid-window: exits non-zero naming the timed-out requests" \
	"timed out: [1-9][0-9]* of the [0-9]+ requests scheduled" \
	"$mc" -s "127.0.0.1:$port" --qps 500 -w 0.5 -D 6 --drain 1 --json "$T_TMP/mid.json"
stop_server
check_accounting "... mid-window stall" "$T_TMP/mid.json" 3000 1500
stall_server 6
expect_fail "open loop, server stalls 0.5 s before the window ends: exits non-zero naming them" \
	"timed out: [1-9][0-9]* of the [0-9]+ requests scheduled" \
	"$mc" -s "127.0.0.1:$port" --qps 500 -w 0.5 -D 6 --drain 1 --json "$T_TMP/end.json"
stop_server
check_accounting "... end-of-window stall" "$T_TMP/end.json" 3000 250
stall_server 1e9
expect_ok "open loop at 500 req/s against the same server, not stalling: exit 0" \
	"$mc" -s "127.0.0.1:$port" --qps 500 -w 0.2 -D 2 --drain 1 --json "$T_TMP/steady.json"
stop_server
check_accounting "... no stall" "$T_TMP/steady.json" 1000 0

# closed loop, 2 connections x depth 2: the 4 requests outstanding at the stall time out
stall_server 1.2
expect_fail "closed loop, server stalls mid-window: exits non-zero naming the timed-out requests" \
	"timed out: 4 of the [0-9]+ requests scheduled" \
	"$mc" -s "127.0.0.1:$port" -c 2 -P 2 -w 0.2 -D 2 --drain 1 --json "$T_TMP/closed.json"
stop_server
python3 - "$T_TMP/closed.json" >"$T_TMP/check" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
print("# ... closed loop stall: scheduled %d, completed %d, timed out %d, errors %d, %.0f ops/s over %.1f s"
      % (j["scheduled"], j["completed"], j["timed_out"], j["errors"], j["ops_per_sec"], j["seconds"]))
def check(w, cond):
    print(("ok - " if cond else "not ok - ") + w + ("" if cond else " (%r)" % j))
check("... closed loop stall: completed + timed out + errors = scheduled, 4 timed out",
      j["completed"] + j["timed_out"] + j["errors"] == j["scheduled"] and j["timed_out"] == 4 and j["completed"] > 0)
check("... closed loop stall: ops/s = answers inside the window / the whole window",
      j["seconds"] == 2 and abs(j["ops_per_sec"] * j["seconds"] - (j["completed"] - j["completed_after_window"])) <= 1)
PY
cat "$T_TMP/check"; grep -q '^not ok' "$T_TMP/check" && T_FAILED=1
stall_server 0.3
expect_fail "closed loop -n, server stalls: gives up after --drain without an answer" \
	"timed out: 2 of the [0-9]+ requests scheduled got no answer after none came for 1.0 s" \
	timeout 20 "$mc" -s "127.0.0.1:$port" -c 2 -n 10000000 --drain 1
stop_server

expect_fail "--qps 0 is refused, saying why" "--qps 0: the offered rate must be a positive number" \
	"$mc" -s 127.0.0.1:1 --qps 0 -D 1
for a in "--qps -5" "--qps abc" "-D 0" "-n 0" "--drain 0" "-t 0"; do
	# shellcheck disable=SC2086
	expect_fail "mcload $a is refused, saying why" "^mcload: $a: " "$mc" -s 127.0.0.1:1 $a
done

make -C "$TOP" --no-print-directory app APP=memcached PROFILE=linux >"$T_TMP/build" 2>&1 ||
	{ not_ok "memcached (stock) builds for the host" "$(tail -n 5 "$T_TMP/build")"; t_done; }
server=$("$TOP/scripts/app.sh" --bin memcached stock)
port=$(free_port)
"$server" -u root -l 127.0.0.1 -p "$port" -U 0 -t 2 -m 64 &
srv=$!
pids="$pids $srv"
python3 "$TOP/scripts/memcache.py" --wait 10 "127.0.0.1:$port" raw 'version\r\n' >/dev/null

expect_ok "closed loop, get-only over a prefilled key space" \
	"$mc" -s "127.0.0.1:$port" -t 2 -c 4 -P 4 -R 0:1 -k 500 -d 100 --prefill -n 20000 \
	--json "$T_TMP/a.json" --hdr "$T_TMP/a"
python3 - "$T_TMP/a.json" "$T_TMP/a.txt" >"$T_TMP/check" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
def check(what, cond):
    print(("ok - " if cond else "not ok - ") + what + ("" if cond else " (%r)" % j))
check("... every request answered: 20000 gets, all hits, no miss, no error",
      j["requests"] == 20000 and j["gets"] == 20000 and j["hits"] == 20000 and j["misses"] == 0 and j["errors"] == 0)
l = j["latency_us"]
check("... percentiles are ordered (p50 <= p90 <= p99 <= p99.9 <= max)",
      0 < l["p50"] <= l["p90"] <= l["p99"] <= l["p99.9"] <= l["max"])
rows = [x.split() for x in open(sys.argv[2]) if x.strip() and not x.startswith("#")]
check("... HDR file: Value/Percentile/TotalCount header", rows[0][:3] == ["Value", "Percentile", "TotalCount"])
check("... HDR file: ends at percentile 1 with the total count",
      float(rows[-1][1]) == 1.0 and int(rows[-1][2]) == 20000)
check("... HDR file: its max equals the reported max (ms vs us)", abs(float(rows[-1][0]) * 1000 - l["max"]) <= l["max"] / 64 + 1)
PY
cat "$T_TMP/check"; grep -q '^not ok' "$T_TMP/check" && T_FAILED=1

expect_ok "get-only over a key space mostly never stored: misses are counted" \
	"$mc" -s "127.0.0.1:$port" -R 0:1 -k 100000 -d 10 -n 2000 --json "$T_TMP/b.json" --seed 7
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if j["misses"] > 0 and j["hits"] + j["misses"] == 2000 else 1)' "$T_TMP/b.json" &&
	ok "... hits + misses = gets, misses counted" || not_ok "... hits + misses = gets, misses counted" "$(cat "$T_TMP/b.json")"

expect_ok "open loop at 2000 req/s for 3 s, values 10-5000 B" \
	"$mc" -s "127.0.0.1:$port" -t 2 -c 2 -k 1000 -d 10-5000 --qps 2000 -w 0.5 -D 3 --json "$T_TMP/c.json" --csv "$T_TMP/c.csv"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if abs(j["ops_per_sec"]-2000) < 100 and j["errors"] == 0 else 1)' "$T_TMP/c.json" &&
	ok "... achieves the offered rate within 5% with no error" || not_ok "... achieves the offered rate within 5%" "$(cat "$T_TMP/c.json")"
expect_grep "... CSV summary with a header and a row" '^run,open,2000,' "$T_TMP/c.csv"

"$mc" -s "127.0.0.1:$port" -k 10 -d 2000000 -n 10 >"$T_TMP/out" 2>&1 && not_ok "a value size over 1 MB is refused" || ok "a value size over 1 MB is refused"
( sleep 1.5; kill $srv ) &
expect_fail "the server going away mid-run is an error saying so" "closed the connection|recv|send" \
	"$mc" -s "127.0.0.1:$port" -c 2 -k 100 -d 100 -D 5 -w 0
t_done
