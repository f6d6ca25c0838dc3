/* The link reported to Windows and the announce trains (issue 4, items 6 and 9). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "fo_harness.h"

static const uint64_t GBIT = 1000000000ull;

static void link_stays_up_through_every_switch(void **state)
{
    (void)state;
    /* every way onto and off the primary, twice round */
    for (int round = 0; round < 2; round++) {
        h_attach(&H, 0, &VF);
        assert_true(fo_upper_link(P()).speed_bps == 10 * GBIT);
        ev(fo_primary_link(P(), (fo_link){ false, 0 }));
        assert_true(fo_upper_link(P()).speed_bps == GBIT);
        ev(fo_primary_link(P(), VF.link));
        ev(fo_primary_reset(P(), true));
        ev(fo_primary_reset(P(), false));
        h_answer_all_replays(&H, 0);
        ev(fo_primary_query_remove(P()));
        ev(fo_primary_cancel_remove(P()));
        ev(fo_primary_pause(P()));
        ev(fo_primary_restart(P()));
        ev(fo_primary_surprise_removed(P()));
        h_detach(&H, 0);
    }
    assert_false(H.pairs[0].link_down_indicated);
    for (size_t i = 0; i < H.nlog; i++)
        if (H.log[i].kind == FO_ACT_INDICATE_LINK)
            assert_true(H.log[i].u.link.up);
    fo_pair_info info;
    fo_pair_get_info(P(), &info);
    assert_int_equal(info.bad_events, 0);
    assert_true(h_count(&H, FO_ACT_TX_PATH) >= 10);
}

static void speed_is_the_active_paths(void **state)
{
    (void)state;
    h_attach(&H, 0, &VF);
    const fo_action *a = h_last(&H, FO_ACT_INDICATE_LINK);
    assert_true(a->u.link.up && a->u.link.speed_bps == 10 * GBIT);
    ev(fo_primary_link(P(), (fo_link){ true, 25 * GBIT })); /* VF renegotiated */
    a = h_last(&H, FO_ACT_INDICATE_LINK);
    assert_true(a->u.link.speed_bps == 25 * GBIT);
    ev(fo_standby_link(P(), (fo_link){ true, 100 * GBIT })); /* not the active path */
    assert_true(h_last(&H, FO_ACT_INDICATE_LINK)->u.link.speed_bps == 25 * GBIT);
    h_detach(&H, 0);
    a = h_last(&H, FO_ACT_INDICATE_LINK);
    assert_true(a->u.link.up && a->u.link.speed_bps == 100 * GBIT);
}

static void goes_down_only_without_a_usable_path(void **state)
{
    (void)state;
    h_attach(&H, 0, &VF);
    h_clear_log(&H);
    ev(fo_standby_link(P(), (fo_link){ false, 0 }));
    assert_int_equal(h_count(&H, FO_ACT_INDICATE_LINK), 0); /* the VF still carries */
    assert_true(fo_upper_link(P()).up);
    ev(fo_primary_link(P(), (fo_link){ false, 0 }));
    assert_false(fo_upper_link(P()).up); /* now nothing can */
    assert_false(h_last(&H, FO_ACT_INDICATE_LINK)->u.link.up);
    ev(fo_standby_link(P(), (fo_link){ true, GBIT }));
    assert_true(h_last(&H, FO_ACT_INDICATE_LINK)->u.link.up);
}

static void no_duplicate_link_indications(void **state)
{
    (void)state;
    ev(fo_standby_link(P(), (fo_link){ true, GBIT }));
    ev(fo_standby_link(P(), (fo_link){ true, GBIT }));
    assert_int_equal(h_count(&H, FO_ACT_INDICATE_LINK), 0);
}

/* Frames at 0, 50 and 150 ms by default: one now, then two timer hops. */
static void announce_train_after_switch(void **state)
{
    (void)state;
    h_attach(&H, 0, &VF);
    long tx = h_first(&H, FO_ACT_TX_PATH);
    long first = h_first(&H, FO_ACT_SEND_ANNOUNCE);
    assert_true(tx >= 0 && first > tx);
    assert_int_equal(h_count(&H, FO_ACT_SEND_ANNOUNCE), 1);
    assert_int_equal(H.log[first].u.announce.path, FO_PATH_PRIMARY);
    assert_int_equal(H.log[first].u.announce.index, 0);
    assert_int_equal(H.log[first].u.announce.count, 3);
    assert_true(H.pairs[0].timer_armed);
    assert_int_equal(H.pairs[0].timer_delay, 50);
    assert_int_equal(ev(fo_on_timer(P(), H.pairs[0].timer_token)), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_SEND_ANNOUNCE), 2);
    assert_int_equal(h_count(&H, FO_ACT_ARM_TIMER), 2);
    assert_int_equal(H.pairs[0].timer_delay, 100);
    assert_int_equal(ev(fo_on_timer(P(), H.pairs[0].timer_token)), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_SEND_ANNOUNCE), 3);
    assert_int_equal(h_last(&H, FO_ACT_SEND_ANNOUNCE)->u.announce.index, 2);
    assert_int_equal(h_count(&H, FO_ACT_ARM_TIMER), 2); /* the train is over */
    assert_int_equal(ev(fo_on_timer(P(), H.pairs[0].timer_token)), FO_R_STALE_COMPLETION);

    /* and back to the standby */
    h_clear_log(&H);
    ev(fo_primary_link(P(), (fo_link){ false, 0 }));
    const fo_action *a = h_last(&H, FO_ACT_SEND_ANNOUNCE);
    assert_non_null(a);
    assert_int_equal(a->u.announce.path, FO_PATH_STANDBY);
}

static void new_train_makes_the_old_timer_stale(void **state)
{
    (void)state;
    h_attach(&H, 0, &VF);
    uint32_t old = H.pairs[0].timer_token;
    ev(fo_standby_announce(P())); /* e.g. migration finished during the train */
    assert_int_not_equal(H.pairs[0].timer_token, old);
    assert_int_equal(ev(fo_on_timer(P(), old)), FO_R_STALE_COMPLETION);
    assert_int_equal(ev(fo_on_timer(P(), H.pairs[0].timer_token)), FO_R_OK);
}

static void standby_announce_without_primary(void **state)
{
    (void)state;
    assert_int_equal(ev(fo_standby_announce(P())), FO_R_OK);
    const fo_action *a = h_last(&H, FO_ACT_SEND_ANNOUNCE);
    assert_non_null(a);
    assert_int_equal(a->u.announce.path, FO_PATH_STANDBY);
}

static void configurable_train(void **state)
{
    (void)state;
    h_init(&H);
    fo_config cfg;
    fo_config_default(&cfg);
    cfg.announce_count = 4;
    uint16_t offs[4] = { 0, 0, 20, 20 }; /* two frames at a time */
    memcpy(cfg.announce_offset_ms, offs, sizeof(offs));
    h_add_pair(&H, 0, &cfg);
    ev(fo_standby_announce(P()));
    assert_int_equal(h_count(&H, FO_ACT_SEND_ANNOUNCE), 2);
    assert_int_equal(H.pairs[0].timer_delay, 20);
    ev(fo_on_timer(P(), H.pairs[0].timer_token));
    assert_int_equal(h_count(&H, FO_ACT_SEND_ANNOUNCE), 4);

    h_init(&H);
    cfg.announce_count = 0;
    h_add_pair(&H, 0, &cfg);
    h_candidate_desc(&VF, 0);
    h_attach(&H, 0, &VF);
    ev(fo_standby_announce(P()));
    assert_int_equal(h_count(&H, FO_ACT_SEND_ANNOUNCE), 0);
    assert_int_equal(h_count(&H, FO_ACT_ARM_TIMER), 0);
}

static void no_announce_without_a_link_or_while_paused(void **state)
{
    (void)state;
    ev(fo_standby_link(P(), (fo_link){ false, 0 }));
    ev(fo_standby_announce(P()));
    assert_int_equal(h_count(&H, FO_ACT_SEND_ANNOUNCE), 0);
    ev(fo_standby_link(P(), (fo_link){ true, GBIT }));
    ev(fo_upper_pause(P()));
    ev(fo_standby_announce(P()));
    assert_int_equal(h_count(&H, FO_ACT_SEND_ANNOUNCE), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(link_stays_up_through_every_switch, h_setup),
        cmocka_unit_test_setup(speed_is_the_active_paths, h_setup),
        cmocka_unit_test_setup(goes_down_only_without_a_usable_path, h_setup),
        cmocka_unit_test_setup(no_duplicate_link_indications, h_setup),
        cmocka_unit_test_setup(announce_train_after_switch, h_setup),
        cmocka_unit_test_setup(new_train_makes_the_old_timer_stale, h_setup),
        cmocka_unit_test_setup(standby_announce_without_primary, h_setup),
        cmocka_unit_test_setup(configurable_train, h_setup),
        cmocka_unit_test_setup(no_announce_without_a_link_or_while_paused, h_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
