#!/usr/bin/env bash
# The REST contract against the server: schemathesis generates requests from
# /openapi.json (examples, boundary and invalid values, random ones) for every
# operation with an admin token and fails when an answer is a 5xx, has a
# status, content type or body the document does not give for that
# operation, or when most of an operation's generated data is refused (the
# document accepts what the server does not: a "validation_mismatch" warning).
#
#   scripts/schemathesis.sh [--release] [extra schemathesis run options]
#
# It builds `atmr` (debug, or release with --release), starts `atmr up --demo`
# on free loopback ports with its SQLite files in a temporary directory, logs
# in as the admin it creates, makes the rows the configuration's dictionaries
# name, runs schemathesis 4.32 from a virtualenv under the target directory
# (installed from PyPI on first use), and stops the mesh; its log is kept in
# the target directory as schemathesis-atmr.log. The settings (checks,
# warnings, per-operation values) are in .schemathesis/schemathesis.toml;
# extra options are passed to `schemathesis run`.
set -euo pipefail
cd "$(dirname "$0")/.."

profile=debug
if [[ "${1:-}" == "--release" ]]; then
  profile=release
  shift
fi

target=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys;print(json.load(sys.stdin)["target_directory"])')
if [[ $profile == release ]]; then
  cargo build --release -q -p atmr --bin atmr
else
  cargo build -q -p atmr --bin atmr
fi
atmr="$target/$profile/atmr"

venv="$target/schemathesis-venv"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q 'version 4\.32\.'; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'schemathesis==4.32.*'
fi

data=$(mktemp -d)
pid=
stop() {
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  # The mesh's log outlives the run, for the failures it explains.
  cp "$data/atmr.log" "$target/schemathesis-atmr.log" 2>/dev/null || true
  rm -rf "$data"
}
trap stop EXIT

# Ten free loopback ports: each component's main and admin listeners, so the
# run never meets another mesh on the default ports.
read -r -a ports < <(python3 - <<'EOF'
import socket
socks = [socket.socket() for _ in range(10)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))
for s in socks:
    s.close()
EOF
)
i=0
for c in GATEWAY DISPATCH SAFETY BUGS NOTIFY; do
  export "${c}_LISTEN_ADDR=127.0.0.1:${ports[i]}" "${c}_ADMIN_ADDR=127.0.0.1:${ports[i + 1]}" "${c}_URL=http://127.0.0.1:${ports[i]}"
  i=$((i + 2))
done
gateway="http://127.0.0.1:${ports[0]}"

# The login is the one .schemathesis/schemathesis.toml gives some generated
# logins; request and login rate limits are off (the run is one client at full
# speed); dispatch runs solve for at most a second.
export ATMR_DATA_DIR="$data" ATMR_ADMIN_EMAIL=admin@schemathesis.test ATMR_ADMIN_PASSWORD=schemathesis-admin-password \
  ATMR_RATE_LIMIT_PER_MINUTE=0 ATMR_LOGIN_RATE_PER_MINUTE=0 \
  DISPATCH_SOLVER_BUDGET_MS=200 DISPATCH_SOLVER_MAX_BUDGET_MS=1000 \
  ATMR_LOG_FORMAT=json RUST_LOG=warn
"$atmr" up --demo >"$data/atmr.log" 2>&1 &
pid=$!

# Ready within two minutes (a debug build seeds the demo data slowly), or the log says why not.
deadline=$((SECONDS + 120))
until curl -sf "$gateway/health/ready" >/dev/null; do
  if ((SECONDS > deadline)) || ! kill -0 "$pid" 2>/dev/null; then
    echo "atmr up did not become ready; its log:" >&2
    cat "$data/atmr.log" >&2
    exit 1
  fi
  sleep 0.5
done

token=$(curl -sf "$gateway/api/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$ATMR_ADMIN_EMAIL\",\"password\":\"$ATMR_ADMIN_PASSWORD\"}" |
  python3 -c 'import json,sys;print(json.load(sys.stdin)["access_token"])')

api() { curl -sf "$gateway$1" -H "authorization: Bearer $token" -H 'content-type: application/json' "${@:2}"; }
json() { python3 -c "import json,sys;d=json.load(sys.stdin);print($1)"; }
# The rows the configuration's dictionaries name: two accounts the run may
# change (not the one it is logged in as), a channel, a notification that
# stays pending (its webhook is a closed port), the mesh's monitors and two
# of the run's own, an outbound trip of patient 1, and a time within the last day.
accounts=()
for n in 1 2; do
  accounts+=("$(api /api/admin/users -d "{\"email\":\"changeable-$n@schemathesis.test\",\"password\":\"changeable-password-$n\",\"role\":\"reporter\"}" | json 'd["id"]')")
done
channel=$(api /api/notification-channels -d '{"name":"schemathesis","kind":"log"}' | json 'd["id"]')
silent=$(api /api/notification-channels -d '{"name":"closed port","kind":"webhook","url":"http://127.0.0.1:9/hook"}' | json 'd["id"]')
notification=$(api /api/notifications -d "{\"channel_id\":\"$silent\",\"event_type\":\"schemathesis.seed\",\"title\":\"pending\"}" |
  json 'd["notifications"][0]["id"]')
monitors=$(api /api/monitors | json '", ".join(json.dumps(m["id"]) for m in d["items"])')
own_monitors=()
for n in 1 2; do
  own_monitors+=("$(api /api/monitors -d "{\"name\":\"schemathesis $n\",\"kind\":\"tcp\",\"target\":\"127.0.0.1:9\"}" | json 'd["id"]')")
done
outbound=$(api /api/bookings -d '{"client_id":1,"pickup_address":"Rue de Carouge 12, Genève","pickup":{"latitude":46.195,"longitude":6.14},
  "dropoff_address":"HUG, Genève","dropoff":{"latitude":46.1935,"longitude":6.149},
  "pickup_earliest":"2030-01-07T07:00:00Z","pickup_latest":"2030-01-07T07:30:00Z"}' | json 'd["id"]')
an_hour_ago=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)
config="$data/schemathesis.toml"
{
  cat .schemathesis/schemathesis.toml
  echo
  echo "[dictionaries.accounts]"
  echo "values = [${accounts[0]}, ${accounts[1]}]"
  echo "[dictionaries.channels]"
  echo "values = [\"$channel\"]"
  echo "[dictionaries.notifications]"
  echo "values = [\"$notification\"]"
  echo "[dictionaries.monitors]"
  echo "values = [$monitors]"
  echo "[dictionaries.own_monitors]"
  echo "values = [\"${own_monitors[0]}\", \"${own_monitors[1]}\"]"
  echo "[dictionaries.outbound]"
  echo "values = [$outbound]"
  echo "[dictionaries.an_hour_ago]"
  echo "values = [\"$an_hour_ago\"]"
} >"$config"

export SCHEMATHESIS_TOKEN="$token" SCHEMATHESIS_CACHE_DIR="$target/schemathesis-cache"
started=$SECONDS
status=0
"$venv/bin/schemathesis" --config-file "$config" run "$gateway/openapi.json" "$@" || status=$?
echo "schemathesis took $((SECONDS - started)) s"
exit $status
