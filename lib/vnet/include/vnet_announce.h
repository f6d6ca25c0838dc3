/*
 * vnet_announce.h - frames that tell a network where a MAC address now
 * lives: after a live migration (the device's ANNOUNCE request) and after
 * the failover engine moves traffic between the VF and virtio.
 *
 * From the addresses the OS reports (OID_GEN_NETWORK_LAYER_ADDRESSES):
 *   - one gratuitous ARP request per IPv4 address (RFC 826 layout; sender
 *     and target protocol address both the address, target hardware address
 *     zero, broadcast), as RFC 5227 "ARP Announcement" describes;
 *   - one unsolicited Neighbor Advertisement per IPv6 address (RFC 4861
 *     7.2.6: to all-nodes ff02::1, hop limit 255, Override set, Solicited
 *     clear, with a Target Link-Layer Address option), source address the
 *     advertised address;
 *   - a RARP request (RFC 903, opcode 3) carrying the MAC when no address
 *     is known, as QEMU's own announcement does.
 * Frames are untagged and padded to the 60-byte Ethernet minimum; a VLAN
 * tag is the transmit path's job (VNET_TXO_VLAN). Unusable addresses
 * (0.0.0.0, broadcast and multicast IPv4; ::, multicast IPv6) are skipped.
 * Portable, stateless and allocation-free.
 */
#ifndef VNET_ANNOUNCE_H
#define VNET_ANNOUNCE_H

#include <stddef.h>
#include <stdint.h>

#include "vnet_types.h"

typedef struct vnet_announce_src {
    uint8_t mac[6];
    const uint8_t (*ipv4)[4]; /* n_ipv4 addresses, network byte order */
    uint32_t n_ipv4;
    const uint8_t (*ipv6)[16];
    uint32_t n_ipv6;
} vnet_announce_src;

#define VNET_ANNOUNCE_FRAME_MAX 86u /* the NA: 14 + 40 + 24 + 8 */
#define VNET_ETH_MIN_FRAME      60u

/* How many frames vnet_announce_frame will produce: one per usable address,
 * or 1 (the RARP) when there is none. */
uint32_t vnet_announce_count(const vnet_announce_src *src);

/* Writes frame number `index` (0 .. count-1: IPv4 first, then IPv6) into
 * buf; *len receives its length. VNET_E_INVAL for a bad index, a NULL
 * pointer, a multicast or zero MAC, or a buffer shorter than
 * VNET_ANNOUNCE_FRAME_MAX. */
vnet_status vnet_announce_frame(const vnet_announce_src *src, uint32_t index, uint8_t *buf,
                                size_t cap, size_t *len);

/* The individual builders; each returns the frame length, or 0 if an
 * argument is unusable or cap is too small. */
size_t vnet_build_garp(uint8_t *buf, size_t cap, const uint8_t mac[6], const uint8_t ipv4[4]);
size_t vnet_build_unsolicited_na(uint8_t *buf, size_t cap, const uint8_t mac[6],
                                 const uint8_t ipv6[16]);
size_t vnet_build_rarp(uint8_t *buf, size_t cap, const uint8_t mac[6]);

#endif /* VNET_ANNOUNCE_H */
