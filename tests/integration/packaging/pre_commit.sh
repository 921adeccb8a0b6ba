#!/usr/bin/env bash
# The pre-commit hook as a user installs it: a project's .pre-commit-config.yaml names this
# repository's hooks (a local clone at a fixed rev), `pre-commit install` sets up the git hook,
# and then `git commit` of a broken descriptor is refused with mcpd's diagnostic while a good
# one is committed. (check_tools.pre_commit_hook covers which files the hook selects.)
#
# usage: pre_commit.sh SOURCE_DIR MCPD
set -euo pipefail

source_dir=$1
mcpd=$2
data=$source_dir/tests/data/check-tools
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail() {
  echo "FAIL: $*" >&2
  [ -f "$scratch/out" ] && cat "$scratch/out" >&2
  exit 1
}

export PRE_COMMIT_HOME="$scratch/cache" GIT_CONFIG_NOSYSTEM=1 HOME="$scratch"
git config --global user.email test@example.invalid
git config --global user.name test
git config --global init.defaultBranch main
mkdir "$scratch/bin"
ln -s "$(readlink -f "$mcpd")" "$scratch/bin/mcpd"  # language: system runs mcpd from PATH
export PATH="$scratch/bin:$PATH"

# The hook repository, as a remote would offer it.
mkdir "$scratch/hooks"
cp "$source_dir/.pre-commit-hooks.yaml" "$scratch/hooks/"
(cd "$scratch/hooks" && git init -q && git add . && git commit -qm hooks)
rev=$(git -C "$scratch/hooks" rev-parse HEAD)

mkdir -p "$scratch/project/tools"
cd "$scratch/project"
git init -q
cat >.pre-commit-config.yaml <<EOF
repos:
  - repo: $scratch/hooks
    rev: $rev
    hooks:
      - id: mcpd-check-tools
EOF
git add .pre-commit-config.yaml
git commit -qm "pre-commit config" --no-verify
pre-commit install >"$scratch/out" 2>&1 || fail "pre-commit install"
[ -x .git/hooks/pre-commit ] || fail "no git hook installed"

cp "$data/broken/unknown_key.json" tools/orders.json
git add tools/orders.json
if git commit -qm "broken descriptor" >"$scratch/out" 2>&1; then
  fail "the broken descriptor was committed"
fi
grep -q '^tools/orders.json:6:7: error: .*\[unknown-key\]$' "$scratch/out" ||
  fail "no GCC-style diagnostic in the refused commit's output"
grep -q 'mcpd check-tools.*Failed' "$scratch/out" || fail "pre-commit did not report the hook as failed"
[ "$(git rev-list --count HEAD)" = 1 ] || fail "a commit was made"
echo "broken descriptor refused:"
grep 'error:' "$scratch/out"

cat >tools/orders.json <<'JSON'
{
  "tools": [
    {
      "name": "order_status",
      "description": "Tell the status of an order.",
      "inputSchema": {"type": "object", "properties": {"order_id": {"type": "integer"}},
                      "required": ["order_id"]},
      "annotations": {"readOnlyHint": true},
      "handler": {"static": {"content": [{"type": "text", "text": "Order {order_id}: shipped"}]}}
    }
  ]
}
JSON
git add tools/orders.json
git commit -qm "good descriptor" >"$scratch/out" 2>&1 || fail "the good descriptor was refused"
grep -q 'mcpd check-tools.*Passed' "$scratch/out" || fail "the hook did not run on the good commit"
[ "$(git rev-list --count HEAD)" = 2 ] || fail "the good descriptor was not committed"
echo "pre-commit: ok"
