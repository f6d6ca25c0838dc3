/*
 * The policy across crashes and flapping: a crash after any single write
 * (record, binding change, commit, record deletion) leaves state a restarted
 * service converges from, and a VF that comes and goes a hundred times is
 * never touched again once converged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "world.h"

/* Reconciles, crashing after `after_ops` mutating operations. True when it
 * crashed; the policy instance is then dead (only freed). */
static bool reconcile_or_crash(struct world *w, long after_ops)
{
    w->crash.countdown = after_ops;
    if (setjmp(w->crash_env) != 0) {
        w->crash.countdown = -1;
        return true;
    }
    assert_int_equal(world_reconcile(w), VSVC_OK);
    w->crash.countdown = -1;
    return false;
}

/* The write-ahead invariant, checked at the instant of a crash: every
 * binding whose committed state differs from the original has a record
 * holding the original. */
static void assert_changes_recorded(struct world *w, const struct snap *before)
{
    size_t i;
    for (i = 0; i < w->net.n_bindings; i++) {
        const struct fake_binding *b = &w->net.bindings[i];
        const struct vsvc_store_record *r;
        if (b->enabled == before->enabled[i])
            continue;
        r = fake_store_find(&w->store, b->adapter_id, b->path);
        if (r == NULL)
            fail_msg("binding %s on %s changed without a record", b->path, b->adapter_id);
        assert_int_equal(r->was_enabled, before->enabled[i]);
    }
}

/* Every record holds the original state of its binding. */
static void assert_records_true(struct world *w, const struct snap *before)
{
    size_t i;
    for (i = 0; i < w->net.n_bindings; i++) {
        const struct fake_binding *b = &w->net.bindings[i];
        const struct vsvc_store_record *r = fake_store_find(&w->store, b->adapter_id, b->path);
        if (r != NULL)
            assert_int_equal(r->was_enabled, before->enabled[i]);
    }
}

/* After a restart: converge, then unpair and get exactly the original back. */
static void assert_converges_then_restores(struct world *w, const struct snap *before)
{
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_vf_stripped(w, F1);
    assert_adapter_as(w, V1, before);
    assert_records_true(w, before);
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ABSENT, NULL);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    w->now += w->cfg.restore_grace_ms;
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_snap_equal(w, before);
    assert_int_equal(vsvc_mem_store_count(w->store.mem), 0);
}

static struct world *world_with_user_choices(bool transactional, struct snap *before)
{
    struct world *w = world_new(transactional);
    fake_net_find(&w->net, F1, "vfoprot")->enabled = false;
    fake_net_find(&w->net, F1, "ms_rspndr")->enabled = false;
    snap_take(w, before);
    return w;
}

static void sweep_crash_while_enforcing(bool transactional)
{
    struct snap before;
    long k;
    bool crashed = true;

    for (k = 1; crashed; k++) {
        struct world *w = world_with_user_choices(transactional, &before);
        world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
        crashed = reconcile_or_crash(w, k);
        assert_changes_recorded(w, &before);
        world_restart(w);
        assert_converges_then_restores(w, &before);
        world_free(w);
    }
    /* 7 records + 7 changes + 1 commit: every one of them was a crash point. */
    assert_true(k > 15);
}

static void sweep_crash_while_restoring(bool transactional)
{
    struct snap before;
    long k;
    bool crashed = true;

    for (k = 1; crashed; k++) {
        struct world *w = world_with_user_choices(transactional, &before);
        world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
        assert_int_equal(world_reconcile(w), VSVC_OK);
        world_pair(w, V1, MAC1, VFO_CTL_PAIR_ABSENT, NULL);
        assert_int_equal(world_reconcile(w), VSVC_OK);
        w->now += w->cfg.restore_grace_ms;
        crashed = reconcile_or_crash(w, k);
        assert_changes_recorded(w, &before);
        world_restart(w);
        assert_converges_then_restores(w, &before);
        world_free(w);
    }
    /* 7 restores + 1 commit + 7 record deletions. */
    assert_true(k > 15);
}

static void crash_at_every_step_of_enforcing_inetcfg(void **state)
{
    (void)state;
    sweep_crash_while_enforcing(true);
}

static void crash_at_every_step_of_enforcing_immediate_backend(void **state)
{
    (void)state;
    sweep_crash_while_enforcing(false);
}

static void crash_at_every_step_of_restoring_inetcfg(void **state)
{
    (void)state;
    sweep_crash_while_restoring(true);
}

static void crash_at_every_step_of_restoring_immediate_backend(void **state)
{
    (void)state;
    sweep_crash_while_restoring(false);
}

/* The case named in the issue: the disable has landed, the process dies
 * before it can do anything else. The record was written first, so the
 * restarted service still knows what to put back. */
static void crash_between_disable_and_anything_else(void **state)
{
    struct snap before;
    struct world *w = world_new(false);
    (void)state;

    snap_take(w, &before);
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    /* op 1: record of the first binding to change (ms_tcpip); op 2: its disable. */
    assert_true(reconcile_or_crash(w, 2));
    assert_false(fake_net_enabled(&w->net, F1, "ms_tcpip"));
    assert_true(fake_store_find(&w->store, F1, "ms_tcpip")->was_enabled);
    world_restart(w);
    assert_converges_then_restores(w, &before);
    world_free(w);
}

static void set_pairs_state(struct world *w, uint32_t state)
{
    world_pair(w, V1, MAC1, state, F1);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    w->now += 50;
}

/* A VF flapping (surprise removal, re-arrival, vfo re-pairing, link flaps,
 * control device briefly unreadable) 100 times: once converged, nothing is
 * changed, locked or written again. */
static void flapping_vf_converges_without_stray_changes(void **state)
{
    struct world *w = world_new(true);
    struct snap before, converged;
    unsigned sets, opens, puts, removes;
    int cycle;
    (void)state;

    snap_take(w, &before);
    set_pairs_state(w, VFO_CTL_PAIR_ACTIVE);
    snap_take(w, &converged);
    sets = w->net.sets;
    opens = w->net.write_opens;
    puts = w->store.puts;
    removes = w->store.removes;

    for (cycle = 0; cycle < 100; cycle++) {
        struct vsvc_pairs saved;
        set_pairs_state(w, VFO_CTL_PAIR_DETACHING);
        fake_net_present(&w->net, F1, false);
        set_pairs_state(w, VFO_CTL_PAIR_ABSENT);
        w->now += 200 + (uint64_t)(cycle % 7) * 100;
        fake_net_present(&w->net, F1, true);
        if (cycle % 3 == 0) {
            saved = w->pairs;
            vsvc_pairs_clear(&w->pairs); /* control device reopening */
            assert_int_equal(world_reconcile(w), VSVC_OK);
            w->pairs = saved;
        }
        assert_int_equal(world_reconcile(w), VSVC_OK); /* back, not paired yet */
        w->now += 300;
        set_pairs_state(w, VFO_CTL_PAIR_OPENING);
        set_pairs_state(w, VFO_CTL_PAIR_REPLAYING);
        set_pairs_state(w, VFO_CTL_PAIR_ACTIVE);
        if (cycle % 2 == 0) {
            set_pairs_state(w, VFO_CTL_PAIR_STANDBY_ONLY); /* VF link down */
            set_pairs_state(w, VFO_CTL_PAIR_ACTIVE);
        }
    }
    assert_int_equal(w->net.sets, sets);
    assert_int_equal(w->net.write_opens, opens);
    assert_int_equal(w->store.puts, puts);
    assert_int_equal(w->store.removes, removes);
    assert_int_equal(w->log.count[VSVC_EV_BINDING_RESTORED], 0);
    assert_snap_equal(w, &converged);
    assert_records_true(w, &before);
    assert_int_equal(vsvc_mem_store_count(w->store.mem), 7);
    /* And it still restores exactly when the flapping ends unpaired. */
    set_pairs_state(w, VFO_CTL_PAIR_ABSENT);
    w->now += w->cfg.restore_grace_ms;
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_snap_equal(w, &before);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crash_at_every_step_of_enforcing_inetcfg),
        cmocka_unit_test(crash_at_every_step_of_enforcing_immediate_backend),
        cmocka_unit_test(crash_at_every_step_of_restoring_inetcfg),
        cmocka_unit_test(crash_at_every_step_of_restoring_immediate_backend),
        cmocka_unit_test(crash_between_disable_and_anything_else),
        cmocka_unit_test(flapping_vf_converges_without_stray_changes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
