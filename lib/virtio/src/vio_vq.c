/*
 * vio_vq.c - the split virtqueue data path: add, kick, get_used, interrupt
 * suppression. No allocation, no locks; the caller serialises per queue.
 */
#include "vfo_osdep.h"
#include "vio_vq_internal.h"

static vio_status mark_broken(vio_vq *vq, vio_status why)
{
    vq->broken = true;
    vq->broken_reason = why;
    switch (why) {
    case VIO_E_USED_ID_RANGE:
        vq->stats.err_used_id_range++;
        break;
    case VIO_E_USED_ID_NOT_IN_FLIGHT:
        vq->stats.err_used_id_not_in_flight++;
        break;
    case VIO_E_USED_LEN:
        vq->stats.err_used_len++;
        break;
    default:
        vq->stats.err_used_idx_jump++;
        break;
    }
    return why;
}

static vio_status choose_layout(const vio_vq *vq, uint32_t total, vio_add_mode mode, bool *indirect)
{
    switch (mode) {
    case VIO_ADD_DIRECT:
        *indirect = false;
        break;
    case VIO_ADD_INDIRECT:
        if (total > vq->indirect_max)
            return VIO_E_INVAL;
        *indirect = true;
        break;
    case VIO_ADD_AUTO:
        *indirect = total > 1 && total <= vq->indirect_max;
        break;
    default:
        return VIO_E_INVAL;
    }
    if (!*indirect && total > vq->size)
        return VIO_E_INVAL; /* could never fit */
    return VIO_OK;
}

/* The device-writable bytes of the buffer; false if they overflow the
 * 32-bit used length (the device could not report them). */
static bool sum_in_len(const vio_sg *sg, uint32_t n_out, uint32_t total, uint32_t *in_len)
{
    uint64_t sum = 0;
    uint32_t k;

    for (k = n_out; k < total; k++)
        sum += sg[k].len;
    *in_len = (uint32_t)sum;
    return sum <= UINT32_MAX;
}

static void fill_desc(vio_desc *d, const vio_sg *sg, bool writable, bool more, uint16_t next)
{
    d->addr = sg->addr;
    d->len = sg->len;
    d->flags = (uint16_t)((writable ? VIO_DESC_F_WRITE : 0) | (more ? VIO_DESC_F_NEXT : 0));
    d->next = next;
}

static uint16_t add_direct(vio_vq *vq, const vio_sg *sg, uint32_t n_out, uint32_t total)
{
    uint16_t head = vq->free_head;
    uint16_t i = head;
    uint16_t last = head;
    uint32_t k;

    /* The chain is a prefix of the free list, linked the same way. */
    for (k = 0; k < total; k++) {
        fill_desc(&vq->desc[i], &sg[k], k >= n_out, k + 1 < total, vq->next_free[i]);
        last = i;
        i = vq->next_free[i];
    }
    vq->free_head = i;
    vq->num_free = (uint16_t)(vq->num_free - total);
    vq->heads[head].ndescs = (uint16_t)total;
    vq->heads[head].tail = last;
    return head;
}

static uint16_t add_indirect(vio_vq *vq, const vio_sg *sg, uint32_t n_out, uint32_t total)
{
    uint16_t head = vq->free_head;
    size_t first = (size_t)head * vq->indirect_alloc_max;
    vio_desc *table = vq->indirect + first;
    vio_desc *d = &vq->desc[head];
    uint32_t k;

    /* Each head owns one preallocated table, so nothing is allocated here. */
    for (k = 0; k < total; k++)
        fill_desc(&table[k], &sg[k], k >= n_out, k + 1 < total, (uint16_t)(k + 1));
    d->addr = vq->indirect_pa + first * sizeof(vio_desc);
    d->len = total * (uint32_t)sizeof(vio_desc);
    d->flags = VIO_DESC_F_INDIRECT;
    d->next = vq->next_free[head];
    vq->free_head = vq->next_free[head];
    vq->num_free--;
    vq->heads[head].ndescs = 1;
    vq->heads[head].tail = head;
    vq->stats.added_indirect++;
    return head;
}

vio_status vio_vq_add(vio_vq *vq, const vio_sg *sg, uint16_t n_out, uint16_t n_in, void *token,
                      vio_add_mode mode)
{
    uint32_t total = (uint32_t)n_out + n_in;
    uint32_t in_len;
    bool indirect;
    uint16_t head;
    vio_status st;

    if (VFO_UNLIKELY(vq->broken))
        return VIO_E_BROKEN;
    if (VFO_UNLIKELY(!sg || !token || total == 0))
        return VIO_E_INVAL;
    st = choose_layout(vq, total, mode, &indirect);
    if (VFO_UNLIKELY(st != VIO_OK))
        return st;
    if (VFO_UNLIKELY(!sum_in_len(sg, n_out, total, &in_len)))
        return VIO_E_INVAL;
    if (VFO_UNLIKELY(vq->num_free < (indirect ? 1u : total))) {
        vq->stats.full++;
        return VIO_E_NOSPC;
    }
    head = indirect ? add_indirect(vq, sg, n_out, total) : add_direct(vq, sg, n_out, total);
    vq->heads[head].token = token;
    vq->heads[head].in_len = in_len;
    vq->avail_ring[vq->avail_shadow & vq->mask] = head;
    vq->avail_shadow++;
    vq->in_flight++;
    vq->stats.added++;
    /* The index is published by the next kick (vio_vq_kick_prepare). */
    return VIO_OK;
}

bool vio_vq_kick_prepare(vio_vq *vq)
{
    uint16_t old_idx = vq->kicked_avail;
    uint16_t new_idx = vq->avail_shadow;
    bool need;

    if (vq->broken || old_idx == new_idx)
        return false;
    /* Publish the batch with one index store: a device that polls the index
     * (a vhost-user back end on another CPU) then pulls the index's cache
     * line once per batch and takes the batch in one go, instead of once per
     * buffer (64-byte frames at batch 32 against DPDK's vhost library: 1.8
     * -> 3.2 Mpps). Descriptors and ring entries must be visible first. */
    vfo_wmb();
    *vq->avail_idx = new_idx;
    /* Our avail idx store must be visible before we read whether the device
     * wants to hear about it (store-load: a full fence). */
    vfo_mb();
    if (vq->event_idx)
        need = vio_need_event(*vq->avail_event, new_idx, old_idx);
    else
        need = !(*vq->used_flags & VIO_USED_F_NO_NOTIFY);
    vq->kicked_avail = new_idx;
    if (!need)
        vq->stats.notifies_suppressed++;
    return need;
}

void vio_vq_notify(vio_vq *vq)
{
    vio_dev *dev = vq->dev;

    vq->stats.notifies++;
    dev->ops->write16(dev->os, dev->notify.map, vq->notify_off, vq->params.index);
}

bool vio_vq_kick(vio_vq *vq)
{
    if (!vio_vq_kick_prepare(vq))
        return false;
    vio_vq_notify(vq);
    return true;
}

/* Reads the device's used index once and validates how far it moved. */
static vio_status refresh_used(vio_vq *vq)
{
    uint16_t idx = *vq->used_idx;
    uint16_t pending = (uint16_t)(idx - vq->last_used);

    if (pending == 0)
        return VIO_E_EMPTY;
    if (VFO_UNLIKELY(pending > vq->in_flight))
        return mark_broken(vq, VIO_E_USED_IDX_JUMP);
    /* The entries are read only after the index that covers them. */
    vfo_rmb();
    vq->used_seen = idx;
    return VIO_OK;
}

vio_status vio_vq_get_used(vio_vq *vq, void **token, uint32_t *len)
{
    const volatile vio_used_elem *slot;
    uint32_t id, used_len;
    vio_head *h;

    if (VFO_UNLIKELY(vq->broken))
        return VIO_E_BROKEN;
    if (vq->last_used == vq->used_seen) {
        vio_status st = refresh_used(vq);
        if (st != VIO_OK)
            return st;
    }
    /* Each field is read exactly once: the device may rewrite it meanwhile. */
    slot = &vq->used_ring[vq->last_used & vq->mask];
    id = slot->id;
    used_len = slot->len;
    if (VFO_UNLIKELY(id >= vq->size))
        return mark_broken(vq, VIO_E_USED_ID_RANGE);
    h = &vq->heads[id];
    if (VFO_UNLIKELY(!h->token))
        return mark_broken(vq, VIO_E_USED_ID_NOT_IN_FLIGHT);
    if (VFO_UNLIKELY(used_len > h->in_len))
        return mark_broken(vq, VIO_E_USED_LEN);
    if (token)
        *token = h->token;
    if (len)
        *len = used_len;
    vio_vq_free_chain(vq, (uint16_t)id);
    vq->last_used++;
    vq->stats.completed++;
    if (vq->event_idx && !(vq->avail_flags_shadow & VIO_AVAIL_F_NO_INTERRUPT)) {
        /* Callbacks are on: ask for an interrupt at the next entry, and make
         * that request visible before we next read the used index. */
        *vq->used_event = vq->last_used;
        vfo_mb();
    }
    return VIO_OK;
}

bool vio_vq_has_used(vio_vq *vq)
{
    if (vq->broken)
        return false;
    return vq->last_used != vq->used_seen || *vq->used_idx != vq->last_used;
}

void vio_vq_disable_cb(vio_vq *vq)
{
    if (vq->broken || (vq->avail_flags_shadow & VIO_AVAIL_F_NO_INTERRUPT))
        return;
    vq->avail_flags_shadow |= VIO_AVAIL_F_NO_INTERRUPT;
    if (vq->event_idx)
        *vq->used_event = (uint16_t)(vq->last_used - 1); /* already passed: no event */
    else
        *vq->avail_flags = vq->avail_flags_shadow;
}

static void callbacks_on(vio_vq *vq, uint16_t event)
{
    if (vq->avail_flags_shadow & VIO_AVAIL_F_NO_INTERRUPT) {
        vq->avail_flags_shadow &= (uint16_t)~VIO_AVAIL_F_NO_INTERRUPT;
        if (!vq->event_idx)
            *vq->avail_flags = vq->avail_flags_shadow;
    }
    if (vq->event_idx)
        *vq->used_event = event;
    /* The request must be visible before we check for entries that raced
     * with it (store-load). */
    vfo_mb();
}

bool vio_vq_enable_cb(vio_vq *vq)
{
    if (vq->broken)
        return true;
    callbacks_on(vq, vq->last_used);
    return *vq->used_idx == vq->last_used;
}

bool vio_vq_enable_cb_delayed(vio_vq *vq)
{
    uint16_t later = (uint16_t)((vq->in_flight * 3u) / 4u);

    if (vq->broken)
        return true;
    if (!vq->event_idx)
        return vio_vq_enable_cb(vq);
    callbacks_on(vq, (uint16_t)(vq->last_used + later));
    return (uint16_t)(*vq->used_idx - vq->last_used) <= later;
}

uint16_t vio_vq_index(const vio_vq *vq)
{
    return vq->params.index;
}

uint16_t vio_vq_size(const vio_vq *vq)
{
    return vq->size;
}

uint16_t vio_vq_num_free(const vio_vq *vq)
{
    return vq->num_free;
}

uint16_t vio_vq_in_flight(const vio_vq *vq)
{
    return vq->in_flight;
}

bool vio_vq_uses_event_idx(const vio_vq *vq)
{
    return vq->event_idx;
}

bool vio_vq_can_indirect(const vio_vq *vq)
{
    return vq->indirect_max > 0;
}

bool vio_vq_is_broken(const vio_vq *vq)
{
    return vq->broken;
}

vio_status vio_vq_broken_reason(const vio_vq *vq)
{
    return vq->broken ? vq->broken_reason : VIO_OK;
}

const vio_vq_stats *vio_vq_get_stats(const vio_vq *vq)
{
    return &vq->stats;
}
