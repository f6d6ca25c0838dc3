#!/bin/sh
# make demo: the default migration demo (tools/vfo-emu), no root needed.
set -eu
build=${1:-build/host}
emu="$build/tools/vfo-emu/vfo-emu"
if [ ! -x "$emu" ]; then
    echo "demo: $emu was not built; tools/vfo-emu is not in this tree yet" >&2
    exit 1
fi
exec "$emu" migrate
