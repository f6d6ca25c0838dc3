#!/bin/sh
# Makes sure the Debian packages vfo builds and tests with are installed.
#
# As root it installs what is missing (apt-get, Debian 12 archives only).
# As any other user it prints the exact apt-get line and fails, so a build
# never half-runs on a machine that cannot finish it.
#
# Usage: scripts/deps.sh [--check]    (--check: report only, never install)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
list="$here/deps.txt"

missing=""
for pkg in $(grep -v '^[[:space:]]*#' "$list" | awk '{print $1}'); do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    case "$status" in
    *"install ok installed"*) ;;
    *) missing="$missing $pkg" ;;
    esac
done

# The lab guest's kernel package (downloaded, not installed: guest-kernel.sh).
kernel_ok() {
    "$here/../tools/lab/guest-kernel.sh" path >/dev/null 2>&1
}
fetch_kernel() {
    kernel_ok && return 0
    if [ "$(id -u)" -ne 0 ] || [ "${1:-}" = "--check" ]; then
        echo "deps: the lab guest's kernel package is missing: run as root: $here/../tools/lab/guest-kernel.sh fetch" >&2
        return 1
    fi
    "$here/../tools/lab/guest-kernel.sh" fetch
}

if [ -z "$missing" ]; then
    fetch_kernel "${1:-}"
    exit $?
fi

line="apt-get install -y --no-install-recommends$missing"
if [ "${1:-}" = "--check" ]; then
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: install them with: $line" >&2
    exit 1
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages:$missing" >&2
    echo "deps: run as root:  $line" >&2
    exit 1
fi

echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has no package lists yet; refresh once, then install.
if ! apt-get install -y --no-install-recommends $missing >/dev/null 2>&1; then
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing
fi
fetch_kernel
