/*
 * ctl_emu.h - vfo's control device seen from the emulated service (the
 * counterpart of service/win/ctl_win.h): open and check the ABI, query the
 * pairs, keep one IOCTL_VFO_WAIT_CHANGE pending.
 */
#ifndef VSVC_CTL_EMU_H
#define VSVC_CTL_EMU_H

#include "ndisemu/emu.h"
#include "vsvc_pairs.h"

/* The pending wait lives apart from the handle: if the driver completes it
 * after the service is gone, the completion frees it (never a dangling ctx). */
struct ctl_wait;

struct ctl_emu {
    emu_runtime *rt;
    emu_ctl *dev; /* NULL while closed */
    uint64_t generation;
    struct ctl_wait *wait; /* NULL when no wait is pending */
    bool changed;          /* a wait completed with a new generation (or failed) */
    int32_t last_status;   /* the last IOCTL's NTSTATUS */
};

void ctl_emu_init(struct ctl_emu *c, emu_runtime *rt);
/* Opens "\\.\vfo" and checks QUERY_VERSION; VSVC_OK when already open. */
int ctl_emu_open(struct ctl_emu *c, char *why, size_t why_len);
void ctl_emu_close(struct ctl_emu *c);
int ctl_emu_query_pairs(struct ctl_emu *c, struct vsvc_pairs *out, char *why, size_t why_len);
/* Keeps a WAIT_CHANGE pending for the generation of the last query. */
int ctl_emu_arm_wait(struct ctl_emu *c, char *why, size_t why_len);
/* True once since the last call when vfo reported a change (or the wait
 * failed, which means: look again). */
bool ctl_emu_take_change(struct ctl_emu *c);

#endif /* VSVC_CTL_EMU_H */
