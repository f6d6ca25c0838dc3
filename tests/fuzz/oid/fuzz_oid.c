/*
 * vfo's OID handler through ndisemu: the test protocol (miniprot) bound to
 * vfo's miniport issues whatever the input says (IOCTL_MINIPROT_OID): any
 * request type (query, set, method, query-statistics), any OID (every one
 * include/ddk names, or any 32-bit number), any InformationBuffer length
 * (the buffer is exactly that long) and contents. Requests go out
 * synchronously, queued behind each other, or from platform work at a
 * virtual time the input picks, so they land while vfo pauses and restarts
 * (emu_restart_stack), while its VF comes and goes (vfo replays the
 * recorded settings to the VF on attach), and around power transitions.
 *
 * Persistent mode (fuzz_world.h): vfo.so is loaded once; each input plugs
 * the virtio device (and the VF) in and takes them out again; a verifier
 * rule, a hang or memory a driver still holds afterwards aborts.
 *
 * Checked per request: BytesWritten/BytesRead never exceed the buffer.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "fuzz_world.h"
#include "miniprot.h"
#include "oid_table.h"

#define MAX_OPS     48
#define MAX_LATER   8
#define MAX_REQUEST (sizeof(miniprot_oid) + 4096)

typedef struct request {
    uint8_t bytes[MAX_REQUEST];
    size_t len;
    size_t out_len;
} request;

static const NDIS_REQUEST_TYPE types[4] = { NdisRequestQueryInformation, NdisRequestSetInformation,
                                            NdisRequestMethod, NdisRequestQueryStatistics };

static void read_request(fz_input *in, request *rq)
{
    miniprot_oid q;
    memset(&q, 0, sizeof(q));
    uint8_t t = fz_u8(in);
    q.type = (unsigned)types[t & 3];
    uint8_t sel = fz_u8(in);
    q.oid =
        (sel & 0x80) ? fz_u32(in) : known_oids[sel % (sizeof(known_oids) / sizeof(known_oids[0]))];
    uint8_t l = fz_u8(in);
    /* Mostly short lengths; 0xFF: any 16-bit length (past MAX_REQUEST the
     * buffer is zero-filled beyond what the input gives). */
    q.buf_len = l == 0xFF ? fz_u16(in) : l;
    if (q.buf_len > MAX_REQUEST - sizeof(q))
        q.buf_len = MAX_REQUEST - sizeof(q);
    if (q.type == NdisRequestSetInformation)
        q.in_len = q.buf_len;
    else if (q.type == NdisRequestMethod) {
        q.method_id = fz_u8(in);
        q.in_len = q.buf_len ? fz_u16(in) % (q.buf_len + 1) : 0;
    }
    memcpy(rq->bytes, &q, sizeof(q));
    fz_bytes(in, rq->bytes + sizeof(q), q.in_len);
    rq->len = sizeof(q) + q.in_len;
    rq->out_len = sizeof(miniprot_oid_result) + q.buf_len;
}

/* What a miniport reports must stay inside the buffer it was given. */
static void check_result(const request *rq, int32_t nt, const void *out, size_t returned)
{
    miniprot_oid q;
    miniprot_oid_result res;
    if (nt != 0 || returned < sizeof(res))
        return; /* refused before it reached NDIS (no binding, ...) */
    memcpy(&q, rq->bytes, sizeof(q));
    memcpy(&res, out, sizeof(res));
    if (res.status == NDIS_STATUS_SUCCESS && (res.written > q.buf_len || res.read > q.buf_len)) {
        fprintf(stderr, "fuzz_oid: OID %#x type %u: %u bytes written, %u read, buffer %u\n", q.oid,
                q.type, res.written, res.read, q.buf_len);
        abort();
    }
}

static void async_done(void *ctx, int32_t nt, const void *out, size_t returned)
{
    check_result(ctx, nt, out, returned);
    free(ctx);
}

static void send_async(vfo_world *w, const request *rq)
{
    request *copy = malloc(sizeof(*copy));
    if (!copy)
        abort();
    *copy = *rq;
    if (emu_ctl_ioctl_async(w->pt_ctl, IOCTL_MINIPROT_OID, copy->bytes, copy->len, copy->out_len,
                            async_done, copy) != EMU_OK)
        free(copy);
}

static void send_sync(vfo_world *w, const request *rq)
{
    static uint8_t out[sizeof(miniprot_oid_result) + MAX_REQUEST];
    size_t ret = 0;
    int32_t nt = 0;
    int err = emu_ctl_ioctl(w->pt_ctl, IOCTL_MINIPROT_OID, rq->bytes, rq->len, out, rq->out_len,
                            &ret, &nt);
    fw_check(w, err, "OID request");
    if (!err)
        check_result(rq, nt, out, ret);
}

/* Requests sent from platform work, at a virtual time of the input's. */
static struct later {
    vfo_world *w;
    request rq;
    uint64_t id;
} g_later[MAX_LATER];

static void later_fire(void *arg)
{
    struct later *l = arg;
    l->id = 0;
    send_async(l->w, &l->rq);
}

static void send_later(vfo_world *w, fz_input *in)
{
    uint64_t delay = (uint64_t)fz_u16(in) * 1000u;
    request rq;
    read_request(in, &rq);
    for (unsigned i = 0; i < MAX_LATER; i++) {
        if (g_later[i].id)
            continue;
        g_later[i].w = w;
        g_later[i].rq = rq;
        g_later[i].id = emu_schedule(w->rt, delay, later_fire, &g_later[i]);
        return;
    }
}

static void toggle_vf(vfo_world *w, fz_input *in)
{
    uint8_t how = fz_u8(in);
    if (w->vf_ad[0]) {
        fw_check(w, vw_remove_vf(w, 0, how & 1), "VF removal");
        return;
    }
    uint8_t mac[6];
    vw_mac(0, mac);
    if (how & 2)
        mac[5] ^= 0x80; /* not the pair's MAC: vfo must leave it alone */
    fw_check(w, (how & 4) ? vw_plug_vf(w, 0, mac) : vw_add_vf(w, 0, mac), "VF arrival");
}

static int g_power;

static void run_op(vfo_world *w, fz_input *in)
{
    request rq;
    switch (fz_u8(in) % 8) {
    case 0:
    case 1:
        read_request(in, &rq);
        send_sync(w, &rq);
        break;
    case 2:
        read_request(in, &rq);
        send_async(w, &rq);
        break;
    case 3:
        send_later(w, in);
        break;
    case 4: {
        int err = emu_restart_stack(w->rt, w->vfo_ad[0]);
        fw_check(w, err, "pause and restart");
        break;
    }
    case 5:
        toggle_vf(w, in);
        break;
    case 6:
        fw_check(w, emu_run_for(w->rt, (uint64_t)fz_u16(in) * 1000u), "run for");
        break;
    default:
        g_power = g_power ? 0 : 3;
        fw_check(w, emu_set_power(w->rt, w->vfo_ad[0], g_power), "power");
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    vfo_world *w = fw_get();
    fz_input in = { data, size, 0 };
    g_power = 0;
    fw_check(w, vw_add_virtio(w, 0, NULL, NULL), "virtio arrival");
    for (unsigned op = 0; op < MAX_OPS && fz_more(&in); op++)
        run_op(w, &in);
    fw_check(w, emu_run_until_idle(w->rt), "run until idle");
    for (unsigned i = 0; i < MAX_LATER; i++) {
        if (g_later[i].id && emu_cancel(w->rt, g_later[i].id))
            g_later[i].id = 0;
    }
    if (g_power)
        fw_check(w, emu_set_power(w->rt, w->vfo_ad[0], 0), "power");
    fw_end(w);
    return 0;
}
