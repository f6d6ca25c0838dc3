/*
 * svc_emu.c - vfosvc as a process of the emulated guest (vsvc_emu.h): the
 * loop of service_win.c over ndisemu. Adapter arrivals and removals (what
 * CM_Register_Notification on GUID_DEVINTERFACE_NET reports on Windows)
 * schedule a debounced reconcile, vfo's WAIT_CHANGE completions an immediate
 * one; a reconcile
 * reads vfo's pairs and hands them to the portable policy.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl_emu.h"
#include "vsvc_control.h"
#include "vsvc_emu.h"
#include "vsvc_sched.h"

#define NS_PER_MS 1000000ull

struct vsvc_emu {
    emu_runtime *rt;
    FILE *log;
    struct vsvc_config cfg;
    struct vsvc_emu_bg *bg;
    struct vsvc_mem_store *store;
    struct vsvc_policy *policy;
    struct vsvc_pairs *pairs;
    struct vsvc_sched sched;
    struct ctl_emu ctl;
    struct vsvc_control_note ctl_note; /* what was last logged about the control device */
    struct vsvc_emu_stats stats;
};

static uint64_t now_ms(const struct vsvc_emu *s)
{
    return emu_now_ns(s->rt) / NS_PER_MS;
}

static void say(struct vsvc_emu *s, enum vsvc_event ev, const char *text)
{
    if ((unsigned)ev < VSVC_EV_COUNT)
        s->stats.events[ev]++;
    if (s->log != NULL)
        fprintf(s->log, "  %10.3f ms  vfosvc %-19s %s\n", (double)emu_now_ns(s->rt) / 1e6,
                vsvc_event_name(ev), text);
}

static void log_line(void *ctx, enum vsvc_event ev, enum vsvc_level level, const char *text)
{
    (void)level;
    say(ctx, ev, text);
}

static const struct vsvc_log_ops log_ops = { .log = log_line };

/* Called from inside the scheduler: only marks a reconcile due. */
static void on_netcfg(void *ctx, emu_nc_event ev, uint32_t adapter_id, const char *protocol)
{
    struct vsvc_emu *s = ctx;
    (void)adapter_id;
    (void)protocol;
    if (ev != EMU_NC_ADAPTER_ARRIVAL && ev != EMU_NC_ADAPTER_REMOVAL)
        return; /* binding changes raise no device-interface notification */
    s->stats.pnp_events++;
    vsvc_sched_event(&s->sched, now_ms(s));
}

static void note_control(struct vsvc_emu *s, int rc, const char *why)
{
    if (rc != VSVC_OK)
        s->stats.control_errors++;
    vsvc_control_note(&s->ctl_note, rc, why, &log_ops, s);
}

static void refresh_pairs(struct vsvc_emu *s)
{
    char why[256] = "";
    int rc = ctl_emu_open(&s->ctl, why, sizeof(why));
    if (rc == VSVC_OK)
        rc = ctl_emu_query_pairs(&s->ctl, s->pairs, why, sizeof(why));
    else
        vsvc_pairs_clear(s->pairs);
    note_control(s, rc, why);
}

static void reconcile(struct vsvc_emu *s)
{
    struct vsvc_reconcile_result res;
    char why[256] = "";

    refresh_pairs(s);
    vsvc_policy_reconcile(s->policy, s->pairs, now_ms(s), &res);
    s->stats.pending_restores = res.pending_restores;
    vsvc_sched_done(&s->sched, now_ms(s), res.next_ms);
    if (ctl_emu_arm_wait(&s->ctl, why, sizeof(why)) != VSVC_OK)
        note_control(s, VSVC_E_IO, why);
}

bool vsvc_emu_poll(struct vsvc_emu *s)
{
    if (emu_guest_frozen(s->rt))
        return false;
    if (ctl_emu_take_change(&s->ctl)) {
        s->stats.vfo_changes++;
        vsvc_sched_vfo_change(&s->sched, now_ms(s));
    }
    if (!vsvc_sched_due(&s->sched, now_ms(s)))
        return false;
    reconcile(s);
    return true;
}

uint64_t vsvc_emu_wait_ns(struct vsvc_emu *s)
{
    if (s->ctl.changed)
        return 0;
    return (uint64_t)vsvc_sched_wait_ms(&s->sched, now_ms(s)) * NS_PER_MS;
}

bool vsvc_emu_woken(void *ctx)
{
    struct vsvc_emu *s = ctx;
    return s->ctl.changed && !emu_guest_frozen(s->rt);
}

static void free_service(struct vsvc_emu *s)
{
    emu_netcfg_watch(s->rt, NULL, NULL);
    ctl_emu_close(&s->ctl);
    vsvc_policy_free(s->policy);
    vsvc_emu_bg_free(s->bg);
    free(s->pairs);
    free(s);
}

int vsvc_emu_start(emu_runtime *rt, const struct vsvc_config *cfg, struct vsvc_mem_store *store,
                   FILE *log, struct vsvc_emu **out)
{
    struct vsvc_policy_env env;
    struct vsvc_emu *s = calloc(1, sizeof(*s));
    char text[256];
    int rc;

    *out = NULL;
    if (s == NULL)
        return VSVC_E_NOMEM;
    s->rt = rt;
    s->log = log;
    s->store = store;
    if (cfg != NULL)
        s->cfg = *cfg;
    else
        vsvc_config_default(&s->cfg);
    ctl_emu_init(&s->ctl, rt);
    s->bg = vsvc_emu_bg_new(rt);
    s->pairs = calloc(1, sizeof(*s->pairs));
    env.bg = &vsvc_emu_bg_ops;
    env.bg_ctx = s->bg;
    env.store = &vsvc_mem_store_ops;
    env.store_ctx = store;
    env.log = &log_ops;
    env.log_ctx = s;
    s->policy = s->bg && s->pairs && store ? vsvc_policy_new(&s->cfg, &env) : NULL;
    if (s->policy == NULL) {
        free_service(s);
        return VSVC_E_NOMEM;
    }
    rc = vsvc_policy_start(s->policy);
    if (rc != VSVC_OK) {
        free_service(s);
        return rc;
    }
    vsvc_sched_init(&s->sched, &s->cfg, now_ms(s));
    emu_netcfg_watch(rt, on_netcfg, s);
    snprintf(text, sizeof(text),
             "vfosvc started (reconcile every %u s, debounce %u ms, restore grace %u s, %lu "
             "remembered change(s))",
             (unsigned)(s->cfg.reconcile_interval_ms / 1000), (unsigned)s->cfg.debounce_ms,
             (unsigned)(s->cfg.restore_grace_ms / 1000),
             (unsigned long)vsvc_policy_record_count(s->policy));
    say(s, VSVC_EV_SERVICE_STARTED, text);
    *out = s;
    return VSVC_OK;
}

void vsvc_emu_stop(struct vsvc_emu *s)
{
    if (s == NULL)
        return;
    say(s, VSVC_EV_SERVICE_STOPPED, "vfosvc stopped; bindings stay as they are");
    free_service(s);
}

int vsvc_emu_restore_all(struct vsvc_emu *s, uint32_t *leftovers)
{
    struct vsvc_reconcile_result res;
    int rc = vsvc_policy_restore_all(s->policy, now_ms(s), &res);
    *leftovers = res.leftovers;
    return rc;
}

void vsvc_emu_get_stats(struct vsvc_emu *s, struct vsvc_emu_stats *out)
{
    *out = s->stats;
    out->policy = *vsvc_policy_counters(s->policy);
    out->applied = vsvc_emu_bg_applied(s->bg);
    out->records = vsvc_policy_record_count(s->policy);
}

void vsvc_emu_hold_lock(struct vsvc_emu *s, const char *holder)
{
    vsvc_emu_bg_hold_lock(s->bg, holder);
}
