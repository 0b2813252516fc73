#!/usr/bin/env bash
# The Debian package: cpack builds it from the build tree into a temp dir;
# its control fields, its file list and its programs are checked after
# `dpkg -x` (no root needed; .ci/run also installs it for real).
#   deb_test.sh CPACK BUILD_DIR VERSION
set -euo pipefail
cpack=$1 build=$2 version=$3
here=$(dirname "$0")
source "$here/layout.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! out=$("$cpack" -G DEB --config "$build/CPackConfig.cmake" -B "$tmp/out" 2>&1); then
  echo "cpack failed: $out" >&2
  exit 1
fi
deb=$tmp/out/mgteam_${version}_$(dpkg --print-architecture).deb
[[ -f "$deb" ]] || { echo "no $deb; cpack made: $(ls "$tmp/out")" >&2; exit 1; }

field() { dpkg-deb -f "$deb" "$1"; }
[[ "$(field Package)" == mgteam ]] || fail "Package: $(field Package)"
[[ "$(field Version)" == "$version" ]] || fail "Version: $(field Version)"
[[ -n "$(field Maintainer)" ]] || fail "no Maintainer"
[[ -n "$(field Section)" ]] || fail "no Section"
[[ "$(field Description)" == *"memory graph"* ]] || fail "Description: $(field Description)"
# dpkg-shlibdeps found the libraries the programs link (scripts/deps --runtime).
# A name may come with a suffix: spdlog's shlibs name libspdlog1.10-fmt9,
# which libspdlog1.10 provides.
depends=$(field Depends)
names=$(tr ',' '\n' <<<"$depends" | awk '{print $1}')
for pkg in libc6 libstdc++6 libsqlite3-0 libsodium23 libcpp-httplib0.11 libspdlog1.10 libfmt9 \
           libtomlplusplus3 libcurl4 libssl3 libpq5 libhiredis0.14; do
  grep -qx -e "$pkg" -e "$pkg-.*" <<<"$names" || fail "Depends lacks $pkg: $depends"
done
[[ "$(field Recommends)" == *ca-certificates* ]] || fail "Recommends: $(field Recommends)"

# Everything under /usr, nothing elsewhere.
if outside=$(dpkg-deb -c "$deb" | awk '{print $6}' | grep -v -e '^\./$' -e '^\./usr/'); then
  fail "files outside /usr: $outside"
fi

dpkg -x "$deb" "$tmp/root"
check_layout "$tmp/root/usr" /usr "$version"

if ((failures > 0)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "ok: $(basename "$deb"): Depends: $depends"
