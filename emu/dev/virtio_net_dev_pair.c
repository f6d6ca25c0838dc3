/*
 * virtio_net_dev_pair.c - the built-in backend for tests: two devices back
 * to back. A frame one side transmits is received by the other; a GSO
 * frame the receiver did not negotiate is segmented first; a frame the
 * receiver cannot take yet waits in a bounded FIFO (order kept) until the
 * receiver's driver posts buffers.
 */
#include <stdlib.h>

#include "virtio_net_dev_internal.h"

#define DEFAULT_BACKLOG 256u

typedef struct pair_frame {
    uint8_t *data;
    size_t len;
    emu_vnet_meta meta;
} pair_frame;

typedef struct backlog {
    pair_frame *q;
    uint32_t cap, head, count;
} backlog;

struct emu_vnet_pair {
    emu_vnet *end[2];
    backlog bl[2];
    emu_vnet_pair_stats stats;
};

static unsigned end_of(const emu_vnet_pair *p, const emu_vnet *dev)
{
    return p->end[0] == dev ? 0 : 1;
}

static bool must_wait(emu_vnet_rx_result r)
{
    return r == EMU_VNET_RX_NO_BUFFERS || r == EMU_VNET_RX_NOT_READY;
}

static void enqueue(emu_vnet_pair *p, unsigned to, const uint8_t *f, size_t len,
                    const emu_vnet_meta *m)
{
    backlog *b = &p->bl[to];
    pair_frame *slot;

    if (b->count == b->cap) {
        p->stats.dropped[to]++;
        return;
    }
    slot = &b->q[(b->head + b->count) % b->cap];
    slot->data = malloc(len);
    if (!slot->data) {
        p->stats.dropped[to]++;
        return;
    }
    memcpy(slot->data, f, len);
    slot->len = len;
    slot->meta = *m;
    b->count++;
    p->stats.queued[to]++;
}

static void account(emu_vnet_pair *p, unsigned to, emu_vnet_rx_result r)
{
    if (r == EMU_VNET_RX_DELIVERED)
        p->stats.forwarded[to]++;
    else
        p->stats.dropped[to]++;
}

/* Delivers waiting frames in order until the receiver runs out of room. */
static void drain(emu_vnet_pair *p, unsigned to)
{
    backlog *b = &p->bl[to];

    while (b->count) {
        pair_frame *f = &b->q[b->head];
        emu_vnet_rx_result r = emu_vnet_receive(p->end[to], f->data, f->len, &f->meta);

        if (must_wait(r))
            return;
        account(p, to, r);
        free(f->data);
        b->head = (b->head + 1) % b->cap;
        b->count--;
    }
}

static void offer(emu_vnet_pair *p, unsigned to, const uint8_t *f, size_t len,
                  const emu_vnet_meta *m)
{
    emu_vnet_rx_result r;

    if (p->bl[to].count) {
        enqueue(p, to, f, len, m);
        drain(p, to);
        return;
    }
    r = emu_vnet_receive(p->end[to], f, len, m);
    if (must_wait(r))
        enqueue(p, to, f, len, m);
    else
        account(p, to, r);
}

typedef struct emit_ctx {
    emu_vnet_pair *p;
    unsigned to;
} emit_ctx;

static void emit_segment(void *ctx, const uint8_t *f, size_t len, const emu_vnet_meta *m)
{
    emit_ctx *e = ctx;
    offer(e->p, e->to, f, len, m);
}

static void pair_transmit(void *ctx, emu_vnet *dev, const uint8_t *f, size_t len,
                          const emu_vnet_meta *m)
{
    emu_vnet_pair *p = ctx;
    unsigned to = 1 - end_of(p, dev);
    emit_ctx e = { p, to };

    if (m->gso_type != EMU_VNET_GSO_NONE && !emu_vnet_accepts_gso(p->end[to], m->gso_type)) {
        p->stats.segmented[to]++;
        if (emu_vnet_gso_segment(f, len, m, emit_segment, &e) == 0)
            p->stats.dropped[to]++;
        return;
    }
    offer(p, to, f, len, m);
}

static void pair_rx_ready(void *ctx, emu_vnet *dev)
{
    emu_vnet_pair *p = ctx;
    drain(p, end_of(p, dev));
}

static const emu_vnet_backend pair_backend = {
    .transmit = pair_transmit,
    .rx_ready = pair_rx_ready,
};

emu_vnet_pair *emu_vnet_pair_create(emu_vnet *a, emu_vnet *b, uint32_t cap)
{
    emu_vnet_pair *p;
    unsigned i;

    if (!a || !b || a == b)
        return NULL;
    p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->end[0] = a;
    p->end[1] = b;
    for (i = 0; i < 2; i++) {
        p->bl[i].cap = cap ? cap : DEFAULT_BACKLOG;
        p->bl[i].q = calloc(p->bl[i].cap, sizeof(pair_frame));
        if (!p->bl[i].q) {
            emu_vnet_pair_destroy(p);
            return NULL;
        }
        emu_vnet_set_backend(p->end[i], &pair_backend, p);
    }
    return p;
}

void emu_vnet_pair_destroy(emu_vnet_pair *p)
{
    unsigned i;

    if (!p)
        return;
    for (i = 0; i < 2; i++) {
        backlog *b = &p->bl[i];
        if (b->q) {
            while (b->count) {
                free(b->q[b->head].data);
                b->head = (b->head + 1) % b->cap;
                b->count--;
            }
            free(b->q);
            emu_vnet_set_backend(p->end[i], NULL, NULL);
        }
    }
    free(p);
}

const emu_vnet_pair_stats *emu_vnet_pair_get_stats(const emu_vnet_pair *p)
{
    return &p->stats;
}

uint32_t emu_vnet_pair_backlog(const emu_vnet_pair *p, unsigned end)
{
    return end < 2 ? p->bl[end].count : 0;
}
