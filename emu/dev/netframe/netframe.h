/*
 * netframe.h - building and parsing the few frames the emulated network
 * carries: Ethernet II, ARP (and RARP, which QEMU uses to announce a
 * migrated guest), IPv4 + UDP, and the sequence-stamped payload the peer
 * host and the TCP/IP stand-in exchange.
 *
 * Plain C with no OS dependency, so NDIS drivers, device models and tools
 * share it. Multi-byte fields are in network byte order on the wire; IPv4
 * addresses are passed around in host order (10.0.0.1 = 0x0A000001).
 * Builders return the frame length (padded to the 60-byte Ethernet minimum)
 * or 0 when the buffer is too small; parsers return false for anything
 * malformed and never read past len.
 */
#ifndef EMU_NETFRAME_H
#define EMU_NETFRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NF_ETH_HLEN       14
#define NF_ETH_MIN        60 /* without the FCS */
#define NF_ETH_MAX        1514
#define NF_ETHERTYPE_IP   0x0800
#define NF_ETHERTYPE_ARP  0x0806
#define NF_ETHERTYPE_RARP 0x8035
#define NF_ETHERTYPE_IPV6 0x86DD
#define NF_ARP_REQUEST    1
#define NF_ARP_REPLY      2
#define NF_RARP_REQUEST   3
#define NF_IPPROTO_UDP    17

/* "VFOS": marks a sequence-stamped payload. */
#define NF_SEQ_MAGIC 0x56464F53u

extern const uint8_t nf_broadcast[6];

bool nf_mac_is_multicast(const uint8_t mac[6]); /* group bit: multicast and broadcast */
bool nf_mac_equal(const uint8_t a[6], const uint8_t b[6]);
/* "52:54:00:11:22:33" -> mac; false on anything else. */
bool nf_mac_parse(const char *s, uint8_t mac[6]);
/* Writes "52:54:00:11:22:33" (18 bytes with the NUL). */
void nf_mac_format(const uint8_t mac[6], char out[18]);
/* "10.0.0.1" -> 0x0A000001; false on anything else. */
bool nf_ip_parse(const char *s, uint32_t *ip);
void nf_ip_format(uint32_t ip, char out[16]);

typedef struct nf_eth {
    uint8_t dst[6], src[6];
    uint16_t type;
} nf_eth;
bool nf_parse_eth(const uint8_t *f, size_t len, nf_eth *out);

typedef struct nf_arp {
    uint16_t op;
    uint8_t sha[6];
    uint32_t spa;
    uint8_t tha[6];
    uint32_t tpa;
} nf_arp;
/* ARP (ethertype 0x0806) or, with rarp, RARP (0x8035) for Ethernet/IPv4.
 * dst is the Ethernet destination (broadcast for requests). */
size_t nf_build_arp(uint8_t *buf, size_t cap, const uint8_t dst[6], const nf_arp *a, bool rarp);
/* Also accepts RARP frames (op 3/4); out->op tells them apart. */
bool nf_parse_arp(const uint8_t *f, size_t len, nf_arp *out);

typedef struct nf_udp {
    uint8_t dst_mac[6], src_mac[6];
    uint32_t src_ip, dst_ip;
    uint16_t src_port, dst_port;
    const uint8_t *payload; /* parse: points into the frame */
    size_t payload_len;
} nf_udp;
/* The Internet checksum (RFC 1071): nf_csum_add sums data (big-endian 16-bit
 * words, an odd last byte padded) onto sum; nf_csum_fold folds the carries
 * and complements (0 over data that carries a valid checksum). */
uint32_t nf_csum_add(uint32_t sum, const uint8_t *data, size_t len);
uint16_t nf_csum_fold(uint32_t sum);

/* IPv4 header with a valid checksum, DF set, TTL 64; UDP with its checksum. */
size_t nf_build_udp(uint8_t *buf, size_t cap, const nf_udp *u);
/* Checks the IPv4 header (version, length, checksum, no fragments) and the
 * UDP length and checksum. */
bool nf_parse_udp(const uint8_t *f, size_t len, nf_udp *out);

/* The sequence-stamped payload: magic, stream id, sequence number and the
 * sender's timestamp, padded with zeros to the requested size. */
typedef struct nf_seq {
    uint32_t stream;
    uint64_t seq;
    uint64_t sent_ns;
} nf_seq;
#define NF_SEQ_LEN 24
size_t nf_build_seq(uint8_t *buf, size_t cap, const nf_seq *s, size_t pad_to);
bool nf_parse_seq(const uint8_t *p, size_t len, nf_seq *out);

/* A UDP datagram carrying a sequence-stamped payload; 0 on a full buffer. */
size_t nf_build_seq_udp(uint8_t *buf, size_t cap, const nf_udp *addr, const nf_seq *s,
                        size_t payload_len);

/* ---- IPv4/TCP (netframe_tcp.c) ---- */
#define NF_IPPROTO_TCP 6
typedef struct nf_tcp {
    uint8_t dst_mac[6], src_mac[6];
    uint32_t src_ip, dst_ip;
    uint16_t src_port, dst_port;
    uint32_t seq, ack;
} nf_tcp;
/* An IPv4/TCP frame of payload_len bytes as Windows TCP/IP hands an LSOv2
 * large send to the miniport: IPv4 Total Length 0, header checksum 0, the
 * TCP checksum field holding the pseudo-header sum without the TCP length.
 * Not valid on the wire until the NIC (or its driver) has completed it. */
size_t nf_build_tcp_lso(uint8_t *buf, size_t cap, const nf_tcp *t, size_t payload_len);
/* A TCP segment for checksum offload, as Windows TCP/IP hands it over: valid
 * IPv4 header, the TCP checksum field holding the pseudo-header sum with
 * the TCP length (the NIC adds the sum over the TCP header and payload). */
size_t nf_build_tcp_csum(uint8_t *buf, size_t cap, const nf_tcp *t, size_t payload_len);
typedef enum nf_tcp_verdict {
    NF_TCP_OK,
    NF_TCP_NOT_TCP,  /* not IPv4/TCP */
    NF_TCP_BAD_LEN,  /* IPv4 Total Length or TCP data offset inconsistent */
    NF_TCP_BAD_CSUM, /* IPv4 header or TCP checksum wrong */
} nf_tcp_verdict;
/* What a Linux host's ip_rcv and tcp_v4_rcv make of the frame. */
nf_tcp_verdict nf_check_tcp(const uint8_t *f, size_t len, size_t *payload_len);

#endif /* EMU_NETFRAME_H */
