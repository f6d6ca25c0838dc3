/*
 * vfo's control device (\\.\vfo, driver/src/ctl.c) from user mode: handles
 * opened by an ordinary user and by an administrator (ndisemu checks vfo's
 * DefaultSDDLString: the user must be refused before any IRP reaches vfo),
 * then any IOCTL code (vfo's three, their neighbours with other methods and
 * access bits, or any 32-bit number), any input and output length and any
 * input bytes, synchronously or pended (waits), with cancels, handle
 * closes and process exits, while vfo's state changes under them (VF
 * arrival and removal, the adapter going and coming back: the device is
 * deregistered with the last adapter and handles still open must get
 * STATUS_DELETE_PENDING).
 *
 * Checked: every successful reply passes vfo_ctl.h's own reply checks;
 * nothing is returned beyond the output length. Persistent (fuzz_world.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "fuzz_world.h"

#define MAX_OPS     48
#define MAX_HANDLES 4
#define MAX_BUF     (sizeof(struct vfo_ctl_pairs) + 256)

static emu_ctl *g_h[MAX_HANDLES];
static uint8_t g_in[MAX_BUF], g_out[MAX_BUF];

static emu_ctl **handle(fz_input *in)
{
    return &g_h[fz_u8(in) % MAX_HANDLES];
}

static void open_handle(vfo_world *w, fz_input *in)
{
    emu_ctl **h = handle(in);
    bool admin = fz_u8(in) & 1;
    if (*h)
        return;
    int err = emu_ctl_open_as(w->rt, "vfo", admin ? EMU_CALLER_ADMIN : EMU_CALLER_USER, h);
    if (!admin && err != EMU_ERR_ACCESS && err != EMU_ERR_NOTFOUND) {
        fprintf(stderr, "fuzz_ctl: an ordinary user opened vfo's control device (%s)\n",
                emu_strerror(err));
        abort();
    }
    if (err)
        *h = NULL;
    fw_check(w, err, "open");
}

static uint32_t read_code(fz_input *in)
{
    static const uint32_t known[3] = { IOCTL_VFO_QUERY_VERSION, IOCTL_VFO_QUERY_PAIRS,
                                       IOCTL_VFO_WAIT_CHANGE };
    uint8_t sel = fz_u8(in);
    if (sel & 0x80)
        return fz_u32(in);
    uint32_t code = known[sel % 3];
    if (sel & 0x40) /* the same function with another method or access */
        code ^= (uint32_t)(fz_u8(in) & 3) | (uint32_t)(fz_u8(in) & 3) << 14;
    return code;
}

static size_t read_len(fz_input *in)
{
    static const size_t sizes[8] = { 0,
                                     1,
                                     sizeof(struct vfo_ctl_request),
                                     sizeof(struct vfo_ctl_version),
                                     sizeof(struct vfo_ctl_wait),
                                     sizeof(struct vfo_ctl_pairs),
                                     sizeof(struct vfo_ctl_pairs) - 1,
                                     sizeof(struct vfo_ctl_pairs) + 1 };
    uint8_t l = fz_u8(in);
    return (l & 0x80) ? fz_u16(in) % (MAX_BUF + 1) : sizes[l & 7];
}

static void check_reply(uint32_t code, int32_t nt, const void *out, size_t ret, size_t out_len)
{
    int bad = 0;
    if (ret > out_len)
        bad = 1;
    else if (nt == 0 && code == IOCTL_VFO_QUERY_VERSION)
        bad = vfo_ctl_check_version_reply(out, (uint32_t)ret) != VFO_CTL_CHECK_OK;
    else if (nt == 0 && code == IOCTL_VFO_QUERY_PAIRS)
        bad = vfo_ctl_check_pairs_reply(out, (uint32_t)ret) != VFO_CTL_CHECK_OK;
    else if (nt == 0 && code == IOCTL_VFO_WAIT_CHANGE)
        bad = vfo_ctl_check_wait_reply(out, (uint32_t)ret) != VFO_CTL_CHECK_OK;
    if (bad) {
        fprintf(stderr, "fuzz_ctl: IOCTL %#x: status %#x, %zu bytes of %zu: a bad reply\n", code,
                (unsigned)nt, ret, out_len);
        abort();
    }
}

typedef struct pended {
    uint32_t code;
    size_t out_len;
} pended;

static void async_done(void *ctx, int32_t nt, const void *out, size_t ret)
{
    pended *p = ctx;
    check_reply(p->code, nt, out, ret, p->out_len);
    free(p);
}

static void ioctl_op(vfo_world *w, fz_input *in, bool async)
{
    emu_ctl *h = *handle(in);
    uint32_t code = read_code(in);
    size_t in_len = read_len(in), out_len = read_len(in);
    fz_bytes(in, g_in, in_len);
    if (fz_u8(in) & 1 && in_len >= sizeof(struct vfo_ctl_request)) {
        /* A well-formed header, so the fields behind it are reached. */
        struct vfo_ctl_request rq = { VFO_CTL_ABI_VERSION, (uint32_t)in_len, 0 };
        memcpy(g_in, &rq, sizeof(rq));
    }
    if (!h)
        return;
    if (async) {
        pended *p = malloc(sizeof(*p));
        if (!p)
            abort();
        p->code = code;
        p->out_len = out_len;
        if (emu_ctl_ioctl_async(h, code, g_in, in_len, out_len, async_done, p) != EMU_OK)
            free(p);
        fw_check(w, EMU_OK, "ioctl");
        return;
    }
    size_t ret = 0;
    int32_t nt = 0;
    int err = emu_ctl_ioctl(h, code, g_in, in_len, g_out, out_len, &ret, &nt);
    fw_check(w, err, "ioctl");
    if (!err)
        check_reply(code, nt, g_out, ret, out_len);
}

static void close_op(vfo_world *w, fz_input *in)
{
    emu_ctl **h = handle(in);
    uint8_t how = fz_u8(in);
    if (!*h)
        return;
    if (how % 3 == 0) {
        fw_check(w, emu_ctl_cancel(*h), "cancel");
        return;
    }
    if (how % 3 == 1)
        emu_ctl_close(*h);
    else
        emu_ctl_exit(*h);
    *h = NULL;
    fw_check(w, EMU_OK, "close");
}

static void world_op(vfo_world *w, fz_input *in)
{
    uint8_t what = fz_u8(in);
    uint8_t mac[6];
    vw_mac(0, mac);
    switch (what % 4) {
    case 0:
        if (w->vf_ad[0])
            fw_check(w, vw_remove_vf(w, 0, what & 0x10), "VF removal");
        else
            fw_check(w, vw_add_vf(w, 0, mac), "VF arrival");
        break;
    case 1:
        if (w->vfo_ad[0])
            fw_check(w, vw_remove_virtio(w, 0, what & 0x10), "virtio removal");
        else
            fw_check(w, vw_add_virtio(w, 0, NULL, NULL), "virtio arrival");
        break;
    default:
        fw_check(w, emu_run_for(w->rt, (uint64_t)fz_u16(in) * 1000u), "run for");
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vfo_world *w = fw_get();
    fz_input in = { data, size, 0 };
    fw_check(w, vw_add_virtio(w, 0, NULL, NULL), "virtio arrival");
    for (unsigned op = 0; op < MAX_OPS && fz_more(&in); op++) {
        switch (fz_u8(&in) % 6) {
        case 0:
            open_handle(w, &in);
            break;
        case 1:
        case 2:
            ioctl_op(w, &in, false);
            break;
        case 3:
            ioctl_op(w, &in, true);
            break;
        case 4:
            close_op(w, &in);
            break;
        default:
            world_op(w, &in);
            break;
        }
    }
    for (unsigned i = 0; i < MAX_HANDLES; i++) {
        if (g_h[i])
            emu_ctl_close(g_h[i]);
        g_h[i] = NULL;
    }
    fw_end(w);
    return 0;
}
