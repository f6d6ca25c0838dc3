#!/bin/sh
# Checks a PE image's import table (CI, cross build): every imported DLL must
# be in the allowed list, and every DLL!function named after "--" must be
# imported (proof that a hand-written declaration resolved to the right
# import library).
#
# Usage: scripts/check-pe-imports.sh [--native] IMAGE ALLOWED.dll... [-- DLL!function...]
# --native: the image must also be a native-subsystem image (a driver).
# DLL names compare case-insensitively. Needs x86_64-w64-mingw32-objdump
# (Debian package binutils-mingw-w64-x86-64, part of mingw-w64).
set -eu

native=no
[ "${1:-}" = "--native" ] && { native=yes; shift; }
[ $# -ge 2 ] || { echo "usage: $0 [--native] IMAGE ALLOWED.dll... [-- DLL!function...]" >&2; exit 2; }
image=$1
shift
objdump=${OBJDUMP:-x86_64-w64-mingw32-objdump}

if [ $native = yes ] && ! "$objdump" -p "$image" | grep -q 'Subsystem.*(NT native)'; then
    echo "check-pe-imports: $image is not a native-subsystem image" >&2
    exit 1
fi

allowed=""
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    allowed="$allowed $(echo "$1" | tr 'A-Z' 'a-z')"
    shift
done
[ $# -gt 0 ] && shift # the "--"

# "dll!function" per import, lower-case DLL names.
imports=$("$objdump" -p "$image" | awk '
    /^[ \t]*DLL Name:/ { dll = tolower($3); print dll "!"; next }
    /^[ \t]*$/ { dll = "" }
    dll != "" && $1 ~ /^[0-9a-f]+$/ && NF >= 3 { print dll "!" $3 }')

[ -n "$imports" ] || { echo "check-pe-imports: $image: no import table found" >&2; exit 1; }

status=0
for dll in $(echo "$imports" | sed -n 's/!$//p' | sort -u); do
    case " $allowed " in
    *" $dll "*) ;;
    *) echo "check-pe-imports: $image imports $dll, which is not allowed" >&2; status=1 ;;
    esac
done
for want in "$@"; do
    dll=$(echo "${want%%!*}" | tr 'A-Z' 'a-z')
    if ! echo "$imports" | grep -qx "$dll!${want#*!}"; then
        echo "check-pe-imports: $image does not import $want" >&2
        status=1
    fi
done
[ $status -eq 0 ] && echo "check-pe-imports: $image: $(echo "$imports" | sed -n 's/!$//p' | sort -u | tr '\n' ' ')ok"
exit $status
