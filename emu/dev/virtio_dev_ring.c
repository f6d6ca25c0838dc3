/*
 * virtio_dev_ring.c - the device side of split virtqueues: attaching the
 * rings the driver programmed, taking buffers (with direct and indirect
 * descriptors), returning them, and deciding when to interrupt.
 *
 * The driver is not trusted either: every index and address it wrote is
 * checked, and a violation stops the queue and sets DEVICE_NEEDS_RESET
 * instead of touching memory outside what the host can translate.
 */
#include <stdatomic.h>
#include <string.h>

#include "virtio_dev_internal.h"

static bool queue_ready(const emu_vdev *dev, const emu_vdev_queue *q)
{
    return q->enabled && !q->stopped && (dev->status & EMU_VDEV_S_DRIVER_OK) &&
           !(dev->status & EMU_VDEV_S_NEEDS_RESET);
}

bool emu_vdev_queue_attach(emu_vdev *dev, emu_vdev_queue *q)
{
    uint64_t n = q->size;
    void *desc, *avail, *used;

    if (n == 0 || n > q->max_size || (n & (n - 1)) != 0) {
        emu_vdev_driver_error(dev, q, EMU_VDEV_ERR_QUEUE_SIZE);
        return false;
    }
    desc = dev->host->translate(dev->host_ctx, q->desc_gpa, 16 * n);
    avail = dev->host->translate(dev->host_ctx, q->avail_gpa, 6 + 2 * n);
    used = dev->host->translate(dev->host_ctx, q->used_gpa, 6 + 8 * n);
    if (!desc || !avail || !used || q->desc_gpa % 16 || q->avail_gpa % 2 || q->used_gpa % 4) {
        emu_vdev_driver_error(dev, q, EMU_VDEV_ERR_RING_ADDRESS);
        return false;
    }
    q->desc = desc;
    q->avail = avail;
    q->used = used;
    q->avail_event = &q->used[2 + 4 * n];
    q->last_avail = 0;
    q->used_idx = 0;
    q->signalled_used = 0;
    q->stopped = false;
    return true;
}

/* ---- taking buffers -------------------------------------------------------- */

static emu_vdev_error add_segment(emu_vdev *dev, emu_vdev_req *req, const emu_vdev_vring_desc *d)
{
    bool writable = (d->flags & EMU_VDEV_DESC_WRITE) != 0;
    uint32_t *total = writable ? &req->writable_len : &req->readable_len;
    emu_vdev_seg *seg;
    void *host = NULL;

    if (req->nseg == EMU_VDEV_MAX_SEGS)
        return EMU_VDEV_ERR_CHAIN_LONG;
    if (!writable && req->nseg > req->n_readable)
        return EMU_VDEV_ERR_DESC_ORDER;
    if (*total > UINT32_MAX - d->len)
        return EMU_VDEV_ERR_LEN_OVERFLOW;
    if (d->len) {
        host = dev->host->translate(dev->host_ctx, d->addr, d->len);
        if (!host)
            return EMU_VDEV_ERR_DESC_ADDRESS;
    }
    seg = &req->seg[req->nseg++];
    seg->host = host;
    seg->len = d->len;
    seg->writable = writable;
    *total += d->len;
    if (!writable)
        req->n_readable++;
    return EMU_VDEV_ERR_NONE;
}

/* Switches the walk to the indirect table `d` points at. */
static emu_vdev_error enter_indirect(emu_vdev *dev, const emu_vdev_vring_desc *d,
                                     const void **table, uint32_t *entries)
{
    if (!dev->indirect || (d->flags & EMU_VDEV_DESC_NEXT) || d->len == 0 ||
        d->len % sizeof(emu_vdev_vring_desc))
        return EMU_VDEV_ERR_INDIRECT;
    *table = dev->host->translate(dev->host_ctx, d->addr, d->len);
    if (!*table)
        return EMU_VDEV_ERR_DESC_ADDRESS;
    *entries = d->len / (uint32_t)sizeof(emu_vdev_vring_desc);
    return EMU_VDEV_ERR_NONE;
}

static emu_vdev_error walk_chain(emu_vdev *dev, emu_vdev_queue *q, uint16_t head, emu_vdev_req *req)
{
    const void *table = (const void *)q->desc;
    uint32_t entries = q->size;
    uint32_t i = head, visited = 0;
    bool in_indirect = false;
    emu_vdev_error err;

    for (;;) {
        emu_vdev_vring_desc d;

        if (++visited > entries)
            return EMU_VDEV_ERR_DESC_LOOP;
        /* One copy: the driver may rewrite the descriptor meanwhile. */
        memcpy(&d, (const uint8_t *)table + (size_t)i * sizeof(d), sizeof(d));
        if (d.flags & EMU_VDEV_DESC_INDIRECT) {
            if (in_indirect)
                return EMU_VDEV_ERR_INDIRECT;
            err = enter_indirect(dev, &d, &table, &entries);
            if (err != EMU_VDEV_ERR_NONE)
                return err;
            in_indirect = true;
            i = 0;
            visited = 0;
            continue;
        }
        err = add_segment(dev, req, &d);
        if (err != EMU_VDEV_ERR_NONE || !(d.flags & EMU_VDEV_DESC_NEXT))
            return err;
        i = d.next;
        if (i >= entries)
            return EMU_VDEV_ERR_DESC_NEXT;
    }
}

/* The driver's avail idx, or (with EVENT_IDX) a re-read after asking to be
 * notified, so a buffer published meanwhile is not missed. */
static uint16_t avail_index(emu_vdev *dev, emu_vdev_queue *q)
{
    uint16_t idx = q->avail[1];

    if (idx == q->last_avail && dev->event_idx) {
        *q->avail_event = q->last_avail;
        atomic_thread_fence(memory_order_seq_cst);
        idx = q->avail[1];
    }
    return idx;
}

emu_vdev_pop_result emu_vdev_pop(emu_vdev *dev, uint16_t queue, emu_vdev_req *req)
{
    emu_vdev_queue *q;
    emu_vdev_error err;
    uint16_t idx, head;

    if (queue >= dev->pers.num_queues || !queue_ready(dev, &dev->queues[queue]))
        return EMU_VDEV_POP_EMPTY;
    q = &dev->queues[queue];
    idx = avail_index(dev, q);
    if (idx == q->last_avail)
        return EMU_VDEV_POP_EMPTY;
    if ((uint16_t)(idx - q->last_avail) > q->size) {
        emu_vdev_driver_error(dev, q, EMU_VDEV_ERR_AVAIL_IDX);
        return EMU_VDEV_POP_ERROR;
    }
    atomic_thread_fence(memory_order_acquire);
    head = q->avail[2 + (q->last_avail & (q->size - 1))];
    req->queue = queue;
    req->head = head;
    req->epoch = dev->epoch;
    req->nseg = 0;
    req->n_readable = 0;
    req->readable_len = 0;
    req->writable_len = 0;
    err = head < q->size ? walk_chain(dev, q, head, req) : EMU_VDEV_ERR_HEAD;
    if (err != EMU_VDEV_ERR_NONE) {
        emu_vdev_driver_error(dev, q, err);
        return EMU_VDEV_POP_ERROR;
    }
    q->last_avail++;
    if (dev->event_idx)
        *q->avail_event = q->last_avail;
    dev->stats.popped++;
    return EMU_VDEV_POP_OK;
}

/* ---- returning buffers and interrupting ------------------------------------ */

void emu_vdev_push(emu_vdev *dev, const emu_vdev_req *req, uint32_t written)
{
    emu_vdev_queue *q;
    volatile uint32_t *elem;
    uint32_t id = req->head;

    if (req->queue >= dev->pers.num_queues || req->epoch != dev->epoch)
        return; /* popped before a reset: the driver has forgotten it */
    q = &dev->queues[req->queue];
    if (!q->enabled || q->stopped)
        return;
    if (written > req->writable_len)
        written = req->writable_len;
    if (emu_vdev_fault_fires(dev, EMU_VDEV_FAULT_USED_ID, req->queue))
        id = dev->faults[EMU_VDEV_FAULT_USED_ID].value;
    if (emu_vdev_fault_fires(dev, EMU_VDEV_FAULT_USED_LEN, req->queue))
        written = dev->faults[EMU_VDEV_FAULT_USED_LEN].value;
    elem = (volatile uint32_t *)&q->used[2 + 4 * (q->used_idx & (q->size - 1))];
    elem[0] = id;
    elem[1] = written;
    q->used_idx++;
    if (emu_vdev_fault_fires(dev, EMU_VDEV_FAULT_USED_IDX_JUMP, req->queue))
        q->used_idx = (uint16_t)(q->used_idx + dev->faults[EMU_VDEV_FAULT_USED_IDX_JUMP].value);
    /* The entry must be visible before the index that publishes it. */
    atomic_thread_fence(memory_order_release);
    q->used[1] = q->used_idx;
    dev->stats.pushed++;
}

void emu_vdev_signal(emu_vdev *dev, uint16_t queue)
{
    emu_vdev_queue *q;
    bool need;

    if (queue >= dev->pers.num_queues)
        return;
    q = &dev->queues[queue];
    if (!q->enabled || q->used_idx == q->signalled_used)
        return;
    /* Our used idx store before the driver's suppression state (store-load). */
    atomic_thread_fence(memory_order_seq_cst);
    if (dev->event_idx) {
        uint16_t used_event = q->avail[2 + q->size];
        need =
            (uint16_t)(q->used_idx - used_event - 1) < (uint16_t)(q->used_idx - q->signalled_used);
    } else {
        need = !(q->avail[0] & EMU_VDEV_AVAIL_NO_INTR);
    }
    q->signalled_used = q->used_idx;
    if (need)
        emu_vdev_queue_irq(dev, queue);
    else
        dev->stats.irqs_suppressed++;
}

void emu_vdev_process_queue(emu_vdev *dev, uint16_t queue)
{
    if (queue >= dev->pers.num_queues || !queue_ready(dev, &dev->queues[queue]))
        return;
    dev->pers.queues[queue].process(dev, dev->pers_ctx, queue);
}

/* ---- request payload helpers --------------------------------------------- */

/* Copies between `buf` and segments [first, end) of a request, starting
 * `offset` bytes into them. */
static size_t copy_segments(const emu_vdev_req *req, uint16_t first, uint16_t end, size_t offset,
                            uint8_t *buf, size_t len, bool to_guest)
{
    size_t done = 0;
    uint16_t i;

    for (i = first; i < end && done < len; i++) {
        const emu_vdev_seg *s = &req->seg[i];
        uint8_t *host = (uint8_t *)s->host;
        size_t n;

        if (offset >= s->len) {
            offset -= s->len;
            continue;
        }
        n = s->len - offset < len - done ? s->len - offset : len - done;
        if (to_guest)
            memcpy(host + offset, buf + done, n);
        else
            memcpy(buf + done, host + offset, n);
        done += n;
        offset = 0;
    }
    return done;
}

size_t emu_vdev_req_read(const emu_vdev_req *req, size_t offset, void *buf, size_t len)
{
    return copy_segments(req, 0, req->n_readable, offset, buf, len, false);
}

size_t emu_vdev_req_write(const emu_vdev_req *req, size_t offset, const void *data, size_t len)
{
    /* copy_segments only reads `data` when copying towards the guest. */
    return copy_segments(req, req->n_readable, req->nseg, offset, (uint8_t *)(uintptr_t)data, len,
                         true);
}
