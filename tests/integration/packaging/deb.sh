#!/usr/bin/env bash
# The Debian package as a new user meets it: `cpack -G DEB` in the build directory (the very
# binary the other tests exercise; a release build is packaged the same way), then
#   - the contents (dpkg-deb -c): binary, the PostgreSQL module, every man page gzipped, units,
#     conffiles, completion;
#   - the control data: Depends computed by dpkg-shlibdeps (libpqxx through the module) plus
#     adduser, conffiles, scripts;
#   - lintian: no errors (warnings are printed);
#   - a real dpkg install into a scratch root (dpkg --root --unpack: files and conffiles are
#     registered in the scratch dpkg database, as "newconffile" until configured; maintainer
#     scripts are only syntax-checked, as they would create a user on this machine); in a
#     `dpkg-deb -x` root the installed binary runs `version`, finds its PostgreSQL module, the
#     shipped config and example tools work, the man pages render, and the units pass
#     `systemd-analyze verify`.
#
# usage: deb.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build=$1
source_dir=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

echo "== cpack -G DEB"
(cd "$build" && cpack -G DEB -B "$scratch/out" >"$scratch/cpack.log" 2>&1) ||
  { cat "$scratch/cpack.log" >&2; fail "cpack failed"; }
deb=$(ls "$scratch"/out/mcpd_*.deb)
echo "$deb"

echo "== contents"
dpkg-deb -c "$deb" | awk '{ print $1, $2, $NF }' | sed 's#\./#/#' >"$scratch/contents"
cat "$scratch/contents"
expect_file() {  # expect_file PATH [MODE]
  local line
  line=$(awk -v p="$1" '$3 == p' "$scratch/contents")
  [ -n "$line" ] || fail "$1 is not in the package"
  if [ $# -gt 1 ]; then
    case $line in "$2 "*) ;; *) fail "$1: expected mode $2, got: $line" ;; esac
  fi
}
expect_file /usr/bin/mcpd -rwxr-xr-x
for page in "$source_dir"/man/*.[1-8]; do
  name=$(basename "$page")
  expect_file "/usr/share/man/man${name##*.}/$name.gz" -rw-r--r--
done
expect_file /usr/lib/systemd/system/mcpd.service -rw-r--r--
expect_file /usr/lib/systemd/system/mcpd.socket -rw-r--r--
expect_file /etc/mcpd/mcpd.json -rw-r--r--
expect_file /etc/mcpd/tools.d/
expect_file /etc/default/mcpd -rw-r-----
expect_file /usr/share/bash-completion/completions/mcpd -rw-r--r--
expect_file /usr/share/doc/mcpd/copyright -rw-r--r--
expect_file /usr/share/doc/mcpd/changelog.gz -rw-r--r--
expect_file /usr/share/doc/mcpd/examples/nginx/mcpd.conf
expect_file /usr/share/doc/mcpd/examples/nginx/mcpd-replicas.conf
expect_file /usr/share/doc/mcpd/examples/claude_desktop_config.json
expect_file /usr/share/doc/mcpd/examples/tools/bin/countdown.sh -rwxr-xr-x
expect_file /usr/share/mcpd/mcpd-descriptors.schema.json
# The PostgreSQL module, in the libdir (GNUInstallDirs: /usr/lib/<multiarch> or /usr/lib).
module=$(awk '$3 ~ /^\/usr\/lib\/(.*\/)?mcpd\/mcpd-postgres\.so$/ { print $3 }' "$scratch/contents")
[ -n "$module" ] || fail "the PostgreSQL module is not in the package"
expect_file "$module" -rw-r--r--
if awk '$3 ~ /^\/usr\/local|^\/home|^\/root|^\/work/' "$scratch/contents" | grep -q .; then
  fail "files outside the Debian layout"
fi

echo "== control"
dpkg-deb -f "$deb" >"$scratch/control"
cat "$scratch/control"
grep -q '^Package: mcpd$' "$scratch/control" || fail "Package"
grep -q '^Architecture: '"$(dpkg --print-architecture)"'$' "$scratch/control" || fail "Architecture"
depends=$(sed -n 's/^Depends: //p' "$scratch/control")
for dep in adduser libc6 'libstdc++6' libssl3 libsqlite3-0 libpqxx; do
  case ", $depends" in *", $dep"*) ;; *) fail "Depends lacks $dep: $depends" ;; esac
done
mkdir "$scratch/control.d"
dpkg-deb -e "$deb" "$scratch/control.d"
diff <(sort "$scratch/control.d/conffiles") <(printf '/etc/default/mcpd\n/etc/mcpd/mcpd.json\n') ||
  fail "conffiles"
for script in postinst prerm postrm; do
  [ -x "$scratch/control.d/$script" ] || fail "$script missing or not executable"
  sh -n "$scratch/control.d/$script" || fail "$script: syntax"
done
grep -q 'adduser --system' "$scratch/control.d/postinst" || fail "postinst does not create the user"

echo "== lintian"
# Errors fail the test; warnings and info are listed for the record.
lintian --fail-on error --display-info "$deb" | tee "$scratch/lintian" || fail "lintian reported errors"

echo "== dpkg --root (scratch install)"
root=$scratch/dpkg-root
mkdir -p "$root/var/lib/dpkg/info" "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/triggers"
touch "$root/var/lib/dpkg/status"
dpkg --root="$root" --log=/dev/null --force-not-root --unpack "$deb" >"$scratch/dpkg.log" 2>&1 ||
  { cat "$scratch/dpkg.log" >&2; fail "dpkg --unpack"; }
dpkg-query --root="$root" -W -f='${Package} ${Version} ${Status}\n' mcpd | tee "$scratch/status"
grep -q ' unpacked$' "$scratch/status" || fail "not registered as unpacked"
dpkg-query --root="$root" -W -f='${Conffiles}\n' mcpd | tee "$scratch/conffiles"
grep -Eq '/etc/mcpd/mcpd.json ([0-9a-f]{32}|newconffile)$' "$scratch/conffiles" || fail "mcpd.json not a conffile"
grep -Eq '/etc/default/mcpd ([0-9a-f]{32}|newconffile)$' "$scratch/conffiles" || fail "/etc/default/mcpd not a conffile"
dpkg-query --root="$root" -L mcpd | grep -qx /usr/bin/mcpd || fail "dpkg -L"
[ -x "$root/usr/bin/mcpd" ] || fail "dpkg did not install /usr/bin/mcpd"
# Conffiles wait as *.dpkg-new until the package is configured (postinst).
[ -f "$root/etc/mcpd/mcpd.json.dpkg-new" ] || fail "mcpd.json not unpacked as a conffile"

echo "== dpkg-deb -x (the files as configured)"
root=$scratch/root
dpkg-deb -x "$deb" "$root"

echo "== the installed binary"
"$root/usr/bin/mcpd" version | tee "$scratch/version"
version=$(sed -n 's/^project(mcpd VERSION \([0-9.]*\).*/\1/p' "$source_dir/CMakeLists.txt")
grep -qx "mcpd $version" <(head -1 "$scratch/version") || fail "version is not $version"
# libpq comes with the PostgreSQL module only (Depends has libpqxx through it, see above), and
# the installed mcpd finds that module: an unreachable server, not missing support.
readelf -d "$root/usr/bin/mcpd" | grep -E 'NEEDED.*lib(pq|pqxx)' && fail "mcpd links libpq"
readelf -d "$root$module" | grep -q 'NEEDED.*libpqxx' || fail "the module does not link libpqxx"
set +e
env -i PATH=/usr/bin:/bin HOME="$scratch" "$root/usr/bin/mcpd" user list \
  --database postgresql://mcpd@127.0.0.1:1/mcpd >/dev/null 2>"$scratch/pg.err"
rc=$?
set -e
cat "$scratch/pg.err"
[ "$rc" = 3 ] || fail "postgresql:// with the installed module: exit $rc, expected 3"
grep -q '^mcpd: error: database unreachable: ' "$scratch/pg.err" || fail "unreachable message"
grep -q 'not installed\|does not match' "$scratch/pg.err" && fail "the installed module was not used"
grep -q '^Version: '"$version"'$' "$scratch/control" || fail "package version is not $version"
# The shipped config file is accepted as it is: check-tools reads it (and its tools path).
"$root/usr/bin/mcpd" check-tools --config "$root/etc/mcpd/mcpd.json" \
  "$root/usr/share/doc/mcpd/examples/tools" || fail "check-tools with the shipped config"
# ...and config show prints what the service would use from it.
env -i HOME="$scratch" "$root/usr/bin/mcpd" config show --config "$root/etc/mcpd/mcpd.json" |
  grep -q "(file $root/etc/mcpd/mcpd.json)" || fail "config show with the shipped config"
# The shipped example tools (executable scripts included) work from the installed docs.
printf '%s\n' \
  '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"deb","version":"1"}}}' \
  '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
  '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"word_count","arguments":{"text":"one two three"}}}' |
  env -i PATH=/usr/bin:/bin HOME="$scratch" "$root/usr/bin/mcpd" serve --stdio \
    --tools "$root/usr/share/doc/mcpd/examples/tools" --database "sqlite://$scratch/mcpd.db" \
    >"$scratch/stdio.out" 2>"$scratch/stdio.err" || { cat "$scratch/stdio.err" >&2; fail "serve --stdio"; }
grep '"id":2' "$scratch/stdio.out" | grep -q '3' || { cat "$scratch/stdio.out" >&2; fail "word_count"; }

echo "== installed man pages render"
for page in "$root"/usr/share/man/man*/*.gz; do
  MANWIDTH=100 man --warnings -l "$page" >/dev/null 2>"$scratch/man.err" || fail "man -l $page"
  if [ -s "$scratch/man.err" ]; then cat "$scratch/man.err" >&2; fail "man warnings in $page"; fi
done
zcat "$root/usr/share/man/man1/mcpd.1.gz" | cmp -s - "$source_dir/man/mcpd.1" || fail "mcpd.1.gz differs"
for page in "$source_dir"/man/*.[1-8]; do
  name=$(basename "$page")
  [ -f "$root/usr/share/man/man${name##*.}/$name.gz" ] || fail "$name is not installed"
done

echo "== installed units"
bash "$source_dir/tests/integration/packaging/verify_units.sh" "$root"

echo "== reproducible compressed files"
gzip -l "$root/usr/share/man/man1/mcpd.1.gz" >/dev/null
# gzip -n: no file name or time stamp in the header (bytes 4-7 are the MTIME field).
[ "$(od -An -tx1 -j4 -N4 "$root/usr/share/man/man1/mcpd.1.gz" | tr -d ' ')" = 00000000 ] ||
  fail "man pages carry a time stamp"

echo "package: ok"
