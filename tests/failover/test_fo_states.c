/* Every state transition and fallback trigger (issue 4, items 2 and 3). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "fo_harness.h"

/* TX is on virtio, the reported link never went down, and TX_PATH said so. */
static void assert_on_standby(void)
{
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_STANDBY);
    assert_int_equal(H.pairs[0].tx_path, FO_PATH_STANDBY);
    assert_false(H.pairs[0].link_down_indicated);
    assert_true(fo_upper_link(P()).up);
}

static void assert_on_primary(void)
{
    assert_int_equal(h_state(&H, 0), FO_ACTIVE);
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_PRIMARY);
    assert_false(fo_primary_release(P(), 1));
    assert_int_equal(H.pairs[0].tx_path, FO_PATH_PRIMARY);
    assert_false(H.pairs[0].link_down_indicated);
}

static void attach_walks_opening_replaying_active(void **state)
{
    (void)state;
    fo_pair *out;
    assert_int_equal(fo_bind_candidate(&H.reg, &VF, &out), FO_R_OK);
    h_drain(&H, 0);
    assert_int_equal(h_state(&H, 0), FO_OPENING);
    assert_int_equal(h_why(), FO_R_OPENING);
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_STANDBY);

    assert_int_equal(ev(fo_primary_open_complete(P(), true)), FO_R_OK);
    assert_int_equal(h_state(&H, 0), FO_REPLAYING);
    assert_int_equal(h_last(&H, FO_ACT_COMPLETE_BIND)->u.reason, FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_QUERY_PRIMARY_STATS), 1);
    assert_int_equal(H.pairs[0].replay_out, FO_SET_OFFLOAD); /* always replayed */
    assert_false(fo_rx_accept(P(), 1));                      /* binding still paused */

    assert_int_equal(ev(fo_primary_restart(P())), FO_R_OK);
    assert_int_equal(h_state(&H, 0), FO_REPLAYING);
    assert_true(fo_rx_accept(P(), 1)); /* receives flow during replay ... */
    assert_false(fo_primary_release(P(), 1));
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_STANDBY); /* ... TX does not */

    /* ACTIVE as soon as the last step completes: no delay, no timer. */
    assert_true(h_answer_replay(&H, 0, FO_OID_OK));
    assert_int_equal(h_state(&H, 0), FO_ACTIVE);
    assert_int_equal(h_why(), FO_R_OK);
    assert_on_primary();
    const fo_action *l = h_last(&H, FO_ACT_INDICATE_LINK);
    assert_non_null(l);
    assert_true(l->u.link.up);
    assert_true(l->u.link.speed_bps == VF.link.speed_bps);
}

static void link_down_vf_waits_then_activates_on_link_up(void **state)
{
    (void)state;
    VF.link.up = false;
    h_attach(&H, 0, &VF);
    assert_int_equal(h_state(&H, 0), FO_STANDBY_ONLY);
    assert_int_equal(h_why(), FO_R_PRIMARY_LINK_DOWN);
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_STANDBY);
    assert_int_equal(ev(fo_primary_link(P(), (fo_link){ true, 25000000000ull })), FO_R_OK);
    assert_on_primary();
    assert_int_equal(H.pairs[0].timer_armed, true); /* only the announce train's timer */
    assert_true(fo_upper_link(P()).speed_bps == 25000000000ull);
}

static void open_failure_returns_to_absent(void **state)
{
    (void)state;
    fo_pair *out;
    assert_int_equal(fo_bind_candidate(&H.reg, &VF, &out), FO_R_OK);
    assert_int_equal(ev(fo_primary_open_complete(P(), false)), FO_R_OK);
    assert_int_equal(h_state(&H, 0), FO_ABSENT);
    assert_int_equal(h_last(&H, FO_ACT_COMPLETE_BIND)->u.reason, FO_R_OPEN_FAILED);
    assert_int_equal(fo_bind_candidate(&H.reg, &VF, &out), FO_R_OK); /* may try again */
}

static void graceful_removal(void **state)
{
    (void)state;
    assert_int_equal(ev(fo_primary_query_remove(P())), FO_R_OK);
    assert_int_equal(h_state(&H, 0), FO_STANDBY_ONLY);
    assert_int_equal(h_why(), FO_R_PRIMARY_REMOVING);
    assert_on_standby();
    assert_int_equal(ev(fo_primary_pause(P())), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_COMPLETE_PRIMARY_PAUSE), 1);
    assert_int_equal(ev(fo_primary_unbind(P())), FO_R_OK);
    assert_int_equal(h_state(&H, 0), FO_DETACHING);
    assert_true(h_first(&H, FO_ACT_QUERY_PRIMARY_STATS) < h_first(&H, FO_ACT_CLOSE_PRIMARY));
    assert_int_equal(ev(fo_primary_close_complete(P())), FO_R_OK);
    assert_int_equal(h_state(&H, 0), FO_ABSENT);
    assert_int_equal(h_count(&H, FO_ACT_COMPLETE_UNBIND), 1);
    assert_on_standby();
}

static void cancelled_removal_returns_to_active(void **state)
{
    (void)state;
    assert_int_equal(ev(fo_primary_query_remove(P())), FO_R_OK);
    assert_on_standby();
    assert_int_equal(ev(fo_primary_cancel_remove(P())), FO_R_OK);
    assert_on_primary();
    assert_int_equal(ev(fo_primary_cancel_remove(P())), FO_R_BAD_STATE);
}

static void surprise_removal(void **state)
{
    (void)state;
    assert_int_equal(ev(fo_primary_surprise_removed(P())), FO_R_OK);
    assert_int_equal(h_why(), FO_R_PRIMARY_SURPRISE_REMOVED);
    assert_on_standby();
    h_detach(&H, 0);
    assert_on_standby();
}

static void unbind_without_pause(void **state)
{
    (void)state;
    assert_int_equal(ev(fo_primary_unbind(P())), FO_R_OK);
    assert_int_equal(h_state(&H, 0), FO_DETACHING);
    assert_on_standby();
    assert_false(fo_rx_accept(P(), 1));
    assert_int_equal(h_count(&H, FO_ACT_CLOSE_PRIMARY), 1);
    assert_int_equal(ev(fo_primary_close_complete(P())), FO_R_OK);
    assert_int_equal(ev(fo_primary_close_complete(P())), FO_R_BAD_STATE);
}

static void binding_pause_and_restart(void **state)
{
    (void)state;
    assert_int_equal(ev(fo_primary_pause(P())), FO_R_OK);
    assert_int_equal(h_state(&H, 0), FO_STANDBY_ONLY);
    assert_int_equal(h_why(), FO_R_PRIMARY_PAUSED);
    assert_int_equal(h_count(&H, FO_ACT_COMPLETE_PRIMARY_PAUSE), 1);
    assert_on_standby();
    assert_false(fo_rx_accept(P(), 1));
    assert_int_equal(ev(fo_primary_pause(P())), FO_R_BAD_STATE);
    assert_int_equal(ev(fo_primary_restart(P())), FO_R_OK);
    assert_on_primary();
    assert_int_equal(ev(fo_primary_restart(P())), FO_R_BAD_STATE);
}

static void vf_link_down_and_up(void **state)
{
    (void)state;
    assert_int_equal(ev(fo_primary_link(P(), (fo_link){ false, 0 })), FO_R_OK);
    assert_int_equal(h_why(), FO_R_PRIMARY_LINK_DOWN);
    assert_on_standby();
    assert_true(fo_upper_link(P()).speed_bps == 1000000000ull); /* virtio's */
    assert_int_equal(ev(fo_primary_link(P(), VF.link)), FO_R_OK);
    assert_on_primary();
}

static void vf_reset_replays_again(void **state)
{
    (void)state;
    uint32_t filter = 0xb;
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_PACKET_FILTER, &filter, 4)), FO_R_OK);
    h_answer_all_replays(&H, 0);
    h_clear_log(&H);
    assert_int_equal(ev(fo_primary_reset(P(), true)), FO_R_OK);
    assert_int_equal(h_why(), FO_R_PRIMARY_RESET);
    assert_on_standby();
    assert_int_equal(h_count(&H, FO_ACT_REPLAY), 0); /* nothing is sent into a reset */
    assert_int_equal(ev(fo_primary_reset(P(), false)), FO_R_OK);
    assert_int_equal(h_state(&H, 0), FO_REPLAYING);
    assert_int_equal(h_answer_all_replays(&H, 0), 2); /* offload, packet filter */
    assert_on_primary();
    assert_int_equal(ev(fo_primary_reset(P(), false)), FO_R_BAD_STATE);
}

static void replay_failure_stays_on_standby(void **state)
{
    (void)state;
    h_setup(state);
    uint32_t vlan = 7;
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_VLAN_ID, &vlan, 4)), FO_R_OK);
    fo_pair *out;
    assert_int_equal(fo_bind_candidate(&H.reg, &VF, &out), FO_R_OK);
    assert_int_equal(ev(fo_primary_open_complete(P(), true)), FO_R_OK);
    assert_int_equal(ev(fo_primary_restart(P())), FO_R_OK);
    assert_true(h_answer_replay(&H, 0, FO_OID_OK));            /* offload */
    assert_true(h_answer_replay(&H, 0, FO_OID_NOT_SUPPORTED)); /* VLAN: required */
    assert_int_equal(h_state(&H, 0), FO_STANDBY_ONLY);
    assert_int_equal(h_why(), FO_R_REPLAY_REJECTED);
    const fo_action *rep = h_last(&H, FO_ACT_REPORT);
    assert_int_equal(rep->u.report.reason, FO_R_REPLAY_REJECTED);
    assert_int_equal(rep->u.report.setting, FO_SET_VLAN_ID);
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_STANDBY);
}

static void standby_halt_releases_primary(void **state)
{
    (void)state;
    assert_int_equal(ev(fo_standby_halt(P())), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_REQUEST_UNBIND), 1);
    assert_int_equal(h_why(), FO_R_STANDBY_HALTING);
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_STANDBY);
    assert_int_equal(ev(fo_standby_halt(P())), FO_R_BAD_STATE);
    assert_int_equal(ev(fo_upper_pause(P())), FO_R_OK);
    h_detach(&H, 0);
    assert_int_equal(h_count(&H, FO_ACT_STANDBY_RELEASED), 1);
    assert_true(h_first(&H, FO_ACT_COMPLETE_UNBIND) < h_first(&H, FO_ACT_STANDBY_RELEASED));
    assert_int_equal(fo_registry_remove(&H.reg, P()), FO_R_OK);
}

static void standby_halt_while_opening(void **state)
{
    (void)state;
    fo_pair *out;
    assert_int_equal(fo_bind_candidate(&H.reg, &VF, &out), FO_R_OK);
    assert_int_equal(ev(fo_standby_halt(P())), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_REQUEST_UNBIND), 0);
    assert_int_equal(h_count(&H, FO_ACT_STANDBY_RELEASED), 0);
    assert_int_equal(ev(fo_primary_open_complete(P(), true)), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_REQUEST_UNBIND), 1);
    assert_int_equal(h_count(&H, FO_ACT_REPLAY), 0); /* pointless: it is going away */
    assert_int_equal(ev(fo_primary_unbind(P())), FO_R_OK);
    assert_int_equal(ev(fo_primary_close_complete(P())), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_STANDBY_RELEASED), 1);
}

static void standby_halt_while_open_fails(void **state)
{
    (void)state;
    fo_pair *out;
    assert_int_equal(fo_bind_candidate(&H.reg, &VF, &out), FO_R_OK);
    assert_int_equal(ev(fo_standby_halt(P())), FO_R_OK);
    assert_int_equal(ev(fo_primary_open_complete(P(), false)), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_STANDBY_RELEASED), 1);
}

static void primary_power_cycle(void **state)
{
    (void)state;
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_PRIMARY); /* one send in flight */
    assert_int_equal(ev(fo_primary_set_power(P(), true)), FO_R_OK);
    assert_int_equal(h_why(), FO_R_PRIMARY_LOW_POWER);
    assert_on_standby();
    assert_int_equal(h_count(&H, FO_ACT_START_DRAIN), 1);
    assert_int_equal(h_count(&H, FO_ACT_COMPLETE_PRIMARY_POWER), 0); /* drains first */
    assert_true(fo_primary_release(P(), 1));
    assert_int_equal(ev(fo_on_drained(P())), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_COMPLETE_PRIMARY_POWER), 1);
    assert_int_equal(ev(fo_primary_set_power(P(), true)), FO_R_BAD_STATE);
    h_clear_log(&H);
    assert_int_equal(ev(fo_primary_set_power(P(), false)), FO_R_OK);
    assert_int_equal(h_state(&H, 0), FO_REPLAYING); /* D0: configuration is gone */
    assert_true(h_answer_all_replays(&H, 0) >= 1);
    assert_on_primary();
}

static void standby_power_cycle(void **state)
{
    (void)state;
    assert_int_equal(ev(fo_upper_pause(P())), FO_R_OK);
    assert_int_equal(ev(fo_standby_set_power(P(), true)), FO_R_OK);
    assert_int_equal(h_why(), FO_R_STANDBY_LOW_POWER);
    assert_int_equal(ev(fo_standby_set_power(P(), true)), FO_R_BAD_STATE);
    assert_int_equal(ev(fo_standby_set_power(P(), false)), FO_R_OK);
    assert_int_equal(ev(fo_upper_restart(P())), FO_R_OK);
    assert_on_primary();
}

static void upper_pause_drains_primary_share(void **state)
{
    (void)state;
    assert_true(fo_rx_accept(P(), 3)); /* three VF receives up the stack */
    assert_int_equal(ev(fo_upper_pause(P())), FO_R_OK);
    assert_false(fo_rx_accept(P(), 1)); /* no new indications while paused */
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_STANDBY);
    assert_int_equal(h_count(&H, FO_ACT_COMPLETE_UPPER_PAUSE), 0);
    assert_false(fo_primary_release(P(), 2));
    assert_true(fo_primary_release(P(), 1));
    assert_int_equal(ev(fo_on_drained(P())), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_COMPLETE_UPPER_PAUSE), 1);
    assert_int_equal(h_state(&H, 0), FO_ACTIVE); /* the pair itself is fine */
    assert_int_equal(ev(fo_upper_pause(P())), FO_R_BAD_STATE);
    assert_int_equal(ev(fo_upper_restart(P())), FO_R_OK);
    assert_on_primary();
    assert_int_equal(ev(fo_upper_restart(P())), FO_R_BAD_STATE);
}

/* NDIS still indicates to a pausing binding, and the host still sends to the
 * VF's MAC: such receives go up copied (for the indication only) instead of
 * being dropped, the pause completes once they are back, and nothing goes up
 * once vfo's own miniport pauses or the binding detaches. */
static void pausing_binding_hands_receives_up_briefly(void **state)
{
    (void)state;
    assert_int_equal(ev(fo_primary_pause(P())), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_COMPLETE_PRIMARY_PAUSE), 1);
    assert_false(fo_rx_accept(P(), 1));      /* nothing is lent any more ... */
    assert_true(fo_rx_accept_brief(P(), 2)); /* ... but it goes up, copied */
    assert_true(fo_primary_release(P(), 2)); /* a repeated drained edge: harmless */
    assert_int_equal(ev(fo_on_drained(P())), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_COMPLETE_PRIMARY_PAUSE), 1);
    assert_int_equal(ev(fo_primary_restart(P())), FO_R_OK);
    assert_on_primary();

    /* A pause waits for a brief receive in progress. */
    h_clear_log(&H);
    assert_true(fo_rx_accept_brief(P(), 1));
    assert_int_equal(ev(fo_primary_pause(P())), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_COMPLETE_PRIMARY_PAUSE), 0);
    assert_true(fo_primary_release(P(), 1));
    assert_int_equal(ev(fo_on_drained(P())), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_COMPLETE_PRIMARY_PAUSE), 1);

    /* vfo's miniport pauses: nothing goes up at all. */
    assert_int_equal(ev(fo_upper_pause(P())), FO_R_OK);
    assert_false(fo_rx_accept_brief(P(), 1));
    assert_int_equal(ev(fo_upper_restart(P())), FO_R_OK);
    assert_true(fo_rx_accept_brief(P(), 1));
    assert_true(fo_primary_release(P(), 1));

    /* Detaching: nothing either. */
    assert_int_equal(ev(fo_primary_unbind(P())), FO_R_OK);
    assert_false(fo_rx_accept_brief(P(), 1));
    assert_false(fo_rx_accept(P(), 1));
}

static void upper_pause_without_primary_completes_at_once(void **state)
{
    (void)state;
    assert_int_equal(ev(fo_upper_pause(P())), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_COMPLETE_UPPER_PAUSE), 1);
}

/* Primary events with no primary (or at the wrong moment) are refused and
 * change nothing. */
static void out_of_order_events_are_refused(void **state)
{
    (void)state;
    fo_pair_info before, after;
    fo_pair_get_info(P(), &before);
    assert_int_equal(ev(fo_primary_open_complete(P(), true)), FO_R_BAD_STATE);
    assert_int_equal(ev(fo_primary_restart(P())), FO_R_BAD_STATE);
    assert_int_equal(ev(fo_primary_pause(P())), FO_R_BAD_STATE);
    assert_int_equal(ev(fo_primary_link(P(), VF.link)), FO_R_BAD_STATE);
    assert_int_equal(ev(fo_primary_reset(P(), true)), FO_R_BAD_STATE);
    assert_int_equal(ev(fo_primary_query_remove(P())), FO_R_BAD_STATE);
    assert_int_equal(ev(fo_primary_cancel_remove(P())), FO_R_BAD_STATE);
    assert_int_equal(ev(fo_primary_surprise_removed(P())), FO_R_BAD_STATE);
    assert_int_equal(ev(fo_primary_set_power(P(), true)), FO_R_BAD_STATE);
    assert_int_equal(ev(fo_primary_unbind(P())), FO_R_BAD_STATE);
    assert_int_equal(ev(fo_primary_close_complete(P())), FO_R_BAD_STATE);
    assert_int_equal(ev(fo_primary_replay_complete(P(), 1, FO_OID_OK)), FO_R_STALE_COMPLETION);
    assert_int_equal(ev(fo_on_timer(P(), 12345)), FO_R_STALE_COMPLETION);
    fo_pair_get_info(P(), &after);
    assert_int_equal(after.state, FO_ABSENT);
    assert_int_equal(after.bad_events, before.bad_events + 11);
    assert_int_equal(after.stale_completions, before.stale_completions + 2);
    assert_int_equal(H.nlog, 0);
}

static void stale_replay_token_is_ignored(void **state)
{
    (void)state;
    uint32_t f = 1;
    assert_int_equal(ev(fo_record_setting(P(), FO_SET_PACKET_FILTER, &f, 4)), FO_R_OK);
    uint32_t token = H.pairs[0].replay_token;
    assert_int_equal(ev(fo_primary_replay_complete(P(), token + 1, FO_OID_OK)),
                     FO_R_STALE_COMPLETION);
    assert_true(h_answer_replay(&H, 0, FO_OID_OK));
    assert_int_equal(ev(fo_primary_replay_complete(P(), token, FO_OID_OK)), FO_R_STALE_COMPLETION);
}

static void reattach_after_detach(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++) {
        h_detach(&H, 0);
        assert_on_standby();
        h_attach(&H, 0, &VF);
        assert_on_primary();
    }
    fo_pair_info info;
    fo_pair_get_info(P(), &info);
    assert_int_equal(info.attaches, 6);
    assert_int_equal(info.detaches, 5);
    assert_int_equal(info.inflight, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(attach_walks_opening_replaying_active, h_setup),
        cmocka_unit_test_setup(link_down_vf_waits_then_activates_on_link_up, h_setup),
        cmocka_unit_test_setup(open_failure_returns_to_absent, h_setup),
        cmocka_unit_test_setup(graceful_removal, h_setup_active),
        cmocka_unit_test_setup(cancelled_removal_returns_to_active, h_setup_active),
        cmocka_unit_test_setup(surprise_removal, h_setup_active),
        cmocka_unit_test_setup(unbind_without_pause, h_setup_active),
        cmocka_unit_test_setup(binding_pause_and_restart, h_setup_active),
        cmocka_unit_test_setup(vf_link_down_and_up, h_setup_active),
        cmocka_unit_test_setup(vf_reset_replays_again, h_setup_active),
        cmocka_unit_test(replay_failure_stays_on_standby),
        cmocka_unit_test_setup(standby_halt_releases_primary, h_setup_active),
        cmocka_unit_test_setup(standby_halt_while_opening, h_setup),
        cmocka_unit_test_setup(standby_halt_while_open_fails, h_setup),
        cmocka_unit_test_setup(primary_power_cycle, h_setup_active),
        cmocka_unit_test_setup(standby_power_cycle, h_setup_active),
        cmocka_unit_test_setup(upper_pause_drains_primary_share, h_setup_active),
        cmocka_unit_test_setup(upper_pause_without_primary_completes_at_once, h_setup),
        cmocka_unit_test_setup(out_of_order_events_are_refused, h_setup),
        cmocka_unit_test_setup(stale_replay_token_is_ignored, h_setup_active),
        cmocka_unit_test_setup(reattach_after_detach, h_setup_active),
        cmocka_unit_test_setup(pausing_binding_hands_receives_up_briefly, h_setup_active),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
