# gdb support for a fused UKL vmlinux (loaded by scripts/gdb.sh: make gdb).
#
# 1. Backtraces cross the seam.  A system call of the app enters the kernel through
#    ukl_entry_syscall* (arch/x86/entry/entry_64_ukl.S), which has no DWARF call-frame
#    information: it moves to the task stack and saves the app's registers there as the
#    pt_regs a SYSCALL would have produced.  The unwinder below reads the app's frame
#    (ip, sp, rbp and the callee-saved registers) back from that pt_regs, so gdb goes on from
#    the kernel's frames into the app's, which have DWARF.
# 2. App names: the fusion prefixed every app and glibc symbol with ukl_ (linker/fuse.sh), but
#    gdb names a frame by its DWARF, which keeps the source names (process_command_ascii, not
#    ukl_process_command_ascii): `break NAME` and backtraces use them as they are.
import gdb
from gdb.unwinder import Unwinder, register_unwinder

THREAD_SIZE = 16384          # x86-64 without KASAN: 4 pages; stacks are THREAD_SIZE aligned
PT_REGS_SIZE = 21 * 8        # struct pt_regs
# offsets in struct pt_regs (arch/x86/include/asm/ptrace.h)
PT_REGS = {"r15": 0, "r14": 8, "r13": 16, "r12": 24, "rbp": 32, "rbx": 40, "rip": 128, "rsp": 152}
ENTRY = "ukl_entry_syscall"  # ukl_entry_syscall, _bypass, _shortcut


def _u64(addr):
    return int.from_bytes(gdb.selected_inferior().read_memory(addr, 8).tobytes(), "little")


def _symbol_at(pc):
    """The minimal symbol containing pc ("" if none): info symbol's first word."""
    try:
        out = gdb.execute("info symbol %#x" % pc, to_string=True)
    except gdb.error:
        return ""
    return "" if out.startswith("No symbol") else out.split()[0]


class FrameId:
    def __init__(self, sp, pc):
        self.sp = sp
        self.pc = pc


class UklSeamUnwinder(Unwinder):
    """The caller of a frame in ukl_entry_syscall*: the app, from the pt_regs at the top of
    the task stack the entry switched to."""

    def __init__(self):
        super().__init__("ukl-seam")

    def __call__(self, pending_frame):
        pc_val = pending_frame.read_register("rip")
        if not _symbol_at(int(pc_val)).startswith(ENTRY):
            return None
        sp_val = pending_frame.read_register("rsp")
        regs = (int(sp_val) | (THREAD_SIZE - 1)) + 1 - PT_REGS_SIZE
        u64 = gdb.lookup_type("unsigned long")
        # gdb 13 takes the frame id's sp and pc as gdb.Value only
        info = pending_frame.create_unwind_info(FrameId(sp_val, pc_val))
        for name, off in PT_REGS.items():
            info.add_saved_register(name, gdb.Value(_u64(regs + off)).cast(u64))
        return info


register_unwinder(None, UklSeamUnwinder(), replace=True)
