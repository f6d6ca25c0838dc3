/*
 * miniprot.c - ndisemu's minimal NDIS 6.30 protocol driver.
 *
 * Binds to every adapter its LowerRange meets, pauses and restarts with
 * its bindings (pending the pause until its sends are back), sends frames
 * and issues OIDs on request from its control device, counts what it
 * receives. The same source builds the broken protocol variants.
 */
#include <ndis.h>

#include "miniprot.h"
#include "minimp_break.h"

#define PT_TAG          'torP'
#define PT_MAX_BINDINGS 8

typedef struct pt_binding {
    NDIS_HANDLE handle;
    NDIS_HANDLE bind_ctx, unbind_ctx;
    NDIS_HANDLE pool;
    NDIS_SPIN_LOCK lock;
    LONG sends_out;
    BOOLEAN running, pausing, in_use;
    PNET_PNP_EVENT_NOTIFICATION pause_event;
    NDIS_OID_REQUEST oid;
    NDIS_EVENT oid_done;
    NDIS_STATUS oid_status;
    UCHAR oid_buf[16];
} pt_binding;

static NDIS_HANDLE g_proto, g_dev_handle;
static PDEVICE_OBJECT g_dev;
static pt_binding g_bind[PT_MAX_BINDINGS];
static NDIS_SPIN_LOCK g_lock;
static miniprot_stats g_stats;
static ULONG g_veto;

static pt_binding *running_binding(void)
{
    for (int i = 0; i < PT_MAX_BINDINGS; i++) {
        if (g_bind[i].in_use && g_bind[i].running)
            return &g_bind[i];
    }
    return NULL;
}

static NDIS_STATUS open_pool(pt_binding *b)
{
    NET_BUFFER_LIST_POOL_PARAMETERS pp;
    NdisZeroMemory(&pp, sizeof(pp));
    NDIS_INIT_OBJECT_HEADER(&pp.Header, NDIS_OBJECT_TYPE_DEFAULT,
                            NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
                            NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1);
    pp.fAllocateNetBuffer = TRUE;
    pp.ContextSize = 16;
    pp.PoolTag = PT_TAG;
    pp.DataSize = 2048;
    b->pool = NdisAllocateNetBufferListPool(b->handle, &pp);
    return b->pool ? NDIS_STATUS_SUCCESS : NDIS_STATUS_RESOURCES;
}

static void PtOpenAdapterComplete(NDIS_HANDLE ctx, NDIS_STATUS status)
{
    pt_binding *b = ctx;
    if (status == NDIS_STATUS_SUCCESS)
        status = open_pool(b);
    if (status != NDIS_STATUS_SUCCESS)
        b->in_use = FALSE;
    NdisCompleteBindAdapterEx(b->bind_ctx, status);
}

static NDIS_STATUS PtBindAdapter(NDIS_HANDLE drvctx, NDIS_HANDLE bind_ctx, PNDIS_BIND_PARAMETERS bp)
{
    UNREFERENCED_PARAMETER(drvctx);
    pt_binding *b = NULL;
    for (int i = 0; i < PT_MAX_BINDINGS && !b; i++) {
        if (!g_bind[i].in_use)
            b = &g_bind[i];
    }
    if (!b || bp->MediaType != NdisMedium802_3)
        return NDIS_STATUS_RESOURCES;
    NdisZeroMemory(b, sizeof(*b));
    b->in_use = TRUE;
    b->bind_ctx = bind_ctx;
    NdisAllocateSpinLock(&b->lock);
    NdisInitializeEvent(&b->oid_done);
    NDIS_MEDIUM media[1] = { NdisMedium802_3 };
    UINT sel;
    NDIS_OPEN_PARAMETERS op;
    NdisZeroMemory(&op, sizeof(op));
    NDIS_INIT_OBJECT_HEADER(&op.Header, NDIS_OBJECT_TYPE_OPEN_PARAMETERS,
                            NDIS_OPEN_PARAMETERS_REVISION_1,
                            NDIS_SIZEOF_OPEN_PARAMETERS_REVISION_1);
    op.AdapterName = bp->AdapterName;
    op.MediumArray = media;
    op.MediumArraySize = 1;
    op.SelectedMediumIndex = &sel;
    g_stats.binds++;
    NDIS_STATUS st = NdisOpenAdapterEx(g_proto, b, &op, bind_ctx, &b->handle);
    if (st == NDIS_STATUS_PENDING)
        return NDIS_STATUS_PENDING; /* finished in PtOpenAdapterComplete */
    if (st == NDIS_STATUS_SUCCESS)
        st = open_pool(b);
    if (st != NDIS_STATUS_SUCCESS)
        b->in_use = FALSE;
    return st;
}

static void PtCloseAdapterComplete(NDIS_HANDLE ctx)
{
    pt_binding *b = ctx;
    NDIS_HANDLE u = b->unbind_ctx;
    b->in_use = FALSE;
    NdisCompleteUnbindAdapterEx(u);
}

static NDIS_STATUS PtUnbindAdapter(NDIS_HANDLE unbind_ctx, NDIS_HANDLE ctx)
{
    pt_binding *b = ctx;
    b->unbind_ctx = unbind_ctx;
    g_stats.unbinds++;
    if (b->pool)
        NdisFreeNetBufferListPool(b->pool);
    b->pool = NULL;
    NDIS_HANDLE h = b->handle;
    NDIS_STATUS st = NdisCloseAdapterEx(h);
    if (BROKEN(BRK_USE_AFTER_CLOSE)) {
        NDIS_OID_REQUEST r;
        NdisZeroMemory(&r, sizeof(r));
        NDIS_INIT_OBJECT_HEADER(&r.Header, NDIS_OBJECT_TYPE_OID_REQUEST,
                                NDIS_OID_REQUEST_REVISION_1, NDIS_SIZEOF_OID_REQUEST_REVISION_1);
        NdisOidRequest(h, &r);
    }
    if (st == NDIS_STATUS_PENDING)
        return NDIS_STATUS_PENDING; /* finished in PtCloseAdapterComplete */
    b->in_use = FALSE;
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS PtNetPnPEvent(NDIS_HANDLE ctx, PNET_PNP_EVENT_NOTIFICATION n)
{
    pt_binding *b = ctx;
    switch (n->NetPnPEvent.NetEvent) {
    case NetEventPause: {
        g_stats.pauses++;
        NdisAcquireSpinLock(&b->lock);
        b->running = FALSE;
        BOOLEAN idle = b->sends_out == 0 || BROKEN(BRK_PAUSE_WITH_OUTSTANDING);
        if (!idle) {
            b->pausing = TRUE;
            b->pause_event = n;
        }
        NdisReleaseSpinLock(&b->lock);
        if (BROKEN(BRK_SEND_WHILE_PAUSED)) {
            PNET_BUFFER_LIST nbl =
                NdisAllocateNetBufferAndNetBufferList(b->pool, 0, 0, NULL, 0, 60);
            if (nbl) {
                nbl->SourceHandle = b->handle;
                NdisSendNetBufferLists(b->handle, nbl, 0, 0);
            }
        }
        return idle ? NDIS_STATUS_SUCCESS : NDIS_STATUS_PENDING;
    }
    case NetEventRestart:
        g_stats.restarts++;
        b->running = TRUE;
        return NDIS_STATUS_SUCCESS;
    case NetEventSetPower:
        g_stats.power_events++;
        return NDIS_STATUS_SUCCESS;
    case NetEventQueryRemoveDevice:
        return g_veto ? NDIS_STATUS_FAILURE : NDIS_STATUS_SUCCESS;
    default:
        return NDIS_STATUS_SUCCESS;
    }
}

static void PtSendComplete(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, ULONG flags)
{
    pt_binding *b = ctx;
    UNREFERENCED_PARAMETER(flags);
    LONG n = 0;
    for (PNET_BUFFER_LIST nbl = nbls, next; nbl; nbl = next) {
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        if (NET_BUFFER_LIST_STATUS(nbl) == NDIS_STATUS_SUCCESS)
            InterlockedIncrement64((LONG64 *)&g_stats.send_ok);
        else
            InterlockedIncrement64((LONG64 *)&g_stats.send_failed);
        if (!BROKEN(BRK_CONTEXT_LEAK))
            NdisFreeNetBufferListContext(nbl, 16);
        NdisFreeNetBufferList(nbl);
        n++;
    }
    NdisAcquireSpinLock(&b->lock);
    b->sends_out -= n;
    PNET_PNP_EVENT_NOTIFICATION ev = NULL;
    if (b->pausing && b->sends_out == 0) {
        b->pausing = FALSE;
        ev = b->pause_event;
    }
    NdisReleaseSpinLock(&b->lock);
    if (ev)
        NdisCompleteNetPnPEvent(b->handle, ev, NDIS_STATUS_SUCCESS);
}

static void PtReceive(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, NDIS_PORT_NUMBER port, ULONG n,
                      ULONG flags)
{
    pt_binding *b = ctx;
    UNREFERENCED_PARAMETER(port);
    UNREFERENCED_PARAMETER(n);
    NdisDprAcquireSpinLock(&g_lock);
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl)) {
        PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
        ULONG len = NET_BUFFER_DATA_LENGTH(nb);
        UCHAR tmp[64];
        ULONG copy = len < sizeof(tmp) ? len : sizeof(tmp);
        PVOID p = copy ? NdisGetDataBuffer(nb, copy, tmp, 1, 0) : NULL;
        if (p)
            NdisMoveMemory(g_stats.last_frame, p, copy);
        g_stats.last_len = len;
        g_stats.received++;
        g_stats.rx_bytes += len;
    }
    NdisDprReleaseSpinLock(&g_lock);
    if (!(flags & NDIS_RECEIVE_FLAGS_RESOURCES)) {
        ULONG rf =
            (flags & NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL) ? NDIS_RETURN_FLAGS_DISPATCH_LEVEL : 0;
        NdisReturnNetBufferLists(b->handle, nbls, rf);
        if (BROKEN(BRK_RETURN_TWICE))
            NdisReturnNetBufferLists(b->handle, nbls, rf);
    }
}

static void PtOidComplete(NDIS_HANDLE ctx, PNDIS_OID_REQUEST r, NDIS_STATUS st)
{
    pt_binding *b = ctx;
    UNREFERENCED_PARAMETER(r);
    b->oid_status = st;
    NdisSetEvent(&b->oid_done);
}

static void PtStatus(NDIS_HANDLE ctx, PNDIS_STATUS_INDICATION s)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(s);
    g_stats.status_events++;
}

/* ---- control device ---- */

static NTSTATUS send_frame(const UCHAR *frame, ULONG len)
{
    pt_binding *b = running_binding();
    if (!b || len == 0 || len > 2048)
        return STATUS_DEVICE_NOT_READY;
    PNET_BUFFER_LIST nbl = NdisAllocateNetBufferAndNetBufferList(b->pool, 0, 0, NULL, 0, len);
    if (!nbl)
        return STATUS_INSUFFICIENT_RESOURCES;
    /* A context area, as a filter or mux would keep per-NBL state. */
    if (NdisAllocateNetBufferListContext(nbl, 16, 0, PT_TAG) != NDIS_STATUS_SUCCESS) {
        NdisFreeNetBufferList(nbl);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    *(ULONG *)NET_BUFFER_LIST_CONTEXT_DATA_START(nbl) = len;
    PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
    PVOID va;
    ULONG mlen;
    NdisQueryMdl(NET_BUFFER_FIRST_MDL(nb), &va, &mlen, NormalPagePriority);
    NdisMoveMemory(va, frame, len);
    if (!BROKEN(BRK_NO_SOURCE_HANDLE))
        nbl->SourceHandle = b->handle;
    NdisAcquireSpinLock(&b->lock);
    b->sends_out++;
    NdisReleaseSpinLock(&b->lock);
    g_stats.sent++;
    NdisSendNetBufferLists(b->handle, nbl, NDIS_DEFAULT_PORT_NUMBER, 0);
    return STATUS_SUCCESS;
}

static NTSTATUS do_oid(NDIS_REQUEST_TYPE type, NDIS_OID oid, PVOID buf, ULONG len, ULONG *done)
{
    pt_binding *b = running_binding();
    if (!b)
        return STATUS_DEVICE_NOT_READY;
    NdisZeroMemory(&b->oid, sizeof(b->oid));
    NDIS_INIT_OBJECT_HEADER(&b->oid.Header, NDIS_OBJECT_TYPE_OID_REQUEST,
                            NDIS_OID_REQUEST_REVISION_1, NDIS_SIZEOF_OID_REQUEST_REVISION_1);
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
    if (st != NDIS_STATUS_SUCCESS)
        return STATUS_UNSUCCESSFUL;
    if (type == NdisRequestQueryInformation) {
        NdisMoveMemory(buf, b->oid_buf, len);
        *done = b->oid.DATA.QUERY_INFORMATION.BytesWritten;
    }
    return STATUS_SUCCESS;
}

static NTSTATUS PtDispatch(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    NTSTATUS st = STATUS_SUCCESS;
    ULONG info = 0;
    if (sp->MajorFunction == IRP_MJ_DEVICE_CONTROL) {
        PUCHAR buf = irp->AssociatedIrp.SystemBuffer;
        ULONG in = sp->Parameters.DeviceIoControl.InputBufferLength;
        ULONG out = sp->Parameters.DeviceIoControl.OutputBufferLength;
        switch (sp->Parameters.DeviceIoControl.IoControlCode) {
        case IOCTL_MINIPROT_SEND:
            st = send_frame(buf, in);
            break;
        case IOCTL_MINIPROT_STATS: {
            unsigned int bound = 0;
            for (int i = 0; i < PT_MAX_BINDINGS; i++)
                bound += g_bind[i].in_use;
            g_stats.bound = bound;
            if (out < sizeof(g_stats)) {
                st = STATUS_BUFFER_TOO_SMALL;
                break;
            }
            NdisMoveMemory(buf, &g_stats, sizeof(g_stats));
            info = sizeof(g_stats);
            break;
        }
        case IOCTL_MINIPROT_SET_FILTER:
            st = in < sizeof(ULONG)
                     ? STATUS_INVALID_PARAMETER
                     : do_oid(NdisRequestSetInformation, OID_GEN_CURRENT_PACKET_FILTER, buf,
                              sizeof(ULONG), &info);
            info = 0;
            break;
        case IOCTL_MINIPROT_QUERY_MAC:
            st = out < 6 ? STATUS_BUFFER_TOO_SMALL
                         : do_oid(NdisRequestQueryInformation, OID_802_3_CURRENT_ADDRESS, buf, 6,
                                  &info);
            break;
        case IOCTL_MINIPROT_VETO:
            g_veto = in >= sizeof(ULONG) ? *(ULONG *)buf : 0;
            break;
        default:
            st = STATUS_INVALID_DEVICE_REQUEST;
        }
    }
    irp->IoStatus.Status = st;
    irp->IoStatus.Information = info;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return st;
}

static void PtUnload(PDRIVER_OBJECT drv)
{
    UNREFERENCED_PARAMETER(drv);
    NdisDeregisterProtocolDriver(g_proto);
    if (g_dev_handle)
        NdisDeregisterDeviceEx(g_dev_handle);
    NdisFreeSpinLock(&g_lock);
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
    NDIS_INIT_OBJECT_HEADER(&ch.Header, NDIS_OBJECT_TYPE_PROTOCOL_DRIVER_CHARACTERISTICS,
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
    NDIS_STATUS st = NdisRegisterProtocolDriver(NULL, &ch, &g_proto);
    if (st != NDIS_STATUS_SUCCESS)
        return STATUS_UNSUCCESSFUL;
    static PDRIVER_DISPATCH major[IRP_MJ_MAXIMUM_FUNCTION + 1];
    major[IRP_MJ_CREATE] = PtDispatch;
    major[IRP_MJ_CLOSE] = PtDispatch;
    major[IRP_MJ_CLEANUP] = PtDispatch;
    major[IRP_MJ_DEVICE_CONTROL] = PtDispatch;
    NDIS_STRING dev = NDIS_STRING_CONST("\\Device\\MiniProt");
    NDIS_STRING link = NDIS_STRING_CONST("\\DosDevices\\MiniProt");
    NDIS_DEVICE_OBJECT_ATTRIBUTES da;
    NdisZeroMemory(&da, sizeof(da));
    NDIS_INIT_OBJECT_HEADER(&da.Header, NDIS_OBJECT_TYPE_DEVICE_OBJECT_ATTRIBUTES,
                            NDIS_DEVICE_OBJECT_ATTRIBUTES_REVISION_1,
                            NDIS_SIZEOF_DEVICE_OBJECT_ATTRIBUTES_REVISION_1);
    da.DeviceName = &dev;
    da.SymbolicName = &link;
    da.MajorFunctions = major;
    st = NdisRegisterDeviceEx(g_proto, &da, &g_dev, &g_dev_handle);
    if (st != NDIS_STATUS_SUCCESS) {
        NdisDeregisterProtocolDriver(g_proto);
        return STATUS_UNSUCCESSFUL;
    }
    DriverObject->DriverUnload = PtUnload;
    return STATUS_SUCCESS;
}
