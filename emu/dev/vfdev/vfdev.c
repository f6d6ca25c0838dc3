/*
 * vfdev.c - see vfdev.h.
 *
 * Locking: vf->mu protects everything. Register accesses and device work
 * run under ndisemu's device lock and take vf->mu inside it; host controls
 * and the switch's deliveries take vf->mu alone and hand anything that must
 * raise an interrupt to device work. Frames are never sent to the switch
 * with vf->mu held (the switch delivers synchronously to other stations,
 * which may be sending to us at the same time).
 */
#include "vfdev.h"

#include <pthread.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#define RXQ_CAP     256     /* frames waiting for the device to run (a frozen guest fills it) */
#define DEV_DELAY   1000    /* ns between a doorbell or a frame and the device acting on it */
#define TX_RETRY_NS 1000000 /* a frame the wire refused is offered again after this */

typedef struct rx_slot {
    uint32_t len;
    uint8_t data[VFDEV_MAX_FRAME];
} rx_slot;

struct emu_vfdev {
    pthread_mutex_t mu;
    emu_vfdev_cfg cfg;
    emu_host *host;      /* while attached */
    bool present;        /* false once pulled, until attached again */
    bool admin_up;       /* the PF's per-VF link state */
    bool link_up;        /* the carrier: admin_up, once the link-up delay has passed */
    uint64_t link_timer; /* the pending carrier-up work, 0 if none */
    uint64_t neg_wait;   /* the link-up delay running since the carrier went down */
    int reported;        /* the carrier as last told to carrier_fn; -1: not yet */
    bool link_irq;       /* a carrier change the driver has not been interrupted for */
    emu_vfdev_carrier_fn carrier_fn;
    void *carrier_ctx;
    emu_port *port;
    uint8_t pci_cfg[256];

    uint32_t ctrl, status, icr, imr, ring_size;
    uint64_t tx_ring, rx_ring;
    uint32_t tx_tail, tx_head, rx_tail, rx_head;
    uint32_t tx_epoch; /* bumped whenever the TX ring is reset or dropped */
    uint64_t tx_retry; /* the pending retry of a refused frame (device work), 0 if none */
    bool tx_work_queued, rx_work_queued;
    rx_slot *rxq;
    unsigned rxq_head, rxq_count;
    uint64_t reg_stats[5]; /* TX_PKTS, TX_BYTES, RX_PKTS, RX_BYTES, RX_NOBUF */
    emu_vfdev_stats st;
};

static const struct {
    uint16_t vendor, device;
    const char *pnp;
    uint32_t caps, speed_mbps;
} k_models[] = {
    [EMU_VF_X540] = { 0x8086, 0x1515, "PCI\\VEN_8086&DEV_1515", 0x1Fu | (2u << VFDEV_CAP_RSS_SHIFT),
                      10000 },
    [EMU_VF_CX4] = { 0x15B3, 0x1014, "PCI\\VEN_15B3&DEV_1014", 0x1Fu | (8u << VFDEV_CAP_RSS_SHIFT),
                     25000 },
};

static void put_cfg16(uint8_t *c, unsigned off, uint16_t v)
{
    c[off] = (uint8_t)v;
    c[off + 1] = (uint8_t)(v >> 8);
}

static void init_pci_config(emu_vfdev *vf)
{
    uint8_t *c = vf->pci_cfg;
    put_cfg16(c, 0x00, k_models[vf->cfg.model].vendor);
    put_cfg16(c, 0x02, k_models[vf->cfg.model].device);
    c[0x0B] = 0x02; /* class: network controller, Ethernet */
    c[0x10] = 0x04; /* BAR0: 64-bit memory */
    put_cfg16(c, 0x2C, k_models[vf->cfg.model].vendor);
    put_cfg16(c, 0x2E, k_models[vf->cfg.model].device);
}

emu_vfdev *emu_vfdev_create(const emu_vfdev_cfg *cfg)
{
    if (!cfg || (cfg->model != EMU_VF_X540 && cfg->model != EMU_VF_CX4))
        return NULL;
    emu_vfdev *vf = calloc(1, sizeof(*vf));
    if (!vf)
        return NULL;
    vf->rxq = calloc(RXQ_CAP, sizeof(rx_slot));
    if (!vf->rxq) {
        free(vf);
        return NULL;
    }
    vf->cfg = *cfg;
    if (!vf->cfg.caps)
        vf->cfg.caps = k_models[cfg->model].caps;
    if (!vf->cfg.mtu)
        vf->cfg.mtu = 1500;
    vf->admin_up = vf->link_up = cfg->link_up;
    vf->reported = -1;
    pthread_mutex_init(&vf->mu, NULL);
    init_pci_config(vf);
    return vf;
}

void emu_vfdev_destroy(emu_vfdev *vf)
{
    if (!vf)
        return;
    if (vf->port)
        emu_port_connect(vf->port, NULL, NULL);
    pthread_mutex_destroy(&vf->mu);
    free(vf->rxq);
    free(vf);
}

const char *emu_vfdev_pnp_id(emu_vf_model model)
{
    return model == EMU_VF_CX4 ? k_models[EMU_VF_CX4].pnp : k_models[EMU_VF_X540].pnp;
}

const uint8_t *emu_vfdev_mac(const emu_vfdev *vf)
{
    return vf->cfg.mac;
}

/* vf->mu held. The port passes traffic only for a VF that a guest can use. */
static void update_port(emu_vfdev *vf)
{
    if (vf->port)
        emu_port_set_up(vf->port, vf->host && vf->present && vf->link_up);
}

static void raise_irq(emu_vfdev *vf, uint32_t cause)
{
    vf->icr |= cause;
    if (vf->host && vf->present && (vf->imr & vf->icr)) {
        emu_host_msix_signal(vf->host, 0);
        vf->st.interrupts++;
    }
}

/* vf->mu held: a function-level reset; descriptors not yet sent are lost. */
static void reset_function(emu_vfdev *vf)
{
    vf->st.tx_lost += vf->tx_tail - vf->tx_head;
    vf->tx_epoch++;
    vf->ctrl = vf->icr = vf->imr = vf->ring_size = 0;
    vf->tx_ring = vf->rx_ring = 0;
    vf->tx_tail = vf->tx_head = vf->rx_tail = vf->rx_head = 0;
    vf->rxq_count = vf->rxq_head = 0;
}

/* ---- device work ---- */

/* vf->mu held. */
static void schedule(emu_vfdev *vf, emu_device_work_fn fn, bool *queued)
{
    if (!vf->host || (queued && *queued))
        return;
    if (emu_host_schedule(vf->host, DEV_DELAY, fn, vf) && queued)
        *queued = true;
}

static bool running(emu_vfdev *vf)
{
    return vf->host && vf->present && (vf->ctrl & VFDEV_CTRL_ENABLE) && vf->ring_size &&
           !(vf->status & VFDEV_STATUS_RESET_PENDING);
}

static uint64_t desc_pa(uint64_t ring, uint32_t index, uint32_t size)
{
    return ring + (uint64_t)(index % size) * sizeof(vfdev_desc);
}

/* Writes a finished descriptor: length first, DONE last with release
 * semantics, as ordered DMA writes land; drivers read DONE with acquire. */
static void complete_desc(emu_vfdev *vf, uint64_t pa, uint32_t len)
{
    emu_host_dma_write(vf->host, pa + offsetof(vfdev_desc, len), &len, sizeof(len));
    uint32_t *flags = emu_host_dma_ptr(vf->host, pa + offsetof(vfdev_desc, flags), 4);
    if (flags)
        __atomic_store_n(flags, VFDEV_DESC_DONE, __ATOMIC_RELEASE);
}

/* vf->mu held: reads the frame at the TX ring's head into buf (the
 * descriptor stays the device's until complete_desc); *dlen is the
 * descriptor's length. 0: unreadable (a DMA error; completed anyway). */
static uint32_t peek_tx(emu_vfdev *vf, uint64_t pa, uint8_t *buf, uint32_t *dlen)
{
    vfdev_desc d;
    *dlen = 0;
    if (emu_host_dma_read(vf->host, pa, &d, sizeof(d)) != 0) {
        vf->st.dma_errors++;
        return 0;
    }
    *dlen = d.len;
    uint32_t len = d.len > VFDEV_MAX_FRAME ? VFDEV_MAX_FRAME : d.len;
    if (emu_host_dma_read(vf->host, d.addr, buf, len) != 0) {
        vf->st.dma_errors++;
        return 0;
    }
    return len;
}

/* Transmission stalls while the link is down (descriptors wait, they are
 * not completed), as on a NIC whose MAC has no carrier. A descriptor is
 * completed only once the wire took its frame: a frame the wire refused
 * (a real interface going down under it, or its queue full) stays at the
 * head of the ring and is offered again after TX_RETRY_NS, so a frame the
 * device never sent is never reported sent; if the device goes away
 * meanwhile its driver fails it (and vfo re-sends it on virtio). */
static void tx_work(void *arg)
{
    emu_vfdev *vf = arg;
    uint8_t buf[VFDEV_MAX_FRAME];
    bool did = false, refused_any = false;
    pthread_mutex_lock(&vf->mu);
    vf->tx_work_queued = false;
    vf->tx_retry = 0;
    while (running(vf) && vf->link_up && vf->tx_head != vf->tx_tail) {
        uint64_t pa = desc_pa(vf->tx_ring, vf->tx_head, vf->ring_size);
        uint32_t dlen, len = peek_tx(vf, pa, buf, &dlen);
        if (!len) {
            complete_desc(vf, pa, dlen);
            vf->tx_head++;
            did = true;
            continue;
        }
        uint32_t head = vf->tx_head, epoch = vf->tx_epoch;
        emu_port *port = vf->port;
        unsigned refused = 0;
        pthread_mutex_unlock(&vf->mu);
        if (port)
            emu_port_send_checked(port, buf, len, &refused);
        pthread_mutex_lock(&vf->mu);
        if (refused) {
            vf->st.tx_refused++;
            refused_any = true;
            break;
        }
        if (vf->tx_epoch != epoch || vf->tx_head != head || !vf->host)
            continue; /* reset or detached meanwhile: that ring is gone */
        complete_desc(vf, pa, dlen);
        vf->tx_head++;
        did = true;
        vf->st.tx_frames++;
        vf->reg_stats[0]++;
        vf->reg_stats[1] += len;
    }
    if (did)
        raise_irq(vf, VFDEV_INT_TX);
    if (refused_any && vf->host && !vf->tx_work_queued) {
        vf->tx_retry = emu_host_schedule(vf->host, TX_RETRY_NS, tx_work, vf);
        vf->tx_work_queued = vf->tx_retry != 0;
    }
    pthread_mutex_unlock(&vf->mu);
}

/* vf->mu held: one queued frame into the next posted RX buffer. */
static void deliver_rx(emu_vfdev *vf, const rx_slot *f)
{
    if (vf->rx_head == vf->rx_tail) {
        vf->st.rx_no_buffer++;
        vf->reg_stats[4]++;
        return;
    }
    uint64_t pa = desc_pa(vf->rx_ring, vf->rx_head, vf->ring_size);
    vfdev_desc d;
    if (emu_host_dma_read(vf->host, pa, &d, sizeof(d)) != 0 || d.len < f->len ||
        emu_host_dma_write(vf->host, d.addr, f->data, f->len) != 0) {
        vf->st.dma_errors++;
        return;
    }
    complete_desc(vf, pa, f->len);
    vf->rx_head++;
    vf->st.rx_frames++;
    vf->reg_stats[2]++;
    vf->reg_stats[3] += f->len;
}

static void rx_work(void *arg)
{
    emu_vfdev *vf = arg;
    pthread_mutex_lock(&vf->mu);
    vf->rx_work_queued = false;
    bool did = vf->rxq_count > 0 && running(vf);
    while (vf->rxq_count) {
        if (running(vf))
            deliver_rx(vf, &vf->rxq[vf->rxq_head]);
        else
            vf->st.rx_dropped_gone++;
        vf->rxq_head = (vf->rxq_head + 1) % RXQ_CAP;
        vf->rxq_count--;
    }
    if (did)
        raise_irq(vf, VFDEV_INT_RX);
    pthread_mutex_unlock(&vf->mu);
}

/* The carrier as the driver sees it follows vf->link_up here; the owner
 * hears of every change (and of the carrier at attach). */
static void link_work(void *arg)
{
    emu_vfdev *vf = arg;
    pthread_mutex_lock(&vf->mu);
    bool up = (vf->status & VFDEV_STATUS_LINK_UP) != 0;
    if (up != vf->link_up) {
        vf->status ^= VFDEV_STATUS_LINK_UP;
        vf->link_irq = true;
    }
    if (vf->link_irq) {
        vf->link_irq = false;
        raise_irq(vf, VFDEV_INT_LINK);
    }
    if (vf->link_up && vf->tx_head != vf->tx_tail)
        schedule(vf, tx_work, &vf->tx_work_queued);
    bool tell = vf->host && vf->reported != (int)vf->link_up;
    bool now_up = vf->link_up;
    uint64_t wait = vf->neg_wait;
    emu_vfdev_carrier_fn fn = vf->carrier_fn;
    void *ctx = vf->carrier_ctx;
    if (tell)
        vf->reported = now_up;
    pthread_mutex_unlock(&vf->mu);
    if (tell && fn)
        fn(ctx, vf, now_up, now_up ? 0 : wait);
}

/* vf->mu held: the carrier changes; the driver hears of it by device work.
 * A lost carrier shows in STATUS at once (a driver recovering from a reset
 * must not read the old link), a new one when that work runs. */
static void set_carrier(emu_vfdev *vf, bool up)
{
    if (vf->link_up == up)
        return;
    vf->link_up = up;
    if (!up && (vf->status & VFDEV_STATUS_LINK_UP)) {
        vf->status &= ~VFDEV_STATUS_LINK_UP;
        vf->link_irq = true;
    }
    update_port(vf);
    schedule(vf, link_work, NULL);
}

static void cancel_link_timer(emu_vfdev *vf)
{
    if (vf->link_timer && vf->host)
        emu_host_cancel(vf->host, vf->link_timer);
    vf->link_timer = 0;
}

static void link_up_work(void *arg)
{
    emu_vfdev *vf = arg;
    pthread_mutex_lock(&vf->mu);
    vf->link_timer = 0;
    if (vf->host && vf->present && vf->admin_up)
        set_carrier(vf, true);
    pthread_mutex_unlock(&vf->mu);
}

/* vf->mu held: the link starts over (attach, PF reset, PF link up): the
 * carrier is down until the PF mailbox and autonegotiation are done. */
static void renegotiate(emu_vfdev *vf)
{
    cancel_link_timer(vf);
    uint64_t delay = vf->cfg.link_up_delay_ns;
    vf->neg_wait = vf->admin_up ? delay : 0;
    if (!vf->admin_up || !vf->host || delay != 0)
        set_carrier(vf, false);
    if (!vf->admin_up || !vf->host)
        return;
    if (delay == 0)
        set_carrier(vf, true);
    else if (delay != EMU_VFDEV_LINK_NEVER)
        vf->link_timer = emu_host_schedule(vf->host, delay, link_up_work, vf);
}

static void pf_reset_work(void *arg)
{
    emu_vfdev *vf = arg;
    pthread_mutex_lock(&vf->mu);
    vf->st.tx_lost += vf->tx_tail - vf->tx_head;
    vf->tx_head = vf->tx_tail;
    vf->tx_epoch++;
    vf->ctrl &= ~VFDEV_CTRL_ENABLE;
    vf->status |= VFDEV_STATUS_RESET_PENDING;
    renegotiate(vf); /* before the driver hears of the reset: no stale link */
    raise_irq(vf, VFDEV_INT_RESET);
    pthread_mutex_unlock(&vf->mu);
}

/* ---- the switch's side ---- */

static void port_rx(void *ctx, const uint8_t *frame, size_t len, unsigned from_port)
{
    emu_vfdev *vf = ctx;
    (void)from_port;
    pthread_mutex_lock(&vf->mu);
    if (!vf->host || !vf->present || len > VFDEV_MAX_FRAME) {
        vf->st.rx_dropped_gone++;
    } else if (vf->rxq_count == RXQ_CAP) {
        vf->st.rx_no_buffer++;
        vf->reg_stats[4]++;
    } else {
        rx_slot *s = &vf->rxq[(vf->rxq_head + vf->rxq_count++) % RXQ_CAP];
        s->len = (uint32_t)len;
        memcpy(s->data, frame, len);
        schedule(vf, rx_work, &vf->rx_work_queued);
    }
    pthread_mutex_unlock(&vf->mu);
}

emu_port *emu_vfdev_port(const emu_vfdev *vf)
{
    return vf->port;
}

void emu_vfdev_set_port(emu_vfdev *vf, emu_port *port)
{
    pthread_mutex_lock(&vf->mu);
    if (vf->port)
        emu_port_connect(vf->port, NULL, NULL);
    vf->port = port;
    if (port) {
        emu_port_connect(port, port_rx, vf);
        emu_port_set_station_mac(port, vf->cfg.mac);
    }
    update_port(vf);
    pthread_mutex_unlock(&vf->mu);
}

/* ---- registers ---- */

static uint32_t cfg_read(void *dev, uint32_t off, unsigned size)
{
    emu_vfdev *vf = dev;
    uint32_t v = 0;
    pthread_mutex_lock(&vf->mu);
    for (unsigned i = 0; i < size && off + i < sizeof(vf->pci_cfg); i++)
        v |= (uint32_t)vf->pci_cfg[off + i] << (8 * i);
    bool gone = !vf->present;
    pthread_mutex_unlock(&vf->mu);
    return gone ? (size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1) : v;
}

static void cfg_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
    emu_vfdev *vf = dev;
    if (off != 0x04 || size != 2) /* only the command register is writable */
        return;
    pthread_mutex_lock(&vf->mu);
    put_cfg16(vf->pci_cfg, 0x04, (uint16_t)v);
    pthread_mutex_unlock(&vf->mu);
}

static uint64_t read_reg(emu_vfdev *vf, uint64_t off)
{
    const uint8_t *m = vf->cfg.mac;
    if (off >= VFDEV_STAT_TX_PKTS && off <= VFDEV_STAT_RX_NOBUF && off % 8 == 0)
        return vf->reg_stats[(off - VFDEV_STAT_TX_PKTS) / 8];
    switch (off) {
    case VFDEV_MAC_LO:
        return (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 | (uint32_t)m[3] << 24;
    case VFDEV_MAC_HI:
        return (uint32_t)m[4] | (uint32_t)m[5] << 8;
    case VFDEV_CTRL:
        return vf->ctrl;
    case VFDEV_STATUS:
        return vf->status;
    case VFDEV_ICR: {
        uint32_t v = vf->icr;
        vf->icr = 0;
        return v;
    }
    case VFDEV_IMR:
        return vf->imr;
    case VFDEV_RING_SIZE:
        return vf->ring_size;
    case VFDEV_TX_TAIL:
        return vf->tx_tail;
    case VFDEV_RX_TAIL:
        return vf->rx_tail;
    case VFDEV_CAPS:
        return vf->cfg.caps;
    case VFDEV_MTU:
        return vf->cfg.mtu;
    case VFDEV_SPEED:
        return k_models[vf->cfg.model].speed_mbps;
    default:
        return 0;
    }
}

static uint64_t mmio_read(void *dev, unsigned bar, uint64_t off, unsigned size)
{
    emu_vfdev *vf = dev;
    pthread_mutex_lock(&vf->mu);
    uint64_t v = bar == 0 && vf->present ? read_reg(vf, off) : ~0ull;
    pthread_mutex_unlock(&vf->mu);
    return size == 8 ? v : v & 0xFFFFFFFFull;
}

/* vf->mu held. A tail the driver writes posts descriptors: it may only move
 * forward, and no further than the ring holds beyond the device's head. A
 * tail behind the last one (a stale doorbell: two processors each wrote the
 * tail they had queued, the older one last) would have the device walk the
 * ring's old descriptors, sending them again and again, until its free
 * running index wrapped. Refused and counted, as a NIC that checks its
 * doorbell does; the driver's next write still posts everything. */
static bool tail_ok(emu_vfdev *vf, uint32_t head, uint32_t tail, uint32_t new_tail)
{
    uint32_t posted = new_tail - head;
    if (posted >= tail - head && posted <= vf->ring_size)
        return true;
    vf->st.bad_doorbells++;
    return false;
}

static void write_ctrl(emu_vfdev *vf, uint32_t v)
{
    if (v & VFDEV_CTRL_RESET) {
        reset_function(vf);
        vf->status &= ~VFDEV_STATUS_RESET_PENDING;
        return;
    }
    vf->ctrl = v & VFDEV_CTRL_ENABLE;
    if (vf->ctrl && vf->tx_head != vf->tx_tail)
        schedule(vf, tx_work, &vf->tx_work_queued);
}

static void write_reg(emu_vfdev *vf, uint64_t off, uint64_t v)
{
    switch (off) {
    case VFDEV_CTRL:
        write_ctrl(vf, (uint32_t)v);
        break;
    case VFDEV_IMR:
        vf->imr = (uint32_t)v;
        raise_irq(vf, 0);
        break;
    case VFDEV_TX_RING:
        vf->tx_ring = v;
        break;
    case VFDEV_RX_RING:
        vf->rx_ring = v;
        break;
    case VFDEV_RING_SIZE:
        vf->ring_size = v <= VFDEV_MAX_RING ? (uint32_t)v : 0;
        break;
    case VFDEV_TX_TAIL:
        if (tail_ok(vf, vf->tx_head, vf->tx_tail, (uint32_t)v)) {
            vf->tx_tail = (uint32_t)v;
            schedule(vf, tx_work, &vf->tx_work_queued);
        }
        break;
    case VFDEV_RX_TAIL:
        if (tail_ok(vf, vf->rx_head, vf->rx_tail, (uint32_t)v))
            vf->rx_tail = (uint32_t)v;
        break;
    default:
        break;
    }
}

static void mmio_write(void *dev, unsigned bar, uint64_t off, unsigned size, uint64_t v)
{
    emu_vfdev *vf = dev;
    (void)size;
    pthread_mutex_lock(&vf->mu);
    if (bar == 0 && vf->present)
        write_reg(vf, off, v);
    pthread_mutex_unlock(&vf->mu);
}

static void attach(void *dev, emu_host *host)
{
    emu_vfdev *vf = dev;
    pthread_mutex_lock(&vf->mu);
    vf->host = host;
    vf->present = true;
    vf->link_timer = 0;
    vf->reported = -1;
    vf->link_irq = false;
    /* A link without a delay is up when the driver first looks. */
    vf->link_up = vf->admin_up && vf->cfg.link_up_delay_ns == 0;
    vf->status = vf->link_up ? VFDEV_STATUS_LINK_UP : 0;
    reset_function(vf);
    vf->tx_work_queued = vf->rx_work_queued = false;
    update_port(vf);
    renegotiate(vf);
    schedule(vf, link_work, NULL); /* tells the owner the carrier at attach */
    pthread_mutex_unlock(&vf->mu);
}

static void detach(void *dev)
{
    emu_vfdev *vf = dev;
    pthread_mutex_lock(&vf->mu);
    /* A retry left queued would run on whatever device the adapter's
     * object holds next (and on this one after it is freed). */
    if (vf->tx_retry && vf->host)
        emu_host_cancel(vf->host, vf->tx_retry);
    vf->tx_retry = 0;
    vf->tx_work_queued = false;
    vf->st.rx_dropped_gone += vf->rxq_count;
    reset_function(vf);
    cancel_link_timer(vf);
    vf->link_up = false;
    vf->host = NULL;
    update_port(vf);
    pthread_mutex_unlock(&vf->mu);
}

static const emu_device_ops vfdev_ops = {
    .cfg_read = cfg_read,
    .cfg_write = cfg_write,
    .mmio_read = mmio_read,
    .mmio_write = mmio_write,
    .attach = attach,
    .detach = detach,
};

void emu_vfdev_device_desc(emu_vfdev *vf, const char *instance, emu_device_desc *desc)
{
    memset(desc, 0, sizeof(*desc));
    desc->instance = instance;
    desc->pnp_id = k_models[vf->cfg.model].pnp;
    desc->bar_size[0] = VFDEV_BAR0_SIZE;
    desc->msix_vectors = 1;
    desc->ops = &vfdev_ops;
    desc->dev = vf;
}

/* ---- host-side controls ---- */

void emu_vfdev_set_link(emu_vfdev *vf, bool up)
{
    pthread_mutex_lock(&vf->mu);
    bool was = vf->admin_up;
    vf->admin_up = up;
    if (!up || (!was && !vf->link_up))
        renegotiate(vf);
    pthread_mutex_unlock(&vf->mu);
}

void emu_vfdev_pf_reset(emu_vfdev *vf)
{
    pthread_mutex_lock(&vf->mu);
    vf->st.resets++;
    schedule(vf, pf_reset_work, NULL);
    pthread_mutex_unlock(&vf->mu);
}

void emu_vfdev_pull(emu_vfdev *vf)
{
    pthread_mutex_lock(&vf->mu);
    vf->present = false;
    update_port(vf);
    pthread_mutex_unlock(&vf->mu);
}

bool emu_vfdev_attached(emu_vfdev *vf)
{
    pthread_mutex_lock(&vf->mu);
    bool a = vf->host != NULL;
    pthread_mutex_unlock(&vf->mu);
    return a;
}

bool emu_vfdev_carrier(emu_vfdev *vf)
{
    pthread_mutex_lock(&vf->mu);
    bool up = (vf->status & VFDEV_STATUS_LINK_UP) != 0 && vf->host;
    pthread_mutex_unlock(&vf->mu);
    return up;
}

void emu_vfdev_set_carrier_fn(emu_vfdev *vf, emu_vfdev_carrier_fn fn, void *ctx)
{
    pthread_mutex_lock(&vf->mu);
    vf->carrier_fn = fn;
    vf->carrier_ctx = ctx;
    pthread_mutex_unlock(&vf->mu);
}

void emu_vfdev_get_stats(emu_vfdev *vf, emu_vfdev_stats *out)
{
    pthread_mutex_lock(&vf->mu);
    *out = vf->st;
    pthread_mutex_unlock(&vf->mu);
}
