/*
 * vio_vq_internal.h - the split virtqueue's state, shared by the data path
 * (vio_vq.c) and the set-up code (vio_vq_setup.c). Not part of the API.
 */
#ifndef VIO_VQ_INTERNAL_H
#define VIO_VQ_INTERNAL_H

#include "vio_internal.h"
#include "vio_vq.h"

/* Driver-private record of a buffer, indexed by its head descriptor. */
typedef struct vio_head {
    void *token;     /* non-NULL exactly while the buffer is in flight */
    uint32_t in_len; /* device-writable bytes posted: the bound for used.len */
    uint16_t ndescs; /* ring descriptors the buffer occupies */
    uint16_t tail;   /* its last ring descriptor, to splice the free list in O(1) */
} vio_head;

struct vio_vq {
    /* Shared ring memory. The driver writes desc, avail and used_event; the
     * device writes the used ring and avail_event, which are therefore only
     * read through volatile pointers, each word once per decision. */
    vio_desc *desc;
    uint16_t *avail_ring;
    volatile uint16_t *avail_flags;
    volatile uint16_t *avail_idx;
    volatile uint16_t *used_event;
    const volatile uint16_t *used_flags;
    const volatile uint16_t *used_idx;
    const volatile vio_used_elem *used_ring;
    const volatile uint16_t *avail_event;

    /* Private bookkeeping: never shared with the device. */
    vio_head *heads;
    uint16_t *next_free;
    vio_desc *indirect; /* size * indirect_max descriptors, or NULL */
    uint64_t indirect_pa;

    uint16_t size;
    uint16_t mask;
    uint16_t free_head;
    uint16_t num_free;
    uint16_t avail_shadow;       /* our next avail idx */
    uint16_t kicked_avail;       /* avail idx at the last kick decision */
    uint16_t last_used;          /* next used idx to consume */
    uint16_t used_seen;          /* device used idx already validated */
    uint16_t in_flight;          /* buffers added and not yet returned */
    uint16_t indirect_max;       /* 0 when indirect is not usable */
    uint16_t indirect_alloc_max; /* descriptors per table allocated */
    uint16_t avail_flags_shadow; /* NO_INTERRUPT set = callbacks disabled */
    uint16_t detach_cursor;
    bool event_idx;
    bool broken;
    vio_status broken_reason;

    vio_dev *dev;
    vio_vq_params params;
    uint32_t notify_off;
    size_t alloc_size;
    vio_dma ring_dma;
    vio_dma indirect_dma;
    vio_vq_stats stats;
};

/* Returns the buffer with head `head` to the free list. */
static inline void vio_vq_free_chain(vio_vq *vq, uint16_t head)
{
    vio_head *h = &vq->heads[head];

    vq->next_free[h->tail] = vq->free_head;
    vq->free_head = head;
    vq->num_free = (uint16_t)(vq->num_free + h->ndescs);
    vq->in_flight--;
    h->token = NULL;
}

/* Puts ring memory and bookkeeping back to the state after creation. */
void vio_vq_reset_ring(vio_vq *vq);

#endif /* VIO_VQ_INTERNAL_H */
