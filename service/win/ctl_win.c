/* vfo's control device, user side (ctl_win.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_win.h"

/* A query the driver does not answer within this time is cancelled: the
 * service must never hang on a wedged driver. */
#define QUERY_TIMEOUT_MS 5000

bool vctl_init(struct vctl *c)
{
    memset(c, 0, sizeof(*c));
    c->dev = INVALID_HANDLE_VALUE;
    c->wait_ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    c->reply = calloc(1, sizeof(*c->reply));
    return c->wait_ov.hEvent != NULL && c->reply != NULL;
}

void vctl_fini(struct vctl *c)
{
    vctl_close(c);
    if (c->wait_ov.hEvent != NULL)
        CloseHandle(c->wait_ov.hEvent);
    free(c->reply);
    c->reply = NULL;
}

bool vctl_is_open(const struct vctl *c)
{
    return c->dev != INVALID_HANDLE_VALUE;
}

static void describe(DWORD err, const char *what, char *why, size_t why_len)
{
    char text[256];
    win_error_text(err, text, sizeof(text));
    snprintf(why, why_len, "%s: %s", what, text);
}

/* A synchronous IOCTL on the overlapped handle, bounded by QUERY_TIMEOUT_MS. */
static DWORD ioctl_sync(struct vctl *c, DWORD code, void *in, DWORD in_len, void *out,
                        DWORD out_len, DWORD *returned)
{
    OVERLAPPED ov;
    DWORD err = ERROR_SUCCESS;

    memset(&ov, 0, sizeof(ov));
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (ov.hEvent == NULL)
        return GetLastError();
    *returned = 0;
    if (!DeviceIoControl(c->dev, code, in, in_len, out, out_len, NULL, &ov)) {
        err = GetLastError();
        if (err == ERROR_IO_PENDING) {
            err = ERROR_SUCCESS;
            if (WaitForSingleObject(ov.hEvent, QUERY_TIMEOUT_MS) != WAIT_OBJECT_0)
                CancelIoEx(c->dev, &ov);
        }
    }
    if (err == ERROR_SUCCESS && !GetOverlappedResult(c->dev, &ov, returned, TRUE))
        err = GetLastError();
    CloseHandle(ov.hEvent);
    return err;
}

int vctl_open(struct vctl *c, char *why, size_t why_len)
{
    struct vfo_ctl_version v;
    DWORD got, err;
    int check;

    if (vctl_is_open(c))
        return VSVC_OK;
    c->dev = CreateFileW(VFO_CTL_USER_PATH_W, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE,
                         NULL, OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
    if (c->dev == INVALID_HANDLE_VALUE) {
        err = GetLastError();
        describe(err, "cannot open " VFO_CTL_USER_PATH, why, why_len);
        return err == ERROR_FILE_NOT_FOUND ? VSVC_E_NOTFOUND : VSVC_E_IO;
    }
    memset(&v, 0, sizeof(v));
    err = ioctl_sync(c, IOCTL_VFO_QUERY_VERSION, NULL, 0, &v, sizeof(v), &got);
    if (err != ERROR_SUCCESS) {
        describe(err, "IOCTL_VFO_QUERY_VERSION", why, why_len);
        vctl_close(c);
        return VSVC_E_IO;
    }
    check = vfo_ctl_check_version_reply(&v, got);
    if (check != VFO_CTL_CHECK_OK) {
        snprintf(why, why_len,
                 "vfo.sys speaks control ABI %u (pairs %u bytes), vfosvc speaks %u: %s",
                 (unsigned)v.abi_version, (unsigned)v.pairs_size, VFO_CTL_ABI_VERSION,
                 vsvc_ctl_check_name(check));
        vctl_close(c);
        return VSVC_E_VERSION;
    }
    return VSVC_OK;
}

void vctl_close(struct vctl *c)
{
    DWORD got;
    if (!vctl_is_open(c))
        return;
    if (c->wait_pending) {
        CancelIoEx(c->dev, &c->wait_ov);
        GetOverlappedResult(c->dev, &c->wait_ov, &got, TRUE);
        c->wait_pending = false;
    }
    CloseHandle(c->dev);
    c->dev = INVALID_HANDLE_VALUE;
    ResetEvent(c->wait_ov.hEvent);
}

int vctl_query_pairs(struct vctl *c, struct vsvc_pairs *out, char *why, size_t why_len)
{
    struct vfo_ctl_request rq = { VFO_CTL_ABI_VERSION, sizeof(rq), 0 };
    DWORD got, err;
    int rc;

    vsvc_pairs_clear(out);
    if (!vctl_is_open(c)) {
        snprintf(why, why_len, "control device not open");
        return VSVC_E_STATE;
    }
    memset(c->reply, 0, sizeof(*c->reply));
    err = ioctl_sync(c, IOCTL_VFO_QUERY_PAIRS, &rq, sizeof(rq), c->reply, sizeof(*c->reply), &got);
    if (err != ERROR_SUCCESS) {
        describe(err, "IOCTL_VFO_QUERY_PAIRS", why, why_len);
        vctl_close(c);
        return VSVC_E_IO;
    }
    rc = vsvc_pairs_from_ctl(out, c->reply, got, why, why_len);
    /* Arm the next wait from here: a change after this snapshot completes it. */
    if (rc == VSVC_OK)
        c->generation = out->generation;
    return rc;
}

HANDLE vctl_wait_event(const struct vctl *c)
{
    return c->wait_ov.hEvent;
}

int vctl_arm_wait(struct vctl *c, char *why, size_t why_len)
{
    DWORD err;
    if (!vctl_is_open(c) || c->wait_pending)
        return VSVC_OK;
    c->wait_io.abi_version = VFO_CTL_ABI_VERSION;
    c->wait_io.size = sizeof(c->wait_io);
    c->wait_io.generation = c->generation;
    ResetEvent(c->wait_ov.hEvent);
    /* In and out share one buffer: METHOD_BUFFERED copies before completing. */
    if (!DeviceIoControl(c->dev, IOCTL_VFO_WAIT_CHANGE, &c->wait_io, sizeof(c->wait_io),
                         &c->wait_io, sizeof(c->wait_io), NULL, &c->wait_ov)) {
        err = GetLastError();
        if (err != ERROR_IO_PENDING) {
            describe(err, "IOCTL_VFO_WAIT_CHANGE", why, why_len);
            vctl_close(c);
            return VSVC_E_IO;
        }
    }
    /* Completed at once or pending: either way the event reports it. */
    c->wait_pending = true;
    return VSVC_OK;
}

int vctl_wait_done(struct vctl *c, bool *changed, char *why, size_t why_len)
{
    DWORD got = 0;
    int check;

    *changed = false;
    if (!c->wait_pending)
        return VSVC_OK;
    c->wait_pending = false;
    if (!GetOverlappedResult(c->dev, &c->wait_ov, &got, FALSE)) {
        describe(GetLastError(), "IOCTL_VFO_WAIT_CHANGE", why, why_len);
        vctl_close(c);
        *changed = true; /* whatever vfo had, it is gone: look again */
        return VSVC_E_IO;
    }
    check = vfo_ctl_check_wait_reply(&c->wait_io, got);
    if (check != VFO_CTL_CHECK_OK) {
        snprintf(why, why_len, "malformed IOCTL_VFO_WAIT_CHANGE reply: %s",
                 vsvc_ctl_check_name(check));
        vctl_close(c);
        *changed = true;
        return VSVC_E_INVAL;
    }
    *changed = c->wait_io.generation != c->generation;
    c->generation = c->wait_io.generation;
    return VSVC_OK;
}
