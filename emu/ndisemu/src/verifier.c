/*
 * verifier.c - recording rule violations and tracing NDIS calls.
 *
 * The first violation stops the run: the scheduler runs nothing more, the
 * report names the rule, the call and the recent NDIS calls (a ring of the
 * last EMU_RING trace lines kept whether or not tracing is on).
 */
#include "emu_internal.h"

#include <stdlib.h>

static void ring_push(emu_runtime *rt, const char *line)
{
    emu_trace_line *l = &rt->ring[rt->ring_pos++ % EMU_RING];
    snprintf(l->text, sizeof(l->text), "%s", line);
}

static void print_report(emu_runtime *rt, const emu_violation *v)
{
    FILE *f = rt->cfg.report ? rt->cfg.report : stderr;
    fprintf(f, "ndisemu: VERIFIER VIOLATION: rule %s\n  call: %s\n  detail: %s\n  at %.3f ms\n",
            v->rule, v->call, v->detail, (double)v->time_ns / 1e6);
    fprintf(f, "  recent NDIS calls (oldest first):\n");
    pthread_mutex_lock(&rt->trace_mu);
    unsigned n = rt->ring_pos < EMU_RING ? rt->ring_pos : EMU_RING;
    for (unsigned i = 0; i < n; i++) {
        unsigned idx = (rt->ring_pos - n + i) % EMU_RING;
        fprintf(f, "    %s\n", rt->ring[idx].text);
    }
    pthread_mutex_unlock(&rt->trace_mu);
    fflush(f);
}

/* Reached from any thread, with or without rt->mu held. The record has its
 * own lock; `stopped` is published with release semantics (emu_stopped()
 * reads it anywhere) and every waiter is woken to see it. */
void emu_violate(emu_runtime *rt, const char *rule, const char *call, const char *fmt, ...)
{
    pthread_mutex_lock(&rt->viol_mu);
    /* Only the first violation counts: what follows it is a consequence. */
    bool first = rt->n_viol == 0;
    if (first) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rt->viol_detail, sizeof(rt->viol_detail), fmt, ap);
        va_end(ap);
        snprintf(rt->viol_rule, sizeof(rt->viol_rule), "%s", rule);
        snprintf(rt->viol_call, sizeof(rt->viol_call), "%s", call);
        rt->viol.rule = rt->viol_rule;
        rt->viol.call = rt->viol_call;
        rt->viol.detail = rt->viol_detail;
        rt->viol.time_ns = emu_time(rt);
        __atomic_store_n(&rt->n_viol, 1, __ATOMIC_RELEASE);
        __atomic_store_n(&rt->stopped, true, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&rt->viol_mu);
    if (first && !rt->cfg.quiet)
        print_report(rt, &rt->viol);
    bool held = emu_lock_held();
    if (!held)
        emu_lock(rt);
    emu_broadcast(rt);
    if (!held)
        emu_unlock(rt);
}

void emu_trace(emu_runtime *rt, emu_trace_format fmt, FILE *out)
{
    pthread_mutex_lock(&rt->trace_mu);
    rt->trace_fmt = out ? fmt : EMU_TRACE_OFF;
    rt->trace_out = out;
    pthread_mutex_unlock(&rt->trace_mu);
}

static void json_escape(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
}

void emu_tracef(emu_runtime *rt, const char *kind, const char *fn, const char *fmt, ...)
{
    char args[160];
    char line[240];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    emu_thread *t = emu_self();
    uint64_t now = emu_time(rt);
    snprintf(line, sizeof(line), "%12.3fus T%u IRQL%u %s %s(%s)", (double)now / 1e3, t->tid,
             t->irql, kind, fn, args);
    pthread_mutex_lock(&rt->trace_mu);
    ring_push(rt, line);
    if (rt->trace_fmt == EMU_TRACE_TEXT) {
        fprintf(rt->trace_out, "%s\n", line);
    } else if (rt->trace_fmt == EMU_TRACE_JSON) {
        fprintf(rt->trace_out, "{\"t_ns\":%llu,\"thread\":%u,\"irql\":%u,\"kind\":\"%s\",\"fn\":\"",
                (unsigned long long)now, t->tid, t->irql, kind);
        json_escape(rt->trace_out, fn);
        fputs("\",\"args\":\"", rt->trace_out);
        json_escape(rt->trace_out, args);
        fputs("\"}\n", rt->trace_out);
    }
    pthread_mutex_unlock(&rt->trace_mu);
}

/* "If the known current IRQL is DISPATCH_LEVEL, the caller should set
 * this flag. If the current IRQL is unknown, or the caller is not running at
 * DISPATCH_LEVEL, the caller should clear this flag" (Dispatch IRQL
 * Tracking): the callee trusts a set flag and skips raising the IRQL, so one
 * set below DISPATCH_LEVEL runs it at the wrong level. A clear flag is always
 * right. */
bool emu_dispatch_flag_ok(const char *call, const char *flag_name, bool flag_set)
{
    emu_runtime *rt = emu_rt;
    if (!flag_set || rt->cfg.no_call_checks)
        return true;
    KIRQL irql = emu_self()->irql;
    if (irql == DISPATCH_LEVEL)
        return true;
    emu_violate(rt, "DispatchLevelFlag", call,
                "%s set at IRQL %u: the flag says the caller runs at DISPATCH_LEVEL (clear it "
                "when not, or when unknown)",
                flag_name, irql);
    return false;
}

bool emu_enter(const char *fn, const char *fmt, ...)
{
    emu_runtime *rt = emu_rt;
    if (rt->cfg.no_call_checks) {
        __atomic_add_fetch(&rt->ndis_calls, 1, __ATOMIC_RELAXED);
        return true;
    }
    char args[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    __atomic_add_fetch(&rt->ndis_calls, 1, __ATOMIC_RELAXED);
    emu_tracef(rt, "call", fn, "%s", args);
    const emu_irql_rule *r = emu_irql_rule_of(fn);
    KIRQL irql = emu_self()->irql;
    if (irql < r->min || irql > r->max) {
        if (r->min == r->max)
            emu_violate(rt, r->rule, fn, "called at IRQL %u; must be called at IRQL %u", irql,
                        r->min);
        else
            emu_violate(rt, r->rule, fn, "called at IRQL %u; documented range is %u..%u", irql,
                        r->min, r->max);
        return false;
    }
    return true;
}
