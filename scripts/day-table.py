#!/usr/bin/env python3
"""The real-day table of BENCHMARKS.md from scripts/optimizer-bench.sh's output.

    python3 scripts/day-table.py target/optimizer-bench

Reads OUT/days-<s>.csv (vrp-bench) and OUT/peer-days-<s>.csv (darp-peer.py)
for every budget found, and prints per day and budget: bookings assigned,
drivers used and km driven by each solver, and whether the dispatch checker
accepted the plan.
"""

import csv
import sys
from pathlib import Path


def rows(path):
    return {r["instance"]: r for r in csv.DictReader(open(path))} if path.exists() else {}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = Path(sys.argv[1])
    budgets = sorted(int(p.stem.split("-")[1]) for p in out.glob("days-*.csv"))
    table = []
    for t in budgets:
        ours, peer = rows(out / f"days-{t}.csv"), rows(out / f"peer-days-{t}.csv")
        for name, r in ours.items():
            table.append((int(name.split("-")[1]), t, r, peer.get(name)))
    print("| bookings | budget | ours: assigned | ours: drivers | ours: km | OR-Tools: assigned | OR-Tools: drivers | OR-Tools: km |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    cell = lambda r: (  # noqa: E731
        ("–", "–", "–")
        if r is None
        else (r["assigned"] + ("" if r["feasible"] == "true" else " (rejected)"), r["vehicles"], f"{float(r['distance'] or 0):,.1f}")
    )
    for bookings, t, r, p in sorted(table, key=lambda x: (x[0], x[1])):
        print(f"| {bookings} | {t} s | " + " | ".join(cell(r)) + " | " + " | ".join(cell(p)) + " |")


if __name__ == "__main__":
    main()
