/*
 * im.c - NDIS intermediate (MUX) drivers: the association of an
 * intermediate driver's miniport and protocol edges, its virtual miniports
 * (NdisIMInitializeDeviceInstanceEx asks NDIS to start one: NDIS calls the
 * driver's MiniportInitializeEx for it with the context handed in, once the
 * device is installed; NdisIMCancelInitializeDeviceInstance withdraws a
 * start that has not begun; NdisIMDeInitializeDeviceInstance unbinds the
 * protocols above it and halts it), the interface stack table
 * (NdisIfAddIfStackEntry, NdisIfDeleteIfStackEntry), the protocols'
 * per-binding parameters NdisOpenConfigurationEx reads with a binding
 * handle, and the Rtl string routines behind NdisEqualString and
 * NdisUpcaseUnicodeString.
 *
 * Sources: the reference pages of these functions on learn.microsoft.com,
 * "Halting a Virtual Miniport" and "Maintaining a Network Interface Stack".
 */
#include "emu_internal.h"

#include <strings.h>

/* ---- the Rtl string routines (wdm.h, ntddk.h) ---- */

static WCHAR upcase(WCHAR c)
{
    return c >= 'a' && c <= 'z' ? (WCHAR)(c - 'a' + 'A') : c;
}

BOOLEAN RtlEqualUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2,
                              BOOLEAN CaseInSensitive)
{
    if (!emu_enter("RtlEqualUnicodeString", "-"))
        return FALSE;
    if (!String1 || !String2 || String1->Length != String2->Length)
        return FALSE;
    for (USHORT i = 0; i < String1->Length / sizeof(WCHAR); i++) {
        WCHAR a = String1->Buffer[i], b = String2->Buffer[i];
        if (CaseInSensitive) {
            a = upcase(a);
            b = upcase(b);
        }
        if (a != b)
            return FALSE;
    }
    return TRUE;
}

NTSTATUS RtlUpcaseUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                BOOLEAN AllocateDestinationString)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("RtlUpcaseUnicodeString", "-"))
        return STATUS_UNSUCCESSFUL;
    if (!DestinationString || !SourceString)
        return STATUS_INVALID_PARAMETER;
    if (AllocateDestinationString) {
        /* The buffer would come from RtlFreeUnicodeString's pool, which
         * ndisemu does not model: refused rather than leaked. */
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return STATUS_NOT_SUPPORTED;
    }
    if (DestinationString->MaximumLength < SourceString->Length)
        return STATUS_BUFFER_OVERFLOW;
    for (USHORT i = 0; i < SourceString->Length / sizeof(WCHAR); i++)
        DestinationString->Buffer[i] = upcase(SourceString->Buffer[i]);
    DestinationString->Length = SourceString->Length;
    return STATUS_SUCCESS;
}

/* ---- association ---- */

void NdisIMAssociateMiniport(NDIS_HANDLE DriverHandle, NDIS_HANDLE ProtocolHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisIMAssociateMiniport", "%p %p", DriverHandle, ProtocolHandle))
        return;
    emu_mp_driver *mp =
        (emu_mp_driver *)emu_obj_check(rt, DriverHandle, K_MP_DRIVER, "NdisIMAssociateMiniport");
    if (!mp)
        return;
    emu_protocol *p =
        (emu_protocol *)emu_obj_check(rt, ProtocolHandle, K_PROTOCOL, "NdisIMAssociateMiniport");
    if (!p)
        return;
    const char *cb = emu_self()->cb;
    /* "Such an intermediate driver calls NdisIMAssociateMiniport during its
     * DriverEntry routine", for "its miniport upper edge and its protocol
     * lower edge": both edges of one driver, once. */
    if (!cb || strcmp(cb, "DriverEntry") != 0) {
        emu_violate(rt, "IMAssociateMiniport", "NdisIMAssociateMiniport",
                    "%s: called from %s, not from DriverEntry", emu_driver_label(mp->drv),
                    cb ? cb : "outside any driver callback");
        return;
    }
    if (p->drv != mp->drv) {
        emu_violate(rt, "IMAssociateMiniport", "NdisIMAssociateMiniport",
                    "%s: the protocol handle belongs to another driver (%s)",
                    emu_driver_label(mp->drv), emu_driver_label(p->drv));
        return;
    }
    emu_lock(rt);
    bool twice = mp->im_prot != NULL;
    if (!twice)
        mp->im_prot = p;
    emu_unlock(rt);
    if (twice)
        emu_violate(rt, "IMAssociateMiniport", "NdisIMAssociateMiniport",
                    "%s: its miniport is already associated with protocol %s",
                    emu_driver_label(mp->drv), mp->im_prot->name);
}

/* ---- virtual miniport devices ---- */

/* rt->mu held. The device of service named instance, or NULL. */
static emu_im_dev *find_dev(emu_runtime *rt, const char *service, const char *instance)
{
    for (int i = 0; i < rt->im.n_devs; i++) {
        emu_im_dev *d = &rt->im.devs[i];
        if (strcasecmp(d->service, service) == 0 && strcasecmp(d->instance, instance) == 0)
            return d;
    }
    return NULL;
}

/* rt->mu held. A new record (not installed, not requested). */
static emu_im_dev *new_dev(emu_runtime *rt, const char *service, const char *instance)
{
    if (rt->im.n_devs >= EMU_IM_DEVS)
        return NULL;
    emu_im_dev *d = &rt->im.devs[rt->im.n_devs++];
    memset(d, 0, sizeof(*d));
    snprintf(d->service, sizeof(d->service), "%s", service);
    snprintf(d->instance, sizeof(d->instance), "%s", instance);
    return d;
}

/* The device instance a DriverInstance names: "\Device\<instance>" (any
 * case, as NDIS compares them; the mux sample upper-cases its names). */
static bool instance_of(PNDIS_STRING s, char *out, size_t n)
{
    char full[EMU_NAME_MAX + 16];
    if (!s || !s->Buffer || s->Length == 0)
        return false;
    emu_wstr_to_ascii(s, full, sizeof(full));
    if (strncasecmp(full, "\\Device\\", 8) != 0 || !full[8] || strlen(full + 8) >= n)
        return false;
    memcpy(out, full + 8, strlen(full + 8) + 1);
    return true;
}

static const emu_device_ops k_no_device; /* a virtual miniport has no hardware */

/* PnP thread: starts the device if it is installed and still asked for.
 * arg: its record (records live as long as the runtime). */
static int start_op(emu_runtime *rt, void *arg)
{
    emu_im_dev *d = arg;
    emu_device_desc dd;
    memset(&dd, 0, sizeof(dd));
    emu_lock(rt);
    bool go = d->installed && d->requested && !d->ad;
    if (go) {
        dd.instance = d->instance;
        dd.service = d->service;
        dd.registry = d->regp;
        dd.ops = &k_no_device;
    }
    emu_unlock(rt);
    if (!go)
        return EMU_OK; /* cancelled meanwhile */
    emu_adapter *ad = NULL;
    int err = emu_adapter_add(rt, &dd, &ad);
    return err == EMU_ERR_DRIVER ? EMU_OK : err; /* a failed initialize is the driver's answer */
}

int emu_im_claim(emu_runtime *rt, emu_driver *drv, emu_adapter *ad, NDIS_HANDLE *ctx)
{
    emu_im_dev *d = find_dev(rt, drv->desc.service, ad->instance);
    if (!d || !d->installed)
        return 0;
    if (!d->requested || d->ad)
        return -1;
    d->requested = false;
    d->ad = ad;
    *ctx = d->ctx;
    return 1;
}

void emu_im_adapter_gone(emu_runtime *rt, emu_adapter *ad)
{
    emu_lock(rt);
    for (int i = 0; i < rt->im.n_devs; i++) {
        if (rt->im.devs[i].ad == ad)
            rt->im.devs[i].ad = NULL;
    }
    /* "NDIS deletes the corresponding stack entries for an interface when
     * the interface is deregistered." */
    int k = 0;
    for (int i = 0; i < rt->im.n_stack; i++) {
        if (rt->im.stack[i].higher != ad->id && rt->im.stack[i].lower != ad->id)
            rt->im.stack[k++] = rt->im.stack[i];
    }
    rt->im.n_stack = k;
    emu_unlock(rt);
}

/* The miniport driver handle of an intermediate driver, checked for what an
 * intermediate driver's virtual miniport calls need: registered with
 * NDIS_INTERMEDIATE_DRIVER, its protocol edge associated. */
static emu_mp_driver *im_driver(emu_runtime *rt, NDIS_HANDLE h, const char *call)
{
    emu_mp_driver *mp = (emu_mp_driver *)emu_obj_check(rt, h, K_MP_DRIVER, call);
    if (!mp)
        return NULL;
    if (!(mp->ch.Flags & NDIS_INTERMEDIATE_DRIVER)) {
        emu_violate(rt, "IMDriver", call,
                    "%s: its miniport driver was registered without NDIS_INTERMEDIATE_DRIVER in "
                    "the characteristics' Flags",
                    emu_driver_label(mp->drv));
        return NULL;
    }
    emu_lock(rt);
    bool associated = mp->im_prot && !emu_obj_dead(&mp->im_prot->obj);
    emu_unlock(rt);
    if (!associated) {
        emu_violate(rt, "IMDriver", call,
                    "%s: its miniport and protocol edges were not associated "
                    "(NdisIMAssociateMiniport in DriverEntry)",
                    emu_driver_label(mp->drv));
        return NULL;
    }
    return mp;
}

NDIS_STATUS NdisIMInitializeDeviceInstanceEx(NDIS_HANDLE DriverHandle, PNDIS_STRING DriverInstance,
                                             NDIS_HANDLE DeviceContext)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisIMInitializeDeviceInstanceEx", "ctx=%p", DeviceContext))
        return NDIS_STATUS_FAILURE;
    emu_mp_driver *mp = im_driver(rt, DriverHandle, "NdisIMInitializeDeviceInstanceEx");
    if (!mp)
        return NDIS_STATUS_FAILURE;
    char inst[EMU_NAME_MAX];
    if (!instance_of(DriverInstance, inst, sizeof(inst))) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    const char *service = mp->drv->desc.service;
    emu_lock(rt);
    emu_im_dev *d = find_dev(rt, service, inst);
    if (!d)
        d = new_dev(rt, service, inst); /* started when it is installed */
    if (!d) {
        emu_unlock(rt);
        return NDIS_STATUS_RESOURCES;
    }
    /* NDIS_STATUS_NOT_ACCEPTED: "the device ... has already been
     * initialized" (or its start is already asked for). */
    if (d->requested || d->ad) {
        emu_unlock(rt);
        return NDIS_STATUS_NOT_ACCEPTED;
    }
    d->requested = d->asked = true;
    d->ctx = DeviceContext;
    bool installed = d->installed;
    emu_unlock(rt);
    emu_tracef(rt, "im", "NdisIMInitializeDeviceInstanceEx", "%s %s", inst,
               installed ? "(starting)" : "(waits for the device)");
    /* NDIS starts it later, on its PnP thread (never inside this call). */
    if (installed && emu_pnp_post(rt, start_op, d, NULL, NULL) != EMU_OK) {
        emu_lock(rt);
        d->requested = false;
        emu_unlock(rt);
        return NDIS_STATUS_RESOURCES;
    }
    return NDIS_STATUS_SUCCESS;
}

NDIS_STATUS NdisIMCancelInitializeDeviceInstance(NDIS_HANDLE DriverHandle,
                                                 PNDIS_STRING DeviceInstance)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisIMCancelInitializeDeviceInstance";
    if (!emu_enter(call, "-"))
        return NDIS_STATUS_FAILURE;
    emu_mp_driver *mp = im_driver(rt, DriverHandle, call);
    if (!mp)
        return NDIS_STATUS_FAILURE;
    char inst[EMU_NAME_MAX];
    if (!instance_of(DeviceInstance, inst, sizeof(inst))) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return NDIS_STATUS_INVALID_PARAMETER;
    }
    emu_lock(rt);
    emu_im_dev *d = find_dev(rt, mp->drv->desc.service, inst);
    bool pending = d && d->requested, asked = d && d->asked;
    if (pending)
        d->requested = false; /* MiniportInitializeEx will not be called */
    emu_unlock(rt);
    if (pending)
        return NDIS_STATUS_SUCCESS;
    /* "No way to stop the initialization": MiniportInitializeEx began (the
     * documented answer; a MUX driver racing its own start relies on it). */
    if (asked)
        return NDIS_STATUS_FAILURE;
    /* It "cancels a preceding call to NdisIMInitializeDeviceInstanceEx":
     * there is none for this instance. */
    emu_violate(rt, "IMCancelInitialize", call,
                "%s: no NdisIMInitializeDeviceInstanceEx for \\Device\\%s precedes it",
                emu_driver_label(mp->drv), inst);
    return NDIS_STATUS_FAILURE;
}

NDIS_STATUS NdisIMDeInitializeDeviceInstance(NDIS_HANDLE NdisMiniportHandle)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisIMDeInitializeDeviceInstance";
    if (!emu_enter(call, "%p", NdisMiniportHandle))
        return NDIS_STATUS_FAILURE;
    emu_adapter *ad = (emu_adapter *)emu_obj_check(rt, NdisMiniportHandle, K_ADAPTER, call);
    if (!ad)
        return NDIS_STATUS_FAILURE;
    emu_lock(rt);
    bool is_im = ad->im,
         busy = ad->im_deinit || ad->state == AD_HALTED || ad->state == AD_INITIALIZING;
    if (is_im && !busy)
        ad->im_deinit = true;
    emu_unlock(rt);
    /* The handle NDIS gave MiniportInitializeEx for a virtual miniport
     * NdisIMInitializeDeviceInstanceEx started, once it is initialized and
     * not already being torn down. */
    if (!is_im) {
        emu_violate(rt, "IMDeInitialize", call,
                    "%s is not a virtual miniport started by NdisIMInitializeDeviceInstanceEx",
                    ad->instance);
        return NDIS_STATUS_FAILURE;
    }
    if (busy) {
        emu_violate(rt, "IMDeInitialize", call, "%s is %s", ad->instance,
                    ad->im_deinit ? "already being deinitialized"
                                  : (ad->state == AD_INITIALIZING ? "still in MiniportInitializeEx"
                                                                  : "halted"));
        return NDIS_STATUS_FAILURE;
    }
    /* The protocols above unbind, the filters detach, the miniport pauses,
     * then MiniportHaltEx(NdisHaltDeviceInstanceDeInitialized); no
     * query-remove (the teardown is the driver's decision). */
    int err = emu_adapter_remove(rt, ad, false, true);
    return err == EMU_OK ? NDIS_STATUS_SUCCESS : NDIS_STATUS_FAILURE;
}

int emu_im_install_device(emu_runtime *rt, const char *service, const char *instance,
                          const char *const *registry)
{
    if (!service || !instance || !instance[0] || strlen(instance) >= EMU_NAME_MAX)
        return EMU_ERR_INVAL;
    emu_driver *drv = NULL;
    emu_lock(rt);
    for (emu_driver *x = rt->drivers; x; x = x->next) {
        if (!x->unloaded && strcasecmp(x->desc.service, service) == 0)
            drv = x;
    }
    emu_im_dev *d = drv ? find_dev(rt, drv->desc.service, instance) : NULL;
    if (drv && !d)
        d = new_dev(rt, drv->desc.service, instance);
    int err = !drv ? EMU_ERR_NOTFOUND : !d ? EMU_ERR_NOMEM : d->installed ? EMU_ERR_BUSY : EMU_OK;
    if (!err) {
        /* The device's own name (a request may have named it in another case). */
        snprintf(d->instance, sizeof(d->instance), "%s", instance);
        d->installed = true;
        int n = 0;
        for (int i = 0; registry && registry[i] && n < EMU_IM_REG; i++)
            snprintf(d->reg[n++], sizeof(d->reg[0]), "%s", registry[i]);
        for (int i = 0; i < n; i++)
            d->regp[i] = d->reg[i];
        d->regp[n] = NULL;
    }
    emu_unlock(rt);
    if (err)
        return err;
    for (int i = 0; i < drv->desc.n_prot; i++)
        emu_netcfg_store_path(rt, drv->desc.prot[i].name, instance, false);
    return emu_pnp_run(rt, start_op, d); /* started if it was asked for */
}

bool emu_adapter_is_virtual(const emu_adapter *ad)
{
    return ad && ad->im;
}

/* ---- the interface stack table ---- */

/* rt->mu held: a registered interface (a live adapter) has this index. */
static bool registered(emu_runtime *rt, NET_IFINDEX i)
{
    for (emu_adapter *ad = rt->adapters; ad; ad = ad->next) {
        if (ad->id == i && !emu_obj_dead(&ad->obj) && ad->state != AD_HALTED)
            return true;
    }
    return false;
}

NDIS_STATUS NdisIfAddIfStackEntry(NET_IFINDEX HigherLayerIfIndex, NET_IFINDEX LowerLayerIfIndex)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisIfAddIfStackEntry", "%u over %u", HigherLayerIfIndex, LowerLayerIfIndex))
        return NDIS_STATUS_FAILURE;
    emu_lock(rt);
    NDIS_STATUS st = NDIS_STATUS_SUCCESS;
    if (!registered(rt, HigherLayerIfIndex) || !registered(rt, LowerLayerIfIndex)) {
        st = NDIS_STATUS_INTERFACE_NOT_FOUND;
    } else {
        bool dup = false;
        for (int i = 0; i < rt->im.n_stack; i++)
            dup |= rt->im.stack[i].higher == HigherLayerIfIndex &&
                   rt->im.stack[i].lower == LowerLayerIfIndex;
        if (!dup && rt->im.n_stack >= EMU_IF_STACK) {
            st = NDIS_STATUS_RESOURCES;
        } else if (!dup) {
            rt->im.stack[rt->im.n_stack].higher = HigherLayerIfIndex;
            rt->im.stack[rt->im.n_stack].lower = LowerLayerIfIndex;
            rt->im.n_stack++;
        }
    }
    emu_unlock(rt);
    return st;
}

void NdisIfDeleteIfStackEntry(NET_IFINDEX HigherLayerIfIndex, NET_IFINDEX LowerLayerIfIndex)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisIfDeleteIfStackEntry", "%u over %u", HigherLayerIfIndex, LowerLayerIfIndex))
        return;
    /* "NDIS deletes the stack entry ... if it finds a matching entry." */
    emu_lock(rt);
    for (int i = 0; i < rt->im.n_stack; i++) {
        if (rt->im.stack[i].higher == HigherLayerIfIndex &&
            rt->im.stack[i].lower == LowerLayerIfIndex) {
            rt->im.stack[i] = rt->im.stack[--rt->im.n_stack];
            break;
        }
    }
    emu_unlock(rt);
}

size_t emu_if_stack(emu_runtime *rt, emu_if_stack_entry *out, size_t max)
{
    emu_lock(rt);
    size_t n = (size_t)rt->im.n_stack;
    for (size_t i = 0; i < n && i < max; i++) {
        out[i].higher = rt->im.stack[i].higher;
        out[i].lower = rt->im.stack[i].lower;
    }
    emu_unlock(rt);
    return n;
}

/* ---- the protocols' per-binding parameters ---- */

int emu_set_binding_param(emu_runtime *rt, const char *protocol, const char *instance,
                          const char *key, const char *value)
{
    if (!protocol || !instance || !key || !value || strlen(key) >= sizeof(((emu_kv *)0)->key) ||
        strlen(value) >= sizeof(((emu_kv *)0)->value))
        return EMU_ERR_INVAL;
    emu_lock(rt);
    int i;
    for (i = 0; i < rt->im.n_params; i++) {
        if (strcasecmp(rt->im.params[i].prot, protocol) == 0 &&
            strcmp(rt->im.params[i].instance, instance) == 0 &&
            strcasecmp(rt->im.params[i].kv.key, key) == 0)
            break;
    }
    if (i == rt->im.n_params) {
        if (i >= EMU_BIND_PARAM) {
            emu_unlock(rt);
            return EMU_ERR_NOMEM;
        }
        rt->im.n_params++;
        snprintf(rt->im.params[i].prot, sizeof(rt->im.params[i].prot), "%s", protocol);
        snprintf(rt->im.params[i].instance, sizeof(rt->im.params[i].instance), "%s", instance);
        snprintf(rt->im.params[i].kv.key, sizeof(rt->im.params[i].kv.key), "%s", key);
    }
    snprintf(rt->im.params[i].kv.value, sizeof(rt->im.params[i].kv.value), "%s", value);
    emu_unlock(rt);
    return EMU_OK;
}

const char *emu_binding_param(emu_runtime *rt, const emu_binding *b, const char *key, char *buf,
                              size_t n)
{
    const char *v = NULL;
    emu_lock(rt);
    for (int i = 0; i < rt->im.n_params && !v; i++) {
        if (strcasecmp(rt->im.params[i].prot, b->prot->name) == 0 &&
            strcmp(rt->im.params[i].instance, b->ad->instance) == 0 &&
            strcasecmp(rt->im.params[i].kv.key, key) == 0) {
            snprintf(buf, n, "%s", rt->im.params[i].kv.value);
            v = buf;
        }
    }
    emu_unlock(rt);
    return v;
}
