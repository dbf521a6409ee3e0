#!/usr/bin/env bash
# Runs the real Autobahn TestSuite (wstest, a Python 3 port) against the
# zerows testee server and testee client, as CI does. See README.md.
#
#   bash autobahn/ci.sh
#
# The suite and its scripts (run-server-suite.sh, run-client-suite.sh,
# abreport.py, testsuite/) are not part of this repository: they are looked
# for in ../shared/autobahn beside the repository root (AUTOBAHN_SUITE
# overrides). Without them the script says "skipped" and exits 0.
#
# It installs Debian's python3-autobahn, python3-twisted and python3-jinja2
# with apt-get when the suite's Python cannot import them (needs root), builds
# autobahn/server and autobahn/client, and runs sections 1-10 (301 cases;
# sections 12-13 are permessage-deflate, not implemented yet):
#   - against the server, once per echo path (/, /read, /iter, /prepared);
#   - against the client, once per echo style (wait, read, iter, prepared).
# It fails unless every case of every run is OK or INFORMATIONAL (the suite
# grades 7.1.6, 7.13.1 and 7.13.2 INFORMATIONAL: outcomes the RFC leaves
# open); NON-STRICT, UNIMPLEMENTED, FAILED and missing cases all fail it.
#
# Exit status: 0 all OK (or skipped), 1 some case not OK, 2 setup error.
#
# Environment:
#   AUTOBAHN_SUITE    directory holding the suite's scripts (default ../shared/autobahn)
#   AUTOBAHN_CASES    case patterns, e.g. "6.*,7.*"; "*" runs every case,
#                     compression (12.*, 13.*, ~20 min per run) included
#                     (default: sections 1-10)
#   AUTOBAHN_PATHS    server echo paths (default "/ /read /iter /prepared")
#   AUTOBAHN_STYLES   client echo styles (default "wait read iter prepared")
#   AUTOBAHN_SIDES    "server client" (default), or one of them
#   AUTOBAHN_OUT      report directory (default autobahn/reports/ci, git-ignored)
#   ABTS_PYTHON       the suite's interpreter (default /usr/bin/python3)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
suite="${AUTOBAHN_SUITE:-$repo/../shared/autobahn}"
if [[ ! -f "$suite/run-server-suite.sh" || ! -f "$suite/run-client-suite.sh" ]]; then
	echo "skipped: the Autobahn TestSuite scripts are not in $suite" \
		"(set AUTOBAHN_SUITE to the directory holding run-server-suite.sh and run-client-suite.sh);" \
		"the Go-native conformance suite (go test ./autobahn) still runs"
	exit 0
fi
suite="$(cd "$suite" && pwd)"

export ABTS_PYTHON="${ABTS_PYTHON:-/usr/bin/python3}"
cases="${AUTOBAHN_CASES:-}"
paths="${AUTOBAHN_PATHS:-/ /read /iter /prepared}"
styles="${AUTOBAHN_STYLES:-wait read iter prepared}"
sides="${AUTOBAHN_SIDES:-server client}"
out="${AUTOBAHN_OUT:-$here/reports/ci}"
# Sections 1-10 take 25 to 35 s per run; compression about 20 min.
timeout=900
[[ -n "$cases" ]] && timeout=3600

say() { printf 'autobahn/ci.sh: %s\n' "$*"; }

# --- Python and the suite's packages, from Debian ---
importable() { [[ -x "$ABTS_PYTHON" ]] && "$ABTS_PYTHON" -c 'import twisted, autobahn, jinja2' 2>/dev/null; }
if ! importable; then
	packages=(python3-autobahn python3-twisted python3-jinja2)
	if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
		say "$ABTS_PYTHON cannot import twisted, autobahn and jinja2; install ${packages[*]} (apt-get, as root)" >&2
		exit 2
	fi
	say "installing ${packages[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# The lock timeout waits out another apt-get instead of failing at once.
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
	importable || {
		say "$ABTS_PYTHON still cannot import twisted, autobahn and jinja2 after apt-get" >&2
		exit 2
	}
fi

# --- testees ---
bin="$(mktemp -d)"
server_pid=""
cleanup() {
	if [[ -n "$server_pid" ]]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	rm -rf "$bin"
}
trap cleanup EXIT
(cd "$repo" && go build -o "$bin/server" ./autobahn/server && go build -o "$bin/client" ./autobahn/client)
rm -rf "$out"
mkdir -p "$out"

free_port() {
	"$ABTS_PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# verdict NAME DIR: reads the summary abreport.py wrote and prints one line;
# fails unless every case is OK or INFORMATIONAL and none is missing.
verdict() {
	"$ABTS_PYTHON" - "$1" "$2/summary.json" <<'EOF'
import json, sys
name, path = sys.argv[1:]
try:
    s = json.load(open(path))[0]
except (OSError, ValueError, IndexError) as e:
    print("%-22s no summary (%s)" % (name, e))
    sys.exit(1)
t = s["total"]
good = t["OK"] + t["INFORMATIONAL"]
missing = (s["expected"] or 0) - s["cases"]
rest = ", ".join("%d %s" % (v, k) for k, v in t.items() if v and k not in ("OK", "INFORMATIONAL"))
# A closing-handshake remark (e.g. UNCLEAN: the testee did not answer the
# suite's close frame within its 1 s timeout) does not change the case's
# grade; it is shown, not failed on.
remarks = " ".join("%s %s" % (c[0], c[1]) for c in s["close_not_ok"])
print("%-22s %3d cases: %3d OK, %d INFORMATIONAL%s%s%s" % (
    name, s["cases"], t["OK"], t["INFORMATIONAL"],
    ", " + rest if rest else "", ", %d MISSING" % missing if missing > 0 else "",
    "; close remarks: " + remarks if remarks else ""))
sys.exit(0 if s["cases"] > 0 and good == s["cases"] and missing <= 0 else 1)
EOF
}

results=()
failed=0
record() { # record NAME DIR STATUS
	local line
	if line="$(verdict "$1" "$2")" && [[ "$3" == 0 ]]; then
		results+=("ok    $line")
	else
		results+=("FAIL  $line (script exit $3)")
		failed=1
	fi
}

if [[ " $sides " == *" server "* ]]; then
	port="$(free_port)"
	"$bin/server" -addr "127.0.0.1:$port" >"$out/server.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
	for path in $paths; do
		name="zerows-server${path//\//-}"
		[[ "$path" == / ]] && name=zerows-server-wait
		say "server $path: wstest fuzzingclient"
		status=0
		AGENT="$name" RUN_TIMEOUT="$timeout" PROGRESS_EVERY=60 \
			bash "$suite/run-server-suite.sh" "ws://127.0.0.1:$port$path" "$out/$name" ${cases:+"$cases"} || status=$?
		record "$name" "$out/$name" "$status"
	done
	kill "$server_pid" && wait "$server_pid" 2>/dev/null || true
	server_pid=""
fi

if [[ " $sides " == *" client "* ]]; then
	for style in $styles; do
		name="zerows-client-$style"
		say "client -style $style: wstest fuzzingserver"
		status=0
		CLIENT_CMD="'$bin/client' -url \"\$WSTEST_URL\" -agent $name -style $style" \
			AGENT="$name" FUZZ_PORT="$(free_port)" CLIENT_TIMEOUT="$timeout" \
			bash "$suite/run-client-suite.sh" "$out/$name" ${cases:+"$cases"} || status=$?
		record "$name" "$out/$name" "$status"
	done
fi

echo
say "results (reports in $out):"
printf '  %s\n' "${results[@]}"
exit "$failed"
