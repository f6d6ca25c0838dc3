/*
 * fo_caps.h - offload and RSS capabilities, and their intersection.
 *
 * The same fo_offload shape describes what an adapter can do (capabilities),
 * what the upper stack asked for (OID_TCP_OFFLOAD_PARAMETERS, as enable
 * flags) and what is in effect (the "current configuration" indicated up).
 * The glue converts NDIS_OFFLOAD / NDIS_OFFLOAD_PARAMETERS to and from it.
 */
#ifndef FO_CAPS_H
#define FO_CAPS_H

#include <stdbool.h>
#include <stdint.h>

/* fo_offload.flags: checksum offloads per direction and LSOv2 per IP version. */
enum {
    FO_OFL_TX_IP4_CSUM = 1u << 0,
    FO_OFL_TX_TCP4_CSUM = 1u << 1,
    FO_OFL_TX_UDP4_CSUM = 1u << 2,
    FO_OFL_TX_TCP6_CSUM = 1u << 3,
    FO_OFL_TX_UDP6_CSUM = 1u << 4,
    FO_OFL_RX_IP4_CSUM = 1u << 8,
    FO_OFL_RX_TCP4_CSUM = 1u << 9,
    FO_OFL_RX_UDP4_CSUM = 1u << 10,
    FO_OFL_RX_TCP6_CSUM = 1u << 11,
    FO_OFL_RX_UDP6_CSUM = 1u << 12,
    FO_OFL_LSO4 = 1u << 16,
    FO_OFL_LSO6 = 1u << 17,

    FO_OFL_TX_MASK = 0x1fu | FO_OFL_LSO4 | FO_OFL_LSO6, /* what a packet can ask for */
    FO_OFL_ALL = 0x1fu | (0x1fu << 8) | FO_OFL_LSO4 | FO_OFL_LSO6,
};

typedef struct fo_offload {
    uint32_t flags;         /* FO_OFL_* */
    uint32_t lso4_max_size; /* bytes; meaningful only with FO_OFL_LSO4 */
    uint32_t lso4_min_segs;
    uint32_t lso6_max_size; /* bytes; meaningful only with FO_OFL_LSO6 */
    uint32_t lso6_min_segs;
} fo_offload;

/* fo_rss_caps.hash_types and fo_rss.hash_types. */
enum {
    FO_RSS_HASH_IPV4 = 1u << 0,
    FO_RSS_HASH_TCP_IPV4 = 1u << 1,
    FO_RSS_HASH_UDP_IPV4 = 1u << 2,
    FO_RSS_HASH_IPV6 = 1u << 3,
    FO_RSS_HASH_TCP_IPV6 = 1u << 4,
    FO_RSS_HASH_UDP_IPV6 = 1u << 5,
    FO_RSS_HASH_IPV6_EX = 1u << 6,
    FO_RSS_HASH_TCP_IPV6_EX = 1u << 7,
    FO_RSS_HASH_UDP_IPV6_EX = 1u << 8,
    FO_RSS_HASH_ALL = 0x1ffu,
};

typedef struct fo_rss_caps {
    uint32_t hash_types; /* FO_RSS_HASH_*; 0 = no RSS */
    uint16_t table_max;  /* indirection table entries; 0 = no RSS */
    uint16_t queues;     /* receive queues; 0 = no RSS */
} fo_rss_caps;

typedef struct fo_caps {
    fo_offload offload;
    fo_rss_caps rss;
} fo_caps;

/* What one packet asks of the path that sends it (built by the glue from the
 * NBL's checksum and LSO info). offloads == 0 is the common, cheapest case. */
typedef struct fo_tx_meta {
    uint32_t offloads; /* FO_OFL_TX_* and FO_OFL_LSO4/6 */
    uint32_t lso_size; /* total TCP payload for LSO */
    uint32_t lso_segs; /* segments the LSO packet will produce */
} fo_tx_meta;

/* out = a ∩ b: flags and hash types AND-ed, sizes and table/queue counts the
 * smaller, minimum segment counts the larger. A feature absent on either side
 * is absent in the result with its numbers zeroed. out may alias a or b. */
void fo_caps_intersect(const fo_caps *a, const fo_caps *b, fo_caps *out);
void fo_offload_intersect(const fo_offload *a, const fo_offload *b, fo_offload *out);
bool fo_offload_equal(const fo_offload *a, const fo_offload *b);

/* Can an adapter whose enabled offloads are `o` send a packet asking for `m`? */
bool fo_offload_can_send(const fo_offload *o, const fo_tx_meta *m);

#endif /* FO_CAPS_H */
