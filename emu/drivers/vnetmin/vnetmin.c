/*
 * vnetmin.c - see vnetmin.h.
 */
#include "vnetmin.h"

static NDIS_HANDLE g_driver;

#define SPEED_BPS 1000000000ull /* below a VF's, so TCP/IP's automatic metric prefers the VF */

/* The device's link bit (up when STATUS was not negotiated). */
static BOOLEAN read_link(vm_adapter *a)
{
    if (!(a->features & VIO_FEATURE(VM_F_STATUS)))
        return TRUE;
    UCHAR st[2] = { 0, 0 };
    if (vio_dev_config_read(a->vdev, VM_CFG_STATUS, st, 2) != VIO_OK)
        return a->link_up;
    return (st[0] & VM_S_LINK_UP) != 0;
}

/* ---- interrupt: configuration changes only ---- */

static BOOLEAN VmIsr(NDIS_HANDLE ctx, ULONG msg, PBOOLEAN queue_dpc, PULONG targets)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(msg);
    *targets = 0;
    *queue_dpc = TRUE;
    return TRUE;
}

static void VmDpc(NDIS_HANDLE ctx, ULONG msg, PVOID dpc_ctx, PVOID throttle, PVOID reserved)
{
    vm_adapter *a = ctx;
    UNREFERENCED_PARAMETER(msg);
    UNREFERENCED_PARAMETER(dpc_ctx);
    UNREFERENCED_PARAMETER(throttle);
    UNREFERENCED_PARAMETER(reserved);
    BOOLEAN up = read_link(a);
    NdisDprAcquireSpinLock(&a->lock);
    BOOLEAN changed = up != a->link_up;
    a->link_up = up;
    NdisDprReleaseSpinLock(&a->lock);
    if (changed)
        nu_indicate_link(a->handle, up, SPEED_BPS);
}

/* ---- data path: none ---- */

static void VmSend(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, NDIS_PORT_NUMBER port, ULONG flags)
{
    vm_adapter *a = ctx;
    UNREFERENCED_PARAMETER(port);
    for (PNET_BUFFER_LIST nbl = nbls; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl)) {
        NET_BUFFER_LIST_STATUS(nbl) = NDIS_STATUS_FAILURE;
        InterlockedIncrement64((LONG64 *)&a->sends_refused);
    }
    NdisMSendNetBufferListsComplete(
        a->handle, nbls,
        (flags & NDIS_SEND_FLAGS_DISPATCH_LEVEL) ? NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL : 0);
}

static void VmReturn(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, ULONG flags)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(nbls);
    UNREFERENCED_PARAMETER(flags);
}

static void VmCancelSend(NDIS_HANDLE ctx, PVOID id)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(id);
}

static NDIS_STATUS VmPause(NDIS_HANDLE ctx, PNDIS_MINIPORT_PAUSE_PARAMETERS p)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(p);
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS VmRestart(NDIS_HANDLE ctx, PNDIS_MINIPORT_RESTART_PARAMETERS p)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(p);
    return NDIS_STATUS_SUCCESS;
}

/* ---- OIDs ---- */

static NDIS_STATUS query(vm_adapter *a, PNDIS_OID_REQUEST r)
{
    ULONG v;
    switch (r->DATA.QUERY_INFORMATION.Oid) {
    case OID_802_3_PERMANENT_ADDRESS:
    case OID_802_3_CURRENT_ADDRESS:
        return nu_answer(r, a->mac, 6);
    case OID_802_3_MULTICAST_LIST:
        return nu_answer(r, a->mcast, a->n_mcast * 6);
    case OID_802_3_MAXIMUM_LIST_SIZE:
        v = 32;
        return nu_answer(r, &v, sizeof(v));
    case OID_GEN_CURRENT_PACKET_FILTER:
        return nu_answer(r, &a->packet_filter, sizeof(ULONG));
    case OID_GEN_MAXIMUM_FRAME_SIZE:
        v = 1500;
        return nu_answer(r, &v, sizeof(v));
    default:
        return NDIS_STATUS_NOT_SUPPORTED;
    }
}

static NDIS_STATUS set(vm_adapter *a, PNDIS_OID_REQUEST r)
{
    PVOID buf = r->DATA.SET_INFORMATION.InformationBuffer;
    ULONG len = r->DATA.SET_INFORMATION.InformationBufferLength;
    switch (r->DATA.SET_INFORMATION.Oid) {
    case OID_GEN_CURRENT_PACKET_FILTER:
    case OID_GEN_CURRENT_LOOKAHEAD:
        if (len < sizeof(ULONG))
            return NDIS_STATUS_INVALID_LENGTH;
        if (r->DATA.SET_INFORMATION.Oid == OID_GEN_CURRENT_PACKET_FILTER)
            a->packet_filter = *(ULONG *)buf;
        else
            a->lookahead = *(ULONG *)buf;
        r->DATA.SET_INFORMATION.BytesRead = sizeof(ULONG);
        return NDIS_STATUS_SUCCESS;
    case OID_802_3_MULTICAST_LIST:
        if (len % 6 || len / 6 > 32)
            return len % 6 ? NDIS_STATUS_INVALID_LENGTH : NDIS_STATUS_MULTICAST_FULL;
        NdisMoveMemory(a->mcast, buf, len);
        a->n_mcast = len / 6;
        r->DATA.SET_INFORMATION.BytesRead = len;
        return NDIS_STATUS_SUCCESS;
    case OID_GEN_NETWORK_LAYER_ADDRESSES:
    case OID_PNP_SET_POWER:
        r->DATA.SET_INFORMATION.BytesRead = len;
        return NDIS_STATUS_SUCCESS;
    default:
        return NDIS_STATUS_NOT_SUPPORTED;
    }
}

static NDIS_STATUS VmOid(NDIS_HANDLE ctx, PNDIS_OID_REQUEST r)
{
    if (r->RequestType == NdisRequestSetInformation)
        return set(ctx, r);
    if (r->RequestType == NdisRequestQueryInformation ||
        r->RequestType == NdisRequestQueryStatistics)
        return query(ctx, r);
    return NDIS_STATUS_NOT_SUPPORTED;
}

static void VmCancelOid(NDIS_HANDLE ctx, PVOID id)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(id);
}

/* ---- initialize / halt ---- */

static ULONG read_standby_setting(vm_adapter *a)
{
    NDIS_HANDLE cfg;
    if (nu_open_config(a->handle, &cfg) != NDIS_STATUS_SUCCESS)
        return 1;
    ULONG standby = nu_read_int(cfg, "Standby", 1);
    NdisCloseConfiguration(cfg);
    return standby;
}

static NDIS_STATUS map_bar0(vm_adapter *a, PNDIS_RESOURCE_LIST res)
{
    for (ULONG i = 0; res && i < res->Count && !a->regs_len; i++) {
        if (res->PartialDescriptors[i].Type == CmResourceTypeMemory) {
            a->regs_pa = res->PartialDescriptors[i].u.Memory.Start;
            a->regs_len = res->PartialDescriptors[i].u.Memory.Length;
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

static NDIS_STATUS register_interrupt(vm_adapter *a)
{
    NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS ic;
    NdisZeroMemory(&ic, sizeof(ic));
    NDIS_INIT_OBJECT_HEADER(&ic.Header, NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT,
                            NDIS_MINIPORT_INTERRUPT_REVISION_1,
                            NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1);
    ic.MsiSupported = TRUE;
    ic.MessageInterruptHandler = VmIsr;
    ic.MessageInterruptDpcHandler = VmDpc;
    NDIS_STATUS st = NdisMRegisterInterruptEx(a->handle, a, &ic, &a->intr);
    if (st == NDIS_STATUS_SUCCESS && ic.InterruptType == NDIS_CONNECT_MESSAGE_BASED &&
        ic.MessageInfoTable)
        a->msix_count = (uint16_t)ic.MessageInfoTable->MessageCount;
    return st;
}

/* The qtest guest's sequence, with STANDBY accepted unless switched off. */
static NDIS_STATUS negotiate(vm_adapter *a)
{
    if (vio_dev_create(&vm_os_ops, a, NULL, &a->vdev) != VIO_OK ||
        vio_dev_begin_init(a->vdev) != VIO_OK)
        return NDIS_STATUS_ADAPTER_NOT_FOUND;
    uint64_t wanted =
        VIO_FEATURE(VIO_F_VERSION_1) | VIO_FEATURE(VM_F_MAC) | VIO_FEATURE(VM_F_STATUS);
    if (a->standby_wanted)
        wanted |= VIO_FEATURE(VM_F_STANDBY);
    if (vio_dev_negotiate(a->vdev, wanted, &a->features) != VIO_OK)
        return NDIS_STATUS_ADAPTER_NOT_FOUND;
    if (a->msix_count && vio_dev_set_config_vector(a->vdev, 0) != VIO_OK)
        return NDIS_STATUS_RESOURCES;
    if (!(a->features & VIO_FEATURE(VM_F_MAC)) ||
        vio_dev_config_read(a->vdev, VM_CFG_MAC, a->mac, 6) != VIO_OK)
        return NDIS_STATUS_INVALID_DATA;
    a->link_up = read_link(a);
    return vio_dev_driver_ok(a->vdev) == VIO_OK ? NDIS_STATUS_SUCCESS : NDIS_STATUS_FAILURE;
}

static NDIS_STATUS set_attributes(vm_adapter *a)
{
    NDIS_STATUS st = nu_set_registration(a->handle, a, 0);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES ga;
    nu_ethernet_general(&ga, a->mac, a->mac, 1500, SPEED_BPS, a->link_up);
    return NdisMSetMiniportAttributes(a->handle, (PNDIS_MINIPORT_ADAPTER_ATTRIBUTES)&ga);
}

static void free_adapter(vm_adapter *a)
{
    if (a->vdev) {
        vio_dev_reset(a->vdev);
        vio_dev_destroy(a->vdev);
    }
    if (a->intr)
        NdisMDeregisterInterruptEx(a->intr);
    if (a->regs)
        NdisMUnmapIoSpace(a->handle, (PVOID)a->regs, a->regs_len);
    NdisFreeSpinLock(&a->lock);
    NdisFreeMemoryWithTagPriority(a->handle, a, VM_TAG);
}

static NDIS_STATUS VmInitialize(NDIS_HANDLE handle, NDIS_HANDLE drvctx,
                                PNDIS_MINIPORT_INIT_PARAMETERS ip)
{
    UNREFERENCED_PARAMETER(drvctx);
    vm_adapter *a =
        NdisAllocateMemoryWithTagPriority(handle, sizeof(*a), VM_TAG, NormalPoolPriority);
    if (!a)
        return NDIS_STATUS_RESOURCES;
    NdisZeroMemory(a, sizeof(*a));
    a->handle = handle;
    NdisAllocateSpinLock(&a->lock);
    a->standby_wanted = read_standby_setting(a) != 0;
    NDIS_STATUS st = map_bar0(a, ip->AllocatedResources);
    if (st == NDIS_STATUS_SUCCESS)
        st = register_interrupt(a);
    if (st == NDIS_STATUS_SUCCESS)
        st = negotiate(a);
    if (st == NDIS_STATUS_SUCCESS)
        st = set_attributes(a);
    if (st != NDIS_STATUS_SUCCESS)
        free_adapter(a);
    return st;
}

static void VmHalt(NDIS_HANDLE ctx, NDIS_HALT_ACTION action)
{
    UNREFERENCED_PARAMETER(action);
    free_adapter(ctx);
}

static void VmShutdown(NDIS_HANDLE ctx, NDIS_SHUTDOWN_ACTION action)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(action);
}

static void VmPnp(NDIS_HANDLE ctx, PNET_DEVICE_PNP_EVENT ev)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(ev);
}

static void VmUnload(PDRIVER_OBJECT drv)
{
    UNREFERENCED_PARAMETER(drv);
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
    ch.InitializeHandlerEx = VmInitialize;
    ch.HaltHandlerEx = VmHalt;
    ch.UnloadHandler = VmUnload;
    ch.PauseHandler = VmPause;
    ch.RestartHandler = VmRestart;
    ch.OidRequestHandler = VmOid;
    ch.SendNetBufferListsHandler = VmSend;
    ch.ReturnNetBufferListsHandler = VmReturn;
    ch.CancelSendHandler = VmCancelSend;
    ch.DevicePnPEventNotifyHandler = VmPnp;
    ch.ShutdownHandlerEx = VmShutdown;
    ch.CancelOidRequestHandler = VmCancelOid;
    NDIS_STATUS st = NdisMRegisterMiniportDriver(DriverObject, RegistryPath, NULL, &ch, &g_driver);
    return st == NDIS_STATUS_SUCCESS ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
}
