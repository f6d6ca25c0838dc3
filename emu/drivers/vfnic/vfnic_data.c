/*
 * vfnic_data.c - the VF's data path and events: sends (bounce-buffered),
 * completions, receive indications and returns, the interrupt and its DPC,
 * link changes, recovery from a PF-imposed reset, pause/restart and
 * surprise removal.
 */
#include "nu_dpc.h"
#include "vfnic.h"

/* Per sent NBL, in MiniportReserved: [0] NBs still at the device. */
#define NBL_PENDING(nbl) (NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0])
/* Per NB, in MiniportReserved[0]: its NBL. */
#define NB_OWNER(nb) ((PNET_BUFFER_LIST)NET_BUFFER_MINIPORT_RESERVED(nb)[0])

static ULONG count_nbls(PNET_BUFFER_LIST l)
{
    ULONG n = 0;
    for (; l; l = NET_BUFFER_LIST_NEXT_NBL(l))
        n++;
    return n;
}

/* ---- send ---- */

/* A large send completes with LsoV2TransmitComplete: Type kept, Reserved
 * zero (NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO; only LSOv2 is
 * advertised). */
static void lso_complete(PNET_BUFFER_LIST nbl)
{
    NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO lso;
    lso.Value = NET_BUFFER_LIST_INFO(nbl, TcpLargeSendNetBufferListInfo);
    if (lso.LsoV2Transmit.MSS == 0 || lso.Transmit.Type != NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE)
        return;
    lso.Value = NULL;
    lso.LsoV2TransmitComplete.Type = NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE;
    NET_BUFFER_LIST_INFO(nbl, TcpLargeSendNetBufferListInfo) = lso.Value;
}

static void maybe_finish_pause(vf_adapter *a);

/* Every completion may be the last thing a pending pause waits for: a send
 * counted in sends_out by MpSendNetBufferLists on one processor while
 * MpPause ran on another completes here (refused: the VF was surprise
 * removed or paused), and after a surprise removal no interrupt and no DPC
 * ever comes to finish the pause. */
static void complete_sends(vf_adapter *a, PNET_BUFFER_LIST list)
{
    if (!list)
        return;
    for (PNET_BUFFER_LIST nbl = list; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl))
        lso_complete(nbl);
    LONG n = (LONG)count_nbls(list);
    NdisMSendNetBufferListsComplete(a->handle, list, NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL);
    InterlockedExchangeAdd(&a->sends_out, -n);
    maybe_finish_pause(a);
}

/* Lock held. One NB of nbl is done; returns TRUE when it was the last. */
static BOOLEAN nb_done_locked(PNET_BUFFER_LIST nbl)
{
    ULONG_PTR left = (ULONG_PTR)NBL_PENDING(nbl) - 1;
    NBL_PENDING(nbl) = (PVOID)left;
    return left == 0;
}

static NDIS_STATUS send_refusal(vf_adapter *a)
{
    if (a->removed)
        return NDIS_STATUS_ADAPTER_REMOVED;
    if (a->resetting)
        return NDIS_STATUS_RESET_IN_PROGRESS;
    if (!a->running || a->low_power)
        return NDIS_STATUS_PAUSED;
    if (!a->link_up)
        return NDIS_STATUS_MEDIA_DISCONNECTED;
    return NDIS_STATUS_SUCCESS;
}

/* Lock held. Copies the NB into the next TX slot's bounce buffer. */
static BOOLEAN queue_nb(vf_adapter *a, PNET_BUFFER nb)
{
    ULONG len = NET_BUFFER_DATA_LENGTH(nb);
    if (len == 0 || len > VFDEV_MAX_FRAME)
        return FALSE;
    ULONG slot = a->tx_tail % VF_RING;
    UCHAR *bounce = a->tx_bufs + (SIZE_T)slot * VF_BUF_SIZE;
    PVOID p = NdisGetDataBuffer(nb, len, bounce, 1, 0);
    if (!p)
        return FALSE;
    if (p != bounce)
        NdisMoveMemory(bounce, p, len);
    a->tx_nb[slot] = nb;
    a->tx_ring[slot].addr = (ULONG64)a->tx_bufs_pa.QuadPart + (ULONG64)slot * VF_BUF_SIZE;
    a->tx_ring[slot].len = len;
    a->tx_ring[slot].flags = 0;
    a->tx_tail++;
    a->st.xmit_bytes += len;
    return TRUE;
}

static ULONG count_nbs(PNET_BUFFER_LIST nbl)
{
    ULONG nbs = 0;
    for (PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl); nb; nb = NET_BUFFER_NEXT_NB(nb))
        nbs++;
    return nbs;
}

/* Lock held. Queues every NB of one NBL or none (RESOURCES: no room now). */
static NDIS_STATUS queue_nbl(vf_adapter *a, PNET_BUFFER_LIST nbl)
{
    ULONG nbs = count_nbs(nbl);
    if (nbs == 0)
        return NDIS_STATUS_INVALID_PACKET;
    if (VF_RING - 1 - (a->tx_tail - a->tx_clean) < nbs)
        return NDIS_STATUS_RESOURCES;
    ULONG tail0 = a->tx_tail;
    NBL_PENDING(nbl) = (PVOID)(ULONG_PTR)nbs;
    for (PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl); nb; nb = NET_BUFFER_NEXT_NB(nb)) {
        NET_BUFFER_MINIPORT_RESERVED(nb)[0] = nbl;
        if (!queue_nb(a, nb)) {
            a->tx_tail = tail0;
            return NDIS_STATUS_INVALID_PACKET;
        }
    }
    return NDIS_STATUS_SUCCESS;
}

/* Lock held. The doorbell is rung under the lock that advanced the tail:
 * rung after it, two processors could each write the tail they queued, the
 * older one last, and the device would see its tail move back (vfdev
 * refuses that; a NIC that does not walks its ring's stale descriptors). */
static void ring_tx_doorbell(vf_adapter *a)
{
    vf_reg_write(a, VFDEV_TX_TAIL, a->tx_tail);
}

void MpSendNetBufferLists(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, NDIS_PORT_NUMBER port,
                          ULONG flags)
{
    vf_adapter *a = ctx;
    UNREFERENCED_PARAMETER(port);
    UNREFERENCED_PARAMETER(flags);
    InterlockedExchangeAdd(&a->sends_out, (LONG)count_nbls(nbls));
    PNET_BUFFER_LIST failed = NULL, *ftail = &failed, next;
    BOOLEAN kick = FALSE;
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NdisDprAcquireSpinLock(&a->lock);
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = next) {
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        NDIS_STATUS st = send_refusal(a);
        if (st == NDIS_STATUS_SUCCESS && count_nbs(nbl) >= VF_RING)
            st = NDIS_STATUS_RESOURCES; /* could never fit */
        if (st == NDIS_STATUS_SUCCESS && !a->backlog)
            st = queue_nbl(a, nbl);
        else if (st == NDIS_STATUS_SUCCESS)
            st = NDIS_STATUS_RESOURCES; /* behind the backlog */
        if (st == NDIS_STATUS_RESOURCES && send_refusal(a) == NDIS_STATUS_SUCCESS &&
            count_nbs(nbl) < VF_RING) {
            NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_SUCCESS;
            *a->backlog_tail = nbl;
            a->backlog_tail = &NET_BUFFER_LIST_NEXT_NBL(nbl);
            continue;
        }
        NET_BUFFER_LIST_STATUS(nbl) = st;
        if (st == NDIS_STATUS_SUCCESS) {
            kick = TRUE;
            continue;
        }
        a->st.xmit_discards++;
        *ftail = nbl;
        ftail = &NET_BUFFER_LIST_NEXT_NBL(nbl);
    }
    if (kick)
        ring_tx_doorbell(a);
    NdisDprReleaseSpinLock(&a->lock);
    complete_sends(a, failed);
    KeLowerIrql(old);
}

void MpCancelSend(NDIS_HANDLE ctx, PVOID id)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(id);
}

/* Lock held. Moves what the ring has room for from the backlog into it;
 * TRUE when the doorbell must be rung. With `fail`, fails the backlog
 * (into *failed) instead. */
static BOOLEAN drain_backlog_locked(vf_adapter *a, BOOLEAN fail, NDIS_STATUS status,
                                    PNET_BUFFER_LIST **failed)
{
    BOOLEAN queued = FALSE;
    while (a->backlog) {
        PNET_BUFFER_LIST nbl = a->backlog;
        NDIS_STATUS st = fail ? status : queue_nbl(a, nbl);
        if (st == NDIS_STATUS_RESOURCES && !fail)
            break;
        a->backlog = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        if (st == NDIS_STATUS_SUCCESS) {
            queued = TRUE;
            continue;
        }
        NET_BUFFER_LIST_STATUS(nbl) = st;
        a->st.xmit_discards++;
        **failed = nbl;
        *failed = &NET_BUFFER_LIST_NEXT_NBL(nbl);
    }
    if (!a->backlog)
        a->backlog_tail = &a->backlog;
    return queued;
}

/* Completes sends the device finished (or, with `all`, every send in the
 * ring: the device is gone or was reset and never will finish the rest).
 * A send fails with `status` only if the device did not write it back: one
 * it sent is a success even if its interrupt never came (failing it would
 * make vfo send it again on virtio: a duplicate). */
static void reap_tx(vf_adapter *a, BOOLEAN all, NDIS_STATUS status)
{
    PNET_BUFFER_LIST done = NULL, *tail = &done;
    NdisDprAcquireSpinLock(&a->lock);
    while (a->tx_clean != a->tx_tail) {
        ULONG slot = a->tx_clean % VF_RING;
        BOOLEAN sent = vf_desc_done(&a->tx_ring[slot]);
        if (!all && !sent)
            break;
        PNET_BUFFER_LIST nbl = NB_OWNER(a->tx_nb[slot]);
        a->tx_clean++;
        if (!sent)
            NET_BUFFER_LIST_STATUS(nbl) = status;
        if (nb_done_locked(nbl)) {
            if (NET_BUFFER_LIST_STATUS(nbl) == NDIS_STATUS_SUCCESS)
                a->st.xmit_ok++;
            else
                a->st.xmit_error++;
            *tail = nbl;
            tail = &NET_BUFFER_LIST_NEXT_NBL(nbl);
        }
    }
    /* The backlog follows the ring: into it while the device runs, failed
     * with the ring when the device is gone or reset. */
    if (drain_backlog_locked(a, all, status, &tail) && a->hw_ready && !a->removed && !a->resetting)
        ring_tx_doorbell(a);
    NdisDprReleaseSpinLock(&a->lock);
    *tail = NULL;
    complete_sends(a, done);
}

/* Called at DISPATCH_LEVEL. */
void vf_fail_pending_sends(vf_adapter *a, NDIS_STATUS status)
{
    reap_tx(a, TRUE, status);
}

/* ---- receive ---- */

static BOOLEAN mac_in_list(const vf_adapter *a, const UCHAR *mac)
{
    for (ULONG i = 0; i < a->n_mcast; i++) {
        if (NdisEqualMemory(a->mcast[i], mac, 6))
            return TRUE;
    }
    return FALSE;
}

/* Lock held. The packet filter, as the hardware's address filter would. */
static BOOLEAN accept_frame(const vf_adapter *a, const UCHAR *dst)
{
    ULONG f = a->packet_filter;
    static const UCHAR bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    if (f & NDIS_PACKET_TYPE_PROMISCUOUS)
        return TRUE;
    if (NdisEqualMemory(dst, bcast, 6))
        return (f & NDIS_PACKET_TYPE_BROADCAST) != 0;
    if (dst[0] & 1)
        return (f & NDIS_PACKET_TYPE_ALL_MULTICAST) ||
               ((f & NDIS_PACKET_TYPE_MULTICAST) && mac_in_list(a, dst));
    return (f & NDIS_PACKET_TYPE_DIRECTED) && NdisEqualMemory(dst, a->mac, 6);
}

/* Lock held. Takes finished receive descriptors; returns the NBLs to
 * indicate and reposts the buffers of frames the filter refused. */
static PNET_BUFFER_LIST take_rx(vf_adapter *a, ULONG limit, ULONG *count, BOOLEAN *more)
{
    PNET_BUFFER_LIST head = NULL, *tail = &head;
    ULONG reposted = 0;
    while (a->rx_clean != a->rx_tail) {
        ULONG idx = a->rx_clean % VF_RING;
        if (!vf_desc_done(&a->rx_ring[idx]))
            break;
        if (*count == limit) {
            *more = TRUE;
            break;
        }
        ULONG slot = a->rx_slot_of[idx], len = a->rx_ring[idx].len;
        a->rx_clean++;
        const UCHAR *data = a->rx_bufs + (SIZE_T)slot * VF_BUF_SIZE;
        if (len < 14 || len > VF_BUF_SIZE || !a->running || !accept_frame(a, data)) {
            a->st.rcv_filtered++;
            vf_post_rx_slot(a, slot);
            reposted++;
            continue;
        }
        PNET_BUFFER_LIST nbl = a->rx_nbl[slot];
        NET_BUFFER_DATA_LENGTH(NET_BUFFER_LIST_FIRST_NB(nbl)) = len;
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        a->rx_lent[slot] = TRUE;
        *tail = nbl;
        tail = &NET_BUFFER_LIST_NEXT_NBL(nbl);
        (*count)++;
        a->st.rcv_ok++;
        a->st.rcv_bytes += len;
    }
    if (reposted && a->hw_ready && !a->removed)
        vf_reg_write(a, VFDEV_RX_TAIL, a->rx_tail);
    return head;
}

/* At most limit frames (MaxNblsToIndicate); TRUE when more are waiting. */
static BOOLEAN indicate_rx(vf_adapter *a, ULONG limit)
{
    ULONG n = 0;
    BOOLEAN more = FALSE;
    NdisDprAcquireSpinLock(&a->lock);
    PNET_BUFFER_LIST list = a->removed || a->resetting ? NULL : take_rx(a, limit, &n, &more);
    if (n)
        InterlockedExchangeAdd(&a->recvs_out, (LONG)n);
    NdisDprReleaseSpinLock(&a->lock);
    if (n)
        NdisMIndicateReceiveNetBufferLists(a->handle, list, NDIS_DEFAULT_PORT_NUMBER, n,
                                           NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL);
    return more;
}

static void maybe_finish_pause(vf_adapter *a)
{
    BOOLEAN done = FALSE;
    NdisDprAcquireSpinLock(&a->lock);
    if (a->pausing && InterlockedOr(&a->sends_out, 0) == 0 &&
        InterlockedOr(&a->recvs_out, 0) == 0) {
        a->pausing = FALSE;
        done = TRUE;
    }
    NdisDprReleaseSpinLock(&a->lock);
    if (done)
        NdisMPauseComplete(a->handle);
}

void MpReturnNetBufferLists(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, ULONG flags)
{
    vf_adapter *a = ctx;
    UNREFERENCED_PARAMETER(flags);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    LONG n = 0;
    NdisDprAcquireSpinLock(&a->lock);
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl)) {
        ULONG slot = (ULONG)(ULONG_PTR)NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0];
        NET_BUFFER_DATA_LENGTH(NET_BUFFER_LIST_FIRST_NB(nbl)) = VF_BUF_SIZE;
        if (a->rx_tail - a->rx_clean < VF_RING - 1)
            vf_post_rx_slot(a, slot);
        else
            a->rx_lent[slot] = FALSE; /* ring full: the next restart posts it */
        n++;
    }
    if (a->hw_ready && !a->removed && !a->resetting)
        vf_reg_write(a, VFDEV_RX_TAIL, a->rx_tail);
    NdisDprReleaseSpinLock(&a->lock);
    InterlockedExchangeAdd(&a->recvs_out, -n);
    maybe_finish_pause(a);
    KeLowerIrql(old);
}

/* ---- interrupt ---- */

BOOLEAN MpMessageIsr(NDIS_HANDLE ctx, ULONG msg, PBOOLEAN queue_dpc, PULONG targets)
{
    vf_adapter *a = ctx;
    UNREFERENCED_PARAMETER(msg);
    *targets = 0;
    ULONG cause = vf_reg_read(a, VFDEV_ICR);
    if (cause == 0 || cause == 0xFFFFFFFFu) { /* not ours, or the device is gone */
        *queue_dpc = FALSE;
        return FALSE;
    }
    InterlockedOr(&a->isr_cause, (LONG)cause);
    *queue_dpc = TRUE;
    return TRUE;
}

static void link_changed(vf_adapter *a)
{
    BOOLEAN up = (vf_reg_read(a, VFDEV_STATUS) & VFDEV_STATUS_LINK_UP) != 0;
    NdisDprAcquireSpinLock(&a->lock);
    BOOLEAN changed = up != a->link_up && !a->resetting;
    if (changed)
        a->link_up = up;
    NdisDprReleaseSpinLock(&a->lock);
    if (changed)
        nu_indicate_link(a->handle, up, a->speed_bps);
}

/* Recovery from a PF-imposed reset, at PASSIVE_LEVEL: the sends the device
 * dropped fail, the function is reprogrammed, link is reported again. */
static void MpResetWork(PVOID ctx, NDIS_HANDLE wi)
{
    vf_adapter *a = ctx;
    UNREFERENCED_PARAMETER(wi);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    vf_fail_pending_sends(a, NDIS_STATUS_RESET_IN_PROGRESS);
    NdisDprAcquireSpinLock(&a->lock);
    BOOLEAN restart = !a->removed && !a->low_power;
    if (restart)
        vf_hw_start(a);
    a->resetting = FALSE;
    BOOLEAN up = restart && (vf_reg_read(a, VFDEV_STATUS) & VFDEV_STATUS_LINK_UP) != 0;
    a->link_up = up;
    NdisDprReleaseSpinLock(&a->lock);
    KeLowerIrql(old);
    if (up)
        nu_indicate_link(a->handle, TRUE, a->speed_bps);
    InterlockedExchange(&a->reset_queued, 0);
}

static void reset_requested(vf_adapter *a)
{
    NdisDprAcquireSpinLock(&a->lock);
    BOOLEAN start = !a->resetting && !a->removed;
    BOOLEAN was_up = a->link_up;
    if (start) {
        a->resetting = TRUE;
        a->hw_ready = FALSE;
        a->link_up = FALSE;
    }
    NdisDprReleaseSpinLock(&a->lock);
    if (!start)
        return;
    if (was_up)
        nu_indicate_link(a->handle, FALSE, a->speed_bps);
    InterlockedExchange(&a->reset_queued, 1);
    NdisQueueIoWorkItem(a->reset_work, MpResetWork, a);
}

void MpMessageDpc(NDIS_HANDLE ctx, ULONG msg, PVOID dpc_ctx, PVOID throttle, PVOID reserved)
{
    vf_adapter *a = ctx;
    UNREFERENCED_PARAMETER(dpc_ctx);
    UNREFERENCED_PARAMETER(reserved);
    PNDIS_RECEIVE_THROTTLE_PARAMETERS tp = throttle;
    LONG cause = InterlockedExchange(&a->isr_cause, 0);
    if (cause & VFDEV_INT_RESET)
        reset_requested(a);
    if (cause & VFDEV_INT_TX)
        reap_tx(a, FALSE, NDIS_STATUS_SUCCESS);
    if ((cause & VFDEV_INT_RX) && indicate_rx(a, tp->MaxNblsToIndicate)) {
        /* The rest in the next DPC: NDIS queues it for MoreNblsPending. */
        InterlockedOr(&a->isr_cause, VFDEV_INT_RX);
        if (tp->MaxNblsToIndicate != NDIS_INDICATE_ALL_NBLS)
            tp->MoreNblsPending = 1;
        else
            nu_queue_dpc_here(a->intr, msg);
    }
    if (cause & VFDEV_INT_LINK)
        link_changed(a);
    maybe_finish_pause(a);
}

/* ---- pause / restart / PnP ---- */

NDIS_STATUS MpPause(NDIS_HANDLE ctx, PNDIS_MINIPORT_PAUSE_PARAMETERS p)
{
    vf_adapter *a = ctx;
    UNREFERENCED_PARAMETER(p);
    NdisAcquireSpinLock(&a->lock);
    a->running = FALSE;
    BOOLEAN idle = InterlockedOr(&a->sends_out, 0) == 0 && InterlockedOr(&a->recvs_out, 0) == 0;
    a->pausing = !idle;
    NdisReleaseSpinLock(&a->lock);
    return idle ? NDIS_STATUS_SUCCESS : NDIS_STATUS_PENDING;
}

NDIS_STATUS MpRestart(NDIS_HANDLE ctx, PNDIS_MINIPORT_RESTART_PARAMETERS p)
{
    vf_adapter *a = ctx;
    UNREFERENCED_PARAMETER(p);
    NdisAcquireSpinLock(&a->lock);
    a->running = TRUE;
    NdisReleaseSpinLock(&a->lock);
    return NDIS_STATUS_SUCCESS;
}

void MpDevicePnPEventNotify(NDIS_HANDLE ctx, PNET_DEVICE_PNP_EVENT ev)
{
    vf_adapter *a = ctx;
    if (ev->DevicePnPEvent != NdisDevicePnPEventSurpriseRemoved)
        return;
    /* The VF is gone: what sits in its rings will never be sent. */
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NdisDprAcquireSpinLock(&a->lock);
    a->removed = TRUE;
    a->hw_ready = FALSE;
    NdisDprReleaseSpinLock(&a->lock);
    vf_fail_pending_sends(a, NDIS_STATUS_ADAPTER_REMOVED);
    KeLowerIrql(old);
}
