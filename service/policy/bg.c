/* The binding graph's builders and lookups (vsvc_bg.h). */
#include <stdlib.h>
#include <string.h>

#include "vsvc_bg.h"

struct vsvc_bg_graph *vsvc_bg_graph_new(void)
{
    return calloc(1, sizeof(struct vsvc_bg_graph));
}

void vsvc_bg_graph_free(struct vsvc_bg_graph *g)
{
    free(g);
}

void vsvc_bg_graph_reset(struct vsvc_bg_graph *g)
{
    g->n_adapters = 0;
    g->n_bindings = 0;
    g->n_components = 0;
}

int vsvc_bg_path_append(char path[VSVC_PATH_LEN], const char *component_id)
{
    char id[VSVC_NAME_LEN];
    size_t used = strlen(path);
    size_t need;

    if (vsvc_component_canonical(component_id, id) != VSVC_OK)
        return VSVC_E_INVAL;
    need = strlen(id) + (used ? 1 : 0);
    if (used + need >= VSVC_PATH_LEN)
        return VSVC_E_INVAL;
    if (used)
        path[used++] = '>';
    memcpy(path + used, id, strlen(id) + 1);
    return VSVC_OK;
}

int vsvc_bg_path_canonical(const char *in, char out[VSVC_PATH_LEN])
{
    char element[VSVC_NAME_LEN];
    const char *p = in;

    out[0] = '\0';
    if (in == NULL || *in == '\0')
        return VSVC_E_INVAL;
    for (;;) {
        const char *end = strchr(p, '>');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == 0 || n >= sizeof(element)) {
            out[0] = '\0';
            return VSVC_E_INVAL;
        }
        memcpy(element, p, n);
        element[n] = '\0';
        if (vsvc_bg_path_append(out, element) != VSVC_OK) {
            out[0] = '\0';
            return VSVC_E_INVAL;
        }
        if (end == NULL)
            return VSVC_OK;
        p = end + 1;
    }
}

bool vsvc_bg_has_component(const struct vsvc_bg_graph *g, const char *component_id)
{
    char id[VSVC_NAME_LEN];
    size_t i;
    if (vsvc_component_canonical(component_id, id) != VSVC_OK)
        return false;
    for (i = 0; i < g->n_components; i++) {
        if (strcmp(g->components[i], id) == 0)
            return true;
    }
    return false;
}

const struct vsvc_bg_adapter *vsvc_bg_find_adapter(const struct vsvc_bg_graph *g, const char *id)
{
    char key[VSVC_ID_LEN];
    size_t i;
    if (vsvc_id_canonical(id, key) != VSVC_OK)
        return NULL;
    for (i = 0; i < g->n_adapters; i++) {
        if (strcmp(g->adapters[i].id, key) == 0)
            return &g->adapters[i];
    }
    return NULL;
}

const struct vsvc_bg_binding *vsvc_bg_find_binding(const struct vsvc_bg_graph *g,
                                                   const char *adapter_id, const char *path)
{
    char id[VSVC_ID_LEN];
    char key[VSVC_PATH_LEN];
    size_t i;
    if (vsvc_id_canonical(adapter_id, id) != VSVC_OK ||
        vsvc_bg_path_canonical(path, key) != VSVC_OK)
        return NULL;
    for (i = 0; i < g->n_bindings; i++) {
        const struct vsvc_bg_binding *b = &g->bindings[i];
        if (strcmp(b->adapter_id, id) == 0 && strcmp(b->path, key) == 0)
            return b;
    }
    return NULL;
}

int vsvc_bg_add_component(struct vsvc_bg_graph *g, const char *component_id)
{
    char id[VSVC_NAME_LEN];
    if (vsvc_component_canonical(component_id, id) != VSVC_OK)
        return VSVC_E_INVAL;
    if (vsvc_bg_has_component(g, id))
        return VSVC_E_DUPLICATE;
    if (g->n_components == VSVC_BG_MAX_COMPONENTS)
        return VSVC_E_FULL;
    memcpy(g->components[g->n_components++], id, sizeof(id));
    return VSVC_OK;
}

int vsvc_bg_add_adapter(struct vsvc_bg_graph *g, const char *id, const char *pnp_id,
                        const char *service, const uint8_t *mac)
{
    struct vsvc_bg_adapter a;

    memset(&a, 0, sizeof(a));
    if (vsvc_id_canonical(id, a.id) != VSVC_OK)
        return VSVC_E_INVAL;
    if (vsvc_copy(a.pnp_id, sizeof(a.pnp_id), pnp_id ? pnp_id : "") != VSVC_OK)
        return VSVC_E_INVAL;
    if (service != NULL && *service != '\0' &&
        vsvc_component_canonical(service, a.service) != VSVC_OK)
        return VSVC_E_INVAL;
    if (mac != NULL) {
        memcpy(a.mac, mac, sizeof(a.mac));
        a.has_mac = true;
    }
    if (vsvc_bg_find_adapter(g, a.id) != NULL)
        return VSVC_E_DUPLICATE;
    if (g->n_adapters == VSVC_BG_MAX_ADAPTERS)
        return VSVC_E_FULL;
    g->adapters[g->n_adapters++] = a;
    return VSVC_OK;
}

int vsvc_bg_add_binding(struct vsvc_bg_graph *g, const char *adapter_id, const char *path,
                        enum vsvc_bg_kind kind, bool fixed, bool enabled)
{
    struct vsvc_bg_binding b;
    const char *end;

    memset(&b, 0, sizeof(b));
    if (vsvc_id_canonical(adapter_id, b.adapter_id) != VSVC_OK ||
        vsvc_bg_path_canonical(path, b.path) != VSVC_OK || (unsigned)kind > VSVC_BG_FILTER)
        return VSVC_E_INVAL;
    if (vsvc_bg_find_adapter(g, b.adapter_id) == NULL)
        return VSVC_E_NOTFOUND;
    if (vsvc_bg_find_binding(g, b.adapter_id, b.path) != NULL)
        return VSVC_E_DUPLICATE;
    if (g->n_bindings == VSVC_BG_MAX_BINDINGS)
        return VSVC_E_FULL;
    end = strchr(b.path, '>');
    memcpy(b.owner, b.path, end ? (size_t)(end - b.path) : strlen(b.path));
    b.kind = kind;
    b.fixed = fixed;
    b.enabled = enabled;
    g->bindings[g->n_bindings++] = b;
    return VSVC_OK;
}

const char *vsvc_bg_kind_name(enum vsvc_bg_kind kind)
{
    switch (kind) {
    case VSVC_BG_PROTOCOL:
        return "protocol";
    case VSVC_BG_SERVICE:
        return "service";
    case VSVC_BG_CLIENT:
        return "client";
    case VSVC_BG_FILTER:
        return "filter";
    }
    return "unknown";
}
