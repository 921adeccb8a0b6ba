#!/usr/bin/env bash
# Installs the integration tests' Node dependencies (the official MCP TypeScript SDK: 1.x, and
# the 2.x client for protocol revision 2026-07-28) into
# tests/integration/node_modules, exactly as pinned by package-lock.json. Does nothing when
# they are already installed and the lock file has not changed since.
# Registered with CTest as the fixture "integration_npm_setup"; tests that need the SDK fail
# (they are not skipped) when this fails.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$here"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "setup.sh: node and npm are required for the integration tests (apt-get install nodejs npm)" >&2
  exit 1
fi

stamp=node_modules/.mcpd-lock-stamp
if [[ -f $stamp && -d node_modules/@modelcontextprotocol/sdk && -d node_modules/@modelcontextprotocol/client ]] &&
  cmp -s package-lock.json "$stamp"; then
  exit 0
fi

echo "setup.sh: installing Node dependencies in $here"
npm ci --no-audit --no-fund --loglevel=error
cp package-lock.json "$stamp"
