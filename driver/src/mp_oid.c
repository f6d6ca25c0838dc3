/*
 * mp_oid.c - MiniportOidRequest and the queries a Windows Ethernet miniport
 * answers: general, statistics, 802.3, offloads, link, power capabilities.
 * What the upper stack is shown (link, offloads, counters) is lib/failover's
 * view of the pair, not virtio's alone. Sets are in mp_oid_set.c.
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "mp_oid.tmh"
#endif

#define VFO_VENDOR_ID   0x00FFFFFFu /* no IEEE OUI of our own */
#define VFO_DESCRIPTION "vfo virtio-net with VF failover"

const NDIS_OID vfo_supported_oids[] = {
    OID_GEN_SUPPORTED_LIST,
    OID_GEN_HARDWARE_STATUS,
    OID_GEN_MEDIA_SUPPORTED,
    OID_GEN_MEDIA_IN_USE,
    OID_GEN_PHYSICAL_MEDIUM,
    OID_GEN_MAXIMUM_LOOKAHEAD,
    OID_GEN_CURRENT_LOOKAHEAD,
    OID_GEN_MAXIMUM_FRAME_SIZE,
    OID_GEN_MAXIMUM_TOTAL_SIZE,
    OID_GEN_LINK_SPEED,
    OID_GEN_TRANSMIT_BUFFER_SPACE,
    OID_GEN_RECEIVE_BUFFER_SPACE,
    OID_GEN_TRANSMIT_BLOCK_SIZE,
    OID_GEN_RECEIVE_BLOCK_SIZE,
    OID_GEN_VENDOR_ID,
    OID_GEN_VENDOR_DESCRIPTION,
    OID_GEN_VENDOR_DRIVER_VERSION,
    OID_GEN_DRIVER_VERSION,
    OID_GEN_CURRENT_PACKET_FILTER,
    OID_GEN_MAC_OPTIONS,
    OID_GEN_MEDIA_CONNECT_STATUS,
    OID_GEN_MAXIMUM_SEND_PACKETS,
    OID_GEN_LINK_STATE,
    OID_GEN_INTERRUPT_MODERATION,
    OID_GEN_NETWORK_LAYER_ADDRESSES,
    OID_GEN_XMIT_OK,
    OID_GEN_RCV_OK,
    OID_GEN_XMIT_ERROR,
    OID_GEN_RCV_ERROR,
    OID_GEN_RCV_NO_BUFFER,
    OID_GEN_STATISTICS,
    OID_802_3_PERMANENT_ADDRESS,
    OID_802_3_CURRENT_ADDRESS,
    OID_802_3_MULTICAST_LIST,
    OID_802_3_MAXIMUM_LIST_SIZE,
    OID_802_3_RCV_ERROR_ALIGNMENT,
    OID_802_3_XMIT_ONE_COLLISION,
    OID_802_3_XMIT_MORE_COLLISIONS,
    OID_TCP_OFFLOAD_PARAMETERS,
    OID_TCP_OFFLOAD_CURRENT_CONFIG,
    OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES,
    OID_OFFLOAD_ENCAPSULATION,
    OID_PNP_CAPABILITIES,
    OID_PNP_SET_POWER,
    OID_PNP_QUERY_POWER,
    OID_PM_PARAMETERS,
};
const ULONG vfo_supported_oids_size = sizeof(vfo_supported_oids);

/* Answers a query with `len` bytes from `data` (0: an empty answer, which
 * fits any buffer, even none); 32-bit counters may be read as 64-bit when
 * the buffer has room (NDIS's rule for statistics). */
static NDIS_STATUS answer(PNDIS_OID_REQUEST r, const void *data, ULONG len)
{
    UINT have = r->DATA.QUERY_INFORMATION.InformationBufferLength;
    if (have < len) {
        r->DATA.QUERY_INFORMATION.BytesNeeded = len;
        return NDIS_STATUS_BUFFER_TOO_SHORT;
    }
    /* An empty answer (no multicast address yet) may meet no buffer at all:
     * NDIS passes a NULL InformationBuffer with length 0, and copying even
     * 0 bytes to NULL is undefined. */
    if (len)
        NdisMoveMemory(r->DATA.QUERY_INFORMATION.InformationBuffer, data, len);
    r->DATA.QUERY_INFORMATION.BytesWritten = len;
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS answer_ulong(PNDIS_OID_REQUEST r, ULONG v)
{
    return answer(r, &v, sizeof(v));
}

static NDIS_STATUS answer_counter(PNDIS_OID_REQUEST r, ULONG64 v)
{
    if (r->DATA.QUERY_INFORMATION.InformationBufferLength >= sizeof(ULONG64))
        return answer(r, &v, sizeof(v));
    return answer_ulong(r, (ULONG)v);
}

static fo_link upper_link(vfo_adapter *ad)
{
    vfo_lock();
    fo_link l = fo_upper_link(&ad->pair);
    vfo_unlock();
    return l;
}

static NDIS_STATUS query_statistics(vfo_adapter *ad, PNDIS_OID_REQUEST r, NDIS_OID oid)
{
    fo_counters c;
    NDIS_STATISTICS_INFO si;
    vfo_stats_total(ad, &c);
    switch (oid) {
    case OID_GEN_STATISTICS:
        vfo_counters_to_ndis(&c, &si);
        return answer(r, &si, sizeof(si));
    case OID_GEN_XMIT_OK:
        return answer_counter(r, c.v[FO_STAT_OUT_UCAST_PKTS] + c.v[FO_STAT_OUT_MCAST_PKTS] +
                                     c.v[FO_STAT_OUT_BCAST_PKTS]);
    case OID_GEN_RCV_OK:
        return answer_counter(r, c.v[FO_STAT_IN_UCAST_PKTS] + c.v[FO_STAT_IN_MCAST_PKTS] +
                                     c.v[FO_STAT_IN_BCAST_PKTS]);
    case OID_GEN_XMIT_ERROR:
        return answer_counter(r, c.v[FO_STAT_OUT_ERRORS]);
    case OID_GEN_RCV_ERROR:
        return answer_counter(r, c.v[FO_STAT_IN_ERRORS]);
    default: /* OID_GEN_RCV_NO_BUFFER */
        return answer_counter(r, c.v[FO_STAT_IN_DISCARDS]);
    }
}

static NDIS_STATUS query_offload(vfo_adapter *ad, PNDIS_OID_REQUEST r, bool hardware)
{
    NDIS_OFFLOAD no;
    fo_caps caps;
    if (hardware) {
        vfo_standby_caps(ad, &caps);
        vfo_offload_to_ndis(&caps.offload, &no);
    } else {
        vfo_offload_to_ndis(&ad->offload_now, &no);
    }
    return answer(r, &no, sizeof(no));
}

static NDIS_STATUS query_pm(PNDIS_OID_REQUEST r, NDIS_OID oid)
{
    if (oid == OID_PNP_CAPABILITIES) {
        NDIS_PNP_CAPABILITIES pc;
        NdisZeroMemory(&pc, sizeof(pc));
        pc.WakeUpCapabilities.MinMagicPacketWakeUp = NdisDeviceStateUnspecified;
        pc.WakeUpCapabilities.MinPatternWakeUp = NdisDeviceStateUnspecified;
        pc.WakeUpCapabilities.MinLinkChangeWakeUp = NdisDeviceStateUnspecified;
        return answer(r, &pc, sizeof(pc));
    }
    return NDIS_STATUS_SUCCESS; /* OID_PNP_QUERY_POWER: any state is fine */
}

static NDIS_STATUS query_link(vfo_adapter *ad, PNDIS_OID_REQUEST r, NDIS_OID oid)
{
    fo_link l = upper_link(ad);
    if (oid == OID_GEN_LINK_STATE) {
        NDIS_LINK_STATE ls;
        vfo_link_state_fill(l, &ls);
        return answer(r, &ls, sizeof(ls));
    }
    /* An NDIS_MEDIA_STATE (Connected 0, Disconnected 1), not the
     * NDIS_MEDIA_CONNECT_STATE of OID_GEN_LINK_STATE (Connected 1). */
    if (oid == OID_GEN_MEDIA_CONNECT_STATUS)
        return answer_ulong(r, l.up ? NdisMediaStateConnected : NdisMediaStateDisconnected);
    /* OID_GEN_LINK_SPEED: units of 100 bit/s */
    ULONG64 s = (l.speed_bps ? l.speed_bps : vfo_link_speed_bps(ad)) / 100;
    return answer_ulong(r, s > 0xFFFFFFFFull ? 0xFFFFFFFFu : (ULONG)s);
}

static NDIS_STATUS query_general(vfo_adapter *ad, PNDIS_OID_REQUEST r, NDIS_OID oid)
{
    static const char desc[] = VFO_DESCRIPTION;
    ULONG frame = ad->mtu + 14;
    switch (oid) {
    case OID_GEN_SUPPORTED_LIST:
        return answer(r, vfo_supported_oids, vfo_supported_oids_size);
    case OID_GEN_HARDWARE_STATUS:
        return answer_ulong(r, ad->surprise_removed ? NdisHardwareStatusNotReady
                                                    : NdisHardwareStatusReady);
    case OID_GEN_MEDIA_SUPPORTED:
    case OID_GEN_MEDIA_IN_USE:
        return answer_ulong(r, NdisMedium802_3);
    case OID_GEN_PHYSICAL_MEDIUM:
        return answer_ulong(r, NdisPhysicalMedium802_3);
    case OID_GEN_MAXIMUM_LOOKAHEAD:
    case OID_GEN_MAXIMUM_FRAME_SIZE:
        return answer_ulong(r, ad->mtu);
    case OID_GEN_CURRENT_LOOKAHEAD:
        return answer_ulong(r, ad->lookahead);
    case OID_GEN_MAXIMUM_TOTAL_SIZE:
    case OID_GEN_TRANSMIT_BLOCK_SIZE:
    case OID_GEN_RECEIVE_BLOCK_SIZE:
        return answer_ulong(r, frame);
    case OID_GEN_TRANSMIT_BUFFER_SPACE:
        return answer_ulong(r, frame * ad->cfg.tx_ring);
    case OID_GEN_RECEIVE_BUFFER_SPACE:
        return answer_ulong(r, frame * ad->cfg.rx_ring);
    case OID_GEN_VENDOR_ID:
        return answer_ulong(r, VFO_VENDOR_ID);
    case OID_GEN_VENDOR_DESCRIPTION:
        return answer(r, desc, sizeof(desc));
    case OID_GEN_VENDOR_DRIVER_VERSION:
        return answer_ulong(r, (VFO_MAJOR_VERSION << 16) | VFO_MINOR_VERSION);
    case OID_GEN_DRIVER_VERSION:
        return answer_ulong(r, (NDIS_MINIPORT_MAJOR_VERSION << 8) | NDIS_MINIPORT_MINOR_VERSION);
    case OID_GEN_CURRENT_PACKET_FILTER:
        return answer_ulong(r, ad->packet_filter);
    case OID_GEN_MAC_OPTIONS:
        return answer_ulong(r, NDIS_MAC_OPTION_COPY_LOOKAHEAD_DATA |
                                   NDIS_MAC_OPTION_TRANSFERS_NOT_PEND |
                                   NDIS_MAC_OPTION_NO_LOOPBACK);
    case OID_GEN_MAXIMUM_SEND_PACKETS:
        return answer_ulong(r, ad->cfg.tx_ring);
    default:
        return NDIS_STATUS_NOT_SUPPORTED;
    }
}

NDIS_STATUS vfo_oid_query(vfo_adapter *ad, PNDIS_OID_REQUEST r)
{
    NDIS_OID oid = r->DATA.QUERY_INFORMATION.Oid;
    switch (oid) {
    case OID_GEN_LINK_STATE:
    case OID_GEN_MEDIA_CONNECT_STATUS:
    case OID_GEN_LINK_SPEED:
        return query_link(ad, r, oid);
    case OID_GEN_STATISTICS:
    case OID_GEN_XMIT_OK:
    case OID_GEN_RCV_OK:
    case OID_GEN_XMIT_ERROR:
    case OID_GEN_RCV_ERROR:
    case OID_GEN_RCV_NO_BUFFER:
        return query_statistics(ad, r, oid);
    case OID_802_3_PERMANENT_ADDRESS:
        return answer(r, ad->perm_mac, 6);
    case OID_802_3_CURRENT_ADDRESS:
        return answer(r, ad->cur_mac, 6);
    case OID_802_3_MULTICAST_LIST:
        return answer(r, ad->mcast, ad->mcast_count * 6);
    case OID_802_3_MAXIMUM_LIST_SIZE:
        return answer_ulong(r, VFO_MAX_MCAST);
    case OID_802_3_RCV_ERROR_ALIGNMENT:
    case OID_802_3_XMIT_ONE_COLLISION:
    case OID_802_3_XMIT_MORE_COLLISIONS:
        return answer_counter(r, 0); /* a virtual wire has no collisions */
    case OID_TCP_OFFLOAD_CURRENT_CONFIG:
    case OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES:
        return query_offload(ad, r, oid == OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES);
    case OID_GEN_INTERRUPT_MODERATION: {
        NDIS_INTERRUPT_MODERATION_PARAMETERS im;
        NdisZeroMemory(&im, sizeof(im));
        VFO_INIT_HEADER(&im.Header, NDIS_OBJECT_TYPE_DEFAULT,
                        NDIS_INTERRUPT_MODERATION_PARAMETERS_REVISION_1,
                        NDIS_SIZEOF_INTERRUPT_MODERATION_PARAMETERS_REVISION_1);
        im.InterruptModeration = NdisInterruptModerationNotSupported;
        return answer(r, &im, sizeof(im));
    }
    case OID_PNP_CAPABILITIES:
    case OID_PNP_QUERY_POWER:
        return query_pm(r, oid);
    default:
        return query_general(ad, r, oid);
    }
}

/* NdisOidComplete: a set of OID_PNP_SET_POWER, or of an OID that releases
 * something, completes with SUCCESS or NOT_ACCEPTED (or REQUEST_ABORTED)
 * only, whatever kept vfo from doing it: a bad buffer, or an OID it does
 * not support (fuzz_oid: OID_PM_REMOVE_WOL_PATTERN answered
 * NOT_SUPPORTED). */
static NDIS_STATUS completion_status(const NDIS_OID_REQUEST *r, NDIS_STATUS st)
{
    if (r->RequestType != NdisRequestSetInformation || st == NDIS_STATUS_SUCCESS ||
        st == NDIS_STATUS_PENDING)
        return st;
    switch (r->DATA.SET_INFORMATION.Oid) {
    case OID_PNP_SET_POWER:
    case OID_RECEIVE_FILTER_CLEAR_FILTER:
    case OID_TCP_TASK_IPSEC_OFFLOAD_V2_DELETE_SA:
    case OID_RECEIVE_FILTER_FREE_QUEUE:
    case OID_NIC_SWITCH_FREE_VF:
    case OID_NIC_SWITCH_DELETE_SWITCH:
    case OID_802_3_DELETE_MULTICAST_ADDRESS:
    case OID_PM_REMOVE_WOL_PATTERN:
    case OID_PM_REMOVE_PROTOCOL_OFFLOAD:
    case OID_TUNNEL_INTERFACE_RELEASE_OID:
        return NDIS_STATUS_NOT_ACCEPTED;
    default:
        return st;
    }
}

NDIS_STATUS MpOidRequest(NDIS_HANDLE ctx, PNDIS_OID_REQUEST r)
{
    vfo_adapter *ad = ctx;
    NDIS_STATUS st;
    switch (r->RequestType) {
    case NdisRequestQueryInformation:
    case NdisRequestQueryStatistics:
        st = vfo_oid_query(ad, r);
        break;
    case NdisRequestSetInformation:
        st = vfo_oid_set(ad, r);
        break;
    default:
        st = NDIS_STATUS_NOT_SUPPORTED;
        break;
    }
    if (st != NDIS_STATUS_SUCCESS && st != NDIS_STATUS_BUFFER_TOO_SHORT &&
        st != NDIS_STATUS_NOT_SUPPORTED)
        vfo_count(&ad->ctr.bad_oids, 1);
    return completion_status(r, st);
}

/* Every OID is answered before MiniportOidRequest returns. */
void MpCancelOidRequest(NDIS_HANDLE ctx, PVOID request_id)
{
    (void)ctx;
    (void)request_id;
}
