#!/usr/bin/env python3
"""The console's board benchmark of BENCHMARKS.md: server time and size of the
day board for the demo day (500 bookings, 40 drivers, planned), on SQLite and
on PostgreSQL, against a release `atmr up` on this machine.

    scripts/console-bench.py [--requests 40] [--postgres postgres://postgres@127.0.0.1:5432]

For each backend: fresh databases, `atmr demo` (tomorrow's demo day and a
dispatcher login), `atmr up`, the day planned through the REST API, a console
sign-in through its form, then GET /board?day= and GET /board/timeline?day=
one after the other, `--requests` times each after two warm-up requests. The
time is the gateway's own: its `http_request_duration_seconds` histogram is
not fine enough for a median, so the time is taken on loopback by this client
(connection kept open), which adds well under a millisecond.
"""

import argparse
import http.cookiejar
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ATMR = ROOT / "target" / "release" / "atmr"
GW = "http://127.0.0.1:8080"
COMPONENTS = ["dispatch", "safety", "bugs", "notify", "gateway"]


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


def measure(opener, path, n):
    times, size = [], 0
    for i in range(n + 2):
        t0 = time.perf_counter()
        with opener.open(f"{GW}{path}") as r:
            body = r.read()
            assert r.status == 200, (path, r.status)
        dt = time.perf_counter() - t0
        if i >= 2:
            times.append(dt * 1000)
            size = len(body)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.9) - 1], size, body


def run(backend, env, n):
    demo = subprocess.run([ATMR, "demo"], env=env, capture_output=True, text=True, check=True).stdout
    day = re.search(r"demo data for (\d{4}-\d{2}-\d{2})", demo).group(1)
    password = re.search(r"dispatcher login: \S+ / (\S+)", demo).group(1)
    log = open(Path(env["ATMR_DATA_DIR"]) / "atmr.log", "w")
    proc = subprocess.Popen([ATMR, "up"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_ready(proc)
        req = urllib.request.Request(
            f"{GW}/api/auth/login",
            data=json.dumps({"email": "dispatcher@demo.atmr.local", "password": password}).encode(),
            headers={"content-type": "application/json"},
        )
        token = json.load(urllib.request.urlopen(req))["access_token"]
        req = urllib.request.Request(
            f"{GW}/api/dispatch/runs",
            data=json.dumps({"service_day": day}).encode(),
            headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
        )
        plan = json.load(urllib.request.urlopen(req, timeout=300))["run"]
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        form = opener.open(f"{GW}/login?lang=en").read().decode()
        csrf = re.search(r'name="_csrf" value="([^"]+)"', form).group(1)
        body = urllib.parse.urlencode(
            {"email": "dispatcher@demo.atmr.local", "password": password, "_csrf": csrf, "next": f"/board?day={day}", "lang": "en"}
        ).encode()
        opener.open(f"{GW}/login", data=body).read()
        rows = []
        for path in (f"/board?day={day}", f"/board/timeline?day={day}"):
            median, p90, size, html = measure(opener, path, n)
            trips = html.decode().count('<rect class="trip')
            rows.append((backend, path.split("?")[0], median, p90, size, trips))
        return plan, rows
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=40)
    ap.add_argument("--postgres", default="postgres://postgres@127.0.0.1:5432")
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "atmr"], cwd=ROOT, check=True)
    base = {**os.environ, "ATMR_ADMIN_PASSWORD": "bench-admin-password", "ATMR_RATE_LIMIT_PER_MINUTE": "0", "RUST_LOG": "warn"}
    results = []
    for backend in ("sqlite", "postgres"):
        with tempfile.TemporaryDirectory() as data:
            env = {**base, "ATMR_DATA_DIR": data}
            if backend == "postgres":
                for c in COMPONENTS:
                    name = f"atmr_console_bench_{c}"
                    subprocess.run(["psql", args.postgres + "/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"], check=True)
                    subprocess.run(["psql", args.postgres + "/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
                    env[f"{c.upper()}_DATABASE_URL"] = f"{args.postgres}/{name}"
            plan, rows = run(backend, env, args.requests)
            print(f"{backend}: plan assigned {plan['bookings_assigned']} of {plan['bookings_considered']} with {plan['drivers_used']} drivers", file=sys.stderr)
            results += rows
    print(f"{args.requests} requests each, after 2 warm-up requests; one client, one at a time.\n")
    print("| backend | page | median | p90 | HTML | trips drawn |")
    print("|---|---|---:|---:|---:|---:|")
    for backend, page, median, p90, size, trips in results:
        print(f"| {backend} | `{page}` | {median:.1f} ms | {p90:.1f} ms | {size / 1024:.0f} KiB | {trips} |")


if __name__ == "__main__":
    main()
