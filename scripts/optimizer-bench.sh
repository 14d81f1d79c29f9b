#!/usr/bin/env bash
# The optimizer's benchmark tables of BENCHMARKS.md in one go: ours (vrp-bench)
# and the OR-Tools peer (scripts/darp-peer.py) side by side on the Cordeau
# dial-a-ride files and on the demo days, plus the VRPTW table with its seeds.
#
#   cargo build --release -p atmr-dispatch --bin vrp-bench --bin dispatch-bench
#   python3 -m venv target/peer-venv && target/peer-venv/bin/pip install -r scripts/darp-peer.requirements.txt
#   scripts/optimizer-bench.sh [OUT]        # default OUT: target/optimizer-bench
#
# Ours runs pinned to CPU 1, the peer to CPU 0, each on one core at the same
# time limit; the load average is written before and after every block
# (OUT/load.txt), since other work on the machine slows a timed run.
# Parts: PARTS="cordeau days vrptw seeds iterations" (default: all five;
# seeds: the Cordeau runs again with seeds 2 and 3, one per core; iterations:
# the 2003 pair at 100,000, 300,000 and 1,000,000 iterations, no clock).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-target/optimizer-bench}
PARTS=${PARTS:-"cordeau days vrptw seeds iterations"}
B=bench/instances
C=$B/cordeau_darp
BENCH=target/release/vrp-bench
PEER="target/peer-venv/bin/python scripts/darp-peer.py --vrp-bench $BENCH"
SMALL="$C/a2-16.txt $C/a4-32.txt $C/a6-48.txt $C/a8-64.txt $C/a8-96.txt $C/b4-40.txt $C/b8-96.txt"
LARGE="$C/a10-144.txt $C/b11-120.txt"
mkdir -p "$OUT"
load() { echo "$(date -u +%FT%TZ) $1: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$OUT/load.txt"; }
ours() { taskset -c 1 "$BENCH" "$@"; }
peer() { taskset -c 0 $PEER "$@"; }

if [[ $PARTS == *cordeau* ]]; then
  load "cordeau start"
  peer --time-limit 10 $SMALL $LARGE > "$OUT/peer-cordeau-10.csv" 2> "$OUT/peer-cordeau-10.err" &
  ours --time-limit 1 --seed 1 $SMALL $LARGE > "$OUT/cordeau-1.csv" 2> "$OUT/cordeau-1.err"
  ours --time-limit 10 --seed 1 --solutions "$OUT/sol" $SMALL $LARGE > "$OUT/cordeau-10.csv" 2> "$OUT/cordeau-10.err"
  wait
  load "cordeau 1 s and 10 s done"
  peer --time-limit 30 $LARGE > "$OUT/peer-cordeau-30.csv" 2> "$OUT/peer-cordeau-30.err" &
  ours --time-limit 30 --seed 1 $LARGE > "$OUT/cordeau-30.csv" 2> "$OUT/cordeau-30.err"
  wait
  load "cordeau 30 s done"
fi

if [[ $PARTS == *days* ]]; then
  target/release/dispatch-bench --bookings 200,500,1000 --export "$OUT/days" > /dev/null 2> "$OUT/export.err"
  DAYS="$OUT/days/demo-200.json $OUT/days/demo-500.json $OUT/days/demo-1000.json"
  for t in 2 10 60; do
    load "days ${t} s start"
    peer --time-limit $t $DAYS > "$OUT/peer-days-$t.csv" 2> "$OUT/peer-days-$t.err" &
    ours --time-limit $t --seed 1 $DAYS > "$OUT/days-$t.csv" 2> "$OUT/days-$t.err"
    wait
    load "days ${t} s done"
  done
fi

if [[ $PARTS == *vrptw* ]]; then
  V="$B/solomon/*.txt $B/homberger/*.txt $B/li_lim/*.txt"
  load "vrptw start"
  ours --time-limit 1 --seed 1 $V > "$OUT/vrptw-1.csv" 2> "$OUT/vrptw-1.err"
  for s in 2 3; do ours --time-limit 1 --seed $s $V > "$OUT/vrptw-1-seed$s.csv" 2> /dev/null; done
  ours --time-limit 10 --seed 1 $V > "$OUT/vrptw-10.csv" 2> "$OUT/vrptw-10.err"
  load "vrptw done"
fi

if [[ $PARTS == *seeds* ]]; then
  # Two of ours at once, one per core: no peer runs beside them.
  load "seeds 2 3 start"
  for s in 2 3; do
    (
      core=$((s - 2))
      taskset -c $core "$BENCH" --time-limit 10 --seed $s $SMALL $LARGE > "$OUT/cordeau-10-seed$s.csv" 2> "$OUT/cordeau-10-seed$s.err"
      taskset -c $core "$BENCH" --time-limit 30 --seed $s $LARGE > "$OUT/cordeau-30-seed$s.csv" 2> "$OUT/cordeau-30-seed$s.err"
    ) &
  done
  wait
  load "seeds 2 3 done"
fi

if [[ $PARTS == *iterations* ]]; then
  # Fixed iterations: the load does not enter, so both cores are used.
  load "iterations start"
  for n in 100000 300000 1000000; do
    taskset -c 0 "$BENCH" --iterations $n --seed 1 "$C/a10-144.txt" > "$OUT/iter-a10-144-$n.csv" 2> /dev/null &
    taskset -c 1 "$BENCH" --iterations $n --seed 1 "$C/b11-120.txt" > "$OUT/iter-b11-120-$n.csv" 2> /dev/null
    wait
  done
  load "iterations done"
fi
