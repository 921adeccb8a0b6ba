#!/usr/bin/env bash
# systemd-analyze on mcpd's units as installed in ROOT (a scratch root: ROOT/usr/bin/mcpd,
# ROOT/usr/lib/systemd/system/mcpd.{service,socket}, ROOT/usr/share/man). No systemd runs as
# PID 1 here, so the units are checked offline against that root:
#   - `verify` must succeed and print nothing (unknown keys, bad values, a missing binary and
#     man pages named in Documentation= all print something);
#   - `security --offline` must rate the service's exposure 2.0 or lower ("OK"), and the score
#     is printed.
#
# usage: verify_units.sh ROOT
set -euo pipefail

root=$(cd "$1" && pwd)
units=$root/usr/lib/systemd/system
fail() {
  echo "FAIL: $*" >&2
  exit 1
}
[ -x "$root/usr/bin/mcpd" ] || fail "$root/usr/bin/mcpd missing"

# The targets the units are ordered against come from the host's systemd.
for target in /lib/systemd/system/*.target; do
  [ -e "$units/$(basename "$target")" ] || cp "$target" "$units/"
done

out=$(MANPATH=$root/usr/share/man SYSTEMD_LOG_LEVEL=notice \
  systemd-analyze verify --root="$root" "$units/mcpd.service" "$units/mcpd.socket" 2>&1) ||
  fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify printed: $out"
echo "systemd-analyze verify: ok"

security=$(systemd-analyze security --offline=yes --root="$root" "$units/mcpd.service" 2>&1) ||
  fail "systemd-analyze security: $security"
score=$(printf '%s\n' "$security" | sed -n 's/.*Overall exposure level for mcpd.service: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || fail "no exposure score in: $security"
echo "systemd-analyze security: exposure $score"
awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "exposure $score is above 2.0"
