#!/bin/sh
# make package: assembles dist/vfo-<version>-x64/ from a Windows build:
# vfo.sys, both INFs, vfosvc.exe and the install notes.
#
# Usage: scripts/package.sh BUILD_DIR     (the mingw-w64 cross build: build/mingw)
# The release build comes from driver/vfo.vcxproj with the WDK (signed there);
# the mingw-built vfo.sys is for test-signed installs (docs/install.md).
set -eu
cd "$(dirname "$0")/.."
build=${1:?usage: scripts/package.sh BUILD_DIR}
version=$(sed -n 's/^project(vfo VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
[ -n "$version" ] || { echo "package: no version in CMakeLists.txt" >&2; exit 1; }
out=dist/vfo-$version-x64

need() {
    [ -f "$1" ] || { echo "package: $1 is missing (run 'make cross' first)" >&2; exit 1; }
}
need "$build/driver/vfo.sys"
need "$build/service/win/vfosvc.exe"

rm -rf "$out"
mkdir -p "$out"
cp "$build/driver/vfo.sys" "$build/service/win/vfosvc.exe" inf/vfo.inf inf/vfoprot.inf "$out/"
cp docs/install.md "$out/INSTALL.md"
# The INFs' DriverVer must name this version (w.x.y.z = version.0).
for inf in vfo.inf vfoprot.inf; do
    grep -q "^DriverVer *=.*,$version\.0\$" "$out/$inf" ||
        { echo "package: $inf DriverVer does not match version $version" >&2; exit 1; }
done
(cd "$out" && sha256sum vfo.sys vfosvc.exe vfo.inf vfoprot.inf > SHA256SUMS)
echo "package: $out"
ls -l "$out"
