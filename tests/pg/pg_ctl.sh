#!/usr/bin/env bash
# A throw-away PostgreSQL server for the test suite (never a system-wide cluster).
#
#   pg_ctl.sh start DIR   initdb into DIR/data, listen on 127.0.0.1:<free port> and a unix
#                         socket in DIR/sock, create database mcpd_test, write its URL to DIR/url
#   pg_ctl.sh stop DIR    stop the server and remove DIR/data
#
# Runs the server as the `postgres` user when invoked as root (PostgreSQL refuses root).
set -euo pipefail

command=${1:-}
dir=${2:-}
if [[ -z $command || -z $dir ]]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

find_bindir() {
  local candidate
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [[ -x $candidate/initdb && -x $candidate/pg_ctl ]]; then
      echo "$candidate"
      return 0
    fi
  done
  if command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
    dirname "$(command -v pg_ctl)"
    return 0
  fi
  echo "pg_ctl.sh: no PostgreSQL server found (apt-get install postgresql)" >&2
  return 1
}

# Run a server binary as an unprivileged user when we are root.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_server() {
  local bindir=$1
  if [[ -f $dir/data/postmaster.pid ]]; then
    as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null 2>&1 || true
  fi
}

bindir=$(find_bindir)
dir=$(mkdir -p "$dir" && cd "$dir" && pwd)

case $command in
  start)
    stop_server "$bindir"  # a leftover from an interrupted run
    rm -rf "$dir/data" "$dir/sock" "$dir/url" "$dir/server.log"
    mkdir -p "$dir/data" "$dir/sock"
    if [[ $(id -u) -eq 0 ]]; then
      chown -R postgres "$dir"
    fi
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --no-sync \
      >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
    started=
    for attempt in 1 2 3 4 5; do
      port=$(free_port)
      if as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
          -o "-c listen_addresses=127.0.0.1 -p $port -k $dir/sock -c fsync=off \
              -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
          start >/dev/null; then
        started=1
        break
      fi
      echo "pg_ctl.sh: start on port $port failed (attempt $attempt)" >&2
    done
    if [[ -z $started ]]; then
      cat "$dir/server.log" >&2 || true
      exit 1
    fi
    as_owner "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres mcpd_test
    echo "postgresql://postgres@127.0.0.1:$port/mcpd_test" >"$dir/url"
    echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port; URL in $dir/url"
    ;;
  stop)
    stop_server "$bindir"
    rm -rf "$dir/data" "$dir/sock" "$dir/url"
    ;;
  *)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
