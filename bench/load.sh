#!/usr/bin/env bash
# Load test: micropubd against the shared benchmark floor (a bare net/http + SQLite server), in
# the same run, so the figures read as ratios. Needs wrk (apt-get install -y wrk).
# Usage: bench/load.sh [seconds] [path to the shared bench folder]
set -euo pipefail
secs=${1:-8}
here=$(cd "$(dirname "$0")" && pwd)
shared=${2:-$here/../../shared/bench}
command -v wrk >/dev/null || { echo "load.sh needs wrk: apt-get install -y wrk" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

(cd "$here/.." && go build -o "$work/micropubd" ./cmd/micropubd)
(cd "$shared/baseline" && go build -o "$work/baseline" .)

port=18931
"$work/baseline" "$work/b.db" 127.0.0.1:18930 & pids+=($!)
"$work/micropubd" serve --addr 127.0.0.1:$port --data "$work/data" --url http://127.0.0.1:$port/ --log-level warn & pids+=($!)
sleep 1
TOKEN=$("$work/micropubd" token --data "$work/data" --url http://127.0.0.1:$port/ --scope create | tail -1)
export TOKEN
curl -s -o /dev/null -X POST -d 'content=seed' http://127.0.0.1:18930/micropub
post=$(curl -s -D - -o /dev/null http://127.0.0.1:$port/micropub -H "Authorization: Bearer $TOKEN" -d 'h=entry&content=Seed+post' | awk 'tolower($1)=="location:" {print $2}' | tr -d '\r')

rate() { awk '/Requests\/sec/ {print $2}'; }
base_creates=$(wrk -t2 -c32 -d${secs}s -s "$shared/post.lua" http://127.0.0.1:18930/micropub | rate)
ours_creates=$(wrk -t2 -c32 -d${secs}s -s "$shared/post.lua" http://127.0.0.1:$port/micropub | rate)
base_gets=$(wrk -t2 -c32 -d${secs}s http://127.0.0.1:18930/p/1 | rate)
ours_gets=$(wrk -t2 -c32 -d${secs}s "$post" | rate)
ours_home=$(wrk -t2 -c32 -d${secs}s http://127.0.0.1:$port/ | rate)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
printf '%-28s %12s %12s %8s\n' "" "baseline/s" "micropubd/s" "ratio"
printf '%-28s %12s %12s %8s\n' "create (form, token, SQLite)" "$base_creates" "$ours_creates" "$(ratio "$ours_creates" "$base_creates")"
printf '%-28s %12s %12s %8s\n' "GET permalink page" "$base_gets" "$ours_gets" "$(ratio "$ours_gets" "$base_gets")"
printf '%-28s %12s %12s %8s\n' "GET homepage (20 posts)" "-" "$ours_home" "-"
