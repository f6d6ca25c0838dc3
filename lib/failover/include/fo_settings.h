/*
 * fo_settings.h - the upper stack's settings the engine records and replays
 * to a new primary.
 *
 * The enum order IS the replay order: multicast list, offloads (parameters,
 * then encapsulation), RSS, VLAN, the advisory settings, and the packet filter
 * last, so the primary starts receiving only once everything else is in place.
 *
 * Payload formats for fo_record_setting() and fo_replay_payload():
 *   MULTICAST_LIST        n * 6 bytes of multicast MACs (OID_802_3_MULTICAST_LIST's buffer)
 *   OFFLOAD               one fo_offload: the enable flags the upper stack asked for
 *   ENCAPSULATION         opaque bytes (the NDIS_OFFLOAD_ENCAPSULATION the stack set)
 *   RSS                   one fo_rss
 *   VLAN_ID               uint32_t, 0..4095
 *   INTERRUPT_MODERATION  uint32_t, opaque to the engine
 *   NETWORK_ADDRESSES     opaque bytes (OID_GEN_NETWORK_LAYER_ADDRESSES' buffer)
 *   PM_PARAMETERS         opaque bytes (OID_PM_PARAMETERS' buffer)
 *   PACKET_FILTER         uint32_t, NDIS_PACKET_TYPE_* bits, opaque to the engine
 */
#ifndef FO_SETTINGS_H
#define FO_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fo_caps.h"

typedef enum fo_setting {
    FO_SET_MULTICAST_LIST = 0,
    FO_SET_OFFLOAD,
    FO_SET_ENCAPSULATION,
    FO_SET_RSS,
    FO_SET_VLAN_ID,
    FO_SET_INTERRUPT_MODERATION,
    FO_SET_NETWORK_ADDRESSES,
    FO_SET_PM_PARAMETERS,
    FO_SET_PACKET_FILTER,
    FO_SET_COUNT,
    FO_SET_NONE = FO_SET_COUNT
} fo_setting;

#define FO_MCAST_MAX     64   /* multicast addresses recorded */
#define FO_BLOB_MAX      1024 /* bytes of an opaque setting */
#define FO_RSS_KEY_MAX   40   /* NDIS_RSS_HASH_SECRET_KEY_MAX_SIZE_REVISION_2 */
#define FO_RSS_TABLE_MAX 128  /* indirection table entries (NDIS 6.30 maximum) */
#define FO_VLAN_ID_MAX   4095

typedef struct fo_rss {
    uint8_t enabled;        /* 0 or 1 */
    uint32_t hash_types;    /* FO_RSS_HASH_* */
    uint32_t hash_function; /* opaque to the engine */
    uint32_t base_cpu;      /* opaque to the engine */
    uint16_t key_len;       /* <= FO_RSS_KEY_MAX */
    uint16_t table_len;     /* entries: 0 or a power of two <= FO_RSS_TABLE_MAX */
    uint8_t key[FO_RSS_KEY_MAX];
    uint32_t table[FO_RSS_TABLE_MAX]; /* opaque processor ids */
} fo_rss;

/* Whether the primary refusing this setting leaves the pair half-configured.
 * Required: multicast, offloads, encapsulation, VLAN, packet filter. Advisory
 * (a NOT_SUPPORTED answer is noted, not fatal): RSS, interrupt moderation,
 * network-layer addresses, power management. */
bool fo_setting_required(fo_setting s);

/* "multicast_list", "offload", ...; "unknown" when out of range. */
const char *fo_setting_name(fo_setting s);

/* Internal store; embedded in fo_pair. Fields are private to lib/failover. */
typedef struct fo_blob {
    uint16_t len;
    uint8_t data[FO_BLOB_MAX];
} fo_blob;

typedef struct fo_settings {
    uint32_t present; /* bit per fo_setting: recorded (or defaulted) */
    uint32_t packet_filter;
    uint32_t vlan_id;
    uint32_t interrupt_moderation;
    uint16_t mcast_count;
    uint8_t mcast[FO_MCAST_MAX][6];
    fo_offload offload; /* upper stack's request */
    fo_rss rss;
    fo_blob encapsulation;
    fo_blob network_addresses;
    fo_blob pm_parameters;
} fo_settings;

#endif /* FO_SETTINGS_H */
