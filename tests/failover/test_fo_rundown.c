/* The rundown gate: its single-threaded contract, then real threads racing
 * the control path (the model in model/fo_rundown.pml checks all interleavings
 * of a small configuration; this checks the C code on real CPUs). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <sched.h>
#include <cmocka.h>

#include "fo_rundown.h"

static void gate_bits_decide_who_may_acquire(void **state)
{
    (void)state;
    fo_rundown rd;
    fo_rundown_init(&rd);
    assert_false(fo_rundown_acquire(&rd, FO_RD_OPEN, 1));
    assert_false(fo_rundown_acquire(&rd, FO_RD_TX, 1));
    assert_int_equal(fo_rundown_set_gate(&rd, FO_RD_OPEN), 0);
    assert_true(fo_rundown_acquire(&rd, FO_RD_OPEN, 2));
    assert_false(fo_rundown_acquire(&rd, FO_RD_TX, 1));      /* receives only */
    assert_int_equal(fo_rundown_set_gate(&rd, FO_RD_TX), 2); /* TX implies OPEN */
    assert_int_equal(fo_rundown_gate(&rd), FO_RD_TX | FO_RD_OPEN);
    assert_true(fo_rundown_acquire(&rd, FO_RD_TX, 1));
    assert_int_equal(fo_rundown_refs(&rd), 3);
    assert_false(fo_rundown_drained(&rd));
}

static void drained_edge_goes_to_exactly_one_party(void **state)
{
    (void)state;
    fo_rundown rd;
    fo_rundown_init(&rd);
    fo_rundown_set_gate(&rd, FO_RD_TX);
    assert_true(fo_rundown_acquire(&rd, FO_RD_TX, 2));
    /* open gate: releasing to zero is not "drained" */
    assert_int_equal(fo_rundown_release(&rd, 1), FO_RD_RELEASED);
    assert_true(fo_rundown_acquire(&rd, FO_RD_OPEN, 1));
    assert_int_equal(fo_rundown_set_gate(&rd, 0), 2); /* closer sees refs: not its edge */
    assert_false(fo_rundown_acquire(&rd, FO_RD_OPEN, 1));
    assert_int_equal(fo_rundown_release(&rd, 1), FO_RD_RELEASED);
    assert_false(fo_rundown_drained(&rd));
    assert_int_equal(fo_rundown_release(&rd, 1), FO_RD_DRAINED); /* the last releaser's */
    assert_true(fo_rundown_drained(&rd));
    /* reopened and closed empty: the closer's edge, no releaser will see one */
    fo_rundown_set_gate(&rd, FO_RD_OPEN);
    assert_int_equal(fo_rundown_set_gate(&rd, 0), 0);
    assert_true(fo_rundown_drained(&rd));
}

/* A pausing binding: OPEN closed, BRIEF open. Brief references count toward
 * the drain, and each one that empties the count reports the edge again. */
static void brief_receives_while_open_is_closed(void **state)
{
    (void)state;
    fo_rundown rd;
    fo_rundown_init(&rd);
    assert_false(fo_rundown_acquire(&rd, FO_RD_BRIEF, 1));
    fo_rundown_set_gate(&rd, FO_RD_OPEN | FO_RD_BRIEF);
    assert_true(fo_rundown_acquire(&rd, FO_RD_OPEN, 1));
    assert_int_equal(fo_rundown_set_gate(&rd, FO_RD_BRIEF), 1);
    assert_false(fo_rundown_acquire(&rd, FO_RD_OPEN, 1));
    assert_true(fo_rundown_acquire(&rd, FO_RD_BRIEF, 2));
    assert_int_equal(fo_rundown_refs(&rd), 3);
    assert_int_equal(fo_rundown_release(&rd, 1), FO_RD_RELEASED);
    assert_int_equal(fo_rundown_release(&rd, 2), FO_RD_DRAINED);
    assert_true(fo_rundown_drained(&rd)); /* drained although BRIEF is open */
    assert_true(fo_rundown_acquire(&rd, FO_RD_BRIEF, 1));
    assert_false(fo_rundown_drained(&rd));
    assert_int_equal(fo_rundown_release(&rd, 1), FO_RD_DRAINED); /* again: by level */
    assert_int_equal(fo_rundown_gate(&rd), FO_RD_BRIEF);
    fo_rundown_set_gate(&rd, 0);
    assert_false(fo_rundown_acquire(&rd, FO_RD_BRIEF, 1));
}

static void bad_counts_are_refused(void **state)
{
    (void)state;
    fo_rundown rd;
    fo_rundown_init(&rd);
    fo_rundown_set_gate(&rd, FO_RD_OPEN);
    assert_int_equal(fo_rundown_release(&rd, 1), FO_RD_UNDERFLOW);
    assert_true(fo_rundown_acquire(&rd, FO_RD_OPEN, FO_RD_REF_MAX));
    assert_false(fo_rundown_acquire(&rd, FO_RD_OPEN, 1)); /* would overflow */
    assert_int_equal(fo_rundown_refs(&rd), FO_RD_REF_MAX);
    assert_int_equal(fo_rundown_gate(&rd), FO_RD_OPEN); /* the count never spills */
    assert_int_equal(fo_rundown_release(&rd, FO_RD_REF_MAX), FO_RD_RELEASED);
    assert_int_equal(fo_rundown_refs(&rd), 0);
}

/* ---- threads ---------------------------------------------------------- */

enum { WORKERS = 3, ROUNDS = 3000 };

static fo_rundown RD;
static vfo_atomic32 phase; /* odd from just after a close until just before the reopen */
static vfo_atomic32 stop;
static vfo_atomic32 drained_edges;
static vfo_atomic32 violations;

static void *worker(void *arg)
{
    uint32_t seed = (uint32_t)(uintptr_t)arg * 2654435761u + 1;
    uint32_t held = 0;
    while (!vfo_atomic32_load(&stop)) {
        seed = seed * 1103515245u + 12345u;
        if (held < 8 && (seed >> 16) % 3 != 0) {
            int32_t before = vfo_atomic32_load(&phase);
            uint32_t need = (seed >> 20) & 1 ? FO_RD_TX : FO_RD_OPEN;
            uint32_t n = 1 + (seed >> 24) % 3;
            if (fo_rundown_acquire(&RD, need, n)) {
                /* closed before we started and not reopened since: the
                 * acquire ran entirely inside a closed phase */
                if ((before & 1) && vfo_atomic32_load(&phase) == before)
                    vfo_atomic32_inc(&violations);
                held += n;
            }
        } else if (held) {
            uint32_t n = 1 + (seed >> 24) % held;
            fo_rd_release r = fo_rundown_release(&RD, n);
            if (r == FO_RD_UNDERFLOW)
                vfo_atomic32_inc(&violations);
            if (r == FO_RD_DRAINED)
                vfo_atomic32_inc(&drained_edges);
            held -= n;
        }
    }
    while (held) {
        if (fo_rundown_release(&RD, 1) == FO_RD_DRAINED)
            vfo_atomic32_inc(&drained_edges);
        held--;
    }
    return NULL;
}

static void racing_threads_never_acquire_after_close(void **state)
{
    (void)state;
    pthread_t t[WORKERS];
    fo_rundown_init(&RD);
    for (uintptr_t i = 0; i < WORKERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, (void *)(i + 1)), 0);
    int closer_edges = 0;
    for (int round = 0; round < ROUNDS; round++) {
        if (round)
            vfo_atomic32_inc(&phase); /* even: before the gate opens */
        fo_rundown_set_gate(&RD, round % 2 ? FO_RD_TX : FO_RD_OPEN);
        for (volatile int spin = 0; spin < 200; spin++)
            ;
        if (fo_rundown_set_gate(&RD, 0) == 0)
            closer_edges++;
        vfo_atomic32_inc(&phase); /* odd: after the gate closed */
        /* The glue waits for the edge, not the level: the workers keep
         * releasing, and exactly one edge must arrive for this close. */
        long waited = 0;
        while (closer_edges + vfo_atomic32_load(&drained_edges) < round + 1 && waited < 100000000)
            if (++waited % 64 == 0)
                sched_yield();
        assert_true(fo_rundown_drained(&RD));
        assert_int_equal(closer_edges + vfo_atomic32_load(&drained_edges), round + 1);
    }
    vfo_atomic32_store(&stop, 1);
    for (int i = 0; i < WORKERS; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(vfo_atomic32_load(&violations), 0);
    assert_int_equal(fo_rundown_refs(&RD), 0);
    assert_int_equal(closer_edges + vfo_atomic32_load(&drained_edges), ROUNDS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gate_bits_decide_who_may_acquire),
        cmocka_unit_test(drained_edge_goes_to_exactly_one_party),
        cmocka_unit_test(brief_receives_while_open_is_closed),
        cmocka_unit_test(bad_counts_are_refused),
        cmocka_unit_test(racing_threads_never_acquire_after_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
