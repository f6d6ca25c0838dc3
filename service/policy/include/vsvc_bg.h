/*
 * vsvc_bg.h - the binding graph: the plain data model the policy reasons
 * about, and the ops a configuration back end implements to provide it.
 *
 * Two back ends implement struct vsvc_bg_ops:
 *   - service/win/netcfg_win.c: Windows INetCfg (vfosvc.exe);
 *   - ndisemu's netcfg model (tests and vfo-emu scenarios).
 * The policy core never sees anything else, so the very same decisions run
 * against both.
 *
 * Model
 *   adapter    a Net-class component: id = its NetCfgInstanceId "{GUID}"
 *              (the GUID the kernel sees in "\DEVICE\{GUID}"), PnP device
 *              instance id, driver service name, MAC when the back end
 *              knows it.
 *   binding    one binding path that ENDS at an adapter, named by the chain
 *              of component ids from its owner down to the component directly
 *              above the adapter, joined by '>' ("ms_tcpip",
 *              "ms_server>ms_tcpip"), with its owner's kind and whether it is
 *              enabled. (adapter id, path) is the binding's key; it must be
 *              stable across sessions and reboots because the store keeps it.
 *   component  every installed protocol/service/client id ("vfoprot", ...).
 * All ids are compared case-insensitively; the add helpers below store them
 * canonically (GUIDs upper case, component ids lower case) and reject
 * malformed or duplicate entries, so a back end only has to call them.
 *
 * Sessions
 *   open(READ)  : a consistent view for read(); takes no lock.
 *   open(WRITE) : takes the configuration write lock, waiting at most
 *                 timeout_ms; returns VSVC_E_BUSY (holder filled with the
 *                 lock owner's description, or "") when someone else keeps
 *                 it. read() and set_binding() may then be called.
 *   read        : fills an empty graph (the caller resets it). Within a write
 *                 session it reflects the session's own changes.
 *   set_binding : enables/disables the binding (adapter_id, path); idempotent;
 *                 VSVC_E_NOTFOUND when the path does not exist (any more).
 *                 Only in a write session (VSVC_E_STATE otherwise).
 *   close       : ends the session. For WRITE, commit=true applies every
 *                 change made in it (INetCfg::Apply), commit=false discards
 *                 them; it returns VSVC_OK, VSVC_OK_REBOOT or an error (then
 *                 nothing was applied). For READ, commit is ignored.
 *   last_error  : optional detail of the last failure, for the log.
 * A back end whose changes take effect immediately (no transaction) is fine:
 * the policy records every change in the store before making it.
 */
#ifndef VSVC_BG_H
#define VSVC_BG_H

#include "vsvc_common.h"

#define VSVC_BG_MAX_ADAPTERS   128
#define VSVC_BG_MAX_BINDINGS   2048
#define VSVC_BG_MAX_COMPONENTS 128

/* What kind of component owns a binding path. Filters (NDIS lightweight
 * filters) sit between vfo's protocol edge and the VF and are left alone. */
enum vsvc_bg_kind {
    VSVC_BG_PROTOCOL = 0, /* NetTrans */
    VSVC_BG_SERVICE = 1,  /* NetService that is not a filter */
    VSVC_BG_CLIENT = 2,   /* NetClient */
    VSVC_BG_FILTER = 3,   /* lightweight filter (NCF_LW_FILTER / NCF_FILTER) */
};

struct vsvc_bg_adapter {
    char id[VSVC_ID_LEN];
    char pnp_id[VSVC_PNP_LEN];   /* "" when unknown */
    char service[VSVC_NAME_LEN]; /* lower case; "" when unknown */
    uint8_t mac[6];
    bool has_mac;
};

struct vsvc_bg_binding {
    char adapter_id[VSVC_ID_LEN];
    char path[VSVC_PATH_LEN];
    char owner[VSVC_NAME_LEN]; /* first component of path */
    enum vsvc_bg_kind kind;
    bool fixed; /* the owner forbids changing it (NCF_FIXED_BINDING) */
    bool enabled;
};

struct vsvc_bg_graph {
    size_t n_adapters;
    size_t n_bindings;
    size_t n_components;
    struct vsvc_bg_adapter adapters[VSVC_BG_MAX_ADAPTERS];
    struct vsvc_bg_binding bindings[VSVC_BG_MAX_BINDINGS];
    char components[VSVC_BG_MAX_COMPONENTS][VSVC_NAME_LEN];
};

enum vsvc_bg_access {
    VSVC_BG_READ = 0,
    VSVC_BG_WRITE = 1,
};

struct vsvc_bg_ops {
    int (*open)(void *ctx, enum vsvc_bg_access access, uint32_t timeout_ms, char *holder,
                size_t holder_len);
    int (*read)(void *ctx, struct vsvc_bg_graph *graph);
    int (*set_binding)(void *ctx, const char *adapter_id, const char *path, bool enable);
    int (*close)(void *ctx, bool commit);
    /* Optional (may be NULL): a short description of the last failure
     * ("INetCfg::Apply: 0x8004a024"), appended to the policy's log line. */
    const char *(*last_error)(void *ctx);
};

/* Heap-allocated (the graph is a few hundred KiB); NULL when out of memory. */
struct vsvc_bg_graph *vsvc_bg_graph_new(void);
void vsvc_bg_graph_free(struct vsvc_bg_graph *g);
void vsvc_bg_graph_reset(struct vsvc_bg_graph *g);

/* Builders for back ends: validate, canonicalize, reject duplicates
 * (VSVC_E_DUPLICATE) and overflow (VSVC_E_FULL). */
int vsvc_bg_add_component(struct vsvc_bg_graph *g, const char *component_id);
int vsvc_bg_add_adapter(struct vsvc_bg_graph *g, const char *id, const char *pnp_id,
                        const char *service, const uint8_t *mac /* NULL: unknown */);
/* The adapter must have been added first (VSVC_E_NOTFOUND otherwise). */
int vsvc_bg_add_binding(struct vsvc_bg_graph *g, const char *adapter_id, const char *path,
                        enum vsvc_bg_kind kind, bool fixed, bool enabled);

/* Appends a component id to a path under construction (path[0] == 0 to
 * start). VSVC_E_INVAL when the id is malformed or the path too long. */
int vsvc_bg_path_append(char path[VSVC_PATH_LEN], const char *component_id);

/* Validates a whole path ("a>b>c") and writes it in canonical form. */
int vsvc_bg_path_canonical(const char *in, char out[VSVC_PATH_LEN]);

/* Lookups by canonical or any-case keys; NULL when absent or malformed. */
const struct vsvc_bg_adapter *vsvc_bg_find_adapter(const struct vsvc_bg_graph *g, const char *id);
const struct vsvc_bg_binding *vsvc_bg_find_binding(const struct vsvc_bg_graph *g,
                                                   const char *adapter_id, const char *path);
bool vsvc_bg_has_component(const struct vsvc_bg_graph *g, const char *component_id);

const char *vsvc_bg_kind_name(enum vsvc_bg_kind kind);

#endif /* VSVC_BG_H */
