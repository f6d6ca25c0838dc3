/* Pairing rules and every refusal reason (issue 4, item 1). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "fo_harness.h"

static fo_reason bind(const fo_adapter_desc *d, fo_pair **out)
{
    fo_pair *dummy;
    return fo_bind_candidate(&H.reg, d, out ? out : &dummy);
}

static void pairs_on_permanent_mac(void **state)
{
    (void)state;
    fo_adapter_desc d;
    h_candidate_desc(&d, 0);
    memset(d.current_mac, 0x02, 6); /* a locally administered override: irrelevant */
    fo_pair *out = NULL;
    assert_int_equal(bind(&d, &out), FO_R_OK);
    assert_ptr_equal(out, h_p(&H, 0));
    h_drain(&H, 0);
    assert_int_equal(h_state(&H, 0), FO_OPENING);
    assert_int_equal(h_count(&H, FO_ACT_OPEN_PRIMARY), 1);
}

static void refuses_other_mac(void **state)
{
    (void)state;
    fo_adapter_desc d;
    h_candidate_desc(&d, 5);
    fo_pair *out = (fo_pair *)&d; /* must be cleared */
    assert_int_equal(bind(&d, &out), FO_R_NO_MATCHING_STANDBY);
    assert_null(out);
    assert_int_equal(h_state(&H, 0), FO_ABSENT);
}

static void current_mac_fallback_needs_policy(void **state)
{
    (void)state;
    fo_adapter_desc d;
    h_candidate_desc(&d, 0);
    memset(d.permanent_mac, 0, 6); /* some VFs report no permanent MAC */
    assert_int_equal(bind(&d, NULL), FO_R_NO_MATCHING_STANDBY);

    h_ctx *h = &H;
    h_init(h);
    fo_config cfg;
    fo_config_default(&cfg);
    cfg.match_current_mac = true;
    h_add_pair(h, 0, &cfg);
    assert_int_equal(bind(&d, NULL), FO_R_OK);
}

static void refuses_vfo_adapters(void **state)
{
    (void)state;
    fo_adapter_desc d;
    h_candidate_desc(&d, 0);
    d.is_vfo = true;
    assert_int_equal(bind(&d, NULL), FO_R_IS_VFO_ADAPTER);
    /* Even when the glue did not flag it: our own miniport's LUID. */
    h_candidate_desc(&d, 0);
    d.net_luid = 0x100; /* h_standby_desc(0)'s */
    assert_int_equal(bind(&d, NULL), FO_R_IS_VFO_ADAPTER);
    assert_int_equal(fo_pair_check(h_p(&H, 0), &d), FO_R_IS_VFO_ADAPTER);
}

static void refuses_non_ethernet(void **state)
{
    (void)state;
    fo_adapter_desc d;
    h_candidate_desc(&d, 0);
    d.media = FO_MEDIA_OTHER;
    assert_int_equal(bind(&d, NULL), FO_R_NOT_ETHERNET);
}

static void standby_feature_required_by_default(void **state)
{
    (void)state;
    h_init(&H);
    fo_config cfg;
    fo_standby_desc sd;
    fo_config_default(&cfg);
    h_standby_desc(&sd, 0);
    sd.standby_negotiated = false;
    assert_int_equal(fo_pair_init(h_p(&H, 0), &H.reg, &cfg, &sd), FO_R_OK);
    fo_adapter_desc d;
    h_candidate_desc(&d, 0);
    assert_int_equal(bind(&d, NULL), FO_R_STANDBY_NOT_NEGOTIATED);

    h_init(&H);
    cfg.require_standby_feature = false;
    assert_int_equal(fo_pair_init(h_p(&H, 0), &H.reg, &cfg, &sd), FO_R_OK);
    assert_int_equal(bind(&d, NULL), FO_R_OK);
}

static void refuses_when_disabled(void **state)
{
    (void)state;
    h_init(&H);
    fo_config cfg;
    fo_config_default(&cfg);
    cfg.enabled = false;
    h_add_pair(&H, 0, &cfg);
    fo_adapter_desc d;
    h_candidate_desc(&d, 0);
    assert_int_equal(bind(&d, NULL), FO_R_FAILOVER_DISABLED);
}

static void mtu_rules(void **state)
{
    (void)state;
    fo_adapter_desc d;
    h_candidate_desc(&d, 0);
    d.mtu = 9000;
    assert_int_equal(bind(&d, NULL), FO_R_MTU_MISMATCH);
    d.mtu = 1400;
    assert_int_equal(bind(&d, NULL), FO_R_MTU_MISMATCH);

    h_init(&H);
    fo_config cfg;
    fo_config_default(&cfg);
    cfg.mtu_policy = FO_MTU_PRIMARY_AT_LEAST;
    h_add_pair(&H, 0, &cfg);
    assert_int_equal(bind(&d, NULL), FO_R_MTU_MISMATCH); /* 1400 < 1500 */
    d.mtu = 9000;
    assert_int_equal(fo_pair_check(h_p(&H, 0), &d), FO_R_OK);
    assert_int_equal(bind(&d, NULL), FO_R_OK);
}

static void one_primary_per_standby(void **state)
{
    (void)state;
    fo_adapter_desc d, second;
    h_candidate_desc(&d, 0);
    h_candidate_desc(&second, 0);
    second.net_luid = 0x999;
    assert_int_equal(bind(&d, NULL), FO_R_OK);
    assert_int_equal(bind(&second, NULL), FO_R_STANDBY_HAS_PRIMARY);
    h_drain(&H, 0);
    assert_int_equal(h_after(&H, 0, fo_primary_open_complete(h_p(&H, 0), true)), FO_R_OK);
    assert_int_equal(bind(&second, NULL), FO_R_STANDBY_HAS_PRIMARY);
    /* still refused while the first one detaches, accepted once it is gone */
    assert_int_equal(h_after(&H, 0, fo_primary_unbind(h_p(&H, 0))), FO_R_OK);
    assert_int_equal(bind(&second, NULL), FO_R_STANDBY_HAS_PRIMARY);
    assert_int_equal(h_after(&H, 0, fo_primary_close_complete(h_p(&H, 0))), FO_R_OK);
    assert_int_equal(bind(&second, NULL), FO_R_OK);
}

static void pairs_coexist(void **state)
{
    (void)state;
    h_add_pair(&H, 1, NULL);
    fo_adapter_desc d0, d1;
    h_candidate_desc(&d0, 0);
    h_candidate_desc(&d1, 1);
    h_attach(&H, 1, &d1);
    assert_int_equal(h_state(&H, 1), FO_ACTIVE);
    assert_int_equal(h_state(&H, 0), FO_ABSENT);
    h_attach(&H, 0, &d0);
    assert_int_equal(h_state(&H, 0), FO_ACTIVE);
    assert_int_equal(h_state(&H, 1), FO_ACTIVE);
    h_detach(&H, 1);
    assert_int_equal(h_state(&H, 0), FO_ACTIVE);
}

static void refuses_ambiguous_mac(void **state)
{
    (void)state;
    fo_config cfg;
    fo_standby_desc sd;
    fo_config_default(&cfg);
    h_standby_desc(&sd, 0); /* same MAC as pair 0 */
    sd.net_luid = 0x555;
    assert_int_equal(fo_pair_init(h_p(&H, 1), &H.reg, &cfg, &sd), FO_R_OK);
    fo_adapter_desc d;
    h_candidate_desc(&d, 0);
    assert_int_equal(bind(&d, NULL), FO_R_AMBIGUOUS_STANDBY);
}

static void refuses_halting_standby(void **state)
{
    (void)state;
    assert_int_equal(h_after(&H, 0, fo_standby_halt(h_p(&H, 0))), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_STANDBY_RELEASED), 1);
    fo_adapter_desc d;
    h_candidate_desc(&d, 0);
    assert_int_equal(bind(&d, NULL), FO_R_STANDBY_HALTING);
    assert_int_equal(fo_registry_remove(&H.reg, h_p(&H, 0)), FO_R_OK);
    assert_int_equal(bind(&d, NULL), FO_R_NO_MATCHING_STANDBY);
}

static void refusals_are_recorded(void **state)
{
    (void)state;
    fo_adapter_desc d;
    fo_refusal r[FO_REFUSALS_KEPT];
    uint64_t total;
    assert_int_equal(fo_registry_refusals(&H.reg, r, FO_REFUSALS_KEPT, &total), 0);
    h_candidate_desc(&d, 0);
    d.media = FO_MEDIA_OTHER;
    assert_int_equal(bind(&d, NULL), FO_R_NOT_ETHERNET);
    h_candidate_desc(&d, 3);
    assert_int_equal(bind(&d, NULL), FO_R_NO_MATCHING_STANDBY);
    assert_int_equal(fo_registry_refusals(&H.reg, r, FO_REFUSALS_KEPT, &total), 2);
    assert_int_equal(total, 2);
    assert_int_equal(r[0].reason, FO_R_NOT_ETHERNET);
    assert_int_equal(r[1].reason, FO_R_NO_MATCHING_STANDBY);
    assert_memory_equal(r[1].mac, d.permanent_mac, 6);
    /* the ring keeps the most recent ones, oldest first */
    for (int i = 0; i < 10; i++) {
        h_candidate_desc(&d, 10 + i);
        assert_int_equal(bind(&d, NULL), FO_R_NO_MATCHING_STANDBY);
    }
    assert_int_equal(fo_registry_refusals(&H.reg, r, FO_REFUSALS_KEPT, &total), FO_REFUSALS_KEPT);
    assert_int_equal(total, 12);
    assert_int_equal(r[0].mac[5], 10 + 2 + 1);
    assert_int_equal(r[FO_REFUSALS_KEPT - 1].mac[5], 10 + 9 + 1);
    assert_int_equal(fo_registry_refusals(&H.reg, r, 3, NULL), 3);
    assert_int_equal(r[2].mac[5], 10 + 4 + 1);
}

static void vf_bound_before_its_standby_is_offered_again(void **state)
{
    (void)state;
    h_init(&H); /* no vfo adapter yet */
    fo_adapter_desc d, other;
    h_candidate_desc(&d, 0);
    h_candidate_desc(&other, 4);
    assert_int_equal(bind(&d, NULL), FO_R_NO_MATCHING_STANDBY);
    assert_int_equal(bind(&other, NULL), FO_R_NO_MATCHING_STANDBY);
    h_add_pair(&H, 0, NULL);
    assert_int_equal(h_count(&H, FO_ACT_REENUMERATE_BINDINGS), 1);
    fo_refusal r[FO_REFUSALS_KEPT];
    assert_int_equal(fo_registry_refusals(&H.reg, r, FO_REFUSALS_KEPT, NULL), 2);
    assert_true(r[0].retried);
    assert_false(r[1].retried);                /* not ours */
    assert_int_equal(bind(&d, NULL), FO_R_OK); /* NDIS offers it again */
    h_add_pair(&H, 1, NULL);                   /* nothing was refused for this one */
    assert_int_equal(h_count(&H, FO_ACT_REENUMERATE_BINDINGS), 1);
}

static void candidate_refused_while_busy_is_offered_after_detach(void **state)
{
    (void)state;
    fo_adapter_desc second;
    h_candidate_desc(&second, 0);
    second.net_luid = 0x999;
    h_attach(&H, 0, &VF);
    assert_int_equal(bind(&second, NULL), FO_R_STANDBY_HAS_PRIMARY);
    assert_int_equal(h_count(&H, FO_ACT_REENUMERATE_BINDINGS), 0);
    h_detach(&H, 0);
    assert_int_equal(h_count(&H, FO_ACT_REENUMERATE_BINDINGS), 1);
    h_attach(&H, 0, &second);
    h_detach(&H, 0); /* that refusal was retried already: asked once */
    assert_int_equal(h_count(&H, FO_ACT_REENUMERATE_BINDINGS), 1);
    /* a halting standby is released, not offered candidates */
    h_attach(&H, 0, &VF);
    assert_int_equal(bind(&second, NULL), FO_R_STANDBY_HAS_PRIMARY);
    assert_int_equal(h_after(&H, 0, fo_upper_pause(P())), FO_R_OK);
    assert_int_equal(h_after(&H, 0, fo_standby_halt(P())), FO_R_OK);
    h_detach(&H, 0);
    assert_int_equal(h_count(&H, FO_ACT_REENUMERATE_BINDINGS), 1);
    assert_int_equal(h_count(&H, FO_ACT_STANDBY_RELEASED), 1);
}

static void invalid_arguments(void **state)
{
    (void)state;
    fo_adapter_desc d;
    fo_pair *out;
    h_candidate_desc(&d, 0);
    assert_int_equal(fo_bind_candidate(NULL, &d, &out), FO_R_INVALID_ARGUMENT);
    assert_int_equal(fo_bind_candidate(&H.reg, NULL, &out), FO_R_INVALID_ARGUMENT);
    assert_int_equal(fo_bind_candidate(&H.reg, &d, NULL), FO_R_INVALID_ARGUMENT);
    assert_int_equal(fo_pair_check(NULL, &d), FO_R_INVALID_ARGUMENT);

    fo_config cfg;
    fo_standby_desc sd;
    fo_pair p2;
    fo_config_default(&cfg);
    h_standby_desc(&sd, 1);
    sd.mac[0] = 0x01; /* multicast */
    assert_int_equal(fo_pair_init(&p2, &H.reg, &cfg, &sd), FO_R_INVALID_ARGUMENT);
    h_standby_desc(&sd, 1);
    sd.mtu = 0;
    assert_int_equal(fo_pair_init(&p2, &H.reg, &cfg, &sd), FO_R_INVALID_ARGUMENT);
    h_standby_desc(&sd, 1);
    cfg.announce_count = FO_ANNOUNCE_MAX + 1;
    assert_int_equal(fo_pair_init(&p2, &H.reg, &cfg, &sd), FO_R_INVALID_ARGUMENT);
    fo_config_default(&cfg);
    cfg.announce_offset_ms[2] = 10; /* goes backwards */
    assert_int_equal(fo_pair_init(&p2, &H.reg, &cfg, &sd), FO_R_INVALID_ARGUMENT);
    fo_config_default(&cfg);
    assert_int_equal(fo_pair_init(h_p(&H, 0), &H.reg, &cfg, &sd), FO_R_BAD_STATE);
}

static void registry_remove_needs_absent_primary(void **state)
{
    (void)state;
    fo_adapter_desc d;
    h_candidate_desc(&d, 0);
    h_attach(&H, 0, &d);
    assert_int_equal(fo_registry_remove(&H.reg, h_p(&H, 0)), FO_R_BAD_STATE);
    h_detach(&H, 0);
    assert_int_equal(fo_registry_remove(&H.reg, h_p(&H, 0)), FO_R_OK);
    assert_int_equal(fo_registry_remove(&H.reg, h_p(&H, 0)), FO_R_BAD_STATE);
}

static void every_reason_has_a_distinct_name(void **state)
{
    (void)state;
    for (int a = 0; a < FO_R_COUNT; a++) {
        const char *na = fo_reason_name((fo_reason)a);
        assert_string_not_equal(na, "unknown");
        for (int b = a + 1; b < FO_R_COUNT; b++)
            assert_string_not_equal(na, fo_reason_name((fo_reason)b));
    }
    assert_string_equal(fo_reason_name(FO_R_COUNT), "unknown");
    assert_string_equal(fo_reason_name((fo_reason)-1), "unknown");
    assert_string_equal(fo_reason_name(FO_R_MTU_MISMATCH), "mtu_mismatch");
    for (int s = 0; s < FO_SET_COUNT; s++)
        assert_string_not_equal(fo_setting_name((fo_setting)s), "unknown");
    for (int s = FO_ABSENT; s <= FO_DETACHING; s++)
        assert_string_not_equal(fo_state_name((fo_state)s), "unknown");
    for (int k = FO_ACT_OPEN_PRIMARY; k <= FO_ACT_REENUMERATE_BINDINGS; k++)
        assert_string_not_equal(fo_action_name((fo_action_kind)k), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(pairs_on_permanent_mac, h_setup),
        cmocka_unit_test_setup(refuses_other_mac, h_setup),
        cmocka_unit_test_setup(current_mac_fallback_needs_policy, h_setup),
        cmocka_unit_test_setup(refuses_vfo_adapters, h_setup),
        cmocka_unit_test_setup(refuses_non_ethernet, h_setup),
        cmocka_unit_test_setup(standby_feature_required_by_default, h_setup),
        cmocka_unit_test_setup(refuses_when_disabled, h_setup),
        cmocka_unit_test_setup(mtu_rules, h_setup),
        cmocka_unit_test_setup(one_primary_per_standby, h_setup),
        cmocka_unit_test_setup(pairs_coexist, h_setup),
        cmocka_unit_test_setup(refuses_ambiguous_mac, h_setup),
        cmocka_unit_test_setup(refuses_halting_standby, h_setup),
        cmocka_unit_test_setup(refusals_are_recorded, h_setup),
        cmocka_unit_test_setup(vf_bound_before_its_standby_is_offered_again, h_setup),
        cmocka_unit_test_setup(candidate_refused_while_busy_is_offered_after_detach, h_setup),
        cmocka_unit_test_setup(invalid_arguments, h_setup),
        cmocka_unit_test_setup(registry_remove_needs_absent_primary, h_setup),
        cmocka_unit_test(every_reason_has_a_distinct_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
