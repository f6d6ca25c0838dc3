/*
 * ctl_win.h - the client side of vfo.sys's control device (vfo_ctl.h):
 * open and version check, the pairs query, and the pending WAIT_CHANGE
 * whose completion wakes the service when vfo's pairs change.
 */
#ifndef VFOSVC_CTL_WIN_H
#define VFOSVC_CTL_WIN_H

#include "util_win.h"
#include "vsvc_pairs.h"

struct vctl {
    HANDLE dev;         /* INVALID_HANDLE_VALUE when closed */
    OVERLAPPED wait_ov; /* hEvent: manual reset, lives as long as the struct */
    struct vfo_ctl_wait wait_io;
    bool wait_pending;
    uint64_t generation;         /* the last one seen */
    struct vfo_ctl_pairs *reply; /* the query buffer (24 KiB) */
};

bool vctl_init(struct vctl *c);
void vctl_fini(struct vctl *c);
bool vctl_is_open(const struct vctl *c);

/* Opens \\.\vfo and checks the ABI version. VSVC_E_NOTFOUND when vfo.sys is
 * not loaded, VSVC_E_VERSION on an ABI mismatch; why[] says more. */
int vctl_open(struct vctl *c, char *why, size_t why_len);
void vctl_close(struct vctl *c);

/* One pairs snapshot, validated. A malformed reply returns VSVC_E_INVAL or
 * VSVC_E_VERSION; an I/O failure VSVC_E_IO (the device is then closed). */
int vctl_query_pairs(struct vctl *c, struct vsvc_pairs *out, char *why, size_t why_len);

/* Arms IOCTL_VFO_WAIT_CHANGE with the last generation seen; its completion
 * signals vctl_wait_event(). */
int vctl_arm_wait(struct vctl *c, char *why, size_t why_len);
HANDLE vctl_wait_event(const struct vctl *c);
/* After the event fired: true when the generation changed. On failure the
 * device is closed (vfo unloading) and why[] says why. */
int vctl_wait_done(struct vctl *c, bool *changed, char *why, size_t why_len);

#endif /* VFOSVC_CTL_WIN_H */
