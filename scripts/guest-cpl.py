#!/usr/bin/python3
"""Sample where a running guest's vCPUs are, and at which privilege level, through QEMU's
human monitor: the proof that an app runs in ring 0 is the CPU's own CPL while it executes
app code, not a boot message.

usage: scripts/guest-cpl.py MONITOR_SOCKET SYSTEM_MAP [--seconds S] [--interval I]
                            [--expect ukl|linux] [--min-app N]

Every I seconds (default 0.02) for S seconds (default 5) it asks `info registers -a` and
puts each vCPU's RIP in a region: app (the fused app's text, [__ukl_text_start,
__ukl_text_end) of SYSTEM_MAP), user (the lower half: an ordinary process, or the vDSO a UKL
app calls), kernel (the rest), idle (HLT).  It prints one line per region and CPL:
    cpl-sample: app cpl=0 123
With --expect ukl: at least N (default 1) app samples, every one at CPL 0, and no CPL 3
sample anywhere in the upper half; --expect linux: at least N user samples at CPL 3 and
no app region at all.  Exit status 0 if the expectation holds, 1 if not, 2 on errors.
"""
import argparse
import re
import socket
import sys
import time

REG = re.compile(r"RIP=([0-9a-f]{16}) .*CPL=(\d) .*HLT=(\d)")


def app_range(system_map):
    lo = hi = None
    with open(system_map) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3 and parts[2] == "__ukl_text_start":
                lo = int(parts[0], 16)
            elif len(parts) == 3 and parts[2] == "__ukl_text_end":
                hi = int(parts[0], 16)
    return (lo, hi) if lo is not None and hi is not None and lo < hi else None


class Monitor:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(path)
        self.read_prompt()

    def read_prompt(self):
        buf = b""
        while not buf.endswith(b"(qemu) "):
            chunk = self.s.recv(65536)
            if not chunk:
                raise OSError("the monitor closed the connection (did the guest end?)")
            buf += chunk
        return buf.decode(errors="replace")

    def ask(self, cmd):
        self.s.sendall(cmd.encode() + b"\n")
        return self.read_prompt()


def region(rip, hlt, app):
    if hlt:
        return "idle"
    if app and app[0] <= rip < app[1]:
        return "app"
    return "user" if rip < 1 << 47 else "kernel"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("monitor")
    ap.add_argument("system_map")
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--expect", choices=["ukl", "linux"])
    ap.add_argument("--min-app", type=int, default=1)
    a = ap.parse_args()
    app = app_range(a.system_map)
    if a.expect == "ukl" and not app:
        print("guest-cpl: %s has no __ukl_text_start/__ukl_text_end: not a fused image" % a.system_map)
        return 1
    try:
        mon = Monitor(a.monitor)
    except OSError as e:
        print("guest-cpl: cannot reach the QEMU monitor at %s: %s" % (a.monitor, e), file=sys.stderr)
        return 2
    counts = {}
    end = time.monotonic() + a.seconds
    try:
        while time.monotonic() < end:
            for rip, cpl, hlt in REG.findall(mon.ask("info registers -a")):
                key = (region(int(rip, 16), hlt == "1", app), int(cpl))
                counts[key] = counts.get(key, 0) + 1
            time.sleep(a.interval)
    except OSError as e:
        print("guest-cpl: sampling stopped: %s" % e, file=sys.stderr)
        if not counts:
            return 2
    for (reg, cpl), n in sorted(counts.items()):
        print("cpl-sample: %s cpl=%d %d" % (reg, cpl, n))
    if not a.expect:
        return 0
    app0 = counts.get(("app", 0), 0)
    if a.expect == "ukl":
        bad = sum(n for (reg, cpl), n in counts.items() if (reg == "app" and cpl != 0) or
                  (reg in ("app", "kernel") and cpl == 3))
        good = app0 >= a.min_app and bad == 0
        print("guest-cpl: %d app samples at CPL 0 (need %d), %d app or upper-half samples at another CPL"
              % (app0, a.min_app, bad))
    else:
        user3 = counts.get(("user", 3), 0)
        good = user3 >= a.min_app and not any(reg == "app" for reg, _ in counts)
        print("guest-cpl: %d user samples at CPL 3 (need %d), %d in a fused app"
              % (user3, a.min_app, sum(n for (reg, _), n in counts.items() if reg == "app")))
    return 0 if good else 1


if __name__ == "__main__":
    sys.exit(main())
