/*
 * filter.c - NDIS 6 lightweight filters: registration, the filter stack over
 * each miniport (FilterClass order, modifying and monitoring, mandatory and
 * optional), attach, pause, restart, detach, and attaching or detaching at
 * run time with the stack paused around it, as NDIS does.
 *
 * The stack of one miniport, bottom to top: the miniport, ad->filters[0..n),
 * the protocol bindings. NDIS pauses it top down (bindings, filters from the
 * top, the miniport) and restarts it bottom up; a filter module is attached
 * and detached only while the whole stack is paused ("Filter Module States
 * and Operations", "Inserting a Filter into a Driver Stack").
 */
#include "emu_internal.h"

#include <stdlib.h>
#include <strings.h>

emu_filter_driver *emu_filter_drivers_head(emu_runtime *rt)
{
    emu_lock(rt);
    emu_filter_driver *fd = rt->filter_drivers;
    emu_unlock(rt);
    return fd;
}

bool emu_driver_has_filter(emu_runtime *rt, const emu_driver *drv)
{
    for (emu_filter_driver *fd = rt->filter_drivers; fd; fd = fd->next) {
        if (fd->drv == drv && !emu_obj_dead(&fd->obj))
            return true;
    }
    return false;
}

int emu_filter_level(const emu_filter *f)
{
    for (int i = 0; i < f->ad->n_filters; i++) {
        if (f->ad->filters[i] == f)
            return i;
    }
    return -1;
}

/* ---- ordering: FilterClass, then modifying below monitoring ---- */

/* The documented FilterClass values, from the top of the stack (next to the
 * protocols) to the bottom (next to the miniport); "custom" for any other.
 * Source: "Specifying Filter Class" (NDIS filter INF files). */
static const char *const k_classes[] = {
    "ms_firewall_upper",
    "scheduler",
    "encryption",
    "compression",
    "vpn",
    "load_balance",
    "failover",
    "diagnostic",
    "custom",
    "provider_address",
    "ms_medium_converter_top",
    "ms_medium_converter_128",
    "ms_firewall_lower",
    "ms_switch_forward",
};

static int class_rank(const emu_desc *d)
{
    for (size_t i = 0; i < ARRAYSIZE(k_classes); i++) {
        if (strcasecmp(d->filter_class, k_classes[i]) == 0)
            return (int)i;
    }
    return 8; /* custom */
}

/* True when a belongs above b. Monitoring filters sit above the modifying
 * ones they watch (stricter reading of "a monitoring filter is layered over
 * each modifying filter": we model one instance, at the top). */
static bool filter_above(const emu_filter_driver *a, const emu_filter_driver *b)
{
    if (a->drv->desc.filter_monitoring != b->drv->desc.filter_monitoring)
        return a->drv->desc.filter_monitoring;
    int ra = class_rank(&a->drv->desc), rb = class_rank(&b->drv->desc);
    if (ra != rb)
        return ra < rb;
    return strcmp(a->name, b->name) < 0;
}

static bool media_matches(const emu_filter_driver *fd, const emu_adapter *ad)
{
    const emu_range_set *m = &fd->drv->desc.filter_media;
    for (int i = 0; i < m->n; i++) {
        if (strcasecmp(m->names[i], "ethernet") == 0 && ad->gen.MediaType == NdisMedium802_3)
            return true;
        if (strcasecmp(m->names[i], "all") == 0)
            return true;
    }
    return false;
}

static emu_filter *module_of(emu_adapter *ad, const emu_filter_driver *fd)
{
    for (int i = 0; i < ad->n_filters; i++) {
        if (ad->filters[i]->fd == fd)
            return ad->filters[i];
    }
    return NULL;
}

/* ---- registration ---- */

static int register_attach_op(emu_runtime *rt, void *arg);

static bool chars_valid(const NDIS_FILTER_DRIVER_CHARACTERISTICS *c)
{
    if (c->Header.Type != NDIS_OBJECT_TYPE_FILTER_DRIVER_CHARACTERISTICS ||
        c->Header.Size < NDIS_SIZEOF_FILTER_DRIVER_CHARACTERISTICS_REVISION_1 ||
        c->MajorNdisVersion != 6)
        return false;
    /* FilterAttach, FilterDetach, FilterRestart and FilterPause are
     * required; the data path handlers come in pairs (a module in a path
     * must also see that path's completions). */
    if (!c->AttachHandler || !c->DetachHandler || !c->RestartHandler || !c->PauseHandler)
        return false;
    if (!c->SendNetBufferListsHandler != !c->SendNetBufferListsCompleteHandler ||
        !c->ReceiveNetBufferListsHandler != !c->ReturnNetBufferListsHandler ||
        !c->OidRequestHandler != !c->OidRequestCompleteHandler)
        return false;
    return true;
}

NDIS_STATUS NdisFRegisterFilterDriver(PDRIVER_OBJECT DriverObject, NDIS_HANDLE FilterDriverContext,
                                      PNDIS_FILTER_DRIVER_CHARACTERISTICS Chars,
                                      PNDIS_HANDLE NdisFilterDriverHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisFRegisterFilterDriver", "-"))
        return NDIS_STATUS_FAILURE;
    emu_driver *drv = emu_self()->cur_drv;
    if (!drv || !DriverObject || !Chars || !NdisFilterDriverHandle)
        return NDIS_STATUS_INVALID_PARAMETER;
    if (!chars_valid(Chars)) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return NDIS_STATUS_BAD_CHARACTERISTICS;
    }
    if (!drv->desc.has_filter) {
        /* NDIS finds the filter through its INF: no [filter] section, no
         * filter service to bind. */
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return NDIS_STATUS_FAILURE;
    }
    emu_lock(rt);
    emu_filter_driver *fd = emu_obj_new_runtime(rt, sizeof(*fd), K_FILTER_DRIVER, drv);
    if (!fd) {
        emu_unlock(rt);
        return NDIS_STATUS_RESOURCES;
    }
    fd->drv = drv;
    memset(&fd->ch, 0, sizeof(fd->ch));
    memcpy(&fd->ch, Chars,
           Chars->Header.Size < sizeof(fd->ch) ? Chars->Header.Size : sizeof(fd->ch));
    fd->ctx = FilterDriverContext;
    snprintf(fd->name, sizeof(fd->name), "%.63s", drv->desc.service);
    fd->next = rt->filter_drivers;
    rt->filter_drivers = fd;
    emu_unlock(rt);
    *NdisFilterDriverHandle = fd;
    /* Like NDIS: attached to the running miniports after DriverEntry. */
    emu_pnp_post(rt, register_attach_op, fd, NULL, NULL);
    return NDIS_STATUS_SUCCESS;
}

/* ---- attach ---- */

static void fill_attach_params(emu_filter *f)
{
    emu_adapter *ad = f->ad;
    NDIS_FILTER_ATTACH_PARAMETERS *ap = &f->ap;
    memset(ap, 0, sizeof(*ap));
    EMU_INIT_HEADER(&ap->Header, NDIS_OBJECT_TYPE_FILTER_ATTACH_PARAMETERS,
                    NDIS_FILTER_ATTACH_PARAMETERS_REVISION_4,
                    NDIS_SIZEOF_FILTER_ATTACH_PARAMETERS_REVISION_4);
    char guid[80];
    snprintf(guid, sizeof(guid), "{%s-%08x}", f->fd->name, ad->id);
    emu_ascii_to_wstr(guid, f->guid_buf, ARRAYSIZE(f->guid_buf), &f->guid);
    ap->IfIndex = ad->id;
    ap->NetLuid.Info.NetLuidIndex = ad->id;
    ap->FilterModuleGuidName = &f->guid;
    ap->BaseMiniportIfIndex = ad->id;
    ap->BaseMiniportInstanceName = &ad->name;
    ap->BaseMiniportName = &ad->name;
    ap->MediaConnectState = ad->link.MediaConnectState;
    ap->MediaDuplexState = ad->link.MediaDuplexState;
    ap->XmitLinkSpeed = ad->link.XmitLinkSpeed;
    ap->RcvLinkSpeed = ad->link.RcvLinkSpeed;
    ap->MiniportMediaType = ad->gen.MediaType;
    ap->MiniportPhysicalMediaType = ad->gen.PhysicalMediumType;
    ap->DefaultOffloadConfiguration = ad->have_offload ? &ad->offload : NULL;
    ap->MacAddressLength = ad->gen.MacAddressLength;
    memcpy(ap->CurrentMacAddress, ad->gen.CurrentMacAddress, sizeof(ap->CurrentMacAddress));
    ap->BaseMiniportNetLuid = ap->NetLuid;
    ap->LowerIfIndex = ad->id; /* one interface: filter modules are not NDIS interfaces here */
    ap->LowerIfNetLuid = ap->NetLuid;
    ap->BaseMiniportIfConnectorPresent = ad->gen.IfConnectorPresent;
}

static void module_take_handlers(emu_filter *f)
{
    const NDIS_FILTER_DRIVER_CHARACTERISTICS *c = &f->fd->ch;
    f->send = c->SendNetBufferListsHandler;
    f->send_complete = c->SendNetBufferListsCompleteHandler;
    f->cancel_send = c->CancelSendNetBufferListsHandler;
    f->receive = c->ReceiveNetBufferListsHandler;
    f->ret = c->ReturnNetBufferListsHandler;
}

/* Inserts a new module for fd into ad's stack (paused) and calls
 * FilterAttach. EMU_OK: attached (Paused); EMU_ERR_DRIVER: it failed (and
 * *mandatory says whether that keeps the miniport from binding). */
static int attach_module(emu_runtime *rt, emu_adapter *ad, emu_filter_driver *fd, bool *mandatory)
{
    *mandatory = !fd->drv->desc.filter_optional;
    emu_lock(rt);
    if (ad->n_filters == EMU_MAX_FILTERS || module_of(ad, fd)) {
        emu_unlock(rt);
        return ad->n_filters == EMU_MAX_FILTERS ? EMU_ERR_NOMEM : EMU_OK;
    }
    emu_filter *f = emu_obj_new_runtime(rt, sizeof(*f), K_FILTER_MODULE, fd->drv);
    if (!f) {
        emu_unlock(rt);
        return EMU_ERR_NOMEM;
    }
    f->fd = fd;
    f->ad = ad;
    f->state = F_ATTACHING;
    module_take_handlers(f);
    /* its place: below the first module it belongs under */
    int pos = 0;
    while (pos < ad->n_filters && filter_above(fd, ad->filters[pos]->fd))
        pos++;
    memmove(&ad->filters[pos + 1], &ad->filters[pos],
            (size_t)(ad->n_filters - pos) * sizeof(ad->filters[0]));
    ad->filters[pos] = f;
    ad->n_filters++;
    fill_attach_params(f);
    emu_unlock(rt);

    emu_cb_scope s;
    emu_cb_begin(&s, "FilterAttach", fd->drv, NULL, PASSIVE_LEVEL);
    NDIS_STATUS st = fd->ch.AttachHandler(f, fd->ctx, &f->ap);
    emu_cb_end(&s);
    if (emu_stopped(rt))
        return EMU_ERR_STOPPED;
    if (st == NDIS_STATUS_SUCCESS && !f->attrs_set) {
        emu_violate(rt, "FilterAttributes", "FilterAttach",
                    "%s over %s: FilterAttach returned SUCCESS without NdisFSetAttributes (the "
                    "module has no FilterModuleContext)",
                    fd->name, ad->instance);
        return EMU_ERR_STOPPED;
    }
    emu_lock(rt);
    if (st == NDIS_STATUS_SUCCESS) {
        f->state = F_PAUSED;
    } else {
        /* Failed: the module never existed. A mandatory filter may ask to
         * be treated as optional for this failure. */
        if (f->ap.Flags & NDIS_FILTER_ATTACH_FLAGS_IGNORE_MANDATORY)
            *mandatory = false;
        int lvl = emu_filter_level(f);
        memmove(&ad->filters[lvl], &ad->filters[lvl + 1],
                (size_t)(ad->n_filters - lvl - 1) * sizeof(ad->filters[0]));
        ad->n_filters--;
        f->state = F_DETACHED;
        emu_obj_kill(rt, &f->obj);
    }
    emu_unlock(rt);
    return st == NDIS_STATUS_SUCCESS ? EMU_OK : EMU_ERR_DRIVER;
}

static bool wants_adapter(emu_runtime *rt, emu_filter_driver *fd, emu_adapter *ad)
{
    return !emu_obj_dead(&fd->obj) && media_matches(fd, ad) &&
           emu_path_enabled(rt, fd->name, ad->instance);
}

/* The filters of a new stack, bottom first: each in turn is placed by
 * attach_module, so the order of attachment does not change the result. */
int emu_filters_attach_all(emu_runtime *rt, emu_adapter *ad)
{
    emu_filter_driver *list[16];
    int n = 0;
    for (emu_filter_driver *fd = emu_filter_drivers_head(rt); fd && n < 16; fd = fd->next) {
        if (wants_adapter(rt, fd, ad))
            list[n++] = fd;
    }
    /* bottom first: the lowest filter is the one no other belongs under */
    for (int i = 0; i < n; i++) {
        for (int j = i + 1; j < n; j++) {
            if (filter_above(list[i], list[j])) {
                emu_filter_driver *t = list[i];
                list[i] = list[j];
                list[j] = t;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        bool mandatory;
        int err = attach_module(rt, ad, list[i], &mandatory);
        if (err == EMU_ERR_STOPPED)
            return err;
        if (err == EMU_ERR_DRIVER && mandatory) {
            emu_lock(rt);
            ad->filter_failed = true;
            emu_unlock(rt);
        }
    }
    return EMU_OK;
}

/* ---- pause and restart (top down, bottom up) ---- */

static int pause_module(emu_runtime *rt, emu_filter *f, ULONG reason)
{
    NDIS_FILTER_PAUSE_PARAMETERS pp;
    memset(&pp, 0, sizeof(pp));
    EMU_INIT_HEADER(&pp.Header, NDIS_OBJECT_TYPE_FILTER_PAUSE_PARAMETERS,
                    NDIS_FILTER_PAUSE_PARAMETERS_REVISION_1,
                    NDIS_SIZEOF_FILTER_PAUSE_PARAMETERS_REVISION_1);
    pp.PauseReason = reason;
    emu_lock(rt);
    f->state = F_PAUSING;
    f->pause_done = false;
    emu_unlock(rt);
    emu_cb_scope s;
    emu_cb_begin(&s, "FilterPause", f->fd->drv, NULL, PASSIVE_LEVEL);
    NDIS_STATUS st = f->fd->ch.PauseHandler(f->ctx, &pp);
    emu_cb_end(&s);
    if (st == NDIS_STATUS_PENDING) {
        if (!emu_wait_flag(rt, &f->pause_done, "FilterPause (pending)"))
            return EMU_ERR_STOPPED;
        return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_OK;
    }
    if (st != NDIS_STATUS_SUCCESS) {
        emu_violate(rt, "FilterPause_Return", "FilterPause",
                    "%s over %s: FilterPause returned %#x; only SUCCESS or PENDING are allowed",
                    f->fd->name, f->ad->instance, (unsigned)st);
        return EMU_ERR_STOPPED;
    }
    emu_lock(rt);
    if (f->pause_done)
        emu_violate(rt, "FilterPause_Return", "FilterPause",
                    "%s over %s: FilterPause returned SUCCESS after NdisFPauseComplete",
                    f->fd->name, f->ad->instance);
    else if (f->sends_out || f->recvs_out || f->sends_in || f->recvs_in)
        emu_violate(rt, "FilterPauseWithOutstanding", "FilterPause",
                    "%s over %s: pause returned SUCCESS with NBLs outstanding: %llu sent down "
                    "and %llu indicated up not back, %llu sent to it and %llu indicated to it "
                    "not given back",
                    f->fd->name, f->ad->instance, (unsigned long long)f->sends_out,
                    (unsigned long long)f->recvs_out, (unsigned long long)f->sends_in,
                    (unsigned long long)f->recvs_in);
    else
        f->state = F_PAUSED;
    emu_unlock(rt);
    return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_OK;
}

void NdisFPauseComplete(NDIS_HANDLE NdisFilterHandle)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisFPauseComplete";
    if (!emu_enter(call, "-"))
        return;
    emu_filter *f = (emu_filter *)emu_obj_check(rt, NdisFilterHandle, K_FILTER_MODULE, call);
    if (!f)
        return;
    emu_lock(rt);
    if (f->state != F_PAUSING || f->pause_done) {
        emu_violate(rt, "FilterPause_Return", call,
                    "%s over %s: pause completed while no pause was pending", f->fd->name,
                    f->ad->instance);
    } else if (f->sends_out || f->recvs_out || f->sends_in || f->recvs_in) {
        emu_violate(rt, "FilterPauseWithOutstanding", call,
                    "%s over %s: pause completed with NBLs outstanding: %llu sent down and %llu "
                    "indicated up not back, %llu sent to it and %llu indicated to it not given "
                    "back",
                    f->fd->name, f->ad->instance, (unsigned long long)f->sends_out,
                    (unsigned long long)f->recvs_out, (unsigned long long)f->sends_in,
                    (unsigned long long)f->recvs_in);
    } else {
        f->state = F_PAUSED;
        f->pause_done = true;
        emu_broadcast(rt);
    }
    emu_unlock(rt);
}

int emu_filters_pause(emu_runtime *rt, emu_adapter *ad, ULONG reason)
{
    for (int i = ad->n_filters - 1; i >= 0 && !emu_stopped(rt); i--) {
        emu_filter *f = ad->filters[i];
        if (f->state == F_RUNNING) {
            int err = pause_module(rt, f, reason);
            if (err)
                return err;
        }
    }
    return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_OK;
}

/* FilterSetModuleOptions: NDIS calls it on a paused module before its
 * restart; the module may change its data path handlers there. */
static void set_module_options(emu_runtime *rt, emu_filter *f)
{
    if (!f->fd->ch.SetFilterModuleOptionsHandler)
        return;
    emu_lock(rt);
    f->in_set_options = true;
    emu_unlock(rt);
    emu_cb_scope s;
    emu_cb_begin(&s, "FilterSetModuleOptions", f->fd->drv, NULL, PASSIVE_LEVEL);
    NDIS_STATUS st = f->fd->ch.SetFilterModuleOptionsHandler(f->ctx);
    emu_cb_end(&s);
    emu_lock(rt);
    f->in_set_options = false;
    emu_unlock(rt);
    if (st != NDIS_STATUS_SUCCESS)
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
}

static int restart_module(emu_runtime *rt, emu_filter *f)
{
    set_module_options(rt, f);
    NDIS_FILTER_RESTART_PARAMETERS rp;
    memset(&rp, 0, sizeof(rp));
    EMU_INIT_HEADER(&rp.Header, NDIS_OBJECT_TYPE_FILTER_RESTART_PARAMETERS,
                    NDIS_FILTER_RESTART_PARAMETERS_REVISION_1,
                    NDIS_SIZEOF__FILTER_RESTART_PARAMETERS_REVISION_1);
    rp.MiniportMediaType = f->ad->gen.MediaType;
    rp.MiniportPhysicalMediaType = f->ad->gen.PhysicalMediumType;
    rp.LowerIfIndex = f->ad->id;
    rp.LowerIfNetLuid.Info.NetLuidIndex = f->ad->id;
    emu_lock(rt);
    f->state = F_RESTARTING;
    emu_unlock(rt);
    emu_op_start(rt, &f->restart);
    emu_cb_scope s;
    emu_cb_begin(&s, "FilterRestart", f->fd->drv, NULL, PASSIVE_LEVEL);
    NDIS_STATUS st = f->fd->ch.RestartHandler(f->ctx, &rp);
    emu_cb_end(&s);
    if (!emu_op_finish(rt, &f->restart, &st, "FilterRestart"))
        return EMU_ERR_STOPPED;
    emu_lock(rt);
    f->state = st == NDIS_STATUS_SUCCESS ? F_RUNNING : F_PAUSED;
    emu_unlock(rt);
    return st == NDIS_STATUS_SUCCESS ? EMU_OK : EMU_ERR_DRIVER;
}

void NdisFRestartComplete(NDIS_HANDLE NdisFilterHandle, NDIS_STATUS Status)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisFRestartComplete", "status=%#x", (unsigned)Status))
        return;
    emu_filter *f =
        (emu_filter *)emu_obj_check(rt, NdisFilterHandle, K_FILTER_MODULE, "NdisFRestartComplete");
    if (f)
        emu_op_complete(rt, &f->restart, Status, "NdisFRestartComplete", "filter restart");
}

int emu_filters_restart(emu_runtime *rt, emu_adapter *ad)
{
    for (int i = 0; i < ad->n_filters && !emu_stopped(rt); i++) {
        emu_filter *f = ad->filters[i];
        if (f->state == F_PAUSED) {
            int err = restart_module(rt, f);
            if (err)
                return err;
        }
    }
    return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_OK;
}

/* ---- detach ---- */

static int detach_module(emu_runtime *rt, emu_filter *f)
{
    emu_lock(rt);
    bool busy = f->sends_out || f->recvs_out || f->sends_in || f->recvs_in;
    emu_unlock(rt);
    if (busy) {
        emu_violate(rt, "FilterPauseWithOutstanding", "FilterDetach",
                    "%s over %s: detached with NBLs outstanding (%llu/%llu sent/indicated by "
                    "it, %llu/%llu sent/indicated to it)",
                    f->fd->name, f->ad->instance, (unsigned long long)f->sends_out,
                    (unsigned long long)f->recvs_out, (unsigned long long)f->sends_in,
                    (unsigned long long)f->recvs_in);
        return EMU_ERR_STOPPED;
    }
    emu_cb_scope s;
    emu_cb_begin(&s, "FilterDetach", f->fd->drv, NULL, PASSIVE_LEVEL);
    f->fd->ch.DetachHandler(f->ctx);
    emu_cb_end(&s);
    emu_lock(rt);
    emu_adapter *ad = f->ad;
    int lvl = emu_filter_level(f);
    if (lvl >= 0) {
        memmove(&ad->filters[lvl], &ad->filters[lvl + 1],
                (size_t)(ad->n_filters - lvl - 1) * sizeof(ad->filters[0]));
        ad->n_filters--;
    }
    f->state = F_DETACHED;
    emu_obj_kill(rt, &f->obj); /* the NdisFilterHandle is invalid from now on */
    emu_unlock(rt);
    return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_OK;
}

int emu_filters_detach_all(emu_runtime *rt, emu_adapter *ad)
{
    int err = emu_filters_pause(rt, ad, NDIS_PAUSE_DETACH_FILTER);
    while (!err && ad->n_filters > 0)
        err = detach_module(rt, ad->filters[ad->n_filters - 1]);
    return err;
}

/* ---- run-time attach and detach: the whole stack paused around it ---- */

static void bindings_pnp(emu_runtime *rt, emu_adapter *ad, NET_PNP_EVENT_CODE code, ULONG reason)
{
    for (int i = 0; i < EMU_MAX_BINDINGS && !emu_stopped(rt); i++) {
        if (ad->bindings[i])
            emu_binding_pnp(rt, ad->bindings[i], code, NULL, reason);
    }
}

/* Pauses ad's stack, runs change (attach or detach of fd), restarts it. A
 * mandatory filter that fails to attach takes the bindings down instead. */
static int restack(emu_runtime *rt, emu_adapter *ad, emu_filter_driver *fd, bool attach)
{
    if (ad->state != AD_RUNNING || ad->power != 0 || emu_obj_dead(&ad->obj))
        return EMU_ERR_BUSY;
    ULONG reason = attach ? NDIS_PAUSE_ATTACH_FILTER : NDIS_PAUSE_DETACH_FILTER;
    bindings_pnp(rt, ad, NetEventPause, reason);
    int err = emu_filters_pause(rt, ad, reason);
    if (!err)
        err = emu_mp_pause(rt, ad, reason);
    if (err)
        return err;
    int result = EMU_OK;
    if (attach) {
        bool mandatory;
        result = attach_module(rt, ad, fd, &mandatory);
        if (result == EMU_ERR_STOPPED)
            return result;
        if (result == EMU_ERR_DRIVER && mandatory) {
            emu_lock(rt);
            ad->filter_failed = true;
            emu_unlock(rt);
        }
    } else {
        emu_lock(rt);
        emu_filter *f = module_of(ad, fd);
        emu_unlock(rt);
        if (f && (err = detach_module(rt, f)))
            return err;
    }
    if ((err = emu_mp_restart(rt, ad)) || (err = emu_filters_restart(rt, ad)))
        return err;
    if (ad->filter_failed) {
        /* The stack cannot run without its mandatory filter. */
        for (int i = 0; i < EMU_MAX_BINDINGS && !emu_stopped(rt); i++) {
            if (ad->bindings[i])
                emu_unbind(rt, ad->bindings[i]);
        }
    } else {
        bindings_pnp(rt, ad, NetEventRestart, 0);
    }
    return emu_stopped(rt) ? EMU_ERR_STOPPED : result;
}

static int register_attach_op(emu_runtime *rt, void *arg)
{
    emu_filter_driver *fd = arg;
    for (emu_adapter *ad = emu_adapters_head(rt); ad && !emu_stopped(rt); ad = ad->next) {
        if (ad->state == AD_RUNNING && ad->power == 0 && wants_adapter(rt, fd, ad))
            restack(rt, ad, fd, true);
    }
    return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_OK;
}

void NdisFDeregisterFilterDriver(NDIS_HANDLE NdisFilterDriverHandle)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisFDeregisterFilterDriver";
    if (!emu_enter(call, "%p", NdisFilterDriverHandle))
        return;
    emu_filter_driver *fd =
        (emu_filter_driver *)emu_obj_check(rt, NdisFilterDriverHandle, K_FILTER_DRIVER, call);
    if (!fd)
        return;
    /* NDIS detaches every module of the filter before this returns. */
    for (emu_adapter *ad = emu_adapters_head(rt); ad && !emu_stopped(rt); ad = ad->next) {
        emu_lock(rt);
        emu_filter *f = module_of(ad, fd);
        emu_unlock(rt);
        if (f)
            restack(rt, ad, fd, false);
    }
    emu_lock(rt);
    emu_obj_kill(rt, &fd->obj);
    emu_unlock(rt);
}

NDIS_STATUS NdisFSetAttributes(NDIS_HANDLE NdisFilterHandle, NDIS_HANDLE FilterModuleContext,
                               PNDIS_FILTER_ATTRIBUTES FilterAttributes)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisFSetAttributes";
    if (!emu_enter(call, "ctx=%p", FilterModuleContext))
        return NDIS_STATUS_FAILURE;
    emu_filter *f = (emu_filter *)emu_obj_check(rt, NdisFilterHandle, K_FILTER_MODULE, call);
    if (!f)
        return NDIS_STATUS_INVALID_PARAMETER;
    if (!FilterAttributes || FilterAttributes->Header.Type != NDIS_OBJECT_TYPE_FILTER_ATTRIBUTES ||
        FilterAttributes->Header.Size < NDIS_SIZEOF_FILTER_ATTRIBUTES_REVISION_1 ||
        !FilterModuleContext) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    emu_lock(rt);
    bool attaching = f->state == F_ATTACHING;
    if (attaching) {
        f->ctx = FilterModuleContext;
        f->attrs_set = true;
    }
    emu_unlock(rt);
    if (!attaching) {
        emu_violate(rt, "FilterAttributes", call,
                    "%s over %s: NdisFSetAttributes outside FilterAttach", f->fd->name,
                    f->ad->instance);
        return NDIS_STATUS_FAILURE;
    }
    return NDIS_STATUS_SUCCESS;
}

/* NDIS_FILTER_PARTIAL_CHARACTERISTICS from FilterSetModuleOptions: this
 * module's data path handlers (NULL = bypassed). Other optional handler
 * sets are not modelled. */
NDIS_STATUS NdisSetOptionalHandlers(NDIS_HANDLE NdisHandle,
                                    PNDIS_DRIVER_OPTIONAL_HANDLERS OptionalHandlers)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisSetOptionalHandlers";
    if (!emu_enter(call, "-"))
        return NDIS_STATUS_FAILURE;
    emu_obj *o = emu_obj_peek(NdisHandle);
    if (!o || o->kind != K_FILTER_MODULE || !OptionalHandlers ||
        OptionalHandlers->Header.Type != NDIS_OBJECT_TYPE_FILTER_PARTIAL_CHARACTERISTICS ||
        OptionalHandlers->Header.Size < NDIS_SIZEOF_FILTER_PARTIAL_CHARACTERISTICS_REVISION_1) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return NDIS_STATUS_NOT_SUPPORTED;
    }
    emu_filter *f = (emu_filter *)emu_obj_check(rt, NdisHandle, K_FILTER_MODULE, call);
    if (!f)
        return NDIS_STATUS_INVALID_PARAMETER;
    const NDIS_FILTER_PARTIAL_CHARACTERISTICS *pc =
        (const NDIS_FILTER_PARTIAL_CHARACTERISTICS *)OptionalHandlers;
    if (!pc->SendNetBufferListsHandler != !pc->SendNetBufferListsCompleteHandler ||
        !pc->ReceiveNetBufferListsHandler != !pc->ReturnNetBufferListsHandler) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    emu_lock(rt);
    bool allowed = f->in_set_options;
    if (allowed) {
        f->send = pc->SendNetBufferListsHandler;
        f->send_complete = pc->SendNetBufferListsCompleteHandler;
        f->cancel_send = pc->CancelSendNetBufferListsHandler;
        f->receive = pc->ReceiveNetBufferListsHandler;
        f->ret = pc->ReturnNetBufferListsHandler;
    }
    emu_unlock(rt);
    return allowed ? NDIS_STATUS_SUCCESS : NDIS_STATUS_NOT_ACCEPTED;
}

/* NdisFRestartFilter: NDIS pauses and restarts the module's stack later
 * (NDIS_PAUSE_FILTER_RESTART_STACK), from its own PnP queue. */
static int restart_filter_op(emu_runtime *rt, void *arg)
{
    emu_filter *f = arg;
    emu_lock(rt);
    emu_adapter *ad = emu_obj_dead(&f->obj) ? NULL : f->ad;
    emu_unlock(rt);
    if (!ad || ad->state != AD_RUNNING || ad->power != 0)
        return EMU_OK;
    bindings_pnp(rt, ad, NetEventPause, NDIS_PAUSE_FILTER_RESTART_STACK);
    int err = emu_filters_pause(rt, ad, NDIS_PAUSE_FILTER_RESTART_STACK);
    if (!err)
        err = emu_filters_restart(rt, ad);
    if (!err)
        bindings_pnp(rt, ad, NetEventRestart, 0);
    return emu_stopped(rt) ? EMU_ERR_STOPPED : err;
}

NDIS_STATUS NdisFRestartFilter(NDIS_HANDLE NdisFilterHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisFRestartFilter", "-"))
        return NDIS_STATUS_FAILURE;
    emu_filter *f =
        (emu_filter *)emu_obj_check(rt, NdisFilterHandle, K_FILTER_MODULE, "NdisFRestartFilter");
    if (!f)
        return NDIS_STATUS_INVALID_PARAMETER;
    return emu_pnp_post(rt, restart_filter_op, f, NULL, NULL) == EMU_OK ? NDIS_STATUS_SUCCESS
                                                                        : NDIS_STATUS_RESOURCES;
}

/* ---- the public API ---- */

typedef struct filter_req {
    char name[64];
    char instance[EMU_NAME_MAX];
    bool enable;
} filter_req;

static emu_filter_driver *find_filter_driver(emu_runtime *rt, const char *name)
{
    for (emu_filter_driver *fd = emu_filter_drivers_head(rt); fd; fd = fd->next) {
        if (!emu_obj_dead(&fd->obj) && strcasecmp(fd->name, name) == 0)
            return fd;
    }
    return NULL;
}

static int filter_path_op(emu_runtime *rt, void *arg)
{
    filter_req *r = arg;
    emu_netcfg_store_path(rt, r->name, r->instance, r->enable);
    emu_filter_driver *fd = find_filter_driver(rt, r->name);
    emu_adapter *ad = emu_find_adapter(rt, r->instance);
    if (!fd || !ad || ad->state == AD_HALTED)
        return EMU_OK; /* applies when both exist */
    emu_lock(rt);
    bool attached = module_of(ad, fd) != NULL;
    emu_unlock(rt);
    if (attached == r->enable)
        return EMU_OK;
    if (r->enable && !media_matches(fd, ad))
        return EMU_ERR_INVAL;
    return restack(rt, ad, fd, r->enable);
}

int emu_filter_set_path(emu_runtime *rt, const char *filter, const char *instance, bool enable)
{
    if (!rt || !filter || !instance)
        return EMU_ERR_INVAL;
    filter_req r;
    snprintf(r.name, sizeof(r.name), "%s", filter);
    snprintf(r.instance, sizeof(r.instance), "%s", instance);
    r.enable = enable;
    return emu_pnp_run(rt, filter_path_op, &r);
}

static int filter_path_op_owned(emu_runtime *rt, void *arg)
{
    int err = filter_path_op(rt, arg);
    free(arg);
    return err;
}

int emu_request_filter_path(emu_runtime *rt, const char *filter, const char *instance, bool enable,
                            emu_done_fn done, void *ctx)
{
    if (!rt || !filter || !instance)
        return EMU_ERR_INVAL;
    filter_req *r = calloc(1, sizeof(*r));
    if (!r)
        return EMU_ERR_NOMEM;
    snprintf(r->name, sizeof(r->name), "%s", filter);
    snprintf(r->instance, sizeof(r->instance), "%s", instance);
    r->enable = enable;
    int err = emu_pnp_post(rt, filter_path_op_owned, r, done, ctx);
    if (err)
        free(r);
    return err;
}

int emu_filter_stack(emu_runtime *rt, const emu_adapter *ad, const char **names, int max)
{
    if (!rt || !ad)
        return EMU_ERR_INVAL;
    emu_lock(rt);
    int n = 0;
    for (int i = 0; i < ad->n_filters && n < max; i++)
        names[n++] = ad->filters[i]->fd->name;
    emu_unlock(rt);
    return n;
}
