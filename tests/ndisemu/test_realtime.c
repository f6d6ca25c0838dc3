/*
 * The same lifecycle under the real-time scheduler: worker threads, wall
 * clock, driver callbacks on several threads at once. Run under
 * ThreadSanitizer by `make check` (build/tsan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "harness.h"

static void lifecycle_realtime(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        harness h;
        assert_int_equal(h_start(&h, EMU_SCHED_REALTIME, 0, MINIMP_SO, MINIPROT_SO, false), EMU_OK);
        int line = h_scenario(&h);
        if (line) {
            const emu_violation *v = emu_violation_get(h.rt, 0);
            print_error("step at harness.c:%d failed (%s)\n", line, v ? v->rule : "-");
        }
        assert_int_equal(line, 0);
        emu_ctl_close(h.ctl);
        h.ctl = NULL;
        assert_int_equal(emu_shutdown(h.rt), EMU_OK);
        assert_int_equal(emu_violation_count(h.rt), 0);
        h_finish(&h);
    }
}

/* Bursts larger than the rings while the adapter powers down and is
 * surprise-removed: sends, the DPC, returns and PnP race for real. */
static void bursts_realtime(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++) {
        harness h;
        assert_int_equal(h_start(&h, EMU_SCHED_REALTIME, 0, MINIMP_SO, MINIPROT_SO, false), EMU_OK);
        int line = h_burst_scenario(&h, 100);
        if (line) {
            const emu_violation *v = emu_violation_get(h.rt, 0);
            print_error("step at harness.c:%d failed (%s)\n", line, v ? v->rule : "-");
        }
        assert_int_equal(line, 0);
        emu_ctl_close(h.ctl);
        h.ctl = NULL;
        assert_int_equal(emu_shutdown(h.rt), EMU_OK);
        assert_int_equal(emu_violation_count(h.rt), 0);
        h_finish(&h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(lifecycle_realtime),
                                        cmocka_unit_test(bursts_realtime) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
