#!/usr/bin/env bash
# Many plugins: time to the first answer, resident memory, requests per
# second (wrk) and the reload latency of one plugin, for 1, 1,000 and 10,000
# one-line plugins, as NAME.lua files and as NAME/init.lua folders
# (tests/load/scale/main.go says what each column measures).
#
#   tests/load/scale.sh                         # this tree's lsgi
#   LSGI=/tmp/lsgi-main tests/load/scale.sh     # another build, to compare
#   COUNTS=1,10000 LAYOUTS=file DURATION=10s tests/load/scale.sh
#
# Needs wrk (Debian package wrk), taskset and Go. Run it on an otherwise
# idle machine: the first-answer column counts loading every plugin.
set -euo pipefail
cd "$(dirname "$0")/../.."

COUNTS="${COUNTS:-1,1000,10000}"
LAYOUTS="${LAYOUTS:-file folder}"
DURATION="${DURATION:-5s}"
EDITS="${EDITS:-50}"
PIN="${PIN:-true}"

bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
if [ -z "${LSGI:-}" ]; then
  go build -o "$bin/lsgi" ./cmd/lsgi
  LSGI="$bin/lsgi"
fi
go build -o "$bin/scale" ./tests/load/scale
for layout in $LAYOUTS; do
  "$bin/scale" -lsgi "$LSGI" -n "$COUNTS" -layout "$layout" -duration "$DURATION" -edits "$EDITS" -pin="$PIN" \
    -flags "${FLAGS:-}"
  echo
done
