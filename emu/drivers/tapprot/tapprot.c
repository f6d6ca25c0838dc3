/*
 * tapprot.c - an NDIS 6.30 protocol driver that puts the Linux kernel's own
 * TCP/IP above an NDIS miniport: it binds to one Ethernet adapter and moves
 * frames between it and a TAP interface of the kernel ndisemu runs in
 * (TAPPROT_IFNAME, with the adapter's MAC), and mirrors the adapter's link
 * state on the TAP's carrier.
 *
 * Frames the kernel sends arrive on tap_os's reader thread, which sends
 * them at PASSIVE_LEVEL (as a protocol's own system thread would). No
 * offloads are enabled on the adapter: the TAP has no vnet header, so the
 * kernel completes checksums and segments before it hands frames over.
 *
 * Concurrency: g_lock guards the binding's state and counters. The reader
 * counts a send in before it sends (a pause or unbind waits for the count
 * to fall to zero).
 */
#include <ndis.h>

#include "nu_object.h"
#include "tap_os.h"

#define TP_TAG         'ppaT'
#define TP_DATA_SIZE   2048
#define TP_ETH_MIN     60
#define TAPPROT_IFNAME "vfo0"

typedef struct tp_binding {
    NDIS_HANDLE handle, bind_ctx, unbind_ctx, pool, work;
    UINT medium; /* SelectedMediumIndex: NDIS writes it when a pended open completes */
    tap_os *tap;
    UCHAR mac[6];
    /* g_lock */
    BOOLEAN in_use, running, pausing, closing;
    ULONG sends_out;
    PNET_PNP_EVENT_NOTIFICATION pause_event;
    NDIS_OID_REQUEST oid;
    NDIS_EVENT oid_done;
    NDIS_STATUS oid_status;
    ULONG filter;
} tp_binding;

typedef struct tp_stats {
    ULONG64 to_adapter, to_kernel, dropped_paused, dropped_big, send_failed, tap_errors;
} tp_stats;

static NDIS_HANDLE g_proto;
/* Work items need a handle with a driver or device object behind it (a
 * protocol handle is not one, HandleKind): a generic object of ours. */
static PNDIS_GENERIC_OBJECT g_obj;
static tp_binding g_bind;
static NDIS_SPIN_LOCK g_lock;
static tp_stats g_stats;

static void count(ULONG64 *field)
{
    NdisAcquireSpinLock(&g_lock);
    (*field)++;
    NdisReleaseSpinLock(&g_lock);
}

static void PtCompletePause(PVOID ctx, NDIS_HANDLE wi)
{
    tp_binding *b = ctx;
    UNREFERENCED_PARAMETER(wi);
    NdisAcquireSpinLock(&g_lock);
    PNET_PNP_EVENT_NOTIFICATION ev = b->pause_event;
    b->pause_event = NULL;
    NdisReleaseSpinLock(&g_lock);
    if (ev)
        NdisCompleteNetPnPEvent(b->handle, ev, NDIS_STATUS_SUCCESS);
}

static void sends_done(tp_binding *b, ULONG n)
{
    NdisAcquireSpinLock(&g_lock);
    b->sends_out -= n;
    BOOLEAN finish = b->pausing && b->sends_out == 0;
    if (finish)
        b->pausing = FALSE;
    NdisReleaseSpinLock(&g_lock);
    if (finish)
        NdisQueueIoWorkItem(b->work, PtCompletePause, b);
}

/* ---- kernel -> adapter ---- */

static void from_kernel(void *ctx, const uint8_t *frame, size_t len)
{
    tp_binding *b = ctx;
    if (len > TP_DATA_SIZE) {
        count(&g_stats.dropped_big);
        return;
    }
    NdisAcquireSpinLock(&g_lock);
    BOOLEAN go = b->running && !b->closing;
    if (go)
        b->sends_out++;
    else
        g_stats.dropped_paused++;
    NdisReleaseSpinLock(&g_lock);
    if (!go)
        return;
    ULONG flen = len < TP_ETH_MIN ? TP_ETH_MIN : (ULONG)len;
    /* The pool has a DataSize: the NBL comes with an NB, MDL and data of
     * TP_DATA_SIZE bytes; the frame uses the first flen of them. */
    PNET_BUFFER_LIST nbl = NdisAllocateNetBufferList(b->pool, 0, 0);
    if (!nbl || flen > NET_BUFFER_DATA_LENGTH(NET_BUFFER_LIST_FIRST_NB(nbl))) {
        if (nbl)
            NdisFreeNetBufferList(nbl);
        count(&g_stats.send_failed);
        sends_done(b, 1);
        return;
    }
    NET_BUFFER_DATA_LENGTH(NET_BUFFER_LIST_FIRST_NB(nbl)) = flen;
    PVOID va;
    ULONG mlen;
    NdisQueryMdl(NET_BUFFER_FIRST_MDL(NET_BUFFER_LIST_FIRST_NB(nbl)), &va, &mlen,
                 NormalPagePriority);
    NdisZeroMemory(va, flen); /* short frames padded to the Ethernet minimum */
    NdisMoveMemory(va, frame, len);
    nbl->SourceHandle = b->handle;
    count(&g_stats.to_adapter);
    NdisSendNetBufferLists(b->handle, nbl, NDIS_DEFAULT_PORT_NUMBER, 0);
}

static void PtSendComplete(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, ULONG flags)
{
    tp_binding *b = ctx;
    UNREFERENCED_PARAMETER(flags);
    ULONG n = 0, failed = 0;
    for (PNET_BUFFER_LIST nbl = nbls, next; nbl; nbl = next) {
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        if (NET_BUFFER_LIST_STATUS(nbl) != NDIS_STATUS_SUCCESS)
            failed++;
        NdisFreeNetBufferList(nbl);
        n++;
    }
    NdisAcquireSpinLock(&g_lock);
    g_stats.send_failed += failed;
    NdisReleaseSpinLock(&g_lock);
    sends_done(b, n);
}

/* ---- adapter -> kernel ---- */

static void PtReceive(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, NDIS_PORT_NUMBER port, ULONG n,
                      ULONG flags)
{
    tp_binding *b = ctx;
    UCHAR storage[TP_DATA_SIZE];
    UNREFERENCED_PARAMETER(port);
    UNREFERENCED_PARAMETER(n);
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl)) {
        for (PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl); nb; nb = NET_BUFFER_NEXT_NB(nb)) {
            ULONG len = NET_BUFFER_DATA_LENGTH(nb);
            PVOID p = len <= sizeof(storage) ? NdisGetDataBuffer(nb, len, storage, 1, 0) : NULL;
            if (!p || tap_write(b->tap, p, len) != 0)
                count(&g_stats.tap_errors);
            else
                count(&g_stats.to_kernel);
        }
    }
    if (flags & NDIS_RECEIVE_FLAGS_RESOURCES)
        return;
    NdisReturnNetBufferLists(
        b->handle, nbls,
        (flags & NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL) ? NDIS_RETURN_FLAGS_DISPATCH_LEVEL : 0);
}

static void PtStatus(NDIS_HANDLE ctx, PNDIS_STATUS_INDICATION s)
{
    tp_binding *b = ctx;
    if (s->StatusCode != NDIS_STATUS_LINK_STATE || s->StatusBufferSize < sizeof(NDIS_LINK_STATE))
        return;
    const NDIS_LINK_STATE *ls = s->StatusBuffer;
    tap_set_carrier(b->tap, ls->MediaConnectState == MediaConnectStateConnected);
}

/* ---- binding ---- */

static void PtOidComplete(NDIS_HANDLE ctx, PNDIS_OID_REQUEST r, NDIS_STATUS st)
{
    tp_binding *b = ctx;
    UNREFERENCED_PARAMETER(r);
    b->oid_status = st;
    NdisSetEvent(&b->oid_done);
}

/* Directed, multicast and broadcast frames: what an IP stack needs. */
static NDIS_STATUS set_filter(tp_binding *b)
{
    NdisZeroMemory(&b->oid, sizeof(b->oid));
    NU_INIT_HEADER(&b->oid.Header, NDIS_OBJECT_TYPE_OID_REQUEST, NDIS_OID_REQUEST_REVISION_1,
                   NDIS_SIZEOF_OID_REQUEST_REVISION_1);
    b->filter = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_MULTICAST | NDIS_PACKET_TYPE_BROADCAST;
    b->oid.RequestType = NdisRequestSetInformation;
    b->oid.DATA.SET_INFORMATION.Oid = OID_GEN_CURRENT_PACKET_FILTER;
    b->oid.DATA.SET_INFORMATION.InformationBuffer = &b->filter;
    b->oid.DATA.SET_INFORMATION.InformationBufferLength = sizeof(b->filter);
    NdisResetEvent(&b->oid_done);
    NDIS_STATUS st = NdisOidRequest(b->handle, &b->oid);
    if (st == NDIS_STATUS_PENDING) {
        NdisWaitEvent(&b->oid_done, 0);
        st = b->oid_status;
    }
    return st;
}

static NDIS_STATUS finish_open(tp_binding *b, NDIS_STATUS st)
{
    char err[160];
    if (st == NDIS_STATUS_SUCCESS) {
        NET_BUFFER_LIST_POOL_PARAMETERS pp;
        NdisZeroMemory(&pp, sizeof(pp));
        NU_INIT_HEADER(&pp.Header, NDIS_OBJECT_TYPE_DEFAULT,
                       NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
                       NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1);
        pp.fAllocateNetBuffer = TRUE;
        pp.PoolTag = TP_TAG;
        pp.DataSize = TP_DATA_SIZE;
        b->pool = NdisAllocateNetBufferListPool(g_proto, &pp); /* "Obtaining Pool Handles" */
        b->work = NdisAllocateIoWorkItem(g_obj);
        b->tap = tap_open(TAPPROT_IFNAME, b->mac, err, sizeof(err));
        if (!b->pool || !b->work || !b->tap)
            st = NDIS_STATUS_RESOURCES;
    }
    return st;
}

static NDIS_STATUS PtBindAdapter(NDIS_HANDLE drvctx, NDIS_HANDLE bind_ctx, PNDIS_BIND_PARAMETERS bp)
{
    UNREFERENCED_PARAMETER(drvctx);
    if (bp->MediaType != NdisMedium802_3 || bp->MacAddressLength != 6)
        return NDIS_STATUS_UNSUPPORTED_MEDIA;
    NdisAcquireSpinLock(&g_lock);
    BOOLEAN taken = g_bind.in_use;
    if (!taken) {
        NdisZeroMemory(&g_bind, sizeof(g_bind));
        g_bind.in_use = TRUE;
    }
    NdisReleaseSpinLock(&g_lock);
    if (taken) /* one TAP, one adapter */
        return NDIS_STATUS_NOT_ACCEPTED;
    tp_binding *b = &g_bind;
    b->bind_ctx = bind_ctx;
    NdisMoveMemory(b->mac, bp->CurrentMacAddress, 6);
    NdisInitializeEvent(&b->oid_done);
    NDIS_MEDIUM media[1] = { NdisMedium802_3 };
    NDIS_OPEN_PARAMETERS op;
    NdisZeroMemory(&op, sizeof(op));
    NU_INIT_HEADER(&op.Header, NDIS_OBJECT_TYPE_OPEN_PARAMETERS, NDIS_OPEN_PARAMETERS_REVISION_1,
                   NDIS_SIZEOF_OPEN_PARAMETERS_REVISION_1);
    op.AdapterName = bp->AdapterName;
    op.MediumArray = media;
    op.MediumArraySize = 1;
    op.SelectedMediumIndex = &b->medium;
    NDIS_STATUS st = NdisOpenAdapterEx(g_proto, b, &op, bind_ctx, &b->handle);
    if (st == NDIS_STATUS_PENDING)
        return NDIS_STATUS_PENDING; /* finished in PtOpenAdapterComplete */
    st = finish_open(b, st);
    if (st == NDIS_STATUS_SUCCESS)
        st = set_filter(b);
    if (st == NDIS_STATUS_SUCCESS) {
        tap_set_carrier(b->tap, bp->MediaConnectState == MediaConnectStateConnected);
        if (tap_start(b->tap, from_kernel, b) != 0)
            st = NDIS_STATUS_RESOURCES;
    }
    if (st != NDIS_STATUS_SUCCESS) {
        /* The open may have succeeded: close it again (synchronously here). */
        if (b->handle && NdisCloseAdapterEx(b->handle) == NDIS_STATUS_PENDING)
            return NDIS_STATUS_FAILURE; /* PtCloseAdapterComplete frees the slot */
        if (b->tap)
            tap_close(b->tap);
        if (b->pool)
            NdisFreeNetBufferListPool(b->pool);
        if (b->work)
            NdisFreeIoWorkItem(b->work);
        NdisAcquireSpinLock(&g_lock);
        b->in_use = FALSE;
        NdisReleaseSpinLock(&g_lock);
    }
    return st;
}

static void PtOpenAdapterComplete(NDIS_HANDLE ctx, NDIS_STATUS status)
{
    /* ndisemu's miniports open synchronously; a pended open is refused. */
    tp_binding *b = ctx;
    UNREFERENCED_PARAMETER(status);
    NdisCompleteBindAdapterEx(b->bind_ctx, NDIS_STATUS_FAILURE);
}

static void free_binding(tp_binding *b)
{
    if (b->pool)
        NdisFreeNetBufferListPool(b->pool);
    if (b->work)
        NdisFreeIoWorkItem(b->work);
    NdisAcquireSpinLock(&g_lock);
    b->in_use = FALSE;
    b->pool = b->work = NULL;
    NdisReleaseSpinLock(&g_lock);
}

static void PtCloseAdapterComplete(NDIS_HANDLE ctx)
{
    tp_binding *b = ctx;
    NDIS_HANDLE u = b->unbind_ctx;
    free_binding(b);
    if (u)
        NdisCompleteUnbindAdapterEx(u);
}

static NDIS_STATUS PtUnbindAdapter(NDIS_HANDLE unbind_ctx, NDIS_HANDLE ctx)
{
    tp_binding *b = ctx;
    b->unbind_ctx = unbind_ctx;
    NdisAcquireSpinLock(&g_lock);
    b->closing = TRUE;
    b->running = FALSE;
    NdisReleaseSpinLock(&g_lock);
    tap_close(b->tap); /* the reader has stopped when this returns */
    b->tap = NULL;
    for (;;) {
        NdisAcquireSpinLock(&g_lock);
        ULONG out = b->sends_out;
        NdisReleaseSpinLock(&g_lock);
        if (!out)
            break;
        NdisMSleep(1000);
    }
    NDIS_STATUS st = NdisCloseAdapterEx(b->handle);
    if (st == NDIS_STATUS_PENDING)
        return NDIS_STATUS_PENDING;
    free_binding(b);
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS PtNetPnPEvent(NDIS_HANDLE ctx, PNET_PNP_EVENT_NOTIFICATION n)
{
    tp_binding *b = ctx;
    NDIS_STATUS st = NDIS_STATUS_SUCCESS;
    switch (n->NetPnPEvent.NetEvent) {
    case NetEventPause:
        NdisAcquireSpinLock(&g_lock);
        b->running = FALSE;
        if (b->sends_out) {
            b->pausing = TRUE;
            b->pause_event = n;
            st = NDIS_STATUS_PENDING;
        }
        NdisReleaseSpinLock(&g_lock);
        return st;
    case NetEventRestart:
        NdisAcquireSpinLock(&g_lock);
        b->running = !b->closing;
        NdisReleaseSpinLock(&g_lock);
        return st;
    default:
        return st;
    }
}

static void PtUnload(PDRIVER_OBJECT drv)
{
    UNREFERENCED_PARAMETER(drv);
    NdisDeregisterProtocolDriver(g_proto);
    NdisFreeGenericObject(g_obj);
    NdisFreeSpinLock(&g_lock);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    NdisZeroMemory(&g_bind, sizeof(g_bind));
    NdisZeroMemory(&g_stats, sizeof(g_stats));
    NdisAllocateSpinLock(&g_lock);
    NDIS_PROTOCOL_DRIVER_CHARACTERISTICS ch;
    NdisZeroMemory(&ch, sizeof(ch));
    NU_INIT_HEADER(&ch.Header, NDIS_OBJECT_TYPE_PROTOCOL_DRIVER_CHARACTERISTICS,
                   NDIS_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2,
                   NDIS_SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2);
    ch.MajorNdisVersion = NDIS_PROTOCOL_MAJOR_VERSION;
    ch.MinorNdisVersion = NDIS_PROTOCOL_MINOR_VERSION;
    NDIS_STRING name = NDIS_STRING_CONST("TAPPROT");
    ch.Name = name;
    ch.BindAdapterHandlerEx = PtBindAdapter;
    ch.UnbindAdapterHandlerEx = PtUnbindAdapter;
    ch.OpenAdapterCompleteHandlerEx = PtOpenAdapterComplete;
    ch.CloseAdapterCompleteHandlerEx = PtCloseAdapterComplete;
    ch.NetPnPEventHandler = PtNetPnPEvent;
    ch.OidRequestCompleteHandler = PtOidComplete;
    ch.StatusHandlerEx = PtStatus;
    ch.ReceiveNetBufferListsHandler = PtReceive;
    ch.SendNetBufferListsCompleteHandler = PtSendComplete;
    g_obj = NdisAllocateGenericObject(DriverObject, TP_TAG, 0);
    if (!g_obj)
        return STATUS_UNSUCCESSFUL;
    if (NdisRegisterProtocolDriver(NULL, &ch, &g_proto) != NDIS_STATUS_SUCCESS) {
        NdisFreeGenericObject(g_obj);
        return STATUS_UNSUCCESSFUL;
    }
    DriverObject->DriverUnload = PtUnload;
    return STATUS_SUCCESS;
}
