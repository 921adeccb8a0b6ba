#!/usr/bin/env bash
# `mcpd client-config --client claude-desktop`: the printed snippet is valid JSON of the shape
# Claude Desktop reads, with the token taken from the variable --token-env names (never from
# the command line); the stdio snippet really starts a working server; errors and usage errors
# exit 1 and 2 with one line on stderr. The shipped examples/claude_desktop_config.json has the
# same shape.
#
# usage: client_config.sh SOURCE_DIR MCPD
set -euo pipefail

source_dir=$1
mcpd=$(readlink -f "$2")
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$scratch/out" ] && cat "$scratch/out" >&2
  [ -f "$scratch/err" ] && cat "$scratch/err" >&2
  exit 1
}
run() {  # run EXPECTED_EXIT ARGS... (stdout -> out, stderr -> err)
  local want=$1 code=0
  shift
  "$mcpd" client-config "$@" >"$scratch/out" 2>"$scratch/err" || code=$?
  [ "$code" = "$want" ] || fail "client-config $*: exit $code, expected $want"
}
check() {  # check JQ_EXPRESSION: must be true of the last output
  jq -e "$1" "$scratch/out" >/dev/null || fail "not true: $1"
}

token=mcpd_example_token_not_real_0123456789
export CLIENT_CONFIG_TOKEN=$token

echo "== stdio (the default), with a token and tools"
mkdir "$scratch/tools"
cp -R "$source_dir/examples/tools/." "$scratch/tools/"
(cd "$scratch" && run 0 --client claude-desktop --tools tools --token-env CLIENT_CONFIG_TOKEN)
check '.mcpServers | keys == ["mcpd"]'
check ".mcpServers.mcpd.command == \"$mcpd\""
check ".mcpServers.mcpd.args == [\"serve\", \"--stdio\", \"--tools\", \"$scratch/tools\"]"
check ".mcpServers.mcpd.env == {\"MCPD_TOKEN\": \"$token\"}"
[ ! -s "$scratch/err" ] || fail "stderr is not empty"
cp "$scratch/out" "$scratch/stdio.json"

echo "== the stdio snippet starts a server that answers"
command=$(jq -r '.mcpServers.mcpd.command' "$scratch/stdio.json")
mapfile -t args < <(jq -r '.mcpServers.mcpd.args[]' "$scratch/stdio.json")
printf '%s\n' \
  '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}' \
  '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
  '{"jsonrpc":"2.0","id":2,"method":"tools/list"}' |
  (cd / && env -i PATH=/usr/bin:/bin HOME="$scratch" "$command" "${args[@]}" \
    --database "sqlite://$scratch/mcpd.db") >"$scratch/session" 2>/dev/null ||
  fail "the snippet's command failed"
grep '"id":2' "$scratch/session" | grep -q '"hello"' || fail "tools/list through the snippet"

echo "== stdio without a token: no env"
run 0 --client claude-desktop --stdio --name shop --config "$source_dir/packaging/etc/mcpd.json"
check '.mcpServers.shop.env == null'
check ".mcpServers.shop.args == [\"serve\", \"--stdio\", \"--config\", \"$source_dir/packaging/etc/mcpd.json\"]"

echo "== remote URL with a bearer token"
run 0 --client claude-desktop --url https://mcp.example.com/mcp/ --token-env CLIENT_CONFIG_TOKEN
check '.mcpServers.mcpd.command == "npx"'
check '.mcpServers.mcpd.args == ["-y", "mcp-remote", "https://mcp.example.com/mcp/", "--header", "Authorization:${MCPD_AUTH_HEADER}"]'
check ".mcpServers.mcpd.env == {\"MCPD_AUTH_HEADER\": \"Bearer $token\"}"
# Plain HTTP to another host needs mcp-remote's --allow-http; loopback does not.
run 0 --client claude-desktop --url http://10.0.0.5:8001/mcp
check '.mcpServers.mcpd.args == ["-y", "mcp-remote", "http://10.0.0.5:8001/mcp", "--allow-http"]'
grep -q '^mcpd: note: no --token-env' "$scratch/err" || fail "no note about the missing token"
run 0 --client claude-desktop --url http://127.0.0.1:8001/mcp
check '.mcpServers.mcpd.args | index("--allow-http") == null'

echo "== the token never appears when not asked for, and is never read from argv"
run 2 --client claude-desktop --token "$token"
grep -q '^mcpd: error: ' "$scratch/err" || fail "usage error message"

echo "== errors"
unset CLIENT_CONFIG_TOKEN
run 1 --client claude-desktop --token-env CLIENT_CONFIG_TOKEN
grep -qx 'mcpd: error: --token-env: environment variable CLIENT_CONFIG_TOKEN is not set' "$scratch/err" ||
  fail "unset variable message"
CLIENT_CONFIG_TOKEN='two words' run 1 --client claude-desktop --token-env CLIENT_CONFIG_TOKEN
run 1 --client claude-desktop --tools "$scratch/no-such-dir"
grep -q "^mcpd: error: --tools '.*no-such-dir' does not exist$" "$scratch/err" || fail "missing tools"
run 1 --client claude-desktop --url ftp://example.com/mcp
run 2 --client claude-desktop --url https://example.com/mcp --tools "$scratch/tools"
run 2 --client claude-desktop --stdio --url https://example.com/mcp
run 2 --client cursor
run 2
[ ! -s "$scratch/out" ] || fail "usage errors print nothing on stdout"
[ "$(wc -l <"$scratch/err")" -eq 1 ] || fail "usage errors are one line"

echo "== examples/claude_desktop_config.json"
example=$source_dir/examples/claude_desktop_config.json
jq -e '.mcpServers | length >= 2' "$example" >/dev/null || fail "the example has stdio and remote"
jq -e '[.mcpServers[] | select(.args[0] == "serve" and .args[1] == "--stdio" and .env.MCPD_TOKEN)] | length == 1' \
  "$example" >/dev/null || fail "the example's stdio server has MCPD_TOKEN in env"
jq -e '[.mcpServers[] | select(.command == "npx" and (.args | index("--header")) and .env.MCPD_AUTH_HEADER)] | length == 1' \
  "$example" >/dev/null || fail "the example's remote server sends a bearer header"
echo "client-config: ok"
