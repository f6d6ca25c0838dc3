/*
 * datapath.c - sends, send completions, receive indications, returns and
 * status indications, with the NBL ownership rules.
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

static void complete_to_protocol(emu_runtime *rt, emu_binding *b, PNET_BUFFER_LIST chain,
                                 ULONG flags)
{
    emu_cb_scope s;
    KIRQL irql = emu_self()->irql;
    emu_cb_begin(&s, "ProtocolSendNetBufferListsComplete", b->prot->drv, NULL, irql);
    b->prot->ch.SendNetBufferListsCompleteHandler(b->ctx, chain, flags);
    emu_cb_end(&s);
    (void)rt;
}

/* rt->mu held. Checks a protocol's send (binding state, every NBL of the
 * chain) and, when all is well, gives the NBLs to the miniport. */
static bool send_admit(emu_runtime *rt, emu_binding *b, PNET_BUFFER_LIST chain, const char *call)
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
        return false;
    }
    unsigned n = 0;
    for (PNET_BUFFER_LIST nbl = chain; nbl; nbl = nbl->Next) {
        emu_nbl_ext *x = emu_nbl_ext_of(rt, nbl, call);
        if (!x)
            return false;
        if (nbl->SourceHandle != (NDIS_HANDLE)b) {
            emu_violate(rt, "NblSourceHandle", call,
                        "NBL %p SourceHandle is %p; a sender must set it to its binding "
                        "handle %p",
                        (void *)nbl, nbl->SourceHandle, (void *)b);
            return false;
        }
        nbl_frame *t = top(x);
        if (t && t->kind == F_SEND && t->ad->drv != b->prot->drv) {
            emu_violate(rt, "NblSendCompleteOnce", call,
                        "NBL %p is still owned by miniport %s (sent and not completed)",
                        (void *)nbl, t->ad->instance);
            return false;
        }
        if (x->depth == EMU_MAX_FRAMES) {
            emu_violate(rt, "NblSendCompleteOnce", call, "NBL %p passed through too many drivers",
                        (void *)nbl);
            return false;
        }
        n++;
    }
    for (PNET_BUFFER_LIST nbl = chain; nbl; nbl = nbl->Next) {
        emu_nbl_ext *x = CONTAINING_RECORD(nbl, emu_nbl_ext, nbl);
        nbl_frame f = { .kind = F_SEND, .ad = ad, .b = b };
        emu_lso_note_send(&f, nbl);
        x->fr[x->depth++] = f;
    }
    b->sends_out += n;
    ad->sends_out += n;
    rt->cnt.sends += n;
    return true;
}

void NdisSendNetBufferLists(NDIS_HANDLE NdisBindingHandle, PNET_BUFFER_LIST NetBufferLists,
                            NDIS_PORT_NUMBER PortNumber, ULONG SendFlags)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisSendNetBufferLists";
    if (!emu_enter(call, "nbl=%p flags=%#x", (void *)NetBufferLists, SendFlags))
        return;
    emu_binding *b = (emu_binding *)emu_obj_check(rt, NdisBindingHandle, K_BINDING, call);
    if (!b)
        return;
    emu_adapter *ad = b->ad;
    /* Checked and taken over under one lock hold, so a pause cannot slip
     * between the state check and the ownership change. */
    emu_lock(rt);
    bool admitted = send_admit(rt, b, NetBufferLists, call);
    bool running = ad->state == AD_RUNNING && !ad->surprise_removed && ad->power == 0;
    emu_unlock(rt);
    if (!admitted)
        return;
    if (!running) {
        /* NDIS fails sends to a miniport that is not running itself. */
        for (PNET_BUFFER_LIST nbl = NetBufferLists; nbl; nbl = nbl->Next)
            nbl->Status = NDIS_STATUS_PAUSED;
        NdisMSendNetBufferListsComplete(
            ad, NetBufferLists,
            emu_self()->irql == DISPATCH_LEVEL ? NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL : 0);
        return;
    }
    emu_cb_scope s;
    emu_cb_begin(&s, "MiniportSendNetBufferLists", ad->drv, ad, emu_self()->irql);
    ad->drv->mp->ch.SendNetBufferListsHandler(ad->ctx, NetBufferLists, PortNumber, SendFlags);
    emu_cb_end(&s);
}

/* rt->mu held. Every NBL of a send completion is outstanding at ad, with
 * the SourceHandle it was sent with. */
static bool complete_valid(emu_runtime *rt, emu_adapter *ad, PNET_BUFFER_LIST chain,
                           const char *call)
{
    for (PNET_BUFFER_LIST nbl = chain; nbl; nbl = nbl->Next) {
        emu_nbl_ext *x = emu_nbl_ext_rule(rt, nbl, call, "NblSendCompleteOnce");
        if (!x)
            return false;
        nbl_frame *t = top(x);
        if (!t || t->kind != F_SEND || t->ad != ad) {
            emu_violate(rt, "NblSendCompleteOnce", call,
                        "%s: NBL %p is not outstanding at this miniport (completed twice, or "
                        "never sent to it)",
                        ad->instance, (void *)nbl);
            return false;
        }
        if (nbl->SourceHandle != (NDIS_HANDLE)t->b) {
            emu_violate(rt, "NblSourceHandle", call,
                        "%s: NBL %p completes with SourceHandle %p but was sent on binding %p "
                        "(an intermediate driver must restore SourceHandle)",
                        ad->instance, (void *)nbl, nbl->SourceHandle, (void *)t->b);
            return false;
        }
        if (!emu_lso_complete_ok(rt, t, nbl, ad->instance, call))
            return false;
    }
    return true;
}

void NdisMSendNetBufferListsComplete(NDIS_HANDLE MiniportAdapterHandle,
                                     PNET_BUFFER_LIST NetBufferLists, ULONG SendCompleteFlags)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisMSendNetBufferListsComplete";
    if (!emu_enter(call, "nbl=%p flags=%#x", (void *)NetBufferLists, SendCompleteFlags))
        return;
    emu_adapter *ad = (emu_adapter *)emu_obj_check(rt, MiniportAdapterHandle, K_ADAPTER, call);
    if (!ad)
        return;
    /* Validate the whole chain before changing anything. */
    emu_lock(rt);
    bool valid = complete_valid(rt, ad, NetBufferLists, call);
    emu_unlock(rt);
    if (!valid)
        return;
    /* Pop and hand each run of NBLs from one binding back to it, in order. */
    PNET_BUFFER_LIST nbl = NetBufferLists;
    while (nbl) {
        PNET_BUFFER_LIST head = nbl, last = nbl;
        unsigned n = 0;
        emu_lock(rt);
        emu_binding *b = top(CONTAINING_RECORD(nbl, emu_nbl_ext, nbl))->b;
        while (nbl && top(CONTAINING_RECORD(nbl, emu_nbl_ext, nbl))->b == b) {
            CONTAINING_RECORD(nbl, emu_nbl_ext, nbl)->depth--;
            last = nbl;
            nbl = nbl->Next;
            n++;
        }
        last->Next = NULL;
        b->sends_out -= n;
        ad->sends_out -= n;
        rt->cnt.send_completes += n;
        emu_broadcast(rt);
        emu_unlock(rt);
        complete_to_protocol(rt, b, head, SendCompleteFlags);
    }
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
    *n = 0;
    for (PNET_BUFFER_LIST nbl = chain; nbl; nbl = nbl->Next) {
        emu_nbl_ext *x = emu_nbl_ext_of(rt, nbl, call);
        if (!x)
            return false;
        for (int i = 0; i < x->depth; i++) {
            if (x->fr[i].kind == F_RECV && x->fr[i].ad == ad) {
                emu_violate(rt, "NblReturnOnce", call,
                            "%s: NBL %p indicated again before it was returned", ad->instance,
                            (void *)nbl);
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
    if (!run || run->ad != ad)
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

void NdisMIndicateReceiveNetBufferLists(NDIS_HANDLE MiniportAdapterHandle,
                                        PNET_BUFFER_LIST NetBufferLists,
                                        NDIS_PORT_NUMBER PortNumber, ULONG NumberOfNetBufferLists,
                                        ULONG ReceiveFlags)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisMIndicateReceiveNetBufferLists";
    if (!emu_enter(call, "nbl=%p n=%u flags=%#x", (void *)NetBufferLists, NumberOfNetBufferLists,
                   ReceiveFlags))
        return;
    emu_adapter *ad = (emu_adapter *)emu_obj_check(rt, MiniportAdapterHandle, K_ADAPTER, call);
    if (!ad || !dpc_charge(rt, ad, NumberOfNetBufferLists, call))
        return;
    PNET_BUFFER_LIST list[256];
    unsigned n = 0;
    bool resources = (ReceiveFlags & NDIS_RECEIVE_FLAGS_RESOURCES) != 0;
    emu_binding *targets[EMU_MAX_BINDINGS];
    unsigned nt = 0;
    uint64_t holders = 0;
    /* Checked and handed to the bindings under one lock hold, so a pause
     * completing concurrently sees these NBLs as outstanding. */
    emu_lock(rt);
    if (!indicate_valid(rt, ad, NetBufferLists, NumberOfNetBufferLists, list, &n, call)) {
        emu_unlock(rt);
        return;
    }
    /* A pausing binding still gets receives ("Pausing a Binding": the
     * protocol handles them as usual until its pause completes). */
    for (int i = 0; i < EMU_MAX_BINDINGS; i++) {
        emu_binding *b = ad->bindings[i];
        if (b && (b->state == B_RUNNING || b->state == B_PAUSING)) {
            targets[nt++] = b;
            holders |= 1ull << i;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        emu_nbl_ext *x = CONTAINING_RECORD(list[i], emu_nbl_ext, nbl);
        nbl_frame f = { .kind = F_RECV, .ad = ad, .holders = holders, .resources = resources };
        x->fr[x->depth++] = f;
        for (unsigned k = 0; k < nt; k++)
            targets[k]->recvs_held++;
    }
    for (unsigned k = 0; k < nt; k++)
        targets[k]->delivering++;
    ad->recvs_out += n;
    rt->cnt.receives += n;
    emu_unlock(rt);

    KIRQL irql = emu_self()->irql;
    for (unsigned k = 0; k < nt && !emu_stopped(rt); k++) {
        /* Each protocol gets the chain as the miniport built it. */
        for (unsigned i = 0; i < n; i++)
            list[i]->Next = i + 1 < n ? list[i + 1] : NULL;
        emu_binding *b = targets[k];
        emu_cb_scope s;
        emu_cb_begin(&s, "ProtocolReceiveNetBufferLists", b->prot->drv, NULL, irql);
        b->prot->ch.ReceiveNetBufferListsHandler(b->ctx, list[0], PortNumber, n, ReceiveFlags);
        emu_cb_end(&s);
    }
    delivered(rt, targets, nt);
    /* Pop frames that every holder already gave back, or that were lent
     * only for the duration of the call (NDIS_RECEIVE_FLAGS_RESOURCES). The
     * NBLs already returned belong to the miniport again: only the list[]
     * copy is used here, never their Next links. */
    PNET_BUFFER_LIST ret_head = NULL, *ret_tail = &ret_head;
    emu_lock(rt);
    for (unsigned i = 0; i < n; i++) {
        emu_nbl_ext *x = CONTAINING_RECORD(list[i], emu_nbl_ext, nbl);
        nbl_frame *t = top(x);
        if (!t || t->kind != F_RECV || t->ad != ad)
            continue;
        if (resources || t->holders == 0) {
            for (unsigned k = 0; k < nt; k++) {
                if (t->holders & (1ull << targets[k]->slot))
                    targets[k]->recvs_held--;
            }
            x->depth--;
            ad->recvs_out--;
            if (!resources) {
                *ret_tail = list[i];
                ret_tail = &list[i]->Next;
                rt->cnt.returns++;
            }
        }
    }
    *ret_tail = NULL;
    emu_broadcast(rt);
    emu_unlock(rt);
    if (ret_head && !resources) {
        /* Nobody kept them (no binding, or all returned synchronously). */
        emu_cb_scope s;
        emu_cb_begin(&s, "MiniportReturnNetBufferLists", ad->drv, ad, irql);
        ad->drv->mp->ch.ReturnNetBufferListsHandler(
            ad->ctx, ret_head, irql == DISPATCH_LEVEL ? NDIS_RETURN_FLAGS_DISPATCH_LEVEL : 0);
        emu_cb_end(&s);
    }
}

void NdisReturnNetBufferLists(NDIS_HANDLE NdisBindingHandle, PNET_BUFFER_LIST NetBufferLists,
                              ULONG ReturnFlags)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisReturnNetBufferLists";
    if (!emu_enter(call, "nbl=%p flags=%#x", (void *)NetBufferLists, ReturnFlags))
        return;
    emu_binding *b = (emu_binding *)emu_obj_check(rt, NdisBindingHandle, K_BINDING, call);
    if (!b)
        return;
    emu_adapter *ad = b->ad;
    PNET_BUFFER_LIST back = NULL, *tail = &back;
    unsigned nback = 0;
    emu_lock(rt);
    for (PNET_BUFFER_LIST nbl = NetBufferLists; nbl; nbl = nbl->Next) {
        emu_nbl_ext *x = emu_nbl_ext_rule(rt, nbl, call, "NblReturnOnce");
        nbl_frame *t = x ? top(x) : NULL;
        if (x && (!t || t->kind != F_RECV || t->ad != ad || !(t->holders & (1ull << b->slot)))) {
            emu_violate(rt, "NblReturnOnce", call,
                        "binding %s-%s returned NBL %p that it does not hold (returned twice, "
                        "indicated with NDIS_RECEIVE_FLAGS_RESOURCES, or never indicated to it)",
                        b->prot->name, ad->instance, (void *)nbl);
            x = NULL;
        }
        if (!x) {
            emu_unlock(rt);
            return;
        }
    }
    for (PNET_BUFFER_LIST nbl = NetBufferLists, next; nbl; nbl = next) {
        next = nbl->Next;
        emu_nbl_ext *x = CONTAINING_RECORD(nbl, emu_nbl_ext, nbl);
        nbl_frame *t = top(x);
        t->holders &= ~(1ull << b->slot);
        b->recvs_held--;
        if (t->holders == 0 && !t->resources) {
            x->depth--;
            ad->recvs_out--;
            *tail = nbl;
            tail = &nbl->Next;
            nback++;
        }
    }
    *tail = NULL;
    rt->cnt.returns += nback;
    emu_broadcast(rt);
    emu_unlock(rt);
    if (back) {
        emu_cb_scope s;
        emu_cb_begin(&s, "MiniportReturnNetBufferLists", ad->drv, ad, emu_self()->irql);
        ad->drv->mp->ch.ReturnNetBufferListsHandler(ad->ctx, back, ReturnFlags);
        emu_cb_end(&s);
    }
}

/* ---- status ---- */

void NdisMIndicateStatusEx(NDIS_HANDLE MiniportAdapterHandle,
                           PNDIS_STATUS_INDICATION StatusIndication)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisMIndicateStatusEx";
    if (!emu_enter(call, "status=%#x",
                   StatusIndication ? (unsigned)StatusIndication->StatusCode : 0u))
        return;
    emu_adapter *ad = (emu_adapter *)emu_obj_check(rt, MiniportAdapterHandle, K_ADAPTER, call);
    if (!ad)
        return;
    if (!StatusIndication || StatusIndication->Header.Type != NDIS_OBJECT_TYPE_STATUS_INDICATION) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return;
    }
    emu_binding *targets[EMU_MAX_BINDINGS];
    unsigned nt = 0;
    emu_lock(rt);
    if (StatusIndication->StatusCode == NDIS_STATUS_LINK_STATE &&
        StatusIndication->StatusBufferSize >= sizeof(NDIS_LINK_STATE) &&
        StatusIndication->StatusBuffer) {
        const NDIS_LINK_STATE *ls = StatusIndication->StatusBuffer;
        bool was_up = ad->link.MediaConnectState == MediaConnectStateConnected;
        bool up = ls->MediaConnectState == MediaConnectStateConnected;
        ad->link_ups += !was_up && up;
        ad->link_downs += was_up && !up;
        ad->link = *ls;
    }
    for (int i = 0; i < EMU_MAX_BINDINGS; i++) {
        emu_binding *b = ad->bindings[i];
        if (b && b->state != B_OPENING && b->state != B_CLOSED) {
            targets[nt++] = b;
            b->delivering++;
        }
    }
    rt->cnt.status_indications++;
    emu_unlock(rt);
    StatusIndication->SourceHandle = ad;
    for (unsigned k = 0; k < nt; k++) {
        emu_cb_scope s;
        emu_cb_begin(&s, "ProtocolStatusEx", targets[k]->prot->drv, NULL, emu_self()->irql);
        targets[k]->prot->ch.StatusHandlerEx(targets[k]->ctx, StatusIndication);
        emu_cb_end(&s);
    }
    delivered(rt, targets, nt);
}

/* ---- send cancellation ---- */

/* NDIS hands the cancel to the miniport under the binding, at the caller's
 * IRQL; the miniport completes what it finds with NDIS_STATUS_SEND_ABORTED. */
void NdisCancelSendNetBufferLists(NDIS_HANDLE NdisBindingHandle, PVOID CancelId)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisCancelSendNetBufferLists";
    if (!emu_enter(call, "id=%p", CancelId))
        return;
    emu_binding *b = (emu_binding *)emu_obj_check(rt, NdisBindingHandle, K_BINDING, call);
    if (!b)
        return;
    emu_adapter *ad = b->ad;
    emu_lock(rt);
    bool live = !emu_obj_dead(&ad->obj) && ad->state != AD_HALTED && ad->ctx;
    rt->cnt.send_cancels++;
    emu_unlock(rt);
    if (!live)
        return;
    emu_cb_scope s;
    emu_cb_begin(&s, "MiniportCancelSend", ad->drv, ad, emu_self()->irql);
    ad->drv->mp->ch.CancelSendHandler(ad->ctx, CancelId);
    emu_cb_end(&s);
}

/* The high byte of a cancel ID that is unique to the caller. */
UCHAR NdisGeneratePartialCancelId(void)
{
    static unsigned next;
    if (!emu_enter("NdisGeneratePartialCancelId", "-"))
        return 0;
    return (UCHAR)(__atomic_add_fetch(&next, 1, __ATOMIC_RELAXED) & 0xff);
}
