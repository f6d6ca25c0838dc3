/* In-flight packets across a switch: the rundown as the glue uses it, the
 * resend hand-back, and the RX accept decision (issue 4, item 8). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "fo_harness.h"

/* What the glue does with a primary send completion: resend on virtio or
 * complete upwards, then release the reference. Returns "resent". */
static bool complete_primary_send(fo_tx_status st, bool *drained)
{
    bool resend = fo_tx_resend(P(), st);
    *drained = fo_primary_release(P(), 1);
    return resend;
}

static void surprise_removal_under_traffic_loses_nothing(void **state)
{
    (void)state;
    enum { N = 64 };
    int on_primary = 0;
    for (int i = 0; i < N; i++)
        on_primary += fo_select_tx(P(), NULL) == FO_TX_PRIMARY;
    assert_int_equal(on_primary, N);

    assert_int_equal(ev(fo_primary_surprise_removed(P())), FO_R_OK);
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_STANDBY); /* new sends: virtio */
    assert_int_equal(ev(fo_primary_pause(P())), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_START_DRAIN), 1);
    assert_int_equal(h_last(&H, FO_ACT_START_DRAIN)->u.refs, N);
    assert_int_equal(h_count(&H, FO_ACT_COMPLETE_PRIMARY_PAUSE), 0);

    /* the VF fails what it held, with every "going away" status there is */
    const fo_tx_status leaving[] = {
        FO_TXS_REMOVED,   FO_TXS_PAUSED, FO_TXS_RESET, FO_TXS_ABORTED, FO_TXS_MEDIA_DISCONNECTED,
        FO_TXS_RESOURCES, FO_TXS_FAILED
    };
    int resent = 0, drained_edges = 0;
    for (int i = 0; i < N; i++) {
        bool drained;
        resent += complete_primary_send(leaving[i % 7], &drained);
        drained_edges += drained;
        if (drained)
            assert_int_equal(ev(fo_on_drained(P())), FO_R_OK);
        assert_int_equal(h_count(&H, FO_ACT_COMPLETE_PRIMARY_PAUSE), i == N - 1);
    }
    assert_int_equal(resent, N); /* zero transmit loss */
    assert_int_equal(drained_edges, 1);
    fo_pair_info info;
    fo_pair_get_info(P(), &info);
    assert_int_equal(info.tx_resends, N);
    assert_int_equal(info.inflight, 0);

    assert_int_equal(ev(fo_primary_unbind(P())), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_CLOSE_PRIMARY), 1); /* already drained */
}

static void close_waits_for_every_lent_nbl(void **state)
{
    (void)state;
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_PRIMARY);
    assert_true(fo_rx_accept(P(), 4)); /* a chain of 4 VF receives up the stack */
    assert_int_equal(ev(fo_primary_unbind(P())), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_CLOSE_PRIMARY), 0);
    /* nothing new is lent once detach began */
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_STANDBY);
    assert_false(fo_rx_accept(P(), 1));
    bool drained;
    assert_false(complete_primary_send(FO_TXS_OK, &drained)); /* delivered: no resend */
    assert_false(drained);
    assert_false(fo_primary_release(P(), 3));          /* the upper stack returns 3 ... */
    assert_int_equal(ev(fo_on_drained(P())), FO_R_OK); /* a spurious call is harmless */
    assert_int_equal(h_count(&H, FO_ACT_CLOSE_PRIMARY), 0);
    assert_true(fo_primary_release(P(), 1)); /* ... and the last one */
    assert_int_equal(ev(fo_on_drained(P())), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_CLOSE_PRIMARY), 1);
    assert_int_equal(ev(fo_on_drained(P())), FO_R_OK);
    assert_int_equal(h_count(&H, FO_ACT_CLOSE_PRIMARY), 1); /* once */
}

static void plain_failure_while_active_is_completed_not_resent(void **state)
{
    (void)state;
    bool drained;
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_PRIMARY);
    assert_false(complete_primary_send(FO_TXS_FAILED, &drained));
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_PRIMARY);
    assert_false(complete_primary_send(FO_TXS_INVALID_PACKET, &drained));
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_PRIMARY);
    assert_true(complete_primary_send(FO_TXS_PAUSED, &drained));
    /* once TX has left the primary, a plain failure is the primary leaving */
    assert_int_equal(fo_select_tx(P(), NULL), FO_TX_PRIMARY);
    assert_int_equal(ev(fo_primary_link(P(), (fo_link){ false, 0 })), FO_R_OK);
    assert_true(complete_primary_send(FO_TXS_FAILED, &drained));
    assert_false(drained); /* link down does not close the gate */
    fo_pair_info info;
    fo_pair_get_info(P(), &info);
    assert_int_equal(info.inflight, 0);
    assert_int_equal(info.release_underflows, 0);
}

static void receives_accepted_while_not_active(void **state)
{
    (void)state;
    /* both paths are accepted at all times while the binding runs */
    assert_int_equal(ev(fo_primary_link(P(), (fo_link){ false, 0 })), FO_R_OK);
    assert_true(fo_rx_accept(P(), 2));
    assert_false(fo_primary_release(P(), 2));
    assert_false(fo_rx_accept(P(), 0)); /* an empty chain takes nothing */
    fo_pair_info info;
    fo_pair_get_info(P(), &info);
    assert_int_equal(info.inflight, 0);
}

static void underflow_is_refused_and_counted(void **state)
{
    (void)state;
    assert_true(fo_rx_accept(P(), 1));
    assert_false(fo_primary_release(P(), 2));
    fo_pair_info info;
    fo_pair_get_info(P(), &info);
    assert_int_equal(info.release_underflows, 1);
    assert_int_equal(info.inflight, 1); /* unchanged */
    assert_false(fo_primary_release(P(), 1));
}

static void nothing_is_sent_to_a_paused_binding(void **state)
{
    (void)state;
    assert_int_equal(ev(fo_primary_pause(P())), FO_R_OK);
    for (int i = 0; i < 10; i++)
        assert_int_equal(fo_select_tx(P(), NULL), FO_TX_STANDBY);
    fo_pair_info info;
    fo_pair_get_info(P(), &info);
    assert_int_equal(info.inflight, 0);
    assert_false(info.gate_open);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(surprise_removal_under_traffic_loses_nothing, h_setup_active),
        cmocka_unit_test_setup(close_waits_for_every_lent_nbl, h_setup_active),
        cmocka_unit_test_setup(plain_failure_while_active_is_completed_not_resent, h_setup_active),
        cmocka_unit_test_setup(receives_accepted_while_not_active, h_setup_active),
        cmocka_unit_test_setup(underflow_is_refused_and_counted, h_setup_active),
        cmocka_unit_test_setup(nothing_is_sent_to_a_paused_binding, h_setup_active),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
