#!/usr/bin/env python3
"""Figure 5 of the UKL paper from eval/redis.sh's raw results: redis latency distributions.

usage: eval/redis.py DIR     (DIR = out/eval/redis: env.txt and PROFILE/boot-N/bench-M.txt)

redis-benchmark prints, per test, the percentiles of its HDR histogram ("Latency by percentile
distribution", at 50, 75, 87.5, ... %) and the cumulative share at fixed latencies
("Cumulative distribution of latencies").  Both are points of the same distribution function;
the 25/50/75/90/99th percentiles are interpolated linearly between the nearest points.  Writes
DIR/redis.csv (one row per boot and test), DIR/percentiles.csv (medians over boots),
DIR/report.md (the stamp, then throughput and p99 as ratios over linux's median with their
spread) and DIR/fig5.png (each profile's distribution with its mean and p99 marked).
"""
import csv
import glob
import os
import re
import statistics
import sys

PCTS = (25, 50, 75, 90, 99)
BASE = "linux"


def parse(path):
    """{test: {"rps", "avg", "max", "points": [(ms, cumulative %)]}} of one redis-benchmark run"""
    out, test, cur = {}, None, None
    for line in open(path, errors="replace"):
        m = re.match(r"^====== (\S+) ======", line)
        if m:
            test = m.group(1)
            cur = out[test] = {"points": []}
            continue
        if cur is None:
            continue
        m = re.match(r"^\s*([0-9.]+)% <= ([0-9.]+) milliseconds", line)
        if m:
            cur["points"].append((float(m.group(2)), float(m.group(1))))
            continue
        m = re.search(r"throughput summary: ([0-9.]+) requests per second", line)
        if m:
            cur["rps"] = float(m.group(1))
            continue
        m = re.match(r"^\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s+([0-9.]+)\s*$", line)
        if m and "rps" in cur and "avg" not in cur:
            cur["avg"], cur["max"] = float(m.group(1)), float(m.group(6))
    for t, d in out.items():
        if not d["points"] or "rps" not in d or "avg" not in d:
            raise SystemExit("redis.py: %s: the %s run has no summary or distribution" % (path, t))
        d["points"] = sorted(set(d["points"]), key=lambda p: (p[1], p[0]))
    return out


def percentile(points, q):
    """the latency at cumulative share Q, interpolated between the distribution's points"""
    prev = (0.0, 0.0)
    for ms, c in points:
        if c >= q:
            if c == prev[1]:
                return ms
            return prev[0] + (ms - prev[0]) * (q - prev[1]) / (c - prev[1])
        prev = (ms, c)
    return points[-1][0]


def spread(vals):
    return statistics.median(vals), min(vals), max(vals)


def main(argv):
    if len(argv) != 2:
        raise SystemExit(__doc__)
    res = argv[1]
    env = open(os.path.join(res, "env.txt")).read()
    rows = []
    dists = {}
    for bdir in sorted(glob.glob(os.path.join(res, "*", "boot-*"))):
        prof = os.path.basename(os.path.dirname(bdir))
        boot = int(bdir.rsplit("-", 1)[1])
        for f in sorted(glob.glob(os.path.join(bdir, "bench-*.txt")),
                        key=lambda p: int(re.search(r"bench-(\d+)", p).group(1))):
            for test, d in parse(f).items():
                row = {"profile": prof, "boot": boot, "pass": int(re.search(r"bench-(\d+)", f).group(1)),
                       "test": test, "rps": d["rps"], "avg_ms": d["avg"], "max_ms": d["max"]}
                for q in PCTS:
                    row["p%d_ms" % q] = round(percentile(d["points"], q), 4)
                rows.append(row)
                dists.setdefault((prof, test), []).append((d["rps"], d["points"], d["avg"]))
    if not rows:
        raise SystemExit("redis.py: no results under %s" % res)
    profs = []
    for r in rows:
        if r["profile"] not in profs:
            profs.append(r["profile"])
    order = list(profs)
    profs.sort(key=lambda p: (p != BASE, order.index(p)))
    tests = sorted({r["test"] for r in rows})
    with open(os.path.join(res, "redis.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        w.writeheader()
        w.writerows(rows)
    pct_rows = []
    for p in profs:
        for t in tests:
            for key in ["rps", "avg_ms"] + ["p%d_ms" % q for q in PCTS]:
                vals = [r[key] for r in rows if r["profile"] == p and r["test"] == t]
                if vals:
                    m, lo, hi = spread(vals)
                    pct_rows.append({"profile": p, "test": t, "measure": key, "median": m, "min": lo, "max": hi,
                                     "boots": len(vals)})
    with open(os.path.join(res, "percentiles.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(pct_rows[0].keys()))
        w.writeheader()
        w.writerows(pct_rows)
    med = {(r["profile"], r["test"], r["measure"]): r for r in pct_rows}

    def ratio(p, t, key):
        base = med.get((BASE, t, key))
        vals = [r[key] for r in rows if r["profile"] == p and r["test"] == t]
        if not base or not vals or not base["median"]:
            return "-"
        b = base["median"]
        return "%.3f (%.3f..%.3f)" % (statistics.median(vals) / b, min(vals) / b, max(vals) / b)

    lines = ["# redis: figure 5 (make bench APP=redis)", "", "```", env.rstrip(), "```", "",
             "Every figure is a median over boots, (min..max) the lowest and highest boot.  A ratio is the "
             "profile's value over linux's median in this same run, under the same QEMU command; its "
             "(min..max) is each boot's value over that median.  Latencies are redis-benchmark's, in ms of "
             "host time (its HDR histogram; 25/50/75/90/99 interpolated between the points it prints).  "
             "Under TCG these are wall-clock figures of an emulated CPU: compare profiles within the run, "
             "never with the paper's hardware numbers.", ""]
    for t in tests:
        lines += ["## %s" % t, "",
                  "| profile | req/s | req/s vs linux | mean ms | p25 | p50 | p75 | p90 | p99 | p99 vs linux |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for p in profs:
            if (p, t, "rps") not in med:
                continue
            cell = lambda k: "%.3f (%.3f..%.3f)" % (med[(p, t, k)]["median"], med[(p, t, k)]["min"], med[(p, t, k)]["max"])
            lines.append("| %s | %.0f (%.0f..%.0f) | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                p, med[(p, t, "rps")]["median"], med[(p, t, "rps")]["min"], med[(p, t, "rps")]["max"],
                "1 (baseline)" if p == BASE else ratio(p, t, "rps"), cell("avg_ms"),
                cell("p25_ms"), cell("p50_ms"), cell("p75_ms"), cell("p90_ms"), cell("p99_ms"),
                "1 (baseline)" if p == BASE else ratio(p, t, "p99_ms")))
        lines.append("")
    lines += ["![fig 5](fig5.png)", ""]
    open(os.path.join(res, "report.md"), "w").write("\n".join(lines))

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, len(tests), figsize=(6 * len(tests), 4.8), squeeze=False)
    for ax, t in zip(axes[0], tests):
        for i, p in enumerate(profs):
            runs = dists.get((p, t))
            if not runs:
                continue
            # the boot with the median throughput stands for the profile
            runs = sorted(runs, key=lambda r: r[0])
            rps, pts, avg = runs[len(runs) // 2]
            color = "C%d" % i
            ax.plot([ms for ms, _ in pts], [c for _, c in pts], color=color, label="%s (%.0f req/s)" % (p, rps))
            p99 = percentile(pts, 99)
            ax.axvline(avg, color=color, ls="--", lw=0.8)
            ax.plot([p99], [99], marker="o", color=color)
        ax.set_xscale("log")
        ax.set_xlabel("latency (ms, log scale); dashed: mean, dot: p99")
        ax.set_ylabel("requests at or below (%)")
        ax.set_title("%s, 100 clients, 3 threads, pipeline 1" % t)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    title = "Fig 5: redis latency distribution (redis-benchmark)"
    fig.suptitle(title)
    stamp = "; ".join("%s: %s" % (k, (re.search(r"^%s: *(.*)$" % k, env, re.M) or [None, "?"])[1])
                      for k in ("kernel", "accel", "host cpu", "git", "run"))
    fig.text(0.01, 0.01, stamp, fontsize=6, color="grey")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    fig.savefig(os.path.join(res, "fig5.png"), dpi=110, metadata={"Title": title, "Description": stamp})
    plt.close(fig)
    print("\n".join(lines[:-2]))


if __name__ == "__main__":
    main(sys.argv)
