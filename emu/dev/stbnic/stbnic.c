/*
 * stbnic.c - see stbnic.h.
 *
 * nic->mu guards the port, the receive queue and the counters, which the
 * switch and the hypervisor touch outside the device lock. The device model
 * itself is entered only under ndisemu's device lock (device work), or
 * directly while the NIC is unplugged (nothing else enters it then).
 */
#include "stbnic.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_net_dev.h"
#include "virtio_pci.h"

#define VNET_TYPE    1
#define MSIX_VECTORS 4 /* receive, transmit, control, configuration */
#define RXQ_CAP      256
#define RX_DELAY     1000 /* ns from a frame's arrival to the device placing it */
#define MAX_REG      8
#define MAX_FRAME    1518

typedef struct rx_slot {
    uint32_t len;
    uint8_t data[MAX_FRAME];
} rx_slot;

struct emu_stbnic {
    pthread_mutex_t mu;
    emu_stbnic_cfg cfg;
    emu_vpci *glue;
    emu_vnet *dev;
    emu_port *port;
    emu_stbnic_features_fn on_features;
    void *on_features_ctx;
    bool standby_offered, link_up;
    uint64_t driver_features;
    rx_slot *rxq;
    unsigned rxq_head, rxq_count;
    bool rx_work_queued;
    char reg_store[MAX_REG][64];
    const char *reg[MAX_REG + 1];
    emu_stbnic_stats st;
};

/* ---- the backend: a tap behind QEMU ---- */

static void to_wire(void *ctx, const uint8_t *frame, size_t len, const emu_vnet_meta *meta)
{
    emu_stbnic *nic = ctx;
    (void)meta;
    pthread_mutex_lock(&nic->mu);
    emu_port *port = nic->port;
    nic->st.tx_frames++;
    pthread_mutex_unlock(&nic->mu);
    if (port)
        emu_port_send(port, frame, len);
}

/* Device context: the driver transmitted a frame. */
static void backend_transmit(void *ctx, emu_vnet *dev, const uint8_t *frame, size_t len,
                             const emu_vnet_meta *meta)
{
    (void)dev;
    if (meta->gso_type != EMU_VNET_GSO_NONE) {
        if (emu_vnet_gso_segment(frame, len, meta, to_wire, ctx) == 0) {
            emu_stbnic *nic = ctx;
            pthread_mutex_lock(&nic->mu);
            nic->st.tx_gso_dropped++;
            pthread_mutex_unlock(&nic->mu);
        }
        return;
    }
    if (meta->flags & EMU_VNET_META_CSUM_PARTIAL) {
        uint8_t copy[MAX_FRAME];
        if (len > sizeof(copy))
            return;
        memcpy(copy, frame, len);
        if (emu_vnet_csum_complete(copy, len, meta->csum_start, meta->csum_offset))
            to_wire(ctx, copy, len, meta);
        return;
    }
    to_wire(ctx, frame, len, meta);
}

/* Device context: hands queued frames to the device until it has no room. */
static void drain(emu_stbnic *nic)
{
    pthread_mutex_lock(&nic->mu);
    nic->rx_work_queued = false;
    while (nic->rxq_count) {
        rx_slot *f = &nic->rxq[nic->rxq_head];
        emu_vnet_rx_result r = emu_vnet_receive(nic->dev, f->data, f->len, NULL);
        if (r == EMU_VNET_RX_NO_BUFFERS || r == EMU_VNET_RX_NOT_READY)
            break; /* kept: retried at rx_ready */
        if (r == EMU_VNET_RX_DELIVERED)
            nic->st.rx_frames++;
        else
            nic->st.rx_refused++;
        nic->rxq_head = (nic->rxq_head + 1) % RXQ_CAP;
        nic->rxq_count--;
    }
    pthread_mutex_unlock(&nic->mu);
}

static void rx_work(void *arg)
{
    drain(arg);
}

static void backend_rx_ready(void *ctx, emu_vnet *dev)
{
    (void)dev;
    drain(ctx);
}

static const emu_vnet_backend k_backend = {
    .transmit = backend_transmit,
    .rx_ready = backend_rx_ready,
};

/* Switch context: a frame for the guest. */
static void port_rx(void *ctx, const uint8_t *frame, size_t len, unsigned from)
{
    emu_stbnic *nic = ctx;
    (void)from;
    pthread_mutex_lock(&nic->mu);
    if (nic->rxq_count == RXQ_CAP || len > MAX_FRAME) {
        nic->st.rx_dropped++;
    } else {
        rx_slot *s = &nic->rxq[(nic->rxq_head + nic->rxq_count++) % RXQ_CAP];
        s->len = (uint32_t)len;
        memcpy(s->data, frame, len);
        if (!nic->rx_work_queued)
            nic->rx_work_queued = emu_vpci_schedule(nic->glue, RX_DELAY, rx_work, nic) != 0;
        if (!nic->rx_work_queued) { /* unplugged: nobody to give it to */
            nic->rxq_count--;
            nic->st.rx_dropped++;
        }
    }
    pthread_mutex_unlock(&nic->mu);
}

/* ---- device events ---- */

static void features_ok(void *ctx, emu_vnet *dev, uint64_t features)
{
    emu_stbnic *nic = ctx;
    (void)dev;
    pthread_mutex_lock(&nic->mu);
    nic->driver_features = features;
    nic->st.negotiations++;
    emu_stbnic_features_fn fn = nic->on_features;
    void *fctx = nic->on_features_ctx;
    pthread_mutex_unlock(&nic->mu);
    if (fn)
        fn(fctx, nic, features);
}

static const emu_vnet_events k_events = { .features_ok = features_ok };

/* ---- life cycle ---- */

static void copy_registry(emu_stbnic *nic, const char *const *reg)
{
    unsigned n = 0;
    for (; reg && reg[n] && n < MAX_REG; n++) {
        snprintf(nic->reg_store[n], sizeof(nic->reg_store[n]), "%s", reg[n]);
        nic->reg[n] = nic->reg_store[n];
    }
    nic->reg[n] = NULL;
    nic->cfg.registry = nic->reg;
}

emu_stbnic *emu_stbnic_create(const emu_stbnic_cfg *cfg)
{
    if (!cfg)
        return NULL;
    emu_stbnic *nic = calloc(1, sizeof(*nic));
    if (!nic)
        return NULL;
    pthread_mutex_init(&nic->mu, NULL);
    nic->cfg = *cfg;
    copy_registry(nic, cfg->registry);
    nic->link_up = !cfg->link_down;
    nic->rxq = calloc(RXQ_CAP, sizeof(rx_slot));
    nic->glue = emu_vpci_create();
    emu_vnet_params p = { .host = emu_vpci_host_ops(),
                          .host_ctx = nic->glue,
                          .msix_vectors = MSIX_VECTORS,
                          .features = EMU_VNET_FEATURES_ALL,
                          .link_down = cfg->link_down };
    memcpy(p.mac, cfg->mac, 6);
    nic->dev = nic->rxq && nic->glue ? emu_vnet_create(&p) : NULL;
    if (nic->dev && cfg->transitional && emu_vdev_make_transitional(emu_vnet_vdev(nic->dev)) != 0) {
        emu_vnet_destroy(nic->dev);
        nic->dev = NULL;
    }
    if (!nic->dev) {
        emu_stbnic_destroy(nic);
        return NULL;
    }
    emu_vpci_bind(nic->glue, emu_vnet_vdev(nic->dev), VNET_TYPE, MSIX_VECTORS);
    emu_vnet_set_backend(nic->dev, &k_backend, nic);
    emu_vnet_set_events(nic->dev, &k_events, nic);
    return nic;
}

void emu_stbnic_destroy(emu_stbnic *nic)
{
    if (!nic)
        return;
    emu_stbnic_set_port(nic, NULL);
    emu_vnet_destroy(nic->dev);
    emu_vpci_destroy(nic->glue);
    free(nic->rxq);
    pthread_mutex_destroy(&nic->mu);
    free(nic);
}

void emu_stbnic_set_listener(emu_stbnic *nic, emu_stbnic_features_fn fn, void *ctx)
{
    pthread_mutex_lock(&nic->mu);
    nic->on_features = fn;
    nic->on_features_ctx = ctx;
    pthread_mutex_unlock(&nic->mu);
}

void emu_stbnic_device_desc(emu_stbnic *nic, const char *instance, emu_device_desc *desc)
{
    emu_vpci_device_desc(nic->glue, instance, desc);
    desc->registry = nic->reg;
}

const uint8_t *emu_stbnic_mac(const emu_stbnic *nic)
{
    return nic->cfg.mac;
}

/* ---- host-side controls, applied under the device lock ---- */

static void in_device(emu_stbnic *nic, emu_device_work_fn fn)
{
    if (!emu_vpci_schedule(nic->glue, 0, fn, nic))
        fn(nic);
}

static void apply_offer(void *arg)
{
    emu_stbnic *nic = arg;
    pthread_mutex_lock(&nic->mu);
    bool offer = nic->standby_offered;
    pthread_mutex_unlock(&nic->mu);
    emu_vnet_offer_standby(nic->dev, offer);
}

void emu_stbnic_offer_standby(emu_stbnic *nic, bool offer)
{
    pthread_mutex_lock(&nic->mu);
    nic->standby_offered = offer;
    pthread_mutex_unlock(&nic->mu);
    in_device(nic, apply_offer);
}

static void apply_link(void *arg)
{
    emu_stbnic *nic = arg;
    pthread_mutex_lock(&nic->mu);
    bool up = nic->link_up;
    pthread_mutex_unlock(&nic->mu);
    emu_vnet_set_link(nic->dev, up);
}

void emu_stbnic_set_link(emu_stbnic *nic, bool up)
{
    pthread_mutex_lock(&nic->mu);
    nic->link_up = up;
    pthread_mutex_unlock(&nic->mu);
    in_device(nic, apply_link);
}

void emu_stbnic_set_port(emu_stbnic *nic, emu_port *port)
{
    pthread_mutex_lock(&nic->mu);
    emu_port *old = nic->port;
    nic->port = port;
    pthread_mutex_unlock(&nic->mu);
    if (old)
        emu_port_connect(old, NULL, NULL);
    if (port) {
        emu_port_set_station_mac(port, nic->cfg.mac);
        emu_port_connect(port, port_rx, nic);
    }
}

emu_port *emu_stbnic_port(emu_stbnic *nic)
{
    pthread_mutex_lock(&nic->mu);
    emu_port *p = nic->port;
    pthread_mutex_unlock(&nic->mu);
    return p;
}

static void apply_announce(void *arg)
{
    emu_stbnic *nic = arg;
    emu_vnet_announce(nic->dev);
}

bool emu_stbnic_announce(emu_stbnic *nic)
{
    pthread_mutex_lock(&nic->mu);
    uint64_t f = nic->driver_features;
    nic->st.announces++;
    pthread_mutex_unlock(&nic->mu);
    in_device(nic, apply_announce);
    return (f & EMU_VNET_BIT(EMU_VNET_F_GUEST_ANNOUNCE)) && (f & EMU_VNET_BIT(EMU_VNET_F_CTRL_VQ));
}

uint64_t emu_stbnic_driver_features(emu_stbnic *nic)
{
    pthread_mutex_lock(&nic->mu);
    uint64_t f = nic->driver_features;
    pthread_mutex_unlock(&nic->mu);
    return f;
}

void emu_stbnic_get_stats(emu_stbnic *nic, emu_stbnic_stats *out)
{
    pthread_mutex_lock(&nic->mu);
    *out = nic->st;
    pthread_mutex_unlock(&nic->mu);
}

emu_vpci *emu_stbnic_glue(emu_stbnic *nic)
{
    return nic->glue;
}
