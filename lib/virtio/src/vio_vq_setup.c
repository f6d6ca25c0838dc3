/*
 * vio_vq_setup.c - creating, programming, restarting and tearing down split
 * virtqueues, and returning buffers after a reset. Everything the data path
 * will ever need is allocated here.
 */
#include <string.h>

#include "vio_vq_internal.h"

/* The used ring is written by the device and the available ring by the
 * driver: keeping them on different cache lines avoids false sharing. */
#define VIO_RING_ALIGN 64u
/* The used ring starts 4 bytes before an 8-byte boundary (the spec asks for
 * 4-byte alignment), so its 8-byte elements are 8-aligned and no write of
 * the device's ever straddles a page. QEMU 7.2 behind its intel-iommu
 * translated the second half of such a write (a used element across a
 * 4 KiB boundary) as if it started at IOVA 0: the element's length was lost
 * and the IOMMU reported a fault at 0x2c0 (docs/realdev.md). */
#define VIO_USED_SHIFT (VIO_RING_ALIGN - 4u)

static size_t align_up(size_t v, size_t a)
{
    return (v + a - 1) & ~(a - 1);
}

static uint16_t pow2_floor(uint32_t v)
{
    uint32_t p = 1;

    while (p * 2 <= v)
        p *= 2;
    return (uint16_t)p;
}

typedef struct vio_ring_layout {
    size_t avail_off;
    size_t used_off;
    size_t total;
} vio_ring_layout;

static vio_ring_layout ring_layout(uint16_t size)
{
    vio_ring_layout l;

    l.avail_off = VIO_DESC_TABLE_BYTES(size);
    l.used_off =
        align_up(l.avail_off + VIO_AVAIL_RING_BYTES(size), VIO_RING_ALIGN) + VIO_USED_SHIFT;
    l.total = l.used_off + VIO_USED_RING_BYTES(size);
    return l;
}

static void point_into_ring(vio_vq *vq)
{
    vio_ring_layout l = ring_layout(vq->size);
    uint8_t *base = vq->ring_dma.va;
    uint16_t *avail = (uint16_t *)(base + l.avail_off);
    uint16_t *used = (uint16_t *)(base + l.used_off);

    vq->desc = (vio_desc *)base;
    vq->avail_flags = &avail[0];
    vq->avail_idx = &avail[1];
    vq->avail_ring = &avail[2];
    vq->used_event = &avail[2 + vq->size];
    vq->used_flags = &used[0];
    vq->used_idx = &used[1];
    vq->used_ring = (const volatile vio_used_elem *)&used[2];
    vq->avail_event = (const volatile uint16_t *)(base + l.used_off + 4 + 8u * vq->size);
}

void vio_vq_reset_ring(vio_vq *vq)
{
    uint16_t i;

    memset(vq->ring_dma.va, 0, ring_layout(vq->size).total);
    memset(vq->heads, 0, sizeof(vio_head) * vq->size);
    for (i = 0; i < vq->size; i++)
        vq->next_free[i] = (uint16_t)((i + 1u) & vq->mask);
    vq->free_head = 0;
    vq->num_free = vq->size;
    vq->avail_shadow = 0;
    vq->kicked_avail = 0;
    vq->last_used = 0;
    vq->used_seen = 0;
    vq->in_flight = 0;
    vq->avail_flags_shadow = 0;
    vq->detach_cursor = 0;
    vq->broken = false;
    vq->broken_reason = VIO_OK;
}

/* Follows the negotiated features: what the rings may use. */
static void apply_features(vio_vq *vq)
{
    vq->event_idx = vio_dev_has_feature(vq->dev, VIO_F_EVENT_IDX);
    vq->indirect_max = vio_dev_has_feature(vq->dev, VIO_F_INDIRECT_DESC) && vq->indirect
                           ? vq->indirect_alloc_max
                           : 0;
}

static vio_status program_queue(vio_vq *vq)
{
    vio_dev *dev = vq->dev;
    vio_ring_layout l = ring_layout(vq->size);
    uint64_t notify_off;
    vio_status st;

    vio_common_write16(dev, VIO_COMMON_Q_SELECT, vq->params.index);
    if (vio_common_read16(dev, VIO_COMMON_Q_SIZE) < vq->size)
        return VIO_E_QUEUE_UNAVAILABLE;
    vio_common_write16(dev, VIO_COMMON_Q_SIZE, vq->size);
    st = vio_dev_program_vector(dev, VIO_COMMON_Q_MSIX, vq->params.msix_vector);
    if (st != VIO_OK)
        return st;
    vio_common_write64(dev, VIO_COMMON_Q_DESCLO, vq->ring_dma.pa);
    vio_common_write64(dev, VIO_COMMON_Q_AVAILLO, vq->ring_dma.pa + l.avail_off);
    vio_common_write64(dev, VIO_COMMON_Q_USEDLO, vq->ring_dma.pa + l.used_off);
    /* The notify address comes from the device: keep it inside the region. */
    notify_off = (uint64_t)vio_common_read16(dev, VIO_COMMON_Q_NOFF) * dev->notify_off_multiplier;
    if (notify_off + 2 > dev->notify.length)
        return VIO_E_NOTIFY_RANGE;
    vq->notify_off = (uint32_t)notify_off;
    vio_common_write16(dev, VIO_COMMON_Q_ENABLE, 1);
    return VIO_OK;
}

static vio_status check_queue(vio_dev *dev, const vio_vq_params *p, uint16_t *size)
{
    uint16_t max;

    if (p->index >= dev->num_queues)
        return VIO_E_QUEUE_UNAVAILABLE;
    vio_common_write16(dev, VIO_COMMON_Q_SELECT, p->index);
    if (vio_common_read16(dev, VIO_COMMON_Q_ENABLE) != 0)
        return VIO_E_BUSY; /* someone already set this queue up */
    max = vio_common_read16(dev, VIO_COMMON_Q_SIZE);
    if (p->max_size && p->max_size < max)
        max = p->max_size;
    if (max > VIO_QUEUE_SIZE_MAX)
        max = VIO_QUEUE_SIZE_MAX;
    if (max == 0)
        return VIO_E_QUEUE_UNAVAILABLE;
    *size = pow2_floor(max);
    return VIO_OK;
}

static vio_vq *alloc_bookkeeping(vio_dev *dev, uint16_t size)
{
    size_t heads_off = align_up(sizeof(vio_vq), sizeof(void *));
    size_t next_off = heads_off + sizeof(vio_head) * size;
    size_t total = next_off + sizeof(uint16_t) * size;
    uint8_t *mem = dev->ops->mem_alloc(dev->os, total);
    vio_vq *vq = (vio_vq *)mem;

    if (!mem)
        return NULL;
    memset(mem, 0, total);
    vq->heads = (vio_head *)(mem + heads_off);
    vq->next_free = (uint16_t *)(mem + next_off);
    vq->alloc_size = total;
    return vq;
}

static bool alloc_dma(vio_vq *vq, size_t size, size_t align, vio_dma *out)
{
    vio_dev *dev = vq->dev;

    if (!dev->ops->dma_alloc(dev->os, size, align, out))
        return false;
    if (out->va && (out->pa & (align - 1)) == 0)
        return true;
    dev->ops->dma_free(dev->os, out); /* an OS bug, but not ours to trust */
    out->va = NULL;
    return false;
}

static vio_status alloc_rings(vio_vq *vq)
{
    if (!alloc_dma(vq, ring_layout(vq->size).total, VIO_RING_ALIGN, &vq->ring_dma))
        return VIO_E_NOMEM;
    if (vq->indirect_alloc_max) {
        size_t bytes = sizeof(vio_desc) * (size_t)vq->size * vq->indirect_alloc_max;
        if (!alloc_dma(vq, bytes, 16, &vq->indirect_dma))
            return VIO_E_NOMEM;
        vq->indirect = vq->indirect_dma.va;
        vq->indirect_pa = vq->indirect_dma.pa;
    }
    return VIO_OK;
}

vio_status vio_vq_create(vio_dev *dev, const vio_vq_params *params, vio_vq **out)
{
    uint16_t size = 0;
    vio_status st;
    vio_vq *vq;

    if (!dev || !params || !out)
        return VIO_E_INVAL;
    *out = NULL;
    st = check_queue(dev, params, &size);
    if (st != VIO_OK)
        return st;
    vq = alloc_bookkeeping(dev, size);
    if (!vq)
        return VIO_E_NOMEM;
    vq->dev = dev;
    vq->params = *params;
    vq->size = size;
    vq->mask = (uint16_t)(size - 1);
    /* A chain may not be longer than the queue, indirect or not. */
    if (vio_dev_has_feature(dev, VIO_F_INDIRECT_DESC))
        vq->indirect_alloc_max = params->indirect_max < size ? params->indirect_max : size;
    st = alloc_rings(vq);
    if (st == VIO_OK) {
        point_into_ring(vq);
        vio_vq_reset_ring(vq);
        apply_features(vq);
        st = program_queue(vq);
    }
    if (st != VIO_OK) {
        vio_vq_destroy(vq);
        return st;
    }
    *out = vq;
    return VIO_OK;
}

void vio_vq_destroy(vio_vq *vq)
{
    vio_dev *dev;

    if (!vq)
        return;
    dev = vq->dev;
    if (vq->indirect_dma.va)
        dev->ops->dma_free(dev->os, &vq->indirect_dma);
    if (vq->ring_dma.va)
        dev->ops->dma_free(dev->os, &vq->ring_dma);
    dev->ops->mem_free(dev->os, vq, vq->alloc_size);
}

vio_status vio_vq_restart(vio_vq *vq)
{
    if (vq->in_flight)
        return VIO_E_BUSY;
    vio_vq_reset_ring(vq);
    apply_features(vq);
    return program_queue(vq);
}

void *vio_vq_detach_unused(vio_vq *vq)
{
    while (vq->detach_cursor < vq->size) {
        uint16_t head = vq->detach_cursor++;
        void *token = vq->heads[head].token;

        if (token) {
            vio_vq_free_chain(vq, head);
            vq->stats.detached++;
            return token;
        }
    }
    vio_vq_reset_ring(vq);
    return NULL;
}
