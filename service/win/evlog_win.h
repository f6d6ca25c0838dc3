/*
 * evlog_win.h - the policy's log ops on Windows: the Application Event Log
 * (source "vfosvc", ids from vfosvc_msg.mc) and/or the console.
 */
#ifndef VFOSVC_EVLOG_WIN_H
#define VFOSVC_EVLOG_WIN_H

#include "util_win.h"
#include "vsvc_common.h"
#include "vsvc_events.h"

struct evlog {
    HANDLE source;   /* RegisterEventSourceW; NULL when not available */
    bool to_console; /* echo every message, DEBUG included */
};

void evlog_open(struct evlog *l, bool to_console);
void evlog_close(struct evlog *l);
/* printf-style convenience for the glue's own events. */
void evlog_say(struct evlog *l, enum vsvc_event ev, const char *fmt, ...) VSVC_PRINTF(3, 4);
extern const struct vsvc_log_ops evlog_ops;

/* install/uninstall: the Application log source pointing at vfosvc.exe. */
DWORD evlog_register_source(const wchar_t *exe);
DWORD evlog_unregister_source(void);

#endif /* VFOSVC_EVLOG_WIN_H */
