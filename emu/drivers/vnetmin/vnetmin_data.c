/*
 * vnetmin_data.c - the minimal virtio-net miniport's data path and
 * interrupts: sends copied into transmit buffers, receives copied into
 * NBLs, link changes from configuration interrupts, pause with sends out.
 * Vectors as lib/vnet assigns them: receive 0, transmit 1, control 2,
 * configuration 3.
 */
#include "nu_dpc.h"
#include "vnetmin.h"

#define NBL_PENDING(nbl) (NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0])
#define NB_OWNER(nb)     ((PNET_BUFFER_LIST)NET_BUFFER_MINIPORT_RESERVED(nb)[0])
#define MSG_RX           0
#define MSG_TX           1
#define MSG_CONFIG       3

/* ---- send ---- */

static void complete_sends(vm_adapter *a, PNET_BUFFER_LIST list)
{
    LONG n = 0;
    for (PNET_BUFFER_LIST l = list; l; l = NET_BUFFER_LIST_NEXT_NBL(l))
        n++;
    if (!list)
        return;
    NdisMSendNetBufferListsComplete(a->handle, list, NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL);
    if (InterlockedExchangeAdd(&a->sends_out, -n) != n)
        return;
    /* The last send is back: a pending pause ends here. MpPause decides
     * under the same lock, so exactly one of the two completes it. */
    NdisDprAcquireSpinLock(&a->tx_lock);
    BOOLEAN complete = a->pausing && InterlockedOr(&a->sends_out, 0) == 0;
    if (complete)
        a->pausing = FALSE;
    NdisDprReleaseSpinLock(&a->tx_lock);
    if (complete)
        NdisMPauseComplete(a->handle);
}

/* One NB of an NBL is done; the NBL joins *list when it was its last. */
static void nb_done(PNET_BUFFER nb, NDIS_STATUS st, PNET_BUFFER_LIST *list)
{
    PNET_BUFFER_LIST nbl = NB_OWNER(nb);
    if (st != NDIS_STATUS_SUCCESS)
        NET_BUFFER_LIST_STATUS(nbl) = st;
    ULONG_PTR left = (ULONG_PTR)NBL_PENDING(nbl) - 1;
    NBL_PENDING(nbl) = (PVOID)left;
    if (left == 0) {
        NET_BUFFER_LIST_NEXT_NBL(nbl) = *list;
        *list = nbl;
    }
}

/* Runs inside vnet_tx_reap with tx_lock held, or inside the vnet_stop of
 * surprise removal (nothing else touches the transmit state then). */
static void on_tx_done(void *ctx, void *cookie, vnet_status status)
{
    vm_adapter *a = ctx;
    ULONG slot = (ULONG)(ULONG_PTR)cookie - 1;
    PNET_BUFFER nb = a->tx_nb[slot];
    a->tx_nb[slot] = NULL;
    a->tx_free[a->n_tx_free++] = (USHORT)slot;
    nb_done(nb, status == VNET_OK ? NDIS_STATUS_SUCCESS : NDIS_STATUS_REQUEST_ABORTED,
            &a->tx_done_list);
}

const vnet_callbacks vm_callbacks = { .tx_done = on_tx_done };

/* tx_lock held. Copies one NB into a transmit buffer and queues it. */
static NDIS_STATUS queue_nb(vm_adapter *a, PNET_BUFFER nb)
{
    ULONG len = NET_BUFFER_DATA_LENGTH(nb);
    if (!len || len > VM_BUF_SIZE)
        return NDIS_STATUS_INVALID_LENGTH;
    if (!a->n_tx_free)
        return NDIS_STATUS_RESOURCES;
    ULONG slot = a->tx_free[--a->n_tx_free];
    UCHAR *buf = a->tx_bufs + (SIZE_T)slot * VM_BUF_SIZE;
    PVOID p = NdisGetDataBuffer(nb, len, buf, 1, 0);
    if (p && p != buf)
        NdisMoveMemory(buf, p, len);
    vnet_tx_seg seg = { .pa = (uint64_t)a->tx_bufs_pa.QuadPart + (uint64_t)slot * VM_BUF_SIZE,
                        .va = buf,
                        .len = len };
    vnet_status vs =
        p ? vnet_tx(a->vn, &seg, 1, NULL, (void *)(ULONG_PTR)(slot + 1)) : VNET_E_INVAL;
    if (vs != VNET_OK) {
        a->tx_free[a->n_tx_free++] = (USHORT)slot;
        return vs == VNET_E_RING_FULL ? NDIS_STATUS_RESOURCES : NDIS_STATUS_INVALID_PACKET;
    }
    a->tx_nb[slot] = nb;
    return NDIS_STATUS_SUCCESS;
}

/* tx_lock held: every NB of the NBL queued, or the NBL failed (its queued
 * NBs finish through tx_done and carry the failure). An NBL finished here
 * joins *done. */
static void queue_nbl(vm_adapter *a, PNET_BUFFER_LIST nbl, PNET_BUFFER_LIST *done)
{
    ULONG nbs = 0;
    for (PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl); nb; nb = NET_BUFFER_NEXT_NB(nb))
        nbs++;
    NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_SUCCESS;
    NBL_PENDING(nbl) = (PVOID)(ULONG_PTR)(nbs + 1); /* +1: held until all are queued */
    for (PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl); nb; nb = NET_BUFFER_NEXT_NB(nb)) {
        NET_BUFFER_MINIPORT_RESERVED(nb)[0] = nbl;
        NDIS_STATUS st = a->removed    ? NDIS_STATUS_ADAPTER_REMOVED
                         : !a->running ? NDIS_STATUS_PAUSED
                         : !a->link_up ? NDIS_STATUS_MEDIA_DISCONNECTED
                                       : queue_nb(a, nb);
        if (st != NDIS_STATUS_SUCCESS)
            nb_done(nb, st, done);
    }
    PNET_BUFFER first = NET_BUFFER_LIST_FIRST_NB(nbl);
    if (first)
        nb_done(first, NET_BUFFER_LIST_STATUS(nbl), done); /* drops the +1 */
    else
        NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_INVALID_PACKET;
}

static PNET_BUFFER_LIST take_done(vm_adapter *a)
{
    PNET_BUFFER_LIST l = a->tx_done_list;
    a->tx_done_list = NULL;
    return l;
}

void MpSendNetBufferLists(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, NDIS_PORT_NUMBER port,
                          ULONG flags)
{
    vm_adapter *a = ctx;
    UNREFERENCED_PARAMETER(port);
    UNREFERENCED_PARAMETER(flags);
    LONG n = 0;
    for (PNET_BUFFER_LIST l = nbls; l; l = NET_BUFFER_LIST_NEXT_NBL(l))
        n++;
    InterlockedExchangeAdd(&a->sends_out, n);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NdisDprAcquireSpinLock(&a->tx_lock);
    PNET_BUFFER_LIST next, empty = NULL, failed = NULL, done = NULL;
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = next) {
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        queue_nbl(a, nbl, &failed);
        if (!NET_BUFFER_LIST_FIRST_NB(nbl)) {
            NET_BUFFER_LIST_NEXT_NBL(nbl) = empty;
            empty = nbl;
        }
    }
    if (!a->removed) {
        vnet_tx_kick(a->vn);
        done = take_done(a);
    }
    NdisDprReleaseSpinLock(&a->tx_lock);
    complete_sends(a, done);
    complete_sends(a, failed);
    complete_sends(a, empty);
    KeLowerIrql(old);
}

/* Surprise removal, at PASSIVE_LEVEL: `removed` is set under every path's
 * lock, so no path calls lib/vnet after that; then vnet_stop (which polls
 * the device's reset and may sleep) runs alone and every send in flight
 * comes back through tx_done as cancelled. An ISR already running may still
 * mask its queue's interrupt: that only writes ring memory vnet_stop keeps. */
void vm_fail_all_sends(vm_adapter *a)
{
    NdisAcquireSpinLock(&a->rx_lock);
    NdisDprAcquireSpinLock(&a->cfg_lock);
    NdisDprAcquireSpinLock(&a->tx_lock);
    a->removed = TRUE;
    NdisDprReleaseSpinLock(&a->tx_lock);
    NdisDprReleaseSpinLock(&a->cfg_lock);
    NdisReleaseSpinLock(&a->rx_lock);
    vnet_stop(a->vn);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    PNET_BUFFER_LIST done = take_done(a);
    complete_sends(a, done);
    KeLowerIrql(old);
}

static void reap_tx(vm_adapter *a)
{
    NdisDprAcquireSpinLock(&a->tx_lock);
    do {
        if (a->removed)
            break;
        vnet_tx_reap(a->vn, VM_TX_SLOTS);
    } while (!vnet_tx_enable_intr(a->vn));
    PNET_BUFFER_LIST done = a->removed ? NULL : take_done(a);
    NdisDprReleaseSpinLock(&a->tx_lock);
    complete_sends(a, done);
}

/* ---- receive ---- */

/* Receive buffers: VM_RX_NBLS NBLs over one copy area, lent to NDIS only
 * for the time of an indication (NDIS_RECEIVE_FLAGS_RESOURCES). */
NDIS_STATUS vm_buffers_alloc(vm_adapter *a)
{
    NdisMAllocateSharedMemory(a->handle, VM_TX_SLOTS * VM_BUF_SIZE, TRUE, (PVOID *)&a->tx_bufs,
                              &a->tx_bufs_pa);
    a->rx_copy = NdisAllocateMemoryWithTagPriority(a->handle, VM_RX_NBLS * VM_BUF_SIZE, VM_TAG,
                                                   NormalPoolPriority);
    if (!a->tx_bufs || !a->rx_copy)
        return NDIS_STATUS_RESOURCES;
    for (ULONG i = 0; i < VM_TX_SLOTS; i++)
        a->tx_free[i] = (USHORT)(VM_TX_SLOTS - 1 - i);
    a->n_tx_free = VM_TX_SLOTS;

    a->rx_set = (nu_rx_set){ .count = VM_RX_NBLS, .mdl = a->rx_mdl, .nbl = a->rx_nbl };
    NDIS_STATUS st = nu_rx_set_alloc(a->handle, VM_TAG, a->rx_copy, VM_BUF_SIZE, &a->rx_set);
    for (ULONG i = 0; st == NDIS_STATUS_SUCCESS && i < VM_RX_NBLS; i++)
        a->rx_free[a->n_rx_free++] = a->rx_nbl[i];
    return st;
}

void vm_buffers_free(vm_adapter *a)
{
    if (a->rx_set.count)
        nu_rx_set_free(&a->rx_set);
    if (a->rx_copy)
        NdisFreeMemoryWithTagPriority(a->handle, a->rx_copy, VM_TAG);
    if (a->tx_bufs)
        NdisMFreeSharedMemory(a->handle, VM_TX_SLOTS * VM_BUF_SIZE, TRUE, a->tx_bufs,
                              a->tx_bufs_pa);
}

/* rx_lock held: one received frame copied into a free NBL. */
static PNET_BUFFER_LIST copy_frame(vm_adapter *a, const vnet_rx_frame *f)
{
    if (f->len == 0 || f->len > VM_BUF_SIZE || !a->n_rx_free)
        return NULL;
    PNET_BUFFER_LIST nbl = a->rx_free[--a->n_rx_free];
    PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
    UCHAR *dst = MmGetSystemAddressForMdlSafe(NET_BUFFER_FIRST_MDL(nb), NormalPagePriority);
    ULONG off = 0;
    for (uint16_t i = 0; i < f->nseg && off < f->len; i++) {
        ULONG n = f->seg[i].len < f->len - off ? f->seg[i].len : f->len - off;
        NdisMoveMemory(dst + off, f->seg[i].va, n);
        off += n;
    }
    NET_BUFFER_DATA_OFFSET(nb) = 0;
    NET_BUFFER_CURRENT_MDL(nb) = NET_BUFFER_FIRST_MDL(nb);
    NET_BUFFER_CURRENT_MDL_OFFSET(nb) = 0;
    NET_BUFFER_DATA_LENGTH(nb) = off;
    NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
    return nbl;
}

/* At most limit frames copied (and VM_RX_NBLS, the NBLs there are); *more
 * when the queue may hold others (the receive interrupt then stays off). */
static PNET_BUFFER_LIST take_frames(vm_adapter *a, ULONG limit, ULONG *count, BOOLEAN *more)
{
    PNET_BUFFER_LIST head = NULL, *tail = &head;
    ULONG n = 0;
    vnet_rx_frame f;
    *more = FALSE;
    NdisDprAcquireSpinLock(&a->rx_lock);
    while (!a->removed) {
        while (n < limit && a->n_rx_free && vnet_rx_next(a->vn, &f) == VNET_OK) {
            PNET_BUFFER_LIST nbl = a->running ? copy_frame(a, &f) : NULL;
            vnet_rx_return(a->vn, f.handle);
            if (!nbl)
                continue;
            *tail = nbl;
            tail = &NET_BUFFER_LIST_NEXT_NBL(nbl);
            n++;
        }
        vnet_rx_kick(a->vn);
        if (!a->n_rx_free || n == limit) {
            *more = TRUE;
            break;
        }
        if (vnet_rx_enable_intr(a->vn))
            break;
    }
    NdisDprReleaseSpinLock(&a->rx_lock);
    *count = n;
    return head;
}

/* One indication of at most limit frames; TRUE when more may be waiting. */
static BOOLEAN receive(vm_adapter *a, ULONG limit)
{
    BOOLEAN more;
    ULONG n;
    PNET_BUFFER_LIST list = take_frames(a, limit, &n, &more);
    if (!n)
        return more;
    /* With RESOURCES the protocols copy what they keep: the NBLs are
     * ours again when the call returns. */
    NdisMIndicateReceiveNetBufferLists(a->handle, list, NDIS_DEFAULT_PORT_NUMBER, n,
                                       NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL |
                                           NDIS_RECEIVE_FLAGS_RESOURCES);
    NdisDprAcquireSpinLock(&a->rx_lock);
    PNET_BUFFER_LIST next;
    for (PNET_BUFFER_LIST l = list; l; l = next) {
        next = NET_BUFFER_LIST_NEXT_NBL(l);
        NET_BUFFER_LIST_NEXT_NBL(l) = NULL;
        a->rx_free[a->n_rx_free++] = l;
    }
    NdisDprReleaseSpinLock(&a->rx_lock);
    return more;
}

void MpReturnNetBufferLists(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, ULONG flags)
{
    /* Receives are indicated with RESOURCES: nothing ever comes back. */
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(nbls);
    UNREFERENCED_PARAMETER(flags);
}

/* ---- link ---- */

static void config_changed(vm_adapter *a)
{
    uint32_t changes = 0;
    vnet_link_info li;
    NdisDprAcquireSpinLock(&a->cfg_lock);
    if (!a->removed) {
        vnet_config_refresh(a->vn, &changes);
        vnet_link_info_get(a->vn, &li);
    }
    NdisDprReleaseSpinLock(&a->cfg_lock);
    if (!(changes & VNET_CHG_LINK))
        return;
    a->link_up = li.link_up;
    nu_indicate_link(a->handle, li.link_up, a->speed_bps);
}

/* ---- interrupt ---- */

BOOLEAN MpMessageIsr(NDIS_HANDLE ctx, ULONG msg, PBOOLEAN queue_dpc, PULONG targets)
{
    vm_adapter *a = ctx;
    *targets = 0;
    *queue_dpc = !a->removed;
    if (a->removed)
        return TRUE;
    if (msg == MSG_RX)
        vnet_rx_disable_intr(a->vn);
    else if (msg == MSG_TX)
        vnet_tx_disable_intr(a->vn);
    return TRUE;
}

void MpMessageDpc(NDIS_HANDLE ctx, ULONG msg, PVOID dpc_ctx, PVOID throttle, PVOID reserved)
{
    vm_adapter *a = ctx;
    UNREFERENCED_PARAMETER(dpc_ctx);
    UNREFERENCED_PARAMETER(reserved);
    PNDIS_RECEIVE_THROTTLE_PARAMETERS tp = throttle;
    if (a->removed)
        return;
    if (msg == MSG_RX && receive(a, tp->MaxNblsToIndicate)) {
        /* The rest in the next DPC: NDIS queues it for MoreNblsPending. */
        if (tp->MaxNblsToIndicate != NDIS_INDICATE_ALL_NBLS)
            tp->MoreNblsPending = 1;
        else
            nu_queue_dpc_here(a->intr, msg);
    } else if (msg == MSG_TX)
        reap_tx(a);
    else if (msg == MSG_CONFIG)
        config_changed(a);
}

/* ---- pause / restart ---- */

NDIS_STATUS MpPause(NDIS_HANDLE ctx, PNDIS_MINIPORT_PAUSE_PARAMETERS p)
{
    vm_adapter *a = ctx;
    UNREFERENCED_PARAMETER(p);
    NdisAcquireSpinLock(&a->tx_lock);
    a->running = FALSE;
    BOOLEAN idle = InterlockedOr(&a->sends_out, 0) == 0;
    a->pausing = !idle;
    NdisReleaseSpinLock(&a->tx_lock);
    return idle ? NDIS_STATUS_SUCCESS : NDIS_STATUS_PENDING;
}

NDIS_STATUS MpRestart(NDIS_HANDLE ctx, PNDIS_MINIPORT_RESTART_PARAMETERS p)
{
    vm_adapter *a = ctx;
    UNREFERENCED_PARAMETER(p);
    NdisAcquireSpinLock(&a->tx_lock);
    a->running = TRUE;
    NdisReleaseSpinLock(&a->tx_lock);
    return NDIS_STATUS_SUCCESS;
}
