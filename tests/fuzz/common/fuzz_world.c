/*
 * fuzz_world.c - see fuzz_world.h.
 */
#include "fuzz_world.h"

#include <stdio.h>
#include <stdlib.h>

static vfo_world g_world;
static bool g_started;
static emu_mem_usage g_base[3];

static emu_driver *driver_at(vfo_world *w, int i)
{
    return i == 0 ? w->vfo : i == 1 ? w->mp : w->pt;
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
    for (int i = 0; i < 3; i++)
        emu_driver_mem(g_world.rt, driver_at(&g_world, i), &g_base[i]);
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
    for (int i = 0; i < 3; i++) {
        emu_mem_usage m;
        emu_driver_mem(w->rt, driver_at(w, i), &m);
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
