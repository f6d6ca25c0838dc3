/*
 * virtio_net_dev_offload.c - what a host does for a peer that cannot take
 * offloaded frames: finishing a partial checksum (RFC 1071) and cutting a
 * TCP segmentation-offload frame into MSS-sized frames (IPv4 RFC 791,
 * IPv6 RFC 8200, TCP RFC 9293 headers).
 */
#include <stdlib.h>

#include "virtio_net_dev_internal.h"

uint32_t emu_vnet_sum(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)((p[i] << 8) | p[i + 1]);
        sum = (sum & 0xFFFFu) + (sum >> 16);
    }
    if (i < len)
        sum += (uint32_t)p[i] << 8;
    return sum;
}

uint16_t emu_vnet_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFFu) + (sum >> 16);
    return (uint16_t)~sum;
}

bool emu_vnet_csum_complete(uint8_t *frame, size_t len, uint16_t csum_start, uint16_t csum_offset)
{
    uint16_t csum;
    size_t at = (size_t)csum_start + csum_offset;

    if (!frame || at + 2 > len)
        return false;
    /* The field holds the pseudo-header sum: summing over it finishes it. */
    csum = emu_vnet_fold(emu_vnet_sum(0, frame + csum_start, len - csum_start));
    if (csum == 0 && csum_offset == 6)
        csum = 0xFFFF; /* UDP: a computed zero goes out as all ones */
    emu_vnet_put_be16(frame + at, csum);
    return true;
}

/* ---- segmentation ------------------------------------------------------------- */

typedef struct tcp_frame {
    size_t l3, l4, payload; /* offsets */
    bool v6;
    uint8_t ip_hlen;
} tcp_frame;

static bool parse_tcp(const uint8_t *f, size_t len, uint8_t gso_type, tcp_frame *t)
{
    uint16_t ethertype;
    size_t doff;

    if (len < 14)
        return false;
    t->l3 = 14;
    ethertype = emu_vnet_be16(f + 12);
    if (ethertype == 0x8100 && len >= 18) {
        t->l3 = 18;
        ethertype = emu_vnet_be16(f + 16);
    }
    t->v6 = gso_type == EMU_VNET_GSO_TCPV6;
    if (t->v6) {
        if (ethertype != 0x86DD || len < t->l3 + 40 || f[t->l3 + 6] != 6)
            return false;
        t->ip_hlen = 40;
    } else {
        if (ethertype != 0x0800 || len < t->l3 + 20 || f[t->l3 + 9] != 6)
            return false;
        t->ip_hlen = (uint8_t)((f[t->l3] & 0x0F) * 4);
        if (t->ip_hlen < 20)
            return false;
    }
    t->l4 = t->l3 + t->ip_hlen;
    if (len < t->l4 + 20)
        return false;
    doff = (size_t)(f[t->l4 + 12] >> 4) * 4;
    t->payload = t->l4 + doff;
    return doff >= 20 && t->payload < len;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Rewrites lengths, ids, sequence number, flags and checksums of one cut.
 * The TCP checksum as Linux's tcp_gso_segment makes it: the frame's field
 * holds the pseudo-header sum over the whole frame's TCP length (what
 * CHECKSUM_PARTIAL with GSO means); each segment gets that sum with the
 * whole length replaced by its own, then the sum over its bytes. A field
 * computed without the length (Windows' LSOv2 form) therefore yields wrong
 * checksums, as on a Linux host. */
static void fix_segment(uint8_t *s, const tcp_frame *t, size_t n, uint32_t index, uint32_t offset,
                        bool last, uint16_t pseudo, uint32_t whole_tcp_len)
{
    uint8_t *ip = s + t->l3, *tcp = s + t->l4;
    uint32_t tcp_len = (uint32_t)(t->payload - t->l4 + n);
    uint32_t sum;

    if (t->v6) {
        emu_vnet_put_be16(ip + 4, (uint16_t)tcp_len);
    } else {
        emu_vnet_put_be16(ip + 2, (uint16_t)(t->ip_hlen + tcp_len));
        emu_vnet_put_be16(ip + 4, (uint16_t)(emu_vnet_be16(ip + 4) + index));
        emu_vnet_put_be16(ip + 10, 0);
        emu_vnet_put_be16(ip + 10, emu_vnet_fold(emu_vnet_sum(0, ip, t->ip_hlen)));
    }
    put_be32(tcp + 4, be32(tcp + 4) + offset);
    if (!last)
        tcp[13] &= (uint8_t)~0x09; /* FIN and PSH only on the last */
    if (index)
        tcp[13] &= (uint8_t)~0x80; /* CWR only on the first */
    sum = (uint32_t)pseudo + (0xFFFFu - (whole_tcp_len & 0xFFFFu)) + tcp_len;
    emu_vnet_put_be16(tcp + 16, 0);
    emu_vnet_put_be16(tcp + 16, emu_vnet_fold(emu_vnet_sum(sum, tcp, tcp_len)));
}

/* A Linux host that routes or bridges with netfilter runs ip_rcv's checks
 * on the frame before segmenting it: the IP length must be the frame's
 * (IPv4 Total Length, IPv6 Payload Length; Windows' LSOv2 form leaves
 * them 0). */
static bool ip_length_ok(const uint8_t *f, size_t len, const tcp_frame *t)
{
    if (t->v6)
        return emu_vnet_be16(f + t->l3 + 4) == len - t->l3 - 40;
    return emu_vnet_be16(f + t->l3 + 2) == len - t->l3;
}

size_t emu_vnet_gso_segment(const uint8_t *frame, size_t len, const emu_vnet_meta *meta,
                            emu_vnet_emit_fn emit, void *ctx)
{
    static const emu_vnet_meta valid = { .flags = EMU_VNET_META_CSUM_VALID };
    size_t mss, data, off, count = 0;
    uint8_t *seg;
    tcp_frame t;

    if (!frame || !meta || !emit || meta->gso_size == 0 ||
        !parse_tcp(frame, len, meta->gso_type & (uint8_t)~EMU_VNET_GSO_ECN, &t))
        return 0;
    if (!ip_length_ok(frame, len, &t))
        return 0;
    mss = meta->gso_size;
    data = len - t.payload;
    seg = malloc(t.payload + mss);
    if (!seg)
        return 0;
    for (off = 0; off < data; off += mss) {
        size_t n = data - off < mss ? data - off : mss;

        memcpy(seg, frame, t.payload);
        memcpy(seg + t.payload, frame + t.payload + off, n);
        fix_segment(seg, &t, n, (uint32_t)count, (uint32_t)off, off + n == data,
                    emu_vnet_be16(frame + t.l4 + 16), (uint32_t)(len - t.l4));
        emit(ctx, seg, t.payload + n, &valid);
        count++;
    }
    free(seg);
    return count;
}
