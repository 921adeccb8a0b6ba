#!/bin/sh
# The repository's .pre-commit-hooks.yaml, run by the real pre-commit against a scratch
# repository: the hook must check descriptor files (tools/*.json, *.tools.json) and only them,
# pass them all in one run, and fail the commit on errors.
#
# usage: pre_commit_hook.sh PRE_COMMIT MCPD SOURCE_DIR
set -eu

pre_commit=$1
mcpd=$2
source_dir=$3
data=$source_dir/tests/data/check-tools

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export PRE_COMMIT_HOME="$scratch/cache"
export GIT_CONFIG_NOSYSTEM=1 HOME="$scratch"
git config --global user.email test@example.invalid
git config --global user.name test
git config --global init.defaultBranch main

# The hook repository: just the hooks file, as a remote repository would offer it.
mkdir "$scratch/hooks"
cp "$source_dir/.pre-commit-hooks.yaml" "$scratch/hooks/"
(cd "$scratch/hooks" && git init -q && git add . && git commit -qm hooks)

# `language: system` runs `mcpd` from PATH.
mkdir "$scratch/bin"
ln -s "$mcpd" "$scratch/bin/mcpd"
PATH="$scratch/bin:$PATH"

run_hook() {
  (cd "$scratch/project" && "$pre_commit" try-repo "$scratch/hooks" mcpd-check-tools \
    --all-files --verbose) >"$scratch/out" 2>&1
}

fail() {
  echo "FAIL: $1" >&2
  cat "$scratch/out" >&2
  exit 1
}

mkdir -p "$scratch/project/tools" "$scratch/project/deploy" "$scratch/project/other"
cd "$scratch/project"
git init -q
cp "$data/broken/duplicate_across/a.json" tools/lookup.json
cp "$data/broken/name_dot.json" deploy/orders.tools.json
# Not a descriptor by the hook's convention: never checked, although it is broken.
cp "$data/broken/bad_name.json" other/settings.json
git add .

run_hook || fail "the hook failed on a clean tree (warnings only)"
grep -q '^deploy/orders.tools.json:4:15: warning: .*\[tool-name\]$' "$scratch/out" ||
  fail "*.tools.json was not checked"
grep -q '^0 errors, 1 warning in 2 files$' "$scratch/out" || fail "expected 2 files in one run"
if grep -q 'other/settings.json' "$scratch/out"; then fail "a non-descriptor was checked"; fi

cp "$data/broken/unknown_key.json" tools/orders.json
git add .
if run_hook; then fail "the hook passed with an error"; fi
grep -q '^tools/orders.json:6:7: error: .*\[unknown-key\]$' "$scratch/out" ||
  fail "the error was not reported GCC style"

echo "pre-commit hook: ok"
