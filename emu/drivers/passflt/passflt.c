/*
 * passflt.c - a pass-through NDIS 6.30 lightweight filter for ndisemu's
 * self-tests and vfo's scenarios (see passflt.h for its settings).
 *
 * Everything passes through: sends and their completions, receives and
 * their returns, OID requests (as clones, the way Microsoft documents a
 * filter forwarding a request), status indications, network and device
 * PnP events. With HoldNblMs a running module queues sends and receives
 * and forwards them from a timer; with PendOidMs it forwards OID requests
 * from the same timer. Its pause flushes what it holds, then pends until
 * everything it passed on is back (NdisFPauseComplete). The same source
 * builds the broken filter variants (minimp_break.h, codes 90-99).
 *
 * Concurrency: each module's lock protects its state, queues and counters;
 * NDIS is never called with it held. g_lock protects the statistics.
 */
#include <ndis.h>

#include "minimp_break.h"
#include "nu_object.h"
#include "passflt.h"

#define PF_TAG      'tlFP'
#define PF_MAX_OIDS 16

typedef struct pf_config {
    ULONG hold_ms, pend_oid_ms;
    BOOLEAN fail_attach, bypass_receive;
} pf_config;

typedef struct pf_module {
    NDIS_HANDLE handle;
    pf_config cfg;
    NDIS_SPIN_LOCK lock;
    NDIS_HANDLE timer; /* forwards what is held */
    NDIS_HANDLE pool;  /* NBLs of its own (the broken variants originate them) */
    /* lock */
    BOOLEAN running, pause_pending, timer_armed;
    ULONG outstanding; /* passed on and not back yet */
    PNET_BUFFER_LIST tx_head, *tx_tail, rx_head, *rx_tail;
    ULONG n_rx;
    PNDIS_OID_REQUEST oids[PF_MAX_OIDS];
    ULONG n_oids;
} pf_module;

static NDIS_HANDLE g_filter, g_dev_handle;
static PDEVICE_OBJECT g_dev;
static NDIS_SPIN_LOCK g_lock;
static passflt_stats g_stats;

static void count(unsigned long long *field, unsigned long long n)
{
    NdisAcquireSpinLock(&g_lock);
    *field += n;
    NdisReleaseSpinLock(&g_lock);
}

static ULONG chain_length(PNET_BUFFER_LIST nbl)
{
    ULONG n = 0;
    for (; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl))
        n++;
    return n;
}

static void append(PNET_BUFFER_LIST **tail, PNET_BUFFER_LIST chain)
{
    **tail = chain;
    while (chain) {
        *tail = &NET_BUFFER_LIST_NEXT_NBL(chain);
        chain = NET_BUFFER_LIST_NEXT_NBL(chain);
    }
}

/* ---- configuration ---- */

static ULONG read_ulong(NDIS_HANDLE cfg, NDIS_STRING key, ULONG dflt)
{
    PNDIS_CONFIGURATION_PARAMETER p;
    NDIS_STATUS st;
    NdisReadConfiguration(&st, &p, cfg, &key, NdisParameterInteger);
    return st == NDIS_STATUS_SUCCESS ? p->ParameterData.IntegerData : dflt;
}

static void read_config(NDIS_HANDLE handle, pf_config *c)
{
    NdisZeroMemory(c, sizeof(*c));
    NDIS_CONFIGURATION_OBJECT co;
    NDIS_HANDLE cfg;
    NdisZeroMemory(&co, sizeof(co));
    NU_INIT_HEADER(&co.Header, NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT,
                   NDIS_CONFIGURATION_OBJECT_REVISION_1,
                   NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1);
    co.NdisHandle = handle;
    if (NdisOpenConfigurationEx(&co, &cfg) != NDIS_STATUS_SUCCESS)
        return;
    NDIS_STRING hold = NDIS_STRING_CONST("HoldNblMs"), pend = NDIS_STRING_CONST("PendOidMs");
    NDIS_STRING fail = NDIS_STRING_CONST("FailAttach");
    NDIS_STRING bypass = NDIS_STRING_CONST("BypassReceive");
    c->hold_ms = read_ulong(cfg, hold, 0);
    c->pend_oid_ms = read_ulong(cfg, pend, 0);
    c->fail_attach = read_ulong(cfg, fail, 0) != 0;
    c->bypass_receive = read_ulong(cfg, bypass, 0) != 0;
    NdisCloseConfiguration(cfg);
    if (BROKEN(BRK_FLT_PAUSE_WITH_HELD))
        c->hold_ms = 50;
}

/* ---- pause bookkeeping ---- */

/* m->lock held: n NBLs came back; true when that finishes a pended pause. */
static BOOLEAN back_locked(pf_module *m, ULONG n)
{
    m->outstanding -= n;
    if (m->outstanding == 0 && m->pause_pending) {
        m->pause_pending = FALSE;
        return TRUE;
    }
    return FALSE;
}

static void back(pf_module *m, ULONG n)
{
    NdisAcquireSpinLock(&m->lock);
    BOOLEAN done = back_locked(m, n);
    NdisReleaseSpinLock(&m->lock);
    if (done)
        NdisFPauseComplete(m->handle);
}

static void arm_timer_locked(pf_module *m, ULONG ms)
{
    if (m->timer_armed)
        return;
    m->timer_armed = TRUE;
    LARGE_INTEGER due;
    due.QuadPart = -(LONGLONG)ms * 10000;
    NdisSetTimerObject(m->timer, due, 0, m);
}

/* ---- sends ---- */

static void pass_sends(pf_module *m, PNET_BUFFER_LIST chain, NDIS_PORT_NUMBER port, ULONG flags)
{
    ULONG n = chain_length(chain);
    NdisAcquireSpinLock(&m->lock);
    m->outstanding += n;
    NdisReleaseSpinLock(&m->lock);
    count(&g_stats.tx_passed, n);
    NdisFSendNetBufferLists(m->handle, chain, port, flags);
}

static void PfSend(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbl, NDIS_PORT_NUMBER port, ULONG flags)
{
    pf_module *m = ctx;
    NdisAcquireSpinLock(&m->lock);
    if (m->cfg.hold_ms && m->running && port == NDIS_DEFAULT_PORT_NUMBER) {
        append(&m->tx_tail, nbl);
        arm_timer_locked(m, m->cfg.hold_ms);
        NdisReleaseSpinLock(&m->lock);
        count(&g_stats.tx_held, chain_length(nbl));
        return;
    }
    NdisReleaseSpinLock(&m->lock);
    pass_sends(m, nbl, port, flags);
}

static void PfSendComplete(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbl, ULONG flags)
{
    pf_module *m = ctx;
    PNET_BUFFER_LIST up = NULL, *tail = &up;
    ULONG n = 0;
    while (nbl) {
        PNET_BUFFER_LIST next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        if (nbl->SourceHandle == m->handle) {
            NdisFreeNetBufferList(nbl); /* one of its own */
        } else {
            *tail = nbl;
            tail = &NET_BUFFER_LIST_NEXT_NBL(nbl);
        }
        n++;
        nbl = next;
    }
    if (up)
        NdisFSendNetBufferListsComplete(m->handle, up, flags);
    back(m, n);
}

static void PfCancelSend(NDIS_HANDLE ctx, PVOID id)
{
    pf_module *m = ctx;
    NdisFCancelSendNetBufferLists(m->handle, id);
}

/* ---- receives ---- */

static void pass_receives(pf_module *m, PNET_BUFFER_LIST chain, NDIS_PORT_NUMBER port, ULONG n,
                          ULONG flags)
{
    BOOLEAN lent = (flags & NDIS_RECEIVE_FLAGS_RESOURCES) != 0; /* back when the call returns */
    if (!lent) {
        NdisAcquireSpinLock(&m->lock);
        m->outstanding += n;
        NdisReleaseSpinLock(&m->lock);
    }
    count(&g_stats.rx_passed, n);
    NdisFIndicateReceiveNetBufferLists(m->handle, chain, port, n, flags);
    if (BROKEN(BRK_FLT_RETURN_EARLY) && !lent) {
        /* Gives the first NBL back to the miniport while the protocol above
         * (which returns from a timer) still has it. */
        NET_BUFFER_LIST_NEXT_NBL(chain) = NULL;
        NdisFReturnNetBufferLists(m->handle, chain, 0);
    }
}

static void PfReceive(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbl, NDIS_PORT_NUMBER port, ULONG n,
                      ULONG flags)
{
    pf_module *m = ctx;
    NdisAcquireSpinLock(&m->lock);
    if (m->cfg.hold_ms && m->running && port == NDIS_DEFAULT_PORT_NUMBER &&
        !(flags & NDIS_RECEIVE_FLAGS_RESOURCES)) {
        append(&m->rx_tail, nbl);
        m->n_rx += n;
        arm_timer_locked(m, m->cfg.hold_ms);
        NdisReleaseSpinLock(&m->lock);
        count(&g_stats.rx_held, n);
        return;
    }
    NdisReleaseSpinLock(&m->lock);
    pass_receives(m, nbl, port, n, flags);
}

static void PfReturn(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbl, ULONG flags)
{
    pf_module *m = ctx;
    PNET_BUFFER_LIST down = NULL, *tail = &down;
    ULONG n = 0;
    while (nbl) {
        PNET_BUFFER_LIST next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        if (nbl->SourceHandle == m->handle) {
            NdisFreeNetBufferList(nbl);
        } else {
            *tail = nbl;
            tail = &NET_BUFFER_LIST_NEXT_NBL(nbl);
        }
        n++;
        nbl = next;
    }
    if (down)
        NdisFReturnNetBufferLists(m->handle, down, flags);
    back(m, n);
}

/* ---- OID requests: forwarded as clones ---- */

static void PfOidComplete(NDIS_HANDLE ctx, PNDIS_OID_REQUEST clone, NDIS_STATUS st)
{
    pf_module *m = ctx;
    PNDIS_OID_REQUEST orig;
    NdisMoveMemory(&orig, clone->SourceReserved, sizeof(orig));
    /* the buffers are the original's; only the byte counts come back */
    orig->DATA = clone->DATA;
    NdisFreeCloneOidRequest(m->handle, clone);
    NdisFOidRequestComplete(m->handle, orig, st);
    if (BROKEN(BRK_FLT_OID_COMPLETE_TWICE))
        NdisFOidRequestComplete(m->handle, orig, st);
}

static void forward_oid(pf_module *m, PNDIS_OID_REQUEST clone)
{
    NDIS_STATUS st = NdisFOidRequest(m->handle, clone);
    if (st != NDIS_STATUS_PENDING)
        PfOidComplete(m, clone, st);
}

static NDIS_STATUS PfOid(NDIS_HANDLE ctx, PNDIS_OID_REQUEST req)
{
    pf_module *m = ctx;
    PNDIS_OID_REQUEST clone;
    NDIS_STATUS st = NdisAllocateCloneOidRequest(m->handle, req, PF_TAG, &clone);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    NdisMoveMemory(clone->SourceReserved, &req, sizeof(req));
    count(&g_stats.oids, 1);
    NdisAcquireSpinLock(&m->lock);
    if (m->cfg.pend_oid_ms && m->running && m->n_oids < PF_MAX_OIDS) {
        m->oids[m->n_oids++] = clone;
        arm_timer_locked(m, m->cfg.pend_oid_ms);
        NdisReleaseSpinLock(&m->lock);
        count(&g_stats.oids_pended, 1);
        return NDIS_STATUS_PENDING;
    }
    NdisReleaseSpinLock(&m->lock);
    forward_oid(m, clone);
    return NDIS_STATUS_PENDING;
}

static void PfCancelOid(NDIS_HANDLE ctx, PVOID id)
{
    pf_module *m = ctx;
    NdisFCancelOidRequest(m->handle, id);
}

/* ---- what is held goes on (timer, or pause) ---- */

static void flush(pf_module *m, BOOLEAN dispatch)
{
    NdisAcquireSpinLock(&m->lock);
    PNET_BUFFER_LIST tx = m->tx_head, rx = m->rx_head;
    ULONG n_rx = m->n_rx, n_oids = m->n_oids;
    PNDIS_OID_REQUEST oids[PF_MAX_OIDS];
    NdisMoveMemory(oids, m->oids, n_oids * sizeof(oids[0]));
    m->tx_head = m->rx_head = NULL;
    m->tx_tail = &m->tx_head;
    m->rx_tail = &m->rx_head;
    m->n_rx = m->n_oids = 0;
    NdisReleaseSpinLock(&m->lock);
    if (tx)
        pass_sends(m, tx, NDIS_DEFAULT_PORT_NUMBER, dispatch ? NDIS_SEND_FLAGS_DISPATCH_LEVEL : 0);
    if (rx)
        pass_receives(m, rx, NDIS_DEFAULT_PORT_NUMBER, n_rx,
                      dispatch ? NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL : 0);
    for (ULONG i = 0; i < n_oids; i++)
        forward_oid(m, oids[i]);
}

static void PfTimer(PVOID sys1, PVOID ctx, PVOID sys2, PVOID sys3)
{
    UNREFERENCED_PARAMETER(sys1);
    UNREFERENCED_PARAMETER(sys2);
    UNREFERENCED_PARAMETER(sys3);
    pf_module *m = ctx;
    NdisAcquireSpinLock(&m->lock);
    m->timer_armed = FALSE;
    NdisReleaseSpinLock(&m->lock);
    flush(m, TRUE);
}

/* ---- module lifecycle ---- */

static NDIS_STATUS module_resources(pf_module *m)
{
    NDIS_TIMER_CHARACTERISTICS tc;
    NdisZeroMemory(&tc, sizeof(tc));
    NU_INIT_HEADER(&tc.Header, NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS,
                   NDIS_TIMER_CHARACTERISTICS_REVISION_1,
                   NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1);
    tc.AllocationTag = PF_TAG;
    tc.TimerFunction = PfTimer;
    tc.FunctionContext = m;
    if (NdisAllocateTimerObject(m->handle, &tc, &m->timer) != NDIS_STATUS_SUCCESS)
        return NDIS_STATUS_RESOURCES;
    NET_BUFFER_LIST_POOL_PARAMETERS pp;
    NdisZeroMemory(&pp, sizeof(pp));
    NU_INIT_HEADER(&pp.Header, NDIS_OBJECT_TYPE_DEFAULT, NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
                   NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1);
    pp.ProtocolId = NDIS_PROTOCOL_ID_DEFAULT;
    pp.fAllocateNetBuffer = TRUE;
    pp.DataSize = 60;
    pp.PoolTag = PF_TAG;
    m->pool = NdisAllocateNetBufferListPool(m->handle, &pp);
    if (!m->pool) {
        NdisFreeTimerObject(m->timer);
        return NDIS_STATUS_RESOURCES;
    }
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS PfAttach(NDIS_HANDLE handle, NDIS_HANDLE drvctx,
                            PNDIS_FILTER_ATTACH_PARAMETERS ap)
{
    UNREFERENCED_PARAMETER(drvctx);
    UNREFERENCED_PARAMETER(ap);
    pf_module *m =
        NdisAllocateMemoryWithTagPriority(handle, sizeof(*m), PF_TAG, NormalPoolPriority);
    if (!m)
        return NDIS_STATUS_RESOURCES;
    NdisZeroMemory(m, sizeof(*m));
    m->handle = handle;
    read_config(handle, &m->cfg);
    if (m->cfg.fail_attach) {
        NdisFreeMemoryWithTagPriority(handle, m, PF_TAG);
        count(&g_stats.attach_failures, 1);
        return NDIS_STATUS_FAILURE;
    }
    if (module_resources(m) != NDIS_STATUS_SUCCESS) {
        NdisFreeMemoryWithTagPriority(handle, m, PF_TAG);
        return NDIS_STATUS_RESOURCES;
    }
    NdisAllocateSpinLock(&m->lock);
    m->tx_tail = &m->tx_head;
    m->rx_tail = &m->rx_head;
    NDIS_FILTER_ATTRIBUTES fa;
    NdisZeroMemory(&fa, sizeof(fa));
    NU_INIT_HEADER(&fa.Header, NDIS_OBJECT_TYPE_FILTER_ATTRIBUTES,
                   NDIS_FILTER_ATTRIBUTES_REVISION_1, NDIS_SIZEOF_FILTER_ATTRIBUTES_REVISION_1);
    if (BROKEN(BRK_FLT_ATTRIBUTES_UNDER_LOCK))
        NdisAcquireSpinLock(&m->lock); /* NdisFSetAttributes: PASSIVE_LEVEL only */
    if (!BROKEN(BRK_FLT_NO_ATTRIBUTES))
        NdisFSetAttributes(handle, m, &fa);
    if (BROKEN(BRK_FLT_ATTRIBUTES_UNDER_LOCK))
        NdisReleaseSpinLock(&m->lock);
    NdisAcquireSpinLock(&g_lock);
    g_stats.attaches++;
    g_stats.modules++;
    NdisReleaseSpinLock(&g_lock);
    return NDIS_STATUS_SUCCESS;
}

/* The broken variants 90/91: an NBL of its own, sent or indicated by a
 * module that is paused (FilterDetach runs on a paused module). */
static void originate_while_paused(pf_module *m)
{
    PNET_BUFFER_LIST nbl = NdisAllocateNetBufferList(m->pool, 0, 0);
    if (!nbl)
        return;
    nbl->SourceHandle = m->handle;
    if (BROKEN(BRK_FLT_SEND_WHILE_PAUSED))
        NdisFSendNetBufferLists(m->handle, nbl, NDIS_DEFAULT_PORT_NUMBER, 0);
    else
        NdisFIndicateReceiveNetBufferLists(m->handle, nbl, NDIS_DEFAULT_PORT_NUMBER, 1, 0);
}

static void PfDetach(NDIS_HANDLE ctx)
{
    pf_module *m = ctx;
    if (BROKEN(BRK_FLT_SEND_WHILE_PAUSED) || BROKEN(BRK_FLT_INDICATE_WHILE_PAUSED))
        originate_while_paused(m);
    /* Paused: nothing held, the timer neither set nor running (the pause
     * cancelled it and flushed its work). */
    NdisFreeNetBufferListPool(m->pool);
    NdisFreeTimerObject(m->timer);
    NdisFreeSpinLock(&m->lock);
    NdisFreeMemoryWithTagPriority(m->handle, m, PF_TAG);
    NdisAcquireSpinLock(&g_lock);
    g_stats.detaches++;
    g_stats.modules--;
    NdisReleaseSpinLock(&g_lock);
}

static NDIS_STATUS PfRestart(NDIS_HANDLE ctx, PNDIS_FILTER_RESTART_PARAMETERS rp)
{
    UNREFERENCED_PARAMETER(rp);
    pf_module *m = ctx;
    NdisAcquireSpinLock(&m->lock);
    m->running = TRUE;
    NdisReleaseSpinLock(&m->lock);
    count(&g_stats.restarts, 1);
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS PfPause(NDIS_HANDLE ctx, PNDIS_FILTER_PAUSE_PARAMETERS pp)
{
    UNREFERENCED_PARAMETER(pp);
    pf_module *m = ctx;
    count(&g_stats.pauses, 1);
    if (BROKEN(BRK_FLT_PAUSE_RETURNS_FAILURE))
        return NDIS_STATUS_FAILURE;
    NdisAcquireSpinLock(&m->lock);
    m->running = FALSE;
    NdisReleaseSpinLock(&m->lock);
    if (BROKEN(BRK_FLT_PAUSE_WITH_HELD))
        return NDIS_STATUS_SUCCESS; /* what it holds stays held */
    /* Nothing is held past this point: the timer's work is done here. A
     * timer callback already running finds the queues empty. */
    if (NdisCancelTimerObject(m->timer)) {
        NdisAcquireSpinLock(&m->lock);
        m->timer_armed = FALSE;
        NdisReleaseSpinLock(&m->lock);
    }
    flush(m, FALSE);
    NdisAcquireSpinLock(&m->lock);
    BOOLEAN pend = m->outstanding != 0;
    m->pause_pending = pend;
    NdisReleaseSpinLock(&m->lock);
    return pend ? NDIS_STATUS_PENDING : NDIS_STATUS_SUCCESS;
}

/* BypassReceive: the module leaves the receive path (NDIS then indicates
 * past it), keeping the send path. */
static NDIS_STATUS PfSetModuleOptions(NDIS_HANDLE ctx)
{
    pf_module *m = ctx;
    if (!m->cfg.bypass_receive)
        return NDIS_STATUS_SUCCESS;
    NDIS_FILTER_PARTIAL_CHARACTERISTICS pc;
    NdisZeroMemory(&pc, sizeof(pc));
    NU_INIT_HEADER(&pc.Header, NDIS_OBJECT_TYPE_FILTER_PARTIAL_CHARACTERISTICS,
                   NDIS_FILTER_PARTIAL_CHARACTERISTICS_REVISION_1,
                   NDIS_SIZEOF_FILTER_PARTIAL_CHARACTERISTICS_REVISION_1);
    pc.SendNetBufferListsHandler = PfSend;
    pc.SendNetBufferListsCompleteHandler = PfSendComplete;
    pc.CancelSendNetBufferListsHandler = PfCancelSend;
    return NdisSetOptionalHandlers(m->handle, (PNDIS_DRIVER_OPTIONAL_HANDLERS)&pc);
}

/* ---- status and PnP ---- */

static void PfStatus(NDIS_HANDLE ctx, PNDIS_STATUS_INDICATION si)
{
    pf_module *m = ctx;
    count(&g_stats.status, 1);
    NdisFIndicateStatus(m->handle, si);
}

static NDIS_STATUS PfNetPnPEvent(NDIS_HANDLE ctx, PNET_PNP_EVENT_NOTIFICATION n)
{
    pf_module *m = ctx;
    count(&g_stats.net_pnp, 1);
    return NdisFNetPnPEvent(m->handle, n);
}

static void PfDevicePnPEvent(NDIS_HANDLE ctx, PNET_DEVICE_PNP_EVENT ev)
{
    pf_module *m = ctx;
    count(&g_stats.device_pnp, 1);
    NdisFDevicePnPEventNotify(m->handle, ev);
}

/* ---- control device ---- */

static NTSTATUS PfDispatch(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    NTSTATUS st = STATUS_SUCCESS;
    ULONG info = 0;
    if (sp->MajorFunction == IRP_MJ_DEVICE_CONTROL) {
        if (sp->Parameters.DeviceIoControl.IoControlCode != IOCTL_PASSFLT_STATS) {
            st = STATUS_INVALID_DEVICE_REQUEST;
        } else if (sp->Parameters.DeviceIoControl.OutputBufferLength < sizeof(passflt_stats)) {
            st = STATUS_BUFFER_TOO_SMALL;
        } else {
            NdisAcquireSpinLock(&g_lock);
            NdisMoveMemory(irp->AssociatedIrp.SystemBuffer, &g_stats, sizeof(g_stats));
            NdisReleaseSpinLock(&g_lock);
            info = sizeof(passflt_stats);
        }
    }
    irp->IoStatus.Status = st;
    irp->IoStatus.Information = info;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return st;
}

static NDIS_STATUS register_device(void)
{
    static PDRIVER_DISPATCH major[IRP_MJ_MAXIMUM_FUNCTION + 1];
    major[IRP_MJ_CREATE] = PfDispatch;
    major[IRP_MJ_CLOSE] = PfDispatch;
    major[IRP_MJ_CLEANUP] = PfDispatch;
    major[IRP_MJ_DEVICE_CONTROL] = PfDispatch;
    NDIS_STRING dev = NDIS_STRING_CONST("\\Device\\PassFlt");
    NDIS_STRING link = NDIS_STRING_CONST("\\DosDevices\\PassFlt");
    NDIS_DEVICE_OBJECT_ATTRIBUTES da;
    NdisZeroMemory(&da, sizeof(da));
    NU_INIT_HEADER(&da.Header, NDIS_OBJECT_TYPE_DEVICE_OBJECT_ATTRIBUTES,
                   NDIS_DEVICE_OBJECT_ATTRIBUTES_REVISION_1,
                   NDIS_SIZEOF_DEVICE_OBJECT_ATTRIBUTES_REVISION_1);
    da.DeviceName = &dev;
    da.SymbolicName = &link;
    da.MajorFunctions = major;
    return NdisRegisterDeviceEx(g_filter, &da, &g_dev, &g_dev_handle);
}

static void PfUnload(PDRIVER_OBJECT drv)
{
    UNREFERENCED_PARAMETER(drv);
    if (g_dev_handle)
        NdisDeregisterDeviceEx(g_dev_handle);
    NdisFDeregisterFilterDriver(g_filter);
    NdisFreeSpinLock(&g_lock);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    NdisZeroMemory(&g_stats, sizeof(g_stats));
    NdisAllocateSpinLock(&g_lock);
    NDIS_FILTER_DRIVER_CHARACTERISTICS ch;
    NdisZeroMemory(&ch, sizeof(ch));
    NU_INIT_HEADER(&ch.Header, NDIS_OBJECT_TYPE_FILTER_DRIVER_CHARACTERISTICS,
                   NDIS_FILTER_CHARACTERISTICS_REVISION_2,
                   NDIS_SIZEOF_FILTER_DRIVER_CHARACTERISTICS_REVISION_2);
    ch.MajorNdisVersion = NDIS_FILTER_MAJOR_VERSION;
    ch.MinorNdisVersion = NDIS_FILTER_MINOR_VERSION;
    NDIS_STRING friendly = NDIS_STRING_CONST("Pass-through test filter");
    NDIS_STRING unique = NDIS_STRING_CONST("{5cbf81bd-5055-47cd-9055-a76b2b4e3697}");
    NDIS_STRING service = NDIS_STRING_CONST("passflt");
    ch.FriendlyName = friendly;
    ch.UniqueName = unique;
    ch.ServiceName = service;
    ch.AttachHandler = PfAttach;
    ch.DetachHandler = PfDetach;
    ch.RestartHandler = PfRestart;
    ch.PauseHandler = PfPause;
    ch.SetFilterModuleOptionsHandler = PfSetModuleOptions;
    ch.SendNetBufferListsHandler = PfSend;
    ch.SendNetBufferListsCompleteHandler = PfSendComplete;
    ch.CancelSendNetBufferListsHandler = PfCancelSend;
    ch.ReceiveNetBufferListsHandler = PfReceive;
    ch.ReturnNetBufferListsHandler = PfReturn;
    ch.OidRequestHandler = PfOid;
    ch.OidRequestCompleteHandler = PfOidComplete;
    ch.CancelOidRequestHandler = PfCancelOid;
    ch.StatusHandler = PfStatus;
    ch.NetPnPEventHandler = PfNetPnPEvent;
    ch.DevicePnPEventNotifyHandler = PfDevicePnPEvent;
    if (NdisFRegisterFilterDriver(DriverObject, NULL, &ch, &g_filter) != NDIS_STATUS_SUCCESS) {
        NdisFreeSpinLock(&g_lock);
        return STATUS_UNSUCCESSFUL;
    }
    if (register_device() != NDIS_STATUS_SUCCESS) {
        NdisFDeregisterFilterDriver(g_filter);
        NdisFreeSpinLock(&g_lock);
        return STATUS_UNSUCCESSFUL;
    }
    DriverObject->DriverUnload = PfUnload;
    return STATUS_SUCCESS;
}
