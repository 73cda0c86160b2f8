#!/usr/bin/env python3
"""Write the region map of one image for the instruction meter (eval/meter/meter.c).

usage: eval/meter/regions.py --vmlinux VMLINUX --kbuild KBUILD --runtime A [--runtime A ...]
                             [--user-binary APP] --out MAP

Regions, in the order the meter's CSV lists them:
  app         the app and its libraries (for a fused image: the ukl_ symbols of the app image
              that are not runtime)
  glibc       the C runtime: every function an archive given with --runtime defines (the UKL
              libc.a and libm.a, libgcc, the stock libc.a), matched by name
  seam        the way in and out of the kernel: the kernel's objects in arch/x86/entry/ and
              kernel/entry/, and arch/x86/kernel/ukl.o
  net fs mm sched   the kernel's objects under net/ (and drivers/net/), fs/, mm/, kernel/sched/
  kernel      every other kernel address
  user-other  a user-half address outside the app's binary (other processes, the vDSO)
A kernel function's object comes from KBUILD/vmlinux.a (nm -A); a name that several objects
of different regions define, with the same size, counts as kernel.

Events: syscall, sysret, iretq and swapgs (the meter knows their bytes), exception (the first
instruction of every asm_exc_* IDT entry) and interrupt (asm_common_interrupt, asm_sysvec_*,
asm_spurious_interrupt).

Marks: the app's meter_window_begin, meter_window_end and meter_flush functions (apps/lebench),
in the fused image or in --user-binary.
"""
import argparse
import collections
import os
import subprocess
import sys

REGIONS = ["app", "glibc", "seam", "net", "fs", "mm", "sched", "kernel", "user-other"]
EVENTS = ["syscall", "sysret", "iretq", "swapgs", "exception", "interrupt"]
R = {n: i for i, n in enumerate(REGIONS)}
E = {n: i for i, n in enumerate(EVENTS)}
MARKS = {"begin": "meter_window_begin", "end": "meter_window_end", "flush": "meter_flush"}


def die(msg):
    sys.exit("regions.py: " + msg)


def nm(args, tool="nm"):
    p = subprocess.run([tool] + args, capture_output=True, text=True)
    if p.returncode != 0 and not p.stdout:
        die("%s %s failed: %s" % (tool, " ".join(args), p.stderr.strip()))
    return p.stdout.splitlines()


def lto_kernel(kbuild):
    """a clang LTO kernel: vmlinux.a holds LLVM bitcode, which only llvm-nm reads"""
    try:
        with open(os.path.join(kbuild, ".config")) as f:
            return "CONFIG_LTO_CLANG=y\n" in f.read()
    except OSError:
        return False


def text_symbols(path):
    """[(addr, size or None, name)] of the code symbols of an executable, by address"""
    syms = []
    for line in nm(["-n", "-S", "--defined-only", path]):
        f = line.split()
        if len(f) == 4 and f[2] in "tTwW":
            syms.append((int(f[0], 16), int(f[1], 16), f[3]))
        elif len(f) == 3 and f[1] in "tTwW":
            syms.append((int(f[0], 16), None, f[2]))
    return syms


def base_name(name):
    """the source name of a compiler clone: foo.cold, foo.constprop.0, foo.isra.0 -> foo"""
    return name.split(".", 1)[0] if "." in name[1:] else name


def runtime_names(archives):
    names = set()
    for a in archives:
        if not os.path.exists(a):
            die("no runtime archive %s" % a)
        for line in nm(["--defined-only", a]):
            f = line.split()
            if len(f) == 3 and f[1] in "tTwWiI":
                names.add(base_name(f[2]))
    return names


def kernel_region(obj):
    for prefix, reg in (("arch/x86/entry/", "seam"), ("kernel/entry/", "seam"),
                        ("arch/x86/kernel/ukl.o", "seam"), ("net/", "net"),
                        ("drivers/net/", "net"), ("fs/", "fs"), ("mm/", "mm"),
                        ("kernel/sched/", "sched")):
        if obj.startswith(prefix):
            return reg
    return "kernel"


def kernel_objects(kbuild):
    """{(name, size): region} from vmlinux.a; None where objects of different regions clash"""
    va = os.path.join(kbuild, "vmlinux.a")
    if not os.path.exists(va):
        die("no %s (build the kernel: make kernel PROFILE=...)" % va)
    where = {}
    if lto_kernel(kbuild):
        # bitcode has neither addresses nor sizes: a function is known by its name only (the
        # link's clones and promoted locals, foo.llvm.NNN, are looked up by base_name())
        for line in nm(["-A", "--defined-only", va], tool="llvm-nm-19"):
            # vmlinux.a:net/socket.o: ---------------- T __sys_sendto
            head, _, rest = line.partition(": ")
            parts = head.split(":")
            f = rest.split()
            if len(parts) < 2 or len(f) != 3 or f[1] not in "tTwW":
                continue
            reg = kernel_region(parts[1])
            if where.setdefault((f[2], None), reg) != reg:
                where[(f[2], None)] = None
        return where
    for line in nm(["-A", "-S", "--defined-only", va]):
        # vmlinux.a:net/socket.o:0000000000000120 0000000000000042 T __sys_sendto
        head, _, rest = line.partition(" ")
        parts = head.split(":")
        f = rest.split()
        if len(parts) < 3 or len(f) != 3 or f[1] not in "tTwW":
            continue
        key = (f[2], int(f[0], 16))
        obj = parts[1]
        if obj.startswith(kbuild.rstrip("/") + "/"):
            obj = obj[len(kbuild.rstrip("/")) + 1:]
        reg = kernel_region(obj)
        if where.setdefault(key, reg) != reg:
            where[key] = None
    return where


def spans(syms, limit=None):
    """(start, end, name) for each symbol; a symbol without size ends at the next one"""
    out = []
    for i, (a, s, n) in enumerate(syms):
        nxt = syms[i + 1][0] if i + 1 < len(syms) else (limit or a + 1)
        end = a + s if s else nxt
        out.append((a, max(end, a + 1), n))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmlinux", required=True)
    ap.add_argument("--kbuild", required=True)
    ap.add_argument("--runtime", action="append", default=[])
    ap.add_argument("--user-binary")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    rt = runtime_names(a.runtime)
    kobj = kernel_objects(a.kbuild)
    byname = collections.defaultdict(set)
    for (n, _), r in kobj.items():
        byname[n].add(r)
    ksyms = text_symbols(a.vmlinux)
    addr = {n: x for x, _, n in ksyms}
    img = (addr.get("__ukl_text_start"), addr.get("__ukl_text_end"))
    ranges = []
    counts = collections.Counter()
    marks = {}
    for start, end, name in spans(ksyms):
        if img[0] is not None and img[0] <= start < img[1]:
            base = name[4:] if name.startswith("ukl_") else name
            reg = "glibc" if base_name(base) in rt else "app"
            for k, m in MARKS.items():
                if base == m:
                    marks[k] = start
        else:
            reg = kobj.get((name, end - start))
            if reg is None:
                cands = byname.get(name) or byname.get(base_name(name), set())
                reg = next(iter(cands)) if len(cands) == 1 and None not in cands else "kernel"
        counts[reg] += 1
        ranges.append((start, end, R[reg]))
    if a.user_binary:
        for start, end, name in spans(text_symbols(a.user_binary)):
            reg = "glibc" if base_name(name) in rt else "app"
            for k, m in MARKS.items():
                if name == m:
                    marks[k] = start
            counts[reg] += 1
            ranges.append((start, end, R[reg]))

    # clip overlaps (aliases share addresses), then merge neighbours of the same region
    ranges.sort()
    merged = []
    for s, e, r in ranges:
        if merged and s < merged[-1][1]:
            s = merged[-1][1]
            if s >= e:
                continue
        if merged and merged[-1][1] == s and merged[-1][2] == r:
            merged[-1] = (merged[-1][0], e, r)
        else:
            merged.append((s, e, r))

    entries = []
    for x, _, n in ksyms:
        if n.startswith("asm_exc_"):
            entries.append((x, E["exception"]))
        elif n in ("asm_common_interrupt", "asm_spurious_interrupt") or n.startswith("asm_sysvec_"):
            entries.append((x, E["interrupt"]))

    with open(a.out + ".tmp", "w") as f:
        f.write("# region map for %s%s (eval/meter/regions.py)\n" %
                (a.vmlinux, " + " + a.user_binary if a.user_binary else ""))
        f.write("# symbols per region: %s\n" % " ".join("%s=%d" % (k, counts[k]) for k in REGIONS))
        for i, n in enumerate(REGIONS):
            f.write("region %d %s\n" % (i, n))
        for i, n in enumerate(EVENTS):
            f.write("event %d %s\n" % (i, n))
        f.write("default-user %d\ndefault-kernel %d\n" % (R["user-other"], R["kernel"]))
        for s, e, r in merged:
            f.write("range %x %x %d\n" % (s, e, r))
        for x, ev in sorted(set(entries)):
            f.write("entry %x %d\n" % (x, ev))
        for k in ("begin", "end", "flush"):
            if k in marks:
                f.write("mark %s %x\n" % (k, marks[k]))
    os.replace(a.out + ".tmp", a.out)
    print("%s: %d ranges, %d entries, marks: %s; symbols: %s" % (
        a.out, len(merged), len(entries), " ".join(sorted(marks)) or "none",
        " ".join("%s=%d" % (k, counts[k]) for k in REGIONS if counts[k])))


if __name__ == "__main__":
    main()
