#!/usr/bin/python3
"""Turn `perf script` call chains into a top-symbol report, folded stacks and a flame graph,
with every frame marked app, glibc, kernel or unknown: in the fused UKL image the app and its
C library are kernel symbols, and this tells them apart again.

usage: eval/perf-report.py --script PERF_SCRIPT.txt --out DIR [--title TEXT]
                           [--glibc-syms FILE] [--comm NAME] [--top N]
                           [--app-range START-END ...] [--symbols NM_FILE]

PERF_SCRIPT.txt is the text of
    perf script -F comm,pid,tid,cpu,time,event,ip,sym,symoff,dso
from a `perf record -g` (Debian's perf 6.1): per sample a header line
("COMM PID/TID [CPU] TIME: EVENT:"), the call chain leaf first, one tab-indented
"ADDR SYM+0xOFF (DSO)" line per frame, and an empty line.

Writes into DIR (created if missing):
  report.txt   the title, total samples, samples per comm, samples by origin, the seam
               crossings, and two top-N tables (percent, samples, origin, symbol): by self
               samples (the leaf frame) and by inclusive samples (each symbol once per sample
               in whose chain it appears)
  folded.csv   "samples,stack": stack = the root->leaf frames as origin:name joined by ";",
               sorted by samples (descending), then stack
  flame.png    a flame graph of the folded stacks (root at the bottom, x = share of samples,
               coloured by origin)
and prints the seam-crossings line on stdout.

Origins.  A frame whose symbol is [unknown] is `unknown`.  Kernel DSOs are bracketed names
such as [kernel.kallsyms], [kernel.vmlinux], [vdso] or a module (not [unknown], [heap],
[stack], [anon...], [jit...]) and paths ending in vmlinux.  In the fused image linker/fuse.sh
prefixed every app and glibc symbol with ukl_, and the kernel's linker script placed them in
[__ukl_text_start, __ukl_text_end):
  - with --app-range START-END (hex, half-open; may be given several times; scripts/perf.sh
    passes those two System.map addresses): a kernel-DSO frame whose address is inside a range
    is app or glibc (one ukl_ prefix stripped), one outside is kernel whatever its name (the
    kernel's own ukl_entry_syscall stays kernel);
  - without a range, the name rule: a kernel symbol starting with ukl_ is app or glibc (one
    ukl_ stripped: ukl___libc_sendmsg -> __libc_sendmsg), any other is kernel.
    (The kernel's own ukl_* functions then count as app: pass the range when you can.)
  app or glibc: glibc if the stripped name is in --glibc-syms (one name per line, as libc.a
  defines them; of an `nm` line the last word is taken), else app.
Frames of other DSOs (an ordinary process): glibc if the DSO is libc.so*, libc-*,
libpthread*, ld-linux* or the symbol is in --glibc-syms (a static binary's libc), else app.
"+0x.." offsets are stripped everywhere.

Seam crossings: the samples whose chain has an app or glibc frame nearer the root than a
kernel frame named tcp_*, sock_*, inet_*, __sys_* or do_syscall*, i.e. the app called into
the kernel's syscall or network code (report.txt shows one such chain into tcp_*).

--comm NAME keeps only the samples of that comm; --top N sets the table length (default 30).
Exit status 0 on success; 1 with one "perf-report: error: ..." line when the input cannot be
read or has no samples; 2 on a usage error.
"""
import argparse
import bisect
import collections
import csv
import os
import re
import sys
import zlib

ORIGINS = ("app", "glibc", "kernel", "unknown")
# kernel functions that mark the app calling into the kernel (seam crossings)
SEAM_PREFIXES = ("tcp_", "sock_", "inet_", "__sys_", "do_syscall")
# bracketed DSO names perf gives to user memory (everything else in brackets is kernel)
USER_BRACKETS = ("[unknown]", "[heap]", "[stack]", "[anon", "[jit", "[uprobes]")
GLIBC_DSOS = ("libc.so", "libc-", "libpthread", "ld-linux")

# "COMM PID/TID [CPU] TIME: EVENT: [ADDR SYM (DSO)]"; the comm may hold spaces
HEADER = re.compile(r"^\s*(.*?)\s+(-?\d+)(?:/(-?\d+))?\s+\[(\d+)\]\s+(\d+\.\d+):\s*(.*)$")
# the frame after the event on such a header line (a sample without a call chain)
INLINE_FRAME = re.compile(r"(?:^|\s)([0-9a-fA-F]+\s+\S.*\))\s*$")
OFFSET = re.compile(r"\+0x[0-9a-fA-F]+$")


class Error(Exception):
    pass


def die(msg):
    print("perf-report: error: %s" % msg, file=sys.stderr)
    sys.exit(1)


# -- reading ------------------------------------------------------------------------------

def parse_frame(text):
    """'ADDR SYM+0xOFF (DSO)' -> (addr, sym, dso), or None if the text is no frame.
    The symbol may hold spaces and parentheses (C++), so the DSO is the last balanced (...)."""
    parts = text.strip().split(None, 1)
    if len(parts) != 2:
        return None
    try:
        addr = int(parts[0], 16)
    except ValueError:
        return None
    rest = parts[1].rstrip()
    dso = ""
    if rest.endswith(")"):
        depth = 0
        for i in range(len(rest) - 1, -1, -1):
            if rest[i] == ")":
                depth += 1
            elif rest[i] == "(":
                depth -= 1
                if depth == 0:
                    dso = rest[i + 1:-1]
                    rest = rest[:i].rstrip()
                    break
    sym = OFFSET.sub("", rest) or "[unknown]"
    return addr, sym, dso


def read_samples(path):
    """Yield (comm, [(addr, sym, dso), ...] leaf first) per sample of a perf script text."""
    try:
        f = open(path, encoding="utf-8", errors="replace")
    except OSError as e:
        raise Error("cannot read %s: %s (write it with: perf script -F "
                    "comm,pid,tid,cpu,time,event,ip,sym,symoff,dso > %s)" % (path, e.strerror, path))
    comm, chain = None, []
    with f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            if line[0] in " \t":
                fr = parse_frame(line)
                if fr is not None and comm is not None:
                    chain.append(fr)
                    continue
            m = HEADER.match(line)
            if m is None:
                continue  # a line perf prints around the samples (warnings): not ours
            if comm is not None:
                yield comm, chain
            comm, chain = m.group(1).strip(), []
            # without -g perf prints the sample's own ip on the header line, after the event
            tail = INLINE_FRAME.search(m.group(6))
            fr = parse_frame(tail.group(1)) if tail else None
            if fr is not None:
                chain.append(fr)
    if comm is not None:
        yield comm, chain


def read_glibc_syms(path):
    if not path:
        return set()
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return {ln.split()[-1] for ln in f if ln.strip() and not ln.lstrip().startswith("#")}
    except OSError as e:
        raise Error("cannot read the glibc symbol list %s: %s (one name per line, e.g. from "
                    "nm --defined-only libc.a)" % (path, e.strerror))


def parse_range(text):
    try:
        lo, hi = (int(x, 16) for x in text.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError("'%s' is no START-END of hex addresses" % text)
    if lo >= hi:
        raise argparse.ArgumentTypeError("'%s': START must be below END" % text)
    return lo, hi


# -- classifying --------------------------------------------------------------------------

def is_kernel_dso(dso):
    # perf names a vmlinux's second text section after it: [kernel.kallsyms].ukl.text
    if dso.startswith("[kernel."):
        return True
    if dso.startswith("[") and dso.endswith("]"):
        return not dso.startswith(USER_BRACKETS)
    return dso.endswith("vmlinux")


class Classifier:
    def __init__(self, glibc_syms, app_ranges):
        self.glibc = glibc_syms
        self.ranges = app_ranges

    def in_glibc(self, name):
        # a shared libc's symbols may carry a version (memcpy@@GLIBC_2.14)
        return name in self.glibc or name.split("@", 1)[0] in self.glibc

    def app_or_glibc(self, name):
        return ("glibc" if self.in_glibc(name) else "app"), name

    def __call__(self, addr, sym, dso):
        """(origin, name) of one frame."""
        if sym == "[unknown]":
            return "unknown", sym
        if is_kernel_dso(dso):
            stripped = sym[4:] if sym.startswith("ukl_") else None
            if self.ranges:
                if any(lo <= addr < hi for lo, hi in self.ranges):
                    return self.app_or_glibc(stripped if stripped is not None else sym)
                return "kernel", sym
            if stripped is not None:
                return self.app_or_glibc(stripped)
            return "kernel", sym
        base = os.path.basename(dso)
        if base.startswith(GLIBC_DSOS):
            return "glibc", sym
        return self.app_or_glibc(sym)


# -- counting -----------------------------------------------------------------------------

def crossing(stack):
    """The seam kernel frame an app/glibc frame leads into in a root-first stack, or None."""
    seen_app = False
    hit = None
    for origin, name in stack:
        if origin in ("app", "glibc"):
            seen_app = True
        elif seen_app and origin == "kernel" and name.startswith(SEAM_PREFIXES):
            if name.startswith("tcp_"):
                return name
            hit = hit or name
    return hit


def fmt_stack(stack):
    return ";".join("%s:%s" % f for f in stack)


class Profile:
    def __init__(self):
        self.total = 0
        self.comms = collections.Counter()
        self.folded = collections.Counter()  # root-first tuple of (origin, name) -> samples
        self.self_ = collections.Counter()  # (origin, name) -> samples with it as leaf
        self.incl = collections.Counter()  # (origin, name) -> samples with it anywhere
        self.no_chain = 0  # samples that came with only their own ip (no -g)
        self.crossings = 0
        self.tcp_crossings = collections.Counter()  # stack -> samples

    def add(self, comm, stack):
        self.total += 1
        self.comms[comm] += 1
        self.folded[stack] += 1
        self.self_[stack[-1]] += 1
        for fr in set(stack):
            self.incl[fr] += 1
        hit = crossing(stack)
        if hit:
            self.crossings += 1
            if hit.startswith("tcp_"):
                self.tcp_crossings[stack] += 1

    def seam_line(self):
        return ("seam crossings: %d samples run from an app frame into the kernel (%d into tcp_*)"
                % (self.crossings, sum(self.tcp_crossings.values())))


KERNEL_HALF = 0xffff800000000000


def read_symbols(path):
    """(starts, names) of the text symbols of an `nm -n` listing, sorted by address."""
    starts, names = [], []
    try:
        with open(path) as f:
            for line in f:
                parts = line.split()
                if len(parts) == 3 and parts[1] in "tTwW":
                    starts.append(int(parts[0], 16))
                    names.append(parts[2])
    except OSError as e:
        raise Error("cannot read %s: %s (write it with: nm -n vmlinux > %s)" % (path, e.strerror, path))
    order = sorted(range(len(starts)), key=starts.__getitem__)
    return [starts[i] for i in order], [names[i] for i in order]


def resolve(chain, symbols):
    """A UKL chain as perf script leaves it, mended.  The app's frames of a UKL task come in
    the user-context part of the chain (the kernel counts the app's registers as user mode),
    but their addresses are in the kernel half, so perf finds no user map and prints them
    [unknown]: they are looked up here in the vmlinux's own symbols.  That part also starts
    with the interrupted ip the kernel part ended with: the repeat is dropped."""
    out, prev_unknown = [], False
    for addr, sym, dso in chain:
        unknown = sym == "[unknown]"
        if unknown and symbols and addr >= KERNEL_HALF:
            i = bisect.bisect_right(symbols[0], addr) - 1
            if i >= 0:
                sym, dso = symbols[1][i], "[kernel.kallsyms]"
        # only where the kernel part (resolved by perf) meets the user part (left unknown):
        # a recursive app function repeats its return address legitimately
        if out and out[-1][0] == addr and unknown and not prev_unknown:
            prev_unknown = unknown
            continue
        out.append((addr, sym, dso))
        prev_unknown = unknown
    return out


def load(args, classify):
    prof, seen = Profile(), collections.Counter()
    symbols = read_symbols(args.symbols) if args.symbols else None
    for comm, chain in read_samples(args.script):
        chain = resolve(chain, symbols)
        seen[comm] += 1
        if args.comm is not None and comm != args.comm:
            continue
        if not chain:
            chain = [(0, "[unknown]", "[unknown]")]
        if len(chain) == 1:
            prof.no_chain += 1
        stack = tuple(classify(*fr) for fr in reversed(chain))  # root first
        prof.add(comm, stack)
    if not seen:
        raise Error("no samples in %s (was perf record run with -g, and perf script given its "
                    "perf.data?)" % args.script)
    if prof.total == 0:
        raise Error("no samples of comm '%s' in %s (its comms: %s; fix --comm)"
                    % (args.comm, args.script, ", ".join(c for c, _ in seen.most_common(8))))
    return prof, sum(seen.values())


# -- writing ------------------------------------------------------------------------------

def table(counter, total, top):
    rows = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0][1], kv[0][0]))[:top]
    out = ["  %7s  %8s  %-7s  %s" % ("percent", "samples", "origin", "symbol")]
    for (origin, name), n in rows:
        out.append("  %6.2f%%  %8d  %-7s  %s" % (100.0 * n / total, n, origin, name))
    return out


def write_report(path, prof, args, in_file):
    t = prof.total
    lines = [args.title, "", "input: %s" % args.script]
    if args.comm is not None:
        lines.append("comm filter: %s (%d of the %d samples in the file)" % (args.comm, t, in_file))
    if args.app_range:
        lines.append("app text: " + ", ".join("%x-%x" % r for r in args.app_range))
    else:
        lines.append("app text: by name (kernel symbols prefixed ukl_; no --app-range)")
    lines.append("total samples: %d" % t)
    top_comms = sorted(prof.comms.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    rest = t - sum(n for _, n in top_comms)
    comms = ", ".join("%s %d (%.1f%%)" % (c, n, 100.0 * n / t) for c, n in top_comms)
    if rest:
        comms += ", %d other comms %d (%.1f%%)" % (len(prof.comms) - len(top_comms), rest, 100.0 * rest / t)
    lines.append("samples per comm: " + comms)
    by_origin = collections.Counter()
    for (origin, _), n in prof.self_.items():
        by_origin[origin] += n
    lines.append("self samples by origin: " + ", ".join(
        "%s %.1f%%" % (o, 100.0 * by_origin[o] / t) for o in ORIGINS))
    if prof.no_chain > t / 2:
        lines.append("note: %d samples have a single frame (no call chain: perf record without -g?)"
                     % prof.no_chain)
    lines.append(prof.seam_line())
    if prof.tcp_crossings:
        stack, n = sorted(prof.tcp_crossings.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        lines.append("  e.g. (%d samples, root->leaf): %s" % (n, fmt_stack(stack)))
    lines += ["", "Top %d symbols by self samples (the leaf frame):" % args.top]
    lines += table(prof.self_, t, args.top)
    lines += ["", "Top %d symbols by inclusive samples (anywhere in the chain):" % args.top]
    lines += table(prof.incl, t, args.top)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def write_folded(path, prof):
    rows = sorted(((n, fmt_stack(s)) for s, n in prof.folded.items()), key=lambda r: (-r[0], r[1]))
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["samples", "stack"])
        w.writerows(rows)


# -- the flame graph ----------------------------------------------------------------------

# one colour family per origin: a base RGB and how far each channel may move (per name)
PALETTE = {
    "app": ((0.25, 0.65, 0.25), (0.10, 0.20, 0.10)),  # greens
    "glibc": ((0.30, 0.50, 0.85), (0.10, 0.15, 0.10)),  # blues
    "kernel": ((0.90, 0.45, 0.15), (0.08, 0.25, 0.10)),  # oranges/reds
    "unknown": ((0.62, 0.62, 0.62), (0.10, 0.10, 0.10)),  # greys
}


def colour(origin, name):
    """A shade of the origin's colour, stable per name (crc32, not the salted hash())."""
    base, spread = PALETTE[origin]
    h = zlib.crc32(name.encode())
    shade = ((h & 0xff) / 255.0 - 0.5) * 2  # -1 .. 1
    return tuple(min(1.0, max(0.0, b + s * shade)) for b, s in zip(base, spread))


def layout(folded, total, min_share, max_rows):
    """Flame rectangles (x0, width, depth, origin, name) in shares of the samples, and whether
    a stack was cut at max_rows.  Stacks that share a prefix share its rectangles: build the
    prefix tree, then place each node's children side by side inside it, widest first."""
    root = {"n": 0, "kids": {}}
    for stack, n in folded.items():
        node = root
        node["n"] += n
        for fr in stack:
            node = node["kids"].setdefault(fr, {"n": 0, "kids": {}})
            node["n"] += n
    rects, cut = [], False
    todo = [(root, 0.0, -1)]
    while todo:
        node, x, depth = todo.pop()
        if depth + 1 >= max_rows:
            cut = cut or bool(node["kids"])
            continue
        for fr, kid in sorted(node["kids"].items(), key=lambda kv: (-kv[1]["n"], kv[0][1], kv[0][0])):
            w = kid["n"] / total
            if w < min_share:
                break  # the rest are narrower still (sorted)
            rects.append((x, w, depth + 1, fr[0], fr[1]))
            todo.append((kid, x, depth + 1))
            x += w
    return rects, cut


def draw_flame(path, prof, title, min_share=0.001, max_rows=80):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.collections import PatchCollection
        from matplotlib.patches import Patch, Rectangle
    except ImportError:
        raise Error("matplotlib is not installed (scripts/setup.sh installs python3-matplotlib)")
    # (a broken unwind can give a chain of hundreds of [unknown] frames: cut at max_rows)
    rects, cut = layout(prof.folded, prof.total, min_share, max_rows)
    depth = max(r[2] for r in rects) + 1 if rects else 1
    dpi, width_px, row_px = 100, 1600, 17
    left_px, right_px, top_px, bottom_px = 10, 10, 60, 40
    height_px = depth * row_px + top_px + bottom_px
    fig = plt.figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    ax = fig.add_axes([left_px / width_px, bottom_px / height_px,
                       (width_px - left_px - right_px) / width_px, depth * row_px / height_px])
    ax.set_xlim(0, 1)
    ax.set_ylim(0, depth)
    ax.axis("off")
    patches = [Rectangle((x, d), w, 1) for x, w, d, _, _ in rects]
    ax.add_collection(PatchCollection(patches, facecolors=[colour(o, n) for _, _, _, o, n in rects],
                                      edgecolors="white", linewidths=0.4))
    # labels: a monospace font, so the characters that fit follow from the rectangle's width
    font_pt = 7.5
    char_px = font_pt * dpi / 72 * 0.62  # DejaVu Sans Mono advance is ~0.6 em
    ax_px = width_px - left_px - right_px
    for x, w, d, origin, name in rects:
        fit = int((w * ax_px - 4) / char_px)
        if fit >= len(name):
            label = name
        elif fit >= 4:
            label = name[:fit - 2] + ".."
        else:
            continue
        ax.text(x + 2.0 / ax_px, d + 0.5, label, va="center", ha="left", fontsize=font_pt,
                family="DejaVu Sans Mono", clip_on=True)
    fig.suptitle(title, y=1 - 12 / height_px, va="top", fontsize=12)
    fig.text(0.5, 1 - 34 / height_px, "%d samples; width = share of samples, root at the bottom; "
             "frames under %.1f%% left out%s" % (prof.total, 100 * min_share,
                                                  "; stacks cut at %d frames" % max_rows if cut else ""),
             ha="center", va="top", fontsize=8.5, color="0.3")
    fig.legend(handles=[Patch(facecolor=PALETTE[o][0], label=o) for o in ORIGINS],
               loc="lower center", ncol=4, frameon=False, fontsize=9, bbox_to_anchor=(0.5, 0.0))
    fig.savefig(path, dpi=dpi)
    plt.close(fig)


# -----------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(prog="perf-report", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--script", required=True, help="the perf script text")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--title", default="perf profile")
    ap.add_argument("--glibc-syms", help="glibc's symbol names, one per line")
    ap.add_argument("--comm", help="keep only the samples of this comm")
    ap.add_argument("--symbols", help="`nm -n vmlinux` of the fused image: resolves the app's "
                    "frames perf left [unknown]")
    ap.add_argument("--top", type=int, default=30, help="rows per table (default 30)")
    ap.add_argument("--app-range", type=parse_range, action="append", default=[],
                    metavar="START-END", help="the fused app's text (hex, half-open)")
    args = ap.parse_args()
    try:
        classify = Classifier(read_glibc_syms(args.glibc_syms), args.app_range)
        prof, in_file = load(args, classify)
        try:
            os.makedirs(args.out, exist_ok=True)
        except OSError as e:
            raise Error("cannot create %s: %s (pick a writable --out)" % (args.out, e.strerror))
        write_report(os.path.join(args.out, "report.txt"), prof, args, in_file)
        write_folded(os.path.join(args.out, "folded.csv"), prof)
        draw_flame(os.path.join(args.out, "flame.png"), prof, args.title)
    except Error as e:
        die(str(e))
    print(prof.seam_line())
    print("perf-report: wrote %s/{report.txt,folded.csv,flame.png}" % args.out)


if __name__ == "__main__":
    main()
