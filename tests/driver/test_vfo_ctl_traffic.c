/*
 * test_vfo_ctl_traffic.c - vfo's control device read while traffic runs, in
 * ndisemu's real-time scheduler (make check runs it under ThreadSanitizer).
 *
 * The datapath counts with interlocked adds on whatever CPU it runs (send
 * path, receive DPC, completions); the control device's QUERY_PAIRS and
 * QUERY_DEVICES read those counters on another CPU. Read plainly (as ctl.c
 * did before issue 13's fix), ThreadSanitizer reports the read racing
 * vfo_count; read with vfo_count_get, it reports nothing. The counters the
 * control device shows must also never go backwards and must count the
 * traffic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vfo_world.h"

/* As test_vfo_stress: races with the emulated device's DMA accesses are
 * ordered by the virtio barriers, which TSan does not see; every race among
 * the driver's CPUs is reported. */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
    return "race:*/emu/dev/*\n";
}

static vfo_world g_w;

static int query_devices(vfo_world *w, struct vfo_ctl_devices *d)
{
    struct vfo_ctl_request rq = { VFO_CTL_ABI_VERSION, sizeof(rq), 0 };
    size_t ret = 0;
    int32_t nt = -1;
    int err = emu_ctl_ioctl(vw_ctl(w), IOCTL_VFO_QUERY_DEVICES, &rq, sizeof(rq), d, sizeof(*d),
                            &ret, &nt);
    if (!err && (nt != 0 || ret != sizeof(*d)))
        err = EMU_ERR_DRIVER;
    return err;
}

static void counters_read_under_traffic(void **state)
{
    (void)state;
    vfo_world *w = &g_w;
    emu_config cfg = { .sched = EMU_SCHED_REALTIME, .workers = 4 };
    assert_int_equal(vw_start_cfg(w, &cfg, NULL), EMU_OK);
    assert_int_equal(vw_add_virtio(w, 0, NULL, NULL), EMU_OK);
    assert_non_null(vw_ctl(w));

    static struct vfo_ctl_pairs p;
    static struct vfo_ctl_devices d;
    uint64_t last_tx = 0, last_rx = 0;
    for (unsigned k = 0; k < 300; k++) {
        assert_int_equal(vw_pt_send(w, 8, 200, false), EMU_OK);
        assert_int_equal(vw_pairs(w, &p), EMU_OK);
        assert_int_equal(p.adapter_count, 1);
        const struct vfo_ctl_counters *c = &p.adapters[0].counters;
        assert_true(c->tx_standby_packets >= last_tx);
        assert_true(c->rx_standby_packets >= last_rx);
        last_tx = c->tx_standby_packets;
        last_rx = c->rx_standby_packets;
        assert_int_equal(query_devices(w, &d), EMU_OK);
        assert_int_equal(d.adapter_count, 1);
        emu_run_for(w->rt, 50000); /* 50 us */
        assert_false(emu_failed(w->rt));
    }
    assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
    assert_int_equal(vw_pairs(w, &p), EMU_OK);
    /* Every frame went out on virtio and came back (loopback): vfo received
     * it, or the device dropped it for want of a receive buffer (a loaded
     * machine: the test protocol holds what it got for a while, as a NIC's
     * ring runs dry; 1 ctest run in 4 beside fuzzers). vfo counted every
     * frame the device delivered. */
    const emu_vnet_stats *vs = emu_vnet_get_stats(w->vn[0]->dev);
    assert_int_equal(p.adapters[0].counters.tx_standby_packets, 300 * 8);
    assert_true(vs->rx_frames + vs->rx_no_buffers >= 300 * 8);
    assert_int_equal(p.adapters[0].counters.rx_standby_packets, vs->rx_frames);
    assert_int_equal(vw_finish(w), EMU_OK);
}

static int teardown(void **state)
{
    (void)state;
    vw_destroy(&g_w);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(counters_read_under_traffic, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
