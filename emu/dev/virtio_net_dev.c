/*
 * virtio_net_dev.c - the virtio-net personality's life cycle, feature
 * negotiation hooks, configuration space, QEMU-like controls and faults.
 */
#include <stdlib.h>

#include "virtio_net_dev_internal.h"

#define DEFAULT_MTU        1500u
#define DEFAULT_QUEUE      256u
#define DEFAULT_CTRL_QUEUE 64u

/* ---- held buffers --------------------------------------------------------- */

static bool held_init(emu_vnet_held *h, uint32_t cap)
{
    h->reqs = calloc(cap, sizeof(*h->reqs));
    h->written = calloc(cap, sizeof(*h->written));
    h->cap = cap;
    h->head = h->count = 0;
    return h->reqs && h->written;
}

static void held_free(emu_vnet_held *h)
{
    free(h->reqs);
    free(h->written);
}

bool emu_vnet_hold(emu_vnet_held *h, const emu_vdev_req *req, uint32_t written)
{
    uint32_t at;

    if (h->count == h->cap)
        return false;
    at = (h->head + h->count) % h->cap;
    h->reqs[at] = *req;
    h->written[at] = written;
    h->count++;
    return true;
}

bool emu_vnet_fault_consume(emu_vnet *d, emu_vnet_fault f, uint32_t *value)
{
    emu_vnet_fault_state *s = &d->faults[f];

    if (s->count == 0)
        return false;
    if (s->count != EMU_VDEV_FOREVER && --s->count == 0)
        d->faults_armed &= ~(1u << f);
    if (value)
        *value = s->value;
    d->stats.faults_fired++;
    return true;
}

/* ---- configuration space ----------------------------------------------------- */

void emu_vnet_store_status(emu_vnet *d, bool notify)
{
    uint8_t le[2] = { (uint8_t)d->status, (uint8_t)(d->status >> 8) };

    emu_vdev_config_set(d->vdev, EMU_VNET_CFG_STATUS, le, 2);
    if (notify)
        emu_vdev_config_changed(d->vdev);
}

static void config_init(emu_vnet *d)
{
    uint8_t cfg[EMU_VNET_CONFIG_SIZE] = { 0 };
    uint16_t mtu = d->params.mtu;

    memcpy(cfg + EMU_VNET_CFG_MAC, d->params.mac, 6);
    cfg[EMU_VNET_CFG_STATUS] = (uint8_t)d->status;
    cfg[EMU_VNET_CFG_PAIRS] = 1;
    cfg[EMU_VNET_CFG_MTU] = (uint8_t)mtu;
    cfg[EMU_VNET_CFG_MTU + 1] = (uint8_t)(mtu >> 8);
    memset(cfg + EMU_VNET_CFG_SPEED, 0xFF, 4); /* unknown, QEMU's default */
    cfg[EMU_VNET_CFG_DUPLEX] = 0xFF;
    emu_vdev_config_set(d->vdev, 0, cfg, sizeof(cfg));
}

void emu_vnet_config_poke(emu_vnet *d, uint32_t offset, const void *data, uint32_t len, bool notify)
{
    emu_vdev_config_set(d->vdev, offset, data, len);
    if (notify)
        emu_vdev_config_changed(d->vdev);
}

/* ---- personality hooks -------------------------------------------------------------- */

/* The spec's "Feature bit requirements": a driver that breaks them does not
 * get FEATURES_OK. */
static bool on_validate(emu_vdev *dev, void *ctx, uint64_t f)
{
    const uint64_t needs_ctrl =
        EMU_VNET_BIT(EMU_VNET_F_CTRL_RX) | EMU_VNET_BIT(EMU_VNET_F_CTRL_VLAN) |
        EMU_VNET_BIT(EMU_VNET_F_GUEST_ANNOUNCE) | EMU_VNET_BIT(EMU_VNET_F_CTRL_MAC_ADDR);
    const uint64_t guest_gso =
        EMU_VNET_BIT(EMU_VNET_F_GUEST_TSO4) | EMU_VNET_BIT(EMU_VNET_F_GUEST_TSO6);
    const uint64_t host_gso =
        EMU_VNET_BIT(EMU_VNET_F_HOST_TSO4) | EMU_VNET_BIT(EMU_VNET_F_HOST_TSO6);

    (void)dev;
    (void)ctx;
    if ((f & needs_ctrl) && !(f & EMU_VNET_BIT(EMU_VNET_F_CTRL_VQ)))
        return false;
    if ((f & guest_gso) && !(f & EMU_VNET_BIT(EMU_VNET_F_GUEST_CSUM)))
        return false;
    return !((f & host_gso) && !(f & EMU_VNET_BIT(EMU_VNET_F_CSUM)));
}

static void features_accepted(emu_vnet *d)
{
    d->features = emu_vdev_driver_features(d->vdev);
    d->mergeable = emu_vnet_has(d, EMU_VNET_F_MRG_RXBUF);
    d->guest_csum = emu_vnet_has(d, EMU_VNET_F_GUEST_CSUM);
    /* QEMU: without CTRL_VLAN every VLAN passes; with it, none until added. */
    memset(d->vlans, emu_vnet_has(d, EMU_VNET_F_CTRL_VLAN) ? 0x00 : 0xFF, sizeof(d->vlans));
    if (d->events && d->events->features_ok)
        d->events->features_ok(d->events_ctx, d, d->features);
}

static void on_status(emu_vdev *dev, void *ctx, uint8_t old_status, uint8_t new_status)
{
    emu_vnet *d = ctx;

    (void)dev;
    if ((new_status & 0x08) && !(old_status & 0x08))
        features_accepted(d);
    if ((new_status & 0x04) && !(old_status & 0x04) && d->events && d->events->driver_ok)
        d->events->driver_ok(d->events_ctx, d);
}

static void on_reset(emu_vdev *dev, void *ctx)
{
    emu_vnet *d = ctx;
    unsigned q;

    (void)dev;
    d->rx_stash.count = 0;
    for (q = 0; q < 3; q++)
        d->held[q].count = 0;
    d->features = 0;
    d->mergeable = false;
    d->guest_csum = false;
    emu_vnet_filter_reset(d);
    d->status &= (uint16_t)~EMU_VNET_S_ANNOUNCE;
    emu_vnet_store_status(d, false);
    emu_vdev_config_set(d->vdev, EMU_VNET_CFG_MAC, d->params.mac, 6);
    if (d->events && d->events->reset)
        d->events->reset(d->events_ctx, d);
}

/* ---- create / destroy ----------------------------------------------------------------- */

static void apply_defaults(emu_vnet_params *p)
{
    if (!p->mtu)
        p->mtu = DEFAULT_MTU;
    if (!p->rx_queue_size)
        p->rx_queue_size = DEFAULT_QUEUE;
    if (!p->tx_queue_size)
        p->tx_queue_size = DEFAULT_QUEUE;
    if (!p->ctrl_queue_size)
        p->ctrl_queue_size = DEFAULT_CTRL_QUEUE;
}

static bool alloc_buffers(emu_vnet *d)
{
    return held_init(&d->rx_stash, d->params.rx_queue_size) &&
           held_init(&d->held[EMU_VNET_QUEUE_RX], d->params.rx_queue_size) &&
           held_init(&d->held[EMU_VNET_QUEUE_TX], d->params.tx_queue_size) &&
           held_init(&d->held[EMU_VNET_QUEUE_CTRL], d->params.ctrl_queue_size) &&
           (d->staging = malloc(EMU_VNET_STAGING)) != NULL;
}

static void set_personality(emu_vnet *d)
{
    d->queues[EMU_VNET_QUEUE_RX] =
        (emu_vdev_queue_info){ d->params.rx_queue_size, emu_vnet_rx_process };
    d->queues[EMU_VNET_QUEUE_TX] =
        (emu_vdev_queue_info){ d->params.tx_queue_size, emu_vnet_tx_process };
    d->queues[EMU_VNET_QUEUE_CTRL] =
        (emu_vdev_queue_info){ d->params.ctrl_queue_size, emu_vnet_ctrl_process };
    d->pers = (emu_vdev_personality){
        .device_type = 1,
        .pci_class = 0x020000,
        .features = d->offered,
        .config_size = EMU_VNET_CONFIG_SIZE,
        .num_queues = 3,
        .queues = d->queues,
        .validate_features = on_validate,
        .status_changed = on_status,
        .reset = on_reset,
    };
}

emu_vnet *emu_vnet_create(const emu_vnet_params *params)
{
    emu_vdev_params vp = { 0 };
    emu_vnet *d;

    if (!params || !params->host)
        return NULL;
    d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->params = *params;
    apply_defaults(&d->params);
    d->offered = d->params.features;
    d->status = d->params.link_down ? 0 : EMU_VNET_S_LINK_UP;
    if (!alloc_buffers(d)) {
        emu_vnet_destroy(d);
        return NULL;
    }
    set_personality(d);
    vp.personality = &d->pers;
    vp.personality_ctx = d;
    vp.host = d->params.host;
    vp.host_ctx = d->params.host_ctx;
    vp.msix_vectors = d->params.msix_vectors;
    d->vdev = emu_vdev_create(&vp);
    if (!d->vdev) {
        emu_vnet_destroy(d);
        return NULL;
    }
    config_init(d);
    emu_vnet_filter_reset(d);
    return d;
}

void emu_vnet_destroy(emu_vnet *d)
{
    unsigned q;

    if (!d)
        return;
    emu_vdev_destroy(d->vdev);
    held_free(&d->rx_stash);
    for (q = 0; q < 3; q++)
        held_free(&d->held[q]);
    free(d->staging);
    free(d);
}

emu_vdev *emu_vnet_vdev(emu_vnet *d)
{
    return d->vdev;
}

void emu_vnet_set_backend(emu_vnet *d, const emu_vnet_backend *backend, void *ctx)
{
    d->backend = backend;
    d->backend_ctx = ctx;
}

void emu_vnet_set_events(emu_vnet *d, const emu_vnet_events *events, void *ctx)
{
    d->events = events;
    d->events_ctx = ctx;
}

/* ---- controls -------------------------------------------------------------------------- */

void emu_vnet_offer_features(emu_vnet *d, uint64_t features)
{
    d->offered = features;
    emu_vdev_offer_features(d->vdev, features | EMU_VNET_TRANSPORT_FEATURES);
}

void emu_vnet_offer_standby(emu_vnet *d, bool offer)
{
    uint64_t bit = EMU_VNET_BIT(EMU_VNET_F_STANDBY);

    emu_vnet_offer_features(d, offer ? d->offered | bit : d->offered & ~bit);
}

uint64_t emu_vnet_driver_features(const emu_vnet *d)
{
    return d->features;
}

bool emu_vnet_standby_acked(const emu_vnet *d)
{
    return emu_vnet_has(d, EMU_VNET_F_STANDBY);
}

void emu_vnet_set_link(emu_vnet *d, bool up)
{
    uint16_t old = d->status;

    if (up)
        d->status |= EMU_VNET_S_LINK_UP;
    else
        d->status &= (uint16_t)~EMU_VNET_S_LINK_UP;
    if (d->status != old)
        emu_vnet_store_status(d, true);
}

bool emu_vnet_link_up(const emu_vnet *d)
{
    return (d->status & EMU_VNET_S_LINK_UP) != 0;
}

void emu_vnet_set_speed_duplex(emu_vnet *d, uint32_t speed, uint8_t duplex)
{
    uint8_t raw[5] = { (uint8_t)speed, (uint8_t)(speed >> 8), (uint8_t)(speed >> 16),
                       (uint8_t)(speed >> 24), duplex };

    emu_vnet_config_poke(d, EMU_VNET_CFG_SPEED, raw, sizeof(raw), true);
}

/* QEMU's self-announcement frame: a RARP request (RFC 903) for our MAC. */
static void send_host_rarp(emu_vnet *d)
{
    uint8_t f[60] = { 0 };
    static const emu_vnet_meta none = { 0 };

    memset(f, 0xFF, 6);
    memcpy(f + 6, d->mac, 6);
    emu_vnet_put_be16(f + 12, 0x8035);
    emu_vnet_put_be16(f + 14, 1);      /* Ethernet */
    emu_vnet_put_be16(f + 16, 0x0800); /* IPv4 */
    f[18] = 6;
    f[19] = 4;
    emu_vnet_put_be16(f + 20, 3); /* reverse request */
    memcpy(f + 22, d->mac, 6);
    memcpy(f + 32, d->mac, 6);
    if (d->backend && d->backend->transmit)
        d->backend->transmit(d->backend_ctx, d, f, sizeof(f), &none);
}

bool emu_vnet_announce(emu_vnet *d)
{
    d->stats.announces++;
    if (d->params.host_announce_rarp)
        send_host_rarp(d);
    if (!emu_vnet_has(d, EMU_VNET_F_GUEST_ANNOUNCE) || !emu_vnet_has(d, EMU_VNET_F_CTRL_VQ))
        return false;
    d->status |= EMU_VNET_S_ANNOUNCE;
    emu_vnet_store_status(d, true);
    return true;
}

bool emu_vnet_announce_pending(const emu_vnet *d)
{
    return (d->status & EMU_VNET_S_ANNOUNCE) != 0;
}

void emu_vnet_get_filter(const emu_vnet *d, emu_vnet_filter *out)
{
    memcpy(out->mac, d->mac, 6);
    out->promisc = d->promisc;
    out->allmulti = d->allmulti;
    out->uni_overflow = d->uni_overflow;
    out->multi_overflow = d->multi_overflow;
    out->n_uc = d->n_uc;
    out->n_mc = d->n_mc;
    memcpy(out->uc, d->uc, sizeof(out->uc));
    memcpy(out->mc, d->mc, sizeof(out->mc));
}

bool emu_vnet_vlan_allowed(const emu_vnet *d, uint16_t vid)
{
    return vid < EMU_VNET_VLANS && (d->vlans[vid >> 5] >> (vid & 31)) & 1u;
}

/* ---- faults ---------------------------------------------------------------------------- */

void emu_vnet_inject(emu_vnet *d, emu_vnet_fault fault, uint32_t value, uint32_t count)
{
    if ((unsigned)fault >= EMU_VNET_FAULT_COUNT)
        return;
    d->faults[fault].value = value;
    d->faults[fault].count = count;
    if (count)
        d->faults_armed |= 1u << fault;
    else
        d->faults_armed &= ~(1u << fault);
}

static bool held_pop(emu_vnet_held *h, emu_vdev_req *req, uint32_t *written)
{
    if (h->count == 0)
        return false;
    *req = h->reqs[h->head];
    *written = h->written[h->head];
    h->head = (h->head + 1) % h->cap;
    h->count--;
    return true;
}

void emu_vnet_release_held(emu_vnet *d)
{
    emu_vdev_req req;
    uint32_t written;

    while (held_pop(&d->held[EMU_VNET_QUEUE_RX], &req, &written))
        emu_vdev_push(d->vdev, &req, written);
    emu_vdev_signal(d->vdev, EMU_VNET_QUEUE_RX);
    while (held_pop(&d->held[EMU_VNET_QUEUE_TX], &req, &written))
        emu_vnet_tx_process_one(d, &req);
    emu_vdev_signal(d->vdev, EMU_VNET_QUEUE_TX);
    while (held_pop(&d->held[EMU_VNET_QUEUE_CTRL], &req, &written))
        emu_vnet_ctrl_execute(d, &req);
    emu_vdev_signal(d->vdev, EMU_VNET_QUEUE_CTRL);
}

const emu_vnet_stats *emu_vnet_get_stats(const emu_vnet *d)
{
    return &d->stats;
}
