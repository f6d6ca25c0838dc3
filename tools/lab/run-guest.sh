#!/bin/sh
# The lab guest's QEMU command line (TCG: no KVM needed), for running it by
# hand; tools/lab/realdev-test.py builds the same one.
#
# Usage: [VFO_ROUTE=uio|vfio] run-guest.sh LAB_DIR [kernel command line additions...]
#   VFO_ROUTE: the DMA route the guest offers vfo-real (default uio; vfio
#   adds QEMU's intel-iommu and boots the guest with intel_iommu=on)
#   LAB_DIR holds vmlinuz and initramfs.cpio.gz (tools/lab/mkinitramfs.sh).
#   The QMP socket is LAB_DIR/qmp.sock; e.g. the VF's link:
#     echo '{"execute":"qmp_capabilities"}{"execute":"set_link",
#           "arguments":{"name":"hostdev0","up":false}}' | socat - UNIX:LAB_DIR/qmp.sock
#
# The machine: q35, one CPU, 512 MiB; two PCIe root ports; a virtio-net
# function with failover=on (the standby, driven by vfo in ndisemu) and an
# e1000e as its failover primary (failover_pair_id: QEMU hides it until the
# guest acknowledges VIRTIO_NET_F_STANDBY, then hot-plugs it). Both NICs
# sit on one QEMU hub with user-mode networking (10.0.2.2 is the host), so
# either path reaches the same network and the same NAT state.
set -eu
lab=$1
shift
route=${VFO_ROUTE:-uio}
case $route in
uio) dma="hugepages=16" ;;
vfio) dma="intel_iommu=on iommu=pt" ;;
*) echo "run-guest: VFO_ROUTE is uio or vfio" >&2; exit 2 ;;
esac
exec qemu-system-x86_64 $(sed -n "s/^#QEMU //p; s/^#QEMU-$route //p" "$(dirname "$0")/qemu.args" |
    tr '\n' ' ' | sed "s|@LAB@|$lab|g") \
    -append "console=ttyS0 loglevel=4 ipv6.disable=1 $dma panic=-1 vfo.mode=shell $*"
