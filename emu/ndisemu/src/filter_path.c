/*
 * filter_path.c - what passes through a filter module: sends and their
 * completions, receive indications and their returns, status indications,
 * OID requests, network and device PnP events; each either passed on or
 * originated by the module. A module that leaves a handler NULL is bypassed
 * in that direction (NDIS calls the next module or driver directly).
 *
 * Ownership: every hop of an NBL is a frame (datapath.c). A module passes an
 * NBL on by sending or indicating it again (a new frame above the one that
 * brought it), and gives it back with NdisFSendNetBufferListsComplete or
 * NdisFReturnNetBufferLists; what it originates carries its own handle as
 * SourceHandle and comes back to it alone.
 */
#include "emu_internal.h"

#include <stdlib.h>

emu_filter *emu_filter_send_target(emu_adapter *ad, int level)
{
    for (int i = level - 1; i >= 0; i--) {
        if (ad->filters[i]->send && ad->filters[i]->state != F_DETACHED)
            return ad->filters[i];
    }
    return NULL;
}

emu_filter *emu_filter_recv_target(emu_adapter *ad, int level)
{
    for (int i = level; i < ad->n_filters; i++) {
        if (ad->filters[i]->receive && ad->filters[i]->state != F_DETACHED)
            return ad->filters[i];
    }
    return NULL;
}

static emu_filter *module_arg(NDIS_HANDLE h, const char *call)
{
    return (emu_filter *)emu_obj_check(emu_rt, h, K_FILTER_MODULE, call);
}

static const char *f_state_name(f_state st)
{
    static const char *const names[] = { "attaching", "paused",  "restarting",
                                         "running",   "pausing", "detached" };
    return names[st];
}

/* ---- send ---- */

/* rt->mu held. A module's send: it must be running (a pausing module may
 * still pass on what it was given, but originates nothing: the stricter
 * reading of "Filter Module States and Operations"); each NBL is either
 * one sent to it (passed on) or its own (SourceHandle = its handle). */
static unsigned fsend_admit(emu_runtime *rt, emu_filter *f, PNET_BUFFER_LIST chain,
                            const char *call)
{
    unsigned n = 0;
    for (PNET_BUFFER_LIST nbl = chain; nbl; nbl = nbl->Next) {
        emu_nbl_ext *x = emu_nbl_ext_of(rt, nbl, call);
        if (!x)
            return 0;
        nbl_frame *t = x->depth ? &x->fr[x->depth - 1] : NULL;
        bool passed = t && t->kind == F_SEND && t->to == f;
        if (f->state != F_RUNNING && !(passed && f->state == F_PAUSING)) {
            emu_violate(rt, "FilterPausedNoSend", call,
                        "%s over %s is %s: a filter module sends only while running (and "
                        "while pausing passes on only what it was given)",
                        f->fd->name, f->ad->instance, f_state_name(f->state));
            return 0;
        }
        if (!passed && t && t->kind == F_SEND) {
            emu_violate(rt, "NblSendCompleteOnce", call,
                        "%s: NBL %p is still owned by %s (sent and not completed)", f->fd->name,
                        (void *)nbl, t->to ? t->to->fd->name : t->ad->instance);
            return 0;
        }
        if (!passed && nbl->SourceHandle != (NDIS_HANDLE)f) {
            emu_violate(rt, "NblSourceHandle", call,
                        "%s: NBL %p it originates has SourceHandle %p; a filter sets it to its "
                        "NdisFilterHandle %p",
                        f->fd->name, (void *)nbl, nbl->SourceHandle, (void *)f);
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

void NdisFSendNetBufferLists(NDIS_HANDLE NdisFilterHandle, PNET_BUFFER_LIST NetBufferList,
                             NDIS_PORT_NUMBER PortNumber, ULONG SendFlags)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisFSendNetBufferLists";
    if (!emu_enter(call, "nbl=%p flags=%#x", (void *)NetBufferList, SendFlags) ||
        !EMU_DISPATCH_FLAG_OK(call, SendFlags, NDIS_SEND_FLAGS_DISPATCH_LEVEL))
        return;
    emu_filter *f = module_arg(NdisFilterHandle, call);
    if (!f)
        return;
    emu_lock(rt);
    unsigned n = fsend_admit(rt, f, NetBufferList, call);
    int level = emu_filter_level(f);
    emu_unlock(rt);
    if (n)
        emu_send_down(rt, f->ad, level, NULL, f, NetBufferList, n, PortNumber, SendFlags);
}

void NdisFSendNetBufferListsComplete(NDIS_HANDLE NdisFilterHandle, PNET_BUFFER_LIST NetBufferList,
                                     ULONG SendCompleteFlags)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisFSendNetBufferListsComplete";
    if (!emu_enter(call, "nbl=%p flags=%#x", (void *)NetBufferList, SendCompleteFlags) ||
        !EMU_DISPATCH_FLAG_OK(call, SendCompleteFlags, NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL))
        return;
    emu_filter *f = module_arg(NdisFilterHandle, call);
    if (!f)
        return;
    emu_lock(rt);
    bool valid = emu_send_complete_valid(rt, f->ad, f, NetBufferList, call);
    emu_unlock(rt);
    if (valid)
        emu_send_complete_runs(rt, f->ad, false, NetBufferList, SendCompleteFlags);
}

void NdisFCancelSendNetBufferLists(NDIS_HANDLE NdisFilterHandle, PVOID CancelId)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisFCancelSendNetBufferLists", "id=%p", CancelId))
        return;
    emu_filter *f = module_arg(NdisFilterHandle, "NdisFCancelSendNetBufferLists");
    if (!f)
        return;
    emu_lock(rt);
    int level = emu_filter_level(f);
    emu_unlock(rt);
    if (level >= 0)
        emu_cancel_send_down(rt, f->ad, level, CancelId);
}

/* ---- receive ---- */

void NdisFIndicateReceiveNetBufferLists(NDIS_HANDLE NdisFilterHandle,
                                        PNET_BUFFER_LIST NetBufferLists,
                                        NDIS_PORT_NUMBER PortNumber, ULONG NumberOfNetBufferLists,
                                        ULONG ReceiveFlags)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisFIndicateReceiveNetBufferLists";
    if (!emu_enter(call, "nbl=%p n=%u flags=%#x", (void *)NetBufferLists, NumberOfNetBufferLists,
                   ReceiveFlags) ||
        !EMU_DISPATCH_FLAG_OK(call, ReceiveFlags, NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL))
        return;
    emu_filter *f = module_arg(NdisFilterHandle, call);
    if (!f)
        return;
    PNET_BUFFER_LIST list[256];
    unsigned n = 0;
    emu_lock(rt);
    if (!emu_indicate_list(rt, f->ad, f, NetBufferLists, NumberOfNetBufferLists, list, &n, call)) {
        emu_unlock(rt);
        return;
    }
    /* Running: anything; pausing: only what the module was given (the
     * stricter reading, as for sends); paused: nothing. */
    for (unsigned i = 0; i < n; i++) {
        emu_nbl_ext *x = CONTAINING_RECORD(list[i], emu_nbl_ext, nbl);
        nbl_frame *t = x->depth ? &x->fr[x->depth - 1] : NULL;
        bool passed = t && t->kind == F_RECV && t->to == f;
        if (f->state != F_RUNNING && !(passed && f->state == F_PAUSING)) {
            emu_violate(rt, "FilterPausedNoIndicate", call,
                        "%s over %s is %s: a filter module indicates receives only while "
                        "running (and while pausing passes on only what it was given)",
                        f->fd->name, f->ad->instance, f_state_name(f->state));
            emu_unlock(rt);
            return;
        }
    }
    emu_indicate_up(rt, f->ad, f, list, n, PortNumber, ReceiveFlags); /* drops rt->mu */
}

void NdisFReturnNetBufferLists(NDIS_HANDLE NdisFilterHandle, PNET_BUFFER_LIST NetBufferLists,
                               ULONG ReturnFlags)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisFReturnNetBufferLists";
    if (!emu_enter(call, "nbl=%p flags=%#x", (void *)NetBufferLists, ReturnFlags) ||
        !EMU_DISPATCH_FLAG_OK(call, ReturnFlags, NDIS_RETURN_FLAGS_DISPATCH_LEVEL))
        return;
    emu_filter *f = module_arg(NdisFilterHandle, call);
    if (!f)
        return;
    emu_lock(rt);
    bool ok = emu_return_take(rt, f->ad, NULL, f, NetBufferLists, call);
    emu_unlock(rt);
    if (ok)
        emu_return_runs(rt, f->ad, NULL, f, NetBufferLists, ReturnFlags);
}

/* ---- status ---- */

void NdisFIndicateStatus(NDIS_HANDLE NdisFilterHandle, PNDIS_STATUS_INDICATION StatusIndication)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisFIndicateStatus";
    if (!emu_enter(call, "status=%#x",
                   StatusIndication ? (unsigned)StatusIndication->StatusCode : 0u))
        return;
    emu_filter *f = module_arg(NdisFilterHandle, call);
    if (!f)
        return;
    if (!StatusIndication || StatusIndication->Header.Type != NDIS_OBJECT_TYPE_STATUS_INDICATION) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return;
    }
    emu_status_up(rt, f->ad, f, StatusIndication);
}

/* ---- OID requests ---- */

static emu_filter_oid *oid_slot(emu_filter *f, PNDIS_OID_REQUEST req)
{
    for (int i = 0; i < EMU_FILTER_OIDS; i++) {
        if (f->oids[i].req == req)
            return &f->oids[i];
    }
    return NULL;
}

typedef struct oid_done {
    emu_filter_oid o;
} oid_done;

/* The request is done in module f: tell its originator (later, from a
 * worker, as NDIS completes pended requests). */
static void oid_complete_task(emu_runtime *rt, emu_task *t)
{
    oid_done *d = t->a;
    emu_cb_scope s;
    if (d->o.up) {
        emu_cb_begin(&s, "FilterOidRequestComplete", d->o.up->fd->drv, NULL, PASSIVE_LEVEL);
        d->o.up->fd->ch.OidRequestCompleteHandler(d->o.up->ctx, d->o.req, d->o.status);
    } else {
        emu_oid_back_to_protocol(rt, d->o.b);
        emu_cb_begin(&s, "ProtocolOidRequestComplete", d->o.b->prot->drv, NULL, PASSIVE_LEVEL);
        d->o.b->prot->ch.OidRequestCompleteHandler(d->o.b->ctx, d->o.req, d->o.status);
    }
    emu_cb_end(&s);
    emu_tfree(d);
}

/* rt->mu held. Frees the slot and posts its completion. */
static void oid_finish(emu_runtime *rt, emu_filter_oid *o)
{
    oid_done *d = emu_talloc(sizeof(*d));
    if (d) {
        d->o = *o;
        emu_task_post(rt, T_COMPLETION, 0, oid_complete_task, d, NULL, 0);
    }
    memset(o, 0, sizeof(*o));
}

static NDIS_STATUS oid_to_filter(emu_runtime *rt, emu_filter *f, emu_binding *b, emu_filter *up,
                                 PNDIS_OID_REQUEST req)
{
    emu_lock(rt);
    emu_filter_oid *o = oid_slot(f, NULL);
    if (o) {
        o->req = req;
        o->b = b;
        o->up = up;
    }
    emu_unlock(rt);
    if (!o)
        return NDIS_STATUS_RESOURCES;
    emu_cb_scope s;
    emu_cb_begin(&s, "FilterOidRequest", f->fd->drv, NULL, emu_self()->irql);
    NDIS_STATUS st = f->fd->ch.OidRequestHandler(f->ctx, req);
    emu_cb_end(&s);
    emu_lock(rt);
    if (st != NDIS_STATUS_PENDING) {
        if (o->completed)
            emu_violate(rt, "FilterOidComplete", "FilterOidRequest",
                        "%s over %s: returned %#x for an OID request it also completed with "
                        "NdisFOidRequestComplete",
                        f->fd->name, f->ad->instance, (unsigned)st);
        memset(o, 0, sizeof(*o));
    } else {
        o->returned_pending = true;
        if (o->completed)
            oid_finish(rt, o);
    }
    emu_unlock(rt);
    return st;
}

NDIS_STATUS emu_oid_down(emu_runtime *rt, emu_adapter *ad, int level, emu_binding *b,
                         emu_filter *up, PNDIS_OID_REQUEST req)
{
    emu_lock(rt);
    emu_filter *to = NULL;
    for (int i = level - 1; i >= 0 && !to; i--) {
        emu_filter *f = ad->filters[i];
        if (f->fd->ch.OidRequestHandler && f->state != F_DETACHED && f->state != F_ATTACHING)
            to = f;
    }
    emu_unlock(rt);
    return to ? oid_to_filter(rt, to, b, up, req) : emu_oid_to_miniport(rt, ad, b, up, req);
}

NDIS_STATUS NdisFOidRequest(NDIS_HANDLE NdisFilterHandle, PNDIS_OID_REQUEST OidRequest)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisFOidRequest";
    if (!emu_enter(call, "req=%p oid=%#x", (void *)OidRequest,
                   OidRequest ? (unsigned)OidRequest->DATA.QUERY_INFORMATION.Oid : 0u))
        return NDIS_STATUS_FAILURE;
    emu_filter *f = module_arg(NdisFilterHandle, call);
    if (!f)
        return NDIS_STATUS_INVALID_PARAMETER;
    if (!OidRequest || OidRequest->Header.Type != NDIS_OBJECT_TYPE_OID_REQUEST) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    emu_adapter *ad = f->ad;
    emu_lock(rt);
    NDIS_STATUS refused = ad->state == AD_HALTED || ad->surprise_removed ? NDIS_STATUS_CLOSING
                          : ad->power == 3 ? NDIS_STATUS_LOW_POWER_STATE
                                           : NDIS_STATUS_SUCCESS;
    int level = emu_filter_level(f);
    emu_unlock(rt);
    if (refused != NDIS_STATUS_SUCCESS)
        return refused;
    return emu_oid_down(rt, ad, level, NULL, f, OidRequest);
}

void NdisFOidRequestComplete(NDIS_HANDLE NdisFilterHandle, PNDIS_OID_REQUEST OidRequest,
                             NDIS_STATUS Status)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisFOidRequestComplete";
    if (!emu_enter(call, "req=%p status=%#x", (void *)OidRequest, (unsigned)Status))
        return;
    emu_filter *f = module_arg(NdisFilterHandle, call);
    if (!f)
        return;
    emu_lock(rt);
    emu_filter_oid *o = OidRequest ? oid_slot(f, OidRequest) : NULL;
    if (!o || o->completed) {
        emu_violate(rt, "FilterOidComplete", call,
                    "%s over %s: OID request %p is not pending in this module (completed twice, "
                    "after FilterOidRequest returned a final status, or never given to it; a "
                    "filter completes the request it got, not its clone)",
                    f->fd->name, f->ad->instance, (void *)OidRequest);
    } else if (Status == NDIS_STATUS_PENDING) {
        emu_violate(rt, "FilterOidComplete", call,
                    "%s over %s: OID request completed with NDIS_STATUS_PENDING", f->fd->name,
                    f->ad->instance);
    } else {
        o->completed = true;
        o->status = Status;
        if (o->returned_pending)
            oid_finish(rt, o);
    }
    emu_unlock(rt);
}

/* A cancel goes to the module holding the request, else on down. */
void emu_oid_cancel_down(emu_runtime *rt, emu_adapter *ad, int level, emu_binding *b,
                         emu_filter *up, PVOID RequestId)
{
    emu_filter *holder = NULL;
    emu_lock(rt);
    for (int i = level - 1; i >= 0 && !holder; i--) {
        emu_filter *f = ad->filters[i];
        for (int k = 0; k < EMU_FILTER_OIDS; k++) {
            emu_filter_oid *o = &f->oids[k];
            if (o->req && o->b == b && o->up == up && o->req->RequestId == RequestId)
                holder = f;
        }
    }
    emu_unlock(rt);
    if (!holder) {
        emu_oid_cancel_at_miniport(rt, ad, b, up, RequestId);
        return;
    }
    if (!holder->fd->ch.CancelOidRequestHandler)
        return;
    emu_cb_scope s;
    emu_cb_begin(&s, "FilterCancelOidRequest", holder->fd->drv, NULL, emu_self()->irql);
    holder->fd->ch.CancelOidRequestHandler(holder->ctx, RequestId);
    emu_cb_end(&s);
}

void NdisFCancelOidRequest(NDIS_HANDLE NdisFilterHandle, PVOID RequestId)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisFCancelOidRequest", "id=%p", RequestId))
        return;
    emu_filter *f = module_arg(NdisFilterHandle, "NdisFCancelOidRequest");
    if (!f)
        return;
    emu_lock(rt);
    int level = emu_filter_level(f);
    emu_unlock(rt);
    if (level >= 0)
        emu_oid_cancel_down(rt, f->ad, level, NULL, f, RequestId);
}

/* A copy of the request for a filter to pass down; NDIS's own memory,
 * charged to the driver that asked (freed with NdisFreeCloneOidRequest). */
NDIS_STATUS NdisAllocateCloneOidRequest(NDIS_HANDLE SourceHandle, PNDIS_OID_REQUEST OidRequest,
                                        UINT PoolTag, PNDIS_OID_REQUEST *ClonedOidRequest)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisAllocateCloneOidRequest";
    if (!emu_enter(call, "req=%p", (void *)OidRequest))
        return NDIS_STATUS_FAILURE;
    if (!emu_handle_kind(rt, SourceHandle, EMU_HK(K_FILTER_MODULE) | EMU_HK(K_BINDING), call))
        return NDIS_STATUS_INVALID_PARAMETER;
    if (!OidRequest || !ClonedOidRequest) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    emu_adapter *ad;
    emu_driver *drv = emu_handle_driver(SourceHandle, &ad);
    PNDIS_OID_REQUEST c = emu_talloc(sizeof(*c));
    if (!c)
        return NDIS_STATUS_RESOURCES;
    *c = *OidRequest;
    memset(c->SourceReserved, 0, sizeof(c->SourceReserved));
    emu_lock(rt);
    emu_charge(rt, drv, NULL, PoolTag, (int64_t)sizeof(*c), 1);
    emu_unlock(rt);
    *ClonedOidRequest = c;
    return NDIS_STATUS_SUCCESS;
}

void NdisFreeCloneOidRequest(NDIS_HANDLE SourceHandle, PNDIS_OID_REQUEST Request)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisFreeCloneOidRequest";
    if (!emu_enter(call, "req=%p", (void *)Request))
        return;
    if (!emu_handle_kind(rt, SourceHandle, EMU_HK(K_FILTER_MODULE) | EMU_HK(K_BINDING), call))
        return;
    if (!Request) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return;
    }
    emu_adapter *ad;
    emu_driver *drv = emu_handle_driver(SourceHandle, &ad);
    emu_lock(rt);
    emu_charge(rt, drv, NULL, 0, -(int64_t)sizeof(*Request), -1);
    emu_unlock(rt);
    emu_tfree(Request);
}

/* ---- network and device PnP events ---- */

NDIS_STATUS emu_stack_net_pnp(emu_runtime *rt, emu_adapter *ad, int level, NET_PNP_EVENT_CODE code,
                              void *buf, ULONG len)
{
    emu_filter *to = NULL;
    emu_lock(rt);
    for (int i = level; i < ad->n_filters && !to; i++) {
        if (ad->filters[i]->fd->ch.NetPnPEventHandler)
            to = ad->filters[i];
    }
    emu_unlock(rt);
    if (!to) {
        for (int i = 0; i < EMU_MAX_BINDINGS && !emu_stopped(rt); i++) {
            if (ad->bindings[i])
                emu_binding_pnp(rt, ad->bindings[i], code, buf, len);
        }
        return NDIS_STATUS_SUCCESS;
    }
    NET_PNP_EVENT_NOTIFICATION n;
    memset(&n, 0, sizeof(n));
    EMU_INIT_HEADER(&n.Header, NDIS_OBJECT_TYPE_DEFAULT, NET_PNP_EVENT_NOTIFICATION_REVISION_1,
                    sizeof(n));
    n.NetPnPEvent.NetEvent = code;
    n.NetPnPEvent.Buffer = buf;
    n.NetPnPEvent.BufferLength = buf ? len : 0;
    emu_cb_scope s;
    emu_cb_begin(&s, "FilterNetPnPEvent", to->fd->drv, NULL, PASSIVE_LEVEL);
    NDIS_STATUS st = to->fd->ch.NetPnPEventHandler(to->ctx, &n);
    emu_cb_end(&s);
    return st;
}

NDIS_STATUS NdisFNetPnPEvent(NDIS_HANDLE NdisFilterHandle,
                             PNET_PNP_EVENT_NOTIFICATION NetPnPEventNotification)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisFNetPnPEvent", "-"))
        return NDIS_STATUS_FAILURE;
    emu_filter *f = module_arg(NdisFilterHandle, "NdisFNetPnPEvent");
    if (!f || !NetPnPEventNotification)
        return NDIS_STATUS_INVALID_PARAMETER;
    emu_lock(rt);
    int level = emu_filter_level(f);
    emu_unlock(rt);
    const NET_PNP_EVENT *ev = &NetPnPEventNotification->NetPnPEvent;
    return emu_stack_net_pnp(rt, f->ad, level + 1, ev->NetEvent, ev->Buffer, ev->BufferLength);
}

void emu_stack_device_pnp(emu_runtime *rt, emu_adapter *ad, int level, PNET_DEVICE_PNP_EVENT ev)
{
    emu_filter *to = NULL;
    emu_lock(rt);
    for (int i = level - 1; i >= 0 && !to; i--) {
        if (ad->filters[i]->fd->ch.DevicePnPEventNotifyHandler)
            to = ad->filters[i];
    }
    emu_unlock(rt);
    emu_cb_scope s;
    if (to) {
        emu_cb_begin(&s, "FilterDevicePnPEventNotify", to->fd->drv, NULL, PASSIVE_LEVEL);
        to->fd->ch.DevicePnPEventNotifyHandler(to->ctx, ev);
    } else {
        emu_cb_begin(&s, "MiniportDevicePnPEventNotify", ad->drv, ad, PASSIVE_LEVEL);
        ad->drv->mp->ch.DevicePnPEventNotifyHandler(ad->ctx, ev);
    }
    emu_cb_end(&s);
}

void NdisFDevicePnPEventNotify(NDIS_HANDLE NdisFilterHandle,
                               PNET_DEVICE_PNP_EVENT NetDevicePnPEvent)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisFDevicePnPEventNotify", "-"))
        return;
    emu_filter *f = module_arg(NdisFilterHandle, "NdisFDevicePnPEventNotify");
    if (!f || !NetDevicePnPEvent)
        return;
    emu_lock(rt);
    int level = emu_filter_level(f);
    emu_unlock(rt);
    emu_stack_device_pnp(rt, f->ad, level, NetDevicePnPEvent);
}
