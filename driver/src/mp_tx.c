/*
 * mp_tx.c - MiniportSendNetBufferLists and the virtio transmit path.
 *
 * Each NBL is routed by lib/failover (fo_select_tx): to the VF binding
 * (pt_data.c keeps its SourceHandle) or onto virtio. On virtio every
 * NET_BUFFER is one frame: small ones are copied next to the virtio header,
 * larger ones are mapped with NdisMAllocateNetBufferSGList. NBLs wait in a
 * software queue while no request or ring slot is free; an NBL completes when
 * its last frame does. Our own frames (announcements) travel the same way
 * and are freed instead of completed.
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "mp_tx.tmh"
#endif

#define VFO_TX_REAP_BUDGET 128u

_Static_assert(sizeof(vfo_tx_nbl) <= sizeof(((NET_BUFFER_LIST *)0)->MiniportReserved),
               "vfo_tx_nbl fits in MiniportReserved");

static vfo_tx_nbl *txn(PNET_BUFFER_LIST nbl)
{
    return (vfo_tx_nbl *)NET_BUFFER_LIST_MINIPORT_RESERVED(nbl);
}

/* Bounce buffers: allocated once, so a frame that needs one never fails
 * for want of memory; when all are busy it waits for one. */
static bool bounce_init(vfo_adapter *ad)
{
    ad->tx_bounce_wait_tail = &ad->tx_bounce_wait;
    for (ULONG i = 0; i < VFO_BOUNCE_COUNT; i++) {
        vfo_bounce *b = &ad->tx_bounce[i];
        b->va = vfo_shared_alloc(ad->handle, VFO_BOUNCE_SIZE, &b->pa);
        if (!b->va)
            return false;
        b->next_free = ad->tx_bounce_free;
        ad->tx_bounce_free = b;
    }
    return true;
}

static void bounce_free_all(vfo_adapter *ad)
{
    for (ULONG i = 0; i < VFO_BOUNCE_COUNT; i++) {
        vfo_bounce *b = &ad->tx_bounce[i];
        if (b->va)
            NdisMFreeSharedMemory(ad->handle, VFO_BOUNCE_SIZE, TRUE, b->va, b->pa);
        b->va = NULL;
    }
    ad->tx_bounce_free = NULL;
}

bool vfo_tx_init(vfo_adapter *ad)
{
    ULONG n = ad->cfg.tx_ring; /* at most one request per ring entry */
    ad->tx_done_tail = &ad->tx_done_head;
    ad->tx_backlog_tail = &ad->tx_backlog;
    if (!bounce_init(ad))
        return false;
    ad->tx_reqs = vfo_alloc(ad->handle, (SIZE_T)n * sizeof(vfo_tx_req), VFO_TAG_TX);
    ad->tx_sgl_mem = vfo_alloc(ad->handle, (SIZE_T)n * ad->sgl_size, VFO_TAG_TX);
    if (!ad->tx_reqs || !ad->tx_sgl_mem)
        return false;
    ad->tx_nreq = n;
    for (ULONG i = 0; i < n; i++) {
        ad->tx_reqs[i].ad = ad;
        ad->tx_reqs[i].sgl_buf = ad->tx_sgl_mem + (SIZE_T)i * ad->sgl_size;
        ad->tx_reqs[i].next_free = ad->tx_free;
        ad->tx_free = &ad->tx_reqs[i];
    }
    return true;
}

void vfo_tx_free(vfo_adapter *ad)
{
    bounce_free_all(ad);
    vfo_free(ad->handle, ad->tx_reqs, VFO_TAG_TX);
    vfo_free(ad->handle, ad->tx_sgl_mem, VFO_TAG_TX);
    ad->tx_reqs = NULL;
    ad->tx_sgl_mem = NULL;
    ad->tx_free = NULL;
}

static bool tx_usable(const vfo_adapter *ad)
{
    return !ad->resetting && ad->vn && vnet_is_started(ad->vn) && !ad->surprise_removed;
}

/* tx_lock held: one frame is over. The request is free again and the NBL
 * completes with its last frame. */
static void frame_done_locked(vfo_adapter *ad, vfo_tx_req *req, NDIS_STATUS status)
{
    PNET_BUFFER_LIST nbl = req->nbl;
    if (req->sgl)
        NdisMFreeNetBufferSGList(ad->os.dma, req->sgl, req->nb);
    if (req->bounce) { /* the next waiting frame takes it in pump() */
        req->bounce->next_free = ad->tx_bounce_free;
        ad->tx_bounce_free = req->bounce;
        req->bounce = NULL;
    }
    if (status != NDIS_STATUS_SUCCESS)
        NET_BUFFER_LIST_STATUS(nbl) = status;
    else
        vfo_count_frame(ad->sb_ctr, req->cast, req->len, false);
    req->sgl = NULL;
    req->nbl = NULL;
    req->next_free = ad->tx_free;
    ad->tx_free = req;
    if (--txn(nbl)->pending == 0) {
        *ad->tx_done_tail = nbl;
        ad->tx_done_tail = &NET_BUFFER_LIST_NEXT_NBL(nbl);
    }
}

static void frame_done(vfo_adapter *ad, vfo_tx_req *req, NDIS_STATUS status)
{
    NdisAcquireSpinLock(&ad->tx_lock);
    frame_done_locked(ad, req, status);
    NdisReleaseSpinLock(&ad->tx_lock);
}

/* lib/vnet: a frame left the ring (or was cancelled by a stop). tx_lock held. */
void vfo_tx_done_cb(void *ctx, void *cookie, vnet_status status)
{
    vfo_adapter *ad = ctx;
    NDIS_STATUS st = NDIS_STATUS_SUCCESS;
    VFO_ASSERT_HELD(&ad->tx_lock, "vnet tx_done (tx_lock held)");
    if (status != VNET_OK)
        st = ad->surprise_removed ? NDIS_STATUS_ADAPTER_REMOVED : NDIS_STATUS_REQUEST_ABORTED;
    frame_done_locked(ad, cookie, st);
}

/* Ring space came back; the reap that reported it pumps the queue next. */
void vfo_tx_resume_cb(void *ctx)
{
    (void)ctx;
}

/* Puts a prepared frame in the ring. VNET_E_RING_FULL keeps it for later. */
static void post(vfo_adapter *ad, vfo_tx_req *req)
{
    NdisAcquireSpinLock(&ad->tx_lock);
    if (!tx_usable(ad)) {
        frame_done_locked(ad, req,
                          ad->surprise_removed ? NDIS_STATUS_ADAPTER_REMOVED
                                               : NDIS_STATUS_RESET_IN_PROGRESS);
        NdisReleaseSpinLock(&ad->tx_lock);
        return;
    }
    vnet_status vs = vnet_tx(ad->vn, req->segs, req->nseg, &req->off, req);
    if (vs == VNET_E_RING_FULL) {
        req->next_free = NULL;
        *ad->tx_backlog_tail = req;
        ad->tx_backlog_tail = &req->next_free;
    } else if (vs != VNET_OK) {
        VFO_WARN("virtio refused a frame: %s", vnet_status_name(vs));
        vfo_count(&ad->ctr.tx_dropped, 1);
        frame_done_locked(ad, req, NDIS_STATUS_INVALID_PACKET);
    }
    NdisReleaseSpinLock(&ad->tx_lock);
}

/* The frame, copied into its bounce buffer, goes as one segment. */
static void bounce_post(vfo_adapter *ad, vfo_tx_req *req)
{
    vfo_bounce *b = req->bounce;
    const UCHAR *p = NdisGetDataBuffer(req->nb, req->len, b->va, 1, 0);
    if (!p) { /* low resources: the NB's buffers could not be mapped */
        vfo_count(&ad->ctr.tx_dropped, 1);
        frame_done(ad, req, NDIS_STATUS_RESOURCES);
        return;
    }
    if (p != b->va)
        NdisMoveMemory(b->va, p, req->len);
    req->segs[0].pa = (uint64_t)b->pa.QuadPart;
    req->segs[0].va = NULL;
    req->segs[0].len = req->len;
    req->nseg = 1;
    post(ad, req);
}

/* A frame virtio cannot take as mapped (too many scatter/gather elements,
 * e.g. a retransmission assembled from many small buffers): copied into a
 * bounce buffer, or queued until one is free. Failing it would only make
 * TCP/IP send the same chain again, and again. */
static void bounce_frame(vfo_adapter *ad, vfo_tx_req *req)
{
    if (req->len > VFO_BOUNCE_SIZE) {
        VFO_WARN("frame of %lu bytes: larger than any frame we offered to send",
                 (unsigned long)req->len);
        vfo_count(&ad->ctr.tx_dropped, 1);
        frame_done(ad, req, NDIS_STATUS_INVALID_LENGTH);
        return;
    }
    NdisAcquireSpinLock(&ad->tx_lock);
    vfo_count(&ad->ctr.tx_bounced, 1);
    if (ad->tx_bounce_free && !ad->tx_bounce_wait) {
        req->bounce = ad->tx_bounce_free;
        ad->tx_bounce_free = req->bounce->next_free;
    } else {
        req->next_free = NULL;
        *ad->tx_bounce_wait_tail = req;
        ad->tx_bounce_wait_tail = &req->next_free;
    }
    NdisReleaseSpinLock(&ad->tx_lock);
    if (req->bounce)
        bounce_post(ad, req);
}

/* Frames waiting for a bounce buffer take the ones completions freed. */
static void bounce_resume(vfo_adapter *ad)
{
    for (;;) {
        NdisAcquireSpinLock(&ad->tx_lock);
        vfo_tx_req *req = ad->tx_bounce_free ? ad->tx_bounce_wait : NULL;
        if (req) {
            ad->tx_bounce_wait = req->next_free;
            if (!ad->tx_bounce_wait)
                ad->tx_bounce_wait_tail = &ad->tx_bounce_wait;
            req->bounce = ad->tx_bounce_free;
            ad->tx_bounce_free = req->bounce->next_free;
        }
        NdisReleaseSpinLock(&ad->tx_lock);
        if (!req)
            return;
        bounce_post(ad, req);
    }
}

/* NdisMAllocateNetBufferSGList's callback: now or later, on any CPU. */
void vfo_tx_process_sgl(PDEVICE_OBJECT dev, PVOID reserved, PSCATTER_GATHER_LIST sgl, PVOID ctx)
{
    vfo_tx_req *req = ctx;
    vfo_adapter *ad = req->ad;
    (void)dev;
    (void)reserved;
    if (sgl->NumberOfElements > VNET_TX_MAX_SEGS) {
        NdisMFreeNetBufferSGList(ad->os.dma, sgl, req->nb);
        req->sgl = NULL;
        bounce_frame(ad, req);
        return;
    }
    req->sgl = sgl;
    req->nseg = (uint16_t)sgl->NumberOfElements;
    for (ULONG i = 0; i < sgl->NumberOfElements; i++) {
        req->segs[i].pa = (uint64_t)sgl->Elements[i].Address.QuadPart;
        req->segs[i].va = NULL;
        req->segs[i].len = sgl->Elements[i].Length;
    }
    post(ad, req);
}

static UCHAR frame_cast(PNET_BUFFER nb)
{
    UCHAR storage[6];
    const UCHAR *dst = NdisGetDataBuffer(nb, 6, storage, 1, 0);
    /* NULL under low resources: counted as unicast (the statistics only) */
    return dst ? vfo_frame_cast(dst) : VFO_CAST_UNICAST;
}

/* Maps one NET_BUFFER for the device and posts it. */
static void prepare(vfo_adapter *ad, vfo_tx_req *req)
{
    PNET_BUFFER nb = req->nb;
    req->len = NET_BUFFER_DATA_LENGTH(nb);
    req->sgl = NULL;
    /* req->copy holds small frames only; a large send's fixed headers
     * (never a small frame) use it instead. */
    NDIS_STATUS st = req->len < 14 ? NDIS_STATUS_INVALID_PACKET
                                   : vfo_tx_virtio_offload(req->nbl, nb, &req->off, req->copy);
    if (st != NDIS_STATUS_SUCCESS) {
        vfo_count(&ad->ctr.tx_dropped, 1);
        frame_done(ad, req, st);
        return;
    }
    req->cast = frame_cast(nb);
    if (req->len <= VNET_TX_COPY_MAX) {
        /* Copied by lib/vnet behind the header: no DMA mapping needed. */
        const UCHAR *p = NdisGetDataBuffer(nb, req->len, req->copy, 1, 0);
        if (!p) { /* low resources: the NB's buffers could not be mapped */
            vfo_count(&ad->ctr.tx_dropped, 1);
            frame_done(ad, req, NDIS_STATUS_RESOURCES);
            return;
        }
        req->segs[0].pa = 0;
        req->segs[0].va = p;
        req->segs[0].len = req->len;
        req->nseg = 1;
        post(ad, req);
        return;
    }
    /* DISPATCH_LEVEL only (its IRQL rule); sends may come at PASSIVE_LEVEL. */
    NdisAcquireSpinLock(&ad->sg_lock);
    st = NdisMAllocateNetBufferSGList(ad->os.dma, nb, req, NDIS_SG_LIST_WRITE_TO_DEVICE,
                                      req->sgl_buf, ad->sgl_size);
    NdisReleaseSpinLock(&ad->sg_lock);
    if (st != NDIS_STATUS_SUCCESS) {
        vfo_count(&ad->ctr.tx_dropped, 1);
        frame_done(ad, req, NDIS_STATUS_RESOURCES);
    }
}

/* tx_lock held: the head NBL gave its last frame away. */
static void dequeue_head_locked(vfo_adapter *ad, PNET_BUFFER_LIST nbl)
{
    ad->tx_head = NET_BUFFER_LIST_NEXT_NBL(nbl);
    if (!ad->tx_head)
        ad->tx_tail = NULL;
    NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
    if (--txn(nbl)->pending == 0) { /* every frame already completed */
        *ad->tx_done_tail = nbl;
        ad->tx_done_tail = &NET_BUFFER_LIST_NEXT_NBL(nbl);
    }
}

/* tx_lock held: the next frame to map, or NULL when none can go now. */
static vfo_tx_req *next_frame_locked(vfo_adapter *ad)
{
    while (ad->tx_head) {
        PNET_BUFFER_LIST nbl = ad->tx_head;
        vfo_tx_nbl *t = txn(nbl);
        if (!t->next_nb) {
            dequeue_head_locked(ad, nbl);
            continue;
        }
        vfo_tx_req *req = ad->tx_free;
        if (!req)
            return NULL;
        ad->tx_free = req->next_free;
        req->nbl = nbl;
        req->nb = t->next_nb;
        t->next_nb = NET_BUFFER_NEXT_NB(t->next_nb);
        t->pending++;
        if (!t->next_nb)
            dequeue_head_locked(ad, nbl);
        return req;
    }
    return NULL;
}

/* tx_lock held: frames that found the ring full go first. */
static bool retry_backlog_locked(vfo_adapter *ad)
{
    while (ad->tx_backlog) {
        vfo_tx_req *req = ad->tx_backlog;
        vnet_status vs = vnet_tx(ad->vn, req->segs, req->nseg, &req->off, req);
        if (vs == VNET_E_RING_FULL)
            return false;
        ad->tx_backlog = req->next_free;
        if (!ad->tx_backlog)
            ad->tx_backlog_tail = &ad->tx_backlog;
        if (vs != VNET_OK) {
            vfo_count(&ad->ctr.tx_dropped, 1);
            frame_done_locked(ad, req, NDIS_STATUS_INVALID_PACKET);
        }
    }
    return true;
}

/* Moves queued NBLs into the ring as far as requests and ring space allow. */
static void pump(vfo_adapter *ad)
{
    bounce_resume(ad);
    for (;;) {
        NdisAcquireSpinLock(&ad->tx_lock);
        if (!tx_usable(ad) || !retry_backlog_locked(ad)) {
            NdisReleaseSpinLock(&ad->tx_lock);
            break;
        }
        vfo_tx_req *req = next_frame_locked(ad);
        NdisReleaseSpinLock(&ad->tx_lock);
        if (!req)
            break;
        prepare(ad, req);
    }
    NdisAcquireSpinLock(&ad->tx_lock);
    if (tx_usable(ad))
        vnet_tx_kick(ad->vn);
    NdisReleaseSpinLock(&ad->tx_lock);
}

/* Completes every NBL whose frames are all done: ours are freed, the upper
 * stack's go back up. */
void vfo_tx_complete_done(vfo_adapter *ad, bool at_dispatch)
{
    PNET_BUFFER_LIST up = NULL, *tail = &up;
    LONG n = 0, ok = 0;
    NdisAcquireSpinLock(&ad->tx_lock);
    PNET_BUFFER_LIST done = ad->tx_done_head;
    ad->tx_done_head = NULL;
    ad->tx_done_tail = &ad->tx_done_head;
    NdisReleaseSpinLock(&ad->tx_lock);
    for (PNET_BUFFER_LIST nbl = done, next; nbl; nbl = next) {
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        n++;
        if (vfo_own_nbl_done(ad, nbl))
            continue;
        ok += NET_BUFFER_LIST_STATUS(nbl) == NDIS_STATUS_SUCCESS;
        vfo_nbl_append(&tail, nbl);
    }
    vfo_count(&ad->ctr.tx_standby, ok);
    if (up)
        vfo_tx_complete_up(ad, up, at_dispatch);
    if (n)
        vfo_virtio_put(ad, n);
}

/* Read right after an interlocked change of upper_tx_out (a full
 * barrier): a plain load, so the send path does not take the flag's cache
 * line exclusive on every call as an interlocked read would. MpResetEx
 * sets it, then reads the count, both interlocked. */
static bool reset_waits(vfo_adapter *ad)
{
    return ReadULongAcquire((ULONG const volatile *)&ad->ndis_resetting) != 0;
}

/* The one place the upper stack's sends leave vfo. Whoever brings
 * upper_tx_out to 0 while NDIS resets the miniport completes the reset:
 * everything vfo held when it began is back (sends that came since failed
 * at once and count too, so 0 is reached). */
void vfo_tx_complete_up(vfo_adapter *ad, PNET_BUFFER_LIST nbls, bool at_dispatch)
{
    LONG n = 0;
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl), n++)
        vfo_tx_lso_complete(nbl);
    NdisMSendNetBufferListsComplete(ad->handle, nbls,
                                    at_dispatch ? NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL : 0);
    if (InterlockedExchangeAdd(&ad->upper_tx_out, -n) == n && reset_waits(ad) &&
        InterlockedCompareExchange(&ad->ndis_resetting, 0, 1) == 1)
        NdisMResetComplete(ad->handle, NDIS_STATUS_SUCCESS, FALSE);
}

bool vfo_tx_reset_begin(vfo_adapter *ad)
{
    vfo_set(&ad->ndis_resetting, 1);
    if (vfo_get(&ad->upper_tx_out) != 0)
        return false;
    /* Nothing held; if a completion just took the flag, it completed the
     * reset already and this one must not. */
    return InterlockedCompareExchange(&ad->ndis_resetting, 0, 1) == 1;
}

void vfo_tx_kick_queue(vfo_adapter *ad, bool at_dispatch)
{
    pump(ad);
    vfo_tx_complete_done(ad, at_dispatch);
}

/* NBLs for virtio: queued behind what waits already, then pumped. */
void vfo_tx_standby(vfo_adapter *ad, PNET_BUFFER_LIST nbls, bool at_dispatch)
{
    PNET_BUFFER_LIST last = NULL;
    LONG n = 0;
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl)) {
        vfo_tx_nbl *t = txn(nbl);
        t->next_nb = NET_BUFFER_LIST_FIRST_NB(nbl);
        t->pending = 1; /* held until its last frame is handed out */
        NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_SUCCESS;
        last = nbl;
        n++;
    }
    if (!n)
        return;
    vfo_virtio_get(ad, n);
    NdisAcquireSpinLock(&ad->tx_lock);
    if (ad->tx_tail)
        NET_BUFFER_LIST_NEXT_NBL(ad->tx_tail) = nbls;
    else
        ad->tx_head = nbls;
    ad->tx_tail = last;
    /* The flag is written under every path lock (vfo_mark_surprise_removed):
     * read here under tx_lock, not after it (ThreadSanitizer: data race
     * with the surprise removal, test_vfo_stress's VF path). Queued before
     * the flag was set, the removal's vfo_tx_fail_queued fails them. */
    bool gone = ad->surprise_removed;
    NdisReleaseSpinLock(&ad->tx_lock);
    if (gone)
        vfo_tx_fail_queued(ad, NDIS_STATUS_ADAPTER_REMOVED, at_dispatch);
    else if (vfo_get(&ad->low_power)) /* the device is off until D0 (vfo_set_power) */
        vfo_tx_fail_queued(ad, NDIS_STATUS_LOW_POWER_STATE, at_dispatch);
    else if (vfo_get(&ad->device_dead)) /* its last restart failed (reset_work) */
        vfo_tx_fail_queued(ad, NDIS_STATUS_DEVICE_FAILED, at_dispatch);
    else
        vfo_tx_kick_queue(ad, at_dispatch);
}

/* The device is gone (or failed for good): everything waiting fails. */
void vfo_tx_fail_queued(vfo_adapter *ad, NDIS_STATUS status, bool at_dispatch)
{
    NdisAcquireSpinLock(&ad->tx_lock);
    while (ad->tx_bounce_wait) {
        vfo_tx_req *req = ad->tx_bounce_wait;
        ad->tx_bounce_wait = req->next_free;
        frame_done_locked(ad, req, status);
    }
    ad->tx_bounce_wait_tail = &ad->tx_bounce_wait;
    while (ad->tx_backlog) {
        vfo_tx_req *req = ad->tx_backlog;
        ad->tx_backlog = req->next_free;
        frame_done_locked(ad, req, status);
    }
    ad->tx_backlog_tail = &ad->tx_backlog;
    while (ad->tx_head) {
        PNET_BUFFER_LIST nbl = ad->tx_head;
        txn(nbl)->next_nb = NULL;
        NET_BUFFER_LIST_STATUS(nbl) = status;
        dequeue_head_locked(ad, nbl);
    }
    NdisReleaseSpinLock(&ad->tx_lock);
    vfo_tx_complete_done(ad, at_dispatch);
}

/* The host stopped serving the transmit queue (a stuck vhost thread, a
 * backend that no longer polls): frames in flight, and none completed over
 * VFO_TX_STALL_CHECKS hang checks in a row (2 s apart). The device is reset
 * (reset_work), which gives every frame in flight back, failed, and starts
 * it again. Held for ever, those sends kept every pause of the adapter
 * from completing, and Driver Verifier bug checks a miniport that
 * completes none for 22 s while it holds some (NdisTimedDataHang). Runs
 * from MiniportCheckForHangEx, which NDIS serializes per adapter. */
#define VFO_TX_STALL_CHECKS 4

void vfo_tx_watchdog(vfo_adapter *ad)
{
    uint32_t in_flight = 0;
    bool stalled = false;
    NdisAcquireSpinLock(&ad->tx_lock);
    if (tx_usable(ad))
        in_flight = vnet_tx_pending(ad->vn);
    if (in_flight) {
        vnet_tx_stats s;
        vnet_get_tx_stats(ad->vn, &s);
        ad->tx_watch_idle = s.completed == ad->tx_watch_completed ? ad->tx_watch_idle + 1 : 0;
        ad->tx_watch_completed = s.completed;
        stalled = ad->tx_watch_idle >= VFO_TX_STALL_CHECKS;
    }
    if (!in_flight || stalled)
        ad->tx_watch_idle = 0;
    NdisReleaseSpinLock(&ad->tx_lock);
    if (!stalled)
        return;
    VFO_WARN("virtio transmit queue stalled (%lu frame(s) in flight, none completed): resetting",
             (unsigned long)in_flight);
    NdisWriteErrorLogEntry(ad->handle, NDIS_ERROR_CODE_HARDWARE_FAILURE, 2,
                           (ULONG)VFO_ERRLOG_TX_STALLED, (ULONG)in_flight);
    vfo_request_reset(ad);
}

/* TX DPC: completions from the used ring, then whatever waits. */
void vfo_tx_reap(vfo_adapter *ad)
{
    bool more;
    do {
        more = false;
        NdisAcquireSpinLock(&ad->tx_lock);
        if (tx_usable(ad)) {
            vnet_tx_disable_intr(ad->vn);
            vnet_tx_reap(ad->vn, VFO_TX_REAP_BUDGET);
            if (vnet_tx_broken(ad->vn)) {
                vfo_note_ring_error(ad, "transmit");
                vfo_request_reset(ad);
            } else
                more = !vnet_tx_enable_intr(ad->vn);
        }
        NdisReleaseSpinLock(&ad->tx_lock);
    } while (more);
    vfo_tx_kick_queue(ad, true);
}

static void fail_now(vfo_adapter *ad, PNET_BUFFER_LIST nbls, NDIS_STATUS st, bool at_dispatch)
{
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl))
        NET_BUFFER_LIST_STATUS(nbl) = st;
    vfo_tx_complete_up(ad, nbls, at_dispatch);
}

void MpSendNetBufferLists(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, NDIS_PORT_NUMBER port,
                          ULONG flags)
{
    vfo_adapter *ad = ctx;
    bool dispatch = (flags & NDIS_SEND_FLAGS_DISPATCH_LEVEL) != 0;
    PNET_BUFFER_LIST vf = NULL, sb = NULL, bad = NULL;
    PNET_BUFFER_LIST *vf_tail = &vf, *sb_tail = &sb, *bad_tail = &bad;
    LONG nvf = 0, n = 0;
    (void)port;
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl))
        n++;
    /* Counted before the reset flag is read (both interlocked): a reset
     * that saw none of these sees them fail here. */
    InterlockedExchangeAdd(&ad->upper_tx_out, n);
    if (reset_waits(ad)) {
        fail_now(ad, nbls, NDIS_STATUS_RESET_IN_PROGRESS, dispatch);
        return;
    }
    if (vfo_get(&ad->low_power)) { /* OID_PNP_SET_POWER: new sends fail so */
        fail_now(ad, nbls, NDIS_STATUS_LOW_POWER_STATE, dispatch);
        return;
    }
    if (vfo_get(&ad->state) != VFO_MP_RUNNING) {
        fail_now(ad, nbls, NDIS_STATUS_PAUSED, dispatch);
        return;
    }
    for (PNET_BUFFER_LIST nbl = nbls, next; nbl; nbl = next) {
        fo_tx_meta meta;
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        if (!vfo_tx_meta(nbl, &meta)) {
            vfo_nbl_append(&bad_tail, nbl);
            continue;
        }
        fo_tx_decision d = fo_select_tx(&ad->pair, meta.offloads ? &meta : NULL);
        if (d == FO_TX_PRIMARY) {
            /* The reference keeps the binding open: ad->bind is stable. */
            if (vfo_primary_wrap(nbl, ad->bind->handle)) {
                vfo_nbl_append(&vf_tail, nbl);
                nvf++;
                continue;
            }
            if (fo_primary_release(&ad->pair, 1))
                vfo_drained(ad, vfo_irql_from_flag(dispatch));
        }
        vfo_nbl_append(&sb_tail, nbl);
    }
    if (vf) {
        vfo_count(&ad->ctr.tx_primary, nvf);
        NdisSendNetBufferLists(ad->bind->handle, vf, NDIS_DEFAULT_PORT_NUMBER,
                               dispatch ? NDIS_SEND_FLAGS_DISPATCH_LEVEL : 0);
    }
    if (sb)
        vfo_tx_standby(ad, sb, dispatch);
    if (bad)
        fail_now(ad, bad, NDIS_STATUS_INVALID_PACKET, dispatch);
}

/* Sends handed to the VF are the VF miniport's now, with their cancel ID
 * (NBL info travels with the NBL): the cancel goes down the VF binding,
 * under a primary reference so the binding stays open meanwhile. Sends on
 * virtio wait only while the ring is full and leave as soon as it drains:
 * nothing there is held long enough to be worth cancelling. */
void MpCancelSend(NDIS_HANDLE ctx, PVOID cancel_id)
{
    vfo_adapter *ad = ctx;
    if (fo_select_tx(&ad->pair, NULL) != FO_TX_PRIMARY)
        return;
    NdisCancelSendNetBufferLists(ad->bind->handle, cancel_id);
    if (fo_primary_release(&ad->pair, 1))
        vfo_drained(ad, VFO_IRQL_ASK); /* no flags here */
}
