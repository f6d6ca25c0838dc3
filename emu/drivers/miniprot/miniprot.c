/*
 * miniprot.c - ndisemu's minimal NDIS 6.30 protocol driver.
 *
 * Binds to every adapter its LowerRange meets, pauses and restarts with
 * its bindings (pending the pause until its sends are back, and completing
 * it at PASSIVE_LEVEL from a work item), sends frames and issues OIDs on
 * request from its control device, and counts what it receives. Like a
 * protocol that queues its receives, it holds received NBLs and returns
 * them in batches from a timer a moment later; the miniport's pause has to
 * wait for them. The same source builds the broken protocol variants.
 *
 * Concurrency: g_lock protects the bindings' state, the statistics and the
 * veto flag. A binding's pool, timer and work item live from a successful
 * open to its unbind; the unbind first waits until no return timer and no
 * OID of the binding is in progress ("users").
 */
#include <ndis.h>

#include "miniprot.h"
#include "miniprot_int.h"
#include "nu_object.h"
#include "minimp_break.h"

#define PT_MAX_BINDINGS 8
#define PT_RETURN_DELAY (-500) /* 50 us, relative, in 100 ns units */

typedef struct pt_binding {
    NDIS_HANDLE handle;
    UINT medium;      /* SelectedMediumIndex: NDIS writes it when a pended open completes */
    ULONG if_index;   /* the bound adapter's (BoundIfIndex) */
    ULONG64 received; /* g_lock: NBLs received on this binding */
    NDIS_HANDLE bind_ctx, unbind_ctx;
    NDIS_HANDLE pool;
    NDIS_HANDLE timer; /* returns held receives */
    NDIS_HANDLE work;  /* completes a pended pause at PASSIVE_LEVEL */
    NDIS_EVENT idle;   /* users reached 0 while closing */
    /* g_lock */
    BOOLEAN in_use, opened, running, pausing, closing, timer_armed, oid_busy;
    /* Between NDIS_STATUS_RESET_START and _END: no sends, no OIDs (the
     * writes and requests fail, as ndisprot's NPROTO_RESET_IN_PROGRESS
     * intends; its write path does not test the flag). */
    BOOLEAN resetting;
    ULONG sends_out;
    ULONG users;
    PNET_BUFFER_LIST held;
    PNET_PNP_EVENT_NOTIFICATION pause_event;
    /* the one OID in progress (oid_busy) */
    NDIS_OID_REQUEST oid;
    NDIS_EVENT oid_done;
    NDIS_STATUS oid_status;
    UCHAR oid_buf[16];
} pt_binding;

static NDIS_HANDLE g_proto, g_dev_handle;
/* A protocol driver handle is not associated with a driver object, so
 * NdisAllocateIoWorkItem does not take it (nor a binding handle): the work
 * items come from a generic object that carries the driver object. */
static PNDIS_GENERIC_OBJECT g_obj;
static PDEVICE_OBJECT g_dev;
static pt_binding g_bind[PT_MAX_BINDINGS];
static NDIS_SPIN_LOCK g_lock;
static miniprot_stats g_stats;
static ULONG g_veto;
static ULONG g_lso;       /* g_lock: IOCTL_MINIPROT_SET_LSO */
static ULONG g_rx_inline; /* g_lock: IOCTL_MINIPROT_RX_INLINE */
static ULONG g_select;    /* g_lock: IOCTL_MINIPROT_SELECT (0: any binding) */

/* g_lock held: b is one the control device's requests may use. */
static BOOLEAN selected_locked(const pt_binding *b)
{
    return g_select == 0 || b->if_index == g_select;
}

static void count(unsigned long long *field, unsigned long long n)
{
    NdisAcquireSpinLock(&g_lock);
    *field += n;
    NdisReleaseSpinLock(&g_lock);
}

/* g_lock held. */
static pt_binding *running_binding_locked(void)
{
    for (int i = 0; i < PT_MAX_BINDINGS; i++) {
        if (g_bind[i].in_use && g_bind[i].running && !g_bind[i].closing &&
            (!g_bind[i].resetting || BROKEN(BRK_SEND_DURING_RESET)) && selected_locked(&g_bind[i]))
            return &g_bind[i];
    }
    return NULL;
}

/* g_lock held: one user of the binding left. */
static void put_user_locked(pt_binding *b)
{
    if (--b->users == 0 && b->closing)
        NdisSetEvent(&b->idle);
}

/* ---- bind / unbind ---- */

static void PtReturnTimer(PVOID s1, PVOID ctx, PVOID s2, PVOID s3);
static void PtCompletePause(PVOID ctx, NDIS_HANDLE wi);
static NTSTATUS cancel_sends(void);

NDIS_STATUS pt_alloc_timer(PNDIS_TIMER_FUNCTION fn, PVOID ctx, NDIS_HANDLE *out)
{
    NDIS_TIMER_CHARACTERISTICS tc;
    NdisZeroMemory(&tc, sizeof(tc));
    NU_INIT_HEADER(&tc.Header, NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS,
                   NDIS_TIMER_CHARACTERISTICS_REVISION_1,
                   NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1);
    tc.AllocationTag = PT_TAG;
    tc.TimerFunction = fn;
    tc.FunctionContext = ctx;
    return NdisAllocateTimerObject(g_proto, &tc, out);
}

/* After a successful open: the binding's pool, return timer and work item. */
static NDIS_STATUS open_resources(pt_binding *b)
{
    NET_BUFFER_LIST_POOL_PARAMETERS pp;
    NdisZeroMemory(&pp, sizeof(pp));
    NU_INIT_HEADER(&pp.Header, NDIS_OBJECT_TYPE_DEFAULT, NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
                   NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1);
    pp.fAllocateNetBuffer = TRUE;
    pp.ContextSize = 16;
    pp.PoolTag = PT_TAG;
    pp.DataSize = 2048;
    /* Pools take the protocol driver handle ("Obtaining Pool Handles"). */
    b->pool = NdisAllocateNetBufferListPool(g_proto, &pp);
    if (pt_alloc_timer(PtReturnTimer, b, &b->timer) != NDIS_STATUS_SUCCESS)
        b->timer = NULL;
    b->work = NdisAllocateIoWorkItem(BROKEN(BRK_WORKITEM_PROTOCOL_HANDLE) ? g_proto : g_obj);
    return b->pool && b->timer && b->work ? NDIS_STATUS_SUCCESS : NDIS_STATUS_RESOURCES;
}

static void free_resources(pt_binding *b)
{
    if (b->timer)
        NdisFreeTimerObject(b->timer);
    if (b->work)
        NdisFreeIoWorkItem(b->work);
    if (b->pool)
        NdisFreeNetBufferListPool(b->pool);
    b->timer = b->work = b->pool = NULL;
}

static void release_slot(pt_binding *b)
{
    NdisAcquireSpinLock(&g_lock);
    b->in_use = FALSE;
    b->running = FALSE;
    NdisReleaseSpinLock(&g_lock);
}

/* The open finished with status: the binding is up, or its slot and
 * resources are given back. They were allocated before the open, so a failed
 * bind never leaves an open binding behind (BindFailedOpen). */
static NDIS_STATUS finish_open(pt_binding *b, NDIS_STATUS status)
{
    if (status == NDIS_STATUS_SUCCESS && BROKEN(BRK_FAIL_BIND_OPEN))
        status = NDIS_STATUS_FAILURE; /* and the open stays open */
    if (status != NDIS_STATUS_SUCCESS) {
        free_resources(b);
        release_slot(b);
    } else {
        NdisAcquireSpinLock(&g_lock);
        b->opened = TRUE;
        NdisReleaseSpinLock(&g_lock);
    }
    return status;
}

static void PtOpenAdapterComplete(NDIS_HANDLE ctx, NDIS_STATUS status)
{
    pt_binding *b = ctx;
    NdisCompleteBindAdapterEx(b->bind_ctx, finish_open(b, status));
}

static pt_binding *claim_slot(void)
{
    pt_binding *b = NULL;
    NdisAcquireSpinLock(&g_lock);
    for (int i = 0; i < PT_MAX_BINDINGS && !b; i++) {
        if (!g_bind[i].in_use) {
            b = &g_bind[i];
            NdisZeroMemory(b, sizeof(*b));
            b->in_use = TRUE;
        }
    }
    NdisReleaseSpinLock(&g_lock);
    return b;
}

static NDIS_STATUS PtBindAdapter(NDIS_HANDLE drvctx, NDIS_HANDLE bind_ctx, PNDIS_BIND_PARAMETERS bp)
{
    UNREFERENCED_PARAMETER(drvctx);
    if (bp->MediaType != NdisMedium802_3)
        return NDIS_STATUS_UNSUPPORTED_MEDIA;
    pt_binding *b = claim_slot();
    if (!b)
        return NDIS_STATUS_RESOURCES;
    b->bind_ctx = bind_ctx;
    b->if_index = bp->BoundIfIndex;
    b->received = 0;
    NdisInitializeEvent(&b->idle);
    NdisInitializeEvent(&b->oid_done);
    count(&g_stats.binds, 1);
    if (open_resources(b) != NDIS_STATUS_SUCCESS) {
        free_resources(b);
        release_slot(b);
        return NDIS_STATUS_RESOURCES;
    }
    NDIS_MEDIUM media[1] = { NdisMedium802_3 };
    UINT on_stack; /* only the broken variant's */
    NDIS_OPEN_PARAMETERS op;
    NdisZeroMemory(&op, sizeof(op));
    NU_INIT_HEADER(&op.Header, NDIS_OBJECT_TYPE_OPEN_PARAMETERS, NDIS_OPEN_PARAMETERS_REVISION_1,
                   NDIS_SIZEOF_OPEN_PARAMETERS_REVISION_1);
    op.AdapterName = bp->AdapterName;
    op.MediumArray = media;
    op.MediumArraySize = 1;
    op.SelectedMediumIndex = BROKEN(BRK_OPEN_OUTPUT_ON_STACK) ? &on_stack : &b->medium;
    if (BROKEN(BRK_OPEN_UNDER_LOCK))
        NdisAcquireSpinLock(&g_lock); /* NdisOpenAdapterEx: PASSIVE_LEVEL only */
    NDIS_STATUS st = NdisOpenAdapterEx(g_proto, b, &op, bind_ctx, &b->handle);
    if (BROKEN(BRK_OPEN_UNDER_LOCK))
        NdisReleaseSpinLock(&g_lock);
    if (BROKEN(BRK_BIND_COMPLETE_TWICE)) {
        NdisCompleteBindAdapterEx(bind_ctx, NDIS_STATUS_SUCCESS);
        NdisCompleteBindAdapterEx(bind_ctx, NDIS_STATUS_SUCCESS);
    }
    if (BROKEN(BRK_REENUMERATE_IN_BIND))
        NdisReEnumerateProtocolBindings(g_proto); /* not from a bind handler */
    if (st == NDIS_STATUS_PENDING)
        return NDIS_STATUS_PENDING; /* finished in PtOpenAdapterComplete */
    return finish_open(b, st);
}

static void return_nbls(pt_binding *b, PNET_BUFFER_LIST list, ULONG flags)
{
    if (list)
        NdisReturnNetBufferLists(b->handle, list, flags);
}

/* Gives back what b holds; afterwards no return timer or OID of b runs,
 * and none starts any more. */
static void rundown(pt_binding *b)
{
    NdisAcquireSpinLock(&g_lock);
    b->closing = TRUE; /* no more holding, no more OIDs */
    PNET_BUFFER_LIST held = b->held;
    b->held = NULL;
    NdisReleaseSpinLock(&g_lock);
    return_nbls(b, held, 0);
    if (NdisCancelTimerObject(b->timer)) {
        NdisAcquireSpinLock(&g_lock);
        b->timer_armed = FALSE;
        put_user_locked(b); /* the reference of the timer that will not fire */
        NdisReleaseSpinLock(&g_lock);
    }
    NdisAcquireSpinLock(&g_lock);
    BOOLEAN busy = b->users != 0;
    if (busy)
        NdisResetEvent(&b->idle);
    NdisReleaseSpinLock(&g_lock);
    if (busy)
        NdisWaitEvent(&b->idle, 0);
}

static void PtCloseAdapterComplete(NDIS_HANDLE ctx)
{
    pt_binding *b = ctx;
    NDIS_HANDLE u = b->unbind_ctx;
    release_slot(b);
    NdisCompleteUnbindAdapterEx(u);
}

static NDIS_STATUS PtUnbindAdapter(NDIS_HANDLE unbind_ctx, NDIS_HANDLE ctx)
{
    pt_binding *b = ctx;
    b->unbind_ctx = unbind_ctx;
    count(&g_stats.unbinds, 1);
    rundown(b);
    free_resources(b);
    NDIS_HANDLE h = b->handle;
    if (BROKEN(BRK_CLOSE_WITH_OID)) {
        /* a packet filter set (minimp pends it), not waited for */
        static ULONG filter = NDIS_PACKET_TYPE_DIRECTED;
        NdisZeroMemory(&b->oid, sizeof(b->oid));
        NU_INIT_HEADER(&b->oid.Header, NDIS_OBJECT_TYPE_OID_REQUEST, NDIS_OID_REQUEST_REVISION_1,
                       NDIS_SIZEOF_OID_REQUEST_REVISION_1);
        b->oid.RequestType = NdisRequestSetInformation;
        b->oid.DATA.SET_INFORMATION.Oid = OID_GEN_CURRENT_PACKET_FILTER;
        b->oid.DATA.SET_INFORMATION.InformationBuffer = &filter;
        b->oid.DATA.SET_INFORMATION.InformationBufferLength = sizeof(filter);
        NdisOidRequest(h, &b->oid);
    }
    NDIS_STATUS st = NdisCloseAdapterEx(h);
    if (BROKEN(BRK_USE_AFTER_CLOSE)) {
        NDIS_OID_REQUEST r;
        NdisZeroMemory(&r, sizeof(r));
        NU_INIT_HEADER(&r.Header, NDIS_OBJECT_TYPE_OID_REQUEST, NDIS_OID_REQUEST_REVISION_1,
                       NDIS_SIZEOF_OID_REQUEST_REVISION_1);
        NdisOidRequest(h, &r);
    }
    if (BROKEN(BRK_UNBIND_COMPLETE_UNPENDED)) {
        NdisCompleteUnbindAdapterEx(unbind_ctx); /* only after returning PENDING */
        return NDIS_STATUS_SUCCESS;
    }
    if (st == NDIS_STATUS_PENDING)
        return NDIS_STATUS_PENDING; /* finished in PtCloseAdapterComplete */
    release_slot(b);
    return NDIS_STATUS_SUCCESS;
}

/* ---- PnP ---- */

static NDIS_STATUS pause_binding(pt_binding *b, PNET_PNP_EVENT_NOTIFICATION n)
{
    NdisAcquireSpinLock(&g_lock);
    g_stats.pauses++;
    b->running = FALSE;
    BOOLEAN idle = b->sends_out == 0 || BROKEN(BRK_PAUSE_WITH_OUTSTANDING);
    if (!idle) {
        b->pausing = TRUE;
        b->pause_event = n;
    }
    NdisReleaseSpinLock(&g_lock);
    if (BROKEN(BRK_SEND_WHILE_PAUSED)) {
        PNET_BUFFER_LIST nbl = NdisAllocateNetBufferList(b->pool, 0, 0);
        if (nbl) {
            nbl->SourceHandle = b->handle;
            NdisSendNetBufferLists(b->handle, nbl, 0, 0);
        }
    }
    return idle ? NDIS_STATUS_SUCCESS : NDIS_STATUS_PENDING;
}

static NDIS_STATUS PtNetPnPEvent(NDIS_HANDLE ctx, PNET_PNP_EVENT_NOTIFICATION n)
{
    pt_binding *b = ctx;
    if (!b) { /* global: NetEventBindsComplete, NetEventBindList, NetEventReconfigure */
        count(&g_stats.global_events, 1);
        if (BROKEN(BRK_FAIL_BINDS_COMPLETE) && n->NetPnPEvent.NetEvent == NetEventBindsComplete)
            return NDIS_STATUS_INVALID_PARAMETER; /* what vfo did */
        return NDIS_STATUS_SUCCESS;
    }
    switch (n->NetPnPEvent.NetEvent) {
    case NetEventPause:
        return pause_binding(b, n);
    case NetEventRestart:
        NdisAcquireSpinLock(&g_lock);
        g_stats.restarts++;
        b->running = TRUE;
        NdisReleaseSpinLock(&g_lock);
        if (BROKEN(BRK_PNP_COMPLETE_UNPENDED))
            NdisCompleteNetPnPEvent(b->handle, n, NDIS_STATUS_SUCCESS); /* only after PENDING */
        return NDIS_STATUS_SUCCESS;
    case NetEventSetPower:
        count(&g_stats.power_events, 1);
        return NDIS_STATUS_SUCCESS;
    case NetEventQueryRemoveDevice: {
        NdisAcquireSpinLock(&g_lock);
        ULONG veto = g_veto;
        NdisReleaseSpinLock(&g_lock);
        return veto ? NDIS_STATUS_FAILURE : NDIS_STATUS_SUCCESS;
    }
    default:
        return NDIS_STATUS_SUCCESS;
    }
}

/* NdisCompleteNetPnPEvent is PASSIVE_LEVEL only: the last send completion
 * (at DISPATCH_LEVEL) hands the pended pause to this work item. */
static void PtCompletePause(PVOID ctx, NDIS_HANDLE wi)
{
    pt_binding *b = ctx;
    UNREFERENCED_PARAMETER(wi);
    NdisAcquireSpinLock(&g_lock);
    PNET_PNP_EVENT_NOTIFICATION ev = b->pause_event;
    b->pause_event = NULL;
    NdisReleaseSpinLock(&g_lock);
    NdisCompleteNetPnPEvent(b->handle, ev, NDIS_STATUS_SUCCESS);
}

/* ---- send ---- */

/* n of b's sends are back; the last one may finish a pended pause. */
static void sends_done(pt_binding *b, ULONG n)
{
    NdisAcquireSpinLock(&g_lock);
    b->sends_out -= n;
    BOOLEAN finish_pause = b->pausing && b->sends_out == 0;
    if (finish_pause)
        b->pausing = FALSE;
    NdisReleaseSpinLock(&g_lock);
    if (finish_pause)
        NdisQueueIoWorkItem(b->work, PtCompletePause, b);
}

static void PtSendComplete(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, ULONG flags)
{
    pt_binding *b = ctx;
    UNREFERENCED_PARAMETER(flags);
    ULONG n = 0, ok = 0;
    for (PNET_BUFFER_LIST nbl = nbls, next; nbl; nbl = next) {
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        if (pt_burst_complete(nbl))
            continue;
        if (NET_BUFFER_LIST_STATUS(nbl) == NDIS_STATUS_SUCCESS)
            ok++;
        if (!BROKEN(BRK_CONTEXT_LEAK))
            NdisFreeNetBufferListContext(nbl, 16);
        NdisFreeNetBufferList(nbl);
        n++;
    }
    NdisAcquireSpinLock(&g_lock);
    g_stats.send_ok += ok;
    g_stats.send_failed += n - ok;
    NdisReleaseSpinLock(&g_lock);
    if (n)
        sends_done(b, n);
}

/* The frame as one NBL with a context area (as a filter or mux would keep
 * per-NBL state). */
/* A large send, as TCP/IP asks for one, when the test said so. */
static void set_lso(PNET_BUFFER_LIST nbl)
{
    NdisAcquireSpinLock(&g_lock);
    ULONG v = g_lso;
    NdisReleaseSpinLock(&g_lock);
    if (v != 1 && v != 2)
        return;
    NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO lso;
    lso.Value = NULL;
    lso.LsoV2Transmit.MSS = MINIPROT_LSO_MSS;
    lso.LsoV2Transmit.TcpHeaderOffset = MINIPROT_LSO_TCP_OFFSET;
    lso.LsoV2Transmit.Type =
        v == 2 ? NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE : NDIS_TCP_LARGE_SEND_OFFLOAD_V1_TYPE;
    if (v == 2)
        lso.LsoV2Transmit.IPVersion = NDIS_TCP_LARGE_SEND_OFFLOAD_IPv4;
    NET_BUFFER_LIST_INFO(nbl, TcpLargeSendNetBufferListInfo) = lso.Value;
}

static PNET_BUFFER_LIST build_frame(pt_binding *b, const UCHAR *frame, ULONG len)
{
    /* The pool has a DataSize: NdisAllocateNetBufferList brings the NB, its
     * MDL and DataSize bytes of data; the frame uses the first len of them.
     * (NdisAllocateNetBufferAndNetBufferList wants a pool with DataSize 0
     * and the caller's own MDL: the broken variant does it anyway.) */
    PNET_BUFFER_LIST nbl = BROKEN(BRK_NB_DATA_WITHOUT_MDL)
                               ? NdisAllocateNetBufferAndNetBufferList(b->pool, 0, 0, NULL, 0, len)
                               : NdisAllocateNetBufferList(b->pool, 0, 0);
    if (!nbl)
        return NULL;
    if (len > NET_BUFFER_DATA_LENGTH(NET_BUFFER_LIST_FIRST_NB(nbl))) {
        NdisFreeNetBufferList(nbl);
        return NULL;
    }
    NET_BUFFER_DATA_LENGTH(NET_BUFFER_LIST_FIRST_NB(nbl)) = len;
    if (NdisAllocateNetBufferListContext(nbl, BROKEN(BRK_NBL_CONTEXT_UNALIGNED) ? 8 : 16, 0,
                                         PT_TAG) != NDIS_STATUS_SUCCESS) {
        NdisFreeNetBufferList(nbl);
        return NULL;
    }
    *(ULONG *)NET_BUFFER_LIST_CONTEXT_DATA_START(nbl) = len;
    PVOID va;
    ULONG mlen;
    NdisQueryMdl(NET_BUFFER_FIRST_MDL(NET_BUFFER_LIST_FIRST_NB(nbl)), &va, &mlen,
                 NormalPagePriority);
    NdisMoveMemory(va, frame, len);
    if (!BROKEN(BRK_NO_SOURCE_HANDLE))
        nbl->SourceHandle = b->handle;
    set_lso(nbl);
    return nbl;
}

NTSTATUS pt_send_frame(const UCHAR *frame, ULONG len)
{
    if (len == 0 || len > 2048)
        return STATUS_INVALID_PARAMETER;
    /* Counted before the binding is let go of: its pause now waits for us. */
    NdisAcquireSpinLock(&g_lock);
    pt_binding *b = running_binding_locked();
    if (b) {
        b->sends_out++;
        g_stats.sent++;
    } else {
        g_stats.send_refused++;
    }
    NdisReleaseSpinLock(&g_lock);
    if (!b)
        return STATUS_DEVICE_NOT_READY;
    PNET_BUFFER_LIST nbl = build_frame(b, frame, len);
    if (!nbl) {
        count(&g_stats.send_failed, 1);
        sends_done(b, 1);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    /* The IOCTL runs at PASSIVE_LEVEL: the broken variant claims DISPATCH. */
    NdisSendNetBufferLists(b->handle, nbl, NDIS_DEFAULT_PORT_NUMBER,
                           BROKEN(BRK_DISPATCH_FLAG_AT_PASSIVE) ? NDIS_SEND_FLAGS_DISPATCH_LEVEL
                                                                : 0);
    return STATUS_SUCCESS;
}

/* ---- receive ---- */

static void PtReturnTimer(PVOID s1, PVOID ctx, PVOID s2, PVOID s3)
{
    pt_binding *b = ctx;
    UNREFERENCED_PARAMETER(s1);
    UNREFERENCED_PARAMETER(s2);
    UNREFERENCED_PARAMETER(s3);
    NdisAcquireSpinLock(&g_lock);
    b->timer_armed = FALSE;
    PNET_BUFFER_LIST held = b->held;
    b->held = NULL;
    NdisReleaseSpinLock(&g_lock);
    return_nbls(b, held, NDIS_RETURN_FLAGS_DISPATCH_LEVEL);
    NdisAcquireSpinLock(&g_lock);
    put_user_locked(b);
    NdisReleaseSpinLock(&g_lock);
}

/* TRUE: return them now (IOCTL_MINIPROT_RX_INLINE). */
static BOOLEAN record_frames(pt_binding *b, PNET_BUFFER_LIST nbls)
{
    ULONG64 now = pt_now_ns();
    NdisAcquireSpinLock(&g_lock);
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl))
        b->received++;
    g_stats.last_rx_ns = now;
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl)) {
        PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
        ULONG len = NET_BUFFER_DATA_LENGTH(nb);
        UCHAR tmp[64];
        ULONG copy = len < sizeof(tmp) ? len : sizeof(tmp);
        ULONG align = BROKEN(BRK_DATA_BUFFER_BAD_ALIGN) ? 3 : 1;
        PVOID p = copy ? NdisGetDataBuffer(nb, copy, tmp, align, 0) : NULL;
        if (p)
            NdisMoveMemory(g_stats.last_frame, p, copy);
        g_stats.last_len = len;
        g_stats.received++;
        g_stats.rx_bytes += len;
    }
    BOOLEAN inline_return = g_rx_inline != 0;
    NdisReleaseSpinLock(&g_lock);
    return inline_return;
}

/* Keeps the NBLs and (re)arms the return timer; false when the binding is
 * closing and they must go back now. */
static BOOLEAN hold_nbls(pt_binding *b, PNET_BUFFER_LIST nbls)
{
    NdisAcquireSpinLock(&g_lock);
    BOOLEAN hold = !b->closing;
    if (hold) {
        PNET_BUFFER_LIST *tail = &b->held;
        while (*tail)
            tail = &NET_BUFFER_LIST_NEXT_NBL(*tail);
        *tail = nbls;
        if (!b->timer_armed) {
            LARGE_INTEGER due;
            due.QuadPart = PT_RETURN_DELAY;
            b->timer_armed = TRUE;
            b->users++; /* dropped by the timer callback, or by rundown() if cancelled */
            NdisSetTimerObject(b->timer, due, 0, b);
        }
    }
    NdisReleaseSpinLock(&g_lock);
    return hold;
}

static void PtReceive(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, NDIS_PORT_NUMBER port, ULONG n,
                      ULONG flags)
{
    pt_binding *b = ctx;
    UNREFERENCED_PARAMETER(port);
    UNREFERENCED_PARAMETER(n);
    BOOLEAN inline_return = record_frames(b, nbls);
    if (flags & NDIS_RECEIVE_FLAGS_RESOURCES)
        return; /* lent for this call only: never kept, never returned */
    ULONG rf = (flags & NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL) ? NDIS_RETURN_FLAGS_DISPATCH_LEVEL : 0;
    if (inline_return) {
        NdisReturnNetBufferLists(b->handle, nbls, rf);
        return;
    }
    if (BROKEN(BRK_RETURN_TWICE)) {
        NdisReturnNetBufferLists(b->handle, nbls, rf);
        NdisReturnNetBufferLists(b->handle, nbls, rf);
        return;
    }
    if (!hold_nbls(b, nbls))
        NdisReturnNetBufferLists(b->handle, nbls, rf);
}

static void PtOidComplete(NDIS_HANDLE ctx, PNDIS_OID_REQUEST r, NDIS_STATUS st)
{
    pt_binding *b = ctx;
    if (pt_oid_io_complete(r, st))
        return;
    b->oid_status = st;
    NdisSetEvent(&b->oid_done);
}

static void PtStatus(NDIS_HANDLE ctx, PNDIS_STATUS_INDICATION s)
{
    pt_binding *b = ctx;
    count(&g_stats.status_events, 1);
    if (!b || !s ||
        (s->StatusCode != NDIS_STATUS_RESET_START && s->StatusCode != NDIS_STATUS_RESET_END))
        return;
    NdisAcquireSpinLock(&g_lock);
    b->resetting = s->StatusCode == NDIS_STATUS_RESET_START;
    NdisReleaseSpinLock(&g_lock);
    count(&g_stats.resets, b->resetting ? 1 : 0);
}

/* ---- OIDs (from the control device, at PASSIVE_LEVEL) ---- */

NDIS_HANDLE pt_protocol_handle(void)
{
    return g_proto;
}

NDIS_HANDLE pt_get_open_binding(void **ref)
{
    pt_binding *b = NULL;
    NdisAcquireSpinLock(&g_lock);
    for (int i = 0; i < PT_MAX_BINDINGS && !b; i++) {
        if (g_bind[i].in_use && g_bind[i].opened && !g_bind[i].closing && !g_bind[i].resetting &&
            selected_locked(&g_bind[i]))
            b = &g_bind[i];
    }
    if (b)
        b->users++;
    NdisReleaseSpinLock(&g_lock);
    *ref = b;
    return b ? b->handle : NULL;
}

void pt_put_binding(void *ref)
{
    NdisAcquireSpinLock(&g_lock);
    put_user_locked(ref);
    NdisReleaseSpinLock(&g_lock);
}

static pt_binding *get_oid_binding(void)
{
    NdisAcquireSpinLock(&g_lock);
    pt_binding *b = running_binding_locked();
    if (b && b->oid_busy)
        b = NULL;
    if (b) {
        b->oid_busy = TRUE;
        b->users++;
    }
    NdisReleaseSpinLock(&g_lock);
    return b;
}

static void put_oid_binding(pt_binding *b)
{
    NdisAcquireSpinLock(&g_lock);
    b->oid_busy = FALSE;
    put_user_locked(b);
    NdisReleaseSpinLock(&g_lock);
}

static NTSTATUS do_oid(NDIS_REQUEST_TYPE type, NDIS_OID oid, PVOID buf, ULONG len, ULONG *done)
{
    if (len > sizeof(((pt_binding *)0)->oid_buf))
        return STATUS_INVALID_PARAMETER;
    pt_binding *b = get_oid_binding();
    if (!b)
        return STATUS_DEVICE_NOT_READY;
    NdisZeroMemory(&b->oid, sizeof(b->oid));
    NU_INIT_HEADER(&b->oid.Header, NDIS_OBJECT_TYPE_OID_REQUEST, NDIS_OID_REQUEST_REVISION_1,
                   NDIS_SIZEOF_OID_REQUEST_REVISION_1);
    b->oid.RequestType = type;
    b->oid.DATA.QUERY_INFORMATION.Oid = oid;
    b->oid.DATA.QUERY_INFORMATION.InformationBuffer = b->oid_buf;
    b->oid.DATA.QUERY_INFORMATION.InformationBufferLength = len;
    if (type == NdisRequestSetInformation)
        NdisMoveMemory(b->oid_buf, buf, len);
    NdisResetEvent(&b->oid_done);
    NDIS_STATUS st = NdisOidRequest(b->handle, &b->oid);
    if (st == NDIS_STATUS_PENDING) {
        NdisWaitEvent(&b->oid_done, 0);
        st = b->oid_status;
    }
    if (st == NDIS_STATUS_SUCCESS && type == NdisRequestQueryInformation) {
        NdisMoveMemory(buf, b->oid_buf, len);
        *done = b->oid.DATA.QUERY_INFORMATION.BytesWritten;
    }
    put_oid_binding(b);
    return st == NDIS_STATUS_SUCCESS ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
}

/* ---- control device ---- */

static NTSTATUS get_stats(PUCHAR buf, ULONG out, ULONG *info)
{
    if (out < sizeof(g_stats))
        return STATUS_BUFFER_TOO_SMALL;
    NdisAcquireSpinLock(&g_lock);
    unsigned int bound = 0;
    for (int i = 0; i < PT_MAX_BINDINGS; i++)
        bound += g_bind[i].in_use;
    g_stats.bound = bound;
    NdisMoveMemory(buf, &g_stats, sizeof(g_stats));
    NdisReleaseSpinLock(&g_lock);
    *info = sizeof(g_stats);
    return STATUS_SUCCESS;
}

static NTSTATUS device_control(PIO_STACK_LOCATION sp, PUCHAR buf, ULONG *info)
{
    ULONG in = sp->Parameters.DeviceIoControl.InputBufferLength;
    ULONG out = sp->Parameters.DeviceIoControl.OutputBufferLength;
    switch (sp->Parameters.DeviceIoControl.IoControlCode) {
    case IOCTL_MINIPROT_SEND:
        return pt_send_frame(buf, in);
    case IOCTL_MINIPROT_TRICKLE:
        return pt_trickle_io(buf, in);
    case IOCTL_MINIPROT_STATS:
        return get_stats(buf, out, info);
    case IOCTL_MINIPROT_SET_FILTER:
        return in < sizeof(ULONG) ? STATUS_INVALID_PARAMETER
                                  : do_oid(NdisRequestSetInformation, OID_GEN_CURRENT_PACKET_FILTER,
                                           buf, sizeof(ULONG), info);
    case IOCTL_MINIPROT_QUERY_MAC:
        return out < 6
                   ? STATUS_BUFFER_TOO_SMALL
                   : do_oid(NdisRequestQueryInformation, OID_802_3_CURRENT_ADDRESS, buf, 6, info);
    case IOCTL_MINIPROT_CANCEL:
        return cancel_sends();
    case IOCTL_MINIPROT_QUERY_MEDIA:
        return out < sizeof(ULONG) ? STATUS_BUFFER_TOO_SMALL
                                   : do_oid(NdisRequestQueryInformation,
                                            OID_GEN_MEDIA_CONNECT_STATUS, buf, sizeof(ULONG), info);
    case IOCTL_MINIPROT_SET_LSO:
        NdisAcquireSpinLock(&g_lock);
        g_lso = in >= sizeof(ULONG) ? *(ULONG *)buf : 0;
        NdisReleaseSpinLock(&g_lock);
        return STATUS_SUCCESS;
    case IOCTL_MINIPROT_BURST:
        return pt_burst_io(buf, in, buf, out, info);
    case IOCTL_MINIPROT_SELECT:
        NdisAcquireSpinLock(&g_lock);
        g_select = in >= sizeof(ULONG) ? *(ULONG *)buf : 0;
        NdisReleaseSpinLock(&g_lock);
        return STATUS_SUCCESS;
    case IOCTL_MINIPROT_BINDING_RX: {
        if (in < sizeof(ULONG) || out < sizeof(ULONG64))
            return STATUS_BUFFER_TOO_SMALL;
        ULONG want = *(ULONG *)buf;
        ULONG64 n = 0;
        BOOLEAN found = FALSE;
        NdisAcquireSpinLock(&g_lock);
        for (int i = 0; i < PT_MAX_BINDINGS; i++) {
            if (g_bind[i].in_use && g_bind[i].if_index == want) {
                n = g_bind[i].received;
                found = TRUE;
            }
        }
        NdisReleaseSpinLock(&g_lock);
        if (!found)
            return STATUS_NOT_FOUND;
        NdisMoveMemory(buf, &n, sizeof(n));
        *info = sizeof(n);
        return STATUS_SUCCESS;
    }
    case IOCTL_MINIPROT_RX_INLINE:
        NdisAcquireSpinLock(&g_lock);
        g_rx_inline = in >= sizeof(ULONG) ? *(ULONG *)buf : 0;
        NdisReleaseSpinLock(&g_lock);
        return STATUS_SUCCESS;
    case IOCTL_MINIPROT_VETO:
        NdisAcquireSpinLock(&g_lock);
        g_veto = in >= sizeof(ULONG) ? *(ULONG *)buf : 0;
        NdisReleaseSpinLock(&g_lock);
        return STATUS_SUCCESS;
    default:
        return STATUS_INVALID_DEVICE_REQUEST;
    }
}

#if DRIVER_BREAK == BRK_IRP_COMPLETE_CANCELABLE
static void PtCancel(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    IoReleaseCancelSpinLock(irp->CancelIrql);
}
#endif

#if DRIVER_BREAK == BRK_IRP_CANCEL_IGNORED
/* Gives the cancel spin lock back but neither completes the IRP nor hands
 * it to anyone who will. */
static void PtCancelIgnore(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    IoReleaseCancelSpinLock(irp->CancelIrql);
}
#endif

static NTSTATUS PtDispatch(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    NTSTATUS st = STATUS_SUCCESS;
    ULONG info = 0;
    BOOLEAN ioctl = sp->MajorFunction == IRP_MJ_DEVICE_CONTROL;
    if (BROKEN(BRK_IRP_PENDING_AT_CLEANUP) && ioctl) {
        IoMarkIrpPending(irp); /* kept forever: cleanup does not end it */
        return STATUS_PENDING;
    }
#if DRIVER_BREAK == BRK_IRP_CANCEL_IGNORED
    if (ioctl) {
        IoMarkIrpPending(irp); /* cancellable, but cancelling it ends nothing */
        IoSetCancelRoutine(irp, PtCancelIgnore);
        return STATUS_PENDING;
    }
#endif
    if (BROKEN(BRK_CANCEL_LOCK_NOT_HELD) && ioctl)
        IoReleaseCancelSpinLock(PASSIVE_LEVEL); /* never acquired */
#if DRIVER_BREAK == BRK_IRP_COMPLETE_CANCELABLE
    if (ioctl)
        IoSetCancelRoutine(irp, PtCancel); /* and never cleared */
#endif
    if (ioctl && sp->Parameters.DeviceIoControl.IoControlCode == IOCTL_MINIPROT_OID) {
        st = pt_oid_io_start(irp, sp);
        if (st == STATUS_PENDING)
            return st; /* completed (or to be) by pt_oid_io_complete */
    } else if (ioctl) {
        st = device_control(sp, irp->AssociatedIrp.SystemBuffer, &info);
    }
    irp->IoStatus.Status = st;
    irp->IoStatus.Information = info;
    if (BROKEN(BRK_COMPLETE_UNDER_LOCK))
        NdisAcquireSpinLock(&g_lock); /* SpinLockSafe: IoCompleteRequest with none held */
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    if (BROKEN(BRK_COMPLETE_UNDER_LOCK))
        NdisReleaseSpinLock(&g_lock);
    if (BROKEN(BRK_IRP_COMPLETE_TWICE) && sp->MajorFunction == IRP_MJ_DEVICE_CONTROL)
        IoCompleteRequest(irp, IO_NO_INCREMENT);
    if (BROKEN(BRK_DISPATCH_KEEPS_CANCEL_LOCK) && ioctl) {
        KIRQL old;
        IoAcquireCancelSpinLock(&old); /* and returns holding it */
    }
    return st;
}

static void PtUnload(PDRIVER_OBJECT drv)
{
    UNREFERENCED_PARAMETER(drv);
    pt_trickle_free();
    NdisDeregisterProtocolDriver(g_proto);
    if (g_dev_handle)
        NdisDeregisterDeviceEx(g_dev_handle);
    NdisFreeGenericObject(g_obj);
    NdisFreeSpinLock(&g_lock);
}

/* Cancels this driver's sends with one cancel ID on the running binding
 * (none carry it: the cancel must still reach the miniport below). */
static NTSTATUS cancel_sends(void)
{
    NdisAcquireSpinLock(&g_lock);
    pt_binding *b = running_binding_locked();
    if (b)
        b->users++;
    NdisReleaseSpinLock(&g_lock);
    if (!b)
        return STATUS_DEVICE_NOT_READY;
    UCHAR id = NdisGeneratePartialCancelId();
    NdisCancelSendNetBufferLists(b->handle, (PVOID)(ULONG_PTR)((ULONG_PTR)id << 56 | 1));
    NdisAcquireSpinLock(&g_lock);
    put_user_locked(b);
    NdisReleaseSpinLock(&g_lock);
    return STATUS_SUCCESS;
}

static NDIS_STATUS register_device(void)
{
    static PDRIVER_DISPATCH major[IRP_MJ_MAXIMUM_FUNCTION + 1];
    major[IRP_MJ_CREATE] = PtDispatch;
    major[IRP_MJ_CLOSE] = PtDispatch;
    major[IRP_MJ_CLEANUP] = PtDispatch;
    major[IRP_MJ_DEVICE_CONTROL] = PtDispatch;
    NDIS_STRING dev = NDIS_STRING_CONST("\\Device\\MiniProt");
    NDIS_STRING link = NDIS_STRING_CONST("\\DosDevices\\MiniProt");
    NDIS_DEVICE_OBJECT_ATTRIBUTES da;
    NdisZeroMemory(&da, sizeof(da));
    NU_INIT_HEADER(&da.Header, NDIS_OBJECT_TYPE_DEVICE_OBJECT_ATTRIBUTES,
                   NDIS_DEVICE_OBJECT_ATTRIBUTES_REVISION_1,
                   NDIS_SIZEOF_DEVICE_OBJECT_ATTRIBUTES_REVISION_1);
    da.DeviceName = &dev;
    da.SymbolicName = &link;
    da.MajorFunctions = major;
    return NdisRegisterDeviceEx(g_proto, &da, &g_dev, &g_dev_handle);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    NdisZeroMemory(&g_stats, sizeof(g_stats));
    NdisZeroMemory(g_bind, sizeof(g_bind));
    g_veto = 0;
    NdisAllocateSpinLock(&g_lock);
    NDIS_PROTOCOL_DRIVER_CHARACTERISTICS ch;
    NdisZeroMemory(&ch, sizeof(ch));
    NU_INIT_HEADER(&ch.Header, NDIS_OBJECT_TYPE_PROTOCOL_DRIVER_CHARACTERISTICS,
                   NDIS_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2,
                   NDIS_SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2);
    ch.MajorNdisVersion = NDIS_PROTOCOL_MAJOR_VERSION;
    ch.MinorNdisVersion = NDIS_PROTOCOL_MINOR_VERSION;
    NDIS_STRING name = NDIS_STRING_CONST("MINIPROT");
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
    g_obj = NdisAllocateGenericObject(DriverObject, PT_TAG, 0);
    if (!g_obj)
        return STATUS_UNSUCCESSFUL;
    NDIS_STATUS st = NdisRegisterProtocolDriver(NULL, &ch, &g_proto);
    if (st != NDIS_STATUS_SUCCESS) {
        NdisFreeGenericObject(g_obj);
        return STATUS_UNSUCCESSFUL;
    }
    if (register_device() != NDIS_STATUS_SUCCESS) {
        NdisDeregisterProtocolDriver(g_proto);
        NdisFreeGenericObject(g_obj);
        return STATUS_UNSUCCESSFUL;
    }
    if (pt_trickle_init() != NDIS_STATUS_SUCCESS) {
        PtUnload(DriverObject);
        return STATUS_UNSUCCESSFUL;
    }
    DriverObject->DriverUnload = PtUnload;
    return STATUS_SUCCESS;
}
