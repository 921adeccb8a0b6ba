#!/usr/bin/env bash
# mcpd user add/list/disable/enable, human and --json output, exit codes.
source "$(dirname "$0")/common.sh" "$@"
db=(--database "$DB_URL")

expect 0 user list "${db[@]}" --json
json_check 'assert doc == [], doc'
expect 0 user list "${db[@]}"
grep -q "No users" "$WORK/out" || fail "empty human list"

expect 0 user add Ada@Example.com --name "Ada Lovelace" "${db[@]}"
grep -q "ada@example.com" "$WORK/out" || fail "add confirmation"
expect 0 user add bob@example.com "${db[@]}" --json
json_check '
assert set(doc) == {"email", "name", "is_active", "created_at"}, doc
assert doc["email"] == "bob@example.com" and doc["name"] == "" and doc["is_active"] is True
import re; assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", doc["created_at"]), doc'

expect 1 user add ada@example.com "${db[@]}"
grep -q "^mcpd: error: user 'ada@example.com' already exists$" "$WORK/err" || fail "duplicate message"
expect 1 user add not-an-email "${db[@]}"
grep -q "^mcpd: error: .*not an e-mail address" "$WORK/err" || fail "invalid email message"
[[ $(wc -l <"$WORK/err") == 1 ]] || fail "error is not one line"
expect 2 user add "${db[@]}"                      # EMAIL missing
expect 2 user frobnicate "${db[@]}"               # unknown subcommand

expect 0 user list "${db[@]}" --json
json_check '
assert [u["email"] for u in doc] == ["ada@example.com", "bob@example.com"], doc
for u in doc: assert set(u) == {"email", "name", "is_active", "created_at"}, u
assert doc[0]["name"] == "Ada Lovelace"'

expect 0 user disable ADA@example.com "${db[@]}"
grep -q "ada@example.com disabled" "$WORK/out" || fail "disable confirmation"
expect 0 user list "${db[@]}" --json
json_check 'assert [u["is_active"] for u in doc] == [False, True], doc'

# Human table: header plus one aligned row per user, no escape codes when piped.
expect 0 user list "${db[@]}"
head -1 "$WORK/out" | grep -q "^EMAIL  *NAME  *STATUS  *CREATED$" || fail "table header"
grep -q "ada@example.com  *Ada Lovelace  *disabled" "$WORK/out" || fail "table row"
[[ $(wc -l <"$WORK/out") == 3 ]] || fail "table rows"
if grep -q $'\x1b' "$WORK/out"; then fail "ANSI escapes in piped output"; fi
col=$(awk 'NR==1{print index($0,"STATUS")}' "$WORK/out")
while IFS= read -r line; do
  [[ ${line:col-1:1} != " " ]] || fail "STATUS column not aligned: '$line'"
done < <(tail -n +2 "$WORK/out")

expect 0 user enable ada@example.com "${db[@]}" --json
json_check 'assert doc["is_active"] is True, doc'
expect 1 user disable nobody@example.com "${db[@]}"
grep -q "not found" "$WORK/err" || fail "unknown user message"
expect 1 user enable nobody@example.com "${db[@]}"
echo "ok"
