/*
 * mp_oid_set.c - OID sets on the vfo miniport. Each is validated, applied to
 * virtio (receive filter through the control queue, offloads on the data
 * path) and recorded by lib/failover, which replays it to the VF.
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "mp_oid_set.tmh"
#endif

static void record(vfo_adapter *ad, fo_setting s, const void *data, size_t len)
{
    vfo_lock();
    fo_reason r = fo_record_setting(&ad->pair, s, data, len);
    vfo_event_end(ad, r, fo_setting_name(s));
}

/* ctrl_lock held. Submits the receive filter as three commands: promiscuous
 * and all-multicast modes, then the MAC table (the current MAC when it is not
 * the permanent one, the multicast list unless all-multicast). */
static void filter_done(void *ctx, void *cookie, vnet_ctrl_op op, vnet_status st);

static void filter_submit(vfo_adapter *ad)
{
    ULONG f = ad->packet_filter;
    bool mc = (f & NDIS_PACKET_TYPE_MULTICAST) != 0;
    ULONG n_mc = mc ? ad->mcast_count : 0;
    bool allmulti = (f & NDIS_PACKET_TYPE_ALL_MULTICAST) || n_mc > VNET_MAC_TABLE_MAX;
    bool own_mac = !NdisEqualMemory(ad->cur_mac, ad->perm_mac, 6);
    vnet_status st[3];
    ad->filter_dirty = false;
    st[0] = vnet_ctrl_set_promisc(ad->vn, (f & NDIS_PACKET_TYPE_PROMISCUOUS) != 0, filter_done, ad);
    st[1] = vnet_ctrl_set_allmulti(ad->vn, allmulti, filter_done, ad);
    st[2] = vnet_ctrl_set_mac_table(ad->vn, ad->cur_mac, own_mac ? 1 : 0, &ad->mcast[0][0],
                                    allmulti ? 0 : n_mc, filter_done, ad);
    for (int i = 0; i < 3; i++) {
        if (st[i] == VNET_OK)
            ad->filter_inflight++;
        else if (st[i] == VNET_E_BUSY) /* every slot taken: again after a completion */
            ad->filter_dirty = true;
        else
            VFO_WARN("receive filter command %d refused: %s", i, vnet_status_name(st[i]));
    }
}

/* A filter command completed (ctrl_lock held): a change that arrived while
 * the filter was in flight is submitted now, so the device ends with the
 * latest one. */
static void filter_done(void *ctx, void *cookie, vnet_ctrl_op op, vnet_status st)
{
    vfo_adapter *ad = cookie;
    (void)ctx;
    if (st != VNET_OK && st != VNET_E_CANCELLED) /* counted by lib/vnet */
        VFO_WARN("receive filter command %d: %s", (int)op, vnet_status_name(st));
    ad->filter_inflight--;
    if (st != VNET_E_CANCELLED)
        vfo_rx_filter_retry(ad);
}

/* ctrl_lock held, after control-queue completions: a filter change that
 * found no free slot or arrived while one was in flight goes out now. */
void vfo_rx_filter_retry(vfo_adapter *ad)
{
    if (ad->filter_dirty && ad->filter_inflight == 0 && !ad->resetting && vnet_is_started(ad->vn))
        filter_submit(ad);
}

/* The device's receive filter from the packet filter and multicast list.
 * One programming is in flight at a time; a change meanwhile is coalesced
 * into the next. */
void vfo_rx_filter_apply(vfo_adapter *ad)
{
    NdisAcquireSpinLock(&ad->ctrl_lock);
    if (ad->resetting || !ad->vn || !vnet_is_started(ad->vn) ||
        !vnet_has_feature(ad->vn, VNET_F_CTRL_RX)) {
        NdisReleaseSpinLock(&ad->ctrl_lock);
        return;
    }
    if (ad->filter_inflight)
        ad->filter_dirty = true;
    else
        filter_submit(ad);
    vfo_ctrl_tick_start(ad);
    NdisReleaseSpinLock(&ad->ctrl_lock);
}

static NDIS_STATUS set_packet_filter(vfo_adapter *ad, const ULONG *v, ULONG len)
{
    if (len < sizeof(ULONG))
        return NDIS_STATUS_INVALID_LENGTH;
    if (*v & ~(ULONG)VFO_PACKET_FILTERS)
        return NDIS_STATUS_NOT_SUPPORTED;
    ad->packet_filter = *v;
    vfo_rx_filter_apply(ad);
    record(ad, FO_SET_PACKET_FILTER, v, sizeof(ULONG));
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS set_multicast(vfo_adapter *ad, const UCHAR *list, ULONG len)
{
    if (len % 6)
        return NDIS_STATUS_INVALID_LENGTH;
    if (len / 6 > VFO_MAX_MCAST)
        return NDIS_STATUS_MULTICAST_FULL;
    for (ULONG i = 0; i < len; i += 6)
        if (!(list[i] & 1))
            return NDIS_STATUS_INVALID_DATA;
    if (len)
        NdisMoveMemory(ad->mcast, list, len);
    ad->mcast_count = len / 6;
    vfo_rx_filter_apply(ad);
    record(ad, FO_SET_MULTICAST_LIST, list, len);
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS set_offload_params(vfo_adapter *ad, const void *buf, ULONG len)
{
    fo_caps caps;
    fo_offload req = ad->offload_req;
    vfo_standby_caps(ad, &caps);
    NDIS_STATUS st = vfo_offload_params_apply(buf, len, &caps.offload, &req);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    ad->offload_req = req;
    /* The engine re-indicates the resulting configuration (INDICATE_OFFLOAD). */
    record(ad, FO_SET_OFFLOAD, &req, sizeof(req));
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS set_encapsulation(vfo_adapter *ad, const NDIS_OFFLOAD_ENCAPSULATION *e,
                                     ULONG len)
{
    if (len < NDIS_SIZEOF_OFFLOAD_ENCAPSULATION_REVISION_1)
        return NDIS_STATUS_INVALID_LENGTH;
    if (e->Header.Type != NDIS_OBJECT_TYPE_OFFLOAD_ENCAPSULATION)
        return NDIS_STATUS_INVALID_PARAMETER;
    if ((e->IPv4.Enabled == NDIS_OFFLOAD_SET_ON &&
         e->IPv4.EncapsulationType != NDIS_ENCAPSULATION_IEEE_802_3) ||
        (e->IPv6.Enabled == NDIS_OFFLOAD_SET_ON &&
         e->IPv6.EncapsulationType != NDIS_ENCAPSULATION_IEEE_802_3))
        return NDIS_STATUS_NOT_SUPPORTED;
    record(ad, FO_SET_ENCAPSULATION, e, len > FO_BLOB_MAX ? FO_BLOB_MAX : len);
    return NDIS_STATUS_SUCCESS;
}

/* Keeps the IPv4 and IPv6 addresses for gratuitous ARP / unsolicited NA.
 * Each protocol sets its own list: a list replaces that family's addresses. */
static NDIS_STATUS parse_addresses(vfo_adapter *ad, const NETWORK_ADDRESS_LIST *l, ULONG len)
{
    ULONG off = FIELD_OFFSET(NETWORK_ADDRESS_LIST, Address);
    UCHAR v4[VFO_MAX_ADDRS][4], v6[VFO_MAX_ADDRS][16];
    ULONG n4 = 0, n6 = 0;
    if (len < off || l->AddressCount < 0)
        return NDIS_STATUS_INVALID_LENGTH;
    for (LONG i = 0; i < l->AddressCount; i++) {
        /* Entries follow each other back to back: after an odd AddressLength
         * the next one is misaligned, so its header is copied out, never
         * read through a NETWORK_ADDRESS pointer. */
        const UCHAR *entry = (const UCHAR *)l + off;
        ULONG hdr = FIELD_OFFSET(NETWORK_ADDRESS, Address);
        USHORT alen, atype;
        if (len - off < hdr)
            return NDIS_STATUS_INVALID_DATA;
        NdisMoveMemory(&alen, entry + FIELD_OFFSET(NETWORK_ADDRESS, AddressLength), sizeof(alen));
        NdisMoveMemory(&atype, entry + FIELD_OFFSET(NETWORK_ADDRESS, AddressType), sizeof(atype));
        if (len - off - hdr < alen)
            return NDIS_STATUS_INVALID_DATA;
        if (atype == NDIS_PROTOCOL_ID_TCP_IP && alen >= 8 && n4 < VFO_MAX_ADDRS)
            NdisMoveMemory(v4[n4++], entry + hdr + 4, 4); /* NETWORK_ADDRESS_IP.in_addr */
        else if (atype == NDIS_PROTOCOL_ID_IP6 && alen >= 24 && n6 < VFO_MAX_ADDRS)
            NdisMoveMemory(v6[n6++], entry + hdr + 8, 16); /* NETWORK_ADDRESS_IP6.sin6_addr */
        off += hdr + alen;
    }
    vfo_lock();
    if (l->AddressType == NDIS_PROTOCOL_ID_TCP_IP) {
        NdisMoveMemory(ad->ipv4, v4, sizeof(v4));
        ad->n_ipv4 = n4;
    } else if (l->AddressType == NDIS_PROTOCOL_ID_IP6) {
        NdisMoveMemory(ad->ipv6, v6, sizeof(v6));
        ad->n_ipv6 = n6;
    }
    vfo_unlock();
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS set_addresses(vfo_adapter *ad, const void *buf, ULONG len)
{
    NDIS_STATUS st = parse_addresses(ad, buf, len);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    if (len <= FO_BLOB_MAX)
        record(ad, FO_SET_NETWORK_ADDRESSES, buf, len);
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS set_blob(vfo_adapter *ad, fo_setting s, const void *buf, ULONG len)
{
    if (len > FO_BLOB_MAX)
        return NDIS_STATUS_INVALID_LENGTH;
    record(ad, s, buf, len);
    return NDIS_STATUS_SUCCESS;
}

NDIS_STATUS vfo_oid_set(vfo_adapter *ad, PNDIS_OID_REQUEST r)
{
    NDIS_OID oid = r->DATA.SET_INFORMATION.Oid;
    PVOID buf = r->DATA.SET_INFORMATION.InformationBuffer;
    ULONG len = r->DATA.SET_INFORMATION.InformationBufferLength;
    NDIS_STATUS st;
    if (!buf && len)
        return NDIS_STATUS_INVALID_DATA;
    switch (oid) {
    case OID_GEN_CURRENT_PACKET_FILTER:
        st = set_packet_filter(ad, buf, len);
        break;
    case OID_802_3_MULTICAST_LIST:
        st = set_multicast(ad, buf, len);
        break;
    case OID_GEN_CURRENT_LOOKAHEAD:
        if (len < sizeof(ULONG))
            return NDIS_STATUS_INVALID_LENGTH;
        ad->lookahead = *(const ULONG *)buf > ad->mtu ? ad->mtu : *(const ULONG *)buf;
        st = NDIS_STATUS_SUCCESS;
        break;
    case OID_TCP_OFFLOAD_PARAMETERS:
        st = set_offload_params(ad, buf, len);
        break;
    case OID_OFFLOAD_ENCAPSULATION:
        st = set_encapsulation(ad, buf, len);
        break;
    case OID_GEN_NETWORK_LAYER_ADDRESSES:
        st = set_addresses(ad, buf, len);
        break;
    case OID_PM_PARAMETERS:
        st = set_blob(ad, FO_SET_PM_PARAMETERS, buf, len);
        break;
    case OID_PNP_SET_POWER: /* a refusal leaves as NOT_ACCEPTED (MpOidRequest) */
        if (len < sizeof(NDIS_DEVICE_POWER_STATE))
            return NDIS_STATUS_INVALID_LENGTH;
        vfo_set_power(ad, *(const NDIS_DEVICE_POWER_STATE *)buf);
        st = NDIS_STATUS_SUCCESS;
        break;
    default:
        return NDIS_STATUS_NOT_SUPPORTED;
    }
    if (st == NDIS_STATUS_SUCCESS)
        r->DATA.SET_INFORMATION.BytesRead = len;
    return st;
}
