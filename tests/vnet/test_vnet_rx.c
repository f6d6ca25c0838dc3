/*
 * Receive path against the virtio-net model: single and merged buffers,
 * big (non-mergeable) buffers, recycling without allocation, frames the
 * device has not finished, checksum and GSO translation, VLAN tags,
 * interrupt suppression, and returns the OS gets wrong.
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

static void receive_one(vnet_rig *r, size_t len, const emu_vnet_meta *m, vnet_rx_frame *f)
{
    assert_int_equal(emu_vnet_receive(r->dev, frame, len, m), EMU_VNET_RX_DELIVERED);
    assert_int_equal(rig_recv(r, got, sizeof(got), f), len);
}

static void single_buffer_frames(void **state)
{
    rig_opts o = { .params.features_off =
                       F(VNET_F_MRG_RXBUF) | F(VNET_F_GUEST_TSO4) | F(VNET_F_GUEST_TSO6) };
    vnet_rig *r = rig_up(&o);
    vnet_rx_frame f;
    size_t len;

    (void)state;
    assert_int_equal(vnet_rx_buffer_count(r->n), 256);
    for (len = 60; len <= 1514; len += 227) {
        rig_make_frame(frame, len, rig_mac, (uint8_t)len);
        receive_one(r, len, NULL, &f);
        assert_int_equal(f.nseg, 1);
        assert_int_equal(f.flags, 0);
        assert_memory_equal(got, frame, len);
    }
    rig_down(r);
}

/* Small buffers need no GSO: a 64 KiB frame would not fit in VNET_RX_MAX_SEGS
 * of them, so lib/vnet would raise the buffer size. */
#define NO_GSO (F(VNET_F_GUEST_TSO4) | F(VNET_F_GUEST_TSO6))

static void mergeable_frame_spans_several_buffers(void **state)
{
    rig_opts o = { .params.rx_buf_size = 256, .params.features_off = NO_GSO };
    vnet_rig *r = rig_up(&o);
    vnet_rx_frame f;
    vnet_stats s;
    uint16_t i;

    (void)state;
    rig_make_frame(frame, 1514, rig_mac, 3);
    receive_one(r, 1514, NULL, &f);
    /* 12 header bytes + 1514 in 256-byte buffers: 6 buffers. */
    assert_int_equal(f.nseg, 6);
    assert_int_equal(f.seg[0].len, 256 - 12);
    for (i = 1; i < 5; i++)
        assert_int_equal(f.seg[i].len, 256);
    assert_int_equal(f.seg[5].len, 1514 - 244 - 4 * 256);
    assert_memory_equal(got, frame, 1514);
    vnet_get_stats(r->n, &s);
    assert_int_equal(s.rx.merged, 1);
    assert_int_equal(s.rx.buffers, 6);
    assert_int_equal(vnet_rx_posted(r->n), vnet_rx_buffer_count(r->n));
    rig_down(r);
}

static void big_buffers_without_mergeable(void **state)
{
    rig_opts o = { .params.features_off = F(VNET_F_MRG_RXBUF) };
    vnet_rig *r = rig_up(&o);
    emu_vnet_meta m = { .flags = EMU_VNET_META_CSUM_PARTIAL,
                        .gso_type = EMU_VNET_GSO_TCPV4,
                        .gso_size = 1448 };
    uint16_t cs, co;
    vnet_rx_frame f;
    size_t len;

    (void)state;
    len = rig_make_tcp(frame, sizeof(frame), false, 60000, true, &cs, &co);
    m.csum_start = cs;
    m.csum_offset = co;
    m.hdr_len = (uint16_t)(cs + 20);
    receive_one(r, len, &m, &f);
    assert_int_equal(f.nseg, (12 + len + 4095) / 4096);
    assert_int_equal(f.flags, VNET_RXF_GSO | VNET_RXF_CSUM_PARTIAL);
    assert_int_equal(f.gso_type, VNET_GSO_TCPV4);
    assert_int_equal(f.gso_size, 1448);
    assert_int_equal(f.csum_start, cs);
    assert_memory_equal(got, frame, len);
    rig_down(r);
}

static void buffers_recycle_without_allocation(void **state)
{
    vnet_rig *r = rig_up(NULL);
    uint32_t allocs = r->h->nallocs;
    uint64_t mem = r->h->mem_live;
    vnet_rx_frame f;
    uint32_t i;

    (void)state;
    for (i = 0; i < 3 * vnet_rx_buffer_count(r->n); i++) {
        rig_make_frame(frame, 100 + i % 1400, rig_mac, (uint8_t)i);
        receive_one(r, 100 + i % 1400, NULL, &f);
        assert_memory_equal(got, frame, 100 + i % 1400);
    }
    assert_int_equal(r->h->nallocs, allocs);
    assert_int_equal(r->h->mem_live, mem);
    assert_int_equal(vnet_rx_posted(r->n), vnet_rx_buffer_count(r->n));
    rig_down(r);
}

static void frames_held_by_the_os_starve_the_device(void **state)
{
    rig_opts o = { .queue_size = 8, .params.rx_ring = 8 };
    vnet_rig *r = rig_up(&o);
    vnet_rx_frame held[8];
    uint32_t i;

    (void)state;
    rig_make_frame(frame, 300, rig_mac, 1);
    for (i = 0; i < 8; i++) {
        assert_int_equal(emu_vnet_receive(r->dev, frame, 300, NULL), EMU_VNET_RX_DELIVERED);
        assert_int_equal(vnet_rx_next(r->n, &held[i]), VNET_OK);
    }
    assert_int_equal(vnet_rx_posted(r->n), 0);
    assert_int_equal(emu_vnet_receive(r->dev, frame, 300, NULL), EMU_VNET_RX_NO_BUFFERS);
    /* Held frames stay intact while the OS has them. */
    assert_memory_equal(held[3].seg[0].va, frame, 300);
    assert_int_equal(vnet_rx_return(r->n, held[3].handle), VNET_OK);
    assert_int_equal(vnet_rx_posted(r->n), 1);
    vnet_rx_kick(r->n);
    assert_int_equal(emu_vnet_receive(r->dev, frame, 300, NULL), EMU_VNET_RX_DELIVERED);
    for (i = 0; i < 8; i++)
        if (i != 3)
            assert_int_equal(vnet_rx_return(r->n, held[i].handle), VNET_OK);
    rig_down(r);
}

static void frame_whose_last_buffer_is_late(void **state)
{
    rig_opts o = { .params.rx_buf_size = 256, .params.features_off = NO_GSO };
    vnet_rig *r = rig_up(&o);
    vnet_rx_frame f;

    (void)state;
    rig_make_frame(frame, 1000, rig_mac, 5);
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_RX_HOLD_TAIL, 0, 1);
    assert_int_equal(emu_vnet_receive(r->dev, frame, 1000, NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(vnet_rx_next(r->n, &f), VNET_E_EMPTY);
    assert_int_equal(vnet_rx_next(r->n, &f), VNET_E_EMPTY); /* still parked */
    emu_vnet_release_held(r->dev);
    assert_int_equal(rig_recv(r, got, sizeof(got), &f), 1000);
    assert_memory_equal(got, frame, 1000);
    assert_int_equal(f.nseg, 4);
    rig_down(r);
}

static void checksum_flags_translate(void **state)
{
    vnet_rig *r = rig_up(NULL);
    emu_vnet_meta valid = { .flags = EMU_VNET_META_CSUM_VALID };
    emu_vnet_meta partial = { .flags = EMU_VNET_META_CSUM_PARTIAL };
    vnet_rx_frame f;
    uint16_t cs, co;
    size_t len;

    (void)state;
    len = rig_make_tcp(frame, sizeof(frame), false, 500, false, &cs, &co);
    receive_one(r, len, &valid, &f);
    assert_int_equal(f.flags, VNET_RXF_CSUM_VALID);
    receive_one(r, len, NULL, &f);
    assert_int_equal(f.flags, 0);
    len = rig_make_tcp(frame, sizeof(frame), true, 500, true, &cs, &co);
    partial.csum_start = cs;
    partial.csum_offset = co;
    receive_one(r, len, &partial, &f);
    assert_int_equal(f.flags, VNET_RXF_CSUM_PARTIAL);
    assert_int_equal(f.csum_start, cs);
    assert_int_equal(f.csum_offset, co);
    assert_false(rig_tcp_checksums_ok(got, len)); /* still the pseudo-header sum */
    rig_down(r);
}

static void partial_checksum_completed_across_buffers(void **state)
{
    rig_opts o = { .params.rx_buf_size = 256,
                   .params.rx_complete_csum = true,
                   .params.features_off = NO_GSO };
    vnet_rig *r = rig_up(&o);
    emu_vnet_meta partial = { .flags = EMU_VNET_META_CSUM_PARTIAL };
    vnet_rx_frame f;
    vnet_stats s;
    uint16_t cs, co;
    size_t len;
    int v6;

    (void)state;
    for (v6 = 0; v6 < 2; v6++) {
        len = rig_make_tcp(frame, sizeof(frame), v6, 1333, true, &cs, &co);
        partial.csum_start = cs;
        partial.csum_offset = co;
        receive_one(r, len, &partial, &f);
        assert_true(f.nseg > 1);
        assert_int_equal(f.flags, VNET_RXF_CSUM_VALID);
        assert_true(rig_tcp_checksums_ok(got, len));
    }
    vnet_get_stats(r->n, &s);
    assert_int_equal(s.rx.csum_completed, 2);
    rig_down(r);
}

static void gso_frames_translate(void **state)
{
    vnet_rig *r = rig_up(NULL);
    emu_vnet_meta m = { .flags = EMU_VNET_META_CSUM_PARTIAL, .gso_size = 1220 };
    vnet_rx_frame f;
    uint16_t cs, co;
    size_t len;
    int v6;

    (void)state;
    for (v6 = 0; v6 < 2; v6++) {
        len =
            rig_make_tcp(frame, sizeof(frame), v6, 65000 - (v6 ? 40u : 20u) - 20u, true, &cs, &co);
        m.gso_type = v6 ? EMU_VNET_GSO_TCPV6 : EMU_VNET_GSO_TCPV4;
        m.csum_start = cs;
        m.csum_offset = co;
        m.hdr_len = (uint16_t)(cs + 20);
        receive_one(r, len, &m, &f);
        assert_int_equal(f.flags, VNET_RXF_GSO | VNET_RXF_CSUM_PARTIAL);
        assert_int_equal(f.gso_type, v6 ? VNET_GSO_TCPV6 : VNET_GSO_TCPV4);
        assert_int_equal(f.gso_size, 1220);
        assert_int_equal(f.hdr_len, cs + 20);
        assert_int_equal(f.nseg, (len + 12 + 2047) / 2048);
        assert_memory_equal(got, frame, len);
    }
    rig_down(r);
}

/* A TCP frame with an 802.1Q tag inserted after the MAC addresses. */
static size_t tagged_tcp(uint8_t *buf, uint16_t tci, bool partial, uint16_t *cs, uint16_t *co)
{
    uint8_t plain[2000];
    size_t len = rig_make_tcp(plain, sizeof(plain), false, 700, partial, cs, co);

    memcpy(buf, plain, 12);
    buf[12] = 0x81;
    buf[13] = 0x00;
    buf[14] = (uint8_t)(tci >> 8);
    buf[15] = (uint8_t)tci;
    memcpy(buf + 16, plain + 12, len - 12);
    *cs = (uint16_t)(*cs + 4);
    return len + 4;
}

static void vlan_tags_reported_and_stripped(void **state)
{
    rig_opts o = { .params.rx_strip_vlan = true, .params.rx_complete_csum = true };
    emu_vnet_meta partial = { .flags = EMU_VNET_META_CSUM_PARTIAL };
    uint8_t plain[2000];
    vnet_rig *r = rig_up(NULL);
    vnet_rx_frame f;
    uint16_t cs, co;
    size_t len;

    (void)state;
    len = tagged_tcp(frame, 0x2064, false, &cs, &co);
    receive_one(r, len, NULL, &f);
    assert_int_equal(f.flags, VNET_RXF_VLAN);
    assert_int_equal(f.vlan_tci, 0x2064);
    assert_memory_equal(got, frame, len); /* not stripped by default */
    rig_down(r);

    r = rig_up(&o);
    len = tagged_tcp(frame, 0xE005, true, &cs, &co);
    partial.csum_start = cs;
    partial.csum_offset = co;
    assert_int_equal(emu_vnet_receive(r->dev, frame, len, &partial), EMU_VNET_RX_DELIVERED);
    assert_int_equal(rig_recv(r, got, sizeof(got), &f), len - 4);
    assert_int_equal(f.flags, VNET_RXF_VLAN | VNET_RXF_VLAN_STRIPPED | VNET_RXF_CSUM_VALID);
    assert_int_equal(f.vlan_tci, 0xE005);
    assert_int_equal(f.len, len - 4);
    rig_make_tcp(plain, sizeof(plain), false, 700, false, &cs, &co);
    assert_memory_equal(got, plain, len - 4);
    assert_true(rig_tcp_checksums_ok(got, len - 4));
    rig_down(r);
}

static void interrupts_follow_suppression(void **state)
{
    vnet_rig *r = rig_up(NULL);
    uint64_t irqs = r->h->msix_raised[0];
    vnet_rx_frame f;

    (void)state;
    rig_make_frame(frame, 128, rig_mac, 1);
    vnet_rx_disable_intr(r->n);
    assert_int_equal(emu_vnet_receive(r->dev, frame, 128, NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(r->h->msix_raised[0], irqs);
    assert_false(vnet_rx_enable_intr(r->n)); /* a frame is pending: poll again */
    assert_int_equal(rig_recv(r, got, sizeof(got), &f), 128);
    assert_true(vnet_rx_enable_intr(r->n));
    assert_int_equal(emu_vnet_receive(r->dev, frame, 128, NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(r->h->msix_raised[0], irqs + 1);
    rig_down(r);
}

static void bad_returns_are_refused(void **state)
{
    rig_opts o = { .params.rx_buf_size = 256, .params.features_off = NO_GSO };
    vnet_rig *r = rig_up(&o);
    vnet_rx_frame f;
    vnet_stats s;

    (void)state;
    rig_make_frame(frame, 900, rig_mac, 1);
    assert_int_equal(emu_vnet_receive(r->dev, frame, 900, NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(vnet_rx_next(r->n, &f), VNET_OK);
    assert_int_equal(vnet_rx_return(r->n, 100000), VNET_E_INVAL);
    assert_int_equal(vnet_rx_return(r->n, f.seg[1].slot), VNET_E_INVAL); /* not the head */
    assert_int_equal(vnet_rx_return(r->n, f.handle), VNET_OK);
    assert_int_equal(vnet_rx_return(r->n, f.handle), VNET_E_INVAL); /* twice */
    vnet_get_stats(r->n, &s);
    assert_int_equal(s.rx.bad_return, 3);
    assert_int_equal(vnet_rx_posted(r->n), vnet_rx_buffer_count(r->n));
    rig_down(r);
}

static void stop_while_the_os_holds_frames(void **state)
{
    vnet_rig *r = rig_up(NULL);
    vnet_rx_frame f;

    (void)state;
    rig_make_frame(frame, 500, rig_mac, 1);
    assert_int_equal(emu_vnet_receive(r->dev, frame, 500, NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(vnet_rx_next(r->n, &f), VNET_OK);
    vnet_stop(r->n);
    assert_int_equal(vnet_rx_posted(r->n), 0);
    assert_memory_equal(f.seg[0].va, frame, 500); /* still the OS's */
    assert_int_equal(vnet_rx_next(r->n, &f), VNET_E_STATE);
    assert_int_equal(vnet_rx_return(r->n, f.handle), VNET_OK);
    assert_int_equal(vnet_start(r->n), VNET_OK);
    assert_int_equal(vnet_rx_posted(r->n), vnet_rx_buffer_count(r->n));
    receive_one(r, 500, NULL, &f);
    rig_down(r);
}

static void slot_info_describes_the_memory(void **state)
{
    vnet_rig *r = rig_up(NULL);
    vnet_rx_frame f;
    uint8_t *va;
    uint64_t pa;
    uint32_t size;

    (void)state;
    rig_make_frame(frame, 64, rig_mac, 1);
    assert_int_equal(emu_vnet_receive(r->dev, frame, 64, NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(vnet_rx_next(r->n, &f), VNET_OK);
    assert_int_equal(vnet_rx_slot_info(r->n, f.seg[0].slot, &va, &pa, &size), VNET_OK);
    assert_ptr_equal(va + VNET_HDR_LEN, f.seg[0].va);
    assert_int_equal(size, 2048);
    assert_int_equal(pa & 63, 0);
    assert_int_equal(vnet_rx_slot_info(r->n, vnet_rx_slot_count(r->n), &va, &pa, &size),
                     VNET_E_INVAL);
    assert_int_equal(vnet_rx_return(r->n, f.handle), VNET_OK);
    rig_down(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(single_buffer_frames),
        cmocka_unit_test(mergeable_frame_spans_several_buffers),
        cmocka_unit_test(big_buffers_without_mergeable),
        cmocka_unit_test(buffers_recycle_without_allocation),
        cmocka_unit_test(frames_held_by_the_os_starve_the_device),
        cmocka_unit_test(frame_whose_last_buffer_is_late),
        cmocka_unit_test(checksum_flags_translate),
        cmocka_unit_test(partial_checksum_completed_across_buffers),
        cmocka_unit_test(gso_frames_translate),
        cmocka_unit_test(vlan_tags_reported_and_stripped),
        cmocka_unit_test(interrupts_follow_suppression),
        cmocka_unit_test(bad_returns_are_refused),
        cmocka_unit_test(stop_while_the_os_holds_frames),
        cmocka_unit_test(slot_info_describes_the_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
