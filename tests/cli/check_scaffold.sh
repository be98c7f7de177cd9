#!/usr/bin/env bash
# The author's path with the SDK installed under a prefix (no Debian packages): install this build into a
# temporary prefix, `gatehouse provider new NAME --publisher P` with the installed CLI, check that the README's
# guide exists there, build and test the project out of tree against the installed SDK, inspect it, package
# it with cpack (when dpkg-dev is installed), and check that a GATEHOUSE_PROVIDER naming another publisher than
# CMake's fails to compile with a sentence that says so.
# Usage: check_scaffold.sh BUILD_DIR
set -euo pipefail
build_dir=$(cd "$1" && pwd)
work=$(mktemp -d /tmp/gatehouse-scaffold-XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; [[ -f "$work/author.log" ]] && tail -n 40 "$work/author.log" >&2; exit 1; }
export XDG_CACHE_HOME="$work/cache"   # the CLI's provider scan cache stays in the temp dir

prefix="$work/prefix"
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
project="$work/rooms_kit"
"$prefix/bin/gatehouse" provider new rooms_kit --publisher acme-labs --dir "$project" >"$work/new.txt"
grep -q "acme-labs/rooms-kit" "$work/new.txt" || fail "provider new did not name acme-labs/rooms-kit: $(cat "$work/new.txt")"

# The README names the guide where this prefix installed it.
guide=$(sed -n 's/.*The guide is `\([^`]*\)`.*/\1/p' "$project/README.md")
[[ "$guide" == "$prefix/share/doc/gatehouse-sdk-dev/provider-authors.md" ]] || fail "README names the guide as '$guide'"
[[ -f "$guide" ]] || fail "$guide does not exist"

cmake -S "$project" -B "$project/build" -DCMAKE_PREFIX_PATH="$prefix" >"$work/author.log" 2>&1 || fail "configure"
cmake --build "$project/build" -j 2 >>"$work/author.log" 2>&1 || fail "build"
ctest --test-dir "$project/build" --output-on-failure >>"$work/author.log" 2>&1 || fail "the provider's tests"
grep -q "100% tests passed" "$work/author.log" || fail "the provider's tests did not run"
"$prefix/bin/gatehouse" provider inspect "$project/build/rooms_kit.so" >"$work/inspect.txt" 2>&1 || fail "inspect: $(cat "$work/inspect.txt")"
grep -q "acme-labs/rooms-kit@0.1.0" "$work/inspect.txt" || fail "inspect does not show acme-labs/rooms-kit@0.1.0"
grep -q "What the member may do in the team" "$work/inspect.txt" || fail "inspect does not show property descriptions"

# Packaging with an SDK under a prefix: the protocol library is not in any Debian package here.
if command -v dpkg-shlibdeps >/dev/null && command -v dpkg-deb >/dev/null; then
  (cd "$project/build" && cpack) >>"$work/author.log" 2>&1 || fail "cpack with the SDK under a prefix"
  deb=$(ls "$project/build/gatehouse-provider-rooms-kit_0.1.0_"*.deb)
  dpkg-deb -f "$deb" Depends | grep -q "gatehouse-abi-1" || fail "the package does not depend on gatehouse-abi-1"
  [[ "$(dpkg-deb -f "$deb" Description | head -n 1)" == "gatehouse provider acme-labs/rooms-kit" ]] \
    || fail "package description: $(dpkg-deb -f "$deb" Description)"
else
  echo "dpkg-dev is not installed: packaging not checked"
fi

# The publisher is CMake's: a macro naming another one does not compile.
sed -i 's/GATEHOUSE_PROVIDER(RoomsKitProvider, GATEHOUSE_PROVIDER_PUBLISHER,/GATEHOUSE_PROVIDER(RoomsKitProvider, "someone-else",/' \
  "$project/src/rooms_kit.cpp"
grep -q '"someone-else"' "$project/src/rooms_kit.cpp" || fail "could not edit the generated source"
if cmake --build "$project/build" --target rooms_kit >"$work/mismatch.log" 2>&1; then
  fail "a GATEHOUSE_PROVIDER with another publisher than CMake's compiled"
fi
grep -q "GATEHOUSE_PROVIDER names another publisher than gatehouse_add_provider" "$work/mismatch.log" \
  || { cat "$work/mismatch.log" >&2; fail "the mismatch was not explained"; }
echo "a scaffolded provider builds, tests, inspects and packages against an SDK under a prefix; its publisher is written once"
