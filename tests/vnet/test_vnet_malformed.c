/*
 * Everything the device hands over that breaks the rules: receive headers
 * (flags, GSO type and size, checksum offsets, num_buffers), used lengths,
 * frame lengths, and used-ring corruption on every queue. Each bad frame
 * is dropped with its own verdict and counter, its buffers go back to the
 * device, and the next good frame still arrives; a broken queue is
 * reported and a stop/start recovers the adapter.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vnet_rig.h"

#define F(bit)  VIO_FEATURE(bit)
#define NO_GSO  (F(VNET_F_GUEST_TSO4) | F(VNET_F_GUEST_TSO6))
#define NO_CSUM (F(VNET_F_GUEST_CSUM) | NO_GSO)

static uint8_t frame[70000], got[70000];

typedef struct bad_case {
    const char *what;
    uint64_t features_off;
    emu_vnet_fault fault;
    uint32_t value;
    size_t len; /* of the frame offered (a TCP frame when gso) */
    bool gso;   /* offered as a GSO frame */
    vnet_status verdict;
} bad_case;

static uint64_t counter_for(const vnet_stats *s, vnet_status v)
{
    switch (v) {
    case VNET_E_RX_RUNT:
        return s->rx.err_runt;
    case VNET_E_RX_NUM_BUFFERS:
        return s->rx.err_num_buffers;
    case VNET_E_RX_FRAME_SHORT:
        return s->rx.err_frame_short;
    case VNET_E_RX_FRAME_LONG:
        return s->rx.err_frame_long;
    case VNET_E_RX_GSO:
        return s->rx.err_gso;
    case VNET_E_RX_CSUM:
        return s->rx.err_csum;
    default:
        fail_msg("no counter for %s", vnet_status_name(v));
        return 0;
    }
}

/* Offers a frame the device corrupts; it must be dropped and counted, and
 * a good frame right after must come through. */
static void run_bad_case(const bad_case *c)
{
    rig_opts o = { .params.features_off = c->features_off };
    emu_vnet_meta m = { 0 };
    vnet_rig *r = rig_up(&o);
    vnet_rx_frame f;
    vnet_stats s;
    size_t len = c->len;

    print_message("  %s\n", c->what);
    if (c->gso) {
        uint16_t cs, co;
        len = rig_make_tcp(frame, sizeof(frame), false, c->len, true, &cs, &co);
        m = (emu_vnet_meta){ .flags = EMU_VNET_META_CSUM_PARTIAL,
                             .gso_type = EMU_VNET_GSO_TCPV4,
                             .gso_size = 1000,
                             .hdr_len = (uint16_t)(cs + 20),
                             .csum_start = cs,
                             .csum_offset = co };
    } else {
        rig_make_frame(frame, len, rig_mac, 1);
    }
    emu_vnet_inject(r->dev, c->fault, c->value, 1);
    assert_int_equal(emu_vnet_receive(r->dev, frame, len, &m), EMU_VNET_RX_DELIVERED);
    assert_int_equal(vnet_rx_next(r->n, &f), VNET_E_EMPTY);
    assert_int_equal(vnet_rx_last_error(r->n), c->verdict);
    vnet_get_stats(r->n, &s);
    assert_int_equal(counter_for(&s, c->verdict), 1);
    assert_int_equal(s.rx.dropped, 1);
    assert_int_equal(s.rx.frames, 0);
    assert_int_equal(vnet_rx_posted(r->n), vnet_rx_buffer_count(r->n));
    rig_make_frame(frame, 300, rig_mac, 2);
    assert_int_equal(emu_vnet_receive(r->dev, frame, 300, NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(rig_recv(r, got, sizeof(got), &f), 300);
    assert_memory_equal(got, frame, 300);
    rig_down(r);
}

static void bad_receive_headers(void **state)
{
    static const bad_case cases[] = {
        { "used length shorter than the header", 0, EMU_VNET_FAULT_RX_USED_LEN, 4, 100, false,
          VNET_E_RX_RUNT },
        { "frame shorter than an Ethernet header", 0, EMU_VNET_FAULT_RX_USED_LEN, 12 + 13, 100,
          false, VNET_E_RX_FRAME_SHORT },
        { "num_buffers 0", 0, EMU_VNET_FAULT_RX_NUM_BUFFERS, 0, 100, false, VNET_E_RX_NUM_BUFFERS },
        { "num_buffers beyond any frame", 0, EMU_VNET_FAULT_RX_NUM_BUFFERS, 37, 100, false,
          VNET_E_RX_NUM_BUFFERS },
        { "num_buffers 2 without MRG_RXBUF", F(VNET_F_MRG_RXBUF), EMU_VNET_FAULT_RX_NUM_BUFFERS, 2,
          100, false, VNET_E_RX_NUM_BUFFERS },
        { "UDP GSO, never negotiated", 0, EMU_VNET_FAULT_RX_GSO_TYPE, 3, 3000, true,
          VNET_E_RX_GSO },
        { "ECN GSO, never negotiated", 0, EMU_VNET_FAULT_RX_GSO_TYPE, 0x81, 3000, true,
          VNET_E_RX_GSO },
        { "unknown GSO type", 0, EMU_VNET_FAULT_RX_GSO_TYPE, 9, 3000, true, VNET_E_RX_GSO },
        { "TCPv4 GSO without GUEST_TSO4", F(VNET_F_GUEST_TSO4), EMU_VNET_FAULT_RX_GSO_TYPE, 1, 1000,
          false, VNET_E_RX_GSO },
        { "GSO with gso_size 0", 0, EMU_VNET_FAULT_RX_GSO_SIZE, 0, 3000, true, VNET_E_RX_GSO },
        { "GSO without NEEDS_CSUM", 0, EMU_VNET_FAULT_RX_FLAGS, 0, 3000, true, VNET_E_RX_GSO },
        { "checksum offset beyond the frame", 0, EMU_VNET_FAULT_RX_CSUM_START, 90, 100, false,
          VNET_E_RX_CSUM },
        { "checksum inside the Ethernet header", 0, EMU_VNET_FAULT_RX_CSUM_START, 2, 100, false,
          VNET_E_RX_CSUM },
        { "checksum flags without GUEST_CSUM, bad offsets", NO_CSUM, EMU_VNET_FAULT_RX_CSUM_START,
          5000, 100, false, VNET_E_RX_CSUM },
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        run_bad_case(&cases[i]);
}

static void frame_longer_than_the_mtu(void **state)
{
    /* Without the MTU feature the device does not know our limit. */
    rig_opts o = { .params.features_off = F(VNET_F_MTU) | NO_GSO };
    vnet_rig *r = rig_up(&o);
    vnet_rx_frame f;
    vnet_stats s;

    (void)state;
    rig_make_frame(frame, 1519, rig_mac, 1);
    assert_int_equal(emu_vnet_receive(r->dev, frame, 1519, NULL), EMU_VNET_RX_DELIVERED);
    rig_make_frame(frame, 1518, rig_mac, 1); /* MTU + Ethernet + VLAN tag is fine */
    assert_int_equal(emu_vnet_receive(r->dev, frame, 1518, NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(rig_recv(r, got, sizeof(got), &f), 1518);
    assert_int_equal(vnet_rx_last_error(r->n), VNET_E_RX_FRAME_LONG);
    vnet_get_stats(r->n, &s);
    assert_int_equal(s.rx.err_frame_long, 1);
    rig_down(r);
}

static void checksum_verdicts_not_negotiated(void **state)
{
    rig_opts o = { .params.features_off = NO_CSUM };
    vnet_rig *r = rig_up(&o);
    vnet_rx_frame f;
    uint16_t cs, co;
    vnet_stats s;
    size_t len;

    (void)state;
    /* DATA_VALID although GUEST_CSUM was not negotiated: not trusted. */
    len = rig_make_tcp(frame, sizeof(frame), false, 300, false, &cs, &co);
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_RX_FLAGS, 2, 1);
    assert_int_equal(emu_vnet_receive(r->dev, frame, len, NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(rig_recv(r, got, sizeof(got), &f), len);
    assert_int_equal(f.flags, 0);
    assert_int_equal(vnet_rx_last_error(r->n), VNET_E_RX_FLAGS);
    /* NEEDS_CSUM although not negotiated, on a frame that really carries
     * only the pseudo-header sum: the frame is finished and delivered. */
    len = rig_make_tcp(frame, sizeof(frame), false, 300, true, &cs, &co);
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_RX_CSUM_START, cs, 1);
    assert_int_equal(emu_vnet_receive(r->dev, frame, len, NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(rig_recv(r, got, sizeof(got), &f), len);
    assert_int_equal(f.flags, 0);
    assert_true(rig_tcp_checksums_ok(got, len));
    vnet_get_stats(r->n, &s);
    assert_int_equal(s.rx.err_flags, 2);
    assert_int_equal(s.rx.frames, 2);
    rig_down(r);
}

/* ---- used-ring corruption: the queue breaks, the adapter recovers --------- */

static void recover_and_check(vnet_rig *r)
{
    uint8_t small[200];
    vnet_rx_frame f;

    vnet_stop(r->n);
    assert_int_equal(vnet_start(r->n), VNET_OK);
    rig_make_frame(small, sizeof(small), rig_mac, 7);
    assert_int_equal(emu_vnet_receive(r->dev, small, sizeof(small), NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(rig_recv(r, got, sizeof(got), &f), sizeof(small));
    assert_int_equal(rig_send(r, small, sizeof(small), 1, NULL, small), VNET_OK);
    assert_int_equal(vnet_tx_reap(r->n, 4), 1);
    assert_int_equal(vnet_ctrl_set_promisc(r->n, true, NULL, NULL), VNET_OK);
    assert_int_equal(vnet_ctrl_poll(r->n), 1);
}

static void broken_receive_queue(void **state)
{
    vnet_rig *r = rig_up(NULL);
    emu_vdev *vdev = emu_vnet_vdev(r->dev);
    vnet_rx_frame f;

    (void)state;
    rig_make_frame(frame, 100, rig_mac, 1);
    emu_vdev_inject_fault(vdev, EMU_VDEV_FAULT_USED_ID, EMU_VNET_QUEUE_RX, 9999, 1);
    assert_int_equal(emu_vnet_receive(r->dev, frame, 100, NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(vnet_rx_next(r->n, &f), VNET_E_BROKEN);
    assert_int_equal(vnet_last_vio_status(r->n), VIO_E_USED_ID_RANGE);
    assert_int_equal(vnet_rx_next(r->n, &f), VNET_E_BROKEN);
    recover_and_check(r);

    emu_vdev_inject_fault(vdev, EMU_VDEV_FAULT_USED_IDX_JUMP, EMU_VNET_QUEUE_RX, 500, 1);
    assert_int_equal(emu_vnet_receive(r->dev, frame, 100, NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(vnet_rx_next(r->n, &f), VNET_E_BROKEN);
    assert_int_equal(vnet_last_vio_status(r->n), VIO_E_USED_IDX_JUMP);
    recover_and_check(r);
    rig_down(r);
}

/* The ring breaks in the middle of a merged frame: after recovery the
 * buffers it had collected must not still be chained to each other. */
static void ring_breaks_inside_a_merged_frame(void **state)
{
    /* Fewer buffers than ring entries, so a double post would not be
     * masked by a full ring. */
    rig_opts o = { .params.rx_buf_size = 256,
                   .params.rx_mem_budget = 64 * 256,
                   .params.features_off = NO_GSO };
    vnet_rig *r = rig_up(&o);
    vnet_rx_frame f;
    int i;

    (void)state;
    rig_make_frame(frame, 700, rig_mac, 1); /* 3 buffers */
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_RX_HOLD_TAIL, 0, 1);
    assert_int_equal(emu_vnet_receive(r->dev, frame, 700, NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(vnet_rx_next(r->n, &f), VNET_E_EMPTY);
    emu_vdev_inject_fault(emu_vnet_vdev(r->dev), EMU_VDEV_FAULT_USED_ID, EMU_VNET_QUEUE_RX, 9999,
                          1);
    emu_vnet_release_held(r->dev);
    assert_int_equal(vnet_rx_next(r->n, &f), VNET_E_BROKEN);
    vnet_stop(r->n);
    assert_int_equal(vnet_start(r->n), VNET_OK);
    assert_int_equal(vnet_rx_posted(r->n), vnet_rx_buffer_count(r->n));
    for (i = 0; i < 4; i++) {
        rig_make_frame(frame, 100, rig_mac, (uint8_t)i);
        assert_int_equal(emu_vnet_receive(r->dev, frame, 100, NULL), EMU_VNET_RX_DELIVERED);
        assert_int_equal(rig_recv(r, got, sizeof(got), &f), 100);
        assert_int_equal(f.nseg, 1);
        assert_int_equal(vnet_rx_posted(r->n), vnet_rx_buffer_count(r->n));
    }
    rig_down(r);
}

static void broken_transmit_queue(void **state)
{
    vnet_rig *r = rig_up(NULL);

    (void)state;
    rig_make_frame(frame, 100, rig_mac, 1);
    /* A transmit buffer has nothing to write: any used length is a lie. */
    emu_vdev_inject_fault(emu_vnet_vdev(r->dev), EMU_VDEV_FAULT_USED_LEN, EMU_VNET_QUEUE_TX, 64, 1);
    assert_int_equal(rig_send(r, frame, 100, 1, NULL, frame), VNET_OK);
    assert_int_equal(vnet_tx_reap(r->n, 4), 0);
    assert_true(vnet_tx_broken(r->n));
    assert_int_equal(vnet_last_vio_status(r->n), VIO_E_USED_LEN);
    assert_int_equal(rig_send(r, frame, 100, 1, NULL, frame), VNET_E_BROKEN);
    assert_int_equal(r->tx_done, 0);
    vnet_stop(r->n);
    assert_int_equal(r->tx_cancelled, 1); /* the frame stuck in the broken ring */
    assert_int_equal(vnet_start(r->n), VNET_OK);
    assert_false(vnet_tx_broken(r->n));
    recover_and_check(r);
    rig_down(r);
}

static void broken_control_queue(void **state)
{
    vnet_rig *r = rig_up(NULL);

    (void)state;
    emu_vdev_inject_fault(emu_vnet_vdev(r->dev), EMU_VDEV_FAULT_USED_LEN, EMU_VNET_QUEUE_CTRL, 2,
                          1);
    assert_int_equal(vnet_ctrl_set_promisc(r->n, false, rig_ctrl_done, r), VNET_OK);
    assert_int_equal(vnet_ctrl_poll(r->n), 0);
    assert_int_equal(vnet_last_vio_status(r->n), VIO_E_USED_LEN);
    assert_int_equal(vnet_ctrl_set_promisc(r->n, false, rig_ctrl_done, r), VNET_E_BROKEN);
    vnet_stop(r->n);
    assert_int_equal(r->ctrl.calls, 1);
    assert_int_equal(r->ctrl.status, VNET_E_CANCELLED);
    assert_int_equal(vnet_start(r->n), VNET_OK);
    recover_and_check(r);
    rig_down(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_receive_headers),
        cmocka_unit_test(frame_longer_than_the_mtu),
        cmocka_unit_test(checksum_verdicts_not_negotiated),
        cmocka_unit_test(broken_receive_queue),
        cmocka_unit_test(ring_breaks_inside_a_merged_frame),
        cmocka_unit_test(broken_transmit_queue),
        cmocka_unit_test(broken_control_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
