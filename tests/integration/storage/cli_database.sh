#!/usr/bin/env bash
# Which database the admin commands use, and exit code 3 when it is unreachable.
source "$(dirname "$0")/common.sh" "$@"

# Default: $XDG_DATA_HOME/mcpd/mcpd.db, directory created 0700.
expect 0 user add ada@example.com
[[ -f $XDG_DATA_HOME/mcpd/mcpd.db ]] || fail "default database not created"
[[ $(stat -c %a "$XDG_DATA_HOME/mcpd") == 700 ]] || fail "default directory is not 0700"
# Without XDG_DATA_HOME: ~/.local/share/mcpd/mcpd.db.
( unset XDG_DATA_HOME; "$MCPD" user add bob@example.com >/dev/null ) || fail "HOME default"
[[ -f $HOME/.local/share/mcpd/mcpd.db ]] || fail "~/.local/share default not used"
# Under systemd: $STATE_DIRECTORY/mcpd.db.
mkdir -p "$WORK/state"
STATE_DIRECTORY=$WORK/state "$MCPD" user add carol@example.com >/dev/null || fail "STATE_DIRECTORY"
[[ -f $WORK/state/mcpd.db ]] || fail "STATE_DIRECTORY default not used"

# Precedence: --database > MCPD_DATABASE_URL > DATABASE_URL > config "database".
for name in flag mcpd env config; do mkdir -p "$WORK/$name"; done
echo "{\"database\": \"sqlite://$WORK/config/mcpd.db\", \"log\": {\"level\": \"info\"}}" >"$WORK/mcpd.json"
expect 0 user add via-config@example.com --config "$WORK/mcpd.json"
[[ -f $WORK/config/mcpd.db ]] || fail "config database not used"
MCPD_CONFIG=$WORK/mcpd.json "$MCPD" user list --json >"$WORK/out" || fail "MCPD_CONFIG"
json_check 'assert [u["email"] for u in doc] == ["via-config@example.com"], doc'
DATABASE_URL=sqlite://$WORK/env/mcpd.db "$MCPD" user add e@example.com --config "$WORK/mcpd.json" >/dev/null
[[ -f $WORK/env/mcpd.db ]] || fail "DATABASE_URL does not beat the config file"
MCPD_DATABASE_URL=sqlite://$WORK/mcpd/mcpd.db DATABASE_URL=sqlite://$WORK/env/mcpd.db \
  "$MCPD" user add m@example.com >/dev/null
[[ -f $WORK/mcpd/mcpd.db ]] || fail "MCPD_DATABASE_URL does not beat DATABASE_URL"
MCPD_DATABASE_URL=sqlite://$WORK/mcpd/mcpd.db \
  "$MCPD" user add f@example.com --database "sqlite://$WORK/flag/mcpd.db" >/dev/null
[[ -f $WORK/flag/mcpd.db ]] || fail "--database does not beat MCPD_DATABASE_URL"

# Bad settings: exit 1 with one line naming the problem.
expect 1 user list --database "mysql://db/x"
grep -q "^mcpd: error: .*mysql://db/x" "$WORK/err" || fail "unknown scheme message"
expect 1 user list --config "$WORK/missing.json"
echo '{"database": ' >"$WORK/broken.json"
expect 1 user list --config "$WORK/broken.json"
grep -q "broken.json" "$WORK/err" || fail "config error names the file"

# Unreachable storage: exit 3, one line, fast, password not shown.
for url in "postgresql://mcpd:s3cret@127.0.0.1:1/mcpd" "postgres://127.0.0.1:1/mcpd"; do
  start=$(date +%s)
  expect 3 token list --database "$url"
  elapsed=$(( $(date +%s) - start ))
  (( elapsed < 30 )) || fail "unreachable PostgreSQL took ${elapsed}s"
  [[ $(wc -l <"$WORK/err") == 1 ]] || fail "error is not one line"
  grep -q "^mcpd: error: database unreachable: " "$WORK/err" || fail "unreachable message"
  grep -q "s3cret" "$WORK/err" && fail "password in the error message"
  [[ -s $WORK/out ]] && fail "stdout not empty on error"
done
expect 3 user add x@example.com --database "sqlite://$WORK/no/such/dir/mcpd.db"
grep -q "^mcpd: error: database unreachable: " "$WORK/err" || fail "sqlite unreachable message"
echo "ok"
