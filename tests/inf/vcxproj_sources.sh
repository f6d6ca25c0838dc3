#!/bin/sh
# driver/vfo.vcxproj (the WDK release build) compiles exactly the sources the
# CMake builds do: every driver/src and lib/{virtio,vnet,failover}/src C file,
# and nothing else.
set -eu
root=${1:?usage: vcxproj_sources.sh SOURCE_DIR}
proj=$root/driver/vfo.vcxproj
want=$(cd "$root" && ls driver/src/*.c lib/virtio/src/*.c lib/vnet/src/*.c lib/failover/src/*.c |
       sed 's,^driver/,,; s,^lib/,../lib/,' | sort)
have=$(sed -n 's,.*<ClCompile Include="\([^"]*\)".*,\1,p' "$proj" | tr '\\' '/' | sort)
if [ "$want" != "$have" ]; then
    tmp=${TMPDIR:-/tmp}/vcxproj.$$
    echo "$want" > "$tmp.tree"
    echo "$have" > "$tmp.proj"
    echo "vfo.vcxproj and the tree disagree (< tree, > vcxproj):" >&2
    diff "$tmp.tree" "$tmp.proj" >&2 || true
    rm -f "$tmp.tree" "$tmp.proj"
    exit 1
fi
echo "vfo.vcxproj: $(echo "$have" | wc -l) sources, as in the tree"
