/*
 * nbl_hist.c - which NBL a stuck pause waits for, and how it got there.
 *
 * The runtime keeps every live NBL on a list, and each NBL its last
 * EMU_NBL_HIST events (allocated, sent to a hop, failed by NDIS, completed,
 * indicated, returned, freed), each with the virtual time and the thread.
 * When a pause of a binding or of a miniport does not end, the report names
 * the NBLs it waits for: where each is now (its stack of ownership frames)
 * and what happened to it last.
 */
#include "emu_internal.h"

#include <stdarg.h>

void emu_nbl_live_add(emu_runtime *rt, emu_nbl_ext *x)
{
    x->serial = ++rt->nbl_serial;
    x->nhist = 0;
    x->live_prev = NULL;
    x->live_next = rt->nbl_live;
    if (rt->nbl_live)
        rt->nbl_live->live_prev = x;
    rt->nbl_live = x;
}

void emu_nbl_live_del(emu_runtime *rt, emu_nbl_ext *x)
{
    if (x->live_prev)
        x->live_prev->live_next = x->live_next;
    else if (rt->nbl_live == x)
        rt->nbl_live = x->live_next;
    if (x->live_next)
        x->live_next->live_prev = x->live_prev;
    x->live_prev = x->live_next = NULL;
}

void emu_nbl_note(emu_runtime *rt, emu_nbl_ext *x, nbl_op op, int32_t status, const char *fmt, ...)
{
    nbl_event *e = &x->hist[x->nhist++ % EMU_NBL_HIST];
    e->at = emu_time(rt);
    e->tid = emu_self()->tid;
    e->op = (uint8_t)op;
    e->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->who, sizeof(e->who), fmt, ap);
    va_end(ap);
}

static const char *op_name(uint8_t op)
{
    switch (op) {
    case NBL_EV_ALLOC:
        return "allocated";
    case NBL_EV_SEND:
        return "sent";
    case NBL_EV_SEND_FAILED:
        return "failed by NDIS";
    case NBL_EV_COMPLETE:
        return "completed";
    case NBL_EV_INDICATE:
        return "indicated";
    case NBL_EV_RETURNED:
        return "returned";
    case NBL_EV_FREE:
        return "freed";
    default:
        return "?";
    }
}

/* rt->mu held. The NBL is outstanding at ad, or sent by b and not
 * completed. */
static bool concerns(const emu_nbl_ext *x, const emu_adapter *ad, const emu_binding *b)
{
    for (int i = 0; i < x->depth; i++) {
        const nbl_frame *f = &x->fr[i];
        if (b && f->kind == F_SEND && f->b == b)
            return true;
        if (ad && f->ad == ad && !f->to && !f->from) /* at the miniport itself */
            return true;
    }
    return false;
}

static void print_nbl(FILE *o, const emu_nbl_ext *x)
{
    fprintf(o, "  NBL %p (#%llu):\n", (const void *)&x->nbl, (unsigned long long)x->serial);
    for (int i = x->depth - 1; i >= 0; i--) {
        const nbl_frame *f = &x->fr[i];
        if (f->kind == F_SEND)
            fprintf(o, "    %s: sent by %s to %s over %s, not completed\n",
                    i == x->depth - 1 ? "now" : "under",
                    f->b ? f->b->prot->name : f->from->fd->name,
                    f->to ? f->to->fd->name : "the miniport", f->ad->instance);
        else
            fprintf(o, "    %s: indicated by %s of %s, holders %#llx, not returned\n",
                    i == x->depth - 1 ? "now" : "under",
                    f->from ? f->from->fd->name : "the miniport", f->ad->instance,
                    (unsigned long long)f->holders);
    }
    unsigned n = x->nhist < EMU_NBL_HIST ? x->nhist : EMU_NBL_HIST;
    fprintf(o, "    last %u events (oldest first):\n", n);
    for (unsigned i = 0; i < n; i++) {
        const nbl_event *e = &x->hist[(x->nhist - n + i) % EMU_NBL_HIST];
        fprintf(o, "      %12.6f ms thread %u: %s %s", (double)e->at / 1e6, (unsigned)e->tid,
                op_name(e->op), e->who);
        if (e->op == NBL_EV_COMPLETE || e->op == NBL_EV_SEND_FAILED)
            fprintf(o, " status %#x", (unsigned)e->status);
        fputc('\n', o);
    }
}

unsigned emu_report_outstanding(emu_runtime *rt, emu_adapter *ad, emu_binding *b)
{
    FILE *o = rt->cfg.report ? rt->cfg.report : stderr;
    unsigned n = 0;
    emu_lock(rt);
    for (const emu_nbl_ext *x = rt->nbl_live; x; x = x->live_next) {
        if (!concerns(x, ad, b))
            continue;
        if (n++ == 0 && !rt->cfg.quiet)
            fprintf(o, "ndisemu: NBLs outstanding at %s%s%s%s%s%s%s:\n", ad ? "miniport " : "",
                    ad ? ad->instance : "", ad && b ? " and " : "", b ? "binding " : "",
                    b ? b->prot->name : "", b ? " over " : "", b ? b->ad->instance : "");
        if (n <= 16 && !rt->cfg.quiet)
            print_nbl(o, x);
    }
    if (n > 16 && !rt->cfg.quiet)
        fprintf(o, "  (%u more)\n", n - 16);
    emu_unlock(rt);
    if (!rt->cfg.quiet)
        fflush(o);
    return n;
}
