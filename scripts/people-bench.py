#!/usr/bin/env python3
"""The #24 benchmarks of BENCHMARKS.md, against a release `atmr up` on this
machine (SQLite, or PostgreSQL with --postgres):

1. A 10,000-row CSV export: 10,000 bookings over ten days (two batches of
   5,000), then `GET /api/bookings/export` of the ten days, --rounds times;
   beside it in the same run, its peer: the same rows read as JSON through
   the list, 100 per page (100 requests). Time to the last byte, size, and the
   atmr process's resident memory before and after (VmRSS) and at its peak
   (VmHWM), which tells whether the export held the rows.
2. Positions: 200 drivers, each with its own account, each phone sending one
   batch a second of 5 positions 200 ms apart through `POST /api/me/positions`
   (1,000 positions a second; dispatch keeps one a second per driver), open
   loop on a fixed schedule for --seconds. Each phone has its own connection
   and its own client address (X-Forwarded-For, the bench trusted as a proxy with ATMR_TRUSTED_PROXIES),
   so the gateway's per-user and per-address limits stay on (raised to
   60,000 a minute so that the export's JSON peer, 500 pages from one admin,
   is not refused; the limiter's cost is still in the figures).
   Latency of each request, what dispatch kept and dropped, and the atmr
   process's CPU (utime+stime over the window, in cores).

    scripts/people-bench.py [--rounds 5] [--seconds 30] [--postgres postgres://postgres@127.0.0.1:5432]

The client runs on the same two cores as the mesh: its own CPU is counted
apart (this process's CPU time) so that the mesh's share is the process's.
"""

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ATMR = ROOT / "target" / "release" / "atmr"
HOST, PORT = "127.0.0.1", 8080
GW = f"http://{HOST}:{PORT}"
COMPONENTS = ["dispatch", "safety", "bugs", "notify", "gateway"]
ADMIN = ("admin@atmr.local", "bench-admin-password")
TICKS = os.sysconf("SC_CLK_TCK")


def call(method, path, token=None, body=None, headers=None, timeout=300):
    h = {"content-type": "application/json", **(headers or {})}
    if token:
        h["authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"{GW}{path}", method=method, headers=h, data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(req, timeout=timeout) as r:
        data = r.read()
        return json.loads(data) if data and r.headers.get_content_type() == "application/json" else data


def wait_ready(proc):
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"atmr up exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{GW}/health/ready", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    sys.exit("atmr up did not become ready")


def proc_status(pid):
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        k, _, v = line.partition(":")
        fields[k] = v.strip()
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_seconds(pid):
    parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / TICKS


def iso(t):
    return t.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def export_bench(pid, token, rounds):
    first = date.today() + timedelta(days=30)
    client = call("POST", "/api/clients", token, {"name": "Bench Patient", "address": "Rue de Carouge 12", "location": {"latitude": 46.195, "longitude": 6.14}})
    rows = []
    for i in range(10_000):
        day = first + timedelta(days=i // 1000)
        start = datetime(day.year, day.month, day.day, 6, tzinfo=timezone.utc) + timedelta(minutes=(i % 1000) % 720)
        rows.append({
            "client_id": client["id"], "pickup_address": f"Chemin {i}, Genève", "pickup": {"latitude": 46.17 + (i % 10) * 0.008, "longitude": 6.08 + (i // 10 % 10) * 0.01},
            "dropoff_address": "HUG, Genève", "dropoff": {"latitude": 46.1935, "longitude": 6.149},
            "pickup_earliest": iso(start), "pickup_latest": iso(start + timedelta(minutes=30)), "notes": f"bench {i}",
        })
    for chunk in (rows[:5000], rows[5000:]):
        call("POST", "/api/bookings/batch", token, {"bookings": chunk})
    last = first + timedelta(days=9)
    results = {"csv": [], "json": []}
    rss_before, hwm_before = proc_status(pid)
    for _ in range(rounds):
        t0 = time.perf_counter()
        body = call("GET", f"/api/bookings/export?from={first}&to={last}", token)
        results["csv"].append((time.perf_counter() - t0, len(body), body.count(b"\n") - 1))
        t0 = time.perf_counter()
        got, size = 0, 0
        for d in range(10):
            page = 1
            while True:
                res = call("GET", f"/api/bookings?service_day={first + timedelta(days=d)}&per_page=100&page={page}", token)
                got += len(res["items"])
                size += len(json.dumps(res))
                if len(res["items"]) < 100:
                    break
                page += 1
        results["json"].append((time.perf_counter() - t0, size, got))
    rss_after, hwm_after = proc_status(pid)
    return results, (rss_before, hwm_before, rss_after, hwm_after)


def positions_bench(pid, token, seconds):
    drivers = []
    for i in range(200):
        d = call("POST", "/api/drivers", token, {"name": f"Bench Driver {i}", "vehicle_kind": "car", "seats": 4, "shift_start_minute": 0,
                                                   "shift_end_minute": 1440, "depot": {"latitude": 46.2, "longitude": 6.14}})
        email = f"driver{i}@bench.atmr.local"
        call("POST", "/api/admin/users", token, {"email": email, "password": "bench-driver-password", "role": "driver", "driver_id": d["id"]})
        tok = call("POST", "/api/auth/login", None, {"email": email, "password": "bench-driver-password"},
                   headers={"x-forwarded-for": f"10.0.{i // 250}.{i % 250 + 1}"})["access_token"]
        drivers.append((i, tok))
    latencies, failures = [], []
    lock = threading.Lock()
    start = time.time() + 2.0

    def phone(i, tok):
        conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
        headers = {"content-type": "application/json", "authorization": f"Bearer {tok}", "x-forwarded-for": f"10.0.{i // 250}.{i % 250 + 1}"}
        for k in range(seconds):
            at = start + k + (i % 100) / 100.0  # phones spread over each second
            wait = at - time.time()
            if wait > 0:
                time.sleep(wait)
            now = datetime.now(timezone.utc)
            batch = [{"position": {"latitude": 46.2 + 0.0001 * (k * 5 + j), "longitude": 6.14 + 0.0001 * i}, "time": iso(now - timedelta(milliseconds=200 * (4 - j))), "accuracy_m": 8}
                     for j in range(5)]
            t0 = time.perf_counter()
            try:
                conn.request("POST", "/api/me/positions", body=json.dumps({"positions": batch}), headers=headers)
                r = conn.getresponse()
                r.read()
                ok = r.status == 200
            except OSError as e:
                ok, r = False, e
                conn = http.client.HTTPConnection(HOST, PORT, timeout=30)
            dt = time.perf_counter() - t0
            with lock:
                (latencies if ok else failures).append(dt if ok else str(getattr(r, "status", r)))

    threads = [threading.Thread(target=phone, args=d) for d in drivers]
    for t in threads:
        t.start()
    while time.time() < start:
        time.sleep(0.01)
    cpu0, own0, t0 = cpu_seconds(pid), time.process_time(), time.time()
    for t in threads:
        t.join()
    cpu1, own1, t1 = cpu_seconds(pid), time.process_time(), time.time()
    # What dispatch kept and dropped, from its admin port.
    metrics = urllib.request.urlopen("http://127.0.0.1:9091/metrics").read().decode()
    counts = [line for line in metrics.splitlines() if line.startswith(("dispatch_driver_positions_total", "dispatch_positions_dropped_total"))]
    return latencies, failures, (cpu1 - cpu0) / (t1 - t0), (own1 - own0) / (t1 - t0), t1 - t0, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--postgres", default=None)
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "atmr"], cwd=ROOT, check=True)
    env = {**os.environ, "ATMR_ADMIN_EMAIL": ADMIN[0], "ATMR_ADMIN_PASSWORD": ADMIN[1], "ATMR_LOGIN_RATE_PER_MINUTE": "0",
           "ATMR_TRUSTED_PROXIES": "127.0.0.1/32,::1/128", "RUST_LOG": "warn",
           # The limiter runs (its cost is in the figures) but lets the JSON peer's 100 pages a round through.
           "ATMR_RATE_LIMIT_PER_MINUTE": "60000", "ATMR_RATE_LIMIT_BURST": "1000"}
    with tempfile.TemporaryDirectory() as data:
        env["ATMR_DATA_DIR"] = data
        if args.postgres:
            for c in COMPONENTS:
                name = f"atmr_people_bench_{c}"
                subprocess.run(["psql", args.postgres + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
                subprocess.run(["psql", args.postgres + "/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
                env[f"{c.upper()}_DATABASE_URL"] = f"{args.postgres}/{name}"
        log = open(Path(data) / "atmr.log", "w")
        proc = subprocess.Popen([ATMR, "up"], env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_ready(proc)
            token = call("POST", "/api/auth/login", None, {"email": ADMIN[0], "password": ADMIN[1]})["access_token"]
            results, mem = export_bench(proc.pid, token, args.rounds)
            backend = "PostgreSQL" if args.postgres else "SQLite"
            print(f"## {backend}: a 10,000-row export, {args.rounds} rounds\n")
            print("| read | median | min | max | bytes | rows |")
            print("|---|---:|---:|---:|---:|---:|")
            for name, label in (("csv", "`GET /api/bookings/export` (CSV, streamed)"), ("json", "`GET /api/bookings` 100 per page (JSON, 100 requests)")):
                times = [t for t, _, _ in results[name]]
                _, size, rows = results[name][-1]
                print(f"| {label} | {statistics.median(times) * 1000:.0f} ms | {min(times) * 1000:.0f} ms | {max(times) * 1000:.0f} ms | {size:,} | {rows:,} |")
            print(f"\natmr process: VmRSS {mem[0]:.0f} MiB before, {mem[2]:.0f} MiB after; peak (VmHWM) {mem[1]:.0f} MiB before, {mem[3]:.0f} MiB after.\n")
            latencies, failures, cores, own, wall, counts = positions_bench(proc.pid, token, args.seconds)
            latencies.sort()
            n = len(latencies)
            print(f"## {backend}: positions, 200 drivers × 5 a second for {args.seconds} s\n")
            print("| requests | positions | failed | p50 | p90 | p99 | max | atmr CPU | client CPU |")
            print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
            q = lambda p: latencies[min(n - 1, int(n * p))] * 1000
            print(f"| {n:,} in {wall:.1f} s | {n * 5:,} | {len(failures)} | {q(0.5):.1f} ms | {q(0.9):.1f} ms | {q(0.99):.1f} ms | {latencies[-1] * 1000:.1f} ms | {cores:.2f} cores | {own:.2f} cores |")
            print("\ndispatch's counters after the run:\n\n```\n" + "\n".join(counts) + "\n```")
            if failures:
                print(f"\nfailures: {sorted(set(failures))[:5]}")
        finally:
            proc.terminate()
            proc.wait(timeout=30)


if __name__ == "__main__":
    main()
