/*
 * rt.c - the runtime object: creation, teardown, the big lock, time,
 * the seeded random source, handle objects and memory charging.
 */
#include "emu_internal.h"

#include <stdlib.h>
#include <time.h>

emu_runtime *emu_rt;

static _Thread_local emu_thread tls_self;
/* Whether this thread holds rt->mu: lets emu_violate, which is reached both
 * with and without it, take it exactly when it is not already held. */
static _Thread_local bool tls_holds_mu;
static uint32_t next_tid;

emu_thread *emu_self(void)
{
    if (tls_self.tid == 0)
        tls_self.tid = __atomic_add_fetch(&next_tid, 1, __ATOMIC_SEQ_CST);
    return &tls_self;
}

void emu_lock(emu_runtime *rt)
{
    pthread_mutex_lock(&rt->mu);
    tls_holds_mu = true;
}

void emu_unlock(emu_runtime *rt)
{
    tls_holds_mu = false;
    pthread_mutex_unlock(&rt->mu);
}

bool emu_lock_held(void)
{
    return tls_holds_mu;
}

bool emu_stopped(emu_runtime *rt)
{
    return __atomic_load_n(&rt->stopped, __ATOMIC_ACQUIRE);
}

void emu_broadcast(emu_runtime *rt)
{
    pthread_cond_broadcast(&rt->cv);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t emu_time(emu_runtime *rt)
{
    if (rt->cfg.sched == EMU_SCHED_DETERMINISTIC)
        return __atomic_load_n(&rt->now, __ATOMIC_SEQ_CST);
    return mono_ns() - rt->t0_real;
}

/* xorshift64*: the only source of scheduling choices, so a seed fixes a run. */
uint64_t emu_rand(emu_runtime *rt)
{
    uint64_t x = rt->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rt->rng = x;
    return x * 2685821657736338717ull;
}

const char *emu_strerror(int err)
{
    switch (err) {
    case EMU_OK:
        return "ok";
    case EMU_ERR_INVAL:
        return "invalid argument";
    case EMU_ERR_NOMEM:
        return "out of memory";
    case EMU_ERR_NOTFOUND:
        return "not found";
    case EMU_ERR_LOAD:
        return "driver load failed";
    case EMU_ERR_DRIVER:
        return "the driver failed the operation";
    case EMU_ERR_VETOED:
        return "query-remove vetoed";
    case EMU_ERR_STOPPED:
        return "run stopped by the verifier";
    case EMU_ERR_BUSY:
        return "busy";
    case EMU_ERR_TIMEOUT:
        return "did not become idle";
    case EMU_ERR_ACCESS:
        return "access denied";
    }
    return "unknown error";
}

int emu_create(const emu_config *cfg, emu_runtime **out)
{
    if (!cfg || !out)
        return EMU_ERR_INVAL;
    if (emu_rt)
        return EMU_ERR_BUSY; /* NDIS entry points find the runtime through one global */
    if (!emu_irql_table_sorted()) {
        fprintf(stderr, "ndisemu: internal error: the IRQL table is not sorted\n");
        abort();
    }
    emu_runtime *rt = calloc(1, sizeof(*rt));
    if (!rt)
        return EMU_ERR_NOMEM;
    rt->cfg = *cfg;
    if (rt->cfg.workers == 0)
        rt->cfg.workers = 3;
    rt->rng = cfg->seed * 0x9E3779B97F4A7C15ull + 0x1234567ull;
    if (rt->rng == 0)
        rt->rng = 1;
    pthread_mutex_init(&rt->mu, NULL);
    pthread_mutex_init(&rt->trace_mu, NULL);
    pthread_mutex_init(&rt->viol_mu, NULL);
    pthread_cond_init(&rt->cv, NULL);
    rt->t0_real = mono_ns();
    rt->next_pa = 0x100000000ull;
    rt->next_bar_pa = 0xE0000000ull;
    rt->next_adapter_id = 1;
    rt->seq = 1;
    rt->next_task_id = 1;
    emu_lockdep_reset(); /* lock order is learnt per run */
    emu_rt = rt;
    int err = emu_sched_start(rt);
    if (err) {
        emu_rt = NULL;
        free(rt);
        return err;
    }
    *out = rt;
    return EMU_OK;
}

/* rt->mu held: an adapter not yet halted, or NULL. */
static emu_adapter *live_adapter(emu_runtime *rt)
{
    emu_adapter *ad = rt->adapters;
    while (ad && ad->state == AD_HALTED)
        ad = ad->next;
    return ad;
}

/* Removes every adapter, then unloads the drivers one at a time. A device
 * arrival still queued (a run that ends right after boot) may start an
 * adapter while a driver unloads: the adapters are looked at again before
 * each driver, and an unload its driver's new adapter refused is retried
 * once that adapter is removed. */
int emu_shutdown(emu_runtime *rt)
{
    for (;;) {
        emu_lock(rt);
        emu_adapter *ad = live_adapter(rt);
        emu_driver *d = rt->drivers;
        while (d && d->unloaded)
            d = d->next;
        emu_unlock(rt);
        if ((!ad && !d) || emu_stopped(rt))
            break;
        if (ad) {
            if (emu_remove_device(rt, ad) == EMU_ERR_VETOED)
                emu_surprise_remove(rt, ad);
            continue;
        }
        emu_lock(rt);
        int blocker = emu_driver_unload_blocker(rt, d);
        emu_unlock(rt);
        if (blocker == EMU_UNLOAD_DEVICE_OBJECT) {
            /* Every adapter is gone, yet the system cannot unload it. */
            emu_violate(rt, "DriverUnloadBlocked", "driver unload",
                        "%s: its last adapter halted but a device object it registered "
                        "(NdisRegisterDeviceEx) is left: the system never unloads it, so an "
                        "update or uninstall needs a reboot",
                        d->desc.service);
            break;
        }
        if (blocker == EMU_UNLOAD_OPEN_HANDLE)
            emu_ctldev_drop_handles(rt, d); /* shutdown: every process is gone */
        int st = emu_unload_driver(rt, d);
        if (st == EMU_ERR_BUSY) {
            emu_lock(rt);
            bool arrived = live_adapter(rt) != NULL;
            emu_unlock(rt);
            if (arrived) /* removed first, then the unload again */
                continue;
        }
        if (st != EMU_OK)
            break;
    }
    emu_run_until_idle(rt);
    return emu_stopped(rt) ? EMU_ERR_STOPPED : EMU_OK;
}

void emu_destroy(emu_runtime *rt)
{
    if (!rt)
        return;
    emu_sched_stop(rt);
    emu_sched_free_all(rt);
    emu_nbl_quarantine_free();
    emu_irp_quarantine_free();
    emu_mem_free_all(rt);
    emu_kernel_free_all();
    for (emu_mmio_map *m = rt->mmio, *n; m; m = n) {
        n = m->next;
        free(m);
    }
    for (emu_dma_region *r = rt->dma, *n; r; r = n) {
        n = r->next;
        if (r->shared)
            free(r->host);
        free(r);
    }
    for (emu_obj *o = rt->objects, *n; o || rt->dead_objects; o = n) {
        if (!o) { /* the live ones done: now the dead ones */
            o = rt->dead_objects;
            rt->dead_objects = NULL;
        }
        n = o->all_next;
        if (o->kind == K_ADAPTER) {
            emu_adapter *ad = (emu_adapter *)o;
            free(ad->res);
            pthread_mutex_destroy(&ad->dev_lock); /* queued OID slots are tracked memory */
        } else if (o->kind == K_INTERRUPT) {
            emu_interrupt *in = (emu_interrupt *)o;
            pthread_mutex_destroy(&in->sync);
            free(in->info);
            free(in->dpc);
        } else if (o->kind == K_CTLDEV) {
            free(((emu_ctldev *)o)->ext);
            free(((emu_ctldev *)o)->devobj);
        }
        free(o);
    }
    for (emu_driver *d = rt->drivers, *n; d; d = n) {
        n = d->next;
        if (d->dl)
            emu_loader_close(d->dl);
        free(d);
    }
    pthread_mutex_destroy(&rt->mu);
    pthread_mutex_destroy(&rt->trace_mu);
    pthread_mutex_destroy(&rt->viol_mu);
    pthread_cond_destroy(&rt->cv);
    emu_rt = NULL;
    free(rt);
}

/* ---- handle objects ---- */

void *emu_obj_new(emu_runtime *rt, size_t size, emu_kind kind, emu_driver *drv, emu_adapter *ad,
                  uint32_t tag)
{
    emu_obj *o = calloc(1, size);
    if (!o)
        return NULL;
    o->magic = EMU_MAGIC;
    o->kind = kind;
    o->drv = drv;
    o->ad = ad;
    o->tag = tag;
    o->charge = size;
    o->charged = true;
    o->all_next = rt->objects;
    if (rt->objects)
        rt->objects->all_pprev = &o->all_next;
    o->all_pprev = &rt->objects;
    rt->objects = o;
    emu_charge(rt, drv, ad, tag, (int64_t)size, 1);
    return o;
}

/* An object that is the runtime's bookkeeping, not the driver's memory. */
void *emu_obj_new_runtime(emu_runtime *rt, size_t size, emu_kind kind, emu_driver *drv)
{
    emu_obj *o = emu_obj_new(rt, size, kind, NULL, NULL, 0);
    if (o) {
        o->drv = drv;
        o->charge = 0;
        o->charged = false;
    }
    return o;
}

/* rt->mu held. `dead` is also read without the lock (emu_obj_check), hence
 * the atomic store. */
void emu_obj_kill(emu_runtime *rt, emu_obj *o)
{
    if (emu_obj_dead(o))
        return;
    __atomic_store_n(&o->dead, true, __ATOMIC_RELEASE);
    if (o->all_pprev) {
        *o->all_pprev = o->all_next;
        if (o->all_next)
            o->all_next->all_pprev = o->all_pprev;
        o->all_pprev = NULL;
        o->all_next = rt->dead_objects;
        rt->dead_objects = o;
    }
    if (o->charged)
        emu_charge(rt, o->drv, o->ad, o->tag, -(int64_t)o->charge, -1);
}

bool emu_obj_dead(const emu_obj *o)
{
    return __atomic_load_n(&o->dead, __ATOMIC_ACQUIRE);
}

emu_obj *emu_obj_peek(NDIS_HANDLE h)
{
    emu_obj *o = h;
    if (!o)
        return NULL;
    if (o->magic == EMU_MAGIC)
        return o;
    /* A generic object's handle is the NDIS_GENERIC_OBJECT the driver sees;
     * its Caller (reserved for NDIS) leads back to the runtime's object. */
    const NDIS_GENERIC_OBJECT *g = h;
    if (g->Header.Type != NDIS_OBJECT_TYPE_DEFAULT || g->Header.Size != sizeof(*g))
        return NULL;
    emu_obj *back = g->Caller;
    if (!back || back->magic != EMU_MAGIC || back->kind != K_GENERIC ||
        &((emu_generic *)back)->g != g)
        return NULL;
    return back;
}

static const char *kind_name(emu_kind k);

/* Every handle a driver passes in goes through here: unknown, wrong-kind and
 * closed handles are verifier violations, never dereferenced further. */
emu_obj *emu_obj_check(emu_runtime *rt, NDIS_HANDLE h, emu_kind kind, const char *call)
{
    emu_obj *o = emu_obj_peek(h);
    if (!o) {
        emu_violate(rt, "HandleAfterClose", call, "handle %p is not an NDIS handle", h);
        return NULL;
    }
    if (o->kind != kind) {
        emu_violate(rt, "HandleKind", call, "handle %p is a %s handle, not a %s handle", h,
                    kind_name(o->kind), kind_name(kind));
        return NULL;
    }
    if (emu_obj_dead(o)) {
        emu_violate(rt, "HandleAfterClose", call,
                    "handle %p used after it was closed, halted, unbound or freed", h);
        return NULL;
    }
    return o;
}

static const char *kind_name(emu_kind k)
{
    static const char *const names[] = {
        [K_FREE] = "freed",
        [K_MP_DRIVER] = "miniport driver",
        [K_PROTOCOL] = "protocol driver",
        [K_ADAPTER] = "miniport adapter",
        [K_BINDING] = "protocol binding",
        [K_BIND_CTX] = "bind context",
        [K_UNBIND_CTX] = "unbind context",
        [K_NBL_POOL] = "NBL pool",
        [K_NB_POOL] = "NB pool",
        [K_TIMER] = "timer object",
        [K_WORKITEM] = "work item",
        [K_INTERRUPT] = "interrupt",
        [K_DMA] = "DMA",
        [K_CONFIG] = "configuration",
        [K_CTLDEV] = "device object (NdisRegisterDeviceEx or IoCreateDevice)",
        [K_RWLOCK] = "RW lock",
        [K_GENERIC] = "generic object",
        [K_FILTER_DRIVER] = "filter driver",
        [K_FILTER_MODULE] = "filter module",
    };
    return (unsigned)k < ARRAYSIZE(names) && names[k] ? names[k] : "unknown";
}

emu_obj *emu_handle_kind(emu_runtime *rt, NDIS_HANDLE h, uint32_t kinds, const char *call)
{
    emu_obj *o = emu_obj_peek(h);
    if (!o) {
        emu_violate(rt, "HandleAfterClose", call, "handle %p is not an NDIS handle", h);
        return NULL;
    }
    if (emu_obj_dead(o)) {
        emu_violate(rt, "HandleAfterClose", call,
                    "handle %p used after it was closed, halted, unbound or freed", h);
        return NULL;
    }
    if (!(kinds & EMU_HK(o->kind))) {
        char want[200] = "";
        size_t n = 0;
        for (unsigned k = 0; k < 32 && n < sizeof(want); k++) {
            if (kinds & (1u << k))
                n += (size_t)snprintf(want + n, sizeof(want) - n, "%s%s", n ? ", " : "",
                                      kind_name((emu_kind)k));
        }
        emu_violate(rt, "HandleKind", call,
                    "handle %p is a %s handle; the function's page lists only: %s", h,
                    kind_name(o->kind), want);
        return NULL;
    }
    return o;
}

static emu_memacct *tag_slot(emu_driver *drv, uint32_t tag)
{
    for (int i = 0; i < 16; i++) {
        if (drv->tag_ids[i] == tag && (drv->tags[i].allocs || drv->tags[i].bytes))
            return &drv->tags[i];
    }
    for (int i = 0; i < 16; i++) {
        if (drv->tags[i].allocs == 0 && drv->tags[i].bytes == 0) {
            drv->tag_ids[i] = tag;
            return &drv->tags[i];
        }
    }
    return NULL;
}

void emu_charge(emu_runtime *rt, emu_driver *drv, emu_adapter *ad, uint32_t tag, int64_t bytes,
                int64_t count)
{
    (void)rt;
    if (drv) {
        drv->mem.bytes += (uint64_t)bytes;
        drv->mem.allocs += (uint64_t)count;
        emu_memacct *t = tag_slot(drv, tag);
        if (t) {
            t->bytes += (uint64_t)bytes;
            t->allocs += (uint64_t)count;
        }
    }
    if (ad) {
        ad->mem.bytes += (uint64_t)bytes;
        ad->mem.allocs += (uint64_t)count;
    }
}

/* Maps any driver-side NDIS handle (driver, adapter, binding, protocol) to
 * its driver and, when there is one, its adapter; memory allocated with the
 * handle is charged there. A driver-wide handle used from inside an
 * adapter's callback is charged to that adapter. */
emu_driver *emu_handle_driver(NDIS_HANDLE h, emu_adapter **ad)
{
    emu_obj *o = emu_obj_peek(h);
    emu_thread *t = emu_self();
    *ad = NULL;
    if (!o)
        return NULL;
    switch (o->kind) {
    case K_ADAPTER:
        *ad = (emu_adapter *)o;
        return ((emu_adapter *)o)->drv;
    case K_BINDING:
        *ad = t->cur_ad && t->cur_ad->drv == o->drv ? t->cur_ad : NULL;
        return ((emu_binding *)o)->prot->drv;
    case K_GENERIC:
    case K_MP_DRIVER:
    case K_PROTOCOL:
        *ad = t->cur_ad && t->cur_ad->drv == o->drv ? t->cur_ad : NULL;
        return o->drv;
    default:
        *ad = o->ad;
        return o->drv;
    }
}

emu_adapter *emu_adapters_head(emu_runtime *rt)
{
    emu_lock(rt);
    emu_adapter *ad = rt->adapters;
    emu_unlock(rt);
    return ad;
}

emu_protocol *emu_protocols_head(emu_runtime *rt)
{
    emu_lock(rt);
    emu_protocol *p = rt->protocols;
    emu_unlock(rt);
    return p;
}

/* ---- queries ---- */

uint64_t emu_now_ns(emu_runtime *rt)
{
    return emu_time(rt);
}

bool emu_failed(emu_runtime *rt)
{
    return emu_stopped(rt);
}

size_t emu_violation_count(emu_runtime *rt)
{
    return __atomic_load_n(&rt->n_viol, __ATOMIC_ACQUIRE);
}

const emu_violation *emu_violation_get(emu_runtime *rt, size_t i)
{
    return i < emu_violation_count(rt) ? &rt->viol : NULL;
}

void emu_get_counters(emu_runtime *rt, emu_counters *out)
{
    emu_lock(rt);
    *out = rt->cnt;
    emu_unlock(rt);
    out->ndis_calls = __atomic_load_n(&rt->ndis_calls, __ATOMIC_RELAXED);
    out->bad_input = __atomic_load_n(&rt->bad_input, __ATOMIC_RELAXED);
}

int emu_adapter_mem(emu_runtime *rt, const emu_adapter *ad, emu_mem_usage *out)
{
    if (!ad || !out)
        return EMU_ERR_INVAL;
    emu_lock(rt);
    out->bytes = ad->mem.bytes;
    out->allocations = ad->mem.allocs;
    emu_unlock(rt);
    return EMU_OK;
}

int emu_driver_mem(emu_runtime *rt, const emu_driver *drv, emu_mem_usage *out)
{
    if (!drv || !out)
        return EMU_ERR_INVAL;
    emu_lock(rt);
    out->bytes = drv->mem.bytes;
    out->allocations = drv->mem.allocs;
    emu_unlock(rt);
    return EMU_OK;
}

uint64_t emu_driver_mem_tag(emu_runtime *rt, const emu_driver *drv, uint32_t tag)
{
    uint64_t b = 0;
    emu_lock(rt);
    for (int i = 0; i < 16; i++) {
        if (drv->tag_ids[i] == tag)
            b += drv->tags[i].bytes;
    }
    emu_unlock(rt);
    return b;
}

emu_adapter *emu_find_adapter(emu_runtime *rt, const char *instance)
{
    emu_adapter *found = NULL;
    emu_lock(rt);
    for (emu_adapter *ad = rt->adapters; ad; ad = ad->next) {
        if (ad->state != AD_HALTED && !emu_obj_dead(&ad->obj) &&
            strcmp(ad->instance, instance) == 0)
            found = ad;
    }
    emu_unlock(rt);
    return found;
}

const char *emu_adapter_instance(const emu_adapter *ad)
{
    return ad->instance;
}

uint32_t emu_adapter_id(const emu_adapter *ad)
{
    return ad->id;
}

const char *emu_state_name(ad_state st)
{
    static const char *const names[] = { "halted",     "initializing", "paused",
                                         "restarting", "running",      "pausing" };
    return names[st];
}

const char *emu_adapter_state(const emu_adapter *ad)
{
    emu_lock(ad->rt);
    ad_state st = ad->state;
    emu_unlock(ad->rt);
    return emu_state_name(st);
}

void emu_adapter_link(const emu_adapter *ad, emu_link_info *out)
{
    emu_lock(ad->rt);
    out->up = ad->link.MediaConnectState == MediaConnectStateConnected;
    out->speed_bps = ad->link.XmitLinkSpeed;
    out->ups = ad->link_ups;
    out->downs = ad->link_downs;
    emu_unlock(ad->rt);
}

const char *emu_driver_service(const emu_driver *drv)
{
    return drv->desc.service;
}
