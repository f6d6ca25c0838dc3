/*
 * fo_reason.h - why the failover engine refused, failed or is not using the
 * primary. Every refusal and failure in lib/failover carries one of these;
 * fo_reason_name() gives a stable string for logs, the control device and
 * the binding service.
 */
#ifndef FO_REASON_H
#define FO_REASON_H

typedef enum fo_reason {
    FO_R_OK = 0,

    /* Pairing refusals (fo_bind_candidate). */
    FO_R_INVALID_ARGUMENT,       /* NULL or malformed description */
    FO_R_FAILOVER_DISABLED,      /* the standby's configuration turns failover off */
    FO_R_IS_VFO_ADAPTER,         /* the candidate is one of vfo's own adapters */
    FO_R_NOT_ETHERNET,           /* the candidate's medium is not 802.3 */
    FO_R_NO_MATCHING_STANDBY,    /* no standby has the candidate's MAC */
    FO_R_AMBIGUOUS_STANDBY,      /* several standbys carry the candidate's MAC */
    FO_R_STANDBY_NOT_NEGOTIATED, /* the standby did not negotiate VIRTIO_NET_F_STANDBY */
    FO_R_MTU_MISMATCH,           /* the MTUs are incompatible under the MTU policy */
    FO_R_STANDBY_HAS_PRIMARY,    /* one primary per standby: a second one is refused */
    FO_R_STANDBY_HALTING,        /* the standby is going away */

    /* Why a present primary is not carrying traffic (fo_pair_info.why). */
    FO_R_NO_PRIMARY,
    FO_R_OPENING,
    FO_R_OPEN_FAILED,
    FO_R_REPLAY_IN_PROGRESS,
    FO_R_REPLAY_REJECTED, /* the primary refused a required setting */
    FO_R_PRIMARY_PAUSED,
    FO_R_PRIMARY_LINK_DOWN,
    FO_R_PRIMARY_RESET,
    FO_R_PRIMARY_REMOVING, /* query-remove received */
    FO_R_PRIMARY_SURPRISE_REMOVED,
    FO_R_PRIMARY_LOW_POWER,
    FO_R_STANDBY_LOW_POWER,
    FO_R_DETACHING,

    /* Bad input and API misuse: refused, counted, nothing changes. */
    FO_R_BAD_STATE,            /* the event is not valid in the pair's current state */
    FO_R_STALE_COMPLETION,     /* a completion for a request that is no longer outstanding */
    FO_R_INVALID_SETTING,      /* a setting value failed validation */
    FO_R_SETTING_TOO_LARGE,    /* a setting does not fit the engine's store */
    FO_R_ACTION_QUEUE_FULL,    /* the glue did not drain actions after an event */
    FO_R_REFCOUNT_UNDERFLOW,   /* more references released than were taken */
    FO_R_ADVISORY_UNSUPPORTED, /* the primary lacks a non-essential setting (note only) */

    FO_R_COUNT
} fo_reason;

/* Stable lower-case identifier, e.g. "mtu_mismatch"; "unknown" when out of range. */
const char *fo_reason_name(fo_reason r);

#endif /* FO_REASON_H */
