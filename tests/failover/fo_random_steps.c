/* The events of test_fo_random's walk, one function per kind: each checks
 * whether the simulated NDIS could deliver it now, delivers it and updates the
 * world; the engine's answer goes through absorb()/legal(). */
#include <string.h>

#include "fo_random_world.h"

static bool step_send(sim_pair *s)
{
    if (!s->up_running || s->n_stx >= MAX_PKTS / 2 || npkts >= MAX_PKTS - 8)
        return false;
    fo_tx_meta meta = { 0, 0, 0 };
    if (chance(30))
        meta = (fo_tx_meta){ FO_OFL_TX_TCP4_CSUM | (chance(50) ? FO_OFL_LSO4 : 0u), below(70000),
                             below(50) };
    fo_pair_info info;
    fo_pair_get_info(&s->p, &info);
    fo_tx_decision d = fo_select_tx(&s->p, chance(50) ? &meta : NULL);
    uint32_t id = new_packet();
    if (d == FO_TX_PRIMARY) {
        /* I1 + I5 at the moment the primary was chosen */
        CHECK(info.state == FO_ACTIVE);
        CHECK(s->b == B_OPEN && s->b_running && s->up_running);
        s->ptx[s->n_ptx++] = id;
        total_primary_sends++;
    } else {
        s->stx[s->n_stx++] = id;
    }
    return true;
}

static uint32_t take_random(uint32_t *arr, uint32_t *n)
{
    uint32_t i = below(*n);
    uint32_t id = arr[i];
    arr[i] = arr[--*n];
    return id;
}

bool step_complete_primary_send(sim_pair *s)
{
    if (!s->n_ptx)
        return false;
    uint32_t id = take_random(s->ptx, &s->n_ptx);
    /* A VF that is leaving fails sends; a healthy one mostly completes them. */
    bool leaving = s->surprise || s->reset || s->b != B_OPEN || !s->b_running || s->power_low;
    fo_tx_status st =
        leaving ? (fo_tx_status)(1 + below(8)) : (chance(90) ? FO_TXS_OK : (fo_tx_status)below(9));
    bool resend = fo_tx_resend(&s->p, st);
    if (st != FO_TXS_OK && st != FO_TXS_FAILED && st != FO_TXS_INVALID_PACKET)
        CHECK(resend); /* I2: a send failed because the primary is leaving is not lost */
    if (resend) {
        s->stx[s->n_stx++] = id; /* queued on virtio before the reference goes */
        total_resends++;
    } else {
        complete_up(id);
    }
    took_drained(s, fo_primary_release(&s->p, 1));
    return true;
}

bool step_complete_standby_send(sim_pair *s)
{
    if (!s->n_stx)
        return false;
    complete_up(take_random(s->stx, &s->n_stx));
    return true;
}

static bool step_receive(sim_pair *s)
{
    /* the VF indicates only to a running binding */
    if (s->b != B_OPEN || !s->b_running)
        return false;
    uint32_t n = 1 + below(4);
    if (fo_rx_accept(&s->p, n)) {
        CHECK(s->up_running && s->b == B_OPEN && s->b_running); /* I1 */
        s->lent_rx += n;
    }
    return true;
}

/* NDIS indicates to a pausing binding too ("Pausing a Binding"): what the
 * engine does not let be lent goes up copied, for the indication only. */
static bool step_receive_pausing(sim_pair *s)
{
    if (s->b != B_OPEN || !s->b_pausing)
        return false;
    uint32_t n = 1 + below(4);
    CHECK(!fo_rx_accept(&s->p, n)); /* nothing lent while the binding pauses */
    if (fo_rx_accept_brief(&s->p, n)) {
        CHECK(s->up_running && s->b == B_OPEN && !s->power_low && !s->sb_low); /* I1 */
        took_drained(s, fo_primary_release(&s->p, n)); /* back before the call returns */
    }
    return true;
}

bool step_return(sim_pair *s)
{
    if (!s->lent_rx)
        return false;
    uint32_t n = 1 + below(s->lent_rx);
    s->lent_rx -= n;
    took_drained(s, fo_primary_release(&s->p, n));
    return true;
}

bool step_drained_dpc(sim_pair *s)
{
    if (!s->drained_pending)
        return false;
    s->drained_pending = false;
    legal(s, fo_on_drained(&s->p));
    return true;
}

/* ---- primary-side events ----------------------------------------------------- */

bool step_bind(sim_pair *s)
{
    fo_adapter_desc d;
    memset(&d, 0, sizeof(d));
    const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, (uint8_t)(s->index + 1) };
    memcpy(d.permanent_mac, mac, 6);
    memcpy(d.current_mac, mac, 6);
    d.net_luid = 0x200 + below(4);
    d.media = FO_MEDIA_ETHERNET;
    d.mtu = 1500;
    d.caps.offload = (fo_offload){ chance(50) ? FO_OFL_ALL : FO_OFL_TX_TCP4_CSUM | FO_OFL_LSO4,
                                   32000, 2, 65535, 2 };
    d.caps.rss = chance(80) ? (fo_rss_caps){ FO_RSS_HASH_IPV4, 64, 4 } : (fo_rss_caps){ 0, 0, 0 };
    d.link = (fo_link){ chance(80), 10000000000ull };
    uint32_t variant = below(10);
    if (variant == 0)
        d.permanent_mac[5] = 0x77;
    else if (variant == 1)
        d.is_vfo = true;
    else if (variant == 2)
        d.mtu = 9000;
    /* the refusal expected, in the order the rules apply */
    fo_reason want = FO_R_OK;
    if (variant == 1)
        want = FO_R_IS_VFO_ADAPTER;
    else if (variant == 0)
        want = FO_R_NO_MATCHING_STANDBY;
    else if (s->halting)
        want = FO_R_STANDBY_HALTING;
    else if (variant == 2)
        want = FO_R_MTU_MISMATCH;
    else if (s->b != B_NONE)
        want = FO_R_STANDBY_HAS_PRIMARY; /* one primary per standby */
    fo_pair *out = NULL;
    fo_reason r = fo_bind_candidate(&reg, &d, &out);
    CHECK(r == want);
    if (r == FO_R_OK) {
        CHECK(out == &s->p);
        absorb(s);
        CHECK(s->b == B_OPENING);
    } else {
        CHECK(out == NULL);
    }
    return true;
}

bool step_open_complete(sim_pair *s)
{
    if (s->b != B_OPENING)
        return false;
    legal(s, fo_primary_open_complete(&s->p, chance(90)));
    return true;
}

bool step_replay_complete(sim_pair *s)
{
    if (!s->replay_out)
        return false;
    s->replay_out = false;
    fo_oid_status st = chance(88) ? FO_OID_OK : (fo_oid_status)(1 + below(4));
    legal(s, fo_primary_replay_complete(&s->p, s->replay_token, st));
    return true;
}

bool step_restart(sim_pair *s)
{
    if (s->b != B_OPEN || s->b_running || s->b_pausing || s->power_low)
        return false;
    legal(s, fo_primary_restart(&s->p));
    s->b_running = true;
    return true;
}

bool step_pause(sim_pair *s)
{
    if (s->b != B_OPEN || !s->b_running)
        return false;
    s->b_running = false;
    s->b_pausing = true;
    legal(s, fo_primary_pause(&s->p));
    return true;
}

static bool step_unbind(sim_pair *s)
{
    /* NDIS pauses first; the engine also copes when it does not */
    if (s->b != B_OPEN || s->b_pausing || (s->b_running && !chance(10)))
        return false;
    s->b = B_UNBINDING;
    s->b_running = false;
    legal(s, fo_primary_unbind(&s->p));
    return true;
}

bool step_close_complete(sim_pair *s)
{
    if (s->b != B_CLOSING)
        return false;
    legal(s, fo_primary_close_complete(&s->p));
    return true;
}

static bool step_primary_link(sim_pair *s)
{
    if (s->b != B_OPEN && s->b != B_UNBINDING)
        return false;
    legal(s, fo_primary_link(&s->p, (fo_link){ chance(70), 10000000000ull }));
    return true;
}

static bool step_reset(sim_pair *s)
{
    if (s->b != B_OPEN)
        return false;
    s->reset = !s->reset;
    legal(s, fo_primary_reset(&s->p, s->reset));
    return true;
}

static bool step_removal(sim_pair *s)
{
    if (s->b != B_OPEN)
        return false;
    if (!s->surprise && chance(25)) {
        s->surprise = true;
        legal(s, fo_primary_surprise_removed(&s->p));
        return true;
    }
    s->removing = !s->removing;
    legal(s, s->removing ? fo_primary_query_remove(&s->p) : fo_primary_cancel_remove(&s->p));
    return true;
}

static bool step_primary_power(sim_pair *s)
{
    if (s->b != B_OPEN || s->power_pending)
        return false;
    if (!s->power_low) {
        s->power_low = s->power_pending = true;
        legal(s, fo_primary_set_power(&s->p, true));
    } else {
        s->power_low = false;
        legal(s, fo_primary_set_power(&s->p, false));
    }
    return true;
}

/* ---- standby-side events ------------------------------------------------------ */

static bool step_standby_link(sim_pair *s)
{
    s->sb_link = chance(70);
    legal(s, fo_standby_link(&s->p, (fo_link){ s->sb_link, 1000000000ull }));
    return true;
}

static bool step_standby_announce(sim_pair *s)
{
    legal(s, fo_standby_announce(&s->p));
    return true;
}

static bool step_upper(sim_pair *s)
{
    if (s->up_running) {
        s->up_running = false;
        s->up_pausing = true;
        legal(s, fo_upper_pause(&s->p));
        return true;
    }
    if (s->up_pausing || s->halting || s->sb_low)
        return false;
    s->up_running = true;
    legal(s, fo_upper_restart(&s->p));
    return true;
}

static bool step_standby_power(sim_pair *s)
{
    if (s->sb_low) {
        s->sb_low = false;
        legal(s, fo_standby_set_power(&s->p, false));
        return true;
    }
    if (s->up_running || s->up_pausing || s->halting)
        return false;
    s->sb_low = true;
    legal(s, fo_standby_set_power(&s->p, true));
    return true;
}

static bool step_setting(sim_pair *s)
{
    uint32_t u = below(64);
    fo_rss rss;
    memset(&rss, 0, sizeof(rss));
    uint8_t mc[12] = { 0x01, 0, 0x5e, 0, 0, 1, 0x33, 0x33, 0, 0, 0, 1 };
    fo_offload off = { FO_OFL_ALL & (uint32_t)rnd(), UINT32_MAX, 0, UINT32_MAX, 0 };
    fo_reason r;
    switch (below(8)) {
    case 0:
        r = fo_record_setting(&s->p, FO_SET_PACKET_FILTER, &u, 4);
        break;
    case 1:
        r = fo_record_setting(&s->p, FO_SET_MULTICAST_LIST, mc, 6 * below(3));
        break;
    case 2:
        r = fo_record_setting(&s->p, FO_SET_VLAN_ID, &u, 4);
        break;
    case 3:
        r = fo_record_setting(&s->p, FO_SET_OFFLOAD, &off, sizeof(off));
        break;
    case 4:
        rss.enabled = 1;
        rss.hash_types = FO_RSS_HASH_IPV4 | FO_RSS_HASH_TCP_IPV4;
        rss.key_len = 40;
        rss.table_len = 128;
        r = fo_record_setting(&s->p, FO_SET_RSS, &rss, sizeof(rss));
        break;
    case 5:
        r = fo_record_setting(&s->p, FO_SET_NETWORK_ADDRESSES, mc, below(12));
        break;
    case 6: /* invalid: a unicast "multicast" address */
        mc[0] = 0x02;
        r = fo_record_setting(&s->p, FO_SET_MULTICAST_LIST, mc, 6);
        CHECK(r == FO_R_INVALID_SETTING);
        absorb(s);
        return true;
    default:
        r = fo_record_setting(&s->p, FO_SET_INTERRUPT_MODERATION, &u, 4);
        break;
    }
    CHECK(r == FO_R_OK);
    absorb(s);
    return true;
}

bool step_timer(sim_pair *s)
{
    if (!s->timer_armed)
        return false;
    s->timer_armed = false;
    fo_reason r = fo_on_timer(&s->p, s->timer_token);
    CHECK(r == FO_R_OK || r == FO_R_STALE_COMPLETION); /* a newer train may own it */
    absorb(s);
    return true;
}

static bool step_stats(sim_pair *s)
{
    fo_counters c;
    for (int i = 0; i < FO_STAT_COUNT; i++)
        c.v[i] = rnd() >> below(64);
    fo_path path = chance(50) ? FO_PATH_PRIMARY : FO_PATH_STANDBY;
    fo_reason r = fo_stats_sample(&s->p, path, &c, chance(50) ? 32 : 64);
    CHECK(r == FO_R_OK || (path == FO_PATH_PRIMARY && s->b == B_NONE));
    return true;
}

static bool step_halt(sim_pair *s)
{
    if (s->halting || s->up_running || s->up_pausing || s->sb_low || !chance(20))
        return false;
    s->halting = true;
    legal(s, fo_standby_halt(&s->p));
    return true;
}

static bool step_reinit(sim_pair *s)
{
    /* MiniportHalt also waits for virtio's own sends (the glue's part) */
    if (!s->released || s->n_stx)
        return false;
    CHECK(lent(s) == 0);
    CHECK(fo_registry_remove(&reg, &s->p) == FO_R_OK);
    pair_start(s);
    return true;
}

/* Calls NDIS would never make now: refused, counted, nothing changes. */
static bool step_invalid(sim_pair *s)
{
    fo_pair_info before, after;
    fo_pair_get_info(&s->p, &before);
    fo_reason r = FO_R_OK, want = FO_R_BAD_STATE;
    switch (below(7)) {
    case 0:
        if (s->b == B_OPENING)
            return false;
        r = fo_primary_open_complete(&s->p, true);
        break;
    case 1:
        if (s->b == B_CLOSING)
            return false;
        r = fo_primary_close_complete(&s->p);
        break;
    case 2:
        if (!s->b_running)
            return false;
        r = fo_primary_restart(&s->p);
        break;
    case 3:
        if (s->removing)
            return false;
        r = fo_primary_cancel_remove(&s->p);
        break;
    case 4:
        r = fo_primary_replay_complete(&s->p, s->replay_token + 1000, FO_OID_OK);
        want = FO_R_STALE_COMPLETION;
        break;
    case 5:
        if (!s->up_running)
            return false;
        r = fo_upper_restart(&s->p);
        break;
    default:
        CHECK(!fo_primary_release(&s->p, lent(s) + 1));
        fo_pair_get_info(&s->p, &after);
        CHECK(after.release_underflows == before.release_underflows + 1);
        CHECK(after.inflight == before.inflight);
        return true;
    }
    CHECK(r == want);
    fo_action none[4];
    CHECK(fo_take_actions(&s->p, none, 4) == 0);
    fo_pair_get_info(&s->p, &after);
    CHECK(after.state == before.state && after.inflight == before.inflight);
    CHECK(after.gate_open == before.gate_open && after.tx_open == before.tx_open);
    CHECK(after.bad_events + after.stale_completions ==
          before.bad_events + before.stale_completions + 1);
    absorb(s);
    return true;
}

const step_kind steps[] = {
    { step_send, "send", 12 },
    { step_complete_primary_send, "ptx-done", 8 },
    { step_complete_standby_send, "stx-done", 6 },
    { step_receive, "rx", 6 },
    { step_receive_pausing, "rx-pausing", 2 },
    { step_return, "rx-ret", 6 },
    { step_drained_dpc, "drained", 4 },
    { step_bind, "bind", 6 },
    { step_open_complete, "opened", 6 },
    { step_replay_complete, "replayed", 12 },
    { step_restart, "restart", 6 },
    { step_pause, "pause", 2 },
    { step_unbind, "unbind", 2 },
    { step_close_complete, "closed", 4 },
    { step_primary_link, "vf-link", 1 },
    { step_reset, "vf-reset", 1 },
    { step_removal, "vf-remove", 1 },
    { step_primary_power, "vf-power", 1 },
    { step_standby_link, "sb-link", 1 },
    { step_standby_announce, "sb-announce", 1 },
    { step_upper, "upper", 1 },
    { step_standby_power, "sb-power", 1 },
    { step_setting, "setting", 2 },
    { step_timer, "timer", 2 },
    { step_stats, "stats", 1 },
    { step_halt, "halt", 1 },
    { step_reinit, "reinit", 2 },
    { step_invalid, "invalid", 2 },
};
const unsigned nsteps = sizeof(steps) / sizeof(steps[0]);
