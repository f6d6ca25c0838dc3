/*
 * vnet_rx_setup.c - receive queue and buffer memory: built once for a
 * layout (vnet_layout), posted at start, taken back at stop. Buffers are
 * made of fixed-size slots carved from DMA blocks of at most 64 KiB, so no
 * large physically contiguous allocation is ever needed.
 */
#include "vnet_internal.h"

#define VNET_RX_BLOCK_BYTES 65536u

static uint32_t buffers_for(const vnet *n, const vnet_layout *l, uint16_t ring, bool indirect)
{
    uint64_t bytes_per_buf = (uint64_t)l->slot_size * l->slots_per_buf;
    uint32_t bufs = ring;
    uint64_t affordable = n->params.rx_mem_budget / bytes_per_buf;

    /* Without indirect descriptors a buffer of k slots takes k ring entries. */
    if (!indirect && l->slots_per_buf > 1)
        bufs = ring / l->slots_per_buf;
    if (affordable < bufs)
        bufs = (uint32_t)affordable;
    return bufs ? bufs : 1;
}

static void *alloc_zeroed(vnet *n, size_t size)
{
    return n->ops->mem_alloc(n->os, size);
}

static vnet_status alloc_blocks(vnet *n)
{
    vnet_rxq *q = &n->rx;
    uint32_t per_block = VNET_RX_BLOCK_BYTES / q->slot_size;
    uint32_t s = 0, b;

    if (per_block == 0)
        per_block = 1;
    q->nblocks = (q->nslots + per_block - 1) / per_block;
    q->blocks = alloc_zeroed(n, sizeof(vio_dma) * q->nblocks);
    if (!q->blocks)
        return VNET_E_NOMEM;
    for (b = 0; b < q->nblocks; b++) {
        uint32_t count = q->nslots - s < per_block ? q->nslots - s : per_block;
        uint32_t k;

        if (!n->ops->dma_alloc(n->os, (size_t)count * q->slot_size, 64, &q->blocks[b]))
            return VNET_E_NOMEM;
        for (k = 0; k < count; k++, s++) {
            q->slots[s].va = (uint8_t *)q->blocks[b].va + (size_t)k * q->slot_size;
            q->slots[s].pa = q->blocks[b].pa + (uint64_t)k * q->slot_size;
        }
    }
    return VNET_OK;
}

vnet_status vnet_rx_build(vnet *n, const vnet_layout *l)
{
    vnet_rxq *q = &n->rx;
    vio_vq_params qp = { 0 };
    vio_status vst;
    uint32_t i;

    qp.index = VNET_Q_RX;
    qp.max_size = n->params.rx_ring;
    qp.msix_vector = n->params.vectors.rx;
    qp.indirect_max = l->slots_per_buf > 1 ? (uint16_t)l->slots_per_buf : 0;
    vst = vio_vq_create(n->dev, &qp, &q->vq);
    if (vst != VIO_OK)
        return vnet_vio_error(n, vst);
    q->slot_size = l->slot_size;
    q->slots_per_buf = l->slots_per_buf;
    q->mergeable = l->mergeable;
    q->max_frame = l->rx_max_frame;
    q->nbufs = buffers_for(n, l, vio_vq_size(q->vq), vio_vq_can_indirect(q->vq));
    if (!vio_vq_can_indirect(q->vq) && l->slots_per_buf > vio_vq_size(q->vq))
        return VNET_E_INVAL; /* a buffer could never fit in the ring */
    q->nslots = q->nbufs * q->slots_per_buf;
    q->bufs = alloc_zeroed(n, sizeof(vnet_rx_buf) * q->nbufs);
    q->slots = alloc_zeroed(n, sizeof(vnet_rx_slot) * q->nslots);
    if (!q->bufs || !q->slots)
        return VNET_E_NOMEM;
    for (i = 0; i < q->nbufs; i++) {
        q->bufs[i].next = VNET_NONE;
        q->bufs[i].state = VNET_RXB_IDLE;
    }
    return alloc_blocks(n);
}

void vnet_rx_free(vnet *n)
{
    vnet_rxq *q = &n->rx;
    uint32_t b;

    if (q->vq)
        vio_vq_destroy(q->vq);
    if (q->blocks) {
        for (b = 0; b < q->nblocks; b++)
            if (q->blocks[b].va)
                n->ops->dma_free(n->os, &q->blocks[b]);
        n->ops->mem_free(n->os, q->blocks, sizeof(vio_dma) * q->nblocks);
    }
    if (q->slots)
        n->ops->mem_free(n->os, q->slots, sizeof(vnet_rx_slot) * q->nslots);
    if (q->bufs)
        n->ops->mem_free(n->os, q->bufs, sizeof(vnet_rx_buf) * q->nbufs);
    memset(q, 0, sizeof(*q));
}

void vnet_rx_configure(vnet *n)
{
    vnet_rxq *q = &n->rx;

    q->guest_csum = vnet_feat(n, VNET_F_GUEST_CSUM);
    q->gso4 = vnet_feat(n, VNET_F_GUEST_TSO4);
    q->gso6 = vnet_feat(n, VNET_F_GUEST_TSO6);
    q->strip_vlan = n->params.rx_strip_vlan;
    q->complete_csum = n->params.rx_complete_csum;
    q->partial.active = false;
    q->last_error = VNET_OK;
}

vnet_status vnet_rx_post(vnet *n, uint32_t buf)
{
    vnet_rxq *q = &n->rx;
    vio_sg sg[VNET_RX_MAX_SEGS];
    uint32_t first = buf * q->slots_per_buf, k;
    vio_status vst;

    for (k = 0; k < q->slots_per_buf; k++) {
        sg[k].addr = q->slots[first + k].pa;
        sg[k].len = q->slot_size;
    }
    vst = vio_vq_add(q->vq, sg, 0, (uint16_t)q->slots_per_buf, &q->bufs[buf], VIO_ADD_AUTO);
    if (VFO_UNLIKELY(vst != VIO_OK)) {
        q->bufs[buf].state = VNET_RXB_IDLE;
        return vnet_vio_error(n, vst);
    }
    q->bufs[buf].state = VNET_RXB_POSTED;
    q->posted++;
    return VNET_OK;
}

vnet_status vnet_rx_post_all(vnet *n)
{
    vnet_rxq *q = &n->rx;
    uint32_t i;

    for (i = 0; i < q->nbufs; i++) {
        if (q->bufs[i].state == VNET_RXB_IDLE) {
            vnet_status st = vnet_rx_post(n, i);
            if (st != VNET_OK)
                return st;
        }
    }
    return VNET_OK;
}

void vnet_rx_detach(vnet *n)
{
    vnet_rxq *q = &n->rx;
    void *token;

    if (!q->vq)
        return;
    while ((token = vio_vq_detach_unused(q->vq)) != NULL) {
        vnet_rx_buf *b = token;
        b->state = VNET_RXB_IDLE;
        b->next = VNET_NONE;
    }
    /* Buffers of a frame still being assembled were already ours. */
    if (q->partial.active) {
        uint32_t b = q->partial.first;
        while (b != VNET_NONE) {
            uint32_t next = q->bufs[b].next;
            q->bufs[b].state = VNET_RXB_IDLE;
            q->bufs[b].next = VNET_NONE;
            b = next;
        }
        q->partial.active = false;
    }
    q->posted = 0;
}

bool vnet_rx_os_holds_frames(const vnet *n)
{
    uint32_t i;

    for (i = 0; i < n->rx.nbufs; i++)
        if (n->rx.bufs[i].state == VNET_RXB_OS)
            return true;
    return false;
}

uint32_t vnet_rx_slot_count(const vnet *n)
{
    return n->rx.nslots;
}

vnet_status vnet_rx_slot_info(const vnet *n, uint32_t slot, uint8_t **va, uint64_t *pa,
                              uint32_t *size)
{
    if (slot >= n->rx.nslots)
        return VNET_E_INVAL;
    if (va)
        *va = n->rx.slots[slot].va;
    if (pa)
        *pa = n->rx.slots[slot].pa;
    if (size)
        *size = n->rx.slot_size;
    return VNET_OK;
}

uint32_t vnet_rx_posted(const vnet *n)
{
    return n->rx.posted;
}

uint32_t vnet_rx_buffer_count(const vnet *n)
{
    return n->rx.nbufs;
}

vnet_status vnet_rx_last_error(const vnet *n)
{
    return n->rx.last_error;
}
