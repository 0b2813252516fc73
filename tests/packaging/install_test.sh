#!/usr/bin/env bash
# `cmake --install BUILD --prefix P` into a temp prefix: the layout, the
# programs run from P/bin, the units name P/bin.
#   install_test.sh CMAKE BUILD_DIR VERSION
set -euo pipefail
cmake=$1 build=$2 version=$3
here=$(dirname "$0")
source "$here/layout.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix

if ! out=$("$cmake" --install "$build" --prefix "$prefix" 2>&1); then
  echo "cmake --install failed: $out" >&2
  exit 1
fi
check_layout "$prefix" "$prefix" "$version"

if ((failures > 0)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "ok: cmake --install --prefix"
