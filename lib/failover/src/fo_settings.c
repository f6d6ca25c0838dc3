/* The settings store: validation on record, adaptation to a primary on replay. */
#include <string.h>

#include "fo_internal.h"

bool fo_setting_required(fo_setting s)
{
    switch (s) {
    case FO_SET_MULTICAST_LIST:
    case FO_SET_OFFLOAD:
    case FO_SET_ENCAPSULATION:
    case FO_SET_VLAN_ID:
    case FO_SET_PACKET_FILTER:
        return true;
    default:
        return false;
    }
}

void fo_settings_init(fo_settings *st)
{
    memset(st, 0, sizeof(*st));
    /* Until the upper stack says otherwise, it may use every advertised
     * offload; replaying that keeps a new primary in line with what the upper
     * stack was told, so the offload step is always part of a replay. */
    st->offload.flags = FO_OFL_ALL;
    st->offload.lso4_max_size = UINT32_MAX;
    st->offload.lso6_max_size = UINT32_MAX;
    st->present = FO_SET_BIT(FO_SET_OFFLOAD);
}

static bool is_power_of_two(uint32_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

static fo_reason record_u32(uint32_t *dst, const void *data, size_t len, uint32_t max)
{
    uint32_t v;
    if (len != sizeof(v))
        return FO_R_INVALID_SETTING;
    memcpy(&v, data, sizeof(v));
    if (v > max)
        return FO_R_INVALID_SETTING;
    *dst = v;
    return FO_R_OK;
}

static fo_reason record_mcast(fo_settings *st, const uint8_t *data, size_t len)
{
    if (len % FO_MAC_LEN != 0)
        return FO_R_INVALID_SETTING;
    size_t n = len / FO_MAC_LEN;
    if (n > FO_MCAST_MAX)
        return FO_R_SETTING_TOO_LARGE;
    for (size_t i = 0; i < n; i++)
        if (!(data[i * FO_MAC_LEN] & 1)) /* the group bit */
            return FO_R_INVALID_SETTING;
    if (n)
        memcpy(st->mcast, data, len);
    st->mcast_count = (uint16_t)n;
    return FO_R_OK;
}

static fo_reason record_offload(fo_settings *st, const void *data, size_t len)
{
    fo_offload o;
    if (len != sizeof(o))
        return FO_R_INVALID_SETTING;
    memcpy(&o, data, sizeof(o));
    if (o.flags & ~(uint32_t)FO_OFL_ALL)
        return FO_R_INVALID_SETTING;
    st->offload = o;
    return FO_R_OK;
}

static fo_reason record_rss(fo_settings *st, const void *data, size_t len)
{
    fo_rss r;
    if (len != sizeof(r))
        return FO_R_INVALID_SETTING;
    memcpy(&r, data, sizeof(r));
    if (r.key_len > FO_RSS_KEY_MAX || r.table_len > FO_RSS_TABLE_MAX)
        return FO_R_INVALID_SETTING;
    if (r.table_len != 0 && !is_power_of_two(r.table_len))
        return FO_R_INVALID_SETTING;
    if (r.enabled > 1 || (r.hash_types & ~(uint32_t)FO_RSS_HASH_ALL))
        return FO_R_INVALID_SETTING;
    if (r.enabled && (r.hash_types == 0 || r.table_len == 0))
        return FO_R_INVALID_SETTING;
    st->rss = r;
    return FO_R_OK;
}

static fo_reason record_blob(fo_blob *b, const void *data, size_t len)
{
    if (len > FO_BLOB_MAX)
        return FO_R_SETTING_TOO_LARGE;
    if (len)
        memcpy(b->data, data, len);
    b->len = (uint16_t)len;
    return FO_R_OK;
}

fo_reason fo_settings_record(fo_settings *st, fo_setting s, const void *data, size_t len)
{
    if (data == NULL && len != 0)
        return FO_R_INVALID_ARGUMENT;
    fo_reason r;
    switch (s) {
    case FO_SET_MULTICAST_LIST:
        r = record_mcast(st, data, len);
        break;
    case FO_SET_OFFLOAD:
        r = record_offload(st, data, len);
        break;
    case FO_SET_ENCAPSULATION:
        r = record_blob(&st->encapsulation, data, len);
        break;
    case FO_SET_RSS:
        r = record_rss(st, data, len);
        break;
    case FO_SET_VLAN_ID:
        r = record_u32(&st->vlan_id, data, len, FO_VLAN_ID_MAX);
        break;
    case FO_SET_INTERRUPT_MODERATION:
        r = record_u32(&st->interrupt_moderation, data, len, UINT32_MAX);
        break;
    case FO_SET_NETWORK_ADDRESSES:
        r = record_blob(&st->network_addresses, data, len);
        break;
    case FO_SET_PM_PARAMETERS:
        r = record_blob(&st->pm_parameters, data, len);
        break;
    case FO_SET_PACKET_FILTER:
        r = record_u32(&st->packet_filter, data, len, UINT32_MAX);
        break;
    default:
        return FO_R_INVALID_ARGUMENT;
    }
    if (r == FO_R_OK)
        st->present |= FO_SET_BIT(s);
    return r;
}

bool fo_settings_skip(fo_setting s, const fo_caps *primary)
{
    return s == FO_SET_RSS && primary->rss.table_max == 0;
}

static uint16_t pow2_floor(uint16_t v)
{
    uint16_t p = 1;
    while ((uint32_t)p * 2 <= v)
        p = (uint16_t)(p * 2);
    return v ? p : 0;
}

/* The upper stack's RSS, restricted to the hash types the primary computes
 * and to the first entries of the table that fit its indirection table. */
static void rss_for_primary(const fo_rss *in, const fo_rss_caps *caps, fo_rss *out)
{
    *out = *in;
    if (!out->enabled)
        return;
    out->hash_types &= caps->hash_types;
    uint16_t fit = pow2_floor(caps->table_max);
    if (out->table_len > fit)
        out->table_len = fit;
    if (out->hash_types == 0 || out->table_len == 0) {
        out->enabled = 0;
        out->hash_types = 0;
    }
}

static fo_reason put(void *buf, size_t cap, size_t *len, const void *src, size_t n)
{
    *len = n;
    if (n > cap)
        return FO_R_SETTING_TOO_LARGE;
    if (n)
        memcpy(buf, src, n);
    return FO_R_OK;
}

fo_reason fo_settings_payload(const fo_settings *st, fo_setting s,
                              const fo_offload *primary_offload, const fo_caps *primary, void *buf,
                              size_t cap, size_t *len)
{
    fo_rss rss;
    switch (s) {
    case FO_SET_MULTICAST_LIST:
        return put(buf, cap, len, st->mcast, (size_t)st->mcast_count * FO_MAC_LEN);
    case FO_SET_OFFLOAD:
        return put(buf, cap, len, primary_offload, sizeof(*primary_offload));
    case FO_SET_ENCAPSULATION:
        return put(buf, cap, len, st->encapsulation.data, st->encapsulation.len);
    case FO_SET_RSS:
        rss_for_primary(&st->rss, &primary->rss, &rss);
        return put(buf, cap, len, &rss, sizeof(rss));
    case FO_SET_VLAN_ID:
        return put(buf, cap, len, &st->vlan_id, sizeof(st->vlan_id));
    case FO_SET_INTERRUPT_MODERATION:
        return put(buf, cap, len, &st->interrupt_moderation, sizeof(st->interrupt_moderation));
    case FO_SET_NETWORK_ADDRESSES:
        return put(buf, cap, len, st->network_addresses.data, st->network_addresses.len);
    case FO_SET_PM_PARAMETERS:
        return put(buf, cap, len, st->pm_parameters.data, st->pm_parameters.len);
    case FO_SET_PACKET_FILTER:
        return put(buf, cap, len, &st->packet_filter, sizeof(st->packet_filter));
    default:
        *len = 0;
        return FO_R_INVALID_ARGUMENT;
    }
}
