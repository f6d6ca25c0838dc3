/*
 * ndisemu's host-side additions: platform work (emu_schedule/emu_cancel)
 * and the frozen guest (emu_guest_freeze), driven with the minimal
 * miniport + protocol on a loopnic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

#define MS 1000000ull
#define S  1000000000ull

typedef struct probe {
    emu_runtime *rt;
    uint64_t ran_at[4];
    unsigned runs;
} probe;

static void note_run(void *arg)
{
    probe *p = arg;
    if (p->runs < 4)
        p->ran_at[p->runs] = emu_now_ns(p->rt);
    p->runs++;
}

static void start(harness *h, uint64_t seed)
{
    assert_int_equal(h_start(h, EMU_SCHED_DETERMINISTIC, seed, MINIMP_SO, MINIPROT_SO, false),
                     EMU_OK);
    assert_int_equal(h_add_nic(h), EMU_OK);
}

static void finish(harness *h)
{
    if (h->ctl) {
        emu_ctl_close(h->ctl);
        h->ctl = NULL;
    }
    assert_int_equal(emu_shutdown(h->rt), EMU_OK);
    assert_int_equal(emu_violation_count(h->rt), 0);
    h_finish(h);
}

static void platform_work_runs_on_virtual_time_and_cancels(void **state)
{
    (void)state;
    harness h;
    start(&h, 1);
    probe p = { .rt = h.rt };
    uint64_t t0 = emu_now_ns(h.rt);
    assert_int_not_equal(emu_schedule(h.rt, 5 * MS, note_run, &p), 0);
    uint64_t doomed = emu_schedule(h.rt, 7 * MS, note_run, &p);
    assert_int_not_equal(emu_schedule(h.rt, 9 * MS, note_run, &p), 0);
    assert_true(emu_cancel(h.rt, doomed));
    assert_false(emu_cancel(h.rt, doomed));
    assert_int_equal(emu_run_for(h.rt, 20 * MS), EMU_OK);
    assert_int_equal(p.runs, 2);
    assert_int_equal(p.ran_at[0] - t0, 5 * MS);
    assert_int_equal(p.ran_at[1] - t0, 9 * MS);
    assert_int_equal(emu_schedule(h.rt, 0, NULL, NULL), 0);
    finish(&h);
}

typedef struct power_done {
    bool done;
    int status;
} power_done;

static void on_power(void *ctx, int status)
{
    power_done *d = ctx;
    d->done = true;
    d->status = status;
}

static void frozen_guest_runs_nothing_but_platform_work(void **state)
{
    (void)state;
    harness h;
    start(&h, 2);
    probe p = { .rt = h.rt };
    emu_guest_freeze(h.rt, true);
    assert_true(emu_guest_frozen(h.rt));
    power_done d = { 0 };
    assert_int_equal(emu_request_power(h.rt, h.ad, 3, on_power, &d), EMU_OK);
    assert_int_not_equal(emu_schedule(h.rt, 1 * S, note_run, &p), 0);
    assert_int_equal(emu_run_for(h.rt, 5 * S), EMU_OK);
    assert_int_equal(p.runs, 1);
    assert_false(d.done);
    assert_string_equal(emu_adapter_state(h.ad), "running");
    /* The synchronous forms cannot finish while the guest is stopped. */
    assert_int_equal(emu_set_power(h.rt, h.ad, 0), EMU_ERR_BUSY);
    assert_int_equal(emu_run_until_idle(h.rt), EMU_ERR_BUSY);
    emu_guest_freeze(h.rt, false);
    assert_int_equal(emu_run_until_idle(h.rt), EMU_OK);
    assert_true(d.done);
    assert_int_equal(d.status, EMU_OK);
    assert_string_equal(emu_adapter_state(h.ad), "paused");
    assert_int_equal(emu_set_power(h.rt, h.ad, 0), EMU_OK);
    finish(&h);
}

static void thaw(void *arg)
{
    emu_guest_freeze(arg, false);
}

static void freeze_for_40s(void *arg)
{
    emu_runtime *rt = arg;
    emu_guest_freeze(rt, true);
    emu_schedule(rt, 40 * S, thaw, rt);
}

/* A pause pended on a send in flight, and the guest stopped for longer than
 * the verifier's 30 s limit on pended operations: the frozen time does not
 * count, so the pause completes after the resume without a violation. */
static void frozen_time_does_not_count_against_pended_operations(void **state)
{
    (void)state;
    harness h;
    start(&h, 3);
    uint8_t frame[60] = { 0 };
    int32_t nt;
    size_t ret;
    assert_int_equal(emu_ctl_ioctl(h.ctl, IOCTL_MINIPROT_SEND, frame, 60, NULL, 0, &ret, &nt),
                     EMU_OK);
    assert_int_equal(nt, 0);
    uint64_t t0 = emu_now_ns(h.rt);
    assert_int_not_equal(emu_schedule(h.rt, 1000, freeze_for_40s, h.rt), 0);
    assert_int_equal(emu_set_power(h.rt, h.ad, 3), EMU_OK);
    assert_true(emu_now_ns(h.rt) - t0 >= 40 * S);
    assert_false(emu_failed(h.rt));
    assert_int_equal(emu_set_power(h.rt, h.ad, 0), EMU_OK);
    miniprot_stats s;
    assert_int_equal(h_stats(&h, &s), EMU_OK);
    assert_int_equal(s.send_ok, 1);
    finish(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(platform_work_runs_on_virtual_time_and_cancels),
        cmocka_unit_test(frozen_guest_runs_nothing_but_platform_work),
        cmocka_unit_test(frozen_time_does_not_count_against_pended_operations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
