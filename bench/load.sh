#!/usr/bin/env bash
# Load test: micropubd against the shared benchmark floor (a bare net/http + SQLite server), in
# the same run, alternating floor and micropubd (A B A B ...) and quoting the median of each,
# so the figures read as ratios. Both archives are filled to the same size first (micropubd's
# through its storage layer, with micropubd bench --prefill). Needs wrk (apt-get install -y wrk).
#
# Usage: bench/load.sh [seconds per run] [posts in the archive] [rounds] [path to the shared bench folder]
#   bench/load.sh 8 100000 3
set -euo pipefail
secs=${1:-8}
posts=${2:-10}
rounds=${3:-3}
here=$(cd "$(dirname "$0")" && pwd)
shared=${4:-$here/../../shared/bench}
command -v wrk >/dev/null || { echo "load.sh needs wrk: apt-get install -y wrk" >&2; exit 1; }
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

(cd "$here/.." && go build -o "$work/micropubd" ./cmd/micropubd)
(cd "$shared/baseline" && go build -o "$work/baseline" .)

"$work/micropubd" bench --data "$work/data" --prefill "$posts" --prefill-only
port=18931
start=$(date +%s%N)
"$work/micropubd" serve --addr 127.0.0.1:$port --data "$work/data" --url http://127.0.0.1:$port/ --log-level warn & pids+=($!)
mpd_pid=$!
until curl -s -o /dev/null http://127.0.0.1:$port/; do sleep 0.005; done
startup_ms=$(( ($(date +%s%N) - start) / 1000000 ))
"$work/baseline" "$work/b.db" 127.0.0.1:18930 "$posts" & pids+=($!)
until curl -s -o /dev/null http://127.0.0.1:18930/p/1; do sleep 0.1; done
TOKEN=$("$work/micropubd" token --data "$work/data" --scope create | tail -1)
export TOKEN
curl -s -o /dev/null -X POST -d 'content=seed' http://127.0.0.1:18930/micropub
post=$(curl -s -D - -o /dev/null http://127.0.0.1:$port/micropub -H "Authorization: Bearer $TOKEN" -d 'h=entry&content=Seed+post' | awk 'tolower($1)=="location:" {print $2}' | tr -d '\r')

# run NAME URL [wrk args]: one wrk run; prints requests/s and p99 (ms), and counts non-2xx/3xx.
run() {
	local out
	out=$(wrk -t2 -c32 -d"${secs}s" --latency "${@:2}")
	local rate p99 bad
	rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
	p99=$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
	bad=$(awk '/Non-2xx or 3xx responses/ {print $5}' <<<"$out")
	echo "$1 $rate $p99 ${bad:-0}" >>"$work/results"
}

for r in $(seq "$rounds"); do
	run floor-create -s "$shared/post.lua" http://127.0.0.1:18930/micropub
	run create -s "$shared/post.lua" http://127.0.0.1:$port/micropub
	run floor-create -s "$shared/post.lua" http://127.0.0.1:18930/micropub
	run create-json -s "$here/json.lua" http://127.0.0.1:$port/micropub
	run floor-get http://127.0.0.1:18930/p/1
	run permalink "$post"
	run floor-get http://127.0.0.1:18930/p/1
	run homepage http://127.0.0.1:$port/
done

# The listings, against the same floor GET: Micropub's q=source (first page, and a page 90,000
# posts deep by cursor, or as deep as the archive goes), q=category, the feed and a tag page.
deep=$(( posts * 9 / 10 ))
cursor=$(curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$port/micropub?q=source&limit=1&offset=$deep" |
	sed -n 's/.*"after":"\([^"]*\)".*/\1/p')
[ -n "$cursor" ] || { echo "no cursor $deep posts deep" >&2; exit 1; }
auth=(-H "Authorization: Bearer $TOKEN")
for r in $(seq "$rounds"); do
	run floor-get2 http://127.0.0.1:18930/p/1
	run source-first "${auth[@]}" "http://127.0.0.1:$port/micropub?q=source&limit=20"
	run floor-get2 http://127.0.0.1:18930/p/1
	run source-cursor "${auth[@]}" "http://127.0.0.1:$port/micropub?q=source&limit=20&after=$cursor"
	run floor-get2 http://127.0.0.1:18930/p/1
	run category "${auth[@]}" "http://127.0.0.1:$port/micropub?q=category"
	run floor-get2 http://127.0.0.1:18930/p/1
	run feed http://127.0.0.1:$port/feed.xml
	run floor-get2 http://127.0.0.1:18930/p/1
	run tag http://127.0.0.1:$port/tags/a
done

echo "each run: name requests/s p99-ms non-2xx"
cat "$work/results"
echo
median() { grep "^$1 " "$work/results" | awk -v c="$2" '{print $c}' | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
# paired NAME: the median, over the rounds, of each run's requests/s over those of the floor run
# just before it (the ratio of medians beside it can pair a quiet floor run with a busy one).
paired() {
	awk -v n="$1" '$1 ~ /^floor/ {f=$2; next} $1==n {print $2/f}' "$work/results" | sort -g |
		awk '{a[NR]=$1} END {printf "%.2f", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'
}
printf 'archive: %s posts; wrk -t2 -c32 -d%ss; median of %s rounds, floor and micropubd alternating\n' "$posts" "$secs" "$rounds"
printf '%-30s %10s %12s %7s %7s %9s %14s %7s\n' "" "floor/s" "micropubd/s" "ratio" "paired" "p99 ms" "floor p99 ms" "errors"
line() { # name floor-name
	local ours base
	ours=$(median "$1" 2); base=$(median "$2" 2)
	printf '%-30s %10s %12s %7s %7s %9s %14s %7s\n' "$3" "$base" "$ours" "$(ratio "$ours" "$base")" "$(paired "$1")" \
		"$(median "$1" 3)" "$(median "$2" 3)" "$(grep "^$1 " "$work/results" | awk '{s+=$4} END {print s}')"
}
line create floor-create "create (form, durable)"
line create-json floor-create "create (JSON, durable)"
line permalink floor-get "permalink GET"
line homepage floor-get "homepage GET"
line source-first floor-get2 "q=source first page"
line source-cursor floor-get2 "q=source $deep deep (cursor)"
line category floor-get2 "q=category"
line feed floor-get2 "feed.xml"
line tag floor-get2 "tag page"
printf 'micropubd start-up to its first answer: %s ms; resident memory now %s kB, at most %s kB\n' "$startup_ms" \
	"$(awk '/VmRSS/ {print $2}' /proc/$mpd_pid/status)" "$(awk '/VmHWM/ {print $2}' /proc/$mpd_pid/status)"
