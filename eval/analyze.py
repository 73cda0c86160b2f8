#!/usr/bin/python3
"""Turn the raw eval data into summary.csv, report.md and the paper's figures.

usage: eval/analyze.py [--raw DIR] [--out DIR] [--fig N ...] [--no-plots]
       eval/analyze.py --bench [--out DIR]    (make bench: openloop.csv, ratios.md, report.md)
       eval/analyze.py --check-boot RAW PROFILE BOOT [--tolerance F]   (eval/micro.sh, per boot)

Reads DIR/PROFILE/boot-N/summary.csv (lebench; rows test,size,iters,median_ns,min_ns,max_ns,
clock_median_ns) and checks each test's TEST.csv (index,size,tsc_ns,clock_ns) against it.  Every
profile must have the same number of boots, and every boot the same tests and sizes.  Writes
OUT/summary.csv, one row per (profile, test, size):

  profile,test,size,median_ns,min_ns,max_ns,ratio_vs_linux,ratio_min,ratio_max

median_ns is the median of the per-boot medians, min_ns/max_ns the lowest and highest per-boot
median; ratio_vs_linux = median_ns / linux's median_ns, and ratio_min/ratio_max = min_ns/max_ns
over that same linux median: the spread over boots of the ratio (linux's own row shows the
spread of the baseline).  Under ICOUNT=1 (OUT/env.txt says "icount: on") the *_ns columns hold
instruction counts: QEMU -icount shift=0 advances the guest clock 1 ns per instruction; the
report and the figures then say "instructions".

OUT/report.md carries OUT/env.txt (the stamp eval/micro.sh wrote), the boot checks (null_call
per profile, rejected boots), the tables, and the memcached bench (OUT/bench/, eval/bench.sh)
only when OUT/bench/env.txt has the same "run:" ID as OUT/env.txt (one `make eval`); a bench
from another run is left out with a line saying so, and so is fig 6.  Figures: OUT/fig1.png
fig2.png fig4.png (fig6.png from the bench).  Defaults: --raw out/eval/raw, --out out/eval.
Errors name the test and the image (profile, boot) whose data is missing or malformed.

--bench reads OUT/bench/{closed.csv,env.txt,PROFILE/boot-N/open.csv} (mcload's CSV, with or
without its scheduled,completed,timed_out columns) and writes OUT/bench/openloop.csv
(profile,offered_qps,achieved_qps,p99_us,mean_us,errors,timed_out: medians over boots, errors and
timeouts summed; timed_out empty when mcload did not report it), ratios.md and report.md.

--check-boot decides whether RAW/PROFILE/boot-BOOT, just arrived, is kept (exit 0) or rejected
(exit 3; moved to RAW/PROFILE/rejected-N/ with rejected.txt saying why): rejected when its
console says 'Marking TSC unstable', or when its null_call median is off by more than the
tolerance (0.05) from the median of the profile's other boots.  A first boot is kept unchecked;
when the second disagrees with it, the second is set aside undecided and the next boot decides:
agreeing with the first, it is kept; agreeing with the one set aside, those two are kept and the
first is rejected.
"""
import argparse
import csv
import glob
import os
import re
import statistics
import sys

HEAD = ["test", "size", "iters", "median_ns", "min_ns", "max_ns", "clock_median_ns"]
ROW_HEAD = ["index", "size", "tsc_ns", "clock_ns"]
SUMMARY_HEAD = ["profile", "test", "size", "median_ns", "min_ns", "max_ns", "ratio_vs_linux",
                "ratio_min", "ratio_max"]
FIG1 = [("null_call", 0), ("getppid", 0), ("read", 1), ("write", 1), ("sendto_unix", 1), ("recvfrom_unix", 1),
        ("sendto_tcp", 1), ("recvfrom_tcp", 1)]
FIG2 = ["read", "write", "sendto_tcp", "recvfrom_tcp"]
BASE = "linux"
NULL = ("null_call", 0)
TOLERANCE = 0.05
REJECTED = 3    # --check-boot's exit status for a rejected boot


class DataError(Exception):
    pass


def legend_or_note(ax, **kw):
    """A legend, or a note that this run did not measure the panel (e.g. ONLY=getppid)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kw)
    else:
        ax.text(0.5, 0.5, "not measured in this run", ha="center", va="center", transform=ax.transAxes)


def read_csv(path, head, what):
    if not os.path.exists(path):
        raise DataError("%s: missing (%s)" % (path, what))
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != head:
        raise DataError("%s: malformed header %r, expected %r (%s)"
                        % (path, rows[0] if rows else None, head, what))
    out = []
    for n, r in enumerate(rows[1:], 2):
        try:
            if len(r) != len(head):
                raise ValueError("%d fields" % len(r))
            out.append([r[0]] + [int(x) for x in r[1:]] if head is HEAD else [int(x) for x in r])
        except ValueError as e:
            raise DataError("%s: malformed line %d %r: %s (%s)" % (path, n, ",".join(r), e, what))
    return out


def boot_dirs(pdir, prefix="boot-"):
    """PDIR's boot-N (or rejected-N) directory names, by N"""
    names = [b for b in os.listdir(pdir) if re.fullmatch(re.escape(prefix) + r"\d+", b)
             and os.path.isdir(os.path.join(pdir, b))]
    return sorted(names, key=lambda b: int(b[len(prefix):]))


def load(raw):
    """{profile: {boot: {(test, size): median_ns}}} after checking every per-test CSV, that every
    profile has as many boots as the others and every boot the same tests and sizes"""
    if not os.path.isdir(raw):
        raise DataError("%s: no raw eval data; run make eval-micro first" % raw)
    profs = sorted(p for p in os.listdir(raw) if os.path.isdir(os.path.join(raw, p)))
    counts = {}
    for prof in profs:
        counts[prof] = boot_dirs(os.path.join(raw, prof))
        if not counts[prof]:
            raise DataError("%s: no boot-N directories (image lebench/%s)" % (os.path.join(raw, prof), prof))
    if len(set(len(b) for b in counts.values())) > 1:
        raise DataError("%s: unequal boot counts: %s; every profile needs the same number of boots, booted in "
                        "alternation (rerun make eval-micro)"
                        % (raw, ", ".join("%s %d" % (p, len(counts[p])) for p in profile_order(counts))))
    data = {}
    for prof in profs:
        for b in counts[prof]:
            bdir = os.path.join(raw, prof, b)
            what = "image lebench/%s, %s" % (prof, b)
            summ = read_csv(os.path.join(bdir, "summary.csv"), HEAD, what)
            if not summ:
                raise DataError("%s: empty summary (%s)" % (os.path.join(bdir, "summary.csv"), what))
            per_test = {}
            for test, size, iters, med, mn, mx, _ in summ:
                if test not in per_test:
                    per_test[test] = read_csv(os.path.join(bdir, test + ".csv"), ROW_HEAD,
                                              "test %s, %s" % (test, what))
                vals = sorted(r[2] for r in per_test[test] if r[1] == size)
                if len(vals) != iters or statistics.median(vals) != med and \
                        abs(statistics.median(vals) - med) > 1:
                    raise DataError("%s.csv: size %d has %d rows (median %s) but summary.csv says "
                                    "%d iterations, median %d (test %s, %s)"
                                    % (os.path.join(bdir, test), size, len(vals),
                                       statistics.median(vals) if vals else "-", iters, med, test, what))
                data.setdefault(prof, {}).setdefault(b, {})[(test, size)] = med
    if BASE not in data:
        raise DataError("%s: no %s profile data, the baseline of every ratio" % (raw, BASE))
    every = set()
    for boots in data.values():
        for pts in boots.values():
            every |= set(pts)
    for prof in profile_order(data):
        for b, pts in data[prof].items():
            # a test the kernel refused (lebench's skipped.txt: fork of a UKL image) is absent
            # from every boot of the profile, with its reason
            skipped = skipped_tests(os.path.join(raw, prof, b))
            lack = sorted(k for k in every - set(pts) if k[0] not in skipped)
            if lack:
                raise DataError("%s: lacks %s, which other boots have (image lebench/%s, %s); every boot must "
                                "measure the same tests and sizes"
                                % (os.path.join(raw, prof, b, "summary.csv"),
                                   ", ".join("%s size %d" % k for k in lack), prof, b))
    return data


def skipped_tests(bdir):
    """{test: reason} of a boot's skipped.txt (lines "test: reason")"""
    path = os.path.join(bdir, "skipped.txt")
    if not os.path.exists(path):
        return {}
    return dict(l.rstrip("\n").split(": ", 1) for l in open(path) if ": " in l)


def aggregate(data):
    """rows of summary.csv: (profile, test, size, median, min, max, ratio, ratio_min, ratio_max)"""
    per = {}
    for prof, boots in data.items():
        for b, pts in boots.items():
            for key, med in pts.items():
                per.setdefault(prof, {}).setdefault(key, []).append(med)
    rows = []
    for prof in profile_order(per):
        for key in sorted(per[prof]):
            meds = per[prof][key]
            m = statistics.median(meds)
            base = per[BASE].get(key)
            bm = statistics.median(base) if base else None
            if bm:
                rows.append((prof, key[0], key[1], m, min(meds), max(meds), m / bm, min(meds) / bm, max(meds) / bm))
            else:
                rows.append((prof, key[0], key[1], m, min(meds), max(meds), None, None, None))
    return rows


def profile_order(d):
    return ([BASE] if BASE in d else []) + sorted(p for p in d if p != BASE)


def write_summary(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(SUMMARY_HEAD)
        for prof, test, size, m, mn, mx, ratio, rmin, rmax in rows:
            w.writerow([prof, test, size, fmt(m), fmt(mn), fmt(mx)] +
                       ["" if x is None else "%.3f" % x for x in (ratio, rmin, rmax)])


def fmt(x):
    return str(int(x)) if float(x).is_integer() else "%.1f" % x


def ratio_cell(r):
    return "%.3f (%.3f..%.3f)" % (r[6], r[7], r[8]) if r and r[6] is not None else "-"


# -- the stamp ---------------------------------------------------------------------------

def read_env(path):
    return open(path).read() if os.path.exists(path) else None


def env_field(env, key):
    m = re.search(r"^%s: *(.*)$" % re.escape(key), env or "", re.M)
    return m.group(1).strip() if m else None


def is_icount(env):
    """the run measured instruction counts (ICOUNT=1); older stamps said so on the accel line"""
    return bool(re.search(r"^icount: on\b", env or "", re.M) or
                re.search(r"^accel: .*icount shift=0", env or "", re.M))


class Units:
    """the words for the guest's clock: ns, or instructions under ICOUNT=1"""

    def __init__(self, icount):
        self.icount = icount
        self.unit = "instructions" if icount else "ns"
        self.per_call = "instructions per call" if icount else "ns per call"
        self.better = "fewer instructions" if icount else "faster"
        self.what = "instruction count (ICOUNT=1)" if icount else "latency (ns)"
        self.measure = "instructions (ICOUNT=1)" if icount else "latency"


# -- the boot check ----------------------------------------------------------------------

def null_call_median(bdir, what):
    for r in read_csv(os.path.join(bdir, "summary.csv"), HEAD, what):
        if (r[0], r[1]) == NULL:
            return r[3]
    raise DataError("%s: no null_call row, the boot check's yardstick (%s)"
                    % (os.path.join(bdir, "summary.csv"), what))


def tsc_unstable(bdir):
    """the console's 'Marking TSC unstable' line, if there is one"""
    path = os.path.join(bdir, "console.log")
    if os.path.exists(path):
        with open(path, errors="replace") as f:
            for line in f:
                if "Marking TSC unstable" in line:
                    return re.sub(r"^\[[ 0-9.]*\] *", "", line.strip())
    return None


def off(x, ref):
    return abs(x - ref) / ref if ref else float("inf")


def set_aside(pdir, bdir, msg, undecided=False):
    """move BDIR to PDIR/rejected-N/ with rejected.txt; returns its name"""
    taken = [int(b[len("rejected-"):]) for b in boot_dirs(pdir, "rejected-")]
    name = "rejected-%d" % (max(taken, default=0) + 1)
    dest = os.path.join(pdir, name)
    os.rename(bdir, dest)
    for f in ("check.txt",):
        if os.path.exists(os.path.join(dest, f)):
            os.remove(os.path.join(dest, f))
    with open(os.path.join(dest, "rejected.txt"), "w") as f:
        f.write(msg + "\n")
    if undecided:
        open(os.path.join(dest, "undecided"), "w").close()
    return name


def keep(bdir, msg):
    with open(os.path.join(bdir, "check.txt"), "w") as f:
        f.write(msg + "\n")
    return True, msg


def check_boot(raw, prof, boot, tol=TOLERANCE, unit="ns"):
    """(kept, message) for RAW/PROF/boot-BOOT, just arrived; a rejected boot is moved aside"""
    pdir = os.path.join(raw, prof)
    name = "boot-%s" % boot
    bdir = os.path.join(pdir, name)
    what = "image lebench/%s, %s" % (prof, name)
    tag = "lebench/%s boot %s" % (prof, boot)
    if not os.path.isdir(bdir):
        raise DataError("%s: missing (%s)" % (bdir, what))
    rel = os.path.relpath(pdir, os.path.dirname(os.path.normpath(raw)))
    tsc = tsc_unstable(bdir)
    if tsc:
        msg = "%s: rejected: the console says '%s': the guest left the TSC clocksource, so its times are " \
            "not comparable with the other boots'" % (tag, tsc)
        where = set_aside(pdir, bdir, msg)
        return False, "%s; kept aside in %s/%s/" % (msg, rel, where)
    x = null_call_median(bdir, what)
    others = [b for b in boot_dirs(pdir) if b != name]
    ref = {b: null_call_median(os.path.join(pdir, b), "image lebench/%s, %s" % (prof, b)) for b in others}
    u = unit
    pct = "%.0f%%" % (tol * 100)
    if not others:
        return keep(bdir, "%s: kept: null_call %s %s, the profile's first boot (checked against the next one)"
                    % (tag, fmt(x), u))
    if len(others) >= 2:
        m = statistics.median(ref.values())
        which = "the median of %s" % ", ".join(b.replace("-", " ") for b in others)
        if off(x, m) > tol:
            msg = "%s: rejected: null_call median %s %s is %.1f%% off %s %s, %s (tolerance %s)" % (
                tag, fmt(x), u, off(x, m) * 100, fmt(m), u, which, pct)
            where = set_aside(pdir, bdir, msg)
            return False, "%s; kept aside in %s/%s/" % (msg, rel, where)
        return keep(bdir, "%s: kept: null_call %s %s, within %s of %s %s, %s" % (tag, fmt(x), u, pct, fmt(m), u, which))
    # one earlier boot, which may be the odd one
    first = others[0]
    y = ref[first]
    pending = [r for r in boot_dirs(pdir, "rejected-") if os.path.exists(os.path.join(pdir, r, "undecided"))]
    if off(x, y) <= tol:
        for r in pending:
            os.remove(os.path.join(pdir, r, "undecided"))
            with open(os.path.join(pdir, r, "rejected.txt"), "a") as f:
                f.write("decided: %s agreed with %s (null_call %s %s)\n" % (tag, first.replace("-", " "), fmt(x), u))
        return keep(bdir, "%s: kept: null_call %s %s, within %s of %s's %s %s" % (
            tag, fmt(x), u, pct, first.replace("-", " "), fmt(y), u))
    for r in reversed(pending):
        z = null_call_median(os.path.join(pdir, r), "image lebench/%s, %s" % (prof, r))
        if off(x, z) <= tol:
            # the first boot is the odd one: it goes, the one set aside takes its place
            msg = "lebench/%s %s: rejected: its null_call median %s %s is %.1f%% off the next two boots, " \
                "which agree (%s and %s %s; tolerance %s)" % (prof, first.replace("-", " "), fmt(y), u,
                                                            off(y, statistics.median([x, z])) * 100, fmt(z), fmt(x), u, pct)
            held = os.path.join(pdir, ".held-" + r)
            os.rename(os.path.join(pdir, r), held)
            where = set_aside(pdir, os.path.join(pdir, first), msg)
            back = os.path.join(pdir, first)
            os.rename(held, back)
            os.remove(os.path.join(back, "undecided"))
            os.remove(os.path.join(back, "rejected.txt"))
            with open(os.path.join(back, "check.txt"), "w") as f:
                f.write("kept (set aside as %s, then confirmed by %s): null_call %s %s\n" % (r, tag, fmt(z), u))
            for o in pending:
                if o != r:
                    os.remove(os.path.join(pdir, o, "undecided"))
            return keep(bdir, "%s: kept: null_call %s %s agrees with %s %s of the boot set aside as %s, so the "
                        "first boot (%s %s) was the odd one: it is now %s/%s/, the other boot takes its place as %s"
                        % (tag, fmt(x), u, fmt(z), u, r, fmt(y), u, rel, where, first))
    msg = "%s: rejected for now: null_call median %s %s is %.1f%% off %s %s of %s, the only earlier boot " \
        "(tolerance %s); one of the two is off, another boot decides" % (
            tag, fmt(x), u, off(x, y) * 100, fmt(y), u, first.replace("-", " "), pct)
    where = set_aside(pdir, bdir, msg, undecided=True)
    return False, "%s; kept aside in %s/%s/" % (msg, rel, where)


def boot_checks(raw, data, units):
    """report.md's section on the boot checks: null_call per profile, rejected boots"""
    out = ["## Boot checks: the empty call\n",
           "null_call (an empty function call bracketed like the system calls) should cost the same in every "
           "boot of a profile; eval/micro.sh rejects and repeats a boot whose null_call median is off from its "
           "profile's other boots, or whose console says 'Marking TSC unstable'.  Across profiles it shows "
           "what the timing bracket itself costs on each kernel.\n",
           "| profile | boots kept | boots rejected | null_call %s median (min..max) | null_call / linux (min..max) |"
           % units.unit, "|---|---|---|---|---|"]
    base = [pts[NULL] for pts in data[BASE].values() if NULL in pts]
    bm = statistics.median(base) if base else None
    reasons = []
    for prof in profile_order(data):
        vals = [pts[NULL] for pts in data[prof].values() if NULL in pts]
        pdir = os.path.join(raw, prof)
        rej = boot_dirs(pdir, "rejected-") if os.path.isdir(pdir) else []
        for r in rej:
            path = os.path.join(pdir, r, "rejected.txt")
            why = open(path).read().strip().replace("\n", "; ") if os.path.exists(path) else "(no rejected.txt)"
            reasons.append("- %s, %s: %s" % (prof, r, why))
        if vals:
            m = statistics.median(vals)
            cell = "%s (%s..%s)" % (fmt(m), fmt(min(vals)), fmt(max(vals)))
            ratio = "%.3f (%.3f..%.3f)" % (m / bm, min(vals) / bm, max(vals) / bm) if bm else "-"
        else:
            cell = ratio = "not measured"
        out.append("| %s | %d | %d | %s | %s |" % (prof, len(data[prof]), len(rej), cell, ratio))
    out.append("")
    out.append("Rejected boots (their data in raw/PROFILE/rejected-N/):\n\n" + "\n".join(reasons)
               if reasons else "No boot was rejected.")
    return "\n".join(out) + "\n"


# -- report and figures ------------------------------------------------------------------

def table(rows, keys, units):
    profs = []
    for r in rows:
        if r[0] not in profs:
            profs.append(r[0])
    idx = {(r[0], r[1], r[2]): r for r in rows}
    out = ["| test | size | " + " | ".join("%s %s median (min..max)" % (p, units.unit) for p in profs) + " | " +
           " | ".join("%s/linux ratio (min..max)" % p for p in profs if p != BASE) + " |",
           "|" + "---|" * (2 + len(profs) + len(profs) - 1)]
    for test, size in keys:
        cells = []
        for p in profs:
            r = idx.get((p, test, size))
            cells.append("%s (%s..%s)" % (fmt(r[3]), fmt(r[4]), fmt(r[5])) if r else "-")
        ratios = [ratio_cell(idx.get((p, test, size))) for p in profs if p != BASE]
        out.append("| %s | %s | %s | %s |" % (test, size, " | ".join(cells), " | ".join(ratios)))
    return "\n".join(out)


def same_run(env, benv):
    """(True, "") when the bench's stamp has this report's run ID, else (False, why not)"""
    if benv is None:
        return False, "out/eval/bench/ has no env.txt (an unfinished make bench, or one from before the stamps)"
    run, brun = env_field(env, "run"), env_field(benv, "run")
    if not run:
        return False, "this report's data has no run ID (no env.txt from eval/micro.sh), so no bench can be matched to it"
    if brun != run:
        return False, "it is from another run (bench run %s of %s; this report's run %s)" % (
            brun or "unknown", env_field(benv, "date") or "unknown date", run)
    return True, ""


def bench_markdown(res, level):
    """the bench's stamp, closed-loop ratios and open-loop points as markdown, headings at LEVEL"""
    h = "#" * level
    benv = read_env(os.path.join(res, "env.txt")) or "(no env.txt: not from eval/bench.sh)\n"
    out = ["%s Environment\n\n```\n%s```\n" % (h, benv)]
    ratios = os.path.join(res, "ratios.md")
    if os.path.exists(ratios):
        out.append("%s Closed loop: throughput and p99 latency vs linux\n\n"
                   "Medians over boots, (min..max) their spread; a ratio is the profile's value over linux's "
                   "median, its (min..max) the profile's lowest and highest boot over that same median.  "
                   "Throughput: higher is better; p99 latency: lower is better.  Latencies are host "
                   "wall-clock time (mcload on the host).\n\n%s" % (h, open(ratios).read()))
    meter = os.path.join(res, "meter.md")
    if os.path.exists(meter):
        out.append("%s Instructions per request (METER=1)\n\n%s" % (h, open(meter).read()))
    pts = os.path.join(res, "openloop.csv")
    if os.path.exists(pts):
        with open(pts, newline="") as f:
            rows = list(csv.DictReader(f))
        lines = ["| profile | offered req/s | achieved req/s | p99 µs | mean µs | timeouts + errors |",
                 "|---|---|---|---|---|---|"]
        for r in rows:
            bad = flagged(r)
            lines.append("| %s | %s | %s | %s | %s | %s |" % (
                r["profile"], r["offered_qps"], r["achieved_qps"], r["p99_us"], r["mean_us"],
                "%d (marked in fig 6)" % bad if bad else "0"))
        out.append("%s Open loop: latency vs offered load (fig 6)\n\nMedians over boots; timeouts and "
                   "errors summed over boots (mcload times out what the window's end + its drain leaves "
                   "unanswered).\n\n%s\n" % (h, "\n".join(lines)))
    return "\n".join(out)


def flagged(r):
    """timeouts + errors of an openloop.csv row (either column may be absent or empty)"""
    n = 0
    for c in ("errors", "timed_out"):
        try:
            n += int(float(r.get(c) or 0))
        except ValueError:
            pass
    return n


def report(rows, env, path, figs, units, checks, bench, meter=None):
    keys = []
    for r in rows:
        if (r[1], r[2]) not in keys:
            keys.append((r[1], r[2]))
    headline = [k for k in FIG1 if k in keys] + \
        [k for k in keys if k[0] in ("clock_gettime", "fork", "thread_create", "mmap_munmap",
                                     "ctxsw_pipe", "select", "poll", "epoll")] + \
        [k for k in keys if k[0].startswith("pagefault")]
    with open(path, "w") as f:
        f.write("# ukl eval report\n\n## Microbenchmarks (apps/lebench): environment\n\n```\n%s```\n\n" % env)
        f.write("Each cell is the median of the per-boot medians, (min..max) the lowest and highest per-boot "
                "median.  A ratio is the profile's median over the `linux` profile's median, measured in the "
                "same run with the same QEMU command (below 1 = %s than Linux); its (min..max) is the "
                "profile's lowest and highest per-boot median over that same linux median (in linux's own "
                "row: the baseline's spread).\n\n" % units.better)
        if units.icount:
            f.write("**ICOUNT=1: every figure here is an instruction count, not a time.** QEMU's -icount "
                    "shift=0 advances the guest clock 1 ns per instruction, so lebench's nanoseconds are "
                    "instructions (summary.csv keeps its *_ns column names).\n\n")
        f.write(checks + "\n")
        f.write("## Headline calls\n\n%s\n\n" % table(rows, headline, units))
        f.write("## Every point\n\n%s\n\n" % table(rows, sorted(keys), units))
        if meter:
            f.write("## Instructions per call by region (METER=1)\n\n%s\n" % meter)
        f.write("## memcached (make bench)\n\n%s\n" % bench)
        f.write("## Figures\n\n" + "".join("![%s](%s)\n\n" % (t, x) for x, t in figs))


def save(fig, path, title):
    """save FIG as a PNG whose metadata carries its title and every axis label and legend entry"""
    words = []
    for ax in fig.axes:
        words += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        leg = ax.get_legend()
        if leg:
            words += [t.get_text() for t in leg.get_texts()]
    fig.savefig(path, dpi=110, metadata={"Title": title, "Description": " | ".join(w for w in words if w)})


def plots(rows, outdir, which, bench, units):
    """make the figures in WHICH; returns [(file, title)]"""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    idx = {(r[0], r[1], r[2]): r for r in rows}
    profs = []
    for r in rows:
        if r[0] not in profs:
            profs.append(r[0])
    made = []
    if 1 in which:
        keys = [k for k in FIG1 if (BASE,) + k in idx]
        fig, ax = plt.subplots(figsize=(10, 4.5))
        width = 0.8 / len(profs)
        for i, p in enumerate(profs):
            xs = [j + i * width for j in range(len(keys))]
            rs = [idx.get((p,) + k) for k in keys]
            ys = [r[3] if r else 0 for r in rs]
            err = [[r[3] - r[4] if r else 0 for r in rs], [r[5] - r[3] if r else 0 for r in rs]]
            bars = ax.bar(xs, ys, width, yerr=err, capsize=2, label=p)
            if p != BASE:
                for bar, r in zip(bars, rs):
                    if r and r[6] is not None:
                        ax.annotate("%+.0f%%" % ((r[6] - 1) * 100), (bar.get_x() + bar.get_width() / 2,
                                    bar.get_height()), ha="center", va="bottom", fontsize=7)
        ax.set_xticks([j + width * (len(profs) - 1) / 2 for j in range(len(keys))])
        ax.set_xticklabels(["%s%s" % (t, "" if s == 0 else " %d B" % s) for t, s in keys], fontsize=8)
        ax.set_ylabel("%s (median over boots;\nwhiskers: min..max of the boot medians)" % units.per_call)
        title = "Fig 1: system call %s, %% change vs Linux (negative = %s)" % (units.what, units.better)
        ax.set_title(title)
        legend_or_note(ax)
        fig.tight_layout()
        save(fig, os.path.join(outdir, "fig1.png"), title)
        plt.close(fig)
        made.append(("fig1.png", title))
    if 2 in which:
        fig, axes = plt.subplots(2, 2, figsize=(11, 7))
        for ax, test in zip(axes.flat, FIG2):
            lines = {}
            for p in profs:
                pts = sorted((r[2], r[3]) for r in rows if r[0] == p and r[1] == test)
                if pts:
                    lines[p] = pts
                    ax.plot([x for x, _ in pts], [y for _, y in pts], marker=".", label=p)
            others = [p for p in lines if p != BASE]
            if BASE in lines and others:
                xs = [x for x, _ in lines[BASE]]
                best = [min(idx[(p, test, x)][3] for p in others if (p, test, x) in idx) for x in xs]
                ax.fill_between(xs, [y for _, y in lines[BASE]], best, alpha=0.2,
                                label="improvement band")
            ax.set_title(test)
            ax.set_xlabel("bytes")
            ax.set_ylabel("%s (median)" % units.per_call)
            legend_or_note(ax, fontsize=7)
        title = "Fig 2: %s vs size" % units.what
        fig.suptitle(title)
        fig.tight_layout()
        save(fig, os.path.join(outdir, "fig2.png"), title)
        plt.close(fig)
        made.append(("fig2.png", title))
    if 4 in which:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for p in profs:
            if p == BASE:
                continue
            pts = sorted((r[2], (1 - r[6]) * 100) for r in rows
                         if r[0] == p and r[1] == "pagefault_stack" and r[6] is not None)
            if pts:
                # the paper's names for the routes: #PF on its IST stack (pf-ss) or via #DF (pf-df)
                route = "" if "pf-" in p else " (pf-ss)"
                ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=p + route)
        ax.axhline(0, color="grey", lw=0.8)
        ax.set_xscale("log")
        ax.set_xlabel("stack pages faulted in")
        ax.set_ylabel("%% improvement over Linux (%s)" % ("instructions" if units.icount else "ns"))
        title = "Fig 4: stack page faults, %% improvement over Linux in %s" % units.measure
        ax.set_title(title)
        legend_or_note(ax)
        fig.tight_layout()
        save(fig, os.path.join(outdir, "fig4.png"), title)
        plt.close(fig)
        made.append(("fig4.png", title))
    if 6 in which and bench:
        pts_by, maxima = bench
        fig, ax = plt.subplots(figsize=(8, 4.5))
        marked = False
        for i, (p, pts) in enumerate(sorted(pts_by.items(), key=lambda kv: kv[0] != BASE)):
            pts.sort()
            color = "C%d" % i
            ax.plot([q for q, _, _, _ in pts], [p99 for _, p99, _, _ in pts], marker="o", color=color, label=p + " p99")
            ax.plot([q for q, _, _, _ in pts], [mean for _, _, mean, _ in pts], ls="--", color=color, label=p + " mean")
            bad = [(q, p99) for q, p99, _, n in pts if n]
            if bad:
                ax.scatter([q for q, _ in bad], [y for _, y in bad], marker="x", s=90, color="red", zorder=3,
                           label=None if marked else "timeouts/errors reported")
                marked = True
            if p in maxima:
                ax.axvline(maxima[p], ls=":", color=color, lw=1, label="%s closed-loop max" % p)
        ax.axhline(500, color="red", lw=1, label="500 µs SLA")
        ax.set_yscale("log")
        ax.set_xlabel("offered load (requests/s, open loop)")
        ax.set_ylabel("latency (µs, host clock)")
        title = "Fig 6: memcached latency vs offered load"
        ax.set_title(title)
        legend_or_note(ax, fontsize=7)
        fig.tight_layout()
        save(fig, os.path.join(outdir, "fig6.png"), title)
        plt.close(fig)
        made.append(("fig6.png", title))
    return made


def load_bench(outdir):
    """({profile: [(qps, p99_us, mean_us, timeouts + errors)]} from OUT/bench/openloop.csv, and
    {profile: median closed-loop ops/s} from OUT/bench/closed.csv), or None without open-loop data"""
    res = os.path.join(outdir, "bench")
    path = os.path.join(res, "openloop.csv")
    if not os.path.exists(path):
        return None
    pts = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            try:
                pts.setdefault(r["profile"], []).append(
                    (float(r["offered_qps"]), float(r["p99_us"]), float(r["mean_us"]), flagged(r)))
            except (KeyError, ValueError, TypeError) as e:
                raise DataError("%s: malformed row %r (%s)" % (path, r, e))
    if not pts:
        return None
    maxima = {}
    cpath = os.path.join(res, "closed.csv")
    if os.path.exists(cpath):
        tp = {}
        for r in read_dicts(cpath, ["label", "ops_per_sec"], "the closed-loop results of make bench"):
            tp.setdefault(r["label"], []).append(float(r["ops_per_sec"]))
        maxima = {p: statistics.median(v) for p, v in tp.items()}
    return pts, maxima


def read_dicts(path, cols, what):
    """the rows of a CSV with a header, as dicts; every column in cols must be there"""
    if not os.path.exists(path):
        raise DataError("%s: missing (%s)" % (path, what))
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    for n, r in enumerate(rows, 2):
        if any(r.get(c) in (None, "") for c in cols):
            raise DataError("%s: line %d lacks one of %s (%s)" % (path, n, ", ".join(cols), what))
    return rows


def aggregate_bench(outdir):
    """OUT/bench/{closed.csv, PROFILE/boot-N/open.csv} (eval/bench.sh) -> OUT/bench/openloop.csv
    (median over boots per offered rate), ratios.md (closed loop vs linux) and report.md"""
    res = os.path.join(outdir, "bench")
    closed = {}
    for r in read_dicts(os.path.join(res, "closed.csv"), ["label", "ops_per_sec", "p99_us"],
                        "the closed-loop results of make bench"):
        closed.setdefault(r["label"], []).append((float(r["ops_per_sec"]), float(r["p99_us"])))
    if BASE not in closed:
        raise DataError("%s/closed.csv: no %s run, the baseline of every ratio" % (res, BASE))
    profiles = sorted(closed, key=lambda p: p != BASE)
    if len(set(len(v) for v in closed.values())) > 1:
        raise DataError("%s/closed.csv: unequal boot counts: %s; every profile needs the same number of boots "
                        "(rerun make bench)" % (res, ", ".join("%s %d" % (p, len(closed[p])) for p in profiles)))
    points = {}
    rates = {}
    for p in profiles:
        for f in glob.glob(os.path.join(res, p, "boot-*", "open.csv")):
            boot = os.path.basename(os.path.dirname(f))
            for r in read_dicts(f, ["offered_qps", "p99_us", "mean_us", "ops_per_sec", "errors"],
                                "open-loop results of %s, %s" % (p, boot)):
                q = float(r["offered_qps"])
                rates.setdefault((p, boot), set()).add(q)
                to = r.get("timed_out")
                points.setdefault((p, q), []).append(
                    (float(r["p99_us"]), float(r["mean_us"]), float(r["ops_per_sec"]), int(float(r["errors"])),
                     None if to in (None, "") else int(float(to))))
    if rates:
        want = max(rates.values(), key=len)
        for p in profiles:
            n = len([k for k in rates if k[0] == p])
            if n != len(closed[p]):
                raise DataError("%s/%s: open-loop results from %d boots, closed-loop from %d (every boot runs "
                                "both; rerun make bench)" % (res, p, n, len(closed[p])))
        for (p, boot), qs in sorted(rates.items()):
            if qs != want:
                raise DataError("%s/%s/%s/open.csv: offered rates %s, other boots %s (rerun make bench)" % (
                    res, p, boot, " ".join("%.0f" % q for q in sorted(qs)), " ".join("%.0f" % q for q in sorted(want))))
    with open(os.path.join(res, "openloop.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["profile", "offered_qps", "achieved_qps", "p99_us", "mean_us", "errors", "timed_out"])
        for (p, q), v in sorted(points.items(), key=lambda kv: (kv[0][0] != BASE, kv[0])):
            to = [x[4] for x in v]
            w.writerow([p, int(q), "%.0f" % statistics.median(x[2] for x in v),
                        "%.1f" % statistics.median(x[0] for x in v), "%.1f" % statistics.median(x[1] for x in v),
                        sum(x[3] for x in v), "" if None in to else sum(to)])
    bt = statistics.median(x[0] for x in closed[BASE])
    bp = statistics.median(x[1] for x in closed[BASE])
    lines = ["| profile | boots | throughput ops/s median (min..max) | p99 latency µs median (min..max) | "
             "throughput ratio vs linux (min..max), higher is better | p99 ratio vs linux (min..max), lower is better |",
             "|---|---|---|---|---|---|"]
    for p in profiles:
        t = [x[0] for x in closed[p]]
        q = [x[1] for x in closed[p]]
        lines.append("| %s | %d | %.0f (%.0f..%.0f) | %.0f (%.0f..%.0f) | %.3f (%.3f..%.3f) | %.3f (%.3f..%.3f) |" % (
            p, len(t), statistics.median(t), min(t), max(t), statistics.median(q), min(q), max(q),
            statistics.median(t) / bt, min(t) / bt, max(t) / bt, statistics.median(q) / bp, min(q) / bp, max(q) / bp))
    with open(os.path.join(res, "ratios.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(res, "report.md"), "w") as f:
        f.write("# ukl memcached bench report (make bench)\n\n%s\n## Figure\n\n"
                "![Fig 6: memcached latency vs offered load](../fig6.png)\n" % bench_markdown(res, 2))
        if os.path.exists(os.path.join(res, "meter.md")):
            f.write("\n![Fig 8: memcached instructions per request by region](../fig8.png)\n")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw", default="out/eval/raw")
    ap.add_argument("--out", default="out/eval")
    ap.add_argument("--fig", type=int, action="append", choices=[1, 2, 4, 6, 7])
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--bench", action="store_true",
                    help="only aggregate make bench's results (OUT/bench) into openloop.csv, ratios.md, report.md")
    ap.add_argument("--check-boot", nargs=3, metavar=("RAW", "PROFILE", "BOOT"),
                    help="keep (exit 0) or reject (exit %d, moved to RAW/PROFILE/rejected-N/) a boot just made"
                    % REJECTED)
    ap.add_argument("--tolerance", type=float, default=TOLERANCE,
                    help="--check-boot: how far (a fraction) null_call may be off (default %.2f)" % TOLERANCE)
    a = ap.parse_args()
    try:
        if a.check_boot:
            raw, prof, boot = a.check_boot
            kept, msg = check_boot(raw, prof, boot, a.tolerance,
                                   "instructions" if os.environ.get("ICOUNT") == "1" else "ns")
            print("ukl: eval: %s" % msg, file=sys.stdout if kept else sys.stderr)
            sys.exit(0 if kept else REJECTED)
        if a.bench:
            print("\n".join(aggregate_bench(a.out)))
            return
        if a.fig == [6]:
            # the memcached figure alone needs only the bench data
            bench = load_bench(a.out)
            if not bench:
                raise DataError("%s/bench/openloop.csv: missing or without open-loop points; run make "
                                "bench APP=memcached (with RATES set) first" % a.out)
            made = plots([], a.out, [6], bench, Units(False))
            print("ukl: eval: %s" % ", ".join(x for x, _ in made))
            return
        data = load(a.raw)
        rows = aggregate(data)
        env = read_env(os.path.join(a.out, "env.txt"))
        units = Units(is_icount(env))
        checks = boot_checks(a.raw, data, units)
        skips = sorted({(prof, t, why) for prof in data for b in data[prof]
                        for t, why in skipped_tests(os.path.join(a.raw, prof, b)).items()})
        if skips:
            checks += "\nNot measured (the kernel refused the test; its cells are \"-\"):\n\n" + \
                "\n".join("- %s, %s: %s" % s for s in skips) + "\n"
        benv = read_env(os.path.join(a.out, "bench", "env.txt"))
        bench = None
        if os.path.isdir(os.path.join(a.out, "bench")):
            ok, why = same_run(env, benv)
            if ok:
                bench = load_bench(a.out)
                btext = bench_markdown(os.path.join(a.out, "bench"), 3)
            else:
                btext = ("Left out: the bench in out/eval/bench/ is not from this run: %s.  Its own report is "
                         "out/eval/bench/report.md; `make eval` measures both in one run.\n" % why)
        else:
            btext = "Not run in this run (`make eval` runs it after the microbenchmarks).\n"
        rdir = os.path.join(a.out, "redis")
        if os.path.exists(os.path.join(rdir, "report.md")):
            ok, why = same_run(env, read_env(os.path.join(rdir, "env.txt")))
            if ok:
                rtext = open(os.path.join(rdir, "report.md")).read().replace("](fig5.png)", "](redis/fig5.png)")
                btext += "\n" + "\n".join(("##" + l) if l.startswith("#") else l for l in rtext.splitlines()) + "\n"
            else:
                btext += ("\nredis (fig 5) left out: out/eval/redis/ is not from this run: %s.  Its own report is "
                          "out/eval/redis/report.md.\n" % why.replace("bench", "redis bench"))
    except DataError as e:
        sys.exit("ukl: error: %s" % e)
    os.makedirs(a.out, exist_ok=True)
    write_summary(rows, os.path.join(a.out, "summary.csv"))
    figs = [] if a.no_plots else plots(rows, a.out, a.fig or [1, 2, 4, 6], bench, units)
    if bench and os.path.exists(os.path.join(a.out, "bench", "meter.md")) and \
            os.path.exists(os.path.join(a.out, "fig8.png")):
        figs.append(("fig8.png", "Fig 8: memcached instructions per request by region"))
    meter = None
    if glob.glob(os.path.join(a.raw, "*", "boot-*", "meter-counts.csv")) and (not a.fig or 7 in a.fig):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "meter"))
        import report as meter_report
        try:
            meter, mfigs = meter_report.run(a.raw, a.out, not a.no_plots)
        except meter_report.MeterError as e:
            sys.exit("ukl: error: meter: %s" % e)
        figs += mfigs
    report(rows, env or "(no env.txt: data not from eval/micro.sh)\n", os.path.join(a.out, "report.md"), figs,
           units, checks, btext, meter)
    print("ukl: eval: %d points -> %s/summary.csv, report.md%s" %
          (len(rows), a.out, "".join(", " + x for x, _ in figs)))


if __name__ == "__main__":
    main()
