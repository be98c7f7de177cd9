#!/usr/bin/env bash
# Installs this build into a temporary prefix, builds the README's hello provider out of tree against the
# installed SDK (find_package(gatehouse-sdk) + gatehouse_add_provider), and inspects it with the installed CLI.
# Usage: check_install.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build_dir=$1
source_dir=$2
work=$(mktemp -d /tmp/gatehouse-install-XXXXXX)
trap 'rm -rf "$work"' EXIT

cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
mkdir -p "$work/hello"
cp "$source_dir/sdk/examples/hello/hello.cpp" "$work/hello/"
cat > "$work/hello/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(hello CXX)
find_package(gatehouse-sdk 0 REQUIRED)
gatehouse_add_provider(hello SOURCES hello.cpp)
CMAKE
cmake -S "$work/hello" -B "$work/hello/build" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/hello/build" >/dev/null

exported=$(nm -D --defined-only "$work/hello/build/hello.so" | awk '{print $3}')
[[ "$exported" == "gatehouse_provider_v1" ]] || { echo "hello.so exports: $exported"; exit 1; }
"$work/prefix/bin/gatehouse" provider inspect "$work/hello/build/hello.so" | tee "$work/inspect.txt"
grep -q "acme/hello@0.1.0" "$work/inspect.txt"
"$work/prefix/bin/gatehouse" provider inspect "$work/prefix/lib/gatehouse/providers/demo.so" | grep -q "gatehouse/demo@1.0.0"
echo "installed SDK builds an out-of-tree provider that the installed CLI loads"
