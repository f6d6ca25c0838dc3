/*
 * netcfg.c - the binding engine seen as INetCfg sees it: components,
 * binding paths, enabling and disabling them.
 */
#include "emu_internal.h"

#include <strings.h>

bool emu_ranges_meet(const emu_range_set *a, const emu_range_set *b)
{
    for (int i = 0; i < a->n; i++) {
        for (int j = 0; j < b->n; j++) {
            if (strcasecmp(a->names[i], b->names[j]) == 0)
                return true;
        }
    }
    return false;
}

static int path_index(emu_runtime *rt, const char *prot, const char *instance)
{
    for (int i = 0; i < rt->n_paths; i++) {
        if (strcasecmp(rt->paths[i].prot, prot) == 0 &&
            strcmp(rt->paths[i].instance, instance) == 0)
            return i;
    }
    return -1;
}

bool emu_path_enabled(emu_runtime *rt, const char *prot, const char *instance)
{
    emu_lock(rt);
    int i = path_index(rt, prot, instance);
    if (i < 0)
        i = path_index(rt, prot, "*"); /* the component's default, if one was set */
    bool en = i < 0 || rt->paths[i].enabled;
    emu_unlock(rt);
    return en;
}

/* Records a path's enabled state (a filter's over an adapter instance), kept
 * across the adapter's removal and re-arrival like a protocol's. */
void emu_netcfg_store_path(emu_runtime *rt, const char *prot, const char *instance, bool enable)
{
    emu_lock(rt);
    int i = path_index(rt, prot, instance);
    if (i < 0 && rt->n_paths < (int)ARRAYSIZE(rt->paths)) {
        i = rt->n_paths++;
        snprintf(rt->paths[i].prot, sizeof(rt->paths[i].prot), "%s", prot);
        snprintf(rt->paths[i].instance, sizeof(rt->paths[i].instance), "%s", instance);
    }
    if (i >= 0)
        rt->paths[i].enabled = enable;
    emu_unlock(rt);
}

void emu_netcfg_watch(emu_runtime *rt, emu_nc_watch_fn fn, void *ctx)
{
    emu_lock(rt);
    rt->watch = fn;
    rt->watch_ctx = ctx;
    emu_unlock(rt);
}

void emu_netcfg_notify(emu_runtime *rt, emu_nc_event ev, uint32_t id, const char *prot)
{
    emu_lock(rt);
    emu_nc_watch_fn fn = rt->watch;
    void *ctx = rt->watch_ctx;
    emu_unlock(rt);
    if (fn)
        fn(ctx, ev, id, prot);
}

static void ranges_str(const emu_range_set *r, char *out, size_t n)
{
    out[0] = 0;
    for (int i = 0; i < r->n; i++) {
        if (i)
            strncat(out, ",", n - strlen(out) - 1);
        strncat(out, r->names[i], n - strlen(out) - 1);
    }
}

static bool live_adapter(const emu_adapter *ad)
{
    return !emu_obj_dead(&ad->obj) && ad->state != AD_HALTED && ad->state != AD_INITIALIZING;
}

size_t emu_netcfg_adapters(emu_runtime *rt, emu_nc_adapter *out, size_t max)
{
    size_t n = 0;
    emu_lock(rt);
    for (emu_adapter *ad = rt->adapters; ad; ad = ad->next) {
        if (!live_adapter(ad))
            continue;
        if (n < max) {
            emu_nc_adapter *a = &out[n];
            memset(a, 0, sizeof(*a));
            a->id = ad->id;
            snprintf(a->instance, sizeof(a->instance), "%s", ad->instance);
            snprintf(a->pnp_id, sizeof(a->pnp_id), "%s", ad->pnp_id);
            snprintf(a->service, sizeof(a->service), "%s", ad->drv->desc.service);
            ranges_str(&ad->drv->desc.mp_upper, a->upper_range, sizeof(a->upper_range));
            memcpy(a->mac, ad->gen.CurrentMacAddress, 6);
            a->running = ad->state == AD_RUNNING;
        }
        n++;
    }
    emu_unlock(rt);
    return n;
}

size_t emu_netcfg_protocols(emu_runtime *rt, emu_nc_protocol *out, size_t max)
{
    size_t n = 0;
    emu_lock(rt);
    for (emu_protocol *p = rt->protocols; p; p = p->next) {
        if (emu_obj_dead(&p->obj))
            continue;
        if (n < max) {
            memset(&out[n], 0, sizeof(out[n]));
            snprintf(out[n].name, sizeof(out[n].name), "%s", p->name);
            snprintf(out[n].service, sizeof(out[n].service), "%s", p->drv->desc.service);
            ranges_str(&p->lower, out[n].lower_range, sizeof(out[n].lower_range));
        }
        n++;
    }
    emu_unlock(rt);
    return n;
}

size_t emu_netcfg_paths(emu_runtime *rt, emu_nc_path *out, size_t max)
{
    size_t n = 0;
    emu_lock(rt);
    for (emu_protocol *p = rt->protocols; p; p = p->next) {
        if (emu_obj_dead(&p->obj))
            continue;
        for (emu_adapter *ad = rt->adapters; ad; ad = ad->next) {
            if (!live_adapter(ad) || !emu_ranges_meet(&p->lower, &ad->drv->desc.mp_upper))
                continue;
            if (n < max) {
                emu_nc_path *e = &out[n];
                memset(e, 0, sizeof(*e));
                snprintf(e->protocol, sizeof(e->protocol), "%s", p->name);
                e->adapter_id = ad->id;
                snprintf(e->instance, sizeof(e->instance), "%s", ad->instance);
                int i = path_index(rt, p->name, ad->instance);
                e->enabled = i < 0 || rt->paths[i].enabled;
                for (int k = 0; k < EMU_MAX_BINDINGS; k++)
                    e->bound |= ad->bindings[k] && ad->bindings[k]->prot == p &&
                                ad->bindings[k]->state != B_CLOSED;
            }
            n++;
        }
    }
    emu_unlock(rt);
    return n;
}

typedef struct path_req {
    emu_protocol *p;
    emu_adapter *ad;
    bool enable;
} path_req;

static int reconfigure_op(emu_runtime *rt, void *arg)
{
    return emu_protocol_pnp(rt, arg, NetEventReconfigure, NULL, 0);
}

static int path_op(emu_runtime *rt, void *arg)
{
    path_req *r = arg;
    emu_lock(rt);
    int i = path_index(rt, r->p->name, r->ad->instance);
    bool was_enabled = i < 0 || rt->paths[i].enabled; /* unknown paths are enabled */
    if (i < 0 && rt->n_paths < (int)ARRAYSIZE(rt->paths)) {
        i = rt->n_paths++;
        snprintf(rt->paths[i].prot, sizeof(rt->paths[i].prot), "%s", r->p->name);
        snprintf(rt->paths[i].instance, sizeof(rt->paths[i].instance), "%s", r->ad->instance);
    }
    if (i < 0) {
        emu_unlock(rt);
        return EMU_ERR_NOMEM;
    }
    bool changed = was_enabled != r->enable;
    rt->paths[i].enabled = r->enable;
    emu_binding *b = NULL;
    for (int k = 0; k < EMU_MAX_BINDINGS; k++) {
        if (r->ad->bindings[k] && r->ad->bindings[k]->prot == r->p)
            b = r->ad->bindings[k];
    }
    bool can_bind = r->ad->state == AD_RUNNING && r->ad->power == 0;
    emu_unlock(rt);
    int err = EMU_OK;
    if (!r->enable && b)
        err = emu_unbind(rt, b);
    else if (r->enable && !b && can_bind)
        err = emu_bind(rt, r->p, r->ad);
    /* The protocol's binding list changed: NDIS tells it (NULL context). */
    if (changed && err == EMU_OK && !emu_stopped(rt))
        err = emu_protocol_bind_list(rt, r->p);
    return err;
}

int emu_netcfg_reconfigure(emu_runtime *rt, const char *protocol)
{
    if (!protocol)
        return EMU_ERR_INVAL;
    emu_protocol *found = NULL;
    emu_lock(rt);
    for (emu_protocol *p = rt->protocols; p; p = p->next) {
        if (!emu_obj_dead(&p->obj) && strcasecmp(p->name, protocol) == 0)
            found = p;
    }
    emu_unlock(rt);
    if (!found)
        return EMU_ERR_NOTFOUND;
    return emu_pnp_run(rt, reconfigure_op, found);
}

int emu_netcfg_set_path(emu_runtime *rt, const char *protocol, uint32_t adapter_id, bool enable)
{
    if (!protocol)
        return EMU_ERR_INVAL;
    path_req r = { .enable = enable };
    emu_lock(rt);
    for (emu_protocol *p = rt->protocols; p; p = p->next) {
        if (!emu_obj_dead(&p->obj) && strcasecmp(p->name, protocol) == 0)
            r.p = p;
    }
    for (emu_adapter *ad = rt->adapters; ad; ad = ad->next) {
        if (ad->id == adapter_id && live_adapter(ad))
            r.ad = ad;
    }
    bool meet = r.p && r.ad && emu_ranges_meet(&r.p->lower, &r.ad->drv->desc.mp_upper);
    emu_unlock(rt);
    if (!meet)
        return EMU_ERR_NOTFOUND;
    return emu_pnp_run(rt, path_op, &r);
}
