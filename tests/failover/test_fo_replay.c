/* The OID state cache and its replay to a new primary (issue 4, item 4). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "fo_harness.h"

static const uint8_t MCAST[2][6] = { { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 },
                                     { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 } };
static const uint8_t NLADDR[20] = { 1, 0, 0, 0, 2, 0, 0, 0, 10, 0, 0, 1 };
static const uint8_t ENCAP[12] = { 0xaa, 0xbb, 1, 2 };
static const uint8_t PM[16] = { 0x80, 0x11 };

static void make_rss(fo_rss *r)
{
    memset(r, 0, sizeof(*r));
    r->enabled = 1;
    r->hash_types = FO_RSS_HASH_IPV4 | FO_RSS_HASH_TCP_IPV4 | FO_RSS_HASH_UDP_IPV6;
    r->hash_function = 1;
    r->base_cpu = 0;
    r->key_len = 40;
    for (int i = 0; i < 40; i++)
        r->key[i] = (uint8_t)i;
    r->table_len = 128;
    for (int i = 0; i < 128; i++)
        r->table[i] = (uint32_t)(i % 4);
}

static void record_everything(void)
{
    uint32_t filter = 0x0b, vlan = 42, im = 1;
    fo_rss rss;
    fo_offload off = { FO_OFL_ALL & ~FO_OFL_LSO6, UINT32_MAX, 0, 0, 0 };
    make_rss(&rss);
    /* recorded in an order unlike the replay order */
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_PACKET_FILTER, &filter, 4)), FO_R_OK);
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_PM_PARAMETERS, PM, sizeof(PM))), FO_R_OK);
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_VLAN_ID, &vlan, 4)), FO_R_OK);
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_RSS, &rss, sizeof(rss))), FO_R_OK);
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_NETWORK_ADDRESSES, NLADDR, sizeof(NLADDR))),
                     FO_R_OK);
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_INTERRUPT_MODERATION, &im, 4)), FO_R_OK);
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_OFFLOAD, &off, sizeof(off))), FO_R_OK);
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_ENCAPSULATION, ENCAP, sizeof(ENCAP))),
                     FO_R_OK);
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_MULTICAST_LIST, MCAST, sizeof(MCAST))),
                     FO_R_OK);
}

static void bind_and_open(void)
{
    fo_pair *out;
    assert_int_equal(fo_bind_candidate(&H.reg, &VF, &out), FO_R_OK);
    assert_int_equal(ev(fo_primary_open_complete(P(), true)), FO_R_OK);
    assert_int_equal(ev(fo_primary_restart(P())), FO_R_OK);
}

/* Collects the replay steps as they are answered OK. */
static int replay_all(fo_setting *order, int max)
{
    int n = 0;
    while (H.pairs[0].replay_out != FO_SET_NONE) {
        assert_true(n < max);
        order[n++] = H.pairs[0].replay_out;
        assert_int_equal(h_state(&H, 0), FO_REPLAYING);
        assert_int_equal(fo_select_tx(P(), NULL), FO_TX_STANDBY);
        h_answer_replay(&H, 0, FO_OID_OK);
    }
    return n;
}

static void replays_in_fixed_order_packet_filter_last(void **state)
{
    (void)state;
    record_everything();
    assert_int_equal(h_count(&H, FO_ACT_REPLAY), 0); /* nothing to replay to yet */
    bind_and_open();
    fo_setting order[16];
    int n = replay_all(order, 16);
    assert_int_equal(n, FO_SET_COUNT);
    for (int i = 0; i < n; i++)
        assert_int_equal(order[i], (fo_setting)i);
    assert_int_equal(order[0], FO_SET_MULTICAST_LIST);
    assert_int_equal(order[1], FO_SET_OFFLOAD);
    assert_int_equal(order[3], FO_SET_RSS);
    assert_int_equal(order[4], FO_SET_VLAN_ID);
    assert_int_equal(order[n - 1], FO_SET_PACKET_FILTER);
    assert_int_equal(h_state(&H, 0), FO_ACTIVE);
}

static void only_recorded_settings_are_replayed(void **state)
{
    (void)state;
    uint32_t filter = 0x0b;
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_PACKET_FILTER, &filter, 4)), FO_R_OK);
    bind_and_open();
    fo_setting order[16];
    assert_int_equal(replay_all(order, 16), 2);
    assert_int_equal(order[0], FO_SET_OFFLOAD);
    assert_int_equal(order[1], FO_SET_PACKET_FILTER);
}

static void payloads_are_what_was_recorded(void **state)
{
    (void)state;
    record_everything();
    bind_and_open();
    uint8_t buf[sizeof(fo_rss) + 64];
    size_t len;
    assert_int_equal(fo_replay_payload(P(), FO_SET_MULTICAST_LIST, buf, sizeof(buf), &len),
                     FO_R_OK);
    assert_int_equal(len, sizeof(MCAST));
    assert_memory_equal(buf, MCAST, sizeof(MCAST));
    assert_int_equal(fo_replay_payload(P(), FO_SET_NETWORK_ADDRESSES, buf, sizeof(buf), &len),
                     FO_R_OK);
    assert_int_equal(len, sizeof(NLADDR));
    assert_memory_equal(buf, NLADDR, sizeof(NLADDR));
    assert_int_equal(fo_replay_payload(P(), FO_SET_ENCAPSULATION, buf, sizeof(buf), &len), FO_R_OK);
    assert_memory_equal(buf, ENCAP, sizeof(ENCAP));
    assert_int_equal(fo_replay_payload(P(), FO_SET_PM_PARAMETERS, buf, sizeof(buf), &len), FO_R_OK);
    assert_memory_equal(buf, PM, sizeof(PM));
    uint32_t v;
    assert_int_equal(fo_replay_payload(P(), FO_SET_VLAN_ID, &v, sizeof(v), &len), FO_R_OK);
    assert_int_equal(v, 42);
    assert_int_equal(fo_replay_payload(P(), FO_SET_PACKET_FILTER, &v, sizeof(v), &len), FO_R_OK);
    assert_int_equal(v, 0x0b);
    assert_int_equal(fo_replay_payload(P(), FO_SET_INTERRUPT_MODERATION, &v, sizeof(v), &len),
                     FO_R_OK);
    assert_int_equal(v, 1);
    /* the caller's buffer is checked, and told how much is needed */
    assert_int_equal(fo_replay_payload(P(), FO_SET_MULTICAST_LIST, buf, 6, &len),
                     FO_R_SETTING_TOO_LARGE);
    assert_int_equal(len, 12);
    assert_int_equal(fo_replay_payload(P(), FO_SET_COUNT, buf, sizeof(buf), &len),
                     FO_R_INVALID_ARGUMENT);
}

static void offload_payload_is_the_intersection(void **state)
{
    (void)state;
    VF.caps.offload.flags &= ~(uint32_t)(FO_OFL_TX_UDP6_CSUM | FO_OFL_RX_UDP6_CSUM);
    VF.caps.offload.lso4_max_size = 32000;
    VF.caps.offload.lso4_min_segs = 3;
    record_everything(); /* upper stack turned LSOv6 off */
    bind_and_open();
    assert_int_equal(H.pairs[0].replay_out, FO_SET_MULTICAST_LIST);
    h_answer_replay(&H, 0, FO_OID_OK);
    assert_int_equal(H.pairs[0].replay_out, FO_SET_OFFLOAD);
    fo_offload o;
    size_t len;
    assert_int_equal(fo_replay_payload(P(), FO_SET_OFFLOAD, &o, sizeof(o), &len), FO_R_OK);
    assert_int_equal(len, sizeof(o));
    assert_int_equal(
        o.flags, FO_OFL_ALL & ~(uint32_t)(FO_OFL_LSO6 | FO_OFL_TX_UDP6_CSUM | FO_OFL_RX_UDP6_CSUM));
    assert_int_equal(o.lso4_max_size, 32000);
    assert_int_equal(o.lso4_min_segs, 3);
    assert_int_equal(o.lso6_max_size, 0);
}

static void rss_is_fitted_to_the_primary(void **state)
{
    (void)state;
    VF.caps.rss = (fo_rss_caps){ FO_RSS_HASH_IPV4 | FO_RSS_HASH_TCP_IPV4, 100, 4 };
    record_everything();
    bind_and_open();
    fo_rss r;
    size_t len;
    assert_int_equal(fo_replay_payload(P(), FO_SET_RSS, &r, sizeof(r), &len), FO_R_OK);
    assert_int_equal(r.enabled, 1);
    assert_int_equal(r.hash_types, FO_RSS_HASH_IPV4 | FO_RSS_HASH_TCP_IPV4); /* UDPv6 gone */
    assert_int_equal(r.table_len, 64); /* largest power of two that fits 100 */
    assert_int_equal(r.key_len, 40);
    for (int i = 0; i < 64; i++)
        assert_int_equal(r.table[i], (uint32_t)(i % 4));

    /* no common hash type: RSS goes to the primary disabled */
    VF.caps.rss.hash_types = FO_RSS_HASH_IPV6_EX;
    h_answer_all_replays(&H, 0);
    h_detach(&H, 0);
    bind_and_open();
    assert_int_equal(fo_replay_payload(P(), FO_SET_RSS, &r, sizeof(r), &len), FO_R_OK);
    assert_int_equal(r.enabled, 0);
}

static void rss_step_skipped_for_primary_without_rss(void **state)
{
    (void)state;
    VF.caps.rss = (fo_rss_caps){ 0, 0, 0 };
    record_everything();
    bind_and_open();
    fo_setting order[16];
    int n = replay_all(order, 16);
    assert_int_equal(n, FO_SET_COUNT - 1);
    for (int i = 0; i < n; i++)
        assert_int_not_equal(order[i], FO_SET_RSS);
    assert_int_equal(h_state(&H, 0), FO_ACTIVE);
    fo_pair_info info;
    fo_pair_get_info(P(), &info);
    assert_int_equal(info.advisory_unsupported, 1);
}

static void change_during_replay_is_replayed_again(void **state)
{
    (void)state;
    record_everything();
    bind_and_open();
    /* multicast and offload done, encapsulation in flight */
    h_answer_replay(&H, 0, FO_OID_OK);
    h_answer_replay(&H, 0, FO_OID_OK);
    assert_int_equal(H.pairs[0].replay_out, FO_SET_ENCAPSULATION);
    static const uint8_t more[3][6] = { { 0x01, 0, 0x5e, 0, 0, 1 },
                                        { 0x01, 0, 0x5e, 0, 0, 2 },
                                        { 0x01, 0, 0x5e, 0, 0, 3 } };
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_MULTICAST_LIST, more, sizeof(more))),
                     FO_R_OK);
    fo_setting order[16];
    int n = replay_all(order, 16);
    /* the new list goes out right after the step in flight, before the
     * packet filter, and the pair is not ACTIVE before it was accepted */
    assert_int_equal(order[0], FO_SET_ENCAPSULATION);
    assert_int_equal(order[1], FO_SET_MULTICAST_LIST);
    assert_int_equal(order[n - 1], FO_SET_PACKET_FILTER);
    assert_int_equal(h_state(&H, 0), FO_ACTIVE);
    uint8_t buf[64];
    size_t len;
    assert_int_equal(fo_replay_payload(P(), FO_SET_MULTICAST_LIST, buf, sizeof(buf), &len),
                     FO_R_OK);
    assert_int_equal(len, sizeof(more));
}

static void change_of_the_step_in_flight_is_sent_again(void **state)
{
    (void)state;
    uint32_t f1 = 1, f2 = 3;
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_PACKET_FILTER, &f1, 4)), FO_R_OK);
    bind_and_open();
    h_answer_replay(&H, 0, FO_OID_OK); /* offload */
    assert_int_equal(H.pairs[0].replay_out, FO_SET_PACKET_FILTER);
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_PACKET_FILTER, &f2, 4)), FO_R_OK);
    h_answer_replay(&H, 0, FO_OID_OK); /* the old value */
    assert_int_equal(h_state(&H, 0), FO_REPLAYING);
    assert_int_equal(H.pairs[0].replay_out, FO_SET_PACKET_FILTER);
    uint32_t v;
    size_t len;
    assert_int_equal(fo_replay_payload(P(), FO_SET_PACKET_FILTER, &v, 4, &len), FO_R_OK);
    assert_int_equal(v, 3);
    h_answer_replay(&H, 0, FO_OID_OK);
    assert_int_equal(h_state(&H, 0), FO_ACTIVE);
}

static void change_while_active_is_forwarded_without_leaving_active(void **state)
{
    (void)state;
    h_attach(&H, 0, &VF);
    h_clear_log(&H);
    uint32_t vlan = 9;
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_VLAN_ID, &vlan, 4)), FO_R_OK);
    assert_int_equal(H.pairs[0].replay_out, FO_SET_VLAN_ID);
    assert_int_equal(h_state(&H, 0), FO_ACTIVE);
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_PRIMARY);
    assert_false(fo_primary_release(P(), 1));
    h_answer_replay(&H, 0, FO_OID_OK);
    assert_int_equal(h_state(&H, 0), FO_ACTIVE);
    assert_int_equal(h_count(&H, FO_ACT_TX_PATH), 0);
}

static void rejected_then_accepted_setting(void **state)
{
    (void)state;
    h_attach(&H, 0, &VF);
    uint32_t filter = 0x20; /* promiscuous: this VF refuses it */
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_PACKET_FILTER, &filter, 4)), FO_R_OK);
    h_answer_replay(&H, 0, FO_OID_FAILED);
    assert_int_equal(h_state(&H, 0), FO_STANDBY_ONLY);
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_STANDBY);
    fo_pair_info info;
    fo_pair_get_info(P(), &info);
    assert_int_equal(info.why, FO_R_REPLAY_REJECTED);
    assert_int_equal(info.last_rejected, FO_SET_PACKET_FILTER);
    assert_int_equal(info.rejected, 1u << FO_SET_PACKET_FILTER);
    filter = 0x0b;
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_PACKET_FILTER, &filter, 4)), FO_R_OK);
    h_answer_replay(&H, 0, FO_OID_OK);
    assert_int_equal(h_state(&H, 0), FO_ACTIVE);
}

static void advisory_settings(void **state)
{
    (void)state;
    record_everything();
    bind_and_open();
    int rejected = 0;
    while (H.pairs[0].replay_out != FO_SET_NONE) {
        fo_setting s = H.pairs[0].replay_out;
        /* every setting answered NOT_SUPPORTED: only the required ones count */
        h_answer_replay(&H, 0, FO_OID_NOT_SUPPORTED);
        rejected += fo_setting_required(s);
    }
    assert_int_equal(rejected, 5);
    fo_pair_info info;
    fo_pair_get_info(P(), &info);
    assert_int_equal(info.replay_rejects, 5);
    assert_int_equal(info.advisory_unsupported, 4);
    assert_int_equal(h_state(&H, 0), FO_STANDBY_ONLY);

    /* advisory NOT_SUPPORTED alone leaves the pair ACTIVE */
    h_setup(state);
    uint32_t im = 5;
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_INTERRUPT_MODERATION, &im, 4)), FO_R_OK);
    bind_and_open();
    h_answer_replay(&H, 0, FO_OID_OK);
    h_answer_replay(&H, 0, FO_OID_NOT_SUPPORTED);
    assert_int_equal(h_state(&H, 0), FO_ACTIVE);
    const fo_action *r = h_last(&H, FO_ACT_REPORT);
    assert_int_equal(r->u.report.reason, FO_R_ADVISORY_UNSUPPORTED);
    assert_int_equal(r->u.report.setting, FO_SET_INTERRUPT_MODERATION);
}

static void aborted_step_is_retried(void **state)
{
    (void)state;
    bind_and_open();
    assert_int_equal(H.pairs[0].replay_out, FO_SET_OFFLOAD);
    h_answer_replay(&H, 0, FO_OID_ABORTED);
    assert_int_equal(H.pairs[0].replay_out, FO_SET_OFFLOAD);
    assert_int_equal(h_state(&H, 0), FO_REPLAYING);
    h_answer_replay(&H, 0, FO_OID_OK);
    assert_int_equal(h_state(&H, 0), FO_ACTIVE);
}

static void invalid_settings_are_refused_and_counted(void **state)
{
    (void)state;
    const uint8_t unicast[6] = { 0x02, 0, 0, 0, 0, 1 };
    uint8_t big[FO_BLOB_MAX + 1] = { 0 };
    uint8_t many[(FO_MCAST_MAX + 1) * 6];
    for (size_t i = 0; i < sizeof(many); i++)
        many[i] = (i % 6 == 0) ? 0x01 : 0;
    uint32_t vlan = 4096;
    uint16_t shortv = 1;
    fo_rss rss;
    fo_offload off = { 0x80000000u, 0, 0, 0, 0 };
    struct {
        fo_setting s;
        const void *data;
        size_t len;
        fo_reason want;
    } cases[] = {
        { FO_SET_MULTICAST_LIST, unicast, 6, FO_R_INVALID_SETTING },
        { FO_SET_MULTICAST_LIST, MCAST, 7, FO_R_INVALID_SETTING },
        { FO_SET_MULTICAST_LIST, many, sizeof(many), FO_R_SETTING_TOO_LARGE },
        { FO_SET_VLAN_ID, &vlan, 4, FO_R_INVALID_SETTING },
        { FO_SET_PACKET_FILTER, &shortv, 2, FO_R_INVALID_SETTING },
        { FO_SET_NETWORK_ADDRESSES, big, sizeof(big), FO_R_SETTING_TOO_LARGE },
        { FO_SET_OFFLOAD, &off, sizeof(off), FO_R_INVALID_SETTING },
        { FO_SET_OFFLOAD, &off, 3, FO_R_INVALID_SETTING },
        { FO_SET_RSS, &rss, sizeof(rss), FO_R_INVALID_SETTING },
        { FO_SET_RSS, &rss, sizeof(rss), FO_R_INVALID_SETTING },
        { FO_SET_RSS, &rss, sizeof(rss), FO_R_INVALID_SETTING },
        { FO_SET_COUNT, &vlan, 4, FO_R_INVALID_ARGUMENT },
        { FO_SET_PACKET_FILTER, NULL, 4, FO_R_INVALID_ARGUMENT },
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    for (size_t i = 0; i < n; i++) {
        make_rss(&rss);
        if (i == 8)
            rss.table_len = 96; /* not a power of two */
        if (i == 9)
            rss.key_len = 41;
        if (i == 10)
            rss.enabled = 2;
        assert_int_equal(ev(fo_record_setting(P(), cases[i].s, cases[i].data, cases[i].len)),
                         cases[i].want);
    }
    fo_pair_info info;
    fo_pair_get_info(P(), &info);
    assert_int_equal(info.invalid_settings, n);
    assert_int_equal(h_count(&H, FO_ACT_REPORT), n);
    /* and nothing was recorded: only the default offload step replays */
    bind_and_open();
    fo_setting order[16];
    assert_int_equal(replay_all(order, 16), 1);
    /* an empty multicast list is valid */
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_MULTICAST_LIST, NULL, 0)), FO_R_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(replays_in_fixed_order_packet_filter_last, h_setup),
        cmocka_unit_test_setup(only_recorded_settings_are_replayed, h_setup),
        cmocka_unit_test_setup(payloads_are_what_was_recorded, h_setup),
        cmocka_unit_test_setup(offload_payload_is_the_intersection, h_setup),
        cmocka_unit_test_setup(rss_is_fitted_to_the_primary, h_setup),
        cmocka_unit_test_setup(rss_step_skipped_for_primary_without_rss, h_setup),
        cmocka_unit_test_setup(change_during_replay_is_replayed_again, h_setup),
        cmocka_unit_test_setup(change_of_the_step_in_flight_is_sent_again, h_setup),
        cmocka_unit_test_setup(change_while_active_is_forwarded_without_leaving_active, h_setup),
        cmocka_unit_test_setup(rejected_then_accepted_setting, h_setup),
        cmocka_unit_test_setup(advisory_settings, h_setup),
        cmocka_unit_test_setup(aborted_step_is_retried, h_setup),
        cmocka_unit_test_setup(invalid_settings_are_refused_and_counted, h_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
