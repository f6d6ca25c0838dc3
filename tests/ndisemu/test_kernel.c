/*
 * test_ndisemu_kernel: the kernel services a miniport calls directly, and
 * root-enumerated adapters, with kdrv (kdrv/): a software miniport added
 * without a device model gets no resources and no interrupt, and a PDO from
 * NdisMGetDeviceProperty; a KDPC is queued once, runs as a DPC (at
 * DISPATCH_LEVEL, with its context and arguments) and KeRemoveQueueDpc
 * takes it out before it runs; a lookaside list hands out distinct entries,
 * keeps Depth of them when they come back, reuses them and counts as the
 * WDK's inline routines do; executive spin locks raise to DISPATCH_LEVEL
 * and restore, KeTryToAcquireSpinLockAtDpcLevel fails on a held lock; the
 * interlocked lists keep their order; a due NDIS timer's cancel can miss
 * (its DPC already queued) and two missed expiries share the timer's one
 * DPC. Leak checks at the end (a lookaside
 * list's entries are the driver's pool memory).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <ndis.h>

#include "kdrv.h"
#include "ndisemu/emu.h"

typedef struct kt {
    emu_runtime *rt;
    emu_driver *drv;
    emu_adapter *ad;
    emu_ctl *h;
} kt;

/* The runtime a failed assertion left behind (teardown destroys it, so the
 * next test can create its own). */
static emu_runtime *g_live;

static int teardown(void **state)
{
    (void)state;
    if (g_live)
        emu_destroy(g_live);
    g_live = NULL;
    return 0;
}

static void kt_start(kt *t, uint64_t seed)
{
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = seed, .quiet = true };
    assert_int_equal(emu_create(&cfg, &t->rt), EMU_OK);
    g_live = t->rt;
    assert_int_equal(emu_load_driver(t->rt, KDRV_SO, NULL, &t->drv), EMU_OK);
    emu_device_desc dd;
    memset(&dd, 0, sizeof(dd));
    dd.instance = "kdrv0";
    dd.service = "kdrv"; /* no ops: root-enumerated */
    assert_int_equal(emu_add_device(t->rt, &dd, &t->ad), EMU_OK);
    assert_int_equal(emu_run_until_idle(t->rt), EMU_OK);
    assert_int_equal(emu_ctl_open(t->rt, KDRV_DEVICE, &t->h), EMU_OK);
}

static void kt_ioctl(kt *t, uint32_t code, void *out, size_t len)
{
    size_t ret = 0;
    int32_t nt = -1;
    assert_int_equal(emu_ctl_ioctl(t->h, code, NULL, 0, out, len, &ret, &nt), EMU_OK);
    assert_int_equal(nt, 0);
    assert_int_equal(ret, len);
}

static void kt_finish(kt *t)
{
    emu_ctl_close(t->h);
    assert_int_equal(emu_remove_device(t->rt, t->ad), EMU_OK);
    assert_int_equal(emu_unload_driver(t->rt, t->drv), EMU_OK);
    assert_int_equal(emu_shutdown(t->rt), EMU_OK);
    assert_int_equal(emu_violation_count(t->rt), 0);
    emu_destroy(t->rt);
    g_live = NULL;
}

static void root_enumerated_adapter(void **state)
{
    (void)state;
    kt t;
    kt_start(&t, 1);
    kdrv_adapter a;
    kt_ioctl(&t, IOCTL_KDRV_ADAPTER, &a, sizeof(a));
    assert_true(a.initialized);
    assert_true(a.pdo);
    assert_true(a.no_resources);
    assert_int_not_equal(a.interrupt_status, 0); /* no interrupt resource */
    kt_finish(&t);
}

/* A device model's BARs or MSI-X need a device: refused without one. */
static void root_enumerated_adapter_has_no_resources(void **state)
{
    (void)state;
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = 1, .quiet = true };
    emu_runtime *rt;
    emu_driver *drv;
    assert_int_equal(emu_create(&cfg, &rt), EMU_OK);
    g_live = rt;
    assert_int_equal(emu_load_driver(rt, KDRV_SO, NULL, &drv), EMU_OK);
    emu_device_desc dd;
    memset(&dd, 0, sizeof(dd));
    dd.instance = "kdrv0";
    dd.service = "kdrv";
    dd.bar_size[0] = 4096;
    emu_adapter *ad = NULL;
    assert_int_equal(emu_add_device(rt, &dd, &ad), EMU_ERR_INVAL);
    dd.bar_size[0] = 0;
    dd.msix_vectors = 2;
    assert_int_equal(emu_add_device(rt, &dd, &ad), EMU_ERR_INVAL);
    assert_int_equal(emu_shutdown(rt), EMU_OK);
    emu_destroy(rt);
    g_live = NULL;
}

static void dpc_runs_as_a_dpc(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        kt t;
        kt_start(&t, seed);
        kdrv_dpc_queue q;
        kt_ioctl(&t, IOCTL_KDRV_DPC_QUEUE, &q, sizeof(q));
        assert_int_equal(q.first, 1);  /* queued */
        assert_int_equal(q.second, 0); /* already in the queue */
        assert_int_equal(emu_run_until_idle(t.rt), EMU_OK);
        kdrv_dpc_stats s;
        kt_ioctl(&t, IOCTL_KDRV_DPC_STATS, &s, sizeof(s));
        assert_int_equal(s.runs, 1);
        assert_int_equal(s.irql, DISPATCH_LEVEL);
        assert_true(s.args_ok); /* the first insertion's arguments */
        /* removed before it ran: it does not run */
        kt_ioctl(&t, IOCTL_KDRV_DPC_REMOVE, &q, sizeof(q));
        assert_int_equal(q.first, 1);
        assert_int_equal(q.second, 1);
        assert_int_equal(emu_run_until_idle(t.rt), EMU_OK);
        kt_ioctl(&t, IOCTL_KDRV_DPC_STATS, &s, sizeof(s));
        assert_int_equal(s.runs, 1);
        kt_finish(&t);
    }
}

static void lookaside_list(void **state)
{
    (void)state;
    kt t;
    kt_start(&t, 1);
    kdrv_lookaside l;
    kt_ioctl(&t, IOCTL_KDRV_LOOKASIDE, &l, sizeof(l));
    assert_int_equal(l.distinct, 6);
    assert_int_equal(l.depth_after_free, 4); /* a new list's depth */
    assert_int_equal(l.total_allocates, 7);
    assert_int_equal(l.allocate_misses, 6); /* the seventh came from the list */
    assert_int_equal(l.total_frees, 6);
    assert_int_equal(l.free_misses, 2); /* two went back to pool */
    assert_true(l.reused);
    kt_finish(&t); /* every entry freed: no leak */
}

static void spin_locks_and_interlocked_lists(void **state)
{
    (void)state;
    kt t;
    kt_start(&t, 1);
    kdrv_spin s;
    kt_ioctl(&t, IOCTL_KDRV_SPIN, &s, sizeof(s));
    assert_int_equal(s.irql_held, DISPATCH_LEVEL);
    assert_int_equal(s.irql_after, PASSIVE_LEVEL);
    assert_int_equal(s.try_free, 1);
    assert_int_equal(s.try_busy_other, 0);
    assert_true(s.fifo);
    kt_finish(&t);
}

/* A timer set due at once and cancelled: by the seed, the expiry's DPC was
 * already queued (the cancel returns FALSE) and the callback runs. A timer
 * has one DPC: a second expiry missed while it is still queued joins it,
 * one callback for both. Fails on a scheduler whose cancel always catches a
 * due expiry (no miss) or that runs a callback per missed expiry (2). */
static void timer_cancel_can_miss_a_due_expiry(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        kt t;
        kt_start(&t, seed);
        kdrv_timer_miss m;
        kt_ioctl(&t, IOCTL_KDRV_TIMER_MISS, &m, sizeof(m));
        assert_int_equal(m.misses, 2);
        assert_int_equal(emu_run_until_idle(t.rt), EMU_OK);
        unsigned int runs = 0;
        kt_ioctl(&t, IOCTL_KDRV_TIMER_RUNS, &runs, sizeof(runs));
        assert_int_equal(runs, 1);
        kt_finish(&t);
    }
}

/* The missed expiry's DPC waits in its processor's queue for the seed's
 * backlog; the timer set again 100 ns ahead fires meanwhile, or after it.
 * Seeds 1-8 give both: one callback for the two expiries (joined) or two.
 * Either way KeFlushQueuedDpcs returns after the queued DPC's callback.
 * Fails on a scheduler without the one-DPC rule (always 2) or whose flush
 * ignores timers' DPCs (0 after the flush). */
static void timer_expiry_joins_its_queued_dpc(void **state)
{
    (void)state;
    unsigned int joined = 0, separate = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        kt t;
        kt_start(&t, seed);
        kdrv_timer_join j;
        kt_ioctl(&t, IOCTL_KDRV_TIMER_JOIN, &j, sizeof(j));
        assert_int_equal(j.missed, 1);
        assert_int_equal(j.runs_after_flush, 1);
        assert_in_range(j.runs_after_sleep, 1, 2);
        joined += j.runs_after_sleep == 1;
        separate += j.runs_after_sleep == 2;
        kt_finish(&t);
    }
    assert_true(joined > 0);
    assert_true(separate > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(root_enumerated_adapter, teardown),
        cmocka_unit_test_teardown(root_enumerated_adapter_has_no_resources, teardown),
        cmocka_unit_test_teardown(dpc_runs_as_a_dpc, teardown),
        cmocka_unit_test_teardown(lookaside_list, teardown),
        cmocka_unit_test_teardown(spin_locks_and_interlocked_lists, teardown),
        cmocka_unit_test_teardown(timer_cancel_can_miss_a_due_expiry, teardown),
        cmocka_unit_test_teardown(timer_expiry_joins_its_queued_dpc, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
