/*
 * svc.c - vfosvc in a scenario (svc.h): the portable policy core with its
 * ndisemu back end (service/emu), started, stopped and observed by the
 * scenario.
 */
#include "svc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vsvc_emu.h"

/* The longest the service sleeps between looks at its timers (its
 * reconciles are scheduled in whole milliseconds, as on Windows). vfo's
 * change notification wakes it at once (emu_run_for_until), as the
 * completed IRP's event wakes the service thread on Windows. */
#define SVC_QUANTUM_NS 1000000ull

static int svc_start(world *w, const scn_cmd *c)
{
    struct vsvc_config cfg;
    vsvc_config_default(&cfg);
    for (unsigned i = 2; i < c->argc; i++) {
        /* Name=value: the registry Parameters of docs/vfosvc.md, same ranges. */
        char name[64];
        const char *eq = strchr(c->argv[i], '=');
        char *end;
        unsigned long v = eq ? strtoul(eq + 1, &end, 10) : 0;
        if (!eq || (size_t)(eq - c->argv[i]) >= sizeof(name) || end == eq + 1 || *end ||
            v > UINT32_MAX)
            return -1;
        snprintf(name, sizeof(name), "%.*s", (int)(eq - c->argv[i]), c->argv[i]);
        if (vsvc_config_set(&cfg, name, (uint32_t)v) != VSVC_OK)
            return -1;
    }
    if (w->svc)
        return -1; /* already running */
    if (!w->svc_store && !(w->svc_store = vsvc_mem_store_new(VSVC_STORE_MAX_RECORDS)))
        return -1;
    if (vsvc_emu_start(w->rt, &cfg, w->svc_store, w->out, &w->svc) != VSVC_OK)
        return -1;
    if (w->netcfg_holder[0])
        vsvc_emu_hold_lock(w->svc, w->netcfg_holder); /* before its first reconcile */
    return 0;
}

/* "service lock HOLDER" / "service unlock": another program (the adapter
 * properties dialog, say) takes or releases INetCfg's write lock, whether
 * or not the service runs. */
static int svc_lock(world *w, const scn_cmd *c, bool take)
{
    if (c->argc != (take ? 3u : 2u))
        return -1;
    snprintf(w->netcfg_holder, sizeof(w->netcfg_holder), "%.63s", take ? c->argv[2] : "");
    if (w->svc)
        vsvc_emu_hold_lock(w->svc, take ? w->netcfg_holder : NULL);
    return 0;
}

/* Stops the service as the SCM does; its counters stay readable. */
void svc_finish(world *w)
{
    if (!w->svc)
        return;
    vsvc_emu_get_stats(w->svc, &w->svc_stats);
    vsvc_emu_stop(w->svc);
    w->svc = NULL;
}

int svc_cmd(world *w, const scn_cmd *c)
{
    const char *sub = c->argv[1];
    if (strcmp(sub, "start") == 0)
        return svc_start(w, c);
    if (strcmp(sub, "lock") == 0 || strcmp(sub, "unlock") == 0)
        return svc_lock(w, c, sub[0] == 'l');
    if (c->argc != 2 || !w->svc)
        return -1;
    if (strcmp(sub, "stop") == 0) {
        svc_finish(w);
        return 0;
    }
    if (strcmp(sub, "uninstall") == 0) {
        /* As "vfosvc uninstall": restore, then the service is gone. Records
         * of absent adapters stay in the store (--force). */
        uint32_t leftovers = 0;
        int rc = vsvc_emu_restore_all(w->svc, &leftovers);
        svc_finish(w);
        return rc < 0 ? -1 : 0;
    }
    return -1;
}

static int log_count(const struct vsvc_emu_stats *s, const char *event, cval *v)
{
    for (int ev = 0; ev < VSVC_EV_COUNT; ev++) {
        if (strcmp(vsvc_event_name((enum vsvc_event)ev), event) == 0) {
            cond_set_num(v, s->events[ev]);
            return 0;
        }
    }
    return -1;
}

static int service_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen)
{
    struct vsvc_emu_stats s;
    if (w->svc)
        vsvc_emu_get_stats(w->svc, &s);
    else
        s = w->svc_stats;
    const struct vsvc_policy_counters *pc = &s.policy;
    const struct {
        const char *name;
        uint64_t v;
    } t[] = {
        { "reconciles", pc->reconciles },
        { "write_sessions", pc->write_sessions },
        { "lock_busy", pc->lock_busy },
        { "changes", pc->changes },
        { "restores", pc->restores },
        { "forgotten", pc->forgotten },
        { "backend_errors", pc->backend_errors },
        { "apply_errors", pc->apply_errors },
        { "store_errors", pc->store_errors },
        { "bad_records", pc->bad_records },
        { "suspect_vfs", pc->suspect_vfs },
        { "pnp_events", s.pnp_events },
        { "vfo_changes", s.vfo_changes },
        { "control_errors", s.control_errors },
        { "applied", s.applied },
        { "pending_restores", s.pending_restores },
        { "records", w->svc_store ? vsvc_mem_store_count(w->svc_store) : 0 },
    };
    if (n == 1) {
        cond_set_word(v, w->svc ? "running" : "stopped");
        return 0;
    }
    if (n == 3 && strcmp(p[1], "log") == 0 && log_count(&s, p[2], v) == 0)
        return 0;
    for (size_t i = 0; n == 2 && i < sizeof(t) / sizeof(t[0]); i++) {
        if (strcmp(p[1], t[i].name) == 0) {
            cond_set_num(v, t[i].v);
            return 0;
        }
    }
    snprintf(err, errlen, "no service field '%s%s%s'", p[1], n == 3 ? "." : "", n == 3 ? p[2] : "");
    return -1;
}

/* binding.<protocol>.<device> (the instance the hypervisor's device id has
 * now) or binding.<protocol>.<device>.<host> (that instance): the INetCfg
 * state of the path, "enabled", "disabled" or "absent". */
static int binding_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen)
{
    char which[130];
    if (n != 3 && n != 4) {
        snprintf(err, errlen, "binding.<protocol>.<device>[.<host>]");
        return -1;
    }
    snprintf(which, sizeof(which), n == 4 ? "%s.%s" : "%s", p[2], p[3]);
    const char *inst = n == 3 ? emu_hv_instance(w->hv, which) : NULL;
    emu_adapter *ad = emu_find_adapter(w->rt, inst ? inst : which);
    size_t count = emu_netcfg_paths(w->rt, NULL, 0);
    emu_nc_path *paths = calloc(count + 1, sizeof(*paths));
    if (!paths) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    count = emu_netcfg_paths(w->rt, paths, count);
    cond_set_word(v, "absent");
    for (size_t i = 0; ad && i < count; i++) {
        if (paths[i].adapter_id == emu_adapter_id(ad) && strcasecmp(paths[i].protocol, p[1]) == 0)
            cond_set_word(v, paths[i].enabled ? "enabled" : "disabled");
    }
    free(paths);
    return 0;
}

int svc_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen)
{
    if (strcmp(p[0], "binding") == 0)
        return binding_subject(w, p, n, v, err, errlen);
    return service_subject(w, p, n, v, err, errlen);
}

int svc_run_for(world *w, uint64_t ns)
{
    uint64_t end = emu_now_ns(w->rt) + ns;
    if (!w->svc)
        return emu_run_for(w->rt, ns);
    for (;;) {
        vsvc_emu_poll(w->svc);
        uint64_t now = emu_now_ns(w->rt);
        if (now >= end || emu_failed(w->rt))
            return EMU_OK;
        uint64_t step = end - now, due = vsvc_emu_wait_ns(w->svc);
        if (step > SVC_QUANTUM_NS)
            step = SVC_QUANTUM_NS;
        if (due > 0 && due < step)
            step = due;
        int err = emu_run_for_until(w->rt, step, vsvc_emu_woken, w->svc);
        if (err)
            return err;
    }
}

void svc_destroy(world *w)
{
    svc_finish(w);
    vsvc_mem_store_free(w->svc_store);
    w->svc_store = NULL;
}
