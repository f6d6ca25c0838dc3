/*
 * vnet_pci.h - test support: the emu/dev virtio-net model on ndisemu's PCI
 * (through emu/dev/virtio_pci, as the platform's standby NIC), with a
 * backend that counts what the driver transmits and can loop it back.
 */
#ifndef VNET_PCI_H
#define VNET_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ndisemu/emu_device.h"
#include "virtio_net_dev.h"
#include "virtio_pci.h"

typedef struct vnet_pci vnet_pci;

typedef struct vnet_pci_opts {
    uint8_t mac[6];
    uint64_t features; /* 0 = EMU_VNET_FEATURES_ALL */
    uint16_t mtu;
    bool standby;
    bool link_down;
    bool loopback; /* frames the driver sends come back as receives */
    bool no_msix;
    bool transitional;      /* PCI 1AF4:1000, subsystem 1, revision 0 (modern capabilities kept) */
    const emu_dma_ops *dma; /* DMA memory as for real hardware (emu_device_desc.dma) */
} vnet_pci_opts;

struct vnet_pci {
    emu_vnet *dev;
    emu_vpci *glue;
    bool loopback;
    uint64_t tx_frames, tx_bytes, looped;
    uint8_t last_tx[128];
    size_t last_tx_len;
    void (*on_transmit)(void *ctx, const uint8_t *frame, size_t len);
    void *on_transmit_ctx;
    const emu_dma_ops *dma;
};

vnet_pci *vnet_pci_create(const vnet_pci_opts *o);
void vnet_pci_destroy(vnet_pci *p);
void vnet_pci_desc(vnet_pci *p, const char *instance, const char *const *registry,
                   emu_device_desc *d);

#endif /* VNET_PCI_H */
