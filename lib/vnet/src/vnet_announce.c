/*
 * vnet_announce.c - gratuitous ARP, unsolicited Neighbor Advertisement and
 * RARP frames (see vnet_announce.h for the layouts and their sources).
 */
#include "vnet_internal.h"

#define ETHERTYPE_ARP           0x0806u
#define ETHERTYPE_RARP          0x8035u
#define ETHERTYPE_IPV6          0x86DDu
#define ARP_HTYPE_ETH           1u
#define ARP_PTYPE_IPV4          0x0800u
#define ARP_OP_REQUEST          1u
#define RARP_OP_REQUEST_REVERSE 3u
#define ARP_FRAME_LEN           (VNET_ETH_HLEN + 28u)

#define IPV6_HLEN        40u
#define IPPROTO_ICMPV6   58u
#define ICMPV6_NA        136u
#define ICMPV6_NA_LEN    24u
#define ND_OPT_TARGET_LL 2u
#define ND_OPT_LEN       8u
#define NA_FLAG_OVERRIDE 0x20u
#define NA_FRAME_LEN     (VNET_ETH_HLEN + IPV6_HLEN + ICMPV6_NA_LEN + ND_OPT_LEN)

_Static_assert(NA_FRAME_LEN == VNET_ANNOUNCE_FRAME_MAX, "the NA is the longest frame");

static const uint8_t broadcast_mac[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };
static const uint8_t all_nodes_mac[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
static const uint8_t all_nodes_ip6[16] = { 0xFF, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

static bool ipv4_usable(const uint8_t ip[4])
{
    /* 0.0.0.0/8, loopback, multicast and the class-E/broadcast range never
     * name this host on the wire. */
    return ip[0] != 0 && ip[0] != 127 && ip[0] < 224;
}

static bool ipv6_usable(const uint8_t ip[16])
{
    static const uint8_t zero[15] = { 0 };

    if (ip[0] == 0xFF)
        return false; /* multicast */
    /* :: (unspecified) and ::1 (loopback) */
    return !(memcmp(ip, zero, 15) == 0 && ip[15] <= 1);
}

static size_t ethernet(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    vnet_put_be16(buf + 12, type);
    return VNET_ETH_HLEN;
}

/* The RFC 826 packet shared by ARP and RARP. */
static size_t arp_body(uint8_t *p, uint16_t op, const uint8_t sha[6], const uint8_t spa[4],
                       const uint8_t tha[6], const uint8_t tpa[4])
{
    vnet_put_be16(p, ARP_HTYPE_ETH);
    vnet_put_be16(p + 2, ARP_PTYPE_IPV4);
    p[4] = 6;
    p[5] = 4;
    vnet_put_be16(p + 6, op);
    memcpy(p + 8, sha, 6);
    memcpy(p + 14, spa, 4);
    memcpy(p + 18, tha, 6);
    memcpy(p + 24, tpa, 4);
    return 28;
}

static size_t pad_to_minimum(uint8_t *buf, size_t len)
{
    if (len < VNET_ETH_MIN_FRAME) {
        memset(buf + len, 0, VNET_ETH_MIN_FRAME - len);
        len = VNET_ETH_MIN_FRAME;
    }
    return len;
}

size_t vnet_build_garp(uint8_t *buf, size_t cap, const uint8_t mac[6], const uint8_t ipv4[4])
{
    static const uint8_t unknown_mac[6] = { 0 };
    size_t len;

    if (!buf || !mac || !ipv4 || cap < VNET_ETH_MIN_FRAME || !vnet_mac_usable(mac) ||
        !ipv4_usable(ipv4))
        return 0;
    len = ethernet(buf, broadcast_mac, mac, ETHERTYPE_ARP);
    len += arp_body(buf + len, ARP_OP_REQUEST, mac, ipv4, unknown_mac, ipv4);
    return pad_to_minimum(buf, len);
}

size_t vnet_build_rarp(uint8_t *buf, size_t cap, const uint8_t mac[6])
{
    static const uint8_t no_ip[4] = { 0 };
    size_t len;

    if (!buf || !mac || cap < VNET_ETH_MIN_FRAME || !vnet_mac_usable(mac))
        return 0;
    len = ethernet(buf, broadcast_mac, mac, ETHERTYPE_RARP);
    len += arp_body(buf + len, RARP_OP_REQUEST_REVERSE, mac, no_ip, mac, no_ip);
    return pad_to_minimum(buf, len);
}

/* ICMPv6 checksum: the RFC 2460 pseudo-header (addresses, 32-bit length,
 * 32-bit next header) and the message. */
static uint16_t icmpv6_checksum(const uint8_t *ip6, const uint8_t *msg, uint32_t len)
{
    uint8_t tail[8] = { 0 };
    uint32_t sum;

    tail[0] = (uint8_t)(len >> 24);
    tail[1] = (uint8_t)(len >> 16);
    tail[2] = (uint8_t)(len >> 8);
    tail[3] = (uint8_t)len;
    tail[7] = IPPROTO_ICMPV6;
    sum = vnet_csum_add(0, ip6 + 8, 32, false); /* source and destination */
    sum = vnet_csum_add(sum, tail, sizeof(tail), false);
    sum = vnet_csum_add(sum, msg, len, false);
    return vnet_csum_fold(sum);
}

size_t vnet_build_unsolicited_na(uint8_t *buf, size_t cap, const uint8_t mac[6],
                                 const uint8_t ipv6[16])
{
    uint8_t *ip6, *na;

    if (!buf || !mac || !ipv6 || cap < NA_FRAME_LEN || !vnet_mac_usable(mac) || !ipv6_usable(ipv6))
        return 0;
    memset(buf, 0, NA_FRAME_LEN);
    ethernet(buf, all_nodes_mac, mac, ETHERTYPE_IPV6);
    ip6 = buf + VNET_ETH_HLEN;
    ip6[0] = 0x60; /* version 6, traffic class and flow label 0 */
    vnet_put_be16(ip6 + 4, ICMPV6_NA_LEN + ND_OPT_LEN);
    ip6[6] = IPPROTO_ICMPV6;
    ip6[7] = 255; /* RFC 4861 requires it: receivers drop anything else */
    memcpy(ip6 + 8, ipv6, 16);
    memcpy(ip6 + 24, all_nodes_ip6, 16);
    na = ip6 + IPV6_HLEN;
    na[0] = ICMPV6_NA;
    na[4] = NA_FLAG_OVERRIDE; /* unsolicited: S clear; O set to update caches */
    memcpy(na + 8, ipv6, 16);
    na[24] = ND_OPT_TARGET_LL;
    na[25] = 1; /* in units of 8 bytes */
    memcpy(na + 26, mac, 6);
    vnet_put_be16(na + 2, icmpv6_checksum(ip6, na, ICMPV6_NA_LEN + ND_OPT_LEN));
    return NA_FRAME_LEN;
}

static uint32_t usable_ipv4(const vnet_announce_src *src)
{
    uint32_t i, count = 0;

    for (i = 0; src->ipv4 && i < src->n_ipv4; i++)
        count += ipv4_usable(src->ipv4[i]);
    return count;
}

static uint32_t usable_ipv6(const vnet_announce_src *src)
{
    uint32_t i, count = 0;

    for (i = 0; src->ipv6 && i < src->n_ipv6; i++)
        count += ipv6_usable(src->ipv6[i]);
    return count;
}

uint32_t vnet_announce_count(const vnet_announce_src *src)
{
    uint32_t count;

    if (!src)
        return 0;
    count = usable_ipv4(src) + usable_ipv6(src);
    return count ? count : 1;
}

/* The address list entry holding the `k`-th usable address. */
static uint32_t nth_usable(const uint8_t *list, size_t stride, uint32_t n, uint32_t k,
                           bool (*usable)(const uint8_t *))
{
    uint32_t i;

    for (i = 0; i < n; i++) {
        if (usable(list + i * stride) && k-- == 0)
            return i;
    }
    return n;
}

vnet_status vnet_announce_frame(const vnet_announce_src *src, uint32_t index, uint8_t *buf,
                                size_t cap, size_t *len)
{
    uint32_t n4, n6, i;
    size_t out;

    if (!src || !buf || !len || cap < VNET_ANNOUNCE_FRAME_MAX || !vnet_mac_usable(src->mac))
        return VNET_E_INVAL;
    n4 = usable_ipv4(src);
    n6 = usable_ipv6(src);
    if (n4 + n6 == 0) {
        if (index != 0)
            return VNET_E_INVAL;
        out = vnet_build_rarp(buf, cap, src->mac);
    } else if (index < n4) {
        i = nth_usable(&src->ipv4[0][0], 4, src->n_ipv4, index, ipv4_usable);
        out = vnet_build_garp(buf, cap, src->mac, src->ipv4[i]);
    } else if (index < n4 + n6) {
        i = nth_usable(&src->ipv6[0][0], 16, src->n_ipv6, index - n4, ipv6_usable);
        out = vnet_build_unsolicited_na(buf, cap, src->mac, src->ipv6[i]);
    } else {
        return VNET_E_INVAL;
    }
    *len = out;
    return out ? VNET_OK : VNET_E_INVAL;
}
