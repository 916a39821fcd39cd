#!/usr/bin/env bash
# Installs what the headless-browser dashboard test uses: Debian's chromium and
# chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver) and CJK fonts so the
# Chinese dashboard renders in screenshots. Does nothing when they are present.
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] && fc-list 2>/dev/null | grep -qi "noto sans cjk"; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium chromium-driver fonts-noto-cjk
