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
