#!/usr/bin/env bash
# The load generator (eval/loadgen/mcload.c): its histogram math, and its protocol handling
# against a real memcached (Debian's 1.6.18, our stock build, run on the host).
. "$(dirname "$0")/../lib.sh"
mc=$("$TOP/eval/loadgen/build.sh") || { not_ok "mcload builds"; t_done; }
ok "mcload builds"
"$mc" --selftest >"$T_TMP/self" 2>&1
sed -n 's/^\(not \)\?ok [0-9]* - /&/p' "$T_TMP/self" | sed 's/^ok [0-9]* - /ok - histogram: /; s/^not ok [0-9]* - /not ok - histogram: /'
grep -q '^not ok' "$T_TMP/self" && T_FAILED=1
grep -q '^# [0-9]* passed, 0 failed' "$T_TMP/self" || not_ok "histogram selftest finished" "$(tail -n 3 "$T_TMP/self")"

make -C "$TOP" --no-print-directory app APP=memcached PROFILE=linux >"$T_TMP/build" 2>&1 ||
	{ not_ok "memcached (stock) builds for the host" "$(tail -n 5 "$T_TMP/build")"; t_done; }
server=$("$TOP/scripts/app.sh" --bin memcached stock)
port=$(free_port)
"$server" -u root -l 127.0.0.1 -p "$port" -U 0 -t 2 -m 64 &
srv=$!
trap 'kill $srv 2>/dev/null; rm -rf "$T_TMP"' EXIT
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
