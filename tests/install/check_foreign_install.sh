#!/usr/bin/env bash
# check_packages.sh never purges or replaces a gatehouse installation it did not make. Stands one in — a tiny
# `gatehouse` package built here with dpkg-deb (version 0.0.0~standin, one file) — runs check_packages.sh,
# and checks that it skipped (exit 77) with its sentence and left the stand-in installed, unchanged. Then removes
# the stand-in it installed.
# Only where dpkg knows no gatehouse package at all (it would otherwise be the real one): exit 77 then, as when
# not root.
# Usage: check_foreign_install.sh BUILD_DIR
set -euo pipefail

build_dir=$(cd "$1" && pwd)
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STANDIN_VERSION=0.0.0~standin

if [[ $(id -u) -ne 0 ]]; then echo "skipped: installing packages needs root"; exit 77; fi
for tool in dpkg dpkg-deb dpkg-query; do
  command -v "$tool" >/dev/null || { echo "skipped: $tool is not available"; exit 77; }
done
state=$(dpkg-query -W -f='${db:Status-Status}' gatehouse 2>/dev/null || true)
if [[ -n "$state" && "$state" != not-installed ]]; then
  echo "skipped: dpkg already knows a gatehouse package here ($state); the stand-in is installed only where there is none"
  exit 77
fi

fail() { echo "FAIL: $*" >&2; exit 1; }
work=$(mktemp -d /tmp/gatehouse-standin-XXXXXX)
cleanup() {
  local rc=$?
  set +e
  # Only the stand-in this script installed, recognised by its version.
  if [[ $(dpkg-query -W -f='${Version}' gatehouse 2>/dev/null) == "$STANDIN_VERSION" ]]; then
    dpkg --purge gatehouse >/dev/null 2>&1
  fi
  rm -rf "$work"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/pkg/DEBIAN" "$work/pkg/usr/share/doc/gatehouse"
cat > "$work/pkg/DEBIAN/control" <<CONTROL
Package: gatehouse
Version: $STANDIN_VERSION
Architecture: all
Maintainer: gatehouse tests <tests@gatehouse.invalid>
Description: stand-in for a gatehouse installation the package test did not make
 Installed and removed by tests/install/check_foreign_install.sh.
CONTROL
echo "stand-in" > "$work/pkg/usr/share/doc/gatehouse/STAND-IN"
dpkg-deb --build --root-owner-group "$work/pkg" "$work/gatehouse-standin.deb" >/dev/null
dpkg -i "$work/gatehouse-standin.deb" >/dev/null

rc=0
output=$(GATEHOUSE_PACKAGE_TEST_MARKER="$work/no-marker" bash "$here/check_packages.sh" "$build_dir" 2>&1) || rc=$?
echo "$output"
((rc == 77)) || fail "check_packages.sh exited $rc beside a gatehouse it did not install (expected 77: skipped)"
grep -q "skipped: this machine has gatehouse (installed, $STANDIN_VERSION), which this test did not install" <<<"$output" \
  || fail "check_packages.sh did not say why it skipped"
[[ $(dpkg-query -W -f='${Version}' gatehouse 2>/dev/null) == "$STANDIN_VERSION" ]] || fail "the stand-in was replaced"
[[ -f /usr/share/doc/gatehouse/STAND-IN ]] || fail "the stand-in's file is gone"
echo "check_packages.sh skipped beside a gatehouse it did not install, and left it as it was"
