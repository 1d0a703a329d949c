#!/usr/bin/env bash
# Load test: lsgi serve, on each of its HTTP engines, against a plain
# net/http reference serving the same bytes, measured with wrk on loopback
# in the same run, so the ratio columns hold however noisy the machine is.
#
#   tests/load/run.sh                    # defaults below
#   DURATION=10s REPEATS=3 tests/load/run.sh
#   ENGINES=fast tests/load/run.sh       # one engine only
#
# With two or more CPUs the server is pinned to the last CPU and wrk to the
# first (taskset), so that they do not compete; set PIN=0 to share them.
# Needs wrk (Debian package wrk) and Go.
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION="${DURATION:-5s}"
REPEATS="${REPEATS:-3}"
CONNS="${CONNS:-64}"
PORT="${PORT:-18480}"
PIN="${PIN:-1}"
WORKLOADS="${WORKLOADS:-/hello /page?name=World /stream /stream?flush=1 /stream?table=1}"
ENGINES="${ENGINES:-std fast}"

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
bin="$(mktemp -d)"
trap 'rm -rf "$bin"' EXIT
go build -o "$bin/lsgi" ./cmd/lsgi
go build -o "$bin/refserver" ./tests/load/refserver

server_cpu="" wrk_cpu=""
if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null; then
  server_cpu="taskset -c $(( $(nproc) - 1 ))"
  wrk_cpu="taskset -c 0"
fi

# start NAME COMMAND...: runs the server, waits until it answers /hello.
start() {
  $server_cpu "$@" >"$bin/server.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/hello" && return 0
    sleep 0.05
  done
  echo "server did not start: $*" >&2; cat "$bin/server.log" >&2; exit 1
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; }

# rate PATH: requests/s of one wrk run.
rate() {
  $wrk_cpu wrk -t1 -c"$CONNS" -d"$DURATION" "http://127.0.0.1:$PORT$1" |
    awk '/Requests\/sec/ {print int($2)} /Non-2xx|Socket errors/ {print "errors: " $0 > "/dev/stderr"}'
}

servers=""
for e in $ENGINES; do servers+="lsgi-$e "; done
servers+="ref"

declare -A runs
for rep in $(seq "$REPEATS"); do
  for server in $servers; do
    if [ $server = ref ]; then
      start "$bin/refserver" -addr "127.0.0.1:$PORT"
    else
      start "$bin/lsgi" serve --engine "${server#lsgi-}" --bind "127.0.0.1:$PORT" --reload=false --access-log off tests/load/plugins
    fi
    for w in $WORKLOADS; do
      $wrk_cpu wrk -t1 -c"$CONNS" -d1s "http://127.0.0.1:$PORT$w" >/dev/null # warm-up
      r=$(rate "$w")
      runs["$server $w"]+="$r "
    done
    stop
  done
done

median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

header="| workload |" rule="|---|"
for server in $servers; do header+=" $server req/s |"; rule+="---:|"; done
for e in $ENGINES; do header+=" lsgi-$e / net/http |"; rule+="---:|"; done
echo "$header"
echo "$rule"
for w in $WORKLOADS; do
  row="| \`$w\` |"
  g=$(median "${runs["ref $w"]}")
  for server in $servers; do row+=" $(median "${runs["$server $w"]}") |"; done
  for e in $ENGINES; do
    l=$(median "${runs["lsgi-$e $w"]}")
    row+=" $(awk -v l="$l" -v g="$g" 'BEGIN { printf "%.2f", l / g }') |"
  done
  echo "$row"
done
echo
echo "median of $REPEATS runs of $DURATION, $CONNS connections, $(nproc) CPUs, pinned=$([ -n "$server_cpu" ] && echo yes || echo no), $(go version | cut -d' ' -f3)"
