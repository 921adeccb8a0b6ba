#!/usr/bin/env bash
# mcpd token create/list/revoke: the token is shown once, lists are masked, JSON shapes are
# exactly PRODUCT §2's, exit codes 0/1/2.
source "$(dirname "$0")/common.sh" "$@"
db=(--database "$DB_URL")

expect 0 user add ada@example.com "${db[@]}"
expect 0 user add eve@example.com "${db[@]}"
expect 0 user disable eve@example.com "${db[@]}"

# Human confirmation: name, user, the token, the "shown once" warning.
expect 0 token create --user ada@example.com --name "Claude Desktop" "${db[@]}"
grep -q "Name: *Claude Desktop" "$WORK/out" || fail "name line"
grep -q "User: *ada@example.com" "$WORK/out" || fail "user line"
grep -q "it will not be shown again" "$WORK/out" || fail "shown-once warning"
human_token=$(grep -o 'mcpd_[0-9A-Za-z]*' "$WORK/out")
[[ ${#human_token} == 54 ]] || fail "token length ${#human_token}"

# --json: one object, exactly these keys.
expect 0 token create --user ADA@example.com --name "CI" --tools "search, get_order,,search" \
  --expires-days 30 --json "${db[@]}"
json_check '
assert set(doc) == {"id", "name", "user", "token", "allowed_tools", "expires_at", "created_at"}, doc
assert doc["name"] == "CI" and doc["user"] == "ada@example.com", doc
assert doc["allowed_tools"] == ["search", "get_order"], doc
assert doc["token"].startswith("mcpd_") and len(doc["token"]) == 54, doc
import datetime as dt
exp = dt.datetime.strptime(doc["expires_at"], "%Y-%m-%dT%H:%M:%SZ")
created = dt.datetime.strptime(doc["created_at"], "%Y-%m-%dT%H:%M:%SZ")
assert abs((exp - created) - dt.timedelta(days=30)) < dt.timedelta(seconds=5), (exp, created)
assert isinstance(doc["id"], int)'
ci_json=$(cat "$WORK/out")
ci_token=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$ci_json")
ci_id=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$ci_json")

expect 0 token create --user ada@example.com --name "open" --json "${db[@]}"
json_check 'assert doc["allowed_tools"] == [] and doc["expires_at"] is None, doc'
open_id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$WORK/out")

# Refusals.
expect 1 token create --user nobody@example.com --name x "${db[@]}"
grep -q "^mcpd: error: user 'nobody@example.com' not found$" "$WORK/err" || fail "unknown user"
expect 1 token create --user eve@example.com --name x "${db[@]}"
grep -q "disabled" "$WORK/err" || fail "disabled user"
expect 1 token create --user ada@example.com --name x --tools "rm -rf" "${db[@]}"
expect 2 token create --user ada@example.com --name x --expires-days 0 "${db[@]}"
expect 2 token create --user ada@example.com --name x --expires-days -3 "${db[@]}"
expect 2 token create --user ada@example.com --name x --expires-days soon "${db[@]}"
expect 2 token create --user ada@example.com "${db[@]}"        # --name missing
expect 2 token create --name x "${db[@]}"                      # --user missing

# list --json: masked, never the token itself.
expect 0 token list --json "${db[@]}"
json_check '
keys = {"id", "name", "user", "masked_token", "is_active", "allowed_tools", "expires_at",
        "last_used_at", "created_at"}
assert len(doc) == 3, doc
for t in doc:
    assert set(t) == keys, t
    assert t["masked_token"].startswith("****") and len(t["masked_token"]) == 12, t
    assert t["is_active"] is True and t["last_used_at"] is None, t
assert [t["name"] for t in doc] == ["Claude Desktop", "CI", "open"], doc'
grep -q "mcpd_" "$WORK/out" && fail "token list leaks a token"
python3 - "$WORK/out" "$ci_token" "$human_token" <<'PY' || fail "masked_token does not end with the last 8 characters"
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc[1]["masked_token"] == "****" + sys.argv[2][-8:]
assert doc[0]["masked_token"] == "****" + sys.argv[3][-8:]
PY

# Human list: a table, no tokens, no escapes when piped.
expect 0 token list "${db[@]}"
head -1 "$WORK/out" | grep -q "^ID  *NAME  *USER  *TOKEN  *STATUS  *TOOLS  *EXPIRES  *LAST USED  *CREATED$" \
  || fail "table header"
grep -q "search,get_order" "$WORK/out" || fail "tools column"
grep -q "mcpd_" "$WORK/out" && fail "human list leaks a token"
if grep -q $'\x1b' "$WORK/out"; then fail "ANSI escapes in piped output"; fi

# Revoke: gone from the default list, still in --all.
expect 0 token revoke "$ci_id" --json "${db[@]}"
json_check "assert doc['id'] == $ci_id and doc['is_active'] is False and 'token' not in doc, doc"
expect 0 token revoke "$open_id" "${db[@]}"
grep -q "revoked" "$WORK/out" || fail "revoke confirmation"
expect 0 token list --json "${db[@]}"
json_check 'assert [t["name"] for t in doc] == ["Claude Desktop"], doc'
expect 0 token list --all --json "${db[@]}"
json_check 'assert [t["is_active"] for t in doc] == [True, False, False], doc'
expect 0 token list --all "${db[@]}"
[[ $(grep -c "revoked" "$WORK/out") == 2 ]] || fail "revoked status in table"
expect 1 token revoke 999999 "${db[@]}"
grep -q "^mcpd: error: token 999999 not found$" "$WORK/err" || fail "unknown token id"
expect 2 token revoke abc "${db[@]}"
expect 2 token revoke "${db[@]}"

# --user filter.
expect 0 user enable eve@example.com "${db[@]}"
expect 0 token create --user eve@example.com --name "eve's" "${db[@]}"
expect 0 token list --user eve@example.com --json "${db[@]}"
json_check 'assert [t["user"] for t in doc] == ["eve@example.com"], doc'
expect 0 token list --user ada@example.com --all --json "${db[@]}"
json_check 'assert len(doc) == 3 and all(t["user"] == "ada@example.com" for t in doc), doc'
expect 1 token list --user nobody@example.com "${db[@]}"

# The plaintext never reaches the database file (SQLite: the file and its WAL).
if [[ $BACKEND == sqlite ]]; then
  file=${DB_URL#sqlite://}
  for t in "$human_token" "$ci_token"; do
    body=${t:5:43}
    if cat "$file"* | grep -a -q -F "$body"; then fail "token body found in $file"; fi
  done
  [[ $(stat -c %a "$file") == 600 ]] || fail "database file mode $(stat -c %a "$file")"
fi
echo "ok"
