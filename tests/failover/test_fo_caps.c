/* Capability intersection, offload re-indication and the per-packet offload
 * check (issue 4, item 5). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "fo_harness.h"

static void intersection_rules(void **state)
{
    (void)state;
    fo_caps a = { { FO_OFL_ALL, 65535, 2, 62000, 2 }, { FO_RSS_HASH_ALL, 128, 8 } };
    fo_caps b = { { FO_OFL_TX_IP4_CSUM | FO_OFL_TX_TCP4_CSUM | FO_OFL_LSO4 | FO_OFL_LSO6, 32000, 4,
                    64000, 1 },
                  { FO_RSS_HASH_IPV4 | FO_RSS_HASH_TCP_IPV4, 64, 16 } };
    fo_caps r;
    fo_caps_intersect(&a, &b, &r);
    assert_int_equal(r.offload.flags,
                     FO_OFL_TX_IP4_CSUM | FO_OFL_TX_TCP4_CSUM | FO_OFL_LSO4 | FO_OFL_LSO6);
    assert_int_equal(r.offload.lso4_max_size, 32000); /* the smaller maximum */
    assert_int_equal(r.offload.lso4_min_segs, 4);     /* the larger minimum */
    assert_int_equal(r.offload.lso6_max_size, 62000);
    assert_int_equal(r.offload.lso6_min_segs, 2);
    assert_int_equal(r.rss.hash_types, FO_RSS_HASH_IPV4 | FO_RSS_HASH_TCP_IPV4);
    assert_int_equal(r.rss.table_max, 64);
    assert_int_equal(r.rss.queues, 8);

    /* symmetric */
    fo_caps r2;
    fo_caps_intersect(&b, &a, &r2);
    assert_memory_equal(&r, &r2, sizeof(r));

    /* a feature with no usable size or no queues is absent */
    b.offload.lso6_max_size = 0;
    b.rss.queues = 0;
    fo_caps_intersect(&a, &b, &r);
    assert_false(r.offload.flags & FO_OFL_LSO6);
    assert_int_equal(r.offload.lso6_min_segs, 0);
    assert_int_equal(r.rss.hash_types, 0);
    assert_int_equal(r.rss.table_max, 0);
    /* in place */
    fo_caps_intersect(&a, &b, &a);
    assert_memory_equal(&a, &r, sizeof(r));
}

static void can_send_checks_flags_and_lso_limits(void **state)
{
    (void)state;
    fo_offload o = { FO_OFL_TX_TCP4_CSUM | FO_OFL_LSO4, 32000, 3, 0, 0 };
    fo_tx_meta m = { FO_OFL_TX_TCP4_CSUM, 0, 0 };
    assert_true(fo_offload_can_send(&o, &m));
    m.offloads = FO_OFL_TX_UDP4_CSUM;
    assert_false(fo_offload_can_send(&o, &m));
    m = (fo_tx_meta){ FO_OFL_LSO4, 32000, 3 };
    assert_true(fo_offload_can_send(&o, &m));
    m.lso_size = 32001;
    assert_false(fo_offload_can_send(&o, &m));
    m = (fo_tx_meta){ FO_OFL_LSO4, 3000, 2 };
    assert_false(fo_offload_can_send(&o, &m));
    m = (fo_tx_meta){ FO_OFL_LSO6, 3000, 4 };
    assert_false(fo_offload_can_send(&o, &m));
    m = (fo_tx_meta){ FO_OFL_RX_IP4_CSUM, 0, 0 }; /* not a TX request: ignored */
    assert_true(fo_offload_can_send(&o, &m));
}

static void advertises_the_standby_capabilities(void **state)
{
    (void)state;
    fo_caps up;
    fo_standby_desc sd;
    h_standby_desc(&sd, 0);
    fo_upper_caps(P(), &up);
    assert_memory_equal(&up, &sd.caps, sizeof(up));
    VF.caps.offload.flags = FO_OFL_TX_IP4_CSUM;
    h_attach(&H, 0, &VF);
    fo_upper_caps(P(), &up); /* what was advertised at initialize does not change */
    assert_memory_equal(&up, &sd.caps, sizeof(up));
}

static void narrower_primary_reindicates_around_the_switch(void **state)
{
    (void)state;
    VF.caps.offload.flags &= ~(uint32_t)(FO_OFL_LSO6 | FO_OFL_TX_UDP6_CSUM);
    fo_offload before;
    fo_upper_offload(P(), &before);
    assert_true(before.flags & FO_OFL_LSO6);
    h_attach(&H, 0, &VF);

    long narrow = h_first(&H, FO_ACT_INDICATE_OFFLOAD);
    long to_primary = h_first(&H, FO_ACT_TX_PATH);
    assert_true(narrow >= 0 && to_primary >= 0);
    assert_true(narrow < to_primary); /* the upper stack stops asking first */
    const fo_action *a = &H.log[narrow];
    assert_false(a->u.offload.flags & (FO_OFL_LSO6 | FO_OFL_TX_UDP6_CSUM));
    assert_int_equal(a->u.offload.lso6_max_size, 0);
    fo_offload now;
    fo_upper_offload(P(), &now);
    assert_memory_equal(&now, &a->u.offload, sizeof(now));

    h_clear_log(&H);
    assert_int_equal(ev(fo_primary_link(P(), (fo_link){ false, 0 })), FO_R_OK);
    long to_standby = h_first(&H, FO_ACT_TX_PATH);
    long widen = h_first(&H, FO_ACT_INDICATE_OFFLOAD);
    assert_true(to_standby >= 0 && widen > to_standby); /* TX leaves, then widen */
    assert_true(H.log[widen].u.offload.flags & FO_OFL_LSO6);
    assert_memory_equal(&H.log[widen].u.offload, &before, sizeof(before));
}

static void equal_primary_needs_no_reindication(void **state)
{
    (void)state;
    h_attach(&H, 0, &VF);
    assert_int_equal(h_count(&H, FO_ACT_INDICATE_OFFLOAD), 0);
    h_detach(&H, 0);
    assert_int_equal(h_count(&H, FO_ACT_INDICATE_OFFLOAD), 0);
}

static void reindication_can_be_turned_off(void **state)
{
    (void)state;
    h_init(&H);
    fo_config cfg;
    fo_config_default(&cfg);
    cfg.reindicate_offloads = false;
    h_add_pair(&H, 0, &cfg);
    VF.caps.offload.flags &= ~(uint32_t)FO_OFL_LSO4;
    h_attach(&H, 0, &VF);
    assert_int_equal(h_count(&H, FO_ACT_INDICATE_OFFLOAD), 0);
    /* then each LSO packet is steered per packet */
    fo_tx_meta m = { FO_OFL_LSO4, 20000, 14 };
    assert_int_equal(fo_select_tx(P(), &m), FO_TX_STANDBY_OFFLOAD);
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_PRIMARY);
    assert_false(fo_primary_release(P(), 1));
    fo_pair_info info;
    fo_pair_get_info(P(), &info);
    assert_int_equal(info.tx_offload_fallbacks, 1);
    assert_int_equal(info.inflight, 0);
}

static void upper_offload_change_is_indicated_and_replayed(void **state)
{
    (void)state;
    h_attach(&H, 0, &VF);
    h_clear_log(&H);
    fo_offload req = { FO_OFL_ALL & ~(uint32_t)FO_OFL_LSO4, 0, 0, UINT32_MAX, 0 };
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_OFFLOAD, &req, sizeof(req))), FO_R_OK);
    const fo_action *a = h_last(&H, FO_ACT_INDICATE_OFFLOAD);
    assert_non_null(a);
    assert_false(a->u.offload.flags & FO_OFL_LSO4);
    assert_int_equal(H.pairs[0].replay_out, FO_SET_OFFLOAD);
    fo_offload sent;
    size_t len;
    assert_int_equal(fo_replay_payload(P(), FO_SET_OFFLOAD, &sent, sizeof(sent), &len), FO_R_OK);
    assert_false(sent.flags & FO_OFL_LSO4);
    h_answer_replay(&H, 0, FO_OID_OK);
    fo_tx_meta m = { FO_OFL_LSO4, 20000, 14 };
    assert_int_equal(fo_select_tx(P(), &m), FO_TX_STANDBY_OFFLOAD);
}

static void per_packet_check_uses_what_the_primary_confirmed(void **state)
{
    (void)state;
    VF.caps.offload.lso4_max_size = 16000;
    VF.caps.offload.lso4_min_segs = 4;
    h_attach(&H, 0, &VF);
    fo_tx_meta ok = { FO_OFL_TX_TCP4_CSUM | FO_OFL_LSO4, 16000, 11 };
    fo_tx_meta too_big = { FO_OFL_LSO4, 60000, 40 };
    fo_tx_meta too_few = { FO_OFL_LSO4, 3000, 2 };
    assert_int_equal(fo_select_tx(P(), &ok), FO_TX_PRIMARY);
    assert_false(fo_primary_release(P(), 1));
    assert_int_equal(fo_select_tx(P(), &too_big), FO_TX_STANDBY_OFFLOAD);
    assert_int_equal(fo_select_tx(P(), &too_few), FO_TX_STANDBY_OFFLOAD);
    /* the offload step of a new primary is not yet confirmed: nothing goes
     * there with offloads before the replay completes (and nothing at all) */
    h_detach(&H, 0);
    fo_pair *out;
    assert_int_equal(fo_bind_candidate(&H.reg, &VF, &out), FO_R_OK);
    assert_int_equal(ev(fo_primary_open_complete(P(), true)), FO_R_OK);
    assert_int_equal(ev(fo_primary_restart(P())), FO_R_OK);
    assert_int_equal(fo_select_tx(P(), &ok), FO_TX_STANDBY);
    h_answer_all_replays(&H, 0);
    assert_int_equal(fo_select_tx(P(), &ok), FO_TX_PRIMARY);
    assert_false(fo_primary_release(P(), 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(intersection_rules),
        cmocka_unit_test(can_send_checks_flags_and_lso_limits),
        cmocka_unit_test_setup(advertises_the_standby_capabilities, h_setup),
        cmocka_unit_test_setup(narrower_primary_reindicates_around_the_switch, h_setup),
        cmocka_unit_test_setup(equal_primary_needs_no_reindication, h_setup),
        cmocka_unit_test_setup(reindication_can_be_turned_off, h_setup),
        cmocka_unit_test_setup(upper_offload_change_is_indicated_and_replayed, h_setup),
        cmocka_unit_test_setup(per_packet_check_uses_what_the_primary_confirmed, h_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
