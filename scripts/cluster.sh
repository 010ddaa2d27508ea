#!/usr/bin/env bash
# make cluster: INSTANCES app instances (default 2) behind nginx on PORT (default 3000).
#   nginx from Debian's package (installed when missing), one frontend build, each instance
#   on PORT+1 ... PORT+N with the same DATABASE_URL and REDIS_URL; Ctrl-C stops everything.
# Needs Redis (REDIS_URL, default redis://127.0.0.1:6379/0) and one database for all:
# DATABASE_URL (PostgreSQL recommended; the default SQLite file works on one machine).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON_BIN:-.venv/bin/python}"
export PORT="${PORT:-3000}" INSTANCES="${INSTANCES:-2}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"

if ! bash scripts/ensure-nginx.sh >/dev/null; then
  echo "cluster: nginx is needed (see above)." >&2
  exit 1
fi
if ! "$PYTHON" -c 'import os, redis, sys; redis.Redis.from_url(os.environ["REDIS_URL"], socket_connect_timeout=2).ping()' 2>/dev/null; then
  cat >&2 <<MSG
cluster: Redis is not reachable at $REDIS_URL.
  Several instances need one Redis: each tab's Reflex state, the cache and the updates
  that cross instances live there. Start it with 'make services' (or
  redis-server --daemonize yes --port 6379 --save ""), or point REDIS_URL at yours.
MSG
  exit 1
fi
if [ -z "${DATABASE_URL:-}" ]; then
  echo "cluster: DATABASE_URL is not set: all instances share the SQLite file data/app.db (one machine only;"
  echo "         set DATABASE_URL=postgresql://user@host/db for PostgreSQL, recommended)."
fi
# Migrate and load the demo data once, before any instance starts (as make run does).
"$PYTHON" -m app.domain.seed --if-empty --quiet
exec "$PYTHON" -m miniapp_testing.cluster --instances "$INSTANCES" --port "$PORT"
