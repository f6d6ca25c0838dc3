/*
 * bg_emu.c - the binding graph over ndisemu's netcfg model (vsvc_emu.h):
 * what netcfg_win.c does with INetCfg, done with emu_netcfg_*.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsvc_emu.h"

#define MAX_PENDING 256

/* One binding change made in the open write session, not applied yet. */
struct pending {
    uint32_t adapter; /* ndisemu adapter id */
    char protocol[EMU_NAME_MAX];
    char adapter_id[VSVC_ID_LEN];
    char component[VSVC_NAME_LEN];
    bool enable;
};

struct vsvc_emu_bg {
    emu_runtime *rt;
    bool writing;
    char holder[64]; /* another process holding the write lock; "" when none */
    size_t n_pending;
    struct pending pending[MAX_PENDING];
    uint64_t applied;
    char error[256];
};

/* The snapshot of the netcfg model one call works on. */
struct nc_view {
    size_t n_adapters, n_protocols, n_paths;
    emu_nc_adapter *adapters;
    emu_nc_protocol *protocols;
    emu_nc_path *paths;
};

struct vsvc_emu_bg *vsvc_emu_bg_new(emu_runtime *rt)
{
    struct vsvc_emu_bg *bg = calloc(1, sizeof(*bg));
    if (bg != NULL)
        bg->rt = rt;
    return bg;
}

void vsvc_emu_bg_free(struct vsvc_emu_bg *bg)
{
    free(bg);
}

void vsvc_emu_bg_hold_lock(struct vsvc_emu_bg *bg, const char *holder)
{
    snprintf(bg->holder, sizeof(bg->holder), "%s", holder ? holder : "");
}

uint64_t vsvc_emu_bg_applied(const struct vsvc_emu_bg *bg)
{
    return bg->applied;
}

void vsvc_emu_adapter_id(const char *bind_name, char out[VSVC_ID_LEN])
{
    /* NDIS names the adapter "\DEVICE\<bind name>" (NDIS_BIND_PARAMETERS
     * AdapterName); the GUID is read from, or derived from, that name. */
    static const char prefix[] = "\\DEVICE\\";
    uint16_t name[sizeof(prefix) + EMU_NAME_MAX];
    uint32_t n = 0;
    struct vfo_ctl_guid guid;
    const char *p;

    for (p = prefix; *p; p++)
        name[n++] = (uint8_t)*p;
    for (p = bind_name; *p && n < sizeof(name) / sizeof(name[0]); p++)
        name[n++] = (uint8_t)*p;
    vfo_ctl_guid_of_adapter_name(name, n, &guid);
    vsvc_id_from_guid(&guid, out);
}

/* vfo's protocol is the vfoprot component (inf/vfoprot.inf); every other
 * protocol's component id is its name. */
static int component_of(const emu_nc_protocol *p, char out[VSVC_NAME_LEN])
{
    if (strcmp(p->service, VSVC_VFO_SERVICE) == 0)
        return vsvc_copy(out, VSVC_NAME_LEN, VSVC_VFOPROT_ID);
    return vsvc_component_canonical(p->name, out);
}

static void view_free(struct nc_view *v)
{
    free(v->adapters);
    free(v->protocols);
    free(v->paths);
    memset(v, 0, sizeof(*v));
}

static int view_load(struct vsvc_emu_bg *bg, struct nc_view *v)
{
    memset(v, 0, sizeof(*v));
    v->n_adapters = emu_netcfg_adapters(bg->rt, NULL, 0);
    v->n_protocols = emu_netcfg_protocols(bg->rt, NULL, 0);
    v->n_paths = emu_netcfg_paths(bg->rt, NULL, 0);
    v->adapters = calloc(v->n_adapters + 1, sizeof(*v->adapters));
    v->protocols = calloc(v->n_protocols + 1, sizeof(*v->protocols));
    v->paths = calloc(v->n_paths + 1, sizeof(*v->paths));
    if (v->adapters == NULL || v->protocols == NULL || v->paths == NULL) {
        view_free(v);
        snprintf(bg->error, sizeof(bg->error), "out of memory reading the netcfg model");
        return VSVC_E_NOMEM;
    }
    /* Nothing runs between the calls (this thread drives the runtime), so
     * the counts cannot grow; the min() only guards against a shrink. */
    v->n_adapters = emu_netcfg_adapters(bg->rt, v->adapters, v->n_adapters);
    v->n_protocols = emu_netcfg_protocols(bg->rt, v->protocols, v->n_protocols);
    v->n_paths = emu_netcfg_paths(bg->rt, v->paths, v->n_paths);
    return VSVC_OK;
}

static const emu_nc_protocol *view_protocol(const struct nc_view *v, const char *name)
{
    size_t i;
    for (i = 0; i < v->n_protocols; i++) {
        if (strcmp(v->protocols[i].name, name) == 0)
            return &v->protocols[i];
    }
    return NULL;
}

static const struct pending *pending_find(const struct vsvc_emu_bg *bg, uint32_t adapter,
                                          const char *protocol)
{
    size_t i;
    for (i = 0; i < bg->n_pending; i++) {
        if (bg->pending[i].adapter == adapter && strcmp(bg->pending[i].protocol, protocol) == 0)
            return &bg->pending[i];
    }
    return NULL;
}

static int emu_open(void *ctx, enum vsvc_bg_access access, uint32_t timeout_ms, char *holder,
                    size_t holder_len)
{
    struct vsvc_emu_bg *bg = ctx;
    (void)timeout_ms; /* nobody releases a lock while this thread waits */
    if (access == VSVC_BG_READ)
        return VSVC_OK;
    if (bg->holder[0] != '\0' || bg->writing) {
        snprintf(holder, holder_len, "%s", bg->writing ? "vfosvc" : bg->holder);
        return VSVC_E_BUSY;
    }
    bg->writing = true;
    bg->n_pending = 0;
    return VSVC_OK;
}

static void add_adapters(struct vsvc_bg_graph *g, const struct nc_view *v)
{
    char id[VSVC_ID_LEN];
    size_t i;
    for (i = 0; i < v->n_adapters; i++) {
        const emu_nc_adapter *a = &v->adapters[i];
        vsvc_emu_adapter_id(a->instance, id);
        /* A malformed or clashing entry is left out, as netcfg_win.c does. */
        (void)vsvc_bg_add_adapter(g, id, a->pnp_id, a->service, a->mac);
    }
}

static void add_bindings(struct vsvc_emu_bg *bg, struct vsvc_bg_graph *g, const struct nc_view *v)
{
    char id[VSVC_ID_LEN], component[VSVC_NAME_LEN];
    size_t i;
    for (i = 0; i < v->n_paths; i++) {
        const emu_nc_path *p = &v->paths[i];
        const emu_nc_protocol *prot = view_protocol(v, p->protocol);
        const struct pending *change = pending_find(bg, p->adapter_id, p->protocol);
        if (prot == NULL || component_of(prot, component) != VSVC_OK)
            continue;
        vsvc_emu_adapter_id(p->instance, id);
        (void)vsvc_bg_add_binding(g, id, component, VSVC_BG_PROTOCOL, false,
                                  change ? change->enable : p->enabled);
    }
}

static int emu_read(void *ctx, struct vsvc_bg_graph *g)
{
    struct vsvc_emu_bg *bg = ctx;
    char component[VSVC_NAME_LEN];
    struct nc_view v;
    size_t i;
    int rc = view_load(bg, &v);
    if (rc != VSVC_OK)
        return rc;
    for (i = 0; i < v.n_protocols; i++) {
        if (component_of(&v.protocols[i], component) == VSVC_OK)
            (void)vsvc_bg_add_component(g, component);
    }
    add_adapters(g, &v);
    add_bindings(bg, g, &v);
    view_free(&v);
    return VSVC_OK;
}

/* The ndisemu path behind a graph key: which adapter, which protocol. */
static int resolve(struct vsvc_emu_bg *bg, const struct nc_view *v, const char *adapter_id,
                   const char *path, struct pending *out)
{
    char id[VSVC_ID_LEN], component[VSVC_NAME_LEN];
    size_t i;
    for (i = 0; i < v->n_paths; i++) {
        const emu_nc_path *p = &v->paths[i];
        const emu_nc_protocol *prot = view_protocol(v, p->protocol);
        if (prot == NULL || component_of(prot, component) != VSVC_OK ||
            strcmp(component, path) != 0)
            continue;
        vsvc_emu_adapter_id(p->instance, id);
        if (strcmp(id, adapter_id) != 0)
            continue;
        memset(out, 0, sizeof(*out));
        out->adapter = p->adapter_id;
        memcpy(out->protocol, p->protocol, sizeof(out->protocol));
        memcpy(out->adapter_id, id, sizeof(out->adapter_id));
        memcpy(out->component, component, sizeof(out->component));
        return VSVC_OK;
    }
    snprintf(bg->error, sizeof(bg->error), "no binding path %s on %s", path, adapter_id);
    return VSVC_E_NOTFOUND;
}

static int emu_set_binding(void *ctx, const char *adapter_id, const char *path, bool enable)
{
    struct vsvc_emu_bg *bg = ctx;
    char id[VSVC_ID_LEN], key[VSVC_PATH_LEN];
    struct pending want;
    struct nc_view v;
    size_t i;
    int rc;

    if (!bg->writing)
        return VSVC_E_STATE;
    if (vsvc_id_canonical(adapter_id, id) != VSVC_OK ||
        vsvc_bg_path_canonical(path, key) != VSVC_OK)
        return VSVC_E_INVAL;
    rc = view_load(bg, &v);
    if (rc == VSVC_OK)
        rc = resolve(bg, &v, id, key, &want);
    view_free(&v);
    if (rc != VSVC_OK)
        return rc;
    want.enable = enable;
    for (i = 0; i < bg->n_pending; i++) {
        if (bg->pending[i].adapter == want.adapter &&
            strcmp(bg->pending[i].protocol, want.protocol) == 0) {
            bg->pending[i].enable = enable;
            return VSVC_OK;
        }
    }
    if (bg->n_pending == MAX_PENDING) {
        snprintf(bg->error, sizeof(bg->error), "more than %d changes in one session", MAX_PENDING);
        return VSVC_E_FULL;
    }
    bg->pending[bg->n_pending++] = want;
    return VSVC_OK;
}

/* INetCfg::Apply: every change of the session, in the order made. */
static int apply(struct vsvc_emu_bg *bg)
{
    int rc = VSVC_OK;
    size_t i;
    for (i = 0; i < bg->n_pending; i++) {
        const struct pending *c = &bg->pending[i];
        int err = emu_netcfg_set_path(bg->rt, c->protocol, c->adapter, c->enable);
        if (err == EMU_OK) {
            bg->applied++;
            continue;
        }
        snprintf(bg->error, sizeof(bg->error), "emu_netcfg_set_path(%s, %s, %s): %s", c->protocol,
                 c->adapter_id, c->enable ? "on" : "off", emu_strerror(err));
        rc = VSVC_E_IO;
    }
    return rc;
}

static int emu_close(void *ctx, bool commit)
{
    struct vsvc_emu_bg *bg = ctx;
    int rc = VSVC_OK;
    if (!bg->writing)
        return VSVC_OK;
    if (commit)
        rc = apply(bg);
    bg->n_pending = 0;
    bg->writing = false;
    return rc;
}

static const char *emu_last_error(void *ctx)
{
    return ((struct vsvc_emu_bg *)ctx)->error;
}

const struct vsvc_bg_ops vsvc_emu_bg_ops = {
    .open = emu_open,
    .read = emu_read,
    .set_binding = emu_set_binding,
    .close = emu_close,
    .last_error = emu_last_error,
};
