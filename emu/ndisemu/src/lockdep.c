/*
 * lockdep.c - lock order across the whole run, and lock contracts.
 *
 * Every spin lock and RW lock acquisition made while the thread holds other
 * locks records the edges "held -> acquired". An edge that closes a cycle in
 * that graph is a lock-order inversion: two CPUs taking the locks along the
 * cycle each hold one and spin on the next, forever (Driver Verifier's
 * deadlock detection reports the same hierarchy violations). The report
 * names both orders with where each was first seen.
 *
 * A lock's identity is its address; freeing it (NdisFreeSpinLock,
 * NdisFreeRWLock) forgets its edges, so memory reused for another lock does
 * not inherit its order.
 *
 * The held stack is per thread (emu_thread) and survives nested callbacks:
 * a lock held by a driver while NDIS calls another driver is really held on
 * that CPU, and the order of the inner driver's locks after it is real.
 */
#include "emu_internal.h"
#include "ndisemu/emu_checks.h"

#include <stdlib.h>

typedef struct lock_edge {
    const void *from, *to;
    char where[EMU_LOCKDEP_WHERE];
} lock_edge;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static lock_edge *g_edges;
static size_t g_n, g_cap;

void emu_lockdep_reset(void)
{
    pthread_mutex_lock(&g_mu);
    free(g_edges);
    g_edges = NULL;
    g_n = g_cap = 0;
    pthread_mutex_unlock(&g_mu);
}

static const lock_edge *find_edge(const void *from, const void *to)
{
    for (size_t i = 0; i < g_n; i++)
        if (g_edges[i].from == from && g_edges[i].to == to)
            return &g_edges[i];
    return NULL;
}

/* g_mu held. Depth-first: is `to` reachable from `from`? On success, *via
 * is the first edge of the path (the one whose origin the report names). */
static bool reaches(const void *from, const void *to, unsigned depth, const lock_edge **via)
{
    if (depth > 32)
        return false;
    for (size_t i = 0; i < g_n; i++) {
        if (g_edges[i].from != from)
            continue;
        if (g_edges[i].to == to || reaches(g_edges[i].to, to, depth + 1, NULL)) {
            if (via)
                *via = &g_edges[i];
            return true;
        }
    }
    return false;
}

static void where_now(char *buf, size_t len, const char *call)
{
    emu_thread *t = emu_self();
    snprintf(buf, len, "%s in %s (thread %u, IRQL %u)", call,
             t->cur_drv ? emu_driver_label(t->cur_drv) : "-", t->tid, t->irql);
}

/* g_mu held: records held -> lock; false (and *report filled) when the
 * edge closes a cycle. */
static bool add_edge(const void *held, const void *lock, const char *call, char *report,
                     size_t report_len)
{
    if (held == lock || find_edge(held, lock))
        return true;
    const lock_edge *back = NULL;
    char here[EMU_LOCKDEP_WHERE];
    where_now(here, sizeof(here), call);
    if (reaches(lock, held, 0, &back)) {
        snprintf(report, report_len,
                 "lock order inversion: %p acquired while holding %p (%s), but %p was "
                 "acquired while holding %p before (%s): two CPUs can deadlock",
                 lock, held, here, back->to, back->from, back->where);
        return false;
    }
    if (g_n == g_cap) {
        size_t cap = g_cap ? 2 * g_cap : 64;
        lock_edge *e = realloc(g_edges, cap * sizeof(*e));
        if (!e)
            return true; /* out of memory: stop learning, never fail a run for it */
        g_edges = e;
        g_cap = cap;
    }
    lock_edge *e = &g_edges[g_n++];
    e->from = held;
    e->to = lock;
    snprintf(e->where, sizeof(e->where), "%s", here);
    return true;
}

void emu_lockdep_acquired(const void *lock, const char *call)
{
    emu_thread *t = emu_self();
    char report[2 * EMU_LOCKDEP_WHERE + 200];
    bool ok = true;
    if (t->nheld && !emu_rt->cfg.no_call_checks) {
        pthread_mutex_lock(&g_mu);
        for (int i = 0; i < t->nheld && ok; i++)
            ok = add_edge(t->held[i], lock, call, report, sizeof(report));
        pthread_mutex_unlock(&g_mu);
    }
    if (t->nheld < EMU_LOCKDEP_DEPTH)
        t->held[t->nheld] = lock;
    t->nheld++;
    if (!ok)
        emu_violate(emu_rt, "LockHierarchy", call, "%s", report);
}

void emu_lockdep_released(const void *lock)
{
    emu_thread *t = emu_self();
    int n = t->nheld < EMU_LOCKDEP_DEPTH ? t->nheld : EMU_LOCKDEP_DEPTH;
    for (int i = n - 1; i >= 0; i--) {
        if (t->held[i] == lock) {
            for (int k = i + 1; k < n; k++)
                t->held[k - 1] = t->held[k];
            t->nheld--;
            return;
        }
    }
}

bool emu_lockdep_holds(const void *lock)
{
    emu_thread *t = emu_self();
    int n = t->nheld < EMU_LOCKDEP_DEPTH ? t->nheld : EMU_LOCKDEP_DEPTH;
    for (int i = 0; i < n; i++)
        if (t->held[i] == lock)
            return true;
    return false;
}

void emu_lockdep_forget(const void *lock)
{
    pthread_mutex_lock(&g_mu);
    size_t k = 0;
    for (size_t i = 0; i < g_n; i++)
        if (g_edges[i].from != lock && g_edges[i].to != lock)
            g_edges[k++] = g_edges[i];
    g_n = k;
    pthread_mutex_unlock(&g_mu);
}

/* ---- lock contracts (ndisemu/emu_checks.h) ---- */

void EmuCheckSpinLockHeld(PNDIS_SPIN_LOCK SpinLock, const char *Contract)
{
    emu_runtime *rt = emu_rt;
    if (!rt || emu_stopped(rt) || rt->cfg.no_call_checks)
        return;
    if (!emu_lockdep_holds(SpinLock))
        emu_violate(rt, "LockContract", Contract ? Contract : "EmuCheckSpinLockHeld",
                    "called without spin lock %p held, which its contract requires",
                    (void *)SpinLock);
}
