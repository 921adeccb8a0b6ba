#!/usr/bin/env bash
# `mcpd config show` through the real binary: every setting with its origin (default, file,
# env, flag) in text and JSON, exit codes, and no secret ever in its output.
#
# usage: config_show.sh MCPD
set -uo pipefail

MCPD=${1:?usage: config_show.sh MCPD_BINARY}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mcpd-config-show.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
failures=0
fail() {
  echo "FAIL: $*"
  echo "--- stdout:"; cat "$WORK/out"
  echo "--- stderr:"; cat "$WORK/err"
  failures=$((failures + 1))
}
# run ENV... -- ARGS...: mcpd with exactly these variables (plus HOME); status in $rc.
run() {
  local vars=("HOME=$WORK/home")
  while [[ $1 != -- ]]; do vars+=("$1"); shift; done
  shift
  env -i "${vars[@]}" "$MCPD" "$@" >"$WORK/out" 2>"$WORK/err"
  rc=$?
}
has_line() { grep -qxF -- "$1" "$WORK/out" || fail "no line '$1'"; }
json_check() { python3 -c "import json,sys; doc=json.load(open('$WORK/out')); $1" || fail "json: $1"; }

# Defaults, one line each: key = value  (origin).
run -- config show
[[ $rc == 0 ]] || fail "defaults: exit $rc"
has_line "server.listen = 127.0.0.1:8001  (default)"
has_line "server.cache_ttl_ms = 60000  (default)"
has_line "server.io_threads = 0  (default)"
has_line "server.state_key = null  (default)"
has_line "auth.token_pepper = null  (default)"
has_line "database = sqlite://$WORK/home/.local/share/mcpd/mcpd.db  (default)"
has_line 'tools = []  (default)'
has_line 'server.title = ""  (default)'
[[ ! -s $WORK/err ]] || fail "defaults: stderr not empty"
[[ ! -e $WORK/home/.local ]] || fail "config show created the database directory"

# Each layer: file, env, flag.
cat >"$WORK/mcpd.json" <<JSON
{"server": {"name": "shop", "listen": "0.0.0.0:9000", "cache_ttl_ms": 5000},
 "log": {"level": "error"}, "database": "sqlite:///from-config.db"}
JSON
run MCP_HOST=127.0.0.2 MCPD_IO_THREADS=4 -- config show
has_line "server.listen = 127.0.0.2:8001  (env MCP_HOST)"
has_line "server.io_threads = 4  (env MCPD_IO_THREADS)"
run PORT=9100 LOG_LEVEL=warning -- config show --config "$WORK/mcpd.json" \
  --database "sqlite:///flag.db" --tools "$WORK"
[[ $rc == 0 ]] || fail "layers: exit $rc"
has_line "server.name = shop  (file $WORK/mcpd.json)"
has_line "server.listen = 0.0.0.0:9100  (env PORT)"
has_line "server.cache_ttl_ms = 5000  (file $WORK/mcpd.json)"
has_line "log.level = warn  (env LOG_LEVEL)"
has_line "database = sqlite:///flag.db  (flag --database)"
has_line "tools = [\"$WORK\"]  (flag --tools)"
has_line "config_file = $WORK/mcpd.json  (flag --config)"

run MCPD_CONFIG="$WORK/mcpd.json" MCPD_CACHE_TTL_MS=0 DATABASE_URL=postgresql://db/mcpd -- \
  config show --json
[[ $rc == 0 ]] || fail "json: exit $rc"
json_check 'assert doc["server.name"] == {"value": "shop", "origin": "file", "source": "'"$WORK"'/mcpd.json"}, doc["server.name"]'
json_check 'assert doc["server.cache_ttl_ms"] == {"value": 0, "origin": "env", "source": "MCPD_CACHE_TTL_MS"}'
json_check 'assert doc["database"]["source"] == "DATABASE_URL" and doc["database"]["value"] == "postgresql://db/mcpd"'
json_check 'assert doc["config_file"]["source"] == "MCPD_CONFIG"'
json_check 'assert doc["server.version"]["origin"] == "default" and "source" not in doc["server.version"]'

# Secrets never appear, in text or JSON, set directly or read from files.
printf 'upstream-key-from-a-file\n' >"$WORK/crm.key"
printf 'state-key-from-a-file-0123456789abcdef\n' >"$WORK/state.key"
cat >"$WORK/secrets.json" <<JSON
{"upstreams": {"crm": {"base_url": "http://crm.local", "api_key_file": "crm.key"}},
 "server": {"state_key_file": "state.key"}}
JSON
secrets=(JWT_SECRET=jwt-secret-value-0123456789abcdefghij MCPD_STATE_KEY=state-key-value-0123456789abcdefghij
  DJANGO_BASE_URL=https://api.example.com DJANGO_API_KEY=django-api-key-value
  MCPD_TOKEN=mcpd_token_value_secret MCPD_TOKEN_PEPPER=pepper-value-secret
  MCPD_DATABASE_URL=postgresql://ada:db-password-value@db/mcpd)
for format in "" --json; do
  run "${secrets[@]}" -- config show --config "$WORK/secrets.json" $format
  [[ $rc == 0 ]] || fail "secrets $format: exit $rc"
  for secret in jwt-secret-value state-key-value django-api-key-value mcpd_token_value_secret \
    pepper-value-secret db-password-value upstream-key-from-a-file; do
    if grep -qF "$secret" "$WORK/out" "$WORK/err"; then fail "secret $secret shown ($format)"; fi
  done
done
run "${secrets[@]}" -- config show --config "$WORK/secrets.json"
has_line "auth.jwt.secret = ***  (env JWT_SECRET)"
has_line "server.state_key = ***  (env MCPD_STATE_KEY)"
has_line "upstreams.django.api_key = ***  (env DJANGO_API_KEY)"
has_line "upstreams.crm.api_key = ***  (file $WORK/crm.key)"
has_line "token = ***  (env MCPD_TOKEN)"
has_line "auth.token_pepper = ***  (env MCPD_TOKEN_PEPPER)"
has_line "database = postgresql://ada:***@db/mcpd  (env MCPD_DATABASE_URL)"
# Without MCPD_STATE_KEY, the key comes from the configured file.
run -- config show --config "$WORK/secrets.json"
has_line "server.state_key = ***  (file $WORK/secrets.json)"

# What serve would refuse is refused here: exit 1, one line naming the setting.
expect_error() {  # expect_error PATTERN ENV... -- ARGS...
  local pattern=$1
  shift
  run "$@"
  [[ $rc == 1 ]] || fail "'$pattern': exit $rc, expected 1"
  [[ $(wc -l <"$WORK/err") == 1 ]] || fail "'$pattern': error is not one line"
  grep -q "^mcpd: error: $pattern" "$WORK/err" || fail "no error matching '$pattern'"
  [[ ! -s $WORK/out ]] || fail "'$pattern': stdout not empty"
}
echo '{"server": {"name": }' >"$WORK/broken.json"
expect_error "config $WORK/broken.json:1:" -- config show --config "$WORK/broken.json"
expect_error "config: cannot read $WORK/missing.json" -- config show --config "$WORK/missing.json"
expect_error "MCPD_STATE_KEY: the state key must be at least 32 bytes" MCPD_STATE_KEY=short -- config show
expect_error "MCPD_CACHE_TTL_MS: expected a non-negative integer" MCPD_CACHE_TTL_MS=-1 -- config show
expect_error "MCPD_IO_THREADS: expected an integer from 0 to 1024, got 'many'" MCPD_IO_THREADS=many -- \
  config show
expect_error "--database: expected a sqlite://, postgresql:// or postgres:// URL" -- \
  config show --database mysql://u:pw@db/x
grep -q "pw@" "$WORK/err" && fail "password in the error"

# The cache TTL reaches the protocol: ttlMs of a 2026-07-28 list result served by serve.
request='{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{
"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},
"io.modelcontextprotocol/clientInfo":{"name":"config-test","version":"1"}}}}'
echo "${request//$'\n'/}" | env -i HOME="$WORK/home" MCPD_CACHE_TTL_MS=1234 "$MCPD" serve --stdio \
  >"$WORK/out" 2>"$WORK/err"
grep -q '"ttlMs":1234' "$WORK/out" || fail "MCPD_CACHE_TTL_MS does not reach the ttlMs of results"

# Usage errors: exit 2.
run -- config
[[ $rc == 2 ]] || fail "'mcpd config' without a subcommand: exit $rc, expected 2"
run -- config show --bogus
[[ $rc == 2 ]] || fail "unknown option: exit $rc, expected 2"

if [[ $failures -ne 0 ]]; then
  echo "$failures check(s) failed"
  exit 1
fi
echo "config show: ok"
