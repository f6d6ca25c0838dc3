/*
 * config.c - the adapter's registry parameters (inf/vfo.inf, Ndi\params).
 * A value that is missing keeps its default; one out of range is ignored,
 * counted and traced, never trusted.
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "config.tmh"
#endif

#define VFO_ETH_HEADER  14u
#define VFO_MTU_DEFAULT 1500u
#define VFO_MTU_MAX     9000u
#define VFO_RING_MIN    64u
#define VFO_RING_MAX    1024u

void vfo_config_defaults(vfo_config *cfg)
{
    NdisZeroMemory(cfg, sizeof(*cfg));
    cfg->failover = true;
    cfg->require_standby = true;
    cfg->mtu_policy = FO_MTU_EQUAL;
    cfg->announce_count = 3;
    cfg->mtu = VFO_MTU_DEFAULT;
    cfg->rx_ring = 256;
    cfg->tx_ring = 256;
    cfg->csum_ipv4_ip = 2;
    cfg->csum_ipv4_tcp = 3;
    cfg->csum_ipv4_udp = 3;
    cfg->csum_ipv6_tcp = 3;
    cfg->csum_ipv6_udp = 3;
    cfg->lso_v4 = true;
    cfg->lso_v6 = true;
}

typedef struct vfo_keyword {
    NDIS_STRING name;
    ULONG min, max;
    size_t offset; /* of a ULONG or bool in vfo_config */
    bool is_bool;
    ULONG bias; /* subtracted from the value read (*JumboPacket is a frame size) */
} vfo_keyword;

#define KW_U(n, lo, hi, field)                                                  \
    {                                                                           \
        NDIS_STRING_CONST(n), (lo), (hi), offsetof(vfo_config, field), false, 0 \
    }
#define KW_B(n, field)                                                   \
    {                                                                    \
        NDIS_STRING_CONST(n), 0, 1, offsetof(vfo_config, field), true, 0 \
    }

static vfo_keyword k_keywords[] = {
    KW_B("Failover", failover),
    KW_B("FailoverRequireStandby", require_standby),
    KW_B("FailoverMatchCurrentMac", match_current_mac),
    KW_U("FailoverMtuPolicy", 0, 1, mtu_policy),
    KW_U("AnnounceCount", 0, FO_ANNOUNCE_MAX, announce_count),
    { NDIS_STRING_CONST("*JumboPacket"), VFO_ETH_HEADER + 576, VFO_ETH_HEADER + VFO_MTU_MAX,
      offsetof(vfo_config, mtu), false, VFO_ETH_HEADER },
    KW_U("RxQueueSize", VFO_RING_MIN, VFO_RING_MAX, rx_ring),
    KW_U("TxQueueSize", VFO_RING_MIN, VFO_RING_MAX, tx_ring),
    KW_U("*IPChecksumOffloadIPv4", 0, 3, csum_ipv4_ip),
    KW_U("*TCPChecksumOffloadIPv4", 0, 3, csum_ipv4_tcp),
    KW_U("*UDPChecksumOffloadIPv4", 0, 3, csum_ipv4_udp),
    KW_U("*TCPChecksumOffloadIPv6", 0, 3, csum_ipv6_tcp),
    KW_U("*UDPChecksumOffloadIPv6", 0, 3, csum_ipv6_udp),
    KW_B("*LsoV2IPv4", lso_v4),
    KW_B("*LsoV2IPv6", lso_v6),
};

static void read_keyword(NDIS_HANDLE h, vfo_config *cfg, vfo_keyword *k)
{
    NDIS_STATUS st;
    PNDIS_CONFIGURATION_PARAMETER p = NULL;
    NdisReadConfiguration(&st, &p, h, &k->name, NdisParameterInteger);
    if (st != NDIS_STATUS_SUCCESS || !p)
        return;
    ULONG v = p->ParameterData.IntegerData;
    if (v < k->min || v > k->max) {
        cfg->bad_values++;
        VFO_WARN("registry value %lu out of range %lu..%lu ignored", (unsigned long)v,
                 (unsigned long)k->min, (unsigned long)k->max);
        return;
    }
    UCHAR *field = (UCHAR *)cfg + k->offset;
    if (k->is_bool)
        *(bool *)field = v != 0;
    else
        *(ULONG *)field = v - k->bias;
}

static bool ring_size_ok(ULONG v)
{
    return (v & (v - 1)) == 0;
}

static void read_instance_guid(NDIS_HANDLE h, struct vfo_ctl_guid *guid)
{
    static NDIS_STRING name = NDIS_STRING_CONST("NetCfgInstanceId");
    NDIS_STATUS st;
    PNDIS_CONFIGURATION_PARAMETER p = NULL;
    NdisZeroMemory(guid, sizeof(*guid));
    NdisReadConfiguration(&st, &p, h, &name, NdisParameterString);
    if (st != NDIS_STATUS_SUCCESS || !p || p->ParameterType != NdisParameterString)
        return;
    const NDIS_STRING *s = &p->ParameterData.StringData;
    if (!vfo_guid_parse(s->Buffer, (USHORT)(s->Length / sizeof(WCHAR)), guid))
        VFO_WARN("NetCfgInstanceId is not a GUID; the control device reports none");
}

static void read_network_address(NDIS_HANDLE h, vfo_config *cfg)
{
    NDIS_STATUS st;
    PVOID addr = NULL;
    UINT len = 0;
    NdisReadNetworkAddress(&st, &addr, &len, h);
    if (st != NDIS_STATUS_SUCCESS || !addr)
        return;
    const UCHAR *m = addr;
    static const UCHAR zero[6];
    if (len != 6 || (m[0] & 1) || NdisEqualMemory(m, zero, 6)) {
        cfg->bad_values++;
        VFO_WARN("NetworkAddress is not a unicast MAC: ignored");
        return;
    }
    NdisMoveMemory(cfg->mac_override, m, 6);
    cfg->have_mac_override = true;
}

void vfo_config_read(NDIS_HANDLE miniport, vfo_config *cfg, struct vfo_ctl_guid *guid)
{
    NDIS_CONFIGURATION_OBJECT co;
    NDIS_HANDLE h = NULL;
    vfo_config_defaults(cfg);
    NdisZeroMemory(guid, sizeof(*guid));
    NdisZeroMemory(&co, sizeof(co));
    VFO_INIT_HEADER(&co.Header, NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT,
                    NDIS_CONFIGURATION_OBJECT_REVISION_1,
                    NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1);
    co.NdisHandle = miniport;
    if (NdisOpenConfigurationEx(&co, &h) != NDIS_STATUS_SUCCESS) {
        VFO_WARN("registry not readable: defaults");
        return;
    }
    for (size_t i = 0; i < ARRAYSIZE(k_keywords); i++)
        read_keyword(h, cfg, &k_keywords[i]);
    if (!ring_size_ok(cfg->rx_ring) || !ring_size_ok(cfg->tx_ring)) {
        cfg->bad_values++;
        VFO_WARN("queue sizes must be powers of two: 256 used");
        cfg->rx_ring = cfg->tx_ring = 256;
    }
    read_network_address(h, cfg);
    read_instance_guid(h, guid);
    NdisCloseConfiguration(h);
}
