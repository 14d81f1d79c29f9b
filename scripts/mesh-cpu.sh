#!/usr/bin/env bash
# Mesh CPU per request on GET /api/bugs/{id}, for A/B comparisons of builds
# (BENCHMARKS.md, "Gateway"): each binary in turn runs `atmr up` on fresh
# SQLite files, takes 2 s of wrk as warm-up, then 8 s measured; the process's
# user+system time over those 8 s, divided by the requests wrk completed.
#   scripts/mesh-cpu.sh [rounds, default 3] BINARY...
set -euo pipefail
rounds=${1:-3}
shift
[ $# -gt 0 ] || { echo "usage: $0 [rounds] BINARY..."; exit 1; }
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)"; exit 1; }
tick=$(getconf CLK_TCK)
measure() { # binary
  local data pid token bug out t0 t1
  data=$(mktemp -d)
  ATMR_DATA_DIR="$data" ATMR_ADMIN_PASSWORD=bench-admin-password ATMR_RATE_LIMIT_PER_MINUTE=0 ATMR_LOG_FORMAT=json RUST_LOG=warn \
    "$1" up >"$data/atmr.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 120); do curl -sf localhost:8080/health/ready >/dev/null && break; sleep 0.5; done
  token=$(curl -sf localhost:8080/api/auth/login -H 'content-type: application/json' \
    -d '{"email":"admin@atmr.local","password":"bench-admin-password"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["access_token"])')
  bug=$(curl -sf localhost:8080/api/bugs -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"title":"Bench bug","description":"for the benchmark","severity":"low"}' | python3 -c 'import sys,json;print(json.load(sys.stdin)["bug"]["id"])')
  wrk -t2 -c50 -d2s -H "authorization: Bearer $token" "http://127.0.0.1:8080/api/bugs/$bug" >/dev/null
  t0=$(awk '{print $14+$15}' "/proc/$pid/stat")
  out=$(wrk -t2 -c50 -d8s -H "authorization: Bearer $token" "http://127.0.0.1:8080/api/bugs/$bug")
  t1=$(awk '{print $14+$15}' "/proc/$pid/stat")
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$data"
  python3 -c "import sys; rps, n, ticks = float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]); \
print(f'{sys.argv[1]}: {rps:.0f} req/s, {ticks / $tick * 1e6 / n:.1f} us CPU per request')" "$1" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(awk '/requests in/ {print $1}' <<<"$out")" "$((t1 - t0))"
}
for round in $(seq 1 "$rounds"); do
  echo "round $round"
  for binary in "$@"; do measure "$binary"; done
done
