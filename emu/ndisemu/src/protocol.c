/*
 * protocol.c - protocol registration and bindings: bind (BindAdapterEx,
 * NdisOpenAdapterEx), PnP events on a binding (pause, restart, power,
 * query-remove), unbind (UnbindAdapterEx, NdisCloseAdapterEx).
 */
#include "emu_internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <strings.h>

static emu_binding *binding_of_ctx(emu_obj *ctx_obj, bool unbind)
{
    return unbind ? CONTAINING_RECORD(ctx_obj, emu_binding, unbind_ctx)
                  : CONTAINING_RECORD(ctx_obj, emu_binding, bind_ctx);
}

static void bind_all_op_done(void *ctx, int status)
{
    (void)ctx;
    (void)status;
}

static int bind_protocol_op(emu_runtime *rt, void *arg)
{
    emu_protocol *p = arg;
    if (!emu_obj_dead(&p->obj))
        emu_bind_all_for_protocol(rt, p);
    return EMU_OK;
}

/* After registration NDIS offers the protocol its bindings, then tells it
 * with NetEventBindsComplete (NULL context) that it has seen them all. */
static int register_bind_op(emu_runtime *rt, void *arg)
{
    emu_protocol *p = arg;
    if (emu_obj_dead(&p->obj))
        return EMU_OK;
    emu_bind_all_for_protocol(rt, p);
    if (emu_stopped(rt) || emu_obj_dead(&p->obj))
        return EMU_OK;
    return emu_protocol_pnp(rt, p, NetEventBindsComplete, NULL, 0);
}

NDIS_STATUS NdisRegisterProtocolDriver(NDIS_HANDLE ProtocolDriverContext,
                                       PNDIS_PROTOCOL_DRIVER_CHARACTERISTICS Chars,
                                       PNDIS_HANDLE NdisProtocolHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisRegisterProtocolDriver", "-"))
        return NDIS_STATUS_FAILURE;
    emu_driver *drv = emu_self()->cur_drv;
    if (!drv || !Chars || !NdisProtocolHandle)
        return NDIS_STATUS_INVALID_PARAMETER;
    /* The documented Type, or NDIS_OBJECT_TYPE_DEFAULT: Windows registers
     * that too (Microsoft's NDIS 6.0 mux sample uses it). */
    if ((Chars->Header.Type != NDIS_OBJECT_TYPE_PROTOCOL_DRIVER_CHARACTERISTICS &&
         Chars->Header.Type != NDIS_OBJECT_TYPE_DEFAULT) ||
        Chars->Header.Size < NDIS_SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_1 ||
        Chars->MajorNdisVersion != 6) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return NDIS_STATUS_BAD_VERSION;
    }
    if (!Chars->BindAdapterHandlerEx || !Chars->UnbindAdapterHandlerEx ||
        !Chars->OpenAdapterCompleteHandlerEx || !Chars->CloseAdapterCompleteHandlerEx ||
        !Chars->NetPnPEventHandler || !Chars->OidRequestCompleteHandler ||
        !Chars->StatusHandlerEx || !Chars->ReceiveNetBufferListsHandler ||
        !Chars->SendNetBufferListsCompleteHandler) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return NDIS_STATUS_BAD_CHARACTERISTICS;
    }
    emu_lock(rt);
    emu_protocol *p = emu_obj_new_runtime(rt, sizeof(*p), K_PROTOCOL, drv);
    if (!p) {
        emu_unlock(rt);
        return NDIS_STATUS_RESOURCES;
    }
    p->drv = drv;
    p->ch = *Chars;
    if (Chars->Header.Size < sizeof(p->ch))
        memset((char *)&p->ch + Chars->Header.Size, 0, sizeof(p->ch) - Chars->Header.Size);
    p->ctx = ProtocolDriverContext;
    emu_wstr_to_ascii(&Chars->Name, p->name, sizeof(p->name));
    for (int i = 0; i < drv->desc.n_prot; i++) {
        if (strcasecmp(drv->desc.prot[i].name, p->name) == 0)
            p->lower = drv->desc.prot[i].lower;
    }
    p->next = rt->protocols;
    rt->protocols = p;
    emu_unlock(rt);
    *NdisProtocolHandle = p;
    /* Like NDIS, bind to the adapters that exist after registration returns. */
    emu_pnp_post(rt, register_bind_op, p, bind_all_op_done, NULL);
    return NDIS_STATUS_SUCCESS;
}

/* NDIS offers the protocol every binding it does not have yet whose path is
 * enabled (a protocol that refused a bind earlier asks for this), later, from
 * its own PnP queue, as NdisReEnumerateProtocolBindings documents. */
void NdisReEnumerateProtocolBindings(NDIS_HANDLE NdisProtocolHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisReEnumerateProtocolBindings", "%p", NdisProtocolHandle))
        return;
    emu_protocol *p = (emu_protocol *)emu_obj_check(rt, NdisProtocolHandle, K_PROTOCOL,
                                                    "NdisReEnumerateProtocolBindings");
    if (!p)
        return;
    /* DDI rule NdisReEnumerateProtocolBindings: not from a bind or unbind
     * handler, nor from a NetPnPEvent for one binding (a global one, with a
     * NULL ProtocolBindingContext, may). */
    const emu_thread *t = emu_self();
    if (t->cb && (strcmp(t->cb, "ProtocolBindAdapterEx") == 0 ||
                  strcmp(t->cb, "ProtocolUnbindAdapterEx") == 0 || t->cb_binding)) {
        emu_violate(rt, "NdisReEnumerateProtocolBindings", "NdisReEnumerateProtocolBindings",
                    "called from %s%s", t->cb, t->cb_binding ? " for a binding" : "");
        return;
    }
    emu_pnp_post(rt, bind_protocol_op, p, bind_all_op_done, NULL);
}

void NdisDeregisterProtocolDriver(NDIS_HANDLE NdisProtocolHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisDeregisterProtocolDriver", "%p", NdisProtocolHandle))
        return;
    emu_protocol *p = (emu_protocol *)emu_obj_check(rt, NdisProtocolHandle, K_PROTOCOL,
                                                    "NdisDeregisterProtocolDriver");
    if (!p)
        return;
    /* NDIS unbinds every binding of the protocol before this returns. */
    for (emu_adapter *ad = emu_adapters_head(rt); ad && !emu_stopped(rt); ad = ad->next) {
        for (int i = 0; i < EMU_MAX_BINDINGS; i++) {
            if (ad->bindings[i] && ad->bindings[i]->prot == p)
                emu_unbind(rt, ad->bindings[i]);
        }
    }
    emu_lock(rt);
    emu_obj_kill(rt, &p->obj);
    emu_unlock(rt);
}

static void fill_bind_params(emu_binding *b)
{
    emu_adapter *ad = b->ad;
    NDIS_BIND_PARAMETERS *bp = &b->bp;
    memset(bp, 0, sizeof(*bp));
    /* The revision of the protocol's NDIS version (6.0, 6.1, 6.20, 6.30+):
     * a 6.0 protocol checks for REVISION_1 (the mux sample does). */
    UCHAR minor = b->prot->ch.MinorNdisVersion;
    if (minor < 1)
        EMU_INIT_HEADER(&bp->Header, NDIS_OBJECT_TYPE_BIND_PARAMETERS,
                        NDIS_BIND_PARAMETERS_REVISION_1, NDIS_SIZEOF_BIND_PARAMETERS_REVISION_1);
    else if (minor < 20)
        EMU_INIT_HEADER(&bp->Header, NDIS_OBJECT_TYPE_BIND_PARAMETERS,
                        NDIS_BIND_PARAMETERS_REVISION_2,
                        RTL_SIZEOF_THROUGH_FIELD(NDIS_BIND_PARAMETERS, HDSplitCurrentConfig));
    else if (minor < 30)
        EMU_INIT_HEADER(&bp->Header, NDIS_OBJECT_TYPE_BIND_PARAMETERS,
                        NDIS_BIND_PARAMETERS_REVISION_3,
                        RTL_SIZEOF_THROUGH_FIELD(NDIS_BIND_PARAMETERS, NicSwitchCapabilities));
    else
        EMU_INIT_HEADER(&bp->Header, NDIS_OBJECT_TYPE_BIND_PARAMETERS,
                        NDIS_BIND_PARAMETERS_REVISION_4, NDIS_SIZEOF_BIND_PARAMETERS_REVISION_4);
    /* The protocol's key for this binding (where its per-binding
     * parameters are, emu_set_binding_param). */
    char section[256];
    snprintf(
        section, sizeof(section),
        "\\REGISTRY\\MACHINE\\SYSTEM\\CurrentControlSet\\Services\\%s\\Parameters\\Adapters\\%s",
        b->prot->name, ad->instance);
    emu_ascii_to_wstr(section, b->section_buf, ARRAYSIZE(b->section_buf), &b->section);
    bp->ProtocolSection = &b->section;
    bp->PowerManagementCapabilities = &ad->pnp_caps;
    bp->AdapterName = &ad->name;
    bp->BoundAdapterName = &ad->name;
    bp->MediaType = ad->gen.MediaType;
    bp->MtuSize = ad->gen.MtuSize;
    bp->MaxXmitLinkSpeed = ad->gen.MaxXmitLinkSpeed;
    bp->XmitLinkSpeed = ad->link.XmitLinkSpeed;
    bp->MaxRcvLinkSpeed = ad->gen.MaxRcvLinkSpeed;
    bp->RcvLinkSpeed = ad->link.RcvLinkSpeed;
    bp->MediaConnectState = ad->link.MediaConnectState;
    bp->MediaDuplexState = ad->link.MediaDuplexState;
    bp->LookaheadSize = ad->gen.LookaheadSize;
    bp->SupportedPacketFilters = ad->gen.SupportedPacketFilters;
    bp->MaxMulticastListSize = ad->gen.MaxMulticastListSize;
    bp->MacAddressLength = ad->gen.MacAddressLength;
    memcpy(bp->CurrentMacAddress, ad->gen.CurrentMacAddress, sizeof(bp->CurrentMacAddress));
    bp->PhysicalMediumType = ad->gen.PhysicalMediumType;
    bp->RcvScaleCapabilities = ad->have_rss ? &ad->rss : NULL;
    bp->BoundIfIndex = ad->id;
    bp->BoundIfNetluid.Info.NetLuidIndex = ad->id;
    bp->BoundIfNetluid.Info.IfType = IF_TYPE_ETHERNET_CSMACD;
    bp->LowestIfIndex = ad->id;
    bp->LowestIfNetluid = bp->BoundIfNetluid;
    bp->AccessType = ad->gen.AccessType;
    bp->DirectionType = ad->gen.DirectionType;
    bp->ConnectionType = ad->gen.ConnectionType;
    bp->IfType = ad->gen.IfType;
    bp->IfConnectorPresent = ad->gen.IfConnectorPresent;
    bp->DataBackFillSize = ad->gen.DataBackFillSize;
    bp->ContextBackFillSize = ad->gen.ContextBackFillSize;
    bp->MacOptions = ad->gen.MacOptions;
    bp->DefaultOffloadConfiguration = ad->have_offload ? &ad->offload : NULL;
}

static void init_ctx_obj(emu_obj *o, emu_kind kind, emu_driver *drv)
{
    memset(o, 0, sizeof(*o));
    o->magic = EMU_MAGIC;
    o->kind = kind;
    o->drv = drv;
}

int emu_bind(emu_runtime *rt, emu_protocol *p, emu_adapter *ad)
{
    emu_lock(rt);
    int slot = -1;
    for (int i = 0; i < EMU_MAX_BINDINGS; i++) {
        if (ad->bindings[i] && ad->bindings[i]->prot == p) {
            emu_unlock(rt);
            return EMU_OK; /* already bound */
        }
        if (!ad->bindings[i] && slot < 0)
            slot = i;
    }
    emu_binding *b = slot < 0 ? NULL : emu_obj_new_runtime(rt, sizeof(*b), K_BINDING, NULL);
    if (!b) {
        emu_unlock(rt);
        return EMU_ERR_NOMEM;
    }
    b->prot = p;
    b->ad = ad;
    b->slot = slot;
    b->state = B_OPENING;
    init_ctx_obj(&b->bind_ctx, K_BIND_CTX, p->drv);
    init_ctx_obj(&b->unbind_ctx, K_UNBIND_CTX, p->drv);
    ad->bindings[slot] = b;
    fill_bind_params(b);
    emu_unlock(rt);

    emu_op_start(rt, &b->bind);
    emu_cb_scope s;
    emu_cb_begin(&s, "ProtocolBindAdapterEx", p->drv, NULL, PASSIVE_LEVEL);
    NDIS_STATUS st = p->ch.BindAdapterHandlerEx(p->ctx, &b->bind_ctx, &b->bp);
    emu_cb_end(&s);
    if (!emu_op_finish(rt, &b->bind, &st, "ProtocolBindAdapterEx"))
        return EMU_ERR_STOPPED;
    emu_lock(rt);
    bool open_pending = b->opened && !b->open_done;
    emu_unlock(rt);
    /* The open pended and the bind returned without waiting for it. */
    if (open_pending)
        emu_wait_flag(rt, &b->open_done, "NdisOpenAdapterEx (pending)");
    if (emu_stopped(rt))
        return EMU_ERR_STOPPED;
    emu_lock(rt);
    bool left_open = st != NDIS_STATUS_SUCCESS && b->opened && b->state != B_CLOSED;
    emu_unlock(rt);
    /* "If the driver calls NdisCompleteBindAdapterEx with an error status,
     * the binding attempt failed and the driver has released any resources
     * it allocated to establish the binding": the open among them. */
    if (left_open) {
        emu_violate(rt, "BindFailedOpen", "ProtocolBindAdapterEx",
                    "protocol %s: the bind to %s failed (%#x) with its binding still open "
                    "(NdisCloseAdapterEx first)",
                    p->name, ad->instance, (unsigned)st);
        return EMU_ERR_STOPPED;
    }
    emu_lock(rt);
    emu_obj_kill(rt, &b->bind_ctx); /* valid until the bind finished */
    bool ok = st == NDIS_STATUS_SUCCESS && b->opened && b->state != B_CLOSED;
    if (!ok) {
        ad->bindings[slot] = NULL;
        emu_obj_kill(rt, &b->obj);
    } else {
        b->state = B_PAUSED;
    }
    emu_unlock(rt);
    if (!ok)
        return EMU_ERR_DRIVER;
    int err = emu_binding_pnp(rt, b, NetEventRestart, NULL, 0);
    if (err == EMU_OK)
        emu_netcfg_notify(rt, EMU_NC_PATH_BOUND, ad->id, p->name);
    return err;
}

/* The calling thread's stack from the caller's frame up: [*lo, *hi). The
 * top is looked up once per thread (for the main thread glibc reads
 * /proc/self/maps). */
static void caller_stack(uintptr_t *lo, uintptr_t *hi)
{
    static __thread uintptr_t top;
    if (!top) {
        pthread_attr_t a;
        void *base = NULL;
        size_t size = 0;
        if (pthread_getattr_np(pthread_self(), &a) == 0) {
            if (pthread_attr_getstack(&a, &base, &size) == 0)
                top = (uintptr_t)base + size;
            pthread_attr_destroy(&a);
        }
    }
    *lo = top ? (uintptr_t)__builtin_frame_address(0) : 0;
    *hi = top;
}

/* NdisOpenAdapterEx's page: "If NdisOpenAdapterEx returns
 * NDIS_STATUS_PENDING, the caller must not use the values at
 * NdisBindingHandle and the SelectedMediumIndex member at OpenParameters
 * until NDIS calls the ProtocolOpenAdapterCompleteEx function": NDIS writes
 * them then. Storage on the caller's stack whose callback (its
 * ProtocolBindAdapterEx, which returned PENDING) has returned meanwhile is
 * freed memory on Windows: reported, not written. A bind handler that waits
 * for the completion keeps its frame (Microsoft's ndisprot and mux do). */
static bool open_outputs(emu_runtime *rt, emu_binding *b)
{
    const uintptr_t where[2] = { (uintptr_t)b->open_sel_ptr, (uintptr_t)b->open_handle_ptr };
    const char *what[2] = { "OpenParameters->SelectedMediumIndex", "NdisBindingHandle" };
    bool gone = emu_frame_returned(&b->open_caller);
    for (int i = 0; i < 2 && gone; i++) {
        uintptr_t p = where[i];
        if (p >= b->open_stack_lo && p < b->open_stack_hi) {
            emu_violate(rt, "OpenAdapterOutputs", "NdisOpenAdapterEx",
                        "protocol %s: the open pended and %s points into the stack of %s, which "
                        "has returned since; NDIS writes it as the open completes (keep it in "
                        "the binding's context)",
                        b->prot->name, what[i], b->open_caller_cb);
            return false;
        }
    }
    if (b->open_sel_ptr)
        *b->open_sel_ptr = b->open_sel;
    *b->open_handle_ptr = b;
    return true;
}

static void open_complete_task(emu_runtime *rt, emu_task *t)
{
    emu_binding *b = t->a;
    if (!open_outputs(rt, b))
        return;
    emu_cb_scope s;
    emu_cb_begin(&s, "ProtocolOpenAdapterCompleteEx", b->prot->drv, NULL, PASSIVE_LEVEL);
    b->prot->ch.OpenAdapterCompleteHandlerEx(b->ctx, NDIS_STATUS_SUCCESS);
    emu_cb_end(&s);
    emu_lock(rt);
    b->open_done = true;
    emu_broadcast(rt);
    emu_unlock(rt);
}

NDIS_STATUS NdisOpenAdapterEx(NDIS_HANDLE NdisProtocolHandle, NDIS_HANDLE ProtocolBindingContext,
                              PNDIS_OPEN_PARAMETERS OpenParameters, NDIS_HANDLE BindContext,
                              PNDIS_HANDLE NdisBindingHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisOpenAdapterEx", "-"))
        return NDIS_STATUS_FAILURE;
    emu_protocol *p =
        (emu_protocol *)emu_obj_check(rt, NdisProtocolHandle, K_PROTOCOL, "NdisOpenAdapterEx");
    emu_obj *bc = emu_obj_check(rt, BindContext, K_BIND_CTX, "NdisOpenAdapterEx");
    if (!p || !bc || !OpenParameters || !NdisBindingHandle)
        return NDIS_STATUS_INVALID_PARAMETER;
    emu_binding *b = binding_of_ctx(bc, false);
    if (b->prot != p || b->opened)
        return NDIS_STATUS_INVALID_PARAMETER;
    UINT sel = OpenParameters->MediumArraySize;
    for (UINT i = 0; i < OpenParameters->MediumArraySize; i++) {
        if (OpenParameters->MediumArray[i] == b->ad->gen.MediaType) {
            sel = i;
            break;
        }
    }
    if (sel == OpenParameters->MediumArraySize)
        return NDIS_STATUS_UNSUPPORTED_MEDIA;
    emu_lock(rt);
    b->ctx = ProtocolBindingContext;
    b->opened = true;
    /* NDIS may complete an open asynchronously; the seed decides. Pended,
     * the outputs are written as it completes (open_outputs); until then
     * they hold what no open gives (a caller using them early fails). */
    bool pend = rt->cfg.sched == EMU_SCHED_DETERMINISTIC && (emu_rand(rt) & 1);
    b->open_sel_ptr = OpenParameters->SelectedMediumIndex;
    b->open_sel = sel;
    b->open_handle_ptr = NdisBindingHandle;
    if (pend) {
        caller_stack(&b->open_stack_lo, &b->open_stack_hi);
        emu_frame_mark_here(&b->open_caller);
        b->open_caller_cb = emu_self()->cb;
        if (b->open_sel_ptr)
            *b->open_sel_ptr = (UINT)-1;
        *NdisBindingHandle = NULL;
        emu_task_post(rt, T_COMPLETION, 0, open_complete_task, b, NULL, 0);
    } else {
        if (b->open_sel_ptr)
            *b->open_sel_ptr = sel;
        *NdisBindingHandle = b;
        b->open_done = true;
    }
    emu_unlock(rt);
    return pend ? NDIS_STATUS_PENDING : NDIS_STATUS_SUCCESS;
}

/* A bind or unbind context: valid only until that operation finished, so
 * using it afterwards is a second completion. */
static emu_binding *op_context(NDIS_HANDLE h, emu_kind kind, const char *call)
{
    emu_obj *o = emu_obj_peek(h);
    if (o && o->kind == kind && emu_obj_dead(o)) {
        emu_violate(emu_rt, "DoubleComplete", call,
                    "%s for an operation that already finished (completed twice, or after its "
                    "handler returned a final status)",
                    call);
        return NULL;
    }
    o = emu_obj_check(emu_rt, h, kind, call);
    return o ? binding_of_ctx(o, kind == K_UNBIND_CTX) : NULL;
}

void NdisCompleteBindAdapterEx(NDIS_HANDLE BindAdapterContext, NDIS_STATUS Status)
{
    if (!emu_enter("NdisCompleteBindAdapterEx", "status=%#x", (unsigned)Status))
        return;
    emu_binding *b = op_context(BindAdapterContext, K_BIND_CTX, "NdisCompleteBindAdapterEx");
    if (b)
        emu_op_complete(emu_rt, &b->bind, Status, "NdisCompleteBindAdapterEx", "bind");
}

static void close_complete_task(emu_runtime *rt, emu_task *t)
{
    emu_binding *b = t->a;
    emu_cb_scope s;
    emu_cb_begin(&s, "ProtocolCloseAdapterCompleteEx", b->prot->drv, NULL, PASSIVE_LEVEL);
    b->prot->ch.CloseAdapterCompleteHandlerEx(b->ctx);
    emu_cb_end(&s);
    emu_lock(rt);
    b->close_done = true;
    emu_broadcast(rt);
    emu_unlock(rt);
}

NDIS_STATUS NdisCloseAdapterEx(NDIS_HANDLE NdisBindingHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisCloseAdapterEx", "%p", NdisBindingHandle))
        return NDIS_STATUS_FAILURE;
    emu_binding *b =
        (emu_binding *)emu_obj_check(rt, NdisBindingHandle, K_BINDING, "NdisCloseAdapterEx");
    if (!b)
        return NDIS_STATUS_INVALID_PARAMETER;
    emu_lock(rt);
    uint64_t so = b->sends_out, rh = b->recvs_held, oo = b->oids_out;
    emu_unlock(rt);
    /* "Protocol drivers should wait for all send requests and OID requests
     * that they originated to complete before calling NdisCloseAdapterEx." */
    if (so || rh || oo) {
        emu_violate(rt, "PauseWithOutstanding", "NdisCloseAdapterEx",
                    "binding %s-%s closed with %llu send(s) not completed, %llu received "
                    "NBL(s) not returned and %llu OID request(s) not completed",
                    b->prot->name, b->ad->instance, (unsigned long long)so, (unsigned long long)rh,
                    (unsigned long long)oo);
        return NDIS_STATUS_FAILURE;
    }
    emu_lock(rt);
    b->state = B_CLOSED;
    emu_obj_kill(rt, &b->obj); /* the binding handle is invalid from now on */
    bool pend = rt->cfg.sched == EMU_SCHED_DETERMINISTIC && (emu_rand(rt) & 1);
    if (pend)
        emu_task_post(rt, T_COMPLETION, 0, close_complete_task, b, NULL, 0);
    else
        b->close_done = true;
    emu_unlock(rt);
    return pend ? NDIS_STATUS_PENDING : NDIS_STATUS_SUCCESS;
}

void NdisCompleteUnbindAdapterEx(NDIS_HANDLE UnbindContext)
{
    if (!emu_enter("NdisCompleteUnbindAdapterEx", "-"))
        return;
    emu_binding *b = op_context(UnbindContext, K_UNBIND_CTX, "NdisCompleteUnbindAdapterEx");
    if (b)
        emu_op_complete(emu_rt, &b->unbind, NDIS_STATUS_SUCCESS, "NdisCompleteUnbindAdapterEx",
                        "unbind");
}

static void pnp_params(NET_PNP_EVENT_NOTIFICATION *n, NET_PNP_EVENT_CODE code, void *buf, ULONG len,
                       NDIS_PROTOCOL_PAUSE_PARAMETERS *pp, NDIS_PROTOCOL_RESTART_PARAMETERS *rp,
                       emu_binding *b)
{
    memset(n, 0, sizeof(*n));
    EMU_INIT_HEADER(&n->Header, NDIS_OBJECT_TYPE_DEFAULT, NET_PNP_EVENT_NOTIFICATION_REVISION_1,
                    sizeof(*n));
    n->NetPnPEvent.NetEvent = code;
    n->NetPnPEvent.Buffer = buf;
    n->NetPnPEvent.BufferLength = buf ? len : 0;
    if (code == NetEventPause) {
        memset(pp, 0, sizeof(*pp));
        EMU_INIT_HEADER(&pp->Header, NDIS_OBJECT_TYPE_DEFAULT,
                        NDIS_PROTOCOL_PAUSE_PARAMETERS_REVISION_1, sizeof(*pp));
        pp->PauseReason = len;
        n->NetPnPEvent.Buffer = pp;
        n->NetPnPEvent.BufferLength = sizeof(*pp);
    } else if (code == NetEventRestart) {
        memset(rp, 0, sizeof(*rp));
        EMU_INIT_HEADER(&rp->Header, NDIS_OBJECT_TYPE_PROTOCOL_RESTART_PARAMETERS,
                        NDIS_PROTOCOL_RESTART_PARAMETERS_REVISION_1, sizeof(*rp));
        rp->BoundIfIndex = b->ad->id;
        rp->BoundIfNetluid = b->bp.BoundIfNetluid;
        n->NetPnPEvent.Buffer = rp;
        n->NetPnPEvent.BufferLength = sizeof(*rp);
    }
}

static bool nothing_delivering(emu_runtime *rt, void *arg)
{
    (void)rt;
    return ((emu_binding *)arg)->delivering == 0;
}

/* Sends one PnP event to a binding and waits for it. For NetEventPause,
 * len carries the pause reason. EMU_ERR_VETOED when a query is refused. */
int emu_binding_pnp(emu_runtime *rt, emu_binding *b, NET_PNP_EVENT_CODE code, void *buf, ULONG len)
{
    emu_lock(rt);
    if (code == NetEventPause && b->state != B_RUNNING) {
        emu_unlock(rt);
        return EMU_OK;
    }
    if (code == NetEventRestart && b->state != B_PAUSED) {
        emu_unlock(rt);
        return EMU_OK;
    }
    if (code == NetEventPause) {
        b->state = B_PAUSING;
        b->pause_cb_thread = emu_self();
        b->pause_returned = b->pause_pended = false;
    } else if (code == NetEventRestart)
        b->state = B_RESTARTING;
    emu_unlock(rt);
    emu_op_start(rt, &b->pnp);
    NET_PNP_EVENT_NOTIFICATION n;
    NDIS_PROTOCOL_PAUSE_PARAMETERS pp;
    NDIS_PROTOCOL_RESTART_PARAMETERS rp;
    pnp_params(&n, code, buf, len, &pp, &rp, b);
    emu_cb_scope s;
    emu_cb_begin(&s, "ProtocolNetPnPEvent", b->prot->drv, NULL, PASSIVE_LEVEL);
    emu_self()->cb_binding = true;
    NDIS_STATUS st = b->prot->ch.NetPnPEventHandler(b->ctx, &n);
    emu_cb_end(&s);
    if (code == NetEventPause) {
        emu_lock(rt);
        b->pause_cb_thread = NULL;
        b->pause_returned = true;
        b->pause_pended = st == NDIS_STATUS_PENDING;
        emu_unlock(rt);
    }
    if (!emu_op_finish(rt, &b->pnp, &st, "ProtocolNetPnPEvent")) {
        if (!rt->cfg.quiet) /* which binding: the report names only the handler */
            fprintf(rt->cfg.report ? rt->cfg.report : stderr,
                    "  binding: %s over %s, NET_PNP_EVENT_CODE %d\n", b->prot->name,
                    b->ad->instance, (int)code);
        if (code == NetEventPause) /* what a pause that never ended waits for */
            emu_report_outstanding(rt, NULL, b);
        return EMU_ERR_STOPPED;
    }
    emu_lock(rt);
    uint64_t so = b->sends_out;
    if (code == NetEventPause)
        b->state = B_PAUSED;
    else if (code == NetEventRestart)
        b->state = st == NDIS_STATUS_SUCCESS ? B_RUNNING : B_PAUSED;
    emu_unlock(rt);
    /* Paused: no new indication starts. NDIS holds a reference for each
     * one in flight, so the pause ends (and an unbind may follow) only
     * when those returned. */
    if (code == NetEventPause && !emu_wait(rt, nothing_delivering, b, EMU_WAIT_NS)) {
        if (!emu_stopped(rt))
            emu_violate(rt, "OperationNotCompleted", "ProtocolReceiveNetBufferLists",
                        "binding %s-%s: an indication did not return", b->prot->name,
                        b->ad->instance);
        return EMU_ERR_STOPPED;
    }
    if (code == NetEventPause && so) {
        emu_violate(rt, "PauseWithOutstanding", "ProtocolNetPnPEvent(NetEventPause)",
                    "binding %s-%s completed its pause with %llu send(s) outstanding",
                    b->prot->name, b->ad->instance, (unsigned long long)so);
        emu_report_outstanding(rt, NULL, b);
        return EMU_ERR_STOPPED;
    }
    if (code == NetEventQueryRemoveDevice && st != NDIS_STATUS_SUCCESS)
        return EMU_ERR_VETOED;
    return st == NDIS_STATUS_SUCCESS ? EMU_OK : EMU_ERR_DRIVER;
}

/* The NET_PNP_EVENT_CODE names the rule's reports use. */
static const char *global_event_name(NET_PNP_EVENT_CODE code)
{
    switch (code) {
    case NetEventBindsComplete:
        return "NetEventBindsComplete";
    case NetEventBindList:
        return "NetEventBindList";
    case NetEventReconfigure:
        return "NetEventReconfigure";
    default:
        return "NetEvent";
    }
}

int emu_protocol_pnp(emu_runtime *rt, emu_protocol *p, NET_PNP_EVENT_CODE code, void *buf,
                     ULONG len)
{
    NET_PNP_EVENT_NOTIFICATION n;
    memset(&n, 0, sizeof(n));
    EMU_INIT_HEADER(&n.Header, NDIS_OBJECT_TYPE_DEFAULT, NET_PNP_EVENT_NOTIFICATION_REVISION_1,
                    sizeof(n));
    n.NetPnPEvent.NetEvent = code;
    n.NetPnPEvent.Buffer = buf;
    n.NetPnPEvent.BufferLength = buf ? len : 0;
    emu_lock(rt);
    p->global_n = &n;
    emu_unlock(rt);
    emu_op_start(rt, &p->pnp);
    emu_cb_scope s;
    emu_cb_begin(&s, "ProtocolNetPnPEvent", p->drv, NULL, PASSIVE_LEVEL);
    NDIS_STATUS st = p->ch.NetPnPEventHandler(NULL, &n);
    emu_cb_end(&s);
    bool finished = emu_op_finish(rt, &p->pnp, &st, "ProtocolNetPnPEvent");
    emu_lock(rt);
    p->global_n = NULL;
    emu_unlock(rt);
    if (!finished)
        return EMU_ERR_STOPPED;
    /* "A protocol should always succeed" these three: they carry no per-binding
     * decision a failure could stand for (the stricter reading: a failure is
     * a violation, not a hint). */
    if (st != NDIS_STATUS_SUCCESS) {
        char call[64];
        snprintf(call, sizeof(call), "ProtocolNetPnPEvent(%s)", global_event_name(code));
        emu_violate(rt, "NetPnPEventMustSucceed", call,
                    "protocol %s answered %#x to a global %s (NULL ProtocolBindingContext)",
                    p->name, (unsigned)st, global_event_name(code));
        return EMU_ERR_STOPPED;
    }
    return EMU_OK;
}

/* The bind list: a MULTI_SZ of the names of the adapters p may bind to
 * (those whose path is enabled), as NDIS passes with NetEventBindList. */
int emu_protocol_bind_list(emu_runtime *rt, emu_protocol *p)
{
    WCHAR list[1024];
    size_t pos = 0;
    for (emu_adapter *ad = emu_adapters_head(rt); ad; ad = ad->next) {
        if (emu_obj_dead(&ad->obj) || !emu_ranges_meet(&p->lower, &ad->drv->desc.mp_upper) ||
            !emu_path_enabled(rt, p->name, ad->instance))
            continue;
        char name[EMU_NAME_MAX + 16];
        snprintf(name, sizeof(name), "\\Device\\%s", ad->instance);
        size_t k = strlen(name);
        if (pos + k + 2 > ARRAYSIZE(list))
            break;
        for (size_t i = 0; i < k; i++)
            list[pos++] = (WCHAR)(unsigned char)name[i];
        list[pos++] = 0;
    }
    list[pos++] = 0;
    return emu_protocol_pnp(rt, p, NetEventBindList, list, (ULONG)(pos * sizeof(WCHAR)));
}

void NdisCompleteNetPnPEvent(NDIS_HANDLE NdisBindingHandle,
                             PNET_PNP_EVENT_NOTIFICATION NetPnPEventNotification,
                             NDIS_STATUS Status)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisCompleteNetPnPEvent", "status=%#x", (unsigned)Status))
        return;
    if (!NdisBindingHandle) {
        /* A global event: no binding, the notification names it. */
        emu_protocol *owner = NULL;
        emu_lock(rt);
        for (emu_protocol *p = rt->protocols; p; p = p->next) {
            if (p->global_n && p->global_n == NetPnPEventNotification)
                owner = p;
        }
        emu_unlock(rt);
        if (!owner) {
            emu_violate(rt, "DoubleComplete", "NdisCompleteNetPnPEvent",
                        "NULL binding handle and no global PnP event pending with notification "
                        "%p",
                        (void *)NetPnPEventNotification);
            return;
        }
        emu_op_complete(rt, &owner->pnp, Status, "NdisCompleteNetPnPEvent", "PnP event");
        return;
    }
    emu_binding *b =
        (emu_binding *)emu_obj_check(rt, NdisBindingHandle, K_BINDING, "NdisCompleteNetPnPEvent");
    if (b)
        emu_op_complete(rt, &b->pnp, Status, "NdisCompleteNetPnPEvent", "PnP event");
}

int emu_unbind(emu_runtime *rt, emu_binding *b)
{
    int err = emu_binding_pnp(rt, b, NetEventPause, NULL, NDIS_PAUSE_UNBIND_PROTOCOL);
    if (err == EMU_ERR_STOPPED)
        return err;
    emu_op_start(rt, &b->unbind);
    emu_cb_scope s;
    emu_cb_begin(&s, "ProtocolUnbindAdapterEx", b->prot->drv, NULL, PASSIVE_LEVEL);
    NDIS_STATUS st = b->prot->ch.UnbindAdapterHandlerEx(&b->unbind_ctx, b->ctx);
    emu_cb_end(&s);
    if (!emu_op_finish(rt, &b->unbind, &st, "ProtocolUnbindAdapterEx"))
        return EMU_ERR_STOPPED;
    emu_lock(rt);
    bool closed = b->state == B_CLOSED, close_pending = closed && !b->close_done;
    emu_unlock(rt);
    if (close_pending && !emu_wait_flag(rt, &b->close_done, "NdisCloseAdapterEx (pending)"))
        return EMU_ERR_STOPPED;
    if (emu_stopped(rt))
        return EMU_ERR_STOPPED;
    if (!closed) {
        emu_violate(rt, "OperationNotCompleted", "ProtocolUnbindAdapterEx",
                    "binding %s-%s: unbind completed without NdisCloseAdapterEx", b->prot->name,
                    b->ad->instance);
        return EMU_ERR_STOPPED;
    }
    emu_lock(rt);
    emu_obj_kill(rt, &b->unbind_ctx); /* valid until the unbind finished */
    b->ad->bindings[b->slot] = NULL;
    emu_unlock(rt);
    emu_netcfg_notify(rt, EMU_NC_PATH_UNBOUND, b->ad->id, b->prot->name);
    return EMU_OK;
}

static int unbind_op(emu_runtime *rt, void *arg)
{
    emu_binding *b = arg;
    emu_lock(rt);
    bool closed = b->state == B_CLOSED;
    emu_unlock(rt);
    return closed ? EMU_OK : emu_unbind(rt, b);
}

NDIS_STATUS NdisUnbindAdapter(NDIS_HANDLE NdisBindingHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisUnbindAdapter", "%p", NdisBindingHandle))
        return NDIS_STATUS_FAILURE;
    emu_binding *b =
        (emu_binding *)emu_obj_check(rt, NdisBindingHandle, K_BINDING, "NdisUnbindAdapter");
    if (!b)
        return NDIS_STATUS_INVALID_PARAMETER;
    return emu_pnp_post(rt, unbind_op, b, NULL, NULL) == EMU_OK ? NDIS_STATUS_SUCCESS
                                                                : NDIS_STATUS_RESOURCES;
}

void emu_bind_all_for_adapter(emu_runtime *rt, emu_adapter *ad)
{
    for (emu_protocol *p = emu_protocols_head(rt); p && !emu_stopped(rt); p = p->next) {
        if (!emu_obj_dead(&p->obj) && emu_ranges_meet(&p->lower, &ad->drv->desc.mp_upper) &&
            emu_path_enabled(rt, p->name, ad->instance))
            emu_bind(rt, p, ad);
    }
}

void emu_bind_all_for_protocol(emu_runtime *rt, emu_protocol *p)
{
    for (emu_adapter *ad = emu_adapters_head(rt); ad && !emu_stopped(rt); ad = ad->next) {
        if (ad->state == AD_RUNNING && ad->power == 0 && !emu_obj_dead(&ad->obj) &&
            emu_ranges_meet(&p->lower, &ad->drv->desc.mp_upper) &&
            emu_path_enabled(rt, p->name, ad->instance))
            emu_bind(rt, p, ad);
    }
}
