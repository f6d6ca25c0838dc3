/*
 * vsvc_events.h - every message the service logs. The numbers are the
 * Windows Event Log event ids (service/win/vfosvc_msg.mc defines the same
 * ids with the same severities; a unit test keeps the two in step, and
 * docs/vfosvc.md lists them). Never renumber; append.
 */
#ifndef VSVC_EVENTS_H
#define VSVC_EVENTS_H

enum vsvc_level {
    VSVC_LOG_DEBUG = 0, /* console only, never the Event Log */
    VSVC_LOG_INFO = 1,
    VSVC_LOG_WARNING = 2,
    VSVC_LOG_ERROR = 3,
};

enum vsvc_event {
    VSVC_EV_DEBUG = 0, /* diagnostics, console only */
    VSVC_EV_SERVICE_STARTED = 1,
    VSVC_EV_SERVICE_STOPPED = 2,
    VSVC_EV_BINDING_DISABLED = 3,
    VSVC_EV_BINDING_ENABLED = 4,
    VSVC_EV_BINDING_RESTORED = 5,
    VSVC_EV_RECORD_DROPPED = 6,
    VSVC_EV_RESTORE_PENDING = 7,
    VSVC_EV_RESTORE_CANCELLED = 8,
    VSVC_EV_VF_SUSPECT = 9,
    VSVC_EV_CANDIDATE_REFUSED = 10,
    VSVC_EV_LOCK_BUSY = 11,
    VSVC_EV_BACKEND_FAILED = 12,
    VSVC_EV_APPLY_FAILED = 13,
    VSVC_EV_STORE_FAILED = 14,
    VSVC_EV_LEFTOVER = 15,
    VSVC_EV_CONTROL_UNAVAILABLE = 16,
    VSVC_EV_CONTROL_BAD_REPLY = 17,
    VSVC_EV_REBOOT_REQUIRED = 18,
    VSVC_EV_VFOPROT_INSTALLED = 19,
    VSVC_EV_VFOPROT_REMOVED = 20,
    VSVC_EV_CONFIG_REJECTED = 21,
    VSVC_EV_COUNT
};

/* The fixed level of each event (the Event Log type it is reported with). */
enum vsvc_level vsvc_event_level(enum vsvc_event ev);
/* Its symbolic name, as in the message file: "BINDING_DISABLED". */
const char *vsvc_event_name(enum vsvc_event ev);

struct vsvc_log_ops {
    void (*log)(void *ctx, enum vsvc_event ev, enum vsvc_level level, const char *text);
};

#endif /* VSVC_EVENTS_H */
