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
    unsigned n = rt->ring_pos < EMU_RING ? rt->ring_pos : EMU_RING;
    for (unsigned i = 0; i < n; i++) {
        unsigned idx = (rt->ring_pos - n + i) % EMU_RING;
        fprintf(f, "    %s\n", rt->ring[idx].text);
    }
    fflush(f);
}

void emu_violate(emu_runtime *rt, const char *rule, const char *call, const char *fmt, ...)
{
    bool locked = pthread_mutex_trylock(&rt->mu) == 0;
    /* The caller may already hold rt->mu (trylock then fails on a
     * non-recursive mutex); the fields written here are only read after the
     * run stopped, so a missed lock is harmless. */
    /* Only the first violation counts: what follows it is a consequence. */
    if (rt->n_viol == 0) {
        size_t i = rt->n_viol++;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(rt->viol_text[i][2], sizeof(rt->viol_text[i][2]), fmt, ap);
        va_end(ap);
        snprintf(rt->viol_text[i][0], sizeof(rt->viol_text[i][0]), "%s", rule);
        snprintf(rt->viol_text[i][1], sizeof(rt->viol_text[i][1]), "%s", call);
        rt->viol[i].rule = rt->viol_text[i][0];
        rt->viol[i].call = rt->viol_text[i][1];
        rt->viol[i].detail = rt->viol_text[i][2];
        rt->viol[i].time_ns = emu_time(rt);
        if (!rt->cfg.quiet)
            print_report(rt, &rt->viol[i]);
    }
    rt->stopped = true;
    emu_broadcast(rt);
    if (locked)
        pthread_mutex_unlock(&rt->mu);
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

bool emu_enter(const char *fn, const char *rule, KIRQL max_irql, const char *fmt, ...)
{
    emu_runtime *rt = emu_rt;
    char args[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof(args), fmt, ap);
    va_end(ap);
    __atomic_add_fetch(&rt->cnt.ndis_calls, 1, __ATOMIC_RELAXED);
    emu_tracef(rt, "call", fn, "%s", args);
    KIRQL irql = emu_self()->irql;
    if (irql > max_irql) {
        emu_violate(rt, rule, fn, "called at IRQL %u; documented maximum is %u", irql, max_irql);
        return false;
    }
    return true;
}
