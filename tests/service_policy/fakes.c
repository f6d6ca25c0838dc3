/* Test back ends for the service policy (fakes.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fakes.h"

void crash_tick(struct crash *c)
{
    if (c == NULL)
        return;
    c->ops++;
    if (c->countdown > 0 && --c->countdown == 0)
        longjmp(*c->env, 1);
}

/* ---- fake_net ---------------------------------------------------------- */

void fake_net_init(struct fake_net *n, bool transactional)
{
    memset(n, 0, sizeof(*n));
    n->transactional = transactional;
}

void fake_net_component(struct fake_net *n, const char *id)
{
    snprintf(n->components[n->n_components++], VSVC_NAME_LEN, "%s", id);
}

void fake_net_remove_component(struct fake_net *n, const char *id)
{
    size_t i, keep = 0;
    for (i = 0; i < n->n_components; i++) {
        if (strcmp(n->components[i], id) != 0)
            memcpy(n->components[keep++], n->components[i], VSVC_NAME_LEN);
    }
    n->n_components = keep;
    keep = 0;
    for (i = 0; i < n->n_bindings; i++) {
        const char *path = n->bindings[i].path;
        size_t len = strlen(id);
        if (strncmp(path, id, len) == 0 && (path[len] == '\0' || path[len] == '>'))
            continue;
        n->bindings[keep++] = n->bindings[i];
    }
    n->n_bindings = keep;
}

void fake_net_adapter(struct fake_net *n, const char *id, const char *service, const uint8_t *mac)
{
    struct fake_adapter *a = &n->adapters[n->n_adapters++];
    memset(a, 0, sizeof(*a));
    snprintf(a->id, sizeof(a->id), "%s", id);
    snprintf(a->service, sizeof(a->service), "%s", service);
    if (mac != NULL) {
        memcpy(a->mac, mac, 6);
        a->has_mac = true;
    }
    a->present = true;
}

static struct fake_adapter *find_adapter(struct fake_net *n, const char *id)
{
    size_t i;
    for (i = 0; i < n->n_adapters; i++) {
        if (strcasecmp(n->adapters[i].id, id) == 0) /* ids are case-insensitive */
            return &n->adapters[i];
    }
    return NULL;
}

void fake_net_present(struct fake_net *n, const char *id, bool present)
{
    find_adapter(n, id)->present = present;
}

void fake_net_binding(struct fake_net *n, const char *adapter_id, const char *path,
                      enum vsvc_bg_kind kind, bool enabled)
{
    struct fake_binding *b = &n->bindings[n->n_bindings++];
    memset(b, 0, sizeof(*b));
    snprintf(b->adapter_id, sizeof(b->adapter_id), "%s", adapter_id);
    snprintf(b->path, sizeof(b->path), "%s", path);
    b->kind = kind;
    b->enabled = b->staged = enabled;
}

struct fake_binding *fake_net_find(struct fake_net *n, const char *adapter_id, const char *path)
{
    size_t i;
    for (i = 0; i < n->n_bindings; i++) {
        if (strcasecmp(n->bindings[i].adapter_id, adapter_id) == 0 &&
            strcasecmp(n->bindings[i].path, path) == 0)
            return &n->bindings[i];
    }
    return NULL;
}

bool fake_net_enabled(struct fake_net *n, const char *adapter_id, const char *path)
{
    struct fake_binding *b = fake_net_find(n, adapter_id, path);
    if (b == NULL) {
        fprintf(stderr, "no binding %s on %s\n", path, adapter_id);
        abort();
    }
    return b->enabled;
}

void fake_net_ndis5_bindings(struct fake_net *n, const char *adapter_id)
{
    fake_net_binding(n, adapter_id, "vfoprot", VSVC_BG_PROTOCOL, true);
    fake_net_binding(n, adapter_id, "ms_tcpip", VSVC_BG_PROTOCOL, true);
    fake_net_binding(n, adapter_id, "ms_tcpip6", VSVC_BG_PROTOCOL, true);
    fake_net_binding(n, adapter_id, "ms_lldp", VSVC_BG_PROTOCOL, true);
    fake_net_binding(n, adapter_id, "ms_lltdio", VSVC_BG_PROTOCOL, true);
    fake_net_binding(n, adapter_id, "ms_rspndr", VSVC_BG_PROTOCOL, true);
    fake_net_binding(n, adapter_id, "ms_msclient>ms_tcpip", VSVC_BG_CLIENT, true);
    fake_net_binding(n, adapter_id, "ms_server>ms_tcpip", VSVC_BG_SERVICE, true);
    fake_net_binding(n, adapter_id, "ms_pacer", VSVC_BG_FILTER, true);
}

void fake_net_after_crash(struct fake_net *n)
{
    size_t i;
    /* The process died: Windows drops its lock and its uncommitted changes. */
    n->open = n->writing = false;
    for (i = 0; i < n->n_bindings; i++)
        n->bindings[i].staged = n->bindings[i].enabled;
}

static int net_open(void *ctx, enum vsvc_bg_access access, uint32_t timeout_ms, char *holder,
                    size_t holder_len)
{
    struct fake_net *n = ctx;
    size_t i;
    (void)timeout_ms;
    if (n->open)
        return VSVC_E_STATE;
    if (access == VSVC_BG_WRITE) {
        if (n->busy_opens > 0) {
            n->busy_opens--;
            snprintf(holder, holder_len, "Network Connections");
            return VSVC_E_BUSY;
        }
        n->write_opens++;
        for (i = 0; i < n->n_bindings; i++)
            n->bindings[i].staged = n->bindings[i].enabled;
    } else {
        n->read_opens++;
    }
    n->open = true;
    n->writing = access == VSVC_BG_WRITE;
    return VSVC_OK;
}

static int net_read(void *ctx, struct vsvc_bg_graph *g)
{
    struct fake_net *n = ctx;
    size_t i;
    int rc;
    if (!n->open)
        return VSVC_E_STATE;
    if (n->fail_reads > 0) {
        n->fail_reads--;
        return VSVC_E_IO;
    }
    for (i = 0; i < n->n_components; i++) {
        if ((rc = vsvc_bg_add_component(g, n->components[i])) != VSVC_OK)
            return rc;
    }
    for (i = 0; i < n->n_adapters; i++) {
        const struct fake_adapter *a = &n->adapters[i];
        if (!a->present)
            continue;
        rc = vsvc_bg_add_adapter(g, a->id, "PCI\\VEN_8086&DEV_1515\\3&11583659&0&30", a->service,
                                 a->has_mac ? a->mac : NULL);
        if (rc != VSVC_OK)
            return rc;
    }
    for (i = 0; i < n->n_bindings; i++) {
        const struct fake_binding *b = &n->bindings[i];
        if (!find_adapter(n, b->adapter_id)->present)
            continue;
        rc = vsvc_bg_add_binding(g, b->adapter_id, b->path, b->kind, b->fixed,
                                 n->writing ? b->staged : b->enabled);
        if (rc != VSVC_OK)
            return rc;
    }
    return VSVC_OK;
}

static int net_set(void *ctx, const char *adapter_id, const char *path, bool enable)
{
    struct fake_net *n = ctx;
    struct fake_binding *b = fake_net_find(n, adapter_id, path);
    if (!n->open || !n->writing) {
        n->sets_outside_write++;
        return VSVC_E_STATE;
    }
    if (b == NULL || !find_adapter(n, adapter_id)->present)
        return VSVC_E_NOTFOUND;
    n->sets++;
    b->staged = enable;
    if (!n->transactional)
        b->enabled = enable;
    crash_tick(n->crash);
    return VSVC_OK;
}

static int net_close(void *ctx, bool commit)
{
    struct fake_net *n = ctx;
    size_t i;
    bool writing = n->writing;
    if (!n->open)
        return VSVC_E_STATE;
    /* A crash inside the commit leaves the session open: reset it first. */
    n->open = n->writing = false;
    if (!writing)
        return VSVC_OK;
    if (!commit) {
        n->cancels++;
        return VSVC_OK;
    }
    if (n->fail_commits > 0) {
        n->fail_commits--;
        return VSVC_E_IO;
    }
    for (i = 0; i < n->n_bindings; i++)
        n->bindings[i].enabled = n->bindings[i].staged;
    n->commits++;
    crash_tick(n->crash);
    return VSVC_OK;
}

static const char *net_last_error(void *ctx)
{
    struct fake_net *n = ctx;
    return n->error_detail;
}

const struct vsvc_bg_ops fake_net_ops = {
    .open = net_open,
    .read = net_read,
    .set_binding = net_set,
    .close = net_close,
    .last_error = net_last_error,
};

/* ---- fake_store -------------------------------------------------------- */

void fake_store_init(struct fake_store *s)
{
    memset(s, 0, sizeof(*s));
    s->mem = vsvc_mem_store_new(VSVC_STORE_MAX_RECORDS);
}

void fake_store_fini(struct fake_store *s)
{
    vsvc_mem_store_free(s->mem);
}

const struct vsvc_store_record *fake_store_find(struct fake_store *s, const char *adapter_id,
                                                const char *path)
{
    size_t i;
    for (i = 0; i < vsvc_mem_store_count(s->mem); i++) {
        const struct vsvc_store_record *r = vsvc_mem_store_at(s->mem, i);
        if (strcmp(r->adapter_id, adapter_id) == 0 && strcmp(r->path, path) == 0)
            return r;
    }
    return NULL;
}

static int store_load(void *ctx, struct vsvc_store_record *out, size_t cap, size_t *count,
                      size_t *bad)
{
    struct fake_store *s = ctx;
    return vsvc_mem_store_ops.load(s->mem, out, cap, count, bad);
}

static int store_put(void *ctx, const struct vsvc_store_record *rec)
{
    struct fake_store *s = ctx;
    int rc;
    if (s->fail_puts > 0) {
        s->fail_puts--;
        return VSVC_E_IO;
    }
    rc = vsvc_mem_store_ops.put(s->mem, rec);
    s->puts++;
    crash_tick(s->crash);
    return rc;
}

static int store_remove(void *ctx, const char *adapter_id, const char *path)
{
    struct fake_store *s = ctx;
    int rc = vsvc_mem_store_ops.remove(s->mem, adapter_id, path);
    s->removes++;
    crash_tick(s->crash);
    return rc;
}

const struct vsvc_store_ops fake_store_ops = {
    .load = store_load,
    .put = store_put,
    .remove = store_remove,
};

/* ---- log --------------------------------------------------------------- */

static void log_event(void *ctx, enum vsvc_event ev, enum vsvc_level level, const char *text)
{
    struct fake_log *l = ctx;
    (void)level;
    if ((unsigned)ev >= VSVC_EV_COUNT)
        abort();
    l->count[ev]++;
    l->total++;
    snprintf(l->last[ev], sizeof(l->last[ev]), "%s", text);
    if (getenv("VSVC_TEST_VERBOSE") != NULL)
        fprintf(stderr, "[%s] %s\n", vsvc_event_name(ev), text);
}

const struct vsvc_log_ops fake_log_ops = { .log = log_event };

/* ---- pairs ------------------------------------------------------------- */

void pairs_none(struct vsvc_pairs *p)
{
    vsvc_pairs_clear(p);
    p->valid = true;
}

struct vsvc_pair *pairs_add(struct vsvc_pairs *p, const char *vfo_id, const uint8_t *mac,
                            uint32_t state, const char *vf_id, const uint8_t *vf_mac)
{
    struct vsvc_pair *pr = &p->pair[p->count++];
    memset(pr, 0, sizeof(*pr));
    snprintf(pr->vfo.id, sizeof(pr->vfo.id), "%s", vfo_id);
    memcpy(pr->vfo.mac, mac, 6);
    pr->state = state;
    if (state != VFO_CTL_PAIR_ABSENT) {
        snprintf(pr->vf.id, sizeof(pr->vf.id), "%s", vf_id);
        if (vf_mac != NULL)
            memcpy(pr->vf.mac, vf_mac, 6);
    }
    p->generation++;
    return pr;
}
