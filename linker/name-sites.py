#!/usr/bin/env python3
"""Give each system call site of a fused app the name of its call (per-call binding).

usage: linker/name-sites.py APP.o --syscall-table TBL [--entry ukl___ukl_syscall] [--report FILE]

The UKL glibc calls one seam name for every system call (__ukl_syscall, ukl___ukl_syscall
after linker/fuse.sh's prefix), with the number in %eax.  This rewrites, in the relocatable
object, the relocation of every `call ukl___ukl_syscall` whose number is provably a constant
to an undefined symbol ukl___ukl_sys_NAME (ukl___ukl_sys_read, ...).  The image link binds each
name (scripts/kernel.sh): to the profile's generic entry, or to a direct entry of the kernel.

Provably constant: walking back from the call within its function, the number is loaded by
`mov $N,%eax` (or `xor %eax,%eax` for 0), and no instruction in between may write any part of
%rax (only plain moves, lea, arithmetic, tests and pushes whose destination is another
register or memory are allowed: anything else ends the walk) and no branch of the function
lands in between (a path that skipped the load).  Every other site keeps ukl___ukl_syscall,
which a generic entry serves for any number.

The object is edited in place: new undefined global symbols are appended to .symtab (after
every existing symbol, so no index changes), their names to .strtab, both moved to the end of
the file; the relocations' symbol indices change.  Nothing else moves.
"""
import argparse
import collections
import os
import re
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scan  # noqa: E402  (linker/scan.py: objdump disassembly with relocations)

# instructions that may sit between the load of %eax and the call: those that write only
# their last (AT&T destination) operand, which must not be %rax or a part of it
SAFE = re.compile(r"^(mov[a-z]*|lea[lq]?|add[lq]?|sub[lq]?|and[lq]?|or[lq]?|xor[lq]?|shl[lq]?|shr[lq]?|"
                  r"sar[lq]?|test[bwlq]?|cmp[bwlq]?|push[q]?|nop[wl]?|endbr64)\s")
RAX = re.compile(r"%(rax|eax|ax|al|ah)$")
BRANCH = re.compile(r"^(j[a-z]+|call|jmp)\s+([0-9a-f]+)\s")


def constant_nr(recent, targets):
    """the number loaded into %eax before the call ending RECENT, or None"""
    call_addr = recent[-1][0]
    for addr, ins in reversed(recent[:-1]):
        m = scan.NR_LOAD.match(ins)
        nr = int(m.group(1), 16) if m else (0 if scan.NR_ZERO.match(ins) else None)
        if any(addr < t <= call_addr for t in targets):
            return None
        if nr is not None:
            return nr
        if not SAFE.match(ins + " ") or RAX.search(ins) and not ins.startswith(("test", "cmp", "push")):
            return None
    return None


def find_sites(obj, entry):
    """{offset of the call's rel32 field in .ukl.text: nr} for the sites with a constant number,
    and the number of sites left as they are"""
    named, kept = {}, 0
    funcs = collections.defaultdict(list)
    for f, base, sec, addr, ins in scan.disassemble(obj, ".ukl.text"):
        funcs[(f, base)].append((addr, ins))
    for (f, base), body in funcs.items():
        targets = set()
        for _, ins in body:
            m = BRANCH.match(ins + " ")
            if m and not ins.startswith("call"):
                targets.add(int(m.group(2), 16))
        recent = []
        for addr, ins in body:
            if ins.startswith("reloc "):
                sym = ins.split()[2].split("-")[0].split("+")[0]
                if sym == entry and recent and recent[-1][1].startswith("call") and "*" not in recent[-1][1]:
                    nr = constant_nr(recent, targets)
                    if nr is None:
                        kept += 1
                    else:
                        named[addr] = nr
                continue
            recent.append((addr, ins))
    return named, kept


def rewrite(path, entry, sites, names):
    """retarget the relocations at SITES (offset -> symbol name) from ENTRY; returns {name: count}"""
    data = bytearray(open(path, "rb").read())
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        sys.exit("name-sites: %s is not a little-endian ELF64 object" % path)
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    hdrs = [list(struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)) for i in range(shnum)]
    shstr = hdrs[shstrndx]

    def secname(h):
        o = shstr[4] + h[0]
        return bytes(data[o:data.index(b"\0", o)]).decode()

    text = [i for i, h in enumerate(hdrs) if secname(h) == ".ukl.text"]
    symtab = [i for i, h in enumerate(hdrs) if h[1] == 2]
    if len(text) != 1 or len(symtab) != 1:
        sys.exit("name-sites: %s: expected one .ukl.text and one .symtab" % path)
    text, symtab = text[0], symtab[0]
    strtab = hdrs[symtab][6]
    rela = [i for i, h in enumerate(hdrs) if h[1] == 4 and h[7] == text and h[6] == symtab]
    if len(rela) != 1:
        sys.exit("name-sites: %s: expected one relocation section for .ukl.text" % path)
    rela = rela[0]
    sym_off, sym_size = hdrs[symtab][4], hdrs[symtab][5]
    str_off, str_size = hdrs[strtab][4], hdrs[strtab][5]
    syms = bytearray(data[sym_off:sym_off + sym_size])
    strs = bytearray(data[str_off:str_off + str_size])
    nsyms = sym_size // 24

    def symname(i):
        o = struct.unpack_from("<I", syms, i * 24)[0]
        return bytes(strs[o:strs.index(b"\0", o)]).decode()

    entry_idx = [i for i in range(nsyms) if symname(i) == entry]
    if len(entry_idx) != 1:
        sys.exit("name-sites: %s: no single symbol %s" % (path, entry))
    entry_idx = entry_idx[0]
    index = {}
    for name in sorted(set(names.values())):
        index[name] = nsyms + len(index)
        syms += struct.pack("<IBBHQQ", len(strs), 0x10, 0, 0, 0, 0)     # GLOBAL NOTYPE, undefined
        strs += name.encode() + b"\0"
    count = collections.Counter()
    r_off, r_size = hdrs[rela][4], hdrs[rela][5]
    for o in range(r_off, r_off + r_size, 24):
        off, info = struct.unpack_from("<QQ", data, o)
        if off in sites and info >> 32 == entry_idx:
            struct.pack_into("<Q", data, o + 8, (index[names[off]] << 32) | (info & 0xffffffff))
            count[names[off]] += 1
    if sum(count.values()) != len(sites):
        sys.exit("name-sites: %s: %d sites found, %d relocations matched" % (path, len(sites), sum(count.values())))
    # the grown tables go to the end of the file; the section headers are updated in place
    for idx, blob in ((symtab, syms), (strtab, strs)):
        while len(data) % 8:
            data.append(0)
        hdrs[idx][4], hdrs[idx][5] = len(data), len(blob)
        data += blob
    for i, h in enumerate(hdrs):
        struct.pack_into("<IIQQQQIIQQ", data, shoff + i * shentsize, *h)
    tmp = path + ".names.tmp"
    open(tmp, "wb").write(data)
    os.replace(tmp, path)
    return count


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("obj")
    ap.add_argument("--syscall-table", required=True)
    ap.add_argument("--entry", default="ukl___ukl_syscall")
    ap.add_argument("--report")
    a = ap.parse_args()
    table = scan.load_table(a.syscall_table)
    sites, kept = find_sites(a.obj, a.entry)
    names = {}
    for off, nr in sites.items():
        if nr not in table:
            kept += 1
            continue
        names[off] = "ukl___ukl_sys_" + table[nr]
    sites = {o: n for o, n in sites.items() if o in names}
    count = rewrite(a.obj, a.entry, sites, names) if sites else collections.Counter()
    rep = ["per-call names (linker/name-sites.py): %d sites named after their call, %d keep %s "
           "(number not provably constant)" % (sum(count.values()), kept, a.entry)]
    for name, n in sorted(count.items()):
        rep.append("  %-40s %d site(s)" % (name, n))
    text = "\n".join(rep) + "\n"
    if a.report:
        with open(a.report, "a") as f:
            f.write(text)
    print(rep[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
