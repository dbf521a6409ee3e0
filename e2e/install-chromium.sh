#!/usr/bin/env bash
# Installs Debian's chromium for the browser tests (go test ./e2e), unless
# it is there already. Needs root or sudo (apt-get); downloads no other browser.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
	/usr/bin/chromium --version
	exit 0
fi
sudo=
if [ "$(id -u)" != 0 ]; then
	sudo=sudo
fi
$sudo apt-get update
$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
/usr/bin/chromium --version
