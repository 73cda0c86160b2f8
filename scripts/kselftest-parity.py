#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The kselftest parity tables (scripts/kselftest.sh, scripts/kselftest-app.sh).

Reads results.csv (profile,test,status,rc,seconds) and the list of chosen tests, writes
parity.md: one row per test with its status on each profile and a verdict.  A test that passes
on linux and does not on another profile is a difference; it is accepted only if DESIGN.md
names it (as `DIR/TARGET`, or as the in-app name) in its "kselftest differences" section
(--section: another heading, e.g. "kselftest differences in the app"), with the reason.  Exits 1
if any difference is unexplained, or if a profile has no result for a built test.
"""
import argparse
import csv
import re
import sys


def explained(design, section):
    """{test: reason} from the section of DESIGN.md headed SECTION"""
    text = open(design, encoding="utf-8").read()
    m = re.search(r"^#+ *" + re.escape(section) + r" *$(.*?)(?=^#|\Z)", text, re.M | re.S | re.I)
    out = {}
    if not m:
        return out
    for line in m.group(1).splitlines():
        t = re.match(r"\s*[-*]\s*`([^`]+)`\s*[:\u2013-]?\s*(.*)", line)
        if t:
            out[t.group(1)] = t.group(2).strip()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", required=True)
    ap.add_argument("--list", required=True)
    ap.add_argument("--design", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--stamp", default="")
    ap.add_argument("--section", default="kselftest differences")
    ap.add_argument("--title", default="kselftest parity: the kernel's own selftests as ordinary processes")
    ap.add_argument("--about", default="Built from the pinned kernel source with their own Makefiles (static), run as root "
                    "one at a time under /init's ukl.kselftest=1 (scripts/kselftest.sh). "
                    "A test that passes on linux must pass on every other profile, or be named in "
                    "linux-patches/DESIGN.md under \"kselftest differences\".")
    a = ap.parse_args()

    tests = [ln.split()[0] for ln in open(a.list, encoding="utf-8") if ln.strip()]
    res, profiles = {}, []
    with open(a.results, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["profile"] not in profiles:
                profiles.append(r["profile"])
            res[(r["profile"], r["test"])] = r
    why = explained(a.design, a.section)
    others = [p for p in profiles if p != "linux"]
    rows, bad, diffs = [], 0, 0
    for t in tests:
        st = {p: res.get((p, t), {}).get("status", "missing") for p in profiles}
        verdict = "same"
        if any(s == "missing" for s in st.values()):
            verdict, bad = "NO RESULT", bad + 1
        elif st.get("linux") == "pass" and any(st[p] != "pass" for p in others):
            diffs += 1
            if t in why:
                verdict = "explained: " + why[t]
            else:
                verdict, bad = "UNEXPLAINED DIFFERENCE", bad + 1
        elif "linux" in st and any(st[p] != st["linux"] for p in others):
            verdict = "differs (linux does not pass)"
        rows.append((t, st, verdict))

    with open(a.out, "w", encoding="utf-8") as f:
        f.write("# " + a.title + "\n\n" + a.about + "\n\n")
        if a.stamp:
            f.write(f"git revision: {a.stamp}\n\n")
        f.write("| test | " + " | ".join(profiles) + " | verdict |\n")
        f.write("|---|" + "---|" * len(profiles) + "---|\n")
        for t, st, v in rows:
            f.write(f"| {t} | " + " | ".join(st[p] for p in profiles) + f" | {v} |\n")
        counts = {p: sum(1 for _, st, _ in rows if st[p] == "pass") for p in profiles}
        f.write("\npassed: " + ", ".join(f"{p} {counts[p]}/{len(rows)}" for p in profiles) + "\n")
        f.write(f"differences from linux: {diffs}, unexplained or missing: {bad}\n")
    print(open(a.out, encoding="utf-8").read())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
