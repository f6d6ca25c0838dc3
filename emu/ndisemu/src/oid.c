/*
 * oid.c - OID requests. NDIS serializes OID requests to a miniport: one is
 * in the miniport at a time, the rest queue. A request that pends is
 * finished by NdisMOidRequestComplete, exactly once.
 */
#include "emu_internal.h"

#include <stdlib.h>

static void finish(emu_runtime *rt, emu_adapter *ad, emu_oid_slot *sl, NDIS_STATUS st,
                   const char *call);

static void dispatch_task(emu_runtime *rt, emu_task *t)
{
    emu_oid_dispatch_next(rt, t->a);
}

/* Hands the head request to the miniport if none is in progress. */
void emu_oid_dispatch_next(emu_runtime *rt, emu_adapter *ad)
{
    emu_lock(rt);
    emu_oid_slot *sl = ad->oid_head;
    if (!sl || ad->oid_busy || ad->state == AD_HALTED) {
        emu_unlock(rt);
        return;
    }
    ad->oid_busy = true;
    ad->oid_pended = false;
    uint64_t started = ad->oid_started_ns = emu_guest_time(rt);
    emu_timed_arm(rt, ad->oid_started_ns);
    rt->cnt.oids++;
    emu_unlock(rt);
    emu_cb_scope s;
    emu_cb_begin(&s, "MiniportOidRequest", ad->drv, ad, PASSIVE_LEVEL);
    NDIS_STATUS st = ad->drv->mp->ch.OidRequestHandler(ad->ctx, sl->req);
    emu_cb_end(&s);
    if (st != NDIS_STATUS_PENDING) {
        finish(rt, ad, sl, st, "MiniportOidRequest");
        return;
    }
    /* Pending from here (ResetWithOutstanding counts only such a request):
     * unless NdisMOidRequestComplete already finished it. */
    emu_lock(rt);
    if (ad->oid_busy && ad->oid_head == sl && ad->oid_started_ns == started)
        ad->oid_pended = true;
    emu_unlock(rt);
}

void emu_oid_back_to_protocol(emu_runtime *rt, emu_binding *b)
{
    emu_lock(rt);
    b->oids_out--;
    emu_unlock(rt);
}

static void complete_to_protocol_task(emu_runtime *rt, emu_task *t)
{
    emu_oid_slot *sl = t->a;
    emu_binding *b = sl->from;
    emu_filter *f = sl->from_filter;
    emu_cb_scope s;
    if (f) {
        emu_cb_begin(&s, "FilterOidRequestComplete", f->fd->drv, NULL, PASSIVE_LEVEL);
        f->fd->ch.OidRequestCompleteHandler(f->ctx, sl->req, sl->status);
    } else {
        emu_oid_back_to_protocol(rt, b);
        emu_cb_begin(&s, "ProtocolOidRequestComplete", b->prot->drv, NULL, PASSIVE_LEVEL);
        b->prot->ch.OidRequestCompleteHandler(b->ctx, sl->req, sl->status);
    }
    emu_cb_end(&s);
    emu_tfree(sl);
}

/* OidMediaConnectStatus: OID_GEN_MEDIA_CONNECT_STATUS answers an
 * NDIS_MEDIA_STATE (NdisMediaStateConnected = 0, NdisMediaStateDisconnected
 * = 1), not an NDIS_MEDIA_CONNECT_STATE, and the one matching the link state
 * the miniport last indicated. False when it reported a violation. */
static bool media_status_ok(emu_runtime *rt, emu_adapter *ad, const NDIS_OID_REQUEST *r)
{
    if (r->RequestType != NdisRequestQueryInformation ||
        r->DATA.QUERY_INFORMATION.Oid != OID_GEN_MEDIA_CONNECT_STATUS ||
        r->DATA.QUERY_INFORMATION.BytesWritten < sizeof(ULONG) ||
        !r->DATA.QUERY_INFORMATION.InformationBuffer)
        return true;
    ULONG v;
    memcpy(&v, r->DATA.QUERY_INFORMATION.InformationBuffer, sizeof(v));
    emu_lock(rt);
    NDIS_MEDIA_CONNECT_STATE link = ad->link.MediaConnectState;
    emu_unlock(rt);
    bool ok = link == MediaConnectStateConnected      ? v == NdisMediaStateConnected
              : link == MediaConnectStateDisconnected ? v == NdisMediaStateDisconnected
                                                      : v <= NdisMediaStateDisconnected;
    if (!ok)
        emu_violate(rt, "OidMediaConnectStatus", "MiniportOidRequest",
                    "%s: OID_GEN_MEDIA_CONNECT_STATUS answered %lu with the link %s; the "
                    "answer is an NDIS_MEDIA_STATE (Connected 0, Disconnected 1)",
                    ad->instance, (unsigned long)v,
                    link == MediaConnectStateConnected      ? "connected"
                    : link == MediaConnectStateDisconnected ? "disconnected"
                                                            : "unknown");
    return ok;
}

/* NdisOidComplete's lists: a set of OID_PNP_SET_POWER completes only with
 * SUCCESS or NOT_ACCEPTED (it tells the miniport of a transition NDIS makes
 * anyway); a set of the OIDs that release something (a filter, a queue, a
 * VF, a switch, a multicast address, a wake pattern, an offload, a security
 * association, a tunnel OID) only with SUCCESS, NOT_ACCEPTED or
 * REQUEST_ABORTED. OID_PNP_QUERY_POWER: "Miniport drivers must always
 * return NDIS_STATUS_SUCCESS to this OID request. Any other return code is
 * an error" (its page). Each list is for the request type the OID is
 * defined for; any other request of these OIDs is not checked. */
static bool completion_status_allowed(const NDIS_OID_REQUEST *r, NDIS_STATUS st,
                                      const char **allowed)
{
    NDIS_OID oid = r->DATA.QUERY_INFORMATION.Oid;
    if (r->RequestType == NdisRequestQueryInformation && oid == OID_PNP_QUERY_POWER) {
        *allowed = "NDIS_STATUS_SUCCESS";
        return st == NDIS_STATUS_SUCCESS;
    }
    if (r->RequestType != NdisRequestSetInformation)
        return true;
    switch (oid) {
    case OID_PNP_SET_POWER:
        *allowed = "NDIS_STATUS_SUCCESS or NDIS_STATUS_NOT_ACCEPTED";
        return st == NDIS_STATUS_SUCCESS || st == NDIS_STATUS_NOT_ACCEPTED;
    case OID_RECEIVE_FILTER_CLEAR_FILTER:
    case OID_TCP_TASK_IPSEC_OFFLOAD_V2_DELETE_SA:
    case OID_RECEIVE_FILTER_FREE_QUEUE:
    case OID_NIC_SWITCH_FREE_VF:
    case OID_NIC_SWITCH_DELETE_SWITCH:
    case OID_802_3_DELETE_MULTICAST_ADDRESS:
    case OID_PM_REMOVE_WOL_PATTERN:
    case OID_PM_REMOVE_PROTOCOL_OFFLOAD:
    case OID_TUNNEL_INTERFACE_RELEASE_OID:
        *allowed = "NDIS_STATUS_SUCCESS, NDIS_STATUS_NOT_ACCEPTED or NDIS_STATUS_REQUEST_ABORTED";
        return st == NDIS_STATUS_SUCCESS || st == NDIS_STATUS_NOT_ACCEPTED ||
               st == NDIS_STATUS_REQUEST_ABORTED;
    default:
        return true;
    }
}

/* The head request is done: report it to its originator, start the next.
 * call: the completion (MiniportOidRequest's return, NdisMOidRequestComplete). */
static void finish(emu_runtime *rt, emu_adapter *ad, emu_oid_slot *sl, NDIS_STATUS st,
                   const char *call)
{
    const char *allowed = NULL;
    if (!completion_status_allowed(sl->req, st, &allowed)) {
        emu_violate(rt, "NdisOidComplete", call,
                    "%s: OID %#x completed with status %#x; it completes only with %s",
                    ad->instance, (unsigned)sl->req->DATA.QUERY_INFORMATION.Oid, (unsigned)st,
                    allowed);
        return;
    }
    if (st == NDIS_STATUS_SUCCESS && !media_status_ok(rt, ad, sl->req))
        return;
    emu_lock(rt);
    ad->oid_head = sl->next;
    if (!ad->oid_head)
        ad->oid_tail = NULL;
    ad->oid_busy = false;
    sl->status = st;
    sl->done = true;
    bool async = sl->queued_async && (sl->from || sl->from_filter);
    if (async)
        emu_task_post(rt, T_COMPLETION, 0, complete_to_protocol_task, sl, NULL, 0);
    if (ad->oid_head)
        emu_task_post(rt, T_COMPLETION, 0, dispatch_task, ad, NULL, 0);
    emu_broadcast(rt);
    emu_unlock(rt);
}

void NdisMOidRequestComplete(NDIS_HANDLE MiniportAdapterHandle, PNDIS_OID_REQUEST OidRequest,
                             NDIS_STATUS Status)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisMOidRequestComplete";
    if (!emu_enter(call, "req=%p status=%#x", (void *)OidRequest, (unsigned)Status))
        return;
    emu_adapter *ad = (emu_adapter *)emu_obj_check(rt, MiniportAdapterHandle, K_ADAPTER, call);
    if (!ad)
        return;
    emu_lock(rt);
    emu_oid_slot *sl = ad->oid_head;
    bool pending = sl && ad->oid_busy && sl->req == OidRequest;
    emu_unlock(rt);
    if (!pending) {
        emu_violate(rt, "DoubleComplete", call,
                    "%s: OID request %p is not pending at this miniport (completed twice, or "
                    "completed after MiniportOidRequest returned a final status)",
                    ad->instance, (void *)OidRequest);
        return;
    }
    if (Status == NDIS_STATUS_PENDING) {
        emu_violate(rt, "NdisOidComplete", call, "%s: OID %#x completed with NDIS_STATUS_PENDING",
                    ad->instance, (unsigned)OidRequest->DATA.QUERY_INFORMATION.Oid);
        return;
    }
    finish(rt, ad, sl, Status, call);
}

static bool slot_done(emu_runtime *rt, void *arg)
{
    (void)rt;
    return ((emu_oid_slot *)arg)->done;
}

/* Queues a request and, when the adapter is free, dispatches it at once.
 * Returns the final status when it finished synchronously, else PENDING. */
static NDIS_STATUS submit(emu_runtime *rt, emu_adapter *ad, emu_oid_slot *sl)
{
    emu_lock(rt);
    bool idle = ad->oid_head == NULL;
    if (ad->oid_tail)
        ad->oid_tail->next = sl;
    else
        ad->oid_head = sl;
    ad->oid_tail = sl;
    /* MiniportOidRequest runs at PASSIVE_LEVEL: a request made at a higher
     * IRQL (allowed up to DISPATCH) reaches the miniport from a worker. */
    bool now = idle && emu_self()->irql == PASSIVE_LEVEL;
    if (idle && !now)
        emu_task_post(rt, T_COMPLETION, 0, dispatch_task, ad, NULL, 0);
    emu_unlock(rt);
    if (now)
        emu_oid_dispatch_next(rt, ad);
    emu_lock(rt);
    bool done = sl->done;
    if (!done)
        sl->queued_async = true;
    emu_unlock(rt);
    return done ? sl->status : NDIS_STATUS_PENDING;
}

/* A binding's or a filter module's request reaches the miniport's queue. */
NDIS_STATUS emu_oid_to_miniport(emu_runtime *rt, emu_adapter *ad, emu_binding *b, emu_filter *f,
                                PNDIS_OID_REQUEST req)
{
    emu_oid_slot *sl = emu_talloc(sizeof(*sl));
    if (!sl)
        return NDIS_STATUS_RESOURCES;
    sl->req = req;
    sl->from = b;
    sl->from_filter = f;
    NDIS_STATUS st = submit(rt, ad, sl);
    if (st != NDIS_STATUS_PENDING)
        emu_tfree(sl); /* finished synchronously: the caller gets the status */
    return st;
}

NDIS_STATUS NdisOidRequest(NDIS_HANDLE NdisBindingHandle, PNDIS_OID_REQUEST OidRequest)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisOidRequest";
    if (!emu_enter(call, "req=%p oid=%#x", (void *)OidRequest,
                   OidRequest ? (unsigned)OidRequest->DATA.QUERY_INFORMATION.Oid : 0u))
        return NDIS_STATUS_FAILURE;
    emu_binding *b = (emu_binding *)emu_obj_check(rt, NdisBindingHandle, K_BINDING, call);
    if (!b)
        return NDIS_STATUS_INVALID_PARAMETER;
    if (!OidRequest || OidRequest->Header.Type != NDIS_OBJECT_TYPE_OID_REQUEST) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    if (!emu_reset_quiet_ok(rt, b, call, OidRequest->DATA.QUERY_INFORMATION.Oid))
        return NDIS_STATUS_RESET_IN_PROGRESS;
    emu_adapter *ad = b->ad;
    emu_lock(rt);
    NDIS_STATUS refused = ad->state == AD_HALTED || ad->surprise_removed ? NDIS_STATUS_CLOSING
                          : ad->power == 3 ? NDIS_STATUS_LOW_POWER_STATE
                                           : NDIS_STATUS_SUCCESS;
    int level = ad->n_filters;
    emu_unlock(rt);
    if (refused != NDIS_STATUS_SUCCESS)
        return refused;
    emu_lock(rt);
    b->oids_out++;
    emu_unlock(rt);
    /* Through the filter modules that take OIDs, to the miniport. */
    NDIS_STATUS st = emu_oid_down(rt, ad, level, b, NULL, OidRequest);
    if (st != NDIS_STATUS_PENDING)
        emu_oid_back_to_protocol(rt, b);
    return st;
}

void emu_oid_cancel_at_miniport(emu_runtime *rt, emu_adapter *ad, emu_binding *b, emu_filter *f,
                                PVOID RequestId)
{
    emu_lock(rt);
    bool in_miniport = ad->oid_head && ad->oid_busy && ad->oid_head->from == b &&
                       ad->oid_head->from_filter == f && ad->oid_head->req->RequestId == RequestId;
    emu_unlock(rt);
    if (in_miniport) {
        emu_cb_scope s;
        emu_cb_begin(&s, "MiniportCancelOidRequest", ad->drv, ad, PASSIVE_LEVEL);
        ad->drv->mp->ch.CancelOidRequestHandler(ad->ctx, RequestId);
        emu_cb_end(&s);
    }
}

void NdisCancelOidRequest(NDIS_HANDLE NdisBindingHandle, PVOID RequestId)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisCancelOidRequest", "id=%p", RequestId))
        return;
    emu_binding *b =
        (emu_binding *)emu_obj_check(rt, NdisBindingHandle, K_BINDING, "NdisCancelOidRequest");
    if (!b || !emu_reset_quiet_ok(rt, b, "NdisCancelOidRequest", 0))
        return;
    emu_lock(rt);
    int level = b->ad->n_filters;
    emu_unlock(rt);
    emu_oid_cancel_down(rt, b->ad, level, b, NULL, RequestId);
}

/* The runtime's own request (OID_PNP_SET_POWER): waits for it. */
NDIS_STATUS emu_oid_internal(emu_runtime *rt, emu_adapter *ad, NDIS_REQUEST_TYPE type, NDIS_OID oid,
                             void *buf, ULONG len)
{
    NDIS_OID_REQUEST *req = emu_talloc(sizeof(*req));
    emu_oid_slot *sl = emu_talloc(sizeof(*sl));
    if (!req || !sl) {
        emu_tfree(req);
        emu_tfree(sl);
        return NDIS_STATUS_RESOURCES;
    }
    EMU_INIT_HEADER(&req->Header, NDIS_OBJECT_TYPE_OID_REQUEST, NDIS_OID_REQUEST_REVISION_1,
                    NDIS_SIZEOF_OID_REQUEST_REVISION_1);
    req->RequestType = type;
    req->DATA.SET_INFORMATION.Oid = oid;
    req->DATA.SET_INFORMATION.InformationBuffer = buf;
    req->DATA.SET_INFORMATION.InformationBufferLength = len;
    sl->req = req;
    NDIS_STATUS st = submit(rt, ad, sl);
    if (st == NDIS_STATUS_PENDING) {
        if (emu_wait(rt, slot_done, sl, EMU_WAIT_NS)) {
            st = sl->status;
        } else {
            if (!emu_stopped(rt))
                emu_violate(rt, "OperationNotCompleted", "MiniportOidRequest",
                            "%s: OID %#x pended and was never completed", ad->instance,
                            (unsigned)oid);
            /* the request stays queued; freed with the adapter */
            return NDIS_STATUS_FAILURE;
        }
    }
    emu_tfree(req);
    emu_tfree(sl);
    return st;
}
