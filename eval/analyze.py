#!/usr/bin/python3
"""Turn the raw eval data into summary.csv, report.md and the paper's figures.

usage: eval/analyze.py [--raw DIR] [--out DIR] [--fig N ...] [--no-plots]
       eval/analyze.py --bench [--out DIR]    (make bench: openloop.csv and ratios.md)

Reads DIR/PROFILE/boot-N/summary.csv (lebench; rows test,size,iters,median_ns,min_ns,max_ns,
clock_median_ns) and checks each test's TEST.csv (index,size,tsc_ns,clock_ns) against it; reads
the memcached bench data (OUT/bench/*.csv) when present.  Per (profile, test, size) the median
is the median of the per-boot medians, min/max their spread; ratio_vs_linux = median / the
linux profile's median.  Writes OUT/summary.csv, OUT/report.md, OUT/fig1.png fig2.png fig4.png
(fig6.png when bench data exist).  Defaults: --raw out/eval/raw, --out out/eval.
Errors name the test and the image (profile, boot) whose data is missing or malformed.
"""
import argparse
import csv
import os
import statistics
import sys

HEAD = ["test", "size", "iters", "median_ns", "min_ns", "max_ns", "clock_median_ns"]
ROW_HEAD = ["index", "size", "tsc_ns", "clock_ns"]
FIG1 = [("null_call", 0), ("getppid", 0), ("read", 1), ("write", 1), ("sendto_unix", 1), ("recvfrom_unix", 1),
        ("sendto_tcp", 1), ("recvfrom_tcp", 1)]
FIG2 = ["read", "write", "sendto_tcp", "recvfrom_tcp"]
BASE = "linux"


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


def load(raw):
    """{profile: {boot: {(test, size): median_ns}}} after checking every per-test CSV"""
    if not os.path.isdir(raw):
        raise DataError("%s: no raw eval data; run make eval-micro first" % raw)
    data = {}
    for prof in sorted(os.listdir(raw)):
        pdir = os.path.join(raw, prof)
        boots = sorted(b for b in os.listdir(pdir) if b.startswith("boot-"))
        if not boots:
            raise DataError("%s: no boot-N directories (image lebench/%s)" % (pdir, prof))
        for b in boots:
            bdir = os.path.join(pdir, b)
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
    return data


def aggregate(data):
    """rows of summary.csv: (profile, test, size, median, min, max, ratio)"""
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
            ratio = m / statistics.median(base) if base else None
            rows.append((prof, key[0], key[1], m, min(meds), max(meds), ratio))
    return rows


def profile_order(d):
    return [BASE] + sorted(p for p in d if p != BASE)


def write_summary(rows, path):
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["profile", "test", "size", "median_ns", "min_ns", "max_ns", "ratio_vs_linux"])
        for prof, test, size, m, mn, mx, ratio in rows:
            w.writerow([prof, test, size, fmt(m), fmt(mn), fmt(mx), "" if ratio is None else "%.3f" % ratio])


def fmt(x):
    return str(int(x)) if float(x).is_integer() else "%.1f" % x


def table(rows, keys):
    profs = []
    for r in rows:
        if r[0] not in profs:
            profs.append(r[0])
    idx = {(r[0], r[1], r[2]): r for r in rows}
    out = ["| test | size | " + " | ".join("%s ns (min..max)" % p for p in profs) + " | " +
           " | ".join("%s/linux" % p for p in profs if p != BASE) + " |",
           "|" + "---|" * (2 + len(profs) + len(profs) - 1)]
    for test, size in keys:
        cells = []
        for p in profs:
            r = idx.get((p, test, size))
            cells.append("%s (%s..%s)" % (fmt(r[3]), fmt(r[4]), fmt(r[5])) if r else "-")
        ratios = []
        for p in profs:
            if p == BASE:
                continue
            r = idx.get((p, test, size))
            ratios.append("%.3f" % r[6] if r and r[6] is not None else "-")
        out.append("| %s | %s | %s | %s |" % (test, size, " | ".join(cells), " | ".join(ratios)))
    return "\n".join(out)


def report(rows, env, path, figs):
    keys = []
    for r in rows:
        if (r[1], r[2]) not in keys:
            keys.append((r[1], r[2]))
    headline = [k for k in FIG1 if k in keys] + \
        [k for k in keys if k[0] in ("clock_gettime", "fork", "thread_create", "mmap_munmap",
                                     "ctxsw_pipe", "select", "poll", "epoll")] + \
        [k for k in keys if k[0].startswith("pagefault")]
    with open(path, "w") as f:
        f.write("# ukl eval report\n\n## Environment\n\n```\n%s```\n\n" % env)
        f.write("Medians are the median of the per-boot medians; (min..max) is the spread of the "
                "per-boot medians; ratios are against the `linux` profile measured in the same "
                "run with the same QEMU command (below 1 = faster than Linux).\n\n")
        f.write("## Headline calls\n\n%s\n\n" % table(rows, headline))
        f.write("## Every point\n\n%s\n\n" % table(rows, sorted(keys)))
        ratios = os.path.join(os.path.dirname(path), "bench", "ratios.md")
        if os.path.exists(ratios):
            f.write("## memcached (make bench): closed-loop throughput and p99, UKL / stock\n\n%s\n"
                    % open(ratios).read())
        f.write("## Figures\n\n" + "".join("![%s](%s)\n" % (x, x) for x in figs) + "\n")


def plots(rows, outdir, which, bench):
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
            ys = [idx[(p,) + k][3] if (p,) + k in idx else 0 for k in keys]
            bars = ax.bar(xs, ys, width, label=p)
            if p != BASE:
                for bar, k in zip(bars, keys):
                    r = idx.get((p,) + k)
                    if r and r[6] is not None:
                        ax.annotate("%+.0f%%" % ((r[6] - 1) * 100), (bar.get_x() + bar.get_width() / 2,
                                    bar.get_height()), ha="center", va="bottom", fontsize=7)
        ax.set_xticks([j + width * (len(profs) - 1) / 2 for j in range(len(keys))])
        ax.set_xticklabels(["%s%s" % (t, "" if s == 0 else " %d B" % s) for t, s in keys], fontsize=8)
        ax.set_ylabel("ns per call (median)")
        ax.set_title("Fig 1: system call latency, % change vs Linux")
        legend_or_note(ax)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "fig1.png"), dpi=110)
        plt.close(fig)
        made.append("fig1.png")
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
            ax.set_ylabel("ns (median)")
            legend_or_note(ax, fontsize=7)
        fig.suptitle("Fig 2: latency vs size")
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "fig2.png"), dpi=110)
        plt.close(fig)
        made.append("fig2.png")
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
        ax.set_ylabel("% improvement over Linux")
        ax.set_title("Fig 4: stack page faults")
        legend_or_note(ax)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "fig4.png"), dpi=110)
        plt.close(fig)
        made.append("fig4.png")
    if 6 in which and bench:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for i, (p, pts) in enumerate(sorted(bench.items(), key=lambda kv: kv[0] != BASE)):
            pts.sort()
            color = "C%d" % i
            ax.plot([q for q, _, _ in pts], [p99 for _, p99, _ in pts], marker="o", color=color, label=p + " p99")
            ax.plot([q for q, _, _ in pts], [mean for _, _, mean in pts], ls="--", color=color, label=p + " mean")
        ax.axhline(500, color="red", lw=1, label="500 µs SLA")
        ax.set_yscale("log")
        ax.set_xlabel("offered load (requests/s)")
        ax.set_ylabel("latency (µs)")
        ax.set_title("Fig 6: memcached latency vs load")
        legend_or_note(ax)
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "fig6.png"), dpi=110)
        plt.close(fig)
        made.append("fig6.png")
    return made


def load_bench(outdir):
    """{profile: [(qps, p99_us, mean_us)]} from OUT/bench/openloop.csv, if it exists"""
    path = os.path.join(outdir, "bench", "openloop.csv")
    if not os.path.exists(path):
        return {}
    res = {}
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            try:
                res.setdefault(r["profile"], []).append(
                    (float(r["offered_qps"]), float(r["p99_us"]), float(r["mean_us"])))
            except (KeyError, ValueError) as e:
                raise DataError("%s: malformed row %r (%s)" % (path, r, e))
    return res


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
    (median over boots per offered rate) and OUT/bench/ratios.md (closed loop vs linux)"""
    import glob
    res = os.path.join(outdir, "bench")
    closed = {}
    for r in read_dicts(os.path.join(res, "closed.csv"), ["label", "ops_per_sec", "p99_us"],
                        "the closed-loop results of make bench"):
        closed.setdefault(r["label"], []).append((float(r["ops_per_sec"]), float(r["p99_us"])))
    if BASE not in closed:
        raise DataError("%s/closed.csv: no %s run, the baseline of every ratio" % (res, BASE))
    profiles = sorted(closed, key=lambda p: p != BASE)
    points = {}
    for p in profiles:
        for f in sorted(glob.glob(os.path.join(res, p, "boot-*", "open.csv"))):
            for r in read_dicts(f, ["offered_qps", "p99_us", "mean_us", "ops_per_sec"],
                                "open-loop results of %s" % p):
                points.setdefault((p, float(r["offered_qps"])), []).append(
                    (float(r["p99_us"]), float(r["mean_us"]), float(r["ops_per_sec"])))
    with open(os.path.join(res, "openloop.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["profile", "offered_qps", "achieved_qps", "p99_us", "mean_us"])
        for (p, q), v in sorted(points.items()):
            w.writerow([p, int(q), "%.0f" % statistics.median(x[2] for x in v),
                        "%.1f" % statistics.median(x[0] for x in v), "%.1f" % statistics.median(x[1] for x in v)])
    bt = statistics.median(x[0] for x in closed[BASE])
    bp = statistics.median(x[1] for x in closed[BASE])
    lines = ["| profile | boots | ops/s median (min..max) | p99 us median (min..max) | throughput / linux | p99 / linux |",
             "|---|---|---|---|---|---|"]
    for p in profiles:
        t = [x[0] for x in closed[p]]
        q = [x[1] for x in closed[p]]
        lines.append("| %s | %d | %.0f (%.0f..%.0f) | %.0f (%.0f..%.0f) | %.3f (%.3f..%.3f) | %.3f (%.3f..%.3f) |" % (
            p, len(t), statistics.median(t), min(t), max(t), statistics.median(q), min(q), max(q),
            statistics.median(t) / bt, min(t) / bt, max(t) / bt, statistics.median(q) / bp, min(q) / bp, max(q) / bp))
    open(os.path.join(res, "ratios.md"), "w").write("\n".join(lines) + "\n")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw", default="out/eval/raw")
    ap.add_argument("--out", default="out/eval")
    ap.add_argument("--fig", type=int, action="append", choices=[1, 2, 4, 6])
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--bench", action="store_true",
                    help="only aggregate make bench's results (OUT/bench) into openloop.csv and ratios.md")
    a = ap.parse_args()
    try:
        if a.bench:
            print("\n".join(aggregate_bench(a.out)))
            return
        bench = load_bench(a.out)
        if a.fig == [6]:
            # the memcached figure alone needs only the bench data
            if not bench:
                raise DataError("%s/bench/openloop.csv: missing or without open-loop points; run make "
                                "bench APP=memcached (with RATES set) first" % a.out)
            print("ukl: eval: %s" % ", ".join(plots([], a.out, [6], bench)))
            return
        rows = aggregate(load(a.raw))
    except DataError as e:
        sys.exit("ukl: error: %s" % e)
    os.makedirs(a.out, exist_ok=True)
    write_summary(rows, os.path.join(a.out, "summary.csv"))
    envp = os.path.join(a.out, "env.txt")
    env = open(envp).read() if os.path.exists(envp) else "(no env.txt: data not from eval/micro.sh)\n"
    figs = [] if a.no_plots else plots(rows, a.out, a.fig or [1, 2, 4, 6], bench)
    report(rows, env, os.path.join(a.out, "report.md"), figs)
    print("ukl: eval: %d points -> %s/summary.csv, report.md%s" %
          (len(rows), a.out, "".join(", " + x for x in figs)))


if __name__ == "__main__":
    main()
