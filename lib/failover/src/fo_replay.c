/*
 * Replay of the upper stack's settings to a primary: one OID at a time, in
 * fo_setting order (packet filter last), re-sending whatever changed while the
 * replay ran. A required setting the primary refuses keeps the pair on the
 * standby until a later value of that setting is accepted.
 */
#include "fo_internal.h"

void fo_replay_restart(fo_pair *p)
{
    p->dirty = p->settings.present;
    p->rejected = 0;
    p->replay_done = false;
}

void fo_replay_forget(fo_pair *p)
{
    p->dirty = 0;
    p->rejected = 0;
    p->replay_done = false;
    p->inflight = FO_SET_NONE;
    p->last_rejected = FO_SET_NONE;
    p->offload_sent = (fo_offload){ 0, 0, 0, 0, 0 };
}

static bool can_replay(const fo_pair *p)
{
    return fo_primary_bound(p) && !p->in_reset && !p->primary_low_power && !p->surprise_removed &&
           !p->removing && !p->halting;
}

static fo_setting lowest(uint32_t mask)
{
    for (unsigned s = 0; s < FO_SET_COUNT; s++)
        if (mask & FO_SET_BIT(s))
            return (fo_setting)s;
    return FO_SET_NONE;
}

static void issue(fo_pair *p, fo_setting s)
{
    p->inflight = s;
    p->inflight_token = ++p->next_token;
    if (s == FO_SET_OFFLOAD)
        fo_primary_offload(p, &p->offload_sent);
    fo_action a = { .kind = FO_ACT_REPLAY };
    a.u.replay.setting = s;
    a.u.replay.token = p->inflight_token;
    fo_emit(p, &a);
}

void fo_replay_pump(fo_pair *p)
{
    if (p->inflight != FO_SET_NONE || !can_replay(p))
        return;
    while (p->dirty) {
        fo_setting s = lowest(p->dirty);
        p->dirty &= ~FO_SET_BIT(s);
        if (fo_settings_skip(s, &p->primary.caps)) {
            p->n_advisory_unsupported++;
            fo_report(p, FO_R_ADVISORY_UNSUPPORTED, s);
            continue;
        }
        issue(p, s);
        return;
    }
    p->replay_done = true;
}

static void rejected(fo_pair *p, fo_setting s)
{
    p->rejected |= FO_SET_BIT(s);
    p->last_rejected = s;
    p->n_replay_rejects++;
    p->last_error = FO_R_REPLAY_REJECTED;
    fo_report(p, FO_R_REPLAY_REJECTED, s);
}

fo_reason fo_primary_replay_complete(fo_pair *p, uint32_t token, fo_oid_status st)
{
    if (p->inflight == FO_SET_NONE || token != p->inflight_token) {
        p->n_stale++;
        p->last_error = FO_R_STALE_COMPLETION;
        return FO_R_STALE_COMPLETION;
    }
    fo_setting s = p->inflight;
    p->inflight = FO_SET_NONE;
    switch (st) {
    case FO_OID_OK:
        p->rejected &= ~FO_SET_BIT(s);
        if (s == FO_SET_OFFLOAD)
            fo_publish_tx_offloads(p, &p->offload_sent);
        break;
    case FO_OID_ABORTED:
        p->dirty |= FO_SET_BIT(s); /* it never ran: send it again when possible */
        break;
    case FO_OID_NOT_SUPPORTED:
        if (!fo_setting_required(s)) {
            p->rejected &= ~FO_SET_BIT(s);
            p->n_advisory_unsupported++;
            fo_report(p, FO_R_ADVISORY_UNSUPPORTED, s);
            break;
        }
        rejected(p, s);
        break;
    default:
        rejected(p, s);
        break;
    }
    fo_reconcile(p);
    return FO_R_OK;
}

fo_reason fo_replay_payload(const fo_pair *p, fo_setting s, void *buf, size_t cap, size_t *len)
{
    size_t dummy;
    if (len == NULL)
        len = &dummy;
    if (buf == NULL && cap != 0) {
        *len = 0;
        return FO_R_INVALID_ARGUMENT;
    }
    /* The offload step sends what was decided when it was issued, so what the
     * primary confirms is exactly what fo_select_tx will rely on. */
    fo_offload off;
    if (s == FO_SET_OFFLOAD && p->inflight == FO_SET_OFFLOAD)
        off = p->offload_sent;
    else
        fo_primary_offload(p, &off);
    return fo_settings_payload(&p->settings, s, &off, &p->primary.caps, buf, cap, len);
}
