/*
 * The minimal protocol and miniport through their whole lifecycle, under
 * the deterministic scheduler for many seeds (verifier clean every time),
 * plus determinism, memory accounting and netcfg listing checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "harness.h"

static unsigned g_seeds = 200;

static void lifecycle_many_seeds(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= g_seeds; seed++)
        assert_int_equal(h_run_clean(EMU_SCHED_DETERMINISTIC, seed, h_scenario), 0);
}

static void bursts_many_seeds(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= g_seeds / 4; seed++)
        assert_int_equal(h_run_clean(EMU_SCHED_DETERMINISTIC, seed, h_burst_scenario), 0);
}

static char *trace_of_run(uint64_t seed, size_t *len)
{
    char *buf = NULL;
    FILE *f = open_memstream(&buf, len);
    harness h;
    assert_int_equal(h_start(&h, EMU_SCHED_DETERMINISTIC, seed, MINIMP_SO, MINIPROT_SO, false),
                     EMU_OK);
    emu_trace(h.rt, EMU_TRACE_JSON, f);
    assert_int_equal(h_scenario(&h), 0);
    emu_trace(h.rt, EMU_TRACE_OFF, NULL);
    h_finish(&h);
    fclose(f);
    return buf;
}

static void same_seed_same_run(void **state)
{
    (void)state;
    size_t la, lb, lc;
    char *a = trace_of_run(7, &la), *b = trace_of_run(7, &lb), *c = trace_of_run(8, &lc);
    assert_true(la > 10000);
    assert_true(strncmp(a, "{\"t_ns\":", 8) == 0);
    /* Same seed: byte-identical traces, except for pointer values, which
     * the allocator may place differently; compare with pointers masked. */
    for (char *s = a; (s = strstr(s, "0x")); s++)
        for (char *p = s + 2; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
            *p = 'x';
    for (char *s = b; (s = strstr(s, "0x")); s++)
        for (char *p = s + 2; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
            *p = 'x';
    for (char *s = c; (s = strstr(s, "0x")); s++)
        for (char *p = s + 2; (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'); p++)
            *p = 'x';
    assert_int_equal(la, lb);
    assert_memory_equal(a, b, la);
    assert_true(lc != la || memcmp(a, c, la) != 0); /* another seed interleaves differently */
    free(a);
    free(b);
    free(c);
}

static void memory_per_adapter_is_accounted_and_stable(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_start(&h, EMU_SCHED_DETERMINISTIC, 3, MINIMP_SO, MINIPROT_SO, false),
                     EMU_OK);
    assert_int_equal(h_add_nic(&h), EMU_OK);
    emu_mem_usage first, m, drv;
    assert_int_equal(emu_adapter_mem(h.rt, h.ad, &first), EMU_OK);
    /* adapter context + rings + RX buffers + NBLs + MDLs at least */
    assert_true(first.bytes > 32 * 2048);
    assert_true(first.allocations > 64);
    assert_true(emu_driver_mem_tag(h.rt, h.mp, 'pmiM') > 0);
    for (int i = 0; i < 20; i++) {
        emu_adapter *old = h.ad;
        assert_int_equal(emu_remove_device(h.rt, h.ad), EMU_OK);
        assert_int_equal(emu_adapter_mem(h.rt, old, &m), EMU_OK);
        assert_int_equal(m.bytes, 0);
        assert_int_equal(emu_driver_mem(h.rt, h.mp, &drv), EMU_OK);
        assert_int_equal(drv.bytes, 0);
        assert_int_equal(h_add_nic(&h), EMU_OK);
        assert_int_equal(emu_adapter_mem(h.rt, h.ad, &m), EMU_OK);
        assert_int_equal(m.bytes, first.bytes);
        assert_int_equal(m.allocations, first.allocations);
    }
    emu_ctl_close(h.ctl);
    h.ctl = NULL;
    assert_int_equal(emu_shutdown(h.rt), EMU_OK);
    h_finish(&h);
}

static void netcfg_lists_components_and_paths(void **state)
{
    (void)state;
    harness h;
    assert_int_equal(h_start(&h, EMU_SCHED_DETERMINISTIC, 5, MINIMP_SO, MINIPROT_SO, false),
                     EMU_OK);
    assert_int_equal(h_add_nic(&h), EMU_OK);
    emu_nc_adapter ads[4];
    emu_nc_protocol ps[4];
    emu_nc_path paths[4];
    assert_int_equal(emu_netcfg_adapters(h.rt, ads, 4), 1);
    assert_string_equal(ads[0].instance, "loopnic0");
    assert_string_equal(ads[0].service, "minimp");
    assert_string_equal(ads[0].pnp_id, "PCI\\VEN_1AF4&DEV_7FFF");
    assert_string_equal(ads[0].upper_range, "ndis5");
    assert_int_equal(ads[0].mac[5], 1);
    assert_int_equal(emu_netcfg_protocols(h.rt, ps, 4), 1);
    assert_string_equal(ps[0].name, "MINIPROT");
    assert_int_equal(emu_netcfg_paths(h.rt, paths, 4), 1);
    assert_true(paths[0].enabled && paths[0].bound);
    assert_int_equal(emu_netcfg_set_path(h.rt, "MINIPROT", ads[0].id, false), EMU_OK);
    assert_int_equal(emu_netcfg_paths(h.rt, paths, 4), 1);
    assert_false(paths[0].enabled || paths[0].bound);
    /* The disabled state survives the device leaving and coming back. */
    assert_int_equal(emu_remove_device(h.rt, h.ad), EMU_OK);
    assert_int_equal(h_add_nic(&h), EMU_OK);
    assert_int_equal(emu_netcfg_paths(h.rt, paths, 4), 1);
    assert_false(paths[0].enabled || paths[0].bound);
    assert_int_equal(emu_netcfg_set_path(h.rt, "NOSUCH", ads[0].id, true), EMU_ERR_NOTFOUND);
    emu_ctl_close(h.ctl);
    h.ctl = NULL;
    assert_int_equal(emu_shutdown(h.rt), EMU_OK);
    h_finish(&h);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_seeds = (unsigned)strtoul(argv[1], NULL, 10);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lifecycle_many_seeds),
        cmocka_unit_test(bursts_many_seeds),
        cmocka_unit_test(same_seed_same_run),
        cmocka_unit_test(memory_per_adapter_is_accounted_and_stable),
        cmocka_unit_test(netcfg_lists_components_and_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
