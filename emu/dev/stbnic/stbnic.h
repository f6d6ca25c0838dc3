/*
 * stbnic.h - the standby NIC a hypervisor model gives a guest: emu/dev's
 * virtio-net device (virtio_net_dev.h) on ndisemu's PCI (virtio_pci.h),
 * with its backend on a host switch port, and the hooks QEMU's failover
 * needs: offer STANDBY, hear when the driver's features are accepted,
 * toggle the link, move the backend to another host's port after a
 * migration (the device, its rings and the guest's driver state stay), and
 * announce.
 *
 * The backend behaves as a tap behind QEMU: what the driver transmits goes
 * to the switch as wire frames (GSO frames segmented, partial checksums
 * completed, as the host kernel does); frames from the switch queue (up to
 * 256, more are dropped and counted) until the driver has receive buffers.
 */
#ifndef EMU_STBNIC_H
#define EMU_STBNIC_H

#include <stdbool.h>
#include <stdint.h>

#include "ndisemu/emu_device.h"
#include "virtio_pci.h"
#include "vswitch.h"

typedef struct emu_stbnic emu_stbnic;

typedef struct emu_stbnic_cfg {
    uint8_t mac[6];
    bool link_down;
    bool transitional;           /* PCI 1AF4:1000 (QEMU without disable-legacy=on) */
    const char *const *registry; /* the adapter's registry ("Standby=0"); copied */
} emu_stbnic_cfg;

/* Called from device context when the driver's FEATURES_OK was accepted. */
typedef void (*emu_stbnic_features_fn)(void *ctx, emu_stbnic *nic, uint64_t features);

#define EMU_STBNIC_F_STANDBY 62

emu_stbnic *emu_stbnic_create(const emu_stbnic_cfg *cfg);
void emu_stbnic_destroy(emu_stbnic *nic);
void emu_stbnic_set_listener(emu_stbnic *nic, emu_stbnic_features_fn fn, void *ctx);
/* Fills desc for the PCI bus; instance must outlive it. */
void emu_stbnic_device_desc(emu_stbnic *nic, const char *instance, emu_device_desc *desc);
const uint8_t *emu_stbnic_mac(const emu_stbnic *nic);

/* From the host side (platform work or the top level): */
void emu_stbnic_offer_standby(emu_stbnic *nic, bool offer);
void emu_stbnic_set_link(emu_stbnic *nic, bool up);
/* The backend's switch port (NULL: none); the old one is disconnected. */
void emu_stbnic_set_port(emu_stbnic *nic, emu_port *port);
emu_port *emu_stbnic_port(emu_stbnic *nic);
/* After a migration: asks the guest to announce (ANNOUNCE) when its driver
 * negotiated GUEST_ANNOUNCE with the control queue; returns whether it did. */
bool emu_stbnic_announce(emu_stbnic *nic);
/* The PCI glue (its interrupt and DMA counters). */
emu_vpci *emu_stbnic_glue(emu_stbnic *nic);
/* The features the driver accepted (0 before FEATURES_OK). */
uint64_t emu_stbnic_driver_features(emu_stbnic *nic);

typedef struct emu_stbnic_stats {
    uint64_t negotiations;
    uint64_t tx_frames;  /* wire frames sent to the switch (after segmentation) */
    uint64_t rx_frames;  /* frames delivered to the driver */
    uint64_t rx_refused; /* the device refused them (filter, link down, bad frame) */
    uint64_t rx_dropped; /* queue full, or the NIC unplugged */
    uint64_t announces;
    uint64_t tx_gso_dropped; /* GSO frames the host refused (bad IP length, unparsable) */
} emu_stbnic_stats;
void emu_stbnic_get_stats(emu_stbnic *nic, emu_stbnic_stats *out);

#endif /* EMU_STBNIC_H */
