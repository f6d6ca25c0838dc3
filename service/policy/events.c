/* The fixed level and name of each event (vsvc_events.h). */
#include <stddef.h>

#include "vsvc_events.h"

struct event_info {
    const char *name;
    enum vsvc_level level;
};

static const struct event_info events[VSVC_EV_COUNT] = {
    [VSVC_EV_DEBUG] = { "DEBUG", VSVC_LOG_DEBUG },
    [VSVC_EV_SERVICE_STARTED] = { "SERVICE_STARTED", VSVC_LOG_INFO },
    [VSVC_EV_SERVICE_STOPPED] = { "SERVICE_STOPPED", VSVC_LOG_INFO },
    [VSVC_EV_BINDING_DISABLED] = { "BINDING_DISABLED", VSVC_LOG_INFO },
    [VSVC_EV_BINDING_ENABLED] = { "BINDING_ENABLED", VSVC_LOG_INFO },
    [VSVC_EV_BINDING_RESTORED] = { "BINDING_RESTORED", VSVC_LOG_INFO },
    [VSVC_EV_RECORD_DROPPED] = { "RECORD_DROPPED", VSVC_LOG_INFO },
    [VSVC_EV_RESTORE_PENDING] = { "RESTORE_PENDING", VSVC_LOG_INFO },
    [VSVC_EV_RESTORE_CANCELLED] = { "RESTORE_CANCELLED", VSVC_LOG_INFO },
    [VSVC_EV_VF_SUSPECT] = { "VF_SUSPECT", VSVC_LOG_WARNING },
    [VSVC_EV_CANDIDATE_REFUSED] = { "CANDIDATE_REFUSED", VSVC_LOG_INFO },
    [VSVC_EV_LOCK_BUSY] = { "LOCK_BUSY", VSVC_LOG_WARNING },
    [VSVC_EV_BACKEND_FAILED] = { "BACKEND_FAILED", VSVC_LOG_ERROR },
    [VSVC_EV_APPLY_FAILED] = { "APPLY_FAILED", VSVC_LOG_ERROR },
    [VSVC_EV_STORE_FAILED] = { "STORE_FAILED", VSVC_LOG_ERROR },
    [VSVC_EV_LEFTOVER] = { "LEFTOVER", VSVC_LOG_WARNING },
    [VSVC_EV_CONTROL_UNAVAILABLE] = { "CONTROL_UNAVAILABLE", VSVC_LOG_WARNING },
    [VSVC_EV_CONTROL_BAD_REPLY] = { "CONTROL_BAD_REPLY", VSVC_LOG_ERROR },
    [VSVC_EV_REBOOT_REQUIRED] = { "REBOOT_REQUIRED", VSVC_LOG_WARNING },
    [VSVC_EV_VFOPROT_INSTALLED] = { "VFOPROT_INSTALLED", VSVC_LOG_INFO },
    [VSVC_EV_VFOPROT_REMOVED] = { "VFOPROT_REMOVED", VSVC_LOG_INFO },
    [VSVC_EV_CONFIG_REJECTED] = { "CONFIG_REJECTED", VSVC_LOG_WARNING },
};

enum vsvc_level vsvc_event_level(enum vsvc_event ev)
{
    if ((unsigned)ev >= VSVC_EV_COUNT)
        return VSVC_LOG_ERROR;
    return events[ev].level;
}

const char *vsvc_event_name(enum vsvc_event ev)
{
    if ((unsigned)ev >= VSVC_EV_COUNT || events[ev].name == NULL)
        return "UNKNOWN";
    return events[ev].name;
}
