/*
 * test_vfo_work.c - vfo's work tracking (driver/src/work.h: the count of
 * work items in flight and the event MiniportHaltEx waits on) in every
 * interleaving of its NDIS calls.
 *
 * Each simulated CPU is a thread, but only one runs at a time: the NDIS
 * calls the functions make (spin lock acquire and release, event set, reset
 * and wait) are this test's own, and each is a point where another CPU may
 * run next. A depth-first search over those choices runs every schedule of
 * a scenario (a few CPUs, each beginning or ending work), so an interleaving
 * that happens once in millions on a machine happens here every run, in the
 * same order. A spin lock held by one CPU stops the others at their acquire;
 * a wait runs only once its event is set.
 *
 * Checked: whenever no CPU is inside a begin or an end, the event is set
 * exactly while the count is 0 (halt's wait returns only when no work is
 * outstanding; a set event with work outstanding lets halt free the work
 * item under it), and a waiter that returns in such a moment sees no work.
 * Before issue 13's fix (event reset, then InterlockedIncrement; an
 * InterlockedDecrement, then the event set) the schedule "begin resets ->
 * end decrements to 0 and sets -> begin increments" left the event set with
 * one item outstanding.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "work.h"

#define MAX_CPUS  4
#define MAX_OPS   4
#define MAX_STEPS 256

typedef enum { OP_BEGIN = 1, OP_END, OP_WAIT } op_kind;

typedef struct cpu {
    pthread_t th;
    int id;
    op_kind ops[MAX_OPS];
    int nops;
    int in_op; /* inside a begin or an end */
    int done;
    const void *want_lock;    /* stopped at this lock's acquire */
    const void *want_event;   /* stopped in a wait on this event */
    const char *wait_saw_out; /* a waiter returned with work outstanding */
} cpu;

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static int g_turn = -1; /* the CPU that may run; -1: the scheduler */
static cpu g_cpu[MAX_CPUS];
static int g_ncpu;
static __thread cpu *t_self;

/* The model's lock and event (one of each in a scenario). */
static const void *g_lock_owner_cpu; /* cpu* or NULL */
static int g_event_set;

static vfo_work_track g_track;
static NDIS_SPIN_LOCK g_lock;

/* Depth-first search over the scheduler's choices. */
static int g_choice[MAX_STEPS], g_nchoice[MAX_STEPS], g_depth, g_prefix;
static char g_fail[256];

/* ---- the NDIS calls work.h makes: each a point where another CPU may run ---- */

static void yield_to_scheduler(void)
{
    if (!t_self)
        return; /* the scheduler's own set-up */
    pthread_mutex_lock(&g_mu);
    g_turn = -1;
    pthread_cond_broadcast(&g_cv);
    while (g_turn != t_self->id)
        pthread_cond_wait(&g_cv, &g_mu);
    pthread_mutex_unlock(&g_mu);
}

void NdisAcquireSpinLock(PNDIS_SPIN_LOCK lock)
{
    t_self->want_lock = lock;
    yield_to_scheduler(); /* runs again only once the lock is free */
    t_self->want_lock = NULL;
    g_lock_owner_cpu = t_self;
}

void NdisReleaseSpinLock(PNDIS_SPIN_LOCK lock)
{
    (void)lock;
    g_lock_owner_cpu = NULL; /* the next acquire (or the next operation) is the next point */
}

void NdisInitializeEvent(PNDIS_EVENT ev)
{
    (void)ev;
    g_event_set = 0;
}

void NdisSetEvent(PNDIS_EVENT ev)
{
    (void)ev;
    yield_to_scheduler();
    g_event_set = 1;
}

void NdisResetEvent(PNDIS_EVENT ev)
{
    (void)ev;
    yield_to_scheduler();
    g_event_set = 0;
}

BOOLEAN NdisWaitEvent(PNDIS_EVENT ev, UINT ms)
{
    (void)ms;
    t_self->want_event = ev;
    yield_to_scheduler(); /* runs again only once the event is set */
    t_self->want_event = NULL;
    return TRUE;
}

/* ---- the simulated CPUs ---- */

static int others_in_op(void)
{
    for (int i = 0; i < g_ncpu; i++)
        if (&g_cpu[i] != t_self && g_cpu[i].in_op)
            return 1;
    return 0;
}

static void *cpu_main(void *arg)
{
    cpu *c = arg;
    t_self = c;
    pthread_mutex_lock(&g_mu);
    while (g_turn != c->id)
        pthread_cond_wait(&g_cv, &g_mu);
    pthread_mutex_unlock(&g_mu);
    for (int k = 0; k < c->nops; k++) {
        switch (c->ops[k]) {
        case OP_BEGIN:
            c->in_op = 1;
            vfo_work_track_begin(&g_track, &g_lock);
            c->in_op = 0;
            break;
        case OP_END:
            c->in_op = 1;
            vfo_work_track_end(&g_track, &g_lock);
            c->in_op = 0;
            break;
        case OP_WAIT:
            vfo_work_track_wait(&g_track);
            if (!others_in_op() && g_track.out != 0)
                c->wait_saw_out = "the wait returned with work outstanding";
            break;
        }
        yield_to_scheduler(); /* other CPUs run between two operations too */
    }
    pthread_mutex_lock(&g_mu);
    c->done = 1;
    g_turn = -1;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    return NULL;
}

static int runnable(const cpu *c)
{
    if (c->done)
        return 0;
    if (c->want_lock && g_lock_owner_cpu && g_lock_owner_cpu != c)
        return 0;
    if (c->want_event && !g_event_set)
        return 0;
    return 1;
}

static int choose(int n)
{
    if (g_depth >= MAX_STEPS) {
        snprintf(g_fail, sizeof(g_fail), "schedule longer than %d steps", MAX_STEPS);
        return 0;
    }
    if (g_depth >= g_prefix) {
        g_choice[g_depth] = 0;
        g_nchoice[g_depth] = n;
    }
    return g_choice[g_depth++];
}

static void check_quiescent(const char *when)
{
    if (g_fail[0])
        return;
    for (int i = 0; i < g_ncpu; i++)
        if (g_cpu[i].in_op)
            return;
    if (g_event_set != (g_track.out == 0))
        snprintf(g_fail, sizeof(g_fail), "%s: event %s with %ld item(s) outstanding", when,
                 g_event_set ? "set" : "reset", (long)g_track.out);
}

/* One schedule: the choices g_choice[0..g_prefix) first, then the first
 * runnable CPU at each new point. */
static void run_schedule(const op_kind ops[][MAX_OPS], const int *nops, int ncpu, LONG out0)
{
    g_ncpu = ncpu;
    g_depth = 0;
    g_lock_owner_cpu = NULL;
    vfo_work_track_init(&g_track);
    g_event_set = out0 == 0;
    g_track.out = out0;
    memset(g_cpu, 0, sizeof(g_cpu));
    g_turn = -1;
    for (int i = 0; i < ncpu; i++) {
        g_cpu[i].id = i;
        g_cpu[i].nops = nops[i];
        memcpy(g_cpu[i].ops, ops[i], sizeof(g_cpu[i].ops));
        assert_int_equal(pthread_create(&g_cpu[i].th, NULL, cpu_main, &g_cpu[i]), 0);
    }
    for (;;) {
        check_quiescent("between two operations");
        int cand[MAX_CPUS], n = 0, left = 0;
        for (int i = 0; i < ncpu; i++) {
            left += !g_cpu[i].done;
            if (runnable(&g_cpu[i]))
                cand[n++] = i;
        }
        if (!left)
            break;
        if (n == 0) {
            snprintf(g_fail, sizeof(g_fail), "no CPU can run (%d stopped): deadlock", left);
            break;
        }
        int pick = cand[choose(n)];
        pthread_mutex_lock(&g_mu);
        g_turn = pick;
        pthread_cond_broadcast(&g_cv);
        while (g_turn != -1)
            pthread_cond_wait(&g_cv, &g_mu);
        pthread_mutex_unlock(&g_mu);
        if (g_fail[0] && strstr(g_fail, "deadlock"))
            break;
    }
    for (int i = 0; i < ncpu; i++) {
        if (!g_cpu[i].done) {
            /* Deadlocked: let it finish by force, as the run failed anyway. */
            g_event_set = 1;
            g_lock_owner_cpu = NULL;
            while (!g_cpu[i].done) {
                pthread_mutex_lock(&g_mu);
                g_turn = i;
                pthread_cond_broadcast(&g_cv);
                while (g_turn != -1)
                    pthread_cond_wait(&g_cv, &g_mu);
                pthread_mutex_unlock(&g_mu);
            }
        }
        pthread_join(g_cpu[i].th, NULL);
        if (!g_fail[0] && g_cpu[i].wait_saw_out)
            snprintf(g_fail, sizeof(g_fail), "CPU %d: %s", i, g_cpu[i].wait_saw_out);
    }
    check_quiescent("at the end");
}

/* Every schedule of the scenario; fails with the first broken one. */
static unsigned explore(const char *name, const op_kind ops[][MAX_OPS], const int *nops, int ncpu,
                        LONG out0)
{
    unsigned runs = 0;
    g_prefix = 0;
    g_fail[0] = 0;
    for (;;) {
        run_schedule(ops, nops, ncpu, out0);
        runs++;
        if (getenv("WORK_PROGRESS") && runs % 20000 == 0)
            fprintf(stderr, "%u schedules, depth %d\n", runs, g_depth);
        if (g_fail[0]) {
            char sched[3 * MAX_STEPS + 1] = "";
            size_t len = 0;
            for (int i = 0; i < g_depth && len + 4 < sizeof(sched); i++)
                len += (size_t)snprintf(sched + len, sizeof(sched) - len, "%d ", g_choice[i]);
            fail_msg("%s, schedule %u (choices %s): %s", name, runs, sched, g_fail);
        }
        /* Next schedule: the deepest choice with an untried alternative. */
        int d = g_depth - 1;
        while (d >= 0 && g_choice[d] + 1 >= g_nchoice[d])
            d--;
        if (d < 0)
            break;
        g_choice[d]++;
        g_prefix = d + 1;
    }
    printf("%s: %u schedules, each kept the event set exactly while no work was outstanding\n",
           name, runs);
    return runs;
}

/* Work item 1 ends on one CPU while work item 2 begins on another. */
static void begin_races_end(void **state)
{
    (void)state;
    static const op_kind ops[][MAX_OPS] = { { OP_BEGIN }, { OP_END } };
    static const int nops[] = { 1, 1 };
    assert_true(explore("begin races end", ops, nops, 2, 1) > 1);
}

/* ... and then ends, while halt waits on a third. */

static void begin_races_end_with_waiter(void **state)
{
    (void)state;
    static const op_kind ops[][MAX_OPS] = { { OP_BEGIN, OP_END }, { OP_END }, { OP_WAIT } };
    static const int nops[] = { 2, 1, 1 };
    assert_true(explore("begin/end races end, halt waits", ops, nops, 3, 1) > 1);
}

/* Both CPUs queue and run work from nothing outstanding. */
static void two_cpus_begin_and_end(void **state)
{
    (void)state;
    static const op_kind ops[][MAX_OPS] = { { OP_BEGIN, OP_END }, { OP_BEGIN, OP_END } };
    static const int nops[] = { 2, 2 };
    assert_true(explore("two CPUs begin and end", ops, nops, 2, 0) > 1);
}

/* Two items end while a third begins. */
static void two_ends_one_begin(void **state)
{
    (void)state;
    static const op_kind ops[][MAX_OPS] = { { OP_END }, { OP_END }, { OP_BEGIN } };
    static const int nops[] = { 1, 1, 1 };
    assert_true(explore("two ends, one begin", ops, nops, 3, 2) > 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(begin_races_end),
        cmocka_unit_test(begin_races_end_with_waiter),
        cmocka_unit_test(two_cpus_begin_and_end),
        cmocka_unit_test(two_ends_one_begin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
