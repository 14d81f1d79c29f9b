#!/usr/bin/env bash
# The gateway benchmark of BENCHMARKS.md: wrk at 50 connections against the
# gateway (release `atmr up` on fresh SQLite files, request limits off) and the
# two references, one after the other in the same run.
#   scripts/gateway-bench.sh [seconds per route, default 15]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
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
run() { # name url [auth]
  local out
  if [ -n "${3:-}" ]; then out=$(wrk -t2 -c50 -d"${secs}s" --latency -H "authorization: Bearer $token" "$2"); else out=$(wrk -t2 -c50 -d"${secs}s" --latency "$2"); fi
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errors=$(awk '/Non-2xx/ {print $5}' <<<"$out"); errors=${errors:-0}
  printf '| %s | %.0f | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p99" "$errors"
}
echo "| route | requests/s | p50 | p99 | non-2xx |"
echo "|---|---:|---:|---:|---:|"
run "reference: bare axum handler" http://127.0.0.1:18081/
run "reference: axum + one tonic call" http://127.0.0.1:18082/
run "GET /health/live" http://127.0.0.1:8080/health/live
run "GET /api/bugs/{id} (token, one gRPC hop, a database read)" "http://127.0.0.1:8080/api/bugs/$bug" auth
run "GET /api/bugs/metrics/summary (token, cached)" http://127.0.0.1:8080/api/bugs/metrics/summary auth
