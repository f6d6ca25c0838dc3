/*
 * emu_internal.h - ndisemu's private state. Not for drivers or tests.
 *
 * Locking: rt->mu protects every runtime structure. It is never held while
 * the runtime calls into a driver or a device model (those call back into
 * NDIS), so NDIS entry points take it briefly and drop it before callbacks.
 */
#ifndef NDISEMU_EMU_INTERNAL_H
#define NDISEMU_EMU_INTERNAL_H

#include <ndis.h>

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "ndisemu/emu.h"

#define EMU_MAGIC        0x454d554fu /* "EMUO" */
#define EMU_DIRQL        12
#define EMU_MAX_FRAMES   16 /* one per hop: protocol, filters, intermediate drivers */
#define EMU_MAX_BINDINGS 32
#define EMU_MAX_FILTERS  8                            /* filter modules stacked over one miniport */
#define EMU_WAIT_NS      (30ull * 1000 * 1000 * 1000) /* pended NDIS operations must finish by then */
#define EMU_RING         48

/* Fills an NDIS_OBJECT_HEADER (the WDK has no macro for it). */
#define EMU_INIT_HEADER(h, t, r, s) \
    do {                            \
        (h)->Type = (UCHAR)(t);     \
        (h)->Revision = (UCHAR)(r); \
        (h)->Size = (USHORT)(s);    \
    } while (0)

typedef enum emu_kind {
    K_FREE = 0,
    K_MP_DRIVER,
    K_PROTOCOL,
    K_ADAPTER,
    K_BINDING,
    K_BIND_CTX,
    K_UNBIND_CTX,
    K_NBL_POOL,
    K_NB_POOL,
    K_TIMER,
    K_WORKITEM,
    K_INTERRUPT,
    K_DMA,
    K_CONFIG,
    K_CTLDEV,
    K_RWLOCK,
    K_GENERIC,       /* NdisAllocateGenericObject */
    K_FILTER_DRIVER, /* NdisFRegisterFilterDriver */
    K_FILTER_MODULE, /* the NdisFilterHandle FilterAttach gets */
} emu_kind;

/* Header of every object the runtime hands out as an NDIS_HANDLE. Objects
 * are never freed before the runtime is destroyed: a closed handle stays a
 * tombstone (dead), so later use is reported instead of corrupting memory.
 * A live object is on rt->objects; emu_obj_kill moves it to rt->dead_objects,
 * so that walks over the live ones (the leak check at every halt) do not
 * grow with every object a long run ever closed. */
typedef struct emu_obj {
    uint32_t magic;
    emu_kind kind;
    bool dead;
    struct emu_obj *all_next;
    struct emu_obj **all_pprev; /* the link pointing here on rt->objects; NULL: not on it */
    struct emu_driver *drv;     /* owning driver (for leak checks) */
    struct emu_adapter *ad;     /* adapter the object was created for, if any */
    size_t charge;              /* bytes charged to drv/ad while alive */
    bool charged;               /* the driver's memory (else the runtime's bookkeeping) */
    uint32_t tag;
} emu_obj;

typedef struct emu_range_set {
    char names[8][32];
    int n;
} emu_range_set;

typedef struct emu_kv {
    char key[64];
    char value[160];
} emu_kv;

typedef struct emu_desc {
    char service[EMU_NAME_MAX];
    bool has_miniport;
    emu_range_set mp_upper, mp_lower;
    char pnpids[8][EMU_NAME_MAX];
    int n_pnpids;
    struct {
        char name[64];
        emu_range_set lower, upper;
    } prot[4];
    int n_prot;
    emu_kv reg[32];
    int n_reg;
    /* [filter]: the INF facts of a lightweight filter (FilterClass,
     * FilterType, FilterRunType, FilterMediaTypes) */
    bool has_filter;
    char filter_class[32];
    bool filter_monitoring; /* FilterType 1 = monitoring, 2 = modifying */
    bool filter_optional;   /* FilterRunType 1 = mandatory, 2 = optional */
    emu_range_set filter_media;
} emu_desc;

typedef struct emu_memacct {
    uint64_t bytes;
    uint64_t allocs;
} emu_memacct;

typedef NTSTATUS emu_driver_entry_fn(PDRIVER_OBJECT, PUNICODE_STRING);

struct emu_driver {
    DRIVER_OBJECT drvobj; /* first: DriverEntry gets &drvobj */
    emu_driver_entry_fn *entry;
    uint32_t magic;
    emu_runtime *rt;
    struct emu_driver *next;
    void *dl;
    emu_desc desc;
    WCHAR regpath_buf[128];
    UNICODE_STRING regpath;
    struct emu_mp_driver *mp;
    emu_memacct mem;
    emu_memacct tags[16]; /* per-tag accounting, small open table */
    uint32_t tag_ids[16];
    bool unloaded;
};

typedef struct emu_mp_driver {
    emu_obj obj;
    struct emu_driver *drv;
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS ch;
    NDIS_HANDLE ctx;
    struct emu_protocol *im_prot; /* NdisIMAssociateMiniport (im.c) */
} emu_mp_driver;

/* An operation NDIS starts in a driver that the driver may pend and finish
 * with a completion call (MiniportRestart / NdisMRestartComplete,
 * ProtocolNetPnPEvent / NdisCompleteNetPnPEvent, ...). rt->mu protects it. */
typedef struct emu_pending_op {
    bool active; /* from the handler call to the operation's end */
    bool done;   /* the driver called the completion function */
    NDIS_STATUS status;
} emu_pending_op;

typedef struct emu_protocol {
    emu_obj obj;
    struct emu_protocol *next;
    struct emu_driver *drv;
    NDIS_PROTOCOL_DRIVER_CHARACTERISTICS ch;
    NDIS_HANDLE ctx;
    char name[64];
    emu_range_set lower;
    emu_pending_op pnp;                   /* a global (NULL-context) PnP event */
    PNET_PNP_EVENT_NOTIFICATION global_n; /* its notification while in flight */
} emu_protocol;

typedef enum ad_state {
    AD_HALTED,
    AD_INITIALIZING,
    AD_PAUSED,
    AD_RESTARTING,
    AD_RUNNING,
    AD_PAUSING,
} ad_state;

typedef enum b_state {
    B_OPENING,
    B_PAUSED,
    B_RESTARTING,
    B_RUNNING,
    B_PAUSING,
    B_CLOSED,
} b_state;

typedef struct emu_mmio_map {
    struct emu_mmio_map *next;
    struct emu_adapter *ad;
    unsigned bar;
    uintptr_t va;
    size_t len;
    uint64_t bar_offset;
} emu_mmio_map;

typedef struct emu_dma_region {
    struct emu_dma_region *next;
    struct emu_adapter *ad;
    uint64_t pa;
    size_t len;
    void *host;
    bool shared; /* shared memory (else: a live scatter/gather mapping) */
    bool bounce; /* host is a block of the device's emu_dma_ops (real hardware) */
} emu_dma_region;

typedef struct emu_oid_slot {
    PNDIS_OID_REQUEST req;
    struct emu_binding *from;       /* NULL: the runtime's own request or a filter's */
    struct emu_filter *from_filter; /* NdisFOidRequest */
    bool queued_async;              /* the originator already got PENDING */
    bool done;
    NDIS_STATUS status;
    struct emu_oid_slot *next;
} emu_oid_slot;

/* One DPC per interrupt message, as a KDPC is: queued at most once, and
 * never running twice at a time (every message targets one processor, see
 * IO_INTERRUPT_MESSAGE_INFO_ENTRY.TargetProcessorSet). rt->mu protects it. */
typedef struct emu_dpc_slot {
    bool queued;  /* requested and not started yet */
    bool running; /* MiniportInterruptDPC is executing */
    PVOID ctx;    /* MiniportDpcContext of the queued request */
    struct emu_task *task;
} emu_dpc_slot;

/* Receive side throttling and the DPC watchdog. While a MiniportInterruptDPC
 * runs, the thread points at its record: NdisMIndicateReceiveNetBufferLists
 * counts what the DPC's own adapter indicates against MaxNblsToIndicate and
 * charges virtual time for it (the upper stack's work on each NBL runs inside
 * the indication, at DISPATCH_LEVEL, on the DPC's time); NdisStallExecution
 * charges its busy wait. See docs/ndisemu.md, rules ReceiveThrottle and
 * DpcWatchdog. */
#define EMU_DPC_COST_NS          1000ull         /* entering a DPC */
#define EMU_DPC_COST_INDICATE_NS 1000ull         /* one receive indication */
#define EMU_DPC_COST_NBL_NS      1000ull         /* one indicated NBL, through the upper stack */
#define EMU_DPC_BUDGET_NS        (100ull * 1000) /* a single DPC */
#define EMU_DPC_CHAIN_BUDGET_NS  (10ull * 1000 * 1000 * 1000) /* DPCs back to back */
#define EMU_RX_MAX_NBLS_DEFAULT  16u

typedef struct emu_dpc_run {
    struct emu_adapter *ad;
    ULONG max_nbls; /* what the DPC got in MaxNblsToIndicate */
    ULONG indicated;
    uint64_t cost_ns;
} emu_dpc_run;

typedef struct emu_interrupt {
    emu_obj obj;
    NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS ch;
    NDIS_HANDLE ctx;
    bool message_based;
    pthread_mutex_t sync; /* held while the ISR or a synchronize routine runs */
    PIO_INTERRUPT_MESSAGE_INFO info;
    unsigned n_msgs; /* messages (1 for a line-based interrupt) */
    emu_dpc_slot *dpc;
} emu_interrupt;

/* A MiniportProcessSGList call NDIS makes later (emu_config.sg_async_pct). */
typedef struct emu_sg_later {
    struct emu_sg_later *next;
    PSCATTER_GATHER_LIST sgl;
    PVOID ctx;
} emu_sg_later;

typedef struct emu_dma {
    emu_obj obj;
    NDIS_SG_DMA_DESCRIPTION d;
    /* rt->mu: deferred MiniportProcessSGList calls, made in allocation
     * order (HAL queues them) by one task at a time. */
    emu_sg_later *later_head, **later_tail;
    bool later_posted;
} emu_dma;

struct emu_host {
    struct emu_adapter *ad;
};

struct emu_adapter {
    emu_obj obj;
    /* NdisMGetDeviceProperty's device objects (the runtime's; no driver
     * code runs on them) */
    DEVICE_OBJECT pdo, fdo;
    bool root; /* root-enumerated: no bus device (desc.ops NULL) */
    /* NdisMSetMiniportAttributes' hardware assist attributes (current) */
    NDIS_RECEIVE_FILTER_CAPABILITIES rf_caps;
    NDIS_QOS_CAPABILITIES qos_caps;
    bool have_rf_caps, have_qos_caps;
    struct emu_adapter *next;
    emu_runtime *rt;
    struct emu_driver *drv;
    uint32_t id;
    char instance[EMU_NAME_MAX];
    char pnp_id[EMU_NAME_MAX];
    emu_kv reg[32];
    int n_reg;
    emu_device_desc desc;
    emu_host host;
    pthread_mutex_t dev_lock; /* held around every call into the device model */
    bool dev_attached;        /* dev_lock */
    bool surprise_removed;
    bool shut_down; /* MiniportShutdownEx returned (rt->mu) */
    uint64_t bar_pa[EMU_PCI_BARS];
    CM_PARTIAL_RESOURCE_LIST *res;

    ad_state state;
    int power; /* 0 or 3 */
    NDIS_HANDLE ctx;
    bool have_reg_attrs, have_gen_attrs;
    uint64_t shared_bytes; /* shared memory held (rt->mu): emu_config.shared_memory_limit */
    /* WriteErrorLog: within this MiniportInitializeEx an NdisMAllocateSharedMemory
     * failed / an NdisWriteErrorLogEntry was written (rt->mu). */
    bool init_shared_failed, init_error_logged;
    UINT hang_secs;
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES gen;
    NDIS_RECEIVE_SCALE_CAPABILITIES rss;
    bool have_rss;
    NDIS_OFFLOAD offload;
    bool have_offload;
    NDIS_LINK_STATE link;
    uint64_t link_ups, link_downs; /* indicated transitions, for emu_adapter_link */
    WCHAR name_buf[EMU_NAME_MAX + 16];
    NDIS_STRING name;

    bool pause_done;
    emu_pending_op restart, reset;
    uint64_t sends_out; /* NBLs at the miniport */
    /* NdisTimedDataHang: guest time (emu_guest_time) when the miniport last
     * completed a send, or got one while it held none (rt->mu). */
    uint64_t send_progress_ns;
    /* NdisTimedDataSend: at most the guest time the oldest send the
     * miniport holds reached it (rt->mu; exact after each scan). */
    uint64_t send_oldest_ns;
    uint64_t recvs_out; /* NBLs indicated, not yet returned */

    emu_oid_slot *oid_head, *oid_tail; /* head = in progress */
    bool oid_busy;
    uint64_t oid_started_ns; /* NdisTimedOidComplete: guest time the head reached the miniport */
    bool oid_pended;         /* the head's MiniportOidRequest returned NDIS_STATUS_PENDING */

    emu_interrupt *intr;
    emu_dma *dma;
    struct emu_binding *bindings[EMU_MAX_BINDINGS];
    emu_memacct mem;
    struct emu_task *hang_task;
    bool hang_running; /* MiniportCheckForHangEx is running (rt->mu) */
    /* reset.c: the OID request in the miniport at the last hang check, if
     * any (only compared, never dereferenced), and whether NDIS is
     * resetting the adapter (rt->mu). */
    const void *hang_oid;
    uint64_t hang_oid_ns;
    bool resetting, reset_in_handler;
    uint64_t reset_started_ns; /* guest time of the reset's start (timed.c) */
    /* ResetWithOutstanding (reset.c, NDIS 6.30 miniports): the mark the
     * sends at the miniport got when MiniportResetEx was called, and the
     * OID request then in it (compared only), by its start time (rt->mu). */
    uint32_t reset_mark;
    const void *reset_oid;
    uint64_t reset_oid_ns;
    /* The filter modules over the miniport, bottom (next to it) first
     * (rt->mu; changed only on the PnP thread with the stack paused). */
    struct emu_filter *filters[EMU_MAX_FILTERS];
    int n_filters;
    bool filter_failed; /* a mandatory filter failed to attach: no bindings */
    /* An intermediate driver's virtual miniport (im.c): started by
     * NdisIMInitializeDeviceInstanceEx with this context; im_deinit: being
     * halted by NdisIMDeInitializeDeviceInstance. */
    bool im, im_deinit;
    NDIS_HANDLE im_ctx;
    NDIS_PNP_CAPABILITIES pnp_caps; /* the general attributes' (for bindings) */
};

/* A driver callback a thread was in (emu_frame_mark_here, callback.c). */
typedef struct emu_frame_mark {
    uint32_t tid;
    int depth;
    uint64_t serial;
} emu_frame_mark;

struct emu_binding {
    emu_obj obj;
    emu_protocol *prot;
    struct emu_adapter *ad;
    int slot;
    NDIS_HANDLE ctx;
    b_state state;
    /* B_PAUSING: the thread in the protocol's NetEventPause handler (NULL
     * once it returned), and whether it returned PENDING. */
    struct emu_thread *pause_cb_thread;
    bool pause_returned, pause_pended;
    bool opened, open_done, close_done;
    /* A pended open's outputs, written as it completes (OpenAdapterOutputs):
     * where, what, the calling thread's stack above NdisOpenAdapterEx
     * ([open_stack_lo, open_stack_hi)) and the callback that called. */
    PUINT open_sel_ptr;
    UINT open_sel;
    PNDIS_HANDLE open_handle_ptr;
    uintptr_t open_stack_lo, open_stack_hi;
    emu_frame_mark open_caller;
    const char *open_caller_cb;
    emu_pending_op bind, unbind, pnp;
    uint64_t sends_out;
    uint64_t recvs_held;
    /* NdisOidRequest calls not yet completed back to the protocol (by
     * returning, or by its ProtocolOidRequestComplete): no close before. */
    uint64_t oids_out;
    unsigned delivering; /* receive/status callbacks into the protocol in progress */
    /* reset.c (written under rt->mu): nonzero while NDIS resets the
     * miniport and the protocol's ProtocolStatusEx has taken
     * NDIS_STATUS_RESET_START: the rt->reset_epoch the reset got when that
     * indication returned (ResetQuiet). */
    uint64_t reset_seq;
    emu_obj bind_ctx, unbind_ctx;
    NDIS_BIND_PARAMETERS bp;
    WCHAR section_buf[256]; /* bp.ProtocolSection */
    NDIS_STRING section;
};
typedef struct emu_binding emu_binding;

/* ---- lightweight filters (filter.c, filter_path.c) ---- */
typedef enum f_state {
    F_ATTACHING, /* in FilterAttach */
    F_PAUSED,
    F_RESTARTING,
    F_RUNNING,
    F_PAUSING,
    F_DETACHED,
} f_state;

typedef struct emu_filter_driver {
    emu_obj obj;
    struct emu_filter_driver *next;
    struct emu_driver *drv;
    NDIS_FILTER_DRIVER_CHARACTERISTICS ch;
    NDIS_HANDLE ctx;
    char name[64]; /* the service name (the description's) */
} emu_filter_driver;

/* An OID request inside a filter module: FilterOidRequest was called and
 * the request is not yet completed to its originator (rt->mu). */
typedef struct emu_filter_oid {
    PNDIS_OID_REQUEST req;
    emu_binding *b;        /* the originator: a binding... */
    struct emu_filter *up; /* ...or the filter module above */
    bool returned_pending; /* FilterOidRequest returned NDIS_STATUS_PENDING */
    bool completed;        /* NdisFOidRequestComplete was called */
    NDIS_STATUS status;
} emu_filter_oid;
#define EMU_FILTER_OIDS 8

/* A filter module: one filter driver's instance over one miniport. Its
 * handle (NdisFilterHandle) is this object. */
typedef struct emu_filter {
    emu_obj obj;
    emu_filter_driver *fd;
    struct emu_adapter *ad;
    NDIS_HANDLE ctx; /* FilterModuleContext, from NdisFSetAttributes */
    bool attrs_set;
    f_state state;
    /* the data path handlers of this module: the driver's, or those
     * FilterSetModuleOptions gave (NDIS_FILTER_PARTIAL_CHARACTERISTICS);
     * NULL = NDIS bypasses the module in that direction */
    FILTER_SEND_NET_BUFFER_LISTS_HANDLER send;
    FILTER_SEND_NET_BUFFER_LISTS_COMPLETE_HANDLER send_complete;
    FILTER_CANCEL_SEND_HANDLER cancel_send;
    FILTER_RECEIVE_NET_BUFFER_LISTS_HANDLER receive;
    FILTER_RETURN_NET_BUFFER_LISTS_HANDLER ret;
    bool in_set_options; /* FilterSetModuleOptions is running */
    emu_pending_op restart;
    bool pause_done;
    uint64_t sends_out; /* NBLs it sent down, not yet completed to it */
    uint64_t recvs_out; /* NBLs it indicated up, not yet returned to it */
    uint64_t sends_in;  /* NBLs sent to it, not yet completed by it */
    uint64_t recvs_in;  /* NBLs indicated to it, not yet returned by it */
    emu_filter_oid oids[EMU_FILTER_OIDS];
    WCHAR guid_buf[80];
    NDIS_STRING guid;
    NDIS_FILTER_ATTACH_PARAMETERS ap;
} emu_filter;

#define EMU_HOLDER_FILTER (1ull << 63) /* F_RECV holders: the filter module `to` */

/* ---- NBL ownership ---- */
typedef enum frame_kind { F_SEND = 1, F_RECV = 2 } frame_kind;
typedef struct nbl_frame {
    frame_kind kind;
    struct emu_adapter *ad;
    /* F_SEND: who sent it (a binding, or a filter module), to whom (a
     * filter module; NULL: the miniport), and the SourceHandle it carried */
    emu_binding *b;
    struct emu_filter *from, *to;
    NDIS_HANDLE src;
    /* F_RECV: `from` indicated it (NULL: the miniport); `to` holds it (a
     * filter module) or the binding slots in `holders` do */
    uint64_t holders;
    bool resources; /* F_RECV with NDIS_RECEIVE_FLAGS_RESOURCES */
    /* F_SEND of a large send (lso.c): the request's type (1 + the LSO
     * type, 0 for none) and the TCP payload bytes it carries. */
    uint8_t lso;
    uint32_t lso_payload;
    /* F_SEND: guest time (emu_guest_time) it was handed to this hop
     * (NdisTimedDataSend, when the hop is the miniport) */
    uint64_t sent_ns;
    /* F_SEND at the miniport: the adapter's reset_mark when NDIS began a
     * reset with it there (0: none; ResetWithOutstanding) */
    uint32_t reset_mark;
} nbl_frame;

/* lso.c: rule LsoTransmitComplete. Note a send's LSO request in its frame;
 * check (rt->mu held) that the miniport completing it wrote the completion
 * information the request's type requires. */
void emu_lso_note_send(nbl_frame *f, PNET_BUFFER_LIST nbl);
bool emu_lso_complete_ok(struct emu_runtime *rt, const nbl_frame *f, PNET_BUFFER_LIST nbl,
                         const char *instance, const char *call);
ULONG emu_nb_copy_out(const NET_BUFFER *nb, ULONG skip, void *dst, ULONG len);

typedef struct emu_nbl_pool {
    emu_obj obj;
    NET_BUFFER_LIST_POOL_PARAMETERS p;
    bool is_nb_pool;
    uint64_t live;
} emu_nbl_pool;

/* One step of an NBL's life (nbl_hist.c): kept per NBL so that a pause
 * that never ends can name the NBL it waits for and how it got there. */
typedef enum nbl_op {
    NBL_EV_ALLOC = 1,
    NBL_EV_SEND,        /* handed to a hop (a filter or the miniport) */
    NBL_EV_SEND_FAILED, /* NDIS failed it itself: the miniport is not running */
    NBL_EV_COMPLETE,    /* a hop completed it to its sender */
    NBL_EV_INDICATE,    /* indicated up by a miniport or filter */
    NBL_EV_RETURNED,    /* its receive frame was popped (all holders returned it) */
    NBL_EV_FREE,
} nbl_op;
#define EMU_NBL_HIST 16
typedef struct nbl_event {
    uint64_t at; /* emu_time */
    uint32_t tid;
    uint8_t op; /* nbl_op */
    int32_t status;
    char who[96];
} nbl_event;

typedef struct emu_nbl_ext {
    uint32_t magic;
    bool live;
    emu_nbl_pool *pool;
    /* rt->mu: the runtime's list of live NBLs and this NBL's last events. */
    struct emu_nbl_ext *live_prev, *live_next;
    uint64_t serial;
    unsigned nhist;
    nbl_event hist[EMU_NBL_HIST];
    nbl_frame fr[EMU_MAX_FRAMES];
    int depth;
    PNET_BUFFER_LIST_CONTEXT first_ctx; /* preallocated with the NBL */
    void *data;                         /* the NB allocated with the NBL, if any */
    USHORT alloc_ctx;                   /* context size given at allocation */
    DECLSPEC_ALIGN(16) NET_BUFFER_LIST nbl;
} emu_nbl_ext;

/* nbl_hist.c, rt->mu held: an NBL enters or leaves the live list; one
 * event of its life. */
void emu_nbl_live_add(struct emu_runtime *rt, emu_nbl_ext *x);
void emu_nbl_live_del(struct emu_runtime *rt, emu_nbl_ext *x);
void emu_nbl_note(struct emu_runtime *rt, emu_nbl_ext *x, nbl_op op, int32_t status,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* nbl_hist.c, rt->mu not held: prints every live NBL outstanding at the
 * adapter `ad` (sent to its miniport, or indicated by it and not returned)
 * or sent by the binding `b` and not completed (either may be NULL), with
 * the hops it is at and its last events. Returns how many. */
unsigned emu_report_outstanding(struct emu_runtime *rt, struct emu_adapter *ad, emu_binding *b);

typedef struct emu_nb_ext {
    uint32_t magic;
    bool live;
    emu_nbl_pool *pool;
    void *data;
    PMDL own_mdl;
    DECLSPEC_ALIGN(16) NET_BUFFER nb;
} emu_nb_ext;

/* ---- scheduler ---- */
typedef enum task_kind {
    T_DPC,
    T_ISR,
    T_TIMER,
    T_WORKITEM,
    T_DEVICE,
    T_PNP,
    T_COMPLETION,
    T_PLATFORM, /* host-side models (emu_schedule): never frozen */
} task_kind;

struct emu_task;
typedef void (*emu_task_fn)(emu_runtime *rt, struct emu_task *t);
typedef struct emu_task {
    struct emu_task *next;
    uint64_t id, due, seq, period;
    task_kind kind;
    emu_task_fn fn;
    void *a, *b;
    uint64_t u;
    bool cancelled, running;
    bool fired;      /* T_TIMER: this run passed timer_task's check and calls back (rt->mu) */
    bool dpc_queued; /* T_TIMER: a cancel or re-set found this expiry's DPC queued (rt->mu) */
} emu_task;

typedef struct emu_timer {
    emu_obj obj;
    NDIS_TIMER_CHARACTERISTICS ch;
    PVOID ctx;
    emu_task *task;
    unsigned callbacks_running; /* rt->mu */
    unsigned callbacks_queued;  /* fired, its DPC waiting for a CPU (the real-time latency) */
    unsigned dpcs_pending;      /* 1: a missed expiry's DPC is queued (one per timer) */
    bool cancelled;             /* NdisCancelTimerObject since the last set (rt->mu) */
} emu_timer;

typedef struct emu_workitem {
    emu_obj obj;
    emu_task *task;
} emu_workitem;

typedef struct emu_generic {
    emu_obj obj;
    NDIS_GENERIC_OBJECT g; /* what the driver sees (the handle points here) */
} emu_generic;

typedef struct emu_ctldev {
    emu_obj obj;
    struct emu_ctldev *next;
    char name[EMU_NAME_MAX], link[EMU_NAME_MAX];
    char sddl[EMU_NAME_MAX * 2]; /* DefaultSDDLString; "" = none given */
    bool sddl_truncated;
    PDRIVER_DISPATCH major[IRP_MJ_MAXIMUM_FUNCTION + 1];
    void *ext;
    ULONG ext_size;
    /* The DEVICE_OBJECT drivers see (the WDK's layout, 16-aligned, its
     * DeviceExtension after it). io_device: created by IoCreateDevice, its
     * IRPs dispatched through DriverObject->MajorFunction; exclusive: one
     * handle at a time (IoCreateDevice's Exclusive). */
    DEVICE_OBJECT *devobj;
    bool io_device, exclusive;
    /* The device this one is attached on top of (IoAttachDeviceToDevice-
     * Stack; the WDK keeps it in the opaque DEVOBJ_EXTENSION). */
    DEVICE_OBJECT *attached_to;
    /* The fields of *devobj only the I/O manager writes, as it last left
     * them (rule DeviceObjectField, ctldev.c). */
    DEVICE_OBJECT shadow;
    /* Open handles (rt->mu). A deregistered device object stays (delete
     * pending) until its last handle closes, and keeps its driver loaded. */
    unsigned handles;
} emu_ctldev;

/* ctldev.c: why a driver cannot unload now (0: it can). */
enum { EMU_UNLOAD_OK, EMU_UNLOAD_DEVICE_OBJECT, EMU_UNLOAD_OPEN_HANDLE };
int emu_ctldev_unload_blocker(emu_runtime *rt, const struct emu_driver *drv); /* rt->mu held */
/* Forgets the open handles on the driver's deregistered device objects
 * (system shutdown: every process is gone). */
void emu_ctldev_drop_handles(emu_runtime *rt, const struct emu_driver *drv);
/* The device behind a DEVICE_OBJECT a driver passes (NULL: none). */
emu_ctldev *emu_ctldev_of(emu_runtime *rt, const DEVICE_OBJECT *devobj);
/* A new device object of drv (rt->mu not held): devobj allocated with its
 * extension, linked first in rt->ctldevs. NULL on no memory. */
emu_ctldev *emu_ctldev_new(emu_runtime *rt, struct emu_driver *drv, const char *name,
                           ULONG ext_size);
/* The I/O manager changed devobj's fields itself: take them as they are
 * (rt->mu held). */
void emu_ctldev_resync(emu_ctldev *d);
/* The driver left the fields only the I/O manager writes as they were:
 * false, after reporting DeviceObjectField (where: the routine or call
 * after which it was noticed). */
bool emu_ctldev_check_fields(emu_runtime *rt, emu_ctldev *d, const char *where);
/* iomgr.c: DriverEntry returned; the device objects it created lose
 * DO_DEVICE_INITIALIZING (the I/O manager clears it then). */
void emu_io_driver_entry_done(emu_runtime *rt, struct emu_driver *drv);
/* loader.c: the same for the driver as a whole (rt->mu held). */
int emu_driver_unload_blocker(emu_runtime *rt, const struct emu_driver *drv);

typedef struct emu_trace_line {
    char text[240];
} emu_trace_line;

/* ---- intermediate drivers (im.c; rt->mu) ---- */
#define EMU_IM_DEVS    16
#define EMU_IM_REG     8
#define EMU_IF_STACK   64
#define EMU_BIND_PARAM 32
/* A virtual miniport device of an intermediate driver: installed (what the
 * driver's notify object does through INetCfg: emu_im_install_device) and
 * started by NdisIMInitializeDeviceInstanceEx, in either order. */
typedef struct emu_im_dev {
    char service[EMU_NAME_MAX]; /* the intermediate driver's */
    char instance[EMU_NAME_MAX];
    char reg[EMU_IM_REG][200]; /* "Keyword=Value" */
    const char *regp[EMU_IM_REG + 1];
    bool installed;
    bool requested; /* NdisIMInitializeDeviceInstanceEx, MiniportInitializeEx not begun */
    bool asked;     /* NdisIMInitializeDeviceInstanceEx was ever called for it */
    NDIS_HANDLE ctx;
    struct emu_adapter *ad; /* MiniportInitializeEx began, until the halt */
} emu_im_dev;
typedef struct emu_im_state {
    emu_im_dev devs[EMU_IM_DEVS];
    int n_devs;
    struct {
        NET_IFINDEX higher, lower;
    } stack[EMU_IF_STACK]; /* ifStackTable entries the drivers added */
    int n_stack;
    struct {
        char prot[64];
        char instance[EMU_NAME_MAX];
        emu_kv kv;
    } params[EMU_BIND_PARAM]; /* Services\<prot>\Parameters\Adapters\<instance> */
    int n_params;
} emu_im_state;

struct emu_runtime {
    emu_config cfg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t rng;
    uint64_t now; /* deterministic virtual ns */
    uint64_t t0_real;
    uint64_t seq, next_task_id;
    emu_task *tasks;
    bool pnp_active;
    int running_tasks;
    unsigned timer_dpcs; /* NDIS timers' DPCs queued or running (KeFlushQueuedDpcs waits) */
    /* Guest frozen (emu_guest_freeze): only T_PLATFORM tasks run. frozen_ns
     * accumulates completed freezes, so waits measure guest time only. */
    bool frozen;
    uint64_t frozen_since, frozen_ns;
    /* timed.c: no NdisTimed* rule can fire before this guest time (written
     * under rt->mu, read without it) */
    uint64_t timed_due;
    /* reset.c: resets begun so far (atomic; ResetQuiet). */
    uint64_t reset_epoch;
    pthread_t *workers;
    unsigned n_workers;
    bool quit;

    emu_obj *objects;      /* live handle objects (rt->mu) */
    emu_obj *dead_objects; /* killed ones, kept until emu_destroy (rt->mu) */
    struct emu_driver *drivers;
    emu_protocol *protocols;
    struct emu_adapter *adapters;
    uint32_t next_adapter_id;
    emu_mmio_map *mmio;
    emu_dma_region *dma;
    uint64_t next_pa, next_bar_pa;
    emu_ctldev *ctldevs;
    emu_filter_driver *filter_drivers;

    struct {
        char prot[64];
        char instance[EMU_NAME_MAX];
        bool enabled;
    } paths[128];
    int n_paths;
    emu_im_state im; /* intermediate drivers, interface stack, binding parameters (im.c) */
    emu_nc_watch_fn watch;
    void *watch_ctx;

    /* The first violation only (what follows it is a consequence); written
     * under viol_mu, published through n_viol and stopped (atomics). */
    pthread_mutex_t viol_mu;
    emu_violation viol;
    char viol_rule[64], viol_call[96], viol_detail[240];
    size_t n_viol;
    bool stopped;

    /* DPCs run back to back at one virtual instant ("CPU 0" never went
     * below DISPATCH_LEVEL in between): their summed cost (rt->mu). */
    uint64_t dpc_chain_ns, dpc_chain_at;

    struct emu_nbl_ext *nbl_live; /* every live NBL (nbl_hist.c; rt->mu) */
    uint64_t nbl_serial;

    emu_error_log_entry error_log[EMU_ERROR_LOG_MAX]; /* rt->mu; cnt.error_log_entries written */
    emu_counters cnt;                                 /* rt->mu, except the two below */
    uint64_t ndis_calls, bad_input;                   /* atomics: counted anywhere without rt->mu */
    pthread_mutex_t trace_mu; /* the trace ring and output; never held across calls */
    emu_trace_format trace_fmt;
    FILE *trace_out;
    emu_trace_line ring[EMU_RING];
    unsigned ring_pos;
};

/* ---- thread state ---- */
#define EMU_LOCKDEP_DEPTH 16
#define EMU_LOCKDEP_WHERE 160

typedef struct emu_thread {
    KIRQL irql;
    int locks_held;
    const char *cb;  /* the driver callback this thread runs (innermost) */
    bool cb_binding; /* it is ProtocolNetPnPEvent for one binding (context not NULL) */
    /* lockdep.c: the locks this thread holds, in acquisition order (kept
     * across nested callbacks: see lockdep.c). */
    const void *held[EMU_LOCKDEP_DEPTH];
    int nheld;
    uint32_t tid;
    struct emu_adapter *cur_ad;
    struct emu_driver *cur_drv;
    int depth;
    emu_dpc_run *dpc; /* the MiniportInterruptDPC running on this thread, if any */
    /* reset.c: rt->reset_epoch when this thread last entered cur_drv
     * from outside it (ResetQuiet). */
    uint64_t drv_entry;
} emu_thread;

extern emu_runtime *emu_rt;
/* sync.c: a KSPIN_LOCK (IRQL unchanged); false when the run stops. */
bool emu_spin_acquire(PKSPIN_LOCK l, const char *call);
bool emu_spin_try_acquire(PKSPIN_LOCK l, const char *call);
bool emu_spin_release(PKSPIN_LOCK l, const char *call);
/* kernel.c: lookaside lists deleted and KDPCs out of the queue by the time
 * drv unloads (false after reporting); the records, at emu_destroy. */
bool emu_kernel_unload_check(emu_runtime *rt, struct emu_driver *drv);
void emu_kernel_free_all(void);
emu_thread *emu_self(void);

/* ---- runtime core (rt.c) ---- */
void emu_lock(emu_runtime *rt);
void emu_unlock(emu_runtime *rt);
bool emu_lock_held(void); /* this thread holds rt->mu */
/* The verifier stopped the run (readable anywhere, with or without rt->mu). */
bool emu_stopped(emu_runtime *rt);
void emu_broadcast(emu_runtime *rt);
uint64_t emu_time(emu_runtime *rt);
uint64_t emu_rand(emu_runtime *rt);
/* Real-time: sleeps a random part of max_ns (cfg.rt_dpc_latency_ns or
 * cfg.rt_timer_latency_ns); rt->mu not held. */
void emu_dpc_latency(emu_runtime *rt, uint64_t max_ns);
void *emu_obj_new(emu_runtime *rt, size_t size, emu_kind kind, struct emu_driver *drv,
                  struct emu_adapter *ad, uint32_t tag);
void *emu_obj_new_runtime(emu_runtime *rt, size_t size, emu_kind kind, struct emu_driver *drv);
void emu_obj_kill(emu_runtime *rt, emu_obj *o); /* rt->mu held */
bool emu_obj_dead(const emu_obj *o);
emu_obj *emu_obj_check(emu_runtime *rt, NDIS_HANDLE h, emu_kind kind, const char *call);
emu_obj *emu_obj_peek(NDIS_HANDLE h);
/* HandleKind: the NDIS handle h passed to `call` is live and one of the
 * kinds (a mask of EMU_HK bits) the function's reference page lists for
 * that parameter. Reports the violation and returns NULL otherwise. */
#define EMU_HK(k) (1u << (unsigned)(k))
emu_obj *emu_handle_kind(emu_runtime *rt, NDIS_HANDLE h, uint32_t kinds, const char *call);
/* NdisAllocateMemoryWithTagPriority (and NdisAllocateMdl, NdisAllocateRWLock):
 * a miniport driver or adapter handle, a protocol driver or binding handle
 * (filter handles: ndisemu has no filters), or a generic object. */
#define EMU_HK_MEMORY                                                                   \
    (EMU_HK(K_MP_DRIVER) | EMU_HK(K_ADAPTER) | EMU_HK(K_PROTOCOL) | EMU_HK(K_BINDING) | \
     EMU_HK(K_GENERIC) | EMU_HK(K_FILTER_DRIVER) | EMU_HK(K_FILTER_MODULE))
/* NBL/NB pools and timer objects ("Obtaining Pool Handles"): a protocol's
 * NdisRegisterProtocolDriver handle, a miniport's MiniportInitializeEx
 * adapter handle, or a generic object. A binding handle is not listed. The
 * page does not list a miniport driver's NdisMRegisterMiniportDriver handle
 * either, but Microsoft's own netvmini sample allocates its adapters' NBL
 * pool and timers with it and NDIS accepts it, so it is accepted here. */
#define EMU_HK_POOL                                                                         \
    (EMU_HK(K_PROTOCOL) | EMU_HK(K_ADAPTER) | EMU_HK(K_GENERIC) | EMU_HK(K_FILTER_MODULE) | \
     EMU_HK(K_MP_DRIVER))
/* NdisAllocateIoWorkItem: a miniport adapter or driver handle, an
 * NdisRegisterDeviceEx handle (or a filter's); never a protocol's. A generic
 * object qualifies only with a driver object ("associated with a device
 * object or driver object"). */
#define EMU_HK_WORKITEM                                                               \
    (EMU_HK(K_ADAPTER) | EMU_HK(K_MP_DRIVER) | EMU_HK(K_CTLDEV) | EMU_HK(K_GENERIC) | \
     EMU_HK(K_FILTER_MODULE) | EMU_HK(K_FILTER_DRIVER))
/* NdisOpenConfigurationEx: "an NDIS handle that the caller obtained during
 * initialization": a driver, adapter or binding handle. */
#define EMU_HK_CONFIG                                                                   \
    (EMU_HK(K_ADAPTER) | EMU_HK(K_MP_DRIVER) | EMU_HK(K_PROTOCOL) | EMU_HK(K_BINDING) | \
     EMU_HK(K_FILTER_DRIVER) | EMU_HK(K_FILTER_MODULE))
void emu_charge(emu_runtime *rt, struct emu_driver *drv, struct emu_adapter *ad, uint32_t tag,
                int64_t bytes, int64_t count);
struct emu_driver *emu_handle_driver(NDIS_HANDLE h, struct emu_adapter **ad);
/* The adapter and protocol lists only grow at their head (under rt->mu) and
 * entries stay linked until the runtime is destroyed: a walk outside the
 * lock needs it only to read the head. */
struct emu_adapter *emu_adapters_head(emu_runtime *rt);
/* sched.c, rt->mu held: virtual time the guest ran (frozen time left out). */
uint64_t emu_guest_time(emu_runtime *rt);
/* timed.c: the rules on how long a miniport may hold work (NdisTimed*),
 * checked after virtual time moved (rt->mu held or not); a clock one of
 * them watches started at guest time `started` (rt->mu held). */
void emu_timed_checks(emu_runtime *rt);
void emu_timed_arm(emu_runtime *rt, uint64_t started);
/* reset.c: NDIS resets ad's miniport (its hang check said so, or an OID
 * stayed in it over two hang checks: `why`), telling the drivers above
 * with NDIS_STATUS_RESET_START and _END. From the hang check's task. */
void emu_reset_miniport(emu_runtime *rt, struct emu_adapter *ad, const char *why);
/* reset.c: NdisMResetComplete's part; and the halt's wait for a pended
 * reset to end (false after reporting). */
void emu_reset_complete(emu_runtime *rt, struct emu_adapter *ad, NDIS_STATUS st);
bool emu_reset_wait_idle(emu_runtime *rt, struct emu_adapter *ad);
/* reset.c, from the hang check: true when the OID request in the
 * miniport now was already there at the previous check. */
bool emu_reset_oid_overdue(emu_runtime *rt, struct emu_adapter *ad);
/* reset.c: ResetQuiet. False (after reporting) when protocol binding b
 * makes `call`, directed at the miniport, while it is being reset. */
bool emu_reset_quiet_ok(emu_runtime *rt, emu_binding *b, const char *call, NDIS_OID oid);
emu_protocol *emu_protocols_head(emu_runtime *rt);

/* ---- verifier + trace (verifier.c) ---- */
void emu_violate(emu_runtime *rt, const char *rule, const char *call, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void emu_tracef(emu_runtime *rt, const char *kind, const char *fn, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Entry check of an NDIS function: traces it and checks the caller's IRQL
 * against the function's documented range (irql.c). Returns false (after
 * reporting the function's IRQL rule) when the IRQL is outside it. */
bool emu_enter(const char *fn, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* False (after reporting DispatchLevelFlag) when a caller's
 * *_DISPATCH_LEVEL flag is set below or above DISPATCH_LEVEL. */
bool emu_dispatch_flag_ok(const char *call, const char *flag_name, bool flag_set);
/* ctldev.c: false (after reporting SpinLockSafe) when the caller holds a
 * spin lock or the cancel spin lock (IoCompleteRequest, NdisMResetComplete). */
bool emu_spin_lock_safe(const char *call);
/* oid.c: an NdisOidRequest of binding b is back with its protocol (by
 * returning, or about to reach its ProtocolOidRequestComplete). */
void emu_oid_back_to_protocol(emu_runtime *rt, emu_binding *b);
#define EMU_DISPATCH_FLAG_OK(call, flags, flag) \
    emu_dispatch_flag_ok(call, #flag, ((flags) & (flag)) != 0)

/* ---- the IRQL table (irql.c) ---- */
typedef struct emu_irql_rule {
    const char *fn;
    const char *rule; /* the DDI compliance rule a call outside [min, max] breaks */
    KIRQL min, max;
} emu_irql_rule;
const emu_irql_rule *emu_irql_rule_of(const char *fn);
bool emu_irql_table_sorted(void);

/* ---- callbacks into drivers (callback.c) ---- */
typedef struct emu_cb_scope {
    emu_thread saved;
    const char *name;
    KIRQL irql;
} emu_cb_scope;
void emu_cb_begin(emu_cb_scope *s, const char *name, struct emu_driver *drv, struct emu_adapter *ad,
                  KIRQL irql);
void emu_cb_end(emu_cb_scope *s);
/* The driver callback the calling thread is in (the innermost), to ask
 * later, on that thread, whether it has returned since: its stack frame is
 * then gone. False when asked on another thread, or when the mark was made
 * outside any callback (not known). */
void emu_frame_mark_here(emu_frame_mark *m);
bool emu_frame_returned(const emu_frame_mark *m);

/* Pended operations (callback.c). Call op_start before the handler, then
 * op_finish with what it returned: PENDING waits for the completion call
 * (*st becomes its status); a final status ends the operation. A completion
 * outside the pended window, or a second one, is DoubleComplete. op_finish
 * returns false when the run stopped. */
void emu_op_start(emu_runtime *rt, emu_pending_op *op);
bool emu_op_finish(emu_runtime *rt, emu_pending_op *op, NDIS_STATUS *st, const char *handler);
/* The driver's completion call; false (after reporting) when it is not allowed. */
bool emu_op_complete(emu_runtime *rt, emu_pending_op *op, NDIS_STATUS st, const char *call,
                     const char *what);

/* ---- scheduler (sched.c) ---- */
emu_task *emu_task_post(emu_runtime *rt, task_kind kind, uint64_t delay_ns, emu_task_fn fn, void *a,
                        void *b, uint64_t u);            /* rt->mu held */
bool emu_task_cancel(emu_runtime *rt, emu_task *t);      /* rt->mu held */
typedef bool (*emu_pred_fn)(emu_runtime *rt, void *arg); /* called with rt->mu held */
bool emu_wait(emu_runtime *rt, emu_pred_fn pred, void *arg, uint64_t timeout_ns);
bool emu_wait_flag(emu_runtime *rt, bool *flag, const char *what);
int emu_sched_start(emu_runtime *rt);
void emu_sched_stop(emu_runtime *rt);
int emu_sched_run_until_idle(emu_runtime *rt);
int emu_sched_run_for(emu_runtime *rt, uint64_t ns);
void emu_sched_free_all(emu_runtime *rt);
/* Runs a PnP operation on the PnP "thread" and waits for it (synchronous API). */
int emu_pnp_run(emu_runtime *rt, int (*op)(emu_runtime *rt, void *arg), void *arg);
int emu_pnp_post(emu_runtime *rt, int (*op)(emu_runtime *rt, void *arg), void *arg,
                 emu_done_fn done, void *ctx);

/* ---- memory (mem.c) ---- */
/* Runtime memory held on a driver's behalf (NBLs, NBs, MDLs, contexts, IRPs):
 * tracked so that a run the verifier stopped mid-flight still frees it all. */
void *emu_talloc(size_t size);
void emu_tfree(void *p);
void emu_mem_free_all(emu_runtime *rt);
bool emu_leak_check(emu_runtime *rt, struct emu_driver *drv, struct emu_adapter *ad,
                    const char *rule, const char *when);

/* ---- NBL (nbl.c) ---- */
emu_nbl_ext *emu_nbl_ext_of(emu_runtime *rt, PNET_BUFFER_LIST nbl, const char *call);
emu_nbl_ext *emu_nbl_ext_rule(emu_runtime *rt, PNET_BUFFER_LIST nbl, const char *call,
                              const char *freed_rule);
void emu_nbl_quarantine_free(void);
void emu_irp_quarantine_free(void); /* ctldev.c */

/* ---- adapters, bindings, data path (miniport.c, protocol.c, datapath.c) ---- */
int emu_adapter_add(emu_runtime *rt, const emu_device_desc *desc, emu_adapter **out);
int emu_adapter_remove(emu_runtime *rt, emu_adapter *ad, bool surprise, bool failed);
int emu_adapter_power(emu_runtime *rt, emu_adapter *ad, int dstate);
int emu_bind(emu_runtime *rt, emu_protocol *p, emu_adapter *ad);
int emu_unbind(emu_runtime *rt, emu_binding *b);
int emu_binding_pnp(emu_runtime *rt, emu_binding *b, NET_PNP_EVENT_CODE code, void *buf, ULONG len);
/* NetEventBindsComplete, NetEventBindList, NetEventReconfigure: to the
 * protocol itself, with a NULL ProtocolBindingContext. PnP thread. */
int emu_protocol_pnp(emu_runtime *rt, emu_protocol *p, NET_PNP_EVENT_CODE code, void *buf,
                     ULONG len);
/* NetEventBindList for p: its bindable adapters' names (PnP thread). */
int emu_protocol_bind_list(emu_runtime *rt, emu_protocol *p);
bool emu_path_enabled(emu_runtime *rt, const char *prot, const char *instance);
bool emu_ranges_meet(const emu_range_set *a, const emu_range_set *b);
void emu_bind_all_for_adapter(emu_runtime *rt, emu_adapter *ad);
void emu_bind_all_for_protocol(emu_runtime *rt, emu_protocol *p);
void emu_netcfg_notify(emu_runtime *rt, emu_nc_event ev, uint32_t id, const char *prot);
NDIS_STATUS emu_oid_internal(emu_runtime *rt, emu_adapter *ad, NDIS_REQUEST_TYPE type, NDIS_OID oid,
                             void *buf, ULONG len);
void emu_oid_dispatch_next(emu_runtime *rt, emu_adapter *ad);
void emu_device_detach(emu_runtime *rt, emu_adapter *ad);
void emu_dma_drop_adapter(emu_runtime *rt, emu_adapter *ad);

/* ---- lock order and lock contracts (lockdep.c) ---- */
void emu_lockdep_reset(void);
void emu_lockdep_acquired(const void *lock, const char *call); /* after acquiring */
void emu_lockdep_released(const void *lock);
void emu_lockdep_forget(const void *lock); /* the lock is freed */
bool emu_lockdep_holds(const void *lock);  /* this thread holds it */

/* ---- loader (loader.c) ---- */
void emu_loader_close(void *dl);
int emu_desc_parse(const char *path, emu_desc *d, char *err, size_t errlen);
void emu_wstr_to_ascii(const UNICODE_STRING *s, char *out, size_t n);
void emu_ascii_to_wstr(const char *s, WCHAR *buf, size_t cap, UNICODE_STRING *out);

const char *emu_state_name(ad_state st);

static inline const char *emu_adapter_label(const struct emu_adapter *ad)
{
    return ad ? ad->instance : "-";
}

static inline const char *emu_driver_label(const struct emu_driver *drv)
{
    return drv ? drv->desc.service : "-";
}

/* ---- lightweight filters (filter.c, filter_path.c) ---- */
/* Stack operations (PnP thread). Attach: every registered filter whose
 * media and path match, in FilterClass order, the stack paused. */
int emu_filters_attach_all(emu_runtime *rt, emu_adapter *ad);
int emu_filters_detach_all(emu_runtime *rt, emu_adapter *ad);
int emu_filters_pause(emu_runtime *rt, emu_adapter *ad, ULONG reason);
int emu_filters_restart(emu_runtime *rt, emu_adapter *ad);
/* Data path routing (rt->mu held): the module nearest below level (an index
 * into ad->filters; ad->n_filters = from the bindings) that takes sends, or
 * NULL for the miniport; the nearest above level that takes receives, or
 * NULL for the bindings. */
emu_filter *emu_filter_send_target(emu_adapter *ad, int level);
emu_filter *emu_filter_recv_target(emu_adapter *ad, int level);
int emu_filter_level(const emu_filter *f);
/* Sends chain (already checked) down from level: pushes a frame per NBL
 * for the hop and calls the next filter or the miniport. b: the sending
 * binding; from: the sending filter module (one of the two). */
void emu_send_down(emu_runtime *rt, emu_adapter *ad, int level, emu_binding *b, emu_filter *from,
                   PNET_BUFFER_LIST chain, unsigned n, NDIS_PORT_NUMBER port, ULONG flags);
/* A send completion popped at its hop's receiver goes to its sender. */
void emu_send_complete_up(emu_runtime *rt, emu_binding *b, emu_filter *from, PNET_BUFFER_LIST chain,
                          unsigned n, ULONG flags);
/* Receive indications from the miniport (from = NULL) or a filter module;
 * called with rt->mu held (after the checks), returns without it. */
void emu_indicate_up(emu_runtime *rt, emu_adapter *ad, emu_filter *from, PNET_BUFFER_LIST *list,
                     unsigned n, NDIS_PORT_NUMBER port, ULONG flags);
/* NBLs whose last holder returned them go back to their indicator. */
void emu_return_down(emu_runtime *rt, emu_adapter *ad, emu_filter *from, PNET_BUFFER_LIST chain,
                     ULONG flags);
/* Status indications, from the miniport (from = NULL) or a module. */
void emu_status_up(emu_runtime *rt, emu_adapter *ad, emu_filter *from, PNDIS_STATUS_INDICATION si);
/* An OID request from a binding (b) or a module (up) entering the stack
 * below level: the next filter that takes OIDs or the miniport's queue. */
NDIS_STATUS emu_oid_down(emu_runtime *rt, emu_adapter *ad, int level, emu_binding *b,
                         emu_filter *up, PNDIS_OID_REQUEST req);
/* oid.c: the miniport's queue, for a binding's or a filter's request. */
NDIS_STATUS emu_oid_to_miniport(emu_runtime *rt, emu_adapter *ad, emu_binding *b, emu_filter *f,
                                PNDIS_OID_REQUEST req);
void emu_oid_cancel_down(emu_runtime *rt, emu_adapter *ad, int level, emu_binding *b,
                         emu_filter *up, PVOID RequestId);
void emu_oid_cancel_at_miniport(emu_runtime *rt, emu_adapter *ad, emu_binding *b, emu_filter *f,
                                PVOID RequestId);
/* A network PnP event for the bindings of ad, through the filters above
 * level that take PnP events (NetEventSetPower). */
NDIS_STATUS emu_stack_net_pnp(emu_runtime *rt, emu_adapter *ad, int level, NET_PNP_EVENT_CODE code,
                              void *buf, ULONG len);
/* A device PnP event for the miniport, through the filters above it. */
void emu_stack_device_pnp(emu_runtime *rt, emu_adapter *ad, int level, PNET_DEVICE_PNP_EVENT ev);
/* datapath.c, shared with the filter entry points (rt->mu held where the
 * name says take/valid/list). */
bool emu_send_complete_valid(emu_runtime *rt, emu_adapter *ad, emu_filter *to,
                             PNET_BUFFER_LIST chain, const char *call);
void emu_send_complete_runs(emu_runtime *rt, emu_adapter *ad, bool at_miniport,
                            PNET_BUFFER_LIST chain, ULONG flags);
bool emu_indicate_list(emu_runtime *rt, emu_adapter *ad, emu_filter *from, PNET_BUFFER_LIST chain,
                       ULONG count, PNET_BUFFER_LIST list[256], unsigned *n, const char *call);
bool emu_return_take(emu_runtime *rt, emu_adapter *ad, emu_binding *b, emu_filter *f,
                     PNET_BUFFER_LIST chain, const char *call);
void emu_return_runs(emu_runtime *rt, emu_adapter *ad, emu_binding *b, emu_filter *f,
                     PNET_BUFFER_LIST chain, ULONG flags);
void emu_cancel_send_down(emu_runtime *rt, emu_adapter *ad, int level, PVOID CancelId);
emu_filter_driver *emu_filter_drivers_head(emu_runtime *rt);
bool emu_driver_has_filter(emu_runtime *rt, const struct emu_driver *drv);
void emu_netcfg_store_path(emu_runtime *rt, const char *prot, const char *instance, bool enable);
/* miniport.c: the miniport's own pause and restart, for stack operations. */
int emu_mp_pause(emu_runtime *rt, emu_adapter *ad, ULONG reason);
int emu_mp_restart(emu_runtime *rt, emu_adapter *ad);

/* ---- intermediate drivers (im.c) ---- */
/* rt->mu held, from emu_adapter_add: is the new adapter of drv named
 * instance an intermediate driver's virtual miniport? 1: yes, started by
 * NdisIMInitializeDeviceInstanceEx (*ctx its context); -1: one that was
 * not asked for (or was cancelled): it does not start; 0: not one. */
int emu_im_claim(emu_runtime *rt, struct emu_driver *drv, struct emu_adapter *ad, NDIS_HANDLE *ctx);
/* The adapter halted or failed to initialize: its virtual miniport device
 * may be started again, and NDIS deletes its interface stack entries. */
void emu_im_adapter_gone(emu_runtime *rt, struct emu_adapter *ad);
/* A protocol's per-binding parameter (NULL if none); rt->mu not held. */
const char *emu_binding_param(emu_runtime *rt, const emu_binding *b, const char *key, char *buf,
                              size_t n);

#endif /* NDISEMU_EMU_INTERNAL_H */
