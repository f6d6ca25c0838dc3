/*
 * vsvc_emu.h - vfosvc inside ndisemu: the glue that lets the very same
 * portable policy core (service/policy) run against an emulated guest.
 *
 *   bg_emu.c   the binding-graph back end (struct vsvc_bg_ops) over ndisemu's
 *              netcfg model (emu_netcfg.h), as netcfg_win.c is over INetCfg;
 *   ctl_emu.c  vfo's control device (vfo_ctl.h) through ndisemu's device
 *              object path, as ctl_win.c is through DeviceIoControl;
 *   svc_emu.c  the service process: the same loop as service_win.c (adapter
 *              arrivals/removals schedule a debounced reconcile, vfo's
 *              WAIT_CHANGE an immediate one; the policy's deadlines and the
 *              periodic safety net
 *              bound the sleep), with a memory store that outlives it the way
 *              the registry outlives vfosvc.exe.
 *
 * Threading: a user-mode service is not NDIS code. It runs on the thread
 * that drives the runtime (like a process scheduled between the guest's
 * kernel work), never inside the scheduler, so the synchronous netcfg and
 * control-device calls are allowed. The caller advances virtual time and
 * calls vsvc_emu_poll() often (vsvc_emu_wait_ns() says how soon it must).
 * Notifications arrive from inside the scheduler and only mark work due.
 * While the guest is frozen the service does not run, as no guest process
 * does.
 */
#ifndef VSVC_EMU_H
#define VSVC_EMU_H

#include <stdio.h>

#include "ndisemu/emu.h"
#include "vsvc_policy.h"

/* ---- the binding-graph back end ---- */

/* Identity (how vsvc_bg.h's ids are formed here):
 *   adapter    id: the GUID in NDIS's name for it, "\DEVICE\<bind name>"
 *              (ndisemu's bind name is the adapter instance), by the rule of
 *              vfo_ctl.h (vfo_ctl_guid_of_adapter_name), which is the rule
 *              vfo.sys uses to report its VF; pnp id, driver service and MAC
 *              from the netcfg model.
 *   component  each registered protocol; its id is the protocol name in lower
 *              case, except vfo's protocol (registered by the driver service
 *              "vfo"), whose component id is "vfoprot" as in vfoprot.inf.
 *   binding    one path per (protocol, adapter) the ranges allow; path = the
 *              protocol's component id; kind protocol; never fixed.
 * Writes are transactional as with INetCfg: set_binding() changes the
 * session's view only; close(commit) applies every change through
 * emu_netcfg_set_path() (unbind/bind run then). */
struct vsvc_emu_bg;

struct vsvc_emu_bg *vsvc_emu_bg_new(emu_runtime *rt);
void vsvc_emu_bg_free(struct vsvc_emu_bg *bg);
extern const struct vsvc_bg_ops vsvc_emu_bg_ops;

/* Another "process" takes (holder != NULL) or releases (NULL) the write
 * lock, as the adapter properties dialog does on Windows. */
void vsvc_emu_bg_hold_lock(struct vsvc_emu_bg *bg, const char *holder);

/* The id the back end gives the adapter with this bind name (instance). */
void vsvc_emu_adapter_id(const char *bind_name, char out[VSVC_ID_LEN]);

/* Binding paths the back end changed through ndisemu (each enable or
 * disable that took effect). */
uint64_t vsvc_emu_bg_applied(const struct vsvc_emu_bg *bg);

/* ---- the service process ---- */
struct vsvc_emu;

struct vsvc_emu_stats {
    struct vsvc_policy_counters policy;
    uint64_t pnp_events;            /* adapter arrivals and removals seen */
    uint64_t vfo_changes;           /* WAIT_CHANGE completions with a new generation */
    uint64_t control_errors;        /* control device open/query/wait failures */
    uint64_t applied;               /* binding paths changed (vsvc_emu_bg_applied) */
    uint64_t records;               /* changes remembered in the store now */
    uint64_t pending_restores;      /* as of the last reconcile */
    uint64_t events[VSVC_EV_COUNT]; /* log lines per event id */
};

/* Starts the service: the first reconcile is due at once. cfg NULL: the
 * defaults. store: the durable record store (the caller keeps it across
 * stop/start). log: where the service's log lines go (NULL: nowhere). */
int vsvc_emu_start(emu_runtime *rt, const struct vsvc_config *cfg, struct vsvc_mem_store *store,
                   FILE *log, struct vsvc_emu **out);
/* Stops it as the SCM does: nothing is restored. Frees it. */
void vsvc_emu_stop(struct vsvc_emu *s);
/* What "vfosvc uninstall" does before removing the service: every
 * remembered change on a present adapter is put back now; those of absent
 * adapters stay in the store (*leftovers gets their count). Returns the
 * policy's status. */
int vsvc_emu_restore_all(struct vsvc_emu *s, uint32_t *leftovers);

/* Runs a reconcile if one is due and the guest is running. Returns true
 * when a pass ran. Call from the thread that drives the runtime. */
bool vsvc_emu_poll(struct vsvc_emu *s);
/* Virtual nanoseconds until the service must run again (0: now). */
uint64_t vsvc_emu_wait_ns(struct vsvc_emu *s);
/* True when an event the service waits on has fired and it can run: vfo's
 * WAIT_CHANGE completed (on Windows the service thread wakes on that
 * IRP's event at once, service_win.c) and the guest is not frozen. A
 * predicate for emu_run_for_until (ctx = the service). */
bool vsvc_emu_woken(void *s);

void vsvc_emu_get_stats(struct vsvc_emu *s, struct vsvc_emu_stats *out);

/* Another "process" holds (holder != NULL) or releases (NULL) the INetCfg
 * write lock the service's back end takes (vsvc_emu_bg_hold_lock). */
void vsvc_emu_hold_lock(struct vsvc_emu *s, const char *holder);

#endif /* VSVC_EMU_H */
