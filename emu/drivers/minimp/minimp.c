/*
 * minimp.c - ndisemu's minimal NDIS 6.30 miniport, for the loopnic device.
 *
 * A real (if small) bus-master miniport: BAR registers through
 * NdisMMapIoSpace, descriptor rings in shared memory, scatter/gather DMA for
 * sends, MSI-X ISR + DPC, pause/restart with outstanding-I/O accounting,
 * OIDs (one completed asynchronously from a work item), D3/D0 and surprise
 * removal. Built unmodified for ndisemu and, as a PE link check, for Windows.
 */
#include "minimp.h"

static NDIS_HANDLE g_driver;

/* The device sets DONE after writing the rest of the descriptor. */
static BOOLEAN desc_is_done(loopnic_desc *d)
{
    return (ReadULongAcquire((ULONG const volatile *)&d->flags) & LOOPNIC_DESC_DONE) != 0;
}

static ULONG reg_rd(mp_adapter *a, ULONG off)
{
    return READ_REGISTER_ULONG((volatile ULONG *)(a->regs + off));
}

static void reg_wr(mp_adapter *a, ULONG off, ULONG v)
{
    WRITE_REGISTER_ULONG((volatile ULONG *)(a->regs + off), v);
}

static void reg_wr64(mp_adapter *a, ULONG off, ULONG64 v)
{
    WRITE_REGISTER_ULONG64((volatile ULONG64 *)(a->regs + off), v);
}

static void post_rx(mp_adapter *a, ULONG slot)
{
    loopnic_desc *d = &a->rx_ring[slot];
    d->addr = (ULONG64)a->rx_bufs_pa.QuadPart + (ULONG64)slot * MP_BUF_SIZE;
    d->len = MP_BUF_SIZE;
    d->flags = 0;
}

static void hw_start(mp_adapter *a)
{
    reg_wr(a, LOOPNIC_CTRL, 0);
    reg_wr64(a, LOOPNIC_TX_RING, (ULONG64)a->tx_ring_pa.QuadPart);
    reg_wr64(a, LOOPNIC_RX_RING, (ULONG64)a->rx_ring_pa.QuadPart);
    reg_wr(a, LOOPNIC_RING_SIZE, a->ring);
    NdisZeroMemory(a->tx_ring, a->ring * sizeof(loopnic_desc));
    a->tx_tail = a->tx_clean = 0;
    a->rx_tail = a->rx_clean = 0;
    reg_wr(a, LOOPNIC_CTRL, 1);
    /* Keep one RX slot back so a full ring is distinguishable from an empty one. */
    for (ULONG i = 0; i + 1 < a->ring; i++)
        post_rx(a, i);
    a->rx_tail = a->ring - 1;
    reg_wr(a, LOOPNIC_RX_TAIL, a->rx_tail);
    reg_wr(a, LOOPNIC_IMR, LOOPNIC_INT_TX | LOOPNIC_INT_RX);
}

static void hw_stop(mp_adapter *a)
{
    if (!a->removed)
        reg_wr(a, LOOPNIC_CTRL, 0);
}

/* ---- send ---- */

static void complete_nbls(mp_adapter *a, PNET_BUFFER_LIST list, BOOLEAN dispatch)
{
    LONG n = 0;
    for (PNET_BUFFER_LIST nbl = list; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl))
        n++;
    if (!list)
        return;
    NdisMSendNetBufferListsComplete(a->handle, list,
                                    dispatch ? NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL : 0);
    if (BROKEN(BRK_SEND_COMPLETE_TWICE))
        NdisMSendNetBufferListsComplete(a->handle, list, 0);
    InterlockedExchangeAdd(&a->sends_out, -n);
}

static void fail_nbls(mp_adapter *a, PNET_BUFFER_LIST list, NDIS_STATUS st, BOOLEAN dispatch)
{
    for (PNET_BUFFER_LIST nbl = list; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl))
        NET_BUFFER_LIST_STATUS(nbl) = st;
    complete_nbls(a, list, dispatch);
}

/* Outstanding NBs of an NBL live in MiniportReserved[0]; the adapter
 * lock protects the count. The NB's owner NBL is in its MiniportReserved[0]. */
#define NB_NBL(nb) ((PNET_BUFFER_LIST)NET_BUFFER_MINIPORT_RESERVED(nb)[0])

static BOOLEAN nbl_put_locked(PNET_BUFFER_LIST nbl)
{
    ULONG_PTR n = (ULONG_PTR)NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0] - 1;
    NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0] = (PVOID)n;
    return n == 0;
}

static void MpProcessSGList(PDEVICE_OBJECT pDO, PVOID Reserved, PSCATTER_GATHER_LIST sgl,
                            PVOID Context)
{
    PNET_BUFFER nb = Context;
    PNET_BUFFER_LIST nbl = NB_NBL(nb);
    mp_adapter *a = (mp_adapter *)NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[1];
    UNREFERENCED_PARAMETER(pDO);
    UNREFERENCED_PARAMETER(Reserved);
    NdisDprAcquireSpinLock(&a->lock);
    ULONG slot = a->tx_tail % a->ring;
    a->tx_nb[slot] = nb;
    a->tx_sgl[slot] = sgl;
    a->tx_ring[slot].addr = (ULONG64)sgl->Elements[0].Address.QuadPart;
    a->tx_ring[slot].len = NET_BUFFER_DATA_LENGTH(nb);
    a->tx_ring[slot].flags = 0;
    a->tx_tail++;
    ULONG tail = a->tx_tail;
    NdisDprReleaseSpinLock(&a->lock);
    reg_wr(a, LOOPNIC_TX_TAIL, tail);
}

static void MpSendNetBufferLists(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, NDIS_PORT_NUMBER port,
                                 ULONG flags)
{
    mp_adapter *a = ctx;
    BOOLEAN dispatch = (flags & NDIS_SEND_FLAGS_DISPATCH_LEVEL) != 0;
    UNREFERENCED_PARAMETER(port);
    LONG n = 0;
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl))
        n++;
    InterlockedExchangeAdd(&a->sends_out, n);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NdisDprAcquireSpinLock(&a->lock);
    BOOLEAN ok = a->running && !a->removed && !a->low_power;
    ULONG room = a->ring - 1 - (a->tx_tail - a->tx_clean);
    NdisDprReleaseSpinLock(&a->lock);
    PNET_BUFFER_LIST next;
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = next) {
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        ULONG nbs = 0;
        for (PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl); nb; nb = NET_BUFFER_NEXT_NB(nb))
            nbs++;
        if (!ok || nbs == 0 || nbs > room) {
            fail_nbls(a, nbl,
                      a->removed ? NDIS_STATUS_ADAPTER_REMOVED
                      : ok       ? NDIS_STATUS_RESOURCES
                                 : NDIS_STATUS_PAUSED,
                      TRUE);
            continue;
        }
        room -= nbs;
        NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0] = (PVOID)(ULONG_PTR)nbs;
        NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[1] = a;
        NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_SUCCESS;
        /* Once an NB is handed to the device, the DPC on another CPU may
         * complete and free the whole NBL: read the next NB first. */
        PNET_BUFFER nb_next;
        for (PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl); nb; nb = nb_next) {
            nb_next = NET_BUFFER_NEXT_NB(nb);
            NET_BUFFER_MINIPORT_RESERVED(nb)[0] = nbl;
            if (NdisMAllocateNetBufferSGList(a->dma, nb, nb, NDIS_SG_LIST_WRITE_TO_DEVICE, NULL,
                                             0) != NDIS_STATUS_SUCCESS) {
                NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_RESOURCES;
                NdisDprAcquireSpinLock(&a->lock);
                BOOLEAN last = nbl_put_locked(nbl);
                NdisDprReleaseSpinLock(&a->lock);
                if (last)
                    complete_nbls(a, nbl, TRUE);
            }
        }
    }
    KeLowerIrql(old);
    UNREFERENCED_PARAMETER(dispatch);
}

static void MpCancelSend(NDIS_HANDLE ctx, PVOID id)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(id);
}

/* ---- interrupt, DPC, receive ---- */

static BOOLEAN MpMessageIsr(NDIS_HANDLE ctx, ULONG msg, PBOOLEAN queue_dpc, PULONG targets)
{
    mp_adapter *a = ctx;
    UNREFERENCED_PARAMETER(msg);
    *targets = 0;
    ULONG cause = reg_rd(a, LOOPNIC_ISR);
    if (cause == 0 || cause == 0xFFFFFFFF) {
        *queue_dpc = FALSE;
        return FALSE;
    }
    InterlockedOr(&a->isr_cause, (LONG)cause);
    *queue_dpc = TRUE;
    return TRUE;
}

static BOOLEAN io_idle(mp_adapter *a)
{
    return InterlockedOr(&a->sends_out, 0) == 0 && InterlockedOr(&a->recvs_out, 0) == 0;
}

static void maybe_finish_pause(mp_adapter *a)
{
    if (a->pausing && io_idle(a)) {
        a->pausing = FALSE;
        NdisMPauseComplete(a->handle);
    }
}

static void tx_clean(mp_adapter *a)
{
    PNET_BUFFER_LIST done = NULL, *tail = &done;
    NdisDprAcquireSpinLock(&a->lock);
    while (a->tx_clean != a->tx_tail) {
        ULONG slot = a->tx_clean % a->ring;
        if (!a->removed && !desc_is_done(&a->tx_ring[slot]))
            break;
        PNET_BUFFER nb = a->tx_nb[slot];
        PNET_BUFFER_LIST nbl = NB_NBL(nb);
        NdisMFreeNetBufferSGList(a->dma, a->tx_sgl[slot], nb);
        a->tx_clean++;
        if (a->removed)
            NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_ADAPTER_REMOVED;
        if (nbl_put_locked(nbl)) {
            *tail = nbl;
            tail = &NET_BUFFER_LIST_NEXT_NBL(nbl);
            a->xmit_ok++;
        }
    }
    NdisDprReleaseSpinLock(&a->lock);
    *tail = NULL;
    complete_nbls(a, done, TRUE);
}

static void rx_indicate(mp_adapter *a)
{
    PNET_BUFFER_LIST head = NULL, *tail = &head;
    ULONG n = 0;
    NdisDprAcquireSpinLock(&a->lock);
    while (a->running && !a->removed && a->rx_clean != a->rx_tail) {
        ULONG slot = a->rx_clean % a->ring;
        loopnic_desc *d = &a->rx_ring[slot];
        if (!desc_is_done(d))
            break;
        PNET_BUFFER_LIST nbl = a->rx_nbl[slot];
        NET_BUFFER_DATA_LENGTH(NET_BUFFER_LIST_FIRST_NB(nbl)) = d->len;
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        *tail = nbl;
        tail = &NET_BUFFER_LIST_NEXT_NBL(nbl);
        a->rx_clean++;
        n++;
        a->rcv_ok++;
    }
    NdisDprReleaseSpinLock(&a->lock);
    if (!n)
        return;
    InterlockedExchangeAdd(&a->recvs_out, (LONG)n);
    NdisMIndicateReceiveNetBufferLists(a->handle, head, NDIS_DEFAULT_PORT_NUMBER, n,
                                       NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL);
}

static void MpMessageDpc(NDIS_HANDLE ctx, ULONG msg, PVOID throttle, PVOID reserved)
{
    mp_adapter *a = ctx;
    UNREFERENCED_PARAMETER(msg);
    UNREFERENCED_PARAMETER(throttle);
    UNREFERENCED_PARAMETER(reserved);
    LONG cause = InterlockedExchange(&a->isr_cause, 0);
    if (BROKEN(BRK_PASSIVE_CALL_IN_DPC)) {
        NDIS_CONFIGURATION_OBJECT co;
        NDIS_HANDLE cfg;
        NdisZeroMemory(&co, sizeof(co));
        NdisOpenConfigurationEx(&co, &cfg); /* PASSIVE_LEVEL only */
    }
    if (BROKEN(BRK_SLEEP_UNDER_LOCK))
        NdisMSleep(10); /* a DPC runs at DISPATCH_LEVEL */
    if (cause & LOOPNIC_INT_TX)
        tx_clean(a);
    if (cause & LOOPNIC_INT_RX)
        rx_indicate(a);
    NdisDprAcquireSpinLock(&a->lock);
    maybe_finish_pause(a);
    NdisDprReleaseSpinLock(&a->lock);
    if (BROKEN(BRK_RETURN_HOLDING_LOCK))
        NdisDprAcquireSpinLock(&a->lock);
    if (BROKEN(BRK_RAISE_WITHOUT_LOWER)) {
        KIRQL old;
        KeRaiseIrql(HIGH_LEVEL, &old);
    }
}

static void MpReturnNetBufferLists(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, ULONG flags)
{
    mp_adapter *a = ctx;
    UNREFERENCED_PARAMETER(flags);
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NdisDprAcquireSpinLock(&a->lock);
    LONG n = 0;
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl)) {
        ULONG slot = (ULONG)(ULONG_PTR)NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0];
        NET_BUFFER_DATA_LENGTH(NET_BUFFER_LIST_FIRST_NB(nbl)) = MP_BUF_SIZE;
        post_rx(a, slot);
        n++;
    }
    InterlockedExchangeAdd(&a->recvs_out, -n);
    /* Buffers come back in any order; the device only needs a count. */
    a->rx_tail += (ULONG)n;
    if (a->running && !a->removed && !a->low_power)
        reg_wr(a, LOOPNIC_RX_TAIL, a->rx_tail);
    maybe_finish_pause(a);
    NdisDprReleaseSpinLock(&a->lock);
    KeLowerIrql(old);
}

/* ---- OIDs ---- */

static NDIS_STATUS query_ulong(PNDIS_OID_REQUEST r, ULONG v)
{
    if (r->DATA.QUERY_INFORMATION.InformationBufferLength < sizeof(ULONG)) {
        r->DATA.QUERY_INFORMATION.BytesNeeded = sizeof(ULONG);
        return NDIS_STATUS_BUFFER_TOO_SHORT;
    }
    *(ULONG *)r->DATA.QUERY_INFORMATION.InformationBuffer = v;
    r->DATA.QUERY_INFORMATION.BytesWritten = sizeof(ULONG);
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS query_bytes(PNDIS_OID_REQUEST r, const void *p, ULONG len)
{
    if (r->DATA.QUERY_INFORMATION.InformationBufferLength < len) {
        r->DATA.QUERY_INFORMATION.BytesNeeded = len;
        return NDIS_STATUS_BUFFER_TOO_SHORT;
    }
    NdisMoveMemory(r->DATA.QUERY_INFORMATION.InformationBuffer, p, len);
    r->DATA.QUERY_INFORMATION.BytesWritten = len;
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS oid_query(mp_adapter *a, PNDIS_OID_REQUEST r)
{
    switch (r->DATA.QUERY_INFORMATION.Oid) {
    case OID_GEN_CURRENT_PACKET_FILTER:
        return query_ulong(r, a->packet_filter);
    case OID_GEN_MAXIMUM_FRAME_SIZE:
        return query_ulong(r, 1500);
    case OID_802_3_PERMANENT_ADDRESS:
    case OID_802_3_CURRENT_ADDRESS:
        return query_bytes(r, a->mac, 6);
    case OID_802_3_MULTICAST_LIST:
        return query_bytes(r, a->mcast, a->n_mcast * 6);
    case OID_802_3_MAXIMUM_LIST_SIZE:
        return query_ulong(r, 32);
    case OID_GEN_XMIT_OK:
        return query_bytes(r, &a->xmit_ok, sizeof(a->xmit_ok));
    case OID_GEN_RCV_OK:
        return query_bytes(r, &a->rcv_ok, sizeof(a->rcv_ok));
    default:
        return NDIS_STATUS_NOT_SUPPORTED;
    }
}

static void set_power(mp_adapter *a, NDIS_DEVICE_POWER_STATE d)
{
    if (d == NdisDeviceStateD0) {
        a->low_power = FALSE;
        hw_start(a);
    } else {
        a->low_power = TRUE;
        hw_stop(a);
    }
}

static NDIS_STATUS oid_set(mp_adapter *a, PNDIS_OID_REQUEST r)
{
    PVOID buf = r->DATA.SET_INFORMATION.InformationBuffer;
    ULONG len = r->DATA.SET_INFORMATION.InformationBufferLength;
    switch (r->DATA.SET_INFORMATION.Oid) {
    case OID_GEN_CURRENT_PACKET_FILTER:
        if (len < sizeof(ULONG))
            return NDIS_STATUS_INVALID_LENGTH;
        a->packet_filter = *(ULONG *)buf;
        r->DATA.SET_INFORMATION.BytesRead = sizeof(ULONG);
        return NDIS_STATUS_SUCCESS;
    case OID_GEN_CURRENT_LOOKAHEAD:
        r->DATA.SET_INFORMATION.BytesRead = len;
        return NDIS_STATUS_SUCCESS;
    case OID_802_3_MULTICAST_LIST:
        if (len % 6 || len / 6 > 32)
            return len % 6 ? NDIS_STATUS_INVALID_LENGTH : NDIS_STATUS_MULTICAST_FULL;
        NdisMoveMemory(a->mcast, buf, len);
        a->n_mcast = len / 6;
        r->DATA.SET_INFORMATION.BytesRead = len;
        return NDIS_STATUS_SUCCESS;
    case OID_PNP_SET_POWER:
        if (len < sizeof(NDIS_DEVICE_POWER_STATE))
            return NDIS_STATUS_INVALID_LENGTH;
        set_power(a, *(NDIS_DEVICE_POWER_STATE *)buf);
        r->DATA.SET_INFORMATION.BytesRead = sizeof(NDIS_DEVICE_POWER_STATE);
        return NDIS_STATUS_SUCCESS;
    default:
        return NDIS_STATUS_NOT_SUPPORTED;
    }
}

/* Packet-filter sets finish on a work item: exercises pended OIDs. */
static void MpOidWork(PVOID ctx, NDIS_HANDLE wi)
{
    mp_adapter *a = ctx;
    UNREFERENCED_PARAMETER(wi);
    PNDIS_OID_REQUEST r = a->pending_oid;
    a->pending_oid = NULL;
    NDIS_STATUS st = oid_set(a, r);
    NdisMOidRequestComplete(a->handle, r,
                            BROKEN(BRK_OID_COMPLETE_PENDING) ? NDIS_STATUS_PENDING : st);
    if (BROKEN(BRK_OID_COMPLETE_TWICE))
        NdisMOidRequestComplete(a->handle, r, st);
}

static NDIS_STATUS MpOidRequest(NDIS_HANDLE ctx, PNDIS_OID_REQUEST r)
{
    mp_adapter *a = ctx;
    switch (r->RequestType) {
    case NdisRequestQueryInformation:
    case NdisRequestQueryStatistics:
        return oid_query(a, r);
    case NdisRequestSetInformation:
        if (r->DATA.SET_INFORMATION.Oid == OID_GEN_CURRENT_PACKET_FILTER) {
            a->pending_oid = r;
            NdisQueueIoWorkItem(a->work, MpOidWork, a);
            return NDIS_STATUS_PENDING;
        }
        return oid_set(a, r);
    default:
        return NDIS_STATUS_NOT_SUPPORTED;
    }
}

static void MpCancelOidRequest(NDIS_HANDLE ctx, PVOID id)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(id);
}

/* ---- pause / restart ---- */

static NDIS_STATUS MpPause(NDIS_HANDLE ctx, PNDIS_MINIPORT_PAUSE_PARAMETERS p)
{
    mp_adapter *a = ctx;
    UNREFERENCED_PARAMETER(p);
    if (BROKEN(BRK_PAUSE_RETURNS_FAILURE))
        return NDIS_STATUS_FAILURE;
    NdisAcquireSpinLock(&a->lock);
    a->running = FALSE;
    BOOLEAN idle = io_idle(a);
    a->pausing = !idle && !BROKEN(BRK_NEVER_COMPLETE_PAUSE);
    NdisReleaseSpinLock(&a->lock);
    if (BROKEN(BRK_INDICATE_WHILE_PAUSED)) {
        NET_BUFFER_DATA_LENGTH(NET_BUFFER_LIST_FIRST_NB(a->rx_nbl[0])) = 60;
        NdisMIndicateReceiveNetBufferLists(a->handle, a->rx_nbl[0], 0, 1, 0);
    }
    if (BROKEN(BRK_LOCK_TWICE)) {
        NdisAcquireSpinLock(&a->lock);
        NdisAcquireSpinLock(&a->lock);
    }
    if (BROKEN(BRK_NEVER_COMPLETE_PAUSE))
        return NDIS_STATUS_PENDING;
    return idle ? NDIS_STATUS_SUCCESS : NDIS_STATUS_PENDING;
}

static NDIS_STATUS MpRestart(NDIS_HANDLE ctx, PNDIS_MINIPORT_RESTART_PARAMETERS p)
{
    mp_adapter *a = ctx;
    UNREFERENCED_PARAMETER(p);
    NdisAcquireSpinLock(&a->lock);
    a->running = TRUE;
    NdisReleaseSpinLock(&a->lock);
    return NDIS_STATUS_SUCCESS;
}

/* ---- initialize / halt ---- */

static void free_adapter(mp_adapter *a)
{
    for (ULONG i = 0; i < a->ring; i++) {
        if (a->rx_nbl[i])
            NdisFreeNetBufferList(a->rx_nbl[i]);
        if (a->rx_mdl[i])
            NdisFreeMdl(a->rx_mdl[i]);
    }
    if (a->nbl_pool)
        NdisFreeNetBufferListPool(a->nbl_pool);
    if (a->rx_bufs)
        NdisMFreeSharedMemory(a->handle, a->ring * MP_BUF_SIZE, TRUE, a->rx_bufs, a->rx_bufs_pa);
    if (a->rx_ring)
        NdisMFreeSharedMemory(a->handle, a->ring * sizeof(loopnic_desc), FALSE, a->rx_ring,
                              a->rx_ring_pa);
    if (a->tx_ring)
        NdisMFreeSharedMemory(a->handle, a->ring * sizeof(loopnic_desc), FALSE, a->tx_ring,
                              a->tx_ring_pa);
    if (a->dma)
        NdisMDeregisterScatterGatherDma(a->dma);
    if (a->intr)
        NdisMDeregisterInterruptEx(a->intr);
    if (a->work)
        NdisFreeIoWorkItem(a->work);
    if (a->regs)
        NdisMUnmapIoSpace(a->handle, (PVOID)a->regs, a->regs_len);
    NdisFreeSpinLock(&a->lock);
    NdisFreeMemoryWithTagPriority(a->handle, a, MP_TAG);
}

static NDIS_STATUS read_config(mp_adapter *a)
{
    NDIS_CONFIGURATION_OBJECT co;
    NDIS_HANDLE cfg;
    NdisZeroMemory(&co, sizeof(co));
    NDIS_INIT_OBJECT_HEADER(&co.Header, NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT,
                            NDIS_CONFIGURATION_OBJECT_REVISION_1,
                            NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1);
    co.NdisHandle = a->handle;
    NDIS_STATUS st = NdisOpenConfigurationEx(&co, &cfg);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    NDIS_STRING key = NDIS_STRING_CONST("RingSize");
    PNDIS_CONFIGURATION_PARAMETER p;
    a->ring = 32;
    NdisReadConfiguration(&st, &p, cfg, &key, NdisParameterInteger);
    if (st == NDIS_STATUS_SUCCESS && p->ParameterData.IntegerData >= 4 &&
        p->ParameterData.IntegerData <= MP_MAX_RING)
        a->ring = p->ParameterData.IntegerData;
    PVOID addr;
    UINT alen;
    NdisReadNetworkAddress(&st, &addr, &alen, cfg);
    if (st == NDIS_STATUS_SUCCESS && alen == 6)
        NdisMoveMemory(a->mac, addr, 6);
    NdisCloseConfiguration(cfg);
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS find_resources(mp_adapter *a, PNDIS_RESOURCE_LIST res)
{
    for (ULONG i = 0; res && i < res->Count; i++) {
        PCM_PARTIAL_RESOURCE_DESCRIPTOR d = &res->PartialDescriptors[i];
        if (d->Type == CmResourceTypeMemory && !a->regs_len) {
            a->regs_pa = d->u.Memory.Start;
            a->regs_len = d->u.Memory.Length;
        }
    }
    if (!a->regs_len)
        return NDIS_STATUS_RESOURCE_CONFLICT;
    PVOID va;
    NDIS_STATUS st = NdisMMapIoSpace(&va, a->handle, a->regs_pa, a->regs_len);
    if (st == NDIS_STATUS_SUCCESS)
        a->regs = va;
    return st;
}

static NDIS_STATUS set_attributes(mp_adapter *a)
{
    NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES ra;
    NdisZeroMemory(&ra, sizeof(ra));
    NDIS_INIT_OBJECT_HEADER(&ra.Header, NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
                            NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1,
                            NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1);
    ra.MiniportAdapterContext = a;
    ra.AttributeFlags = NDIS_MINIPORT_ATTRIBUTES_HARDWARE_DEVICE |
                        NDIS_MINIPORT_ATTRIBUTES_BUS_MASTER |
                        NDIS_MINIPORT_ATTRIBUTES_SURPRISE_REMOVE_OK;
    ra.InterfaceType = NdisInterfacePci;
    NDIS_STATUS st = NdisMSetMiniportAttributes(a->handle, (PNDIS_MINIPORT_ADAPTER_ATTRIBUTES)&ra);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES ga;
    NdisZeroMemory(&ga, sizeof(ga));
    NDIS_INIT_OBJECT_HEADER(&ga.Header, NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
                            NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2,
                            NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2);
    ga.MediaType = NdisMedium802_3;
    ga.PhysicalMediumType = NdisPhysicalMedium802_3;
    ga.MtuSize = 1500;
    ga.MaxXmitLinkSpeed = ga.XmitLinkSpeed = 10000000000ull;
    ga.MaxRcvLinkSpeed = ga.RcvLinkSpeed = 10000000000ull;
    ga.MediaConnectState = MediaConnectStateConnected;
    ga.MediaDuplexState = MediaDuplexStateFull;
    ga.LookaheadSize = 1500;
    ga.MacOptions = NDIS_MAC_OPTION_COPY_LOOKAHEAD_DATA | NDIS_MAC_OPTION_NO_LOOPBACK;
    ga.SupportedPacketFilters = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_MULTICAST |
                                NDIS_PACKET_TYPE_BROADCAST | NDIS_PACKET_TYPE_PROMISCUOUS;
    ga.MaxMulticastListSize = 32;
    ga.MacAddressLength = 6;
    NdisMoveMemory(ga.PermanentMacAddress, a->mac, 6);
    NdisMoveMemory(ga.CurrentMacAddress, a->mac, 6);
    ga.AccessType = NET_IF_ACCESS_BROADCAST;
    ga.DirectionType = NET_IF_DIRECTION_SENDRECEIVE;
    ga.ConnectionType = NET_IF_CONNECTION_DEDICATED;
    ga.IfType = IF_TYPE_ETHERNET_CSMACD;
    ga.IfConnectorPresent = TRUE;
    return NdisMSetMiniportAttributes(a->handle, (PNDIS_MINIPORT_ADAPTER_ATTRIBUTES)&ga);
}

static NDIS_STATUS setup_dma(mp_adapter *a)
{
    NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS ic;
    NdisZeroMemory(&ic, sizeof(ic));
    NDIS_INIT_OBJECT_HEADER(&ic.Header, NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT,
                            NDIS_MINIPORT_INTERRUPT_REVISION_1,
                            NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1);
    ic.MsiSupported = TRUE;
    ic.MessageInterruptHandler = MpMessageIsr;
    ic.MessageInterruptDpcHandler = MpMessageDpc;
    NDIS_STATUS st = NdisMRegisterInterruptEx(a->handle, a, &ic, &a->intr);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    NDIS_SG_DMA_DESCRIPTION dd;
    NdisZeroMemory(&dd, sizeof(dd));
    NDIS_INIT_OBJECT_HEADER(&dd.Header, NDIS_OBJECT_TYPE_SG_DMA_DESCRIPTION,
                            NDIS_SG_DMA_DESCRIPTION_REVISION_1,
                            NDIS_SIZEOF_SG_DMA_DESCRIPTION_REVISION_1);
    dd.Flags = NDIS_SG_DMA_64_BIT_ADDRESS;
    dd.MaximumPhysicalMapping = MP_BUF_SIZE;
    dd.ProcessSGListHandler = MpProcessSGList;
    st = NdisMRegisterScatterGatherDma(a->handle, &dd, &a->dma);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    ULONG rl = a->ring * sizeof(loopnic_desc);
    NdisMAllocateSharedMemory(a->handle, rl, FALSE, (PVOID *)&a->tx_ring, &a->tx_ring_pa);
    NdisMAllocateSharedMemory(a->handle, rl, FALSE, (PVOID *)&a->rx_ring, &a->rx_ring_pa);
    NdisMAllocateSharedMemory(a->handle, a->ring * MP_BUF_SIZE, TRUE, (PVOID *)&a->rx_bufs,
                              &a->rx_bufs_pa);
    return a->tx_ring && a->rx_ring && a->rx_bufs ? NDIS_STATUS_SUCCESS : NDIS_STATUS_RESOURCES;
}

static NDIS_STATUS setup_rx(mp_adapter *a)
{
    NET_BUFFER_LIST_POOL_PARAMETERS pp;
    NdisZeroMemory(&pp, sizeof(pp));
    NDIS_INIT_OBJECT_HEADER(&pp.Header, NDIS_OBJECT_TYPE_DEFAULT,
                            NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
                            NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1);
    pp.ProtocolId = NDIS_PROTOCOL_ID_DEFAULT;
    pp.fAllocateNetBuffer = TRUE;
    pp.PoolTag = MP_TAG;
    a->nbl_pool = NdisAllocateNetBufferListPool(a->handle, &pp);
    if (!a->nbl_pool)
        return NDIS_STATUS_RESOURCES;
    for (ULONG i = 0; i < a->ring; i++) {
        a->rx_mdl[i] =
            NdisAllocateMdl(a->handle, a->rx_bufs + (SIZE_T)i * MP_BUF_SIZE, MP_BUF_SIZE);
        if (!a->rx_mdl[i])
            return NDIS_STATUS_RESOURCES;
        a->rx_nbl[i] =
            NdisAllocateNetBufferAndNetBufferList(a->nbl_pool, 0, 0, a->rx_mdl[i], 0, MP_BUF_SIZE);
        if (!a->rx_nbl[i])
            return NDIS_STATUS_RESOURCES;
        NET_BUFFER_LIST_MINIPORT_RESERVED(a->rx_nbl[i])[0] = (PVOID)(ULONG_PTR)i;
    }
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS MpInitializeEx(NDIS_HANDLE handle, NDIS_HANDLE drvctx,
                                  PNDIS_MINIPORT_INIT_PARAMETERS ip)
{
    UNREFERENCED_PARAMETER(drvctx);
    mp_adapter *a =
        NdisAllocateMemoryWithTagPriority(handle, sizeof(*a), MP_TAG, NormalPoolPriority);
    if (!a)
        return NDIS_STATUS_RESOURCES;
    NdisZeroMemory(a, sizeof(*a));
    a->handle = handle;
    NdisAllocateSpinLock(&a->lock);
    NDIS_STATUS st = find_resources(a, ip->AllocatedResources);
    if (st == NDIS_STATUS_SUCCESS) {
        ULONG lo = reg_rd(a, LOOPNIC_MAC_LO), hi = reg_rd(a, LOOPNIC_MAC_HI);
        for (int i = 0; i < 4; i++)
            a->mac[i] = (UCHAR)(lo >> (8 * i));
        a->mac[4] = (UCHAR)hi;
        a->mac[5] = (UCHAR)(hi >> 8);
        st = read_config(a);
    }
    if (st == NDIS_STATUS_SUCCESS && !BROKEN(BRK_NO_ATTRIBUTES))
        st = set_attributes(a);
    if (st == NDIS_STATUS_SUCCESS) {
        a->work = NdisAllocateIoWorkItem(handle);
        st = a->work ? setup_dma(a) : NDIS_STATUS_RESOURCES;
    }
    if (st == NDIS_STATUS_SUCCESS)
        st = setup_rx(a);
    if (st != NDIS_STATUS_SUCCESS) {
        free_adapter(a);
        return st;
    }
    if (BROKEN(BRK_LEAK_AT_HALT))
        a->leak = NdisAllocateMemoryWithTagPriority(handle, 64, 'kaeL', NormalPoolPriority);
    if (BROKEN(BRK_LEAK_AT_UNLOAD))
        a->leak = NdisAllocateMemoryWithTagPriority(g_driver, 64, 'kaeL', NormalPoolPriority);
    hw_start(a);
    return NDIS_STATUS_SUCCESS;
}

static void MpHaltEx(NDIS_HANDLE ctx, NDIS_HALT_ACTION action)
{
    mp_adapter *a = ctx;
    UNREFERENCED_PARAMETER(action);
    hw_stop(a);
    free_adapter(a);
}

static void MpShutdownEx(NDIS_HANDLE ctx, NDIS_SHUTDOWN_ACTION action)
{
    UNREFERENCED_PARAMETER(action);
    hw_stop(ctx);
}

static void MpDevicePnPEventNotify(NDIS_HANDLE ctx, PNET_DEVICE_PNP_EVENT ev)
{
    mp_adapter *a = ctx;
    if (ev->DevicePnPEvent != NdisDevicePnPEventSurpriseRemoved)
        return;
    /* The device is gone: sends in its rings will never finish there. */
    KIRQL old;
    KeRaiseIrql(DISPATCH_LEVEL, &old);
    NdisDprAcquireSpinLock(&a->lock);
    a->removed = TRUE;
    NdisDprReleaseSpinLock(&a->lock);
    tx_clean(a);
    KeLowerIrql(old);
}

static void MpUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
    NdisMDeregisterMiniportDriver(g_driver);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS ch;
    NdisZeroMemory(&ch, sizeof(ch));
    NDIS_INIT_OBJECT_HEADER(&ch.Header, NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS,
                            NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2,
                            NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2);
    ch.MajorNdisVersion = NDIS_MINIPORT_MAJOR_VERSION;
    ch.MinorNdisVersion = NDIS_MINIPORT_MINOR_VERSION;
    ch.MajorDriverVersion = 1;
    ch.InitializeHandlerEx = MpInitializeEx;
    ch.HaltHandlerEx = MpHaltEx;
    ch.UnloadHandler = MpUnload;
    ch.PauseHandler = MpPause;
    ch.RestartHandler = MpRestart;
    ch.OidRequestHandler = MpOidRequest;
    ch.SendNetBufferListsHandler = MpSendNetBufferLists;
    ch.ReturnNetBufferListsHandler = MpReturnNetBufferLists;
    ch.CancelSendHandler = MpCancelSend;
    ch.DevicePnPEventNotifyHandler = MpDevicePnPEventNotify;
    ch.ShutdownHandlerEx = MpShutdownEx;
    ch.CancelOidRequestHandler = MpCancelOidRequest;
    NDIS_STATUS st = NdisMRegisterMiniportDriver(DriverObject, RegistryPath, NULL, &ch, &g_driver);
    return st == NDIS_STATUS_SUCCESS ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
}
