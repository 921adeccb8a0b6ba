# Helpers for the storage CLI tests. Usage in a test:
#   source common.sh "$@"     # $1 = the mcpd binary, $2 = sqlite | postgres
# gives MCPD, BACKEND, WORK (a scratch dir), DB_URL (a fresh, empty database) and:
#   run ARGS...             run mcpd; stdout in $WORK/out, stderr in $WORK/err, status in $rc
#   expect CODE ARGS...     run and require that exit status
#   json_check PY           run python code with `doc` = the JSON on stdout of the last run
#   fail MESSAGE
set -euo pipefail

MCPD=${1:?usage: test.sh MCPD_BINARY [sqlite|postgres]}
BACKEND=${2:-sqlite}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mcpd-storage-cli.XXXXXX")
PG_DATABASES=()

cleanup() {
  if [[ ${#PG_DATABASES[@]} -gt 0 ]]; then
    for db in "${PG_DATABASES[@]}"; do
      psql -q "$PG_BASE_URL" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
    done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Keep the caller's environment from choosing a database or pepper behind our back.
unset MCPD_DATABASE_URL DATABASE_URL MCPD_CONFIG MCPD_TOKEN_PEPPER MCPD_TOKEN_PEPPER_FILE STATE_DIRECTORY
export HOME=$WORK/home XDG_DATA_HOME=$WORK/xdg
mkdir -p "$HOME"

fail() {
  echo "FAIL: $*" >&2
  if [[ -f $WORK/out ]]; then echo "--- stdout:" >&2; cat "$WORK/out" >&2; fi
  if [[ -f $WORK/err ]]; then echo "--- stderr:" >&2; cat "$WORK/err" >&2; fi
  exit 1
}

run() {
  set +e
  "$MCPD" "$@" >"$WORK/out" 2>"$WORK/err"
  rc=$?
  set -e
}

expect() {
  local code=$1
  shift
  run "$@"
  [[ $rc == "$code" ]] || fail "mcpd $* exited $rc, expected $code"
}

json_check() {
  python3 - "$WORK/out" "$1" <<'PY' || fail "JSON check failed: $1"
import json, sys
with open(sys.argv[1]) as f:
    doc = json.load(f)
exec(sys.argv[2])
PY
}

fresh_db_url() {
  case $BACKEND in
    sqlite)
      local n=$((${FRESH_COUNT:-0} + 1))
      FRESH_COUNT=$n
      echo "sqlite://$WORK/db$n/mcpd.db"
      mkdir -p "$WORK/db$n"
      ;;
    postgres)
      local file=${MCPD_TEST_PG_URL_FILE:-}
      [[ -n $file && -s $file ]] || fail "no PostgreSQL URL (MCPD_TEST_PG_URL_FILE='$file'); the postgres_start fixture must run first"
      PG_BASE_URL=$(cat "$file")
      local name="mcpd_cli_$$_${#PG_DATABASES[@]}"
      psql -q "$PG_BASE_URL" -c "CREATE DATABASE $name" >/dev/null
      PG_DATABASES+=("$name")
      echo "${PG_BASE_URL%/*}/$name"
      ;;
    *) fail "unknown backend $BACKEND" ;;
  esac
}

DB_URL=$(fresh_db_url)
# fresh_db_url ran in a subshell: record the database for cleanup here.
if [[ $BACKEND == postgres ]]; then
  PG_BASE_URL=$(cat "$MCPD_TEST_PG_URL_FILE")
  PG_DATABASES+=("${DB_URL##*/}")
fi
