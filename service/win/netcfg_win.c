/*
 * netcfg_win.c - INetCfg as a binding graph (netcfg_win.h).
 *
 * read() walks every adapter (class Net) and every binding path below each
 * protocol, service and client, naming a path by the ids of the components
 * above its adapter. The paths are kept (AddRef'd) until the session ends so
 * set_binding() can enable or disable exactly the path it was given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netcfg_win.h"

/* Reads are lock-free; this only bounds a write-lock wait. */
#define CLIENT_NAME L"vfosvc"

struct nc_path {
    INetCfgBindingPath *path;
    char adapter_id[VSVC_ID_LEN];
    char key[VSVC_PATH_LEN];
};

bool netcfg_init(struct netcfg_win *n)
{
    memset(n, 0, sizeof(*n));
    n->paths = calloc(VSVC_BG_MAX_BINDINGS, sizeof(*n->paths));
    return n->paths != NULL;
}

static int fail(struct netcfg_win *n, const char *what, HRESULT hr)
{
    char text[160];
    win_error_text((DWORD)hr, text, sizeof(text));
    snprintf(n->error, sizeof(n->error), "%s: %s", what, text);
    return VSVC_E_IO;
}

static void release_paths(struct netcfg_win *n)
{
    size_t i;
    for (i = 0; i < n->n_paths; i++)
        INetCfgBindingPath_Release(n->paths[i].path);
    n->n_paths = 0;
}

/* Ends whatever session is open, in the order INetCfg requires. */
static void release_session(struct netcfg_win *n)
{
    release_paths(n);
    if (n->initialized)
        INetCfg_Uninitialize(n->nc);
    n->initialized = false;
    if (n->lock != NULL) {
        INetCfgLock_ReleaseWriteLock(n->lock);
        INetCfgLock_Release(n->lock);
        n->lock = NULL;
    }
    if (n->nc != NULL)
        INetCfg_Release(n->nc);
    n->nc = NULL;
}

void netcfg_fini(struct netcfg_win *n)
{
    release_session(n);
    free(n->paths);
    n->paths = NULL;
}

static int acquire_lock(struct netcfg_win *n, uint32_t timeout_ms, char *holder, size_t holder_len)
{
    LPWSTR who = NULL;
    HRESULT hr = INetCfg_QueryInterface(n->nc, &IID_INetCfgLock, (void **)&n->lock);
    if (FAILED(hr)) {
        n->lock = NULL;
        return fail(n, "INetCfg::QueryInterface(INetCfgLock)", hr);
    }
    hr = INetCfgLock_AcquireWriteLock(n->lock, timeout_ms, CLIENT_NAME, &who);
    if (hr == S_FALSE) {
        /* Held by someone else, who told us their name. */
        if (who != NULL) {
            utf8_from_wide(who, holder, holder_len);
            CoTaskMemFree(who);
        }
        INetCfgLock_Release(n->lock);
        n->lock = NULL;
        return VSVC_E_BUSY;
    }
    if (FAILED(hr)) {
        INetCfgLock_Release(n->lock);
        n->lock = NULL;
        return fail(n, "INetCfgLock::AcquireWriteLock", hr);
    }
    return VSVC_OK;
}

static int nc_open(void *ctx, enum vsvc_bg_access access, uint32_t timeout_ms, char *holder,
                   size_t holder_len)
{
    struct netcfg_win *n = ctx;
    HRESULT hr;
    int rc;

    if (n->nc != NULL)
        return VSVC_E_STATE;
    n->error[0] = '\0';
    hr =
        CoCreateInstance(&CLSID_CNetCfg, NULL, CLSCTX_INPROC_SERVER, &IID_INetCfg, (void **)&n->nc);
    if (FAILED(hr)) {
        n->nc = NULL;
        return fail(n, "CoCreateInstance(CNetCfg)", hr);
    }
    if (access == VSVC_BG_WRITE) {
        rc = acquire_lock(n, timeout_ms, holder, holder_len);
        if (rc != VSVC_OK) {
            release_session(n);
            return rc;
        }
    }
    hr = INetCfg_Initialize(n->nc, NULL);
    if (FAILED(hr)) {
        rc = fail(n, "INetCfg::Initialize", hr);
        release_session(n);
        return rc;
    }
    n->initialized = true;
    return VSVC_OK;
}

static int nc_close(void *ctx, bool commit)
{
    struct netcfg_win *n = ctx;
    int rc = VSVC_OK;
    HRESULT hr;

    if (n->nc == NULL)
        return VSVC_E_STATE;
    if (n->lock != NULL && n->initialized) {
        release_paths(n);
        hr = commit ? INetCfg_Apply(n->nc) : INetCfg_Cancel(n->nc);
        if (hr == NETCFG_S_REBOOT) {
            rc = VSVC_OK_REBOOT;
        } else if (FAILED(hr)) {
            rc = fail(n, commit ? "INetCfg::Apply" : "INetCfg::Cancel", hr);
            if (commit)
                INetCfg_Cancel(n->nc);
        }
    }
    release_session(n);
    return rc;
}

static bool guid_id(const GUID *g, char out[VSVC_ID_LEN])
{
    wchar_t wide[64];
    char utf8[64];
    if (StringFromGUID2(g, wide, 64) == 0 || !utf8_from_wide(wide, utf8, sizeof(utf8)))
        return false;
    return vsvc_id_canonical(utf8, out) == VSVC_OK;
}

static bool component_id(INetCfgComponent *c, char *out, size_t cap)
{
    LPWSTR id = NULL;
    bool ok;
    if (FAILED(INetCfgComponent_GetId(c, &id)) || id == NULL)
        return false;
    ok = utf8_from_wide(id, out, cap);
    CoTaskMemFree(id);
    return ok;
}

static bool is_adapter(INetCfgComponent *c)
{
    GUID cls;
    return SUCCEEDED(INetCfgComponent_GetClassGuid(c, &cls)) &&
           IsEqualGUID(&cls, &GUID_DEVCLASS_NET);
}

/* The driver service of a device node ("ixgbevf", "vfo"); "" if unknown. */
static void device_service(const wchar_t *devnode, char *out, size_t cap)
{
    DEVINST inst;
    wchar_t name[VSVC_NAME_LEN];
    ULONG len = sizeof(name);
    out[0] = '\0';
    if (CM_Locate_DevNodeW(&inst, (DEVINSTID_W)devnode, CM_LOCATE_DEVNODE_NORMAL) != CR_SUCCESS)
        return;
    if (CM_Get_DevNode_Registry_PropertyW(inst, CM_DRP_SERVICE, NULL, name, &len, 0) == CR_SUCCESS)
        utf8_from_wide(name, out, cap);
}

/* The adapter's current MAC through NDIS's per-adapter device; best effort:
 * without it the policy relies on the GUID alone. */
static bool adapter_mac(const char *id, uint8_t mac[6])
{
    wchar_t path[VSVC_ID_LEN + 8] = L"\\\\.\\";
    DWORD oid = VFOSVC_OID_802_3_CURRENT_ADDRESS, got = 0;
    HANDLE h;
    bool ok;

    if (!wide_from_utf8(id, path + 4, VSVC_ID_LEN + 4))
        return false;
    h = CreateFileW(path, 0, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return false;
    ok = DeviceIoControl(h, VFOSVC_IOCTL_NDIS_QUERY_GLOBAL_STATS, &oid, sizeof(oid), mac, 6, &got,
                         NULL) &&
         got == 6;
    CloseHandle(h);
    return ok;
}

static int add_adapter(struct netcfg_win *n, struct vsvc_bg_graph *g, INetCfgComponent *c)
{
    GUID guid;
    char id[VSVC_ID_LEN], pnp[VSVC_PNP_LEN] = "", service[VSVC_NAME_LEN] = "";
    uint8_t mac[6];
    LPWSTR devnode = NULL;
    HRESULT hr = INetCfgComponent_GetInstanceGuid(c, &guid);
    int rc;

    if (FAILED(hr))
        return fail(n, "INetCfgComponent::GetInstanceGuid", hr);
    if (!guid_id(&guid, id))
        return VSVC_E_INVAL;
    /* Software adapters may have no device node; that is fine. */
    if (SUCCEEDED(INetCfgComponent_GetPnpDevNodeId(c, &devnode)) && devnode != NULL) {
        utf8_from_wide(devnode, pnp, sizeof(pnp));
        device_service(devnode, service, sizeof(service));
        CoTaskMemFree(devnode);
    }
    rc = vsvc_bg_add_adapter(g, id, pnp, service, adapter_mac(id, mac) ? mac : NULL);
    if (rc != VSVC_OK)
        snprintf(n->error, sizeof(n->error), "adapter %s: %s", id, vsvc_strerror(rc));
    return rc;
}

static int read_adapters(struct netcfg_win *n, struct vsvc_bg_graph *g)
{
    IEnumNetCfgComponent *e = NULL;
    INetCfgComponent *c;
    HRESULT hr = INetCfg_EnumComponents(n->nc, &GUID_DEVCLASS_NET, &e);
    int rc = VSVC_OK;

    if (FAILED(hr))
        return fail(n, "INetCfg::EnumComponents(Net)", hr);
    while (rc == VSVC_OK && IEnumNetCfgComponent_Next(e, 1, &c, NULL) == S_OK) {
        rc = add_adapter(n, g, c);
        INetCfgComponent_Release(c);
    }
    IEnumNetCfgComponent_Release(e);
    return rc;
}

/* Walks a path's interfaces: the upper component of each names the path,
 * the lower component of the last one is the adapter. */
static bool describe_path(INetCfgBindingPath *path, char key[VSVC_PATH_LEN],
                          char adapter_id[VSVC_ID_LEN])
{
    IEnumNetCfgBindingInterface *e = NULL;
    INetCfgBindingInterface *bi;
    INetCfgComponent *lower = NULL;
    bool ok = true;

    key[0] = '\0';
    if (FAILED(INetCfgBindingPath_EnumBindingInterfaces(path, &e)))
        return false;
    while (ok && IEnumNetCfgBindingInterface_Next(e, 1, &bi, NULL) == S_OK) {
        INetCfgComponent *upper = NULL;
        char id[VSVC_NAME_LEN];
        ok = SUCCEEDED(INetCfgBindingInterface_GetUpperComponent(bi, &upper)) &&
             component_id(upper, id, sizeof(id)) && vsvc_bg_path_append(key, id) == VSVC_OK;
        if (upper != NULL)
            INetCfgComponent_Release(upper);
        if (lower != NULL)
            INetCfgComponent_Release(lower);
        lower = NULL;
        if (ok && FAILED(INetCfgBindingInterface_GetLowerComponent(bi, &lower)))
            lower = NULL;
        INetCfgBindingInterface_Release(bi);
    }
    IEnumNetCfgBindingInterface_Release(e);
    if (lower == NULL)
        return false;
    if (ok && is_adapter(lower)) {
        GUID guid;
        ok =
            SUCCEEDED(INetCfgComponent_GetInstanceGuid(lower, &guid)) && guid_id(&guid, adapter_id);
    } else {
        ok = false; /* a path that does not end at an adapter */
    }
    INetCfgComponent_Release(lower);
    return ok && key[0] != '\0';
}

static int add_path(struct netcfg_win *n, struct vsvc_bg_graph *g, INetCfgBindingPath *path,
                    enum vsvc_bg_kind kind, bool fixed)
{
    struct nc_path *slot;
    char key[VSVC_PATH_LEN], adapter_id[VSVC_ID_LEN];
    int rc;

    /* Paths to absent adapters, or through components whose ids the model
     * cannot name, are not the policy's business. */
    if (!describe_path(path, key, adapter_id))
        return VSVC_OK;
    rc = vsvc_bg_add_binding(g, adapter_id, key, kind, fixed,
                             INetCfgBindingPath_IsEnabled(path) == S_OK);
    if (rc == VSVC_E_NOTFOUND || rc == VSVC_E_DUPLICATE)
        return VSVC_OK;
    if (rc != VSVC_OK) {
        snprintf(n->error, sizeof(n->error), "binding %s on %s: %s", key, adapter_id,
                 vsvc_strerror(rc));
        return rc;
    }
    slot = &n->paths[n->n_paths++];
    slot->path = path;
    INetCfgBindingPath_AddRef(path);
    vsvc_id_canonical(adapter_id, slot->adapter_id);
    vsvc_bg_path_canonical(key, slot->key);
    return VSVC_OK;
}

static enum vsvc_bg_kind kind_of(const GUID *cls, DWORD characteristics)
{
    if (IsEqualGUID(cls, &GUID_DEVCLASS_NETTRANS))
        return VSVC_BG_PROTOCOL;
    if (IsEqualGUID(cls, &GUID_DEVCLASS_NETCLIENT))
        return VSVC_BG_CLIENT;
    return (characteristics & (NCF_LW_FILTER | NCF_FILTER)) ? VSVC_BG_FILTER : VSVC_BG_SERVICE;
}

static int read_component_paths(struct netcfg_win *n, struct vsvc_bg_graph *g, INetCfgComponent *c,
                                const GUID *cls)
{
    INetCfgComponentBindings *b = NULL;
    IEnumNetCfgBindingPath *e = NULL;
    INetCfgBindingPath *path;
    DWORD chars = 0;
    int rc = VSVC_OK;
    HRESULT hr;

    INetCfgComponent_GetCharacteristics(c, &chars);
    hr = INetCfgComponent_QueryInterface(c, &IID_INetCfgComponentBindings, (void **)&b);
    if (FAILED(hr))
        return fail(n, "INetCfgComponent::QueryInterface(INetCfgComponentBindings)", hr);
    hr = INetCfgComponentBindings_EnumBindingPaths(b, EBP_BELOW, &e);
    if (FAILED(hr)) {
        INetCfgComponentBindings_Release(b);
        return fail(n, "INetCfgComponentBindings::EnumBindingPaths", hr);
    }
    while (rc == VSVC_OK && IEnumNetCfgBindingPath_Next(e, 1, &path, NULL) == S_OK) {
        rc = add_path(n, g, path, kind_of(cls, chars), (chars & NCF_FIXED_BINDING) != 0);
        INetCfgBindingPath_Release(path);
    }
    IEnumNetCfgBindingPath_Release(e);
    INetCfgComponentBindings_Release(b);
    return rc;
}

static int read_class(struct netcfg_win *n, struct vsvc_bg_graph *g, const GUID *cls)
{
    IEnumNetCfgComponent *e = NULL;
    INetCfgComponent *c;
    HRESULT hr = INetCfg_EnumComponents(n->nc, cls, &e);
    int rc = VSVC_OK;

    if (FAILED(hr))
        return fail(n, "INetCfg::EnumComponents", hr);
    while (rc == VSVC_OK && IEnumNetCfgComponent_Next(e, 1, &c, NULL) == S_OK) {
        char id[VSVC_NAME_LEN];
        if (component_id(c, id, sizeof(id))) {
            rc = vsvc_bg_add_component(g, id);
            if (rc == VSVC_E_DUPLICATE || rc == VSVC_E_INVAL)
                rc = VSVC_OK; /* listed once; odd ids are simply not tracked */
            if (rc == VSVC_OK)
                rc = read_component_paths(n, g, c, cls);
        }
        INetCfgComponent_Release(c);
    }
    IEnumNetCfgComponent_Release(e);
    return rc;
}

static int nc_read(void *ctx, struct vsvc_bg_graph *g)
{
    static const GUID *const classes[] = { &GUID_DEVCLASS_NETTRANS, &GUID_DEVCLASS_NETSERVICE,
                                           &GUID_DEVCLASS_NETCLIENT };
    struct netcfg_win *n = ctx;
    size_t i;
    int rc;

    if (!n->initialized)
        return VSVC_E_STATE;
    release_paths(n);
    rc = read_adapters(n, g);
    for (i = 0; rc == VSVC_OK && i < sizeof(classes) / sizeof(classes[0]); i++)
        rc = read_class(n, g, classes[i]);
    return rc;
}

static int nc_set_binding(void *ctx, const char *adapter_id, const char *path, bool enable)
{
    struct netcfg_win *n = ctx;
    char id[VSVC_ID_LEN], key[VSVC_PATH_LEN];
    size_t i;
    HRESULT hr;

    if (n->lock == NULL || !n->initialized)
        return VSVC_E_STATE;
    if (vsvc_id_canonical(adapter_id, id) != VSVC_OK ||
        vsvc_bg_path_canonical(path, key) != VSVC_OK)
        return VSVC_E_INVAL;
    for (i = 0; i < n->n_paths; i++) {
        if (strcmp(n->paths[i].adapter_id, id) != 0 || strcmp(n->paths[i].key, key) != 0)
            continue;
        hr = INetCfgBindingPath_Enable(n->paths[i].path, enable ? TRUE : FALSE);
        return FAILED(hr) ? fail(n, "INetCfgBindingPath::Enable", hr) : VSVC_OK;
    }
    return VSVC_E_NOTFOUND;
}

static const char *nc_last_error(void *ctx)
{
    struct netcfg_win *n = ctx;
    return n->error;
}

const struct vsvc_bg_ops netcfg_ops = {
    .open = nc_open,
    .read = nc_read,
    .set_binding = nc_set_binding,
    .close = nc_close,
    .last_error = nc_last_error,
};

/* Installs and removals are made on the user's behalf (not for another
 * component), so Windows reference-counts them as such. */
static OBO_TOKEN user_token(void)
{
    OBO_TOKEN obo;
    memset(&obo, 0, sizeof(obo));
    obo.Type = OBO_USER;
    return obo;
}

static int class_setup(struct netcfg_win *n, INetCfgClassSetup **setup)
{
    HRESULT hr = INetCfg_QueryNetCfgClass(n->nc, &GUID_DEVCLASS_NETTRANS, &IID_INetCfgClassSetup,
                                          (void **)setup);
    return FAILED(hr) ? fail(n, "INetCfg::QueryNetCfgClass(NetTrans)", hr) : VSVC_OK;
}

int netcfg_install_vfoprot(struct netcfg_win *n, bool *changed)
{
    INetCfgClassSetup *setup = NULL;
    INetCfgComponent *c = NULL;
    OBO_TOKEN obo;
    HRESULT hr;
    int rc;

    *changed = false;
    if (n->lock == NULL)
        return VSVC_E_STATE;
    if (INetCfg_FindComponent(n->nc, L"" VSVC_VFOPROT_ID, &c) == S_OK) {
        INetCfgComponent_Release(c);
        return VSVC_OK;
    }
    if ((rc = class_setup(n, &setup)) != VSVC_OK)
        return rc;
    obo = user_token();
    hr = INetCfgClassSetup_Install(setup, L"" VSVC_VFOPROT_ID, &obo, 0, 0, NULL, NULL, &c);
    INetCfgClassSetup_Release(setup);
    if (FAILED(hr))
        return fail(n, "INetCfgClassSetup::Install(vfoprot)", hr);
    if (c != NULL)
        INetCfgComponent_Release(c);
    *changed = true;
    return VSVC_OK;
}

int netcfg_remove_vfoprot(struct netcfg_win *n, bool *changed)
{
    INetCfgClassSetup *setup = NULL;
    INetCfgComponent *c = NULL;
    OBO_TOKEN obo;
    HRESULT hr;
    int rc;

    *changed = false;
    if (n->lock == NULL)
        return VSVC_E_STATE;
    if (INetCfg_FindComponent(n->nc, L"" VSVC_VFOPROT_ID, &c) != S_OK)
        return VSVC_OK;
    rc = class_setup(n, &setup);
    if (rc == VSVC_OK) {
        obo = user_token();
        hr = INetCfgClassSetup_DeInstall(setup, c, &obo, NULL);
        INetCfgClassSetup_Release(setup);
        if (FAILED(hr))
            rc = fail(n, "INetCfgClassSetup::DeInstall(vfoprot)", hr);
        else
            *changed = true;
    }
    INetCfgComponent_Release(c);
    return rc;
}
