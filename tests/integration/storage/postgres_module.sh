#!/usr/bin/env bash
# PostgreSQL support is a module (mcpd-postgres.so) loaded only when a postgresql:// URL is
# opened:
#   - mcpd itself does not link libpq/libpqxx, the module does;
#   - a stdio session on SQLite never maps libpq (read from /proc/PID/maps while it runs);
#   - an mcpd whose module is missing, broken or from another build refuses postgresql:// with
#     one clear line and exit 3; a module in the install layout next to the binary is used.
#
# usage: postgres_module.sh MCPD MODULE FOREIGN_MODULE RELATIVE_DIR
#   FOREIGN_MODULE: a module exporting another build id; RELATIVE_DIR: bindir -> module dir.
source "$(dirname "$0")/common.sh" "$1" sqlite
MODULE=$2
FOREIGN_MODULE=$3
RELATIVE_DIR=$4
unreachable=postgresql://mcpd@127.0.0.1:1/mcpd

echo "== linked libraries"
readelf -d "$MCPD" >"$WORK/mcpd.dynamic"
grep -q 'NEEDED.*libc\.so' "$WORK/mcpd.dynamic" || fail "readelf -d mcpd lists no libc"
if grep -E 'NEEDED.*lib(pq|pqxx)' "$WORK/mcpd.dynamic"; then fail "mcpd links libpq/libpqxx"; fi
if ldd "$MCPD" | grep -E 'lib(pq|pqxx)[.-]'; then fail "mcpd loads libpq/libpqxx at start"; fi
readelf -d "$MODULE" | grep -q 'NEEDED.*libpqxx' || fail "the module does not link libpqxx"
nm -D --defined-only "$MODULE" | awk '{print $NF}' | sort >"$WORK/exports"
grep -qx mcpd_postgres_store_v1 "$WORK/exports" || fail "the module does not export its factory"
grep -qx mcpd_postgres_build_id_v1 "$WORK/exports" || fail "the module does not export its build id"

echo "== a stdio session on SQLite does not map libpq"
mkdir -p "$WORK/tools"
cat >"$WORK/tools/echo.json" <<'JSON'
{"tools":[{"name":"echo","description":"Echo.","inputSchema":{"type":"object"},
 "handler":{"static":{"content":[{"type":"text","text":"echo"}]}}}]}
JSON
mkfifo "$WORK/stdin"
"$MCPD" serve --stdio --tools "$WORK/tools" --database "sqlite://$WORK/mcpd.db" \
  <"$WORK/stdin" >"$WORK/out" 2>"$WORK/err" &
pid=$!
exec 3>"$WORK/stdin"
printf '%s\n' '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"maps","version":"1"}}}' \
  '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
  '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{}}}' >&3
for ((i = 0; i < 500; i++)); do
  grep -q '"id":2' "$WORK/out" && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.02
done
grep -q '"id":2' "$WORK/out" || fail "the stdio session did not answer"
cp "/proc/$pid/maps" "$WORK/maps" || fail "cannot read /proc/$pid/maps"
exec 3>&-
wait "$pid" || fail "serve --stdio exited with $?"
grep -q 'libsqlite3' "$WORK/maps" || fail "libsqlite3 not in the session's maps (wrong process?)"
if grep -E 'lib(pq|pqxx)[.-]|mcpd-postgres' "$WORK/maps"; then fail "the stdio session mapped libpq"; fi

echo "== from the build tree: the build's module"
expect 3 user list --database "$unreachable"
grep -q "^mcpd: error: database unreachable: " "$WORK/err" || fail "build-tree mcpd: unreachable message"
grep -q "not installed\|does not match" "$WORK/err" && fail "build-tree mcpd did not load its module"

# An mcpd outside the build tree, as installed: bin/mcpd and RELATIVE_DIR/mcpd-postgres.so.
install -D -m 0755 "$MCPD" "$WORK/root/bin/mcpd"
MCPD=$WORK/root/bin/mcpd
module_dir=$(realpath -m "$WORK/root/bin/$RELATIVE_DIR")
installed=$module_dir/mcpd-postgres.so

echo "== module missing"
expect 3 user list --database "$unreachable"
cat "$WORK/err"
[[ $(wc -l <"$WORK/err") == 1 ]] || fail "error is not one line"
grep -qF "PostgreSQL support is not installed: cannot load $installed: " "$WORK/err" ||
  fail "missing module message"
expect 3 token list --database "postgres://127.0.0.1:1/mcpd"
grep -qF "PostgreSQL support is not installed" "$WORK/err" || fail "postgres:// alias"
# SQLite does not need it.
expect 0 user add ada@example.com --database "sqlite://$WORK/mcpd.db"

echo "== module broken"
mkdir -p "$module_dir"
echo "not an ELF file" >"$installed"
expect 3 user list --database "$unreachable"
cat "$WORK/err"
grep -qF "PostgreSQL support is not installed: cannot load $installed: " "$WORK/err" ||
  fail "broken module message"

echo "== module from another build"
cp "$FOREIGN_MODULE" "$installed"
expect 3 user list --database "$unreachable"
cat "$WORK/err"
grep -qF "PostgreSQL support does not match this mcpd: $installed is from build 'another-build'" \
  "$WORK/err" || fail "foreign module message"

echo "== module in the install layout"
cp "$MODULE" "$installed"
expect 3 user list --database "$unreachable"
cat "$WORK/err"
grep -q "^mcpd: error: database unreachable: " "$WORK/err" || fail "installed module: unreachable message"
grep -q "not installed\|does not match" "$WORK/err" && fail "the installed module was not used"
echo "ok"
