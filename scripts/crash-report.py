#!/usr/bin/env python3
"""Symbolise the crash reports on a UKL guest's console with file:line from vmlinux.

usage: scripts/crash-report.py CONSOLE.log [VMLINUX]     (VMLINUX: beside the log by default)

The kernel (linux-patches 0020) prints, for an app killed by a core-dumping signal,

    ukl: selftest[1] killed by signal 11 (SIGSEGV), code 1, address 0
     <APP>
     crash_null+0x4/0x10 [app]
     crash_via+0x5d/0x140 [app]
     ...
     </APP>

and the same <APP> block after the kernel's frames in an oops or panic of an app's task.  App
names come without the ukl_ prefix the fusion gave them.  This prints each block again with
the source line of every frame (addr2line over the vmlinux that holds app and kernel), and
marks glibc's frames [glibc].  Exit status 0 if it printed a report, 1 if there was none.
"""
import os
import re
import subprocess
import sys

HEAD = re.compile(r"ukl: (\S+)\[(\d+)\] killed by signal (\d+) \((\w+|\?)\)")
FRAME = re.compile(r"^\s*(\? )?([\w.$]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)( \[app\])?\s*$")
# what the kernel prepends to a console line: "[   12.345678] " and, for oops lines, nothing else
STAMP = re.compile(r"^\[\s*\d+\.\d+\]\s?")


def symbols(vmlinux):
    """name -> [(address, size)]: a static name may be defined more than once"""
    out = subprocess.run(["nm", "-S", vmlinux], capture_output=True, text=True, check=True).stdout
    table = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 4 and f[2] in "tTwW":
            table.setdefault(f[3], []).append((int(f[0], 16), int(f[1], 16)))
    return table


def lookup(table, name, size):
    """the address of NAME, the one of SIZE bytes (the kernel's +off/SIZE) when it is ambiguous"""
    cands = table.get(name, [])
    for addr, sz in cands:
        if sz == size:
            return addr
    return cands[0][0] if cands else None


def blocks(lines):
    """(header or None, [(name, offset, is_app, is_guess, size)]) for each <APP> block of the console;
    a guess is a frame the kernel marked "?" (a return address found at the stack pointer)"""
    found, head, cur = [], None, None
    for line in lines:
        line = STAMP.sub("", line.rstrip("\r\n"))
        m = HEAD.search(line)
        if m:
            head = line[m.start():]
            continue
        if line.strip() == "<APP>":
            cur = []
            continue
        if line.strip() == "</APP>" and cur is not None:
            found.append((head, cur))
            head, cur = None, None
            continue
        if cur is not None:
            m = FRAME.match(line)
            if m:
                cur.append((m.group(2), int(m.group(3), 16), bool(m.group(5)), bool(m.group(1)),
                            int(m.group(4), 16)))
    return found


def where(vmlinux, addrs):
    """addr2line's 'function at file:line' (innermost inline last) for each address."""
    if not addrs:
        return []
    out = subprocess.run(["addr2line", "-e", vmlinux, "-f", "-i", "-p", "-a"] + [hex(a) for a in addrs],
                         capture_output=True, text=True, check=True).stdout
    res, cur = [], None
    for line in out.splitlines():
        if line.startswith("0x") and ": " in line:
            cur = [line.split(": ", 1)[1]]
            res.append(cur)
        elif cur is not None:
            cur.append(line.strip())
    return res


def short(path, top):
    for base in (top + "/build/", top + "/"):
        if path.startswith(base):
            return path[len(base):]
    return path


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip().splitlines()[2])
    log = sys.argv[1]
    vmlinux = sys.argv[2] if len(sys.argv) == 3 else os.path.join(os.path.dirname(log), "vmlinux")
    top = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
    with open(log, errors="replace") as f:
        found = blocks(f)
    if not found:
        return 1
    table = symbols(vmlinux) if os.path.exists(vmlinux) else {}
    for head, frames in found:
        print("ukl: crash report%s (%s):" % ("" if table else ", no vmlinux to symbolise",
                                             short(os.path.abspath(vmlinux), top)))
        print("ukl:   " + (head[len("ukl: "):] if head else "an oops or panic in the app's task"))
        addrs, idx = [], []
        for i, (name, off, app, _, size) in enumerate(frames):
            base = lookup(table, ("ukl_" if app else "") + name, size)
            if base is not None:
                # frame 0 is the interrupted instruction; the rest are return addresses, whose
                # call is the byte before
                addrs.append(base + off - (1 if i else 0))
                idx.append(i)
        lines = dict(zip(idx, where(vmlinux, addrs))) if table else {}
        for i, (name, off, app, guess, _) in enumerate(frames):
            loc = lines.get(i, [])
            src = loc[0].split(" at ", 1)[1] if loc and " at " in loc[0] else "??"
            kind = "kernel"
            if app:
                kind = "glibc" if "/glibc" in src else "app"
            src = re.sub(r"\s*\(discriminator \d+\)", "", src)
            inl = "".join(" (inlined into %s)" % l.split(" at ")[0].replace("(inlined by) ", "")
                          for l in loc[1:])
            print("ukl:   #%-2d %-42s [%s] %s%s" % (i, "%s%s+%#x" % ("? " if guess else "", name, off), kind,
                                                  short(src, top) if src != "??" else "(no line)", inl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
