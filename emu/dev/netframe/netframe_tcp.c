/*
 * netframe_tcp.c - IPv4/TCP frames: built as Windows TCP/IP hands a large
 * send (LSOv2) to a miniport, and checked as a Linux host's IP and TCP input
 * checks them (ip_rcv: version, header length, Total Length against the
 * frame, header checksum; tcp_v4_rcv: data offset, checksum over the
 * pseudo-header with the TCP length).
 */
#include "netframe.h"

#include <string.h>

#define IP_HLEN  20
#define TCP_HLEN 20

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

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* The folded sum, not complemented: what a pseudo-header checksum field holds. */
static uint16_t fold(uint32_t sum)
{
    return (uint16_t)~nf_csum_fold(sum);
}

/* The pseudo-header's sum: addresses, protocol and (if given) the TCP length. */
static uint32_t pseudo_sum(const uint8_t *ip, uint32_t tcp_len)
{
    return nf_csum_add(0, ip + 12, 8) + NF_IPPROTO_TCP + tcp_len;
}

/* Ethernet, IPv4 (Total Length 0, checksum 0) and TCP headers, payload
 * pattern; the TCP checksum field left 0. */
static size_t build_tcp(uint8_t *buf, size_t cap, const nf_tcp *t, size_t payload_len)
{
    size_t len = NF_ETH_HLEN + IP_HLEN + TCP_HLEN + payload_len;
    if (!buf || cap < len || payload_len == 0)
        return 0;
    memcpy(buf, t->dst_mac, 6);
    memcpy(buf + 6, t->src_mac, 6);
    put16(buf + 12, NF_ETHERTYPE_IP);
    uint8_t *ip = buf + NF_ETH_HLEN, *tcp = ip + IP_HLEN;
    memset(ip, 0, IP_HLEN + TCP_HLEN);
    ip[0] = 0x45;
    put16(ip + 2, 0); /* LSOv2: Total Length 0, the miniport fills it per segment */
    put16(ip + 6, 0x4000);
    ip[8] = 128;
    ip[9] = NF_IPPROTO_TCP;
    put32(ip + 12, t->src_ip);
    put32(ip + 16, t->dst_ip);
    put16(tcp, t->src_port);
    put16(tcp + 2, t->dst_port);
    put32(tcp + 4, t->seq);
    put32(tcp + 8, t->ack);
    tcp[12] = (TCP_HLEN / 4) << 4;
    tcp[13] = 0x18; /* PSH, ACK */
    put16(tcp + 14, 0xFFFF);
    for (size_t i = 0; i < payload_len; i++)
        tcp[TCP_HLEN + i] = (uint8_t)(t->seq + i);
    return len;
}

size_t nf_build_tcp_lso(uint8_t *buf, size_t cap, const nf_tcp *t, size_t payload_len)
{
    size_t len = build_tcp(buf, cap, t, payload_len);
    uint8_t *ip = buf + NF_ETH_HLEN;
    if (len) /* LSOv2: the pseudo-header sum without the TCP length */
        put16(ip + IP_HLEN + 16, fold(pseudo_sum(ip, 0)));
    return len;
}

size_t nf_build_tcp_csum(uint8_t *buf, size_t cap, const nf_tcp *t, size_t payload_len)
{
    size_t len = build_tcp(buf, cap, t, payload_len);
    uint8_t *ip = buf + NF_ETH_HLEN;
    if (!len || len - NF_ETH_HLEN > 0xFFFF)
        return 0;
    put16(ip + 2, (uint16_t)(len - NF_ETH_HLEN));
    put16(ip + 10, nf_csum_fold(nf_csum_add(0, ip, IP_HLEN)));
    /* checksum offload: the pseudo-header sum with the TCP length */
    put16(ip + IP_HLEN + 16, fold(pseudo_sum(ip, (uint32_t)(len - NF_ETH_HLEN - IP_HLEN))));
    return len;
}

nf_tcp_verdict nf_check_tcp(const uint8_t *f, size_t len, size_t *payload_len)
{
    if (len < NF_ETH_HLEN + IP_HLEN || get16(f + 12) != NF_ETHERTYPE_IP)
        return NF_TCP_NOT_TCP;
    const uint8_t *ip = f + NF_ETH_HLEN;
    size_t ihl = (size_t)(ip[0] & 15) * 4, total = get16(ip + 2);
    if ((ip[0] >> 4) != 4 || ip[9] != NF_IPPROTO_TCP)
        return NF_TCP_NOT_TCP;
    if (ihl < IP_HLEN || total < ihl + TCP_HLEN || total > len - NF_ETH_HLEN)
        return NF_TCP_BAD_LEN;
    if (nf_csum_fold(nf_csum_add(0, ip, ihl)) != 0)
        return NF_TCP_BAD_CSUM;
    const uint8_t *tcp = ip + ihl;
    size_t tcp_len = total - ihl, doff = (size_t)(tcp[12] >> 4) * 4;
    if (doff < TCP_HLEN || doff > tcp_len)
        return NF_TCP_BAD_LEN;
    if (nf_csum_fold(nf_csum_add(pseudo_sum(ip, (uint32_t)tcp_len), tcp, tcp_len)) != 0)
        return NF_TCP_BAD_CSUM;
    if (payload_len)
        *payload_len = tcp_len - doff;
    return NF_TCP_OK;
}
