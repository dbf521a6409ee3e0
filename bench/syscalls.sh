#!/usr/bin/env bash
# syscalls.sh counts the system calls per operation that each library makes
# in the benchmarks bound by the kernel: an echo round trip and a handshake.
# When every library makes the same calls, the kernel and the scheduler set
# the pace, and no library can be much faster than another there.
#
#   ./syscalls.sh > results/syscalls.txt
#
# Needs strace (Debian package strace). Environment: N, the operations per
# library (20000 round trips; handshakes are a quarter of it), and LIBS.
set -euo pipefail
cd "$(dirname "$0")"

N=${N:-20000}
LIBS=${LIBS:-zerows gorilla coder gobwas gws}
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
go test -c -o "$bin/bench.test" .

# count <bench pattern> <ops>: one line per library, the calls per op of the
# most frequent system calls, from strace -c over the whole run.
count() {
	local pattern=$1 ops=$2
	echo "## $pattern, $ops ops per library (calls per op)"
	for lib in $LIBS; do
		strace -f -c -o "$bin/strace.txt" "$bin/bench.test" -test.run='^$' \
			-test.bench="${pattern/LIB/$lib}" -test.benchtime="${ops}x" >/dev/null
		awk -v lib="$lib" -v ops="$ops" '
			$NF ~ /^[a-z_0-9]+$/ && $4 ~ /^[0-9]+$/ && $NF != "total" { calls[$NF] = $4 }
			$NF == "total" { total = $4 }
			END {
				printf "%-8s total %6.1f", lib, total / ops
				n = split("read write epoll_pwait futex setsockopt epoll_ctl", names, " ")
				for (i = 1; i <= n; i++) printf "  %s %.2f", names[i], calls[names[i]] / ops
				printf "\n"
			}' "$bin/strace.txt"
	done
	echo
}

count 'Echo/lib=LIB/inflight=1/size=16B' "$N"
count 'Handshake/lib=LIB/dialers=1' "$((N / 4))"
