/*
 * policy.c - the policy's lifecycle and the reconcile pass: read the graph
 * without a lock, decide (plan.c), and only when something must change take
 * the write lock, decide again on what is now there, record, change, commit,
 * and log every change with its reason.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

#define LOG_LINE 768

void policy_say(struct vsvc_policy *p, enum vsvc_event ev, const char *fmt, ...)
{
    char text[LOG_LINE];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    p->env.log->log(p->env.log_ctx, ev, vsvc_event_level(ev), text);
}

void policy_describe(const struct vsvc_bg_adapter *a, char *buf, size_t len)
{
    snprintf(buf, len, "%s (service %s, %s)", a->id, a->service[0] ? a->service : "unknown",
             a->pnp_id[0] ? a->pnp_id : "no PnP id");
}

bool policy_adapter_has_records(const struct vsvc_policy *p, const char *adapter_id)
{
    size_t i;
    for (i = 0; i < p->n_records; i++) {
        if (strcmp(p->records[i].adapter_id, adapter_id) == 0)
            return true;
    }
    return false;
}

/* "system call failed (INetCfg::Apply: 0x8004a024)" when the back end says more. */
static const char *with_detail(struct vsvc_policy *p, int rc, const char *detail)
{
    if (detail == NULL || *detail == '\0')
        return vsvc_strerror(rc);
    snprintf(p->error_text, sizeof(p->error_text), "%s (%s)", vsvc_strerror(rc), detail);
    return p->error_text;
}

static const char *bg_error(struct vsvc_policy *p, int rc)
{
    return with_detail(p, rc, p->env.bg->last_error ? p->env.bg->last_error(p->env.bg_ctx) : NULL);
}

static const char *store_error(struct vsvc_policy *p, int rc)
{
    return with_detail(
        p, rc, p->env.store->last_error ? p->env.store->last_error(p->env.store_ctx) : NULL);
}

struct vsvc_policy *vsvc_policy_new(const struct vsvc_config *cfg,
                                    const struct vsvc_policy_env *env)
{
    struct vsvc_policy *p;

    if (env == NULL || env->bg == NULL || env->store == NULL || env->log == NULL ||
        env->bg->open == NULL || env->bg->read == NULL || env->bg->set_binding == NULL ||
        env->bg->close == NULL || env->store->load == NULL || env->store->put == NULL ||
        env->store->remove == NULL || env->log->log == NULL)
        return NULL;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->graph = vsvc_bg_graph_new();
    p->records = calloc(VSVC_STORE_MAX_RECORDS, sizeof(*p->records));
    if (p->graph == NULL || p->records == NULL) {
        vsvc_policy_free(p);
        return NULL;
    }
    if (cfg != NULL)
        p->cfg = *cfg;
    else
        vsvc_config_default(&p->cfg);
    p->env = *env;
    return p;
}

void vsvc_policy_free(struct vsvc_policy *p)
{
    if (p == NULL)
        return;
    vsvc_bg_graph_free(p->graph);
    free(p->records);
    free(p);
}

/* A record from the store is used only in canonical form and only once. */
static bool accept_record(struct vsvc_policy *p, const struct vsvc_store_record *in)
{
    struct vsvc_store_record r;
    size_t i;

    memset(&r, 0, sizeof(r));
    if (vsvc_id_canonical(in->adapter_id, r.adapter_id) != VSVC_OK ||
        vsvc_bg_path_canonical(in->path, r.path) != VSVC_OK)
        return false;
    r.was_enabled = in->was_enabled;
    for (i = 0; i < p->n_records; i++) {
        if (strcmp(p->records[i].adapter_id, r.adapter_id) == 0 &&
            strcmp(p->records[i].path, r.path) == 0)
            return false;
    }
    p->records[p->n_records++] = r;
    return true;
}

int vsvc_policy_start(struct vsvc_policy *p)
{
    struct vsvc_store_record *raw;
    size_t n = 0, bad = 0, i;
    int rc;

    raw = calloc(VSVC_STORE_MAX_RECORDS, sizeof(*raw));
    if (raw == NULL)
        return VSVC_E_NOMEM;
    rc = p->env.store->load(p->env.store_ctx, raw, VSVC_STORE_MAX_RECORDS, &n, &bad);
    if (rc != VSVC_OK) {
        p->counters.store_errors++;
        policy_say(p, VSVC_EV_STORE_FAILED, "Could not read the remembered binding changes: %s",
                   store_error(p, rc));
        free(raw);
        return rc;
    }
    p->n_records = 0;
    for (i = 0; i < n && i < VSVC_STORE_MAX_RECORDS; i++) {
        if (!accept_record(p, &raw[i]))
            bad++;
    }
    free(raw);
    if (bad) {
        p->counters.bad_records += bad;
        policy_say(p, VSVC_EV_STORE_FAILED,
                   "Ignored %lu malformed or duplicate remembered binding change(s) in the store",
                   (unsigned long)bad);
    }
    p->started = true;
    return VSVC_OK;
}

static int read_graph(struct vsvc_policy *p)
{
    int rc;
    vsvc_bg_graph_reset(p->graph);
    rc = p->env.bg->read(p->env.bg_ctx, p->graph);
    if (rc != VSVC_OK) {
        p->counters.backend_errors++;
        policy_say(p, VSVC_EV_BACKEND_FAILED,
                   "Reading the network binding configuration failed: %s", bg_error(p, rc));
    }
    return rc;
}

/* A lock-free snapshot: most reconciles end here with nothing to do. */
static int read_snapshot(struct vsvc_policy *p)
{
    char holder[128] = "";
    int rc = p->env.bg->open(p->env.bg_ctx, VSVC_BG_READ, 0, holder, sizeof(holder));
    if (rc != VSVC_OK) {
        p->counters.backend_errors++;
        policy_say(p, VSVC_EV_BACKEND_FAILED,
                   "Opening the network binding configuration failed: %s", bg_error(p, rc));
        return rc;
    }
    rc = read_graph(p);
    p->env.bg->close(p->env.bg_ctx, false);
    return rc;
}

/* Bounded: lock_attempts waits of lock_timeout_ms each, then give up until
 * the next reconcile (the caller is told to retry soon). */
static int open_write(struct vsvc_policy *p)
{
    char holder[128];
    uint32_t attempt;
    int rc = VSVC_E_BUSY;

    for (attempt = 0; attempt < p->cfg.lock_attempts; attempt++) {
        holder[0] = '\0';
        rc = p->env.bg->open(p->env.bg_ctx, VSVC_BG_WRITE, p->cfg.lock_timeout_ms, holder,
                             sizeof(holder));
        if (rc != VSVC_E_BUSY)
            break;
        p->counters.lock_busy++;
    }
    if (rc == VSVC_E_BUSY)
        policy_say(p, VSVC_EV_LOCK_BUSY,
                   "The network configuration write lock is held by '%s'; vfosvc retries in %u s",
                   holder[0] ? holder : "another process", (unsigned)(p->cfg.retry_ms / 1000));
    else if (rc != VSVC_OK) {
        p->counters.backend_errors++;
        policy_say(p, VSVC_EV_BACKEND_FAILED,
                   "Locking the network binding configuration failed: %s", bg_error(p, rc));
    } else {
        p->counters.write_sessions++;
    }
    return rc;
}

static const char *why_text(enum why why)
{
    switch (why) {
    case WHY_PAIRED_VF:
        return "only vfoprot may bind to a VF that vfo has paired";
    case WHY_UNPAIRED:
        return "the VF is no longer paired by vfo";
    case WHY_VFOPROT_GONE:
        return "the vfoprot protocol is not installed";
    case WHY_UNINSTALL:
        return "vfosvc is being uninstalled";
    case WHY_BINDING_GONE:
        return "the binding no longer exists";
    case WHY_ALREADY_ORIGINAL:
        return "the binding is already in its original state";
    }
    return "";
}

/* Rule 3: the record is durable before the binding changes. */
static int apply_change(struct vsvc_policy *p, struct plan_item *it)
{
    const struct vsvc_bg_binding *b = &p->graph->bindings[it->binding];
    bool target = it->act == ACT_ENABLE;
    int rc;

    if (it->record == NO_INDEX) {
        struct vsvc_store_record r;
        memset(&r, 0, sizeof(r));
        memcpy(r.adapter_id, b->adapter_id, sizeof(r.adapter_id));
        memcpy(r.path, b->path, sizeof(r.path));
        r.was_enabled = b->enabled;
        rc = p->n_records == VSVC_STORE_MAX_RECORDS ? VSVC_E_FULL
                                                    : p->env.store->put(p->env.store_ctx, &r);
        if (rc != VSVC_OK) {
            p->counters.store_errors++;
            policy_say(p, VSVC_EV_STORE_FAILED,
                       "Could not remember binding %s on %s before changing it (%s); the "
                       "binding was left %s",
                       b->path, b->adapter_id, store_error(p, rc),
                       b->enabled ? "enabled" : "disabled");
            return rc;
        }
        it->record = p->n_records;
        p->records[p->n_records++] = r;
    }
    rc = p->env.bg->set_binding(p->env.bg_ctx, b->adapter_id, b->path, target);
    if (rc != VSVC_OK) {
        p->counters.backend_errors++;
        policy_say(p, VSVC_EV_BACKEND_FAILED, "Could not %s binding %s on %s: %s",
                   target ? "enable" : "disable", b->path, b->adapter_id, bg_error(p, rc));
    }
    return rc;
}

static int apply_restore(struct vsvc_policy *p, struct plan_item *it)
{
    const struct vsvc_store_record *r = &p->records[it->record];
    int rc = p->env.bg->set_binding(p->env.bg_ctx, r->adapter_id, r->path, r->was_enabled);
    if (rc != VSVC_OK) {
        p->counters.backend_errors++;
        policy_say(p, VSVC_EV_BACKEND_FAILED, "Could not restore binding %s on %s: %s", r->path,
                   r->adapter_id, bg_error(p, rc));
    }
    return rc;
}

/* Logged after the commit: a change is real only once applied. */
static void report_item(struct vsvc_policy *p, const struct plan_item *it)
{
    const struct vsvc_store_record *r = &p->records[it->record];
    const struct vsvc_bg_adapter *a = vsvc_bg_find_adapter(p->graph, r->adapter_id);
    char desc[VSVC_PNP_LEN + 128];

    if (a != NULL)
        policy_describe(a, desc, sizeof(desc));
    else
        snprintf(desc, sizeof(desc), "%s", r->adapter_id);
    switch (it->act) {
    case ACT_DISABLE:
    case ACT_ENABLE:
        p->counters.changes++;
        policy_say(p, it->act == ACT_DISABLE ? VSVC_EV_BINDING_DISABLED : VSVC_EV_BINDING_ENABLED,
                   "%s binding %s on VF %s, paired with vfo adapter %s (state %s): %s",
                   it->act == ACT_DISABLE ? "Disabled" : "Enabled", r->path, desc, it->pair->vfo.id,
                   vsvc_pair_state_name(it->pair->state), why_text(it->why));
        break;
    case ACT_RESTORE:
        p->counters.restores++;
        policy_say(p, VSVC_EV_BINDING_RESTORED, "Restored binding %s on %s to %s: %s", r->path,
                   desc, r->was_enabled ? "enabled" : "disabled", why_text(it->why));
        break;
    case ACT_FORGET:
        p->counters.forgotten++;
        policy_say(p, VSVC_EV_RECORD_DROPPED,
                   "Forgot the remembered change of binding %s on %s (originally %s): %s", r->path,
                   desc, r->was_enabled ? "enabled" : "disabled", why_text(it->why));
        break;
    }
}

/* Drops the records of finished restores and forgets. Removal is by key and
 * happens last, so plan indices stay valid while the plan runs. */
static void drop_finished_records(struct vsvc_policy *p)
{
    size_t i, keep = 0;

    memset(p->drop, 0, p->n_records * sizeof(p->drop[0]));
    for (i = 0; i < p->plan.n; i++) {
        const struct plan_item *it = &p->plan.items[i];
        if (it->done && (it->act == ACT_RESTORE || it->act == ACT_FORGET))
            p->drop[it->record] = true;
    }
    for (i = 0; i < p->n_records; i++) {
        const struct vsvc_store_record *r = &p->records[i];
        if (p->drop[i]) {
            int rc = p->env.store->remove(p->env.store_ctx, r->adapter_id, r->path);
            if (rc == VSVC_OK)
                continue;
            /* Kept: the next reconcile finds nothing to change and forgets it. */
            p->counters.store_errors++;
            policy_say(p, VSVC_EV_STORE_FAILED,
                       "Could not delete the remembered change of %s on %s: %s", r->path,
                       r->adapter_id, store_error(p, rc));
        }
        p->records[keep++] = *r;
    }
    p->n_records = keep;
}

/* Runs the plan inside a write session; returns the commit's status. */
static int apply_plan(struct vsvc_policy *p, uint32_t *failures)
{
    size_t i;
    int rc;

    for (i = 0; i < p->plan.n; i++) {
        struct plan_item *it = &p->plan.items[i];
        switch (it->act) {
        case ACT_DISABLE:
        case ACT_ENABLE:
            rc = apply_change(p, it);
            break;
        case ACT_RESTORE:
            rc = apply_restore(p, it);
            break;
        default:
            rc = VSVC_OK;
            break;
        }
        it->done = rc == VSVC_OK;
        *failures += rc != VSVC_OK;
    }
    rc = p->env.bg->close(p->env.bg_ctx, true);
    if (rc < 0) {
        p->counters.apply_errors++;
        policy_say(p, VSVC_EV_APPLY_FAILED,
                   "Applying the binding changes failed (%s); nothing was changed and vfosvc "
                   "retries in %u s",
                   bg_error(p, rc), (unsigned)(p->cfg.retry_ms / 1000));
    } else if (rc == VSVC_OK_REBOOT) {
        policy_say(p, VSVC_EV_REBOOT_REQUIRED,
                   "Windows needs a reboot to finish the binding changes vfosvc applied");
    }
    return rc;
}

static void report_plan(struct vsvc_policy *p, struct vsvc_reconcile_result *res)
{
    size_t i;
    for (i = 0; i < p->plan.n; i++) {
        const struct plan_item *it = &p->plan.items[i];
        if (!it->done)
            continue;
        report_item(p, it);
        if (it->act == ACT_FORGET)
            res->forgotten++;
        else
            res->changes++;
    }
}

static void report_leftovers(struct vsvc_policy *p)
{
    size_t i;
    for (i = 0; i < p->n_records; i++) {
        const struct vsvc_store_record *r = &p->records[i];
        if (vsvc_bg_find_adapter(p->graph, r->adapter_id) == NULL)
            policy_say(p, VSVC_EV_LEFTOVER,
                       "Adapter %s is not present, so binding %s cannot be restored to %s now; "
                       "the change stays remembered",
                       r->adapter_id, r->path, r->was_enabled ? "enabled" : "disabled");
    }
}

static uint32_t ms_until(uint64_t deadline, uint64_t now_ms)
{
    if (deadline <= now_ms)
        return 1;
    return deadline - now_ms > UINT32_MAX ? UINT32_MAX : (uint32_t)(deadline - now_ms);
}

static void finish(struct vsvc_policy *p, struct vsvc_reconcile_result *res, uint64_t now_ms,
                   bool failed)
{
    res->pending_restores = p->plan.pending;
    res->leftovers = p->plan.leftovers;
    if (failed)
        res->next_ms = p->cfg.retry_ms;
    else if (p->plan.next_deadline != 0)
        res->next_ms = ms_until(p->plan.next_deadline, now_ms);
}

/* Takes the lock, decides again on what is there now that nobody else can
 * change it, and applies. Returns the commit status (< 0: nothing applied). */
static int write_pass(struct vsvc_policy *p, const struct vsvc_pairs *pairs, enum policy_mode mode,
                      uint64_t now_ms, uint32_t *failures)
{
    int rc = open_write(p);
    if (rc == VSVC_OK) {
        rc = read_graph(p);
        if (rc == VSVC_OK) {
            plan_build(p, pairs, mode, now_ms);
            rc = apply_plan(p, failures);
        } else {
            p->env.bg->close(p->env.bg_ctx, false);
        }
    }
    if (rc < 0)
        p->plan.n = 0; /* nothing was applied: nothing to report or forget */
    return rc;
}

static int run(struct vsvc_policy *p, const struct vsvc_pairs *pairs, enum policy_mode mode,
               uint64_t now_ms, struct vsvc_reconcile_result *res)
{
    uint32_t failures = 0;
    int rc;
    size_t i;

    memset(res, 0, sizeof(*res));
    if (!p->started)
        return res->status = VSVC_E_STATE;
    p->counters.reconciles++;
    plan_reset(&p->plan);
    rc = read_snapshot(p);
    if (rc == VSVC_OK) {
        plan_observe(p, pairs, mode, now_ms);
        plan_build(p, pairs, mode, now_ms);
        if (p->plan.needs_write) {
            rc = write_pass(p, pairs, mode, now_ms, &failures);
        } else {
            for (i = 0; i < p->plan.n; i++)
                p->plan.items[i].done = true; /* forgets only: no lock needed */
        }
        report_plan(p, res);
        drop_finished_records(p);
    }
    finish(p, res, now_ms, rc < 0 || failures > 0);
    if (rc >= 0 && failures > 0)
        rc = VSVC_E_IO;
    return res->status = rc;
}

int vsvc_policy_reconcile(struct vsvc_policy *p, const struct vsvc_pairs *pairs, uint64_t now_ms,
                          struct vsvc_reconcile_result *res)
{
    return run(p, pairs, MODE_ENFORCE, now_ms, res);
}

int vsvc_policy_restore_all(struct vsvc_policy *p, uint64_t now_ms,
                            struct vsvc_reconcile_result *res)
{
    struct vsvc_pairs none;
    int rc;

    vsvc_pairs_clear(&none);
    rc = run(p, &none, MODE_RESTORE_ALL, now_ms, res);
    if (rc >= 0)
        report_leftovers(p);
    return rc;
}

const struct vsvc_policy_counters *vsvc_policy_counters(const struct vsvc_policy *p)
{
    return &p->counters;
}

size_t vsvc_policy_record_count(const struct vsvc_policy *p)
{
    return p->n_records;
}

const struct vsvc_store_record *vsvc_policy_record_at(const struct vsvc_policy *p, size_t i)
{
    return i < p->n_records ? &p->records[i] : NULL;
}
