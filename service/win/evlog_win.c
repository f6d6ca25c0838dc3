/* Event Log and console logging (evlog_win.h). */
#include <stdarg.h>
#include <stdio.h>
#include <wchar.h>

#include "evlog_win.h"
#include "vfosvc_msg.h"

/* Event ids as the message compiler computed them (severity bits included),
 * so ReportEventW finds the message. */
static const DWORD message_ids[VSVC_EV_COUNT] = {
    [VSVC_EV_SERVICE_STARTED] = MSG_SERVICE_STARTED,
    [VSVC_EV_SERVICE_STOPPED] = MSG_SERVICE_STOPPED,
    [VSVC_EV_BINDING_DISABLED] = MSG_BINDING_DISABLED,
    [VSVC_EV_BINDING_ENABLED] = MSG_BINDING_ENABLED,
    [VSVC_EV_BINDING_RESTORED] = MSG_BINDING_RESTORED,
    [VSVC_EV_RECORD_DROPPED] = MSG_RECORD_DROPPED,
    [VSVC_EV_RESTORE_PENDING] = MSG_RESTORE_PENDING,
    [VSVC_EV_RESTORE_CANCELLED] = MSG_RESTORE_CANCELLED,
    [VSVC_EV_VF_SUSPECT] = MSG_VF_SUSPECT,
    [VSVC_EV_CANDIDATE_REFUSED] = MSG_CANDIDATE_REFUSED,
    [VSVC_EV_LOCK_BUSY] = MSG_LOCK_BUSY,
    [VSVC_EV_BACKEND_FAILED] = MSG_BACKEND_FAILED,
    [VSVC_EV_APPLY_FAILED] = MSG_APPLY_FAILED,
    [VSVC_EV_STORE_FAILED] = MSG_STORE_FAILED,
    [VSVC_EV_LEFTOVER] = MSG_LEFTOVER,
    [VSVC_EV_CONTROL_UNAVAILABLE] = MSG_CONTROL_UNAVAILABLE,
    [VSVC_EV_CONTROL_BAD_REPLY] = MSG_CONTROL_BAD_REPLY,
    [VSVC_EV_REBOOT_REQUIRED] = MSG_REBOOT_REQUIRED,
    [VSVC_EV_VFOPROT_INSTALLED] = MSG_VFOPROT_INSTALLED,
    [VSVC_EV_VFOPROT_REMOVED] = MSG_VFOPROT_REMOVED,
    [VSVC_EV_CONFIG_REJECTED] = MSG_CONFIG_REJECTED,
};

void evlog_open(struct evlog *l, bool to_console)
{
    l->source = RegisterEventSourceW(NULL, VFOSVC_NAME_W);
    l->to_console = to_console;
}

void evlog_close(struct evlog *l)
{
    if (l->source != NULL)
        DeregisterEventSource(l->source);
    l->source = NULL;
}

static WORD event_type(enum vsvc_level level)
{
    switch (level) {
    case VSVC_LOG_ERROR:
        return EVENTLOG_ERROR_TYPE;
    case VSVC_LOG_WARNING:
        return EVENTLOG_WARNING_TYPE;
    default:
        return EVENTLOG_INFORMATION_TYPE;
    }
}

static void log_event(void *ctx, enum vsvc_event ev, enum vsvc_level level, const char *text)
{
    struct evlog *l = ctx;
    wchar_t wide[1024];
    const wchar_t *strings[1] = { wide };

    if (l->to_console) {
        char line[1200];
        snprintf(line, sizeof(line), "[%s] %s", vsvc_event_name(ev), text);
        con_line(line);
    }
    if (level == VSVC_LOG_DEBUG || l->source == NULL || (unsigned)ev >= VSVC_EV_COUNT ||
        message_ids[ev] == 0)
        return;
    if (!wide_from_utf8(text, wide, sizeof(wide) / sizeof(wide[0])))
        wcscpy(wide, L"(message not representable)");
    ReportEventW(l->source, event_type(level), 0, message_ids[ev], NULL, 1, 0, strings, NULL);
}

const struct vsvc_log_ops evlog_ops = { .log = log_event };

void evlog_say(struct evlog *l, enum vsvc_event ev, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    log_event(l, ev, vsvc_event_level(ev), text);
}

DWORD evlog_register_source(const wchar_t *exe)
{
    HKEY key;
    DWORD types = EVENTLOG_ERROR_TYPE | EVENTLOG_WARNING_TYPE | EVENTLOG_INFORMATION_TYPE;
    LSTATUS rc = RegCreateKeyExW(HKEY_LOCAL_MACHINE, VFOSVC_EVENTSRC_W, 0, NULL, 0, KEY_SET_VALUE,
                                 NULL, &key, NULL);
    if (rc != ERROR_SUCCESS)
        return (DWORD)rc;
    rc = RegSetValueExW(key, L"EventMessageFile", 0, REG_EXPAND_SZ, (const BYTE *)exe,
                        (DWORD)((wcslen(exe) + 1) * sizeof(wchar_t)));
    if (rc == ERROR_SUCCESS)
        rc = RegSetValueExW(key, L"TypesSupported", 0, REG_DWORD, (const BYTE *)&types,
                            sizeof(types));
    RegCloseKey(key);
    return (DWORD)rc;
}

DWORD evlog_unregister_source(void)
{
    LSTATUS rc = RegDeleteKeyW(HKEY_LOCAL_MACHINE, VFOSVC_EVENTSRC_W);
    return rc == ERROR_FILE_NOT_FOUND ? ERROR_SUCCESS : (DWORD)rc;
}
