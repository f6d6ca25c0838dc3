/*
 * vnet_pci.c - the emu/dev virtio-net model plugged into ndisemu as a PCI
 * device, doing what a PCI bus and the OS's interrupt layer do for it:
 * configuration and BAR 0 traps go to the model, guest-physical addresses are
 * ndisemu's DMA mappings (ndisemu enables MSI-X when the driver connects
 * its message interrupts), and a queue notification runs the queue as
 * device work.
 */
#include "vnet_pci.h"

#include <stdlib.h>
#include <string.h>

static void *translate(void *ctx, uint64_t gpa, uint64_t len)
{
    vnet_pci *p = ctx;
    return p->host ? emu_host_dma_ptr(p->host, gpa, (size_t)len) : NULL;
}

static void raise_msix(void *ctx, uint16_t vector)
{
    vnet_pci *p = ctx;
    if (p->host)
        emu_host_msix_signal(p->host, vector);
}

static void set_intx(void *ctx, bool asserted)
{
    vnet_pci *p = ctx;
    if (p->host && asserted)
        emu_host_msix_signal(p->host, 0);
}

static void run_queue(void *arg)
{
    vnet_pci_queue *q = arg;
    if (q->pci->dev)
        emu_vdev_process_queue(emu_vnet_vdev(q->pci->dev), q->index);
}

static void queue_notify(void *ctx, emu_vdev *dev, uint16_t queue)
{
    vnet_pci *p = ctx;
    (void)dev;
    if (p->host && queue < VNET_PCI_QUEUES)
        emu_host_schedule(p->host, 0, run_queue, &p->queues[queue]);
}

static const emu_vdev_host_ops k_host_ops = { translate, raise_msix, set_intx, queue_notify };

static uint32_t cfg_read(void *dev, uint32_t off, unsigned size)
{
    vnet_pci *p = dev;
    return off < 256 ? emu_vdev_cfg_read(emu_vnet_vdev(p->dev), off, size) : 0;
}

static void cfg_write(void *dev, uint32_t off, unsigned size, uint32_t value)
{
    vnet_pci *p = dev;
    if (off < 256)
        emu_vdev_cfg_write(emu_vnet_vdev(p->dev), off, size, value);
}

static uint64_t mmio_read(void *dev, unsigned bar, uint64_t off, unsigned size)
{
    vnet_pci *p = dev;
    return emu_vdev_mmio_read(emu_vnet_vdev(p->dev), bar, off, size);
}

static void mmio_write(void *dev, unsigned bar, uint64_t off, unsigned size, uint64_t value)
{
    vnet_pci *p = dev;
    emu_vdev_mmio_write(emu_vnet_vdev(p->dev), bar, off, size, value);
}

static void attach(void *dev, emu_host *host)
{
    vnet_pci *p = dev;
    p->host = host;
}

static void detach(void *dev)
{
    vnet_pci *p = dev;
    p->host = NULL;
}

static const emu_device_ops k_dev_ops = {
    cfg_read, cfg_write, mmio_read, mmio_write, attach, detach
};

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
    emu_vnet_params vp = { 0 };
    vp.host = &k_host_ops;
    vp.host_ctx = p;
    vp.features = o->features ? o->features : EMU_VNET_FEATURES_ALL;
    memcpy(vp.mac, o->mac, 6);
    vp.mtu = o->mtu;
    vp.link_down = o->link_down;
    p->dev = emu_vnet_create(&vp);
    if (!p->dev) {
        free(p);
        return NULL;
    }
    emu_vnet_offer_standby(p->dev, o->standby);
    emu_vnet_set_backend(p->dev, &k_backend, p);
    p->loopback = o->loopback;
    p->msix = !o->no_msix;
    for (uint16_t i = 0; i < VNET_PCI_QUEUES; i++) {
        p->queues[i].pci = p;
        p->queues[i].index = i;
    }
    return p;
}

void vnet_pci_destroy(vnet_pci *p)
{
    if (!p)
        return;
    emu_vnet_destroy(p->dev);
    free(p);
}

void vnet_pci_desc(vnet_pci *p, const char *instance, const char *const *registry,
                   emu_device_desc *d)
{
    memset(d, 0, sizeof(*d));
    d->instance = instance;
    d->pnp_id = "PCI\\VEN_1AF4&DEV_1041";
    d->bar_size[0] = EMU_VDEV_BAR0_SIZE;
    d->msix_vectors = p->msix ? 4 : 0;
    d->registry = registry;
    d->ops = &k_dev_ops;
    d->dev = p;
}
