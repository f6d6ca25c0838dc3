/* The simulated world of test_fo_random (see fo_random_world.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fo_random_world.h"

uint32_t below(uint32_t n)
{
    return (uint32_t)(rnd() % n);
}

bool chance(uint32_t percent)
{
    return below(100) < percent;
}

/* ---- failure reporting ---------------------------------------------------- */

static uint64_t cur_seed, cur_seq;
static const char *trace[MAX_TRACE];
static int ntrace;

void trace_start(uint64_t seed, uint64_t seq)
{
    cur_seed = seed;
    cur_seq = seq;
    ntrace = 0;
}

void note(const char *what)
{
    if (ntrace < MAX_TRACE)
        trace[ntrace++] = what;
}

void fail(const char *why, const char *file, int line)
{
    fprintf(stderr, "test_fo_random: invariant violated at %s:%d: %s\n", file, line, why);
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

/* ---- the simulated world around one pair ------------------------------------ */

fo_registry reg;
sim_pair sp[NPAIRS];
uint8_t completed[MAX_PKTS];
uint32_t npkts;

uint64_t total_steps, total_primary_sends, total_resends, total_detaches;

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

void pair_start(sim_pair *s)
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

uint32_t lent(const sim_pair *s)
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
    case FO_ACT_REENUMERATE_BINDINGS:
        CHECK(s->b == B_NONE && !s->halting); /* only a free standby invites candidates */
        break;
    case FO_ACT_TX_PATH:
    case FO_ACT_INDICATE_OFFLOAD:
    case FO_ACT_REPORT:
        break;
    default:
        CHECK(!"unknown action");
    }
}

void check_invariants(sim_pair *s)
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

void absorb(sim_pair *s)
{
    fo_action buf[FO_ACTION_QUEUE];
    size_t n;
    while ((n = fo_take_actions(&s->p, buf, FO_ACTION_QUEUE)) > 0)
        for (size_t i = 0; i < n; i++)
            execute(s, &buf[i]);
}

void legal(sim_pair *s, fo_reason r)
{
    CHECK(r == FO_R_OK);
    absorb(s);
}

/* ---- packets ----------------------------------------------------------------- */

uint32_t new_packet(void)
{
    CHECK(npkts < MAX_PKTS);
    completed[npkts] = 0;
    return npkts++;
}

void complete_up(uint32_t id)
{
    CHECK(completed[id] == 0); /* I2: exactly once */
    completed[id] = 1;
}

void took_drained(sim_pair *s, bool drained)
{
    if (drained)
        s->drained_pending = true;
}
