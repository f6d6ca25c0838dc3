/*
 * vfo.h - vfo.sys's internal types and the functions its files share.
 *
 * vfo.sys is one NDIS 6.30 driver with two edges:
 *   - a miniport for the virtio-net PCI function (the standby path, and the
 *     only adapter TCP/IP sees), built on lib/vnet over lib/virtio;
 *   - a protocol that binds to the VF whose MAC matches a vfo adapter (the
 *     primary path).
 * Every decision about the pair (which path, what to replay, what link to
 * show, when a pause or an unbind may complete) is lib/failover's; this
 * driver turns NDIS callbacks into engine events and engine actions into NDIS
 * calls (glue.c), and moves packets (mp_tx.c, mp_rx.c, pt_data.c).
 *
 * Locks, outermost first:
 *   g_vfo.lock   the registry lock: every lib/failover control call, the
 *                adapter list, action queues, control-device data;
 *   ad->tx_lock  lib/vnet's TX path and the software send queue;
 *   ad->rx_lock  lib/vnet's RX path;
 *   ad->ctrl_lock lib/vnet's control queue and configuration.
 * No lock is held across an NDIS call that can call back into the driver
 * (indications, completions, sends, OID requests).
 */
#ifndef VFO_H
#define VFO_H

#include <ndis.h>

#include "fo_engine.h"
#include "vfo_ctl.h"
#include "vfo_eventlog.h"
#include "vnet.h"
#include "work.h"

#include "trace.h"

#define VFO_MAJOR_VERSION 0
#define VFO_MINOR_VERSION 1

/* Fills an NDIS_OBJECT_HEADER. The WDK has no macro for this (its samples
 * assign the three fields), so vfo has its own. */
#define VFO_INIT_HEADER(h, t, r, s) \
    do {                            \
        (h)->Type = (UCHAR)(t);     \
        (h)->Revision = (UCHAR)(r); \
        (h)->Size = (USHORT)(s);    \
    } while (0)

/* Pool tags (reversed in memory dumps: 'vfoA' shows as "Aofv"). */
#define VFO_TAG_ADAPTER 'Aofv'
#define VFO_TAG_BINDING 'Bofv'
#define VFO_TAG_VIRTIO  'Vofv'
#define VFO_TAG_TX      'Tofv'
#define VFO_TAG_RX      'Rofv'
#define VFO_TAG_NBLCTX  'Cofv'
#define VFO_TAG_MISC    'Mofv'

#define VFO_MAX_MCAST         FO_MCAST_MAX
#define VFO_MAX_ADDRS         16 /* IPv4 + IPv6 addresses kept for announcements */
#define VFO_ACTION_RING       256
#define VFO_OID_BUF           1536 /* largest replay payload: a 1 KiB blob plus its header */
#define VFO_HDR_PEEK          176 /* header bytes parsed for offload metadata (= VNET_TX_COPY_MAX) */
#define VFO_DEFAULT_SPEED_BPS 10000000000ull /* virtio without SPEED_DUPLEX: 10 Gb/s */

#define VFO_PACKET_FILTERS                                                                     \
    (NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_MULTICAST | NDIS_PACKET_TYPE_ALL_MULTICAST | \
     NDIS_PACKET_TYPE_BROADCAST | NDIS_PACKET_TYPE_PROMISCUOUS)
#define VFO_SUPPORTED_STATISTICS                                                     \
    (NDIS_STATISTICS_XMIT_OK_SUPPORTED | NDIS_STATISTICS_RCV_OK_SUPPORTED |          \
     NDIS_STATISTICS_XMIT_ERROR_SUPPORTED | NDIS_STATISTICS_RCV_ERROR_SUPPORTED |    \
     NDIS_STATISTICS_RCV_NO_BUFFER_SUPPORTED | NDIS_STATISTICS_BYTES_RCV_SUPPORTED | \
     NDIS_STATISTICS_BYTES_XMIT_SUPPORTED | NDIS_STATISTICS_RCV_DISCARDS_SUPPORTED | \
     NDIS_STATISTICS_XMIT_DISCARDS_SUPPORTED | NDIS_STATISTICS_GEN_STATISTICS_SUPPORTED)
#define VFO_STATISTICS_FLAGS                                                                      \
    (NDIS_STATISTICS_FLAGS_VALID_DIRECTED_FRAMES_RCV |                                            \
     NDIS_STATISTICS_FLAGS_VALID_MULTICAST_FRAMES_RCV |                                           \
     NDIS_STATISTICS_FLAGS_VALID_BROADCAST_FRAMES_RCV | NDIS_STATISTICS_FLAGS_VALID_BYTES_RCV |   \
     NDIS_STATISTICS_FLAGS_VALID_RCV_DISCARDS | NDIS_STATISTICS_FLAGS_VALID_RCV_ERROR |           \
     NDIS_STATISTICS_FLAGS_VALID_DIRECTED_FRAMES_XMIT |                                           \
     NDIS_STATISTICS_FLAGS_VALID_MULTICAST_FRAMES_XMIT |                                          \
     NDIS_STATISTICS_FLAGS_VALID_BROADCAST_FRAMES_XMIT | NDIS_STATISTICS_FLAGS_VALID_BYTES_XMIT | \
     NDIS_STATISTICS_FLAGS_VALID_XMIT_ERROR | NDIS_STATISTICS_FLAGS_VALID_XMIT_DISCARDS |         \
     NDIS_STATISTICS_FLAGS_VALID_DIRECTED_BYTES_RCV |                                             \
     NDIS_STATISTICS_FLAGS_VALID_MULTICAST_BYTES_RCV |                                            \
     NDIS_STATISTICS_FLAGS_VALID_BROADCAST_BYTES_RCV |                                            \
     NDIS_STATISTICS_FLAGS_VALID_DIRECTED_BYTES_XMIT |                                            \
     NDIS_STATISTICS_FLAGS_VALID_MULTICAST_BYTES_XMIT |                                           \
     NDIS_STATISTICS_FLAGS_VALID_BROADCAST_BYTES_XMIT)

#define VFO_CAST_UNICAST   0
#define VFO_CAST_MULTICAST 1
#define VFO_CAST_BROADCAST 2

/* ------------------------------------------------------------------------ */
/* Registry configuration (config.c)                                        */

typedef struct vfo_config {
    bool failover;          /* "Failover" */
    bool require_standby;   /* "FailoverRequireStandby" */
    bool match_current_mac; /* "FailoverMatchCurrentMac" */
    ULONG mtu_policy;       /* "FailoverMtuPolicy": fo_mtu_policy */
    ULONG announce_count;   /* "AnnounceCount" 0..FO_ANNOUNCE_MAX */
    ULONG mtu;              /* from *JumboPacket (frame size - 14); 0 = the device's */
    ULONG rx_ring, tx_ring; /* "RxQueueSize", "TxQueueSize" */
    ULONG csum_ipv4_ip;     /* *IPChecksumOffloadIPv4: only Rx (2) can be on */
    ULONG csum_ipv4_tcp, csum_ipv4_udp, csum_ipv6_tcp, csum_ipv6_udp; /* 0 off 1 Tx 2 Rx 3 both */
    bool lso_v4, lso_v6;
    bool have_mac_override;
    UCHAR mac_override[6]; /* NetworkAddress */
    ULONG bad_values;      /* keywords out of range, ignored */
} vfo_config;

void vfo_config_read(NDIS_HANDLE miniport, vfo_config *cfg, struct vfo_ctl_guid *guid);
void vfo_config_defaults(vfo_config *cfg);

/* ------------------------------------------------------------------------ */
/* "Maybe pended" operations: a handler starts an operation that may finish  */
/* before or after the handler returns; whoever is last reports the status.  */

typedef struct vfo_pend {
    LONG refs;
    NDIS_STATUS status;
} vfo_pend;

static inline void vfo_pend_begin(vfo_pend *p)
{
    p->status = NDIS_STATUS_PENDING;
    p->refs = 2;
}

/* The operation finished. True: the handler already returned PENDING, so the
 * caller completes it through NDIS. */
static inline bool vfo_pend_done(vfo_pend *p, NDIS_STATUS status)
{
    p->status = status;
    return InterlockedDecrement(&p->refs) == 0;
}

/* The handler is returning: the final status, or PENDING. */
static inline NDIS_STATUS vfo_pend_end(vfo_pend *p)
{
    return InterlockedDecrement(&p->refs) == 0 ? p->status : NDIS_STATUS_PENDING;
}

/* ------------------------------------------------------------------------ */
/* The VF binding (protocol edge)                                            */

typedef enum vfo_oid_use {
    VFO_OID_FREE = 0,
    VFO_OID_PERMANENT_ADDRESS, /* bind: the candidate's burned-in MAC */
    VFO_OID_REPLAY,            /* a replay step (token in replay_token) */
    VFO_OID_STATS,             /* OID_GEN_STATISTICS for the engine */
} vfo_oid_use;

/* One OID request slot of a binding; the buffer lives as long as the slot. */
typedef struct vfo_oid_slot {
    NDIS_OID_REQUEST req;
    vfo_oid_use use;
    fo_setting setting;
    uint32_t token;
    bool zero_payload; /* the replayed offload step asked for nothing */
    DECLSPEC_ALIGN(8) UCHAR buf[VFO_OID_BUF];
} vfo_oid_slot;

typedef enum vfo_bind_step {
    VFO_BS_OPENING,  /* NdisOpenAdapterEx issued */
    VFO_BS_QUERYING, /* permanent address query issued */
    VFO_BS_CLOSING,  /* refused: closing again */
    VFO_BS_BOUND,    /* the bind handler's work is done */
} vfo_bind_step;

typedef struct vfo_adapter vfo_adapter;

typedef struct vfo_binding {
    LIST_ENTRY entry; /* g_vfo.bindings */
    NDIS_HANDLE handle;
    UINT medium; /* SelectedMediumIndex: NDIS writes it when a pended open completes */
    NDIS_HANDLE bind_ctx;
    NDIS_HANDLE unbind_ctx;
    NDIS_HANDLE work; /* continues the bind at PASSIVE_LEVEL */
    vfo_adapter *ad;  /* the pair it is the primary of; NULL while deciding, or orphaned */
    fo_adapter_desc desc;
    struct vfo_ctl_ifid id;
    vfo_bind_step step;
    NDIS_STATUS refuse_status;
    fo_reason refused; /* FO_R_OK when paired */
    vfo_pend bind_pend, unbind_pend, pause_pend, power_pend;
    PNET_PNP_EVENT_NOTIFICATION pause_ev, power_ev;
    bool running;      /* between NetEventRestart and NetEventPause */
    bool orphaning;    /* its vfo adapter is halting: detach instead of closing */
    LONG orphan;       /* detached: refuses everything until NDIS unbinds it (vfo_get/vfo_set:
                          PtReceiveNetBufferLists reads it without g_vfo.lock) */
    LONG rx_calls;     /* PtReceiveNetBufferLists calls running on it: orphan_detach waits for
                          none before it clears ad (NDIS still runs an orphan's receives) */
    bool close_wanted; /* close as soon as no OID is outstanding */
    bool removed;      /* a send failed with ADAPTER_REMOVED (reported once) */
    bool closing;
    LONG oids_out;
    vfo_oid_slot replay, stats;
    bool stats_again; /* a stats query was asked for while the slot was busy */
    /* A replay step the engine issued while the replay slot still held an
     * earlier one (g_vfo.lock): answered "aborted" once the slot frees, so
     * the engine sends it again then (pt_oid.c). */
    bool replay_waiting;
    uint32_t replay_waiting_token;
} vfo_binding;

/* ------------------------------------------------------------------------ */
/* The vfo miniport adapter                                                  */

/* What vio_os_ops needs (os_ndis.c). */
typedef struct vfo_os {
    NDIS_HANDLE miniport;
    struct {
        PHYSICAL_ADDRESS pa;
        ULONG len;
        PVOID va; /* mapped lazily, whole BAR */
    } bar[6];
    ULONG msix_granted;
    NDIS_HANDLE dma;   /* scatter/gather DMA handle */
    ULONG allocations; /* live vio/vnet allocations, for the halt check */
} vfo_os;

typedef enum vfo_mp_state {
    VFO_MP_PAUSED = 0,
    VFO_MP_RESTARTING,
    VFO_MP_RUNNING,
    VFO_MP_PAUSING,
} vfo_mp_state;

/* A transmit request: one NET_BUFFER on virtio. */
/* A frame with more scatter/gather elements than virtio takes is copied
 * into one of these (shared memory allocated at initialize, each as large
 * as the largest frame we accept: an LSO frame of VFO_LSO_MAX_SIZE payload
 * plus headers). */
#define VFO_BOUNCE_COUNT 4u
#define VFO_BOUNCE_SIZE  65536u
typedef struct vfo_bounce {
    struct vfo_bounce *next_free;
    PVOID va;
    NDIS_PHYSICAL_ADDRESS pa;
} vfo_bounce;

typedef struct vfo_tx_req {
    struct vfo_tx_req *next_free; /* free list, the ring-full or the bounce backlog */
    vfo_bounce *bounce;           /* the frame was copied here (else NULL) */
    struct vfo_adapter *ad;
    PNET_BUFFER_LIST nbl;
    PNET_BUFFER nb;
    PSCATTER_GATHER_LIST sgl; /* NULL for copied small frames */
    UCHAR *sgl_buf;
    ULONG len;
    UCHAR cast; /* VFO_CAST_*, for the counters */
    uint16_t nseg;
    vnet_tx_offload off;
    vnet_tx_seg segs[VNET_TX_MAX_SEGS];
    UCHAR copy[VNET_TX_COPY_MAX]; /* small frames gathered here when not contiguous */
} vfo_tx_req;

/* Per-NBL bookkeeping of the virtio TX path, in MiniportReserved (we own
 * NBLs while they are in our miniport). */
typedef struct vfo_tx_nbl {
    PNET_BUFFER next_nb; /* next NB to submit; NULL when all are submitted */
    LONG pending;        /* NBs submitted and not completed, +1 while submitting */
} vfo_tx_nbl;

/* Counters shown by the control device (struct vfo_ctl_counters), updated
 * with interlocked adds on any CPU. */
typedef struct vfo_counters {
    LONG64 attaches, detaches, to_primary, to_standby;
    LONG64 tx_primary, tx_standby, rx_primary, rx_standby;
    LONG64 resent, replay_failures, refusals, announces;
    LONG64 tx_dropped, rx_dropped, bad_oids;
    LONG64 tx_bounced; /* frames copied into a bounce buffer (too many DMA segments) */
    /* malformed rings, by what lib/virtio found (vfo_note_ring_error) */
    LONG64 used_id_range, used_id_not_in_flight, used_len, used_idx_jump;
    LONG64 device_resets; /* recoveries (reset_work) */
} vfo_counters;

typedef struct vfo_refused {
    struct vfo_ctl_ifid id;
    uint32_t reason; /* enum vfo_ctl_refusal_reason */
    uint32_t count;
} vfo_refused;

struct vfo_adapter {
    LIST_ENTRY entry; /* g_vfo.adapters */
    NDIS_HANDLE handle;
    vfo_config cfg;
    fo_pair pair;
    bool registered;      /* pair is in the registry */
    fo_state shown_state; /* what the control device last reported */
    uint32_t shown_flags;
    uint64_t attach_counted; /* the engine's attach number last counted */

    /* identity */
    UCHAR perm_mac[6], cur_mac[6];
    NET_LUID luid;
    NET_IFINDEX if_index;
    struct vfo_ctl_guid guid;

    /* device */
    vfo_os os;
    vnet *vn;
    NDIS_HANDLE intr;
    bool msix;
    ULONG sgl_size;
    vnet_link_info link;
    NDIS_SPIN_LOCK tx_lock, rx_lock, ctrl_lock;
    /* Held around NdisMAllocateNetBufferSGList only: it must be called at
     * DISPATCH_LEVEL and a send may arrive at PASSIVE_LEVEL; acquiring a
     * spin lock is the portable way to raise (KeRaiseIrql is an inline of
     * the x64 WDK, not a kernel export). */
    NDIS_SPIN_LOCK sg_lock;
    NDIS_HANDLE ctrl_timer; /* ages control commands, polls config without MSI-X */
    bool ctrl_timer_armed;
    bool ctrl_stopped;     /* ctrl_lock: halting, the tick is never armed again */
    ULONG filter_inflight; /* receive filter commands the device has not answered */
    bool filter_dirty;     /* the filter changed since they were submitted */
    bool surprise_removed;
    LONG halting;      /* MiniportHaltEx began: no new device recovery (vfo_get/vfo_set) */
    bool resetting;    /* the paths' gate: lib/vnet is exclusive to a start or stop (all 3 locks) */
    LONG device_owner; /* PASSIVE: one of reset, power, removal, halt stops or starts the device */
    PNET_BUFFER_LIST rx_deferred; /* rx_lock: returns that came while the gate was closed */
    LONG isr_bits;                /* INTx: ISR status bits for the DPC */
    LONG needs_reset;             /* DEVICE_NEEDS_RESET or a broken queue: recover at PASSIVE */
    NDIS_HANDLE reset_work;
    /* vfo_tx_watchdog (tx_lock): transmit completions at the last hang
     * check, and how many checks in a row saw frames in flight and none. */
    uint64_t tx_watch_completed;
    ULONG tx_watch_idle;

    /* upper edge */
    LONG state;       /* vfo_mp_state (vfo_get/vfo_set: the datapath reads it on any CPU) */
    LONG low_power;   /* D1-D3: written by the device owner, read on any CPU (vfo_get/vfo_set) */
    LONG device_dead; /* the last restart failed: virtio stays stopped until one works (likewise) */
    vfo_pend pause_pend;
    LONG pause_completing;
    LONG upper_drained_primary; /* the engine's share of the pause is done (vfo_get/vfo_set) */
    LONG virtio_out;            /* NBLs in the virtio TX path + virtio RX NBLs lent up */
    /* NDIS's reset of this miniport (MpResetEx): the upper stack's sends
     * in vfo, MiniportSendNetBufferLists to their completion, and whether
     * a reset waits for them (vfo_get/vfo_set; mp_tx.c). */
    LONG upper_tx_out;
    LONG ndis_resetting;
    ULONG mtu;
    ULONG packet_filter;
    ULONG lookahead;
    UCHAR mcast[VFO_MAX_MCAST][6];
    ULONG mcast_count;
    fo_offload offload_req; /* what the upper stack asked for */
    fo_offload offload_now; /* what it was last told */

    /* addresses for announcements (OID_GEN_NETWORK_LAYER_ADDRESSES) */
    UCHAR ipv4[VFO_MAX_ADDRS][4];
    UCHAR ipv6[VFO_MAX_ADDRS][16];
    ULONG n_ipv4, n_ipv6;

    /* virtio TX */
    vfo_tx_req *tx_reqs;
    vfo_tx_req *tx_free;
    ULONG tx_nreq;
    UCHAR *tx_sgl_mem;
    PNET_BUFFER_LIST tx_head, tx_tail; /* NBLs waiting for ring space */
    vfo_tx_req *tx_backlog;            /* frames that found the ring full, in order */
    vfo_tx_req **tx_backlog_tail;
    vfo_bounce tx_bounce[VFO_BOUNCE_COUNT];
    vfo_bounce *tx_bounce_free;
    vfo_tx_req *tx_bounce_wait; /* frames waiting for a bounce buffer, in order */
    vfo_tx_req **tx_bounce_wait_tail;
    PNET_BUFFER_LIST tx_done_head; /* completed under tx_lock, reported after */
    PNET_BUFFER_LIST *tx_done_tail;
    LONG64 sb_ctr[FO_STAT_COUNT]; /* virtio's interface counters (fo_stat) */

    /* virtio RX */
    NDIS_HANDLE rx_pool;
    NDIS_HANDLE own_pool; /* our own frames (announcements) */

    /* the primary */
    vfo_binding *bind;

    /* the engine's actions, executed in order outside the lock */
    struct {
        fo_action q[VFO_ACTION_RING];
        ULONG head, len;
        bool running;
        bool work_queued;
        ULONG overflows;
    } aq;
    NDIS_HANDLE action_work;
    DECLSPEC_ALIGN(8) UCHAR replay_payload[VFO_OID_BUF];
    NDIS_HANDLE announce_timer;
    uint32_t timer_token;
    ULONGLONG timer_due_ms; /* system up time the armed expiry is due at (g_vfo.lock) */
    NDIS_EVENT released;    /* STANDBY_RELEASED: MiniportHaltEx may finish */
    vfo_work_track work;    /* work items queued and not yet run (g_vfo.lock) */

    vfo_counters ctr;
    vfo_refused refused[VFO_CTL_MAX_REFUSALS];
    ULONG n_refused;
};

/* ------------------------------------------------------------------------ */
/* Driver-wide state                                                         */

typedef struct vfo_globals {
    NDIS_HANDLE mp_driver;
    NDIS_HANDLE protocol;
    NDIS_HANDLE ctl_handle;
    PDEVICE_OBJECT ctl_device;
    NDIS_SPIN_LOCK lock;
    fo_registry reg;
    LIST_ENTRY adapters;
    LIST_ENTRY bindings;
    ULONG n_adapters;
    LONG64 generation;
    LONG64 bad_requests;
    LONG64 unmatched_binds;
    PIRP waiters[VFO_CTL_MAX_WAITERS];
} vfo_globals;

/* A callback whose contract says "called with this lock held" states it:
 * under ndisemu the verifier checks it (rule LockContract); the Windows
 * build has no such check (and no such import). */
#ifdef VFO_NDISEMU
#include "ndisemu/emu_checks.h"
#define VFO_ASSERT_HELD(lock, contract) EmuCheckSpinLockHeld((lock), (contract))
#else
#define VFO_ASSERT_HELD(lock, contract) ((void)0)
#endif

extern vfo_globals g_vfo;

static inline void vfo_lock(void)
{
    NdisAcquireSpinLock(&g_vfo.lock);
}

static inline void vfo_unlock(void)
{
    NdisReleaseSpinLock(&g_vfo.lock);
}

static inline void vfo_count(LONG64 *c, LONG64 n)
{
    InterlockedExchangeAdd64((LONG64 volatile *)c, n);
}

/* A counter vfo_count adds to on other CPUs (a plain read races them):
 * every read of one goes through here. The compare-exchange of 0 with 0
 * writes nothing unless the counter is 0 (and then the same 0); the
 * counters are never const objects, so the cast only serves const readers. */
static inline uint64_t vfo_count_get(const LONG64 *c)
{
    return (uint64_t)InterlockedCompareExchange64((LONG64 volatile *)(ULONG_PTR)c, 0, 0);
}

/* ---- glue.c: engine events and actions ---- */
/* A glue-only entry of the action ring, never emitted by lib/failover: feed
 * NetEventRestart to the engine from the action work item, i.e. only after
 * the restart handler returned and NDIS runs the binding (a protocol may
 * send only then, and going ACTIVE sends announcements at once). */
#define VFO_ACT_PRIMARY_RESTART ((fo_action_kind)0x100)
void vfo_queue_primary_restart_locked(vfo_adapter *ad);
/* What a caller knows of its IRQL. Inside a callback whose flags say
 * whether it runs at DISPATCH_LEVEL (send, send complete, receive, return)
 * the driver must not test the IRQL (Flags_Irql): the flag is what it
 * knows, and a clear flag says only "not known to be DISPATCH_LEVEL", not
 * PASSIVE_LEVEL. Elsewhere the caller may ask KeGetCurrentIrql. */
typedef enum vfo_irql {
    VFO_IRQL_ASK,          /* not in a flagged callback: KeGetCurrentIrql tells */
    VFO_IRQL_DISPATCH,     /* the flags say DISPATCH_LEVEL */
    VFO_IRQL_NOT_DISPATCH, /* the flags do not: at most DISPATCH, maybe above PASSIVE */
} vfo_irql;
static inline vfo_irql vfo_irql_from_flag(bool dispatch)
{
    return dispatch ? VFO_IRQL_DISPATCH : VFO_IRQL_NOT_DISPATCH;
}
/* Under g_vfo.lock after an engine call: queues its actions, bumps the
 * control device's generation when what it shows changed, unlocks, runs the
 * actions. `r` and `what` go to the trace when the event was refused. */
void vfo_event_end(vfo_adapter *ad, fo_reason r, const char *what);
/* The same from a flagged callback: `at` from its flags. */
void vfo_event_end_at(vfo_adapter *ad, fo_reason r, const char *what, vfo_irql at);
/* Runs queued actions (no lock held). Defers to a work item when an action
 * needs PASSIVE_LEVEL and the caller is not known to be there. */
void vfo_run_actions(vfo_adapter *ad);
/* The fast path reported a drained gate (`at`: as vfo_event_end_at). */
void vfo_drained(vfo_adapter *ad, vfo_irql at);
void vfo_generation_bump_locked(void);
bool vfo_glue_init(vfo_adapter *ad);
void vfo_glue_free(vfo_adapter *ad);
/* Work items in flight for the adapter (halt waits for none to be left). */
void vfo_work_begin(vfo_adapter *ad);
void vfo_work_end(vfo_adapter *ad);

/* ---- pt_bind.c / pt_events.c / pt_data.c: the protocol edge ---- */
NDIS_STATUS vfo_protocol_register(NDIS_HANDLE driver_ctx);
vfo_adapter *vfo_binding_pair_locked(vfo_binding *b);
void vfo_binding_removed(vfo_binding *b, vfo_irql at);
bool vfo_primary_wrap(PNET_BUFFER_LIST nbl, NDIS_HANDLE source);
void vfo_primary_unwrap(PNET_BUFFER_LIST nbl);
void vfo_binding_open_done(vfo_binding *b);
void vfo_binding_close(vfo_binding *b); /* CLOSE_PRIMARY (PASSIVE) */
void vfo_binding_complete_bind(vfo_binding *b, fo_reason reason);
void vfo_binding_complete_unbind(vfo_binding *b);
void vfo_binding_orphan(vfo_adapter *ad, vfo_binding *b);
void vfo_binding_replay(vfo_adapter *ad, vfo_binding *b, const fo_action *a);
void vfo_binding_query_stats(vfo_binding *b);
void vfo_adapter_sample_primary(vfo_adapter *ad);
void vfo_binding_complete_pause(vfo_binding *b);
void vfo_binding_complete_power(vfo_binding *b);
void vfo_binding_oid(vfo_binding *b, vfo_oid_slot *s, NDIS_REQUEST_TYPE type, NDIS_OID oid,
                     ULONG len);
void vfo_binding_oid_issue(vfo_binding *b, vfo_oid_slot *s, NDIS_REQUEST_TYPE type, NDIS_OID oid,
                           ULONG len);
void vfo_binding_oid_done(vfo_binding *b, vfo_oid_slot *s, NDIS_STATUS status);
void vfo_binding_replay_done(vfo_binding *b, vfo_oid_slot *s, NDIS_STATUS status);
void vfo_binding_stats_done(vfo_binding *b, vfo_oid_slot *s, NDIS_STATUS status);
PROTOCOL_BIND_ADAPTER_EX PtBindAdapterEx;
PROTOCOL_UNBIND_ADAPTER_EX PtUnbindAdapterEx;
PROTOCOL_OPEN_ADAPTER_COMPLETE_EX PtOpenAdapterCompleteEx;
PROTOCOL_CLOSE_ADAPTER_COMPLETE_EX PtCloseAdapterCompleteEx;
PROTOCOL_NET_PNP_EVENT PtNetPnPEvent;
PROTOCOL_OID_REQUEST_COMPLETE PtOidRequestComplete;
PROTOCOL_STATUS_EX PtStatusEx;
PROTOCOL_RECEIVE_NET_BUFFER_LISTS PtReceiveNetBufferLists;
PROTOCOL_SEND_NET_BUFFER_LISTS_COMPLETE PtSendNetBufferListsComplete;

/* ---- the miniport edge ---- */
NDIS_STATUS vfo_miniport_register(PDRIVER_OBJECT drv, PUNICODE_STRING reg_path);
MINIPORT_UNLOAD MpDriverUnload;
extern const NDIS_OID vfo_supported_oids[];
extern const ULONG vfo_supported_oids_size;
MINIPORT_INITIALIZE MpInitializeEx;
MINIPORT_HALT MpHaltEx;
MINIPORT_PAUSE MpPause;
MINIPORT_RESTART MpRestart;
MINIPORT_SHUTDOWN MpShutdownEx;
MINIPORT_DEVICE_PNP_EVENT_NOTIFY MpDevicePnPEventNotify;
MINIPORT_CHECK_FOR_HANG MpCheckForHangEx;
MINIPORT_RESET MpResetEx;
MINIPORT_OID_REQUEST MpOidRequest;
MINIPORT_CANCEL_OID_REQUEST MpCancelOidRequest;
MINIPORT_SEND_NET_BUFFER_LISTS MpSendNetBufferLists;
MINIPORT_CANCEL_SEND MpCancelSend;
MINIPORT_RETURN_NET_BUFFER_LISTS MpReturnNetBufferLists;

/* A state or flag that other CPUs read without the lock that orders its
 * writers: full-barrier accesses. With plain ones a writer's store may be
 * passed by its next load (x64 reorders a store before a later load):
 * MpPause stores PAUSING and then reads virtio_out while a completion
 * decrements virtio_out and then reads the state; both could miss the
 * other and the pause would never complete. */
static inline LONG vfo_get(LONG volatile *p)
{
    return InterlockedCompareExchange(p, 0, 0);
}
static inline void vfo_set(LONG volatile *p, LONG v)
{
    InterlockedExchange(p, v);
}

/* mp_state.c */
void vfo_pause_check(vfo_adapter *ad); /* completes a pending MiniportPause when drained */
void vfo_upper_pause_done(vfo_adapter *ad);
void vfo_virtio_put(vfo_adapter *ad, LONG n);
static inline void vfo_virtio_get(vfo_adapter *ad, LONG n)
{
    InterlockedExchangeAdd(&ad->virtio_out, n);
}
void vfo_set_power(vfo_adapter *ad, NDIS_DEVICE_POWER_STATE d);
ULONG64 vfo_link_speed_bps(const vfo_adapter *ad);
void vfo_link_state_fill(fo_link link, NDIS_LINK_STATE *ls);
void vfo_indicate_status(vfo_adapter *ad, NDIS_STATUS code, PVOID buf, ULONG len);
void vfo_indicate_link(vfo_adapter *ad, fo_link link);
void vfo_indicate_offload(vfo_adapter *ad, const fo_offload *o);
void vfo_request_reset(vfo_adapter *ad);
/* A queue reported malformed completions (VNET_E_BROKEN): says which and
 * counts it, before vfo_request_reset. */
void vfo_note_ring_error(vfo_adapter *ad, const char *queue);

/* mp_intr.c */
NDIS_STATUS vfo_intr_register(vfo_adapter *ad);
void vfo_intr_deregister(vfo_adapter *ad);
void vfo_config_changed(vfo_adapter *ad);
void vfo_ctrl_tick_start(vfo_adapter *ad);

/* mp_tx.c */
bool vfo_tx_init(vfo_adapter *ad);
void vfo_tx_free(vfo_adapter *ad);
void vfo_tx_standby(vfo_adapter *ad, PNET_BUFFER_LIST nbls, bool at_dispatch);
void vfo_tx_done_cb(void *ctx, void *cookie, vnet_status status);
void vfo_tx_resume_cb(void *ctx);
void vfo_tx_reap(vfo_adapter *ad);
/* at_dispatch: the caller knows it runs at DISPATCH_LEVEL (a DPC, a flag);
 * the completions up carry NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL then. */
void vfo_tx_kick_queue(vfo_adapter *ad, bool at_dispatch);
void vfo_tx_complete_done(vfo_adapter *ad, bool at_dispatch);
MINIPORT_PROCESS_SG_LIST vfo_tx_process_sgl;
void vfo_tx_fail_queued(vfo_adapter *ad, NDIS_STATUS status, bool at_dispatch);
void vfo_tx_complete_up(vfo_adapter *ad, PNET_BUFFER_LIST nbls, bool at_dispatch);
/* MpResetEx: from now on new sends fail (NDIS_STATUS_RESET_IN_PROGRESS).
 * True when vfo held no send, so the reset is complete; false when the
 * last of them to come back completes it (NdisMResetComplete). */
bool vfo_tx_reset_begin(vfo_adapter *ad);
void vfo_tx_watchdog(vfo_adapter *ad);

/* mp_rx.c */
bool vfo_rx_init(vfo_adapter *ad);
void vfo_rx_free(vfo_adapter *ad);
bool vfo_rx_poll(vfo_adapter *ad, ULONG max_nbls);
void vfo_rx_schedule(vfo_adapter *ad); /* mp_intr.c */
void vfo_rx_from_primary(vfo_adapter *ad, vfo_binding *b, PNET_BUFFER_LIST nbls, ULONG n,
                         ULONG flags);
void vfo_rx_brief_from_primary(vfo_adapter *ad, vfo_binding *b, PNET_BUFFER_LIST nbls, ULONG n,
                               ULONG flags);

/* offload.c */
void vfo_offload_from_ndis(const NDIS_OFFLOAD *in, fo_offload *out);
void vfo_offload_to_ndis(const fo_offload *in, NDIS_OFFLOAD *out);
void vfo_offload_params_to_ndis(const fo_offload *in, NDIS_OFFLOAD_PARAMETERS *out);
NDIS_STATUS vfo_offload_params_apply(const NDIS_OFFLOAD_PARAMETERS *p, ULONG len,
                                     const fo_offload *caps, fo_offload *req);
void vfo_standby_caps(const vfo_adapter *ad, fo_caps *caps);
/* The offloads one NBL asks for, and how virtio must do them. False: the
 * request is malformed (the NBL is failed). */
bool vfo_tx_meta(PNET_BUFFER_LIST nbl, fo_tx_meta *meta);
/* hdr_buf (VNET_TX_COPY_MAX bytes): where a large send's fixed headers go.
 * NDIS_STATUS_INVALID_PACKET: the request or the headers are malformed;
 * NDIS_STATUS_RESOURCES: the headers could not be mapped (NdisGetDataBuffer
 * returns NULL under low resources). */
NDIS_STATUS vfo_tx_virtio_offload(PNET_BUFFER_LIST nbl, PNET_BUFFER nb, vnet_tx_offload *off,
                                  UCHAR *hdr_buf);
void vfo_tx_lso_complete(PNET_BUFFER_LIST nbl);
PVOID vfo_rx_csum_info(const vfo_adapter *ad, const UCHAR *frame, ULONG len, uint32_t vflags);

/* stats.c */
void vfo_counters_from_ndis(const NDIS_STATISTICS_INFO *in, fo_counters *out);
void vfo_counters_to_ndis(const fo_counters *in, NDIS_STATISTICS_INFO *out);
UCHAR vfo_frame_cast(const UCHAR *dst_mac);
void vfo_count_frame(LONG64 *ctr, UCHAR cast, ULONG len, bool rx);
void vfo_stats_total(vfo_adapter *ad, fo_counters *out);

/* mp_oid.c, mp_oid_set.c */
NDIS_STATUS vfo_oid_query(vfo_adapter *ad, PNDIS_OID_REQUEST r);
NDIS_STATUS vfo_oid_set(vfo_adapter *ad, PNDIS_OID_REQUEST r);
void vfo_rx_filter_apply(vfo_adapter *ad);
void vfo_rx_filter_retry(vfo_adapter *ad);

/* announce.c */
void vfo_announce_send(vfo_adapter *ad, fo_path path, bool at_dispatch);
bool vfo_announce_init(vfo_adapter *ad);
void vfo_announce_free(vfo_adapter *ad);
bool vfo_own_nbl_done(const vfo_adapter *ad, PNET_BUFFER_LIST nbl);

/* ctl.c */
void vfo_device_stop(vfo_adapter *ad);    /* PASSIVE: reset + every path detached under its lock */
void vfo_device_acquire(vfo_adapter *ad); /* PASSIVE: one device stop/start at a time */
void vfo_mark_surprise_removed(vfo_adapter *ad); /* under every path's lock */
bool vfo_surprise_removed(vfo_adapter *ad);
void vfo_device_release(vfo_adapter *ad);
void vfo_rx_return_deferred_locked(vfo_adapter *ad); /* rx_lock held, gate open */
void vfo_ctl_adapter_up(void);   /* PASSIVE: an adapter initialized (first: register) */
void vfo_ctl_adapter_down(void); /* PASSIVE: an adapter halted (last: deregister) */
void vfo_ctl_unload(void);
void vfo_ctl_wake_locked(void); /* g_vfo.lock held: generation changed */
void vfo_ctl_flush(void);       /* no lock held: completes the woken waits */
void vfo_refusal_record_locked(vfo_adapter *ad, const vfo_binding *b, fo_reason why);
void vfo_refusal_forget_locked(vfo_adapter *ad, const UCHAR mac[6]);
uint32_t vfo_ctl_reason(fo_reason r);

/* os_ndis.c */
extern const vio_os_ops vfo_vio_ops;
NDIS_STATUS vfo_os_init(vfo_adapter *ad, PNDIS_RESOURCE_LIST res);
void vfo_os_free(vfo_adapter *ad);

/* util.c */
void vfo_guid_from_name(const NDIS_STRING *name, struct vfo_ctl_guid *out);
bool vfo_guid_parse(const WCHAR *s, USHORT chars, struct vfo_ctl_guid *out);
PVOID vfo_alloc(NDIS_HANDLE h, SIZE_T size, ULONG tag);
void vfo_free(NDIS_HANDLE h, PVOID p, ULONG tag);
PVOID vfo_shared_alloc(NDIS_HANDLE miniport, ULONG len, PNDIS_PHYSICAL_ADDRESS pa);
bool vfo_run_passive(NDIS_HANDLE work, NDIS_IO_WORKITEM_ROUTINE fn, PVOID ctx);
NDIS_HANDLE vfo_nbl_pool(NDIS_HANDLE h, ULONG tag, ULONG data_size);
bool vfo_timer_alloc(NDIS_HANDLE h, PNDIS_TIMER_FUNCTION fn, PVOID ctx, NDIS_HANDLE *out);

/* Appends one NBL to a chain being built (tail points at the last Next). */
static inline void vfo_nbl_append(PNET_BUFFER_LIST **tail, PNET_BUFFER_LIST nbl)
{
    **tail = nbl;
    *tail = &NET_BUFFER_LIST_NEXT_NBL(nbl);
}

#endif /* VFO_H */
