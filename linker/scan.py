#!/usr/bin/env python3
"""Link-time scan of a fused UKL app object: fail on anything that must not run in ring 0.

usage: linker/scan.py APP.o [--syscall-table syscall_64.tbl] [--report FILE] [--entry SYMBOL]
       linker/scan.py --vdso vdso64.so [--report FILE --append]  (scripts/image.sh: the vDSO of
                                                                  the kernel an app is linked into)

Fails (exit 1, naming the function and offset) when the app's code contains
  - a trap instruction: syscall, sysenter, int $N (every system call must be a call);
  - an instruction that must not run in the app at CPL 0, where the CPU would execute it
    instead of faulting: sysret/sysexit, iret, swapgs, cli/sti, popf (it sets IF),
    rdmsr/wrmsr, mov to or from a control or debug register, lgdt/lidt/lldt/ltr/lmsw,
    clts, invlpg, invd/wbinvd, xsetbv, hlt, in/out/ins/outs;
  - an access below %rsp (red zone): in ring 0 an interrupt pushes its frame right there;
  - a reference to the kernel's entry (ENTRY, default ukl___ukl_syscall) other than a
    direct call: the kernel restarts a system call by backing up over a 5-byte call.
Every executable section of the object is disassembled (the kernel places only .ukl.text
in an executable range; read-only data is not executable).  With --vdso, the vDSO the
kernel maps into the app is scanned too: a SYSCALL there is allowed only in a function that
reads %cs (the CPL test by which the vDSO's fallbacks call the kernel's entry at CPL 0).
Writes a report: section sizes, the findings per kind, the number of system call sites
and the system calls the app can reach (the constant loaded into %eax before each site;
sites whose number is not a constant are listed by function).
"""
import argparse
import collections
import os
import re
import struct
import subprocess
import sys
import tempfile

TRAP = re.compile(r"^(syscall|sysenter|int\s+\$0x[0-9a-f]+|int1|icebp|into)(\s|$)")
# what the CPU executes at CPL 0 instead of faulting, and the app must never do
PRIV = re.compile(r"^(sysret[lq]?|sysexit[lq]?|iret[lqw]?|swapgs|cli|sti|popf[lqw]?|rdmsr|wrmsr|"
                  r"wrmsrns|lgdt[lqw]?|lidt[lqw]?|lldt|ltr|lmsw|clts|invlpg|invd|wbinvd|xsetbv|hlt|"
                  r"(in|out)[bwl]?\s|(ins|outs)[bwl]?)(\s|$)"
                  r"|^mov\S*\s+.*%(cr|db|dr)[0-9]")
REDZONE = re.compile(r"(?<![0-9a-fx])-0x[0-9a-f]+\(%rsp\)")
FUNC = re.compile(r"^([0-9a-f]+) <(.+)>:$")
INSN = re.compile(r"^\s+([0-9a-f]+):\s+(.+?)\s*$")
RELOC = re.compile(r"^\s+([0-9a-f]+): (R_X86_64_\w+)\s+(\S+)")
NR_LOAD = re.compile(r"^mov\s+\$0x([0-9a-f]+),%[er]ax$")
# gcc loads 0 (read) as xor %eax,%eax: perf trace's count of read calls showed the report
# missing it
NR_ZERO = re.compile(r"^xor\s+%([er])ax,%\1ax$")


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


def disassemble(obj, sec):
    """(function, its address, section, address, instruction) per instruction; relocations
    come as instructions "reloc TYPE SYMBOL" at the address of the field they patch."""
    dis = subprocess.run(["objdump", "-dr", "--no-show-raw-insn", "-j", sec, obj],
                         capture_output=True, text=True, check=True).stdout
    func, base = "?", 0
    for line in dis.splitlines():
        m = FUNC.match(line)
        if m:
            func, base = m.group(2), int(m.group(1), 16)
            continue
        m = RELOC.match(line)
        if m:
            yield func, base, sec, int(m.group(1), 16), "reloc %s %s" % (m.group(2), m.group(3))
            continue
        m = INSN.match(line)
        if m:
            yield func, base, sec, int(m.group(1), 16), m.group(2)


def where(func, base, sec, addr):
    return "%s+0x%x (%s)" % (func, addr - base, sec)


def scan(obj, entry):
    secs = sections(obj)
    code = [s for s, (_, flags) in secs.items() if "CODE" in flags]
    traps, priv, redzone, entry_refs = [], [], [], []
    sites, dynamic = collections.Counter(), collections.Counter()
    for sec in code:
        func, recent = None, []
        for f, base, sec_, addr, ins in disassemble(obj, sec):
            if f != func:
                func, recent = f, []
            w = where(f, base, sec_, addr)
            if ins.startswith("reloc "):
                if ins.split()[2].split("-")[0].split("+")[0] != entry:
                    continue
                if not (recent and recent[-1][1].startswith("call") and "*" not in recent[-1][1]):
                    entry_refs.append((w, recent[-1][1] if recent else "?"))
                    continue
                nr = None
                for _, prev in reversed(recent[-12:-1]):
                    n = NR_LOAD.match(prev)
                    if n:
                        nr = int(n.group(1), 16)
                        break
                    if NR_ZERO.match(prev):
                        nr = 0
                        break
                    if re.search(r",%(e|r)ax$", prev) or prev.startswith(("call", "jmp", "ret")):
                        break
                if nr is None:
                    dynamic[f] += 1
                else:
                    sites[nr] += 1
                continue
            if TRAP.match(ins):
                traps.append((w, ins))
            elif PRIV.match(ins):
                priv.append((w, ins))
            elif REDZONE.search(ins) and not ins.startswith(("lea ", "nop")):
                redzone.append((w, ins))
            recent.append((addr, ins))
    return secs, traps, priv, redzone, entry_refs, sites, dynamic


def scan_vdso(vdso):
    """The vDSO as the app maps it: (SYSCALLs outside a CPL-testing function, privileged
    instructions, number of SYSCALLs guarded by a CPL test)."""
    secs = sections(vdso)
    funcs = collections.defaultdict(list)
    for sec in (s for s, (_, flags) in secs.items() if "CODE" in flags):
        for f, base, sec_, addr, ins in disassemble(vdso, sec):
            funcs[f].append((where(f, base, sec_, addr), ins))
    unguarded, priv, guarded = [], [], 0
    for f, insns in funcs.items():
        cpl_test = any(re.match(r"^mov\S*\s+%cs,", ins) for _, ins in insns)
        for w, ins in insns:
            if ins.startswith("syscall"):
                if cpl_test:
                    guarded += 1
                else:
                    unguarded.append((w, ins))
            elif TRAP.match(ins) or PRIV.match(ins):
                priv.append((w, ins))
    return unguarded, priv, guarded


def vdso_only(a):
    unguarded, priv, guarded = scan_vdso(a.vdso)
    line = ("vDSO (%s): SYSCALLs behind the CPL test: %d; unguarded: %d; privileged instructions: %d\n"
            % (os.path.basename(a.vdso), guarded, len(unguarded), len(priv)))
    if a.report:
        open(a.report, "a" if a.append else "w").write(line)
    for w, ins in unguarded[:20]:
        print("scan: error: '%s' in %s: a SYSCALL in the vDSO outside a function that tests the CPL"
              % (ins, w), file=sys.stderr)
    for w, ins in priv[:20]:
        print("scan: error: '%s' in %s: in the vDSO: the CPU would execute it at CPL 0 instead of faulting"
              % (ins, w), file=sys.stderr)
    return 1 if unguarded or priv else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("obj", nargs="?")
    ap.add_argument("--syscall-table")
    ap.add_argument("--report")
    ap.add_argument("--entry", default="ukl___ukl_syscall")
    ap.add_argument("--name", help="name to report instead of the object path")
    ap.add_argument("--vdso", help="the kernel's vdso64.so (its .so.dbg or the stripped one)")
    ap.add_argument("--append", action="store_true", help="append to the report")
    a = ap.parse_args()
    if not a.obj:
        if not a.vdso:
            ap.error("give APP.o, --vdso, or both")
        return vdso_only(a)
    secs, traps, priv, redzone, entry_refs, sites, dynamic = scan(a.obj, a.entry)
    vdso = scan_vdso(a.vdso) if a.vdso else None
    table = load_table(a.syscall_table)
    rep = ["# UKL app scan of %s" % (a.name or a.obj), "", "sections (bytes):"]
    for s, (size, flags) in secs.items():
        if "ALLOC" in flags:
            rep.append("  %-14s %10d  %s" % (s, size, flags))
    rep.append("raw trap instructions (syscall/sysenter/int $N): %d" % len(traps))
    rep.append("privileged instructions (executed, not trapped, at CPL 0): %d" % len(priv))
    rep.append("red-zone accesses: %d" % len(redzone))
    rep.append("references to %s other than a direct call: %d" % (a.entry, len(entry_refs)))
    if vdso:
        rep.append("vDSO: SYSCALLs behind the CPL test: %d; unguarded: %d; privileged instructions: %d"
                   % (vdso[2], len(vdso[0]), len(vdso[1])))
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
    bad = False
    if eh_bad:
        print("scan: error: the unwind table (.ukl.eh_frame) ends after %d entries, before its end: "
              "pthread_exit and cancellation could not unwind; check linker/app-partial.lds" % eh[0],
              file=sys.stderr)
        bad = True
    errors = [(traps, "app code must enter the kernel by a call"),
              (priv, "the CPU would execute it at CPL 0 instead of faulting"),
              (redzone, "red-zone access: rebuild it with -mno-red-zone"),
              (entry_refs, "the kernel's entry %s may only be called directly (a system call "
               "restart backs up over a 5-byte call)" % a.entry)]
    if vdso:
        errors += [(vdso[0], "a SYSCALL in the vDSO outside a function that tests the CPL"),
                   (vdso[1], "in the vDSO: the CPU would execute it at CPL 0 instead of faulting")]
    for found, why in errors:
        for w, ins in found[:50]:
            print("scan: error: '%s' in %s: %s" % (ins, w, why), file=sys.stderr)
            bad = True
    if bad:
        print("scan: %s is not safe to run in ring 0 (%d trap, %d privileged instruction(s), "
              "%d red-zone access(es), %d entry reference(s) other than a call%s)"
              % (a.name or a.obj, len(traps), len(priv), len(redzone), len(entry_refs),
                 ", vDSO: %d unguarded SYSCALL(s), %d privileged" % (len(vdso[0]), len(vdso[1]))
                 if vdso else ""), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
