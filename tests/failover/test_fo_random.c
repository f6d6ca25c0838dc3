/*
 * Randomized invariant check of the failover engine (issue 4, "Done when").
 *
 * Each sequence builds a fresh registry with two pairs and drives it with a
 * random walk of events the way NDIS could order them (binds, opens, pauses,
 * unbinds, resets, removals, power, link changes, settings, timers) mixed with
 * data-path calls (sends, completions with every status, receives, returns,
 * delayed "drained" notifications) and deliberately invalid calls. After every
 * step the invariants of the Promela model are checked:
 *   I1 no send or receive is lent on a binding that is not open and running,
 *      and nothing at all once detach started;
 *   I2 every packet is completed upwards exactly once (a send the primary
 *      fails while leaving is resent, never dropped);
 *   I3 detach always completes: after the walk the sequence is driven to
 *      quiescence and every unbind, pause and power transition completes;
 *   I4 no deadlock: quiescence is reached within a bounded number of steps;
 *   I5 TX never selects a primary that is not ACTIVE;
 * plus bookkeeping checks (references equal what is out, one replay OID at a
 * time, CLOSE and pause completions only when drained, no link-down
 * indication while a path is usable, no action queue overflow, invalid calls
 * refused without effect).
 *
 * Usage: test_fo_random [--sequences N] [--seed S] [--only I] [--steps M]
 * Sequence I of seed S is the same on every run and machine; a failure
 * prints the command that replays exactly it, and its step trace.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fo_engine.h"

#define NPAIRS    2
#define MAX_PKTS  4096
#define MAX_TRACE 512

/* ---- reproducible randomness ------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t below(uint32_t n)
{
    return (uint32_t)(rnd() % n);
}

static bool chance(uint32_t percent)
{
    return below(100) < percent;
}

/* ---- failure reporting ---------------------------------------------------- */

static uint64_t cur_seed, cur_seq;
static const char *trace[MAX_TRACE];
static int ntrace;

static void note(const char *what)
{
    if (ntrace < MAX_TRACE)
        trace[ntrace++] = what;
}

static void fail(const char *why, int line)
{
    fprintf(stderr, "test_fo_random: invariant violated at line %d: %s\n", line, why);
    fprintf(stderr,
            "  sequence %llu of seed %llu; replay: test_fo_random --seed %llu --only %llu\n",
            (unsigned long long)cur_seq, (unsigned long long)cur_seed, (unsigned long long)cur_seed,
            (unsigned long long)cur_seq);
    fprintf(stderr, "  steps:");
    for (int i = 0; i < ntrace; i++)
        fprintf(stderr, "%s%s", i % 8 ? " " : "\n    ", trace[i]);
    fprintf(stderr, "\n");
    exit(1);
}

#define CHECK(cond)                \
    do {                           \
        if (!(cond))               \
            fail(#cond, __LINE__); \
    } while (0)

/* ---- the simulated world around one pair ------------------------------------ */

typedef enum bind_state {
    B_NONE,
    B_OPENING,   /* OPEN_PRIMARY executed, open not completed */
    B_OPEN,      /* opened: bound */
    B_UNBINDING, /* ProtocolUnbindAdapterEx called, close not requested yet */
    B_CLOSING,   /* CLOSE_PRIMARY executed, close not completed */
} bind_state;

typedef struct sim_pair {
    fo_pair p;
    int index;
    bool registered;
    bool halting, released;
    /* the VF binding as NDIS sees it */
    bind_state b;
    bool b_running, b_pausing;
    bool power_low, power_pending, reset, removing, surprise;
    /* the vfo miniport */
    bool up_running, up_pausing, sb_low, sb_link;
    /* outstanding requests */
    bool replay_out;
    uint32_t replay_token;
    bool timer_armed;
    uint32_t timer_token;
    bool drained_pending; /* the fast path said so; the glue's DPC has not run yet */
    /* packets */
    uint32_t ptx[MAX_PKTS], n_ptx; /* on the primary, not completed */
    uint32_t stx[MAX_PKTS], n_stx; /* on virtio, not completed */
    uint32_t lent_rx;              /* VF receives indicated up, not returned */
} sim_pair;

static fo_registry reg;
static sim_pair sp[NPAIRS];
static uint8_t completed[MAX_PKTS];
static uint32_t npkts;

static uint64_t total_steps, total_primary_sends, total_resends, total_detaches;
static uint64_t sequences_on_primary; /* sequences in which a send took the primary */

static void standby_desc(fo_standby_desc *d, int i)
{
    memset(d, 0, sizeof(*d));
    const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, (uint8_t)(i + 1) };
    memcpy(d->mac, mac, 6);
    d->net_luid = 0x100 + (uint64_t)i;
    d->mtu = 1500;
    d->standby_negotiated = true;
    d->caps.offload = (fo_offload){ FO_OFL_ALL, 65535, 2, 65535, 2 };
    d->caps.rss = (fo_rss_caps){ FO_RSS_HASH_ALL, 128, 8 };
    d->link = (fo_link){ true, 1000000000ull };
}

static void pair_start(sim_pair *s)
{
    fo_config cfg;
    fo_standby_desc sd;
    int i = s->index;
    fo_config_default(&cfg);
    cfg.reindicate_offloads = chance(50);
    standby_desc(&sd, i);
    memset(s, 0, sizeof(*s));
    s->index = i;
    CHECK(fo_pair_init(&s->p, &reg, &cfg, &sd) == FO_R_OK);
    s->registered = true;
    s->sb_link = true;
}

/* ---- executing the engine's actions, with their invariants ------------------ */

static uint32_t lent(const sim_pair *s)
{
    return s->n_ptx + s->lent_rx;
}

static void fetch_payload(sim_pair *s, fo_setting setting)
{
    static uint8_t buf[sizeof(fo_rss) + FO_BLOB_MAX];
    size_t len = 0;
    CHECK(fo_replay_payload(&s->p, setting, buf, sizeof(buf), &len) == FO_R_OK);
    CHECK(len <= sizeof(buf));
}

static void execute(sim_pair *s, const fo_action *a)
{
    fo_pair_info info;
    fo_pair_get_info(&s->p, &info);
    switch (a->kind) {
    case FO_ACT_OPEN_PRIMARY:
        CHECK(s->b == B_NONE);
        s->b = B_OPENING;
        break;
    case FO_ACT_COMPLETE_BIND:
        CHECK(s->b == B_OPENING);
        s->b = a->u.reason == FO_R_OK ? B_OPEN : B_NONE;
        s->b_running = false;
        break;
    case FO_ACT_REPLAY:
        CHECK(!s->replay_out); /* one OID at a time */
        CHECK(s->b == B_OPEN);
        CHECK(a->u.replay.setting < FO_SET_COUNT);
        s->replay_out = true;
        s->replay_token = a->u.replay.token;
        fetch_payload(s, a->u.replay.setting);
        break;
    case FO_ACT_CLOSE_PRIMARY:
        CHECK(s->b == B_UNBINDING);
        CHECK(lent(s) == 0); /* I3: everything lent came back first */
        s->b = B_CLOSING;
        break;
    case FO_ACT_COMPLETE_UNBIND:
        CHECK(s->b == B_CLOSING);
        s->b = B_NONE;
        s->replay_out = false; /* NDIS completed it before the close finished */
        s->b_running = s->b_pausing = s->power_low = s->power_pending = false;
        s->reset = s->removing = s->surprise = false;
        total_detaches++;
        break;
    case FO_ACT_COMPLETE_PRIMARY_PAUSE:
        CHECK(s->b_pausing);
        CHECK(lent(s) == 0);
        s->b_pausing = false;
        break;
    case FO_ACT_COMPLETE_PRIMARY_POWER:
        CHECK(s->power_pending);
        CHECK(lent(s) == 0);
        s->power_pending = false;
        break;
    case FO_ACT_COMPLETE_UPPER_PAUSE:
        CHECK(s->up_pausing);
        CHECK(lent(s) == 0);
        s->up_pausing = false;
        break;
    case FO_ACT_REQUEST_UNBIND:
        CHECK(s->halting);
        CHECK(s->b == B_OPEN);
        break;
    case FO_ACT_STANDBY_RELEASED:
        CHECK(s->halting);
        CHECK(s->b == B_NONE);
        s->released = true;
        break;
    case FO_ACT_INDICATE_LINK:
        /* down only when no path is usable: virtio down, primary not ACTIVE */
        if (!a->u.link.up)
            CHECK(!s->sb_link && info.state != FO_ACTIVE);
        break;
    case FO_ACT_SEND_ANNOUNCE:
        CHECK(s->up_running);
        CHECK(a->u.announce.index < a->u.announce.count);
        break;
    case FO_ACT_ARM_TIMER:
        s->timer_armed = true;
        s->timer_token = a->u.timer.token;
        break;
    case FO_ACT_START_DRAIN:
        CHECK(a->u.refs > 0);
        break;
    case FO_ACT_QUERY_PRIMARY_STATS:
        CHECK(s->b == B_OPEN || s->b == B_UNBINDING);
        break;
    case FO_ACT_TX_PATH:
    case FO_ACT_INDICATE_OFFLOAD:
    case FO_ACT_REPORT:
        break;
    default:
        CHECK(!"unknown action");
    }
}

static void check_invariants(sim_pair *s)
{
    if (!s->registered)
        return;
    fo_pair_info info;
    fo_pair_get_info(&s->p, &info);
    CHECK(info.queue_full == 0);
    CHECK(info.inflight == lent(s));
    /* I1 / I5: the gate is open only on an open, running binding of a running miniport */
    if (info.gate_open)
        CHECK(s->b == B_OPEN && s->b_running && s->up_running && !s->power_low && !s->sb_low);
    if (info.tx_open)
        CHECK(info.gate_open && info.state == FO_ACTIVE);
    switch (s->b) {
    case B_NONE:
        CHECK(info.state == FO_ABSENT);
        break;
    case B_OPENING:
        CHECK(info.state == FO_OPENING);
        break;
    case B_OPEN:
        CHECK(info.state == FO_REPLAYING || info.state == FO_ACTIVE ||
              info.state == FO_STANDBY_ONLY);
        break;
    case B_UNBINDING:
    case B_CLOSING:
        CHECK(info.state == FO_DETACHING);
        break;
    }
    if (info.state == FO_ACTIVE)
        CHECK(!s->reset && !s->removing && !s->surprise && !s->power_low && !s->halting);
}

static void absorb(sim_pair *s)
{
    fo_action buf[FO_ACTION_QUEUE];
    size_t n;
    while ((n = fo_take_actions(&s->p, buf, FO_ACTION_QUEUE)) > 0)
        for (size_t i = 0; i < n; i++)
            execute(s, &buf[i]);
}

/* An event the simulated NDIS considers legal must be accepted. */
static void legal(sim_pair *s, fo_reason r)
{
    CHECK(r == FO_R_OK);
    absorb(s);
}

/* ---- packets ----------------------------------------------------------------- */

static uint32_t new_packet(void)
{
    CHECK(npkts < MAX_PKTS);
    completed[npkts] = 0;
    return npkts++;
}

static void complete_up(uint32_t id)
{
    CHECK(completed[id] == 0); /* I2: exactly once */
    completed[id] = 1;
}

static void took_drained(sim_pair *s, bool drained)
{
    if (drained)
        s->drained_pending = true;
}

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

static bool step_complete_primary_send(sim_pair *s)
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

static bool step_complete_standby_send(sim_pair *s)
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

static bool step_return(sim_pair *s)
{
    if (!s->lent_rx)
        return false;
    uint32_t n = 1 + below(s->lent_rx);
    s->lent_rx -= n;
    took_drained(s, fo_primary_release(&s->p, n));
    return true;
}

static bool step_drained_dpc(sim_pair *s)
{
    if (!s->drained_pending)
        return false;
    s->drained_pending = false;
    legal(s, fo_on_drained(&s->p));
    return true;
}

/* ---- primary-side events ----------------------------------------------------- */

static bool step_bind(sim_pair *s)
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

static bool step_open_complete(sim_pair *s)
{
    if (s->b != B_OPENING)
        return false;
    legal(s, fo_primary_open_complete(&s->p, chance(90)));
    return true;
}

static bool step_replay_complete(sim_pair *s)
{
    if (!s->replay_out)
        return false;
    s->replay_out = false;
    fo_oid_status st = chance(88) ? FO_OID_OK : (fo_oid_status)(1 + below(4));
    legal(s, fo_primary_replay_complete(&s->p, s->replay_token, st));
    return true;
}

static bool step_restart(sim_pair *s)
{
    if (s->b != B_OPEN || s->b_running || s->b_pausing || s->power_low)
        return false;
    legal(s, fo_primary_restart(&s->p));
    s->b_running = true;
    return true;
}

static bool step_pause(sim_pair *s)
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

static bool step_close_complete(sim_pair *s)
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

static bool step_timer(sim_pair *s)
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

/* ---- the walk ---------------------------------------------------------------- */

typedef bool (*step_fn)(sim_pair *);
static const struct {
    step_fn fn;
    const char *name;
    unsigned weight;
} steps[] = {
    { step_send, "send", 12 },
    { step_complete_primary_send, "ptx-done", 8 },
    { step_complete_standby_send, "stx-done", 6 },
    { step_receive, "rx", 6 },
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
#define NSTEPS (sizeof(steps) / sizeof(steps[0]))

static unsigned weight_total;

static void one_step(void)
{
    sim_pair *s = &sp[below(NPAIRS)];
    if (!s->registered)
        return;
    for (;;) {
        unsigned w = below(weight_total), k = 0;
        while (w >= steps[k].weight)
            w -= steps[k++].weight;
        if (steps[k].fn(s)) {
            note(steps[k].name);
            break;
        }
    }
    total_steps++;
    for (int i = 0; i < NPAIRS; i++)
        check_invariants(&sp[i]);
}

/* I3/I4: from wherever the walk stopped, everything outstanding completes and
 * a detach started now finishes, within a bounded number of rounds. */
static void quiesce(sim_pair *s)
{
    int rounds = 0;
    for (;; rounds++) {
        CHECK(rounds < 1000); /* no deadlock */
        bool progress = false;
        while (step_complete_primary_send(s) || step_complete_standby_send(s) || step_return(s) ||
               step_drained_dpc(s) || step_replay_complete(s) || step_timer(s))
            progress = true;
        if (s->b == B_OPENING)
            progress |= step_open_complete(s);
        else if (s->b == B_OPEN && s->b_running)
            progress |= step_pause(s);
        else if (s->b == B_OPEN && !s->b_pausing) {
            s->b = B_UNBINDING;
            legal(s, fo_primary_unbind(&s->p));
            progress = true;
        } else if (s->b == B_CLOSING)
            progress |= step_close_complete(s);
        check_invariants(s);
        if (!progress) {
            CHECK(s->b == B_NONE);                                       /* detach completed */
            CHECK(!s->b_pausing && !s->up_pausing && !s->power_pending); /* all completed */
            CHECK(lent(s) == 0 && s->n_stx == 0);
            break;
        }
    }
    fo_pair_info info;
    fo_pair_get_info(&s->p, &info);
    CHECK(info.state == FO_ABSENT && info.inflight == 0);
    if (s->halting)
        CHECK(s->released);
    CHECK(fo_registry_remove(&reg, &s->p) == FO_R_OK);
}

static void run_sequence(uint64_t seed, uint64_t seq, unsigned max_steps)
{
    cur_seed = seed;
    cur_seq = seq;
    rng_state = seed * 0x100000001b3ull ^ (seq + 1) * 0x9e3779b97f4a7c15ull;
    ntrace = 0;
    npkts = 0;
    fo_registry_init(&reg);
    for (int i = 0; i < NPAIRS; i++) {
        sp[i].index = i;
        pair_start(&sp[i]);
        if (chance(90)) {
            sp[i].up_running = true;
            legal(&sp[i], fo_upper_restart(&sp[i].p));
        }
    }
    /* Most walks start from a bound pair, the state migrations start from;
     * the bring-up uses the same steps, so it can fail like any other. */
    for (int i = 0; i < NPAIRS; i++) {
        if (!chance(70))
            continue;
        note("bring-up");
        step_bind(&sp[i]);
        step_open_complete(&sp[i]);
        step_restart(&sp[i]);
        for (int k = 0; k < 2 * FO_SET_COUNT && step_replay_complete(&sp[i]); k++)
            ;
        check_invariants(&sp[i]);
    }
    unsigned n = 1 + below(max_steps);
    uint64_t sends_before = total_primary_sends;
    for (unsigned k = 0; k < n; k++)
        one_step();
    sequences_on_primary += total_primary_sends != sends_before;
    note("| quiesce");
    for (int i = 0; i < NPAIRS; i++)
        quiesce(&sp[i]);
    for (uint32_t id = 0; id < npkts; id++)
        CHECK(completed[id] == 1); /* I2: every packet, exactly once */
}

int main(int argc, char **argv)
{
    uint64_t sequences = 1000, seed = 1, only = UINT64_MAX;
    unsigned max_steps = 100;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--sequences"))
            sequences = strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--only"))
            only = strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--steps"))
            max_steps = (unsigned)strtoul(argv[i + 1], NULL, 0);
        else {
            fprintf(stderr, "usage: %s [--sequences N] [--seed S] [--only I] [--steps M]\n",
                    argv[0]);
            return 2;
        }
    }
    if (max_steps == 0 || max_steps > MAX_TRACE - 8) {
        fprintf(stderr, "test_fo_random: --steps must be 1..%d\n", MAX_TRACE - 8);
        return 2;
    }
    for (size_t k = 0; k < NSTEPS; k++)
        weight_total += steps[k].weight;
    uint64_t first = only == UINT64_MAX ? 0 : only;
    uint64_t last = only == UINT64_MAX ? sequences : only + 1;
    for (uint64_t q = first; q < last; q++)
        run_sequence(seed, q, max_steps);
    printf("test_fo_random: %llu sequences (seed %llu), %llu steps, %llu sequences used the "
           "primary, %llu primary sends, %llu resends, %llu detaches: all invariants held\n",
           (unsigned long long)(last - first), (unsigned long long)seed,
           (unsigned long long)total_steps, (unsigned long long)sequences_on_primary,
           (unsigned long long)total_primary_sends, (unsigned long long)total_resends,
           (unsigned long long)total_detaches);
    /* a walk that never reaches the interesting states proves nothing */
    if (only == UINT64_MAX && sequences >= 1000 &&
        (total_primary_sends == 0 || total_resends == 0 || total_detaches == 0)) {
        fprintf(stderr, "test_fo_random: the walk did not cover sends, resends and detaches\n");
        return 1;
    }
    return 0;
}
