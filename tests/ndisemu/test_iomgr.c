/*
 * test_ndisemu_iomgr: ndisemu's I/O manager for a driver that creates its
 * own devices (IoCreateDevice, as Microsoft's ndisprot does), with a driver
 * of ours (iodrv/): the DEVICE_OBJECT IoCreateDevice builds, dispatch
 * through DriverObject->MajorFunction, DO_DEVICE_INITIALIZING cleared after
 * DriverEntry, symbolic links, Exclusive, READ and WRITE with direct,
 * buffered and neither I/O, a read pended and completed by a write,
 * CancelIoEx, cleanup of a handle's reads, FileObject->FsContext per
 * handle, IoDeleteDevice at unload; and the broken variants: a device left
 * at unload (LeakAtUnload), KeLeaveCriticalRegion unbalanced
 * (CriticalRegions), a read completed with its cancel routine still set
 * (CancelRoutineAtCompletion), DeviceObject->DeviceType written by the
 * driver (DeviceObjectField); and IOCTLs of every transfer method.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "iodrv.h"
#include "ndisemu/emu.h"

#define STATUS_OK        0
#define STATUS_CANCELLED ((int32_t)0xC0000120)

typedef struct rd_result {
    bool done;
    int32_t status;
    size_t n;
    char data[64];
} rd_result;

static void rd_done(void *ctx, int32_t st, const void *out, size_t n)
{
    rd_result *r = ctx;
    r->done = true;
    r->status = st;
    r->n = n < sizeof(r->data) ? n : sizeof(r->data);
    if (out && r->n)
        memcpy(r->data, out, r->n);
}

static emu_runtime *start(uint64_t seed, const char *so, bool quiet, emu_driver **drv)
{
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = seed, .quiet = quiet };
    emu_runtime *rt = NULL;
    assert_int_equal(emu_create(&cfg, &rt), EMU_OK);
    assert_int_equal(emu_load_driver(rt, so, NULL, drv), EMU_OK);
    assert_int_equal(emu_run_until_idle(rt), EMU_OK);
    return rt;
}

/* Pend a read, write, the read gets the data; write with no read pending,
 * the next read gets it at once. */
static void read_write(emu_runtime *rt, const char *dev)
{
    emu_ctl *h = NULL;
    assert_int_equal(emu_ctl_open(rt, dev, &h), EMU_OK);
    rd_result r = { 0 };
    assert_int_equal(emu_ctl_read_async(h, 32, rd_done, &r), EMU_OK);
    assert_int_equal(emu_run_until_idle(rt), EMU_OK);
    assert_false(r.done);
    assert_int_equal(emu_ctl_pending(h), 1);
    size_t n = 0;
    int32_t st = -1;
    assert_int_equal(emu_ctl_write(h, "hello", 5, &n, &st), EMU_OK);
    assert_int_equal(st, STATUS_OK); /* the driver found the buffer where the mode puts it */
    assert_int_equal(n, 5);
    assert_true(r.done);
    assert_int_equal(r.status, STATUS_OK);
    assert_int_equal(r.n, 5);
    assert_memory_equal(r.data, "hello", 5);

    assert_int_equal(emu_ctl_write(h, "abc", 3, &n, &st), EMU_OK);
    char buf[16] = { 0 };
    assert_int_equal(emu_ctl_read(h, buf, sizeof(buf), &n, &st), EMU_OK);
    assert_int_equal(st, STATUS_OK);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "abc", 3);
    emu_ctl_close(h);
    assert_false(emu_failed(rt));
}

static void test_io_devices(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        emu_driver *drv = NULL;
        emu_runtime *rt = start(seed, IODRV_SO, false, &drv);
        /* DriverEntry's own checks of what the I/O manager calls returned. */
        emu_ctl *h = NULL;
        assert_int_equal(emu_ctl_open(rt, IODRV_LINK, &h), EMU_OK); /* through the link */
        uint32_t out[2] = { 0 };
        size_t n = 0;
        int32_t st = -1;
        assert_int_equal(emu_ctl_ioctl(h, IODRV_IOCTL_CHECKS, NULL, 0, out, sizeof(out), &n, &st),
                         EMU_OK);
        assert_int_equal(st, STATUS_OK);
        assert_int_equal(out[0], IODRV_CHECKS_ALL);
        assert_int_equal(out[1], 1); /* this handle */
        /* READ on a device whose table has no entry for it fails like
         * IopInvalidDeviceRequest: not here (the table has one), so an
         * unknown IOCTL is the driver's own refusal. */
        assert_int_equal(emu_ctl_ioctl(h, 0x00222004u, NULL, 0, NULL, 0, &n, &st), EMU_OK);
        assert_int_equal(st, (int32_t)0xC0000010); /* STATUS_INVALID_DEVICE_REQUEST */
        /* The other transfer methods: the input reversed into the output. */
        const uint32_t codes[] = { IODRV_IOCTL_IN_DIRECT, IODRV_IOCTL_OUT_DIRECT,
                                   IODRV_IOCTL_NEITHER };
        for (unsigned i = 0; i < 3; i++) {
            char rev[8];
            memcpy(rev, codes[i] == IODRV_IOCTL_IN_DIRECT ? "abcdef" : "zzzzzz", 6);
            assert_int_equal(emu_ctl_ioctl(h, codes[i], "abcdef", 6, rev, 8, &n, &st), EMU_OK);
            assert_int_equal(st, STATUS_OK);
            assert_int_equal(n, 6);
            assert_memory_equal(rev, "fedcba", 6);
        }
        emu_ctl_close(h);

        read_write(rt, IODRV_DIRECT);
        read_write(rt, IODRV_BUFFERED);
        read_write(rt, IODRV_NEITHER);

        /* Exclusive: a second open is refused while the first is open. */
        emu_ctl *a = NULL, *b = NULL;
        assert_int_equal(emu_ctl_open(rt, IODRV_EXCLUSIVE, &a), EMU_OK);
        assert_int_equal(emu_ctl_open(rt, IODRV_EXCLUSIVE, &b), EMU_ERR_ACCESS);
        emu_ctl_close(a);
        assert_int_equal(emu_ctl_open(rt, IODRV_EXCLUSIVE, &b), EMU_OK);
        emu_ctl_close(b);

        /* CancelIoEx on a pended read; cleanup of another handle's read;
         * a write then reaches neither. */
        emu_ctl *h1 = NULL, *h2 = NULL;
        assert_int_equal(emu_ctl_open(rt, IODRV_DIRECT, &h1), EMU_OK);
        assert_int_equal(emu_ctl_open(rt, IODRV_DIRECT, &h2), EMU_OK);
        rd_result r1 = { 0 }, r2 = { 0 };
        assert_int_equal(emu_ctl_read_async(h1, 32, rd_done, &r1), EMU_OK);
        assert_int_equal(emu_ctl_read_async(h2, 32, rd_done, &r2), EMU_OK);
        assert_int_equal(emu_run_until_idle(rt), EMU_OK);
        assert_int_equal(emu_ctl_cancel(h1), EMU_OK);
        assert_true(r1.done);
        assert_int_equal(r1.status, STATUS_CANCELLED);
        assert_false(r2.done);
        emu_ctl_close(h2); /* IRP_MJ_CLEANUP ends h2's read */
        assert_true(r2.done);
        assert_int_equal(r2.status, STATUS_CANCELLED);
        emu_ctl_close(h1);

        /* Unload: DriverUnload deletes the link and the devices; the names are gone. */
        assert_int_equal(emu_unload_driver(rt, drv), EMU_OK);
        assert_int_equal(emu_ctl_open(rt, IODRV_DIRECT, &h), EMU_ERR_NOTFOUND);
        assert_int_equal(emu_ctl_open(rt, IODRV_LINK, &h), EMU_ERR_NOTFOUND);
        assert_int_equal(emu_shutdown(rt), EMU_OK);
        assert_int_equal(emu_violation_count(rt), 0);
        emu_destroy(rt);
    }
}

static void expect_rule(emu_runtime *rt, const char *rule)
{
    assert_true(emu_failed(rt));
    assert_true(emu_violation_count(rt) >= 1);
    const emu_violation *v = emu_violation_get(rt, 0);
    assert_non_null(v);
    assert_string_equal(v->rule, rule);
}

static void test_broken_device_left(void **state)
{
    (void)state;
    emu_driver *drv = NULL;
    emu_runtime *rt = start(1, IODRV_BREAK1_SO, true, &drv);
    emu_unload_driver(rt, drv);
    emu_shutdown(rt);
    expect_rule(rt, "LeakAtUnload");
    emu_destroy(rt);
}

static void test_broken_critical_region(void **state)
{
    (void)state;
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = 1, .quiet = true };
    emu_runtime *rt = NULL;
    assert_int_equal(emu_create(&cfg, &rt), EMU_OK);
    emu_load_driver(rt, IODRV_BREAK2_SO, NULL, NULL);
    expect_rule(rt, "CriticalRegions");
    emu_destroy(rt);
}

static void test_broken_cancel_routine_left(void **state)
{
    (void)state;
    emu_driver *drv = NULL;
    emu_runtime *rt = start(1, IODRV_BREAK3_SO, true, &drv);
    emu_ctl *h = NULL;
    assert_int_equal(emu_ctl_open(rt, IODRV_DIRECT, &h), EMU_OK);
    rd_result r = { 0 };
    assert_int_equal(emu_ctl_read_async(h, 32, rd_done, &r), EMU_OK);
    emu_run_until_idle(rt);
    size_t n;
    int32_t st;
    emu_ctl_write(h, "x", 1, &n, &st);
    expect_rule(rt, "CancelRoutineAtCompletion");
    emu_ctl_close(h);
    emu_destroy(rt);
}

static void test_broken_device_object_field(void **state)
{
    (void)state;
    emu_driver *drv = NULL;
    emu_runtime *rt = start(1, IODRV_BREAK4_SO, true, &drv);
    emu_ctl *h = NULL;
    emu_ctl_open(rt, IODRV_DIRECT, &h);
    expect_rule(rt, "DeviceObjectField");
    emu_ctl_close(h);
    emu_destroy(rt);
}

static void test_broken_rwlock60_write_under_read(void **state)
{
    (void)state;
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = 1, .quiet = true };
    emu_runtime *rt = NULL;
    assert_int_equal(emu_create(&cfg, &rt), EMU_OK);
    emu_load_driver(rt, IODRV_BREAK5_SO, NULL, NULL);
    expect_rule(rt, "SpinLock");
    emu_destroy(rt);
}

static void test_broken_mutex_not_owned(void **state)
{
    (void)state;
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = 1, .quiet = true };
    emu_runtime *rt = NULL;
    assert_int_equal(emu_create(&cfg, &rt), EMU_OK);
    emu_load_driver(rt, IODRV_BREAK6_SO, NULL, NULL);
    expect_rule(rt, "MutexNotOwned");
    emu_destroy(rt);
}

int iostack_tests(void);

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_io_devices),
        cmocka_unit_test(test_broken_device_left),
        cmocka_unit_test(test_broken_critical_region),
        cmocka_unit_test(test_broken_cancel_routine_left),
        cmocka_unit_test(test_broken_device_object_field),
        cmocka_unit_test(test_broken_rwlock60_write_under_read),
        cmocka_unit_test(test_broken_mutex_not_owned),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    return failed + iostack_tests(); /* test_iostack.c */
}
