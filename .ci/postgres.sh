#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the store tests.
#
#   eval "$(.ci/postgres.sh start)"   # installs Debian's postgresql if missing,
#                                     # initdb + start on 127.0.0.1, a free port;
#                                     # prints: export ADSTUDIO_TEST_POSTGRES=...
#   .ci/postgres.sh stop              # stops it and deletes its data
#
# Data, socket and log live in target/ci-postgres. PostgreSQL refuses to run
# as root, so as root (CI) the cluster belongs to the `postgres` user (the
# Debian package creates it). Trust authentication, no fsync: the cluster
# listens on 127.0.0.1 only and is deleted at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

base="$PWD/target/ci-postgres"
# Where the running cluster is (target/ci-postgres, or a /tmp folder when
# the postgres user cannot reach target/), for `stop`.
base_file="$PWD/target/ci-postgres.base"
if [ -f "$base_file" ]; then
  base="$(cat "$base_file")"
fi
data="$base/data"

bin_dir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_if_missing() {
  if [ -z "$(bin_dir)" ]; then
    echo "installing postgresql (apt-get)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
  fi
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$(( 20000 + RANDOM % 30000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

start() {
  install_if_missing
  local bin port
  bin="$(bin_dir)"
  stop_quietly
  mkdir -p "$base"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$base"
    # The server must reach its data dir through every parent directory;
    # a clone under a closed home (/root is 0700) cannot: use /tmp then.
    if ! runuser -u postgres -- test -w "$base"; then
      rmdir "$base" 2>/dev/null || true
      base="$(mktemp -d /tmp/adstudio-ci-postgres.XXXXXX)"
      chmod 755 "$base"
      chown postgres: "$base"
      data="$base/data"
      echo "the postgres user cannot reach target/; cluster in $base" >&2
    fi
  fi
  mkdir -p "$(dirname "$base_file")"
  echo "$base" >"$base_file"
  as_owner "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C >"$base/initdb.log"
  port="$(free_port)"
  as_owner "$bin/pg_ctl" -D "$data" -l "$base/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $base -c fsync=off -c max_connections=300" \
    start >&2
  echo "$port" >"$base/port"
  echo "export ADSTUDIO_TEST_POSTGRES=postgres://postgres@127.0.0.1:$port/postgres"
}

stop_quietly() {
  local bin
  bin="$(bin_dir)"
  if [ -n "$bin" ] && [ -f "$data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >&2 || true
  fi
  rm -rf "$base"
  rm -f "$base_file"
  base="$PWD/target/ci-postgres"
  data="$base/data"
}

case "${1:-}" in
  start) start ;;
  stop) stop_quietly ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
