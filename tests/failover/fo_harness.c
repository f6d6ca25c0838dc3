/* The scripted glue used by the failover unit tests (see fo_harness.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "fo_harness.h"

h_ctx H;
fo_adapter_desc VF;

/* Every checksum offload and LSOv2 up to 64 KiB for both IP versions, full RSS. */
static void full_caps(fo_caps *c, uint16_t rss_queues)
{
    c->offload = (fo_offload){ FO_OFL_ALL, 65535, 2, 65535, 2 };
    c->rss = (fo_rss_caps){ FO_RSS_HASH_ALL, 128, rss_queues };
}

static void test_mac(uint8_t *mac, int i)
{
    const uint8_t m[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, (uint8_t)(i + 1) };
    memcpy(mac, m, 6);
}

void h_standby_desc(fo_standby_desc *d, int i)
{
    memset(d, 0, sizeof(*d));
    test_mac(d->mac, i);
    d->net_luid = 0x100 + (uint64_t)i;
    d->mtu = 1500;
    d->standby_negotiated = true;
    full_caps(&d->caps, 8);
    d->link = (fo_link){ true, 1000000000ull };
}

void h_candidate_desc(fo_adapter_desc *d, int i)
{
    memset(d, 0, sizeof(*d));
    test_mac(d->permanent_mac, i);
    test_mac(d->current_mac, i);
    d->net_luid = 0x200 + (uint64_t)i;
    d->media = FO_MEDIA_ETHERNET;
    d->mtu = 1500;
    full_caps(&d->caps, 4);
    d->link = (fo_link){ true, 10000000000ull };
}

void h_init(h_ctx *h)
{
    memset(h, 0, sizeof(*h));
    fo_registry_init(&h->reg);
    for (int i = 0; i < 2; i++)
        h->pairs[i].replay_out = FO_SET_NONE;
}

fo_pair *h_p(h_ctx *h, int i)
{
    return &h->pairs[i].p;
}

void h_add_pair(h_ctx *h, int i, const fo_config *cfg)
{
    fo_config def;
    fo_standby_desc sd;
    fo_config_default(&def);
    h_standby_desc(&sd, i);
    assert_int_equal(fo_pair_init(h_p(h, i), &h->reg, cfg ? cfg : &def, &sd), FO_R_OK);
    assert_int_equal(h_after(h, i, fo_upper_restart(h_p(h, i))), FO_R_OK);
}

static void track(h_pair *hp, const fo_action *a)
{
    switch (a->kind) {
    case FO_ACT_OPEN_PRIMARY:
        assert_false(hp->binding_open);
        hp->binding_open = true;
        hp->close_requested = false;
        break;
    case FO_ACT_CLOSE_PRIMARY:
        assert_true(hp->binding_open);
        assert_false(hp->close_requested);
        hp->close_requested = true;
        break;
    case FO_ACT_COMPLETE_UNBIND:
        hp->binding_open = false;
        hp->close_requested = false;
        break;
    case FO_ACT_COMPLETE_BIND:
        if (a->u.reason != FO_R_OK)
            hp->binding_open = false;
        break;
    case FO_ACT_INDICATE_LINK:
        if (!a->u.link.up)
            hp->link_down_indicated = true;
        break;
    case FO_ACT_TX_PATH:
        hp->tx_path = a->u.path;
        break;
    case FO_ACT_ARM_TIMER:
        hp->timer_armed = true;
        hp->timer_token = a->u.timer.token;
        hp->timer_delay = a->u.timer.delay_ms;
        break;
    case FO_ACT_REPLAY:
        /* One OID at a time: the engine never has two steps out. */
        assert_int_equal(hp->replay_out, FO_SET_NONE);
        hp->replay_out = a->u.replay.setting;
        hp->replay_token = a->u.replay.token;
        break;
    default:
        break;
    }
}

size_t h_drain(h_ctx *h, int i)
{
    h_pair *hp = &h->pairs[i];
    fo_action buf[FO_ACTION_QUEUE];
    size_t total = 0, n;
    while ((n = fo_take_actions(&hp->p, buf, FO_ACTION_QUEUE)) > 0) {
        for (size_t k = 0; k < n; k++) {
            track(hp, &buf[k]);
            assert_true(h->nlog < H_LOG_MAX);
            h->log[h->nlog++] = buf[k];
        }
        total += n;
    }
    fo_pair_info info;
    fo_pair_get_info(&hp->p, &info);
    assert_int_equal(info.queue_full, 0);
    return total;
}

fo_reason h_after(h_ctx *h, int i, fo_reason r)
{
    h_drain(h, i);
    return r;
}

void h_clear_log(h_ctx *h)
{
    h->nlog = 0;
}

size_t h_count(const h_ctx *h, fo_action_kind k)
{
    size_t n = 0;
    for (size_t i = 0; i < h->nlog; i++)
        n += h->log[i].kind == k;
    return n;
}

long h_first(const h_ctx *h, fo_action_kind k)
{
    for (size_t i = 0; i < h->nlog; i++)
        if (h->log[i].kind == k)
            return (long)i;
    return -1;
}

const fo_action *h_last(const h_ctx *h, fo_action_kind k)
{
    for (size_t i = h->nlog; i-- > 0;)
        if (h->log[i].kind == k)
            return &h->log[i];
    return NULL;
}

bool h_answer_replay(h_ctx *h, int i, fo_oid_status st)
{
    h_pair *hp = &h->pairs[i];
    if (hp->replay_out == FO_SET_NONE)
        return false;
    uint32_t token = hp->replay_token;
    hp->replay_out = FO_SET_NONE;
    assert_int_equal(h_after(h, i, fo_primary_replay_complete(&hp->p, token, st)), FO_R_OK);
    return true;
}

int h_answer_all_replays(h_ctx *h, int i)
{
    int n = 0;
    while (h_answer_replay(h, i, FO_OID_OK))
        n++;
    return n;
}

void h_attach(h_ctx *h, int i, const fo_adapter_desc *cand)
{
    fo_pair *out = NULL;
    assert_int_equal(fo_bind_candidate(&h->reg, cand, &out), FO_R_OK);
    assert_ptr_equal(out, h_p(h, i));
    h_drain(h, i);
    assert_int_equal(h_after(h, i, fo_primary_open_complete(out, true)), FO_R_OK);
    assert_int_equal(h_after(h, i, fo_primary_restart(out)), FO_R_OK);
    h_answer_all_replays(h, i);
}

void h_detach(h_ctx *h, int i)
{
    fo_pair *p = h_p(h, i);
    assert_int_equal(h_after(h, i, fo_primary_pause(p)), FO_R_OK);
    assert_int_equal(h_after(h, i, fo_primary_unbind(p)), FO_R_OK);
    assert_true(h->pairs[i].close_requested);
    h->pairs[i].replay_out = FO_SET_NONE; /* NDIS completes requests before the close */
    assert_int_equal(h_after(h, i, fo_primary_close_complete(p)), FO_R_OK);
    assert_int_equal(h_state(h, i), FO_ABSENT);
}

fo_state h_state(h_ctx *h, int i)
{
    fo_pair_info info;
    fo_pair_get_info(h_p(h, i), &info);
    return info.state;
}

int h_setup(void **state)
{
    (void)state;
    h_init(&H);
    h_add_pair(&H, 0, NULL);
    h_candidate_desc(&VF, 0);
    return 0;
}

int h_setup_active(void **state)
{
    h_setup(state);
    h_attach(&H, 0, &VF);
    assert_int_equal(h_state(&H, 0), FO_ACTIVE);
    h_clear_log(&H);
    return 0;
}

fo_pair *P(void)
{
    return h_p(&H, 0);
}

fo_reason ev(fo_reason r)
{
    return h_after(&H, 0, r);
}

fo_reason h_why(void)
{
    fo_pair_info i;
    fo_pair_get_info(P(), &i);
    return i.why;
}
