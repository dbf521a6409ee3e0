#!/usr/bin/env bash
# Runs the Autobahn TestSuite against the zerows testees and summarises the
# reports. See README.md.
#
#   autobahn/run.sh [server|client|all]     (default: all)
#
# server: our testee server (autobahn/server) on 127.0.0.1:9001, one agent per
#         echo path, tested by `wstest -m fuzzingclient`.
# client: `wstest -m fuzzingserver` on 127.0.0.1:9001, our testee client
#         (autobahn/client) run once per echo style.
#
# The suite runs in Docker (image crossbario/autobahn-testsuite, network
# "host" so that it reaches 127.0.0.1) when a Docker daemon answers, or with a
# local `wstest` on the PATH. Set AUTOBAHN_RUNNER=docker or =wstest to choose.
#
# Exit status: 0 when every case is OK or INFORMATIONAL, 1 when one is not,
# 2 when the suite cannot run (no Docker and no wstest, port busy, ...).
#
# Environment:
#   AUTOBAHN_RUNNER   docker | wstest (default: docker if it answers, else wstest)
#   AUTOBAHN_IMAGE    Docker image (default crossbario/autobahn-testsuite)
#   CLIENT_STYLES     echo styles for the client run (default "wait read iter prepared")
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
mode="${1:-all}"
case "$mode" in server | client | all) ;; *)
	echo "usage: $0 [server|client|all]" >&2
	exit 2
	;;
esac
image="${AUTOBAHN_IMAGE:-crossbario/autobahn-testsuite}"
styles="${CLIENT_STYLES:-wait read iter prepared}"
port=9001 # fixed in config/*.json

install_help() {
	cat >&2 <<'EOF'
run.sh: neither a Docker daemon nor a local `wstest` is available.

Install one of them:
  Docker (recommended): install Docker Engine (https://docs.docker.com/engine/install/),
    start the daemon, then pull the image once:
      docker pull crossbario/autobahn-testsuite
  wstest: the Autobahn TestSuite runs on Python 2.7 (or PyPy 2) only:
      virtualenv -p python2.7 ~/wstest && ~/wstest/bin/pip install autobahntestsuite
      export PATH=~/wstest/bin:$PATH

Or run a Python 3 port of the suite with autobahn/ci.sh (see README.md).

Without any of them, the Go-native conformance suite still runs:
  go test ./autobahn/...
EOF
}

runner="${AUTOBAHN_RUNNER:-}"
if [[ -z "$runner" ]]; then
	if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
		runner=docker
	elif command -v wstest >/dev/null 2>&1; then
		runner=wstest
	else
		install_help
		exit 2
	fi
fi
case "$runner" in
docker) docker info >/dev/null 2>&1 || {
	echo "run.sh: AUTOBAHN_RUNNER=docker but no Docker daemon answers" >&2
	install_help
	exit 2
} ;;
wstest) command -v wstest >/dev/null 2>&1 || {
	echo "run.sh: AUTOBAHN_RUNNER=wstest but wstest is not on the PATH" >&2
	install_help
	exit 2
} ;;
*)
	echo "run.sh: AUTOBAHN_RUNNER must be docker or wstest" >&2
	exit 2
	;;
esac
echo "run.sh: running the Autobahn TestSuite with $runner ($mode)"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; }
wait_port() {
	for _ in $(seq 1 300); do
		port_open && return 0
		sleep 0.1
	done
	echo "run.sh: nothing listens on 127.0.0.1:$port after 30 s" >&2
	return 1
}
if port_open; then
	echo "run.sh: 127.0.0.1:$port is already in use" >&2
	exit 2
fi

bin="$(mktemp -d)"
pids=()
container=""
cleanup() {
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [[ -n "$container" ]]; then
		docker rm -f "$container" >/dev/null 2>&1 || true
	fi
	rm -rf "$bin"
}
trap cleanup EXIT

mkdir -p reports

wstest_run() { # wstest_run MODE SPEC [detach]
	if [[ "$runner" == docker ]]; then
		docker run --rm --network host \
			-v "$here/config:/config:ro" -v "$here/reports:/reports" -w / \
			"$image" wstest -m "$1" -s "/config/$2"
	else
		wstest -m "$1" -s "config/$2"
	fi
}

reports=()
if [[ "$mode" == server || "$mode" == all ]]; then
	rm -rf reports/servers
	go build -o "$bin/server" ./server
	"$bin/server" -addr "127.0.0.1:$port" &
	pids+=($!)
	wait_port
	wstest_run fuzzingclient fuzzingclient.json
	kill "${pids[-1]}" && wait "${pids[-1]}" 2>/dev/null || true
	unset 'pids[-1]'
	reports+=(reports/servers/index.json)
fi

if [[ "$mode" == client || "$mode" == all ]]; then
	rm -rf reports/clients
	go build -o "$bin/client" ./client
	while port_open; do sleep 0.1; done
	if [[ "$runner" == docker ]]; then
		container="zerows-fuzzingserver-$$"
		docker run -d --rm --name "$container" --network host \
			-v "$here/config:/config:ro" -v "$here/reports:/reports" -w / \
			"$image" wstest -m fuzzingserver -s /config/fuzzingserver.json >/dev/null
	else
		wstest -m fuzzingserver -s config/fuzzingserver.json &
		pids+=($!)
	fi
	wait_port
	for style in $styles; do
		"$bin/client" -url "ws://127.0.0.1:$port" -agent "zerows-client-$style" -style "$style" || true
	done
	reports+=(reports/clients/index.json)
fi

echo
go run ./report "${reports[@]}"
