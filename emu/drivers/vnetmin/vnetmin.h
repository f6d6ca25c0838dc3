/*
 * vnetmin.h - the minimal virtio-net miniport of the failover scenarios,
 * standing in for the virtio-net driver under test until vfo.sys exists.
 *
 * It does what QEMU's failover qtest does with the standby device and no
 * more: reset, ACKNOWLEDGE, DRIVER, read the offered features, accept
 * VERSION_1, MAC, STATUS and (unless the registry value Standby is 0)
 * STANDBY, FEATURES_OK, DRIVER_OK; then it is an Ethernet adapter with the
 * device's MAC whose link follows the device's status (configuration
 * interrupts). It has no data path: no virtqueues, sends are completed with
 * NDIS_STATUS_FAILURE and counted, nothing is received. So with this driver
 * the guest keeps no connectivity when the VF leaves, which is what a guest
 * without a failover driver gets.
 */
#ifndef VNETMIN_H
#define VNETMIN_H

#include <ndis.h>

#include "ndisutil.h"
#include "vio.h"

#define VM_TAG 'nmtV'

/* virtio-net device-specific bits this driver knows (virtio 1.x, 5.1.3). */
#define VM_F_MAC      5
#define VM_F_STATUS   16
#define VM_F_STANDBY  62
#define VM_CFG_MAC    0
#define VM_CFG_STATUS 6
#define VM_S_LINK_UP  1

typedef struct vm_adapter {
    NDIS_HANDLE handle, intr;
    volatile UCHAR *regs;
    ULONG regs_len;
    NDIS_PHYSICAL_ADDRESS regs_pa;
    uint16_t msix_count;
    vio_dev *vdev;
    uint64_t features;
    UCHAR mac[6];
    BOOLEAN link_up, standby_wanted;
    NDIS_SPIN_LOCK lock;
    ULONG packet_filter, lookahead;
    UCHAR mcast[32][6];
    ULONG n_mcast;
    ULONG64 sends_refused;
} vm_adapter;

extern const vio_os_ops vm_os_ops;

#endif /* VNETMIN_H */
