/*
 * Part of test_ndisemu_iomgr: device stacks (tests/ndisemu/iostack): an
 * upper device attached over a named lower one, IRPs passed down with
 * IoCallDriver and completed back up through completion routines
 * (continue, take back with STATUS_MORE_PROCESSING_REQUIRED, pending
 * propagated), IoCreateDeviceSecure's SDDL applied to opens; and the
 * broken variants 160-168, each tripping its rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "iostack.h"
#include "ndisemu/emu.h"

int iostack_tests(void);

typedef struct io_result {
    bool done;
    int32_t status;
    size_t n;
    char data[16];
} io_result;

static void io_done(void *ctx, int32_t st, const void *out, size_t n)
{
    io_result *r = ctx;
    r->done = true;
    r->status = st;
    r->n = n < sizeof(r->data) ? n : sizeof(r->data);
    if (out && r->n)
        memcpy(r->data, out, r->n);
}

static emu_runtime *start(const char *so, emu_driver **drv)
{
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = 1, .quiet = true };
    emu_runtime *rt = NULL;
    assert_int_equal(emu_create(&cfg, &rt), EMU_OK);
    assert_int_equal(emu_load_driver(rt, so, NULL, drv), EMU_OK);
    assert_int_equal(emu_run_until_idle(rt), EMU_OK);
    return rt;
}

static void expect_rule(emu_runtime *rt, const char *rule)
{
    assert_true(emu_failed(rt));
    assert_true(emu_violation_count(rt) >= 1);
    const emu_violation *v = emu_violation_get(rt, 0);
    assert_non_null(v);
    assert_string_equal(v->rule, rule);
}

static iostack_stats stats(emu_ctl *h)
{
    iostack_stats s;
    size_t n = 0;
    int32_t st = -1;
    assert_int_equal(emu_ctl_ioctl(h, IOSTACK_IOCTL_STATS, NULL, 0, &s, sizeof(s), &n, &st),
                     EMU_OK);
    assert_int_equal(st, 0);
    assert_int_equal(n, sizeof(s));
    return s;
}

static void test_stack(void **state)
{
    (void)state;
    emu_driver *drv = NULL;
    emu_runtime *rt = start(IOSTACK_SO, &drv);
    emu_ctl *h = NULL;
    /* the lower device's name: the open reaches the upper device first
     * (STATS is the upper one's alone) and goes down with a skip */
    assert_int_equal(emu_ctl_open(rt, IOSTACK_LOWER, &h), EMU_OK);
    iostack_stats s0 = stats(h);
    assert_int_equal(s0.checks & (IOSTACK_CHECK_ATTACH_RETURN | IOSTACK_CHECK_STACKSIZE |
                                  IOSTACK_CHECK_ATTACHED | IOSTACK_CHECK_SECURE),
                     IOSTACK_CHECK_ATTACH_RETURN | IOSTACK_CHECK_STACKSIZE |
                         IOSTACK_CHECK_ATTACHED | IOSTACK_CHECK_SECURE);
    assert_int_equal(s0.upper_irps, 2); /* CREATE, STATS */
    assert_int_equal(s0.lower_irps, 1); /* CREATE, in the upper device's location (skipped) */
    assert_false(s0.checks & IOSTACK_CHECK_LOWER_LOC);

    /* copied down with a completion routine that continues */
    char out[8] = { 0 };
    size_t n = 0;
    int32_t st = -1;
    assert_int_equal(emu_ctl_ioctl(h, IOSTACK_IOCTL_ECHO, "abcd", 4, out, sizeof(out), &n, &st),
                     EMU_OK);
    assert_int_equal(st, 0);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "dcba", 4);
    iostack_stats s1 = stats(h);
    assert_int_equal(s1.completions, s0.completions + 1);
    assert_true(s1.checks & IOSTACK_CHECK_COMPLETION_DO);
    assert_true(s1.checks & IOSTACK_CHECK_LOWER_LOC); /* copied: location 1 of 2 */

    /* taken back with STATUS_MORE_PROCESSING_REQUIRED, completed again */
    memset(out, 0, sizeof(out));
    assert_int_equal(emu_ctl_ioctl(h, IOSTACK_IOCTL_SYNC, "wxyz", 4, out, sizeof(out), &n, &st),
                     EMU_OK);
    assert_int_equal(st, 0);
    assert_int_equal(n, 4);
    assert_memory_equal(out, "Uyxw", 4);
    assert_int_equal(stats(h).completions, s1.completions + 1);

    /* pended below, released later: the pending mark reaches the top */
    io_result r = { 0 };
    assert_int_equal(emu_ctl_ioctl_async(h, IOSTACK_IOCTL_PEND, NULL, 0, 8, io_done, &r), EMU_OK);
    emu_run_until_idle(rt);
    assert_false(r.done);
    assert_int_equal(emu_ctl_pending(h), 1);
    assert_int_equal(emu_ctl_ioctl(h, IOSTACK_IOCTL_RELEASE, NULL, 0, NULL, 0, &n, &st), EMU_OK);
    assert_int_equal(st, 0);
    emu_run_until_idle(rt);
    assert_true(r.done);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.n, 4);
    assert_memory_equal(r.data, "done", 4);
    assert_true(stats(h).checks & IOSTACK_CHECK_PENDING);
    emu_ctl_close(h);

    /* IoCreateDeviceSecure's DACL: SYSTEM and Administrators, not a user */
    emu_ctl *u = NULL, *a = NULL;
    assert_int_equal(emu_ctl_open_as(rt, IOSTACK_SECURE, EMU_CALLER_USER, &u), EMU_ERR_ACCESS);
    assert_int_equal(emu_ctl_open_as(rt, IOSTACK_SECURE, EMU_CALLER_SYSTEM, &a), EMU_OK);
    emu_ctl_close(a);
    assert_int_equal(emu_ctl_open_as(rt, IOSTACK_SECURE, EMU_CALLER_ADMIN, &a), EMU_OK);
    emu_ctl_close(a);

    assert_int_equal(emu_unload_driver(rt, drv), EMU_OK);
    assert_int_equal(emu_shutdown(rt), EMU_OK);
    assert_int_equal(emu_violation_count(rt), 0);
    emu_destroy(rt);
}

/* 160, 161, 162: tripped by an IRP on the stack */
static void broken_irp(const char *so, uint32_t code, const char *rule)
{
    emu_driver *drv = NULL;
    emu_runtime *rt = start(so, &drv);
    emu_ctl *h = NULL;
    assert_int_equal(emu_ctl_open(rt, IOSTACK_LOWER, &h), EMU_OK);
    io_result r = { 0 };
    if (code == IOSTACK_IOCTL_RELEASE) {
        emu_ctl_ioctl_async(h, IOSTACK_IOCTL_PEND, NULL, 0, 8, io_done, &r);
        emu_run_until_idle(rt);
    }
    char out[8];
    size_t n;
    int32_t st;
    emu_ctl_ioctl(h, code, "abcd", 4, out, sizeof(out), &n, &st);
    expect_rule(rt, rule);
    emu_ctl_close(h);
    emu_destroy(rt);
}

static void test_broken_no_more_locations(void **state)
{
    (void)state;
    broken_irp(IOSTACK_BREAK160_SO, IOSTACK_IOCTL_ECHO, "NoMoreIrpStackLocations");
}

static void test_broken_skip_past(void **state)
{
    (void)state;
    broken_irp(IOSTACK_BREAK161_SO, IOSTACK_IOCTL_RELEASE, "IrpStackLocationSkip");
}

static void test_broken_completion_status(void **state)
{
    (void)state;
    broken_irp(IOSTACK_BREAK162_SO, IOSTACK_IOCTL_ECHO, "CompletionRoutineStatus");
}

/* 163, 165: at unload; 164: in DriverEntry */
static void test_broken_detach_twice(void **state)
{
    (void)state;
    emu_driver *drv = NULL;
    emu_runtime *rt = start(IOSTACK_BREAK163_SO, &drv);
    emu_unload_driver(rt, drv);
    expect_rule(rt, "DetachNotAttached");
    emu_destroy(rt);
}

static void test_broken_attach_twice(void **state)
{
    (void)state;
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = 1, .quiet = true };
    emu_runtime *rt = NULL;
    assert_int_equal(emu_create(&cfg, &rt), EMU_OK);
    emu_load_driver(rt, IOSTACK_BREAK164_SO, NULL, NULL);
    expect_rule(rt, "AttachAttachedDevice");
    emu_destroy(rt);
}

static void test_broken_delete_attached(void **state)
{
    (void)state;
    emu_driver *drv = NULL;
    emu_runtime *rt = start(IOSTACK_BREAK165_SO, &drv);
    emu_unload_driver(rt, drv);
    expect_rule(rt, "DeleteAttachedDevice");
    emu_destroy(rt);
}

static void test_broken_marked_not_pending(void **state)
{
    (void)state;
    broken_irp(IOSTACK_BREAK166_SO, IOSTACK_IOCTL_ECHO, "MarkIrpPending");
}

static void test_broken_pending_not_marked(void **state)
{
    (void)state;
    broken_irp(IOSTACK_BREAK167_SO, IOSTACK_IOCTL_PEND, "MarkIrpPending2");
}

static void test_broken_completion_not_marked(void **state)
{
    (void)state;
    broken_irp(IOSTACK_BREAK168_SO, IOSTACK_IOCTL_RELEASE, "CompletionPendingNotMarked");
}

int iostack_tests(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stack),
        cmocka_unit_test(test_broken_no_more_locations),
        cmocka_unit_test(test_broken_skip_past),
        cmocka_unit_test(test_broken_completion_status),
        cmocka_unit_test(test_broken_detach_twice),
        cmocka_unit_test(test_broken_attach_twice),
        cmocka_unit_test(test_broken_delete_attached),
        cmocka_unit_test(test_broken_marked_not_pending),
        cmocka_unit_test(test_broken_pending_not_marked),
        cmocka_unit_test(test_broken_completion_not_marked),
    };
    return cmocka_run_group_tests_name("iostack", tests, NULL, NULL);
}
