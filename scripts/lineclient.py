"""The socket half shared by the project's small protocol clients (scripts/memcache.py,
scripts/resp.py): connect, retrying until the server answers a probe, and read CRLF lines and
exact byte counts."""
import socket
import time


class LineClient:
    NAME = "server"

    def __init__(self, host, port, wait=0.0, timeout=10.0):
        deadline = time.monotonic() + wait
        last = None
        while True:
            try:
                self.sock = socket.create_connection((host, port), timeout=timeout)
                self.buf = b""
                # prove the server is really there: QEMU's port forward accepts connections
                # before the guest listens, then drops them
                self.probe()
                return
            except OSError as e:
                last = e
                if time.monotonic() >= deadline:
                    raise OSError("no %s answering on %s:%d (%s)" % (self.NAME, host, port, last))
                time.sleep(0.5)

    def probe(self):
        """one exchange that only a live server answers; raise OSError otherwise"""
        raise NotImplementedError

    def fill(self, cond):
        while not cond():
            chunk = self.sock.recv(65536)
            if not chunk:
                raise OSError("connection closed by the server")
            self.buf += chunk

    def line(self):
        self.fill(lambda: b"\r\n" in self.buf)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def exact(self, n):
        self.fill(lambda: len(self.buf) >= n)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data


def connect(cls, argv, usage):
    """parse "[--wait SECS] HOST:PORT ACTION ..." and connect: (client, ACTION, its arguments)"""
    wait = 0.0
    if len(argv) > 2 and argv[1] == "--wait":
        wait = float(argv[2])
        argv = argv[:1] + argv[3:]
    if len(argv) < 3:
        raise SystemExit(usage)
    host, port = argv[1].rsplit(":", 1)
    return cls(host, int(port), wait=wait), argv[2], argv[3:]
