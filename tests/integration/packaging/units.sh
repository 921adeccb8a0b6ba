#!/usr/bin/env bash
# The systemd units and their environment file, from the source tree:
#   - systemd-analyze verify/security against a scratch root holding the real binary
#     (verify_units.sh);
#   - socket activation with systemd's own systemd-socket-activate: it listens on a free port
#     and starts the real mcpd with the unit's ExecStart arguments and the shipped config file
#     on the first connection; mcpd serves the passed socket (not server.listen);
#   - /etc/default/mcpd: comments only, naming every environment variable mcpd documents.
#
# usage: units.sh SOURCE_DIR MCPD
set -euo pipefail

source_dir=$1
mcpd=$2
scratch=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$scratch/server.log" ] && cat "$scratch/server.log" >&2
  exit 1
}

echo "== systemd-analyze (scratch root)"
root=$scratch/root
mkdir -p "$root/usr/bin" "$root/usr/lib/systemd/system" "$root/usr/share/man"
cp "$mcpd" "$root/usr/bin/mcpd"
cp "$source_dir"/packaging/systemd/mcpd.{service,socket} "$root/usr/lib/systemd/system/"
for page in "$source_dir"/man/*.[1-8]; do
  name=$(basename "$page")
  mkdir -p "$root/usr/share/man/man${name##*.}"
  gzip -9nc "$page" >"$root/usr/share/man/man${name##*.}/$name.gz"
done
bash "$source_dir/tests/integration/packaging/verify_units.sh" "$root"

echo "== socket activation (systemd-socket-activate)"
service=$source_dir/packaging/systemd/mcpd.service
exec_start=$(sed -n 's/^ExecStart=//p' "$service")
[ "$exec_start" = "/usr/bin/mcpd serve --http --config /etc/mcpd/mcpd.json" ] ||
  fail "unexpected ExecStart: $exec_start"
grep -qx 'ListenStream=127.0.0.1:8001' "$source_dir/packaging/systemd/mcpd.socket" ||
  fail "mcpd.socket does not listen on 127.0.0.1:8001"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
read -r -a args <<<"${exec_start#/usr/bin/mcpd }"
args=("${args[@]/\/etc\/mcpd\/mcpd.json/$source_dir/packaging/etc/mcpd.json}")
mkdir "$scratch/state" "$scratch/runtime"
# What the unit gives the service: its directories; the database in StateDirectory (the
# shipped config names /var/lib/mcpd/mcpd.db; the environment wins over it, as it does with
# /etc/default/mcpd). systemd-socket-activate passes only the variables named with -E.
env -i PATH=/usr/bin:/bin HOME="$scratch" STATE_DIRECTORY="$scratch/state" \
  RUNTIME_DIRECTORY="$scratch/runtime" MCPD_DATABASE_URL="sqlite://$scratch/state/mcpd.db" \
  systemd-socket-activate -l "127.0.0.1:$port" -E PATH -E HOME -E STATE_DIRECTORY \
  -E RUNTIME_DIRECTORY -E MCPD_DATABASE_URL \
  "$mcpd" "${args[@]}" --tools "$source_dir/examples/tools" >"$scratch/server.log" 2>&1 &
pid=$!
ok=""
for _ in $(seq 1 300); do
  if body=$(curl -fsS --max-time 30 "http://127.0.0.1:$port/mcp/health" 2>/dev/null); then
    ok=1
    break
  fi
  sleep 0.1
done
[ -n "$ok" ] || fail "no answer on the activated socket"
[ "$body" = '{"status":"ok"}' ] || fail "health: $body"
grep -q 'socket(s) passed by systemd' "$scratch/server.log" || fail "mcpd did not use the passed socket"
# Authentication stays on as configured: /mcp wants a bearer token.
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
  -H 'Accept: application/json, text/event-stream' \
  --data '{"jsonrpc":"2.0","id":1,"method":"ping"}' "http://127.0.0.1:$port/mcp")
[ "$status" = 401 ] || fail "POST /mcp without a token: HTTP $status"
kill -TERM "$pid"
wait "$pid" || fail "mcpd did not exit 0 on SIGTERM"
pid=""
echo "socket activation: ok"

echo "== /etc/default/mcpd"
defaults=$source_dir/packaging/etc/default.mcpd
if grep -v '^#' "$defaults" | grep -q '[^[:space:]]'; then
  fail "/etc/default/mcpd sets something; every line must be a comment"
fi
for variable in MCP_REQUIRE_AUTH AUTH_ENABLED MCP_HOST PORT LOG_LEVEL LOG_FORMAT ENVIRONMENT \
  RATE_LIMIT_REQUESTS RATE_LIMIT_WINDOW RATE_LIMIT_BURST JWT_SECRET DJANGO_BASE_URL DJANGO_API_KEY DEBUG \
  MCPD_CONFIG MCPD_DATABASE_URL DATABASE_URL MCPD_TOKEN MCPD_TOKEN_PEPPER MCPD_TOKEN_PEPPER_FILE \
  MCPD_STATE_KEY MCPD_STATE_KEY_FILE MCPD_CACHE_TTL_MS MCPD_IO_THREADS; do
  grep -q "^#$variable=" "$defaults" || fail "/etc/default/mcpd does not show $variable"
done
echo "units: ok"
