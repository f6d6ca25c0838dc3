/*
 * vnet_spec.h - the virtio-net wire formats lib/vnet speaks (virtio 1.x,
 * "Network Device"): feature bits, the per-packet header, the device
 * configuration layout and the control-queue commands. Everything is
 * little-endian on the wire; lib/virtio already refuses big-endian CPUs.
 */
#ifndef VNET_SPEC_H
#define VNET_SPEC_H

#include <stdint.h>

/* Device-specific feature bits. */
#define VNET_F_CSUM           0  /* device completes partial checksums we send */
#define VNET_F_GUEST_CSUM     1  /* we accept partially checksummed frames */
#define VNET_F_MTU            3  /* config mtu is the maximum MTU */
#define VNET_F_MAC            5  /* config mac is the permanent address */
#define VNET_F_GUEST_TSO4     7  /* we accept coalesced TCPv4 */
#define VNET_F_GUEST_TSO6     8  /* we accept coalesced TCPv6 */
#define VNET_F_GUEST_ECN      9  /* ... with ECN */
#define VNET_F_GUEST_UFO      10 /* ... UDP fragmentation offload */
#define VNET_F_HOST_TSO4      11 /* device segments TCPv4 */
#define VNET_F_HOST_TSO6      12 /* device segments TCPv6 */
#define VNET_F_HOST_ECN       13
#define VNET_F_HOST_UFO       14
#define VNET_F_MRG_RXBUF      15 /* frames may span several receive buffers */
#define VNET_F_STATUS         16 /* config status (link, announce) exists */
#define VNET_F_CTRL_VQ        17 /* control queue exists */
#define VNET_F_CTRL_RX        18 /* promiscuous / all-multicast / MAC table */
#define VNET_F_CTRL_VLAN      19 /* VLAN filter table */
#define VNET_F_CTRL_RX_EXTRA  20
#define VNET_F_GUEST_ANNOUNCE 21 /* device asks us to announce ourselves */
#define VNET_F_MQ             22
#define VNET_F_CTRL_MAC_ADDR  23 /* set the MAC through the control queue */
#define VNET_F_STANDBY        62 /* standby for a primary with the same MAC (failover) */
#define VNET_F_SPEED_DUPLEX   63 /* config speed and duplex exist */

/* struct virtio_net_hdr (virtio 1.x always carries num_buffers: 12 bytes). */
#define VNET_HDR_F_NEEDS_CSUM 0x01
#define VNET_HDR_F_DATA_VALID 0x02
#define VNET_HDR_F_RSC_INFO   0x04

#define VNET_GSO_NONE  0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_UDP   3
#define VNET_GSO_TCPV6 4
#define VNET_GSO_ECN   0x80

typedef struct vnet_hdr {
    uint8_t flags;
    uint8_t gso_type;
    uint16_t hdr_len;
    uint16_t gso_size;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t num_buffers;
} vnet_hdr;

#define VNET_HDR_LEN 12u
_Static_assert(sizeof(vnet_hdr) == VNET_HDR_LEN, "virtio_net_hdr is 12 bytes");

/* struct virtio_net_config offsets and sizes. */
#define VNET_CFG_MAC       0  /* u8[6] */
#define VNET_CFG_STATUS    6  /* le16 */
#define VNET_CFG_MAX_PAIRS 8  /* le16 */
#define VNET_CFG_MTU       10 /* le16 */
#define VNET_CFG_SPEED     12 /* le32, Mbit/s */
#define VNET_CFG_DUPLEX    16 /* u8 */
#define VNET_CFG_SIZE_USED 17 /* the fields lib/vnet reads */

#define VNET_S_LINK_UP  1
#define VNET_S_ANNOUNCE 2

#define VNET_SPEED_UNKNOWN  0xFFFFFFFFu
#define VNET_SPEED_MAX      0x7FFFFFFFu
#define VNET_DUPLEX_HALF    0x00
#define VNET_DUPLEX_FULL    0x01
#define VNET_DUPLEX_UNKNOWN 0xFF

#define VNET_MTU_MIN 68u
#define VNET_MTU_MAX 65535u

/* Control queue: {u8 class, u8 command, data...} then a device-written u8 ack. */
#define VNET_CTRL_RX          0
#define VNET_CTRL_RX_PROMISC  0
#define VNET_CTRL_RX_ALLMULTI 1

#define VNET_CTRL_MAC           1
#define VNET_CTRL_MAC_TABLE_SET 0
#define VNET_CTRL_MAC_ADDR_SET  1

#define VNET_CTRL_VLAN     2
#define VNET_CTRL_VLAN_ADD 0
#define VNET_CTRL_VLAN_DEL 1

#define VNET_CTRL_ANNOUNCE     3
#define VNET_CTRL_ANNOUNCE_ACK 0

#define VNET_CTRL_ACK_OK  0
#define VNET_CTRL_ACK_ERR 1

/* Ethernet facts the data path needs. */
#define VNET_ETH_HLEN       14u
#define VNET_VLAN_HLEN      4u
#define VNET_ETH_ALEN       6u
#define VNET_ETHERTYPE_VLAN 0x8100u
#define VNET_VLAN_VID_MAX   4095u

/* Largest frame a GSO header can describe: Ethernet + VLAN + IPv6 header +
 * the largest IPv6 payload (the spec's 65589 plus a VLAN tag). */
#define VNET_GSO_FRAME_MAX (VNET_ETH_HLEN + VNET_VLAN_HLEN + 40u + 65535u)

#endif /* VNET_SPEC_H */
