/*
 * fuzz_world.c - see fuzz_world.h.
 */
#include "fuzz_world.h"

#include <stdio.h>
#include <stdlib.h>

#define FW_MAX_DRIVERS 4

static vfo_world g_world;
static bool g_started;
static emu_driver *g_drv[FW_MAX_DRIVERS];
static emu_mem_usage g_base[FW_MAX_DRIVERS];
static int g_n_drv;

static void watch(emu_driver *d)
{
    if (g_n_drv == FW_MAX_DRIVERS)
        abort();
    g_drv[g_n_drv] = d;
    emu_driver_mem(g_world.rt, d, &g_base[g_n_drv++]);
}

emu_driver *fw_load(vfo_world *w, const char *so)
{
    emu_driver *d = NULL;
    int err = emu_load_driver(w->rt, so, NULL, &d);
    if (err) {
        fprintf(stderr, "fuzz_world: %s did not load: %s\n", so, emu_strerror(err));
        abort();
    }
    watch(d);
    return d;
}

vfo_world *fw_get(void)
{
    if (g_started)
        return &g_world;
    int err = vw_start(&g_world, 1);
    if (err) {
        fprintf(stderr, "fuzz_world: ndisemu did not start: %s\n", emu_strerror(err));
        abort();
    }
    watch(g_world.vfo);
    watch(g_world.mp);
    watch(g_world.pt);
    g_started = true;
    return &g_world;
}

void fw_check(vfo_world *w, int err, const char *what)
{
    if (emu_failed(w->rt)) {
        for (size_t i = 0; i < emu_violation_count(w->rt); i++) {
            const emu_violation *v = emu_violation_get(w->rt, i);
            fprintf(stderr, "fuzz_world: rule %s in %s: %s\n", v->rule, v->call, v->detail);
        }
        abort();
    }
    if (err == EMU_ERR_STOPPED || err == EMU_ERR_TIMEOUT) {
        fprintf(stderr, "fuzz_world: %s: %s\n", what, emu_strerror(err));
        abort();
    }
}

void fw_end(vfo_world *w)
{
    fw_check(w, emu_run_until_idle(w->rt), "run until idle");
    for (unsigned i = 0; i < VW_MAX; i++) {
        if (w->vf_ad[i])
            fw_check(w, vw_remove_vf(w, i, false), "VF removal");
        if (w->vfo_ad[i])
            fw_check(w, vw_remove_virtio(w, i, false), "virtio removal");
    }
    if (w->ctl) {
        emu_ctl_close(w->ctl);
        w->ctl = NULL;
    }
    fw_check(w, emu_run_until_idle(w->rt), "run until idle after removal");
    for (int i = 0; i < g_n_drv; i++) {
        emu_mem_usage m;
        emu_driver_mem(w->rt, g_drv[i], &m);
        if (m.bytes != g_base[i].bytes || m.allocations != g_base[i].allocations) {
            fprintf(stderr,
                    "fuzz_world: driver %d holds %llu bytes in %llu allocations after the input "
                    "(%llu in %llu before): a leak across inputs\n",
                    i, (unsigned long long)m.bytes, (unsigned long long)m.allocations,
                    (unsigned long long)g_base[i].bytes, (unsigned long long)g_base[i].allocations);
            abort();
        }
    }
}
