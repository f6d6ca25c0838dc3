/*
 * stbnic.h - the standby NIC a hypervisor model gives a guest: a virtio-net
 * PCI device (virtio_dev on ndisemu's PCI) with its backend on a host
 * switch port, and the hooks QEMU's failover needs: offer STANDBY, hear
 * when the driver's features are accepted, toggle the link, move the
 * backend to another host's port after a migration, announce.
 *
 * Models:
 *  - EMU_STBNIC_BARE: the virtio-net identity only (MAC, STATUS, STANDBY,
 *    configuration space) with idle queues: what QEMU's failover qtest
 *    exercises. Frames from the switch are counted and dropped.
 */
#ifndef EMU_STBNIC_H
#define EMU_STBNIC_H

#include <stdbool.h>
#include <stdint.h>

#include "ndisemu/emu_device.h"
#include "vswitch.h"

typedef struct emu_stbnic emu_stbnic;

typedef enum emu_stbnic_model {
    EMU_STBNIC_BARE,
} emu_stbnic_model;

typedef struct emu_stbnic_cfg {
    emu_stbnic_model model;
    uint8_t mac[6];
    bool link_down;
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
/* After a migration: sets ANNOUNCE when the driver negotiated it; returns
 * whether it did (the bare model never does). */
bool emu_stbnic_announce(emu_stbnic *nic);
/* The device features the driver accepted (0 before FEATURES_OK). */
uint64_t emu_stbnic_driver_features(emu_stbnic *nic);

typedef struct emu_stbnic_stats {
    uint64_t negotiations, rx_dropped, tx_frames, rx_frames;
} emu_stbnic_stats;
void emu_stbnic_get_stats(emu_stbnic *nic, emu_stbnic_stats *out);

#endif /* EMU_STBNIC_H */
