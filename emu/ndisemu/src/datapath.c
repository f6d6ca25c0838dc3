/*
 * datapath.c - sends, send completions, receive indications, returns and
 * status indications on their way up, with the NBL ownership rules.
 *
 * Each NBL carries a stack of ownership frames. NdisSendNetBufferLists
 * pushes a SEND frame (the miniport owns it); NdisMSendNetBufferListsComplete
 * pops it and routes the NBL by its SourceHandle. NdisMIndicateReceive...
 * pushes a RECV frame held by every binding it was delivered to;
 * NdisReturnNetBufferLists clears the returning binding and the last return
 * pops the frame and gives the NBL back to the miniport. Frames nest, so an
 * intermediate driver may forward a sent NBL down its own binding, or
 * indicate a received NBL up its own miniport (the NDIS mux pattern).
 */
#include "emu_internal.h"

static nbl_frame *top(emu_nbl_ext *x)
{
    return x->depth ? &x->fr[x->depth - 1] : NULL;
}

/* ---- send ---- */

/* Gives a completed run of NBLs back to the hop's sender: a protocol
 * binding, or a filter module (FilterSendNetBufferListsComplete). */
void emu_send_complete_up(emu_runtime *rt, emu_binding *b, emu_filter *from, PNET_BUFFER_LIST chain,
                          unsigned n, ULONG flags)
{
    (void)rt;
    (void)n;
    emu_cb_scope s;
    KIRQL irql = emu_self()->irql;
    if (from) {
        emu_cb_begin(&s, "FilterSendNetBufferListsComplete", from->fd->drv, NULL, irql);
        from->send_complete(from->ctx, chain, flags);
    } else {
        emu_cb_begin(&s, "ProtocolSendNetBufferListsComplete", b->prot->drv, NULL, irql);
        b->prot->ch.SendNetBufferListsCompleteHandler(b->ctx, chain, flags);
    }
    emu_cb_end(&s);
}

/* Where a send hop goes and whether the miniport takes sends now. */
typedef struct send_hop {
    emu_adapter *ad;
    emu_filter *to; /* NULL: the miniport */
    bool running;   /* the miniport is running (when to is NULL) */
} send_hop;

/* rt->mu held. Takes chain (n NBLs, already checked) for the hop from b or
 * from down from level: pushes a SEND frame on each NBL and counts them. */
static void send_take(emu_adapter *ad, int level, emu_binding *b, emu_filter *from,
                      PNET_BUFFER_LIST chain, unsigned n, send_hop *h)
{
    h->ad = ad;
    h->to = emu_filter_send_target(ad, level);
    h->running = ad->state == AD_RUNNING && !ad->surprise_removed && ad->power == 0;
    uint64_t now = emu_guest_time(ad->rt);
    for (PNET_BUFFER_LIST nbl = chain; nbl; nbl = nbl->Next) {
        emu_nbl_ext *x = CONTAINING_RECORD(nbl, emu_nbl_ext, nbl);
        nbl_frame f = { .kind = F_SEND,
                        .ad = ad,
                        .b = b,
                        .from = from,
                        .to = h->to,
                        .src = nbl->SourceHandle,
                        .sent_ns = now };
        emu_lso_note_send(&f, nbl);
        x->fr[x->depth++] = f;
        emu_nbl_note(emu_rt, x, NBL_EV_SEND, 0, "by %s to %s over %s",
                     b ? b->prot->name : from->fd->name, h->to ? h->to->fd->name : "miniport",
                     ad->instance);
    }
    if (!h->to && !h->running)
        ad->rt->cnt.sends_refused += n;
    if (b)
        b->sends_out += n;
    if (from)
        from->sends_out += n;
    if (h->to) {
        h->to->sends_in += n;
    } else {
        if (ad->sends_out == 0) {
            ad->send_progress_ns = ad->send_oldest_ns = now;
            emu_timed_arm(ad->rt, ad->send_progress_ns);
        }
        ad->sends_out += n;
    }
}

/* Unlocked: hands the taken chain to the next filter or the miniport. */
static void send_give(emu_runtime *rt, const send_hop *h, PNET_BUFFER_LIST chain,
                      NDIS_PORT_NUMBER port, ULONG flags)
{
    emu_adapter *ad = h->ad;
    emu_cb_scope s;
    if (h->to) {
        emu_cb_begin(&s, "FilterSendNetBufferLists", h->to->fd->drv, NULL, emu_self()->irql);
        h->to->send(h->to->ctx, chain, port, flags);
        emu_cb_end(&s);
        return;
    }
    if (!h->running) {
        /* NDIS fails sends to a miniport that is not running itself. That
         * is not the miniport's completion: the rules that hold a miniport's
         * completion (LsoTransmitComplete: the LSO completion information is
         * the miniport's to write) do not apply. Before, it went through
         * NdisMSendNetBufferListsComplete and its checks, and an LSOv2 NBL
         * still holding its MSS tripped LsoTransmitComplete. */
        emu_lock(rt);
        for (PNET_BUFFER_LIST nbl = chain; nbl; nbl = nbl->Next) {
            nbl->Status = NDIS_STATUS_PAUSED;
            emu_nbl_note(rt, CONTAINING_RECORD(nbl, emu_nbl_ext, nbl), NBL_EV_SEND_FAILED,
                         NDIS_STATUS_PAUSED, "for %s (not running)", ad->instance);
        }
        emu_unlock(rt);
        emu_send_complete_runs(
            rt, ad, true, chain,
            emu_self()->irql == DISPATCH_LEVEL ? NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL : 0);
        return;
    }
    emu_cb_begin(&s, "MiniportSendNetBufferLists", ad->drv, ad, emu_self()->irql);
    ad->drv->mp->ch.SendNetBufferListsHandler(ad->ctx, chain, port, flags);
    emu_cb_end(&s);
}

void emu_send_down(emu_runtime *rt, emu_adapter *ad, int level, emu_binding *b, emu_filter *from,
                   PNET_BUFFER_LIST chain, unsigned n, NDIS_PORT_NUMBER port, ULONG flags)
{
    send_hop h;
    emu_lock(rt);
    send_take(ad, level, b, from, chain, n, &h);
    rt->cnt.sends += b ? n : 0;
    emu_unlock(rt);
    send_give(rt, &h, chain, port, flags);
}

/* rt->mu held. Checks a protocol's send (binding state, every NBL of the
 * chain); returns the number of NBLs, 0 after a violation. */
static unsigned send_admit(emu_runtime *rt, emu_binding *b, PNET_BUFFER_LIST chain,
                           const char *call)
{
    emu_adapter *ad = b->ad;
    /* While the binding pauses, a send on another CPU that the protocol
     * decided on before it saw the pause (NDIS's samples count the send,
     * drop their lock, then call NDIS) reaches NDIS while the pause handler
     * runs or after it returned PENDING to wait for such sends. NDIS cannot
     * tell it from a new one and takes it; the pause then waits for it.
     * A send from inside the handler, or after it returned SUCCESS, is
     * certainly after the protocol knew. */
    bool racing_pause = b->state == B_PAUSING && b->pause_cb_thread != emu_self() &&
                        (!b->pause_returned || b->pause_pended);
    /* "When the driver is ready to resume send and receive operations for
     * the binding, the binding enters the Running state" (Restarting a
     * Binding): the protocol says when, from its restart handler on. */
    bool restarting = b->state == B_RESTARTING;
    if (b->state != B_RUNNING && !racing_pause && !restarting) {
        emu_violate(rt, "PausedNoSend", call,
                    "binding %s-%s is not running (state %d): a protocol must not send on a "
                    "paused or pausing binding",
                    b->prot->name, ad->instance, (int)b->state);
        return 0;
    }
    unsigned n = 0;
    if (rt->cfg.no_call_checks) {
        for (PNET_BUFFER_LIST nbl = chain; nbl; nbl = nbl->Next)
            n++;
        return n;
    }
    for (PNET_BUFFER_LIST nbl = chain; nbl; nbl = nbl->Next) {
        emu_nbl_ext *x = emu_nbl_ext_of(rt, nbl, call);
        if (!x)
            return 0;
        if (nbl->SourceHandle != (NDIS_HANDLE)b) {
            emu_violate(rt, "NblSourceHandle", call,
                        "NBL %p SourceHandle is %p; a sender must set it to its binding "
                        "handle %p",
                        (void *)nbl, nbl->SourceHandle, (void *)b);
            return 0;
        }
        /* An intermediate driver may pass down what was sent to its own
         * miniport (the mux pattern); anything else in flight is not the
         * sender's to send. */
        nbl_frame *t = top(x);
        if (t && t->kind == F_SEND && (t->to || t->ad->drv != b->prot->drv)) {
            emu_violate(rt, "NblSendCompleteOnce", call,
                        "NBL %p is still owned by %s over %s (sent and not completed)", (void *)nbl,
                        t->to ? t->to->fd->name : "the miniport", t->ad->instance);
            return 0;
        }
        if (x->depth == EMU_MAX_FRAMES) {
            emu_violate(rt, "NblSendCompleteOnce", call, "NBL %p passed through too many drivers",
                        (void *)nbl);
            return 0;
        }
        n++;
    }
    return n;
}

void NdisSendNetBufferLists(NDIS_HANDLE NdisBindingHandle, PNET_BUFFER_LIST NetBufferLists,
                            NDIS_PORT_NUMBER PortNumber, ULONG SendFlags)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisSendNetBufferLists";
    if (!emu_enter(call, "nbl=%p flags=%#x", (void *)NetBufferLists, SendFlags) ||
        !EMU_DISPATCH_FLAG_OK(call, SendFlags, NDIS_SEND_FLAGS_DISPATCH_LEVEL))
        return;
    emu_binding *b = (emu_binding *)emu_obj_check(rt, NdisBindingHandle, K_BINDING, call);
    if (!b)
        return;
    if (!emu_reset_quiet_ok(rt, b, call, 0))
        return;
    emu_adapter *ad = b->ad;
    /* Checked and taken over under one lock hold, so a pause cannot slip
     * between the state check and the ownership change. */
    send_hop h;
    emu_lock(rt);
    unsigned n = send_admit(rt, b, NetBufferLists, call);
    if (n) {
        send_take(ad, ad->n_filters, b, NULL, NetBufferLists, n, &h);
        rt->cnt.sends += n;
    }
    emu_unlock(rt);
    if (n)
        send_give(rt, &h, NetBufferLists, PortNumber, SendFlags);
}

/* rt->mu held. Every NBL of a send completion is outstanding at its hop's
 * receiver (a filter module `to`, or the miniport: NULL), with the
 * SourceHandle it was sent with. */
bool emu_send_complete_valid(emu_runtime *rt, emu_adapter *ad, emu_filter *to,
                             PNET_BUFFER_LIST chain, const char *call)
{
    const char *who = to ? to->fd->name : ad->instance;
    if (rt->cfg.no_call_checks)
        return true;
    for (PNET_BUFFER_LIST nbl = chain; nbl; nbl = nbl->Next) {
        emu_nbl_ext *x = emu_nbl_ext_rule(rt, nbl, call, "NblSendCompleteOnce");
        if (!x)
            return false;
        nbl_frame *t = top(x);
        if (!t || t->kind != F_SEND || t->ad != ad || t->to != to) {
            emu_violate(rt, "NblSendCompleteOnce", call,
                        "%s: NBL %p is not outstanding here (completed twice, or never sent "
                        "to it)",
                        who, (void *)nbl);
            return false;
        }
        if (nbl->SourceHandle != t->src) {
            emu_violate(rt, "NblSourceHandle", call,
                        "%s: NBL %p completes with SourceHandle %p but was sent with %p (an "
                        "intermediate driver must restore SourceHandle)",
                        who, (void *)nbl, nbl->SourceHandle, t->src);
            return false;
        }
        /* The rule is the miniport's: a filter passes its completion up. */
        if (!to && !emu_lso_complete_ok(rt, t, nbl, who, call))
            return false;
    }
    return true;
}

/* Pops the hop frame of each NBL (validated) and hands each run of NBLs of
 * one sender back to it, in order. */
void emu_send_complete_runs(emu_runtime *rt, emu_adapter *ad, bool at_miniport,
                            PNET_BUFFER_LIST chain, ULONG flags)
{
    PNET_BUFFER_LIST nbl = chain;
    while (nbl) {
        PNET_BUFFER_LIST head = nbl, last = nbl;
        unsigned n = 0;
        emu_lock(rt);
        nbl_frame *t0 = top(CONTAINING_RECORD(nbl, emu_nbl_ext, nbl));
        emu_binding *b = t0->b;
        emu_filter *from = t0->from, *to = t0->to;
        while (nbl) {
            emu_nbl_ext *x = CONTAINING_RECORD(nbl, emu_nbl_ext, nbl);
            nbl_frame *t = top(x);
            if (t->b != b || t->from != from)
                break;
            emu_nbl_note(rt, x, NBL_EV_COMPLETE, nbl->Status, "by %s over %s to %s",
                         at_miniport ? "miniport" : to->fd->name, ad->instance,
                         from ? from->fd->name : b->prot->name);
            x->depth--;
            last = nbl;
            nbl = nbl->Next;
            n++;
        }
        last->Next = NULL;
        if (from)
            from->sends_out -= n;
        else
            b->sends_out -= n;
        if (at_miniport) {
            ad->sends_out -= n;
            ad->send_progress_ns = emu_guest_time(rt);
        } else
            to->sends_in -= n;
        if (!from)
            rt->cnt.send_completes += n;
        emu_broadcast(rt);
        emu_unlock(rt);
        emu_send_complete_up(rt, b, from, head, n, flags);
    }
}

void NdisMSendNetBufferListsComplete(NDIS_HANDLE MiniportAdapterHandle,
                                     PNET_BUFFER_LIST NetBufferLists, ULONG SendCompleteFlags)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisMSendNetBufferListsComplete";
    if (!emu_enter(call, "nbl=%p flags=%#x", (void *)NetBufferLists, SendCompleteFlags) ||
        !EMU_DISPATCH_FLAG_OK(call, SendCompleteFlags, NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL))
        return;
    emu_adapter *ad = (emu_adapter *)emu_obj_check(rt, MiniportAdapterHandle, K_ADAPTER, call);
    if (!ad)
        return;
    /* Validate the whole chain before changing anything. */
    emu_lock(rt);
    bool valid = emu_send_complete_valid(rt, ad, NULL, NetBufferLists, call);
    emu_unlock(rt);
    if (valid)
        emu_send_complete_runs(rt, ad, true, NetBufferLists, SendCompleteFlags);
}

/* ---- receive ---- */

/* The callbacks into these bindings returned: a pause waiting for them may
 * finish (emu_binding_pnp). */
static void delivered(emu_runtime *rt, emu_binding **targets, unsigned nt)
{
    emu_lock(rt);
    for (unsigned k = 0; k < nt; k++)
        targets[k]->delivering--;
    emu_broadcast(rt);
    emu_unlock(rt);
}

/* rt->mu held. A receive indication: the miniport may indicate, and each
 * NBL of the chain is live and not already indicated. Fills list.
 * Who may indicate: "Send and receive operations" are events of the
 * Running and Pausing states ("Miniport Adapter States and Operations": a
 * DPC may finish an indication while MiniportPause runs), and a restarting
 * miniport "can resume indicating received packets immediately after NDIS
 * calls MiniportRestart" (NdisMRestartComplete). Paused means none. */
static bool indicate_valid(emu_runtime *rt, emu_adapter *ad, PNET_BUFFER_LIST chain, ULONG count,
                           PNET_BUFFER_LIST list[256], unsigned *n, const char *call)
{
    if (ad->state != AD_RUNNING && ad->state != AD_PAUSING && ad->state != AD_RESTARTING) {
        emu_violate(rt, "PausedNoIndicate", call,
                    "%s: receive indicated while the miniport is %s (only a restarting, running "
                    "or pausing miniport may indicate)",
                    ad->instance, emu_state_name(ad->state));
        return false;
    }
    return emu_indicate_list(rt, ad, NULL, chain, count, list, n, call);
}

/* rt->mu held. Each NBL of chain is live and not indicated by this
 * indicator (the miniport, or the filter module from) already; list[] gets
 * them. */
bool emu_indicate_list(emu_runtime *rt, emu_adapter *ad, emu_filter *from, PNET_BUFFER_LIST chain,
                       ULONG count, PNET_BUFFER_LIST list[256], unsigned *n, const char *call)
{
    *n = 0;
    if (rt->cfg.no_call_checks) {
        for (PNET_BUFFER_LIST nbl = chain; nbl && *n < 256; nbl = nbl->Next)
            list[(*n)++] = nbl;
        return true;
    }
    for (PNET_BUFFER_LIST nbl = chain; nbl; nbl = nbl->Next) {
        emu_nbl_ext *x = emu_nbl_ext_of(rt, nbl, call);
        if (!x)
            return false;
        for (int i = 0; i < x->depth; i++) {
            if (x->fr[i].kind == F_RECV && x->fr[i].ad == ad && x->fr[i].from == from) {
                emu_violate(rt, "NblReturnOnce", call,
                            "%s: NBL %p indicated again before it was returned",
                            from ? from->fd->name : ad->instance, (void *)nbl);
                return false;
            }
        }
        if (*n == 256 || x->depth == EMU_MAX_FRAMES) {
            emu_violate(rt, "NblReturnOnce", call, "too many NBLs in one indication");
            return false;
        }
        list[(*n)++] = nbl;
    }
    if (*n != count) {
        emu_violate(rt, "NblReturnOnce", call,
                    "NumberOfNetBufferLists is %u but the chain has %u NBLs", count, *n);
        return false;
    }
    return true;
}

/* Inside the adapter's own interrupt DPC: the NBLs count against
 * MaxNblsToIndicate, and the indication (the upper stack's work on each NBL)
 * against the DPC's time. False when that broke the throttle. Indications of
 * another adapter inside the DPC (an intermediate driver passing the NBLs
 * up) are the same NBLs' work: not charged twice. */
static bool dpc_charge(emu_runtime *rt, emu_adapter *ad, unsigned n, const char *call)
{
    emu_dpc_run *run = emu_self()->dpc;
    if (!run || run->ad != ad || rt->cfg.no_call_checks)
        return true;
    run->indicated += n;
    run->cost_ns += EMU_DPC_COST_INDICATE_NS + (uint64_t)n * EMU_DPC_COST_NBL_NS;
    if (run->max_nbls == NDIS_INDICATE_ALL_NBLS || run->indicated <= run->max_nbls)
        return true;
    emu_violate(rt, "ReceiveThrottle", call,
                "%u NBLs indicated in one DPC; MaxNblsToIndicate was %u", run->indicated,
                run->max_nbls);
    return false;
}

/* Gives NBLs back to their indicator: the miniport (from = NULL) or a
 * filter module (FilterReturnNetBufferLists). */
void emu_return_down(emu_runtime *rt, emu_adapter *ad, emu_filter *from, PNET_BUFFER_LIST chain,
                     ULONG flags)
{
    (void)rt;
    emu_cb_scope s;
    if (from) {
        emu_cb_begin(&s, "FilterReturnNetBufferLists", from->fd->drv, NULL, emu_self()->irql);
        from->ret(from->ctx, chain, flags);
    } else {
        emu_cb_begin(&s, "MiniportReturnNetBufferLists", ad->drv, ad, emu_self()->irql);
        ad->drv->mp->ch.ReturnNetBufferListsHandler(ad->ctx, chain, flags);
    }
    emu_cb_end(&s);
}

/* rt->mu held. One NBL's frame i lost its last holder (or was lent for
 * the call only): take it out and count it back at its indicator. It is
 * the top frame unless another protocol bound to the same miniport still
 * has the NBL indicated up its own miniport (two protocols on one adapter:
 * each holds the indication independently). */
static void recv_pop_at(emu_runtime *rt, emu_adapter *ad, emu_nbl_ext *x, int i)
{
    nbl_frame *t = &x->fr[i];
    if (t->from)
        t->from->recvs_out--;
    else
        ad->recvs_out--;
    if (!t->resources && !t->from)
        rt->cnt.returns++;
    emu_nbl_note(rt, x, NBL_EV_RETURNED, 0, "to %s of %s", t->from ? t->from->fd->name : "miniport",
                 ad->instance);
    for (int j = i; j + 1 < x->depth; j++)
        x->fr[j] = x->fr[j + 1];
    x->depth--;
}

static void recv_pop(emu_runtime *rt, emu_adapter *ad, emu_nbl_ext *x)
{
    recv_pop_at(rt, ad, x, x->depth - 1);
}

/* rt->mu held. The frame of ad's indication (to filter module f, or to
 * the bindings) that holder `bit` still holds: the topmost, wherever it
 * stands (a frame above it is another holder's indication of the same NBL
 * up its own miniport). -1 when it holds none. */
static int held_frame(const emu_nbl_ext *x, const emu_adapter *ad, const emu_filter *f,
                      uint64_t bit)
{
    for (int i = x->depth - 1; i >= 0; i--) {
        const nbl_frame *t = &x->fr[i];
        if (t->kind == F_RECV && t->ad == ad && t->to == f && (t->holders & bit))
            return i;
    }
    return -1;
}

/* The driver that pushed frame t: the indicator of a receive (miniport or
 * filter module), the sender of a send. */
static const emu_driver *frame_owner(const nbl_frame *t)
{
    if (t->kind == F_RECV)
        return t->from ? t->from->fd->drv : t->ad->drv;
    if (t->b)
        return t->b->prot->drv;
    return t->from ? t->from->fd->drv : NULL;
}

void emu_indicate_up(emu_runtime *rt, emu_adapter *ad, emu_filter *from, PNET_BUFFER_LIST *list,
                     unsigned n, NDIS_PORT_NUMBER port, ULONG flags)
{
    bool resources = (flags & NDIS_RECEIVE_FLAGS_RESOURCES) != 0;
    emu_binding *targets[EMU_MAX_BINDINGS];
    unsigned nt = 0;
    uint64_t holders = 0;
    /* rt->mu is held by the caller from its checks on (so a pause
     * completing concurrently sees these NBLs as outstanding). */
    int level = from ? emu_filter_level(from) + 1 : 0;
    emu_filter *to = emu_filter_recv_target(ad, level);
    if (to) {
        /* A paused module takes nothing: NDIS gives the NBLs back. */
        if (to->state == F_RUNNING || to->state == F_PAUSING || to->state == F_RESTARTING)
            holders = EMU_HOLDER_FILTER;
    } else {
        /* A pausing binding still gets receives ("Pausing a Binding": the
         * protocol handles them as usual until its pause completes). */
        for (int i = 0; i < EMU_MAX_BINDINGS; i++) {
            emu_binding *b = ad->bindings[i];
            if (b && (b->state == B_RUNNING || b->state == B_PAUSING)) {
                targets[nt++] = b;
                holders |= 1ull << i;
            }
        }
    }
    for (unsigned i = 0; i < n; i++) {
        emu_nbl_ext *x = CONTAINING_RECORD(list[i], emu_nbl_ext, nbl);
        nbl_frame f = { .kind = F_RECV,
                        .ad = ad,
                        .from = from,
                        .to = to,
                        .holders = holders,
                        .resources = resources };
        x->fr[x->depth++] = f;
        emu_nbl_note(rt, x, NBL_EV_INDICATE, 0, "by %s of %s, holders %#llx",
                     from ? from->fd->name : "miniport", ad->instance, (unsigned long long)holders);
        for (unsigned k = 0; k < nt; k++)
            targets[k]->recvs_held++;
    }
    for (unsigned k = 0; k < nt; k++)
        targets[k]->delivering++;
    if (from)
        from->recvs_out += n;
    else
        ad->recvs_out += n;
    if (to && holders)
        to->recvs_in += n;
    if (!from)
        rt->cnt.receives += n;
    emu_unlock(rt);

    KIRQL irql = emu_self()->irql;
    if (to && holders) {
        for (unsigned i = 0; i < n; i++)
            list[i]->Next = i + 1 < n ? list[i + 1] : NULL;
        emu_cb_scope s;
        emu_cb_begin(&s, "FilterReceiveNetBufferLists", to->fd->drv, NULL, irql);
        to->receive(to->ctx, list[0], port, n, flags);
        emu_cb_end(&s);
    }
    for (unsigned k = 0; k < nt && !emu_stopped(rt); k++) {
        /* Each protocol gets the chain as the indicator built it. */
        for (unsigned i = 0; i < n; i++)
            list[i]->Next = i + 1 < n ? list[i + 1] : NULL;
        emu_binding *b = targets[k];
        emu_cb_scope s;
        emu_cb_begin(&s, "ProtocolReceiveNetBufferLists", b->prot->drv, NULL, irql);
        b->prot->ch.ReceiveNetBufferListsHandler(b->ctx, list[0], port, n, flags);
        emu_cb_end(&s);
    }
    delivered(rt, targets, nt);
    /* Pop frames that every holder already gave back, or that were lent
     * only for the duration of the call (NDIS_RECEIVE_FLAGS_RESOURCES). The
     * NBLs already returned belong to the indicator again: only the list[]
     * copy is used here, never their Next links. */
    PNET_BUFFER_LIST ret_head = NULL, *ret_tail = &ret_head;
    emu_lock(rt);
    for (unsigned i = 0; i < n; i++) {
        emu_nbl_ext *x = CONTAINING_RECORD(list[i], emu_nbl_ext, nbl);
        nbl_frame *t = top(x);
        if (!t || t->kind != F_RECV || t->ad != ad || t->from != from)
            continue;
        if (resources || t->holders == 0) {
            for (unsigned k = 0; k < nt; k++) {
                if (t->holders & (1ull << targets[k]->slot))
                    targets[k]->recvs_held--;
            }
            if (to && (t->holders & EMU_HOLDER_FILTER))
                to->recvs_in--;
            recv_pop(rt, ad, x);
            if (!resources) {
                *ret_tail = list[i];
                ret_tail = &list[i]->Next;
            }
        }
    }
    *ret_tail = NULL;
    emu_broadcast(rt);
    emu_unlock(rt);
    if (ret_head && !resources) /* nobody kept them */
        emu_return_down(rt, ad, from, ret_head,
                        irql == DISPATCH_LEVEL ? NDIS_RETURN_FLAGS_DISPATCH_LEVEL : 0);
}

void NdisMIndicateReceiveNetBufferLists(NDIS_HANDLE MiniportAdapterHandle,
                                        PNET_BUFFER_LIST NetBufferLists,
                                        NDIS_PORT_NUMBER PortNumber, ULONG NumberOfNetBufferLists,
                                        ULONG ReceiveFlags)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisMIndicateReceiveNetBufferLists";
    if (!emu_enter(call, "nbl=%p n=%u flags=%#x", (void *)NetBufferLists, NumberOfNetBufferLists,
                   ReceiveFlags) ||
        !EMU_DISPATCH_FLAG_OK(call, ReceiveFlags, NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL))
        return;
    emu_adapter *ad = (emu_adapter *)emu_obj_check(rt, MiniportAdapterHandle, K_ADAPTER, call);
    if (!ad || !dpc_charge(rt, ad, NumberOfNetBufferLists, call))
        return;
    PNET_BUFFER_LIST list[256];
    unsigned n = 0;
    emu_lock(rt);
    if (!indicate_valid(rt, ad, NetBufferLists, NumberOfNetBufferLists, list, &n, call)) {
        emu_unlock(rt);
        return;
    }
    emu_indicate_up(rt, ad, NULL, list, n, PortNumber, ReceiveFlags); /* drops rt->mu */
}

/* rt->mu held. Returns of NBLs by one holder (binding b, or filter module
 * f): each must be held by it; clears its hold. Returns false after a
 * violation. */
bool emu_return_take(emu_runtime *rt, emu_adapter *ad, emu_binding *b, emu_filter *f,
                     PNET_BUFFER_LIST chain, const char *call)
{
    uint64_t bit = b ? 1ull << b->slot : EMU_HOLDER_FILTER;
    const emu_driver *me = b ? b->prot->drv : f->fd->drv;
    if (rt->cfg.no_call_checks)
        return true;
    for (PNET_BUFFER_LIST nbl = chain; nbl; nbl = nbl->Next) {
        emu_nbl_ext *x = emu_nbl_ext_rule(rt, nbl, call, "NblReturnOnce");
        int i = x ? held_frame(x, ad, f, bit) : -1;
        if (x && i < 0) {
            emu_violate(rt, "NblReturnOnce", call,
                        "%s over %s returned NBL %p that it does not hold (returned twice, "
                        "indicated with NDIS_RECEIVE_FLAGS_RESOURCES, or never indicated to it)",
                        b ? b->prot->name : f->fd->name, ad->instance, (void *)nbl);
            x = NULL;
        }
        /* Above its hold, frames of other drivers (another protocol bound
         * to ad indicated the NBL up its own miniport) are theirs; one of
         * its own means it gives the NBL back while it still has it
         * indicated up or sent: ad's miniport could reuse it under them. */
        for (int j = i + 1; x && j < x->depth; j++) {
            if (frame_owner(&x->fr[j]) == me) {
                emu_violate(rt, "NblReturnOnce", call,
                            "%s over %s returned NBL %p while it still has it %s (the miniport "
                            "may reuse it under the driver above)",
                            b ? b->prot->name : f->fd->name, ad->instance, (void *)nbl,
                            x->fr[j].kind == F_RECV ? "indicated up its own miniport, not "
                                                      "returned there yet"
                                                    : "sent, not completed yet");
                x = NULL;
            }
        }
        if (!x)
            return false;
    }
    return true;
}

/* Clears the holder's bit on each NBL (validated) and gives the ones no
 * one holds any more back to their indicators, one run per indicator. */
void emu_return_runs(emu_runtime *rt, emu_adapter *ad, emu_binding *b, emu_filter *f,
                     PNET_BUFFER_LIST chain, ULONG flags)
{
    uint64_t bit = b ? 1ull << b->slot : EMU_HOLDER_FILTER;
    struct {
        emu_filter *from;
        PNET_BUFFER_LIST head, *tail;
    } runs[EMU_MAX_FILTERS + 1];
    int nruns = 0;
    emu_lock(rt);
    for (PNET_BUFFER_LIST nbl = chain, next; nbl; nbl = next) {
        next = nbl->Next;
        emu_nbl_ext *x = CONTAINING_RECORD(nbl, emu_nbl_ext, nbl);
        int i = held_frame(x, ad, f, bit); /* emu_return_take found it */
        nbl_frame *t = &x->fr[i];
        t->holders &= ~bit;
        if (b)
            b->recvs_held--;
        else
            t->to->recvs_in--;
        if (t->holders || t->resources)
            continue;
        emu_filter *from = t->from;
        recv_pop_at(rt, ad, x, i);
        int r = 0;
        while (r < nruns && runs[r].from != from)
            r++;
        if (r == nruns) {
            runs[r].from = from;
            runs[r].head = NULL;
            runs[r].tail = &runs[r].head;
            nruns++;
        }
        *runs[r].tail = nbl;
        runs[r].tail = &nbl->Next;
    }
    for (int r = 0; r < nruns; r++)
        *runs[r].tail = NULL;
    emu_broadcast(rt);
    emu_unlock(rt);
    for (int r = 0; r < nruns; r++)
        emu_return_down(rt, ad, runs[r].from, runs[r].head, flags);
}

void NdisReturnNetBufferLists(NDIS_HANDLE NdisBindingHandle, PNET_BUFFER_LIST NetBufferLists,
                              ULONG ReturnFlags)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisReturnNetBufferLists";
    if (!emu_enter(call, "nbl=%p flags=%#x", (void *)NetBufferLists, ReturnFlags) ||
        !EMU_DISPATCH_FLAG_OK(call, ReturnFlags, NDIS_RETURN_FLAGS_DISPATCH_LEVEL))
        return;
    emu_binding *b = (emu_binding *)emu_obj_check(rt, NdisBindingHandle, K_BINDING, call);
    if (!b)
        return;
    emu_lock(rt);
    bool ok = emu_return_take(rt, b->ad, b, NULL, NetBufferLists, call);
    emu_unlock(rt);
    if (ok)
        emu_return_runs(rt, b->ad, b, NULL, NetBufferLists, ReturnFlags);
}

/* ---- status ---- */

void emu_status_up(emu_runtime *rt, emu_adapter *ad, emu_filter *from, PNDIS_STATUS_INDICATION si)
{
    emu_binding *targets[EMU_MAX_BINDINGS];
    unsigned nt = 0;
    emu_filter *to = NULL;
    emu_lock(rt);
    for (int i = from ? emu_filter_level(from) + 1 : 0; i < ad->n_filters && !to; i++) {
        emu_filter *f = ad->filters[i];
        if (f->fd->ch.StatusHandler && f->state != F_ATTACHING && f->state != F_DETACHED)
            to = f;
    }
    for (int i = 0; i < EMU_MAX_BINDINGS && !to; i++) {
        emu_binding *b = ad->bindings[i];
        if (b && b->state != B_OPENING && b->state != B_CLOSED) {
            targets[nt++] = b;
            b->delivering++;
        }
    }
    emu_unlock(rt);
    si->SourceHandle = from ? (NDIS_HANDLE)from : (NDIS_HANDLE)ad;
    emu_cb_scope s;
    if (to) {
        emu_cb_begin(&s, "FilterStatus", to->fd->drv, NULL, emu_self()->irql);
        to->fd->ch.StatusHandler(to->ctx, si);
        emu_cb_end(&s);
    }
    for (unsigned k = 0; k < nt; k++) {
        emu_cb_begin(&s, "ProtocolStatusEx", targets[k]->prot->drv, NULL, emu_self()->irql);
        targets[k]->prot->ch.StatusHandlerEx(targets[k]->ctx, si);
        emu_cb_end(&s);
    }
    delivered(rt, targets, nt);
}

/* ---- send cancellation ---- */

/* A cancel goes down the stack from level, at the caller's IRQL: to the
 * next module in the send path (which passes it on with
 * NdisFCancelSendNetBufferLists, if it takes cancels at all), or to the
 * miniport, which completes what it finds with NDIS_STATUS_SEND_ABORTED. */
void emu_cancel_send_down(emu_runtime *rt, emu_adapter *ad, int level, PVOID CancelId)
{
    emu_lock(rt);
    bool live = !emu_obj_dead(&ad->obj) && ad->state != AD_HALTED && ad->ctx;
    emu_filter *to = live ? emu_filter_send_target(ad, level) : NULL;
    FILTER_CANCEL_SEND_HANDLER h = to ? to->cancel_send : NULL;
    emu_unlock(rt);
    if (!live || (to && !h))
        return;
    emu_cb_scope s;
    if (to) {
        emu_cb_begin(&s, "FilterCancelSendNetBufferLists", to->fd->drv, NULL, emu_self()->irql);
        h(to->ctx, CancelId);
    } else {
        emu_cb_begin(&s, "MiniportCancelSend", ad->drv, ad, emu_self()->irql);
        ad->drv->mp->ch.CancelSendHandler(ad->ctx, CancelId);
    }
    emu_cb_end(&s);
}

void NdisCancelSendNetBufferLists(NDIS_HANDLE NdisBindingHandle, PVOID CancelId)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisCancelSendNetBufferLists";
    if (!emu_enter(call, "id=%p", CancelId))
        return;
    emu_binding *b = (emu_binding *)emu_obj_check(rt, NdisBindingHandle, K_BINDING, call);
    if (!b || !emu_reset_quiet_ok(rt, b, call, 0))
        return;
    emu_lock(rt);
    rt->cnt.send_cancels++;
    int level = b->ad->n_filters;
    emu_unlock(rt);
    emu_cancel_send_down(rt, b->ad, level, CancelId);
}

/* The high byte of a cancel ID that is unique to the caller. */
UCHAR NdisGeneratePartialCancelId(void)
{
    static unsigned next;
    if (!emu_enter("NdisGeneratePartialCancelId", "-"))
        return 0;
    return (UCHAR)(__atomic_add_fetch(&next, 1, __ATOMIC_RELAXED) & 0xff);
}
