/*
 * Link and configuration changes against the virtio-net model: link
 * flaps, speed and duplex, the MTU that must not change, unknown status
 * bits, unreadable configuration, DEVICE_NEEDS_RESET, and the ANNOUNCE
 * cycle after a "migration" (announce frames sent, then acknowledged).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vnet_rig.h"

#define F(bit)        VIO_FEATURE(bit)
#define CONFIG_VECTOR 3

static uint32_t refresh(vnet_rig *r)
{
    uint32_t changes = 0xDEAD;

    assert_int_equal(vnet_config_refresh(r->n, &changes), VNET_OK);
    return changes;
}

static vnet_link_info link_of(vnet_rig *r)
{
    vnet_link_info l;
    vnet_link_info_get(r->n, &l);
    return l;
}

static void link_flaps(void **state)
{
    vnet_rig *r = rig_up(NULL);
    uint8_t frame[100];
    vnet_stats s;
    int i;

    (void)state;
    rig_make_frame(frame, sizeof(frame), rig_mac, 1);
    assert_true(link_of(r).link_up);
    for (i = 0; i < 50; i++) {
        uint64_t irqs = r->h->msix_raised[CONFIG_VECTOR];

        emu_vnet_set_link(r->dev, false);
        assert_int_equal(r->h->msix_raised[CONFIG_VECTOR], irqs + 1);
        assert_int_equal(refresh(r), VNET_CHG_LINK);
        assert_false(link_of(r).link_up);
        assert_int_equal(refresh(r), 0); /* nothing new */
        assert_int_equal(emu_vnet_receive(r->dev, frame, sizeof(frame), NULL),
                         EMU_VNET_RX_LINK_DOWN);
        emu_vnet_set_link(r->dev, true);
        assert_int_equal(refresh(r), VNET_CHG_LINK);
        assert_true(link_of(r).link_up);
        assert_int_equal(emu_vnet_receive(r->dev, frame, sizeof(frame), NULL),
                         EMU_VNET_RX_DELIVERED);
    }
    vnet_get_stats(r->n, &s);
    assert_int_equal(s.cfg.link_changes, 100);
    rig_down(r);
}

static void starts_with_link_down(void **state)
{
    rig_opts o = { .link_down = true };
    vnet_rig *r = rig_up(&o);
    uint8_t frame[100];

    (void)state;
    assert_false(link_of(r).link_up);
    rig_make_frame(frame, sizeof(frame), rig_mac, 1);
    /* What a link-down NIC sends is dropped by the device, not refused. */
    assert_int_equal(rig_send(r, frame, sizeof(frame), 1, NULL, frame), VNET_OK);
    assert_int_equal(vnet_tx_reap(r->n, 4), 1);
    assert_int_equal(r->ntx, 0);
    assert_int_equal(emu_vnet_get_stats(r->dev)->tx_link_down, 1);
    rig_down(r);
}

static void without_status_the_link_is_up(void **state)
{
    rig_opts o = { .link_down = true, .params.features_off = F(VNET_F_STATUS) };
    vnet_rig *r = rig_up(&o);

    (void)state;
    assert_true(link_of(r).link_up);
    emu_vnet_set_link(r->dev, false);
    assert_int_equal(refresh(r), 0);
    assert_true(link_of(r).link_up);
    rig_down(r);
}

static void speed_and_duplex(void **state)
{
    vnet_rig *r = rig_up(NULL);
    vnet_stats s;

    (void)state;
    assert_int_equal(link_of(r).speed_mbps, VNET_SPEED_UNKNOWN);
    assert_int_equal(link_of(r).duplex, VNET_DUPLEX_UNKNOWN);
    emu_vnet_set_speed_duplex(r->dev, 25000, VNET_DUPLEX_FULL);
    assert_int_equal(refresh(r), VNET_CHG_SPEED);
    assert_int_equal(link_of(r).speed_mbps, 25000);
    assert_int_equal(link_of(r).duplex, VNET_DUPLEX_FULL);
    emu_vnet_set_speed_duplex(r->dev, 25000, VNET_DUPLEX_FULL);
    assert_int_equal(refresh(r), 0);
    /* Values the spec calls unknown. */
    emu_vnet_set_speed_duplex(r->dev, 0x80000000u, 7);
    assert_int_equal(refresh(r), VNET_CHG_SPEED);
    assert_int_equal(link_of(r).speed_mbps, VNET_SPEED_UNKNOWN);
    assert_int_equal(link_of(r).duplex, VNET_DUPLEX_UNKNOWN);
    vnet_get_stats(r->n, &s);
    assert_int_equal(s.cfg.err_speed, 1);
    assert_int_equal(s.cfg.err_duplex, 1);
    emu_vnet_set_speed_duplex(r->dev, 100, VNET_DUPLEX_HALF);
    assert_int_equal(refresh(r), VNET_CHG_SPEED);
    assert_int_equal(link_of(r).duplex, VNET_DUPLEX_HALF);
    rig_down(r);

    r = rig_up(&(rig_opts){ .params.features_off = F(VNET_F_SPEED_DUPLEX) });
    emu_vnet_set_speed_duplex(r->dev, 25000, VNET_DUPLEX_FULL);
    assert_int_equal(refresh(r), 0);
    assert_int_equal(link_of(r).speed_mbps, VNET_SPEED_UNKNOWN);
    rig_down(r);
}

static void values_that_must_not_change_or_exist(void **state)
{
    vnet_rig *r = rig_up(NULL);
    uint8_t mtu[2] = { 0x78, 0x05 }; /* 1400 */
    uint8_t status[2] = { 0x05, 0x80 };
    vnet_stats s;

    (void)state;
    emu_vnet_config_poke(r->dev, VNET_CFG_MTU, mtu, 2, true);
    assert_int_equal(refresh(r), 0);
    assert_int_equal(link_of(r).mtu, 1500);
    assert_int_equal(vnet_config_last_error(r->n), VNET_E_CFG_MTU_CHANGED);
    emu_vnet_config_poke(r->dev, VNET_CFG_STATUS, status, 2, true);
    assert_int_equal(refresh(r), 0); /* link bit still up: no change */
    assert_true(link_of(r).link_up);
    vnet_get_stats(r->n, &s);
    assert_int_equal(s.cfg.err_mtu_changed, 1);
    assert_int_equal(s.cfg.err_status, 1);
    assert_int_equal(vnet_config_last_error(r->n), VNET_E_CFG_STATUS);
    rig_down(r);
}

static void unreadable_configuration(void **state)
{
    vnet_rig *r = rig_up(NULL);
    uint32_t changes;
    vnet_stats s;

    (void)state;
    emu_vdev_inject_fault(emu_vnet_vdev(r->dev), EMU_VDEV_FAULT_CONFIG_CHURN, 0, 0,
                          EMU_VDEV_FOREVER);
    assert_int_equal(vnet_config_refresh(r->n, &changes), VNET_E_CFG_READ);
    assert_int_equal(changes, 0);
    assert_true(link_of(r).link_up); /* the old values stay */
    vnet_get_stats(r->n, &s);
    assert_int_equal(s.cfg.err_read, 1);
    emu_vdev_inject_fault(emu_vnet_vdev(r->dev), EMU_VDEV_FAULT_CONFIG_CHURN, 0, 0, 0);
    assert_int_equal(refresh(r), 0);
    rig_down(r);
}

static void device_needs_reset(void **state)
{
    vnet_rig *r = rig_up(NULL);
    uint8_t frame[200], got[200];
    vnet_rx_frame f;

    (void)state;
    emu_vdev_needs_reset(emu_vnet_vdev(r->dev));
    assert_true(refresh(r) & VNET_CHG_NEEDS_RESET);
    vnet_stop(r->n);
    assert_int_equal(vnet_start(r->n), VNET_OK);
    assert_int_equal(refresh(r), 0);
    rig_make_frame(frame, sizeof(frame), rig_mac, 4);
    assert_int_equal(emu_vnet_receive(r->dev, frame, sizeof(frame), NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(rig_recv(r, got, sizeof(got), &f), sizeof(frame));
    rig_down(r);
}

/* The OS's side of ANNOUNCE: one frame per address, then the ack. */
static void announce_and_ack(vnet_rig *r, const vnet_announce_src *src)
{
    uint8_t buf[VNET_ANNOUNCE_FRAME_MAX];
    uint32_t i, count = vnet_announce_count(src);
    size_t len;

    for (i = 0; i < count; i++) {
        assert_int_equal(vnet_announce_frame(src, i, buf, sizeof(buf), &len), VNET_OK);
        assert_int_equal(rig_send(r, buf, len, 1, NULL, r), VNET_OK);
    }
    assert_int_equal(vnet_tx_reap(r->n, 64), count);
    assert_int_equal(vnet_ctrl_announce_ack(r->n, rig_ctrl_done, r), VNET_OK);
    assert_int_equal(vnet_ctrl_poll(r->n), 1);
    assert_int_equal(r->ctrl.status, VNET_OK);
}

static void announce_after_migration(void **state)
{
    static const uint8_t v4[2][4] = { { 192, 0, 2, 10 }, { 198, 51, 100, 7 } };
    static const uint8_t v6[1][16] = { { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                         0x42 } };
    vnet_announce_src src = { .ipv4 = v4, .n_ipv4 = 2, .ipv6 = v6, .n_ipv6 = 1 };
    rig_opts o = { .host_rarp = true };
    vnet_rig *r = rig_up(&o);
    uint64_t irqs = r->h->msix_raised[CONFIG_VECTOR];
    vnet_stats s;

    (void)state;
    memcpy(src.mac, rig_mac, 6);
    assert_true(emu_vnet_announce(r->dev));
    assert_int_equal(r->h->msix_raised[CONFIG_VECTOR], irqs + 1);
    /* QEMU's own RARP went out on the host side. */
    assert_int_equal(r->ntx, 1);
    assert_int_equal(r->tx[0].data[12] << 8 | r->tx[0].data[13], 0x8035);
    rig_clear_tx(r);
    assert_int_equal(refresh(r), VNET_CHG_ANNOUNCE);
    assert_true(link_of(r).announce);
    assert_int_equal(refresh(r), 0); /* reported once */
    announce_and_ack(r, &src);
    assert_int_equal(r->ntx, 3);
    assert_int_equal(r->tx[0].data[12] << 8 | r->tx[0].data[13], 0x0806);
    assert_int_equal(r->tx[2].data[12] << 8 | r->tx[2].data[13], 0x86DD);
    assert_false(emu_vnet_announce_pending(r->dev));
    assert_false(link_of(r).announce);
    /* The next round is a new request even without a refresh in between. */
    assert_true(emu_vnet_announce(r->dev));
    assert_int_equal(refresh(r), VNET_CHG_ANNOUNCE);
    announce_and_ack(r, &(vnet_announce_src){ .mac = { 0x52, 0x54, 0, 0x12, 0x34, 0x56 } });
    vnet_get_stats(r->n, &s);
    assert_int_equal(s.cfg.announces, 2);
    rig_down(r);
}

static void announce_not_negotiated(void **state)
{
    rig_opts o = { .params.features_off = F(VNET_F_GUEST_ANNOUNCE) };
    vnet_rig *r = rig_up(&o);
    uint8_t status[2] = { 0x03, 0x00 };

    (void)state;
    assert_false(emu_vnet_announce(r->dev));
    assert_int_equal(refresh(r), 0);
    /* A device that sets the bit anyway is counted and ignored. */
    emu_vnet_config_poke(r->dev, VNET_CFG_STATUS, status, 2, true);
    assert_int_equal(refresh(r), 0);
    assert_false(link_of(r).announce);
    assert_int_equal(vnet_config_last_error(r->n), VNET_E_CFG_ANNOUNCE);
    assert_int_equal(vnet_ctrl_announce_ack(r->n, NULL, NULL), VNET_E_UNSUPPORTED);
    rig_down(r);
}

static void refresh_needs_a_started_adapter(void **state)
{
    rig_opts o = { .no_start = true };
    vnet_rig *r = rig_up(&o);
    uint32_t changes;

    (void)state;
    assert_int_equal(vnet_config_refresh(r->n, &changes), VNET_E_STATE);
    rig_down(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(link_flaps),
        cmocka_unit_test(starts_with_link_down),
        cmocka_unit_test(without_status_the_link_is_up),
        cmocka_unit_test(speed_and_duplex),
        cmocka_unit_test(values_that_must_not_change_or_exist),
        cmocka_unit_test(unreadable_configuration),
        cmocka_unit_test(device_needs_reset),
        cmocka_unit_test(announce_after_migration),
        cmocka_unit_test(announce_not_negotiated),
        cmocka_unit_test(refresh_needs_a_started_adapter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
