/*
 * minimp_datapath.c - the minimal miniport's data path: descriptor rings,
 * sends (scatter/gather), the ISR and DPC, receive indications and
 * returns. The lifecycle and OIDs are in minimp.c.
 *
 * A real (if small) bus-master miniport: BAR registers through
 * NdisMMapIoSpace, descriptor rings in shared memory, scatter/gather DMA for
 * sends, MSI-X ISR + DPC, pause/restart with outstanding-I/O accounting,
 * OIDs (one completed asynchronously from a work item), hang check and
 * reset, D3/D0 and surprise removal. Built unmodified for ndisemu and, as a
 * PE link check, for Windows.
 *
 * It is written for real concurrency: sends, the DPC, returns, OIDs and
 * PnP callbacks run on several CPUs at once (ndisemu's real-time scheduler
 * does that too). The adapter lock orders everything the driver shares
 * with itself; the device sees descriptors only through doorbell writes
 * made under that lock, and the driver reads a descriptor the device
 * finished only after an acquire load of its DONE flag.
 */
#include "nu_dpc.h"
#include "minimp.h"

/* The device writes the rest of a descriptor before DONE (release). */
static BOOLEAN desc_is_done(loopnic_desc *d)
{
    return (ReadULongAcquire((ULONG const volatile *)&d->flags) & LOOPNIC_DESC_DONE) != 0;
}

ULONG mp_reg_rd(mp_adapter *a, ULONG off)
{
    return READ_REGISTER_ULONG((volatile ULONG *)(a->regs + off));
}

void mp_reg_wr(mp_adapter *a, ULONG off, ULONG v)
{
    WRITE_REGISTER_ULONG((volatile ULONG *)(a->regs + off), v);
}

static void mp_reg_wr64(mp_adapter *a, ULONG off, ULONG64 v)
{
    WRITE_REGISTER_ULONG64((volatile ULONG64 *)(a->regs + off), v);
}

/* ---- rings (adapter lock held) ---- */

/* Gives a receive buffer (the NBL's own) to the device at the next ring
 * position. Buffers come back in any order, so a position's buffer is
 * whichever NBL was returned for it, never a fixed one. */
static void post_rx_locked(mp_adapter *a, PNET_BUFFER_LIST nbl)
{
    ULONG buf = (ULONG)(ULONG_PTR)NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0];
    ULONG pos = a->rx_tail % a->ring;
    loopnic_desc *d = &a->rx_ring[pos];
    d->addr = (ULONG64)a->rx_bufs_pa.QuadPart + (ULONG64)buf * MP_BUF_SIZE;
    d->len = MP_BUF_SIZE;
    d->flags = 0;
    NET_BUFFER_DATA_LENGTH(NET_BUFFER_LIST_FIRST_NB(nbl)) = MP_BUF_SIZE;
    a->rx_pos_nbl[pos] = nbl;
    a->rx_tail++;
}

/* Empty rings, programmed from scratch, and the device enabled; the
 * caller posts receive buffers, then calls rings_go_locked. */
static void rings_program_locked(mp_adapter *a)
{
    mp_reg_wr(a, LOOPNIC_CTRL, 0);
    mp_reg_wr64(a, LOOPNIC_TX_RING, (ULONG64)a->tx_ring_pa.QuadPart);
    mp_reg_wr64(a, LOOPNIC_RX_RING, (ULONG64)a->rx_ring_pa.QuadPart);
    mp_reg_wr(a, LOOPNIC_RING_SIZE, a->ring);
    NdisZeroMemory(a->tx_ring, a->ring * sizeof(loopnic_desc));
    a->tx_tail = a->tx_clean = 0;
    a->rx_tail = a->rx_clean = 0;
    mp_reg_wr(a, LOOPNIC_CTRL, 1);
}

static void rings_go_locked(mp_adapter *a)
{
    mp_reg_wr(a, LOOPNIC_RX_TAIL, a->rx_tail);
    mp_reg_wr(a, LOOPNIC_IMR, LOOPNIC_INT_TX | LOOPNIC_INT_RX);
}

/* Only at initialize and D0, with no I/O outstanding: resets both rings
 * and hands the device every receive buffer. */
void mp_hw_start_locked(mp_adapter *a)
{
    rings_program_locked(a);
    a->tx_reserved = 0;
    for (ULONG i = 0; i < a->ring; i++)
        post_rx_locked(a, a->rx_nbl[i]);
    rings_go_locked(a);
}

void mp_hw_stop_locked(mp_adapter *a)
{
    if (!a->removed)
        mp_reg_wr(a, LOOPNIC_CTRL, 0);
}

/* True when a pended pause may complete now; the caller completes it after
 * dropping the lock (NDIS is not called with the adapter lock held). */
BOOLEAN mp_pause_done_locked(mp_adapter *a)
{
    if (!a->pausing || a->sends_out || a->recvs_out)
        return FALSE;
    a->pausing = FALSE;
    return TRUE;
}

/* ---- send ---- */

/* The completion information of a large send (NDIS_TCP_LARGE_SEND_
 * OFFLOAD_NET_BUFFER_LIST_INFO): LSOv2 keeps its Type with Reserved zero,
 * LSOv1 reports the TCP payload bytes it sent (none for a failed send). */
static void lso_complete(PNET_BUFFER_LIST nbl)
{
    NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO lso;
    lso.Value = NET_BUFFER_LIST_INFO(nbl, TcpLargeSendNetBufferListInfo);
    if (lso.LsoV1Transmit.MSS == 0 || BROKEN(BRK_LSO_COMPLETE_UNSET))
        return;
    ULONG type = lso.Transmit.Type, tcp = lso.LsoV1Transmit.TcpHeaderOffset, payload = 0;
    PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
    UCHAR hdr[13];
    PUCHAR p = nb ? NdisGetDataBuffer(nb, tcp + 13, hdr, 1, 0) : NULL;
    if (p && NET_BUFFER_LIST_STATUS(nbl) == NDIS_STATUS_SUCCESS) {
        ULONG thl = (ULONG)(p[tcp + 12] >> 4) * 4u;
        if (thl < 20)
            thl = 20;
        if (NET_BUFFER_DATA_LENGTH(nb) > tcp + thl)
            payload = NET_BUFFER_DATA_LENGTH(nb) - tcp - thl;
    }
    lso.Value = NULL;
    if (type == NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE) {
        lso.LsoV2TransmitComplete.Type = NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE;
    } else {
        lso.LsoV1TransmitComplete.Type = NDIS_TCP_LARGE_SEND_OFFLOAD_V1_TYPE;
        lso.LsoV1TransmitComplete.TcpPayload = payload;
    }
    NET_BUFFER_LIST_INFO(nbl, TcpLargeSendNetBufferListInfo) = lso.Value;
}

/* At DISPATCH_LEVEL; n NBLs. */
static void complete_sends(mp_adapter *a, PNET_BUFFER_LIST list, ULONG n)
{
    for (PNET_BUFFER_LIST nbl = list; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl))
        lso_complete(nbl);
    NdisMSendNetBufferListsComplete(a->handle, list, NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL);
    if (BROKEN(BRK_SEND_COMPLETE_TWICE))
        NdisMSendNetBufferListsComplete(a->handle, list, NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL);
    NdisDprAcquireSpinLock(&a->lock);
    a->sends_out -= n;
    BOOLEAN paused = mp_pause_done_locked(a);
    NdisDprReleaseSpinLock(&a->lock);
    if (paused)
        NdisMPauseComplete(a->handle);
}

void mp_complete_sends(mp_adapter *a, PNET_BUFFER_LIST list, ULONG n)
{
    complete_sends(a, list, n);
}

/* Outstanding NBs of an NBL are counted in its MiniportReserved[0] (under
 * the adapter lock); each NB points at its NBL from its MiniportReserved[0]. */
#define NB_NBL(nb) ((PNET_BUFFER_LIST)NET_BUFFER_MINIPORT_RESERVED(nb)[0])

static BOOLEAN nbl_put_locked(PNET_BUFFER_LIST nbl)
{
    ULONG_PTR n = (ULONG_PTR)NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0] - 1;
    NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0] = (PVOID)n;
    return n == 0;
}

/* NDIS calls it at DISPATCH_LEVEL from NdisMAllocateNetBufferSGList. */
void MpProcessSGList(PDEVICE_OBJECT pDO, PVOID Reserved, PSCATTER_GATHER_LIST sgl, PVOID Context)
{
    PNET_BUFFER nb = Context;
    PNET_BUFFER_LIST nbl = NB_NBL(nb);
    mp_adapter *a = (mp_adapter *)NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[1];
    UNREFERENCED_PARAMETER(pDO);
    UNREFERENCED_PARAMETER(Reserved);
    /* A loopnic descriptor holds one buffer: the pool's NBs are contiguous. */
    ULONG len = NET_BUFFER_DATA_LENGTH(nb);
    if (len > sgl->Elements[0].Length)
        len = sgl->Elements[0].Length;
    NdisDprAcquireSpinLock(&a->lock);
    if (a->removed || a->resetting) {
        /* NDIS may call this after NdisMAllocateNetBufferSGList returned:
         * the device went away meanwhile and its ring was cleaned for the
         * last time (MpDevicePnPEventNotify), so nothing would ever finish
         * the NB there. Before this it went into the ring anyway, and the
         * send was never completed (the pause at the unbind waited for
         * ever: test_ndisemu_lifecycle lifecycle_with_late_sg_lists, and
         * the VF path of test_vfo_stress about once in 60 runs). A reset
         * meanwhile aborted what the ring held: this NB joins them. */
        NdisMFreeNetBufferSGList(a->dma, sgl, nb);
        a->tx_reserved--;
        NET_BUFFER_LIST_STATUS(nbl) =
            a->removed ? NDIS_STATUS_ADAPTER_REMOVED : NDIS_STATUS_REQUEST_ABORTED;
        BOOLEAN last = nbl_put_locked(nbl);
        NdisDprReleaseSpinLock(&a->lock);
        if (last)
            complete_sends(a, nbl, 1);
        return;
    }
    ULONG slot = a->tx_tail % a->ring;
    a->tx_nb[slot] = nb;
    a->tx_sgl[slot] = sgl;
    a->tx_ring[slot].addr = (ULONG64)sgl->Elements[0].Address.QuadPart;
    a->tx_ring[slot].len = len;
    a->tx_ring[slot].flags = 0;
    a->tx_tail++;
    a->tx_reserved--;
    /* The doorbell under the lock: tail values reach the device in order. */
    mp_reg_wr(a, LOOPNIC_TX_TAIL, a->tx_tail);
    NdisDprReleaseSpinLock(&a->lock);
}

/* Takes one NBL or refuses it (lock held): the status to fail it with. */
static NDIS_STATUS admit_send_locked(mp_adapter *a, PNET_BUFFER_LIST nbl, ULONG nbs)
{
    ULONG room = a->ring - (a->tx_tail - a->tx_clean) - a->tx_reserved;
    a->sends_out++;
    if (a->removed)
        return NDIS_STATUS_ADAPTER_REMOVED;
    if (!a->running || a->low_power)
        return NDIS_STATUS_PAUSED;
    if (a->resetting)
        return NDIS_STATUS_RESET_IN_PROGRESS;
    if (nbs == 0 || nbs > room)
        return NDIS_STATUS_RESOURCES;
    a->tx_reserved += nbs;
    NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0] = (PVOID)(ULONG_PTR)nbs;
    NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[1] = a;
    return NDIS_STATUS_SUCCESS;
}

/* Maps one NB for the device (MpProcessSGList queues it); on failure the
 * NB's reservation is dropped and the NBL completed if it was the last. */
static void map_nb(mp_adapter *a, PNET_BUFFER_LIST nbl, PNET_BUFFER nb)
{
    NET_BUFFER_MINIPORT_RESERVED(nb)[0] = nbl;
    KIRQL old = DISPATCH_LEVEL;
    if (!BROKEN(BRK_SG_LIST_AT_PASSIVE))
        KeRaiseIrql(DISPATCH_LEVEL, &old); /* NdisMAllocateNetBufferSGList: DISPATCH only */
    NDIS_STATUS st =
        NdisMAllocateNetBufferSGList(a->dma, nb, nb, NDIS_SG_LIST_WRITE_TO_DEVICE, NULL, 0);
    if (st != NDIS_STATUS_SUCCESS) {
        NdisDprAcquireSpinLock(&a->lock);
        a->tx_reserved--;
        NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_RESOURCES;
        BOOLEAN last = nbl_put_locked(nbl);
        NdisDprReleaseSpinLock(&a->lock);
        if (last)
            complete_sends(a, nbl, 1);
    }
    if (!BROKEN(BRK_SG_LIST_AT_PASSIVE))
        KeLowerIrql(old);
}

void MpSendNetBufferLists(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, NDIS_PORT_NUMBER port,
                          ULONG flags)
{
    mp_adapter *a = ctx;
    UNREFERENCED_PARAMETER(port);
    UNREFERENCED_PARAMETER(flags);
    if (BROKEN(BRK_IRQL_IN_SEND)) /* what the flags said already */
        flags = KeGetCurrentIrql() == DISPATCH_LEVEL ? NDIS_SEND_FLAGS_DISPATCH_LEVEL : 0;
#ifdef MINIMP_SINK
    mp_sink_send(a, nbls);
    return;
#endif
    PNET_BUFFER_LIST next;
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = next) {
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        ULONG nbs = 0;
        for (PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl); nb; nb = NET_BUFFER_NEXT_NB(nb))
            nbs++;
        NdisAcquireSpinLock(&a->lock);
        NDIS_STATUS st = admit_send_locked(a, nbl, nbs);
        NET_BUFFER_LIST_STATUS(nbl) = st;
        NdisReleaseSpinLock(&a->lock);
        if (st != NDIS_STATUS_SUCCESS) {
            KIRQL old;
            KeRaiseIrql(DISPATCH_LEVEL, &old);
            complete_sends(a, nbl, 1);
            KeLowerIrql(old);
            continue;
        }
        if (BROKEN(BRK_SENDS_HELD)) /* admitted, then forgotten */
            continue;
        if (BROKEN(BRK_ONE_SEND_HELD) && !a->held_one_send) { /* the first one only */
            a->held_one_send = TRUE;
            continue;
        }
        /* Once an NB is handed to the device, the DPC on another CPU may
         * complete and free the whole NBL: read the next NB first. */
        PNET_BUFFER nb_next;
        for (PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl); nb; nb = nb_next) {
            nb_next = NET_BUFFER_NEXT_NB(nb);
            map_nb(a, nbl, nb);
        }
    }
}

void MpCancelSend(NDIS_HANDLE ctx, PVOID id)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(id);
}

/* Completes every sent NB the device finished; with `abort` (the device
 * is gone, or stopped by a reset) every NB in the ring, the unfinished
 * ones with that status. At DISPATCH_LEVEL. */
static void tx_reclaim(mp_adapter *a, NDIS_STATUS abort)
{
    PNET_BUFFER_LIST done = NULL, *tail = &done;
    ULONG n = 0;
    NdisDprAcquireSpinLock(&a->lock);
    if (a->removed)
        abort = NDIS_STATUS_ADAPTER_REMOVED;
    while (a->tx_clean != a->tx_tail) {
        ULONG slot = a->tx_clean % a->ring;
        BOOLEAN finished = desc_is_done(&a->tx_ring[slot]);
        if (!finished && abort == NDIS_STATUS_SUCCESS)
            break;
        PNET_BUFFER nb = a->tx_nb[slot];
        PNET_BUFFER_LIST nbl = NB_NBL(nb);
        NdisMFreeNetBufferSGList(a->dma, a->tx_sgl[slot], nb);
        a->tx_clean++;
        if (a->removed || !finished)
            NET_BUFFER_LIST_STATUS(nbl) = abort;
        if (nbl_put_locked(nbl)) {
            *tail = nbl;
            tail = &NET_BUFFER_LIST_NEXT_NBL(nbl);
            n++;
            if (NET_BUFFER_LIST_STATUS(nbl) == NDIS_STATUS_SUCCESS)
                a->xmit_ok++;
        }
    }
    NdisDprReleaseSpinLock(&a->lock);
    *tail = NULL;
    if (n)
        complete_sends(a, done, n);
}

void mp_tx_clean(mp_adapter *a)
{
    tx_reclaim(a, NDIS_STATUS_SUCCESS);
}

/* ---- NDIS's reset ---- */

/* NDIS 6.30: no send is held across a reset (MiniportResetEx's page). The
 * device is disabled (it forgets both rings and stops DMA), then the
 * driver takes back what its TX ring held. */
void mp_reset_begin(mp_adapter *a)
{
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NdisDprAcquireSpinLock(&a->lock);
    a->resetting = TRUE;
    mp_hw_stop_locked(a);
    NdisDprReleaseSpinLock(&a->lock);
    tx_reclaim(a, NDIS_STATUS_REQUEST_ABORTED);
    KeLowerIrql(old);
}

/* The device restarted: the fault cleared, both rings programmed again,
 * and the receive buffers the driver holds (not those up the stack)
 * posted again; frames it had received but not indicated are dropped. */
static void reset_restart_locked(mp_adapter *a)
{
    ULONG n = 0;
    for (ULONG pos = a->rx_clean; pos != a->rx_tail; pos++)
        a->rx_held[n++] = a->rx_pos_nbl[pos % a->ring];
    mp_reg_wr(a, LOOPNIC_FAULT, 1);
    rings_program_locked(a);
    for (ULONG i = 0; i < n; i++)
        post_rx_locked(a, a->rx_held[i]);
    rings_go_locked(a);
}

BOOLEAN mp_reset_end(mp_adapter *a)
{
    NdisDprAcquireSpinLock(&a->lock);
    /* A send admitted before the reset may still be mapping its buffers
     * (MpProcessSGList aborts it), and an OID request finishes on a work
     * item: the reset completes after them. */
    BOOLEAN busy = a->tx_reserved != 0 || (a->pending_oid != NULL && !BROKEN(BRK_RESET_HOLDS_OID));
    if (!busy) {
        if (!a->removed && !a->low_power)
            reset_restart_locked(a);
        a->resetting = FALSE;
    }
    NdisDprReleaseSpinLock(&a->lock);
    return !busy;
}

/* A status indication without a buffer (only the broken variants make
 * one: the link state without its NDIS_LINK_STATE, NDIS's RESET_START). */
void mp_indicate_bare_status(mp_adapter *a, NDIS_STATUS code)
{
    NDIS_STATUS_INDICATION si;
    NdisZeroMemory(&si, sizeof(si));
    NU_INIT_HEADER(&si.Header, NDIS_OBJECT_TYPE_STATUS_INDICATION,
                   NDIS_STATUS_INDICATION_REVISION_1, NDIS_SIZEOF_STATUS_INDICATION_REVISION_1);
    si.SourceHandle = a->handle;
    si.StatusCode = code;
    NdisMIndicateStatusEx(a->handle, &si);
}

/* ---- interrupt, DPC, receive ---- */

static void break_in_isr(mp_adapter *a)
{
    if (BROKEN(BRK_NBL_ALLOC_IN_ISR))
        NdisAllocateNetBufferList(a->nbl_pool, 0, 0);
    if (BROKEN(BRK_INDICATE_IN_ISR))
        NdisMIndicateReceiveNetBufferLists(a->handle, a->rx_nbl[0], 0, 1, 0);
    if (BROKEN(BRK_TIMER_IN_ISR)) {
        LARGE_INTEGER due;
        due.QuadPart = -10000;
        NdisSetTimerObject(a->timer, due, 0, NULL);
    }
    if (BROKEN(BRK_STATUS_IN_ISR))
        mp_indicate_bare_status(a, NDIS_STATUS_LINK_STATE);
}

BOOLEAN MpMessageIsr(NDIS_HANDLE ctx, ULONG msg, PBOOLEAN queue_dpc, PULONG targets)
{
    mp_adapter *a = ctx;
    UNREFERENCED_PARAMETER(msg);
    *targets = 0;
    ULONG cause = mp_reg_rd(a, LOOPNIC_ISR);
    if (cause == 0 || cause == 0xFFFFFFFF) {
        *queue_dpc = FALSE;
        return FALSE;
    }
    break_in_isr(a);
    InterlockedOr(&a->isr_cause, (LONG)cause);
    *queue_dpc = TRUE;
    return TRUE;
}

/* Indicates the frames the device finished, at most limit of them
 * (NDIS_INDICATE_ALL_NBLS: all). At DISPATCH_LEVEL. The count of indicated
 * NBLs grows under the lock that MiniportPause reads it under, before the
 * indication: a pause never misses one. TRUE when finished frames remain. */
static BOOLEAN rx_indicate(mp_adapter *a, ULONG limit)
{
    PNET_BUFFER_LIST head = NULL, *tail = &head;
    ULONG n = 0;
    BOOLEAN more = FALSE;
    if (BROKEN(BRK_IGNORE_MAX_NBLS))
        limit = NDIS_INDICATE_ALL_NBLS; /* indicates whatever it has */
    NdisDprAcquireSpinLock(&a->lock);
    while (a->running && !a->removed && !a->resetting && a->rx_clean != a->rx_tail) {
        ULONG pos = a->rx_clean % a->ring;
        loopnic_desc *d = &a->rx_ring[pos];
        if (!desc_is_done(d))
            break;
        if (n == limit) {
            more = TRUE;
            break;
        }
        PNET_BUFFER_LIST nbl = a->rx_pos_nbl[pos];
        NET_BUFFER_DATA_LENGTH(NET_BUFFER_LIST_FIRST_NB(nbl)) =
            d->len < MP_BUF_SIZE ? d->len : MP_BUF_SIZE;
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        *tail = nbl;
        tail = &NET_BUFFER_LIST_NEXT_NBL(nbl);
        a->rx_clean++;
        a->rcv_ok++;
        n++;
    }
    a->recvs_out += n;
    NdisDprReleaseSpinLock(&a->lock);
#ifdef MINIMP_HOSTILE
    UCHAR status[4][MP_RECIPE_LEN];
    ULONG n_status = n ? mp_hostile_rx(a, head, status, 4) : 0;
#endif
    if (n)
        NdisMIndicateReceiveNetBufferLists(a->handle, head, NDIS_DEFAULT_PORT_NUMBER, n,
                                           NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL);
#ifdef MINIMP_HOSTILE
    mp_hostile_status(a, status, n_status);
#endif
    return more;
}

static void break_in_dpc(mp_adapter *a)
{
    if (BROKEN(BRK_CONFIG_IN_DPC)) {
        NDIS_CONFIGURATION_OBJECT co;
        NDIS_HANDLE cfg;
        NdisZeroMemory(&co, sizeof(co));
        NdisOpenConfigurationEx(&co, &cfg); /* PASSIVE_LEVEL only */
    }
    if (BROKEN(BRK_SLEEP_IN_DPC))
        NdisMSleep(10); /* below DISPATCH_LEVEL only */
    if (BROKEN(BRK_DPC_WITHOUT_TARGETS))
        NdisMQueueDpcEx(a->intr, 0, NULL, NULL); /* TargetProcessors is not optional */
    if (BROKEN(BRK_RETURN_HOLDING_LOCK))
        NdisDprAcquireSpinLock(&a->lock);
    if (BROKEN(BRK_RAISE_WITHOUT_LOWER)) {
        KIRQL old;
        KeRaiseIrql(HIGH_LEVEL, &old);
    }
    if (BROKEN(BRK_LOWER_ABOVE_CURRENT))
        KeLowerIrql(HIGH_LEVEL);
    if (BROKEN(BRK_DPC_OVER_BUDGET)) { /* a single DPC should stay within 100 us */
        for (int i = 0; i < 3; i++)
            NdisStallExecution(50);
    }
    if (BROKEN(BRK_STALL_TOO_LONG))
        NdisStallExecution(51);
}

void MpMessageDpc(NDIS_HANDLE ctx, ULONG msg, PVOID dpc_ctx, PVOID throttle, PVOID reserved)
{
    mp_adapter *a = ctx;
    UNREFERENCED_PARAMETER(dpc_ctx);
    UNREFERENCED_PARAMETER(reserved);
    PNDIS_RECEIVE_THROTTLE_PARAMETERS tp = throttle;
#ifdef MINIMP_SINK
    mp_sink_dpc(a, msg, tp);
#endif
    LONG cause = InterlockedExchange(&a->isr_cause, 0);
    if (cause & LOOPNIC_INT_TX)
        mp_tx_clean(a);
    if ((cause & LOOPNIC_INT_RX) && rx_indicate(a, tp->MaxNblsToIndicate)) {
        /* The rest in the DPC NDIS queues again for MoreNblsPending. */
        InterlockedOr(&a->isr_cause, LOOPNIC_INT_RX);
        if (tp->MaxNblsToIndicate != NDIS_INDICATE_ALL_NBLS)
            tp->MoreNblsPending = 1;
        else
            nu_queue_dpc_here(a->intr, msg);
    }
    break_in_dpc(a);
}

void MpReturnNetBufferLists(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, ULONG flags)
{
    mp_adapter *a = ctx;
    UNREFERENCED_PARAMETER(flags);
#ifdef MINIMP_SINK
    nbls = mp_sink_return(a, nbls);
    if (!nbls)
        return;
#endif
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NdisDprAcquireSpinLock(&a->lock);
    ULONG n = 0;
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl)) {
#ifdef MINIMP_HOSTILE
        mp_hostile_restore(a, nbl);
#endif
        post_rx_locked(a, nbl);
        n++;
    }
    a->recvs_out -= n;
    if (!a->removed && !a->low_power && !a->resetting)
        mp_reg_wr(a, LOOPNIC_RX_TAIL, a->rx_tail);
    BOOLEAN paused = mp_pause_done_locked(a);
    NdisDprReleaseSpinLock(&a->lock);
    if (paused)
        NdisMPauseComplete(a->handle);
    KeLowerIrql(old);
}
