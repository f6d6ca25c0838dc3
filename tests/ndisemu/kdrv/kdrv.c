/*
 * kdrv - a software miniport (no device: root-enumerated, as a virtual NIC
 * installed as root\...) that test_ndisemu_kernel drives through a control
 * device: KDPCs, lookaside lists, executive spin locks, interlocked lists,
 * NDIS timer cancels that miss, and what MiniportInitializeEx of a
 * root-enumerated adapter gets.
 */
#include <ndis.h>

#include "kdrv.h"
#include "nu_object.h"

static NDIS_HANDLE g_driver, g_dev_handle;
static kdrv_adapter g_adapter;
static KDPC g_dpc;
static kdrv_dpc_stats g_dpc_stats;
static int g_ctx;
static NDIS_HANDLE g_ad_handle, g_timer;
static volatile LONG g_timer_runs;

typedef struct kd_adapter {
    NDIS_HANDLE handle;
} kd_adapter;

static void kd_dpc(PKDPC Dpc, PVOID Context, PVOID Arg1, PVOID Arg2)
{
    UNREFERENCED_PARAMETER(Dpc);
    g_dpc_stats.runs++;
    g_dpc_stats.irql = KeGetCurrentIrql();
    g_dpc_stats.args_ok = Context == &g_ctx && Arg1 == (PVOID)1 && Arg2 == (PVOID)2;
}

static BOOLEAN kd_isr(NDIS_HANDLE ctx, PBOOLEAN queue, PULONG targets)
{
    UNREFERENCED_PARAMETER(ctx);
    *queue = FALSE;
    *targets = 0;
    return FALSE;
}

static void kd_isr_dpc(NDIS_HANDLE ctx, PVOID a, PVOID b, PVOID c)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(a);
    UNREFERENCED_PARAMETER(b);
    UNREFERENCED_PARAMETER(c);
}

static NTSTATUS KdDispatch(PDEVICE_OBJECT dev, PIRP irp);

/* The control device lives while an adapter does: a miniport driver keeps
 * no device object past its last adapter (DriverUnloadBlocked). */
static NDIS_STATUS register_device(void)
{
    static PDRIVER_DISPATCH major[IRP_MJ_MAXIMUM_FUNCTION + 1];
    static NDIS_STRING name = NDIS_STRING_CONST("\\Device\\KDrv");
    static NDIS_STRING link = NDIS_STRING_CONST("\\DosDevices\\KDrv");
    major[IRP_MJ_CREATE] = KdDispatch;
    major[IRP_MJ_CLOSE] = KdDispatch;
    major[IRP_MJ_CLEANUP] = KdDispatch;
    major[IRP_MJ_DEVICE_CONTROL] = KdDispatch;
    NDIS_DEVICE_OBJECT_ATTRIBUTES da;
    PDEVICE_OBJECT dev;
    NdisZeroMemory(&da, sizeof(da));
    NU_INIT_HEADER(&da.Header, NDIS_OBJECT_TYPE_DEVICE_OBJECT_ATTRIBUTES,
                   NDIS_DEVICE_OBJECT_ATTRIBUTES_REVISION_1,
                   NDIS_SIZEOF_DEVICE_OBJECT_ATTRIBUTES_REVISION_1);
    da.DeviceName = &name;
    da.SymbolicName = &link;
    da.MajorFunctions = major;
    return NdisRegisterDeviceEx(g_driver, &da, &dev, &g_dev_handle);
}

static NDIS_STATUS KdInitializeEx(NDIS_HANDLE handle, NDIS_HANDLE drv_ctx,
                                  PNDIS_MINIPORT_INIT_PARAMETERS params)
{
    UNREFERENCED_PARAMETER(drv_ctx);
    kd_adapter *a =
        NdisAllocateMemoryWithTagPriority(handle, sizeof(*a), 'AdK', NormalPoolPriority);
    if (!a)
        return NDIS_STATUS_RESOURCES;
    a->handle = handle;
    g_ad_handle = handle;
    NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES ra;
    NdisZeroMemory(&ra, sizeof(ra));
    NU_INIT_HEADER(&ra.Header, NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
                   NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1,
                   NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1);
    ra.MiniportAdapterContext = a;
    ra.InterfaceType = NdisInterfaceInternal;
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES ga;
    NdisZeroMemory(&ga, sizeof(ga));
    NU_INIT_HEADER(&ga.Header, NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
                   NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2,
                   NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2);
    ga.MediaType = NdisMedium802_3;
    ga.PhysicalMediumType = NdisPhysicalMediumUnspecified;
    ga.MtuSize = 1500;
    ga.MaxXmitLinkSpeed = ga.XmitLinkSpeed = 1000000000ull;
    ga.MaxRcvLinkSpeed = ga.RcvLinkSpeed = 1000000000ull;
    ga.MediaConnectState = MediaConnectStateConnected;
    ga.MediaDuplexState = MediaDuplexStateFull;
    ga.LookaheadSize = 1500;
    ga.SupportedPacketFilters = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_BROADCAST;
    ga.MacAddressLength = 6;
    ga.PermanentMacAddress[0] = ga.CurrentMacAddress[0] = 0x02;
    ga.AccessType = NET_IF_ACCESS_BROADCAST;
    ga.DirectionType = NET_IF_DIRECTION_SENDRECEIVE;
    ga.ConnectionType = NET_IF_CONNECTION_DEDICATED;
    ga.IfType = IF_TYPE_ETHERNET_CSMACD;
    NDIS_STATUS st = NdisMSetMiniportAttributes(handle, (PNDIS_MINIPORT_ADAPTER_ATTRIBUTES)&ra);
    if (st == NDIS_STATUS_SUCCESS)
        st = NdisMSetMiniportAttributes(handle, (PNDIS_MINIPORT_ADAPTER_ATTRIBUTES)&ga);
    if (st != NDIS_STATUS_SUCCESS) {
        NdisFreeMemoryWithTagPriority(handle, a, 'AdK');
        return st;
    }
    PDEVICE_OBJECT pdo = NULL, fdo = NULL, next = NULL;
    PCM_RESOURCE_LIST raw = (PCM_RESOURCE_LIST)1, xlat = (PCM_RESOURCE_LIST)1;
    NdisMGetDeviceProperty(handle, &pdo, &fdo, &next, &raw, &xlat);
    g_adapter.pdo = pdo != NULL && fdo != NULL && raw == NULL && xlat == NULL;
    g_adapter.no_resources = !params->AllocatedResources || params->AllocatedResources->Count == 0;
    NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS ic;
    NdisZeroMemory(&ic, sizeof(ic));
    NU_INIT_HEADER(&ic.Header, NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT,
                   NDIS_MINIPORT_INTERRUPT_REVISION_1,
                   NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1);
    ic.InterruptHandler = kd_isr;
    ic.InterruptDpcHandler = kd_isr_dpc;
    NDIS_HANDLE intr = NULL;
    g_adapter.interrupt_status = NdisMRegisterInterruptEx(handle, a, &ic, &intr);
    if (g_adapter.interrupt_status == NDIS_STATUS_SUCCESS)
        NdisMDeregisterInterruptEx(intr);
    if (register_device() != NDIS_STATUS_SUCCESS) {
        NdisFreeMemoryWithTagPriority(handle, a, 'AdK');
        return NDIS_STATUS_FAILURE;
    }
    g_adapter.initialized = 1;
    return NDIS_STATUS_SUCCESS;
}

static void KdHaltEx(NDIS_HANDLE ctx, NDIS_HALT_ACTION action)
{
    UNREFERENCED_PARAMETER(action);
    kd_adapter *a = ctx;
    if (g_timer) {
        /* The test ran the callbacks of every cancel that missed first. */
        NdisCancelTimerObject(g_timer);
        NdisFreeTimerObject(g_timer);
        g_timer = NULL;
    }
    NdisDeregisterDeviceEx(g_dev_handle);
    g_dev_handle = NULL;
    NdisFreeMemoryWithTagPriority(a->handle, a, 'AdK');
}

static NDIS_STATUS KdPause(NDIS_HANDLE ctx, PNDIS_MINIPORT_PAUSE_PARAMETERS p)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(p);
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS KdRestart(NDIS_HANDLE ctx, PNDIS_MINIPORT_RESTART_PARAMETERS p)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(p);
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS KdOidRequest(NDIS_HANDLE ctx, PNDIS_OID_REQUEST r)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(r);
    return NDIS_STATUS_NOT_SUPPORTED;
}

static void KdSend(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, NDIS_PORT_NUMBER port, ULONG flags)
{
    kd_adapter *a = ctx;
    UNREFERENCED_PARAMETER(port);
    for (PNET_BUFFER_LIST n = nbls; n; n = NET_BUFFER_LIST_NEXT_NBL(n))
        NET_BUFFER_LIST_STATUS(n) = NDIS_STATUS_SUCCESS;
    NdisMSendNetBufferListsComplete(
        a->handle, nbls,
        NDIS_TEST_SEND_AT_DISPATCH_LEVEL(flags) ? NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL : 0);
}

static void KdReturn(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, ULONG flags)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(nbls);
    UNREFERENCED_PARAMETER(flags);
}

static void KdCancelSend(NDIS_HANDLE ctx, PVOID id)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(id);
}

static void KdPnP(NDIS_HANDLE ctx, PNET_DEVICE_PNP_EVENT e)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(e);
}

static void KdShutdown(NDIS_HANDLE ctx, NDIS_SHUTDOWN_ACTION action)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(action);
}

static void KdCancelOid(NDIS_HANDLE ctx, PVOID id)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(id);
}

/* ---- the IOCTLs ---- */

static ULONG do_lookaside(kdrv_lookaside *r)
{
    NPAGED_LOOKASIDE_LIST l;
    PVOID e[6];
    NdisInitializeNPagedLookasideList(&l, NULL, NULL, 0, 100, 'aLdK', 0);
    for (int i = 0; i < 6; i++)
        e[i] = NdisAllocateFromNPagedLookasideList(&l);
    r->distinct = 0;
    for (int i = 0; i < 6; i++) {
        BOOLEAN dup = e[i] == NULL;
        for (int j = 0; j < i; j++)
            dup |= e[j] == e[i];
        r->distinct += !dup;
    }
    for (int i = 0; i < 6; i++)
        if (e[i])
            NdisFreeToNPagedLookasideList(&l, e[i]);
    r->depth_after_free = ExQueryDepthSList(&l.L.ListHead);
    PVOID again = NdisAllocateFromNPagedLookasideList(&l);
    r->reused = 0;
    for (int i = 0; i < 6; i++)
        r->reused |= again == e[i];
    r->total_allocates = l.L.TotalAllocates;
    r->allocate_misses = l.L.AllocateMisses;
    r->total_frees = l.L.TotalFrees;
    r->free_misses = l.L.FreeMisses;
    if (again)
        NdisFreeToNPagedLookasideList(&l, again);
    NdisDeleteNPagedLookasideList(&l);
    return sizeof(*r);
}

static ULONG do_spin(kdrv_spin *r)
{
    KSPIN_LOCK a, b;
    KIRQL old;
    KeInitializeSpinLock(&a);
    KeInitializeSpinLock(&b);
    KeAcquireSpinLock(&a, &old);
    r->irql_held = KeGetCurrentIrql();
    r->try_free = KeTryToAcquireSpinLockAtDpcLevel(&b);
    if (r->try_free)
        KeReleaseSpinLockFromDpcLevel(&b);
    KeReleaseSpinLock(&a, old);
    r->irql_after = KeGetCurrentIrql();
    /* held by another context: the lock word says so */
    b = 0x7777;
    KeAcquireSpinLock(&a, &old);
    r->try_busy_other = KeTryToAcquireSpinLockAtDpcLevel(&b);
    KeReleaseSpinLock(&a, old);
    LIST_ENTRY head, n[3];
    InitializeListHead(&head);
    for (int i = 0; i < 3; i++)
        ExInterlockedInsertTailList(&head, &n[i], &a);
    PLIST_ENTRY x = ExInterlockedRemoveHeadList(&head, &a);
    PLIST_ENTRY y = ExInterlockedRemoveHeadList(&head, &a);
    PLIST_ENTRY z = ExInterlockedRemoveHeadList(&head, &a);
    PLIST_ENTRY none = ExInterlockedRemoveHeadList(&head, &a);
    r->fifo = x == &n[0] && y == &n[1] && z == &n[2] && none == NULL;
    return sizeof(*r);
}

static void kd_timer(PVOID s1, PVOID ctx, PVOID s2, PVOID s3)
{
    UNREFERENCED_PARAMETER(s1);
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(s2);
    UNREFERENCED_PARAMETER(s3);
    InterlockedIncrement(&g_timer_runs);
}

static BOOLEAN kd_timer_alloc(void)
{
    if (g_timer)
        return TRUE;
    NDIS_TIMER_CHARACTERISTICS tc;
    NdisZeroMemory(&tc, sizeof(tc));
    NU_INIT_HEADER(&tc.Header, NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS,
                   NDIS_TIMER_CHARACTERISTICS_REVISION_1,
                   NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1);
    tc.AllocationTag = 'TdK';
    tc.TimerFunction = kd_timer;
    return NdisAllocateTimerObject(g_ad_handle, &tc, &g_timer) == NDIS_STATUS_SUCCESS;
}

/* Due at once (absolute time 0 is past), cancelled at once: on Windows the
 * expiry may already have its DPC queued on another processor. */
static unsigned int kd_timer_misses(unsigned int want, unsigned int *tries)
{
    LARGE_INTEGER now;
    now.QuadPart = 0;
    unsigned int misses = 0;
    for (*tries = 0; *tries < 64 && misses < want;) {
        (*tries)++;
        NdisSetTimerObject(g_timer, now, 0, NULL);
        if (!NdisCancelTimerObject(g_timer))
            misses++;
    }
    return misses;
}

static ULONG do_timer_miss(kdrv_timer_miss *r)
{
    r->tries = r->misses = 0;
    if (!kd_timer_alloc())
        return 0;
    r->misses = kd_timer_misses(2, &r->tries);
    return sizeof(*r);
}

/* The missed expiry's DPC is queued; the timer set again 100 ns ahead
 * fires while it may still be (a DPC backlog): then it joins that DPC, one
 * callback for both. KeFlushQueuedDpcs returns only after the queued DPC
 * (and its callback) ran. */
static ULONG do_timer_join(kdrv_timer_join *r)
{
    NdisZeroMemory(r, sizeof(*r));
    if (!kd_timer_alloc())
        return 0;
    LONG before = g_timer_runs;
    unsigned int tries;
    r->missed = kd_timer_misses(1, &tries);
    LARGE_INTEGER soon;
    soon.QuadPart = -1;
    NdisSetTimerObject(g_timer, soon, 0, NULL);
    KeFlushQueuedDpcs();
    r->runs_after_flush = (unsigned int)(g_timer_runs - before);
    NdisMSleep(10000);
    r->runs_after_sleep = (unsigned int)(g_timer_runs - before);
    return sizeof(*r);
}

static NTSTATUS KdDispatch(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    NTSTATUS st = STATUS_SUCCESS;
    ULONG info = 0;
    if (sp->MajorFunction == IRP_MJ_DEVICE_CONTROL) {
        PVOID buf = irp->AssociatedIrp.SystemBuffer;
        ULONG out = sp->Parameters.DeviceIoControl.OutputBufferLength;
        switch (sp->Parameters.DeviceIoControl.IoControlCode) {
        case IOCTL_KDRV_DPC_QUEUE:
        case IOCTL_KDRV_DPC_REMOVE: {
            kdrv_dpc_queue q;
            KeInitializeDpc(&g_dpc, kd_dpc, &g_ctx);
            q.first = KeInsertQueueDpc(&g_dpc, (PVOID)1, (PVOID)2);
            if (sp->Parameters.DeviceIoControl.IoControlCode == IOCTL_KDRV_DPC_QUEUE)
                q.second = KeInsertQueueDpc(&g_dpc, (PVOID)3, (PVOID)4);
            else
                q.second = KeRemoveQueueDpc(&g_dpc);
            if (out < sizeof(q)) {
                st = STATUS_BUFFER_TOO_SMALL;
                break;
            }
            NdisMoveMemory(buf, &q, sizeof(q));
            info = sizeof(q);
            break;
        }
        case IOCTL_KDRV_DPC_STATS:
            KeFlushQueuedDpcs();
            if (out < sizeof(g_dpc_stats)) {
                st = STATUS_BUFFER_TOO_SMALL;
                break;
            }
            NdisMoveMemory(buf, &g_dpc_stats, sizeof(g_dpc_stats));
            info = sizeof(g_dpc_stats);
            break;
        case IOCTL_KDRV_LOOKASIDE: {
            kdrv_lookaside r;
            if (out < sizeof(r)) {
                st = STATUS_BUFFER_TOO_SMALL;
                break;
            }
            info = do_lookaside(&r);
            NdisMoveMemory(buf, &r, sizeof(r));
            break;
        }
        case IOCTL_KDRV_SPIN: {
            kdrv_spin r;
            if (out < sizeof(r)) {
                st = STATUS_BUFFER_TOO_SMALL;
                break;
            }
            info = do_spin(&r);
            NdisMoveMemory(buf, &r, sizeof(r));
            break;
        }
        case IOCTL_KDRV_TIMER_MISS: {
            kdrv_timer_miss r;
            if (out < sizeof(r)) {
                st = STATUS_BUFFER_TOO_SMALL;
                break;
            }
            info = do_timer_miss(&r);
            st = info ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
            NdisMoveMemory(buf, &r, sizeof(r));
            break;
        }
        case IOCTL_KDRV_TIMER_JOIN: {
            kdrv_timer_join r;
            if (out < sizeof(r)) {
                st = STATUS_BUFFER_TOO_SMALL;
                break;
            }
            info = do_timer_join(&r);
            st = info ? STATUS_SUCCESS : STATUS_INSUFFICIENT_RESOURCES;
            NdisMoveMemory(buf, &r, sizeof(r));
            break;
        }
        case IOCTL_KDRV_TIMER_RUNS: {
            unsigned int runs = (unsigned int)g_timer_runs;
            if (out < sizeof(runs)) {
                st = STATUS_BUFFER_TOO_SMALL;
                break;
            }
            NdisMoveMemory(buf, &runs, sizeof(runs));
            info = sizeof(runs);
            break;
        }
        case IOCTL_KDRV_ADAPTER:
            if (out < sizeof(g_adapter)) {
                st = STATUS_BUFFER_TOO_SMALL;
                break;
            }
            NdisMoveMemory(buf, &g_adapter, sizeof(g_adapter));
            info = sizeof(g_adapter);
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

static void KdUnload(PDRIVER_OBJECT DriverObject)
{
    UNREFERENCED_PARAMETER(DriverObject);
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
    ch.InitializeHandlerEx = KdInitializeEx;
    ch.HaltHandlerEx = KdHaltEx;
    ch.UnloadHandler = KdUnload;
    ch.PauseHandler = KdPause;
    ch.RestartHandler = KdRestart;
    ch.OidRequestHandler = KdOidRequest;
    ch.SendNetBufferListsHandler = KdSend;
    ch.ReturnNetBufferListsHandler = KdReturn;
    ch.CancelSendHandler = KdCancelSend;
    ch.DevicePnPEventNotifyHandler = KdPnP;
    ch.ShutdownHandlerEx = KdShutdown;
    ch.CancelOidRequestHandler = KdCancelOid;
    NDIS_STATUS st = NdisMRegisterMiniportDriver(DriverObject, RegistryPath, NULL, &ch, &g_driver);
    return st == NDIS_STATUS_SUCCESS ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
}
