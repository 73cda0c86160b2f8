#!/usr/bin/env python3
"""Link-time scan of a fused UKL app object: fail on anything that must not run in ring 0.

usage: linker/scan.py APP.o [--syscall-table syscall_64.tbl] [--report FILE] [--entry SYMBOL]

Fails (exit 1, naming the function and offset) when app code contains
  - a trap instruction: syscall, sysenter, int $0x80 (every system call must be a call);
  - an access below %rsp (red zone): in ring 0 an interrupt pushes its frame right there.
Warns about hlt (it does not fault in ring 0).  Writes a report: section sizes, the number of
system call sites (calls of ENTRY, default ukl___ukl_syscall) and the system calls the app can
reach (the constant loaded into %eax before each site; sites whose number is not a constant
are listed by function).
"""
import argparse
import collections
import os
import re
import struct
import subprocess
import sys
import tempfile

TRAP = re.compile(r"^(syscall|sysenter|int\s+\$0x80)\b")
REDZONE = re.compile(r"(?<![0-9a-fx])-0x[0-9a-f]+\(%rsp\)")
FUNC = re.compile(r"^([0-9a-f]+) <(.+)>:$")
INSN = re.compile(r"^\s+([0-9a-f]+):\s+(.+?)\s*$")
RELOC = re.compile(r"^\s+([0-9a-f]+): (R_X86_64_\w+)\s+(\S+)")
NR_LOAD = re.compile(r"^mov\s+\$0x([0-9a-f]+),%[er]ax$")


def sections(obj):
    out = subprocess.run(["objdump", "-h", obj], capture_output=True, text=True, check=True).stdout
    secs = {}
    for m in re.finditer(r"^\s*\d+\s+(\S+)\s+([0-9a-f]+)\s+[0-9a-f]+\s+[0-9a-f]+\s+[0-9a-f]+\s+\S+\n\s+(.*)$", out, re.M):
        secs[m.group(1)] = (int(m.group(2), 16), m.group(3))
    return secs


def eh_frame_walk(obj):
    """Walk the CIE/FDE lengths of .ukl.eh_frame: (entries, offset of the first zero, size)."""
    with tempfile.TemporaryDirectory() as t:
        out = os.path.join(t, "eh")
        r = subprocess.run(["objcopy", "-O", "binary", "--only-section=.ukl.eh_frame", obj, out],
                           capture_output=True)
        if r.returncode or not os.path.exists(out):
            return None
        d = open(out, "rb").read()
    off = n = 0
    while off + 4 <= len(d):
        (length,) = struct.unpack_from("<I", d, off)
        if length == 0:
            # only zeros may follow the first terminator (crtend.o's and ours)
            rest = d[off:]
            return n, (len(d) - 4 if rest.count(0) == len(rest) else off), len(d)
        n += 1
        off += 4 + length
    return n, off, len(d)


def load_table(path):
    table = {}
    if not path:
        return table
    for line in open(path):
        f = line.split()
        if len(f) >= 3 and f[0].isdigit() and f[1] in ("common", "64"):
            table[int(f[0])] = f[2]
    return table


def scan(obj, entry):
    secs = sections(obj)
    code = [s for s, (_, flags) in secs.items() if "CODE" in flags]
    traps, redzone, hlts = [], [], []
    sites, dynamic = collections.Counter(), collections.Counter()
    for sec in code:
        dis = subprocess.run(["objdump", "-dr", "--no-show-raw-insn", "-j", sec, obj],
                             capture_output=True, text=True, check=True).stdout
        func, base, recent = "?", 0, []
        for line in dis.splitlines():
            m = FUNC.match(line)
            if m:
                func, base, recent = m.group(2), int(m.group(1), 16), []
                continue
            m = RELOC.match(line)
            if m:
                if m.group(3).split("-")[0].split("+")[0] == entry and recent and recent[-1][1].startswith("call"):
                    nr = None
                    for _, ins in reversed(recent[-12:-1]):
                        n = NR_LOAD.match(ins)
                        if n:
                            nr = int(n.group(1), 16)
                            break
                        if re.search(r",%(e|r)ax$", ins) or ins.startswith(("call", "jmp", "ret")):
                            break
                    if nr is None:
                        dynamic[func] += 1
                    else:
                        sites[nr] += 1
                continue
            m = INSN.match(line)
            if not m:
                continue
            addr, ins = int(m.group(1), 16), m.group(2)
            where = "%s+0x%x (%s)" % (func, addr - base, sec)
            if TRAP.match(ins):
                traps.append((where, ins))
            elif ins.startswith("hlt"):
                hlts.append(where)
            elif REDZONE.search(ins) and not ins.startswith(("lea ", "nop")):
                redzone.append((where, ins))
            recent.append((addr, ins))
    return secs, traps, redzone, hlts, sites, dynamic


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("obj")
    ap.add_argument("--syscall-table")
    ap.add_argument("--report")
    ap.add_argument("--entry", default="ukl___ukl_syscall")
    ap.add_argument("--name", help="name to report instead of the object path")
    a = ap.parse_args()
    secs, traps, redzone, hlts, sites, dynamic = scan(a.obj, a.entry)
    table = load_table(a.syscall_table)
    rep = ["# UKL app scan of %s" % (a.name or a.obj), "", "sections (bytes):"]
    for s, (size, flags) in secs.items():
        if "ALLOC" in flags:
            rep.append("  %-14s %10d  %s" % (s, size, flags))
    rep.append("raw trap instructions (syscall/sysenter/int $0x80): %d" % len(traps))
    rep.append("red-zone accesses: %d" % len(redzone))
    rep.append("hlt instructions: %d%s" % (len(hlts), (" in " + ", ".join(hlts[:5])) if hlts else ""))
    rep.append("system call sites (calls of %s): %d" % (a.entry, sum(sites.values()) + sum(dynamic.values())))
    rep.append("system calls the app can reach (%d by constant number):" % len(sites))
    for nr in sorted(sites):
        rep.append("  %3d %-24s %d site(s)" % (nr, table.get(nr, "?"), sites[nr]))
    if dynamic:
        rep.append("sites with a computed number (any system call):")
        for f, n in sorted(dynamic.items()):
            rep.append("  %s: %d" % (f, n))
    eh = eh_frame_walk(a.obj)
    eh_bad = False
    if eh:
        n, zero, size = eh
        if zero == size - 4:
            rep.append("unwind table: %d entries, terminated at its end" % n)
        else:
            rep.append("unwind table: %d entries, then a zero at +%#x of %#x bytes" % (n, zero, size))
            eh_bad = True
    text = "\n".join(rep) + "\n"
    if a.report:
        open(a.report, "w").write(text)
    for w in hlts[:5]:
        print("scan: warning: hlt in %s: it does not fault in ring 0" % w, file=sys.stderr)
    bad = False
    if eh_bad:
        print("scan: error: the unwind table (.ukl.eh_frame) ends after %d entries, before its end: "
              "pthread_exit and cancellation could not unwind; check linker/app-partial.lds" % eh[0],
              file=sys.stderr)
        bad = True
    for where, ins in traps:
        print("scan: error: '%s' in %s: app code must enter the kernel by a call" % (ins, where), file=sys.stderr)
        bad = True
    for where, ins in redzone[:20]:
        print("scan: error: red-zone access '%s' in %s: rebuild it with -mno-red-zone" % (ins, where), file=sys.stderr)
        bad = True
    if bad:
        print("scan: %s is not safe to run in ring 0 (%d trap instruction(s), %d red-zone access(es))"
              % (a.obj, len(traps), len(redzone)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
