#!/usr/bin/env bash
# bash completion (packaging/completion/mcpd.bash): sources it and calls the completion
# function the way bash does (COMP_WORDS, COMP_CWORD), checking subcommands, option values and
# file completion; then, for every subcommand, that each option `mcpd ... --help` lists is
# offered, so the completion cannot drift from the CLI.
#
# usage: completion.sh SOURCE_DIR MCPD
set -uo pipefail

source_dir=$1
mcpd=$2
# shellcheck source=/dev/null
source "$source_dir/packaging/completion/mcpd.bash" || exit 1
complete -p mcpd | grep -q -- '-F _mcpd mcpd' || { echo "FAIL: not registered for mcpd"; exit 1; }

failures=0
# complete_line "mcpd serve --" -> COMPREPLY, one per line, sorted
complete_line() {
  read -r -a COMP_WORDS <<<"$1"
  if [[ $1 == *' ' ]]; then COMP_WORDS+=(""); fi
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMP_LINE=$1
  COMP_POINT=${#1}
  COMPREPLY=()
  _mcpd mcpd "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  printf '%s\n' "${COMPREPLY[@]}" | sort
}
expect() {  # expect "LINE" WORD...: each WORD is offered
  local line=$1 got word
  shift
  got=$(complete_line "$line")
  for word in "$@"; do
    if ! grep -qxF -- "$word" <<<"$got"; then
      echo "FAIL: '$line' does not offer '$word' (got: $(echo $got))"
      failures=$((failures + 1))
    fi
  done
}
expect_exactly() {  # expect_exactly "LINE" WORD...: exactly these
  local line=$1 got want
  shift
  got=$(complete_line "$line")
  want=$(printf '%s\n' "$@" | sort)
  if [ "$got" != "$want" ]; then
    echo "FAIL: '$line' offers '$(echo $got)', expected '$(echo $want)'"
    failures=$((failures + 1))
  fi
}

expect_exactly "mcpd " serve token user check-tools client-config config version --help
expect_exactly "mcpd config " show --help
expect "mcpd config show --" --config --database --tools --json
expect_exactly "mcpd se" serve
expect_exactly "mcpd token " create list revoke revoke-jti --help
expect_exactly "mcpd user d" disable
expect_exactly "mcpd check-tools --format " text json sarif
expect_exactly "mcpd check-tools --format s" sarif
expect_exactly "mcpd client-config --client " claude-desktop
expect "mcpd serve --" --stdio --http --tools --config --database --listen --no-auth --stateless --allow-origin
expect "mcpd serve --http --tools x --" --listen --no-auth
expect "mcpd token create --user a@b.c --" --name --tools --expires-days --json --database
expect "mcpd user add ada@example.com --" --name --json
# token create --tools takes tool names, not files: nothing is offered.
expect_exactly "mcpd token create --tools "
export MCPD_COMPLETION_TEST_TOKEN=x
expect "mcpd client-config --token-env MCPD_COMPLETION_TEST" MCPD_COMPLETION_TEST_TOKEN

# Files: --tools and --config offer directories and *.json, check-tools paths likewise.
tree=$(mktemp -d)
trap 'rm -rf "$tree"' EXIT
mkdir "$tree/tools.d"
touch "$tree/a.json" "$tree/notes.txt"
cd "$tree" || exit 1
expect_exactly "mcpd serve --stdio --tools " a.json tools.d
expect_exactly "mcpd serve --config " a.json tools.d
expect_exactly "mcpd check-tools " a.json tools.d
expect_exactly "mcpd check-tools t" tools.d

# Every subcommand the binary's --help lists is offered.
subcommands() {  # subcommands [CMD]: the names under "Subcommands:" in `mcpd CMD --help`
  # shellcheck disable=SC2086
  "$mcpd" ${1:-} --help | sed -n '/^Subcommands:/,$p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p'
}
# shellcheck disable=SC2046
expect "mcpd " $(subcommands)
# shellcheck disable=SC2046
expect "mcpd token " $(subcommands token)
# shellcheck disable=SC2046
expect "mcpd user " $(subcommands user)
# shellcheck disable=SC2046
expect "mcpd config " $(subcommands config)
[ "$(subcommands | wc -l)" -ge 6 ] || { echo "FAIL: no subcommands in 'mcpd --help'"; failures=$((failures + 1)); }

# Every option of every subcommand, as the binary's --help lists it.
for cmd in "serve" "check-tools" "client-config" "config show" "version" "token create" "token list" \
  "token revoke" "token revoke-jti" "user add" "user list" "user disable" "user enable"; do
  # shellcheck disable=SC2086
  options=$("$mcpd" $cmd --help | grep -oE '(^|[ ,])--[a-z][a-z-]*' | sed 's/^[ ,]*//' | sort -u)
  [ -n "$options" ] || { echo "FAIL: no options in 'mcpd $cmd --help'"; failures=$((failures + 1)); }
  # shellcheck disable=SC2086
  expect "mcpd $cmd --" $options
done

if [ "$failures" -ne 0 ]; then
  echo "$failures completion check(s) failed"
  exit 1
fi
echo "completion: ok"
