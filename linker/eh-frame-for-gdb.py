#!/usr/bin/env python3
"""Give gdb the fused app's call-frame information: add to a linked vmlinux a non-allocated
copy of the app's unwind table, named .eh_frame, at the table's own address.

usage: linker/eh-frame-for-gdb.py VMLINUX        (rewrites VMLINUX in place)

gdb reads call-frame information only from sections named .eh_frame and .debug_frame.  The
kernel's own comes in .debug_frame.  The app's (gcc's .eh_frame of the app, its libraries
and glibc) sits inside the kernel's .ukl.rodata, from ukl___ukl_eh_frame_start to its zero
terminator (linker/app-partial.lds), where glue/crtbegin.c registers it for the app's own
unwinder.  Without a copy gdb falls back to prologue analysis in the app and loses the
backtrace at the first large function.  The copy is not loaded into the image (no ALLOC flag)
and changes no address; its address is the table's, so that its pc-relative entries decode.
Exit 0 when added (or when VMLINUX has no app, or already has the copy).
"""
import os
import struct
import subprocess
import sys
import tempfile

SYM = "ukl___ukl_eh_frame_start"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[3])
    vmlinux = sys.argv[1]
    nm = subprocess.run(["nm", vmlinux], capture_output=True, text=True, check=True).stdout
    start = [int(l.split()[0], 16) for l in nm.splitlines() if l.endswith(" " + SYM)]
    if not start:
        return 0  # no app in this vmlinux
    start = start[0]
    sections = subprocess.run(["readelf", "-SW", vmlinux], capture_output=True, text=True, check=True).stdout
    rodata = None
    for line in sections.splitlines():
        if "]" not in line:
            continue
        f = line.split("]", 1)[1].split()
        if f and f[0] == ".eh_frame":
            return 0  # done before
        if f and f[0] == ".ukl.rodata":
            rodata = (int(f[2], 16), int(f[3], 16), int(f[4], 16))
    if rodata is None:
        sys.exit("eh-frame-for-gdb: %s has %s but no .ukl.rodata section" % (vmlinux, SYM))
    addr, off, size = rodata
    if not addr <= start < addr + size:
        sys.exit("eh-frame-for-gdb: %s (%#x) is outside .ukl.rodata" % (SYM, start))
    with open(vmlinux, "rb") as f:
        f.seek(off + start - addr)
        data = f.read(addr + size - start)
    # CIE and FDE records, each a 4-byte length and its bytes, up to the 0 terminator
    p = 0
    while True:
        if p + 4 > len(data):
            sys.exit("eh-frame-for-gdb: no terminator after %s in .ukl.rodata" % SYM)
        (length,) = struct.unpack_from("<I", data, p)
        p += 4
        if length == 0:
            break
        if length == 0xffffffff:
            sys.exit("eh-frame-for-gdb: a 64-bit .eh_frame record, which gcc does not emit")
        p += length
    with tempfile.NamedTemporaryFile(suffix=".eh_frame", delete=False) as t:
        t.write(data[:p])
    try:
        subprocess.run(["objcopy", "--add-section", ".eh_frame=" + t.name,
                        "--set-section-flags", ".eh_frame=contents,readonly",
                        "--change-section-address", ".eh_frame=%#x" % start, vmlinux], check=True)
    finally:
        os.unlink(t.name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
