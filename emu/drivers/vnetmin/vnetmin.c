/*
 * vnetmin.c - see vnetmin.h.
 */
#include "vnetmin.h"

static NDIS_HANDLE g_driver;

#define SPEED_BPS 1000000000ull /* below a VF's, so TCP/IP's automatic metric prefers the VF */

static void MpCancelSend(NDIS_HANDLE ctx, PVOID id)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(id);
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

static NDIS_STATUS MpOidRequest(NDIS_HANDLE ctx, PNDIS_OID_REQUEST r)
{
    if (r->RequestType == NdisRequestSetInformation)
        return set(ctx, r);
    if (r->RequestType == NdisRequestQueryInformation ||
        r->RequestType == NdisRequestQueryStatistics)
        return query(ctx, r);
    return NDIS_STATUS_NOT_SUPPORTED;
}

static void MpCancelOidRequest(NDIS_HANDLE ctx, PVOID id)
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
    NU_INIT_HEADER(&ic.Header, NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT,
                   NDIS_MINIPORT_INTERRUPT_REVISION_1,
                   NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1);
    ic.MsiSupported = TRUE;
    ic.MessageInterruptHandler = MpMessageIsr;
    ic.MessageInterruptDpcHandler = MpMessageDpc;
    NDIS_STATUS st = NdisMRegisterInterruptEx(a->handle, a, &ic, &a->intr);
    if (st == NDIS_STATUS_SUCCESS && ic.InterruptType == NDIS_CONNECT_MESSAGE_BASED &&
        ic.MessageInfoTable)
        a->msix_count = (uint16_t)ic.MessageInfoTable->MessageCount;
    return st;
}

/* Features the minimal driver does without: offloads, mergeable buffers and
 * the control queue (no filters, no announcements). */
#define VM_FEATURES_OFF                                                                            \
    (VIO_FEATURE(VNET_F_CSUM) | VIO_FEATURE(VNET_F_GUEST_CSUM) | VIO_FEATURE(VNET_F_GUEST_TSO4) |  \
     VIO_FEATURE(VNET_F_GUEST_TSO6) | VIO_FEATURE(VNET_F_HOST_TSO4) |                              \
     VIO_FEATURE(VNET_F_HOST_TSO6) | VIO_FEATURE(VNET_F_MRG_RXBUF) | VIO_FEATURE(VNET_F_CTRL_VQ) | \
     VIO_FEATURE(VNET_F_CTRL_RX) | VIO_FEATURE(VNET_F_CTRL_VLAN) |                                 \
     VIO_FEATURE(VNET_F_GUEST_ANNOUNCE) | VIO_FEATURE(VNET_F_CTRL_MAC_ADDR))

/* lib/vnet negotiates (STANDBY acknowledged unless switched off), builds the
 * queues, posts the receive buffers and sets DRIVER_OK. */
static NDIS_STATUS start_device(vm_adapter *a)
{
    vnet_params p = { .features_off = VM_FEATURES_OFF, .failover = a->standby_wanted };
    if (vnet_create(&vm_os_ops, a, &p, &vm_callbacks, a, &a->vn) != VNET_OK)
        return NDIS_STATUS_ADAPTER_NOT_FOUND;
    if (vnet_start(a->vn) != VNET_OK)
        return NDIS_STATUS_ADAPTER_NOT_FOUND;
    vnet_link_info li;
    vnet_link_info_get(a->vn, &li);
    if (!li.mac_valid)
        return NDIS_STATUS_INVALID_DATA;
    NdisMoveMemory(a->mac, li.mac, 6);
    a->link_up = li.link_up;
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS set_attributes(vm_adapter *a)
{
    NDIS_STATUS st = nu_set_registration(a->handle, a, 0);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES ga;
    nu_ethernet_general(&ga, a->mac, a->mac, 1500, a->speed_bps, a->link_up);
    return NdisMSetMiniportAttributes(a->handle, (PNDIS_MINIPORT_ADAPTER_ATTRIBUTES)&ga);
}

static void free_adapter(vm_adapter *a)
{
    if (a->vn) {
        if (!a->removed)
            vnet_stop(a->vn);
        vnet_destroy(a->vn);
    }
    vm_buffers_free(a);
    if (a->intr)
        NdisMDeregisterInterruptEx(a->intr);
    if (a->regs)
        NdisMUnmapIoSpace(a->handle, (PVOID)a->regs, a->regs_len);
    NdisFreeSpinLock(&a->rx_lock);
    NdisFreeSpinLock(&a->tx_lock);
    NdisFreeSpinLock(&a->cfg_lock);
    NdisFreeMemoryWithTagPriority(a->handle, a, VM_TAG);
}

static NDIS_STATUS MpInitializeEx(NDIS_HANDLE handle, NDIS_HANDLE drvctx,
                                  PNDIS_MINIPORT_INIT_PARAMETERS ip)
{
    UNREFERENCED_PARAMETER(drvctx);
    vm_adapter *a =
        NdisAllocateMemoryWithTagPriority(handle, sizeof(*a), VM_TAG, NormalPoolPriority);
    if (!a)
        return NDIS_STATUS_RESOURCES;
    NdisZeroMemory(a, sizeof(*a));
    a->handle = handle;
    a->speed_bps = SPEED_BPS;
    NdisAllocateSpinLock(&a->rx_lock);
    NdisAllocateSpinLock(&a->tx_lock);
    NdisAllocateSpinLock(&a->cfg_lock);
    a->standby_wanted = read_standby_setting(a) != 0;
    NDIS_STATUS st = map_bar0(a, ip->AllocatedResources);
    if (st == NDIS_STATUS_SUCCESS)
        st = register_interrupt(a);
    if (st == NDIS_STATUS_SUCCESS)
        st = vm_buffers_alloc(a);
    if (st == NDIS_STATUS_SUCCESS)
        st = start_device(a);
    if (st == NDIS_STATUS_SUCCESS)
        st = set_attributes(a);
    if (st != NDIS_STATUS_SUCCESS)
        free_adapter(a);
    return st;
}

static void MpHaltEx(NDIS_HANDLE ctx, NDIS_HALT_ACTION action)
{
    UNREFERENCED_PARAMETER(action);
    free_adapter(ctx);
}

static void MpShutdownEx(NDIS_HANDLE ctx, NDIS_SHUTDOWN_ACTION action)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(action);
}

/* Surprise removal: the device is gone, sends in flight fail now (a pause
 * that waits for them would otherwise never end). */
static void MpDevicePnPEventNotify(NDIS_HANDLE ctx, PNET_DEVICE_PNP_EVENT ev)
{
    vm_adapter *a = ctx;
    if (ev->DevicePnPEvent == NdisDevicePnPEventSurpriseRemoved)
        vm_fail_all_sends(a);
}

static void MpUnload(PDRIVER_OBJECT drv)
{
    UNREFERENCED_PARAMETER(drv);
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
    NDIS_STATUS st = NdisMRegisterMiniportDriver(DriverObject, RegistryPath, NULL, &ch, &g_driver);
    return st == NDIS_STATUS_SUCCESS ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
}
