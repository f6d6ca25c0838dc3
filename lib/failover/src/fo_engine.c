/*
 * The per-pair state machine.
 *
 * Events only record facts (flags, the primary's link, a pending pause, ...)
 * and then call fo_reconcile(), which derives the state, the data-path gate,
 * what the upper stack is told and what must be completed, and queues the
 * actions for every difference. Deriving everything from the facts in one
 * place is what keeps the ordering rules (narrow offloads before TX moves to
 * the primary, close the gate before completing a pause, ...) in one place.
 */
#include <string.h>

#include "fo_internal.h"

/* Opened and not detaching: the states in which the binding can be used. */
static bool state_bound(fo_state s)
{
    return s == FO_REPLAYING || s == FO_ACTIVE || s == FO_STANDBY_ONLY;
}

bool fo_primary_bound(const fo_pair *p)
{
    return state_bound(p->state);
}

fo_path fo_logical_path(const fo_pair *p)
{
    return p->state == FO_ACTIVE ? FO_PATH_PRIMARY : FO_PATH_STANDBY;
}

/* Why the primary may not carry TX, most fundamental first; FO_R_OK if it may. */
fo_reason fo_pair_blocker(const fo_pair *p)
{
    switch (p->state) {
    case FO_ABSENT:
        return FO_R_NO_PRIMARY;
    case FO_OPENING:
        return FO_R_OPENING;
    case FO_DETACHING:
        return FO_R_DETACHING;
    default:
        break;
    }
    if (p->halting)
        return FO_R_STANDBY_HALTING;
    if (p->standby_low_power)
        return FO_R_STANDBY_LOW_POWER;
    if (p->surprise_removed)
        return FO_R_PRIMARY_SURPRISE_REMOVED;
    if (p->removing)
        return FO_R_PRIMARY_REMOVING;
    if (p->primary_low_power)
        return FO_R_PRIMARY_LOW_POWER;
    if (p->in_reset)
        return FO_R_PRIMARY_RESET;
    if (!p->replay_done)
        return FO_R_REPLAY_IN_PROGRESS;
    if (p->rejected)
        return FO_R_REPLAY_REJECTED;
    if (!p->bind_running)
        return FO_R_PRIMARY_PAUSED;
    if (!p->primary.link.up)
        return FO_R_PRIMARY_LINK_DOWN;
    return FO_R_OK;
}

static fo_state derived_state(const fo_pair *p)
{
    if (!fo_primary_bound(p))
        return p->state;
    if (!p->replay_done)
        return FO_REPLAYING;
    return fo_pair_blocker(p) == FO_R_OK ? FO_ACTIVE : FO_STANDBY_ONLY;
}

/* Receives may be lent up while both edges run; TX only while ACTIVE. While
 * the binding pauses (or is paused) NDIS may still indicate to it, and the
 * protocol then handles the receive and gives it back before returning
 * ("Pausing a Binding"): BRIEF lets such a receive go up copied as long as
 * vfo's miniport runs. Without it the frame is lost: the host still sends to
 * the VF's MAC. */
static uint32_t gate_bits(const fo_pair *p, fo_state state)
{
    if (!state_bound(state) || !p->upper_running || p->primary_low_power || p->standby_low_power)
        return 0;
    if (!p->bind_running)
        return (uint32_t)FO_RD_BRIEF;
    return state == FO_ACTIVE ? (uint32_t)(FO_RD_TX | FO_RD_OPEN | FO_RD_BRIEF)
                              : (uint32_t)(FO_RD_OPEN | FO_RD_BRIEF);
}

void fo_primary_offload(const fo_pair *p, fo_offload *out)
{
    fo_offload_intersect(&p->settings.offload, &p->standby.caps.offload, out);
    fo_offload_intersect(out, &p->primary.caps.offload, out);
}

void fo_upper_offload(const fo_pair *p, fo_offload *out)
{
    fo_offload_intersect(&p->settings.offload, &p->standby.caps.offload, out);
    if (p->cfg.reindicate_offloads && fo_logical_path(p) == FO_PATH_PRIMARY)
        fo_offload_intersect(out, &p->primary.caps.offload, out);
}

fo_link fo_upper_link(const fo_pair *p)
{
    if (p->state == FO_ACTIVE) {
        fo_link l = { true, p->primary.link.speed_bps };
        if (l.speed_bps == 0)
            l.speed_bps = p->standby.link.speed_bps;
        return l;
    }
    return p->standby.link;
}

static void show_offload(fo_pair *p)
{
    fo_offload now;
    fo_upper_offload(p, &now);
    if (fo_offload_equal(&now, &p->shown_offload))
        return;
    p->shown_offload = now;
    fo_action a = { .kind = FO_ACT_INDICATE_OFFLOAD };
    a.u.offload = now;
    fo_emit(p, &a);
}

static void show_link(fo_pair *p)
{
    fo_link now = fo_upper_link(p);
    if (now.up == p->shown_link.up && now.speed_bps == p->shown_link.speed_bps)
        return;
    p->shown_link = now;
    fo_action a = { .kind = FO_ACT_INDICATE_LINK };
    a.u.link = now;
    fo_emit(p, &a);
}

static bool drain_waiters(const fo_pair *p)
{
    return p->pause_pending || p->power_pending || p->upper_pause_pending ||
           (p->state == FO_DETACHING && !p->close_issued);
}

/* Completes whatever waits for the gate to be closed and empty. */
static void settle_drain(fo_pair *p)
{
    if (!drain_waiters(p))
        return;
    if (!fo_rundown_drained(&p->rd)) {
        if (!p->drain_announced) {
            fo_action a = { .kind = FO_ACT_START_DRAIN };
            a.u.refs = fo_rundown_refs(&p->rd);
            fo_emit(p, &a);
            p->drain_announced = true;
        }
        return;
    }
    p->drain_announced = false;
    if (p->pause_pending) {
        p->pause_pending = false;
        fo_emit_kind(p, FO_ACT_COMPLETE_PRIMARY_PAUSE);
    }
    if (p->power_pending) {
        p->power_pending = false;
        fo_emit_kind(p, FO_ACT_COMPLETE_PRIMARY_POWER);
    }
    if (p->upper_pause_pending) {
        p->upper_pause_pending = false;
        fo_emit_kind(p, FO_ACT_COMPLETE_UPPER_PAUSE);
    }
    if (p->state == FO_DETACHING && !p->close_issued) {
        p->close_issued = true;
        if (fo_primary_may_query(p))
            fo_emit_kind(p, FO_ACT_QUERY_PRIMARY_STATS); /* the last sample before it goes */
        fo_emit_kind(p, FO_ACT_CLOSE_PRIMARY);
    }
}

/* The TX bit is set only while the state is ACTIVE: it is cleared before the
 * state leaves ACTIVE and set after the state became ACTIVE, so a sender whose
 * compare-and-swap succeeds always saw an ACTIVE pair (the model's "TX never
 * selects a non-ACTIVE primary"). */
void fo_reconcile(fo_pair *p)
{
    fo_replay_pump(p);
    fo_state next = derived_state(p);
    uint32_t gate = gate_bits(p, next);
    if (next != FO_ACTIVE)
        fo_rundown_set_gate(&p->rd, gate);
    p->state = next;

    fo_path path = fo_logical_path(p);
    bool switched = path != p->shown_path;
    if (switched && path == FO_PATH_PRIMARY)
        show_offload(p); /* narrow what the upper stack uses before TX moves */
    if (next == FO_ACTIVE)
        fo_rundown_set_gate(&p->rd, gate);
    if (switched) {
        p->shown_path = path;
        fo_action a = { .kind = FO_ACT_TX_PATH };
        a.u.path = path;
        fo_emit(p, &a);
    }
    show_offload(p); /* widen once TX has left the primary; upper-stack changes */
    show_link(p);
    if (switched)
        fo_announce_start(p);
    settle_drain(p);
}

/* ------------------------------------------------------------------------ */

static fo_reason bad_event(fo_pair *p)
{
    p->n_bad_events++;
    p->last_error = FO_R_BAD_STATE;
    return FO_R_BAD_STATE;
}

static fo_reason done(fo_pair *p)
{
    fo_reconcile(p);
    return FO_R_OK;
}

fo_reason fo_standby_link(fo_pair *p, fo_link link)
{
    p->standby.link = link;
    return done(p);
}

fo_reason fo_standby_announce(fo_pair *p)
{
    fo_announce_start(p);
    return FO_R_OK;
}

fo_reason fo_standby_set_power(fo_pair *p, bool low_power)
{
    if (p->standby_low_power == low_power)
        return bad_event(p);
    p->standby_low_power = low_power;
    return done(p);
}

fo_reason fo_standby_halt(fo_pair *p)
{
    if (p->halting)
        return bad_event(p);
    p->halting = true;
    if (p->state == FO_ABSENT) {
        fo_emit_kind(p, FO_ACT_STANDBY_RELEASED);
    } else if (fo_primary_bound(p)) {
        p->unbind_requested = true;
        fo_emit_kind(p, FO_ACT_REQUEST_UNBIND);
    }
    /* OPENING: asked once the open completes; DETACHING: released on close. */
    return done(p);
}

fo_reason fo_upper_pause(fo_pair *p)
{
    if (!p->upper_running)
        return bad_event(p);
    p->upper_running = false;
    p->upper_pause_pending = true;
    return done(p);
}

fo_reason fo_upper_restart(fo_pair *p)
{
    if (p->upper_running || p->upper_pause_pending)
        return bad_event(p);
    p->upper_running = true;
    return done(p);
}

fo_reason fo_record_setting(fo_pair *p, fo_setting s, const void *data, size_t len)
{
    fo_reason r = fo_settings_record(&p->settings, s, data, len);
    if (r != FO_R_OK) {
        p->n_invalid_settings++;
        p->last_error = r;
        fo_report(p, r, s);
        return r;
    }
    if (fo_primary_bound(p))
        p->dirty |= FO_SET_BIT(s);
    return done(p);
}

/* ------------------------------------------------------------------------ */

/* What fo_select_tx checks packets against: the offloads the primary confirmed. */
void fo_publish_tx_offloads(fo_pair *p, const fo_offload *o)
{
    vfo_atomic32_store(&p->lso4_max, (int32_t)(o->lso4_max_size & INT32_MAX));
    vfo_atomic32_store(&p->lso4_min_segs, (int32_t)(o->lso4_min_segs & INT32_MAX));
    vfo_atomic32_store(&p->lso6_max, (int32_t)(o->lso6_max_size & INT32_MAX));
    vfo_atomic32_store(&p->lso6_min_segs, (int32_t)(o->lso6_min_segs & INT32_MAX));
    vfo_atomic32_store(&p->tx_ofl_flags, (int32_t)(o->flags & FO_OFL_TX_MASK));
}

static void forget_primary(fo_pair *p)
{
    static const fo_offload none;
    p->bind_running = false;
    p->in_reset = false;
    p->removing = false;
    p->surprise_removed = false;
    p->primary_low_power = false;
    p->pause_pending = false;
    p->power_pending = false;
    p->drain_announced = false;
    p->close_issued = false;
    p->unbind_requested = false;
    fo_replay_forget(p);
    fo_publish_tx_offloads(p, &none);
    fo_stats_path_rebase(&p->stats.primary);
}

/* The pair has no primary any more: a halt may finish, or another candidate
 * refused meanwhile may pair now. */
static void primary_gone(fo_pair *p)
{
    if (p->halting)
        fo_emit_kind(p, FO_ACT_STANDBY_RELEASED);
    else
        fo_retry_refused(p, FO_R_STANDBY_HAS_PRIMARY);
}

void fo_primary_attach(fo_pair *p, const fo_adapter_desc *cand)
{
    forget_primary(p);
    p->primary = *cand;
    p->state = FO_OPENING;
    fo_emit_kind(p, FO_ACT_OPEN_PRIMARY);
}

fo_reason fo_primary_open_complete(fo_pair *p, bool ok)
{
    if (p->state != FO_OPENING)
        return bad_event(p);
    fo_action a = { .kind = FO_ACT_COMPLETE_BIND };
    if (!ok) {
        p->state = FO_ABSENT;
        a.u.reason = FO_R_OPEN_FAILED;
        fo_emit(p, &a);
        primary_gone(p);
        return done(p);
    }
    p->state = FO_REPLAYING;
    p->n_attach++;
    a.u.reason = FO_R_OK;
    fo_emit(p, &a);
    fo_emit_kind(p, FO_ACT_QUERY_PRIMARY_STATS); /* the baseline */
    fo_replay_restart(p);
    if (p->halting) {
        p->unbind_requested = true;
        fo_emit_kind(p, FO_ACT_REQUEST_UNBIND);
    }
    return done(p);
}

fo_reason fo_primary_restart(fo_pair *p)
{
    if (!fo_primary_bound(p) || p->bind_running || p->pause_pending)
        return bad_event(p);
    p->bind_running = true;
    return done(p);
}

fo_reason fo_primary_pause(fo_pair *p)
{
    if (!fo_primary_bound(p) || !p->bind_running)
        return bad_event(p);
    p->bind_running = false;
    p->pause_pending = true;
    return done(p);
}

fo_reason fo_primary_link(fo_pair *p, fo_link link)
{
    if (p->state == FO_ABSENT)
        return bad_event(p);
    p->primary.link = link;
    return done(p);
}

fo_reason fo_primary_reset(fo_pair *p, bool start)
{
    if (!fo_primary_bound(p) || p->in_reset == start)
        return bad_event(p);
    p->in_reset = start;
    if (!start) {
        /* The primary may have lost its configuration and its counters. */
        fo_replay_restart(p);
        fo_stats_path_rebase(&p->stats.primary);
    }
    return done(p);
}

bool fo_primary_may_query(const fo_pair *p)
{
    return fo_primary_bound(p) && !p->in_reset;
}

fo_reason fo_primary_query_remove(fo_pair *p)
{
    if (!fo_primary_bound(p) || p->removing)
        return bad_event(p);
    p->removing = true;
    return done(p);
}

fo_reason fo_primary_cancel_remove(fo_pair *p)
{
    if (!fo_primary_bound(p) || !p->removing)
        return bad_event(p);
    p->removing = false;
    return done(p);
}

fo_reason fo_primary_surprise_removed(fo_pair *p)
{
    if (!fo_primary_bound(p) && p->state != FO_DETACHING)
        return bad_event(p);
    p->surprise_removed = true;
    return done(p);
}

fo_reason fo_primary_set_power(fo_pair *p, bool low_power)
{
    if (!fo_primary_bound(p) || p->primary_low_power == low_power)
        return bad_event(p);
    p->primary_low_power = low_power;
    if (low_power)
        p->power_pending = true;
    else
        fo_replay_restart(p); /* D0 again: the primary starts from its defaults */
    return done(p);
}

fo_reason fo_primary_unbind(fo_pair *p)
{
    if (!fo_primary_bound(p))
        return bad_event(p);
    fo_rundown_set_gate(&p->rd, 0); /* nothing new is lent from here on */
    p->state = FO_DETACHING;
    return done(p);
}

fo_reason fo_primary_close_complete(fo_pair *p)
{
    if (p->state != FO_DETACHING || !p->close_issued)
        return bad_event(p);
    forget_primary(p);
    memset(&p->primary, 0, sizeof(p->primary));
    p->state = FO_ABSENT;
    p->n_detach++;
    fo_emit_kind(p, FO_ACT_COMPLETE_UNBIND);
    primary_gone(p);
    return done(p);
}

fo_reason fo_on_drained(fo_pair *p)
{
    return done(p);
}

fo_reason fo_stats_sample(fo_pair *p, fo_path path, const fo_counters *raw, unsigned width_bits)
{
    if (raw == NULL || (width_bits != 32 && width_bits != 64) ||
        (path != FO_PATH_STANDBY && path != FO_PATH_PRIMARY)) {
        p->last_error = FO_R_INVALID_ARGUMENT;
        return FO_R_INVALID_ARGUMENT;
    }
    if (path == FO_PATH_PRIMARY && p->state == FO_ABSENT) {
        p->n_stale++;
        p->last_error = FO_R_STALE_COMPLETION;
        return FO_R_STALE_COMPLETION;
    }
    fo_stats_path *sp = path == FO_PATH_PRIMARY ? &p->stats.primary : &p->stats.standby;
    fo_stats_path_sample(sp, raw, width_bits, &p->stats.resets_seen);
    return FO_R_OK;
}
