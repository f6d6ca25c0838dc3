/*
 * emu_netcfg.h - ndisemu's binding engine seen the way INetCfg shows it.
 *
 * Components: adapters (miniport instances) and protocols (what drivers
 * registered with NdisRegisterProtocolDriver). A binding path joins a
 * protocol to an adapter when the protocol's LowerRange intersects the
 * miniport's UpperRange (both from the drivers' description files). A path
 * is enabled by default; disabling it unbinds the protocol (pause, unbind,
 * close) and enabling it binds it again (bind, open, restart). The enabled
 * state is remembered per (protocol, adapter instance), as Windows does,
 * across device removal and re-arrival.
 */
#ifndef NDISEMU_EMU_NETCFG_H
#define NDISEMU_EMU_NETCFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct emu_runtime emu_runtime;

#define EMU_NAME_MAX 96

typedef struct emu_nc_adapter {
    uint32_t id;                 /* stable for the adapter's lifetime, never reused */
    char instance[EMU_NAME_MAX]; /* device instance name */
    char pnp_id[EMU_NAME_MAX];
    char service[EMU_NAME_MAX]; /* miniport driver service */
    char upper_range[EMU_NAME_MAX];
    uint8_t mac[6]; /* current MAC from the general attributes */
    bool running;   /* initialized and restarted */
} emu_nc_adapter;

typedef struct emu_nc_protocol {
    char name[EMU_NAME_MAX];    /* protocol name (NdisRegisterProtocolDriver Name) */
    char service[EMU_NAME_MAX]; /* driver service that registered it */
    char lower_range[EMU_NAME_MAX];
} emu_nc_protocol;

typedef struct emu_nc_path {
    char protocol[EMU_NAME_MAX];
    uint32_t adapter_id;
    char instance[EMU_NAME_MAX];
    bool enabled; /* the INetCfg binding-path state */
    bool bound;   /* a binding is currently open */
} emu_nc_path;

/* Each returns the number of entries that exist; fills at most max. */
size_t emu_netcfg_adapters(emu_runtime *rt, emu_nc_adapter *out, size_t max);
size_t emu_netcfg_protocols(emu_runtime *rt, emu_nc_protocol *out, size_t max);
size_t emu_netcfg_paths(emu_runtime *rt, emu_nc_path *out, size_t max);

/* Enables or disables the path; binds or unbinds now (synchronously, in the
 * documented order). EMU_OK, EMU_ERR_NOTFOUND (no such path), or an error
 * from the bind/unbind. Idempotent. */
int emu_netcfg_set_path(emu_runtime *rt, const char *protocol, uint32_t adapter_id, bool enable);

/* A global reconfiguration of the protocol (what a notify object's change
 * of the protocol's own parameters makes NDIS do): NetEventReconfigure with
 * a NULL ProtocolBindingContext, synchronously. EMU_OK or EMU_ERR_NOTFOUND;
 * a protocol that fails it stops the run (NetPnPEventMustSucceed). */
int emu_netcfg_reconfigure(emu_runtime *rt, const char *protocol);

typedef enum emu_nc_event {
    EMU_NC_ADAPTER_ARRIVAL,
    EMU_NC_ADAPTER_REMOVAL,
    EMU_NC_PATH_BOUND,
    EMU_NC_PATH_UNBOUND
} emu_nc_event;
/* Called after each change, from runtime context at PASSIVE_LEVEL; must not
 * call back into netcfg synchronously (queue work instead). */
typedef void (*emu_nc_watch_fn)(void *ctx, emu_nc_event ev, uint32_t adapter_id,
                                const char *protocol);
void emu_netcfg_watch(emu_runtime *rt, emu_nc_watch_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* NDISEMU_EMU_NETCFG_H */
