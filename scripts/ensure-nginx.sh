#!/usr/bin/env bash
# Installs Debian's nginx (the load balancer of `make cluster` and tests/e2e/test_nginx_cluster.py)
# when it is missing and we can, as ensure-chromium.sh does for the browser.
# Prints the binary's path on stdout and exits 0 when nginx is there; exits 1 with a message
# on stderr when it is not. NGINX_PATH points at another binary.
set -uo pipefail
if [ -n "${NGINX_PATH:-}" ]; then
  if [ -x "$NGINX_PATH" ]; then
    echo "$NGINX_PATH"
    exit 0
  fi
  echo "nginx: NGINX_PATH=$NGINX_PATH is not an executable." >&2
  exit 1
fi
find_nginx() {
  local candidate
  # /usr/sbin is not on every user's PATH.
  for candidate in "$(command -v nginx 2>/dev/null)" /usr/sbin/nginx; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
if find_nginx; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "nginx: not found and no apt-get here; install nginx (or set NGINX_PATH)." >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "nginx: missing; run 'sudo apt-get install -y nginx' (make cluster and its test need it)." >&2
    exit 1
  fi
fi
echo "nginx: installing Debian's nginx package..." >&2
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
$SUDO apt-get update -q >"$LOG" 2>&1 || true
# Debian ships `nginx` (in bookworm nginx-light is only a transitional name); older releases
# may have only nginx-light. The package's system service is not used: the cluster runs
# its own nginx in the foreground with a prefix folder of its own.
for package in nginx nginx-light; do
  if DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "$package" >>"$LOG" 2>&1; then
    break
  fi
done
if find_nginx; then
  echo "nginx: installed" >&2
  exit 0
fi
tail -n 5 "$LOG" >&2
echo "nginx: installation failed; make cluster and tests/e2e/test_nginx_cluster.py cannot run." >&2
exit 1
