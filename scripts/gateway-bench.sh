#!/usr/bin/env bash
# The gateway benchmark of BENCHMARKS.md: wrk at 50 connections against the
# gateway (release `atmr up` on fresh SQLite files, request limits off) and the
# two references, in alternating rounds of the same run.
#   scripts/gateway-bench.sh [seconds per route, default 15] [rounds, default 3]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
rounds=${2:-3}
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)"; exit 1; }
cargo build --release -q -p atmr -p atmr-gateway --bin atmr --bin gateway-bench-refs
data=$(mktemp -d)
export ATMR_DATA_DIR="$data" ATMR_ADMIN_PASSWORD=bench-admin-password ATMR_RATE_LIMIT_PER_MINUTE=0 ATMR_LOG_FORMAT=json RUST_LOG=warn
target/release/atmr up >"$data/atmr.log" 2>&1 &
atmr=$!
target/release/gateway-bench-refs 2>"$data/refs.log" &
refs=$!
trap 'kill $atmr $refs 2>/dev/null; wait 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 1 120); do curl -sf localhost:8080/health/ready >/dev/null && break; sleep 0.5; done
token=$(curl -sf localhost:8080/api/auth/login -H 'content-type: application/json' \
  -d '{"email":"admin@atmr.local","password":"bench-admin-password"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
bug=$(curl -sf localhost:8080/api/bugs -H "authorization: Bearer $token" -H 'content-type: application/json' \
  -d '{"title":"Bench bug","description":"for the benchmark","severity":"low"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["bug"]["id"])')
curl -sf localhost:8080/api/bugs/metrics/summary -H "authorization: Bearer $token" >/dev/null
# One round measures every route once, in this order; the rounds alternate so
# that a slower minute of this shared machine falls on every route alike. The
# table gives each route's median round, and the ratios are taken round by
# round (the same minute), then their median.
run() { # name url [auth] -> "rps p50 p99 non2xx"
  local out
  if [ -n "${3:-}" ]; then out=$(wrk -t2 -c50 -d"${secs}s" --latency -H "authorization: Bearer $token" "$2"); else out=$(wrk -t2 -c50 -d"${secs}s" --latency "$2"); fi
  local errors
  errors=$(awk '/Non-2xx/ {print $5}' <<<"$out")
  printf '%s\t%s\t%s\t%s\t%s\n' "$1" "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '$1=="50%" {print $2}' <<<"$out")" \
    "$(awk '$1=="99%" {print $2}' <<<"$out")" "${errors:-0}"
}
results="$data/results.tsv"
for round in $(seq 1 "$rounds"); do
  run "reference: bare axum handler" http://127.0.0.1:18081/
  run "reference: axum + one tonic call" http://127.0.0.1:18082/
  run "GET /health/live" http://127.0.0.1:8080/health/live
  run "GET /api/bugs/{id} (token, one gRPC hop, a database read)" "http://127.0.0.1:8080/api/bugs/$bug" auth
  run "GET /api/bugs/metrics/summary (token, cached)" http://127.0.0.1:8080/api/bugs/metrics/summary auth
done | sed "s/^/$rounds\t/" >"$results"
python3 - "$results" <<'PY'
import statistics, sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
rounds = int(rows[0][0])
per_route = {}
for _, name, rps, p50, p99, errors in rows:
    per_route.setdefault(name, []).append((float(rps), p50, p99, int(errors)))
print(f"{rounds} round(s); each route's median round:\n")
print("| route | requests/s | p50 | p99 | non-2xx (all rounds) |")
print("|---|---:|---:|---:|---:|")
for name, runs in per_route.items():
    runs_sorted = sorted(runs, key=lambda r: r[0])
    rps, p50, p99, _ = runs_sorted[len(runs_sorted) // 2]
    print(f"| {name} | {rps:.0f} | {p50} | {p99} | {sum(r[3] for r in runs)} |")
names = list(per_route)
def ratio(a, b):
    values = [x[0] / y[0] for x, y in zip(per_route[names[a]], per_route[names[b]])]
    return statistics.median(values), values
for label, a, b in [("GET /api/bugs/{id} / one-hop reference", 3, 1), ("cached summary / bare handler", 4, 0)]:
    median, values = ratio(a, b)
    print(f"\n{label}: median {median:.0%} (rounds: {', '.join(f'{v:.0%}' for v in values)})", end="")
print()
PY
