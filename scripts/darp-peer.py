#!/usr/bin/env python3
"""The peer: OR-Tools' routing solver on the same dial-a-ride files as vrp-bench.

    python3 -m venv target/peer-venv
    target/peer-venv/bin/pip install -r scripts/darp-peer.requirements.txt
    target/peer-venv/bin/python scripts/darp-peer.py --time-limit 10 [--vrp-bench PATH] [--solutions DIR] FILE...

Reads Cordeau's dial-a-ride files (the 2006 sets and the 2003 variant, whose
header counts nodes and whose closing depot is absent) and the dispatch days
that `dispatch-bench --export` writes (`.json`). The model: pickup and
delivery pairs on one vehicle, pickup first; time windows, capacity (three
dimensions for a day), the maximum ride time as a constraint between the two
stops' time cumuls, the route duration as the vehicle's span, vehicle
compatibility for a day. Cost: distance. A day's bookings may be left out at a
penalty larger than any route, so serving comes first, as in ours. First
solution by local cheapest insertion, then guided local search, for the time
limit, on one core (OR-Tools' routing search is single-threaded).

Every answer is written to DIR (a temporary folder by default) and checked by
`vrp-bench --check` (the independent checkers: real numbers for Cordeau, the
dispatch checker for days); the printed CSV row is vrp-bench's, with this
solver's seconds: instance,vehicles,distance,seconds,feasible,assigned.
"""

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

ROOT = Path(__file__).resolve().parent.parent
# Cordeau distances are real numbers: times in units of 1/SCALE, rounded up so
# that a schedule feasible here is feasible in real numbers; cost rounded.
SCALE = 1000


def parse_cordeau(text):
    rows = [line.split() for line in text.splitlines() if line.strip()]
    k, count, duration, capacity, ride = rows[0][:5]
    k, count, capacity = int(k), int(count), int(capacity)
    sites = [(float(r[1]), float(r[2]), float(r[3]), int(float(r[4])), float(r[5]), float(r[6])) for r in rows[1:]]
    if len(sites) == 2 * count + 2:
        n = count
    elif count % 2 == 0 and len(sites) in (count + 1, count + 2):
        n = count // 2
        if len(sites) == count + 1:
            x, y, _, _, early, late = sites[0]
            sites.append((x, y, 0.0, 0, early, late))
    else:
        raise SystemExit(f"{len(sites)} node lines after a header of {count}")
    return {"vehicles": k, "n": n, "duration": float(duration), "capacity": capacity, "ride": float(ride), "sites": sites}


def solve_cordeau(inst, limit):
    """Routes of node ids (depots excluded), or None without a solution."""
    n, sites = inst["n"], inst["sites"]
    nodes = 2 * n + 2
    end = 2 * n + 1
    manager = pywrapcp.RoutingIndexManager(nodes, inst["vehicles"], [0] * inst["vehicles"], [end] * inst["vehicles"])
    routing = pywrapcp.RoutingModel(manager)
    dist = [[math.hypot(a[0] - b[0], a[1] - b[1]) for b in sites] for a in sites]
    cost = [[round(d * SCALE) for d in row] for row in dist]
    transit = [[math.ceil(dist[i][j] * SCALE) + round(sites[i][2] * SCALE) for j in range(nodes)] for i in range(nodes)]
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(cost))
    horizon = round(max(s[5] for s in sites) * SCALE)
    time_cb = routing.RegisterTransitMatrix(transit)
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    t = routing.GetDimensionOrDie("time")
    load_cb = routing.RegisterUnaryTransitVector([s[3] for s in sites])
    routing.AddDimension(load_cb, 0, inst["capacity"], True, "load")
    solver = routing.solver()
    for v in range(inst["vehicles"]):
        for index, site in ((routing.Start(v), sites[0]), (routing.End(v), sites[end])):
            t.CumulVar(index).SetRange(math.ceil(site[4] * SCALE), math.floor(site[5] * SCALE))
        t.SetSpanUpperBoundForVehicle(math.floor(inst["duration"] * SCALE), v)
    for node in range(1, end):
        t.CumulVar(manager.NodeToIndex(node)).SetRange(math.ceil(sites[node][4] * SCALE), math.floor(sites[node][5] * SCALE))
    for i in range(1, n + 1):
        p, d = manager.NodeToIndex(i), manager.NodeToIndex(n + i)
        routing.AddPickupAndDelivery(p, d)
        solver.Add(routing.VehicleVar(p) == routing.VehicleVar(d))
        solver.Add(t.CumulVar(p) <= t.CumulVar(d))
        solver.Add(t.CumulVar(d) - t.CumulVar(p) - round(sites[i][2] * SCALE) <= math.floor(inst["ride"] * SCALE))
    solution = routing.SolveWithParameters(parameters(limit))
    if solution is None:
        return None
    routes = []
    for v in range(inst["vehicles"]):
        index, route = solution.Value(routing.NextVar(routing.Start(v))), []
        while not routing.IsEnd(index):
            route.append(manager.IndexToNode(index))
            index = solution.Value(routing.NextVar(index))
        if route:
            routes.append(route)
    return routes


def solve_day(day, limit):
    """A plan in `solver::day`'s format, or None without a solution."""
    vehicles, requests = day["vehicles"], day["requests"]
    durations, distances = day["durations"], day["distances"]
    depots = sorted({v["depot"] for v in vehicles})
    depot_node = {place: i for i, place in enumerate(depots)}
    # Manager nodes: the depots, then each request's pickup and drop-off.
    place = list(depots) + [x for r in requests for x in (r["pickup"], r["dropoff"])]
    service = [0] * len(depots) + [r["service"] for r in requests for _ in range(2)]
    nodes = len(place)
    pickup = lambda j: len(depots) + 2 * j  # noqa: E731
    starts = [depot_node[v["depot"]] for v in vehicles]
    manager = pywrapcp.RoutingIndexManager(nodes, len(vehicles), starts, starts)
    routing = pywrapcp.RoutingModel(manager)
    cost = [[distances[place[i]][place[j]] for j in range(nodes)] for i in range(nodes)]
    transit = [[durations[place[i]][place[j]] + service[i] for j in range(nodes)] for i in range(nodes)]
    routing.SetArcCostEvaluatorOfAllVehicles(routing.RegisterTransitMatrix(cost))
    horizon = max(v["end"] for v in vehicles) + 86_400
    routing.AddDimension(routing.RegisterTransitMatrix(transit), horizon, horizon, False, "time")
    t = routing.GetDimensionOrDie("time")
    for dim, name in enumerate(("seats", "wheelchairs", "stretchers")):
        demand = [0] * len(depots) + [sign * r["load"][dim] for r in requests for sign in (1, -1)]
        routing.AddDimensionWithVehicleCapacity(
            routing.RegisterUnaryTransitVector(demand), 0, [v["capacity"][dim] for v in vehicles], True, name
        )
    for v, vehicle in enumerate(vehicles):
        t.CumulVar(routing.Start(v)).SetRange(vehicle["start"], vehicle["end"])
        t.CumulVar(routing.End(v)).SetRange(vehicle["start"], vehicle["end"])
    # Leaving a booking out costs more than any plan's whole distance.
    penalty = 1 + sum(max(row) for row in distances) * 2
    solver = routing.solver()
    for j, r in enumerate(requests):
        p, d = manager.NodeToIndex(pickup(j)), manager.NodeToIndex(pickup(j) + 1)
        t.CumulVar(p).SetRange(r["earliest"], r["latest"])
        t.CumulVar(d).SetRange(r["earliest"], r["deadline"] if r["deadline"] is not None else horizon)
        routing.AddPickupAndDelivery(p, d)
        routing.AddDisjunction([p], penalty)
        routing.AddDisjunction([d], penalty)
        solver.Add(routing.ActiveVar(p) == routing.ActiveVar(d))
        solver.Add(routing.VehicleVar(p) == routing.VehicleVar(d))
        solver.Add(t.CumulVar(p) <= t.CumulVar(d))
        solver.Add(t.CumulVar(d) - t.CumulVar(p) - r["service"] <= r["max_ride"])
        routing.VehicleVar(p).SetValues([-1] + r["compatible"])
    solution = routing.SolveWithParameters(parameters(limit))
    if solution is None:
        return None
    plan = {"routes": [], "unassigned": []}
    served = set()
    for v in range(len(vehicles)):
        index, stops = solution.Value(routing.NextVar(routing.Start(v))), []
        while not routing.IsEnd(index):
            node = manager.IndexToNode(index)
            j, is_pickup = divmod(node - len(depots), 2)
            stops.append({"request": j, "pickup": is_pickup == 0, "time": solution.Value(t.CumulVar(index))})
            served.add(j)
            index = solution.Value(routing.NextVar(index))
        if stops:
            plan["routes"].append({"vehicle": v, "stops": stops})
    plan["unassigned"] = [j for j in range(len(requests)) if j not in served]
    return plan


def parameters(limit):
    p = pywrapcp.DefaultRoutingSearchParameters()
    p.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.LOCAL_CHEAPEST_INSERTION
    p.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    p.time_limit.FromMilliseconds(round(limit * 1000))
    return p


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per file (default 10)")
    parser.add_argument("--vrp-bench", default=str(ROOT / "target" / "release" / "vrp-bench"), help="the checker")
    parser.add_argument("--solutions", help="where answers are written (default: a temporary folder)")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    out = Path(args.solutions or tempfile.mkdtemp(prefix="darp-peer-"))
    out.mkdir(parents=True, exist_ok=True)
    print("instance,vehicles,distance,seconds,feasible,assigned", flush=True)
    for file in map(Path, args.files):
        text = file.read_text()
        name = file.stem
        is_day = text.lstrip().startswith("{")
        started = time.monotonic()
        answer = solve_day(json.loads(text), args.time_limit) if is_day else solve_cordeau(parse_cordeau(text), args.time_limit)
        seconds = time.monotonic() - started
        if answer is None:
            print(f"{name},0,,{seconds:.2f},false,0", flush=True)
            print(f"darp-peer: {name}: no solution within {args.time_limit} s", file=sys.stderr)
            continue
        sol = out / (f"{name}.plan.json" if is_day else f"{name}.sol")
        sol.write_text(json.dumps(answer) if is_day else "".join(" ".join(map(str, r)) + "\n" for r in answer))
        checked = subprocess.run([args.vrp_bench, "--check", str(sol), str(file)], capture_output=True, text=True)
        sys.stderr.write(checked.stderr)
        row = checked.stdout.strip().splitlines()[-1].split(",")
        row[3] = f"{seconds:.2f}"
        print(",".join(row), flush=True)


if __name__ == "__main__":
    main()
