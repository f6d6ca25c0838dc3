/*
 * The binding policy against a fake INetCfg: what it changes on a paired VF,
 * what it never touches, how it restores, and how it behaves when the lock
 * is busy or a step fails.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "world.h"

static int setup(void **state)
{
    *state = world_new(true);
    return 0;
}

static int teardown(void **state)
{
    world_free(*state);
    return 0;
}

/* The paired-VF case the service exists for: TCP/IP, TCP/IPv6, LLDP and the
 * client/server bindings all come off; vfoprot stays; the filter stays. */
static void ndis5_vf_is_stripped_to_vfoprot(void **state)
{
    struct world *w = *state;
    struct snap before;

    snap_take(w, &before);
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    assert_int_equal(world_reconcile(w), VSVC_OK);

    assert_vf_stripped(w, F1);
    assert_true(fake_net_enabled(&w->net, F1, "ms_pacer"));
    assert_adapter_as(w, V1, &before);
    assert_int_equal(w->res.changes, 7);
    assert_int_equal(w->log.count[VSVC_EV_BINDING_DISABLED], 7);
    assert_int_equal(w->net.write_opens, 1);
    assert_int_equal(w->net.commits, 1);
    /* Every change remembered with the state it replaced. */
    assert_int_equal(vsvc_mem_store_count(w->store.mem), 7);
    assert_true(fake_store_find(&w->store, F1, "ms_tcpip")->was_enabled);
    assert_true(fake_store_find(&w->store, F1, "ms_server>ms_tcpip")->was_enabled);
    assert_null(fake_store_find(&w->store, F1, "vfoprot"));
    assert_null(fake_store_find(&w->store, F1, "ms_pacer"));
    assert_non_null(strstr(w->log.last[VSVC_EV_BINDING_DISABLED], F1));
    assert_non_null(strstr(w->log.last[VSVC_EV_BINDING_DISABLED], "only vfoprot may bind"));
}

static void reconcile_is_idempotent_and_lock_free_when_converged(void **state)
{
    struct world *w = *state;
    int i;

    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    for (i = 0; i < 5; i++) {
        w->now += 1000;
        assert_int_equal(world_reconcile(w), VSVC_OK);
        assert_int_equal(w->res.changes, 0);
    }
    assert_int_equal(w->net.write_opens, 1);
    assert_int_equal(w->net.sets, 7);
    assert_int_equal(w->log.count[VSVC_EV_BINDING_DISABLED], 7);
    assert_int_equal(w->net.sets_outside_write, 0);
}

static void disabled_vfoprot_binding_is_enabled_and_remembered(void **state)
{
    struct world *w = *state;

    fake_net_find(&w->net, F1, "vfoprot")->enabled = false;
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_OPENING, F1);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_true(fake_net_enabled(&w->net, F1, "vfoprot"));
    assert_false(fake_store_find(&w->store, F1, "vfoprot")->was_enabled);
    assert_int_equal(w->log.count[VSVC_EV_BINDING_ENABLED], 1);
}

/* A Hyper-V style VF (UpperRange ndisvf) only ever binds to vfoprot. */
static void ndisvf_vf_needs_nothing(void **state)
{
    struct world *w = *state;

    fake_net_adapter(&w->net, F2, "mlx5", MAC2);
    fake_net_binding(&w->net, F2, "vfoprot", VSVC_BG_PROTOCOL, true);
    fake_net_adapter(&w->net, V2, "vfo", MAC2);
    fake_net_ndis5_bindings(&w->net, V2);
    pairs_add(&w->pairs, V2, MAC2, VFO_CTL_PAIR_ACTIVE, F2, MAC2);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_int_equal(w->res.changes, 0);
    assert_int_equal(w->net.write_opens, 0);
    assert_int_equal(vsvc_mem_store_count(w->store.mem), 0);
    assert_int_equal(w->log.total, 0);
}

/* Same MAC, same OUI, even a vfo adapter: not a paired VF, not touched. */
static void adapters_that_are_not_paired_vfs_are_untouched(void **state)
{
    struct world *w = *state;
    const uint8_t same_oui[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
    struct snap before;
    struct vsvc_pair *pr;

    fake_net_adapter(&w->net, X1, "e1iexpress", MAC1);
    fake_net_ndis5_bindings(&w->net, X1);
    fake_net_adapter(&w->net, F2, "ixgbevf", same_oui);
    fake_net_ndis5_bindings(&w->net, F2);
    snap_take(w, &before);
    /* vfo paired nothing yet, but refused X1 (it matched V1's MAC). */
    pr = &w->pairs.pair[0];
    pr->n_refused = 1;
    strcpy(pr->refused[0].candidate.id, X1);
    memcpy(pr->refused[0].candidate.mac, MAC1, 6);
    pr->refused[0].reason = VFO_CTL_REFUSE_MTU_MISMATCH;
    pr->refused[0].count = 1;

    assert_int_equal(world_reconcile(w), VSVC_OK);
    w->now += 5000;
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_snap_equal(w, &before);
    assert_int_equal(w->net.write_opens, 0);
    assert_int_equal(w->log.count[VSVC_EV_CANDIDATE_REFUSED], 1); /* once, not per pass */
    assert_non_null(strstr(w->log.last[VSVC_EV_CANDIDATE_REFUSED], "MTU mismatch"));

    /* Now F1 is paired: only F1 changes; X1 (same MAC) and F2 (same OUI) do not. */
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_vf_stripped(w, F1);
    assert_adapter_as(w, X1, &before);
    assert_adapter_as(w, F2, &before);
    assert_adapter_as(w, V1, &before);
}

/* vfo claiming something that does not look like a VF is reported, and the
 * adapter is left alone. */
static void suspect_claims_are_refused(void **state)
{
    struct world *w = *state;
    struct snap before;
    const uint8_t other[6] = { 0x02, 0, 0, 0, 0, 1 };

    snap_take(w, &before);
    /* vfo names its own adapter. */
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, V1);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_int_equal(w->log.count[VSVC_EV_VF_SUSPECT], 1);
    assert_non_null(strstr(w->log.last[VSVC_EV_VF_SUSPECT], "vfo adapter itself"));
    /* The MAC vfo reports is not the adapter's. */
    world_pair(w, V1, other, VFO_CTL_PAIR_ACTIVE, F1);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_non_null(strstr(w->log.last[VSVC_EV_VF_SUSPECT], "MAC differs"));
    /* Two vfo adapters claim the same VF. */
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    pairs_add(&w->pairs, V2, MAC1, VFO_CTL_PAIR_ACTIVE, F1, MAC1);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_non_null(strstr(w->log.last[VSVC_EV_VF_SUSPECT], "more than one"));
    assert_int_equal(w->log.count[VSVC_EV_VF_SUSPECT], 3);
    assert_int_equal(vsvc_policy_counters(w->p)->suspect_vfs, 3);
    assert_snap_equal(w, &before);
    assert_int_equal(w->net.write_opens, 0);
}

/* Unpairing restores exactly the state before, including bindings the user
 * had disabled and vfoprot's, after the grace period and not before. */
static void unpair_restores_exactly_after_grace(void **state)
{
    struct world *w = *state;
    struct snap before;
    uint64_t t0;

    fake_net_find(&w->net, F1, "ms_lldp")->enabled = false;  /* the admin's choice */
    fake_net_find(&w->net, F1, "vfoprot")->enabled = false;  /* and this one */
    fake_net_find(&w->net, F1, "ms_pacer")->enabled = false; /* a filter: never touched */
    snap_take(w, &before);
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_vf_stripped(w, F1);
    assert_int_equal(vsvc_mem_store_count(w->store.mem), 7); /* 6 off + vfoprot on */

    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ABSENT, NULL);
    t0 = w->now;
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_int_equal(w->res.changes, 0);
    assert_int_equal(w->res.pending_restores, 1);
    assert_int_equal(w->res.next_ms, w->cfg.restore_grace_ms);
    assert_int_equal(w->log.count[VSVC_EV_RESTORE_PENDING], 1);

    w->now = t0 + w->cfg.restore_grace_ms - 1;
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_int_equal(w->res.changes, 0);
    assert_int_equal(w->res.next_ms, 1);
    assert_int_equal(w->log.count[VSVC_EV_RESTORE_PENDING], 1);

    w->now = t0 + w->cfg.restore_grace_ms;
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_int_equal(w->res.changes, 7);
    assert_int_equal(w->log.count[VSVC_EV_BINDING_RESTORED], 7);
    assert_snap_equal(w, &before);
    assert_int_equal(vsvc_mem_store_count(w->store.mem), 0);
    assert_int_equal(w->res.next_ms, 0);
}

static void pairing_again_within_grace_cancels_the_restore(void **state)
{
    struct world *w = *state;

    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ABSENT, NULL);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    w->now += w->cfg.restore_grace_ms / 2;
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_REPLAYING, F1);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_int_equal(w->log.count[VSVC_EV_RESTORE_CANCELLED], 1);
    w->now += w->cfg.restore_grace_ms * 2;
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_int_equal(w->log.count[VSVC_EV_BINDING_RESTORED], 0);
    assert_vf_stripped(w, F1);
    assert_int_equal(w->net.write_opens, 1);
}

/* vfo's control device gone for good (driver removed) counts as unpaired. */
static void unavailable_control_device_restores_after_grace(void **state)
{
    struct world *w = *state;
    struct snap before;

    snap_take(w, &before);
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    vsvc_pairs_clear(&w->pairs);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_non_null(strstr(w->log.last[VSVC_EV_RESTORE_PENDING], "control device"));
    w->now += w->cfg.restore_grace_ms;
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_snap_equal(w, &before);
}

static void uninstall_restores_everything_at_once(void **state)
{
    struct world *w = *state;
    struct snap before;

    world_add_pair2(w);
    snap_take(w, &before);
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    world_pair(w, V2, MAC2, VFO_CTL_PAIR_ACTIVE, F2);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_vf_stripped(w, F1);
    assert_vf_stripped(w, F2);

    assert_int_equal(vsvc_policy_restore_all(w->p, w->now, &w->res), VSVC_OK);
    assert_int_equal(w->res.changes, 14);
    assert_int_equal(w->res.leftovers, 0);
    assert_snap_equal(w, &before);
    assert_int_equal(vsvc_mem_store_count(w->store.mem), 0);
    assert_non_null(strstr(w->log.last[VSVC_EV_BINDING_RESTORED], "uninstalled"));
}

/* An absent VF cannot be restored: the records stay for later. */
static void uninstall_reports_absent_adapters_as_leftovers(void **state)
{
    struct world *w = *state;
    struct snap before;

    snap_take(w, &before);
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    fake_net_present(&w->net, F1, false);
    assert_int_equal(vsvc_policy_restore_all(w->p, w->now, &w->res), VSVC_OK);
    assert_int_equal(w->res.changes, 0);
    assert_int_equal(w->res.leftovers, 7);
    assert_int_equal(w->log.count[VSVC_EV_LEFTOVER], 7);
    assert_int_equal(vsvc_mem_store_count(w->store.mem), 7);
    /* It comes back: the next restore finishes the job. */
    fake_net_present(&w->net, F1, true);
    assert_int_equal(vsvc_policy_restore_all(w->p, w->now, &w->res), VSVC_OK);
    assert_int_equal(w->res.leftovers, 0);
    assert_snap_equal(w, &before);
}

/* vfoprot uninstalled behind the service's back: restore at once; vfoprot's
 * own binding vanished with it, so its record is just forgotten. */
static void vfoprot_removed_restores_without_grace(void **state)
{
    struct world *w = *state;
    size_t i;

    fake_net_find(&w->net, F1, "vfoprot")->enabled = false;
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    fake_net_remove_component(&w->net, "vfoprot");
    /* The pair still shows (vfo has not noticed yet): no waiting either way. */
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_int_equal(w->res.changes, 7);
    assert_int_equal(w->res.forgotten, 1);
    assert_int_equal(w->res.pending_restores, 0);
    assert_int_equal(w->log.count[VSVC_EV_RECORD_DROPPED], 1);
    assert_non_null(strstr(w->log.last[VSVC_EV_BINDING_RESTORED], "not installed"));
    for (i = 0; i < w->net.n_bindings; i++)
        assert_true(w->net.bindings[i].enabled); /* all were on before vfosvc */
    assert_int_equal(vsvc_mem_store_count(w->store.mem), 0);
}

static void two_pairs_are_independent(void **state)
{
    struct world *w = *state;
    struct snap before;

    world_add_pair2(w);
    snap_take(w, &before);
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    world_pair(w, V2, MAC2, VFO_CTL_PAIR_STANDBY_ONLY, F2);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_vf_stripped(w, F1);
    assert_vf_stripped(w, F2);
    assert_adapter_as(w, V1, &before);
    assert_adapter_as(w, V2, &before);
    assert_int_equal(w->net.write_opens, 1); /* both in one session */

    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ABSENT, NULL);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    w->now += w->cfg.restore_grace_ms;
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_adapter_as(w, F1, &before);
    assert_vf_stripped(w, F2);
    assert_int_equal(vsvc_mem_store_count(w->store.mem), 7);
}

/* Someone else holds the write lock: bounded attempts, then retry later. */
static void busy_lock_is_retried_later(void **state)
{
    struct world *w = *state;

    w->net.busy_opens = (int)w->cfg.lock_attempts;
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    assert_int_equal(world_reconcile(w), VSVC_E_BUSY);
    assert_int_equal(w->res.changes, 0);
    assert_int_equal(w->res.next_ms, w->cfg.retry_ms);
    assert_int_equal(w->log.count[VSVC_EV_LOCK_BUSY], 1);
    assert_non_null(strstr(w->log.last[VSVC_EV_LOCK_BUSY], "Network Connections"));
    assert_int_equal(vsvc_policy_counters(w->p)->lock_busy, w->cfg.lock_attempts);
    assert_int_equal(vsvc_mem_store_count(w->store.mem), 0);
    assert_true(fake_net_enabled(&w->net, F1, "ms_tcpip"));

    /* Held for fewer attempts than allowed: this pass gets it. */
    w->net.busy_opens = (int)w->cfg.lock_attempts - 1;
    w->now += w->res.next_ms;
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_vf_stripped(w, F1);
}

/* A failed commit changes nothing; the records written ahead stay true
 * (they hold the state that is still there) and the next pass completes. */
static void failed_commit_changes_nothing_and_is_retried(void **state)
{
    struct world *w = *state;
    struct snap before;

    snap_take(w, &before);
    w->net.fail_commits = 1;
    w->net.error_detail = "INetCfg::Apply: 0x8004a024";
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    assert_int_equal(world_reconcile(w), VSVC_E_IO);
    assert_non_null(strstr(w->log.last[VSVC_EV_APPLY_FAILED], "(INetCfg::Apply: 0x8004a024)"));
    assert_int_equal(w->res.changes, 0);
    assert_int_equal(w->res.next_ms, w->cfg.retry_ms);
    assert_int_equal(w->log.count[VSVC_EV_APPLY_FAILED], 1);
    assert_int_equal(w->log.count[VSVC_EV_BINDING_DISABLED], 0);
    assert_snap_equal(w, &before);

    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_vf_stripped(w, F1);
    assert_int_equal(vsvc_mem_store_count(w->store.mem), 7);
    assert_int_equal(w->store.puts, 7); /* written once, not again */
}

/* Never change a binding without remembering it first. */
static void store_failure_leaves_the_binding_alone(void **state)
{
    struct world *w = *state;

    w->store.fail_puts = 1;
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    assert_int_equal(world_reconcile(w), VSVC_E_IO);
    assert_int_equal(w->log.count[VSVC_EV_STORE_FAILED], 1);
    assert_int_equal(w->res.changes, 6);
    assert_int_equal(w->res.next_ms, w->cfg.retry_ms);
    /* The first binding (ms_tcpip) could not be recorded, so it is still on. */
    assert_true(fake_net_enabled(&w->net, F1, "ms_tcpip"));
    assert_null(fake_store_find(&w->store, F1, "ms_tcpip"));
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_vf_stripped(w, F1);
}

static void read_failure_is_reported_and_retried(void **state)
{
    struct world *w = *state;

    w->net.fail_reads = 1;
    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    assert_int_equal(world_reconcile(w), VSVC_E_IO);
    assert_int_equal(w->log.count[VSVC_EV_BACKEND_FAILED], 1);
    assert_int_equal(w->res.next_ms, w->cfg.retry_ms);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_vf_stripped(w, F1);
}

/* A record whose binding is gone (protocol uninstalled) is forgotten
 * without taking the lock. */
static void stale_record_is_forgotten_without_lock(void **state)
{
    struct world *w = *state;

    world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    assert_int_equal(world_reconcile(w), VSVC_OK);
    fake_net_remove_component(&w->net, "ms_lldp");
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_int_equal(w->res.forgotten, 1);
    assert_int_equal(w->net.write_opens, 1);
    assert_null(fake_store_find(&w->store, F1, "ms_lldp"));
    assert_non_null(strstr(w->log.last[VSVC_EV_RECORD_DROPPED], "no longer exists"));
}

/* Records from the store are validated: malformed ones are ignored and
 * counted, odd-case ones are used in canonical form. */
static void malformed_store_records_are_ignored(void **state)
{
    struct world *w = *state;
    struct vsvc_store_record r;
    struct snap before;

    snap_take(w, &before);
    memset(&r, 0, sizeof(r));
    strcpy(r.adapter_id, "not-a-guid");
    strcpy(r.path, "ms_tcpip");
    vsvc_mem_store_ops.put(w->store.mem, &r);
    strcpy(r.adapter_id, "{aaaaaaaa-bbbb-cccc-dddd-0000000000f1}");
    strcpy(r.path, "MS_TCPIP");
    r.was_enabled = false; /* "it was off before vfosvc touched it" */
    vsvc_mem_store_ops.put(w->store.mem, &r);
    strcpy(r.path, "ms_tcpip>>x");
    vsvc_mem_store_ops.put(w->store.mem, &r);
    world_restart(w);
    assert_int_equal(vsvc_policy_counters(w->p)->bad_records, 2);
    assert_int_equal(w->log.count[VSVC_EV_STORE_FAILED], 1);
    assert_int_equal(vsvc_policy_record_count(w->p), 1);
    assert_string_equal(vsvc_policy_record_at(w->p, 0)->adapter_id, F1);
    assert_string_equal(vsvc_policy_record_at(w->p, 0)->path, "ms_tcpip");
    /* Unpaired F1 with that record: restored (to off) after the grace. */
    assert_int_equal(world_reconcile(w), VSVC_OK);
    w->now += w->cfg.restore_grace_ms;
    assert_int_equal(world_reconcile(w), VSVC_OK);
    assert_false(fake_net_enabled(&w->net, F1, "ms_tcpip"));
}

static void policy_refuses_incomplete_env_and_unstarted_use(void **state)
{
    struct world *w = *state;
    struct vsvc_policy_env env = { 0 };
    struct vsvc_policy *p;

    assert_null(vsvc_policy_new(NULL, &env));
    assert_null(vsvc_policy_new(NULL, NULL));
    env.bg = &fake_net_ops;
    env.bg_ctx = &w->net;
    env.store = &fake_store_ops;
    env.store_ctx = &w->store;
    env.log = &fake_log_ops;
    env.log_ctx = &w->log;
    p = vsvc_policy_new(NULL, &env);
    assert_non_null(p);
    assert_int_equal(vsvc_policy_reconcile(p, &w->pairs, 0, &w->res), VSVC_E_STATE);
    assert_int_equal(w->net.read_opens, 0);
    vsvc_policy_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ndis5_vf_is_stripped_to_vfoprot, setup, teardown),
        cmocka_unit_test_setup_teardown(reconcile_is_idempotent_and_lock_free_when_converged, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(disabled_vfoprot_binding_is_enabled_and_remembered, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(ndisvf_vf_needs_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(adapters_that_are_not_paired_vfs_are_untouched, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(suspect_claims_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(unpair_restores_exactly_after_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(pairing_again_within_grace_cancels_the_restore, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(unavailable_control_device_restores_after_grace, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(uninstall_restores_everything_at_once, setup, teardown),
        cmocka_unit_test_setup_teardown(uninstall_reports_absent_adapters_as_leftovers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(vfoprot_removed_restores_without_grace, setup, teardown),
        cmocka_unit_test_setup_teardown(two_pairs_are_independent, setup, teardown),
        cmocka_unit_test_setup_teardown(busy_lock_is_retried_later, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_commit_changes_nothing_and_is_retried, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(store_failure_leaves_the_binding_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(read_failure_is_reported_and_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(stale_record_is_forgotten_without_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(malformed_store_records_are_ignored, setup, teardown),
        cmocka_unit_test_setup_teardown(policy_refuses_incomplete_env_and_unstarted_use, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
