#!/bin/sh
# Builds the lab guest: vmlinuz and an initramfs with busybox, the kernel
# modules the lab needs (and what they depend on), vfo-real with vfo.so, the
# VF miniport, tapprot, ndisemu and every shared library they load, iperf3,
# and tools/lab/guest-init.sh as /init. Everything comes from Debian
# packages (busybox-static, iperf3, the guest kernel of guest-kernel.sh)
# and udpseq (the migration lab's UDP stream, tools/lab/lab.py)
# and from the build tree.
#
# Usage: mkinitramfs.sh BUILD_DIR OUT_DIR
#   BUILD_DIR: a host build with vfo-real, vfo, vfnic, tapprot and udpseq built
#   OUT_DIR:   receives vmlinuz and initramfs.cpio.gz (rebuilt only when an
#              input is newer)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
out=$2
mkdir -p "$out"
out=$(cd "$out" && pwd)

deb=$("$here/guest-kernel.sh" path)
bins="$build/tools/vfo-real/vfo-real $build/driver/vfo.so $build/emu/drivers/vfnic/vfnic.so
      $build/emu/drivers/tapprot/tapprot.so $build/tools/lab/udpseq"
for f in $bins /bin/busybox /usr/bin/iperf3; do
    [ -e "$f" ] || { echo "mkinitramfs: missing $f" >&2; exit 1; }
done

# Up to date? (every input older than the image)
if [ -f "$out/initramfs.cpio.gz" ] && [ -f "$out/vmlinuz" ]; then
    stale=0
    for f in $bins "$deb" "$here/guest-init.sh" "$here/guest-lab.sh" "$0" "$build/driver/vfo.desc"; do
        [ "$f" -nt "$out/initramfs.cpio.gz" ] && stale=1
    done
    [ $stale -eq 0 ] && exit 0
fi

kx="$out/kernel"
rm -rf "$kx" "$out/root"
mkdir -p "$kx"
dpkg-deb -x "$deb" "$kx"
kver=$(ls "$kx/lib/modules")
cp "$kx/boot/vmlinuz-$kver" "$out/vmlinuz"

root="$out/root"
mkdir -p "$root/bin" "$root/lib/vfo" "$root/lib/modules" "$root/proc" "$root/sys" "$root/dev" \
         "$root/run" "$root/tmp" "$root/etc"
cp /bin/busybox "$root/bin/busybox"

# Modules: the lab's, then what each depends on (the .ko's modinfo
# "depends=" field: the package ships no modules.dep), loaded deps first.
# Two load lists: load.list for vfo (virtio-net through uio, the kernel's
# virtio_net never loaded) and load-linux.list for the comparison guest of
# tools/lab/lab.py (the kernel's own virtio_net + net_failover).
moddir="$kx/lib/modules/$kver/kernel"
add_module() {
    local list name path dep
    list=$1
    name=$2
    grep -qx "$name.ko" "$list" && return 0
    path=$(find "$moddir" -name "$name.ko" -o -name "$(echo "$name" | tr _ -).ko" | head -n 1)
    [ -n "$path" ] || { echo "mkinitramfs: module $name not in $deb" >&2; exit 1; }
    for dep in $(strings -a "$path" | sed -n 's/^depends=//p' | tr , ' '); do
        add_module "$list" "$dep"
    done
    cp "$path" "$root/lib/modules/$name.ko"
    echo "$name.ko" >> "$list"
}
: > "$root/lib/modules/load.list"
# vfio_iommu_type1 is loaded on demand by vfio (no depends= names it).
for m in uio uio_pci_generic vfio_pci vfio_iommu_type1 e1000e tun; do
    add_module "$root/lib/modules/load.list" "$m"
done
: > "$root/lib/modules/load-linux.list"
for m in virtio_pci net_failover virtio_net e1000e; do
    add_module "$root/lib/modules/load-linux.list" "$m"
done

# Programs, drivers and the libraries they load (ldd resolves libndisemu
# through the build tree's RUNPATH).
cp "$build/tools/vfo-real/vfo-real" "$build/tools/lab/udpseq" /usr/bin/iperf3 "$root/bin/"
cp "$build/driver/vfo.so" "$build/driver/vfo.desc" "$build/emu/drivers/vfnic/vfnic.so" \
   "$build/emu/drivers/vfnic/vfnic.desc" "$build/emu/drivers/vfnic/vfnic_ndisvf.desc" \
   "$build/emu/drivers/tapprot/tapprot.so" "$build/emu/drivers/tapprot/tapprot.desc" \
   "$root/lib/vfo/"
for f in $bins /usr/bin/iperf3; do
    ldd "$f" | awk '/=> \// {print $3} /^\t\/lib/ {print $1}'
done | sort -u | while read -r lib; do
    case "$lib" in
    /lib64/*) mkdir -p "$root/lib64"; cp -L "$lib" "$root/lib64/" ;;
    *) cp -L "$lib" "$root/lib/vfo/" ;;
    esac
done

# Debug information stays in the build tree: a smaller image boots faster.
strip --strip-debug "$root/bin/vfo-real" "$root"/lib/vfo/*.so* 2>/dev/null || true

cp "$here/guest-init.sh" "$root/init"
cp "$here/guest-lab.sh" "$root/lab-init.sh"
chmod +x "$root/init"
(cd "$root" && find . | /bin/busybox cpio -o -H newc 2>/dev/null | gzip -1 > "$out/initramfs.cpio.gz.tmp")
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
rm -rf "$kx/lib" "$root"
echo "mkinitramfs: $out/initramfs.cpio.gz ($(du -k "$out/initramfs.cpio.gz" | cut -f1) KiB, kernel $kver)"
