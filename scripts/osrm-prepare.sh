#!/bin/sh
# Prepares the road graph of the compose `routing` profile: downloads a
# region's OpenStreetMap extract from Geofabrik, checks it against Geofabrik's
# MD5, and runs osrm-extract (car profile), osrm-partition and
# osrm-customize (the MLD pipeline osrm-routed --algorithm mld serves) into
# the atmr-osrm-data volume, as /data/region.osrm*. Then:
#   COMPOSE_PROFILES=routing docker compose up -d     (with DISPATCH_OSRM_URL=http://osrm:5000)
#
# Usage: scripts/osrm-prepare.sh [REGION]
#   REGION  Geofabrik's path of the extract, default europe/switzerland
#           (about 500 MB; extracting takes a few GB of memory and ~10 min).
# Environment: OSRM_CACHE (where the download is kept, default
# ~/.cache/atmr-osrm), OSRM_VOLUME (default atmr-osrm-data, the compose
# file's volume). Needs docker and curl. Run it again to refresh the data,
# then restart osrm; a half-prepared graph is never left in the volume.
set -eu

region="${1:-europe/switzerland}"
# The image docker-compose.yml pins (check-deploy.py keeps them equal): the
# graph's format belongs to the release that serves it.
image="ghcr.io/project-osrm/osrm-backend:v5.27.1"
volume="${OSRM_VOLUME:-atmr-osrm-data}"
cache="${OSRM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/atmr-osrm}"
url="https://download.geofabrik.de/${region}-latest.osm.pbf"
pbf="$cache/$(basename "$region")-latest.osm.pbf"

case "$region" in
  *[!a-z0-9/_-]* | /* | *..*) echo "osrm-prepare: $region is not a Geofabrik region path (e.g. europe/switzerland)" >&2; exit 2 ;;
esac
for tool in docker curl md5sum; do
  command -v "$tool" >/dev/null 2>&1 || { echo "osrm-prepare: $tool is needed" >&2; exit 2; }
done

mkdir -p "$cache"
echo "osrm-prepare: downloading $url"
curl -fL --retry 3 -o "$pbf.part" "$url"
expected="$(curl -fsSL --retry 3 "$url.md5" | cut -d ' ' -f 1)"
actual="$(md5sum "$pbf.part" | cut -d ' ' -f 1)"
if [ -z "$expected" ] || [ "$expected" != "$actual" ]; then
  echo "osrm-prepare: $pbf.part does not match Geofabrik's MD5 ($actual, expected $expected)" >&2
  exit 1
fi
mv "$pbf.part" "$pbf"

docker volume create "$volume" >/dev/null
# Prepared in a scratch directory of the volume, then moved into place, so
# that osrm-routed never starts on a half-written graph.
docker run --rm -v "$volume:/data" -v "$pbf:/src/region.osm.pbf:ro" --entrypoint /bin/sh "$image" -eu -c '
  rm -rf /data/next && mkdir /data/next
  cp /src/region.osm.pbf /data/next/region.osm.pbf
  osrm-extract -p /opt/car.lua /data/next/region.osm.pbf
  osrm-partition /data/next/region.osrm
  osrm-customize /data/next/region.osrm
  rm /data/next/region.osm.pbf
  rm -f /data/region.osrm*
  mv /data/next/region.osrm* /data/
  rmdir /data/next
'
echo "osrm-prepare: $region is ready in the volume $volume; restart osrm if it runs"
