/*
 * emu.h - ndisemu, a user-mode NDIS 6.30 runtime for Linux.
 *
 * Loads NDIS drivers built against include/ddk as shared objects (each with
 * its own DriverEntry), plugs emulated devices in, and runs every lifecycle
 * the real NDIS does (initialize, restart, pause, halt, bind, unbind, PnP,
 * power) under a verifier that stops the run on the first broken NDIS rule.
 *
 * One runtime may exist per process at a time (NDIS entry points have no
 * runtime argument). Every function here is called from the thread that
 * created the runtime, except where noted.
 */
#ifndef NDISEMU_EMU_H
#define NDISEMU_EMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "emu_device.h"
#include "emu_netcfg.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct emu_runtime emu_runtime;
typedef struct emu_driver emu_driver;
typedef struct emu_adapter emu_adapter;
typedef struct emu_ctl emu_ctl;

enum {
    EMU_OK = 0,
    EMU_ERR_INVAL = -1, /* bad argument */
    EMU_ERR_NOMEM = -2,
    EMU_ERR_NOTFOUND = -3, /* no such driver, adapter, path, device name */
    EMU_ERR_LOAD = -4,     /* dlopen/DriverEntry/description file failed */
    EMU_ERR_DRIVER = -5,   /* the driver failed the operation (status returned) */
    EMU_ERR_VETOED = -6,   /* query-remove vetoed by a protocol */
    EMU_ERR_STOPPED = -7,  /* the verifier stopped the run */
    EMU_ERR_BUSY = -8,     /* state does not allow it (adapter in D3, still bound...) */
    EMU_ERR_TIMEOUT = -9,  /* run_until_idle did not reach idle within its bound */
    EMU_ERR_ACCESS = -10   /* the device's security descriptor denies the caller */
};
const char *emu_strerror(int err);

typedef enum emu_sched_kind {
    EMU_SCHED_DETERMINISTIC, /* virtual time, seeded interleaving, one thread */
    EMU_SCHED_REALTIME       /* wall clock, worker threads */
} emu_sched_kind;

typedef struct emu_config {
    emu_sched_kind sched;
    uint64_t seed;    /* deterministic: same seed, same run */
    unsigned workers; /* real-time worker threads; 0 = 3 */
    FILE *report;     /* verifier reports; NULL = stderr */
    bool quiet;       /* no verifier report printed (tests of broken drivers) */
    /* MaxNblsToIndicate passed to every interrupt DPC: 0 = 16;
     * EMU_RX_ALL_NBLS = NDIS_INDICATE_ALL_NBLS (the miniport decides). */
    uint32_t rx_max_nbls;
    /* Real-time only (0 = off): DPC latency, as a loaded machine has it.
     * An interrupt DPC, or a timer's callback, that is committed to run (its
     * DPC dequeued on some CPU: NdisCancelTimerObject already returns FALSE
     * for it) starts after a random delay of up to this many ns. Stress
     * tests use it to widen the windows they want to hit (a halt racing a
     * timer callback, a reset racing the datapath). */
    uint64_t rt_dpc_latency_ns;
    uint64_t rt_timer_latency_ns;
    /* Real-time only (0 = off): MiniportCheckForHangEx every this many ns
     * instead of every CheckForHangTimeInSeconds (NDIS: 2 s by default).
     * Stress tests use it to run a miniport's periodic work (vfo samples
     * its VF's statistics there) often enough to meet everything else. */
    uint64_t rt_hang_check_ns;
    /* Measurement only (benchmarks; never in a test of a driver): the
     * verifier's per-call checks off. NDIS calls are still counted, and the
     * NBL ownership frames that route completions and returns are still
     * kept, but nothing is traced into the report ring, no IRQL range or
     * handle is checked on entry, the lock-order graph and lock contracts
     * are not kept, the send, completion, indication and return chains are
     * not validated NBL by NBL, and DPCs are not held to their budget. A
     * driver breaking a rule may then go unreported (or crash the run). */
    bool no_call_checks;
    /* Percent (0 = never, 100 = always) of successful
     * NdisMAllocateNetBufferSGList calls whose MiniportProcessSGList NDIS
     * calls after the call returned, from another context (HAL "can call
     * MiniportProcessSGList before or after NDIS returns from
     * NdisMAllocateNetBufferSGList"): the device may be gone by then. */
    uint32_t sg_async_pct;
    /* Bytes of shared memory (NdisMAllocateSharedMemory) each adapter may
     * hold at once; 0 = no limit. An allocation past it fails (NULL), as on
     * a machine short of contiguous memory. */
    uint64_t shared_memory_limit;
    /* Percent (0 = never) of NdisGetDataBuffer calls that return NULL
     * whatever the data's layout and Storage, as under low resources ("This
     * may occur even if the data is contiguous or the Storage parameter is
     * non-NULL"): a driver that uses the result unchecked crashes. */
    uint32_t data_buffer_fail_pct;
} emu_config;
#define EMU_RX_ALL_NBLS 0xFFFFFFFFu

int emu_create(const emu_config *cfg, emu_runtime **out);
/* Orderly teardown: removes every device (halt), unloads every driver, then
 * checks for leaks. Returns EMU_OK or EMU_ERR_STOPPED if a rule tripped. */
int emu_shutdown(emu_runtime *rt);
/* Frees everything (calls no driver code if the run was stopped). */
void emu_destroy(emu_runtime *rt);

/* ---- drivers ---- */
/* desc_path: the driver's description file (INF-style ranges, pnp ids,
 * default registry values; see docs/ndisemu.md). NULL = next to so_path with
 * the extension replaced by ".desc". */
int emu_load_driver(emu_runtime *rt, const char *so_path, const char *desc_path, emu_driver **out);
/* Fails with EMU_ERR_BUSY while the driver has adapters. */
int emu_unload_driver(emu_runtime *rt, emu_driver *drv);
const char *emu_driver_service(const emu_driver *drv);

/* ---- devices / adapters (synchronous: run the PnP sequence to its end) ---- */
int emu_add_device(emu_runtime *rt, const emu_device_desc *desc, emu_adapter **out);
/* Query-remove (a protocol may veto: EMU_ERR_VETOED) then remove. */
int emu_remove_device(emu_runtime *rt, emu_adapter *ad);
int emu_surprise_remove(emu_runtime *rt, emu_adapter *ad);
/* 0 = D0, 3 = D3. */
int emu_set_power(emu_runtime *rt, emu_adapter *ad, int dstate);
/* System shutdown: MiniportShutdownEx(NdisShutdownPowerOff at PASSIVE_LEVEL,
 * or NdisShutdownBugCheck at HIGH_LEVEL) for every initialized adapter.
 * Afterwards a device that still writes or reads guest memory breaks
 * ShutdownStopsDma, and its interrupts are no longer delivered. (NDIS never
 * halts a shut-down adapter; emu_shutdown still does, for the leak checks.) */
int emu_system_shutdown(emu_runtime *rt, bool bugcheck);
/* Pauses a running adapter's stack (its protocol bindings, then the
 * miniport) and restarts it (miniport, then bindings), as NDIS does to
 * insert a filter. EMU_ERR_BUSY when the adapter is not running. */
int emu_restart_stack(emu_runtime *rt, emu_adapter *ad);
/* Asynchronous forms for device/bus models running inside the scheduler:
 * queue the PnP operation; done(ctx, status) runs when it finished. */
typedef void (*emu_done_fn)(void *ctx, int status);
int emu_request_add_device(emu_runtime *rt, const emu_device_desc *desc, emu_done_fn done,
                           void *ctx);
int emu_request_remove(emu_runtime *rt, emu_adapter *ad, bool surprise, emu_done_fn done,
                       void *ctx);
int emu_request_power(emu_runtime *rt, emu_adapter *ad, int dstate, emu_done_fn done, void *ctx);
/* NDIS resets the adapter's miniport as after a hang check that returned
 * TRUE (RESET_START up the stack, MiniportResetEx, RESET_END once it
 * completed), queued like a PnP operation; done runs once MiniportResetEx
 * returned, a pended reset goes on. EMU_ERR_BUSY (to done) when the
 * adapter is not running or already resetting, EMU_ERR_INVAL when its
 * miniport has no MiniportResetEx. */
int emu_request_reset(emu_runtime *rt, emu_adapter *ad, emu_done_fn done, void *ctx);

/* Lightweight filters (a driver whose description has a [filter] section
 * and that calls NdisFRegisterFilterDriver). A filter attaches over every
 * miniport of its media whose filter path is enabled (paths are enabled
 * unless set otherwise, kept per adapter instance like a protocol's).
 * Setting a path on a running adapter pauses its stack (bindings, filter
 * modules, miniport), attaches or detaches the module, and restarts it, as
 * NDIS does; EMU_ERR_DRIVER when the filter failed to attach. A path set
 * for an instance not present yet applies when it arrives; instance "*"
 * sets the default for the instances without a path of their own. */
int emu_filter_set_path(emu_runtime *rt, const char *filter, const char *instance, bool enable);
int emu_request_filter_path(emu_runtime *rt, const char *filter, const char *instance, bool enable,
                            emu_done_fn done, void *ctx);
/* The filter modules over an adapter, bottom (next to the miniport) first:
 * their filters' service names. Returns how many (at most max filled).
 * (A module's FilterModuleGuidName is "{<service>-<emu_adapter_id, 8 hex
 * digits>}".) */
int emu_filter_stack(emu_runtime *rt, const emu_adapter *ad, const char **names, int max);
emu_adapter *emu_find_adapter(emu_runtime *rt, const char *instance);
const char *emu_adapter_instance(const emu_adapter *ad);
uint32_t emu_adapter_id(const emu_adapter *ad);
/* "halted", "initializing", "paused", "restarting", "running", "pausing" */
const char *emu_adapter_state(const emu_adapter *ad);
/* The link the miniport reports to the protocols above it (its general
 * attributes, then each NDIS_STATUS_LINK_STATE), and how many times an
 * indication took it up or down since the adapter was added. */
typedef struct emu_link_info {
    bool up;
    uint64_t speed_bps;
    uint64_t ups, downs;
} emu_link_info;
void emu_adapter_link(const emu_adapter *ad, emu_link_info *out);

/* ---- intermediate (MUX) drivers ---- */
/* A protocol's parameter for its binding to an adapter instance (the
 * registry's Services\<protocol>\Parameters\Adapters\<adapter> key, which
 * a MUX driver's notify object writes): what NdisReadConfiguration returns
 * with a configuration handle NdisOpenConfigurationEx opened with that
 * binding's handle. For NdisParameterMultiString, ',' separates the
 * strings. protocol: the Name of NdisRegisterProtocolDriver. */
int emu_set_binding_param(emu_runtime *rt, const char *protocol, const char *instance,
                          const char *key, const char *value);
/* Installs a virtual miniport device of a loaded intermediate driver (its
 * service), named instance (its device name is \Device\<instance>), with
 * its registry ("Keyword=Value", NULL-terminated, may be NULL), as the
 * driver's notify object does, and disables the driver's own protocol over
 * it (as the notify object does: otherwise the protocol would bind to its
 * own virtual miniport). NDIS starts it (MiniportInitializeEx, restart,
 * protocols bind) once the driver called NdisIMInitializeDeviceInstanceEx
 * for it, before or after this. */
int emu_im_install_device(emu_runtime *rt, const char *service, const char *instance,
                          const char *const *registry);
/* The interface stack table (RFC 2863 ifStackTable) the drivers filled with
 * NdisIfAddIfStackEntry: up to max entries, returns how many there are. */
typedef struct emu_if_stack_entry {
    uint32_t higher, lower; /* IfIndex = emu_adapter_id */
} emu_if_stack_entry;
size_t emu_if_stack(emu_runtime *rt, emu_if_stack_entry *out, size_t max);
/* The adapter is an intermediate driver's virtual miniport. */
bool emu_adapter_is_virtual(const emu_adapter *ad);

/* ---- running ---- */
/* Runs until nothing but periodic timers is left (deterministic: advancing
 * virtual time as needed, at most 1 hour of it; real-time: until queues drain). */
int emu_run_until_idle(emu_runtime *rt);
/* Deterministic: advances virtual time by ns, running what falls due.
 * Real-time: sleeps ns while workers run. */
int emu_run_for(emu_runtime *rt, uint64_t ns);
/* emu_run_for, returning as soon as stop(ctx) holds after a step (virtual
 * time then stays where that step left it): a user-mode thread woken by an
 * event it waits on, such as a completed IRP. Real-time: as emu_run_for. */
int emu_run_for_until(emu_runtime *rt, uint64_t ns, bool (*stop)(void *ctx), void *ctx);
uint64_t emu_now_ns(emu_runtime *rt);

/* ---- host-side work and the guest's run state ---- */
/* Models of the host (a hypervisor, a PCI bus, a switch, a peer on the
 * network) run as platform work: fn(arg) after delay_ns, picked by the same
 * scheduler as the guest's work (so a seed fixes their interleaving too),
 * outside any driver context and device lock, at PASSIVE_LEVEL. Platform
 * work may use the emu_request_* forms (not the synchronous ones) and
 * schedule device work through a device's emu_host. Returns an id for
 * emu_cancel (never 0; 0 on failure). */
typedef void (*emu_work_fn)(void *arg);
uint64_t emu_schedule(emu_runtime *rt, uint64_t delay_ns, emu_work_fn fn, void *arg);
bool emu_cancel(emu_runtime *rt, uint64_t id);

/* Stops (true) or resumes (false) the whole guest, as a hypervisor does for a
 * paused VM or the stop-and-copy phase of a migration: while frozen nothing
 * of the guest runs (DPCs, interrupts, timers, work items, PnP, device work,
 * completions); platform work and virtual time go on. Guest work that fell
 * due meanwhile runs after the resume. Time spent frozen does not count
 * against the verifier's wait for pended operations. While frozen, the
 * synchronous PnP calls return EMU_ERR_BUSY, and emu_run_until_idle returns
 * EMU_ERR_BUSY once only guest work is left. */
void emu_guest_freeze(emu_runtime *rt, bool frozen);
bool emu_guest_frozen(emu_runtime *rt);

/* ---- verifier ---- */
typedef struct emu_violation {
    const char *rule; /* e.g. "NblReturnOnce", "DoubleComplete" */
    const char *call; /* the NDIS call (or callback) that broke it */
    const char *detail;
    uint64_t time_ns;
} emu_violation;
bool emu_failed(emu_runtime *rt);
size_t emu_violation_count(emu_runtime *rt);
const emu_violation *emu_violation_get(emu_runtime *rt, size_t i);

/* ---- counters ---- */
typedef struct emu_counters {
    uint64_t ndis_calls;
    uint64_t sends; /* NBLs sent by protocols */
    uint64_t send_completes;
    uint64_t receives; /* NBLs indicated by miniports */
    uint64_t returns;  /* NBLs returned to miniports */
    uint64_t oids;
    uint64_t status_indications;
    uint64_t interrupts;
    uint64_t dpcs;
    uint64_t tasks_run;
    uint64_t bad_dma;           /* device DMA outside a live mapping */
    uint64_t lost_interrupts;   /* signalled with nothing connected */
    uint64_t bad_input;         /* invalid arguments rejected with an error status */
    uint64_t send_cancels;      /* NdisCancelSendNetBufferLists calls (each reaches a miniport) */
    uint64_t sends_refused;     /* NBLs NDIS failed itself: the miniport was not running */
    uint64_t error_log_entries; /* NdisWriteErrorLogEntry calls (emu_error_log_get) */
    uint64_t resets;            /* MiniportResetEx calls by NDIS (hang check, OID overdue) */
    uint64_t reset_held_sends;  /* NBLs a miniport held as NDIS called its MiniportResetEx */
    uint64_t data_buffer_failures; /* NdisGetDataBuffer NULLs of data_buffer_fail_pct */
} emu_counters;
void emu_get_counters(emu_runtime *rt, emu_counters *out);

/* ---- the system event log (NdisWriteErrorLogEntry) ---- */
#define EMU_ERROR_LOG_VALUES 8
typedef struct emu_error_log_entry {
    char instance[96]; /* the adapter that wrote it */
    uint32_t code;     /* NDIS_ERROR_CODE_* */
    uint32_t n_values; /* as passed (at most EMU_ERROR_LOG_VALUES kept) */
    uint32_t values[EMU_ERROR_LOG_VALUES];
} emu_error_log_entry;
/* The i-th entry written (the first EMU_ERROR_LOG_MAX are kept); false past them. */
#define EMU_ERROR_LOG_MAX 64
bool emu_error_log_get(emu_runtime *rt, size_t i, emu_error_log_entry *out);

/* ---- memory accounting (NdisAllocateMemoryWithTagPriority, pools, NBLs,
 *      shared memory, timers, ... everything NDIS allocates for a driver) ---- */
typedef struct emu_mem_usage {
    uint64_t bytes;
    uint64_t allocations;
} emu_mem_usage;
int emu_adapter_mem(emu_runtime *rt, const emu_adapter *ad, emu_mem_usage *out);
int emu_driver_mem(emu_runtime *rt, const emu_driver *drv, emu_mem_usage *out);
/* Per pool tag of a driver: bytes currently allocated with that tag. */
uint64_t emu_driver_mem_tag(emu_runtime *rt, const emu_driver *drv, uint32_t tag);

/* ---- tracing ---- */
typedef enum emu_trace_format { EMU_TRACE_OFF, EMU_TRACE_TEXT, EMU_TRACE_JSON } emu_trace_format;
/* One line per NDIS call and per callback into a driver. */
void emu_trace(emu_runtime *rt, emu_trace_format fmt, FILE *out);

/* ---- control devices (NdisRegisterDeviceEx) ---- */
/* name: the device's symbolic link or device name, e.g. "\\DosDevices\\Vfo"
 * or just "Vfo". Sends IRP_MJ_CREATE. */
int emu_ctl_open(emu_runtime *rt, const char *name, emu_ctl **out);
/* Who opens: CreateFile from a process running as SYSTEM, as a member of
 * Administrators (elevated), or as an ordinary user. emu_ctl_open opens as
 * an administrator. */
typedef enum emu_caller { EMU_CALLER_ADMIN, EMU_CALLER_USER, EMU_CALLER_SYSTEM } emu_caller;
/* As emu_ctl_open, after the I/O manager's access check against the
 * device's DefaultSDDLString (NdisRegisterDeviceEx): EMU_ERR_ACCESS when
 * its DACL grants the caller nothing (no IRP_MJ_CREATE is sent). The
 * model knows the DACL ACEs "(A;...;...;;;SID)" with the SIDs SY, BA, BU,
 * AU, IU and WD; an ACE it cannot read grants nothing (the stricter
 * reading); a device without DefaultSDDLString is open to everyone. */
int emu_ctl_open_as(emu_runtime *rt, const char *name, emu_caller who, emu_ctl **out);
/* DeviceIoControl; waits when the driver pends the IRP. *ntstatus is the
 * IRP's final status, *returned its Information. The buffers are presented
 * as the code's transfer method says: METHOD_BUFFERED one SystemBuffer;
 * METHOD_IN_DIRECT/OUT_DIRECT the input in SystemBuffer and out (its
 * contents passed in too, as the caller's memory would be) behind an MDL
 * in MdlAddress; METHOD_NEITHER the input at Type3InputBuffer, out at
 * UserBuffer. */
int emu_ctl_ioctl(emu_ctl *h, uint32_t code, const void *in, size_t in_len, void *out,
                  size_t out_len, size_t *returned, int32_t *ntstatus);
typedef void (*emu_ioctl_done_fn)(void *ctx, int32_t ntstatus, const void *out, size_t returned);
/* Asynchronous form (inverted-call notifications): done runs when the
 * driver completes the IRP. */
int emu_ctl_ioctl_async(emu_ctl *h, uint32_t code, const void *in, size_t in_len, size_t out_len,
                        emu_ioctl_done_fn done, void *ctx);
/* CloseHandle: sends IRP_MJ_CLEANUP, waits for the handle's pending IRPs
 * (the driver's cleanup must end them: rule CleanupPendingIrp), then sends
 * IRP_MJ_CLOSE. A handle on a deregistered device object sends nothing; the
 * object (and its driver) stays until the last handle closes. */
void emu_ctl_close(emu_ctl *h);
/* CancelIoEx(handle, NULL): IoCancelIrp for every IRP pending on the handle,
 * as the I/O manager runs it (Cancel set, the cancel routine called at
 * DISPATCH_LEVEL holding the cancel spin lock). Callable from the top level
 * and from platform work (emu_schedule), so a seed can place it anywhere. */
int emu_ctl_cancel(emu_ctl *h);
/* ReadFile / WriteFile: IRP_MJ_READ / IRP_MJ_WRITE of len bytes with the
 * device's buffering as the I/O manager picks it from DeviceObject->Flags:
 * DO_BUFFERED_IO: AssociatedIrp.SystemBuffer; DO_DIRECT_IO: an MDL of the
 * caller's buffer in MdlAddress (none for len 0); neither: UserBuffer.
 * Waits when the driver pends the IRP; *returned is its Information. */
int emu_ctl_read(emu_ctl *h, void *buf, size_t len, size_t *returned, int32_t *ntstatus);
int emu_ctl_write(emu_ctl *h, const void *buf, size_t len, size_t *returned, int32_t *ntstatus);
/* Overlapped forms: done runs when the driver completes the IRP (for a
 * read, out holds what was read). */
int emu_ctl_read_async(emu_ctl *h, size_t len, emu_ioctl_done_fn done, void *ctx);
int emu_ctl_write_async(emu_ctl *h, const void *buf, size_t len, emu_ioctl_done_fn done, void *ctx);
/* IRPs sent on the handle and not completed yet. */
unsigned emu_ctl_pending(emu_ctl *h);
/* The process exits: its pending IRPs are cancelled and must complete
 * (rule CancelledIrpNotCompleted), then the handle closes as above. */
void emu_ctl_exit(emu_ctl *h);

#ifdef __cplusplus
}
#endif

#endif /* NDISEMU_EMU_H */
