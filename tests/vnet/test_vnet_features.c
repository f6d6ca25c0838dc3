/*
 * Feature negotiation against the virtio-net model: with and without each
 * feature (turned off by configuration or not offered), dependencies,
 * STANDBY with failover on and off, configuration values that rule a
 * feature out, refusal, restart, and a frame each way for every layout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vnet_rig.h"

#define F(bit) VIO_FEATURE(bit)

static const unsigned device_bits[] = {
    VNET_F_CSUM,       VNET_F_GUEST_CSUM,     VNET_F_MTU,           VNET_F_MAC,
    VNET_F_GUEST_TSO4, VNET_F_GUEST_TSO6,     VNET_F_HOST_TSO4,     VNET_F_HOST_TSO6,
    VNET_F_MRG_RXBUF,  VNET_F_STATUS,         VNET_F_CTRL_VQ,       VNET_F_CTRL_RX,
    VNET_F_CTRL_VLAN,  VNET_F_GUEST_ANNOUNCE, VNET_F_CTRL_MAC_ADDR, VNET_F_SPEED_DUPLEX,
};

/* What turning `bit` off must also turn off (the spec's requirements). */
static uint64_t dependents(unsigned bit)
{
    switch (bit) {
    case VNET_F_CSUM:
        return F(VNET_F_HOST_TSO4) | F(VNET_F_HOST_TSO6);
    case VNET_F_GUEST_CSUM:
        return F(VNET_F_GUEST_TSO4) | F(VNET_F_GUEST_TSO6);
    case VNET_F_CTRL_VQ:
        return F(VNET_F_CTRL_RX) | F(VNET_F_CTRL_VLAN) | F(VNET_F_GUEST_ANNOUNCE) |
               F(VNET_F_CTRL_MAC_ADDR);
    default:
        return 0;
    }
}

static const uint64_t all_device_bits = EMU_VNET_FEATURES_ALL;

static void one_frame_each_way(vnet_rig *r)
{
    uint8_t frame[200], got[2048];
    vnet_rx_frame f;

    rig_make_frame(frame, sizeof(frame), rig_mac, 9);
    assert_int_equal(emu_vnet_receive(r->dev, frame, sizeof(frame), NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(rig_recv(r, got, sizeof(got), &f), sizeof(frame));
    assert_memory_equal(got, frame, sizeof(frame));
    assert_int_equal(rig_send(r, frame, sizeof(frame), 2, NULL, frame), VNET_OK);
    assert_int_equal(vnet_tx_reap(r->n, 16), 1);
    assert_int_equal(r->ntx, 1);
    assert_memory_equal(r->tx[0].data, frame, sizeof(frame));
}

static void everything_offered_everything_taken(void **state)
{
    vnet_rig *r = rig_up(NULL);
    uint64_t want =
        (all_device_bits | F(VIO_F_VERSION_1) | F(VIO_F_INDIRECT_DESC) | F(VIO_F_EVENT_IDX));

    (void)state;
    assert_int_equal(vnet_features(r->n), want);
    assert_int_equal(emu_vnet_driver_features(r->dev), want);
    assert_int_equal(emu_vdev_driver_features(emu_vnet_vdev(r->dev)), want);
    one_frame_each_way(r);
    rig_down(r);
}

static void each_feature_can_be_turned_off(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(device_bits) / sizeof(device_bits[0]); i++) {
        unsigned bit = device_bits[i];
        rig_opts o = { 0 };
        vnet_rig *r;
        uint64_t got;

        o.params.features_off = F(bit);
        r = rig_up(&o);
        got = vnet_features(r->n);
        assert_false(got & F(bit));
        assert_int_equal(got & dependents(bit), 0);
        /* Everything else is still taken. */
        assert_int_equal(got & all_device_bits, all_device_bits & ~F(bit) & ~dependents(bit));
        assert_int_equal(emu_vnet_driver_features(r->dev), got);
        one_frame_each_way(r);
        rig_down(r);
    }
}

static void each_feature_missing_from_the_device(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(device_bits) / sizeof(device_bits[0]); i++) {
        unsigned bit = device_bits[i];
        rig_opts o = { .dev_features = all_device_bits & ~F(bit) };
        vnet_rig *r = rig_up(&o);
        uint64_t got = vnet_features(r->n);

        assert_int_equal(vnet_device_features(r->n) & F(bit), 0);
        assert_false(got & F(bit));
        assert_int_equal(got & dependents(bit), 0);
        one_frame_each_way(r);
        rig_down(r);
    }
}

static void standby_follows_failover(void **state)
{
    struct {
        bool offered, failover;
        uint64_t off;
        bool acked;
    } cases[] = {
        { true, true, 0, true },
        { true, false, 0, false },               /* offered, but failover disabled */
        { false, true, 0, false },               /* failover wanted, device cannot */
        { true, true, F(VNET_F_STANDBY), true }, /* features_off does not apply */
    };
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        rig_opts o = { .offer_standby = cases[i].offered };
        vnet_rig *r;

        o.params.failover = cases[i].failover;
        o.params.features_off = cases[i].off;
        r = rig_up(&o);
        assert_int_equal(emu_vnet_standby_acked(r->dev), cases[i].acked);
        assert_int_equal(vnet_has_feature(r->n, VNET_F_STANDBY), cases[i].acked);
        rig_down(r);
    }
}

static void standby_offered_later_is_acked_at_restart(void **state)
{
    rig_opts o = { 0 };
    vnet_rig *r;

    (void)state;
    o.params.failover = true;
    r = rig_up(&o);
    assert_false(emu_vnet_standby_acked(r->dev));
    emu_vnet_offer_standby(r->dev, true);
    vnet_stop(r->n);
    assert_int_equal(vnet_start(r->n), VNET_OK);
    assert_true(emu_vnet_standby_acked(r->dev));
    rig_down(r);
}

static void pure_resolution(void **state)
{
    vnet_params p = { 0 };
    uint64_t offered = F(VIO_F_VERSION_1) | F(VNET_F_HOST_TSO4) | F(VNET_F_CTRL_RX) |
                       F(22) /* MQ */ | F(10) /* GUEST_UFO */ | F(2) | F(VNET_F_MAC);

    (void)state;
    /* No CSUM and no CTRL_VQ: their dependents cannot be taken either. */
    assert_int_equal(vnet_features_for(offered, &p), F(VIO_F_VERSION_1) | F(VNET_F_MAC));
    offered |= F(VNET_F_CSUM) | F(VNET_F_CTRL_VQ) | F(VNET_F_STANDBY);
    assert_int_equal(vnet_features_for(offered, &p), F(VIO_F_VERSION_1) | F(VNET_F_MAC) |
                                                         F(VNET_F_CSUM) | F(VNET_F_HOST_TSO4) |
                                                         F(VNET_F_CTRL_VQ) | F(VNET_F_CTRL_RX));
    p.failover = true;
    p.features_off = F(VIO_F_VERSION_1); /* cannot be turned off */
    assert_true(vnet_features_for(offered, &p) & F(VNET_F_STANDBY));
    assert_true(vnet_features_for(offered, &p) & F(VIO_F_VERSION_1));
    /* Platform DMA addresses: a device behind an IOMMU gets its bit back,
     * whatever features_off says (QEMU refuses FEATURES_OK without it). */
    assert_false(vnet_features_for(offered, &p) & F(VIO_F_ACCESS_PLATFORM));
    p.features_off |= F(VIO_F_ACCESS_PLATFORM);
    assert_true(vnet_features_for(offered | F(VIO_F_ACCESS_PLATFORM), &p) &
                F(VIO_F_ACCESS_PLATFORM));
}

static void bad_mtu_rules_out_the_mtu_feature(void **state)
{
    rig_opts o = { .no_start = true };
    uint8_t tiny[2] = { 40, 0 };
    vnet_link_info link;
    vnet_stats s;
    vnet_rig *r;

    (void)state;
    o.params.max_mtu = 1400;
    r = rig_up(&o);
    emu_vnet_config_poke(r->dev, VNET_CFG_MTU, tiny, 2, false);
    assert_int_equal(vnet_start(r->n), VNET_OK);
    assert_false(vnet_has_feature(r->n, VNET_F_MTU));
    vnet_link_info_get(r->n, &link);
    assert_int_equal(link.mtu, 1400);
    vnet_get_stats(r->n, &s);
    assert_int_equal(s.cfg.err_mtu, 1);
    assert_int_equal(vnet_config_last_error(r->n), VNET_E_CFG_MTU);
    rig_down(r);
}

static void device_mtu_is_used(void **state)
{
    rig_opts o = { .mtu = 9000 };
    uint8_t jumbo[9014], got[9100];
    vnet_link_info link;
    vnet_rx_frame f;
    vnet_rig *r = rig_up(&o);

    (void)state;
    vnet_link_info_get(r->n, &link);
    assert_int_equal(link.mtu, 9000);
    rig_make_frame(jumbo, sizeof(jumbo), rig_mac, 1);
    assert_int_equal(emu_vnet_receive(r->dev, jumbo, sizeof(jumbo), NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(rig_recv(r, got, sizeof(got), &f), sizeof(jumbo));
    assert_true(f.nseg > 1); /* merged across 2 KiB buffers */
    assert_memory_equal(got, jumbo, sizeof(jumbo));
    assert_int_equal(rig_send(r, jumbo, sizeof(jumbo), 3, NULL, jumbo), VNET_OK);
    rig_down(r);
}

static void bad_mac_rules_out_the_mac_feature(void **state)
{
    static const uint8_t multicast[6] = { 0x01, 0x00, 0x5E, 0x00, 0x00, 0x01 };
    rig_opts o = { .no_start = true, .mac = multicast };
    vnet_link_info link;
    vnet_rig *r = rig_up(&o);

    (void)state;
    assert_int_equal(vnet_start(r->n), VNET_OK);
    assert_false(vnet_has_feature(r->n, VNET_F_MAC));
    vnet_link_info_get(r->n, &link);
    assert_false(link.mac_valid);
    assert_int_equal(vnet_config_last_error(r->n), VNET_E_CFG_MAC);
    rig_down(r);

    o.mac = NULL;
    o.no_mac = true; /* not offered at all: no error, just no MAC */
    r = rig_up(&o);
    assert_int_equal(vnet_start(r->n), VNET_OK);
    vnet_link_info_get(r->n, &link);
    assert_false(link.mac_valid);
    assert_int_equal(vnet_config_last_error(r->n), VNET_OK);
    rig_down(r);
}

static void restart_reuses_memory(void **state)
{
    vnet_rig *r = rig_up(NULL);
    uint32_t allocs = r->h->nallocs;
    uint64_t features = vnet_features(r->n);

    (void)state;
    assert_int_equal(vnet_start(r->n), VNET_E_STATE);
    vnet_stop(r->n);
    assert_false(vnet_is_started(r->n));
    assert_int_equal(vnet_start(r->n), VNET_OK);
    assert_int_equal(r->h->nallocs, allocs);
    assert_int_equal(vnet_features(r->n), features);
    one_frame_each_way(r);
    rig_down(r);
}

static void layout_change_rebuilds(void **state)
{
    vnet_rig *r = rig_up(NULL);
    uint8_t frame[100];
    vnet_rx_frame f;

    (void)state;
    assert_int_equal(vnet_rx_slot_count(r->n), 256);
    rig_make_frame(frame, sizeof(frame), rig_mac, 1);
    assert_int_equal(emu_vnet_receive(r->dev, frame, sizeof(frame), NULL), EMU_VNET_RX_DELIVERED);
    assert_int_equal(vnet_rx_next(r->n, &f), VNET_OK);
    /* The device stops offering mergeable buffers: big buffers now, but
     * not while the OS still reads from the old ones. */
    emu_vnet_offer_features(r->dev, all_device_bits & ~F(VNET_F_MRG_RXBUF));
    vnet_stop(r->n);
    assert_int_equal(vnet_start(r->n), VNET_E_BUSY);
    assert_int_equal(vnet_rx_return(r->n, f.handle), VNET_OK);
    assert_int_equal(vnet_start(r->n), VNET_OK);
    assert_false(vnet_has_feature(r->n, VNET_F_MRG_RXBUF));
    assert_int_equal(vnet_rx_slot_count(r->n), vnet_rx_buffer_count(r->n) * 17);
    one_frame_each_way(r);
    rig_down(r);
}

static void refused_features_fail_start_then_retry_works(void **state)
{
    rig_opts o = { .no_start = true };
    vnet_rig *r = rig_up(&o);

    (void)state;
    emu_vdev_inject_fault(emu_vnet_vdev(r->dev), EMU_VDEV_FAULT_REFUSE_FEATURES, 0, 0, 1);
    assert_int_equal(vnet_start(r->n), VNET_E_VIRTIO);
    assert_int_equal(vnet_last_vio_status(r->n), VIO_E_FEATURES_REFUSED);
    assert_false(vnet_is_started(r->n));
    assert_int_equal(vnet_start(r->n), VNET_OK);
    one_frame_each_way(r);
    rig_down(r);
}

static void ignore_tx_done(void *ctx, void *cookie, vnet_status status)
{
    (void)ctx;
    (void)cookie;
    (void)status;
}

static void not_a_network_device(void **state)
{
    vh_params hp = { 0 };
    vio_harness *h = vh_create(&hp);
    vnet_callbacks cb = { .tx_done = ignore_tx_done };
    vnet_params bad = { .rx_buf_size = 100 };
    vnet *n = NULL;

    (void)state;
    assert_int_equal(vnet_create(&h->ops, h, NULL, &cb, NULL, &n), VNET_E_NOT_NET);
    assert_null(n);
    assert_true(vh_destroy(h));

    {
        vnet_rig *r = rig_up(&(rig_opts){ .no_start = true });
        assert_int_equal(vnet_create(&r->h->ops, r->h, &bad, &cb, NULL, &n), VNET_E_INVAL);
        assert_int_equal(vnet_create(&r->h->ops, r->h, NULL, NULL, NULL, &n), VNET_E_INVAL);
        rig_down(r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(everything_offered_everything_taken),
        cmocka_unit_test(each_feature_can_be_turned_off),
        cmocka_unit_test(each_feature_missing_from_the_device),
        cmocka_unit_test(standby_follows_failover),
        cmocka_unit_test(standby_offered_later_is_acked_at_restart),
        cmocka_unit_test(pure_resolution),
        cmocka_unit_test(bad_mtu_rules_out_the_mtu_feature),
        cmocka_unit_test(device_mtu_is_used),
        cmocka_unit_test(bad_mac_rules_out_the_mac_feature),
        cmocka_unit_test(restart_reuses_memory),
        cmocka_unit_test(layout_change_rebuilds),
        cmocka_unit_test(refused_features_fail_start_then_retry_works),
        cmocka_unit_test(not_a_network_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
