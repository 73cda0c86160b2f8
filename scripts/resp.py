#!/usr/bin/env python3
"""A tiny redis (RESP2) client for the demo and the boot tests.

usage: scripts/resp.py [--wait SECS] HOST:PORT demo
       scripts/resp.py [--wait SECS] HOST:PORT cmd WORD... [-- WORD...]...

cmd sends each command (its words separated by "--") on one connection and prints each
reply as redis-cli --no-raw would show it.  --wait retries the first exchange until the
server answers (QEMU's port forward accepts connections before the guest listens, then
drops them).
"""
import sys

from lineclient import LineClient, connect


class Client(LineClient):
    NAME = "redis"

    def __init__(self, host, port, wait=0.0, timeout=30.0):
        super().__init__(host, port, wait, timeout)

    def probe(self):
        if self.call("PING") != "PONG":
            raise OSError("unexpected answer to PING")

    def reply(self):
        """one reply: str (status), Error, int, bytes or None (bulk), list"""
        line = self.line()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            return Error(rest.decode())
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.exact(n + 2)[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.reply() for _ in range(n)]
        raise OSError("bad RESP line %r" % line)

    def call(self, *words):
        parts = [w if isinstance(w, bytes) else str(w).encode() for w in words]
        self.sock.sendall(b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
        return self.reply()


class Error(str):
    pass


def show(r, indent=""):
    """a reply the way redis-cli --no-raw prints it"""
    if isinstance(r, Error):
        return "(error) " + r
    if isinstance(r, int):
        return "(integer) %d" % r
    if r is None:
        return "(nil)"
    if isinstance(r, bytes):
        return '"%s"' % r.decode("latin-1").replace("\\", "\\\\").replace('"', '\\"')
    if isinstance(r, list):
        if not r:
            return "(empty array)"
        w = len(str(len(r)))
        return "\n".join("%s%*d) %s" % (indent if i else "", w, i + 1, show(x, indent + " " * (w + 2)))
                         for i, x in enumerate(r))
    return r


def demo(c):
    say = lambda d, s: print("  %s %s" % (d, s))
    for words in (["PING"], ["SET", "ukl", "hello from the guest"], ["GET", "ukl"], ["INCR", "visits"],
                  ["RPUSH", "l", "a", "b", "c"], ["LRANGE", "l", "0", "-1"]):
        r = c.call(*words)
        say(">", " ".join(words))
        for line in show(r).split("\n"):
            say("<", line)
        if words[0] == "GET" and r != b"hello from the guest":
            raise SystemExit("demo: GET returned %r" % r)
    info = dict(l.split(":", 1) for l in c.call("INFO", "server").decode().split("\r\n") if ":" in l)
    say(">", "INFO server")
    for k in ("redis_version", "process_id", "uptime_in_seconds", "multiplexing_api", "executable"):
        say("<", "%s:%s" % (k, info.get(k, "?")))


def main(argv):
    c, action, args = connect(Client, argv, __doc__)
    if action == "demo":
        demo(c)
    elif action == "cmd":
        cmds, cur = [], []
        for w in args:
            if w == "--":
                cmds.append(cur)
                cur = []
            else:
                cur.append(w)
        if cur:
            cmds.append(cur)
        for words in cmds:
            print(show(c.call(*words)))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except OSError as e:
        raise SystemExit("resp.py: %s" % e)
