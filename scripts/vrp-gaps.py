#!/usr/bin/env python3
"""Turns vrp-bench CSV into a Markdown table of gaps to the best-known values.

    vrp-bench --time-limit 1 FILE... > run.csv
    python3 scripts/vrp-gaps.py run.csv [--objective distance|vehicles] [--peer peer.csv]

With `--peer`, the rows of another solver on the same files (scripts/darp-peer.py,
same CSV) stand beside ours: its distance, its gap, whether it was feasible.

With the distance objective, Solomon rows are compared with the distance-only
best-known (`<name>_distance` in bks.csv); Gehring & Homberger and Li & Lim
have hierarchical best-knowns only (fewest vehicles, then distance), so a
solution with more vehicles may come out shorter: its gap is then negative.
Cordeau's values are optimal distances with the fleet fixed.
"""

import csv
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    args = sys.argv[1:]
    objective = "distance"
    if "--objective" in args:
        i = args.index("--objective")
        objective = args[i + 1]
        del args[i : i + 2]
    peer = {}
    if "--peer" in args:
        i = args.index("--peer")
        peer = {row["instance"]: row for row in csv.DictReader(open(args[i + 1]))}
        del args[i : i + 2]
    if len(args) != 1 or objective not in ("distance", "vehicles"):
        sys.exit(__doc__)
    bks = {row["instance"]: row for row in csv.DictReader(open(ROOT / "bench" / "instances" / "bks.csv"))}
    rows = list(csv.DictReader(open(args[0])))
    if peer:
        return side_by_side(rows, peer, bks)
    print("| instance | vehicles | distance | best-known (vehicles, distance) | gap | seconds | feasible |")
    print("|---|---:|---:|---|---:|---:|---|")
    gaps = {"VRPTW/PDPTW": [], "DARP": []}
    for row in rows:
        name = row["instance"]
        ref = bks.get(f"{name}_distance") if objective == "distance" else None
        ref = ref or bks.get(name)
        if ref is None:
            print(f"| {name} | {row['vehicles']} | {row['distance']} | – | – | {row['seconds']} | {row['feasible']} |")
            continue
        distance, best = float(row["distance"]), float(ref["bks_distance"])
        gap = 100.0 * (distance - best) / best
        family = "DARP" if ref["family"].startswith("cordeau") else "VRPTW/PDPTW"
        if row["feasible"] == "true":
            gaps[family].append(gap)
        print(
            f"| {name} | {row['vehicles']} | {distance:.2f} | {ref['bks_vehicles']}, {best:.2f} | {gap:+.2f}% | {row['seconds']} | {row['feasible']} |"
        )
    for family, values in gaps.items():
        if values:
            print(f"| **mean {family}** | | | | **{sum(values) / len(values):+.2f}%** | | |")


def side_by_side(rows, peer, bks):
    print("| instance | best-known | ours: vehicles, distance | ours: gap | peer: vehicles, distance | peer: gap | seconds (ours / peer) |")
    print("|---|---:|---:|---:|---:|---:|---|")
    ours_gaps, peer_gaps = [], []
    for row in rows:
        name = row["instance"]
        best = float(bks[name]["bks_distance"])
        gap = lambda r: 100.0 * (float(r["distance"]) - best) / best  # noqa: E731
        mine = f"{gap(row):+.2f}%" if row["feasible"] == "true" else "infeasible"
        if row["feasible"] == "true":
            ours_gaps.append(gap(row))
        other = peer.get(name)
        if other is None or other["feasible"] != "true":
            theirs, their_solution = "no feasible solution", "–"
        else:
            theirs, their_solution = f"{gap(other):+.2f}%", f"{other['vehicles']}, {float(other['distance']):.2f}"
            peer_gaps.append(gap(other))
        seconds = f"{row['seconds']} / {other['seconds'] if other else '–'}"
        print(f"| {name} | {best:.2f} | {row['vehicles']}, {float(row['distance']):.2f} | {mine} | {their_solution} | {theirs} | {seconds} |")
    mean = lambda v: f"{sum(v) / len(v):+.2f}% ({len(v)} feasible)" if v else "–"  # noqa: E731
    worst = lambda v: f"{max(v):+.2f}%" if v else "–"  # noqa: E731
    print(f"| **mean** | | | **{mean(ours_gaps)}** | | **{mean(peer_gaps)}** | |")
    print(f"| **worst** | | | **{worst(ours_gaps)}** | | **{worst(peer_gaps)}** | |")


if __name__ == "__main__":
    main()
