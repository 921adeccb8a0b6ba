#!/usr/bin/env bash
# The man pages as a set:
#   - `mandoc -T lint -W warning` is silent on every page, and groff (through man --warnings)
#     renders each without a warning;
#   - every option that `mcpd ... --help` lists is documented on its page;
#   - every environment variable mcpd honours is documented in mcpd(1);
#   - section 1 pages have EXIT STATUS, EXAMPLES and SEE ALSO, mcpd(1) has FILES naming the
#     installed files, and every page named in a SEE ALSO exists.
#
# usage: manpages.sh SOURCE_DIR MCPD
set -uo pipefail

source_dir=$1
mcpd=$2
man_dir=$source_dir/man
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

for page in "$man_dir"/*.[1-8]; do
  name=$(basename "$page")
  out=$(mandoc -T lint -W warning "$page" 2>&1) || fail "mandoc -T lint: $name: $out"
  [ -z "$out" ] || fail "mandoc -T lint: $out"
  out=$(MANWIDTH=100 LC_ALL=C.UTF-8 man --warnings -l "$page" 2>&1 >/dev/null)
  [ -z "$out" ] || fail "man --warnings -l $name: $out"
  grep -q '^\.SH NAME$' "$page" || fail "$name: no NAME"
  grep -q '^\.SH "\{0,1\}SEE ALSO"\{0,1\}$' "$page" || fail "$name: no SEE ALSO"
  if [[ $name == *.1 ]]; then
    for section in SYNOPSIS DESCRIPTION "EXIT STATUS" EXAMPLES; do
      grep -q "^\.SH \"\{0,1\}$section\"\{0,1\}\$" "$page" || fail "$name: no $section"
    done
  fi
  # SEE ALSO names pages that exist (ours, or the system's).
  mapfile -t refs < <(sed -n '/^\.SH "\{0,1\}SEE ALSO/,/^\.SH/p' "$page" |
    grep -oE '^\.BR [a-z0-9.\\-]+ \([1-8]\)' | sed -E 's/\\-/-/g; s/^\.BR ([^ ]+) \(([1-8])\)/\1.\2/')
  for ref in "${refs[@]}"; do
    [ -f "$man_dir/$ref" ] || man -w "${ref##*.}" "${ref%.*}" >/dev/null 2>&1 ||
      [[ $ref =~ ^(systemd|systemd\.|nginx|pre-commit|jq|npx) ]] || fail "$name: SEE ALSO $ref: no such page"
  done
done

# page_for CMD -> the page documenting it
page_for() {
  case $1 in
    token*) echo mcpd-token.1 ;;
    user*) echo mcpd-user.1 ;;
    config*) echo mcpd-config.1 ;;
    version) echo mcpd.1 ;;
    *) echo "mcpd-$1.1" ;;
  esac
}
for cmd in "serve" "check-tools" "client-config" "config show" "version" "token create" "token list" \
  "token revoke" "token revoke-jti" "user add" "user list" "user disable" "user enable"; do
  page=$man_dir/$(page_for "$cmd")
  [ -f "$page" ] || { fail "no page for mcpd $cmd"; continue; }
  # shellcheck disable=SC2086
  options=$("$mcpd" $cmd --help | grep -oE '(^|[ ,])--[a-z][a-z-]*' | sed 's/^[ ,]*//' | sort -u)
  # shellcheck disable=SC2086
  "$mcpd" $cmd --help | grep -q "^Usage: .*mcpd $cmd " || fail "'mcpd $cmd --help' is not its help"
  for option in $options; do
    [ "$option" = --help ] && continue
    escaped=${option//-/\\\\-}
    grep -q -- "$escaped\b" "$page" || fail "$(basename "$page"): mcpd $cmd $option is not documented"
  done
done

for variable in MCP_REQUIRE_AUTH AUTH_ENABLED MCP_HOST PORT LOG_LEVEL LOG_FORMAT ENVIRONMENT \
  RATE_LIMIT_REQUESTS RATE_LIMIT_WINDOW RATE_LIMIT_BURST JWT_SECRET DJANGO_BASE_URL DJANGO_API_KEY DEBUG \
  MCPD_CONFIG MCPD_DATABASE_URL DATABASE_URL MCPD_TOKEN MCPD_TOKEN_PEPPER MCPD_TOKEN_PEPPER_FILE \
  MCPD_STATE_KEY MCPD_STATE_KEY_FILE MCPD_CACHE_TTL_MS MCPD_IO_THREADS \
  STATE_DIRECTORY RUNTIME_DIRECTORY XDG_DATA_HOME NO_COLOR; do
  grep -q "^\.BR\? \(.* \)\?$variable\b" "$man_dir/mcpd.1" ||
    fail "mcpd.1: environment variable $variable is not documented"
done
for file in /etc/mcpd/mcpd.json /etc/default/mcpd /etc/mcpd/tools.d /var/lib/mcpd/mcpd.db \
  mcpd.service mcpd.socket /usr/share/bash-completion/completions/mcpd; do
  sed -n '/^\.SH FILES/,/^\.SH/p' "$man_dir/mcpd.1" | grep -qF -- "${file//-/\\-}" ||
    fail "mcpd.1: FILES does not name $file"
done

if [ "$failures" -ne 0 ]; then
  echo "$failures man page check(s) failed"
  exit 1
fi
echo "man pages: ok"
