/*
 * vnet_csum.c - the Internet checksum (RFC 1071) over byte runs that may
 * start at an odd offset of the summed range, as frame segments do.
 */
#include "vnet_internal.h"

uint32_t vnet_csum_add(uint32_t sum, const uint8_t *p, size_t len, bool odd_start)
{
    size_t i = 0;

    if (odd_start && len) {
        sum += p[0]; /* the low byte of a word that began in the previous run */
        i = 1;
    }
    for (; i + 1 < len; i += 2) {
        sum += (uint32_t)((p[i] << 8) | p[i + 1]);
        if (sum & 0x80000000u)
            sum = (sum & 0xFFFFu) + (sum >> 16);
    }
    if (i < len)
        sum += (uint32_t)p[i] << 8;
    return sum;
}

uint16_t vnet_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFFu) + (sum >> 16);
    return (uint16_t)~sum;
}

/* ---- Windows' LSOv2 headers made what a virtio device expects -------------------- */

static void put_be16_at(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static uint16_t fold_plain(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xFFFFu) + (sum >> 16);
    return (uint16_t)sum;
}

bool vnet_lso_fix_headers(uint8_t *hdrs, uint32_t hdr_len, uint16_t l3, uint16_t l4,
                          uint32_t frame_len, bool v6)
{
    uint32_t tcp_len, ip_len, sum;

    if (l3 < VNET_ETH_HLEN || l4 <= l3 || (uint32_t)l4 + 20u > hdr_len || hdr_len > frame_len)
        return false;
    tcp_len = frame_len - l4;
    ip_len = frame_len - l3;
    if (v6) {
        if ((uint32_t)(l4 - l3) < 40u || ip_len < 40u || ip_len - 40u > 0xFFFFu ||
            (hdrs[l3] >> 4) != 6)
            return false;
        put_be16_at(hdrs + l3 + 4, (uint16_t)(ip_len - 40u));
        sum = vnet_csum_add(0, hdrs + l3 + 8, 32, false);
    } else {
        uint32_t ihl = (uint32_t)(hdrs[l3] & 0x0Fu) * 4u;
        if ((hdrs[l3] >> 4) != 4 || ihl < 20u || (uint32_t)l3 + ihl != l4 || ip_len > 0xFFFFu)
            return false;
        put_be16_at(hdrs + l3 + 2, (uint16_t)ip_len);
        put_be16_at(hdrs + l3 + 10, 0);
        put_be16_at(hdrs + l3 + 10, vnet_csum_fold(vnet_csum_add(0, hdrs + l3, ihl, false)));
        sum = vnet_csum_add(0, hdrs + l3 + 12, 8, false);
    }
    sum += 6u + tcp_len; /* protocol TCP and the TCP length of the whole frame */
    put_be16_at(hdrs + l4 + 16, fold_plain(sum));
    return true;
}
