#!/bin/sh
# The lab guest's kernel: a Debian package, kept out of the host's /boot.
#
#   guest-kernel.sh fetch   (root; scripts/deps.sh runs it) downloads the
#                           linux-image-*-amd64 package that Debian 12's
#                           linux-image-amd64 currently depends on into
#                           $VFO_LAB_CACHE with `apt-get download`: nothing
#                           is installed, the host's kernel is untouched.
#   guest-kernel.sh path    prints that package's path (the newest one in the
#                           cache); fails saying how to get it when missing.
#
# tools/lab/mkinitramfs.sh unpacks it with dpkg-deb -x into the build tree:
# vmlinuz and the modules come from the same package, so their versions
# always match.
set -eu
cache=${VFO_LAB_CACHE:-/var/cache/vfo-lab}

newest() {
    ls -1 "$cache"/linux-image-*-amd64_*_amd64.deb 2>/dev/null | sort -V | tail -n 1
}

case "${1:-}" in
fetch)
    if [ -n "$(newest)" ]; then
        exit 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
        echo "guest-kernel: run as root: $0 fetch" >&2
        exit 1
    fi
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
          awk '/Depends: linux-image-[0-9].*-amd64$/ {print $2; exit}')
    if [ -z "$pkg" ]; then
        apt-get update -qq
        pkg=$(apt-cache depends linux-image-amd64 |
              awk '/Depends: linux-image-[0-9].*-amd64$/ {print $2; exit}')
    fi
    [ -n "$pkg" ] || { echo "guest-kernel: linux-image-amd64 names no kernel" >&2; exit 1; }
    mkdir -p "$cache"
    echo "guest-kernel: downloading $pkg into $cache (not installed)"
    (cd "$cache" && apt-get download -q "$pkg" 2>&1 | grep -v 'unsandboxed' || true)
    [ -n "$(newest)" ] || { echo "guest-kernel: apt-get download $pkg failed" >&2; exit 1; }
    ;;
path)
    deb=$(newest)
    if [ -z "$deb" ]; then
        echo "guest-kernel: no guest kernel package in $cache: run as root: scripts/deps.sh" >&2
        exit 1
    fi
    echo "$deb"
    ;;
*)
    echo "usage: $0 fetch|path" >&2
    exit 2
    ;;
esac
