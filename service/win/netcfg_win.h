/*
 * netcfg_win.h - the binding-graph back end over Windows INetCfg
 * (vsvc_bg.h), used from C through COBJMACROS, plus the vfoprot component
 * install/removal that `vfosvc install|uninstall` need.
 *
 * The calling thread must have initialized COM (CoInitializeEx).
 */
#ifndef VFOSVC_NETCFG_WIN_H
#define VFOSVC_NETCFG_WIN_H

#include "util_win.h"
#include "vsvc_bg.h"

struct nc_path;

struct netcfg_win {
    INetCfg *nc;
    INetCfgLock *lock; /* held only in a write session */
    bool initialized;
    struct nc_path *paths; /* binding paths seen by the last read, for set_binding */
    size_t n_paths;
    char error[192];
};

bool netcfg_init(struct netcfg_win *n);
void netcfg_fini(struct netcfg_win *n);
extern const struct vsvc_bg_ops netcfg_ops;

/* In a write session (netcfg_ops.open(VSVC_BG_WRITE)): install the vfoprot
 * NetTrans component from an INF already staged in the driver store, or
 * remove it. VSVC_OK also when there was nothing to do (*changed false). */
int netcfg_install_vfoprot(struct netcfg_win *n, bool *changed);
int netcfg_remove_vfoprot(struct netcfg_win *n, bool *changed);

#endif /* VFOSVC_NETCFG_WIN_H */
