#!/usr/bin/env bash
# A full disk under the database and the exec scratch directories: a small tmpfs mounted in a
# private mount namespace (unshare -m), so nothing outside this test sees it. The CLI fails with
# a clear message and a non-zero exit; the server answers tool errors or 503, never crashes, and
# serves normally once space returns. Where mounting is not permitted (no root, no
# CAP_SYS_ADMIN, a container without unshare) the test prints SKIP with the reason and exits
# 77 (CTest: SKIP_RETURN_CODE). The manual procedure is in README.md next to this file.
#
#   disk_full.sh MCPD_BINARY
set -euo pipefail

MCPD=${1:?usage: disk_full.sh MCPD_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
skip() {
  echo "SKIP: $*"
  exit 77
}

# --- into a private mount namespace (once) ---
if [[ -z ${MCPD_FAULTS_IN_NAMESPACE:-} ]]; then
  command -v unshare >/dev/null || skip "unshare(1) is not installed"
  unshare -m true 2>/dev/null || skip "unshare -m is not permitted here ($(id -un), no CAP_SYS_ADMIN?)"
  MCPD_FAULTS_IN_NAMESPACE=1 exec unshare -m --propagation private bash "$0" "$@"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mcpd-faults-disk.XXXXXX")
DISK=$WORK/disk
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  umount "$DISK" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

mkdir -p "$DISK"
mount -t tmpfs -o size=4m,nr_inodes=256,mode=0755 tmpfs "$DISK" 2>"$WORK/mount.err" ||
  skip "mount -t tmpfs is not permitted here: $(cat "$WORK/mount.err")"

fail() {
  echo "FAIL: $*" >&2
  for f in out err; do [[ -f $WORK/$f ]] && { echo "--- $f:" >&2; cat "$WORK/$f" >&2; }; done
  [[ -f $WORK/server.log ]] && { echo "--- server log (tail):" >&2; tail -30 "$WORK/server.log" >&2; }
  exit 1
}

unset MCPD_DATABASE_URL DATABASE_URL MCPD_CONFIG MCPD_TOKEN STATE_DIRECTORY
export HOME=$WORK/home
mkdir -p "$HOME"
DB_URL=sqlite://$DISK/mcpd.db
cat >"$WORK/mcpd.json" <<JSON
{"exec": {"scratch_dir": "$DISK/scratch"}}
JSON

# cli ARGS...: the CLI on the database on the small disk; status in $rc.
cli() {
  set +e
  "$MCPD" "$@" --database "$DB_URL" >"$WORK/out" 2>"$WORK/err"
  rc=$?
  set -e
}
new_token() {
  cli token create --user ada@example.com --name "$1" --json
  [[ $rc -eq 0 ]] || fail "token create $1 exited $rc"
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' "$WORK/out"
}

# call TOKEN TOOL ARGS_JSON: a 2026-07-28 tools/call; HTTP status in $status, body in $WORK/body.
call() {
  local body
  body=$(python3 -c 'import json, sys; print(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
    "params": {"name": sys.argv[1], "arguments": json.loads(sys.argv[2]), "_meta": {
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientInfo": {"name": "disk-full", "version": "1"},
      "io.modelcontextprotocol/clientCapabilities": {}}}}))' "$2" "$3")
  status=$(curl -s -o "$WORK/body" -w '%{http_code}' --max-time 60 "http://127.0.0.1:$port/mcp" \
    -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H "Mcp-Name: $2" \
    -H "Authorization: Bearer $1" --data "$body") || status=000
}
# result_text: the text of the last call's result; result_is_error: "True" or "False".
result_field() {
  python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))["result"]
print(r.get("isError", False) if sys.argv[2] == "error" else "".join(c.get("text", "") for c in r["content"]))' \
    "$WORK/body" "$1"
}
server_alive() {
  kill -0 "$server_pid" 2>/dev/null || fail "the server died"
}
fill_disk() {
  dd if=/dev/zero of="$DISK/filler" bs=64k 2>/dev/null || true
  # Anything SQLite could still grow into is taken too.
  dd if=/dev/zero of="$DISK/filler2" bs=512 2>/dev/null || true
  [[ $(df --output=avail -B1 "$DISK" | tail -1) -lt 4096 ]] || fail "the tmpfs is not full"
}

# --- setup, with space ---
cli user add ada@example.com
[[ $rc -eq 0 ]] || fail "user add exited $rc"
keeper=$(new_token keeper)
unused=$(new_token unused)  # never used before the disk is full: its first use records usage

MCPD_PORT_FILE=$WORK/port LOG_FORMAT=text RATE_LIMIT_REQUESTS=1000000 \
  "$MCPD" serve --http --listen 127.0.0.1:0 --tools "$here/tools" --config "$WORK/mcpd.json" \
  --database "$DB_URL" >"$WORK/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 300); do
  [[ -s $WORK/port ]] && break
  server_alive
  sleep 0.1
done
port=$(cat "$WORK/port")
[[ -n $port ]] || fail "the server did not listen"

call "$keeper" scratch_write '{"kib": 16}'
[[ $status == 200 && $(result_field text) == done ]] || fail "with space: HTTP $status $(cat "$WORK/body")"

# --- the disk is full ---
fill_disk

cli token create --user ada@example.com --name while-full
[[ $rc -ne 0 ]] || fail "token create succeeded on a full disk"
[[ $(wc -l <"$WORK/err") -eq 1 ]] || fail "the CLI error is not one line"
grep -Eq '^mcpd: error: .*(full|space)' "$WORK/err" || fail "the CLI error does not say the disk is full"
echo "CLI on a full disk: exit $rc: $(cat "$WORK/err")"

call "$keeper" scratch_write '{"kib": 64}'
[[ $status == 200 ]] || fail "exec on a full disk: HTTP $status"
[[ $(result_field error) == True ]] || fail "exec on a full disk is not a tool error"
echo "exec on a full disk: tool error: $(result_field text)"
server_alive

# No inode left either: the scratch directory itself cannot be made.
mkdir "$DISK/inodes"
for i in $(seq 256); do touch "$DISK/inodes/$i" 2>/dev/null || break; done
call "$keeper" scratch_write '{"kib": 1}'
[[ $status == 200 && $(result_field error) == True ]] || fail "exec without inodes: HTTP $status $(cat "$WORK/body")"
[[ $(result_field text) == "cannot create a scratch directory" ]] || fail "exec without inodes: $(result_field text)"
echo "exec without inodes: tool error: $(result_field text)"
rm -rf "$DISK/inodes"
server_alive

# A token's first use (usage not recorded on a full disk) and a known token: 200 or 503.
for token in "$unused" "$keeper"; do
  call "$token" hello '{"who": "full disk"}'
  [[ $status == 200 || $status == 503 ]] || fail "hello on a full disk: HTTP $status $(cat "$WORK/body")"
  echo "hello on a full disk: HTTP $status"
done
server_alive
ready=$(curl -s -o /dev/null -w '%{http_code}' --max-time 30 "http://127.0.0.1:$port/live")
[[ $ready == 200 ]] || fail "/live on a full disk: $ready"

# --- space returns ---
rm -f "$DISK/filler" "$DISK/filler2"
cli token create --user ada@example.com --name after-full --json
[[ $rc -eq 0 ]] || fail "token create after space returned exited $rc"
fresh=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["token"])' "$WORK/out")
call "$fresh" scratch_write '{"kib": 64}'
[[ $status == 200 && $(result_field text) == done ]] || fail "after space returned: HTTP $status $(cat "$WORK/body")"
call "$unused" hello '{"who": "again"}'
[[ $status == 200 && $(result_field text) == "hello again" ]] || fail "hello after space returned: HTTP $status"
server_alive
integrity=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' "$DISK/mcpd.db")
[[ $integrity == ok ]] || fail "integrity_check: $integrity"
leftovers=$(find "$DISK/scratch" -mindepth 2 -maxdepth 2 | wc -l)
[[ $leftovers -eq 0 ]] || fail "$leftovers scratch directories left behind"

kill -TERM "$server_pid"
set +e
wait "$server_pid"
code=$?
set -e
server_pid=
[[ $code -eq 0 ]] || fail "the server exited $code after SIGTERM"
echo "PASS: disk full"
