/*
 * pt_bind.c - the protocol edge's bindings: bind (open, ask the candidate for
 * its burned-in MAC, let lib/failover decide, close again when refused),
 * unbind and close, and the orphaning of a VF whose vfo adapter halts first.
 *
 * A bind is asynchronous from the first pending NDIS call on: each step
 * either finishes inline or continues from its completion callback, and the
 * bind handler returns the final status or PENDING (vfo_pend). Nothing waits.
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "pt_bind.tmh"
#endif

static void decide(vfo_binding *b);
static void unbind_finish(vfo_binding *b);

/* The binding's pair with g_vfo.lock held, or NULL (lock released) when it
 * has none: still deciding, orphaned, or detached. */
vfo_adapter *vfo_binding_pair_locked(vfo_binding *b)
{
    vfo_lock();
    vfo_adapter *ad = vfo_get(&b->orphan) ? NULL : b->ad;
    if (ad && ad->registered)
        return ad;
    vfo_unlock();
    return NULL;
}

static void binding_free(vfo_binding *b)
{
    vfo_lock();
    RemoveEntryList(&b->entry);
    vfo_unlock();
    if (b->work)
        NdisFreeIoWorkItem(b->work);
    vfo_free(g_vfo.protocol, b, VFO_TAG_BINDING);
}

static void rss_caps_from_ndis(const NDIS_RECEIVE_SCALE_CAPABILITIES *c, fo_rss_caps *out)
{
    NdisZeroMemory(out, sizeof(*out));
    if (!c || c->NumberOfReceiveQueues == 0)
        return;
    if (c->CapabilitiesFlags & NDIS_RSS_CAPS_HASH_TYPE_TCP_IPV4)
        out->hash_types |= FO_RSS_HASH_IPV4 | FO_RSS_HASH_TCP_IPV4;
    if (c->CapabilitiesFlags & NDIS_RSS_CAPS_HASH_TYPE_TCP_IPV6)
        out->hash_types |= FO_RSS_HASH_IPV6 | FO_RSS_HASH_TCP_IPV6;
    if (c->CapabilitiesFlags & NDIS_RSS_CAPS_HASH_TYPE_TCP_IPV6_EX)
        out->hash_types |= FO_RSS_HASH_IPV6_EX | FO_RSS_HASH_TCP_IPV6_EX;
    out->queues = (uint16_t)(c->NumberOfReceiveQueues > 0xFFFF ? 0xFFFF : c->NumberOfReceiveQueues);
    out->table_max = c->Header.Revision >= NDIS_RECEIVE_SCALE_CAPABILITIES_REVISION_2
                         ? c->NumberOfIndirectionTableEntries
                         : FO_RSS_TABLE_MAX;
}

/* What the engine needs to know about a candidate, from its bind parameters.
 * The permanent MAC is not among them: it is queried once the binding is open. */
static void describe(vfo_binding *b, const NDIS_BIND_PARAMETERS *bp)
{
    fo_adapter_desc *d = &b->desc;
    bool eth = bp->MediaType == NdisMedium802_3 && bp->MacAddressLength == 6;
    if (bp->MacAddressLength == 6) {
        NdisMoveMemory(d->current_mac, bp->CurrentMacAddress, 6);
        NdisMoveMemory(d->permanent_mac, bp->CurrentMacAddress, 6);
    }
    d->net_luid = bp->BoundIfNetluid.Value;
    d->media = eth ? FO_MEDIA_ETHERNET : FO_MEDIA_OTHER;
    d->mtu = bp->MtuSize;
    if (bp->DefaultOffloadConfiguration)
        vfo_offload_from_ndis(bp->DefaultOffloadConfiguration, &d->caps.offload);
    rss_caps_from_ndis(bp->RcvScaleCapabilities, &d->caps.rss);
    d->link.up = bp->MediaConnectState == MediaConnectStateConnected;
    d->link.speed_bps = bp->XmitLinkSpeed == NDIS_LINK_SPEED_UNKNOWN ? 0 : bp->XmitLinkSpeed;

    vfo_guid_from_name(bp->AdapterName, &b->id.guid);
    b->id.net_luid = bp->BoundIfNetluid.Value;
    b->id.if_index = bp->BoundIfIndex;
    NdisMoveMemory(b->id.current_mac, d->current_mac, 6);
    NdisMoveMemory(b->id.permanent_mac, d->permanent_mac, 6);
}

static vfo_binding *binding_new(NDIS_HANDLE bind_ctx, const NDIS_BIND_PARAMETERS *bp)
{
    vfo_binding *b = vfo_alloc(g_vfo.protocol, sizeof(*b), VFO_TAG_BINDING);
    if (!b)
        return NULL;
    /* Not the protocol handle: NDIS associates no driver object with it and
     * NdisAllocateIoWorkItem takes only a miniport's (or a filter's or an
     * NdisRegisterDeviceEx) handle. The miniport driver handle outlives every
     * binding (the protocol deregisters first at unload) and exists with or
     * without a vfo adapter, so a VF bound before any vfo adapter works. */
    b->work = NdisAllocateIoWorkItem(g_vfo.mp_driver);
    if (!b->work) {
        vfo_free(g_vfo.protocol, b, VFO_TAG_BINDING);
        return NULL;
    }
    b->bind_ctx = bind_ctx;
    b->refused = FO_R_OK;
    describe(b, bp);
    vfo_lock();
    InsertTailList(&g_vfo.bindings, &b->entry);
    vfo_unlock();
    return b;
}

/* One of our own adapters (binding to ourselves would recurse), or not
 * Ethernet: refused without even opening it. */
static bool worth_opening(const vfo_binding *b)
{
    bool own = false;
    if (b->desc.media != FO_MEDIA_ETHERNET)
        return false;
    vfo_lock();
    for (LIST_ENTRY *e = g_vfo.adapters.Flink; e != &g_vfo.adapters; e = e->Flink) {
        const vfo_adapter *ad = CONTAINING_RECORD(e, vfo_adapter, entry);
        if (b->desc.net_luid != 0 && ad->luid.Value == b->desc.net_luid)
            own = true;
    }
    vfo_unlock();
    return !own;
}

/* PASSIVE_LEVEL. The bind is over: report it, the last of handler and
 * operation to get here does (vfo_pend). A refused binding is freed. */
static void bind_finish(vfo_binding *b, NDIS_STATUS status)
{
    if (status != NDIS_STATUS_SUCCESS)
        VFO_INFO("bind refused: %s (%#x)", fo_reason_name(b->refused), (unsigned)status);
    if (vfo_pend_done(&b->bind_pend, status)) {
        NdisCompleteBindAdapterEx(b->bind_ctx, status);
        if (status != NDIS_STATUS_SUCCESS)
            binding_free(b);
    }
}

/* ------------------------------------------------------------------------ */
/* OID requests on a binding                                                */

/* Issues an OID whose slot the caller claimed and counted in oids_out. */
void vfo_binding_oid_issue(vfo_binding *b, vfo_oid_slot *s, NDIS_REQUEST_TYPE type, NDIS_OID oid,
                           ULONG len)
{
    NdisZeroMemory(&s->req, sizeof(s->req));
    VFO_INIT_HEADER(&s->req.Header, NDIS_OBJECT_TYPE_OID_REQUEST, NDIS_OID_REQUEST_REVISION_1,
                    NDIS_SIZEOF_OID_REQUEST_REVISION_1);
    s->req.RequestType = type;
    s->req.RequestId = s;
    if (type == NdisRequestSetInformation) {
        s->req.DATA.SET_INFORMATION.Oid = oid;
        s->req.DATA.SET_INFORMATION.InformationBuffer = s->buf;
        s->req.DATA.SET_INFORMATION.InformationBufferLength = len;
    } else {
        s->req.DATA.QUERY_INFORMATION.Oid = oid;
        s->req.DATA.QUERY_INFORMATION.InformationBuffer = s->buf;
        s->req.DATA.QUERY_INFORMATION.InformationBufferLength = len;
    }
    NDIS_STATUS st = NdisOidRequest(b->handle, &s->req);
    if (st != NDIS_STATUS_PENDING)
        vfo_binding_oid_done(b, s, st);
}

/* oids_out keeps the binding open until the completion (vfo_binding_close). */
void vfo_binding_oid(vfo_binding *b, vfo_oid_slot *s, NDIS_REQUEST_TYPE type, NDIS_OID oid,
                     ULONG len)
{
    vfo_lock();
    b->oids_out++;
    vfo_unlock();
    vfo_binding_oid_issue(b, s, type, oid, len);
}

static void permanent_address_done(vfo_binding *b, vfo_oid_slot *s, NDIS_STATUS st)
{
    if (st == NDIS_STATUS_SUCCESS && s->req.DATA.QUERY_INFORMATION.BytesWritten == 6) {
        NdisMoveMemory(b->desc.permanent_mac, s->buf, 6);
        NdisMoveMemory(b->id.permanent_mac, s->buf, 6);
    } else {
        VFO_WARN("candidate did not report its permanent address (%#x): pairing on the "
                 "current one",
                 (unsigned)st);
    }
}

static void oid_dispatch(vfo_binding *b, vfo_oid_slot *s, vfo_oid_use use, NDIS_STATUS st);

static NDIS_IO_WORKITEM_FUNCTION close_work;
static void close_work(PVOID ctx, NDIS_HANDLE work)
{
    (void)work;
    vfo_binding_close(ctx);
}

/* The slot stays claimed while its answer is read (oid_dispatch): freed
 * first, another thread (CheckForHang's statistics sample) could claim it
 * and overwrite the buffer being read. The replay slot is the exception:
 * vfo_binding_replay_done frees it itself, before the answer that may
 * issue the next step into it. A statistics query asked for while
 * the slot was busy goes out once it is free, before this request's count
 * drops (so a close waits for it). */
void vfo_binding_oid_done(vfo_binding *b, vfo_oid_slot *s, NDIS_STATUS status)
{
    vfo_oid_use use = s->use;
    oid_dispatch(b, s, use, status);
    vfo_lock();
    if (use != VFO_OID_REPLAY)
        s->use = VFO_OID_FREE;
    bool again = s == &b->stats && b->stats_again;
    if (again)
        b->stats_again = false;
    vfo_unlock();
    if (again)
        vfo_binding_query_stats(b);
    vfo_lock();
    bool close = --b->oids_out == 0 && b->close_wanted;
    if (close)
        b->close_wanted = false;
    vfo_unlock();
    if (close)
        vfo_run_passive(b->work, close_work, b);
}

static NDIS_IO_WORKITEM_FUNCTION decide_work;
static void decide_work(PVOID ctx, NDIS_HANDLE work)
{
    (void)work;
    decide(ctx);
}

static void oid_dispatch(vfo_binding *b, vfo_oid_slot *s, vfo_oid_use use, NDIS_STATUS st)
{
    switch (use) {
    case VFO_OID_PERMANENT_ADDRESS:
        permanent_address_done(b, s, st);
        vfo_run_passive(b->work, decide_work, b);
        break;
    case VFO_OID_REPLAY:
        vfo_binding_replay_done(b, s, st);
        break;
    case VFO_OID_STATS:
        vfo_binding_stats_done(b, s, st);
        break;
    default:
        VFO_ERR("OID completion for a free slot");
        break;
    }
}

void PtOidRequestComplete(NDIS_HANDLE ctx, PNDIS_OID_REQUEST req, NDIS_STATUS status)
{
    vfo_binding *b = ctx;
    vfo_oid_slot *s = CONTAINING_RECORD(req, vfo_oid_slot, req);
    vfo_binding_oid_done(b, s, status);
}

/* ------------------------------------------------------------------------ */
/* Bind                                                                     */

static void opened(vfo_binding *b, NDIS_STATUS st)
{
    if (st != NDIS_STATUS_SUCCESS) {
        VFO_WARN("NdisOpenAdapterEx failed %#x", (unsigned)st);
        b->handle = NULL;
        b->refused = FO_R_OPEN_FAILED;
        bind_finish(b, st);
        return;
    }
    b->step = VFO_BS_QUERYING;
    b->stats.use = VFO_OID_PERMANENT_ADDRESS;
    vfo_binding_oid(b, &b->stats, NdisRequestQueryInformation, OID_802_3_PERMANENT_ADDRESS, 6);
}

void PtOpenAdapterCompleteEx(NDIS_HANDLE ctx, NDIS_STATUS status)
{
    opened(ctx, status);
}

static void open_candidate(vfo_binding *b, PNDIS_STRING name)
{
    NDIS_MEDIUM medium = NdisMedium802_3;
    NDIS_OPEN_PARAMETERS op;
    NdisZeroMemory(&op, sizeof(op));
    VFO_INIT_HEADER(&op.Header, NDIS_OBJECT_TYPE_OPEN_PARAMETERS, NDIS_OPEN_PARAMETERS_REVISION_1,
                    NDIS_SIZEOF_OPEN_PARAMETERS_REVISION_1);
    op.AdapterName = name;
    op.MediumArray = &medium;
    op.MediumArraySize = 1;
    op.SelectedMediumIndex = &b->medium;
    b->step = VFO_BS_OPENING;
    NDIS_STATUS st = NdisOpenAdapterEx(g_vfo.protocol, b, &op, b->bind_ctx, &b->handle);
    if (st != NDIS_STATUS_PENDING)
        opened(b, st);
}

/* The vfo adapter a refused candidate would have paired with (its MAC), for
 * the control device's refusal list; NULL when none carries it. */
static vfo_adapter *matching_adapter_locked(const vfo_binding *b)
{
    for (LIST_ENTRY *e = g_vfo.adapters.Flink; e != &g_vfo.adapters; e = e->Flink) {
        vfo_adapter *ad = CONTAINING_RECORD(e, vfo_adapter, entry);
        if (NdisEqualMemory(ad->perm_mac, b->desc.permanent_mac, 6) ||
            (ad->cfg.match_current_mac && NdisEqualMemory(ad->perm_mac, b->desc.current_mac, 6)))
            return ad;
    }
    return NULL;
}

static void refused(vfo_binding *b, fo_reason why)
{
    vfo_adapter *match = matching_adapter_locked(b);
    if (match && match->luid.Value == b->desc.net_luid) {
        /* vfoprot was offered vfo's own adapter (its MAC is its own): no candidate. */
    } else if (match && why != FO_R_NO_MATCHING_STANDBY) {
        vfo_refusal_record_locked(match, b, why);
        vfo_count(&match->ctr.refusals, 1);
    } else {
        g_vfo.unmatched_binds++;
    }
    vfo_unlock();
    vfo_ctl_flush();
    b->refused = why;
    b->refuse_status =
        why == FO_R_NOT_ETHERNET ? NDIS_STATUS_UNSUPPORTED_MEDIA : NDIS_STATUS_NOT_SUPPORTED;
    if (b->handle) {
        b->step = VFO_BS_CLOSING;
        vfo_binding_close(b);
    } else {
        bind_finish(b, b->refuse_status);
    }
}

/* PASSIVE_LEVEL: lib/failover applies the pairing rules. */
static void decide(vfo_binding *b)
{
    fo_pair *p = NULL;
    vfo_lock();
    fo_reason r = fo_bind_candidate(&g_vfo.reg, &b->desc, &p);
    if (r != FO_R_OK) {
        refused(b, r);
        return;
    }
    vfo_adapter *ad = CONTAINING_RECORD(p, vfo_adapter, pair);
    b->ad = ad;
    b->step = VFO_BS_BOUND;
    ad->bind = b;
    vfo_refusal_forget_locked(ad, b->desc.permanent_mac);
    VFO_INFO("VF %02x:%02x:%02x:%02x:%02x:%02x paired", b->desc.permanent_mac[0],
             b->desc.permanent_mac[1], b->desc.permanent_mac[2], b->desc.permanent_mac[3],
             b->desc.permanent_mac[4], b->desc.permanent_mac[5]);
    vfo_event_end(ad, FO_R_OK, "bind"); /* OPEN_PRIMARY, then COMPLETE_BIND */
}

NDIS_STATUS PtBindAdapterEx(NDIS_HANDLE drv_ctx, NDIS_HANDLE bind_ctx, PNDIS_BIND_PARAMETERS bp)
{
    (void)drv_ctx;
    if (!bp)
        return NDIS_STATUS_INVALID_PARAMETER;
    vfo_binding *b = binding_new(bind_ctx, bp);
    if (!b)
        return NDIS_STATUS_RESOURCES;
    vfo_pend_begin(&b->bind_pend);
    if (worth_opening(b))
        open_candidate(b, bp->AdapterName);
    else
        decide(b);
    NDIS_STATUS st = vfo_pend_end(&b->bind_pend);
    if (st != NDIS_STATUS_PENDING && st != NDIS_STATUS_SUCCESS)
        binding_free(b);
    return st;
}

/* OPEN_PRIMARY: the binding is already open (the MAC had to be read first). */
void vfo_binding_open_done(vfo_binding *b)
{
    vfo_adapter *ad = b->ad;
    vfo_lock();
    fo_reason r = fo_primary_open_complete(&ad->pair, true);
    vfo_event_end(ad, r, "open complete");
}

void vfo_binding_complete_bind(vfo_binding *b, fo_reason reason)
{
    if (reason == FO_R_OK) {
        bind_finish(b, NDIS_STATUS_SUCCESS);
        return;
    }
    /* The engine gave the primary up during the bind: close and fail it. */
    b->refused = reason;
    b->refuse_status = NDIS_STATUS_OPEN_FAILED;
    b->step = VFO_BS_CLOSING;
    vfo_binding_close(b);
}

/* ------------------------------------------------------------------------ */
/* Close, unbind, orphan                                                     */

static void close_done(vfo_binding *b)
{
    b->handle = NULL;
    if (b->step == VFO_BS_CLOSING) {
        bind_finish(b, b->refuse_status);
        return;
    }
    vfo_adapter *ad = vfo_get(&b->orphan) ? NULL : b->ad;
    if (ad) {
        vfo_lock();
        fo_reason r = fo_primary_close_complete(&ad->pair);
        vfo_event_end(ad, r, "close complete"); /* COMPLETE_UNBIND */
        return;
    }
    unbind_finish(b);
}

void PtCloseAdapterCompleteEx(NDIS_HANDLE ctx)
{
    close_done(ctx);
}

/* The vfo adapter is halting (REQUEST_UNBIND): hand the pair its primary
 * back without waiting for NDIS. MiniportHaltEx must not wait for the VF's
 * unbind, a PnP operation NDIS may run only after the halt. The engine sees
 * an ordinary unbind; at CLOSE_PRIMARY the binding is kept open but detached
 * from the pair (an orphan that refuses everything), and NDIS is asked to
 * unbind it, which closes it later. */
void vfo_binding_orphan(vfo_adapter *ad, vfo_binding *b)
{
    b->orphaning = true;
    vfo_lock();
    fo_reason r = fo_primary_unbind(&ad->pair);
    vfo_event_end(ad, r, "unbind (vfo halting)");
}

/* NDIS has not paused an orphan's binding: its receives still run on other
 * CPUs and read b->ad. Marked first, then waited for: a receive counts
 * itself in before it reads orphan (both interlocked), so one that saw it
 * clear is counted and is waited for here, and any later one sees it set
 * and leaves ad alone. PASSIVE_LEVEL, g_vfo.lock not held (a receive may
 * take it). */
static void orphan_detach(vfo_binding *b)
{
    vfo_adapter *ad = b->ad;
    vfo_set(&b->orphan, 1);
    while (vfo_get(&b->rx_calls))
        NdisMSleep(10);
    vfo_lock();
    b->ad = NULL;
    fo_reason r = fo_primary_close_complete(&ad->pair);
    vfo_event_end(ad, r, "orphaned"); /* COMPLETE_UNBIND, STANDBY_RELEASED */
}

/* CLOSE_PRIMARY, a refused bind, or an orphan's unbind. PASSIVE_LEVEL. */
void vfo_binding_close(vfo_binding *b)
{
    if (b->orphaning && !vfo_get(&b->orphan)) {
        orphan_detach(b);
        return;
    }
    vfo_lock();
    if (b->oids_out) {
        b->close_wanted = true; /* closed when the last OID completes */
        vfo_unlock();
        return;
    }
    b->closing = true;
    vfo_unlock();
    NDIS_STATUS st = NdisCloseAdapterEx(b->handle);
    if (st != NDIS_STATUS_PENDING)
        close_done(b);
}

static void unbind_finish(vfo_binding *b)
{
    if (!b->unbind_ctx)
        return; /* orphaned at halt: NDIS's unbind closes it later */
    bool reenumerate = vfo_get(&b->orphan) != 0;
    NDIS_HANDLE ctx = b->unbind_ctx;
    if (vfo_pend_done(&b->unbind_pend, NDIS_STATUS_SUCCESS)) {
        NdisCompleteUnbindAdapterEx(ctx);
        binding_free(b);
    }
    /* The VF outlived its vfo adapter; once it is free, NDIS may offer it to
     * a vfo adapter that arrives later (or already did). */
    if (reenumerate)
        NdisReEnumerateProtocolBindings(g_vfo.protocol);
}

/* COMPLETE_UNBIND. An orphan is detached now; NDIS is asked to unbind it
 * only here, once nothing on the pair's side refers to it any more. */
void vfo_binding_complete_unbind(vfo_binding *b)
{
    if (vfo_get(&b->orphan)) {
        VFO_INFO("VF binding orphaned by the halt of its vfo adapter; asking NDIS to unbind it");
        NdisUnbindAdapter(b->handle);
        return;
    }
    b->ad = NULL;
    unbind_finish(b);
}

NDIS_STATUS PtUnbindAdapterEx(NDIS_HANDLE unbind_ctx, NDIS_HANDLE ctx)
{
    vfo_binding *b = ctx;
    b->unbind_ctx = unbind_ctx;
    vfo_pend_begin(&b->unbind_pend);
    vfo_adapter *ad = vfo_get(&b->orphan) ? NULL : b->ad;
    if (ad) {
        vfo_lock();
        fo_reason r = fo_primary_unbind(&ad->pair);
        vfo_event_end(ad, r, "unbind"); /* drain, stats, CLOSE_PRIMARY */
    } else {
        /* An orphan: closed from its work item. Once it is closed
         * unbind_finish asks NDIS to re-enumerate the bindings, which a
         * protocol may not do from its unbind handler (DDI rule
         * NdisReEnumerateProtocolBindings); the unbind pends meanwhile. */
        NdisQueueIoWorkItem(b->work, close_work, b);
    }
    NDIS_STATUS st = vfo_pend_end(&b->unbind_pend);
    if (st != NDIS_STATUS_PENDING)
        binding_free(b);
    return st;
}

NDIS_STATUS vfo_protocol_register(NDIS_HANDLE driver_ctx)
{
    NDIS_PROTOCOL_DRIVER_CHARACTERISTICS pc;
    NDIS_STRING name = NDIS_STRING_CONST("vfo");
    NdisZeroMemory(&pc, sizeof(pc));
    VFO_INIT_HEADER(&pc.Header, NDIS_OBJECT_TYPE_PROTOCOL_DRIVER_CHARACTERISTICS,
                    NDIS_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2,
                    NDIS_SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2);
    pc.MajorNdisVersion = NDIS_PROTOCOL_MAJOR_VERSION;
    pc.MinorNdisVersion = NDIS_PROTOCOL_MINOR_VERSION;
    pc.MajorDriverVersion = VFO_MAJOR_VERSION;
    pc.MinorDriverVersion = VFO_MINOR_VERSION;
    /* The service name both INFs give vfo.sys: NDIS routes the vfoprot
     * component's bindings to the protocol registered under it. */
    pc.Name = name;
    pc.BindAdapterHandlerEx = PtBindAdapterEx;
    pc.UnbindAdapterHandlerEx = PtUnbindAdapterEx;
    pc.OpenAdapterCompleteHandlerEx = PtOpenAdapterCompleteEx;
    pc.CloseAdapterCompleteHandlerEx = PtCloseAdapterCompleteEx;
    pc.NetPnPEventHandler = PtNetPnPEvent;
    pc.OidRequestCompleteHandler = PtOidRequestComplete;
    pc.StatusHandlerEx = PtStatusEx;
    pc.ReceiveNetBufferListsHandler = PtReceiveNetBufferLists;
    pc.SendNetBufferListsCompleteHandler = PtSendNetBufferListsComplete;
    return NdisRegisterProtocolDriver(driver_ctx, &pc, &g_vfo.protocol);
}
