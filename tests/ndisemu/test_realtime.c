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
    for (int round = 0; round < 3; round++)
        assert_int_equal(h_run_clean(EMU_SCHED_REALTIME, 0, h_scenario), 0);
}

/* Bursts larger than the rings while the adapter powers down and is
 * surprise-removed: sends, the DPC, returns and PnP race for real. */
static void bursts_realtime(void **state)
{
    (void)state;
    for (int round = 0; round < 3; round++)
        assert_int_equal(h_run_clean(EMU_SCHED_REALTIME, 0, h_burst_scenario), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(lifecycle_realtime),
                                        cmocka_unit_test(bursts_realtime) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
