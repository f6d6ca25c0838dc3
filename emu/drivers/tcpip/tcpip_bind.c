/*
 * tcpip_bind.c - the TCP/IP stand-in's bindings: bind/open, the OID
 * sequence tcpip.sys runs on a new binding, pause/restart, status
 * indications (link), unbind/close, and the route choice among bindings.
 */
#include "tcpip_int.h"

enum {
    OID_STEP_MEDIA, /* a query, as older stacks make: the verifier checks the answer */
    OID_STEP_LOOKAHEAD,
    OID_STEP_MULTICAST,
    OID_STEP_FILTER,
    OID_STEP_ADDRESSES,
    OID_STEPS
};

static tcpip_adapter_stats *adapter_of(tc_binding *b)
{
    return &g_tc.stats.adapter[b->adapter];
}

/* The stats slot for an adapter name (kept across unbind and rebind). */
static ULONG adapter_slot(PNDIS_STRING name)
{
    char ascii[TCPIP_NAME_LEN];
    ULONG n = 0, skip = 0;
    ULONG chars = name ? name->Length / sizeof(WCHAR) : 0;
    /* "\DEVICE\vf0" -> "vf0" */
    for (ULONG i = 0; i < chars; i++) {
        if (name->Buffer[i] == L'\\')
            skip = i + 1;
    }
    for (ULONG i = skip; i < chars && n + 1 < sizeof(ascii); i++)
        ascii[n++] = (char)name->Buffer[i];
    ascii[n] = 0;
    tcpip_stats *s = &g_tc.stats;
    for (ULONG i = 0; i < s->n_adapters; i++) {
        if (strcmp(s->adapter[i].name, ascii) == 0)
            return i;
    }
    if (s->n_adapters == TCPIP_MAX_ADAPTERS)
        return TCPIP_MAX_ADAPTERS;
    NdisZeroMemory(&s->adapter[s->n_adapters], sizeof(s->adapter[0]));
    NdisMoveMemory(s->adapter[s->n_adapters].name, ascii, n + 1);
    return s->n_adapters++;
}

/* ---- the OID sequence ---- */

static ULONG build_addresses(UCHAR *buf)
{
    /* NETWORK_ADDRESS_LIST with one NETWORK_ADDRESS holding a NETWORK_ADDRESS_IP. */
    NETWORK_ADDRESS_LIST *l = (NETWORK_ADDRESS_LIST *)buf;
    NETWORK_ADDRESS_IP ip;
    NdisZeroMemory(&ip, sizeof(ip));
    ULONG a = g_tc.cfg.ip;
    UCHAR be[4] = { (UCHAR)(a >> 24), (UCHAR)(a >> 16), (UCHAR)(a >> 8), (UCHAR)a };
    NdisMoveMemory(&ip.in_addr, be, 4);
    l->AddressCount = 1;
    l->AddressType = NDIS_PROTOCOL_ID_TCP_IP;
    l->Address[0].AddressLength = (USHORT)sizeof(ip);
    l->Address[0].AddressType = NDIS_PROTOCOL_ID_TCP_IP;
    NdisMoveMemory(l->Address[0].Address, &ip, sizeof(ip));
    return (ULONG)(FIELD_OFFSET(NETWORK_ADDRESS_LIST, Address) +
                   FIELD_OFFSET(NETWORK_ADDRESS, Address) + sizeof(ip));
}

static ULONG build_multicast(tc_binding *b, UCHAR *buf)
{
    const UCHAR *mac = adapter_of(b)->mac;
    static const UCHAR fixed[3][6] = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
                                       { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfc },
                                       { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 } };
    NdisMoveMemory(buf, fixed, sizeof(fixed));
    UCHAR sol[6] = { 0x33, 0x33, 0xff, mac[3], mac[4], mac[5] }; /* IPv6 solicited-node */
    NdisMoveMemory(buf + sizeof(fixed), sol, 6);
    return sizeof(fixed) + 6;
}

/* Fills b->oid for a step; returns FALSE when the step does not apply. */
static BOOLEAN prepare_oid(tc_binding *b, ULONG step)
{
    NDIS_OID oid;
    ULONG len;
    NDIS_REQUEST_TYPE type = NdisRequestSetInformation;
    switch (step) {
    case OID_STEP_MEDIA:
        oid = OID_GEN_MEDIA_CONNECT_STATUS;
        type = NdisRequestQueryInformation;
        len = sizeof(ULONG);
        break;
    case OID_STEP_LOOKAHEAD:
        oid = OID_GEN_CURRENT_LOOKAHEAD;
        *(ULONG *)b->oid_buf = 1500;
        len = sizeof(ULONG);
        break;
    case OID_STEP_MULTICAST:
        oid = OID_802_3_MULTICAST_LIST;
        len = build_multicast(b, b->oid_buf);
        break;
    case OID_STEP_FILTER:
        oid = OID_GEN_CURRENT_PACKET_FILTER;
        *(ULONG *)b->oid_buf =
            NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_MULTICAST | NDIS_PACKET_TYPE_BROADCAST;
        len = sizeof(ULONG);
        break;
    case OID_STEP_ADDRESSES:
        if (!g_tc.configured)
            return FALSE;
        oid = OID_GEN_NETWORK_LAYER_ADDRESSES;
        len = build_addresses(b->oid_buf);
        break;
    default:
        return FALSE;
    }
    NdisZeroMemory(&b->oid, sizeof(b->oid));
    NU_INIT_HEADER(&b->oid.Header, NDIS_OBJECT_TYPE_OID_REQUEST, NDIS_OID_REQUEST_REVISION_1,
                   NDIS_SIZEOF_OID_REQUEST_REVISION_1);
    /* QUERY_INFORMATION and SET_INFORMATION share Oid, buffer and length. */
    b->oid.RequestType = type;
    b->oid.DATA.SET_INFORMATION.Oid = oid;
    b->oid.DATA.SET_INFORMATION.InformationBuffer = b->oid_buf;
    b->oid.DATA.SET_INFORMATION.InformationBufferLength = len;
    return TRUE;
}

static void oid_result(tc_binding *b, NDIS_STATUS st)
{
    tcpip_adapter_stats *as = adapter_of(b);
    if (b->oid.DATA.SET_INFORMATION.Oid == OID_GEN_MEDIA_CONNECT_STATUS)
        return; /* optional for an NDIS 6 miniport (NDIS answers it then) */
    if (st != NDIS_STATUS_SUCCESS) {
        as->oid_failures++;
        as->last_oid_failed = b->oid.DATA.SET_INFORMATION.Oid;
    } else if (b->oid.DATA.SET_INFORMATION.Oid == OID_GEN_CURRENT_PACKET_FILTER) {
        as->packet_filter = *(ULONG *)b->oid_buf;
    }
}

/* Runs the sequence from b->oid_step until an OID pends or all are done;
 * then the binding is configured and announces itself. */
static void run_oids(tc_binding *b)
{
    for (;;) {
        ULONG step = b->oid_step;
        if (step >= OID_STEPS) {
            NdisAcquireSpinLock(&g_tc.lock);
            adapter_of(b)->configured = 1;
            NdisReleaseSpinLock(&g_tc.lock);
            NdisSetEvent(&b->oid_idle);
            tc_send_garp(b);
            return;
        }
        if (!prepare_oid(b, step)) {
            b->oid_step++;
            continue;
        }
        NDIS_STATUS st = NdisOidRequest(b->handle, &b->oid);
        if (st == NDIS_STATUS_PENDING)
            return;
        oid_result(b, st);
        b->oid_step++;
    }
}

static void PtOidComplete(NDIS_HANDLE ctx, PNDIS_OID_REQUEST r, NDIS_STATUS st)
{
    tc_binding *b = ctx;
    UNREFERENCED_PARAMETER(r);
    oid_result(b, st);
    b->oid_step++;
    run_oids(b);
}

static void OidWork(PVOID ctx, NDIS_HANDLE wi)
{
    UNREFERENCED_PARAMETER(wi);
    run_oids(ctx);
}

/* Once per binding, after its first restart has returned (so the
 * announcement at the end goes out on a running binding). */
static void start_oids(tc_binding *b)
{
    if (b->oids_started || !b->work)
        return;
    b->oids_started = TRUE;
    b->oid_step = 0;
    NdisResetEvent(&b->oid_idle);
    NdisQueueIoWorkItem(b->work, OidWork, b);
}

/* ---- bind / unbind ---- */

static NDIS_STATUS open_pool(tc_binding *b)
{
    NET_BUFFER_LIST_POOL_PARAMETERS pp;
    NdisZeroMemory(&pp, sizeof(pp));
    NU_INIT_HEADER(&pp.Header, NDIS_OBJECT_TYPE_DEFAULT, NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
                   NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1);
    pp.ProtocolId = NDIS_PROTOCOL_ID_TCP_IP;
    pp.fAllocateNetBuffer = TRUE;
    pp.PoolTag = TC_TAG;
    pp.DataSize = TC_FRAME_MAX;
    /* Pools from the protocol handle ("Obtaining Pool Handles"). */
    b->pool = NdisAllocateNetBufferListPool(g_tc.proto, &pp);
    pp.DataSize = 0; /* NBLs over MDL chains of our own (tcpip_shape.c) */
    b->chain_pool = NdisAllocateNetBufferListPool(g_tc.proto, &pp);
    return b->pool && b->chain_pool ? NDIS_STATUS_SUCCESS : NDIS_STATUS_RESOURCES;
}

static void bind_finished(tc_binding *b, NDIS_STATUS st)
{
    if (st == NDIS_STATUS_SUCCESS)
        st = open_pool(b);
    if (st == NDIS_STATUS_SUCCESS) {
        /* Not the binding's handle: NDIS associates no driver object with
         * a protocol's handles. The generic object carries one. */
        b->work = NdisAllocateIoWorkItem(g_tc.obj);
        b->pause_work = NdisAllocateIoWorkItem(g_tc.obj);
        if (!b->work || !b->pause_work)
            st = NDIS_STATUS_RESOURCES;
    }
    NdisAcquireSpinLock(&g_tc.lock);
    if (st == NDIS_STATUS_SUCCESS) {
        adapter_of(b)->bound = 1;
        adapter_of(b)->binds++;
        adapter_of(b)->bound_ns = tc_now_ns();
    } else {
        b->in_use = FALSE;
    }
    NdisReleaseSpinLock(&g_tc.lock);
}

static void PtOpenAdapterComplete(NDIS_HANDLE ctx, NDIS_STATUS status)
{
    tc_binding *b = ctx;
    bind_finished(b, status);
    NdisCompleteBindAdapterEx(b->bind_ctx, status == NDIS_STATUS_SUCCESS && b->in_use
                                               ? NDIS_STATUS_SUCCESS
                                               : NDIS_STATUS_FAILURE);
}

/* Lock held. The offloads TCP/IP may use: at bind, then as the miniport
 * indicates changes (NDIS_STATUS_TASK_OFFLOAD_CURRENT_CONFIG). */
static void note_offload(tcpip_adapter_stats *as, const NDIS_OFFLOAD *o)
{
    as->csum_tx_tcp4 = o && o->Checksum.IPv4Transmit.TcpChecksum;
    as->lso_v2_ip4 = o && o->LsoV2.IPv4.MaxOffLoadSize != 0;
    as->lso_v2_ip6 = o && o->LsoV2.IPv6.MaxOffLoadSize != 0;
}

static tc_binding *claim_binding(PNDIS_BIND_PARAMETERS bp)
{
    tc_binding *b = NULL;
    NdisAcquireSpinLock(&g_tc.lock);
    ULONG slot = adapter_slot(bp->AdapterName);
    for (int i = 0; i < TC_MAX_BINDINGS && !b && slot < TCPIP_MAX_ADAPTERS; i++) {
        if (!g_tc.bind[i].in_use)
            b = &g_tc.bind[i];
    }
    if (b) {
        NdisZeroMemory(b, sizeof(*b));
        b->in_use = TRUE;
        b->adapter = slot;
        b->bind_seq = g_tc.next_bind_seq++;
        tcpip_adapter_stats *as = adapter_of(b);
        NdisMoveMemory(as->mac, bp->CurrentMacAddress, 6);
        as->link_speed = bp->XmitLinkSpeed;
        as->media_connected = bp->MediaConnectState == MediaConnectStateConnected;
        note_offload(as, bp->DefaultOffloadConfiguration);
        as->rss_queues =
            bp->RcvScaleCapabilities ? (UCHAR)bp->RcvScaleCapabilities->NumberOfReceiveQueues : 0;
    }
    NdisReleaseSpinLock(&g_tc.lock);
    return b;
}

static NDIS_STATUS PtBindAdapter(NDIS_HANDLE drvctx, NDIS_HANDLE bind_ctx, PNDIS_BIND_PARAMETERS bp)
{
    UNREFERENCED_PARAMETER(drvctx);
    if (bp->MediaType != NdisMedium802_3)
        return NDIS_STATUS_UNSUPPORTED_MEDIA;
    tc_binding *b = claim_binding(bp);
    if (!b)
        return NDIS_STATUS_RESOURCES;
    b->bind_ctx = bind_ctx;
    NdisInitializeEvent(&b->oid_idle);
    NdisSetEvent(&b->oid_idle);
    NDIS_MEDIUM media[1] = { NdisMedium802_3 };
    NDIS_OPEN_PARAMETERS op;
    NdisZeroMemory(&op, sizeof(op));
    NU_INIT_HEADER(&op.Header, NDIS_OBJECT_TYPE_OPEN_PARAMETERS, NDIS_OPEN_PARAMETERS_REVISION_1,
                   NDIS_SIZEOF_OPEN_PARAMETERS_REVISION_1);
    op.AdapterName = bp->AdapterName;
    op.MediumArray = media;
    op.MediumArraySize = 1;
    op.SelectedMediumIndex = &b->medium;
    NDIS_STATUS st = NdisOpenAdapterEx(g_tc.proto, b, &op, bind_ctx, &b->handle);
    if (st == NDIS_STATUS_PENDING)
        return NDIS_STATUS_PENDING;
    bind_finished(b, st);
    return b->in_use ? NDIS_STATUS_SUCCESS : NDIS_STATUS_FAILURE;
}

static void closed(tc_binding *b)
{
    NdisAcquireSpinLock(&g_tc.lock);
    adapter_of(b)->bound = 0;
    adapter_of(b)->running = 0;
    adapter_of(b)->configured = 0;
    adapter_of(b)->unbinds++;
    adapter_of(b)->unbound_ns = tc_now_ns();
    b->in_use = FALSE;
    NdisReleaseSpinLock(&g_tc.lock);
}

static void PtCloseAdapterComplete(NDIS_HANDLE ctx)
{
    tc_binding *b = ctx;
    NDIS_HANDLE u = b->unbind_ctx;
    closed(b);
    NdisCompleteUnbindAdapterEx(u);
}

static NDIS_STATUS PtUnbindAdapter(NDIS_HANDLE unbind_ctx, NDIS_HANDLE ctx)
{
    tc_binding *b = ctx;
    b->unbind_ctx = unbind_ctx;
    NdisWaitEvent(&b->oid_idle, 0); /* no OID of ours may be pending at close */
    if (b->work)
        NdisFreeIoWorkItem(b->work);
    if (b->pause_work)
        NdisFreeIoWorkItem(b->pause_work);
    b->work = b->pause_work = NULL;
    if (b->pool)
        NdisFreeNetBufferListPool(b->pool);
    if (b->chain_pool)
        NdisFreeNetBufferListPool(b->chain_pool);
    b->pool = b->chain_pool = NULL;
    NDIS_STATUS st = NdisCloseAdapterEx(b->handle);
    if (st == NDIS_STATUS_PENDING)
        return NDIS_STATUS_PENDING;
    closed(b);
    return NDIS_STATUS_SUCCESS;
}

/* ---- PnP and status ---- */

static NDIS_STATUS pause_binding(tc_binding *b, PNET_PNP_EVENT_NOTIFICATION n)
{
    NdisAcquireSpinLock(&g_tc.lock);
    b->running = FALSE;
    adapter_of(b)->running = 0;
    BOOLEAN idle = b->sends_out == 0;
    if (!idle) {
        b->pausing = TRUE;
        b->pause_event = n;
    }
    NdisReleaseSpinLock(&g_tc.lock);
    return idle ? NDIS_STATUS_SUCCESS : NDIS_STATUS_PENDING;
}

static NDIS_STATUS PtNetPnPEvent(NDIS_HANDLE ctx, PNET_PNP_EVENT_NOTIFICATION n)
{
    tc_binding *b = ctx;
    switch (n->NetPnPEvent.NetEvent) {
    case NetEventPause:
        return pause_binding(b, n);
    case NetEventRestart:
        NdisAcquireSpinLock(&g_tc.lock);
        b->running = TRUE;
        adapter_of(b)->running = 1;
        NdisReleaseSpinLock(&g_tc.lock);
        start_oids(b);
        return NDIS_STATUS_SUCCESS;
    default:
        return NDIS_STATUS_SUCCESS;
    }
}

static void PtStatus(NDIS_HANDLE ctx, PNDIS_STATUS_INDICATION s)
{
    tc_binding *b = ctx;
    NdisAcquireSpinLock(&g_tc.lock);
    tcpip_adapter_stats *as = adapter_of(b);
    as->status_indications++;
    if (s->StatusCode == NDIS_STATUS_LINK_STATE && s->StatusBuffer &&
        s->StatusBufferSize >= sizeof(NDIS_LINK_STATE)) {
        const NDIS_LINK_STATE *ls = s->StatusBuffer;
        BOOLEAN up = ls->MediaConnectState == MediaConnectStateConnected;
        if (up)
            as->link_ups++;
        else
            as->link_downs++;
        as->media_connected = up;
        if (up)
            as->link_speed = ls->XmitLinkSpeed;
    } else if (s->StatusCode == NDIS_STATUS_TASK_OFFLOAD_CURRENT_CONFIG && s->StatusBuffer &&
               s->StatusBufferSize >= sizeof(NDIS_OFFLOAD)) {
        note_offload(as, s->StatusBuffer);
        as->offload_changes++;
    }
    NdisReleaseSpinLock(&g_tc.lock);
}

/* Lock held. Automatic metric: the fastest connected running binding. */
tc_binding *tc_route(void)
{
    tc_binding *best = NULL;
    for (int i = 0; i < TC_MAX_BINDINGS; i++) {
        tc_binding *b = &g_tc.bind[i];
        const tcpip_adapter_stats *as;
        if (!b->in_use || !b->running || !b->pool)
            continue;
        as = &g_tc.stats.adapter[b->adapter];
        if (!as->media_connected)
            continue;
        if (!best || as->link_speed > g_tc.stats.adapter[best->adapter].link_speed ||
            (as->link_speed == g_tc.stats.adapter[best->adapter].link_speed &&
             b->bind_seq < best->bind_seq))
            best = b;
    }
    return best;
}

static void PtReceive(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, NDIS_PORT_NUMBER port, ULONG n,
                      ULONG flags)
{
    UNREFERENCED_PARAMETER(port);
    UNREFERENCED_PARAMETER(n);
    tc_receive(ctx, nbls, flags);
}

/* NdisCompleteNetPnPEvent wants PASSIVE_LEVEL; completions come at DISPATCH. */
static void PauseDoneWork(PVOID ctx, NDIS_HANDLE wi)
{
    tc_binding *b = ctx;
    UNREFERENCED_PARAMETER(wi);
    NdisCompleteNetPnPEvent(b->handle, b->pause_event, NDIS_STATUS_SUCCESS);
}

static void PtSendComplete(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, ULONG flags)
{
    tc_binding *b = ctx;
    UNREFERENCED_PARAMETER(flags);
    tc_send_complete(b, nbls);
    BOOLEAN done = FALSE;
    NdisAcquireSpinLock(&g_tc.lock);
    if (b->pausing && b->sends_out == 0) {
        b->pausing = FALSE;
        done = TRUE;
    }
    NdisReleaseSpinLock(&g_tc.lock);
    if (done)
        NdisQueueIoWorkItem(b->pause_work, PauseDoneWork, b);
}

void tc_register_characteristics(NDIS_PROTOCOL_DRIVER_CHARACTERISTICS *ch)
{
    ch->BindAdapterHandlerEx = PtBindAdapter;
    ch->UnbindAdapterHandlerEx = PtUnbindAdapter;
    ch->OpenAdapterCompleteHandlerEx = PtOpenAdapterComplete;
    ch->CloseAdapterCompleteHandlerEx = PtCloseAdapterComplete;
    ch->NetPnPEventHandler = PtNetPnPEvent;
    ch->OidRequestCompleteHandler = PtOidComplete;
    ch->StatusHandlerEx = PtStatus;
    ch->ReceiveNetBufferListsHandler = PtReceive;
    ch->SendNetBufferListsCompleteHandler = PtSendComplete;
}
