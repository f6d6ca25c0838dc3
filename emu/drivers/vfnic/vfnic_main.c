/*
 * vfnic_main.c - driver entry, adapter initialization (resources, hardware
 * identity, registry keywords, attributes, interrupt, rings) and halt.
 */
#include "vfnic.h"

static NDIS_HANDLE g_driver;

static NDIS_STATUS map_registers(vf_adapter *a, PNDIS_RESOURCE_LIST res)
{
    for (ULONG i = 0; res && i < res->Count; i++) {
        PCM_PARTIAL_RESOURCE_DESCRIPTOR d = &res->PartialDescriptors[i];
        if (d->Type == CmResourceTypeMemory && !a->regs_len) {
            a->regs_pa = d->u.Memory.Start;
            a->regs_len = d->u.Memory.Length;
        }
    }
    if (a->regs_len < VFDEV_BAR0_SIZE)
        return NDIS_STATUS_RESOURCE_CONFLICT;
    PVOID va;
    NDIS_STATUS st = NdisMMapIoSpace(&va, a->handle, a->regs_pa, a->regs_len);
    if (st == NDIS_STATUS_SUCCESS)
        a->regs = va;
    return st;
}

static void read_identity(vf_adapter *a)
{
    ULONG lo = vf_reg_read(a, VFDEV_MAC_LO), hi = vf_reg_read(a, VFDEV_MAC_HI);
    for (int i = 0; i < 4; i++)
        a->perm_mac[i] = (UCHAR)(lo >> (8 * i));
    a->perm_mac[4] = (UCHAR)hi;
    a->perm_mac[5] = (UCHAR)(hi >> 8);
    NdisMoveMemory(a->mac, a->perm_mac, 6);
    a->caps = vf_reg_read(a, VFDEV_CAPS);
    a->mtu = vf_reg_read(a, VFDEV_MTU);
    if (a->mtu < 576 || a->mtu > 9000)
        a->mtu = 1500;
    a->speed_bps = (ULONG64)vf_reg_read(a, VFDEV_SPEED) * 1000000ull;
    a->link_up = (vf_reg_read(a, VFDEV_STATUS) & VFDEV_STATUS_LINK_UP) != 0;
}

/* The standardized keywords narrow what the hardware offers. */
static void read_keywords(vf_adapter *a, NDIS_HANDLE cfg)
{
    UCHAR ip4 = (a->caps & VFDEV_CAP_CSUM_IP4) ? 3 : 0;
    UCHAR l4v4 = (a->caps & VFDEV_CAP_CSUM_L4_IP4) ? 3 : 0;
    UCHAR l4v6 = (a->caps & VFDEV_CAP_CSUM_L4_IP6) ? 3 : 0;
    a->off.ip4_csum = (UCHAR)(nu_read_int(cfg, "*IPChecksumOffloadIPv4", 3) & ip4);
    a->off.tcp4_csum = (UCHAR)(nu_read_int(cfg, "*TCPChecksumOffloadIPv4", 3) & l4v4);
    a->off.udp4_csum = (UCHAR)(nu_read_int(cfg, "*UDPChecksumOffloadIPv4", 3) & l4v4);
    a->off.tcp6_csum = (UCHAR)(nu_read_int(cfg, "*TCPChecksumOffloadIPv6", 3) & l4v6);
    a->off.udp6_csum = (UCHAR)(nu_read_int(cfg, "*UDPChecksumOffloadIPv6", 3) & l4v6);
    a->off.lso4 = nu_read_int(cfg, "*LsoV2IPv4", 1) && (a->caps & VFDEV_CAP_LSO_IP4);
    a->off.lso6 = nu_read_int(cfg, "*LsoV2IPv6", 1) && (a->caps & VFDEV_CAP_LSO_IP6);
    ULONG hw_queues = (a->caps & VFDEV_CAP_RSS_MASK) >> VFDEV_CAP_RSS_SHIFT;
    ULONG queues = nu_read_int(cfg, "*NumRssQueues", hw_queues);
    a->off.rss_queues = queues < hw_queues ? queues : hw_queues;
    a->off.rss = nu_read_int(cfg, "*RSS", 1) && a->off.rss_queues > 0;
}

static NDIS_STATUS read_config(vf_adapter *a)
{
    NDIS_HANDLE cfg;
    NDIS_STATUS st = nu_open_config(a->handle, &cfg);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    read_keywords(a, cfg);
    PVOID addr;
    UINT alen;
    NdisReadNetworkAddress(&st, &addr, &alen, cfg);
    if (st == NDIS_STATUS_SUCCESS && alen == 6 && !(((UCHAR *)addr)[0] & 1))
        NdisMoveMemory(a->mac, addr, 6);
    NdisCloseConfiguration(cfg);
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS set_general(vf_adapter *a)
{
    static NDIS_RECEIVE_SCALE_CAPABILITIES rss; /* read by NDIS during the call only */
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES ga;
    nu_ethernet_general(&ga, a->perm_mac, a->mac, a->mtu, a->speed_bps, a->link_up);
    ga.MacOptions |= NDIS_MAC_OPTION_TRANSFERS_NOT_PEND;
    ga.SupportedPacketFilters |= NDIS_PACKET_TYPE_ALL_MULTICAST;
    ga.MaxMulticastListSize = VF_MCAST;
    ga.SupportedStatistics = NDIS_STATISTICS_XMIT_OK_SUPPORTED | NDIS_STATISTICS_RCV_OK_SUPPORTED;
    if (a->off.rss) {
        vf_rss_caps(a, &rss);
        ga.RecvScaleCapabilities = &rss;
    }
    return NdisMSetMiniportAttributes(a->handle, (PNDIS_MINIPORT_ADAPTER_ATTRIBUTES)&ga);
}

static NDIS_STATUS set_offload(vf_adapter *a)
{
    NDIS_OFFLOAD current, hardware;
    vf_build_offload(a, &current, FALSE);
    vf_build_offload(a, &hardware, TRUE);
    NDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES oa;
    NdisZeroMemory(&oa, sizeof(oa));
    NU_INIT_HEADER(&oa.Header, NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES,
                   NDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES_REVISION_1, sizeof(oa));
    oa.DefaultOffloadConfiguration = &current;
    oa.HardwareOffloadCapabilities = &hardware;
    return NdisMSetMiniportAttributes(a->handle, (PNDIS_MINIPORT_ADAPTER_ATTRIBUTES)&oa);
}

static NDIS_STATUS register_interrupt(vf_adapter *a)
{
    NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS ic;
    NdisZeroMemory(&ic, sizeof(ic));
    NU_INIT_HEADER(&ic.Header, NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT,
                   NDIS_MINIPORT_INTERRUPT_REVISION_1,
                   NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1);
    ic.MsiSupported = TRUE;
    ic.MessageInterruptHandler = MpMessageIsr;
    ic.MessageInterruptDpcHandler = MpMessageDpc;
    return NdisMRegisterInterruptEx(a->handle, a, &ic, &a->intr);
}

static void free_adapter(vf_adapter *a)
{
    vf_hw_free(a);
    if (a->intr)
        NdisMDeregisterInterruptEx(a->intr);
    if (a->reset_work)
        NdisFreeIoWorkItem(a->reset_work);
    if (a->regs)
        NdisMUnmapIoSpace(a->handle, (PVOID)a->regs, a->regs_len);
    NdisFreeSpinLock(&a->lock);
    NdisFreeMemoryWithTagPriority(a->handle, a, VF_TAG);
}

static NDIS_STATUS init_steps(vf_adapter *a, PNDIS_MINIPORT_INIT_PARAMETERS ip)
{
    NDIS_STATUS st = map_registers(a, ip->AllocatedResources);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    read_identity(a);
    if ((st = read_config(a)) != NDIS_STATUS_SUCCESS)
        return st;
    if ((st = nu_set_registration(a->handle, a, NDIS_MINIPORT_ATTRIBUTES_BUS_MASTER)) !=
            NDIS_STATUS_SUCCESS ||
        (st = set_general(a)) != NDIS_STATUS_SUCCESS ||
        (st = set_offload(a)) != NDIS_STATUS_SUCCESS)
        return st;
    a->reset_work = NdisAllocateIoWorkItem(a->handle);
    if (!a->reset_work)
        return NDIS_STATUS_RESOURCES;
    if ((st = register_interrupt(a)) != NDIS_STATUS_SUCCESS)
        return st;
    return vf_hw_alloc(a);
}

static NDIS_STATUS MpInitializeEx(NDIS_HANDLE handle, NDIS_HANDLE drvctx,
                                  PNDIS_MINIPORT_INIT_PARAMETERS ip)
{
    UNREFERENCED_PARAMETER(drvctx);
    vf_adapter *a =
        NdisAllocateMemoryWithTagPriority(handle, sizeof(*a), VF_TAG, NormalPoolPriority);
    if (!a)
        return NDIS_STATUS_RESOURCES;
    NdisZeroMemory(a, sizeof(*a));
    a->handle = handle;
    NdisAllocateSpinLock(&a->lock);
    a->backlog_tail = &a->backlog;
    NDIS_STATUS st = init_steps(a, ip);
    if (st != NDIS_STATUS_SUCCESS) {
        free_adapter(a);
        return st;
    }
    NdisAcquireSpinLock(&a->lock);
    vf_hw_start(a);
    NdisReleaseSpinLock(&a->lock);
    return NDIS_STATUS_SUCCESS;
}

static void MpHaltEx(NDIS_HANDLE ctx, NDIS_HALT_ACTION action)
{
    vf_adapter *a = ctx;
    UNREFERENCED_PARAMETER(action);
    /* A reset recovery still queued must finish before its work item goes. */
    for (int i = 0; i < 10000 && InterlockedOr(&a->reset_queued, 0); i++)
        NdisMSleep(100);
    NdisAcquireSpinLock(&a->lock);
    vf_hw_stop(a);
    NdisReleaseSpinLock(&a->lock);
    free_adapter(a);
}

static void MpShutdownEx(NDIS_HANDLE ctx, NDIS_SHUTDOWN_ACTION action)
{
    vf_adapter *a = ctx;
    UNREFERENCED_PARAMETER(action);
    if (!a->removed)
        vf_reg_write(a, VFDEV_CTRL, VFDEV_CTRL_RESET);
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
