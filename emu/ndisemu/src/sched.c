/*
 * sched.c - the two schedulers.
 *
 * Every piece of deferred work (DPCs, ISRs, timers, work items, device work,
 * PnP operations, completions) is an emu_task in one queue ordered by due time.
 *
 * Deterministic: one thread (the caller's). Virtual time moves only when no
 * task is due; among the tasks due now, the next one is chosen by the seeded
 * random source, so a seed fixes the interleaving. A wait inside a task
 * (NdisWaitEvent, a pended pause...) pumps the queue, as another CPU would.
 * PnP operations are serialized like the PnP manager's: while one runs, no
 * other starts.
 *
 * Real-time: worker threads take due tasks in order; time is the monotonic
 * clock; waits block on the runtime's condition variable.
 */
#include "emu_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <time.h>

static bool deterministic(emu_runtime *rt)
{
    return rt->cfg.sched == EMU_SCHED_DETERMINISTIC;
}

emu_task *emu_task_post(emu_runtime *rt, task_kind kind, uint64_t delay_ns, emu_task_fn fn, void *a,
                        void *b, uint64_t u)
{
    emu_task *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->id = rt->next_task_id++;
    t->due = emu_time(rt) + delay_ns;
    t->seq = rt->seq++;
    t->kind = kind;
    t->fn = fn;
    t->a = a;
    t->b = b;
    t->u = u;
    t->next = rt->tasks;
    rt->tasks = t;
    emu_broadcast(rt);
    return t;
}

static bool unlink_task(emu_runtime *rt, emu_task *t)
{
    for (emu_task **pp = &rt->tasks; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            return true;
        }
    }
    return false;
}

bool emu_task_cancel(emu_runtime *rt, emu_task *t)
{
    if (!t)
        return false;
    if (t->running) {
        t->cancelled = true; /* a running periodic task is not re-armed */
        return false;
    }
    if (!unlink_task(rt, t))
        return false;
    free(t);
    return true;
}

static bool eligible(emu_runtime *rt, const emu_task *t, bool allow_pnp)
{
    if (rt->frozen && t->kind != T_PLATFORM)
        return false;
    return t->kind != T_PNP || (allow_pnp && !rt->pnp_active);
}

/* rt->mu held. Guest-frozen time so far, the current freeze included. */
static uint64_t frozen_total(emu_runtime *rt)
{
    return rt->frozen_ns + (rt->frozen ? emu_time(rt) - rt->frozen_since : 0);
}

uint64_t emu_guest_time(emu_runtime *rt)
{
    return emu_time(rt) - frozen_total(rt);
}

/* Moves deterministic virtual time to t (rt->mu held or not), then checks
 * the rules with time limits: every move goes through here. */
static void advance_to(emu_runtime *rt, uint64_t t)
{
    __atomic_store_n(&rt->now, t, __ATOMIC_SEQ_CST);
    emu_timed_checks(rt);
}

/* rt->mu held. Deterministic: a seeded choice among the due tasks.
 * Real-time: the oldest due task. */
static emu_task *pick(emu_runtime *rt, bool allow_pnp)
{
    uint64_t now = emu_time(rt);
    unsigned n = 0;
    emu_task *best = NULL;
    for (emu_task *t = rt->tasks; t; t = t->next) {
        if (t->due > now || !eligible(rt, t, allow_pnp))
            continue;
        n++;
        if (!best || t->seq < best->seq)
            best = t;
    }
    if (n == 0)
        return NULL;
    if (deterministic(rt)) {
        unsigned k = (unsigned)(emu_rand(rt) % n);
        for (emu_task *t = rt->tasks; t; t = t->next) {
            if (t->due > now || !eligible(rt, t, allow_pnp))
                continue;
            if (k-- == 0) {
                best = t;
                break;
            }
        }
    }
    unlink_task(rt, best);
    return best;
}

static emu_task *earliest(emu_runtime *rt, bool allow_pnp)
{
    emu_task *best = NULL;
    for (emu_task *t = rt->tasks; t; t = t->next) {
        if (eligible(rt, t, allow_pnp) && (!best || t->due < best->due))
            best = t;
    }
    return best;
}

/* rt->mu held on entry and on return; dropped while the task runs. */
static void run_task(emu_runtime *rt, emu_task *t)
{
    t->running = true;
    if (t->kind == T_PNP)
        rt->pnp_active = true;
    rt->running_tasks++;
    emu_unlock(rt);
    t->fn(rt, t);
    emu_lock(rt);
    rt->running_tasks--;
    rt->cnt.tasks_run++;
    if (t->kind == T_PNP)
        rt->pnp_active = false;
    t->running = false;
    if (t->period && !t->cancelled && !emu_stopped(rt)) {
        uint64_t now = emu_time(rt);
        t->due += t->period;
        if (t->due <= now)
            t->due = now + t->period;
        t->seq = rt->seq++;
        t->next = rt->tasks;
        rt->tasks = t;
    } else {
        free(t);
    }
    emu_broadcast(rt);
}

/* Deterministic: runs one due task or advances virtual time to the next one
 * (not beyond limit). False when neither is possible. */
static bool det_step(emu_runtime *rt, bool allow_pnp, uint64_t limit)
{
    emu_lock(rt);
    if (emu_stopped(rt)) {
        emu_unlock(rt);
        return false;
    }
    emu_task *t = pick(rt, allow_pnp);
    if (t) {
        run_task(rt, t);
        emu_unlock(rt);
        return true;
    }
    emu_task *next = earliest(rt, allow_pnp);
    bool moved = false;
    if (next && next->due <= limit) {
        advance_to(rt, next->due);
        moved = true;
    }
    emu_unlock(rt);
    return moved;
}

static void deadline_ts(struct timespec *ts, uint64_t from_now_ns)
{
    clock_gettime(CLOCK_REALTIME, ts);
    uint64_t ns = (uint64_t)ts->tv_nsec + from_now_ns;
    ts->tv_sec += (time_t)(ns / 1000000000ull);
    ts->tv_nsec = (long)(ns % 1000000000ull);
}

/* rt->mu held. The deadline of a wait that started at guest-frozen total
 * f0: time the guest spent frozen since then does not count, since nothing
 * in the guest could have completed meanwhile. While frozen: no deadline. */
static uint64_t wait_deadline(emu_runtime *rt, uint64_t deadline, uint64_t f0)
{
    return rt->frozen ? UINT64_MAX : deadline + (frozen_total(rt) - f0);
}

bool emu_wait(emu_runtime *rt, emu_pred_fn pred, void *arg, uint64_t timeout_ns)
{
    emu_lock(rt);
    uint64_t deadline = emu_time(rt) + timeout_ns, f0 = frozen_total(rt);
    emu_unlock(rt);
    if (deterministic(rt)) {
        for (;;) {
            emu_lock(rt);
            bool ok = pred(rt, arg);
            bool stop = emu_stopped(rt);
            uint64_t limit = wait_deadline(rt, deadline, f0);
            emu_unlock(rt);
            if (ok)
                return true;
            if (stop)
                return false;
            if (!det_step(rt, false, limit)) {
                if (emu_time(rt) < limit && limit != UINT64_MAX)
                    advance_to(rt, limit);
                return false;
            }
        }
    }
    emu_lock(rt);
    bool ok;
    while (!(ok = pred(rt, arg)) && !emu_stopped(rt)) {
        uint64_t now = emu_time(rt), limit = wait_deadline(rt, deadline, f0);
        if (now >= limit)
            break;
        struct timespec ts;
        uint64_t step = limit - now;
        deadline_ts(&ts, step < 10000000ull ? step : 10000000ull);
        pthread_cond_timedwait(&rt->cv, &rt->mu, &ts);
    }
    emu_unlock(rt);
    return ok;
}

static bool flag_set(emu_runtime *rt, void *arg)
{
    (void)rt;
    return *(bool *)arg;
}

bool emu_wait_flag(emu_runtime *rt, bool *flag, const char *what)
{
    if (emu_wait(rt, flag_set, flag, EMU_WAIT_NS))
        return true;
    if (!emu_stopped(rt))
        emu_violate(rt, "OperationNotCompleted", what,
                    "pended operation was not completed within %llu s (virtual time in the "
                    "deterministic scheduler)",
                    (unsigned long long)(EMU_WAIT_NS / 1000000000ull));
    return false;
}

/* ---- real-time workers ---- */

void emu_dpc_latency(emu_runtime *rt, uint64_t max_ns)
{
    if (deterministic(rt) || max_ns == 0)
        return;
    emu_lock(rt);
    uint64_t ns = emu_rand(rt) % (max_ns + 1);
    emu_unlock(rt);
    struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void *worker_main(void *arg)
{
    emu_runtime *rt = arg;
    emu_lock(rt);
    while (!rt->quit) {
        emu_task *t = emu_stopped(rt) ? NULL : pick(rt, true);
        if (t) {
            run_task(rt, t);
            continue;
        }
        uint64_t wait = 5000000ull;
        emu_task *next = earliest(rt, true);
        if (next) {
            uint64_t now = emu_time(rt);
            if (next->due > now && next->due - now < wait)
                wait = next->due - now;
        }
        struct timespec ts;
        deadline_ts(&ts, wait);
        pthread_cond_timedwait(&rt->cv, &rt->mu, &ts);
    }
    emu_unlock(rt);
    return NULL;
}

int emu_sched_start(emu_runtime *rt)
{
    if (deterministic(rt))
        return EMU_OK;
    rt->workers = calloc(rt->cfg.workers, sizeof(pthread_t));
    if (!rt->workers)
        return EMU_ERR_NOMEM;
    for (unsigned i = 0; i < rt->cfg.workers; i++) {
        if (pthread_create(&rt->workers[i], NULL, worker_main, rt) != 0)
            break;
        rt->n_workers++;
    }
    return rt->n_workers ? EMU_OK : EMU_ERR_NOMEM;
}

void emu_sched_stop(emu_runtime *rt)
{
    emu_lock(rt);
    rt->quit = true;
    emu_broadcast(rt);
    emu_unlock(rt);
    for (unsigned i = 0; i < rt->n_workers; i++)
        pthread_join(rt->workers[i], NULL);
    free(rt->workers);
    rt->workers = NULL;
    rt->n_workers = 0;
}

void emu_sched_free_all(emu_runtime *rt)
{
    for (emu_task *t = rt->tasks, *n; t; t = n) {
        n = t->next;
        free(t);
    }
    rt->tasks = NULL;
}

static bool busy(emu_runtime *rt)
{
    if (rt->running_tasks)
        return true;
    for (emu_task *t = rt->tasks; t; t = t->next) {
        if (!t->period)
            return true;
    }
    return false;
}

static bool not_busy(emu_runtime *rt, void *arg)
{
    (void)arg;
    return !busy(rt);
}

int emu_sched_run_until_idle(emu_runtime *rt)
{
    if (!deterministic(rt)) {
        bool ok = emu_wait(rt, not_busy, NULL, 60ull * 1000000000ull);
        return emu_stopped(rt) ? EMU_ERR_STOPPED : ok ? EMU_OK : EMU_ERR_TIMEOUT;
    }
    uint64_t limit = emu_time(rt) + 3600ull * 1000000000ull;
    for (;;) {
        emu_lock(rt);
        bool more = busy(rt);
        emu_unlock(rt);
        if (emu_stopped(rt))
            return EMU_ERR_STOPPED;
        if (!more)
            return EMU_OK;
        if (!det_step(rt, true, limit))
            return emu_guest_frozen(rt) ? EMU_ERR_BUSY : EMU_ERR_TIMEOUT;
    }
}

int emu_sched_run_for(emu_runtime *rt, uint64_t ns)
{
    if (!deterministic(rt)) {
        struct timespec ts = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_OK;
    }
    uint64_t target = emu_time(rt) + ns;
    while (det_step(rt, true, target)) {
    }
    if (emu_time(rt) < target)
        advance_to(rt, target);
    return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_OK;
}

int emu_run_until_idle(emu_runtime *rt)
{
    return emu_sched_run_until_idle(rt);
}

int emu_run_for(emu_runtime *rt, uint64_t ns)
{
    return emu_sched_run_for(rt, ns);
}

int emu_run_for_until(emu_runtime *rt, uint64_t ns, bool (*stop)(void *ctx), void *ctx)
{
    if (!deterministic(rt) || !stop)
        return emu_sched_run_for(rt, ns);
    uint64_t target = emu_time(rt) + ns;
    bool stopped = false;
    while (!(stopped = stop(ctx)) && det_step(rt, true, target)) {
    }
    if (!stopped && emu_time(rt) < target)
        advance_to(rt, target);
    return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_OK;
}

/* ---- PnP operations ---- */

typedef struct pnp_req {
    int (*op)(emu_runtime *rt, void *arg);
    void *arg;
    emu_done_fn done_fn;
    void *ctx;
    bool done;
    bool owned; /* freed by the task (asynchronous request) */
    int status;
} pnp_req;

static void pnp_task(emu_runtime *rt, emu_task *t)
{
    pnp_req *r = t->a;
    emu_thread *th = emu_self();
    emu_thread saved = *th;
    th->irql = PASSIVE_LEVEL;
    th->cur_ad = NULL;
    th->cur_drv = NULL;
    int st = emu_stopped(rt) ? EMU_ERR_STOPPED : r->op(rt, r->arg);
    *th = saved;
    if (r->done_fn)
        r->done_fn(r->ctx, st);
    emu_lock(rt);
    r->status = st;
    r->done = true;
    bool owned = r->owned;
    emu_broadcast(rt);
    emu_unlock(rt);
    if (owned)
        free(r);
}

int emu_pnp_post(emu_runtime *rt, int (*op)(emu_runtime *rt, void *arg), void *arg,
                 emu_done_fn done, void *ctx)
{
    pnp_req *r = calloc(1, sizeof(*r));
    if (!r)
        return EMU_ERR_NOMEM;
    r->op = op;
    r->arg = arg;
    r->done_fn = done;
    r->ctx = ctx;
    r->owned = true;
    emu_lock(rt);
    emu_task *t = emu_task_post(rt, T_PNP, 0, pnp_task, r, NULL, 0);
    emu_unlock(rt);
    if (!t) {
        free(r);
        return EMU_ERR_NOMEM;
    }
    return EMU_OK;
}

static bool req_done(emu_runtime *rt, void *arg)
{
    (void)rt;
    return ((pnp_req *)arg)->done;
}

int emu_pnp_run(emu_runtime *rt, int (*op)(emu_runtime *rt, void *arg), void *arg)
{
    if (emu_self()->depth > 0 || emu_guest_frozen(rt))
        return EMU_ERR_BUSY; /* from inside the runtime: use the emu_request_* forms */
    if (emu_stopped(rt))
        return EMU_ERR_STOPPED;
    pnp_req r = { .op = op, .arg = arg };
    emu_lock(rt);
    emu_task *t = emu_task_post(rt, T_PNP, 0, pnp_task, &r, NULL, 0);
    emu_unlock(rt);
    if (!t)
        return EMU_ERR_NOMEM;
    if (deterministic(rt)) {
        uint64_t limit = emu_time(rt) + 3600ull * 1000000000ull;
        while (!r.done && det_step(rt, true, limit)) {
        }
    } else {
        emu_wait(rt, req_done, &r, 3600ull * 1000000000ull);
    }
    if (!r.done) {
        /* Stopped with the operation still queued or blocked: it never ran to
         * its end; the task (if still queued) is freed with the runtime. */
        emu_lock(rt);
        if (emu_task_cancel(rt, t) == false && !r.done) {
            /* still running in a worker (real-time): wait for it to unwind */
            while (!r.done)
                pthread_cond_wait(&rt->cv, &rt->mu);
        }
        emu_unlock(rt);
        return EMU_ERR_STOPPED;
    }
    return r.status;
}

/* ---- host-side (platform) work and the frozen guest ---- */

static void platform_task(emu_runtime *rt, emu_task *t)
{
    emu_work_fn fn;
    *(void **)&fn = t->b;
    emu_thread *th = emu_self();
    emu_thread saved = *th;
    th->irql = PASSIVE_LEVEL;
    th->cur_ad = NULL;
    th->cur_drv = NULL;
    th->depth++; /* the synchronous PnP forms refuse: this runs inside the scheduler */
    if (!emu_stopped(rt))
        fn(t->a);
    *th = saved;
}

uint64_t emu_schedule(emu_runtime *rt, uint64_t delay_ns, emu_work_fn fn, void *arg)
{
    if (!rt || !fn)
        return 0;
    void *fp;
    *(emu_work_fn *)&fp = fn;
    emu_lock(rt);
    emu_task *t = emu_task_post(rt, T_PLATFORM, delay_ns, platform_task, arg, fp, 0);
    uint64_t id = t ? t->id : 0;
    emu_unlock(rt);
    return id;
}

bool emu_cancel(emu_runtime *rt, uint64_t id)
{
    bool ok = false;
    emu_lock(rt);
    for (emu_task *t = rt->tasks; t; t = t->next) {
        if (t->id == id && t->kind == T_PLATFORM) {
            ok = emu_task_cancel(rt, t);
            break;
        }
    }
    emu_unlock(rt);
    return ok;
}

void emu_guest_freeze(emu_runtime *rt, bool frozen)
{
    emu_lock(rt);
    if (frozen && !rt->frozen) {
        rt->frozen_since = emu_time(rt);
    } else if (!frozen && rt->frozen) {
        rt->frozen_ns += emu_time(rt) - rt->frozen_since;
    }
    rt->frozen = frozen;
    emu_broadcast(rt);
    emu_unlock(rt);
    emu_tracef(rt, "call", "emu_guest_freeze", "%s", frozen ? "frozen" : "running");
}

bool emu_guest_frozen(emu_runtime *rt)
{
    emu_lock(rt);
    bool f = rt->frozen;
    emu_unlock(rt);
    return f;
}
