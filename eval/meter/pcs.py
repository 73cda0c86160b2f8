#!/usr/bin/env python3
"""Fold the meter's per-address counts (METER_PCS=1) into functions.

usage: eval/meter/pcs.py PCS VMLINUX [--user-binary APP] [--per N] [--top K]

PCS has "address count" lines: the executions of each instruction inside the guest's meter
windows.  Prints, per function (the symbol at or below the address, from nm of VMLINUX and
APP), the instructions executed, divided by N (the number of windows, for per-call figures),
largest first, and the total.
"""
import argparse
import bisect
import collections
import subprocess


def symbols(path):
    out = subprocess.run(["nm", "-n", "--defined-only", path], capture_output=True, text=True).stdout
    syms = []
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "tTwW":
            syms.append((int(f[0], 16), f[2]))
    return syms


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pcs")
    ap.add_argument("vmlinux")
    ap.add_argument("--user-binary")
    ap.add_argument("--per", type=float, default=1)
    ap.add_argument("--top", type=int, default=40)
    a = ap.parse_args()
    syms = symbols(a.vmlinux) + (symbols(a.user_binary) if a.user_binary else [])
    syms.sort()
    addrs = [s[0] for s in syms]
    per = collections.Counter()
    for line in open(a.pcs):
        pc, n = line.split()
        pc, n = int(pc, 16), int(n)
        i = bisect.bisect_right(addrs, pc) - 1
        per[syms[i][1] if i >= 0 else "?"] += n
    total = sum(per.values())
    for name, n in per.most_common(a.top):
        print("%10.2f  %s" % (n / a.per, name))
    print("%10.2f  total (%d functions)" % (total / a.per, len(per)))


if __name__ == "__main__":
    main()
