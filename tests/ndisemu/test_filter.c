/*
 * Lightweight filters in ndisemu: the pass-through filter (passflt) stacked
 * between the minimal miniport and protocol, through the full lifecycle
 * scenario and the filter scenario (held NBLs, pended OIDs, stack restarts,
 * run-time detach and attach, power), for many seeds, verifier on; a
 * mandatory filter that fails to attach keeps the protocol off the miniport,
 * an optional one is skipped.
 *
 *   test_ndisemu_filter [seeds]   (default 20)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"
#include "passflt.h"

static unsigned g_seeds = 20;
static harness g_h;
static harness *g_live;

static int teardown(void **state)
{
    (void)state;
    if (g_live) {
        h_finish(g_live);
        g_live = NULL;
    }
    return 0;
}

/* The full miniport/protocol lifecycle with the filter in between, and the
 * filter's own scenario, for every seed; holding and pending as given. */
static void run_seeds(unsigned hold_ms, unsigned pend_ms, bool bypass, int (*scenario)(harness *))
{
    const char *desc = h_passflt_desc("passflt", "optional", hold_ms, pend_ms, false, bypass);
    assert_non_null(desc);
    for (uint64_t seed = 1; seed <= g_seeds; seed++) {
        int r = h_run_clean_filtered(EMU_SCHED_DETERMINISTIC, seed, PASSFLT_SO, desc, scenario);
        if (r)
            print_error("seed %llu failed at line %d\n", (unsigned long long)seed, r);
        assert_int_equal(r, 0);
    }
}

static void lifecycle_through_a_pass_through_filter(void **state)
{
    (void)state;
    run_seeds(0, 0, false, h_scenario);
}

static void lifecycle_through_a_filter_that_holds_and_pends(void **state)
{
    (void)state;
    run_seeds(2, 1, false, h_scenario);
}

static void filter_scenario_pass_through(void **state)
{
    (void)state;
    run_seeds(0, 0, false, h_filter_scenario);
}

static void filter_scenario_holding_and_pending(void **state)
{
    (void)state;
    run_seeds(5, 3, false, h_filter_scenario);
}

static void filter_scenario_bypassing_receives(void **state)
{
    (void)state;
    run_seeds(3, 0, true, h_filter_scenario);
}

/* The filter really held NBLs and pended OIDs (and with BypassReceive saw
 * no receive at all: NDIS indicated past it). */
static void the_filter_holds_pends_and_bypasses(void **state)
{
    (void)state;
    harness *h = &g_h;
    g_live = h;
    const char *desc = h_passflt_desc("passflt", "optional", 5, 3, false, false);
    assert_int_equal(h_start_filtered(h, EMU_SCHED_DETERMINISTIC, 7, PASSFLT_SO, desc, false),
                     EMU_OK);
    assert_int_equal(h_filter_scenario(h), 0);
    passflt_stats f;
    assert_int_equal(h_filter_stats(h, &f), EMU_OK);
    assert_true(f.tx_held > 0 && f.rx_held > 0 && f.oids_pended > 0);
    assert_true(f.tx_passed >= f.tx_held && f.rx_passed >= f.rx_held);
    assert_int_equal(emu_shutdown(h->rt), EMU_OK);
    g_live = NULL;
    h_finish(h);

    g_live = h;
    desc = h_passflt_desc("passflt", "optional", 0, 0, false, true);
    assert_int_equal(h_start_filtered(h, EMU_SCHED_DETERMINISTIC, 7, PASSFLT_SO, desc, false),
                     EMU_OK);
    assert_int_equal(h_filter_scenario(h), 0);
    assert_int_equal(h_filter_stats(h, &f), EMU_OK);
    assert_true(f.tx_passed > 0);
    assert_int_equal(f.rx_passed, 0);
    assert_int_equal(emu_shutdown(h->rt), EMU_OK);
    g_live = NULL;
    h_finish(h);
}

/* FilterRunType: a mandatory filter that fails to attach keeps every
 * protocol off the miniport; an optional one is left out of the stack. */
static void failed_attach_mandatory_and_optional(void **state)
{
    (void)state;
    for (int mandatory = 0; mandatory <= 1; mandatory++) {
        harness *h = &g_h;
        g_live = h;
        const char *desc =
            h_passflt_desc("passflt", mandatory ? "mandatory" : "optional", 0, 0, true, false);
        assert_int_equal(h_start_filtered(h, EMU_SCHED_DETERMINISTIC, 3, PASSFLT_SO, desc, false),
                         EMU_OK);
        assert_int_equal(h_add_nic(h), EMU_OK);
        const char *names[4];
        assert_int_equal(emu_filter_stack(h->rt, h->ad, names, 4), 0);
        miniprot_stats s;
        assert_int_equal(h_stats(h, &s), EMU_OK);
        assert_int_equal(s.bound, mandatory ? 0 : 1);
        passflt_stats f;
        assert_int_equal(h_filter_stats(h, &f), EMU_OK);
        assert_int_equal(f.attach_failures, 1);
        assert_int_equal(f.modules, 0);
        if (!mandatory) {
            /* at run time too: the stack pauses, the attach fails, the
             * stack restarts without it, the protocol keeps its binding */
            assert_int_equal(emu_filter_set_path(h->rt, "passflt", "loopnic0", false), EMU_OK);
            assert_int_equal(emu_filter_set_path(h->rt, "passflt", "loopnic0", true),
                             EMU_ERR_DRIVER);
            miniprot_stats s2;
            assert_int_equal(h_stats(h, &s2), EMU_OK);
            assert_int_equal(s2.bound, 1);
            assert_int_equal(s2.pauses, s.pauses + 1);
            assert_int_equal(s2.restarts, s.restarts + 1);
            assert_int_equal(h_send(h, 2, 60), EMU_OK);
            assert_int_equal(h_stats(h, &s), EMU_OK);
            assert_int_equal(s.received, s2.received + 2);
        }
        assert_false(emu_failed(h->rt));
        assert_int_equal(emu_shutdown(h->rt), EMU_OK);
        g_live = NULL;
        h_finish(h);
    }
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_seeds = (unsigned)strtoul(argv[1], NULL, 10);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(lifecycle_through_a_pass_through_filter, teardown),
        cmocka_unit_test_teardown(lifecycle_through_a_filter_that_holds_and_pends, teardown),
        cmocka_unit_test_teardown(filter_scenario_pass_through, teardown),
        cmocka_unit_test_teardown(filter_scenario_holding_and_pending, teardown),
        cmocka_unit_test_teardown(filter_scenario_bypassing_receives, teardown),
        cmocka_unit_test_teardown(the_filter_holds_pends_and_bypasses, teardown),
        cmocka_unit_test_teardown(failed_attach_mandatory_and_optional, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
