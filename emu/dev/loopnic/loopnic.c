/*
 * loopnic.c - see loopnic.h.
 */
#include "loopnic.h"

#include <pthread.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>

#define MAX_FRAME 2048

/* Device state is touched only from the emu_device_ops callbacks and
 * scheduled work, which the runtime serializes (the device lock); only the
 * statistics are read from outside, under stats_lock. */
struct loopnic {
    uint8_t mac[6];
    emu_host *host; /* NULL while unplugged */
    uint32_t ctrl, isr, imr, ring_size;
    uint64_t tx_ring, rx_ring;
    uint32_t tx_tail, tx_head, rx_tail, rx_head;
    bool tx_scheduled;
    bool faulted; /* atomic: set from any thread (loopnic_fault) */
    pthread_mutex_t stats_lock;
    loopnic_stats stats;
};

/* Writes a finished descriptor: address and length first, then DONE with
 * release semantics, as a device's ordered DMA writes would land; the driver
 * reads DONE with an atomic (acquire) load. */
static void desc_done(loopnic *n, uint64_t dpa, const loopnic_desc *d)
{
    emu_host_dma_write(n->host, dpa, d, offsetof(loopnic_desc, flags));
    uint32_t *flags = emu_host_dma_ptr(n->host, dpa + offsetof(loopnic_desc, flags), 4);
    if (flags)
        __atomic_store_n(flags, LOOPNIC_DESC_DONE, __ATOMIC_RELEASE);
}

static void signal_irq(loopnic *n)
{
    emu_host_msix_signal(n->host, 0);
    pthread_mutex_lock(&n->stats_lock);
    n->stats.interrupts++;
    pthread_mutex_unlock(&n->stats_lock);
}

static void raise_irq(loopnic *n, uint32_t cause)
{
    n->isr |= cause;
    if (n->imr & cause)
        signal_irq(n);
}

static void count(loopnic *n, uint64_t *field)
{
    pthread_mutex_lock(&n->stats_lock);
    (*field)++;
    pthread_mutex_unlock(&n->stats_lock);
}

/* Runs under the device lock. */
static void deliver(loopnic *n, const uint8_t *frame, uint32_t len)
{
    if (!n->host || !(n->ctrl & 1) || n->rx_head == n->rx_tail || !n->ring_size) {
        count(n, &n->stats.rx_dropped);
        return;
    }
    uint64_t dpa = n->rx_ring + (uint64_t)(n->rx_head % n->ring_size) * sizeof(loopnic_desc);
    loopnic_desc d;
    if (emu_host_dma_read(n->host, dpa, &d, sizeof(d)) != 0 || d.len < len ||
        emu_host_dma_write(n->host, d.addr, frame, len) != 0) {
        count(n, &n->stats.dma_errors);
        return;
    }
    d.len = len;
    desc_done(n, dpa, &d);
    n->rx_head++;
    count(n, &n->stats.rx_frames);
    raise_irq(n, LOOPNIC_INT_RX);
}

static void tx_work(void *arg)
{
    loopnic *n = arg;
    n->tx_scheduled = false;
    uint8_t buf[MAX_FRAME];
    bool did = false;
    if (__atomic_load_n(&n->faulted, __ATOMIC_ACQUIRE))
        return; /* the restart (FAULT written) schedules this again */
    while (n->host && (n->ctrl & 1) && n->tx_head != n->tx_tail && n->ring_size) {
        uint64_t dpa = n->tx_ring + (uint64_t)(n->tx_head % n->ring_size) * sizeof(loopnic_desc);
        loopnic_desc d;
        if (emu_host_dma_read(n->host, dpa, &d, sizeof(d)) != 0) {
            count(n, &n->stats.dma_errors);
            break;
        }
        uint32_t len = d.len > MAX_FRAME ? MAX_FRAME : d.len;
        if (emu_host_dma_read(n->host, d.addr, buf, len) != 0) {
            count(n, &n->stats.dma_errors);
            len = 0;
        }
        desc_done(n, dpa, &d);
        n->tx_head++;
        did = true;
        if (len) {
            count(n, &n->stats.tx_frames);
            deliver(n, buf, len);
        }
    }
    if (did)
        raise_irq(n, LOOPNIC_INT_TX);
}

static uint32_t cfg_read(void *dev, uint32_t off, unsigned size)
{
    (void)dev;
    uint32_t id = LOOPNIC_VENDOR | ((uint32_t)LOOPNIC_DEVICE << 16);
    uint32_t v = off < 4 ? id >> (8 * off) : 0;
    return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void cfg_write(void *dev, uint32_t off, unsigned size, uint32_t v)
{
    (void)dev;
    (void)off;
    (void)size;
    (void)v;
}

/* A doorbell may only hand the device up to one ring of descriptors past
 * what it consumed (free-running 32-bit counters). */
static bool tail_valid(loopnic *n, uint32_t head, uint32_t tail)
{
    if (tail - head <= n->ring_size)
        return true;
    count(n, &n->stats.bad_doorbells);
    return false;
}

static uint64_t mmio_read(void *dev, unsigned bar, uint64_t off, unsigned size)
{
    loopnic *n = dev;
    (void)size;
    if (bar != 0)
        return ~0ull;
    switch (off) {
    case LOOPNIC_MAC_LO:
        return (uint32_t)n->mac[0] | (uint32_t)n->mac[1] << 8 | (uint32_t)n->mac[2] << 16 |
               (uint32_t)n->mac[3] << 24;
    case LOOPNIC_MAC_HI:
        return (uint32_t)n->mac[4] | (uint32_t)n->mac[5] << 8;
    case LOOPNIC_CTRL:
        return n->ctrl;
    case LOOPNIC_ISR: {
        uint32_t v = n->isr;
        n->isr = 0;
        return v;
    }
    case LOOPNIC_IMR:
        return n->imr;
    case LOOPNIC_RING_SIZE:
        return n->ring_size;
    case LOOPNIC_LINK:
        return 1;
    case LOOPNIC_FAULT:
        return __atomic_load_n(&n->faulted, __ATOMIC_ACQUIRE) ? 1 : 0;
    default:
        return 0;
    }
}

static void mmio_write(void *dev, unsigned bar, uint64_t off, unsigned size, uint64_t v)
{
    loopnic *n = dev;
    (void)size;
    if (bar != 0)
        return;
    switch (off) {
    case LOOPNIC_CTRL:
        n->ctrl = (uint32_t)v;
        if (!(v & 1)) {
            n->tx_head = n->tx_tail = n->rx_head = n->rx_tail = 0;
            n->isr = 0;
        }
        break;
    case LOOPNIC_IMR:
        n->imr = (uint32_t)v;
        if ((n->isr & n->imr) && n->host)
            signal_irq(n); /* causes that were masked */
        break;
    case LOOPNIC_TX_RING:
        n->tx_ring = v;
        break;
    case LOOPNIC_RX_RING:
        n->rx_ring = v;
        break;
    case LOOPNIC_RING_SIZE:
        n->ring_size = (uint32_t)v;
        break;
    case LOOPNIC_TX_TAIL:
        if (!tail_valid(n, n->tx_head, (uint32_t)v))
            break;
        n->tx_tail = (uint32_t)v;
        if (!n->tx_scheduled && n->host) {
            n->tx_scheduled = true;
            emu_host_schedule(n->host, 2000, tx_work, n); /* 2 us of "wire time" */
        }
        break;
    case LOOPNIC_RX_TAIL:
        if (tail_valid(n, n->rx_head, (uint32_t)v))
            n->rx_tail = (uint32_t)v;
        break;
    case LOOPNIC_FAULT:
        if ((v & 1) && __atomic_exchange_n(&n->faulted, false, __ATOMIC_ACQ_REL) &&
            !n->tx_scheduled && n->host && n->tx_head != n->tx_tail) {
            n->tx_scheduled = true;
            emu_host_schedule(n->host, 2000, tx_work, n);
        }
        break;
    default:
        break;
    }
}

static void attach(void *dev, emu_host *host)
{
    loopnic *n = dev;
    n->host = host;
    n->ctrl = n->isr = n->imr = 0;
    n->tx_head = n->tx_tail = n->rx_head = n->rx_tail = 0;
    n->tx_scheduled = false;
    __atomic_store_n(&n->faulted, false, __ATOMIC_RELEASE);
}

static void detach(void *dev)
{
    ((loopnic *)dev)->host = NULL;
}

static const emu_device_ops loopnic_ops = {
    .cfg_read = cfg_read,
    .cfg_write = cfg_write,
    .mmio_read = mmio_read,
    .mmio_write = mmio_write,
    .attach = attach,
    .detach = detach,
};

loopnic *loopnic_create(const uint8_t mac[6])
{
    loopnic *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    memcpy(n->mac, mac, 6);
    pthread_mutex_init(&n->stats_lock, NULL);
    return n;
}

void loopnic_destroy(loopnic *n)
{
    if (!n)
        return;
    pthread_mutex_destroy(&n->stats_lock);
    free(n);
}

void loopnic_device_desc(loopnic *n, const char *instance, emu_device_desc *desc)
{
    memset(desc, 0, sizeof(*desc));
    desc->instance = instance;
    desc->pnp_id = "PCI\\VEN_1AF4&DEV_7FFF";
    desc->bar_size[0] = 4096;
    desc->msix_vectors = 1;
    desc->ops = &loopnic_ops;
    desc->dev = n;
}

void loopnic_get_stats(loopnic *n, loopnic_stats *out)
{
    pthread_mutex_lock(&n->stats_lock);
    *out = n->stats;
    pthread_mutex_unlock(&n->stats_lock);
}

void loopnic_fault(loopnic *n)
{
    __atomic_store_n(&n->faulted, true, __ATOMIC_RELEASE);
}
