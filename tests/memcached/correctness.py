#!/usr/bin/env python3
"""Correctness of a memcached server against real protocol exchanges.

usage: tests/memcached/correctness.py HOST:PORT TRANSCRIPT

Prints one "ok - ..." / "not ok - ..." line per check.  TRANSCRIPT receives every
deterministic answer the server gave (command -> reply), so the same run against stock
Linux and against a UKL image can be compared byte for byte.

The checks: 10,000 keys of 1 B ... 1,000,000 B stored and read back byte-exact through
single and multi-get; add/replace/append/prepend/incr/decr/cas/touch/delete/flush_all;
the meta protocol (ms/mg/md/ma/mn); 200 concurrent connections; malformed command lines,
oversized keys and values and a client that disconnects mid-value, after each of which the
server must keep serving.
"""
import os
import random
import re
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from memcache import Client  # noqa: E402

host, port = sys.argv[1].rsplit(":", 1)
port = int(port)
transcript = open(sys.argv[2], "w")
failed = 0


def check(what, cond, detail=""):
    global failed
    if cond:
        print("ok - " + what, flush=True)
    else:
        failed += 1
        print("not ok - " + what + (("\n#   " + detail) if detail else ""), flush=True)


def log(cmd, reply):
    # cas uniques depend on what ran before: record them as <cas>
    cmd = re.sub(rb"^(cas \S+ \d+ \d+ \d+) \d+", rb"\1 <cas>", cmd)
    transcript.write("%r -> %r\n" % (cmd[:80], reply))


def ask(c, cmd):
    """one command, one reply line, recorded"""
    reply = c.cmd(cmd)
    log(cmd, reply)
    return reply


def connect():
    return Client(host, port, wait=5, timeout=60)


c = connect()
check("the server answers version (%s)" % c.version.decode(), c.version.startswith(b"VERSION 1.6"))
log(b"version", c.version)
ask(c, b"flush_all\r\n")

# -- 10,000 keys, 1 B ... 1 MB, pipelined sets, read back by multi-get and single get ----------
rng = random.Random(6)
sizes = [1 + (i * 37) % 2048 for i in range(10000)]
big = [1, 1000, 4096, 16384, 65536, 131072, 262144, 524288, 1000000]
for j, s in enumerate(big):
    sizes[j * 997] = s
keys = [b"key:%05d" % i for i in range(10000)]
values = {}
t0 = time.monotonic()
bad_store = []
for start in range(0, len(keys), 200):
    batch = keys[start:start + 200]
    out = []
    for k in batch:
        i = int(k[4:])
        v = bytes(rng.getrandbits(8) for _ in range(sizes[i])) if sizes[i] > 4096 else \
            (b"%d:" % i * (sizes[i] // 6 + 1))[:sizes[i]]
        values[k] = v
        out.append(b"set %s %d 0 %d\r\n%s\r\n" % (k, i, len(v), v))
    c.sock.sendall(b"".join(out))
    for k in batch:
        r = c.line()
        if r != b"STORED":
            bad_store.append((k, r))
check("10,000 pipelined sets (1 B ... 1,000,000 B) all answer STORED", not bad_store, repr(bad_store[:3]))
log(b"10000 sets", b"STORED" if not bad_store else repr(bad_store[:3]).encode())

bad_get = []
for start in range(0, len(keys), 100):
    batch = keys[start:start + 100]
    c.sock.sendall(b"get " + b" ".join(batch) + b"\r\n")
    got = {}
    while True:
        line = c.line()
        if line == b"END":
            break
        _, k, flags, n = line.split()
        got[k] = (int(flags), c.exact(int(n) + 2)[:-2])
    for k in batch:
        if got.get(k) != (int(k[4:]), values[k]):
            bad_get.append(k)
check("multi-get of all 10,000 keys returns every value and flag byte-exact", not bad_get, repr(bad_get[:5]))
log(b"10000 multi-get", b"exact" if not bad_get else b"mismatch")
sample = [keys[j * 997] for j in range(len(big))] + rng.sample(keys, 200)
check("single gets of the largest values and 200 random keys are byte-exact",
      all(c.get(k) == values[k] for k in sample))
print("# 10,000 keys stored and read back in %.1f s" % (time.monotonic() - t0), flush=True)

# -- storage commands ------------------------------------------------------------------------
expect = [
    (b"add key:00001 0 0 1\r\nx\r\n", b"NOT_STORED"),
    (b"add newkey 0 0 3\r\nnew\r\n", b"STORED"),
    (b"replace missing 0 0 1\r\nx\r\n", b"NOT_STORED"),
    (b"replace newkey 5 0 4\r\nnew2\r\n", b"STORED"),
    (b"append newkey 0 0 3\r\n-ap\r\n", b"STORED"),
    (b"prepend newkey 0 0 3\r\npp-\r\n", b"STORED"),
    (b"append missing 0 0 1\r\nx\r\n", b"NOT_STORED"),
    (b"set counter 0 0 2\r\n10\r\n", b"STORED"),
    (b"incr counter 5\r\n", b"15"),
    (b"decr counter 20\r\n", b"0"),
    (b"incr counter 18446744073709551615\r\n", b"18446744073709551615"),
    (b"incr counter 1\r\n", b"0"),
    (b"incr newkey 1\r\n", b"CLIENT_ERROR cannot increment or decrement non-numeric value"),
    (b"incr missing 1\r\n", b"NOT_FOUND"),
    (b"touch newkey 100\r\n", b"TOUCHED"),
    (b"touch missing 100\r\n", b"NOT_FOUND"),
    (b"delete missing\r\n", b"NOT_FOUND"),
]
for cmd, want in expect:
    got = ask(c, cmd)
    check("%s -> %s" % (cmd.split(b"\r\n")[0].decode(), want.decode()), got == want, "got %r" % got)
check("append/prepend/replace compose (pp-new2-ap, flags 5)", c.get(b"newkey") == b"pp-new2-ap")
c.sock.sendall(b"gets newkey\r\n")
line = c.line()
cas = int(line.split()[4])
c.exact(len(b"pp-new2-ap") + 2)
c.line()
check("cas with a stale unique -> EXISTS",
      ask(c, b"cas newkey 0 0 1 %d\r\nx\r\n" % (cas + 1000)) == b"EXISTS")
check("cas with the current unique -> STORED", ask(c, b"cas newkey 0 0 1 %d\r\ny\r\n" % cas) == b"STORED")
check("cas on a missing key -> NOT_FOUND", ask(c, b"cas missing 0 0 1 1\r\nx\r\n") == b"NOT_FOUND")
check("delete -> DELETED, then a miss", ask(c, b"delete newkey\r\n") == b"DELETED" and c.get(b"newkey") is None)

# -- meta protocol ---------------------------------------------------------------------------
check("ms stores (HD)", ask(c, b"ms meta 5 T0 F7\r\nhello\r\n") == b"HD")
c.sock.sendall(b"mg meta v f s\r\n")
head = c.line()
val = c.exact(7)
log(b"mg meta v f s", head + val)
check("mg returns value, flags and size (VA 5 f7 s5)", head == b"VA 5 f7 s5" and val == b"hello\r\n", repr(head))
check("mg of a missing key -> EN", ask(c, b"mg nometa v\r\n") == b"EN")
check("ma on a missing key -> NF", ask(c, b"ma nometa\r\n") == b"NF")
ask(c, b"ms num 1\r\n7\r\n")
c.sock.sendall(b"ma num D3 v\r\n")
head = c.line()
val = c.line()
log(b"ma num D3 v", head + val)
check("ma increments by a delta (7+3 = 10)", head == b"VA 2" and val == b"10")
check("md deletes (HD), then mg misses (EN)", ask(c, b"md meta\r\n") == b"HD" and ask(c, b"mg meta v\r\n") == b"EN")
check("mn answers MN", ask(c, b"mn\r\n") == b"MN")

# -- malformed input; the server keeps serving after each ------------------------------------
check("an unknown command -> ERROR", ask(c, b"bogus command\r\n") == b"ERROR")
check("set with a non-numeric length -> CLIENT_ERROR",
      ask(c, b"set k 0 0 notanumber\r\n").startswith(b"CLIENT_ERROR"))
check("a 251-byte key -> CLIENT_ERROR", ask(c, b"get " + b"k" * 251 + b"\r\n").startswith(b"CLIENT_ERROR"))
c2 = connect()
huge = b"z" * (2 * 1024 * 1024)
c2.sock.sendall(b"set huge 0 0 %d\r\n" % len(huge) + huge + b"\r\n")
r = c2.line()
log(b"set huge 2 MiB", r)
check("a 2 MiB value -> SERVER_ERROR object too large for cache", r == b"SERVER_ERROR object too large for cache")
check("... and that connection still serves", c2.get(b"key:00002") == values[b"key:00002"])
s = socket.create_connection((host, port), timeout=30)
s.sendall(b"set halfway 0 0 100000\r\n" + b"h" * 5000)
s.close()
time.sleep(0.5)
c3 = connect()
check("a client disconnecting mid-value leaves no item behind", c3.get(b"halfway") is None)
check("... and the server keeps serving", c3.get(b"key:00003") == values[b"key:00003"])

# -- 200 concurrent connections --------------------------------------------------------------
conns = []
try:
    for i in range(200):
        conns.append(socket.create_connection((host, port), timeout=60))
    for i, s in enumerate(conns):
        s.sendall(b"set conn:%d 0 0 %d\r\n%d\r\n" % (i, len(b"%d" % i), i))
    okc = 0
    for i, s in enumerate(conns):
        buf = b""
        while not buf.endswith(b"\r\n"):
            buf += s.recv(100)
        okc += buf == b"STORED\r\n"
    for i, s in enumerate(conns):
        s.sendall(b"get conn:%d\r\n" % i)
    for i, s in enumerate(conns):
        want = b"VALUE conn:%d 0 %d\r\n%d\r\nEND\r\n" % (i, len(b"%d" % i), i)
        buf = b""
        while len(buf) < len(want) and not buf.endswith(b"END\r\n"):
            buf += s.recv(200)
        okc += buf == want
    check("200 concurrent connections each set and get their own key", okc == 400, "%d/400" % okc)
    st = c3.stats()
    check("stats counts the 200 connections (curr_connections >= 200)", int(st["curr_connections"]) >= 200,
          st.get("curr_connections", "?"))
finally:
    for s in conns:
        s.close()

# -- flush_all and stats ---------------------------------------------------------------------
check("flush_all -> OK, then the keys miss", ask(c3, b"flush_all\r\n") == b"OK" and c3.get(b"key:00004") is None)
st = c3.stats()
check("stats: cmd_set counts the sets (>= 10,000)", int(st.get("cmd_set", 0)) >= 10000)
check("stats: 4 worker threads", st.get("threads") == "4")
transcript.close()
print("# %d failed" % failed)
sys.exit(1 if failed else 0)
