/*
 * callback.c - entering and leaving a driver callback. The scope sets the
 * thread's IRQL and "current adapter/driver" (used to attribute memory and
 * to check lock discipline) and checks on the way out that the driver left
 * no spin lock held and the IRQL where it found it.
 */
#include "emu_internal.h"

/* The driver callbacks this thread is inside, by depth (emu_frame_mark):
 * each entry gets a serial of this thread's, so a callback that returned and
 * a later one at the same depth differ. */
#define CB_DEPTH_MAX 64
static __thread uint64_t tls_cb_serial[CB_DEPTH_MAX];
static __thread uint64_t tls_cb_next;

void emu_frame_mark_here(emu_frame_mark *m)
{
    emu_thread *t = emu_self();
    m->tid = t->tid;
    m->depth = t->depth;
    m->serial = t->depth > 0 && t->depth < CB_DEPTH_MAX ? tls_cb_serial[t->depth] : 0;
}

bool emu_frame_returned(const emu_frame_mark *m)
{
    emu_thread *t = emu_self();
    if (m->tid != t->tid || m->serial == 0)
        return false; /* another thread's, or outside any callback: unknown */
    return t->depth < m->depth || tls_cb_serial[m->depth] != m->serial;
}

void emu_cb_begin(emu_cb_scope *s, const char *name, emu_driver *drv, emu_adapter *ad, KIRQL irql)
{
    emu_thread *t = emu_self();
    s->saved = *t;
    s->name = name;
    s->irql = irql;
    t->irql = irql;
    /* Entering a driver from outside it: which resets had begun by then
     * (ResetQuiet tells calls decided before a reset began from those
     * after). A load, not a shared counter's increment: this runs at
     * every callback. */
    if (t->cur_drv != drv)
        t->drv_entry = __atomic_load_n(&emu_rt->reset_epoch, __ATOMIC_ACQUIRE);
    t->cur_drv = drv;
    t->cur_ad = ad;
    t->cb = name;
    t->cb_binding = false;
    t->locks_held = 0;
    t->depth++;
    if (t->depth < CB_DEPTH_MAX)
        tls_cb_serial[t->depth] = ++tls_cb_next;
    if (!emu_rt->cfg.no_call_checks)
        emu_tracef(emu_rt, "cb", name, "%s", emu_adapter_label(ad));
}

void emu_cb_end(emu_cb_scope *s)
{
    emu_thread *t = emu_self();
    emu_runtime *rt = emu_rt;
    if (t->locks_held > 0) {
        emu_violate(rt, "SpinlockRelease", s->name,
                    "returned holding %d spin lock(s); a handler must release its locks "
                    "before it exits",
                    t->locks_held);
    } else if (t->irql != s->irql) {
        emu_violate(rt, "IrqlKeRaiseLower2", s->name,
                    "entered at IRQL %u, returned at IRQL %u (raised without lowering)", s->irql,
                    t->irql);
    }
    *t = s->saved;
}

/* ---- pended operations ---- */

void emu_op_start(emu_runtime *rt, emu_pending_op *op)
{
    emu_lock(rt);
    op->active = true;
    op->done = false;
    op->status = NDIS_STATUS_PENDING;
    emu_unlock(rt);
}

bool emu_op_complete(emu_runtime *rt, emu_pending_op *op, NDIS_STATUS st, const char *call,
                     const char *what)
{
    emu_lock(rt);
    bool ok = op->active && !op->done && st != NDIS_STATUS_PENDING;
    if (ok) {
        op->done = true;
        op->status = st;
        emu_broadcast(rt);
    } else {
        emu_violate(rt, "DoubleComplete", call,
                    st == NDIS_STATUS_PENDING
                        ? "%s completed with NDIS_STATUS_PENDING"
                        : "%s completed while none was pending (completed twice, or after its "
                          "handler returned a final status)",
                    what);
    }
    emu_unlock(rt);
    return ok;
}

bool emu_op_finish(emu_runtime *rt, emu_pending_op *op, NDIS_STATUS *st, const char *handler)
{
    if (*st == NDIS_STATUS_PENDING) {
        char what[96];
        snprintf(what, sizeof(what), "%s (pending)", handler);
        bool ok = emu_wait_flag(rt, &op->done, what);
        emu_lock(rt);
        op->active = false;
        *st = op->status;
        emu_unlock(rt);
        return ok && !emu_stopped(rt);
    }
    emu_lock(rt);
    bool twice = op->done;
    op->active = false;
    if (twice)
        emu_violate(rt, "DoubleComplete", handler,
                    "returned status %#x but had already completed the operation with its "
                    "completion call; only a pended operation is completed that way",
                    (unsigned)*st);
    emu_unlock(rt);
    return !twice && !emu_stopped(rt);
}
