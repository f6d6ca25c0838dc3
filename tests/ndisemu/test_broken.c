/*
 * Each deliberately broken driver trips exactly its verifier rule: the run
 * stops with one violation, and it names that rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

typedef struct broken_case {
    const char *rule;
    bool protocol_side; /* the protocol is the broken one */
} broken_case;

static const broken_case k_cases[] = {
    { "NblSendCompleteOnce", false },  { "PausedNoIndicate", false },
    { "DoubleComplete", false },       { "NdisOidComplete", false },
    { "MiniportPause_Return", false }, { "Irql_Miniport_Driver_Function", false },
    { "NoWaitAtDispatch", false },     { "SpinLock", false },
    { "SpinlockRelease", false },      { "IrqlRestored", false },
    { "LeakAtHalt", false },           { "OperationNotCompleted", false },
    { "MiniportAttributes", false },   { "LeakAtUnload", false },
    { "NblReturnOnce", true },         { "NblSourceHandle", true },
    { "PausedNoSend", true },          { "HandleAfterClose", true },
    { "NblContextBalanced", true },    { "PauseWithOutstanding", true },
};

static harness *g_live; /* freed by the teardown when an assertion jumps out */

static int teardown(void **state)
{
    (void)state;
    if (g_live) {
        h_finish(g_live);
        g_live = NULL;
    }
    return 0;
}

static void trips_exactly_its_rule(void **state)
{
    const broken_case *c = *state;
    char mp[512], pt[512];
    snprintf(mp, sizeof(mp), "%s", MINIMP_SO);
    snprintf(pt, sizeof(pt), "%s", MINIPROT_SO);
    if (c->protocol_side)
        snprintf(pt, sizeof(pt), "%s/broken_%s.so", DRIVER_DIR_PT, c->rule);
    else
        snprintf(mp, sizeof(mp), "%s/broken_%s.so", DRIVER_DIR_MP, c->rule);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        harness h;
        g_live = &h;
        int err = h_start(&h, EMU_SCHED_DETERMINISTIC, seed, mp, pt, true);
        if (err == EMU_OK) {
            h_scenario(&h);
            if (h.ctl && !emu_failed(h.rt)) {
                emu_ctl_close(h.ctl);
                h.ctl = NULL;
            }
            emu_shutdown(h.rt);
        }
        assert_true(emu_failed(h.rt));
        assert_int_equal(emu_violation_count(h.rt), 1);
        const emu_violation *v = emu_violation_get(h.rt, 0);
        if (strcmp(v->rule, c->rule) != 0)
            print_error("broken_%s (seed %llu) tripped %s in %s: %s\n", c->rule,
                        (unsigned long long)seed, v->rule, v->call, v->detail);
        assert_string_equal(v->rule, c->rule);
        h_finish(&h); /* a stopped run calls no driver code: no IRP_MJ_CLOSE */
        g_live = NULL;
    }
}

static void the_correct_drivers_trip_nothing(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_start(&h, EMU_SCHED_DETERMINISTIC, 1, MINIMP_SO, MINIPROT_SO, false),
                     EMU_OK);
    assert_int_equal(h_scenario(&h), 0);
    emu_ctl_close(h.ctl);
    h.ctl = NULL;
    assert_int_equal(emu_shutdown(h.rt), EMU_OK);
    assert_int_equal(emu_violation_count(h.rt), 0);
    h_finish(&h);
}

int main(void)
{
    struct CMUnitTest tests[ARRAYSIZE(k_cases) + 1];
    for (size_t i = 0; i < ARRAYSIZE(k_cases); i++) {
        struct CMUnitTest t = { k_cases[i].rule, trips_exactly_its_rule, NULL, teardown,
                                (void *)&k_cases[i] };
        tests[i] = t;
    }
    struct CMUnitTest ok = cmocka_unit_test(the_correct_drivers_trip_nothing);
    tests[ARRAYSIZE(k_cases)] = ok;
    return _cmocka_run_group_tests("broken drivers", tests, ARRAYSIZE(tests), NULL, NULL);
}
