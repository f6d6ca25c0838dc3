/*
 * The virtio-net model on its own, driven by a raw lib/virtio driver that
 * builds commands and buffers lib/vnet never would: QEMU's receive filter
 * and MAC-table semantics, malformed control commands, feature rules,
 * buffers of the wrong kind or size, the transmit header rules, reset,
 * events for a hypervisor model, the pair backend's backlog, and the
 * offload helpers' refusals.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vnet_rig.h"

#define F(bit) EMU_VNET_BIT(bit)

typedef struct raw {
    vio_harness *h;
    emu_vnet *dev;
    vio_dev *vdev;
    vio_vq *vq[3];
    vio_dma mem; /* commands at 0, receive buffers from 4096, frames to send from 32768 */
    uint32_t transmitted;
    uint64_t features_seen;
    uint32_t driver_oks, resets;
} raw;

static emu_vdev *make(void *ctx, const emu_vdev_host_ops *host, void *host_ctx, uint16_t vectors)
{
    raw *r = ctx;
    emu_vnet_params p = { .host = host, .host_ctx = host_ctx, .msix_vectors = vectors };

    p.features = EMU_VNET_FEATURES_ALL | F(EMU_VNET_F_STANDBY);
    memcpy(p.mac, rig_mac, 6);
    r->dev = emu_vnet_create(&p);
    return emu_vnet_vdev(r->dev);
}

static void count_tx(void *ctx, emu_vnet *dev, const uint8_t *f, size_t len, const emu_vnet_meta *m)
{
    raw *r = ctx;

    (void)dev;
    (void)f;
    (void)len;
    (void)m;
    r->transmitted++;
}

static const emu_vnet_backend counter = { .transmit = count_tx };

static void on_features(void *ctx, emu_vnet *dev, uint64_t features)
{
    raw *r = ctx;
    (void)dev;
    r->features_seen = features;
}

static void on_driver_ok(void *ctx, emu_vnet *dev)
{
    raw *r = ctx;
    (void)dev;
    r->driver_oks++;
}

static void on_reset(void *ctx, emu_vnet *dev)
{
    raw *r = ctx;
    (void)dev;
    r->resets++;
}

static const emu_vnet_events events = { on_features, on_driver_ok, on_reset };

/* Negotiates `features` (device-specific bits; VERSION_1 is added) and
 * creates the three queues, DRIVER_OK if everything worked. */
static raw *raw_up(uint64_t features, vio_status *negotiated)
{
    raw *r = calloc(1, sizeof(*r));
    vh_params hp = { .num_queues = 3, .process_on_notify = true, .make_device = make };
    unsigned q;

    assert_non_null(r);
    hp.make_ctx = r;
    r->h = vh_create(&hp);
    assert_non_null(r->h);
    emu_vnet_set_backend(r->dev, &counter, r);
    emu_vnet_set_events(r->dev, &events, r);
    assert_true(vh_dma_alloc(r->h, 65536, &r->mem));
    *negotiated = vh_driver_init(r->h, features, &r->vdev);
    if (*negotiated != VIO_OK)
        return r;
    for (q = 0; q < 3; q++) {
        vio_vq_params qp = { .index = (uint16_t)q, .msix_vector = (uint16_t)q };
        assert_int_equal(vio_vq_create(r->vdev, &qp, &r->vq[q]), VIO_OK);
    }
    assert_int_equal(vio_dev_driver_ok(r->vdev), VIO_OK);
    return r;
}

static void raw_down(raw *r)
{
    if (r->vq[0])
        vh_driver_teardown(r->h, r->vdev, r->vq, 3);
    else
        vio_dev_destroy(r->vdev);
    vh_dma_free(r->h, &r->mem);
    assert_true(vh_destroy(r->h));
    emu_vnet_destroy(r->dev);
    free(r);
}

/* Sends a control command built byte by byte; returns the ack (or 0xEE if
 * none was written). */
static uint8_t raw_ctrl(raw *r, const uint8_t *cmd, uint32_t len)
{
    uint8_t *va = r->mem.va;
    vio_sg sg[2] = { { r->mem.pa, len }, { r->mem.pa + 4000, 1 } };
    void *token;
    uint32_t used;

    memcpy(va, cmd, len);
    va[4000] = 0xEE;
    assert_int_equal(vio_vq_add(r->vq[2], sg, 1, 1, r, VIO_ADD_DIRECT), VIO_OK);
    vio_vq_kick(r->vq[2]);
    assert_int_equal(vio_vq_get_used(r->vq[2], &token, &used), VIO_OK);
    return va[4000];
}

static const uint64_t base = F(EMU_VNET_F_CTRL_VQ) | F(EMU_VNET_F_CTRL_RX) | F(EMU_VNET_F_MAC);

/* Posts `n` receive buffers of `size` bytes. */
static void raw_post(raw *r, unsigned n, uint32_t size)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        vio_sg sg = { r->mem.pa + 4096 + i * 2048u, size };
        assert_int_equal(vio_vq_add(r->vq[0], &sg, 0, 1, r, VIO_ADD_DIRECT), VIO_OK);
    }
    vio_vq_kick(r->vq[0]);
}

static emu_vnet_rx_result offer(raw *r, const uint8_t dst[6], uint16_t vlan)
{
    uint8_t f[64];

    rig_make_frame(f, sizeof(f), dst, 0);
    if (vlan) {
        f[12] = 0x81;
        f[13] = 0x00;
        f[14] = (uint8_t)(vlan >> 8);
        f[15] = (uint8_t)vlan;
    }
    return emu_vnet_receive(r->dev, f, sizeof(f), NULL);
}

static void receive_filter_follows_qemu(void **state)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t other[6] = { 0x02, 9, 9, 9, 9, 9 };
    static const uint8_t group[6] = { 0x01, 0x00, 0x5e, 0, 0, 7 };
    static const uint8_t promisc_off[] = { 0, 0, 0 };
    static const uint8_t allmulti_on[] = { 0, 1, 1 };
    uint8_t table[2 + 4 + 6 + 4 + 6] = { 1, 0, 1, 0, 0, 0 };
    static const uint8_t empty_tables[2 + 4 + 4] = { 1, 0 };
    static const uint8_t vlan_add[] = { 2, 0, 10, 0 };
    vio_status st;
    raw *r = raw_up(base | F(EMU_VNET_F_CTRL_VLAN), &st);

    (void)state;
    raw_post(r, 16, 2048);
    assert_int_equal(offer(r, other, 0), EMU_VNET_RX_DELIVERED); /* promiscuous after reset */
    assert_int_equal(raw_ctrl(r, promisc_off, 3), 0);
    assert_int_equal(offer(r, rig_mac, 0), EMU_VNET_RX_DELIVERED);
    assert_int_equal(offer(r, other, 0), EMU_VNET_RX_FILTERED);
    assert_int_equal(offer(r, bcast, 0), EMU_VNET_RX_DELIVERED);
    assert_int_equal(offer(r, group, 0), EMU_VNET_RX_FILTERED);
    memcpy(table + 6, other, 6);
    table[12] = 1;
    memcpy(table + 16, group, 6);
    assert_int_equal(raw_ctrl(r, table, sizeof(table)), 0);
    assert_int_equal(offer(r, other, 0), EMU_VNET_RX_DELIVERED);
    assert_int_equal(offer(r, group, 0), EMU_VNET_RX_DELIVERED);
    /* VLAN filter: nothing tagged passes until added. */
    assert_int_equal(offer(r, rig_mac, 10), EMU_VNET_RX_FILTERED);
    assert_int_equal(raw_ctrl(r, vlan_add, 4), 0);
    assert_int_equal(offer(r, rig_mac, 10), EMU_VNET_RX_DELIVERED);
    assert_int_equal(offer(r, rig_mac, 11), EMU_VNET_RX_FILTERED);
    assert_int_equal(raw_ctrl(r, empty_tables, sizeof(empty_tables)), 0);
    assert_int_equal(offer(r, group, 0), EMU_VNET_RX_FILTERED);
    assert_int_equal(raw_ctrl(r, allmulti_on, 3), 0);
    assert_int_equal(offer(r, group, 0), EMU_VNET_RX_DELIVERED);
    assert_int_equal(emu_vnet_get_stats(r->dev)->rx_filtered, 5);
    raw_down(r);
}

static void vlans_all_pass_without_ctrl_vlan(void **state)
{
    static const uint8_t promisc_off[] = { 0, 0, 0 };
    vio_status st;
    raw *r = raw_up(base, &st);

    (void)state;
    raw_post(r, 4, 2048);
    assert_int_equal(raw_ctrl(r, promisc_off, 3), 0);
    assert_int_equal(offer(r, rig_mac, 4000), EMU_VNET_RX_DELIVERED);
    raw_down(r);
}

static void mac_table_overflow_and_malformed_commands(void **state)
{
    static uint8_t big[2 + 4 + 70 * 6 + 4];
    static const uint8_t bad[][8] = {
        { 0, 0, 1, 1 },             /* PROMISC with 2 data bytes */
        { 0, 7, 1 },                /* unknown RX command */
        { 1, 1, 1, 2, 3 },          /* MAC_ADDR_SET with 3 bytes */
        { 1, 0, 5, 0, 0, 0 },       /* table claims 5 entries, has none */
        { 1, 0, 0, 0, 0, 0, 1, 0 }, /* second count truncated */
        { 2, 0, 0x00, 0x10 },       /* VLAN 4096 */
        { 3, 0 },                   /* ANNOUNCE_ACK nobody asked for */
        { 9, 0 },                   /* unknown class */
        { 0 },                      /* a one-byte command */
    };
    static const uint8_t lens[] = { 4, 3, 5, 6, 8, 4, 2, 2, 1 };
    emu_vnet_filter flt;
    vio_status st;
    raw *r = raw_up(base | F(EMU_VNET_F_CTRL_VLAN) | F(EMU_VNET_F_GUEST_ANNOUNCE), &st);
    size_t i;

    (void)state;
    big[0] = 1;
    big[2] = 70; /* unicast entries: over QEMU's 64 */
    for (i = 0; i < 70; i++)
        big[6 + i * 6] = 0x02;
    assert_int_equal(raw_ctrl(r, big, sizeof(big)), 0);
    emu_vnet_get_filter(r->dev, &flt);
    assert_true(flt.uni_overflow);
    assert_false(flt.multi_overflow);
    assert_int_equal(flt.n_uc, 0);
    for (i = 0; i < sizeof(lens); i++)
        assert_int_equal(raw_ctrl(r, bad[i], lens[i]), 1);
    emu_vnet_get_filter(r->dev, &flt);
    assert_true(flt.uni_overflow); /* the malformed tables changed nothing */
    assert_int_equal(emu_vnet_get_stats(r->dev)->ctrl_err, sizeof(lens));
    raw_down(r);
}

static void commands_need_their_features(void **state)
{
    static const uint8_t set_mac[] = { 1, 1, 0x02, 1, 2, 3, 4, 5 };
    static const uint8_t vlan[] = { 2, 0, 5, 0 };
    vio_status st;
    raw *r = raw_up(F(EMU_VNET_F_CTRL_VQ), &st);

    (void)state;
    assert_int_equal(raw_ctrl(r, set_mac, sizeof(set_mac)), 1);
    assert_int_equal(raw_ctrl(r, vlan, sizeof(vlan)), 1);
    raw_down(r);
}

static void feature_rules_are_enforced(void **state)
{
    uint64_t bad[] = {
        F(EMU_VNET_F_HOST_TSO4),  /* without CSUM */
        F(EMU_VNET_F_GUEST_TSO6), /* without GUEST_CSUM */
        F(EMU_VNET_F_CTRL_RX),    /* without CTRL_VQ */
    };
    vio_status st;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        raw *r = raw_up(bad[i], &st);
        assert_int_equal(st, VIO_E_FEATURES_REFUSED);
        raw_down(r);
    }
}

static void events_for_the_hypervisor(void **state)
{
    vio_status st;
    raw *r = raw_up(base | F(EMU_VNET_F_STANDBY), &st);
    uint32_t resets;

    (void)state;
    assert_true(r->features_seen & F(EMU_VNET_F_STANDBY));
    assert_true(emu_vnet_standby_acked(r->dev));
    assert_int_equal(r->driver_oks, 1);
    resets = r->resets; /* the driver's own reset at initialisation counts */
    vio_dev_reset(r->vdev);
    assert_int_equal(r->resets, resets + 1);
    assert_false(emu_vnet_standby_acked(r->dev));
    raw_down(r);
}

static void reset_restores_qemu_defaults(void **state)
{
    static const uint8_t promisc_off[] = { 0, 0, 0 };
    static const uint8_t set_mac[] = { 1, 1, 0x02, 1, 2, 3, 4, 5 };
    emu_vnet_filter flt;
    vio_status st;
    raw *r = raw_up(base | F(EMU_VNET_F_CTRL_MAC_ADDR) | F(EMU_VNET_F_GUEST_ANNOUNCE), &st);
    uint8_t cfg_mac[6];

    (void)state;
    assert_int_equal(raw_ctrl(r, promisc_off, 3), 0);
    assert_int_equal(raw_ctrl(r, set_mac, sizeof(set_mac)), 0);
    assert_int_equal(vio_dev_config_read(r->vdev, 0, cfg_mac, 6), VIO_OK);
    assert_memory_equal(cfg_mac, set_mac + 2, 6); /* reflected in config */
    assert_true(emu_vnet_announce(r->dev));
    vh_driver_teardown(r->h, r->vdev, r->vq, 3);
    memset(r->vq, 0, sizeof(r->vq));
    emu_vnet_get_filter(r->dev, &flt);
    assert_true(flt.promisc);
    assert_memory_equal(flt.mac, rig_mac, 6);
    assert_false(emu_vnet_announce_pending(r->dev));
    assert_int_equal(vh_driver_init(r->h, base, &r->vdev), VIO_OK);
    assert_int_equal(vio_dev_config_read(r->vdev, 0, cfg_mac, 6), VIO_OK);
    assert_memory_equal(cfg_mac, rig_mac, 6);
    raw_down(r);
}

static void wrong_receive_buffers(void **state)
{
    uint8_t f[200];
    vio_status st;
    raw *r = raw_up(base, &st); /* no MRG_RXBUF */

    (void)state;
    rig_make_frame(f, sizeof(f), rig_mac, 0);
    assert_int_equal(emu_vnet_receive(r->dev, f, sizeof(f), NULL), EMU_VNET_RX_NO_BUFFERS);
    raw_post(r, 1, 100); /* too small for header + 200 bytes */
    assert_int_equal(emu_vnet_receive(r->dev, f, sizeof(f), NULL), EMU_VNET_RX_BAD_FRAME);
    assert_int_equal(emu_vnet_receive(r->dev, f, 60, NULL), EMU_VNET_RX_DELIVERED);
    /* A receive buffer the device could read from is the driver's error. */
    {
        vio_sg sg = { r->mem.pa + 4096, 1000 };
        assert_int_equal(vio_vq_add(r->vq[0], &sg, 1, 0, r, VIO_ADD_DIRECT), VIO_OK);
        vio_vq_kick(r->vq[0]);
    }
    assert_int_equal(emu_vnet_receive(r->dev, f, 60, NULL), EMU_VNET_RX_NOT_READY);
    assert_true(vio_dev_needs_reset(r->vdev));
    assert_int_equal(emu_vnet_get_stats(r->dev)->rx_bad_buffer, 1);
    raw_down(r);
}

/* Transmits header + frame from guest memory. */
static void raw_send(raw *r, const uint8_t hdr[12], size_t len)
{
    uint8_t *va = (uint8_t *)r->mem.va + 32768;
    vio_sg sg = { r->mem.pa + 32768, (uint32_t)(12 + len) };
    void *token;

    memcpy(va, hdr, 12);
    rig_make_frame(va + 12, len, rig_mac, 1);
    assert_int_equal(vio_vq_add(r->vq[1], &sg, 1, 0, r, VIO_ADD_DIRECT), VIO_OK);
    vio_vq_kick(r->vq[1]);
    assert_int_equal(vio_vq_get_used(r->vq[1], &token, NULL), VIO_OK);
}

static void transmit_header_rules(void **state)
{
    static const uint8_t plain[12] = { 0 };
    static const uint8_t csum[12] = { 1, 0, 0, 0, 0, 0, 34, 0, 16, 0 };
    static const uint8_t gso[12] = { 1, 1, 54, 0, 0x10, 0, 34, 0, 16, 0 };
    static const uint8_t csum_out[12] = { 1, 0, 0, 0, 0, 0, 250, 0, 16, 0 };
    vio_status st;
    raw *r = raw_up(base, &st); /* no CSUM, no HOST_TSO */

    (void)state;
    raw_send(r, plain, 100);
    raw_send(r, csum, 100);
    raw_send(r, gso, 100);
    raw_send(r, plain, 10);   /* shorter than an Ethernet header */
    raw_send(r, plain, 1519); /* no MTU negotiated: no MTU limit */
    assert_int_equal(r->transmitted, 2);
    assert_int_equal(emu_vnet_get_stats(r->dev)->tx_bad_header, 3);
    raw_down(r);

    r = raw_up(base | F(EMU_VNET_F_CSUM) | F(EMU_VNET_F_MTU), &st);
    raw_send(r, csum, 100);
    raw_send(r, csum_out, 100); /* checksum offset past the end */
    raw_send(r, plain, 1519);   /* longer than MTU + 18 */
    assert_int_equal(r->transmitted, 1);
    assert_int_equal(emu_vnet_get_stats(r->dev)->tx_bad_header, 2);
    raw_down(r);
}

static void receive_before_the_driver_is_ready(void **state)
{
    vio_status st;
    raw *r = raw_up(base, &st);
    uint8_t f[64];

    (void)state;
    rig_make_frame(f, sizeof(f), rig_mac, 0);
    vio_dev_reset(r->vdev);
    assert_int_equal(emu_vnet_receive(r->dev, f, sizeof(f), NULL), EMU_VNET_RX_NOT_READY);
    assert_int_equal(emu_vnet_get_stats(r->dev)->rx_not_ready, 1);
    raw_down(r);
}

static void offload_helpers_refuse_what_they_cannot_do(void **state)
{
    emu_vnet_meta m = { .gso_type = EMU_VNET_GSO_TCPV4, .gso_size = 100 };
    uint8_t f[200];

    (void)state;
    rig_make_frame(f, sizeof(f), rig_mac, 0); /* not TCP */
    assert_false(emu_vnet_csum_complete(f, sizeof(f), 190, 16));
    assert_true(emu_vnet_csum_complete(f, sizeof(f), 34, 16));
    assert_int_equal(emu_vnet_gso_segment(f, sizeof(f), &m, NULL, NULL), 0);
    m.gso_size = 0;
    assert_int_equal(emu_vnet_gso_segment(f, sizeof(f), &m, NULL, NULL), 0);
}

/* ---- the pair backend ------------------------------------------------------ */

static void pair_backlog_waits_for_buffers(void **state)
{
    rig_opts small = { .queue_size = 8, .params.rx_ring = 8 };
    vnet_rig *a = rig_up(NULL), *b = rig_up(&small);
    emu_vnet_pair *p = emu_vnet_pair_create(a->dev, b->dev, 4);
    vnet_rx_frame held[8], f;
    uint8_t frame[300], got[300];
    const emu_vnet_pair_stats *ps = emu_vnet_pair_get_stats(p);
    int i;

    (void)state;
    assert_non_null(p);
    for (i = 0; i < 8 + 4 + 2; i++) {
        rig_make_frame(frame, sizeof(frame), rig_mac, (uint8_t)i);
        assert_int_equal(rig_send(a, frame, sizeof(frame), 1, NULL, frame), VNET_OK);
    }
    /* 8 delivered into B's ring, 4 wait, 2 did not fit the backlog. */
    assert_int_equal(ps->forwarded[1], 8);
    assert_int_equal(emu_vnet_pair_backlog(p, 1), 4);
    assert_int_equal(ps->dropped[1], 2);
    for (i = 0; i < 8; i++)
        assert_int_equal(vnet_rx_next(b->n, &held[i]), VNET_OK);
    for (i = 0; i < 8; i++)
        assert_int_equal(vnet_rx_return(b->n, held[i].handle), VNET_OK);
    vnet_rx_kick(b->n); /* the device hears of buffers: the backlog drains */
    assert_int_equal(emu_vnet_pair_backlog(p, 1), 0);
    for (i = 8; i < 12; i++) {
        rig_make_frame(frame, sizeof(frame), rig_mac, (uint8_t)i);
        assert_int_equal(rig_recv(b, got, sizeof(got), &f), sizeof(frame));
        assert_memory_equal(got, frame, sizeof(frame)); /* in order */
    }
    assert_int_equal(ps->forwarded[1], 12);
    emu_vnet_pair_destroy(p);
    rig_down(a);
    rig_down(b);
}

static void pair_waits_for_a_driver_that_is_not_up(void **state)
{
    rig_opts later = { .no_start = true };
    vnet_rig *a = rig_up(NULL), *b = rig_up(&later);
    emu_vnet_pair *p = emu_vnet_pair_create(a->dev, b->dev, 0);
    uint8_t frame[300], got[300];
    vnet_rx_frame f;

    (void)state;
    rig_make_frame(frame, sizeof(frame), rig_mac, 3);
    assert_int_equal(rig_send(a, frame, sizeof(frame), 1, NULL, frame), VNET_OK);
    assert_int_equal(emu_vnet_pair_backlog(p, 1), 1);
    assert_int_equal(vnet_start(b->n), VNET_OK); /* DRIVER_OK runs every queue once */
    assert_int_equal(emu_vnet_pair_backlog(p, 1), 0);
    assert_int_equal(rig_recv(b, got, sizeof(got), &f), sizeof(frame));
    assert_memory_equal(got, frame, sizeof(frame));
    /* And the other way. */
    assert_int_equal(rig_send(b, frame, sizeof(frame), 1, NULL, frame), VNET_OK);
    assert_int_equal(rig_recv(a, got, sizeof(got), &f), sizeof(frame));
    emu_vnet_pair_destroy(p);
    rig_down(a);
    rig_down(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(receive_filter_follows_qemu),
        cmocka_unit_test(vlans_all_pass_without_ctrl_vlan),
        cmocka_unit_test(mac_table_overflow_and_malformed_commands),
        cmocka_unit_test(commands_need_their_features),
        cmocka_unit_test(feature_rules_are_enforced),
        cmocka_unit_test(events_for_the_hypervisor),
        cmocka_unit_test(reset_restores_qemu_defaults),
        cmocka_unit_test(wrong_receive_buffers),
        cmocka_unit_test(transmit_header_rules),
        cmocka_unit_test(receive_before_the_driver_is_ready),
        cmocka_unit_test(offload_helpers_refuse_what_they_cannot_do),
        cmocka_unit_test(pair_backlog_waits_for_buffers),
        cmocka_unit_test(pair_waits_for_a_driver_that_is_not_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
