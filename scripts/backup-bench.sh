#!/usr/bin/env bash
# Times `atmr backup` and `atmr restore` on PostgreSQL with a measured data set
# (BENCHMARKS.md, "Backup and restore"): the demo day (`atmr demo`: 40 drivers,
# 600 patients, 500 bookings) and BUGS bug reports (default 100,000) written
# straight into the bugs database, each with a 1 KB description and stack trace.
# Uses five scratch databases atmr_bench_<component> on $TEST_DATABASE_URL's
# server (dropped and created again) and a scratch directory; prints the times
# and sizes. Usage: scripts/backup-bench.sh [path/to/atmr]
set -euo pipefail
cd "$(dirname "$0")/.."
ATMR=${1:-target/release/atmr}
BASE=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
BUGS=${BUGS:-100000}
SERVER=${BASE%/*}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT

recreate() {
  for c in dispatch safety bugs notify gateway; do
    psql -q "$BASE" -c "DROP DATABASE IF EXISTS atmr_bench_$c WITH (FORCE)" -c "CREATE DATABASE atmr_bench_$c"
  done
}
recreate
for c in dispatch safety bugs notify gateway; do
  export "$(echo "$c" | tr a-z A-Z)_DATABASE_URL=$SERVER/atmr_bench_$c"
done
export ATMR_DATA_DIR="$DIR/data" ATMR_ADMIN_PASSWORD=bench-password-long-enough
"$ATMR" migrate up >/dev/null
"$ATMR" demo >/dev/null
psql -q "$SERVER/atmr_bench_bugs" -c "
  INSERT INTO bug_reports (company_id, title, description, severity, priority, category, status, reporter,
    environment, release_version, stack_trace, tags, fingerprint, occurrence_count, first_seen, last_seen,
    created_at, updated_at)
  SELECT 1, 'bug ' || i, repeat('the board froze while planning the day; ', 25), 1 + i % 4, 1 + i % 4, 'ui', 'open',
    'reporter@example.com', 'production', '1.0.' || (i % 50), repeat('at atmr::board::render (board.rs:42) ', 27),
    '', md5(i::text), 1, now(), now(), now(), now()
  FROM generate_series(1, $BUGS) AS i"

start=$(date +%s.%N)
"$ATMR" backup --to "$DIR/backups" >"$DIR/backup.log"
backup_s=$(echo "$(date +%s.%N) - $start" | bc)
size=$(du -sb "$DIR/backups" | cut -f1)
rows=$(grep -o '[0-9]* rows' "$DIR/backup.log" | awk '{s += $1} END {print s}')

recreate
start=$(date +%s.%N)
"$ATMR" restore --from "$DIR/backups" >/dev/null
restore_s=$(echo "$(date +%s.%N) - $start" | bc)
printf 'rows: %s  size: %s bytes  backup: %.2f s  restore: %.2f s\n' "$rows" "$size" "$backup_s" "$restore_s"
for c in dispatch safety bugs notify gateway; do
  psql -q "$BASE" -c "DROP DATABASE IF EXISTS atmr_bench_$c WITH (FORCE)"
done
