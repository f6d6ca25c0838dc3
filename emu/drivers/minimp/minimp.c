/*
 * minimp.c - ndisemu's minimal NDIS 6.30 miniport, for the loopnic device:
 * driver and adapter lifecycle (initialize, halt, pause, restart, hang
 * check, reset, surprise removal) and OIDs. The data path (rings, sends,
 * ISR/DPC, receives) is in minimp_datapath.c; minimp.h describes the
 * adapter state and its locking.
 */
#include "minimp.h"

static NDIS_HANDLE g_driver;

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

/* The frames counted by the DPC (another CPU): read under the lock. A
 * failover driver above samples these to keep its merged counters. */
static NDIS_STATUS query_statistics(mp_adapter *a, PNDIS_OID_REQUEST r)
{
    NDIS_STATISTICS_INFO si;
    NdisZeroMemory(&si, sizeof(si));
    si.Header.Type = NDIS_OBJECT_TYPE_DEFAULT;
    si.Header.Revision = NDIS_STATISTICS_INFO_REVISION_1;
    si.Header.Size = NDIS_SIZEOF_STATISTICS_INFO_REVISION_1;
    si.SupportedStatistics = NDIS_STATISTICS_FLAGS_VALID_DIRECTED_FRAMES_RCV |
                             NDIS_STATISTICS_FLAGS_VALID_DIRECTED_FRAMES_XMIT;
    NdisAcquireSpinLock(&a->lock);
    si.ifHCInUcastPkts = a->rcv_ok;
    si.ifHCOutUcastPkts = a->xmit_ok;
    NdisReleaseSpinLock(&a->lock);
    return query_bytes(r, &si, sizeof(si));
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
    case OID_GEN_MEDIA_CONNECT_STATUS: /* the link is always up (general attributes) */
        return query_ulong(r, BROKEN(BRK_MEDIA_STATUS_WRONG_ENUM)
                                  ? (ULONG)MediaConnectStateConnected
                                  : (ULONG)NdisMediaStateConnected);
    case OID_GEN_STATISTICS:
        return query_statistics(a, r);
    case OID_GEN_XMIT_OK:
    case OID_GEN_RCV_OK: {
        /* Counted by the DPC on another CPU: read under the lock. */
        NdisAcquireSpinLock(&a->lock);
        ULONG64 v = r->DATA.QUERY_INFORMATION.Oid == OID_GEN_XMIT_OK ? a->xmit_ok : a->rcv_ok;
        NdisReleaseSpinLock(&a->lock);
        return query_bytes(r, &v, sizeof(v));
    }
    default:
        return NDIS_STATUS_NOT_SUPPORTED;
    }
}

static void set_power(mp_adapter *a, NDIS_DEVICE_POWER_STATE d)
{
    NdisAcquireSpinLock(&a->lock);
    a->low_power = d != NdisDeviceStateD0;
    if (a->low_power)
        mp_hw_stop_locked(a);
    else
        mp_hw_start_locked(a);
    NdisReleaseSpinLock(&a->lock);
    if (a->low_power && BROKEN(BRK_INDICATE_WHILE_PAUSED)) {
        /* The adapter is Paused (NDIS paused it before OID_PNP_SET_POWER). */
        NET_BUFFER_DATA_LENGTH(NET_BUFFER_LIST_FIRST_NB(a->rx_nbl[0])) = 60;
        NdisMIndicateReceiveNetBufferLists(a->handle, a->rx_nbl[0], 0, 1, 0);
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
        if (len) /* an empty list may come with no buffer at all */
            NdisMoveMemory(a->mcast, buf, len);
        a->n_mcast = len / 6;
        r->DATA.SET_INFORMATION.BytesRead = len;
        return NDIS_STATUS_SUCCESS;
    case OID_PNP_SET_POWER:
        /* NdisOidComplete: SUCCESS or NOT_ACCEPTED, nothing else */
        if (len < sizeof(NDIS_DEVICE_POWER_STATE))
            return NDIS_STATUS_NOT_ACCEPTED;
        set_power(a, *(NDIS_DEVICE_POWER_STATE *)buf);
        if (BROKEN(BRK_SET_POWER_FAILS))
            return NDIS_STATUS_DEVICE_FAILED;
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
    KIRQL old = PASSIVE_LEVEL;
    if (BROKEN(BRK_OID_COMPLETE_RAISED))
        KeRaiseIrql(HIGH_LEVEL, &old);
    NdisMOidRequestComplete(a->handle, r,
                            BROKEN(BRK_OID_COMPLETE_PENDING) ? NDIS_STATUS_PENDING : st);
    if (BROKEN(BRK_OID_COMPLETE_RAISED))
        KeLowerIrql(old);
    if (BROKEN(BRK_OID_COMPLETE_TWICE))
        NdisMOidRequestComplete(a->handle, r, st);
}

static void MpNopWork(PVOID ctx, NDIS_HANDLE wi)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(wi);
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
            /* pended, and nothing will finish it */
            if (BROKEN(BRK_OID_NEVER_COMPLETED) || BROKEN(BRK_RESET_HOLDS_OID))
                return NDIS_STATUS_PENDING;
            NdisQueueIoWorkItem(a->work, MpOidWork, a);
            if (BROKEN(BRK_WORKITEM_QUEUED_TWICE))
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

/* ---- pause / restart / hang check ---- */

static NDIS_STATUS MpPause(NDIS_HANDLE ctx, PNDIS_MINIPORT_PAUSE_PARAMETERS p)
{
    mp_adapter *a = ctx;
    UNREFERENCED_PARAMETER(p);
    if (BROKEN(BRK_PAUSE_RETURNS_FAILURE))
        return NDIS_STATUS_FAILURE;
    if (BROKEN(BRK_DPR_LOCK_AT_PASSIVE))
        NdisDprAcquireSpinLock(&a->lock); /* DISPATCH_LEVEL only; MiniportPause is PASSIVE */
    NdisAcquireSpinLock(&a->lock);
    a->running = FALSE;
    BOOLEAN idle = (a->sends_out == 0 && a->recvs_out == 0) || BROKEN(BRK_PAUSE_WITH_RECEIVES);
    a->pausing = !idle && !BROKEN(BRK_NEVER_COMPLETE_PAUSE);
    NdisReleaseSpinLock(&a->lock);
    if (BROKEN(BRK_LOCK_TWICE)) {
        NdisAcquireSpinLock(&a->lock);
        NdisAcquireSpinLock(&a->lock);
    }
    if (BROKEN(BRK_RELEASE_NOT_HELD))
        NdisReleaseSpinLock(&a->lock);
    if (BROKEN(BRK_PAUSE_COMPLETE_UNPENDED) && idle) {
        NdisMPauseComplete(a->handle); /* only for a pause that returns PENDING */
        return NDIS_STATUS_SUCCESS;
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
    if (BROKEN(BRK_WAIT_UNDER_LOCK)) {
        NDIS_EVENT ev;
        NdisInitializeEvent(&ev);
        NdisWaitEvent(&ev, 1); /* PASSIVE_LEVEL only; the lock raised us to DISPATCH */
    }
    NdisReleaseSpinLock(&a->lock);
    if (BROKEN(BRK_RESTART_COMPLETE_UNPENDED))
        NdisMRestartComplete(a->handle, NDIS_STATUS_SUCCESS); /* only after PENDING */
    if (BROKEN(BRK_MAP_IO_IN_RESTART)) {
        PVOID va; /* only MiniportInitializeEx may map */
        if (NdisMMapIoSpace(&va, a->handle, a->regs_pa, a->regs_len) == NDIS_STATUS_SUCCESS)
            NdisMUnmapIoSpace(a->handle, va, a->regs_len);
    }
    return NDIS_STATUS_SUCCESS;
}

/* Hung: loopnic stopped moving frames (its FAULT register); the broken
 * variant claims it once without cause. */
static BOOLEAN MpCheckForHang(NDIS_HANDLE ctx)
{
    mp_adapter *a = ctx;
    if (BROKEN(BRK_RESET_COMPLETE_UNPENDED) && !a->hang_once) {
        a->hang_once = TRUE;
        return TRUE;
    }
    ULONG fault = a->removed ? 0 : mp_reg_rd(a, LOOPNIC_FAULT);
    return fault != 0xFFFFFFFFu && (fault & 1) != 0; /* all ones: the device is gone */
}

/* The device restart takes a while (a NIC whose link renegotiates needs
 * seconds): the reset completes from a timer. What the TX ring held when
 * it began completes aborted at once (NDIS 6.30: nothing is held across a
 * reset), and sends meanwhile fail; the broken variant keeps them in the
 * ring and restarts the device where it stopped. */
#define MP_RESET_MS       2500
#define MP_RESET_RETRY_MS 1

static void reset_timer_set(mp_adapter *a, LONG ms)
{
    LARGE_INTEGER due;
    due.QuadPart = -(LONGLONG)ms * 10000;
    NdisSetTimerObject(a->reset_timer, due, 0, NULL);
}

static void MpResetTimer(PVOID s1, PVOID ctx, PVOID s2, PVOID s3)
{
    mp_adapter *a = ctx;
    UNREFERENCED_PARAMETER(s1);
    UNREFERENCED_PARAMETER(s2);
    UNREFERENCED_PARAMETER(s3);
    if (BROKEN(BRK_RESET_HOLDS_SENDS)) {
        NdisDprAcquireSpinLock(&a->lock);
        if (!a->removed)
            mp_reg_wr(a, LOOPNIC_FAULT, 1); /* resumes where it stopped */
        NdisDprReleaseSpinLock(&a->lock);
    } else if (!mp_reset_end(a)) {
        reset_timer_set(a, MP_RESET_RETRY_MS);
        return;
    }
    NdisMResetComplete(a->handle, NDIS_STATUS_SUCCESS, FALSE);
}

static NDIS_STATUS MpReset(NDIS_HANDLE ctx, PBOOLEAN addressing_reset)
{
    mp_adapter *a = ctx;
    *addressing_reset = FALSE;
    if (BROKEN(BRK_RESET_COMPLETE_UNPENDED)) {
        NdisMResetComplete(a->handle, NDIS_STATUS_SUCCESS, FALSE); /* only after PENDING */
        return NDIS_STATUS_SUCCESS;
    }
    if (BROKEN(BRK_RESET_SELF_INDICATED))
        mp_indicate_bare_status(a, NDIS_STATUS_RESET_START); /* NDIS already did */
    if (!BROKEN(BRK_RESET_HOLDS_SENDS))
        mp_reset_begin(a);
    reset_timer_set(a, MP_RESET_MS);
    return NDIS_STATUS_PENDING;
}

/* ---- initialize / halt ---- */

/* Interrupts first: once NdisMDeregisterInterruptEx returns no ISR or DPC
 * runs, so nothing below races with one. */
static void free_adapter(mp_adapter *a)
{
    if (a->intr)
        NdisMDeregisterInterruptEx(a->intr);
    if (a->timer) {
        if (BROKEN(BRK_TIMER_FREE_WHILE_SET)) {
            LARGE_INTEGER due;
            due.QuadPart = -10000000; /* set, then freed without a cancel */
            NdisSetTimerObject(a->timer, due, 0, NULL);
        } else if (BROKEN(BRK_TIMER_CANCEL_MISSED)) {
            /* Due at once, cancelled until a cancel misses the expiry (its
             * DPC already queued), then freed without waiting for the
             * callback that is still to run. */
            LARGE_INTEGER now;
            now.QuadPart = 0;
            for (int i = 0; i < 64; i++) {
                NdisSetTimerObject(a->timer, now, 0, NULL);
                if (!NdisCancelTimerObject(a->timer))
                    break;
            }
        } else {
            NdisCancelTimerObject(a->timer);
        }
        NdisFreeTimerObject(a->timer);
    }
    if (a->reset_timer) {
        /* NDIS halts no adapter while its reset is pended: not set now. */
        NdisCancelTimerObject(a->reset_timer);
        NdisFreeTimerObject(a->reset_timer);
    }
#ifdef MINIMP_SINK
    mp_sink_free(a);
#endif
    for (ULONG i = 0; i < a->ring; i++) {
        if (a->rx_nbl[i])
            NdisFreeNetBufferList(a->rx_nbl[i]);
        if (a->rx_mdl[i])
            NdisFreeMdl(a->rx_mdl[i]);
    }
    if (a->nbl_pool)
        NdisFreeNetBufferListPool(a->nbl_pool);
    if (a->dma)
        NdisMDeregisterScatterGatherDma(a->dma);
    if (a->rx_bufs)
        NdisMFreeSharedMemory(a->handle, a->ring * MP_BUF_SIZE, TRUE, a->rx_bufs, a->rx_bufs_pa);
    if (a->rx_ring)
        NdisMFreeSharedMemory(a->handle, a->ring * sizeof(loopnic_desc), FALSE, a->rx_ring,
                              a->rx_ring_pa);
    if (a->tx_ring)
        NdisMFreeSharedMemory(a->handle, a->ring * sizeof(loopnic_desc), FALSE, a->tx_ring,
                              a->tx_ring_pa);
    if (a->work) {
        if (BROKEN(BRK_WORKITEM_FREE_WHILE_QUEUED))
            NdisQueueIoWorkItem(a->work, MpNopWork, a);
        NdisFreeIoWorkItem(a->work);
    }
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
    NU_INIT_HEADER(&co.Header, NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT,
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
    NU_INIT_HEADER(&ra.Header, NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
                   NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1,
                   NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1);
    ra.MiniportAdapterContext = a;
    ra.AttributeFlags = NDIS_MINIPORT_ATTRIBUTES_HARDWARE_DEVICE |
                        NDIS_MINIPORT_ATTRIBUTES_BUS_MASTER |
                        NDIS_MINIPORT_ATTRIBUTES_SURPRISE_REMOVE_OK;
    ra.InterfaceType = NdisInterfacePci;
    ra.CheckForHangTimeInSeconds = 1;
    NDIS_STATUS st = NdisMSetMiniportAttributes(a->handle, (PNDIS_MINIPORT_ADAPTER_ATTRIBUTES)&ra);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES ga;
    NdisZeroMemory(&ga, sizeof(ga));
    NU_INIT_HEADER(&ga.Header, NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
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

static NDIS_STATUS register_interrupt(mp_adapter *a)
{
    NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS ic;
    NdisZeroMemory(&ic, sizeof(ic));
    NU_INIT_HEADER(&ic.Header, NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT,
                   NDIS_MINIPORT_INTERRUPT_REVISION_1,
                   NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1);
    ic.MsiSupported = TRUE;
    ic.MessageInterruptHandler = MpMessageIsr;
    ic.MessageInterruptDpcHandler = MpMessageDpc;
    if (BROKEN(BRK_REGISTER_INTR_UNDER_LOCK))
        NdisAcquireSpinLock(&a->lock);
    NDIS_STATUS st = NdisMRegisterInterruptEx(a->handle, a, &ic, &a->intr);
    if (BROKEN(BRK_REGISTER_INTR_UNDER_LOCK))
        NdisReleaseSpinLock(&a->lock);
    return st;
}

static NDIS_STATUS setup_dma(mp_adapter *a)
{
    NDIS_STATUS st = register_interrupt(a);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    NDIS_SG_DMA_DESCRIPTION dd;
    NdisZeroMemory(&dd, sizeof(dd));
    NU_INIT_HEADER(&dd.Header, NDIS_OBJECT_TYPE_SG_DMA_DESCRIPTION,
                   NDIS_SG_DMA_DESCRIPTION_REVISION_1, NDIS_SIZEOF_SG_DMA_DESCRIPTION_REVISION_1);
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
    if (a->tx_ring && a->rx_ring && a->rx_bufs)
        return NDIS_STATUS_SUCCESS;
    if (!BROKEN(BRK_SHARED_FAIL_UNLOGGED)) /* WriteErrorLog */
        NdisWriteErrorLogEntry(a->handle, NDIS_ERROR_CODE_OUT_OF_RESOURCES, 1, rl);
    return NDIS_STATUS_RESOURCES;
}

static NDIS_STATUS setup_rx(mp_adapter *a)
{
    NET_BUFFER_LIST_POOL_PARAMETERS pp;
    NdisZeroMemory(&pp, sizeof(pp));
    NU_INIT_HEADER(&pp.Header, NDIS_OBJECT_TYPE_DEFAULT, NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
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

static void MpTimer(PVOID s1, PVOID ctx, PVOID s2, PVOID s3)
{
    UNREFERENCED_PARAMETER(s1);
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(s2);
    UNREFERENCED_PARAMETER(s3);
}

static NDIS_STATUS alloc_timer(mp_adapter *a, PNDIS_TIMER_FUNCTION fn, NDIS_HANDLE *out)
{
    NDIS_TIMER_CHARACTERISTICS tc;
    NdisZeroMemory(&tc, sizeof(tc));
    NU_INIT_HEADER(&tc.Header, NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS,
                   NDIS_TIMER_CHARACTERISTICS_REVISION_1,
                   NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1);
    tc.AllocationTag = MP_TAG;
    tc.TimerFunction = fn;
    tc.FunctionContext = a;
    return NdisAllocateTimerObject(a->handle, &tc, out);
}

/* The reset's timer; only the variants that misuse a timer have the other. */
static NDIS_STATUS setup_timer(mp_adapter *a)
{
    NDIS_STATUS st = alloc_timer(a, MpResetTimer, &a->reset_timer);
    if (st != NDIS_STATUS_SUCCESS ||
        (!BROKEN(BRK_TIMER_IN_ISR) && !BROKEN(BRK_TIMER_FREE_WHILE_SET) &&
         !BROKEN(BRK_TIMER_CANCEL_MISSED)))
        return st;
    return alloc_timer(a, MpTimer, &a->timer);
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
    if (BROKEN(BRK_ALLOC_WITHOUT_TAG))
        a->leak = NdisAllocateMemoryWithTagPriority(handle, 64, 0, NormalPoolPriority);
    NdisAllocateSpinLock(&a->lock);
    NDIS_STATUS st = find_resources(a, ip->AllocatedResources);
    if (st == NDIS_STATUS_SUCCESS) {
        ULONG lo = mp_reg_rd(a, LOOPNIC_MAC_LO), hi = mp_reg_rd(a, LOOPNIC_MAC_HI);
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
#ifdef MINIMP_SINK
    if (st == NDIS_STATUS_SUCCESS)
        st = mp_sink_init(a);
#endif
    if (st == NDIS_STATUS_SUCCESS)
        st = setup_timer(a);
    if (st != NDIS_STATUS_SUCCESS) {
        free_adapter(a);
        return st;
    }
    if (BROKEN(BRK_LEAK_AT_FAILED_INIT))
        return NDIS_STATUS_FAILURE; /* with all of it still allocated */
    if (BROKEN(BRK_LEAK_AT_HALT))
        a->leak = NdisAllocateMemoryWithTagPriority(handle, 64, 'kaeL', NormalPoolPriority);
    if (BROKEN(BRK_LEAK_AT_UNLOAD))
        a->leak = NdisAllocateMemoryWithTagPriority(g_driver, 64, 'kaeL', NormalPoolPriority);
    NdisAcquireSpinLock(&a->lock);
    mp_hw_start_locked(a);
    NdisReleaseSpinLock(&a->lock);
    return NDIS_STATUS_SUCCESS;
}

#if DRIVER_BREAK == BRK_LOCK_ORDER || DRIVER_BREAK == BRK_LOCK_CONTRACT
#include "ndisemu/emu_checks.h"
/* Two paths that take two locks in opposite orders (an AB-BA deadlock on
 * two CPUs), or a "called with the lock held" helper called without it. */
static NDIS_SPIN_LOCK g_lock_a, g_lock_b;
static void break_locks(void)
{
    NdisAllocateSpinLock(&g_lock_a);
    NdisAllocateSpinLock(&g_lock_b);
    if (BROKEN(BRK_LOCK_CONTRACT)) {
        EmuCheckSpinLockHeld(&g_lock_a, "minimp contract (lock a held)");
        return;
    }
    NdisAcquireSpinLock(&g_lock_a);
    NdisDprAcquireSpinLock(&g_lock_b);
    NdisDprReleaseSpinLock(&g_lock_b);
    NdisReleaseSpinLock(&g_lock_a);
    NdisAcquireSpinLock(&g_lock_b);
    NdisDprAcquireSpinLock(&g_lock_a);
    NdisDprReleaseSpinLock(&g_lock_a);
    NdisReleaseSpinLock(&g_lock_b);
}
#else
static void break_locks(void)
{
}
#endif

static void MpHaltEx(NDIS_HANDLE ctx, NDIS_HALT_ACTION action)
{
    mp_adapter *a = ctx;
    UNREFERENCED_PARAMETER(action);
    break_locks();
    NdisAcquireSpinLock(&a->lock);
    mp_hw_stop_locked(a);
    NdisReleaseSpinLock(&a->lock);
    free_adapter(a);
}

/* May run at any IRQL (bug check): no locks, just stop the device. */
static void MpShutdownEx(NDIS_HANDLE ctx, NDIS_SHUTDOWN_ACTION action)
{
    UNREFERENCED_PARAMETER(action);
    if (!BROKEN(BRK_DMA_AFTER_SHUTDOWN))
        mp_reg_wr(ctx, LOOPNIC_CTRL, 0); /* the NIC stops: no more DMA */
    if (BROKEN(BRK_FREE_SHARED_IN_SHUTDOWN)) {
        mp_adapter *a = ctx; /* halt frees it; shutdown must not */
        NdisMFreeSharedMemory(a->handle, a->ring * MP_BUF_SIZE, TRUE, a->rx_bufs, a->rx_bufs_pa);
    }
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
    mp_tx_clean(a);
    KeLowerIrql(old);
}

#if DRIVER_BREAK == BRK_DEVICE_OBJECT_KEPT
/* A control device for the driver's lifetime (registered in DriverEntry,
 * deregistered at unload): it keeps the driver from ever unloading. */
static NDIS_HANDLE g_dev_handle;
static NTSTATUS MpDevDispatch(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    irp->IoStatus.Status = STATUS_SUCCESS;
    irp->IoStatus.Information = 0;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return STATUS_SUCCESS;
}
static void register_device(void)
{
    static PDRIVER_DISPATCH major[IRP_MJ_MAXIMUM_FUNCTION + 1];
    static NDIS_STRING name = NDIS_STRING_CONST("\\Device\\MinimpBroken");
    NDIS_DEVICE_OBJECT_ATTRIBUTES da;
    PDEVICE_OBJECT dev;
    major[IRP_MJ_CREATE] = MpDevDispatch;
    major[IRP_MJ_CLOSE] = MpDevDispatch;
    NdisZeroMemory(&da, sizeof(da));
    NU_INIT_HEADER(&da.Header, NDIS_OBJECT_TYPE_DEVICE_OBJECT_ATTRIBUTES,
                   NDIS_DEVICE_OBJECT_ATTRIBUTES_REVISION_1,
                   NDIS_SIZEOF_DEVICE_OBJECT_ATTRIBUTES_REVISION_1);
    da.DeviceName = &name;
    da.MajorFunctions = major;
    NdisRegisterDeviceEx(g_driver, &da, &dev, &g_dev_handle);
}
#endif

#if DRIVER_BREAK >= BRK_LOOKASIDE_NOT_DELETED && DRIVER_BREAK <= BRK_KE_RELEASE_NOT_HELD
/* The kernel services' contracts (codes 120-128): lookaside lists, KDPCs,
 * executive spin locks. */
static NPAGED_LOOKASIDE_LIST g_brk_la;
static KDPC g_brk_dpc;
static KSPIN_LOCK g_brk_lock[2];

static void brk_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    UNREFERENCED_PARAMETER(Context);
    UNREFERENCED_PARAMETER(Arg1);
    UNREFERENCED_PARAMETER(Arg2);
}

static void kernel_breaks_at_entry(void)
{
    KIRQL old;
    if (BROKEN(BRK_LOOKASIDE_NOT_DELETED) || BROKEN(BRK_LOOKASIDE_INIT_TWICE))
        NdisInitializeNPagedLookasideList(&g_brk_la, NULL, NULL, 0, 64, 'aLpM', 0);
    if (BROKEN(BRK_LOOKASIDE_INIT_TWICE))
        NdisInitializeNPagedLookasideList(&g_brk_la, NULL, NULL, 0, 64, 'aLpM', 0);
    if (BROKEN(BRK_DPC_NOT_INITIALIZED))
        KeInsertQueueDpc(&g_brk_dpc, NULL, NULL);
    if (BROKEN(BRK_DPC_REINIT_QUEUED)) {
        KeInitializeDpc(&g_brk_dpc, brk_dpc, NULL);
        KeInsertQueueDpc(&g_brk_dpc, NULL, NULL);
        KeInitializeDpc(&g_brk_dpc, brk_dpc, NULL);
    }
    if (BROKEN(BRK_LOOKASIDE_USE_AFTER_DELETE)) {
        NdisInitializeNPagedLookasideList(&g_brk_la, NULL, NULL, 0, 64, 'aLpM', 0);
        NdisDeleteNPagedLookasideList(&g_brk_la);
        PVOID p = NdisAllocateFromNPagedLookasideList(&g_brk_la);
        UNREFERENCED_PARAMETER(p);
    }
    if (BROKEN(BRK_LOOKASIDE_NOT_INITIALIZED))
        NdisDeleteNPagedLookasideList(&g_brk_la);
    if (BROKEN(BRK_FLUSH_DPCS_AT_DISPATCH)) {
        KeInitializeSpinLock(&g_brk_lock[0]);
        KeAcquireSpinLock(&g_brk_lock[0], &old);
        KeFlushQueuedDpcs();
        KeReleaseSpinLock(&g_brk_lock[0], old);
    }
    if (BROKEN(BRK_KE_RELEASE_NOT_HELD)) {
        KeInitializeSpinLock(&g_brk_lock[0]);
        KeInitializeSpinLock(&g_brk_lock[1]);
        KeAcquireSpinLock(&g_brk_lock[0], &old);
        KeReleaseSpinLock(&g_brk_lock[1], old);
    }
}
#endif

static void MpUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
#if DRIVER_BREAK == BRK_DPC_QUEUED_AT_UNLOAD
    KeInitializeDpc(&g_brk_dpc, brk_dpc, NULL);
    KeInsertQueueDpc(&g_brk_dpc, NULL, NULL);
#endif
#if DRIVER_BREAK == BRK_DEVICE_OBJECT_KEPT
    if (g_dev_handle)
        NdisDeregisterDeviceEx(g_dev_handle);
#endif
    NdisMDeregisterMiniportDriver(g_driver);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS ch;
    NdisZeroMemory(&ch, sizeof(ch));
    NU_INIT_HEADER(&ch.Header, NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS,
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
    ch.CheckForHangHandlerEx = MpCheckForHang;
    if (!BROKEN(BRK_HANG_CHECK_WITHOUT_RESET))
        ch.ResetHandlerEx = MpReset;
    NDIS_STATUS st = NdisMRegisterMiniportDriver(DriverObject, RegistryPath, NULL, &ch, &g_driver);
#if DRIVER_BREAK >= BRK_LOOKASIDE_NOT_DELETED && DRIVER_BREAK <= BRK_KE_RELEASE_NOT_HELD
    if (st == NDIS_STATUS_SUCCESS)
        kernel_breaks_at_entry();
#endif
#if DRIVER_BREAK == BRK_DEVICE_OBJECT_KEPT
    if (st == NDIS_STATUS_SUCCESS)
        register_device();
#endif
    return st == NDIS_STATUS_SUCCESS ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
}
