#!/usr/bin/env bash
# The real services the integration tests use, and how to get them.
#   scripts/services.sh check   say which are reachable (never fails)
#   scripts/services.sh start   start the local ones that are stopped; under CI=true fail if one stays down
set -uo pipefail
PG_HOST=127.0.0.1 PG_PORT=5432 REDIS_HOST=127.0.0.1 REDIS_PORT=6379
PG_START='pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start'
REDIS_START='redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log'

up() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

report() {
  local name=$1 host=$2 port=$3 how=$4
  if up "$host" "$port"; then
    echo "services: $name on $host:$port is up"
  else
    echo "services: $name on $host:$port is DOWN; its integration tests will be skipped (they fail under CI=true)."
    echo "          start it with: $how"
  fi
}

wait_up() {
  for _ in $(seq 1 60); do up "$1" "$2" && return 0; sleep 0.5; done
  return 1
}

case "${1:-check}" in
  check)
    report PostgreSQL $PG_HOST $PG_PORT "$PG_START"
    report Redis $REDIS_HOST $REDIS_PORT "$REDIS_START"
    ;;
  start)
    status=0
    if ! up $PG_HOST $PG_PORT; then
      if [ -d /etc/postgresql ]; then
        echo "services: starting PostgreSQL"
        eval "$PG_START" || true
      fi
      wait_up $PG_HOST $PG_PORT || { echo "services: PostgreSQL is not reachable" >&2; status=1; }
    fi
    if ! up $REDIS_HOST $REDIS_PORT; then
      if command -v redis-server >/dev/null; then
        echo "services: starting Redis"
        mkdir -p /var/lib/redis /var/log/redis 2>/dev/null || true
        eval "$REDIS_START" || true
      fi
      wait_up $REDIS_HOST $REDIS_PORT || { echo "services: Redis is not reachable" >&2; status=1; }
    fi
    if [ "$status" != 0 ] && [ "${CI:-}" = "true" ]; then
      exit 1
    fi
    "$0" check
    ;;
  *) echo "usage: $0 check|start" >&2; exit 2 ;;
esac
