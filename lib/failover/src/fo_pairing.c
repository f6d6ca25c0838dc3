/*
 * The registry of standbys (vfo miniports) and the pairing rules that decide
 * whether a bind candidate is the primary of one of them.
 */
#include <string.h>

#include "fo_internal.h"

void fo_config_default(fo_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->enabled = true;
    cfg->require_standby_feature = true;
    cfg->match_current_mac = false;
    cfg->mtu_policy = FO_MTU_EQUAL;
    cfg->reindicate_offloads = true;
    cfg->announce_count = 3;
    cfg->announce_offset_ms[0] = 0;
    cfg->announce_offset_ms[1] = 50;
    cfg->announce_offset_ms[2] = 150;
}

void fo_registry_init(fo_registry *reg)
{
    memset(reg, 0, sizeof(*reg));
}

static bool mac_is_unicast_nonzero(const uint8_t *mac)
{
    static const uint8_t zero[FO_MAC_LEN];
    return !(mac[0] & 1) && memcmp(mac, zero, FO_MAC_LEN) != 0;
}

static bool config_valid(const fo_config *cfg)
{
    if (cfg->announce_count > FO_ANNOUNCE_MAX)
        return false;
    if (cfg->mtu_policy != FO_MTU_EQUAL && cfg->mtu_policy != FO_MTU_PRIMARY_AT_LEAST)
        return false;
    for (unsigned i = 1; i < cfg->announce_count; i++)
        if (cfg->announce_offset_ms[i] < cfg->announce_offset_ms[i - 1])
            return false;
    return true;
}

static bool registered(const fo_registry *reg, const fo_pair *p)
{
    for (const fo_pair *it = reg->head; it; it = it->next)
        if (it == p)
            return true;
    return false;
}

fo_reason fo_pair_init(fo_pair *p, fo_registry *reg, const fo_config *cfg,
                       const fo_standby_desc *standby)
{
    if (!p || !reg || !cfg || !standby || !config_valid(cfg) ||
        !mac_is_unicast_nonzero(standby->mac) || standby->mtu == 0)
        return FO_R_INVALID_ARGUMENT;
    if (registered(reg, p))
        return FO_R_BAD_STATE;
    memset(p, 0, sizeof(*p));
    fo_rundown_init(&p->rd);
    p->cfg = *cfg;
    p->standby = *standby;
    p->state = FO_ABSENT;
    p->inflight = FO_SET_NONE;
    p->last_rejected = FO_SET_NONE;
    p->shown_path = FO_PATH_STANDBY;
    fo_settings_init(&p->settings);
    fo_stats_init(&p->stats);
    /* virtio's counters start with the adapter: count its first sample whole. */
    p->stats.standby.have_last = true;
    p->shown_link = fo_upper_link(p);
    fo_upper_offload(p, &p->shown_offload);

    p->reg = reg;
    fo_pair **tail = &reg->head;
    while (*tail)
        tail = &(*tail)->next;
    *tail = p;
    fo_retry_refused(p, FO_R_NO_MATCHING_STANDBY);
    return FO_R_OK;
}

fo_reason fo_registry_remove(fo_registry *reg, fo_pair *p)
{
    if (!reg || !p)
        return FO_R_INVALID_ARGUMENT;
    if (!registered(reg, p))
        return FO_R_BAD_STATE;
    if (p->state != FO_ABSENT || fo_rundown_refs(&p->rd) != 0) {
        p->n_bad_events++;
        p->last_error = FO_R_BAD_STATE;
        return FO_R_BAD_STATE;
    }
    fo_pair **link = &reg->head;
    while (*link != p)
        link = &(*link)->next;
    *link = p->next;
    p->next = NULL;
    p->reg = NULL;
    return FO_R_OK;
}

static bool mac_matches(const fo_pair *p, const fo_adapter_desc *cand)
{
    if (memcmp(cand->permanent_mac, p->standby.mac, FO_MAC_LEN) == 0)
        return true;
    return p->cfg.match_current_mac && memcmp(cand->current_mac, p->standby.mac, FO_MAC_LEN) == 0;
}

static bool mtu_compatible(const fo_pair *p, const fo_adapter_desc *cand)
{
    if (p->cfg.mtu_policy == FO_MTU_PRIMARY_AT_LEAST)
        return cand->mtu >= p->standby.mtu;
    return cand->mtu == p->standby.mtu;
}

/* Rules about the candidate alone, whatever standby it would pair with. */
static fo_reason check_candidate(const fo_adapter_desc *cand)
{
    if (cand->is_vfo)
        return FO_R_IS_VFO_ADAPTER;
    if (cand->media != FO_MEDIA_ETHERNET)
        return FO_R_NOT_ETHERNET;
    return FO_R_OK;
}

fo_reason fo_pair_check(const fo_pair *p, const fo_adapter_desc *cand)
{
    if (!p || !cand)
        return FO_R_INVALID_ARGUMENT;
    if (cand->net_luid != 0 && cand->net_luid == p->standby.net_luid)
        return FO_R_IS_VFO_ADAPTER;
    fo_reason r = check_candidate(cand);
    if (r != FO_R_OK)
        return r;
    if (!mac_matches(p, cand))
        return FO_R_NO_MATCHING_STANDBY;
    if (!p->cfg.enabled)
        return FO_R_FAILOVER_DISABLED;
    if (p->halting)
        return FO_R_STANDBY_HALTING;
    if (p->cfg.require_standby_feature && !p->standby.standby_negotiated)
        return FO_R_STANDBY_NOT_NEGOTIATED;
    if (!mtu_compatible(p, cand))
        return FO_R_MTU_MISMATCH;
    if (p->state != FO_ABSENT)
        return FO_R_STANDBY_HAS_PRIMARY;
    return FO_R_OK;
}

static fo_reason refuse(fo_registry *reg, const fo_adapter_desc *cand, fo_reason why)
{
    fo_refusal *slot = &reg->refusals[reg->refusal_next % FO_REFUSALS_KEPT];
    memcpy(slot->mac, cand->permanent_mac, FO_MAC_LEN);
    slot->reason = why;
    slot->retried = false;
    reg->refusal_next = (reg->refusal_next + 1) % FO_REFUSALS_KEPT;
    reg->n_refusals++;
    return why;
}

/* How many entries of the refusal ring hold a refusal. */
static uint32_t refusals_kept(const fo_registry *reg)
{
    return reg->n_refusals < FO_REFUSALS_KEPT ? (uint32_t)reg->n_refusals : FO_REFUSALS_KEPT;
}

size_t fo_registry_refusals(const fo_registry *reg, fo_refusal *out, size_t max, uint64_t *total)
{
    uint32_t kept = refusals_kept(reg);
    size_t n = kept < max ? (size_t)kept : max;
    /* the ring's oldest kept entry, then forwards */
    uint32_t first = (reg->refusal_next + FO_REFUSALS_KEPT - kept) % FO_REFUSALS_KEPT;
    for (size_t i = 0; i < n; i++)
        out[i] = reg->refusals[(first + i) % FO_REFUSALS_KEPT];
    if (total)
        *total = reg->n_refusals;
    return n;
}

/* NDIS offers a binding once; a refused VF only comes back when the protocol
 * asks NDIS to re-enumerate. That is worth it when the refusal was about this
 * standby's state rather than about the candidate: it had not registered yet,
 * or it still had a primary. */
void fo_retry_refused(fo_pair *p, fo_reason why)
{
    fo_registry *reg = p->reg;
    uint32_t kept = refusals_kept(reg);
    bool any = false;
    for (uint32_t i = 0; i < kept; i++) {
        fo_refusal *r = &reg->refusals[i];
        if (r->reason == why && !r->retried && memcmp(r->mac, p->standby.mac, FO_MAC_LEN) == 0) {
            r->retried = true;
            any = true;
        }
    }
    if (any)
        fo_emit_kind(p, FO_ACT_REENUMERATE_BINDINGS);
}

/* One of our own adapters, recognised by the glue's flag or by its LUID. */
static bool is_own_adapter(const fo_registry *reg, const fo_adapter_desc *cand)
{
    if (cand->is_vfo)
        return true;
    for (const fo_pair *it = reg->head; it; it = it->next)
        if (cand->net_luid != 0 && cand->net_luid == it->standby.net_luid)
            return true;
    return false;
}

fo_reason fo_bind_candidate(fo_registry *reg, const fo_adapter_desc *cand, fo_pair **out)
{
    if (!reg || !cand || !out)
        return FO_R_INVALID_ARGUMENT;
    *out = NULL;
    if (is_own_adapter(reg, cand))
        return refuse(reg, cand, FO_R_IS_VFO_ADAPTER);
    fo_reason r = check_candidate(cand);
    if (r != FO_R_OK)
        return refuse(reg, cand, r);

    fo_pair *match = NULL;
    for (fo_pair *it = reg->head; it; it = it->next) {
        if (!mac_matches(it, cand))
            continue;
        if (match)
            return refuse(reg, cand, FO_R_AMBIGUOUS_STANDBY);
        match = it;
    }
    if (!match)
        return refuse(reg, cand, FO_R_NO_MATCHING_STANDBY);
    r = fo_pair_check(match, cand);
    if (r != FO_R_OK)
        return refuse(reg, cand, r);

    fo_primary_attach(match, cand);
    fo_reconcile(match);
    *out = match;
    return FO_R_OK;
}
