#!/bin/sh
# pe-imports.sh OBJDUMP IMAGE ALLOWED_DLL...
# Fails unless IMAGE is a native-subsystem PE whose import table names only
# the allowed DLLs (case-insensitive). Used by the Windows cross-build.
set -eu
objdump=$1
image=$2
shift 2
dump=$("$objdump" -p "$image")
echo "$dump" | grep -q 'Subsystem.*(NT native)' || {
    echo "pe-imports: $image is not a native-subsystem image" >&2
    exit 1
}
dlls=$(echo "$dump" | sed -n 's/^[[:space:]]*DLL Name: //p' | tr 'A-Z' 'a-z')
[ -n "$dlls" ] || { echo "pe-imports: $image imports nothing" >&2; exit 1; }
for dll in $dlls; do
    ok=no
    for allowed in "$@"; do
        [ "$dll" = "$(echo "$allowed" | tr 'A-Z' 'a-z')" ] && ok=yes
    done
    if [ $ok = no ]; then
        echo "pe-imports: $image imports from $dll (allowed: $*)" >&2
        exit 1
    fi
done
echo "pe-imports: $(basename "$image"): $(echo $dlls) (native subsystem)"
