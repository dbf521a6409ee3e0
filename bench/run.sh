#!/usr/bin/env bash
# run.sh runs the whole comparison and regenerates the results section of
# README.md from what it measured. Every raw output it reads is kept in
# results/, so the section can be checked, or regenerated without
# measuring again with: go run ./cmd/report -readme README.md
#
#   ./run.sh              # about 55 minutes on 2 cores
#   QUICK=1 ./run.sh      # short runs: tests the script, not the libraries
#
# Environment:
#   COUNT      runs of every benchmark (10; QUICK: 2)
#   BENCHTIME  go test -benchtime (go's default; QUICK: 100x)
#   BENCH      go test -bench pattern (.)
#   CONNS      idle connections per library for cmd/idlemem (10000; QUICK: 500)
#   IDLE_LIBS  comma-separated libraries for cmd/idlemem (all)
#   PROFTIME   -benchtime of the two profiled cases (5s; QUICK: 200ms)
#   QUICK      1 for the quick mode above; the generated section says so
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

QUICK=${QUICK:-0}
if [[ $QUICK != 0 ]]; then
	QUICK=1
	COUNT=${COUNT:-2}
	BENCHTIME=${BENCHTIME:-100x}
	CONNS=${CONNS:-500}
	PROFTIME=${PROFTIME:-200ms}
else
	COUNT=${COUNT:-10}
	BENCHTIME=${BENCHTIME:-}
	CONNS=${CONNS:-10000}
	PROFTIME=${PROFTIME:-5s}
fi
BENCH=${BENCH:-.}
IDLE_LIBS=${IDLE_LIBS:-}

out=results
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

commit=unknown
if rev=$(git rev-parse --short HEAD 2>/dev/null); then
	commit=$rev
	# Code changed since that commit makes it a different build; the
	# results and this README do not.
	if [[ -n $(git status --porcelain -- .. ':(exclude)results' ':(exclude)README.md') ]]; then
		commit="$rev (with uncommitted changes)"
	fi
fi
loadavg() { cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown; }

# (a) the benchmarks, with the facts about this run as "key: value" lines
# that benchstat ignores and cmd/report reads.
args=(-run='^$' -bench="$BENCH" -count="$COUNT" -timeout=90m)
shown="go test -run='^\$' -bench='$BENCH' -count=$COUNT -timeout=90m"
if [[ -n $BENCHTIME ]]; then
	args+=(-benchtime="$BENCHTIME")
	shown+=" -benchtime=$BENCHTIME"
fi
{
	echo "go: $(go version)"
	echo "commit: $commit"
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "quick: $QUICK"
	echo "command: $shown"
	echo "loadavg-before: $(loadavg)"
} >"$tmp/bench.txt"
echo "run.sh: $shown" >&2
go test "${args[@]}" | tee -a "$tmp/bench.txt"
echo "loadavg-after: $(loadavg)" >>"$tmp/bench.txt"

# (b) memory per idle connection.
idle=(-conns "$CONNS")
if [[ -n $IDLE_LIBS ]]; then
	idle+=(-libs "$IDLE_LIBS")
fi
echo "run.sh: go run ./cmd/idlemem ${idle[*]}" >&2
go run ./cmd/idlemem "${idle[@]}" | tee "$tmp/idlemem.txt"

# (c) where zerows's time goes: CPU profiles of its Receive 16B and Echo
# inflight=1 16B cases.
go test -c -o "$tmp/bench.test" .
profile() { # name, -bench pattern
	local name=$1 pat=$2
	echo "run.sh: profiling $pat" >&2
	"$tmp/bench.test" -test.run='^$' -test.bench="$pat" -test.benchtime="$PROFTIME" \
		-test.cpuprofile="$tmp/$name.prof" >&2
	{
		echo "# go test -run='^\$' -bench='$pat' -benchtime=$PROFTIME -cpuprofile=$name.prof; go tool pprof -top -nodecount=25 bench.test $name.prof"
		go tool pprof -top -nodecount=25 "$tmp/bench.test" "$tmp/$name.prof" 2>/dev/null
	} >"$tmp/profile-$name.txt"
}
profile receive-16B '^BenchmarkReceive$/^lib=zerows$/^size=16B$'
profile echo-inflight1-16B '^BenchmarkEcho$/^lib=zerows$/^inflight=1$/^size=16B$'

# Only now that everything has been measured does results/ change.
rm -f "$out"/profile-*.txt
mv "$tmp/bench.txt" "$tmp/idlemem.txt" "$tmp"/profile-*.txt "$out"/

# (d) the README section.
go run ./cmd/report -dir "$out" -readme README.md
echo "run.sh: README.md regenerated from $out/" >&2
