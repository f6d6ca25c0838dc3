/*
 * vnet_pci.c - the emu/dev virtio-net model on ndisemu's PCI through the
 * platform's glue (emu/dev/virtio_pci), with a loopback backend.
 */
#include "vnet_pci.h"

#include <stdlib.h>
#include <string.h>

#define VNET_PCI_MSIX 4 /* config + rx + tx + control */

static void loop_transmit(void *ctx, emu_vnet *dev, const uint8_t *frame, size_t len,
                          const emu_vnet_meta *meta)
{
    vnet_pci *p = ctx;
    p->tx_frames++;
    p->tx_bytes += len;
    if (len <= sizeof(p->last_tx)) {
        memcpy(p->last_tx, frame, len);
        p->last_tx_len = len;
    }
    if (p->on_transmit)
        p->on_transmit(p->on_transmit_ctx, frame, len);
    if (p->loopback && emu_vnet_receive(dev, frame, len, meta) == EMU_VNET_RX_DELIVERED)
        p->looped++;
}

static const emu_vnet_backend k_backend = { loop_transmit, NULL };

vnet_pci *vnet_pci_create(const vnet_pci_opts *o)
{
    vnet_pci *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    uint16_t vectors = o->no_msix ? 0 : VNET_PCI_MSIX;
    p->dma = o->dma;
    p->glue = emu_vpci_create();
    emu_vnet_params vp = { 0 };
    vp.host = emu_vpci_host_ops();
    vp.host_ctx = p->glue;
    vp.features = o->features ? o->features : EMU_VNET_FEATURES_ALL;
    vp.msix_vectors = vectors;
    memcpy(vp.mac, o->mac, 6);
    vp.mtu = o->mtu;
    vp.link_down = o->link_down;
    p->dev = p->glue ? emu_vnet_create(&vp) : NULL;
    if (p->dev && o->transitional && emu_vdev_make_transitional(emu_vnet_vdev(p->dev)) != 0) {
        emu_vnet_destroy(p->dev);
        p->dev = NULL;
    }
    if (!p->dev) {
        emu_vpci_destroy(p->glue);
        free(p);
        return NULL;
    }
    emu_vpci_bind(p->glue, emu_vnet_vdev(p->dev), 1 /* network */, vectors);
    emu_vnet_offer_standby(p->dev, o->standby);
    emu_vnet_set_backend(p->dev, &k_backend, p);
    p->loopback = o->loopback;
    return p;
}

void vnet_pci_destroy(vnet_pci *p)
{
    if (!p)
        return;
    emu_vnet_destroy(p->dev);
    emu_vpci_destroy(p->glue);
    free(p);
}

void vnet_pci_desc(vnet_pci *p, const char *instance, const char *const *registry,
                   emu_device_desc *d)
{
    emu_vpci_device_desc(p->glue, instance, d);
    d->registry = registry;
    d->dma = p->dma;
}
