/* What the service says about vfo's control device (vsvc_control.h). */
#include <stdio.h>
#include <string.h>

#include "vsvc_common.h"
#include "vsvc_control.h"

bool vsvc_control_note(struct vsvc_control_note *n, int rc, const char *why,
                       const struct vsvc_log_ops *log, void *log_ctx)
{
    const char *state = rc == VSVC_OK ? "available" : why;
    char text[sizeof(n->last) + 160];
    enum vsvc_event ev;

    if (strcmp(state, n->last) == 0)
        return false;
    snprintf(n->last, sizeof(n->last), "%s", state);
    if (rc == VSVC_OK) {
        ev = VSVC_EV_DEBUG;
        snprintf(text, sizeof(text), "vfo control device available");
    } else if (rc == VSVC_E_INVAL || rc == VSVC_E_VERSION) {
        ev = VSVC_EV_CONTROL_BAD_REPLY;
        snprintf(text, sizeof(text),
                 "vfo's control device answered badly (%s); vfosvc treats every VF as unpaired "
                 "until it answers correctly",
                 why);
    } else {
        ev = VSVC_EV_CONTROL_UNAVAILABLE;
        snprintf(text, sizeof(text),
                 "vfo's control device is not available (%s); vfosvc treats every VF as "
                 "unpaired until it is",
                 why);
    }
    log->log(log_ctx, ev, vsvc_event_level(ev), text);
    return true;
}
