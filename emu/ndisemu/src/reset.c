/* NDIS's reset of a miniport adapter (docs/ndisemu.md):
 *  - when: MiniportCheckForHangEx returned TRUE, or an OID request stayed
 *    in the miniport over two successive hang checks ("NDIS can call
 *    MiniportResetEx": the stricter reading, it does);
 *  - how: NDIS_STATUS_RESET_START to the filter modules and protocols
 *    above, MiniportResetEx (completed at once or by NdisMResetComplete:
 *    NDIS does not wait meanwhile, a pause may come), then
 *    NDIS_STATUS_RESET_END; no hang check while it lasts, and no halt
 *    before it ended;
 *  - ResetQuiet: between the two a bound protocol holds its sends and makes
 *    no call directed at the miniport (sends, OID requests, their cancels);
 *    returning received NBLs is allowed (NDIS_STATUS_RESET_START's page).
 *    A call already decided when the indication returned is not counted
 *    against it: one a thread makes that was inside the protocol's driver
 *    then, which a real protocol cannot stop without waiting in its status
 *    handler (DISPATCH_LEVEL). Each reset gets an epoch when its START
 *    indication returned; each entry into a driver records the epoch of
 *    its moment;
 *  - ResetWithOutstanding: a miniport of NDIS 6.30 or later completes the
 *    sends and the OID request it held when MiniportResetEx was called
 *    before the reset completes (before MiniportResetEx returns a final
 *    status, or before NdisMResetComplete). What reaches it during the
 *    reset is not counted: a send then is as new as any other. */
#include "emu_internal.h"

static void indicate(emu_runtime *rt, emu_adapter *ad, NDIS_STATUS code)
{
    NDIS_STATUS_INDICATION si;
    memset(&si, 0, sizeof(si));
    EMU_INIT_HEADER(&si.Header, NDIS_OBJECT_TYPE_STATUS_INDICATION,
                    NDIS_STATUS_INDICATION_REVISION_1, NDIS_SIZEOF_STATUS_INDICATION_REVISION_1);
    si.StatusCode = code;
    /* ProtocolStatusEx and FilterStatus run at IRQL <= DISPATCH_LEVEL: the
     * highest, so a handler that waits is caught. */
    emu_thread *t = emu_self();
    KIRQL was = t->irql;
    t->irql = DISPATCH_LEVEL;
    emu_status_up(rt, ad, NULL, &si);
    t->irql = was;
}

/* rt->mu held. Marks (seq) or clears (0) every binding over ad. */
static void mark_bindings(emu_adapter *ad, uint64_t seq)
{
    for (int i = 0; i < EMU_MAX_BINDINGS; i++) {
        emu_binding *b = ad->bindings[i];
        if (b && (seq == 0 || b->state != B_CLOSED))
            __atomic_store_n(&b->reset_seq, seq, __ATOMIC_RELEASE);
    }
}

/* MiniportResetEx's page: "Starting with NDIS 6.30, the miniport driver
 * must not hold pending OID or send requests until after the reset
 * operation is complete." Before 6.30 it could. */
static bool completes_at_reset(const emu_adapter *ad)
{
    const NDIS_MINIPORT_DRIVER_CHARACTERISTICS *ch = &ad->drv->mp->ch;
    return ch->MajorNdisVersion > 6 || (ch->MajorNdisVersion == 6 && ch->MinorNdisVersion >= 30);
}

/* rt->mu held. The NBL's frame if the miniport of ad holds it as a send:
 * on top, or under the frames of the sends that miniport made with it (a
 * failover or intermediate driver's, which passes it on as its own
 * protocol edge's send: it is still the miniport's to complete). */
static nbl_frame *send_at_miniport(emu_nbl_ext *x, const emu_adapter *ad)
{
    for (int i = x->depth - 1; i >= 0; i--) {
        nbl_frame *f = &x->fr[i];
        if (f->kind == F_SEND && f->ad == ad && !f->to)
            return f;
    }
    return NULL;
}

/* rt->mu held, as MiniportResetEx is called: marks what the miniport holds
 * (the sends, and the OID request by its start time). */
static void mark_outstanding(emu_runtime *rt, emu_adapter *ad)
{
    if (++ad->reset_mark == 0)
        ad->reset_mark = 1;
    for (emu_nbl_ext *x = ad->sends_out ? rt->nbl_live : NULL; x; x = x->live_next) {
        nbl_frame *f = send_at_miniport(x, ad);
        if (f) {
            f->reset_mark = ad->reset_mark;
            rt->cnt.reset_held_sends++;
        }
    }
    /* The page's "pending OID requests": one whose MiniportOidRequest is
     * still running on another thread has not pended yet, and the miniport
     * could not complete it before its reset anyway (it completes by
     * returning). */
    ad->reset_oid = ad->oid_busy && ad->oid_pended ? (const void *)ad->oid_head : NULL;
    ad->reset_oid_ns = ad->oid_started_ns;
}

/* As the reset completes (in `call`): what the miniport held when it began
 * and still holds breaks ResetWithOutstanding. */
static void check_outstanding(emu_runtime *rt, emu_adapter *ad, const char *call)
{
    if (!completes_at_reset(ad))
        return;
    emu_lock(rt);
    uint64_t held = 0, serial = 0;
    for (emu_nbl_ext *x = ad->sends_out ? rt->nbl_live : NULL; x; x = x->live_next) {
        const nbl_frame *f = send_at_miniport(x, ad);
        if (f && f->reset_mark == ad->reset_mark && held++ == 0)
            serial = x->serial;
    }
    bool oid_held = ad->oid_busy && ad->reset_oid == (const void *)ad->oid_head &&
                    ad->reset_oid_ns == ad->oid_started_ns;
    unsigned oid = oid_held ? (unsigned)ad->oid_head->req->DATA.QUERY_INFORMATION.Oid : 0;
    emu_unlock(rt);
    if (held)
        emu_violate(rt, "ResetWithOutstanding", call,
                    "%s: the reset completed while the miniport still held %llu send(s) it had "
                    "when MiniportResetEx was called (first: NBL #%llu); an NDIS 6.30 miniport "
                    "completes them first (NDIS_STATUS_REQUEST_ABORTED)",
                    ad->instance, (unsigned long long)held, (unsigned long long)serial);
    else if (oid_held)
        emu_violate(rt, "ResetWithOutstanding", call,
                    "%s: the reset completed while the miniport still held the OID request "
                    "(OID %#x) it had when MiniportResetEx was called; an NDIS 6.30 miniport "
                    "completes it first",
                    ad->instance, oid);
}

/* The reset is over (completed at once, or by NdisMResetComplete after
 * MiniportResetEx returned PENDING): the protocols may send again from
 * their RESET_END handlers. */
static void reset_end(emu_runtime *rt, emu_adapter *ad, const char *call)
{
    check_outstanding(rt, ad, call);
    emu_lock(rt);
    bool was = ad->resetting;
    if (was) {
        mark_bindings(ad, 0);
        ad->resetting = false;
        ad->reset.active = false;
        emu_broadcast(rt);
    }
    emu_unlock(rt);
    if (was)
        indicate(rt, ad, NDIS_STATUS_RESET_END);
}

void emu_reset_miniport(emu_runtime *rt, emu_adapter *ad, const char *why)
{
    if (!ad->drv->mp->ch.ResetHandlerEx)
        return;
    emu_lock(rt);
    bool busy = ad->resetting;
    if (!busy) {
        ad->resetting = true;
        ad->reset_started_ns = emu_guest_time(rt);
        emu_timed_arm(rt, ad->reset_started_ns);
        rt->cnt.resets++;
    }
    emu_unlock(rt);
    if (busy)
        return;
    emu_tracef(rt, "ndis", "reset", "%s: %s", ad->instance, why);
    indicate(rt, ad, NDIS_STATUS_RESET_START);
    emu_lock(rt);
    mark_bindings(ad, __atomic_add_fetch(&rt->reset_epoch, 1, __ATOMIC_ACQ_REL));
    mark_outstanding(rt, ad);
    ad->reset_in_handler = true;
    emu_unlock(rt);

    BOOLEAN addressing = FALSE;
    emu_cb_scope s;
    emu_op_start(rt, &ad->reset);
    emu_cb_begin(&s, "MiniportResetEx", ad->drv, ad, DISPATCH_LEVEL);
    NDIS_STATUS st = ad->drv->mp->ch.ResetHandlerEx(ad->ctx, &addressing);
    emu_cb_end(&s);
    emu_lock(rt);
    ad->reset_in_handler = false;
    bool completed = ad->reset.done;
    emu_unlock(rt);
    /* Pended: NDIS does not wait (pauses, other adapters' hang checks and
     * PnP go on); NdisMResetComplete ends it, within 30 s (timed.c). A
     * completion call made before the handler returned PENDING ends it
     * now; one before a final status is DoubleComplete. */
    if (st == NDIS_STATUS_PENDING ? completed
                                  : emu_op_finish(rt, &ad->reset, &st, "MiniportResetEx"))
        reset_end(rt, ad, st == NDIS_STATUS_PENDING ? "NdisMResetComplete" : "MiniportResetEx");
}

void emu_reset_complete(emu_runtime *rt, emu_adapter *ad, NDIS_STATUS st)
{
    emu_lock(rt);
    bool in_handler = ad->reset_in_handler;
    emu_unlock(rt);
    if (emu_op_complete(rt, &ad->reset, st, "NdisMResetComplete", "reset") && !in_handler)
        reset_end(rt, ad, "NdisMResetComplete");
}

static bool reset_idle(emu_runtime *rt, void *arg)
{
    (void)rt;
    return !((emu_adapter *)arg)->resetting;
}

bool emu_reset_wait_idle(emu_runtime *rt, emu_adapter *ad)
{
    if (emu_wait(rt, reset_idle, ad, EMU_WAIT_NS))
        return true;
    if (!emu_stopped(rt))
        emu_violate(rt, "OperationNotCompleted", "MiniportResetEx",
                    "%s: the reset pended and was not completed (NdisMResetComplete) before "
                    "the adapter halts",
                    ad->instance);
    return false;
}

bool emu_reset_oid_overdue(emu_runtime *rt, emu_adapter *ad)
{
    emu_lock(rt);
    bool busy = ad->oid_busy && ad->oid_head;
    /* The slot and when it reached the miniport: a slot's memory may be
     * reused by a later request, its start time not. */
    bool overdue =
        busy && ad->hang_oid == (const void *)ad->oid_head && ad->hang_oid_ns == ad->oid_started_ns;
    ad->hang_oid = busy && !overdue ? (const void *)ad->oid_head : NULL; /* again from a reset */
    ad->hang_oid_ns = ad->oid_started_ns;
    emu_unlock(rt);
    return overdue;
}

/* oid: the request's OID, named in the report (0: not an OID request). */
bool emu_reset_quiet_ok(emu_runtime *rt, emu_binding *b, const char *call, NDIS_OID oid)
{
    if (rt->cfg.no_call_checks)
        return true;
    /* Written under rt->mu; read without it: every send passes here. */
    uint64_t since = __atomic_load_n(&b->reset_seq, __ATOMIC_ACQUIRE);
    if (!since)
        return true;
    emu_thread *t = emu_self();
    if (t->cur_drv == b->prot->drv && t->drv_entry < since)
        return true; /* in the driver since before the reset began */
    char what[24] = "";
    if (oid)
        snprintf(what, sizeof(what), " (OID %#x)", (unsigned)oid);
    emu_violate(rt, "ResetQuiet", call,
                "protocol %s: %s%s to %s between NDIS_STATUS_RESET_START and _END (sends "
                "and requests wait for the reset's end)",
                b->prot->name, call, what, b->ad->instance);
    return false;
}
