#!/usr/bin/env python3
"""Inject NMIs into a running guest through QEMU's human monitor until the guest ends.

usage: scripts/guest-nmi.py SOCKET [--every SECS] [--wait-for LOG PATTERN] [--timeout SECS]

Connects to the monitor at SOCKET (scripts/run.sh --monitor), waits until PATTERN appears in
the console log LOG if given, then sends the monitor's `nmi` command every SECS seconds until
the monitor closes or --timeout passes (QEMU 7.2 under TCG: one NMI taken per command, 1773 of
1777 in tests/boot/nmi.sh's run).  Prints "guest-nmi: sent N NMIs".  tests/boot/nmi.sh
uses it against the selftest's --pf-storm.
"""
import argparse
import importlib.util
import os
import sys
import time


def load_monitor():
    here = os.path.dirname(os.path.abspath(__file__))
    spec = importlib.util.spec_from_file_location("guest_cpl", os.path.join(here, "guest-cpl.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.Monitor


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("socket")
    ap.add_argument("--every", type=float, default=0.01)
    ap.add_argument("--wait-for", nargs=2, metavar=("LOG", "PATTERN"))
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    Monitor = load_monitor()
    end = time.time() + a.timeout
    mon = None
    while mon is None:
        try:
            mon = Monitor(a.socket)
        except OSError:
            if time.time() > end:
                sys.exit("guest-nmi: no monitor at %s" % a.socket)
            time.sleep(0.2)
    if a.wait_for:
        log, pattern = a.wait_for
        while True:
            try:
                with open(log, errors="replace") as f:
                    if pattern in f.read():
                        break
            except OSError:
                pass
            if time.time() > end:
                sys.exit("guest-nmi: %r never appeared in %s" % (pattern, log))
            time.sleep(0.1)
    sent = 0
    try:
        while time.time() < end:
            mon.ask("nmi")
            sent += 1
            time.sleep(a.every)
    except OSError:
        pass  # the guest ended
    print("guest-nmi: sent %d NMIs" % sent)
    return 0


if __name__ == "__main__":
    sys.exit(main())
