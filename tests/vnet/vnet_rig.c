/*
 * vnet_rig.c - see vnet_rig.h.
 */
#include "vnet_rig.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

const uint8_t rig_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void capture(void *ctx, emu_vnet *dev, const uint8_t *frame, size_t len,
                    const emu_vnet_meta *meta)
{
    vnet_rig *r = ctx;
    rig_frame *f;

    (void)dev;
    assert_true(r->ntx < RIG_MAX_FRAMES);
    f = &r->tx[r->ntx++];
    f->data = malloc(len);
    assert_non_null(f->data);
    memcpy(f->data, frame, len);
    f->len = len;
    f->meta = *meta;
}

static const emu_vnet_backend capture_backend = { .transmit = capture };

static void on_tx_done(void *ctx, void *cookie, vnet_status status)
{
    vnet_rig *r = ctx;

    r->last_cookie = cookie;
    if (status == VNET_OK)
        r->tx_done++;
    else
        r->tx_cancelled++;
}

static void on_resume(void *ctx)
{
    vnet_rig *r = ctx;
    r->resumes++;
}

static const vnet_callbacks rig_callbacks = { .tx_done = on_tx_done, .tx_resume = on_resume };

void rig_ctrl_done(void *ctx, void *cookie, vnet_ctrl_op op, vnet_status status)
{
    vnet_rig *r = ctx;

    r->ctrl.calls++;
    r->ctrl.op = op;
    r->ctrl.status = status;
    r->ctrl.cookie = cookie;
}

typedef struct make_ctx {
    vnet_rig *r;
    const rig_opts *o;
} make_ctx;

static emu_vdev *make_net_device(void *ctx, const emu_vdev_host_ops *host, void *host_ctx,
                                 uint16_t vectors)
{
    make_ctx *m = ctx;
    emu_vnet_params p = { 0 };

    p.host = host;
    p.host_ctx = host_ctx;
    p.msix_vectors = vectors;
    p.features = m->o->dev_features ? m->o->dev_features : EMU_VNET_FEATURES_ALL;
    if (m->o->offer_standby)
        p.features |= EMU_VNET_BIT(EMU_VNET_F_STANDBY);
    if (m->o->no_mac)
        p.features &= ~EMU_VNET_BIT(EMU_VNET_F_MAC);
    memcpy(p.mac, m->o->mac ? m->o->mac : rig_mac, 6);
    p.mtu = m->o->mtu;
    p.rx_queue_size = m->o->queue_size;
    p.tx_queue_size = m->o->queue_size;
    p.link_down = m->o->link_down;
    p.host_announce_rarp = m->o->host_rarp;
    m->r->dev = emu_vnet_create(&p);
    return m->r->dev ? emu_vnet_vdev(m->r->dev) : NULL;
}

vnet_rig *rig_up(const rig_opts *opts)
{
    static const rig_opts defaults = { 0 };
    vnet_rig *r = calloc(1, sizeof(*r));
    make_ctx m = { r, opts ? opts : &defaults };
    vh_params hp = { .num_queues = 3, .process_on_notify = true };

    assert_non_null(r);
    hp.make_device = make_net_device;
    hp.make_ctx = &m;
    r->h = vh_create(&hp);
    assert_non_null(r->h);
    emu_vnet_set_backend(r->dev, &capture_backend, r);
    assert_int_equal(vnet_create(&r->h->ops, r->h, &m.o->params, &rig_callbacks, r, &r->n),
                     VNET_OK);
    assert_true(vh_dma_alloc(r->h, RIG_TX_AREA, &r->tx_area));
    if (!m.o->no_start)
        assert_int_equal(vnet_start(r->n), VNET_OK);
    return r;
}

void rig_clear_tx(vnet_rig *r)
{
    uint32_t i;

    for (i = 0; i < r->ntx; i++)
        free(r->tx[i].data);
    r->ntx = 0;
}

void rig_down(vnet_rig *r)
{
    vnet_destroy(r->n);
    vh_dma_free(r->h, &r->tx_area);
    assert_int_equal(r->h->bad_register_accesses, 0);
    assert_int_equal(vh_check_guards(r->h), 0);
    assert_true(vh_destroy(r->h)); /* no leak, no bad free, guards intact */
    emu_vnet_destroy(r->dev);
    rig_clear_tx(r);
    free(r);
}

static vnet_status send_frame(vnet_rig *r, const uint8_t *frame, size_t len, unsigned pieces,
                              const vnet_tx_offload *off, void *cookie, bool mapped)
{
    vnet_tx_seg segs[64];
    uint8_t *va;
    uint64_t pa;
    size_t done = 0;
    unsigned i;

    assert_true(pieces >= 1 && pieces <= 64 && len <= RIG_TX_AREA);
    if (r->tx_area_used + len > RIG_TX_AREA)
        r->tx_area_used = 0;
    va = (uint8_t *)r->tx_area.va + r->tx_area_used;
    pa = r->tx_area.pa + r->tx_area_used;
    r->tx_area_used += (uint32_t)((len + 63) & ~(size_t)63);
    memcpy(va, frame, len);
    for (i = 0; i < pieces; i++) {
        size_t piece = i + 1 == pieces ? len - done : len / pieces;
        segs[i].pa = pa + done;
        segs[i].va = mapped ? va + done : NULL;
        segs[i].len = (uint32_t)piece;
        done += piece;
    }
    vnet_status st = vnet_tx(r->n, segs, (uint16_t)pieces, off, cookie);
    if (st == VNET_OK)
        vnet_tx_kick(r->n);
    return st;
}

vnet_status rig_send(vnet_rig *r, const uint8_t *frame, size_t len, unsigned pieces,
                     const vnet_tx_offload *off, void *cookie)
{
    return send_frame(r, frame, len, pieces, off, cookie, true);
}

vnet_status rig_send_unmapped(vnet_rig *r, const uint8_t *frame, size_t len, unsigned pieces,
                              const vnet_tx_offload *off, void *cookie)
{
    return send_frame(r, frame, len, pieces, off, cookie, false);
}

size_t rig_recv(vnet_rig *r, uint8_t *buf, size_t cap, vnet_rx_frame *f)
{
    size_t done = 0;
    uint16_t i;

    if (vnet_rx_next(r->n, f) != VNET_OK)
        return 0;
    for (i = 0; i < f->nseg; i++) {
        assert_true(done + f->seg[i].len <= cap);
        memcpy(buf + done, f->seg[i].va, f->seg[i].len);
        done += f->seg[i].len;
    }
    assert_int_equal(done, f->len);
    assert_int_equal(vnet_rx_return(r->n, f->handle), VNET_OK);
    vnet_rx_kick(r->n);
    return done;
}

void rig_make_frame(uint8_t *buf, size_t len, const uint8_t dst[6], uint8_t seed)
{
    size_t i;

    memcpy(buf, dst, 6);
    memcpy(buf + 6, rig_mac, 6);
    buf[12] = 0x88;
    buf[13] = 0xB5;
    for (i = 14; i < len; i++)
        buf[i] = (uint8_t)(seed + i * 7);
}

/* ---- TCP frames, with an independent checksum implementation ---------------- */

static uint32_t sum16(uint32_t s, const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i += 2)
        s += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    return s;
}

static uint16_t fold16(uint32_t s)
{
    while (s >> 16)
        s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)s;
}

static uint32_t pseudo_sum(const uint8_t *f, bool v6, uint32_t tcp_len)
{
    uint32_t s;

    if (v6)
        s = sum16(0, f + 14 + 8, 32);
    else
        s = sum16(0, f + 14 + 12, 8);
    return s + 6 + (tcp_len >> 16) + (tcp_len & 0xFFFF);
}

size_t rig_make_tcp(uint8_t *buf, size_t cap, bool v6, size_t payload, bool partial,
                    uint16_t *csum_start, uint16_t *csum_offset)
{
    size_t ip_len = v6 ? 40 : 20, l4 = 14 + ip_len, len = l4 + 20 + payload, i;
    uint8_t *ip = buf + 14, *tcp = buf + l4;
    uint32_t tcp_len = (uint32_t)(20 + payload);

    assert_true(len <= cap);
    memset(buf, 0, l4 + 20);
    memcpy(buf, rig_mac, 6);
    buf[0] = 0x02; /* some other locally administered station */
    memcpy(buf + 6, rig_mac, 6);
    buf[12] = v6 ? 0x86 : 0x08;
    buf[13] = v6 ? 0xDD : 0x00;
    if (v6) {
        ip[0] = 0x60;
        ip[4] = (uint8_t)(tcp_len >> 8);
        ip[5] = (uint8_t)tcp_len;
        ip[6] = 6;
        ip[7] = 64;
        ip[8] = 0xFD;
        ip[23] = 1;
        ip[24] = 0xFD;
        ip[39] = 2;
    } else {
        uint16_t c;
        ip[0] = 0x45;
        ip[2] = (uint8_t)((20 + tcp_len) >> 8);
        ip[3] = (uint8_t)(20 + tcp_len);
        ip[4] = 0x12;
        ip[5] = 0x34;
        ip[6] = 0x40;
        ip[8] = 64;
        ip[9] = 6;
        ip[12] = 10;
        ip[15] = 1;
        ip[16] = 10;
        ip[19] = 2;
        c = (uint16_t)~fold16(sum16(0, ip, 20));
        ip[10] = (uint8_t)(c >> 8);
        ip[11] = (uint8_t)c;
    }
    tcp[0] = 0x04;
    tcp[1] = 0xD2; /* port 1234 */
    tcp[3] = 80;
    tcp[4] = 0x00;
    tcp[5] = 0x01;
    tcp[6] = 0x86;
    tcp[7] = 0xA0; /* seq 100000 */
    tcp[12] = 5 << 4;
    tcp[13] = 0x18; /* ACK PSH */
    tcp[14] = 0xFF;
    tcp[15] = 0xFF;
    for (i = 0; i < payload; i++)
        tcp[20 + i] = (uint8_t)(i * 7 + 3);
    {
        uint32_t s = pseudo_sum(buf, v6, tcp_len);
        uint16_t c = partial ? fold16(s) : (uint16_t)~fold16(sum16(s, tcp, tcp_len));
        tcp[16] = (uint8_t)(c >> 8);
        tcp[17] = (uint8_t)c;
    }
    *csum_start = (uint16_t)l4;
    *csum_offset = 16;
    return len;
}

bool rig_tcp_checksums_ok(const uint8_t *f, size_t len)
{
    bool v6 = f[12] == 0x86;
    size_t ip_len = v6 ? 40 : (size_t)(f[14] & 0xF) * 4, l4 = 14 + ip_len;
    uint32_t tcp_len = (uint32_t)(len - l4);

    if (!v6 && fold16(sum16(0, f + 14, ip_len)) != 0xFFFF)
        return false;
    if (!v6 && (size_t)((f[16] << 8) | f[17]) != len - 14)
        return false;
    if (v6 && (size_t)((f[18] << 8) | f[19]) != tcp_len)
        return false;
    return fold16(sum16(pseudo_sum(f, v6, tcp_len), f + l4, tcp_len)) == 0xFFFF;
}
