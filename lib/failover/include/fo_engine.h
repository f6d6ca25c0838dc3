/*
 * fo_engine.h - the failover engine: pairing, per-pair state machine, OID
 * replay, capability intersection, link and statistics merge, and the
 * per-packet path decisions. docs/failover.md describes the whole protocol.
 *
 * Model: the glue (vfo.sys) turns NDIS callbacks into events (fo_standby_*,
 * fo_upper_*, fo_primary_*, fo_record_setting, fo_on_timer, ...) and executes
 * the actions the engine queues in response (fo_take_actions). The engine has
 * no threads, no clock and never calls out.
 *
 * Concurrency contract:
 *  - control functions (everything except the "fast path" section) for all
 *    pairs of one registry are serialized by the caller, e.g. under one lock;
 *    after every event the glue drains the action queue (fo_take_actions) and
 *    executes the actions in order, outside its lock if it wants;
 *  - fast-path functions (fo_select_tx, fo_tx_resend, fo_rx_accept,
 *    fo_primary_release) may run on any CPU at any time between
 *    fo_pair_init() and fo_registry_remove(), concurrently with each other and
 *    with control functions. They never block and never queue actions; when
 *    fo_primary_release() returns true, the glue calls fo_on_drained() on the
 *    control path (from a DPC or work item, under its lock).
 */
#ifndef FO_ENGINE_H
#define FO_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fo_caps.h"
#include "fo_reason.h"
#include "fo_rundown.h"
#include "fo_settings.h"
#include "fo_stats.h"
#include "vfo_osdep.h"

#define FO_MAC_LEN       6
#define FO_ANNOUNCE_MAX  8
#define FO_ACTION_QUEUE  32
#define FO_REFUSALS_KEPT 8

/* ------------------------------------------------------------------------ */
/* Descriptions and configuration                                           */

typedef enum fo_media {
    FO_MEDIA_ETHERNET = 0, /* NdisMedium802_3 */
    FO_MEDIA_OTHER
} fo_media;

typedef struct fo_link {
    bool up;
    uint64_t speed_bps; /* 0 = unknown */
} fo_link;

/* The virtio adapter of a pair (the vfo miniport). */
typedef struct fo_standby_desc {
    uint8_t mac[FO_MAC_LEN]; /* the device's MAC, the one QEMU pairs the VF by */
    uint64_t net_luid;       /* the vfo miniport's NET_LUID, to refuse binding to ourselves */
    uint32_t mtu;            /* payload MTU the upper stack sees */
    bool standby_negotiated; /* VIRTIO_NET_F_STANDBY was acknowledged */
    fo_caps caps;            /* what virtio can do (after registry keywords) */
    fo_link link;
} fo_standby_desc;

/* A bind candidate (built from NDIS_BIND_PARAMETERS). */
typedef struct fo_adapter_desc {
    uint8_t permanent_mac[FO_MAC_LEN];
    uint8_t current_mac[FO_MAC_LEN];
    uint64_t net_luid;
    fo_media media;
    uint32_t mtu;
    bool is_vfo; /* the glue knows this adapter is one of ours */
    fo_caps caps;
    fo_link link;
} fo_adapter_desc;

typedef enum fo_mtu_policy {
    FO_MTU_EQUAL = 0,        /* pair only when the MTUs are equal */
    FO_MTU_PRIMARY_AT_LEAST, /* the primary may have a larger MTU; the upper stack keeps the standby's */
} fo_mtu_policy;

typedef struct fo_config {
    bool enabled;                 /* the "Failover" registry switch */
    bool require_standby_feature; /* pair only when STANDBY was negotiated */
    bool match_current_mac;       /* also pair on the candidate's current MAC */
    fo_mtu_policy mtu_policy;
    bool reindicate_offloads; /* narrow the indicated offload config while on the primary */
    uint8_t announce_count;   /* frames per announce train, 0..FO_ANNOUNCE_MAX */
    uint16_t announce_offset_ms[FO_ANNOUNCE_MAX]; /* from the trigger, non-decreasing */
} fo_config;

/* enabled, STANDBY required, permanent MAC only, equal MTU, re-indicate
 * offloads, 3 announce frames at 0, 50 and 150 ms. */
void fo_config_default(fo_config *cfg);

/* ------------------------------------------------------------------------ */
/* States, actions                                                          */

typedef enum fo_state {
    FO_ABSENT = 0,
    FO_OPENING,
    FO_REPLAYING,
    FO_ACTIVE,
    FO_STANDBY_ONLY,
    FO_DETACHING,
} fo_state;

const char *fo_state_name(fo_state s);

typedef enum fo_path {
    FO_PATH_STANDBY = 0,
    FO_PATH_PRIMARY = 1,
} fo_path;

/* Result of a primary OID request (replay step), mapped from NDIS_STATUS. */
typedef enum fo_oid_status {
    FO_OID_OK = 0,
    FO_OID_NOT_SUPPORTED, /* NDIS_STATUS_NOT_SUPPORTED / INVALID_OID */
    FO_OID_INVALID,       /* INVALID_DATA / INVALID_LENGTH / BUFFER_TOO_SHORT */
    FO_OID_FAILED,        /* anything else the primary refused */
    FO_OID_ABORTED,       /* the request did not run: reset, pause, removal; retried later */
} fo_oid_status;

typedef enum fo_action_kind {
    FO_ACT_OPEN_PRIMARY = 1,       /* NdisOpenAdapterEx; answer with fo_primary_open_complete() */
    FO_ACT_COMPLETE_BIND,          /* .reason: finish ProtocolBindAdapterEx (OK or why not) */
    FO_ACT_REPLAY,                 /* .replay: send this setting to the primary; payload from
                                 fo_replay_payload(); answer with fo_primary_replay_complete() */
    FO_ACT_TX_PATH,                /* .path: TX moved (already in effect for fo_select_tx) */
    FO_ACT_INDICATE_LINK,          /* .link: NDIS_STATUS_LINK_STATE up the vfo miniport */
    FO_ACT_INDICATE_OFFLOAD,       /* .offload: NDIS_STATUS_TASK_OFFLOAD_CURRENT_CONFIG */
    FO_ACT_SEND_ANNOUNCE,          /* .announce: one gratuitous ARP / unsolicited NA on .path */
    FO_ACT_ARM_TIMER,              /* .timer: (re)arm the pair's one-shot timer; on expiry call
                                 fo_on_timer(.token) */
    FO_ACT_START_DRAIN,            /* .refs: gate closed with references out; wait for
                                 fo_primary_release() to report drained */
    FO_ACT_COMPLETE_PRIMARY_PAUSE, /* NdisCompleteNetPnPEvent for the binding's pause */
    FO_ACT_COMPLETE_PRIMARY_POWER, /* ... for the binding's set-power to low power */
    FO_ACT_COMPLETE_UPPER_PAUSE,   /* the primary's share of MiniportPause is drained */
    FO_ACT_QUERY_PRIMARY_STATS,    /* query OID_GEN_STATISTICS; feed fo_stats_sample() */
    FO_ACT_REQUEST_UNBIND,         /* NdisUnbindAdapter: the engine wants the primary gone */
    FO_ACT_CLOSE_PRIMARY,          /* NdisCloseAdapterEx; answer with fo_primary_close_complete() */
    FO_ACT_COMPLETE_UNBIND,        /* finish ProtocolUnbindAdapterEx */
    FO_ACT_STANDBY_RELEASED,       /* no primary is left: MiniportHalt may finish */
    FO_ACT_REPORT,                 /* .report: a refusal or failure worth a log line */
    FO_ACT_REENUMERATE_BINDINGS,   /* NdisReEnumerateProtocolBindings: a candidate refused
                                    earlier for this standby may pair now */
} fo_action_kind;

const char *fo_action_name(fo_action_kind k);

typedef struct fo_action {
    fo_action_kind kind;
    union {
        fo_reason reason; /* COMPLETE_BIND */
        struct {
            fo_setting setting;
            uint32_t token;
        } replay;
        fo_path path; /* TX_PATH */
        fo_link link;
        fo_offload offload;
        struct {
            fo_path path;
            uint8_t index; /* 0-based frame of the train */
            uint8_t count;
        } announce;
        struct {
            uint32_t delay_ms;
            uint32_t token;
        } timer;
        uint32_t refs; /* START_DRAIN */
        struct {
            fo_reason reason;
            fo_setting setting; /* FO_SET_NONE when not about a setting */
        } report;
    } u;
} fo_action;

/* ------------------------------------------------------------------------ */
/* The pair. Embedded in the vfo miniport's adapter context; all fields are   */
/* private to lib/failover (tests and glue use the functions below).         */

typedef struct fo_registry fo_registry;

typedef struct fo_pair {
    /* Fast path: read by every packet. */
    fo_rundown rd;
    vfo_atomic32 tx_ofl_flags; /* offloads the primary does for TX, FO_OFL_TX_MASK bits */
    vfo_atomic32 lso4_max, lso4_min_segs, lso6_max, lso6_min_segs;
    vfo_atomic64 tx_resends;
    vfo_atomic64 tx_offload_fallbacks;
    vfo_atomic64 release_underflows;

    /* Control path. */
    fo_registry *reg;
    struct fo_pair *next;
    fo_config cfg;
    fo_standby_desc standby;
    bool upper_running;
    bool upper_pause_pending;
    bool standby_low_power;
    bool halting;

    fo_state state;
    fo_adapter_desc primary;
    bool bind_running;
    bool in_reset;
    bool removing;
    bool surprise_removed;
    bool primary_low_power;
    bool pause_pending;
    bool power_pending;
    bool drain_announced;
    bool close_issued;
    bool unbind_requested;

    fo_settings settings;
    uint32_t dirty;      /* settings still to send to the primary */
    uint32_t rejected;   /* required settings the primary refused */
    bool replay_done;    /* every present setting reached the primary once */
    fo_setting inflight; /* FO_SET_NONE when no replay OID is outstanding */
    uint32_t inflight_token;
    uint32_t next_token;
    fo_setting last_rejected;
    fo_offload offload_sent; /* the offload step in flight, as decided when issued */

    uint8_t announce_next; /* next frame index of the running train */
    uint8_t announce_left; /* frames still to send */
    uint32_t timer_token;

    fo_path shown_path; /* what TX_PATH last said */
    fo_link shown_link; /* what INDICATE_LINK last said */
    fo_offload shown_offload;
    fo_stats stats;

    fo_action q[FO_ACTION_QUEUE];
    uint32_t q_head, q_len;

    uint64_t n_attach, n_detach, n_replay_rejects, n_advisory_unsupported;
    uint64_t n_bad_events, n_stale, n_invalid_settings, n_queue_full;
    fo_reason last_error;
} fo_pair;

typedef struct fo_refusal {
    uint8_t mac[FO_MAC_LEN]; /* the candidate's permanent MAC */
    fo_reason reason;
    bool retried; /* a re-enumeration was requested for it */
} fo_refusal;

struct fo_registry {
    fo_pair *head;
    fo_refusal refusals[FO_REFUSALS_KEPT]; /* most recent pairing refusals, a ring */
    uint32_t refusal_next;
    uint64_t n_refusals;
};

/* ------------------------------------------------------------------------ */
/* Registry and pairing                                                     */

void fo_registry_init(fo_registry *reg);

/* MiniportInitialize of a vfo adapter: the pair starts with no primary and the
 * upper edge paused (NDIS restarts it). If a candidate with this standby's MAC
 * was refused for lack of a standby (the VF bound first), the pair's queue
 * holds FO_ACT_REENUMERATE_BINDINGS. */
fo_reason fo_pair_init(fo_pair *p, fo_registry *reg, const fo_config *cfg,
                       const fo_standby_desc *standby);

/* After FO_ACT_STANDBY_RELEASED (or when no primary was ever bound). */
fo_reason fo_registry_remove(fo_registry *reg, fo_pair *p);

/* ProtocolBindAdapterEx. Applies the pairing rules against every registered
 * standby; on success *out is the pair (now OPENING, FO_ACT_OPEN_PRIMARY
 * queued) and FO_R_OK is returned; otherwise the reason, also recorded in the
 * registry's refusal ring. */
fo_reason fo_bind_candidate(fo_registry *reg, const fo_adapter_desc *cand, fo_pair **out);

/* The pairing rules for one standby, without side effects. */
fo_reason fo_pair_check(const fo_pair *p, const fo_adapter_desc *cand);

/* The most recent pairing refusals, oldest first (at most FO_REFUSALS_KEPT);
 * returns how many were copied. *total (if not NULL) counts every refusal. */
size_t fo_registry_refusals(const fo_registry *reg, fo_refusal *out, size_t max, uint64_t *total);

/* ------------------------------------------------------------------------ */
/* Events: standby (vfo miniport) side                                      */

fo_reason fo_standby_link(fo_pair *p, fo_link link);
fo_reason fo_standby_announce(fo_pair *p); /* VIRTIO_NET_S_ANNOUNCE (glue acks the device) */
fo_reason fo_standby_set_power(fo_pair *p, bool low_power);
fo_reason fo_standby_halt(fo_pair *p);
fo_reason fo_upper_pause(fo_pair *p);   /* MiniportPause */
fo_reason fo_upper_restart(fo_pair *p); /* MiniportRestart */

/* An OID set the upper stack made on the vfo miniport (already applied to
 * virtio by the glue). Format per fo_settings.h. */
fo_reason fo_record_setting(fo_pair *p, fo_setting s, const void *data, size_t len);

/* ------------------------------------------------------------------------ */
/* Events: primary (VF binding) side                                        */

fo_reason fo_primary_open_complete(fo_pair *p, bool ok);
fo_reason fo_primary_replay_complete(fo_pair *p, uint32_t token, fo_oid_status st);
fo_reason fo_primary_restart(fo_pair *p);            /* NetEventRestart */
fo_reason fo_primary_pause(fo_pair *p);              /* NetEventPause */
fo_reason fo_primary_link(fo_pair *p, fo_link link); /* NDIS_STATUS_LINK_STATE */
fo_reason fo_primary_reset(fo_pair *p, bool start);  /* NDIS_STATUS_RESET_START / _END */
/* The primary's miniport may be asked something (its statistics): bound,
 * and not being reset (from NDIS_STATUS_RESET_START to _END a protocol
 * sends nothing and makes no OID request to it). */
bool fo_primary_may_query(const fo_pair *p);
fo_reason fo_primary_query_remove(fo_pair *p);  /* NetEventQueryRemoveDevice */
fo_reason fo_primary_cancel_remove(fo_pair *p); /* NetEventCancelRemoveDevice */
fo_reason fo_primary_surprise_removed(fo_pair *p);
fo_reason fo_primary_set_power(fo_pair *p, bool low_power); /* NetEventSetPower */
fo_reason fo_primary_unbind(fo_pair *p);                    /* ProtocolUnbindAdapterEx */
fo_reason fo_primary_close_complete(fo_pair *p);

/* The fast path reported the binding drained (fo_primary_release() == true). */
fo_reason fo_on_drained(fo_pair *p);
fo_reason fo_on_timer(fo_pair *p, uint32_t token);

/* A raw counter sample of one path (width 32 or 64 bits). */
fo_reason fo_stats_sample(fo_pair *p, fo_path path, const fo_counters *raw, unsigned width_bits);

/* ------------------------------------------------------------------------ */
/* Actions and queries (control path)                                       */

/* Moves up to max queued actions to out, oldest first; returns how many. */
size_t fo_take_actions(fo_pair *p, fo_action *out, size_t max);

/* The value to send for replay step s, adapted to the primary (offloads
 * intersected with its capabilities, RSS fitted to its hash types and table).
 * FO_R_SETTING_TOO_LARGE when cap is too small (*len says how much is needed). */
fo_reason fo_replay_payload(const fo_pair *p, fo_setting s, void *buf, size_t cap, size_t *len);

/* What the vfo miniport advertises: the standby's capabilities. */
void fo_upper_caps(const fo_pair *p, fo_caps *out);
/* The offload configuration currently in effect for the upper stack. */
void fo_upper_offload(const fo_pair *p, fo_offload *out);
fo_link fo_upper_link(const fo_pair *p);
void fo_upper_stats(const fo_pair *p, fo_counters *out);

typedef struct fo_pair_info {
    fo_state state;
    fo_reason why;     /* why the primary is not carrying TX; FO_R_OK when ACTIVE */
    fo_path tx_path;   /* logical TX path */
    fo_link link;      /* as reported up */
    uint32_t inflight; /* references lent across the edges */
    bool gate_open;    /* the primary's receives may be indicated up */
    bool tx_open;      /* fo_select_tx may choose the primary */
    uint32_t rejected; /* bit per fo_setting */
    fo_setting last_rejected;
    fo_reason last_error;
    uint64_t attaches, detaches, replay_rejects, advisory_unsupported;
    uint64_t bad_events, stale_completions, invalid_settings, queue_full;
    uint64_t tx_resends, tx_offload_fallbacks, release_underflows;
    uint64_t counter_resets; /* primary 64-bit counters seen restarting from zero */
} fo_pair_info;

void fo_pair_get_info(const fo_pair *p, fo_pair_info *out);

/* ------------------------------------------------------------------------ */
/* Fast path                                                                */

typedef enum fo_tx_decision {
    FO_TX_STANDBY = 0,     /* send on virtio */
    FO_TX_PRIMARY,         /* send on the primary; one reference taken: after the
                              completion call fo_primary_release(p, 1) */
    FO_TX_STANDBY_OFFLOAD, /* the primary is active but cannot do what this packet
                              asks: send on virtio, or do the offload in software
                              and ask again with no offloads */
} fo_tx_decision;

/* meta may be NULL for a packet that asks for no offload. */
fo_tx_decision fo_select_tx(fo_pair *p, const fo_tx_meta *meta);

/* Status of a send the primary completed, mapped from NDIS_STATUS. */
typedef enum fo_tx_status {
    FO_TXS_OK = 0,
    FO_TXS_FAILED,             /* generic failure */
    FO_TXS_INVALID_PACKET,     /* the packet itself was refused */
    FO_TXS_PAUSED,             /* NDIS_STATUS_PAUSED */
    FO_TXS_RESET,              /* NDIS_STATUS_RESET_IN_PROGRESS */
    FO_TXS_REMOVED,            /* NDIS_STATUS_ADAPTER_REMOVED */
    FO_TXS_MEDIA_DISCONNECTED, /* NDIS_STATUS_MEDIA_DISCONNECTED */
    FO_TXS_ABORTED,            /* NDIS_STATUS_SEND_ABORTED / REQUEST_ABORTED */
    FO_TXS_RESOURCES,          /* NDIS_STATUS_RESOURCES */
} fo_tx_status;

/* Should this failed primary send be handed to the standby instead of being
 * failed upwards? True for every "the primary is going away or cannot send
 * now" status, and for a generic failure once TX has left the primary. The
 * glue queues the resend on virtio before releasing the reference. */
bool fo_tx_resend(fo_pair *p, fo_tx_status st);

/* ProtocolReceiveNetBufferLists: may these n NBLs be indicated up? True takes
 * n references, released by fo_primary_release() as the upper stack returns
 * them; false: return them to the primary at once. */
bool fo_rx_accept(fo_pair *p, uint32_t n);

/* When fo_rx_accept refused: may these n NBLs go up copied, for the duration
 * of this indication only (NDIS_RECEIVE_FLAGS_RESOURCES), and then back to
 * the primary before ProtocolReceiveNetBufferLists returns? True while the
 * binding is bound and vfo's miniport runs, also while the binding pauses
 * (NDIS still indicates to a pausing binding). True takes n references;
 * release them with fo_primary_release() once the indication returned. */
bool fo_rx_accept_brief(fo_pair *p, uint32_t n);

/* Releases n references taken by fo_select_tx, fo_rx_accept or
 * fo_rx_accept_brief. True when this
 * drained a closed gate: call fo_on_drained() on the control path. */
bool fo_primary_release(fo_pair *p, uint32_t n);

#endif /* FO_ENGINE_H */
