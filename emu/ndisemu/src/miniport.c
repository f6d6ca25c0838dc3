/*
 * miniport.c - miniport driver registration, adapter attributes and the
 * adapter lifecycle: add (initialize, restart, bind), remove (query-remove,
 * unbind, pause, halt), surprise removal and power transitions, in the
 * order Microsoft documents for each sequence.
 */
#include "emu_internal.h"

#include <stdlib.h>

NDIS_STATUS NdisMRegisterMiniportDriver(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath,
                                        NDIS_HANDLE MiniportDriverContext,
                                        PNDIS_MINIPORT_DRIVER_CHARACTERISTICS Chars,
                                        PNDIS_HANDLE NdisMiniportDriverHandle)
{
    emu_runtime *rt = emu_rt;
    (void)RegistryPath;
    if (!emu_enter("NdisMRegisterMiniportDriver", "%p", (void *)DriverObject))
        return NDIS_STATUS_FAILURE;
    emu_driver *drv = (emu_driver *)DriverObject;
    if (!drv || drv->magic != EMU_MAGIC || !Chars || !NdisMiniportDriverHandle)
        return NDIS_STATUS_INVALID_PARAMETER;
    /* The documented Type, or NDIS_OBJECT_TYPE_DEFAULT: Windows registers
     * that too (Microsoft's NDIS 6.0 mux sample uses it). */
    if ((Chars->Header.Type != NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS &&
         Chars->Header.Type != NDIS_OBJECT_TYPE_DEFAULT) ||
        Chars->Header.Size < NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1 ||
        Chars->MajorNdisVersion != 6) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return NDIS_STATUS_BAD_VERSION;
    }
    if (!Chars->InitializeHandlerEx || !Chars->HaltHandlerEx || !Chars->PauseHandler ||
        !Chars->RestartHandler || !Chars->OidRequestHandler || !Chars->SendNetBufferListsHandler ||
        !Chars->ReturnNetBufferListsHandler || !Chars->CancelSendHandler ||
        !Chars->DevicePnPEventNotifyHandler || !Chars->ShutdownHandlerEx ||
        !Chars->CancelOidRequestHandler || !Chars->UnloadHandler ||
        (Chars->CheckForHangHandlerEx && !Chars->ResetHandlerEx)) {
        /* ResetHandlerEx: "Optional (required if you provide
         * CheckForHangHandlerEx)" (NDIS_MINIPORT_DRIVER_CHARACTERISTICS). */
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return NDIS_STATUS_BAD_CHARACTERISTICS;
    }
    emu_lock(rt);
    if (drv->mp && !emu_obj_dead(&drv->mp->obj)) {
        emu_unlock(rt);
        return NDIS_STATUS_FAILURE;
    }
    emu_mp_driver *mp = emu_obj_new_runtime(rt, sizeof(*mp), K_MP_DRIVER, drv);
    if (!mp) {
        emu_unlock(rt);
        return NDIS_STATUS_RESOURCES;
    }
    mp->drv = drv;
    mp->ch = *Chars;
    if (Chars->Header.Size < sizeof(mp->ch))
        memset((char *)&mp->ch + Chars->Header.Size, 0, sizeof(mp->ch) - Chars->Header.Size);
    mp->ctx = MiniportDriverContext;
    drv->mp = mp;
    emu_unlock(rt);
    *NdisMiniportDriverHandle = mp;
    return NDIS_STATUS_SUCCESS;
}

void NdisMDeregisterMiniportDriver(NDIS_HANDLE NdisMiniportDriverHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisMDeregisterMiniportDriver", "%p", NdisMiniportDriverHandle))
        return;
    emu_mp_driver *mp = (emu_mp_driver *)emu_obj_check(rt, NdisMiniportDriverHandle, K_MP_DRIVER,
                                                       "NdisMDeregisterMiniportDriver");
    if (!mp)
        return;
    emu_lock(rt);
    emu_obj_kill(rt, &mp->obj);
    emu_unlock(rt);
}

static emu_adapter *adapter_of(NDIS_HANDLE h, const char *call)
{
    return (emu_adapter *)emu_obj_check(emu_rt, h, K_ADAPTER, call);
}

NDIS_STATUS NdisMSetMiniportAttributes(NDIS_HANDLE NdisMiniportHandle,
                                       PNDIS_MINIPORT_ADAPTER_ATTRIBUTES Attributes)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisMSetMiniportAttributes", "type=%#x",
                   Attributes ? Attributes->RegistrationAttributes.Header.Type : 0))
        return NDIS_STATUS_FAILURE;
    emu_adapter *ad = adapter_of(NdisMiniportHandle, "NdisMSetMiniportAttributes");
    if (!ad || !Attributes)
        return NDIS_STATUS_INVALID_PARAMETER;
    emu_lock(rt);
    NDIS_STATUS st = NDIS_STATUS_SUCCESS;
    switch (Attributes->RegistrationAttributes.Header.Type) {
    case NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES:
        ad->ctx = Attributes->RegistrationAttributes.MiniportAdapterContext;
        ad->hang_secs = Attributes->RegistrationAttributes.CheckForHangTimeInSeconds;
        ad->have_reg_attrs = true;
        break;
    case NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES: {
        const NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES *g = &Attributes->GeneralAttributes;
        if (!ad->have_reg_attrs) {
            st = NDIS_STATUS_INVALID_PARAMETER; /* registration attributes come first */
            break;
        }
        ad->gen = *g;
        if (g->PowerManagementCapabilities)
            ad->pnp_caps = *g->PowerManagementCapabilities;
        if (g->RecvScaleCapabilities) {
            ad->rss = *g->RecvScaleCapabilities;
            ad->have_rss = true;
        }
        ad->gen.RecvScaleCapabilities = ad->have_rss ? &ad->rss : NULL;
        ad->gen.SupportedOidList = NULL; /* not kept: the caller's memory */
        ad->gen.PowerManagementCapabilities = NULL;
        ad->gen.PowerManagementCapabilitiesEx = NULL;
        ad->link.MediaConnectState = g->MediaConnectState;
        ad->link.MediaDuplexState = g->MediaDuplexState;
        ad->link.XmitLinkSpeed = g->XmitLinkSpeed;
        ad->link.RcvLinkSpeed = g->RcvLinkSpeed;
        ad->have_gen_attrs = true;
        break;
    }
    case NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES:
        if (Attributes->OffloadAttributes.DefaultOffloadConfiguration) {
            ad->offload = *Attributes->OffloadAttributes.DefaultOffloadConfiguration;
            ad->have_offload = true;
        }
        break;
    case NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES: {
        /* VMQ / NIC switch / QoS capabilities (NDIS 6.20+): kept as the
         * miniport's current ones, what OID_RECEIVE_FILTER_CURRENT_
         * CAPABILITIES and OID_QOS_CURRENT_CAPABILITIES would answer. */
        const NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES *h =
            &Attributes->HardwareAssistAttributes;
        if (!ad->have_reg_attrs ||
            h->Header.Size < NDIS_SIZEOF_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES_REVISION_1) {
            st = NDIS_STATUS_INVALID_PARAMETER;
            break;
        }
        bool r2 =
            h->Header.Revision >= NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES_REVISION_2 &&
            h->Header.Size >= NDIS_SIZEOF_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES_REVISION_2;
        bool r3 =
            h->Header.Revision >= NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES_REVISION_3 &&
            h->Header.Size >= NDIS_SIZEOF_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES_REVISION_3;
        const NDIS_RECEIVE_FILTER_CAPABILITIES *rf =
            r2 ? h->CurrentReceiveFilterCapabilities : NULL;
        if (rf && rf->Header.Size >= NDIS_SIZEOF_RECEIVE_FILTER_CAPABILITIES_REVISION_1) {
            memset(&ad->rf_caps, 0, sizeof(ad->rf_caps));
            memcpy(&ad->rf_caps, rf,
                   rf->Header.Size < sizeof(ad->rf_caps) ? rf->Header.Size : sizeof(ad->rf_caps));
            ad->have_rf_caps = true;
        }
        const NDIS_QOS_CAPABILITIES *q = r3 ? h->CurrentQosCapabilities : NULL;
        if (q && q->Header.Size >= NDIS_SIZEOF_QOS_CAPABILITIES_REVISION_1) {
            ad->qos_caps = *q;
            ad->have_qos_caps = true;
        }
        break;
    }
    default:
        st = NDIS_STATUS_NOT_SUPPORTED;
        break;
    }
    emu_unlock(rt);
    if (st != NDIS_STATUS_SUCCESS)
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
    return st;
}

void NdisMPauseComplete(NDIS_HANDLE MiniportAdapterHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisMPauseComplete", "-"))
        return;
    emu_adapter *ad = adapter_of(MiniportAdapterHandle, "NdisMPauseComplete");
    if (!ad)
        return;
    emu_lock(rt);
    if (ad->state != AD_PAUSING || ad->pause_done) {
        emu_violate(rt, "MiniportPause_Return", "NdisMPauseComplete",
                    "%s: pause completed while no pause was pending", ad->instance);
    } else if (ad->sends_out || ad->recvs_out) {
        emu_violate(rt, "PauseWithOutstanding", "NdisMPauseComplete",
                    "%s: pause completed with %llu send(s) not completed and %llu receive(s) "
                    "not returned",
                    ad->instance, (unsigned long long)ad->sends_out,
                    (unsigned long long)ad->recvs_out);
    } else {
        /* Paused from here on: nothing may be indicated any more. */
        ad->state = AD_PAUSED;
        ad->pause_done = true;
        emu_broadcast(rt);
    }
    emu_unlock(rt);
}

void NdisMRestartComplete(NDIS_HANDLE MiniportAdapterHandle, NDIS_STATUS Status)
{
    if (!emu_enter("NdisMRestartComplete", "status=%#x", (unsigned)Status))
        return;
    emu_adapter *ad = adapter_of(MiniportAdapterHandle, "NdisMRestartComplete");
    if (ad)
        emu_op_complete(emu_rt, &ad->restart, Status, "NdisMRestartComplete", "restart");
}

void NdisMResetComplete(NDIS_HANDLE MiniportAdapterHandle, NDIS_STATUS Status,
                        BOOLEAN AddressingReset)
{
    (void)AddressingReset;
    if (!emu_enter("NdisMResetComplete", "status=%#x", (unsigned)Status) ||
        !emu_spin_lock_safe("NdisMResetComplete"))
        return;
    emu_adapter *ad = adapter_of(MiniportAdapterHandle, "NdisMResetComplete");
    if (ad)
        emu_reset_complete(emu_rt, ad, Status);
}

static int remove_failed_op(emu_runtime *rt, void *arg)
{
    emu_adapter *ad = arg;
    return ad->state == AD_HALTED ? EMU_OK : emu_adapter_remove(rt, ad, false, true);
}

NDIS_STATUS NdisMRemoveMiniport(NDIS_HANDLE MiniportAdapterHandle)
{
    if (!emu_enter("NdisMRemoveMiniport", "-"))
        return NDIS_STATUS_FAILURE;
    emu_adapter *ad = adapter_of(MiniportAdapterHandle, "NdisMRemoveMiniport");
    if (!ad)
        return NDIS_STATUS_FAILURE;
    emu_pnp_post(emu_rt, remove_failed_op, ad, NULL, NULL);
    return NDIS_STATUS_SUCCESS;
}

/* ---- adapter lifecycle ---- */

static emu_driver *driver_for(emu_runtime *rt, const emu_device_desc *desc)
{
    for (emu_driver *d = rt->drivers; d; d = d->next) {
        if (d->unloaded || !d->mp || emu_obj_dead(&d->mp->obj))
            continue;
        if (desc->service && strcmp(desc->service, d->desc.service) == 0)
            return d;
        for (int i = 0; !desc->service && desc->pnp_id && i < d->desc.n_pnpids; i++) {
            if (strcasecmp(desc->pnp_id, d->desc.pnpids[i]) == 0)
                return d;
        }
    }
    return NULL;
}

static int build_resources(emu_runtime *rt, emu_adapter *ad)
{
    ULONG n = 0;
    for (int i = 0; i < EMU_PCI_BARS; i++)
        n += ad->desc.bar_size[i] != 0;
    n += !ad->root; /* interrupt (a root-enumerated adapter has none) */
    ad->res =
        calloc(1, sizeof(CM_PARTIAL_RESOURCE_LIST) + n * sizeof(CM_PARTIAL_RESOURCE_DESCRIPTOR));
    if (!ad->res)
        return EMU_ERR_NOMEM;
    ad->res->Version = 1;
    ad->res->Revision = 1;
    CM_PARTIAL_RESOURCE_DESCRIPTOR *d = ad->res->PartialDescriptors;
    for (int i = 0; i < EMU_PCI_BARS; i++) {
        uint64_t sz = (ad->desc.bar_size[i] + PAGE_SIZE - 1) & ~(uint64_t)(PAGE_SIZE - 1);
        if (!sz)
            continue;
        ad->desc.bar_size[i] = sz;
        ad->bar_pa[i] = rt->next_bar_pa;
        rt->next_bar_pa += (sz + 0xFFFFF) & ~0xFFFFFull;
        d->Type = CmResourceTypeMemory;
        d->ShareDisposition = CmResourceShareDeviceExclusive;
        d->u.Memory.Start.QuadPart = (LONGLONG)ad->bar_pa[i];
        d->u.Memory.Length = (ULONG)sz;
        d++;
    }
    if (ad->root) {
        ad->res->Count = n;
        return EMU_OK;
    }
    d->Type = CmResourceTypeInterrupt;
    d->ShareDisposition = CmResourceShareDeviceExclusive;
    if (ad->desc.msix_vectors) {
        d->Flags = CM_RESOURCE_INTERRUPT_MESSAGE | CM_RESOURCE_INTERRUPT_LATCHED;
        d->u.MessageInterrupt.Raw.MessageCount = (USHORT)ad->desc.msix_vectors;
        d->u.MessageInterrupt.Raw.Vector = 0x60;
        d->u.MessageInterrupt.Raw.Affinity = 1;
    } else {
        d->u.Interrupt.Level = 10;
        d->u.Interrupt.Vector = 0x50;
        d->u.Interrupt.Affinity = 1;
    }
    ad->res->Count = n;
    return EMU_OK;
}

static void hang_check_task(emu_runtime *rt, emu_task *t);

int emu_mp_restart(emu_runtime *rt, emu_adapter *ad)
{
    NDIS_MINIPORT_RESTART_PARAMETERS rp;
    memset(&rp, 0, sizeof(rp));
    EMU_INIT_HEADER(&rp.Header, NDIS_OBJECT_TYPE_DEFAULT,
                    NDIS_MINIPORT_RESTART_PARAMETERS_REVISION_1, sizeof(rp));
    emu_lock(rt);
    ad->state = AD_RESTARTING;
    emu_unlock(rt);
    emu_op_start(rt, &ad->restart);
    emu_cb_scope s;
    emu_cb_begin(&s, "MiniportRestart", ad->drv, ad, PASSIVE_LEVEL);
    NDIS_STATUS st = ad->drv->mp->ch.RestartHandler(ad->ctx, &rp);
    emu_cb_end(&s);
    if (!emu_op_finish(rt, &ad->restart, &st, "MiniportRestart"))
        return EMU_ERR_STOPPED;
    emu_lock(rt);
    ad->state = st == NDIS_STATUS_SUCCESS ? AD_RUNNING : AD_PAUSED;
    emu_unlock(rt);
    return st == NDIS_STATUS_SUCCESS ? EMU_OK : EMU_ERR_DRIVER;
}

/* rt->mu held: cancels the hang task once no run of it is under way (in
 * real time a run already picked still reads the adapter). */
static bool hang_task_cancelled(emu_runtime *rt, void *arg)
{
    emu_adapter *ad = arg;
    if (ad->hang_task && ad->hang_task->running)
        return false;
    if (ad->hang_task)
        emu_task_cancel(rt, ad->hang_task);
    ad->hang_task = NULL;
    return true;
}

static bool hang_check_idle(emu_runtime *rt, void *arg)
{
    (void)rt;
    return !((emu_adapter *)arg)->hang_running;
}

int emu_mp_pause(emu_runtime *rt, emu_adapter *ad, ULONG reason)
{
    if (ad->state != AD_RUNNING)
        return EMU_OK;
    NDIS_MINIPORT_PAUSE_PARAMETERS pp;
    memset(&pp, 0, sizeof(pp));
    EMU_INIT_HEADER(&pp.Header, NDIS_OBJECT_TYPE_DEFAULT, NDIS_MINIPORT_PAUSE_PARAMETERS_REVISION_1,
                    sizeof(pp));
    pp.PauseReason = reason;
    emu_lock(rt);
    ad->state = AD_PAUSING;
    ad->pause_done = false;
    emu_unlock(rt);
    /* A hang check that began before the state changed ends first (the
     * real-time scheduler runs it beside PnP operations). */
    if (!emu_wait(rt, hang_check_idle, ad, EMU_WAIT_NS))
        return EMU_ERR_STOPPED;
    emu_cb_scope s;
    emu_cb_begin(&s, "MiniportPause", ad->drv, ad, PASSIVE_LEVEL);
    NDIS_STATUS st = ad->drv->mp->ch.PauseHandler(ad->ctx, &pp);
    emu_cb_end(&s);
    if (st == NDIS_STATUS_PENDING) {
        /* NdisMPauseComplete moves the adapter to Paused. */
        if (!emu_wait_flag(rt, &ad->pause_done, "MiniportPause (pending)")) {
            emu_report_outstanding(rt, ad, NULL); /* what the pause waits for */
            return EMU_ERR_STOPPED;
        }
        return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_OK;
    }
    if (st != NDIS_STATUS_SUCCESS) {
        emu_violate(rt, "MiniportPause_Return", "MiniportPause",
                    "%s: MiniportPause returned %#x; only SUCCESS or PENDING are allowed",
                    ad->instance, (unsigned)st);
        return EMU_ERR_STOPPED;
    }
    /* Completed synchronously: the counters are checked and the state set
     * under one lock hold, so nothing slips in between. */
    emu_lock(rt);
    uint64_t so = ad->sends_out, ro = ad->recvs_out;
    bool twice = ad->pause_done;
    if (twice)
        emu_violate(rt, "MiniportPause_Return", "MiniportPause",
                    "%s: MiniportPause returned SUCCESS after NdisMPauseComplete; only a "
                    "pending pause is completed with NdisMPauseComplete",
                    ad->instance);
    else if (so || ro)
        emu_violate(rt, "PauseWithOutstanding", "MiniportPause",
                    "%s: pause returned SUCCESS with %llu send(s) not completed and %llu "
                    "receive(s) not returned",
                    ad->instance, (unsigned long long)so, (unsigned long long)ro);
    else
        ad->state = AD_PAUSED;
    emu_unlock(rt);
    return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_OK;
}

static int mp_init(emu_runtime *rt, emu_adapter *ad)
{
    NDIS_MINIPORT_INIT_PARAMETERS ip;
    memset(&ip, 0, sizeof(ip));
    EMU_INIT_HEADER(&ip.Header, NDIS_OBJECT_TYPE_MINIPORT_INIT_PARAMETERS,
                    NDIS_MINIPORT_INIT_PARAMETERS_REVISION_1, sizeof(ip));
    ip.AllocatedResources = ad->im ? NULL : ad->res; /* a virtual miniport has none */
    ip.IMDeviceInstanceContext = ad->im_ctx;
    ip.IfIndex = ad->id;
    ip.NetLuid.Info.NetLuidIndex = ad->id;
    ip.NetLuid.Info.IfType = IF_TYPE_ETHERNET_CSMACD;
    emu_lock(rt);
    ad->state = AD_INITIALIZING;
    ad->init_shared_failed = ad->init_error_logged = false;
    emu_unlock(rt);
    emu_cb_scope s;
    emu_cb_begin(&s, "MiniportInitializeEx", ad->drv, ad, PASSIVE_LEVEL);
    NDIS_STATUS st = ad->drv->mp->ch.InitializeHandlerEx(ad, ad->drv->mp->ctx, &ip);
    emu_cb_end(&s);
    if (emu_stopped(rt))
        return EMU_ERR_STOPPED;
    /* WriteErrorLog: a shared memory allocation that failed in it is in
     * the event log (NdisWriteErrorLogEntry) by the time it returns. */
    emu_lock(rt);
    bool unlogged = ad->init_shared_failed && !ad->init_error_logged;
    emu_unlock(rt);
    if (unlogged) {
        emu_violate(rt, "WriteErrorLog", "MiniportInitializeEx",
                    "%s: NdisMAllocateSharedMemory failed in it and no NdisWriteErrorLogEntry "
                    "said so",
                    ad->instance);
        return EMU_ERR_STOPPED;
    }
    /* No MiniportHaltEx follows a failed initialize: what it allocated for
     * the adapter (interrupt, DMA, work items, shared memory, mappings) it
     * frees before it returns (LeakAtFailedInit; the DDI rules
     * Init_RegisterInterrupt, Init_RegisterSG, Init_NdisAllocateIoWorkItem). */
    if (st != NDIS_STATUS_SUCCESS)
        return emu_leak_check(rt, ad->drv, ad, "LeakAtFailedInit", "MiniportInitializeEx")
                   ? EMU_ERR_DRIVER
                   : EMU_ERR_STOPPED;
    if (!ad->have_reg_attrs || !ad->have_gen_attrs) {
        emu_violate(rt, "MiniportAttributes", "MiniportInitializeEx",
                    "%s: returned SUCCESS without registration and general attributes",
                    ad->instance);
        return EMU_ERR_STOPPED;
    }
    emu_lock(rt);
    ad->state = AD_PAUSED;
    if (ad->drv->mp->ch.CheckForHangHandlerEx) {
        uint64_t secs = ad->hang_secs ? ad->hang_secs : 2;
        uint64_t period = secs * 1000000000ull;
        bool realtime = rt->cfg.sched == EMU_SCHED_REALTIME;
        if (realtime && rt->cfg.rt_hang_check_ns)
            period = rt->cfg.rt_hang_check_ns;
        /* NDIS never checks this adapter for a hang (or resets it) while
         * it pauses, powers down or halts it; PnP operations on other
         * adapters (a VF arriving or leaving under a failover driver) go on
         * meanwhile. Real-time: a worker task that runs only while the
         * adapter is running, and emu_mp_pause waits for one under way.
         * Deterministic: PnP-serialized (its seeded schedules stay as
         * they were). */
        ad->hang_task =
            emu_task_post(rt, realtime ? T_WORKITEM : T_PNP, period, hang_check_task, ad, NULL, 0);
        if (ad->hang_task)
            ad->hang_task->period = period;
    }
    emu_unlock(rt);
    return EMU_OK;
}

static void hang_check_task(emu_runtime *rt, emu_task *t)
{
    emu_adapter *ad = t->a;
    emu_lock(rt);
    bool run = ad->state == AD_RUNNING && ad->power == 0 && !ad->surprise_removed && !ad->resetting;
    ad->hang_running = run;
    emu_unlock(rt);
    if (!run)
        return;
    emu_cb_scope s;
    emu_cb_begin(&s, "MiniportCheckForHangEx", ad->drv, ad, PASSIVE_LEVEL);
    BOOLEAN hung = ad->drv->mp->ch.CheckForHangHandlerEx(ad->ctx);
    emu_cb_end(&s);
    bool oid_overdue = emu_reset_oid_overdue(rt, ad);
    if (hung || oid_overdue)
        emu_reset_miniport(rt, ad,
                           hung ? "MiniportCheckForHangEx returned TRUE"
                                : "an OID request stayed in the miniport over two hang checks");
    emu_lock(rt);
    ad->hang_running = false; /* a pause may begin */
    emu_broadcast(rt);
    emu_unlock(rt);
}

static int add_op(emu_runtime *rt, void *arg)
{
    emu_adapter *ad = arg;
    int err = mp_init(rt, ad);
    if (err) {
        emu_device_detach(rt, ad);
        emu_lock(rt);
        ad->state = AD_HALTED;
        emu_obj_kill(rt, &ad->obj);
        emu_unlock(rt);
        emu_im_adapter_gone(rt, ad);
        return err;
    }
    emu_netcfg_notify(rt, EMU_NC_ADAPTER_ARRIVAL, ad->id, NULL);
    /* Starting a driver stack: the filter modules attach (paused) over
     * the initialized miniport, the miniport restarts, then the modules
     * bottom up, then the protocols bind. A mandatory filter that failed
     * to attach keeps the protocols away. */
    if ((err = emu_filters_attach_all(rt, ad)))
        return err;
    err = emu_mp_restart(rt, ad);
    if (!err)
        err = emu_filters_restart(rt, ad);
    if (err)
        return err;
    if (!ad->filter_failed)
        emu_bind_all_for_adapter(rt, ad);
    return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_OK;
}

int emu_adapter_add(emu_runtime *rt, const emu_device_desc *desc, emu_adapter **out)
{
    /* No device model: a root-enumerated (software) adapter, which has no
     * BARs, interrupts or configuration space. */
    static const emu_device_ops no_device;
    if (!desc || !desc->instance)
        return EMU_ERR_INVAL;
    bool root = !desc->ops;
    if (root && desc->msix_vectors)
        return EMU_ERR_INVAL;
    for (unsigned b = 0; root && b < EMU_PCI_BARS; b++) {
        if (desc->bar_size[b])
            return EMU_ERR_INVAL;
    }
    emu_lock(rt);
    emu_driver *drv = driver_for(rt, desc);
    bool dup = false;
    for (emu_adapter *a = rt->adapters; a; a = a->next)
        dup |= a->state != AD_HALTED && !emu_obj_dead(&a->obj) &&
               strcmp(a->instance, desc->instance) == 0;
    if (!drv || dup) {
        emu_unlock(rt);
        return drv ? EMU_ERR_BUSY : EMU_ERR_NOTFOUND;
    }
    emu_adapter *ad = emu_obj_new_runtime(rt, sizeof(*ad), K_ADAPTER, NULL);
    if (!ad) {
        emu_unlock(rt);
        return EMU_ERR_NOMEM;
    }
    ad->rt = rt;
    ad->drv = drv;
    ad->id = rt->next_adapter_id++;
    ad->desc = *desc;
    ad->root = root;
    if (root)
        ad->desc.ops = &no_device;
    ad->host.ad = ad;
    snprintf(ad->instance, sizeof(ad->instance), "%s", desc->instance);
    snprintf(ad->pnp_id, sizeof(ad->pnp_id), "%s", desc->pnp_id ? desc->pnp_id : "");
    for (int i = 0; desc->registry && desc->registry[i] && ad->n_reg < 32; i++) {
        const char *eq = strchr(desc->registry[i], '=');
        if (!eq)
            continue;
        snprintf(ad->reg[ad->n_reg].key, sizeof(ad->reg[0].key), "%.*s",
                 (int)(eq - desc->registry[i]), desc->registry[i]);
        snprintf(ad->reg[ad->n_reg].value, sizeof(ad->reg[0].value), "%s", eq + 1);
        ad->n_reg++;
    }
    ad->desc.registry = NULL;
    int im = emu_im_claim(rt, drv, ad, &ad->im_ctx);
    if (im < 0) {
        /* An intermediate driver's virtual miniport nobody asked to start. */
        emu_obj_kill(rt, &ad->obj);
        emu_unlock(rt);
        return EMU_ERR_BUSY;
    }
    ad->im = im > 0;
    ad->desc.instance = ad->instance;
    ad->desc.pnp_id = ad->pnp_id;
    ad->desc.service = NULL;
    char name[EMU_NAME_MAX + 16];
    snprintf(name, sizeof(name), "\\DEVICE\\%s", ad->instance);
    emu_ascii_to_wstr(name, ad->name_buf, EMU_NAME_MAX + 16, &ad->name);
    EMU_INIT_HEADER(&ad->link.Header, NDIS_OBJECT_TYPE_DEFAULT, NDIS_LINK_STATE_REVISION_1,
                    NDIS_SIZEOF_LINK_STATE_REVISION_1);
    pthread_mutex_init(&ad->dev_lock, NULL);
    int err = build_resources(rt, ad);
    ad->next = rt->adapters;
    rt->adapters = ad;
    emu_unlock(rt);
    if (err)
        return err;
    pthread_mutex_lock(&ad->dev_lock);
    if (ad->desc.ops->attach)
        ad->desc.ops->attach(ad->desc.dev, &ad->host);
    ad->dev_attached = true;
    pthread_mutex_unlock(&ad->dev_lock);
    if (out)
        *out = ad;
    return add_op(rt, ad);
}

void emu_device_detach(emu_runtime *rt, emu_adapter *ad)
{
    (void)rt;
    pthread_mutex_lock(&ad->dev_lock);
    if (ad->dev_attached && ad->desc.ops->detach)
        ad->desc.ops->detach(ad->desc.dev);
    ad->dev_attached = false;
    pthread_mutex_unlock(&ad->dev_lock);
}

static bool query_remove(emu_runtime *rt, emu_adapter *ad)
{
    int vetoed_at = -1;
    for (int i = 0; i < EMU_MAX_BINDINGS; i++) {
        emu_binding *b = ad->bindings[i];
        if (!b)
            continue;
        if (emu_binding_pnp(rt, b, NetEventQueryRemoveDevice, NULL, 0) != EMU_OK) {
            vetoed_at = i;
            break;
        }
    }
    if (vetoed_at < 0)
        return true;
    for (int i = 0; i < vetoed_at; i++) {
        if (ad->bindings[i])
            emu_binding_pnp(rt, ad->bindings[i], NetEventCancelRemoveDevice, NULL, 0);
    }
    return false;
}

int emu_adapter_remove(emu_runtime *rt, emu_adapter *ad, bool surprise, bool failed)
{
    if (ad->state == AD_HALTED || emu_obj_dead(&ad->obj))
        return EMU_ERR_INVAL;
    if (!surprise && !failed && !query_remove(rt, ad))
        return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_ERR_VETOED;
    if (surprise) {
        /* The hardware is gone first; then NDIS tells the miniport. */
        emu_lock(rt);
        ad->surprise_removed = true;
        emu_unlock(rt);
        emu_device_detach(rt, ad);
        NET_DEVICE_PNP_EVENT ev;
        memset(&ev, 0, sizeof(ev));
        EMU_INIT_HEADER(&ev.Header, NDIS_OBJECT_TYPE_DEFAULT, 1, sizeof(ev));
        ev.DevicePnPEvent = NdisDevicePnPEventSurpriseRemoved;
        emu_stack_device_pnp(rt, ad, ad->n_filters, &ev);
    }
    for (int i = 0; i < EMU_MAX_BINDINGS && !emu_stopped(rt); i++) {
        if (ad->bindings[i])
            emu_unbind(rt, ad->bindings[i]);
    }
    if (emu_stopped(rt))
        return EMU_ERR_STOPPED;
    /* The filter modules go after the protocols, before the miniport. */
    if (ad->n_filters && emu_filters_detach_all(rt, ad))
        return EMU_ERR_STOPPED;
    if (ad->power == 0) {
        int err = emu_mp_pause(rt, ad, NDIS_PAUSE_MINIPORT_DEVICE_REMOVE);
        if (err)
            return err;
    }
    if (!emu_wait(rt, hang_task_cancelled, ad, EMU_WAIT_NS) || !emu_reset_wait_idle(rt, ad))
        return EMU_ERR_STOPPED;
    NDIS_HALT_ACTION action = ad->im_deinit ? NdisHaltDeviceInstanceDeInitialized
                              : surprise    ? NdisHaltDeviceSurpriseRemoved
                              : failed      ? NdisHaltDeviceFailed
                                            : NdisHaltDeviceDisabled;
    emu_cb_scope s;
    emu_cb_begin(&s, "MiniportHaltEx", ad->drv, ad, PASSIVE_LEVEL);
    ad->drv->mp->ch.HaltHandlerEx(ad->ctx, action);
    emu_cb_end(&s);
    emu_device_detach(rt, ad);
    emu_lock(rt);
    ad->state = AD_HALTED;
    emu_unlock(rt);
    emu_im_adapter_gone(rt, ad);
    if (emu_stopped(rt))
        return EMU_ERR_STOPPED;
    bool clean = emu_leak_check(rt, ad->drv, ad, "LeakAtHalt", "MiniportHaltEx");
    emu_lock(rt);
    /* Whatever the driver still charges to the adapter now counts against
     * the driver only (and is caught again at unload). */
    emu_obj_kill(rt, &ad->obj);
    emu_unlock(rt);
    emu_netcfg_notify(rt, EMU_NC_ADAPTER_REMOVAL, ad->id, NULL);
    return clean ? EMU_OK : EMU_ERR_STOPPED;
}

/* Sleep: pause the bindings, tell the protocols, pause the miniport, then
 * OID_PNP_SET_POWER. Wake: OID_PNP_SET_POWER D0, restart the miniport, tell
 * the protocols, restart the bindings. */
int emu_adapter_power(emu_runtime *rt, emu_adapter *ad, int dstate)
{
    if (ad->state == AD_HALTED || emu_obj_dead(&ad->obj) || (dstate != 0 && dstate != 3))
        return EMU_ERR_INVAL;
    if ((dstate == 3) == (ad->power == 3))
        return EMU_OK;
    if (dstate == 3) {
        for (int i = 0; i < EMU_MAX_BINDINGS && !emu_stopped(rt); i++) {
            if (ad->bindings[i])
                emu_binding_pnp(rt, ad->bindings[i], NetEventPause, NULL, NDIS_PAUSE_LOW_POWER);
        }
        NET_DEVICE_POWER_STATE ps = NetDeviceStateD3;
        emu_stack_net_pnp(rt, ad, 0, NetEventSetPower, &ps, sizeof(ps));
        int err = emu_filters_pause(rt, ad, NDIS_PAUSE_LOW_POWER);
        if (!err)
            err = emu_mp_pause(rt, ad, NDIS_PAUSE_LOW_POWER);
        if (err)
            return err;
        NDIS_DEVICE_POWER_STATE d = NdisDeviceStateD3;
        NDIS_STATUS st =
            emu_oid_internal(rt, ad, NdisRequestSetInformation, OID_PNP_SET_POWER, &d, sizeof(d));
        if (emu_stopped(rt))
            return EMU_ERR_STOPPED;
        emu_lock(rt);
        ad->power = 3;
        emu_unlock(rt);
        return st == NDIS_STATUS_SUCCESS ? EMU_OK : EMU_ERR_DRIVER;
    }
    NDIS_DEVICE_POWER_STATE d = NdisDeviceStateD0;
    NDIS_STATUS st =
        emu_oid_internal(rt, ad, NdisRequestSetInformation, OID_PNP_SET_POWER, &d, sizeof(d));
    if (emu_stopped(rt))
        return EMU_ERR_STOPPED;
    if (st != NDIS_STATUS_SUCCESS)
        return EMU_ERR_DRIVER;
    emu_lock(rt);
    ad->power = 0;
    emu_unlock(rt);
    int err = emu_mp_restart(rt, ad);
    if (!err)
        err = emu_filters_restart(rt, ad);
    if (err)
        return err;
    NET_DEVICE_POWER_STATE ps = NetDeviceStateD0;
    emu_stack_net_pnp(rt, ad, 0, NetEventSetPower, &ps, sizeof(ps));
    for (int i = 0; i < EMU_MAX_BINDINGS && !emu_stopped(rt); i++) {
        if (ad->bindings[i])
            emu_binding_pnp(rt, ad->bindings[i], NetEventRestart, NULL, 0);
    }
    return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_OK;
}

/* A stack restart (what NDIS does to insert a filter or apply a setting that
 * needs the data path quiet): the bindings are paused, then the miniport;
 * the miniport is restarted, then the bindings. */
static int restart_stack_op(emu_runtime *rt, void *arg)
{
    emu_adapter *ad = arg;
    if (ad->state != AD_RUNNING || emu_obj_dead(&ad->obj))
        return EMU_ERR_BUSY;
    for (int i = 0; i < EMU_MAX_BINDINGS && !emu_stopped(rt); i++) {
        if (ad->bindings[i])
            emu_binding_pnp(rt, ad->bindings[i], NetEventPause, NULL, NDIS_PAUSE_NDIS_INTERNAL);
    }
    int err = emu_filters_pause(rt, ad, NDIS_PAUSE_NDIS_INTERNAL);
    if (!err)
        err = emu_mp_pause(rt, ad, NDIS_PAUSE_NDIS_INTERNAL);
    if (!err)
        err = emu_mp_restart(rt, ad);
    if (!err)
        err = emu_filters_restart(rt, ad);
    if (err)
        return err;
    for (int i = 0; i < EMU_MAX_BINDINGS && !emu_stopped(rt); i++) {
        if (ad->bindings[i])
            emu_binding_pnp(rt, ad->bindings[i], NetEventRestart, NULL, 0);
    }
    return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_OK;
}

/* ---- the synchronous and asynchronous public entry points ---- */

typedef struct add_req {
    emu_device_desc desc;
    char instance[EMU_NAME_MAX], pnp[EMU_NAME_MAX], service[EMU_NAME_MAX];
    emu_adapter *ad;
} add_req;

static int add_req_op(emu_runtime *rt, void *arg)
{
    add_req *r = arg;
    return emu_adapter_add(rt, &r->desc, &r->ad);
}

static add_req *add_req_new(const emu_device_desc *desc)
{
    add_req *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->desc = *desc;
    snprintf(r->instance, sizeof(r->instance), "%s", desc->instance ? desc->instance : "");
    snprintf(r->pnp, sizeof(r->pnp), "%s", desc->pnp_id ? desc->pnp_id : "");
    snprintf(r->service, sizeof(r->service), "%s", desc->service ? desc->service : "");
    r->desc.instance = desc->instance ? r->instance : NULL;
    r->desc.pnp_id = desc->pnp_id ? r->pnp : NULL;
    r->desc.service = desc->service ? r->service : NULL;
    return r;
}

int emu_add_device(emu_runtime *rt, const emu_device_desc *desc, emu_adapter **out)
{
    if (!desc)
        return EMU_ERR_INVAL;
    add_req r = { .desc = *desc };
    int err = emu_pnp_run(rt, add_req_op, &r);
    if (out)
        *out = err == EMU_OK ? r.ad : NULL;
    return err;
}

typedef struct async_add {
    add_req *r;
    emu_done_fn done;
    void *ctx;
} async_add;

static void async_add_done(void *ctx, int status)
{
    async_add *a = ctx;
    if (a->done)
        a->done(a->ctx, status);
    free(a->r);
    free(a);
}

int emu_request_add_device(emu_runtime *rt, const emu_device_desc *desc, emu_done_fn done,
                           void *ctx)
{
    if (!desc)
        return EMU_ERR_INVAL;
    async_add *a = calloc(1, sizeof(*a));
    if (!a)
        return EMU_ERR_NOMEM;
    a->r = add_req_new(desc);
    a->done = done;
    a->ctx = ctx;
    if (!a->r) {
        free(a);
        return EMU_ERR_NOMEM;
    }
    int err = emu_pnp_post(rt, add_req_op, a->r, async_add_done, a);
    if (err) {
        free(a->r);
        free(a);
    }
    return err;
}

static int remove_op(emu_runtime *rt, void *arg)
{
    return emu_adapter_remove(rt, arg, false, false);
}

static int surprise_op(emu_runtime *rt, void *arg)
{
    return emu_adapter_remove(rt, arg, true, false);
}

static bool adapter_ok(emu_runtime *rt, emu_adapter *ad)
{
    emu_obj *o = emu_obj_peek(ad);
    if (!o || o->kind != K_ADAPTER)
        return false;
    emu_lock(rt);
    bool ok = !emu_obj_dead(o) && ad->state != AD_HALTED;
    emu_unlock(rt);
    return ok;
}

int emu_remove_device(emu_runtime *rt, emu_adapter *ad)
{
    return adapter_ok(rt, ad) ? emu_pnp_run(rt, remove_op, ad) : EMU_ERR_INVAL;
}

int emu_surprise_remove(emu_runtime *rt, emu_adapter *ad)
{
    return adapter_ok(rt, ad) ? emu_pnp_run(rt, surprise_op, ad) : EMU_ERR_INVAL;
}

int emu_request_remove(emu_runtime *rt, emu_adapter *ad, bool surprise, emu_done_fn done, void *ctx)
{
    if (!adapter_ok(rt, ad))
        return EMU_ERR_INVAL;
    return emu_pnp_post(rt, surprise ? surprise_op : remove_op, ad, done, ctx);
}

static int reset_op(emu_runtime *rt, void *arg)
{
    emu_adapter *ad = arg;
    emu_lock(rt);
    bool running =
        ad->state == AD_RUNNING && ad->power == 0 && !ad->surprise_removed && !ad->resetting;
    emu_unlock(rt);
    if (!running)
        return EMU_ERR_BUSY;
    emu_reset_miniport(rt, ad, "requested (emu_request_reset)");
    return EMU_OK;
}

int emu_request_reset(emu_runtime *rt, emu_adapter *ad, emu_done_fn done, void *ctx)
{
    if (!adapter_ok(rt, ad) || !ad->drv->mp->ch.ResetHandlerEx)
        return EMU_ERR_INVAL;
    return emu_pnp_post(rt, reset_op, ad, done, ctx);
}

typedef struct power_req {
    emu_adapter *ad;
    int d;
} power_req;

static int power_op(emu_runtime *rt, void *arg)
{
    power_req *p = arg;
    return emu_adapter_power(rt, p->ad, p->d);
}

static int power_op_owned(emu_runtime *rt, void *arg)
{
    int st = power_op(rt, arg);
    free(arg);
    return st;
}

int emu_set_power(emu_runtime *rt, emu_adapter *ad, int dstate)
{
    if (!adapter_ok(rt, ad))
        return EMU_ERR_INVAL;
    power_req p = { ad, dstate };
    return emu_pnp_run(rt, power_op, &p);
}

static int shutdown_op(emu_runtime *rt, void *arg)
{
    bool bugcheck = *(bool *)arg;
    for (emu_adapter *ad = emu_adapters_head(rt); ad && !emu_stopped(rt); ad = ad->next) {
        emu_lock(rt);
        bool live = !emu_obj_dead(&ad->obj) && ad->state != AD_HALTED &&
                    ad->state != AD_INITIALIZING && !ad->shut_down;
        emu_unlock(rt);
        if (!live)
            continue;
        emu_cb_scope s;
        emu_cb_begin(&s, "MiniportShutdownEx", ad->drv, ad, bugcheck ? HIGH_LEVEL : PASSIVE_LEVEL);
        ad->drv->mp->ch.ShutdownHandlerEx(ad->ctx,
                                          bugcheck ? NdisShutdownBugCheck : NdisShutdownPowerOff);
        emu_cb_end(&s);
        emu_lock(rt);
        ad->shut_down = true;
        emu_unlock(rt);
    }
    return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_OK;
}

int emu_system_shutdown(emu_runtime *rt, bool bugcheck)
{
    return emu_pnp_run(rt, shutdown_op, &bugcheck);
}

int emu_restart_stack(emu_runtime *rt, emu_adapter *ad)
{
    if (!adapter_ok(rt, ad))
        return EMU_ERR_INVAL;
    return emu_pnp_run(rt, restart_stack_op, ad);
}

int emu_request_power(emu_runtime *rt, emu_adapter *ad, int dstate, emu_done_fn done, void *ctx)
{
    if (!adapter_ok(rt, ad))
        return EMU_ERR_INVAL;
    power_req *p = malloc(sizeof(*p));
    if (!p)
        return EMU_ERR_NOMEM;
    p->ad = ad;
    p->d = dstate;
    int err = emu_pnp_post(rt, power_op_owned, p, done, ctx);
    if (err)
        free(p);
    return err;
}
