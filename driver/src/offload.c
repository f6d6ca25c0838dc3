/*
 * offload.c - checksum and LSO offloads: NDIS structures to and from
 * lib/failover's fo_offload, what virtio can do, and the per-packet
 * information (NBL info in, virtio header fields out; virtio flags in, NBL
 * info out).
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "offload.tmh"
#endif

#define ETH_P_IPV4   0x0800
#define ETH_P_IPV6   0x86DD
#define ETH_P_VLAN   0x8100
#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

/* virtio segments up to 64 KiB frames; what Windows calls the maximum
 * offload size is the TCP payload, so leave room for the headers. */
#define VFO_LSO_MAX_SIZE 61440u
#define VFO_LSO_MIN_SEGS 2u

/* ---- NDIS_OFFLOAD <-> fo_offload ---------------------------------------- */

void vfo_offload_from_ndis(const NDIS_OFFLOAD *in, fo_offload *out)
{
    NdisZeroMemory(out, sizeof(*out));
    const NDIS_TCP_IP_CHECKSUM_OFFLOAD *c = &in->Checksum;
    if (c->IPv4Transmit.Encapsulation != NDIS_ENCAPSULATION_NOT_SUPPORTED) {
        out->flags |= c->IPv4Transmit.IpChecksum ? FO_OFL_TX_IP4_CSUM : 0;
        out->flags |= c->IPv4Transmit.TcpChecksum ? FO_OFL_TX_TCP4_CSUM : 0;
        out->flags |= c->IPv4Transmit.UdpChecksum ? FO_OFL_TX_UDP4_CSUM : 0;
    }
    if (c->IPv4Receive.Encapsulation != NDIS_ENCAPSULATION_NOT_SUPPORTED) {
        out->flags |= c->IPv4Receive.IpChecksum ? FO_OFL_RX_IP4_CSUM : 0;
        out->flags |= c->IPv4Receive.TcpChecksum ? FO_OFL_RX_TCP4_CSUM : 0;
        out->flags |= c->IPv4Receive.UdpChecksum ? FO_OFL_RX_UDP4_CSUM : 0;
    }
    if (c->IPv6Transmit.Encapsulation != NDIS_ENCAPSULATION_NOT_SUPPORTED) {
        out->flags |= c->IPv6Transmit.TcpChecksum ? FO_OFL_TX_TCP6_CSUM : 0;
        out->flags |= c->IPv6Transmit.UdpChecksum ? FO_OFL_TX_UDP6_CSUM : 0;
    }
    if (c->IPv6Receive.Encapsulation != NDIS_ENCAPSULATION_NOT_SUPPORTED) {
        out->flags |= c->IPv6Receive.TcpChecksum ? FO_OFL_RX_TCP6_CSUM : 0;
        out->flags |= c->IPv6Receive.UdpChecksum ? FO_OFL_RX_UDP6_CSUM : 0;
    }
    if (in->LsoV2.IPv4.Encapsulation != NDIS_ENCAPSULATION_NOT_SUPPORTED &&
        in->LsoV2.IPv4.MaxOffLoadSize) {
        out->flags |= FO_OFL_LSO4;
        out->lso4_max_size = in->LsoV2.IPv4.MaxOffLoadSize;
        out->lso4_min_segs = in->LsoV2.IPv4.MinSegmentCount;
    }
    if (in->LsoV2.IPv6.Encapsulation != NDIS_ENCAPSULATION_NOT_SUPPORTED &&
        in->LsoV2.IPv6.MaxOffLoadSize) {
        out->flags |= FO_OFL_LSO6;
        out->lso6_max_size = in->LsoV2.IPv6.MaxOffLoadSize;
        out->lso6_min_segs = in->LsoV2.IPv6.MinSegmentCount;
    }
}

static ULONG bit(uint32_t flags, uint32_t f)
{
    return (flags & f) ? NDIS_OFFLOAD_SUPPORTED : NDIS_OFFLOAD_NOT_SUPPORTED;
}

static ULONG encap(uint32_t flags, uint32_t any)
{
    return (flags & any) ? NDIS_ENCAPSULATION_IEEE_802_3 : NDIS_ENCAPSULATION_NOT_SUPPORTED;
}

void vfo_offload_to_ndis(const fo_offload *in, NDIS_OFFLOAD *out)
{
    uint32_t f = in->flags;
    NdisZeroMemory(out, sizeof(*out));
    VFO_INIT_HEADER(&out->Header, NDIS_OBJECT_TYPE_OFFLOAD, NDIS_OFFLOAD_REVISION_3,
                    NDIS_SIZEOF_NDIS_OFFLOAD_REVISION_3);
    NDIS_TCP_IP_CHECKSUM_OFFLOAD *c = &out->Checksum;
    c->IPv4Transmit.Encapsulation =
        encap(f, FO_OFL_TX_IP4_CSUM | FO_OFL_TX_TCP4_CSUM | FO_OFL_TX_UDP4_CSUM);
    c->IPv4Transmit.IpOptionsSupported = bit(f, FO_OFL_TX_IP4_CSUM | FO_OFL_TX_TCP4_CSUM);
    c->IPv4Transmit.TcpOptionsSupported = bit(f, FO_OFL_TX_TCP4_CSUM);
    c->IPv4Transmit.TcpChecksum = bit(f, FO_OFL_TX_TCP4_CSUM);
    c->IPv4Transmit.UdpChecksum = bit(f, FO_OFL_TX_UDP4_CSUM);
    c->IPv4Transmit.IpChecksum = bit(f, FO_OFL_TX_IP4_CSUM);
    c->IPv4Receive.Encapsulation =
        encap(f, FO_OFL_RX_IP4_CSUM | FO_OFL_RX_TCP4_CSUM | FO_OFL_RX_UDP4_CSUM);
    c->IPv4Receive.IpOptionsSupported = bit(f, FO_OFL_RX_IP4_CSUM | FO_OFL_RX_TCP4_CSUM);
    c->IPv4Receive.TcpOptionsSupported = bit(f, FO_OFL_RX_TCP4_CSUM);
    c->IPv4Receive.TcpChecksum = bit(f, FO_OFL_RX_TCP4_CSUM);
    c->IPv4Receive.UdpChecksum = bit(f, FO_OFL_RX_UDP4_CSUM);
    c->IPv4Receive.IpChecksum = bit(f, FO_OFL_RX_IP4_CSUM);
    c->IPv6Transmit.Encapsulation = encap(f, FO_OFL_TX_TCP6_CSUM | FO_OFL_TX_UDP6_CSUM);
    c->IPv6Transmit.IpExtensionHeadersSupported = bit(f, FO_OFL_TX_TCP6_CSUM);
    c->IPv6Transmit.TcpOptionsSupported = bit(f, FO_OFL_TX_TCP6_CSUM);
    c->IPv6Transmit.TcpChecksum = bit(f, FO_OFL_TX_TCP6_CSUM);
    c->IPv6Transmit.UdpChecksum = bit(f, FO_OFL_TX_UDP6_CSUM);
    c->IPv6Receive.Encapsulation = encap(f, FO_OFL_RX_TCP6_CSUM | FO_OFL_RX_UDP6_CSUM);
    c->IPv6Receive.IpExtensionHeadersSupported = bit(f, FO_OFL_RX_TCP6_CSUM);
    c->IPv6Receive.TcpOptionsSupported = bit(f, FO_OFL_RX_TCP6_CSUM);
    c->IPv6Receive.TcpChecksum = bit(f, FO_OFL_RX_TCP6_CSUM);
    c->IPv6Receive.UdpChecksum = bit(f, FO_OFL_RX_UDP6_CSUM);
    if (f & FO_OFL_LSO4) {
        out->LsoV2.IPv4.Encapsulation = NDIS_ENCAPSULATION_IEEE_802_3;
        out->LsoV2.IPv4.MaxOffLoadSize = in->lso4_max_size;
        out->LsoV2.IPv4.MinSegmentCount = in->lso4_min_segs;
    }
    if (f & FO_OFL_LSO6) {
        out->LsoV2.IPv6.Encapsulation = NDIS_ENCAPSULATION_IEEE_802_3;
        out->LsoV2.IPv6.MaxOffLoadSize = in->lso6_max_size;
        out->LsoV2.IPv6.MinSegmentCount = in->lso6_min_segs;
        out->LsoV2.IPv6.IpExtensionHeadersSupported = NDIS_OFFLOAD_SUPPORTED;
        out->LsoV2.IPv6.TcpOptionsSupported = NDIS_OFFLOAD_SUPPORTED;
    }
}

/* ---- OID_TCP_OFFLOAD_PARAMETERS ----------------------------------------- */

static UCHAR param_of(uint32_t flags, uint32_t tx, uint32_t rx)
{
    bool t = (flags & tx) != 0, r = (flags & rx) != 0;
    if (t && r)
        return NDIS_OFFLOAD_PARAMETERS_TX_RX_ENABLED;
    if (t)
        return NDIS_OFFLOAD_PARAMETERS_TX_ENABLED_RX_DISABLED;
    if (r)
        return NDIS_OFFLOAD_PARAMETERS_RX_ENABLED_TX_DISABLED;
    return NDIS_OFFLOAD_PARAMETERS_TX_RX_DISABLED;
}

void vfo_offload_params_to_ndis(const fo_offload *in, NDIS_OFFLOAD_PARAMETERS *out)
{
    uint32_t f = in->flags;
    NdisZeroMemory(out, sizeof(*out));
    VFO_INIT_HEADER(&out->Header, NDIS_OBJECT_TYPE_DEFAULT, NDIS_OFFLOAD_PARAMETERS_REVISION_2,
                    NDIS_SIZEOF_OFFLOAD_PARAMETERS_REVISION_2);
    out->IPv4Checksum = param_of(f, FO_OFL_TX_IP4_CSUM, FO_OFL_RX_IP4_CSUM);
    out->TCPIPv4Checksum = param_of(f, FO_OFL_TX_TCP4_CSUM, FO_OFL_RX_TCP4_CSUM);
    out->UDPIPv4Checksum = param_of(f, FO_OFL_TX_UDP4_CSUM, FO_OFL_RX_UDP4_CSUM);
    out->TCPIPv6Checksum = param_of(f, FO_OFL_TX_TCP6_CSUM, FO_OFL_RX_TCP6_CSUM);
    out->UDPIPv6Checksum = param_of(f, FO_OFL_TX_UDP6_CSUM, FO_OFL_RX_UDP6_CSUM);
    out->LsoV2IPv4 = (f & FO_OFL_LSO4) ? NDIS_OFFLOAD_PARAMETERS_LSOV2_ENABLED
                                       : NDIS_OFFLOAD_PARAMETERS_LSOV2_DISABLED;
    out->LsoV2IPv6 = (f & FO_OFL_LSO6) ? NDIS_OFFLOAD_PARAMETERS_LSOV2_ENABLED
                                       : NDIS_OFFLOAD_PARAMETERS_LSOV2_DISABLED;
}

/* One checksum member: NO_CHANGE keeps, 1..4 set both directions. */
static bool apply_csum(UCHAR v, uint32_t tx, uint32_t rx, uint32_t *flags)
{
    switch (v) {
    case NDIS_OFFLOAD_PARAMETERS_NO_CHANGE:
        return true;
    case NDIS_OFFLOAD_PARAMETERS_TX_RX_DISABLED:
        *flags &= ~(tx | rx);
        return true;
    case NDIS_OFFLOAD_PARAMETERS_TX_ENABLED_RX_DISABLED:
        *flags = (*flags | tx) & ~rx;
        return true;
    case NDIS_OFFLOAD_PARAMETERS_RX_ENABLED_TX_DISABLED:
        *flags = (*flags | rx) & ~tx;
        return true;
    case NDIS_OFFLOAD_PARAMETERS_TX_RX_ENABLED:
        *flags |= tx | rx;
        return true;
    default:
        return false;
    }
}

static bool apply_lso(UCHAR v, uint32_t bitv, uint32_t *flags)
{
    if (v == NDIS_OFFLOAD_PARAMETERS_NO_CHANGE)
        return true;
    if (v == NDIS_OFFLOAD_PARAMETERS_LSOV2_DISABLED) {
        *flags &= ~bitv;
        return true;
    }
    if (v == NDIS_OFFLOAD_PARAMETERS_LSOV2_ENABLED) {
        *flags |= bitv;
        return true;
    }
    return false;
}

/* The upper stack's request, merged into *req and limited to what virtio can
 * do. NDIS_STATUS_INVALID_* for a malformed buffer (nothing changes). */
NDIS_STATUS vfo_offload_params_apply(const NDIS_OFFLOAD_PARAMETERS *p, ULONG len,
                                     const fo_offload *caps, fo_offload *req)
{
    if (len < NDIS_SIZEOF_OFFLOAD_PARAMETERS_REVISION_1)
        return NDIS_STATUS_INVALID_LENGTH;
    if (p->Header.Type != NDIS_OBJECT_TYPE_DEFAULT ||
        p->Header.Revision < NDIS_OFFLOAD_PARAMETERS_REVISION_1 ||
        p->Header.Size < NDIS_SIZEOF_OFFLOAD_PARAMETERS_REVISION_1)
        return NDIS_STATUS_INVALID_PARAMETER;
    uint32_t f = req->flags;
    if (!apply_csum(p->IPv4Checksum, FO_OFL_TX_IP4_CSUM, FO_OFL_RX_IP4_CSUM, &f) ||
        !apply_csum(p->TCPIPv4Checksum, FO_OFL_TX_TCP4_CSUM, FO_OFL_RX_TCP4_CSUM, &f) ||
        !apply_csum(p->UDPIPv4Checksum, FO_OFL_TX_UDP4_CSUM, FO_OFL_RX_UDP4_CSUM, &f) ||
        !apply_csum(p->TCPIPv6Checksum, FO_OFL_TX_TCP6_CSUM, FO_OFL_RX_TCP6_CSUM, &f) ||
        !apply_csum(p->UDPIPv6Checksum, FO_OFL_TX_UDP6_CSUM, FO_OFL_RX_UDP6_CSUM, &f) ||
        !apply_lso(p->LsoV2IPv4, FO_OFL_LSO4, &f) || !apply_lso(p->LsoV2IPv6, FO_OFL_LSO6, &f))
        return NDIS_STATUS_INVALID_PARAMETER;
    req->flags = f & caps->flags;
    req->lso4_max_size = caps->lso4_max_size;
    req->lso4_min_segs = caps->lso4_min_segs;
    req->lso6_max_size = caps->lso6_max_size;
    req->lso6_min_segs = caps->lso6_min_segs;
    return NDIS_STATUS_SUCCESS;
}

/* ---- what virtio can do --------------------------------------------------- */

static uint32_t csum_keyword(ULONG kw, uint32_t tx, uint32_t rx)
{
    return ((kw & 1) ? tx : 0) | ((kw & 2) ? rx : 0);
}

/* virtio completes partial TCP/UDP checksums (CSUM) and validates them
 * (GUEST_CSUM); it never computes an IPv4 header checksum, which vfo checks
 * itself on receive (20-60 bytes) and never offers to compute on transmit.
 * The registry keywords can only take away. */
void vfo_standby_caps(const vfo_adapter *ad, fo_caps *caps)
{
    const vfo_config *cfg = &ad->cfg;
    uint32_t allowed = csum_keyword(cfg->csum_ipv4_ip, 0, FO_OFL_RX_IP4_CSUM) |
                       csum_keyword(cfg->csum_ipv4_tcp, FO_OFL_TX_TCP4_CSUM, FO_OFL_RX_TCP4_CSUM) |
                       csum_keyword(cfg->csum_ipv4_udp, FO_OFL_TX_UDP4_CSUM, FO_OFL_RX_UDP4_CSUM) |
                       csum_keyword(cfg->csum_ipv6_tcp, FO_OFL_TX_TCP6_CSUM, FO_OFL_RX_TCP6_CSUM) |
                       csum_keyword(cfg->csum_ipv6_udp, FO_OFL_TX_UDP6_CSUM, FO_OFL_RX_UDP6_CSUM);
    uint32_t f = FO_OFL_RX_IP4_CSUM;
    NdisZeroMemory(caps, sizeof(*caps));
    if (vnet_has_feature(ad->vn, VNET_F_CSUM)) {
        f |= FO_OFL_TX_TCP4_CSUM | FO_OFL_TX_UDP4_CSUM | FO_OFL_TX_TCP6_CSUM | FO_OFL_TX_UDP6_CSUM;
        if (cfg->lso_v4 && vnet_has_feature(ad->vn, VNET_F_HOST_TSO4) &&
            (allowed & FO_OFL_TX_TCP4_CSUM))
            f |= FO_OFL_LSO4;
        if (cfg->lso_v6 && vnet_has_feature(ad->vn, VNET_F_HOST_TSO6) &&
            (allowed & FO_OFL_TX_TCP6_CSUM))
            f |= FO_OFL_LSO6;
    }
    if (vnet_has_feature(ad->vn, VNET_F_GUEST_CSUM))
        f |= FO_OFL_RX_TCP4_CSUM | FO_OFL_RX_UDP4_CSUM | FO_OFL_RX_TCP6_CSUM | FO_OFL_RX_UDP6_CSUM;
    caps->offload.flags = f & (allowed | FO_OFL_LSO4 | FO_OFL_LSO6);
    if (caps->offload.flags & FO_OFL_LSO4) {
        caps->offload.lso4_max_size = VFO_LSO_MAX_SIZE;
        caps->offload.lso4_min_segs = VFO_LSO_MIN_SEGS;
    }
    if (caps->offload.flags & FO_OFL_LSO6) {
        caps->offload.lso6_max_size = VFO_LSO_MAX_SIZE;
        caps->offload.lso6_min_segs = VFO_LSO_MIN_SEGS;
    }
}

/* ---- per packet ----------------------------------------------------------- */

typedef struct vfo_l34 {
    USHORT l3;     /* offset of the IP header */
    USHORT l4;     /* offset of the transport header */
    USHORT l4_len; /* TCP header length (TCP only) */
    UCHAR proto;   /* IPPROTO_TCP_, IPPROTO_UDP_, other */
    bool v4, v6;
} vfo_l34;

static USHORT be16(const UCHAR *p)
{
    return (USHORT)((p[0] << 8) | p[1]);
}

/* Ethernet (one optional 802.1Q tag), IPv4 or IPv6 (hop-by-hop, routing and
 * destination options skipped), then TCP or UDP. */
static bool parse_headers(const UCHAR *p, ULONG len, vfo_l34 *out)
{
    ULONG off = 12;
    NdisZeroMemory(out, sizeof(*out));
    if (len < 14)
        return false;
    USHORT type = be16(p + off);
    if (type == ETH_P_VLAN) {
        off += 4;
        if (len < off + 2)
            return false;
        type = be16(p + off);
    }
    off += 2;
    out->l3 = (USHORT)off;
    if (type == ETH_P_IPV4) {
        if (len < off + 20 || (p[off] >> 4) != 4)
            return false;
        ULONG ihl = (ULONG)(p[off] & 0xF) * 4;
        if (ihl < 20 || len < off + ihl)
            return false;
        out->v4 = true;
        out->proto = p[off + 9];
        off += ihl;
    } else if (type == ETH_P_IPV6) {
        if (len < off + 40)
            return false;
        UCHAR next = p[off + 6];
        off += 40;
        while (next == 0 || next == 43 || next == 60) {
            if (len < off + 8)
                return false;
            ULONG ext = ((ULONG)p[off + 1] + 1) * 8;
            next = p[off];
            off += ext;
        }
        out->v6 = true;
        out->proto = next;
    } else {
        return false;
    }
    if (off > 0xFFFF)
        return false;
    out->l4 = (USHORT)off;
    if (out->proto == IPPROTO_TCP_) {
        if (len < off + 20)
            return false;
        out->l4_len = (USHORT)((p[off + 12] >> 4) * 4);
        if (out->l4_len < 20)
            return false;
    }
    return true;
}

bool vfo_tx_meta(PNET_BUFFER_LIST nbl, fo_tx_meta *meta)
{
    NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO lso;
    NDIS_TCP_IP_CHECKSUM_NET_BUFFER_LIST_INFO csum;
    NdisZeroMemory(meta, sizeof(*meta));
    lso.Value = NET_BUFFER_LIST_INFO(nbl, TcpLargeSendNetBufferListInfo);
    csum.Value = NET_BUFFER_LIST_INFO(nbl, TcpIpChecksumNetBufferListInfo);
    if (lso.Value) {
        if (lso.Transmit.Type != NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE || lso.LsoV2Transmit.MSS == 0)
            return false; /* LSOv1 is never offered */
        PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
        ULONG hdr = lso.LsoV2Transmit.TcpHeaderOffset;
        ULONG total = nb ? NET_BUFFER_DATA_LENGTH(nb) : 0;
        if (total <= hdr)
            return false;
        meta->offloads = lso.LsoV2Transmit.IPVersion == NDIS_TCP_LARGE_SEND_OFFLOAD_IPv6
                             ? FO_OFL_LSO6
                             : FO_OFL_LSO4;
        meta->lso_size = total - hdr;
        meta->lso_segs = (meta->lso_size + lso.LsoV2Transmit.MSS - 1) / lso.LsoV2Transmit.MSS;
        return true;
    }
    if (!csum.Value)
        return true;
    if (csum.Transmit.IsIPv4 && csum.Transmit.IsIPv6)
        return false;
    if (csum.Transmit.IsIPv4) {
        meta->offloads |= csum.Transmit.IpHeaderChecksum ? FO_OFL_TX_IP4_CSUM : 0;
        meta->offloads |= csum.Transmit.TcpChecksum ? FO_OFL_TX_TCP4_CSUM : 0;
        meta->offloads |= csum.Transmit.UdpChecksum ? FO_OFL_TX_UDP4_CSUM : 0;
    } else if (csum.Transmit.IsIPv6) {
        meta->offloads |= csum.Transmit.TcpChecksum ? FO_OFL_TX_TCP6_CSUM : 0;
        meta->offloads |= csum.Transmit.UdpChecksum ? FO_OFL_TX_UDP6_CSUM : 0;
    }
    return true;
}

/* The virtio header fields for one frame of an NBL with offloads; false if
 * the frame does not match what the NBL asks for. */
/* A large send's headers as virtio needs them: Windows' LSOv2 form has IPv4
 * Total Length (IPv6 Payload Length) 0 and a pseudo-header checksum
 * without the TCP length; a Linux host drops such a frame (ip_rcv checks
 * the length) or, after segmenting it, sends wrong TCP checksums
 * (tcp_gso_segment takes the field to include the whole TCP length). The
 * NB's own bytes are the upper stack's: the fixed copy goes in hdr_buf. */
static bool lso_headers(const UCHAR *p, const vfo_l34 *h, ULONG len, vnet_tx_offload *off,
                        UCHAR *hdr_buf)
{
    if (off->hdr_len > VNET_TX_COPY_MAX)
        return false;
    NdisMoveMemory(hdr_buf, p, off->hdr_len);
    if (!vnet_lso_fix_headers(hdr_buf, off->hdr_len, h->l3, h->l4, len, h->v6))
        return false;
    off->hdrs = hdr_buf;
    return true;
}

NDIS_STATUS vfo_tx_virtio_offload(PNET_BUFFER_LIST nbl, PNET_BUFFER nb, vnet_tx_offload *off,
                                  UCHAR *hdr_buf)
{
    UCHAR storage[VFO_HDR_PEEK];
    fo_tx_meta meta;
    vfo_l34 h;
    NdisZeroMemory(off, sizeof(*off));
    if (!vfo_tx_meta(nbl, &meta))
        return NDIS_STATUS_INVALID_PACKET;
    if (!(meta.offloads & ~(uint32_t)FO_OFL_TX_IP4_CSUM))
        return NDIS_STATUS_SUCCESS; /* nothing virtio does (an IPv4 header checksum is never offered) */
    ULONG len = NET_BUFFER_DATA_LENGTH(nb);
    ULONG peek = len < VFO_HDR_PEEK ? len : VFO_HDR_PEEK;
    const UCHAR *p = NdisGetDataBuffer(nb, peek, storage, 1, 0);
    if (!p)
        return NDIS_STATUS_RESOURCES; /* not mappable now (peek <= the NB's length) */
    if (!parse_headers(p, peek, &h))
        return NDIS_STATUS_INVALID_PACKET;
    if (meta.offloads & (FO_OFL_LSO4 | FO_OFL_LSO6)) {
        NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO lso;
        lso.Value = NET_BUFFER_LIST_INFO(nbl, TcpLargeSendNetBufferListInfo);
        if (h.proto != IPPROTO_TCP_)
            return NDIS_STATUS_INVALID_PACKET;
        off->flags =
            VNET_TXO_CSUM | ((meta.offloads & FO_OFL_LSO6) ? VNET_TXO_TSO6 : VNET_TXO_TSO4);
        off->mss = (uint16_t)lso.LsoV2Transmit.MSS;
        off->hdr_len = (uint16_t)(h.l4 + h.l4_len);
        if (off->hdr_len > peek || !lso_headers(p, &h, len, off, hdr_buf))
            return NDIS_STATUS_INVALID_PACKET;
    } else {
        bool tcp = (meta.offloads & (FO_OFL_TX_TCP4_CSUM | FO_OFL_TX_TCP6_CSUM)) != 0;
        if (h.proto != (tcp ? IPPROTO_TCP_ : IPPROTO_UDP_))
            return NDIS_STATUS_INVALID_PACKET;
        off->flags = VNET_TXO_CSUM;
    }
    off->csum_start = h.l4;
    off->csum_offset = h.proto == IPPROTO_TCP_ ? 16 : 6;
    return NDIS_STATUS_SUCCESS;
}

/* NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO at completion: for LSOv2
 * the miniport sets LsoV2TransmitComplete.Reserved to zero and leaves Type
 * (NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE); the MSS and header offset TCP/IP
 * wrote there must not come back. LSOv1 is never offered. */
void vfo_tx_lso_complete(PNET_BUFFER_LIST nbl)
{
    NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO lso;
    lso.Value = NET_BUFFER_LIST_INFO(nbl, TcpLargeSendNetBufferListInfo);
    if (!lso.Value || lso.Transmit.Type != NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE)
        return;
    lso.Value = NULL;
    lso.LsoV2TransmitComplete.Type = NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE;
    NET_BUFFER_LIST_INFO(nbl, TcpLargeSendNetBufferListInfo) = lso.Value;
}

/* The one's complement sum of an IPv4 header folds to 0xFFFF when valid. */
static bool ipv4_header_ok(const UCHAR *ip, ULONG ihl)
{
    uint32_t sum = 0;
    for (ULONG i = 0; i + 1 < ihl; i += 2)
        sum += (uint32_t)((ip[i] << 8) | ip[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return sum == 0xFFFF;
}

/* The checksum verdict for a frame virtio received, as the upper stack reads
 * it; NULL when there is nothing to report (nothing validated, or the upper
 * stack did not enable receive checksum offload for this protocol). */
PVOID vfo_rx_csum_info(const vfo_adapter *ad, const UCHAR *frame, ULONG len, uint32_t vflags)
{
    NDIS_TCP_IP_CHECKSUM_NET_BUFFER_LIST_INFO info;
    vfo_l34 h;
    info.Value = NULL;
    if (!parse_headers(frame, len, &h))
        return NULL;
    uint32_t on = ad->offload_now.flags;
    if (h.v4 && (on & FO_OFL_RX_IP4_CSUM)) {
        if (ipv4_header_ok(frame + h.l3, (ULONG)(h.l4 - h.l3)))
            info.Receive.IpChecksumSucceeded = 1;
        else
            info.Receive.IpChecksumFailed = 1;
    }
    if (!(vflags & VNET_RXF_CSUM_VALID))
        return info.Value;
    if (h.proto == IPPROTO_TCP_ && (on & (h.v4 ? FO_OFL_RX_TCP4_CSUM : FO_OFL_RX_TCP6_CSUM)))
        info.Receive.TcpChecksumSucceeded = 1;
    else if (h.proto == IPPROTO_UDP_ && (on & (h.v4 ? FO_OFL_RX_UDP4_CSUM : FO_OFL_RX_UDP6_CSUM)))
        info.Receive.UdpChecksumSucceeded = 1;
    return info.Value;
}
