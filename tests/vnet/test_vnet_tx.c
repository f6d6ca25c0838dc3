/*
 * Transmit path against the virtio-net model: copied, direct and indirect
 * layouts, checksum / TSO / VLAN requests into the virtio header, requests
 * refused, ring-full back-pressure and recovery, stop with frames in
 * flight, and offloads end to end through the pair backend (checksum and
 * segmentation translated both ways).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vnet_rig.h"

#define F(bit) VIO_FEATURE(bit)

static uint8_t frame[70000], got[70000];
static const uint8_t peer[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x09 };

static vnet_stats stats_of(vnet_rig *r)
{
    vnet_stats s;
    vnet_get_stats(r->n, &s);
    return s;
}

static void layouts_carry_the_same_bytes(void **state)
{
    vnet_rig *r = rig_up(NULL);
    struct {
        size_t len;
        unsigned pieces;
        bool mapped;
        uint64_t copied, indirect;
    } cases[] = {
        { 60, 1, true, 1, 0 },     /* copied next to the header */
        { 128, 4, true, 1, 0 },    /* still copied: all mapped */
        { 100, 3, false, 0, 1 },   /* no va: cannot copy, 4 descriptors */
        { 1000, 1, true, 0, 0 },   /* header + one segment: direct */
        { 1514, 2, true, 0, 1 },   /* three descriptors: indirect */
        { 1514, 31, false, 0, 1 }, /* the most segments a frame may have */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        vnet_stats before = stats_of(r), after;
        vnet_status st;

        rig_make_frame(frame, cases[i].len, peer, (uint8_t)i);
        if (cases[i].mapped)
            st = rig_send(r, frame, cases[i].len, cases[i].pieces, NULL, frame);
        else
            st = rig_send_unmapped(r, frame, cases[i].len, cases[i].pieces, NULL, frame);
        assert_int_equal(st, VNET_OK);
        assert_int_equal(vnet_tx_reap(r->n, 64), 1);
        after = stats_of(r);
        assert_int_equal(after.tx.copied - before.tx.copied, cases[i].copied);
        assert_int_equal(after.tx.indirect - before.tx.indirect, cases[i].indirect);
        assert_int_equal(r->ntx, 1);
        assert_int_equal(r->tx[0].len, cases[i].len);
        assert_memory_equal(r->tx[0].data, frame, cases[i].len);
        assert_int_equal(r->tx[0].meta.flags, 0);
        assert_int_equal(r->tx[0].meta.gso_type, EMU_VNET_GSO_NONE);
        rig_clear_tx(r);
    }
    assert_int_equal(r->tx_done, 6);
    assert_ptr_equal(r->last_cookie, frame);
    rig_down(r);
}

static void checksum_request_becomes_partial_checksum(void **state)
{
    vnet_rig *r = rig_up(NULL);
    vnet_tx_offload off = { .flags = VNET_TXO_CSUM };
    uint16_t cs, co;
    size_t len;
    int v6;

    (void)state;
    for (v6 = 0; v6 < 2; v6++) {
        len = rig_make_tcp(frame, sizeof(frame), v6, 900, true, &cs, &co);
        off.csum_start = cs;
        off.csum_offset = co;
        assert_int_equal(rig_send(r, frame, len, 3, &off, frame), VNET_OK);
        assert_int_equal(r->tx[v6].meta.flags, EMU_VNET_META_CSUM_PARTIAL);
        assert_int_equal(r->tx[v6].meta.csum_start, cs);
        assert_int_equal(r->tx[v6].meta.csum_offset, co);
        assert_true(emu_vnet_csum_complete(r->tx[v6].data, len, cs, co));
        assert_true(rig_tcp_checksums_ok(r->tx[v6].data, len));
    }
    assert_int_equal(stats_of(r).tx.csum, 2);
    rig_down(r);
}

static void tso_request_becomes_gso_header(void **state)
{
    vnet_rig *r = rig_up(NULL);
    vnet_tx_offload off = { .mss = 1448 };
    uint16_t cs, co;
    size_t len;
    int v6;

    (void)state;
    for (v6 = 0; v6 < 2; v6++) {
        len = rig_make_tcp(frame, sizeof(frame), v6, 64000, true, &cs, &co);
        off.flags = v6 ? VNET_TXO_TSO6 : VNET_TXO_TSO4;
        off.csum_start = cs;
        off.csum_offset = co;
        off.hdr_len = (uint16_t)(cs + 20);
        assert_int_equal(rig_send_unmapped(r, frame, len, 16, &off, frame), VNET_OK);
        assert_int_equal(r->tx[v6].meta.gso_type, v6 ? EMU_VNET_GSO_TCPV6 : EMU_VNET_GSO_TCPV4);
        assert_int_equal(r->tx[v6].meta.gso_size, 1448);
        assert_int_equal(r->tx[v6].meta.hdr_len, cs + 20);
        assert_int_equal(r->tx[v6].meta.flags, EMU_VNET_META_CSUM_PARTIAL);
        assert_int_equal(r->tx[v6].len, len);
        assert_memory_equal(r->tx[v6].data, frame, len);
    }
    assert_int_equal(stats_of(r).tx.tso, 2);
    rig_down(r);
}

static void vlan_tag_is_inserted(void **state)
{
    vnet_rig *r = rig_up(NULL);
    vnet_tx_offload off = { .flags = VNET_TXO_VLAN | VNET_TXO_CSUM, .vlan_tci = 0x6123 };
    uint16_t cs, co;
    size_t len;
    unsigned pieces;

    (void)state;
    for (pieces = 1; pieces <= 5; pieces += 4) {
        /* 90 bytes are copied whole; 1200 go out from offset 12 of the OS's memory. */
        size_t payload = pieces == 1 ? 20 : 1130;
        len = rig_make_tcp(frame, sizeof(frame), false, payload, true, &cs, &co);
        off.csum_start = cs;
        off.csum_offset = co;
        assert_int_equal(rig_send(r, frame, len, pieces, &off, frame), VNET_OK);
        memcpy(got, frame, 12);
        got[12] = 0x81;
        got[13] = 0x00;
        got[14] = 0x61;
        got[15] = 0x23;
        memcpy(got + 16, frame + 12, len - 12);
        assert_int_equal(r->tx[r->ntx - 1].len, len + 4);
        assert_memory_equal(r->tx[r->ntx - 1].data, got, len + 4);
        assert_int_equal(r->tx[r->ntx - 1].meta.csum_start, cs + 4);
    }
    assert_int_equal(stats_of(r).tx.vlan, 2);
    rig_down(r);
}

static void bad_requests_are_refused(void **state)
{
    rig_opts o = { .params.features_off = F(VNET_F_HOST_TSO6) };
    vnet_rig *r = rig_up(&o);
    vnet_tx_offload off = { 0 };
    uint16_t cs, co;
    size_t len = rig_make_tcp(frame, sizeof(frame), false, 1000, true, &cs, &co);
    vnet_stats s;

    (void)state;
    off =
        (vnet_tx_offload){ .flags = VNET_TXO_CSUM, .csum_start = (uint16_t)len, .csum_offset = 16 };
    assert_int_equal(rig_send(r, frame, len, 1, &off, frame), VNET_E_TX_OFFLOAD);
    off = (vnet_tx_offload){
        .flags = VNET_TXO_TSO4, .csum_start = cs, .csum_offset = co, .hdr_len = (uint16_t)(cs + 20)
    };
    assert_int_equal(rig_send(r, frame, len, 1, &off, frame), VNET_E_TX_OFFLOAD); /* mss 0 */
    off.mss = 1000;
    off.hdr_len = cs; /* must reach past the checksum start */
    assert_int_equal(rig_send(r, frame, len, 1, &off, frame), VNET_E_TX_OFFLOAD);
    off.flags = VNET_TXO_TSO6;
    off.hdr_len = (uint16_t)(cs + 20);
    assert_int_equal(rig_send(r, frame, len, 1, &off, frame), VNET_E_UNSUPPORTED);
    off.flags = VNET_TXO_TSO4 | VNET_TXO_TSO6;
    assert_int_equal(rig_send(r, frame, len, 1, &off, frame), VNET_E_TX_OFFLOAD);
    off.flags = 0x100;
    assert_int_equal(rig_send(r, frame, len, 1, &off, frame), VNET_E_TX_OFFLOAD);
    assert_int_equal(rig_send(r, frame, 1500, 32, NULL, frame), VNET_E_TX_TOO_MANY_SEGS);
    assert_int_equal(rig_send(r, frame, 13, 1, NULL, frame), VNET_E_TX_LENGTH);
    assert_int_equal(rig_send(r, frame, 1519, 1, NULL, frame), VNET_E_TX_LENGTH);
    off = (vnet_tx_offload){ .flags = VNET_TXO_VLAN };
    assert_int_equal(rig_send_unmapped(r, frame, 1000, 2, &off, frame), VNET_E_INVAL);
    assert_int_equal(rig_send(r, frame, 100, 1, NULL, NULL), VNET_E_INVAL);
    s = stats_of(r);
    assert_int_equal(s.tx.err_offload, 7);
    assert_int_equal(s.tx.err_segs, 1);
    assert_int_equal(s.tx.err_length, 2);
    assert_int_equal(s.tx.frames, 0);
    assert_int_equal(r->ntx, 0);
    rig_down(r);

    o.params.features_off = F(VNET_F_CSUM); /* and so TSO too */
    r = rig_up(&o);
    off = (vnet_tx_offload){ .flags = VNET_TXO_CSUM, .csum_start = cs, .csum_offset = co };
    assert_int_equal(rig_send(r, frame, len, 1, &off, frame), VNET_E_UNSUPPORTED);
    off.flags = VNET_TXO_TSO4;
    off.mss = 1000;
    off.hdr_len = (uint16_t)(cs + 20);
    assert_int_equal(rig_send(r, frame, len, 1, &off, frame), VNET_E_UNSUPPORTED);
    vnet_stop(r->n);
    assert_int_equal(rig_send(r, frame, 100, 1, NULL, frame), VNET_E_STATE);
    rig_down(r);
}

static void full_ring_pushes_back_then_resumes(void **state)
{
    rig_opts o = { .queue_size = 16 };
    vnet_rig *r = rig_up(&o);
    uint64_t irqs;
    int i, cookies[17];

    (void)state;
    vnet_tx_disable_intr(r->n);
    irqs = r->h->msix_raised[1];
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_TX_HOLD, 0, EMU_VDEV_FOREVER);
    rig_make_frame(frame, 100, peer, 1);
    for (i = 0; i < 16; i++)
        assert_int_equal(rig_send(r, frame, 100, 1, NULL, &cookies[i]), VNET_OK);
    assert_int_equal(rig_send(r, frame, 100, 1, NULL, &cookies[16]), VNET_E_RING_FULL);
    assert_int_equal(vnet_tx_pending(r->n), 16);
    assert_int_equal(vnet_tx_reap(r->n, 64), 0);
    assert_int_equal(r->resumes, 0);
    /* The device catches up. */
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_TX_HOLD, 0, 0);
    emu_vnet_release_held(r->dev);
    assert_true(r->h->msix_raised[1] > irqs); /* re-armed although the OS had it off */
    assert_int_equal(vnet_tx_reap(r->n, 64), 16);
    assert_int_equal(r->resumes, 1);
    assert_int_equal(r->ntx, 16);
    assert_int_equal(rig_send(r, frame, 100, 1, NULL, &cookies[16]), VNET_OK);
    assert_int_equal(vnet_tx_reap(r->n, 64), 1);
    assert_ptr_equal(r->last_cookie, &cookies[16]);
    assert_int_equal(stats_of(r).tx.ring_full, 1);
    rig_down(r);
}

static void full_ring_of_chains(void **state)
{
    rig_opts o = { .queue_size = 16, .params.features_off = F(VIO_F_INDIRECT_DESC) };
    vnet_rig *r = rig_up(&o);
    int i;

    (void)state;
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_TX_HOLD, 0, EMU_VDEV_FOREVER);
    rig_make_frame(frame, 1000, peer, 1);
    for (i = 0; i < 3; i++) /* 5 descriptors each */
        assert_int_equal(rig_send(r, frame, 1000, 4, NULL, frame), VNET_OK);
    assert_int_equal(rig_send(r, frame, 1000, 4, NULL, frame), VNET_E_RING_FULL);
    assert_int_equal(rig_send(r, frame, 100, 1, NULL, frame), VNET_OK); /* one fits */
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_TX_HOLD, 0, 0);
    emu_vnet_release_held(r->dev);
    assert_int_equal(vnet_tx_reap(r->n, 64), 4);
    assert_int_equal(r->resumes, 1);
    assert_int_equal(rig_send(r, frame, 1000, 4, NULL, frame), VNET_OK);
    rig_down(r);
}

static void stop_cancels_frames_in_flight(void **state)
{
    vnet_rig *r = rig_up(NULL);
    int i;

    (void)state;
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_TX_HOLD, 0, EMU_VDEV_FOREVER);
    rig_make_frame(frame, 700, peer, 1);
    for (i = 0; i < 5; i++)
        assert_int_equal(rig_send(r, frame, 700, 2, NULL, frame), VNET_OK);
    vnet_stop(r->n);
    assert_int_equal(r->tx_cancelled, 5);
    assert_int_equal(vnet_tx_pending(r->n), 0);
    assert_int_equal(stats_of(r).tx.cancelled, 5);
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_TX_HOLD, 0, 0);
    assert_int_equal(vnet_start(r->n), VNET_OK);
    assert_int_equal(rig_send(r, frame, 700, 2, NULL, frame), VNET_OK);
    assert_int_equal(vnet_tx_reap(r->n, 8), 1);
    assert_int_equal(r->ntx, 1);
    rig_down(r);
}

/* ---- end to end: A's lib/vnet -> A's device -> pair -> B's device -> B's lib/vnet */

typedef struct duo {
    vnet_rig *a, *b;
    emu_vnet_pair *pair;
} duo;

static duo duo_up(uint64_t b_off, bool b_complete_csum)
{
    rig_opts oa = { 0 }, ob = { 0 };
    duo d;

    ob.params.features_off = b_off;
    ob.params.rx_complete_csum = b_complete_csum;
    d.a = rig_up(&oa);
    d.b = rig_up(&ob);
    d.pair = emu_vnet_pair_create(d.a->dev, d.b->dev, 0);
    assert_non_null(d.pair);
    return d;
}

static void duo_down(duo *d)
{
    emu_vnet_pair_destroy(d->pair);
    rig_down(d->a);
    rig_down(d->b);
}

static void checksum_offload_end_to_end(void **state)
{
    vnet_tx_offload off = { .flags = VNET_TXO_CSUM };
    vnet_rx_frame f;
    uint16_t cs, co;
    size_t len = rig_make_tcp(frame, sizeof(frame), false, 1000, true, &cs, &co);
    duo d;

    (void)state;
    off.csum_start = cs;
    off.csum_offset = co;
    /* B takes partial checksums: they arrive partial. */
    d = duo_up(0, false);
    assert_int_equal(rig_send(d.a, frame, len, 2, &off, frame), VNET_OK);
    assert_int_equal(rig_recv(d.b, got, sizeof(got), &f), len);
    assert_int_equal(f.flags, VNET_RXF_CSUM_PARTIAL);
    duo_down(&d);
    /* B does not: its device completes them. */
    d = duo_up(F(VNET_F_GUEST_CSUM), false);
    assert_int_equal(rig_send(d.a, frame, len, 2, &off, frame), VNET_OK);
    assert_int_equal(rig_recv(d.b, got, sizeof(got), &f), len);
    assert_int_equal(f.flags, 0);
    assert_true(rig_tcp_checksums_ok(got, len));
    assert_int_equal(emu_vnet_get_stats(d.b->dev)->rx_csum_completed, 1);
    duo_down(&d);
    /* B takes them partial and lib/vnet completes them. */
    d = duo_up(0, true);
    assert_int_equal(rig_send(d.a, frame, len, 2, &off, frame), VNET_OK);
    assert_int_equal(rig_recv(d.b, got, sizeof(got), &f), len);
    assert_int_equal(f.flags, VNET_RXF_CSUM_VALID);
    assert_true(rig_tcp_checksums_ok(got, len));
    duo_down(&d);
}

static void segmentation_offload_end_to_end(void **state)
{
    vnet_tx_offload off = { .flags = VNET_TXO_TSO4, .mss = 1400 };
    static uint8_t seg[2048], payload[70000];
    size_t len, got_payload = 0, frames = 0, seglen;
    vnet_rx_frame f;
    uint16_t cs, co;
    duo d;

    (void)state;
    len = rig_make_tcp(frame, sizeof(frame), false, 20000, true, &cs, &co);
    off.csum_start = cs;
    off.csum_offset = co;
    off.hdr_len = (uint16_t)(cs + 20);
    /* B takes GSO: one frame. */
    d = duo_up(0, false);
    assert_int_equal(rig_send(d.a, frame, len, 6, &off, frame), VNET_OK);
    assert_int_equal(rig_recv(d.b, got, sizeof(got), &f), len);
    assert_int_equal(f.flags, VNET_RXF_GSO | VNET_RXF_CSUM_PARTIAL);
    assert_int_equal(f.gso_size, 1400);
    assert_memory_equal(got, frame, len);
    duo_down(&d);
    /* B does not: MSS-sized frames with full checksums, the payload in order. */
    d = duo_up(F(VNET_F_GUEST_TSO4) | F(VNET_F_GUEST_TSO6), false);
    assert_int_equal(rig_send(d.a, frame, len, 6, &off, frame), VNET_OK);
    while ((seglen = rig_recv(d.b, seg, sizeof(seg), &f)) != 0) {
        assert_true(seglen <= 14 + 20 + 20 + 1400);
        assert_true(rig_tcp_checksums_ok(seg, seglen));
        memcpy(payload + got_payload, seg + 54, seglen - 54);
        got_payload += seglen - 54;
        frames++;
    }
    assert_int_equal(frames, (20000 + 1399) / 1400);
    assert_int_equal(got_payload, 20000);
    assert_memory_equal(payload, frame + 54, 20000);
    assert_int_equal(emu_vnet_pair_get_stats(d.pair)->segmented[1], 1);
    duo_down(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layouts_carry_the_same_bytes),
        cmocka_unit_test(checksum_request_becomes_partial_checksum),
        cmocka_unit_test(tso_request_becomes_gso_header),
        cmocka_unit_test(vlan_tag_is_inserted),
        cmocka_unit_test(bad_requests_are_refused),
        cmocka_unit_test(full_ring_pushes_back_then_resumes),
        cmocka_unit_test(full_ring_of_chains),
        cmocka_unit_test(stop_cancels_frames_in_flight),
        cmocka_unit_test(checksum_offload_end_to_end),
        cmocka_unit_test(segmentation_offload_end_to_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
