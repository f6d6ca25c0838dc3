/*
 * mp_init.c - the virtio-net miniport's registration, MiniportInitializeEx
 * and MiniportHaltEx: resources, registry, the device through lib/vnet,
 * interrupts, DMA, pools, NDIS attributes, and the pair's entry in
 * lib/failover's registry.
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "mp_init.tmh"
#endif

#define VFO_MAX_DMA_MAPPING 0x10000u

/* Announce trains longer than the default spread out further. */
static const uint16_t k_announce_offsets[FO_ANNOUNCE_MAX] = {
    0, 50, 150, 300, 500, 750, 1050, 1400
};

static NDIS_STATUS set_registration(vfo_adapter *ad)
{
    NDIS_MINIPORT_ADAPTER_ATTRIBUTES a;
    NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES *r = &a.RegistrationAttributes;
    NdisZeroMemory(&a, sizeof(a));
    VFO_INIT_HEADER(&r->Header, NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
                    NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1,
                    NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1);
    r->MiniportAdapterContext = ad;
    r->AttributeFlags = NDIS_MINIPORT_ATTRIBUTES_HARDWARE_DEVICE |
                        NDIS_MINIPORT_ATTRIBUTES_BUS_MASTER |
                        NDIS_MINIPORT_ATTRIBUTES_SURPRISE_REMOVE_OK;
    r->CheckForHangTimeInSeconds = 2;
    r->InterfaceType = NdisInterfacePci;
    return NdisMSetMiniportAttributes(ad->handle, &a);
}

static NDIS_STATUS dma_register(vfo_adapter *ad)
{
    NDIS_SG_DMA_DESCRIPTION d;
    NdisZeroMemory(&d, sizeof(d));
    VFO_INIT_HEADER(&d.Header, NDIS_OBJECT_TYPE_SG_DMA_DESCRIPTION,
                    NDIS_SG_DMA_DESCRIPTION_REVISION_1, NDIS_SIZEOF_SG_DMA_DESCRIPTION_REVISION_1);
    d.Flags = NDIS_SG_DMA_64_BIT_ADDRESS;
    d.MaximumPhysicalMapping = VFO_MAX_DMA_MAPPING;
    d.ProcessSGListHandler = vfo_tx_process_sgl;
    NDIS_STATUS st = NdisMRegisterScatterGatherDma(ad->handle, &d, &ad->os.dma);
    if (st == NDIS_STATUS_SUCCESS)
        ad->sgl_size = d.ScatterGatherListSize;
    return st;
}

static void vnet_params_from(const vfo_adapter *ad, vnet_params *p)
{
    NdisZeroMemory(p, sizeof(*p));
    /* No receive coalescing: indicating RSC segments is not implemented. */
    p->features_off = VIO_FEATURE(VNET_F_GUEST_TSO4) | VIO_FEATURE(VNET_F_GUEST_TSO6);
    p->failover = ad->cfg.failover;
    p->rx_ring = (uint16_t)ad->cfg.rx_ring;
    p->tx_ring = (uint16_t)ad->cfg.tx_ring;
    p->max_mtu = (uint16_t)ad->cfg.mtu;
    p->rx_complete_csum = true;
}

static NDIS_STATUS device_start(vfo_adapter *ad)
{
    static const vnet_callbacks cb = { vfo_tx_done_cb, vfo_tx_resume_cb };
    vnet_params p;
    /* lib/vnet picks its MSI-X vectors from the granted count at creation. */
    NDIS_STATUS st = vfo_intr_register(ad);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    vnet_params_from(ad, &p);
    vnet_status vs = vnet_create(&vfo_vio_ops, &ad->os, &p, &cb, ad, &ad->vn);
    if (vs != VNET_OK) {
        VFO_ERR("not a usable virtio-net device: %s", vnet_status_name(vs));
        return NDIS_STATUS_ADAPTER_NOT_FOUND;
    }
    vs = vnet_start(ad->vn);
    if (vs != VNET_OK) {
        VFO_ERR("virtio-net start failed: %s (%s)", vnet_status_name(vs),
                vio_status_name(vnet_last_vio_status(ad->vn)));
        return NDIS_STATUS_DEVICE_FAILED;
    }
    vnet_link_info_get(ad->vn, &ad->link);
    return NDIS_STATUS_SUCCESS;
}

/* The permanent address is the device's; without one, a stable locally
 * administered address is made from the interface's LUID. */
static void choose_macs(vfo_adapter *ad)
{
    if (ad->link.mac_valid) {
        NdisMoveMemory(ad->perm_mac, ad->link.mac, 6);
    } else {
        uint64_t l = ad->luid.Value;
        UCHAR m[6] = { 0x02, 0x56, (UCHAR)(l >> 24), (UCHAR)(l >> 16), (UCHAR)(l >> 8), (UCHAR)l };
        NdisMoveMemory(ad->perm_mac, m, 6);
        VFO_WARN("device has no MAC: using a locally administered one");
    }
    NdisMoveMemory(ad->cur_mac, ad->cfg.have_mac_override ? ad->cfg.mac_override : ad->perm_mac, 6);
}

static ULONG adapter_mtu(const vfo_adapter *ad)
{
    ULONG mtu = ad->link.mtu ? ad->link.mtu : ad->cfg.mtu;
    return mtu < ad->cfg.mtu ? mtu : ad->cfg.mtu;
}

static NDIS_STATUS set_general(vfo_adapter *ad)
{
    NDIS_MINIPORT_ADAPTER_ATTRIBUTES a;
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES *g = &a.GeneralAttributes;
    NDIS_PM_CAPABILITIES pm;
    NdisZeroMemory(&a, sizeof(a));
    NdisZeroMemory(&pm, sizeof(pm));
    VFO_INIT_HEADER(&pm.Header, NDIS_OBJECT_TYPE_DEFAULT, NDIS_PM_CAPABILITIES_REVISION_2,
                    NDIS_SIZEOF_NDIS_PM_CAPABILITIES_REVISION_2);
    pm.MinMagicPacketWakeUp = NdisDeviceStateUnspecified; /* no wake-on-LAN on virtio */
    pm.MinPatternWakeUp = NdisDeviceStateUnspecified;
    pm.MinLinkChangeWakeUp = NdisDeviceStateUnspecified;
    VFO_INIT_HEADER(&g->Header, NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
                    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2,
                    NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2);
    g->MediaType = NdisMedium802_3;
    g->PhysicalMediumType = NdisPhysicalMedium802_3;
    g->MtuSize = ad->mtu;
    g->MaxXmitLinkSpeed = g->MaxRcvLinkSpeed = vfo_link_speed_bps(ad);
    g->XmitLinkSpeed = g->RcvLinkSpeed =
        ad->link.link_up ? vfo_link_speed_bps(ad) : NDIS_LINK_SPEED_UNKNOWN;
    g->MediaConnectState =
        ad->link.link_up ? MediaConnectStateConnected : MediaConnectStateDisconnected;
    g->MediaDuplexState = MediaDuplexStateFull;
    g->LookaheadSize = ad->mtu;
    g->MacOptions = NDIS_MAC_OPTION_COPY_LOOKAHEAD_DATA | NDIS_MAC_OPTION_TRANSFERS_NOT_PEND |
                    NDIS_MAC_OPTION_NO_LOOPBACK;
    g->SupportedPacketFilters = VFO_PACKET_FILTERS;
    g->MaxMulticastListSize = VFO_MAX_MCAST;
    g->MacAddressLength = 6;
    NdisMoveMemory(g->PermanentMacAddress, ad->perm_mac, 6);
    NdisMoveMemory(g->CurrentMacAddress, ad->cur_mac, 6);
    g->AccessType = NET_IF_ACCESS_BROADCAST;
    g->DirectionType = NET_IF_DIRECTION_SENDRECEIVE;
    g->ConnectionType = NET_IF_CONNECTION_DEDICATED;
    g->IfType = IF_TYPE_ETHERNET_CSMACD;
    g->IfConnectorPresent = TRUE;
    g->SupportedStatistics = VFO_SUPPORTED_STATISTICS;
    g->SupportedOidList = (PNDIS_OID)vfo_supported_oids;
    g->SupportedOidListLength = vfo_supported_oids_size;
    g->PowerManagementCapabilitiesEx = &pm;
    return NdisMSetMiniportAttributes(ad->handle, &a);
}

static NDIS_STATUS set_offload(vfo_adapter *ad, const fo_caps *caps)
{
    NDIS_MINIPORT_ADAPTER_ATTRIBUTES a;
    NDIS_OFFLOAD now, hw;
    NdisZeroMemory(&a, sizeof(a));
    vfo_offload_to_ndis(&ad->offload_now, &now);
    vfo_offload_to_ndis(&caps->offload, &hw);
    VFO_INIT_HEADER(&a.OffloadAttributes.Header,
                    NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES,
                    NDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES_REVISION_1,
                    sizeof(NDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES));
    a.OffloadAttributes.DefaultOffloadConfiguration = &now;
    a.OffloadAttributes.HardwareOffloadCapabilities = &hw;
    return NdisMSetMiniportAttributes(ad->handle, &a);
}

static NDIS_STATUS engine_register(vfo_adapter *ad, const fo_caps *caps)
{
    fo_standby_desc sd;
    fo_config fc;
    NdisZeroMemory(&sd, sizeof(sd));
    NdisMoveMemory(sd.mac, ad->perm_mac, 6);
    sd.net_luid = ad->luid.Value;
    sd.mtu = ad->mtu;
    sd.standby_negotiated = vnet_has_feature(ad->vn, VNET_F_STANDBY);
    sd.caps = *caps;
    sd.link.up = ad->link.link_up;
    sd.link.speed_bps = vfo_link_speed_bps(ad);
    fo_config_default(&fc);
    fc.enabled = ad->cfg.failover;
    fc.require_standby_feature = ad->cfg.require_standby;
    fc.match_current_mac = ad->cfg.match_current_mac;
    fc.mtu_policy = (fo_mtu_policy)ad->cfg.mtu_policy;
    fc.announce_count = (uint8_t)ad->cfg.announce_count;
    for (unsigned i = 0; i < FO_ANNOUNCE_MAX; i++)
        fc.announce_offset_ms[i] = k_announce_offsets[i];

    vfo_lock();
    fo_reason r = fo_pair_init(&ad->pair, &g_vfo.reg, &fc, &sd);
    if (r != FO_R_OK) {
        vfo_unlock();
        VFO_ERR("failover engine refused the adapter: %s", fo_reason_name(r));
        return NDIS_STATUS_FAILURE;
    }
    ad->registered = true;
    InsertTailList(&g_vfo.adapters, &ad->entry);
    g_vfo.n_adapters++;
    fo_pair_info info;
    fo_pair_get_info(&ad->pair, &info);
    ad->shown_state = info.state;
    vfo_generation_bump_locked();
    vfo_event_end(ad, FO_R_OK, "adapter init"); /* maybe REENUMERATE_BINDINGS */
    return NDIS_STATUS_SUCCESS;
}

static bool adapter_alloc(NDIS_HANDLE handle, PNDIS_MINIPORT_INIT_PARAMETERS ip, vfo_adapter **out)
{
    vfo_adapter *ad = vfo_alloc(handle, sizeof(*ad), VFO_TAG_ADAPTER);
    *out = ad;
    if (!ad)
        return false;
    ad->handle = handle;
    ad->luid = ip->NetLuid;
    ad->if_index = ip->IfIndex;
    vfo_set(&ad->state, VFO_MP_PAUSED);
    InitializeListHead(&ad->entry);
    NdisAllocateSpinLock(&ad->tx_lock);
    NdisAllocateSpinLock(&ad->rx_lock);
    NdisAllocateSpinLock(&ad->ctrl_lock);
    NdisAllocateSpinLock(&ad->sg_lock);
    return true;
}

/* Frees whatever an adapter got, in reverse order; used by a failed
 * initialize and by halt (the pair is out of the registry by then). */
static void adapter_teardown(vfo_adapter *ad)
{
    vfo_glue_free(ad);
    /* The device first (no more DMA, interrupts or control answers), then
     * its interrupt, then the tick it may have armed (vfo_intr_deregister):
     * stopping in the other order left a live device without an ISR and a
     * tick re-arming a freed timer. */
    vfo_device_acquire(ad);
    vfo_device_stop(ad);
    vfo_device_release(ad);
    vfo_intr_deregister(ad);
    vfo_tx_free(ad);
    vfo_rx_free(ad);
    vfo_announce_free(ad);
    if (ad->vn)
        vnet_destroy(ad->vn);
    ad->vn = NULL;
    if (ad->os.dma)
        NdisMDeregisterScatterGatherDma(ad->os.dma);
    vfo_os_free(ad);
    NdisFreeSpinLock(&ad->tx_lock);
    NdisFreeSpinLock(&ad->rx_lock);
    NdisFreeSpinLock(&ad->ctrl_lock);
    NdisFreeSpinLock(&ad->sg_lock);
    vfo_free(ad->handle, ad, VFO_TAG_ADAPTER);
}

NDIS_STATUS MpInitializeEx(NDIS_HANDLE handle, NDIS_HANDLE drv_ctx,
                           PNDIS_MINIPORT_INIT_PARAMETERS ip)
{
    vfo_adapter *ad;
    fo_caps caps;
    (void)drv_ctx;
    if (!adapter_alloc(handle, ip, &ad))
        return NDIS_STATUS_RESOURCES;
    NDIS_STATUS st = set_registration(ad);
    if (st == NDIS_STATUS_SUCCESS) {
        vfo_config_read(handle, &ad->cfg, &ad->guid);
        st = vfo_os_init(ad, ip->AllocatedResources);
    }
    if (st == NDIS_STATUS_SUCCESS)
        st = dma_register(ad);
    if (st == NDIS_STATUS_SUCCESS)
        st = device_start(ad);
    if (st == NDIS_STATUS_SUCCESS &&
        !(vfo_tx_init(ad) && vfo_rx_init(ad) && vfo_announce_init(ad) && vfo_glue_init(ad)))
        st = NDIS_STATUS_RESOURCES;
    if (st == NDIS_STATUS_SUCCESS) {
        choose_macs(ad);
        ad->mtu = adapter_mtu(ad);
        ad->lookahead = ad->mtu;
        vfo_standby_caps(ad, &caps);
        ad->offload_req = caps.offload;
        ad->offload_now = caps.offload;
        st = set_general(ad);
    }
    if (st == NDIS_STATUS_SUCCESS)
        st = set_offload(ad, &caps);
    if (st == NDIS_STATUS_SUCCESS)
        vfo_rx_filter_apply(ad);
    if (st == NDIS_STATUS_SUCCESS)
        st = engine_register(ad, &caps);
    if (st != NDIS_STATUS_SUCCESS) {
        VFO_ERR("initialize failed %#x", (unsigned)st);
        adapter_teardown(ad);
        return st;
    }
    VFO_INFO("adapter up: MAC %02x:%02x:%02x:%02x:%02x:%02x MTU %lu standby %s link %s",
             ad->perm_mac[0], ad->perm_mac[1], ad->perm_mac[2], ad->perm_mac[3], ad->perm_mac[4],
             ad->perm_mac[5], (unsigned long)ad->mtu,
             vnet_has_feature(ad->vn, VNET_F_STANDBY) ? "negotiated" : "not negotiated",
             ad->link.link_up ? "up" : "down");
    vfo_ctl_adapter_up();
    return NDIS_STATUS_SUCCESS;
}

/* NDIS paused the adapter first. The engine gives the VF binding up (see
 * vfo_binding_orphan); the wait ends as soon as no binding refers to the
 * pair, without waiting for any other NDIS operation. */
void MpHaltEx(NDIS_HANDLE ctx, NDIS_HALT_ACTION action)
{
    vfo_adapter *ad = ctx;
    VFO_INFO("halt (action %d)", (int)action);
    vfo_set(&ad->halting, 1);
    if (action == NdisHaltDeviceSurpriseRemoved)
        vfo_mark_surprise_removed(ad);
    vfo_lock();
    fo_reason r = fo_standby_halt(&ad->pair);
    vfo_event_end(ad, r, "halt");
    NdisWaitEvent(&ad->released, 0);
    vfo_lock();
    r = fo_registry_remove(&g_vfo.reg, &ad->pair);
    ad->registered = false;
    RemoveEntryList(&ad->entry);
    g_vfo.n_adapters--;
    vfo_generation_bump_locked();
    vfo_unlock();
    vfo_ctl_flush();
    if (r != FO_R_OK)
        VFO_ERR("registry removal refused: %s", fo_reason_name(r));
    adapter_teardown(ad);
    vfo_ctl_adapter_down();
}

NDIS_STATUS vfo_miniport_register(PDRIVER_OBJECT drv, PUNICODE_STRING reg_path)
{
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS mc;
    NdisZeroMemory(&mc, sizeof(mc));
    VFO_INIT_HEADER(&mc.Header, NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS,
                    NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2,
                    NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2);
    mc.MajorNdisVersion = NDIS_MINIPORT_MAJOR_VERSION;
    mc.MinorNdisVersion = NDIS_MINIPORT_MINOR_VERSION;
    mc.MajorDriverVersion = VFO_MAJOR_VERSION;
    mc.MinorDriverVersion = VFO_MINOR_VERSION;
    mc.InitializeHandlerEx = MpInitializeEx;
    mc.HaltHandlerEx = MpHaltEx;
    mc.UnloadHandler = MpDriverUnload;
    mc.PauseHandler = MpPause;
    mc.RestartHandler = MpRestart;
    mc.OidRequestHandler = MpOidRequest;
    mc.SendNetBufferListsHandler = MpSendNetBufferLists;
    mc.ReturnNetBufferListsHandler = MpReturnNetBufferLists;
    mc.CancelSendHandler = MpCancelSend;
    mc.CheckForHangHandlerEx = MpCheckForHangEx;
    mc.ResetHandlerEx = MpResetEx;
    mc.DevicePnPEventNotifyHandler = MpDevicePnPEventNotify;
    mc.ShutdownHandlerEx = MpShutdownEx;
    mc.CancelOidRequestHandler = MpCancelOidRequest;
    return NdisMRegisterMiniportDriver(drv, reg_path, &g_vfo, &mc, &g_vfo.mp_driver);
}
