#!/usr/bin/env bash
# Installs Debian's chromium for the e2e tests when it is missing and we can.
# Playwright's own browser download cannot work on machines without general internet.
set -uo pipefail
BROWSER="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$BROWSER" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "chromium: not found at $BROWSER and no apt-get here; install Chromium and set CHROMIUM_PATH." >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "chromium: missing; run 'sudo apt-get install -y chromium' (e2e tests need it)." >&2
    exit 0
  fi
fi
echo "chromium: installing Debian's chromium package for the e2e tests..."
$SUDO apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium >/dev/null \
  && echo "chromium: installed at $(command -v chromium)" \
  || echo "chromium: installation failed; e2e tests will not run." >&2
