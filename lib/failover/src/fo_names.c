/* String names for every engine enum: logs, the control device, the service. */
#include "fo_engine.h"

#define NAME_OF(table, i) \
    ((size_t)(i) < sizeof(table) / sizeof(table[0]) && table[i] ? table[i] : "unknown")

static const char *const reason_names[FO_R_COUNT] = {
    [FO_R_OK] = "ok",
    [FO_R_INVALID_ARGUMENT] = "invalid_argument",
    [FO_R_FAILOVER_DISABLED] = "failover_disabled",
    [FO_R_IS_VFO_ADAPTER] = "is_vfo_adapter",
    [FO_R_NOT_ETHERNET] = "not_ethernet",
    [FO_R_NO_MATCHING_STANDBY] = "no_matching_standby",
    [FO_R_AMBIGUOUS_STANDBY] = "ambiguous_standby",
    [FO_R_STANDBY_NOT_NEGOTIATED] = "standby_not_negotiated",
    [FO_R_MTU_MISMATCH] = "mtu_mismatch",
    [FO_R_STANDBY_HAS_PRIMARY] = "standby_has_primary",
    [FO_R_STANDBY_HALTING] = "standby_halting",
    [FO_R_NO_PRIMARY] = "no_primary",
    [FO_R_OPENING] = "opening",
    [FO_R_OPEN_FAILED] = "open_failed",
    [FO_R_REPLAY_IN_PROGRESS] = "replay_in_progress",
    [FO_R_REPLAY_REJECTED] = "replay_rejected",
    [FO_R_PRIMARY_PAUSED] = "primary_paused",
    [FO_R_PRIMARY_LINK_DOWN] = "primary_link_down",
    [FO_R_PRIMARY_RESET] = "primary_reset",
    [FO_R_PRIMARY_REMOVING] = "primary_removing",
    [FO_R_PRIMARY_SURPRISE_REMOVED] = "primary_surprise_removed",
    [FO_R_PRIMARY_LOW_POWER] = "primary_low_power",
    [FO_R_STANDBY_LOW_POWER] = "standby_low_power",
    [FO_R_DETACHING] = "detaching",
    [FO_R_BAD_STATE] = "bad_state",
    [FO_R_STALE_COMPLETION] = "stale_completion",
    [FO_R_INVALID_SETTING] = "invalid_setting",
    [FO_R_SETTING_TOO_LARGE] = "setting_too_large",
    [FO_R_ACTION_QUEUE_FULL] = "action_queue_full",
    [FO_R_REFCOUNT_UNDERFLOW] = "refcount_underflow",
    [FO_R_ADVISORY_UNSUPPORTED] = "advisory_unsupported",
};

const char *fo_reason_name(fo_reason r)
{
    return NAME_OF(reason_names, r);
}

static const char *const state_names[] = {
    [FO_ABSENT] = "absent", [FO_OPENING] = "opening",           [FO_REPLAYING] = "replaying",
    [FO_ACTIVE] = "active", [FO_STANDBY_ONLY] = "standby_only", [FO_DETACHING] = "detaching",
};

const char *fo_state_name(fo_state s)
{
    return NAME_OF(state_names, s);
}

static const char *const action_names[] = {
    [FO_ACT_OPEN_PRIMARY] = "open_primary",
    [FO_ACT_COMPLETE_BIND] = "complete_bind",
    [FO_ACT_REPLAY] = "replay",
    [FO_ACT_TX_PATH] = "tx_path",
    [FO_ACT_INDICATE_LINK] = "indicate_link",
    [FO_ACT_INDICATE_OFFLOAD] = "indicate_offload",
    [FO_ACT_SEND_ANNOUNCE] = "send_announce",
    [FO_ACT_ARM_TIMER] = "arm_timer",
    [FO_ACT_START_DRAIN] = "start_drain",
    [FO_ACT_COMPLETE_PRIMARY_PAUSE] = "complete_primary_pause",
    [FO_ACT_COMPLETE_PRIMARY_POWER] = "complete_primary_power",
    [FO_ACT_COMPLETE_UPPER_PAUSE] = "complete_upper_pause",
    [FO_ACT_QUERY_PRIMARY_STATS] = "query_primary_stats",
    [FO_ACT_REQUEST_UNBIND] = "request_unbind",
    [FO_ACT_CLOSE_PRIMARY] = "close_primary",
    [FO_ACT_COMPLETE_UNBIND] = "complete_unbind",
    [FO_ACT_STANDBY_RELEASED] = "standby_released",
    [FO_ACT_REPORT] = "report",
    [FO_ACT_REENUMERATE_BINDINGS] = "reenumerate_bindings",
};

const char *fo_action_name(fo_action_kind k)
{
    return NAME_OF(action_names, k);
}

static const char *const setting_names[FO_SET_COUNT] = {
    [FO_SET_MULTICAST_LIST] = "multicast_list",
    [FO_SET_OFFLOAD] = "offload",
    [FO_SET_ENCAPSULATION] = "encapsulation",
    [FO_SET_RSS] = "rss",
    [FO_SET_VLAN_ID] = "vlan_id",
    [FO_SET_INTERRUPT_MODERATION] = "interrupt_moderation",
    [FO_SET_NETWORK_ADDRESSES] = "network_addresses",
    [FO_SET_PM_PARAMETERS] = "pm_parameters",
    [FO_SET_PACKET_FILTER] = "packet_filter",
};

const char *fo_setting_name(fo_setting s)
{
    return NAME_OF(setting_names, s);
}
