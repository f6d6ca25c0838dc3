/*
 * lib/virtio PCI modern transport against the device model: identification,
 * capability discovery (and malformed capabilities), the status handshake,
 * 64-bit feature negotiation, refused features, bounded reset, generation-
 * safe configuration reads and MSI-X routing.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vio_harness.h"

#define F(bit) VIO_FEATURE(bit)

static vio_harness *harness(void)
{
    vio_harness *h = vh_create(NULL);
    assert_non_null(h);
    return h;
}

static void finish(vio_harness *h, vio_dev *dev)
{
    vio_dev_destroy(dev);
    assert_int_equal(h->bad_register_accesses, 0);
    assert_true(vh_destroy(h));
}

static void identifies_device_and_maps_structures(void **state)
{
    vio_harness *h = harness();
    vio_dev *dev = NULL;
    uint8_t pos;

    (void)state;
    assert_int_equal(vio_dev_create(&h->ops, h, NULL, &dev), VIO_OK);
    assert_int_equal(vio_dev_device_type(dev), VH_DEVICE_TYPE);
    assert_int_equal(vio_dev_num_queues(dev), 2);
    assert_int_equal(vio_dev_config_size(dev), 16);
    pos = vio_dev_pci_cfg_cap_offset(dev);
    assert_int_equal(pos, vh_find_cap(h, 0x09, VIO_PCI_CAP_PCI_CFG));
    assert_int_not_equal(pos, 0);
    assert_int_equal(vio_dev_get_stats(dev)->caps_ignored, 0);
    finish(h, dev);
}

static void create_checks_arguments(void **state)
{
    vio_harness *h = harness();
    vio_os_ops partial = h->ops;
    vio_dev *dev = NULL;

    (void)state;
    partial.sleep_us = NULL;
    assert_int_equal(vio_dev_create(NULL, h, NULL, &dev), VIO_E_INVAL);
    assert_int_equal(vio_dev_create(&h->ops, h, NULL, NULL), VIO_E_INVAL);
    assert_int_equal(vio_dev_create(&partial, h, NULL, &dev), VIO_E_INVAL);
    assert_null(dev);
    finish(h, NULL);
}

static vio_status create_with(vio_harness *h, uint32_t off, unsigned width, uint32_t value)
{
    vio_dev *dev = NULL;
    vio_status st;

    vh_override_cfg(h, off, width, value);
    st = vio_dev_create(&h->ops, h, NULL, &dev);
    vio_dev_destroy(dev);
    return st;
}

static void rejects_ids_that_are_not_virtio_1(void **state)
{
    vio_harness *h = harness();
    vio_dev *dev = NULL;

    (void)state;
    assert_int_equal(create_with(h, 0x00, 2, 0x8086), VIO_E_NOT_VIRTIO);
    finish(h, NULL);
    h = harness();
    assert_int_equal(create_with(h, 0x02, 2, 0x1040), VIO_E_NOT_VIRTIO); /* type 0 */
    finish(h, NULL);
    h = harness();
    assert_int_equal(create_with(h, 0x02, 2, 0x1234), VIO_E_NOT_VIRTIO);
    finish(h, NULL);
    /* A transitional id takes its type from the subsystem id. */
    h = harness();
    vh_override_cfg(h, 0x02, 2, 0x1000);
    vh_override_cfg(h, 0x2E, 2, 1);
    assert_int_equal(vio_dev_create(&h->ops, h, NULL, &dev), VIO_OK);
    assert_int_equal(vio_dev_device_type(dev), 1);
    finish(h, dev);
}

static void missing_capabilities_are_reported(void **state)
{
    vio_harness *h;
    uint8_t pos;

    (void)state;
    h = harness(); /* no capability list at all */
    assert_int_equal(create_with(h, 0x06, 2, 0x0000), VIO_E_CAP_MISSING);
    finish(h, NULL);

    h = harness(); /* the common structure in a reserved BAR: must be ignored */
    pos = vh_find_cap(h, 0x09, VIO_PCI_CAP_COMMON_CFG);
    assert_int_equal(create_with(h, pos + 4u, 1, 6), VIO_E_CAP_MISSING);
    finish(h, NULL);

    h = harness(); /* a notify capability too short for its multiplier */
    pos = vh_find_cap(h, 0x09, VIO_PCI_CAP_NOTIFY_CFG);
    assert_int_equal(create_with(h, pos + 2u, 1, 16), VIO_E_CAP_MISSING);
    finish(h, NULL);

    h = harness(); /* first pointer into the standard header */
    assert_int_equal(create_with(h, 0x34, 1, 0x10), VIO_E_CAP_MISSING);
    finish(h, NULL);
}

static void malformed_capabilities_are_rejected(void **state)
{
    vio_harness *h;
    uint8_t pos;

    (void)state;
    h = harness(); /* common structure shorter than the registers */
    pos = vh_find_cap(h, 0x09, VIO_PCI_CAP_COMMON_CFG);
    assert_int_equal(create_with(h, pos + 12u, 4, 0x20), VIO_E_CAP_INVALID);
    finish(h, NULL);

    h = harness(); /* offset + length overflows: ignored, so missing */
    pos = vh_find_cap(h, 0x09, VIO_PCI_CAP_ISR_CFG);
    assert_int_equal(create_with(h, pos + 8u, 4, 0xFFFFFFFFu), VIO_E_CAP_MISSING);
    finish(h, NULL);

    h = harness(); /* a structure beyond the end of the BAR cannot be mapped */
    pos = vh_find_cap(h, 0x09, VIO_PCI_CAP_COMMON_CFG);
    assert_int_equal(create_with(h, pos + 8u, 4, EMU_VDEV_BAR0_SIZE - 0x10), VIO_E_MAP_FAILED);
    finish(h, NULL);
}

static void capability_loop_is_bounded(void **state)
{
    vio_harness *h = harness();
    uint8_t msix = vh_find_cap(h, 0x11, 0);
    vio_dev *dev = NULL;

    (void)state;
    /* The last capability points back to the first: the walk must end. */
    vh_override_cfg(h, msix + 1u, 1, emu_vdev_cfg_read(h->dev, 0x34, 1));
    assert_int_equal(vio_dev_create(&h->ops, h, NULL, &dev), VIO_OK);
    assert_int_equal(vio_dev_get_stats(dev)->caps_ignored, 1);
    finish(h, dev);
}

static void handshake_sets_status_in_spec_order(void **state)
{
    vio_harness *h = harness();
    vio_dev *dev = NULL;
    const uint8_t expect[] = {
        VIO_STATUS_ACKNOWLEDGE,
        VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER,
        VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER | VIO_STATUS_FEATURES_OK,
        VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER | VIO_STATUS_FEATURES_OK | VIO_STATUS_DRIVER_OK,
    };

    (void)state;
    assert_int_equal(vh_driver_init(h, 0, &dev), VIO_OK);
    assert_int_equal(vio_dev_driver_ok(dev), VIO_OK);
    assert_int_equal(h->nstatus, sizeof(expect));
    assert_memory_equal(h->status_log, expect, sizeof(expect));
    assert_int_equal(vio_dev_get_status(dev), expect[3]);
    assert_int_equal(emu_vdev_status(h->dev), expect[3]);
    assert_int_equal(vio_dev_get_stats(dev)->resets, 1);
    /* A reset clears everything, including the negotiated features. */
    assert_int_equal(vio_dev_reset(dev), VIO_OK);
    assert_int_equal(emu_vdev_status(h->dev), 0);
    assert_true(vio_dev_features(dev) == 0);
    finish(h, dev);
}

static void negotiates_all_64_feature_bits(void **state)
{
    vh_params p = { .features = F(0) | F(5) | F(23) | F(62) };
    vio_harness *h = vh_create(&p);
    uint64_t offered, accepted = 0;
    uint64_t wanted = F(5) | F(62) | F(63) | F(VIO_F_EVENT_IDX) | F(VIO_F_ACCESS_PLATFORM) |
                      F(VIO_F_RING_PACKED) | F(VIO_F_IN_ORDER) | F(VIO_F_NOTIFICATION_DATA);
    uint64_t expect =
        F(5) | F(62) | F(VIO_F_EVENT_IDX) | F(VIO_F_ACCESS_PLATFORM) | F(VIO_F_VERSION_1);
    vio_dev *dev = NULL;

    (void)state;
    /* The device also offers transport features this library does not do. */
    offered = p.features | F(VIO_F_VERSION_1) | F(VIO_F_EVENT_IDX) | F(VIO_F_INDIRECT_DESC) |
              F(VIO_F_ACCESS_PLATFORM) | F(VIO_F_RING_PACKED) | F(VIO_F_IN_ORDER) |
              F(VIO_F_NOTIFICATION_DATA);
    emu_vdev_offer_features(h->dev, offered);
    assert_int_equal(vio_dev_create(&h->ops, h, NULL, &dev), VIO_OK);
    assert_int_equal(vio_dev_begin_init(dev), VIO_OK);
    assert_true(vio_dev_device_features(dev) == offered);
    assert_int_equal(vio_dev_negotiate(dev, wanted, &accepted), VIO_OK);
    assert_true(accepted == expect);
    assert_true(vio_dev_features(dev) == expect);
    assert_true(emu_vdev_driver_features(h->dev) == expect);
    assert_true(h->last_features_validated == expect);
    assert_true(vio_dev_has_feature(dev, 62));
    assert_false(vio_dev_has_feature(dev, VIO_F_INDIRECT_DESC));
    assert_false(vio_dev_has_feature(dev, 64));
    finish(h, dev);
}

static void device_refusing_features_ok_fails_init(void **state)
{
    vh_params p = { .features = F(5) | F(7) };
    vio_harness *h = vh_create(&p);
    vio_dev *dev = NULL;
    uint64_t accepted = 0;

    (void)state;
    h->refuse_feature_mask = F(5);
    assert_int_equal(vio_dev_create(&h->ops, h, NULL, &dev), VIO_OK);
    assert_int_equal(vio_dev_begin_init(dev), VIO_OK);
    assert_int_equal(vio_dev_negotiate(dev, F(5) | F(7), &accepted), VIO_E_FEATURES_REFUSED);
    assert_true(accepted == 0);
    assert_true(vio_dev_features(dev) == 0);
    assert_int_equal(vio_dev_get_status(dev) & (VIO_STATUS_FEATURES_OK | VIO_STATUS_FAILED),
                     VIO_STATUS_FAILED);
    assert_int_equal(vio_dev_get_stats(dev)->features_refused, 1);

    /* After a reset a smaller set goes through. */
    assert_int_equal(vio_dev_begin_init(dev), VIO_OK);
    assert_int_equal(vio_dev_negotiate(dev, F(7), &accepted), VIO_OK);
    assert_true(accepted == (F(7) | F(VIO_F_VERSION_1)));

    /* A device that refuses for no stated reason (fault injection). */
    emu_vdev_inject_fault(h->dev, EMU_VDEV_FAULT_REFUSE_FEATURES, 0, 0, 1);
    assert_int_equal(vio_dev_begin_init(dev), VIO_OK);
    assert_int_equal(vio_dev_negotiate(dev, F(7), NULL), VIO_E_FEATURES_REFUSED);
    assert_int_equal(vio_dev_get_stats(dev)->features_refused, 2);
    finish(h, dev);
}

static void device_without_version_1_is_refused(void **state)
{
    vio_harness *h = harness();
    vio_dev *dev = NULL;

    (void)state;
    emu_vdev_offer_features(h->dev, F(VIO_F_EVENT_IDX) | F(3));
    assert_int_equal(vio_dev_create(&h->ops, h, NULL, &dev), VIO_OK);
    assert_int_equal(vio_dev_begin_init(dev), VIO_OK);
    assert_int_equal(vio_dev_negotiate(dev, ~0ull, NULL), VIO_E_NO_VERSION_1);
    assert_true(vio_dev_get_status(dev) & VIO_STATUS_FAILED);
    assert_false(vio_dev_get_status(dev) & VIO_STATUS_FEATURES_OK);
    finish(h, dev);
}

static void reset_waits_for_a_slow_device(void **state)
{
    vio_harness *h = harness();
    vio_dev *dev = NULL;

    (void)state;
    assert_int_equal(vh_driver_init(h, 0, &dev), VIO_OK);
    emu_vdev_inject_fault(h->dev, EMU_VDEV_FAULT_RESET_STUCK, 0, 0, 5);
    assert_int_equal(vio_dev_reset(dev), VIO_OK);
    /* 5 reads still see the old status, the 6th sees 0; a poll interval
     * (default 1 ms) is slept between reads. */
    assert_int_equal(vio_dev_get_stats(dev)->reset_polls, 1 + 6);
    assert_int_equal(h->slept_us, 5 * 1000);
    assert_int_equal(emu_vdev_status(h->dev), 0);
    finish(h, dev);
}

static void reset_that_never_completes_times_out(void **state)
{
    vio_harness *h = harness();
    vio_dev_params params = { .reset_timeout_us = 10000, .reset_poll_us = 1000 };
    vio_dev *dev = NULL;

    (void)state;
    assert_int_equal(vio_dev_create(&h->ops, h, &params, &dev), VIO_OK);
    assert_int_equal(vio_dev_begin_init(dev), VIO_OK);
    emu_vdev_inject_fault(h->dev, EMU_VDEV_FAULT_RESET_STUCK, 0, 0, EMU_VDEV_FOREVER);
    assert_int_equal(vio_dev_reset(dev), VIO_E_RESET_TIMEOUT);
    assert_int_equal(h->slept_us, 10000); /* bounded by the timeout */
    assert_int_equal(vio_dev_get_stats(dev)->reset_timeouts, 1);
    assert_int_equal(vio_dev_begin_init(dev), VIO_E_RESET_TIMEOUT);
    /* The device recovers: the next reset goes through. */
    emu_vdev_inject_fault(h->dev, EMU_VDEV_FAULT_RESET_STUCK, 0, 0, 0);
    assert_int_equal(vio_dev_begin_init(dev), VIO_OK);
    finish(h, dev);
}

static const vh_config test_config = {
    .mac = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 },
    .status = 1,
    .speed = 10000,
    .cookie = 0xC0FFEE11,
};

static void config_reads_whole_fields(void **state)
{
    vio_harness *h = harness();
    vio_dev *dev = NULL;
    uint8_t raw[16], expect[16];
    uint32_t speed = 0;

    (void)state;
    vh_set_config(h, &test_config, false);
    emu_vdev_config_get(h->dev, 0, expect, sizeof(expect));
    assert_int_equal(vh_driver_init(h, 0, &dev), VIO_OK);
    assert_int_equal(vio_dev_config_read(dev, 0, raw, sizeof(raw)), VIO_OK);
    assert_memory_equal(raw, expect, sizeof(raw));
    assert_int_equal(vio_dev_config_read(dev, 8, &speed, 4), VIO_OK);
    assert_int_equal(speed, 10000);
    assert_int_equal(vio_dev_config_read(dev, 3, raw, 5), VIO_OK); /* unaligned */
    assert_memory_equal(raw, expect + 3, 5);
    assert_int_equal(vio_dev_get_stats(dev)->config_retries, 0);
    finish(h, dev);
}

static void config_read_never_returns_a_torn_value(void **state)
{
    vio_harness *h = harness();
    vio_dev *dev = NULL;
    uint8_t mac[6], now[6];

    (void)state;
    vh_set_config(h, &test_config, false);
    assert_int_equal(vh_driver_init(h, 0, &dev), VIO_OK);
    /* The MAC is read as 4 + 2 bytes. The first access changes the whole
     * configuration and the generation behind the driver's back, so the
     * first pass mixes old and new bytes; only the retry is consistent. */
    emu_vdev_inject_fault(h->dev, EMU_VDEV_FAULT_CONFIG_CHURN, 0, 0, 1);
    assert_int_equal(vio_dev_config_read(dev, 0, mac, sizeof(mac)), VIO_OK);
    emu_vdev_config_get(h->dev, 0, now, sizeof(now));
    assert_memory_equal(mac, now, sizeof(mac));
    assert_memory_not_equal(mac, test_config.mac, sizeof(mac));
    assert_int_equal(vio_dev_get_stats(dev)->config_retries, 1);

    /* Three changes during the 2-access MAC read: two more retries. */
    emu_vdev_inject_fault(h->dev, EMU_VDEV_FAULT_CONFIG_CHURN, 0, 0, 3);
    assert_int_equal(vio_dev_config_read(dev, 0, mac, sizeof(mac)), VIO_OK);
    assert_int_equal(vio_dev_get_stats(dev)->config_retries, 3);
    emu_vdev_config_get(h->dev, 0, now, sizeof(now));
    assert_memory_equal(mac, now, sizeof(mac));
    finish(h, dev);
}

static void config_that_never_settles_is_reported(void **state)
{
    vio_harness *h = harness();
    vio_dev *dev = NULL;
    uint8_t mac[6];

    (void)state;
    assert_int_equal(vh_driver_init(h, 0, &dev), VIO_OK);
    emu_vdev_inject_fault(h->dev, EMU_VDEV_FAULT_CONFIG_CHURN, 0, 0, EMU_VDEV_FOREVER);
    assert_int_equal(vio_dev_config_read(dev, 0, mac, sizeof(mac)), VIO_E_CONFIG_UNSTABLE);
    assert_int_equal(vio_dev_get_stats(dev)->config_unstable, 1);
    assert_int_equal(vio_dev_get_stats(dev)->config_retries, 16);
    finish(h, dev);
}

static void config_read_stays_inside_the_structure(void **state)
{
    vio_harness *h = harness();
    vio_dev *dev = NULL;
    uint8_t buf[16];

    (void)state;
    assert_int_equal(vh_driver_init(h, 0, &dev), VIO_OK);
    assert_int_equal(vio_dev_config_read(dev, 10, buf, 8), VIO_E_RANGE);
    assert_int_equal(vio_dev_config_read(dev, 17, buf, 0), VIO_E_RANGE);
    assert_int_equal(vio_dev_config_read(dev, 0xFFFFFFFFu, buf, 2), VIO_E_RANGE);
    assert_int_equal(vio_dev_config_read(dev, 16, buf, 0), VIO_OK);
    assert_int_equal(vio_dev_config_read(dev, 0, NULL, 4), VIO_E_INVAL);
    finish(h, dev);
}

static void config_change_interrupt_uses_its_vector(void **state)
{
    vio_harness *h = harness();
    vio_dev *dev = NULL;

    (void)state;
    assert_int_equal(vh_driver_init(h, 0, &dev), VIO_OK);
    assert_int_equal(vio_dev_set_config_vector(dev, 2), VIO_OK);
    assert_int_equal(vio_dev_driver_ok(dev), VIO_OK);
    vh_set_config(h, &test_config, true);
    assert_int_equal(h->msix_raised[2], 1);
    assert_int_equal(h->msix_raised[0] + h->msix_raised[1], 0);
    assert_int_equal(vio_dev_read_isr(dev), VIO_ISR_CONFIG);
    assert_int_equal(vio_dev_read_isr(dev), 0); /* read-to-clear */
    finish(h, dev);
}

static void refused_msix_vectors_are_reported(void **state)
{
    vio_harness *h = harness(); /* 3 vectors */
    vio_dev *dev = NULL;

    (void)state;
    assert_int_equal(vh_driver_init(h, 0, &dev), VIO_OK);
    assert_int_equal(vio_dev_set_config_vector(dev, 3), VIO_E_MSIX_VECTOR); /* OS has 3 */
    emu_vdev_inject_fault(h->dev, EMU_VDEV_FAULT_REFUSE_MSIX, 0, 0, 1);
    assert_int_equal(vio_dev_set_config_vector(dev, 1), VIO_E_MSIX_VECTOR);
    assert_int_equal(vio_dev_get_stats(dev)->msix_refused, 2);
    assert_int_equal(vio_dev_set_config_vector(dev, 1), VIO_OK);
    assert_int_equal(vio_dev_set_config_vector(dev, VIO_MSI_NO_VECTOR), VIO_OK);
    finish(h, dev);
}

static void device_needing_reset_blocks_driver_ok(void **state)
{
    vio_harness *h = harness();
    vio_dev *dev = NULL;

    (void)state;
    assert_int_equal(vh_driver_init(h, 0, &dev), VIO_OK);
    assert_false(vio_dev_needs_reset(dev));
    emu_vdev_needs_reset(h->dev);
    assert_true(vio_dev_needs_reset(dev));
    assert_int_equal(vio_dev_driver_ok(dev), VIO_E_DEVICE_NEEDS_RESET);
    assert_false(emu_vdev_status(h->dev) & VIO_STATUS_DRIVER_OK);
    assert_int_equal(vio_dev_begin_init(dev), VIO_OK);
    assert_false(vio_dev_needs_reset(dev));
    finish(h, dev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identifies_device_and_maps_structures),
        cmocka_unit_test(create_checks_arguments),
        cmocka_unit_test(rejects_ids_that_are_not_virtio_1),
        cmocka_unit_test(missing_capabilities_are_reported),
        cmocka_unit_test(malformed_capabilities_are_rejected),
        cmocka_unit_test(capability_loop_is_bounded),
        cmocka_unit_test(handshake_sets_status_in_spec_order),
        cmocka_unit_test(negotiates_all_64_feature_bits),
        cmocka_unit_test(device_refusing_features_ok_fails_init),
        cmocka_unit_test(device_without_version_1_is_refused),
        cmocka_unit_test(reset_waits_for_a_slow_device),
        cmocka_unit_test(reset_that_never_completes_times_out),
        cmocka_unit_test(config_reads_whole_fields),
        cmocka_unit_test(config_read_never_returns_a_torn_value),
        cmocka_unit_test(config_that_never_settles_is_reported),
        cmocka_unit_test(config_read_stays_inside_the_structure),
        cmocka_unit_test(config_change_interrupt_uses_its_vector),
        cmocka_unit_test(refused_msix_vectors_are_reported),
        cmocka_unit_test(device_needing_reset_blocks_driver_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
