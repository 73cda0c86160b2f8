#!/usr/bin/env python3
"""A tiny memcached text-protocol client for the demo and the boot tests.

usage: scripts/memcache.py [--wait SECS] HOST:PORT demo
       scripts/memcache.py [--wait SECS] HOST:PORT raw 'command\\r\\n' ...

--wait retries the first exchange until the server answers (QEMU's port forward accepts
connections before the guest listens, then drops them).
"""
import sys

from lineclient import LineClient, connect


class Client(LineClient):
    NAME = "memcached"

    def probe(self):
        self.sock.sendall(b"version\r\n")
        self.version = self.line()
        if not self.version.startswith(b"VERSION "):
            raise OSError("unexpected answer to version: %r" % self.version)

    def cmd(self, text):
        self.sock.sendall(text)
        return self.line()

    def set(self, key, value, flags=0, exptime=0):
        return self.cmd(b"set %s %d %d %d\r\n%s\r\n" % (key, flags, exptime, len(value), value))

    def get(self, key):
        self.sock.sendall(b"get %s\r\n" % key)
        line = self.line()
        if line == b"END":
            return None
        parts = line.split()
        if parts[0] != b"VALUE":
            raise OSError("bad get answer %r" % line)
        value = self.exact(int(parts[3]) + 2)[:-2]
        end = self.line()
        if end != b"END":
            raise OSError("bad get trailer %r" % end)
        return value

    def stats(self):
        self.sock.sendall(b"stats\r\n")
        out = {}
        while True:
            line = self.line()
            if line == b"END":
                return out
            _, k, v = line.decode().split(" ", 2)
            out[k] = v


def demo(c):
    show = lambda d, s: print("  %s %s" % (d, s))
    show(">", "version")
    show("<", c.version.decode())
    show(">", "set ukl 0 0 20 / hello from the guest")
    show("<", c.set(b"ukl", b"hello from the guest").decode())
    show(">", "get ukl")
    v = c.get(b"ukl")
    show("<", "VALUE ukl 0 %d / %s / END" % (len(v), v.decode()))
    if v != b"hello from the guest":
        raise SystemExit("demo: get returned %r" % v)
    st = c.stats()
    show(">", "stats")
    for k in ("pid", "uptime", "version", "threads", "curr_connections", "cmd_get", "cmd_set", "get_hits"):
        show("<", "STAT %s %s" % (k, st.get(k, "?")))


def main(argv):
    c, action, args = connect(Client, argv, __doc__)
    if action == "demo":
        demo(c)
    elif action == "raw":
        for text in args:
            print(c.cmd(text.encode().decode("unicode_escape").encode()).decode())
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    try:
        main(sys.argv)
    except OSError as e:
        print("memcache.py: %s" % e, file=sys.stderr)
        sys.exit(1)
