/* vfo's control device through ndisemu's device-object path (ctl_emu.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_emu.h"

/* ndisemu finds a control device by the last element of its link name
 * ("\DosDevices\Global\vfo"), which the user path "\\.\vfo" names. */
#define CTL_NAME "vfo"
/* What an IRP on a handle of a deregistered device ends with. */
#define CTL_STATUS_DELETE_PENDING ((int32_t)0xC0000056L)

struct ctl_wait {
    struct ctl_emu *owner; /* NULL: the service let go of it */
    struct vfo_ctl_wait io;
};

void ctl_emu_init(struct ctl_emu *c, emu_runtime *rt)
{
    memset(c, 0, sizeof(*c));
    c->rt = rt;
}

static int ioctl_exact(struct ctl_emu *c, uint32_t code, const void *in, size_t in_len, void *out,
                       size_t out_len, const char *what, char *why, size_t why_len)
{
    size_t got = 0;
    int32_t nt = 0;
    int err = emu_ctl_ioctl(c->dev, code, in, in_len, out, out_len, &got, &nt);
    c->last_status = err == EMU_OK ? nt : 0;
    if (err != EMU_OK || nt != 0 || got != out_len) {
        snprintf(why, why_len, "%s: %s, status 0x%08x, %lu of %lu bytes", what,
                 err ? emu_strerror(err) : "completed", (unsigned)nt, (unsigned long)got,
                 (unsigned long)out_len);
        return err == EMU_OK && nt == 0 ? VSVC_E_SIZE : VSVC_E_IO;
    }
    return VSVC_OK;
}

int ctl_emu_open(struct ctl_emu *c, char *why, size_t why_len)
{
    struct vfo_ctl_version v;
    int err, check, rc;

    if (c->dev != NULL)
        return VSVC_OK;
    err = emu_ctl_open(c->rt, CTL_NAME, &c->dev);
    if (err != EMU_OK) {
        c->dev = NULL;
        snprintf(why, why_len, "cannot open " VFO_CTL_USER_PATH ": %s", emu_strerror(err));
        return err == EMU_ERR_NOTFOUND ? VSVC_E_NOTFOUND : VSVC_E_IO;
    }
    memset(&v, 0, sizeof(v));
    rc = ioctl_exact(c, IOCTL_VFO_QUERY_VERSION, NULL, 0, &v, sizeof(v), "IOCTL_VFO_QUERY_VERSION",
                     why, why_len);
    check = rc == VSVC_OK ? vfo_ctl_check_version_reply(&v, sizeof(v)) : VFO_CTL_CHECK_OK;
    if (rc == VSVC_OK && check != VFO_CTL_CHECK_OK) {
        snprintf(why, why_len,
                 "vfo.sys speaks control ABI %u (pairs %u bytes), vfosvc speaks %u: %s",
                 (unsigned)v.abi_version, (unsigned)v.pairs_size, VFO_CTL_ABI_VERSION,
                 vsvc_ctl_check_name(check));
        rc = VSVC_E_VERSION;
    }
    if (rc != VSVC_OK)
        ctl_emu_close(c);
    return rc;
}

void ctl_emu_close(struct ctl_emu *c)
{
    if (c->wait != NULL) {
        c->wait->owner = NULL; /* completed by the cleanup below, or later */
        c->wait = NULL;
    }
    if (c->dev != NULL)
        emu_ctl_close(c->dev);
    c->dev = NULL;
}

int ctl_emu_query_pairs(struct ctl_emu *c, struct vsvc_pairs *out, char *why, size_t why_len)
{
    struct vfo_ctl_request rq = { VFO_CTL_ABI_VERSION, sizeof(rq), 0 };
    struct vfo_ctl_pairs *reply;
    int rc;

    vsvc_pairs_clear(out);
    if (c->dev == NULL) {
        snprintf(why, why_len, "control device not open");
        return VSVC_E_STATE;
    }
    reply = calloc(1, sizeof(*reply));
    if (reply == NULL) {
        snprintf(why, why_len, "out of memory");
        return VSVC_E_NOMEM;
    }
    rc = ioctl_exact(c, IOCTL_VFO_QUERY_PAIRS, &rq, sizeof(rq), reply, sizeof(*reply),
                     "IOCTL_VFO_QUERY_PAIRS", why, why_len);
    if (rc != VSVC_OK && c->last_status == CTL_STATUS_DELETE_PENDING) {
        /* vfo deregisters its device with its last adapter: this handle is
         * stale (and would keep vfo loaded). A new one finds the device if
         * an adapter came back, else there is no vfo adapter to report. */
        ctl_emu_close(c);
        rc = ctl_emu_open(c, why, why_len);
        if (rc == VSVC_OK)
            rc = ioctl_exact(c, IOCTL_VFO_QUERY_PAIRS, &rq, sizeof(rq), reply, sizeof(*reply),
                             "IOCTL_VFO_QUERY_PAIRS", why, why_len);
        else if (rc == VSVC_E_NOTFOUND)
            c->dev = NULL;
    }
    if (rc == VSVC_OK)
        rc = vsvc_pairs_from_ctl(out, reply, sizeof(*reply), why, why_len);
    else
        ctl_emu_close(c);
    if (rc == VSVC_OK)
        c->generation = out->generation;
    free(reply);
    return rc;
}

/* Runs when vfo completes the wait: inside the scheduler, so it only marks. */
static void wait_done(void *ctx, int32_t ntstatus, const void *out, size_t returned)
{
    struct ctl_wait *w = ctx;
    struct ctl_emu *c = w->owner;
    const struct vfo_ctl_wait *reply = out;

    if (c != NULL) {
        c->wait = NULL;
        if (ntstatus != 0 || reply == NULL ||
            vfo_ctl_check_wait_reply(reply, (uint32_t)returned) != VFO_CTL_CHECK_OK)
            c->changed = true; /* whatever vfo had may be gone: look again */
        else if (reply->generation != c->generation)
            c->changed = true;
    }
    free(w);
}

int ctl_emu_arm_wait(struct ctl_emu *c, char *why, size_t why_len)
{
    struct ctl_wait *w;
    int err;

    if (c->dev == NULL || c->wait != NULL)
        return VSVC_OK;
    w = calloc(1, sizeof(*w));
    if (w == NULL) {
        snprintf(why, why_len, "out of memory");
        return VSVC_E_NOMEM;
    }
    w->owner = c;
    w->io.abi_version = VFO_CTL_ABI_VERSION;
    w->io.size = sizeof(w->io);
    w->io.generation = c->generation;
    c->wait = w; /* before the call: vfo may complete it at once */
    err = emu_ctl_ioctl_async(c->dev, IOCTL_VFO_WAIT_CHANGE, &w->io, sizeof(w->io), sizeof(w->io),
                              wait_done, w);
    if (err != EMU_OK) {
        c->wait = NULL;
        free(w);
        snprintf(why, why_len, "IOCTL_VFO_WAIT_CHANGE: %s", emu_strerror(err));
        ctl_emu_close(c);
        return VSVC_E_IO;
    }
    return VSVC_OK;
}

bool ctl_emu_take_change(struct ctl_emu *c)
{
    bool changed = c->changed;
    c->changed = false;
    return changed;
}
