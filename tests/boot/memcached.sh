#!/usr/bin/env bash
# Boot the stock memcached image and talk to it through the forwarded host port.
. "$(dirname "$0")/../lib.sh"
build_image memcached linux
out=$TOP/out/memcached/linux
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# a busy host port is an error naming the fix, before QEMU starts
port=$(free_port)
python3 -c 'import socket,time,sys; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(60)' "$port" &
holder=$!
sleep 0.5
expect_fail "a busy HOSTPORT is an error naming the fix" "port $port is already in use.*HOSTPORT=auto" \
	env HOSTPORT="$port" TIMEOUT=30 "$TOP/scripts/boot-app.sh" memcached linux
kill $holder; wait $holder 2>/dev/null

port=$(free_port)
env HOSTPORT="$port" TIMEOUT=300 "$TOP/scripts/boot-app.sh" memcached linux >"$T_TMP/console" 2>&1 &
runner=$!
TOP=$TOP python3 - "$port" <<'PY' >"$T_TMP/client" 2>&1
import os, random, sys
sys.path.insert(0, os.path.join(os.environ["TOP"], "scripts"))
from memcache import Client

def check(what, cond):
    print(("ok - " if cond else "not ok - ") + what, flush=True)

c = Client("127.0.0.1", int(sys.argv[1]), wait=180)
check("memcached answers version through the forwarded port (%s)" % c.version.decode(),
      c.version == b"VERSION 1.6.18")
check("set answers STORED", c.set(b"k1", b"v1") == b"STORED")
check("get returns the value", c.get(b"k1") == b"v1")
big = bytes(random.Random(1).getrandbits(8) for _ in range(500000))
check("a 500 kB binary value round-trips byte-exact", c.set(b"big", big) == b"STORED" and c.get(b"big") == big)
check("a missing key is a miss", c.get(b"nosuch") is None)
check("delete answers DELETED", c.cmd(b"delete k1\r\n") == b"DELETED")
st = c.stats()
check("stats reports 4 worker threads", st.get("threads") == "4")
check("stats counts our sets and gets", int(st["cmd_set"]) >= 2 and int(st["get_hits"]) >= 2)
check("stats reports version 1.6.18", st.get("version") == "1.6.18")
PY
cat "$T_TMP/client"
grep -q '^ok - memcached answers' "$T_TMP/client" || not_ok "client run" "$(cat "$T_TMP/client")"
grep -q '^not ok' "$T_TMP/client" && T_FAILED=1
kill -TERM $runner
rc=0; wait $runner || rc=$?
if [ $rc = 143 ]; then ok "SIGTERM ends the runner (143) and QEMU with it"; else not_ok "SIGTERM ends the runner (143)" "exit $rc" "$(tail -n 5 "$T_TMP/console")"; fi
if pgrep -f "qemu-system-x86_64.*out/memcached/linux" >/dev/null; then not_ok "... no QEMU left behind"; else ok "... no QEMU left behind"; fi
expect_grep "the console shows memcached started by init" "ukl-init: starting memcached: /app/memcached -u root -t 4" "$out/run.log"

expect_ok "make demo boots memcached, talks to it and powers off" \
	make -C "$TOP" --no-print-directory demo APP=memcached PROFILE=linux HOSTPORT=auto
expect_grep "... showing the conversation" "< VERSION 1.6.18" "$T_TMP/out"
t_done
