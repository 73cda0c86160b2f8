#!/usr/bin/python3
"""Instructions per call from the instruction meter (make eval-micro METER=1).

usage: eval/meter/report.py [--raw DIR] [--out DIR]      (eval/analyze.py calls it too)
       eval/meter/report.py --bench RES                  (eval/bench.sh METER=1)

Reads, for every profile and boot, RAW/PROFILE/boot-N/meter.csv (lebench's list of metered
points: seq,test,size,iters) and meter-counts.csv (the plugin's rows, eval/meter/meter.c).  For
each point it takes the "quiet" row (the windows in which no vCPU took an interrupt) when at
least half the windows were quiet, else the row of all windows, and divides by its windows:
instructions per call by region, and events per call.  Boots of one profile are combined by
the median of each cell.

Checks: lebench's meter_loop points (a loop of 0 and of 2000 instructions in each window) must
differ by exactly 2000 instructions, in every boot; otherwise the meter is wrong and nothing
is written.

Writes OUT/meter/calls.csv, one row per (profile, test, size):
  profile,test,size,windows,used,<regions>,<events>,total,net,net_ratio_vs_linux,net_ratio_vs_linux_lto
total is the window's instructions; net subtracts the same profile's null_call window (the
bracket: the call of an empty function); net_ratio_vs_linux = net / linux's net;
net_ratio_vs_linux_lto (LTO profiles, when linux-lto ran) = net / linux-lto's net.

--bench reads RES/PROFILE/boot-N/meter-counts.csv (rows "snap begin" and "snap end" around the
metered requests) and meter.json (mcload's count of them) and writes RES/meter.csv
  profile,boots,requests,<regions>,<events>,total,ratio_vs_linux,ratio_min,ratio_max
(per request; the median over boots, and the spread of the total's ratio over boots),
RES/meter.md and RES/../fig8.png (stacked by region).  These counts hold everything every vCPU executed between the snapshots: the
requests, the idle loop and timer ticks of the window, and connecting the load's connections.
"""
import json
import argparse
import csv
import glob
import os
import statistics
import sys

BASE = "linux"
LTO_BASE = "linux-lto"
CAL = "meter_loop"
CAL_N = 2000
FIG8 = "Fig 8: memcached instructions per request by region, ratio vs linux on top (TCG plugin meter)"
HEADLINE = [("getppid", 0), ("clock_gettime", 0), ("read", 1), ("write", 1), ("sendto_unix", 1),
            ("recvfrom_unix", 1), ("sendto_tcp", 1), ("recvfrom_tcp", 1), ("epoll", 10), ("ctxsw_pipe", 0)]


class MeterError(Exception):
    pass


def read_rows(path):
    if not os.path.exists(path):
        raise MeterError("%s: missing" % path)
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def boot_points(bdir):
    """({(test, size): {column: per-call value}}, region names, event names) of one boot"""
    guest = read_rows(os.path.join(bdir, "meter.csv"))
    plug = read_rows(os.path.join(bdir, "meter-counts.csv"))
    if not plug:
        raise MeterError("%s/meter-counts.csv: no rows (did the plugin load?)" % bdir)
    cols = [c for c in plug[0] if c not in ("kind", "label", "windows")]
    regions = cols[:cols.index("user-other") + 1] if "user-other" in cols else cols
    events = cols[len(regions):]
    rows = {}
    for r in plug:
        if r["kind"] in ("flush", "quiet"):
            rows[(r["kind"], r["label"])] = r
    out = {}
    for g in guest:
        full, quiet = rows.get(("flush", g["seq"])), rows.get(("quiet", g["seq"]))
        if not full or not quiet:
            raise MeterError("%s: lebench metered point %s (%s size %s) has no row in meter-counts.csv "
                             "(the plugin missed a mark?)" % (bdir, g["seq"], g["test"], g["size"]))
        n, q = int(full["windows"]), int(quiet["windows"])
        if n != int(g["iters"]):
            raise MeterError("%s: point %s (%s size %s): %d windows counted, lebench ran %s" % (
                bdir, g["seq"], g["test"], g["size"], n, g["iters"]))
        use = quiet if q * 2 >= n else full
        w = int(use["windows"])
        v = {c: int(use[c]) / w for c in cols}
        v["windows"], v["used"] = n, w
        v["total"] = sum(v[c] for c in regions)
        out[(g["test"], int(g["size"]))] = v
    return out, regions, events


def check_calibration(bdir, pts):
    lo, hi = pts.get((CAL, 0)), pts.get((CAL, CAL_N))
    if not lo or not hi:
        raise MeterError("%s: no meter_loop calibration points (lebench --meter writes them first)" % bdir)
    d = hi["total"] - lo["total"]
    if d != CAL_N:
        raise MeterError("%s: the meter read %g instructions for a loop of exactly %d (windows of %g and %g): "
                         "the counts are wrong" % (bdir, d, CAL_N, hi["total"], lo["total"]))


def load(raw):
    """{profile: {(test, size): per-call values (median over boots)}}, regions, events, boots"""
    data, boots = {}, {}
    regions = events = None
    for pdir in sorted(glob.glob(os.path.join(raw, "*"))):
        prof = os.path.basename(pdir)
        per = []
        for bdir in sorted(glob.glob(os.path.join(pdir, "boot-*"))):
            if not os.path.exists(os.path.join(bdir, "meter-counts.csv")):
                continue
            pts, regions, events = boot_points(bdir)
            check_calibration(bdir, pts)
            per.append(pts)
        if not per:
            continue
        boots[prof] = len(per)
        merged = {}
        for k in per[0]:
            if all(k in p for p in per):
                merged[k] = {c: statistics.median(p[k][c] for p in per) for c in per[0][k]}
        data[prof] = merged
    if not data:
        raise MeterError("%s: no metered boots (make eval-micro METER=1 makes them)" % raw)
    if BASE not in data:
        raise MeterError("%s: no metered %s boots, the baseline of every ratio" % (raw, BASE))
    return data, regions, events, boots


def rows_of(data, regions, events):
    order = sorted(data, key=lambda p: p != BASE)
    rows = []
    for p in order:
        null = data[p].get(("null_call", 0))
        for (t, s), v in sorted(data[p].items()):
            if t == CAL:
                continue
            net = v["total"] - null["total"] if null else None
            b = data[BASE].get((t, s))
            bnull = data[BASE].get(("null_call", 0))
            bnet = b["total"] - bnull["total"] if b and bnull else None
            ratio = net / bnet if net is not None and bnet else None
            # an LTO profile is also compared with linux-lto (same compiler and LTO, no app), so
            # that the gain of fusion is not confused with the gain of clang
            lto = None
            if p.endswith("-lto") and p != LTO_BASE and LTO_BASE in data and net is not None:
                lb, lnull = data[LTO_BASE].get((t, s)), data[LTO_BASE].get(("null_call", 0))
                lnet = lb["total"] - lnull["total"] if lb and lnull else None
                lto = net / lnet if lnet else None
            rows.append([p, t, s, int(v["windows"]), int(v["used"])] + [v[c] for c in regions + events] +
                        [v["total"], net, ratio, lto])
    return rows, ["profile", "test", "size", "windows", "used"] + regions + events + ["total", "net",
                                                                                     "net_ratio_vs_linux",
                                                                                     "net_ratio_vs_linux_lto"]


def fmt(x):
    if x is None:
        return ""
    return "%.0f" % x if abs(x - round(x)) < 1e-9 else "%.2f" % x


def write_csv(rows, head, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(head)
        for r in rows:
            w.writerow(r[:5] + [fmt(x) if x is not None else "" for x in r[5:-2]] +
                       ["" if x is None else "%.3f" % x for x in r[-2:]])


def layout(rows, head, regions):
    """(row index, profiles in order, headline points present, regions with any count)"""
    idx = {(r[0], r[1], r[2]): r for r in rows}
    profs = []
    for r in rows:
        if r[0] not in profs:
            profs.append(r[0])
    keys = [k for k in HEADLINE if any((p,) + k in idx for p in profs)]
    shown = [c for c in regions if any(r[head.index(c)] for r in rows)]
    return idx, profs, keys, shown


def markdown(rows, head, regions, events, boots):
    idx, profs, keys, shown = layout(rows, head, regions)
    ev = [c for c in events if any(r[head.index(c)] for r in rows)]
    out = ["Exact guest instructions per call, counted by the TCG plugin eval/meter/meter.c (boots per "
           "profile: %s; the median of each cell over boots).  *net* subtracts the profile's null_call "
           "window (the bracket), and the ratio is net over linux's net in the same run.  Events are per "
           "call.  The meter's calibration (a loop of exactly %d instructions) read exactly %d in every "
           "boot.\n" % (", ".join("%s %d" % (p, boots[p]) for p in profs), CAL_N, CAL_N),
           "| test | profile | " + " | ".join(shown) + " | total | net | net vs linux | " + " | ".join(ev) + " |",
           "|---|---|" + "---|" * (len(shown) + 3 + len(ev))]
    for k in keys:
        for p in profs:
            r = idx.get((p,) + k)
            if not r:
                continue
            out.append("| %s %s | %s | %s | %s | %s | %s | %s |" % (
                k[0], k[1], p, " | ".join(fmt(r[head.index(c)]) for c in shown), fmt(r[-4]), fmt(r[-3]),
                ("" if r[-2] is None else "%.3f" % r[-2]) +
                ("" if r[-1] is None else " (%.3f vs %s)" % (r[-1], LTO_BASE)),
                " | ".join(fmt(r[head.index(c)]) for c in ev)))
    return "\n".join(out) + "\n"


def plot(rows, head, regions, path, title_extra=""):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    idx, profs, keys, shown = layout(rows, head, regions)
    fig, axes = plt.subplots(1, len(keys), figsize=(max(6, 2.2 * len(keys)), 4.5), squeeze=False)
    colours = plt.get_cmap("tab10")
    for ax, k in zip(axes[0], keys):
        ps = [p for p in profs if (p,) + k in idx]
        bottom = [0.0] * len(ps)
        for i, c in enumerate(shown):
            vals = [idx[(p,) + k][head.index(c)] for p in ps]
            ax.bar(range(len(ps)), vals, bottom=bottom, color=colours(i % 10), label=c)
            bottom = [b + v for b, v in zip(bottom, vals)]
        ax.set_xticks(range(len(ps)))
        ax.set_xticklabels(ps, rotation=60, ha="right", fontsize=7)
        ax.set_title("%s %s" % k, fontsize=9)
    axes[0][0].set_ylabel("guest instructions per call (exact)")
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    title = "Fig 7: instructions per call by region (TCG plugin meter)%s" % title_extra
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Title": title, "Description": " | ".join(shown)})
    plt.close(fig)
    return title


def run(raw, outdir, plots=True, stamp=""):
    """write OUT/meter/calls.csv (and fig7.png); returns (markdown, [(file, title)])"""
    data, regions, events, boots = load(raw)
    rows, head = rows_of(data, regions, events)
    write_csv(rows, head, os.path.join(outdir, "meter", "calls.csv"))
    figs = []
    if plots:
        figs.append(("fig7.png", plot(rows, head, regions, os.path.join(outdir, "fig7.png"), stamp)))
    return markdown(rows, head, regions, events, boots), figs


def bench(res):
    """RES/meter.csv and RES/meter.md from a metered make bench; returns the markdown"""
    per = {}
    cols = regions = None
    for f in sorted(glob.glob(os.path.join(res, "*", "boot-*", "meter-counts.csv"))):
        bdir = os.path.dirname(f)
        prof = os.path.basename(os.path.dirname(bdir))
        snaps = {r["label"]: r for r in read_rows(f) if r["kind"] == "snap"}
        if "begin" not in snaps or "end" not in snaps:
            raise MeterError("%s: no snap begin/end rows (the metered requests did not run?)" % f)
        jpath = os.path.join(bdir, "meter.json")
        if not os.path.exists(jpath):
            raise MeterError("%s: missing (mcload's result of the metered requests)" % jpath)
        with open(jpath) as j:
            req = json.load(j).get("requests", 0)
        if not req:
            raise MeterError("%s: no requests completed" % jpath)
        head = [c for c in snaps["begin"] if c not in ("kind", "label", "windows")]
        if cols is None:
            cols = head
            regions = cols[:cols.index("user-other") + 1]
        v = {c: (int(snaps["end"][c]) - int(snaps["begin"][c])) / req for c in cols}
        v["total"] = sum(v[c] for c in regions)
        v["requests"] = req
        per.setdefault(prof, []).append(v)
    if not per:
        raise MeterError("%s: no metered boots (make bench METER=1 makes them)" % res)
    if BASE not in per:
        raise MeterError("%s: no metered %s boots, the baseline of every ratio" % (res, BASE))
    base = statistics.median(v["total"] for v in per[BASE])
    order = sorted(per, key=lambda p: p != BASE)
    rows = []
    for p in order:
        med = {c: statistics.median(v[c] for v in per[p]) for c in cols + ["total"]}
        tots = [v["total"] for v in per[p]]
        rows.append([p, len(per[p]), int(statistics.median(v["requests"] for v in per[p]))] +
                    [med[c] for c in cols] + [med["total"], med["total"] / base, min(tots) / base, max(tots) / base])
    head = ["profile", "boots", "requests"] + cols + ["total", "ratio_vs_linux", "ratio_min", "ratio_max"]
    with open(os.path.join(res, "meter.csv"), "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(head)
        for r in rows:
            w.writerow(r[:3] + ["%.1f" % x for x in r[3:-3]] + ["%.3f" % x for x in r[-3:]])
    shown = [c for c in cols if any(r[head.index(c)] for r in rows)]
    md = ["Guest instructions per memcached request, exact (the TCG plugin meter, eval/meter/meter.c): "
          "everything all vCPUs executed between two snapshots around the metered requests, divided by "
          "their number; the median over boots.  The ratio's (min..max) is each boot's total over linux's "
          "median.\n",
          "| profile | boots | requests | " + " | ".join(shown) + " | total | vs linux (min..max) |",
          "|---|---|---|" + "---|" * (len(shown) + 2)]
    for r in rows:
        md.append("| %s | %d | %d | %s | %.0f | %.3f (%.3f..%.3f) |" % (
            r[0], r[1], r[2], " | ".join("%.1f" % r[head.index(c)] for c in shown), r[-4], r[-3], r[-2], r[-1]))
    plot_requests(rows, head, regions, os.path.join(os.path.dirname(os.path.abspath(res)), "fig8.png"))
    text = "\n".join(md) + "\n"
    with open(os.path.join(res, "meter.md"), "w") as f:
        f.write(text)
    return text


def plot_requests(rows, head, regions, path):
    """fig 8: memcached instructions per request, one stacked bar per profile; returns its title"""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [c for c in regions if any(r[head.index(c)] for r in rows)]
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(rows) + 2), 4.5))
    colours = plt.get_cmap("tab10")
    bottom = [0.0] * len(rows)
    for i, c in enumerate(shown):
        vals = [r[head.index(c)] for r in rows]
        ax.bar(range(len(rows)), vals, bottom=bottom, color=colours(i % 10), label=c)
        bottom = [b + v for b, v in zip(bottom, vals)]
    for x, r in enumerate(rows):
        ax.text(x, bottom[x], "%.3f" % r[-3], ha="center", va="bottom", fontsize=8)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([r[0] for r in rows], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel("guest instructions per request (exact)")
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    title = FIG8
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Title": title, "Description": " | ".join(shown)})
    plt.close(fig)
    return title


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--raw", default="out/eval/raw")
    ap.add_argument("--out", default="out/eval")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--bench", metavar="RES")
    a = ap.parse_args()
    try:
        if a.bench:
            print(bench(a.bench))
            return
        md, figs = run(a.raw, a.out, not a.no_plots)
    except MeterError as e:
        sys.exit("ukl: error: meter: %s" % e)
    print(md)
    print("ukl: meter: %s/meter/calls.csv%s" % (a.out, "".join(", " + x for x, _ in figs)))


if __name__ == "__main__":
    main()
