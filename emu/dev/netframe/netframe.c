/*
 * netframe.c - see netframe.h. Layouts: Ethernet II, RFC 826 (ARP),
 * RFC 903 (RARP), RFC 791 (IPv4), RFC 768 (UDP).
 */
#include "netframe.h"

#include <string.h>

const uint8_t nf_broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
    put32(p, (uint32_t)(v >> 32));
    put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
    return (uint64_t)get32(p) << 32 | get32(p + 4);
}

bool nf_mac_is_multicast(const uint8_t mac[6])
{
    return (mac[0] & 1) != 0;
}

bool nf_mac_equal(const uint8_t a[6], const uint8_t b[6])
{
    return memcmp(a, b, 6) == 0;
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool nf_mac_parse(const char *s, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        int hi = hex_digit(s[0]), lo = hi < 0 ? -1 : hex_digit(s[1]);
        if (lo < 0)
            return false;
        mac[i] = (uint8_t)(hi << 4 | lo);
        s += 2;
        if (i < 5 && *s++ != ':')
            return false;
    }
    return *s == '\0';
}

void nf_mac_format(const uint8_t mac[6], char out[18])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 6; i++) {
        out[3 * i] = hex[mac[i] >> 4];
        out[3 * i + 1] = hex[mac[i] & 15];
        out[3 * i + 2] = i < 5 ? ':' : '\0';
    }
}

bool nf_ip_parse(const char *s, uint32_t *ip)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned octet = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 3) {
            octet = octet * 10 + (unsigned)(*s++ - '0');
            digits++;
        }
        if (!digits || octet > 255)
            return false;
        v = v << 8 | octet;
        if (i < 3 && *s++ != '.')
            return false;
    }
    if (*s != '\0')
        return false;
    *ip = v;
    return true;
}

void nf_ip_format(uint32_t ip, char out[16])
{
    char *p = out;
    for (int i = 3; i >= 0; i--) {
        unsigned o = (ip >> (8 * i)) & 255;
        if (o >= 100)
            *p++ = (char)('0' + o / 100);
        if (o >= 10)
            *p++ = (char)('0' + o / 10 % 10);
        *p++ = (char)('0' + o % 10);
        if (i)
            *p++ = '.';
    }
    *p = '\0';
}

bool nf_parse_eth(const uint8_t *f, size_t len, nf_eth *out)
{
    if (!f || len < NF_ETH_HLEN)
        return false;
    memcpy(out->dst, f, 6);
    memcpy(out->src, f + 6, 6);
    out->type = get16(f + 12);
    return true;
}

static size_t eth_header(uint8_t *buf, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    put16(buf + 12, type);
    return NF_ETH_HLEN;
}

/* Zero-pads short frames to the Ethernet minimum. */
static size_t pad_frame(uint8_t *buf, size_t len)
{
    if (len < NF_ETH_MIN) {
        memset(buf + len, 0, NF_ETH_MIN - len);
        len = NF_ETH_MIN;
    }
    return len;
}

#define ARP_LEN 28

size_t nf_build_arp(uint8_t *buf, size_t cap, const uint8_t dst[6], const nf_arp *a, bool rarp)
{
    if (!buf || cap < NF_ETH_MIN)
        return 0;
    size_t off = eth_header(buf, dst, a->sha, rarp ? NF_ETHERTYPE_RARP : NF_ETHERTYPE_ARP);
    uint8_t *p = buf + off;
    put16(p, 1); /* hardware: Ethernet */
    put16(p + 2, NF_ETHERTYPE_IP);
    p[4] = 6;
    p[5] = 4;
    put16(p + 6, a->op);
    memcpy(p + 8, a->sha, 6);
    put32(p + 14, a->spa);
    memcpy(p + 18, a->tha, 6);
    put32(p + 24, a->tpa);
    return pad_frame(buf, off + ARP_LEN);
}

bool nf_parse_arp(const uint8_t *f, size_t len, nf_arp *out)
{
    nf_eth e;
    if (!nf_parse_eth(f, len, &e) || len < NF_ETH_HLEN + ARP_LEN ||
        (e.type != NF_ETHERTYPE_ARP && e.type != NF_ETHERTYPE_RARP))
        return false;
    const uint8_t *p = f + NF_ETH_HLEN;
    if (get16(p) != 1 || get16(p + 2) != NF_ETHERTYPE_IP || p[4] != 6 || p[5] != 4)
        return false;
    out->op = get16(p + 6);
    if (out->op < 1 || out->op > 4)
        return false;
    memcpy(out->sha, p + 8, 6);
    out->spa = get32(p + 14);
    memcpy(out->tha, p + 18, 6);
    out->tpa = get32(p + 24);
    return true;
}

/* The Internet checksum (RFC 1071) over data, continuing from sum. */
uint32_t nf_csum_add(uint32_t sum, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += get16(data + i);
    if (len & 1)
        sum += (uint32_t)data[len - 1] << 8;
    return sum;
}

uint16_t nf_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

#define IP_HLEN  20
#define UDP_HLEN 8

static uint16_t udp_checksum(const uint8_t *ip, const uint8_t *udp, size_t udp_len)
{
    uint8_t pseudo[12];
    memcpy(pseudo, ip + 12, 8); /* source and destination address */
    pseudo[8] = 0;
    pseudo[9] = NF_IPPROTO_UDP;
    put16(pseudo + 10, (uint16_t)udp_len);
    uint16_t c = nf_csum_fold(nf_csum_add(nf_csum_add(0, pseudo, 12), udp, udp_len));
    return c ? c : 0xffff; /* 0 means "no checksum" in UDP over IPv4 */
}

size_t nf_build_udp(uint8_t *buf, size_t cap, const nf_udp *u)
{
    size_t len = NF_ETH_HLEN + IP_HLEN + UDP_HLEN + u->payload_len;
    if (!buf || len > NF_ETH_MAX || cap < (len < NF_ETH_MIN ? NF_ETH_MIN : len))
        return 0;
    eth_header(buf, u->dst_mac, u->src_mac, NF_ETHERTYPE_IP);
    uint8_t *ip = buf + NF_ETH_HLEN, *udp = ip + IP_HLEN;
    memset(ip, 0, IP_HLEN);
    ip[0] = 0x45;
    put16(ip + 2, (uint16_t)(IP_HLEN + UDP_HLEN + u->payload_len));
    put16(ip + 6, 0x4000); /* DF */
    ip[8] = 64;
    ip[9] = NF_IPPROTO_UDP;
    put32(ip + 12, u->src_ip);
    put32(ip + 16, u->dst_ip);
    put16(ip + 10, nf_csum_fold(nf_csum_add(0, ip, IP_HLEN)));
    put16(udp, u->src_port);
    put16(udp + 2, u->dst_port);
    put16(udp + 4, (uint16_t)(UDP_HLEN + u->payload_len));
    put16(udp + 6, 0);
    if (u->payload_len)
        memcpy(udp + UDP_HLEN, u->payload, u->payload_len);
    put16(udp + 6, udp_checksum(ip, udp, UDP_HLEN + u->payload_len));
    return pad_frame(buf, len);
}

bool nf_parse_udp(const uint8_t *f, size_t len, nf_udp *out)
{
    nf_eth e;
    if (!nf_parse_eth(f, len, &e) || e.type != NF_ETHERTYPE_IP ||
        len < NF_ETH_HLEN + IP_HLEN + UDP_HLEN)
        return false;
    const uint8_t *ip = f + NF_ETH_HLEN;
    size_t ihl = (size_t)(ip[0] & 15) * 4, total = get16(ip + 2);
    if ((ip[0] >> 4) != 4 || ihl < IP_HLEN || total < ihl + UDP_HLEN || total > len - NF_ETH_HLEN ||
        ip[9] != NF_IPPROTO_UDP || (get16(ip + 6) & 0x3fff) != 0 ||
        nf_csum_fold(nf_csum_add(0, ip, ihl)) != 0)
        return false;
    const uint8_t *udp = ip + ihl;
    size_t ulen = get16(udp + 4);
    if (ulen < UDP_HLEN || ulen > total - ihl)
        return false;
    uint16_t sum = get16(udp + 6);
    if (sum) {
        uint8_t pseudo[12];
        memcpy(pseudo, ip + 12, 8);
        pseudo[8] = 0;
        pseudo[9] = NF_IPPROTO_UDP;
        put16(pseudo + 10, (uint16_t)ulen);
        if (nf_csum_fold(nf_csum_add(nf_csum_add(0, pseudo, 12), udp, ulen)) != 0)
            return false;
    }
    memcpy(out->dst_mac, e.dst, 6);
    memcpy(out->src_mac, e.src, 6);
    out->src_ip = get32(ip + 12);
    out->dst_ip = get32(ip + 16);
    out->src_port = get16(udp);
    out->dst_port = get16(udp + 2);
    out->payload = udp + UDP_HLEN;
    out->payload_len = ulen - UDP_HLEN;
    return true;
}

size_t nf_build_seq(uint8_t *buf, size_t cap, const nf_seq *s, size_t pad_to)
{
    size_t len = pad_to > NF_SEQ_LEN ? pad_to : NF_SEQ_LEN;
    if (!buf || cap < len)
        return 0;
    memset(buf, 0, len);
    put32(buf, NF_SEQ_MAGIC);
    put32(buf + 4, s->stream);
    put64(buf + 8, s->seq);
    put64(buf + 16, s->sent_ns);
    return len;
}

bool nf_parse_seq(const uint8_t *p, size_t len, nf_seq *out)
{
    if (!p || len < NF_SEQ_LEN || get32(p) != NF_SEQ_MAGIC)
        return false;
    out->stream = get32(p + 4);
    out->seq = get64(p + 8);
    out->sent_ns = get64(p + 16);
    return true;
}

size_t nf_build_seq_udp(uint8_t *buf, size_t cap, const nf_udp *addr, const nf_seq *s,
                        size_t payload_len)
{
    uint8_t payload[NF_ETH_MAX];
    if (payload_len > sizeof(payload))
        return 0;
    nf_udp u = *addr;
    u.payload_len = nf_build_seq(payload, sizeof(payload), s, payload_len);
    u.payload = payload;
    return u.payload_len ? nf_build_udp(buf, cap, &u) : 0;
}
