/*
 * vfnic_oid.c - the OIDs a VF miniport answers: identity, filters, link,
 * statistics, offload and RSS configuration, power.
 */
#include "vfnic.h"

static const NDIS_OID k_supported[] = {
    OID_GEN_SUPPORTED_LIST,
    OID_GEN_CURRENT_PACKET_FILTER,
    OID_GEN_CURRENT_LOOKAHEAD,
    OID_GEN_MAXIMUM_FRAME_SIZE,
    OID_GEN_MAXIMUM_TOTAL_SIZE,
    OID_GEN_LINK_STATE,
    OID_GEN_XMIT_OK,
    OID_GEN_RCV_OK,
    OID_GEN_XMIT_ERROR,
    OID_GEN_RCV_NO_BUFFER,
    OID_GEN_STATISTICS,
    OID_GEN_VENDOR_DESCRIPTION,
    OID_802_3_PERMANENT_ADDRESS,
    OID_802_3_CURRENT_ADDRESS,
    OID_802_3_MULTICAST_LIST,
    OID_802_3_MAXIMUM_LIST_SIZE,
    OID_TCP_OFFLOAD_PARAMETERS,
    OID_TCP_OFFLOAD_CURRENT_CONFIG,
    OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES,
    OID_OFFLOAD_ENCAPSULATION,
    OID_GEN_RECEIVE_SCALE_CAPABILITIES,
    OID_GEN_RECEIVE_SCALE_PARAMETERS,
    OID_PNP_SET_POWER,
};

static NDIS_STATUS answer_ulong(PNDIS_OID_REQUEST r, ULONG v)
{
    return nu_answer(r, &v, sizeof(v));
}

/* Statistics OIDs answer 32 bits when that is all the caller's buffer holds. */
static NDIS_STATUS answer_counter(PNDIS_OID_REQUEST r, ULONG64 v)
{
    if (r->DATA.QUERY_INFORMATION.InformationBufferLength < sizeof(ULONG64))
        return answer_ulong(r, (ULONG)v);
    return nu_answer(r, &v, sizeof(v));
}

static UCHAR csum_bits(UCHAR cfg, BOOLEAN tx)
{
    return (UCHAR)((cfg & (tx ? 1 : 2)) ? NDIS_OFFLOAD_SUPPORTED : NDIS_OFFLOAD_NOT_SUPPORTED);
}

/* What the adapter does now (or, with `hardware`, what the device can). */
void vf_build_offload(const vf_adapter *a, NDIS_OFFLOAD *o, BOOLEAN hardware)
{
    vf_offload_cfg c = a->off;
    if (hardware) {
        UCHAR ip4 = (a->caps & VFDEV_CAP_CSUM_IP4) ? 3 : 0;
        UCHAR l4v4 = (a->caps & VFDEV_CAP_CSUM_L4_IP4) ? 3 : 0;
        UCHAR l4v6 = (a->caps & VFDEV_CAP_CSUM_L4_IP6) ? 3 : 0;
        c.ip4_csum = ip4;
        c.tcp4_csum = c.udp4_csum = l4v4;
        c.tcp6_csum = c.udp6_csum = l4v6;
        c.lso4 = (a->caps & VFDEV_CAP_LSO_IP4) != 0;
        c.lso6 = (a->caps & VFDEV_CAP_LSO_IP6) != 0;
    }
    NdisZeroMemory(o, sizeof(*o));
    NU_INIT_HEADER(&o->Header, NDIS_OBJECT_TYPE_OFFLOAD, NDIS_OFFLOAD_REVISION_3,
                   NDIS_SIZEOF_NDIS_OFFLOAD_REVISION_3);
    o->Checksum.IPv4Transmit.Encapsulation = NDIS_ENCAPSULATION_IEEE_802_3;
    o->Checksum.IPv4Transmit.IpChecksum = csum_bits(c.ip4_csum, TRUE);
    o->Checksum.IPv4Transmit.TcpChecksum = csum_bits(c.tcp4_csum, TRUE);
    o->Checksum.IPv4Transmit.UdpChecksum = csum_bits(c.udp4_csum, TRUE);
    o->Checksum.IPv4Receive.Encapsulation = NDIS_ENCAPSULATION_IEEE_802_3;
    o->Checksum.IPv4Receive.IpChecksum = csum_bits(c.ip4_csum, FALSE);
    o->Checksum.IPv4Receive.TcpChecksum = csum_bits(c.tcp4_csum, FALSE);
    o->Checksum.IPv4Receive.UdpChecksum = csum_bits(c.udp4_csum, FALSE);
    o->Checksum.IPv6Transmit.Encapsulation = NDIS_ENCAPSULATION_IEEE_802_3;
    o->Checksum.IPv6Transmit.TcpChecksum = csum_bits(c.tcp6_csum, TRUE);
    o->Checksum.IPv6Transmit.UdpChecksum = csum_bits(c.udp6_csum, TRUE);
    o->Checksum.IPv6Receive.Encapsulation = NDIS_ENCAPSULATION_IEEE_802_3;
    o->Checksum.IPv6Receive.TcpChecksum = csum_bits(c.tcp6_csum, FALSE);
    o->Checksum.IPv6Receive.UdpChecksum = csum_bits(c.udp6_csum, FALSE);
    if (c.lso4) {
        o->LsoV2.IPv4.Encapsulation = NDIS_ENCAPSULATION_IEEE_802_3;
        o->LsoV2.IPv4.MaxOffLoadSize = 64000;
        o->LsoV2.IPv4.MinSegmentCount = 2;
    }
    if (c.lso6) {
        o->LsoV2.IPv6.Encapsulation = NDIS_ENCAPSULATION_IEEE_802_3;
        o->LsoV2.IPv6.MaxOffLoadSize = 64000;
        o->LsoV2.IPv6.MinSegmentCount = 2;
    }
}

static NDIS_STATUS query_statistics(vf_adapter *a, PNDIS_OID_REQUEST r)
{
    NDIS_STATISTICS_INFO s;
    NdisZeroMemory(&s, sizeof(s));
    NU_INIT_HEADER(&s.Header, NDIS_OBJECT_TYPE_DEFAULT, NDIS_STATISTICS_INFO_REVISION_1,
                   NDIS_SIZEOF_STATISTICS_INFO_REVISION_1);
    s.SupportedStatistics =
        NDIS_STATISTICS_FLAGS_VALID_DIRECTED_FRAMES_RCV | NDIS_STATISTICS_FLAGS_VALID_BYTES_RCV |
        NDIS_STATISTICS_FLAGS_VALID_RCV_DISCARDS |
        NDIS_STATISTICS_FLAGS_VALID_DIRECTED_FRAMES_XMIT | NDIS_STATISTICS_FLAGS_VALID_BYTES_XMIT |
        NDIS_STATISTICS_FLAGS_VALID_XMIT_ERROR | NDIS_STATISTICS_FLAGS_VALID_XMIT_DISCARDS;
    NdisAcquireSpinLock(&a->lock);
    s.ifHCInUcastPkts = a->st.rcv_ok;
    s.ifHCInOctets = a->st.rcv_bytes;
    s.ifInDiscards = a->st.rcv_discards;
    s.ifHCOutUcastPkts = a->st.xmit_ok;
    s.ifHCOutOctets = a->st.xmit_bytes;
    s.ifOutErrors = a->st.xmit_error;
    s.ifOutDiscards = a->st.xmit_discards;
    NdisReleaseSpinLock(&a->lock);
    return nu_answer(r, &s, sizeof(s));
}

static NDIS_STATUS query_link(vf_adapter *a, PNDIS_OID_REQUEST r)
{
    NDIS_LINK_STATE ls;
    nu_link_state(&ls, a->link_up, a->speed_bps);
    return nu_answer(r, &ls, sizeof(ls));
}

void vf_rss_caps(const vf_adapter *a, NDIS_RECEIVE_SCALE_CAPABILITIES *c)
{
    NdisZeroMemory(c, sizeof(*c));
    NU_INIT_HEADER(&c->Header, NDIS_OBJECT_TYPE_RSS_CAPABILITIES,
                   NDIS_RECEIVE_SCALE_CAPABILITIES_REVISION_1, sizeof(*c));
    c->CapabilitiesFlags = NDIS_RSS_CAPS_MESSAGE_SIGNALED_INTERRUPTS |
                           NDIS_RSS_CAPS_CLASSIFICATION_AT_DPC | NDIS_RSS_CAPS_HASH_TYPE_TCP_IPV4 |
                           NDIS_RSS_CAPS_HASH_TYPE_TCP_IPV6;
    c->NumberOfInterruptMessages = 1;
    c->NumberOfReceiveQueues = a->off.rss_queues;
}

static NDIS_STATUS query_rss_caps(vf_adapter *a, PNDIS_OID_REQUEST r)
{
    if (!a->off.rss)
        return NDIS_STATUS_NOT_SUPPORTED;
    NDIS_RECEIVE_SCALE_CAPABILITIES c;
    vf_rss_caps(a, &c);
    return nu_answer(r, &c, sizeof(c));
}

static NDIS_STATUS oid_query(vf_adapter *a, PNDIS_OID_REQUEST r)
{
    static const char vendor[] = "vfo emulated SR-IOV VF";
    NDIS_OFFLOAD o;
    switch (r->DATA.QUERY_INFORMATION.Oid) {
    case OID_GEN_SUPPORTED_LIST:
        return nu_answer(r, k_supported, sizeof(k_supported));
    case OID_GEN_CURRENT_PACKET_FILTER:
        return answer_ulong(r, a->packet_filter);
    case OID_GEN_CURRENT_LOOKAHEAD:
    case OID_GEN_MAXIMUM_FRAME_SIZE:
        return answer_ulong(r, a->mtu);
    case OID_GEN_MAXIMUM_TOTAL_SIZE:
        return answer_ulong(r, a->mtu + 14);
    case OID_GEN_LINK_STATE:
        return query_link(a, r);
    case OID_GEN_XMIT_OK:
        return answer_counter(r, a->st.xmit_ok);
    case OID_GEN_RCV_OK:
        return answer_counter(r, a->st.rcv_ok);
    case OID_GEN_XMIT_ERROR:
        return answer_counter(r, a->st.xmit_error);
    case OID_GEN_RCV_NO_BUFFER:
        return answer_counter(r, a->st.rcv_discards);
    case OID_GEN_STATISTICS:
        return query_statistics(a, r);
    case OID_GEN_VENDOR_DESCRIPTION:
        return nu_answer(r, vendor, sizeof(vendor));
    case OID_802_3_PERMANENT_ADDRESS:
        return nu_answer(r, a->perm_mac, 6);
    case OID_802_3_CURRENT_ADDRESS:
        return nu_answer(r, a->mac, 6);
    case OID_802_3_MULTICAST_LIST:
        return nu_answer(r, a->mcast, a->n_mcast * 6);
    case OID_802_3_MAXIMUM_LIST_SIZE:
        return answer_ulong(r, VF_MCAST);
    case OID_TCP_OFFLOAD_CURRENT_CONFIG:
        vf_build_offload(a, &o, FALSE);
        return nu_answer(r, &o, sizeof(o));
    case OID_TCP_OFFLOAD_HARDWARE_CAPABILITIES:
        vf_build_offload(a, &o, TRUE);
        return nu_answer(r, &o, sizeof(o));
    case OID_GEN_RECEIVE_SCALE_CAPABILITIES:
        return query_rss_caps(a, r);
    default:
        return NDIS_STATUS_NOT_SUPPORTED;
    }
}

/* One checksum setting of OID_TCP_OFFLOAD_PARAMETERS onto the 0..3 form,
 * refused when it asks for more than the device has. */
static BOOLEAN apply_csum(UCHAR param, UCHAR hw, UCHAR *cfg)
{
    static const UCHAR map[] = { 0, 0, 1, 2, 3 }; /* NO_CHANGE is handled by the caller */
    if (param == NDIS_OFFLOAD_PARAMETERS_NO_CHANGE)
        return TRUE;
    if (param > NDIS_OFFLOAD_PARAMETERS_TX_RX_ENABLED || (map[param] & ~hw))
        return FALSE;
    *cfg = map[param];
    return TRUE;
}

static BOOLEAN apply_lso(UCHAR param, BOOLEAN hw, BOOLEAN *cfg)
{
    if (param == NDIS_OFFLOAD_PARAMETERS_NO_CHANGE)
        return TRUE;
    if (param == NDIS_OFFLOAD_PARAMETERS_LSOV2_DISABLED) {
        *cfg = FALSE;
        return TRUE;
    }
    if (param != NDIS_OFFLOAD_PARAMETERS_LSOV2_ENABLED || !hw)
        return FALSE;
    *cfg = TRUE;
    return TRUE;
}

static NDIS_STATUS set_offload_params(vf_adapter *a, PNDIS_OID_REQUEST r)
{
    const NDIS_OFFLOAD_PARAMETERS *p = r->DATA.SET_INFORMATION.InformationBuffer;
    if (r->DATA.SET_INFORMATION.InformationBufferLength < NDIS_SIZEOF_OFFLOAD_PARAMETERS_REVISION_1)
        return NDIS_STATUS_INVALID_LENGTH;
    UCHAR ip4 = (a->caps & VFDEV_CAP_CSUM_IP4) ? 3 : 0;
    UCHAR l4v4 = (a->caps & VFDEV_CAP_CSUM_L4_IP4) ? 3 : 0;
    UCHAR l4v6 = (a->caps & VFDEV_CAP_CSUM_L4_IP6) ? 3 : 0;
    vf_offload_cfg c = a->off;
    if (!apply_csum(p->IPv4Checksum, ip4, &c.ip4_csum) ||
        !apply_csum(p->TCPIPv4Checksum, l4v4, &c.tcp4_csum) ||
        !apply_csum(p->UDPIPv4Checksum, l4v4, &c.udp4_csum) ||
        !apply_csum(p->TCPIPv6Checksum, l4v6, &c.tcp6_csum) ||
        !apply_csum(p->UDPIPv6Checksum, l4v6, &c.udp6_csum) ||
        !apply_lso(p->LsoV2IPv4, (a->caps & VFDEV_CAP_LSO_IP4) != 0, &c.lso4) ||
        !apply_lso(p->LsoV2IPv6, (a->caps & VFDEV_CAP_LSO_IP6) != 0, &c.lso6))
        return NDIS_STATUS_INVALID_PARAMETER;
    a->off = c;
    r->DATA.SET_INFORMATION.BytesRead = r->DATA.SET_INFORMATION.InformationBufferLength;
    NDIS_OFFLOAD o;
    vf_build_offload(a, &o, FALSE);
    nu_indicate_status(a->handle, NDIS_STATUS_TASK_OFFLOAD_CURRENT_CONFIG, &o, sizeof(o));
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS set_encapsulation(PNDIS_OID_REQUEST r)
{
    const NDIS_OFFLOAD_ENCAPSULATION *e = r->DATA.SET_INFORMATION.InformationBuffer;
    if (r->DATA.SET_INFORMATION.InformationBufferLength <
        NDIS_SIZEOF_OFFLOAD_ENCAPSULATION_REVISION_1)
        return NDIS_STATUS_INVALID_LENGTH;
    if ((e->IPv4.Enabled == NDIS_OFFLOAD_SET_ON &&
         e->IPv4.EncapsulationType != NDIS_ENCAPSULATION_IEEE_802_3) ||
        (e->IPv6.Enabled == NDIS_OFFLOAD_SET_ON &&
         e->IPv6.EncapsulationType != NDIS_ENCAPSULATION_IEEE_802_3))
        return NDIS_STATUS_INVALID_PARAMETER;
    r->DATA.SET_INFORMATION.BytesRead = sizeof(*e);
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS set_rss(vf_adapter *a, PNDIS_OID_REQUEST r)
{
    const NDIS_RECEIVE_SCALE_PARAMETERS *p = r->DATA.SET_INFORMATION.InformationBuffer;
    ULONG len = r->DATA.SET_INFORMATION.InformationBufferLength;
    if (!a->off.rss)
        return NDIS_STATUS_NOT_SUPPORTED;
    if (len < NDIS_SIZEOF_RECEIVE_SCALE_PARAMETERS_REVISION_1 ||
        p->Header.Type != NDIS_OBJECT_TYPE_RSS_PARAMETERS)
        return NDIS_STATUS_INVALID_PARAMETER;
    if ((ULONG64)p->IndirectionTableOffset + p->IndirectionTableSize > len ||
        (ULONG64)p->HashSecretKeyOffset + p->HashSecretKeySize > len)
        return NDIS_STATUS_INVALID_LENGTH;
    r->DATA.SET_INFORMATION.BytesRead = len;
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS set_multicast(vf_adapter *a, PNDIS_OID_REQUEST r)
{
    ULONG len = r->DATA.SET_INFORMATION.InformationBufferLength;
    if (len % 6)
        return NDIS_STATUS_INVALID_LENGTH;
    if (len / 6 > VF_MCAST)
        return NDIS_STATUS_MULTICAST_FULL;
    NdisAcquireSpinLock(&a->lock);
    NdisMoveMemory(a->mcast, r->DATA.SET_INFORMATION.InformationBuffer, len);
    a->n_mcast = len / 6;
    NdisReleaseSpinLock(&a->lock);
    r->DATA.SET_INFORMATION.BytesRead = len;
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS set_power(vf_adapter *a, PNDIS_OID_REQUEST r)
{
    /* NdisOidComplete: OID_PNP_SET_POWER completes with SUCCESS or
     * NOT_ACCEPTED only */
    if (r->DATA.SET_INFORMATION.InformationBufferLength < sizeof(NDIS_DEVICE_POWER_STATE))
        return NDIS_STATUS_NOT_ACCEPTED;
    NDIS_DEVICE_POWER_STATE d =
        *(NDIS_DEVICE_POWER_STATE *)r->DATA.SET_INFORMATION.InformationBuffer;
    NdisAcquireSpinLock(&a->lock);
    a->low_power = d != NdisDeviceStateD0;
    if (a->low_power)
        vf_hw_stop(a);
    else if (!a->removed)
        vf_hw_start(a);
    NdisReleaseSpinLock(&a->lock);
    r->DATA.SET_INFORMATION.BytesRead = sizeof(d);
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS oid_set(vf_adapter *a, PNDIS_OID_REQUEST r)
{
    ULONG len = r->DATA.SET_INFORMATION.InformationBufferLength;
    switch (r->DATA.SET_INFORMATION.Oid) {
    case OID_GEN_CURRENT_PACKET_FILTER:
        if (len < sizeof(ULONG))
            return NDIS_STATUS_INVALID_LENGTH;
        NdisAcquireSpinLock(&a->lock);
        a->packet_filter = *(ULONG *)r->DATA.SET_INFORMATION.InformationBuffer;
        NdisReleaseSpinLock(&a->lock);
        r->DATA.SET_INFORMATION.BytesRead = sizeof(ULONG);
        return NDIS_STATUS_SUCCESS;
    case OID_GEN_CURRENT_LOOKAHEAD:
        r->DATA.SET_INFORMATION.BytesRead = len;
        return NDIS_STATUS_SUCCESS;
    case OID_802_3_MULTICAST_LIST:
        return set_multicast(a, r);
    case OID_TCP_OFFLOAD_PARAMETERS:
        return set_offload_params(a, r);
    case OID_OFFLOAD_ENCAPSULATION:
        return set_encapsulation(r);
    case OID_GEN_RECEIVE_SCALE_PARAMETERS:
        return set_rss(a, r);
    case OID_PNP_SET_POWER:
        return set_power(a, r);
    default:
        return NDIS_STATUS_NOT_SUPPORTED;
    }
}

NDIS_STATUS MpOidRequest(NDIS_HANDLE ctx, PNDIS_OID_REQUEST r)
{
    vf_adapter *a = ctx;
    switch (r->RequestType) {
    case NdisRequestQueryInformation:
    case NdisRequestQueryStatistics:
        return oid_query(a, r);
    case NdisRequestSetInformation:
        return oid_set(a, r);
    default:
        return NDIS_STATUS_NOT_SUPPORTED;
    }
}

void MpCancelOidRequest(NDIS_HANDLE ctx, PVOID id)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(id);
}
