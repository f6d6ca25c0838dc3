/*
 * vsvc_control.h - what the service says about vfo's control device. Every
 * back end (vfosvc.exe, the ndisemu one) opens the device, reads the pairs
 * and keeps a change notification pending; each failure of those leaves the
 * service treating every VF as unpaired. The state is logged when it
 * changes, never on every pass, with the same words on every back end.
 */
#ifndef VSVC_CONTROL_H
#define VSVC_CONTROL_H

#include <stdbool.h>

#include "vsvc_events.h"

struct vsvc_control_note {
    char last[256]; /* what was last logged: "available" or the reason */
};

/* rc: VSVC_OK, or the error of the open, query or wait that failed, with
 * `why` its text. Returns true when this is a change (and was logged). */
bool vsvc_control_note(struct vsvc_control_note *n, int rc, const char *why,
                       const struct vsvc_log_ops *log, void *log_ctx);

#endif /* VSVC_CONTROL_H */
