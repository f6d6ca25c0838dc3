/*
 * A virtio device model on ndisemu's PCI through the glue, driven by the
 * minimal virtio-net miniport: feature negotiation with and without
 * STANDBY, MAC from the device configuration, link changes through the
 * configuration interrupt, sends refused (no data path), clean removal.
 * The device personality here is a bare one (configuration and feature
 * bits, idle queues): enough for what the miniport does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <ndis.h>

#include "ndisemu/emu.h"
#include "tcpip.h"
#include "virtio_pci.h"

#define MS        1000000ull
#define F_MAC     5
#define F_STATUS  16
#define F_STANDBY 62

static const uint8_t MAC_S[6] = { 0x52, 0x54, 0x00, 0x22, 0x22, 0x22 };

typedef struct world {
    emu_runtime *rt;
    emu_ctl *ctl;
    emu_vpci *glue;
    emu_vdev *vdev;
    uint64_t accepted;
    unsigned negotiations;
} world;

static void idle_queue(emu_vdev *dev, void *ctx, uint16_t queue)
{
    (void)dev;
    (void)ctx;
    (void)queue;
}

static bool note_features(emu_vdev *dev, void *ctx, uint64_t features)
{
    world *w = ctx;
    (void)dev;
    w->accepted = features;
    w->negotiations++;
    return true;
}

static const emu_vdev_queue_info k_queues[2] = { { 64, idle_queue }, { 64, idle_queue } };

static const emu_vdev_personality k_bare_net = {
    .device_type = 1,
    .pci_class = 0x020000,
    .features = (1ull << F_MAC) | (1ull << F_STATUS) | (1ull << F_STANDBY),
    .config_size = 8,
    .num_queues = 2,
    .queues = k_queues,
    .validate_features = note_features,
};

static void ioctl_ok(world *w, uint32_t code, const void *in, size_t in_len, void *out,
                     size_t out_len)
{
    int32_t nt = -1;
    size_t ret;
    assert_int_equal(emu_ctl_ioctl(w->ctl, code, in, in_len, out, out_len, &ret, &nt), EMU_OK);
    assert_int_equal(nt, 0);
}

static void set_status(emu_vdev *dev, uint16_t status)
{
    uint8_t b[2] = { (uint8_t)status, (uint8_t)(status >> 8) };
    emu_vdev_config_set(dev, 6, b, 2);
}

static world *start(const char *const *registry)
{
    static world w;
    memset(&w, 0, sizeof(w));
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = 5 };
    assert_int_equal(emu_create(&cfg, &w.rt), EMU_OK);
    emu_driver *d;
    assert_int_equal(emu_load_driver(w.rt, VNETMIN_SO, NULL, &d), EMU_OK);
    assert_int_equal(emu_load_driver(w.rt, TCPIP_SO, NULL, &d), EMU_OK);
    assert_int_equal(emu_ctl_open(w.rt, TCPIP_DEVICE, &w.ctl), EMU_OK);
    tcpip_config tc = { .ip = 0x0A000002u,
                        .peer_ip = 0x0A000001u,
                        .peer_mac = { 2, 0, 0, 0, 0, 1 } };
    ioctl_ok(&w, IOCTL_TCPIP_CONFIG, &tc, sizeof(tc), NULL, 0);
    w.glue = emu_vpci_create();
    emu_vdev_params p = { .personality = &k_bare_net,
                          .personality_ctx = &w,
                          .host = emu_vpci_host_ops(),
                          .host_ctx = w.glue,
                          .msix_vectors = 3 };
    w.vdev = emu_vdev_create(&p);
    assert_non_null(w.vdev);
    emu_vdev_config_set(w.vdev, 0, MAC_S, 6);
    set_status(w.vdev, 1);
    emu_vpci_bind(w.glue, w.vdev, 1, 3);
    emu_device_desc desc;
    emu_vpci_device_desc(w.glue, "standby0", &desc);
    assert_string_equal(desc.pnp_id, "PCI\\VEN_1AF4&DEV_1041");
    desc.registry = registry;
    emu_adapter *ad;
    assert_int_equal(emu_add_device(w.rt, &desc, &ad), EMU_OK);
    assert_int_equal(emu_run_for(w.rt, 5 * MS), EMU_OK);
    return &w;
}

static void finish(world *w)
{
    emu_ctl_close(w->ctl);
    assert_int_equal(emu_shutdown(w->rt), EMU_OK);
    assert_false(emu_failed(w->rt));
    emu_destroy(w->rt);
    emu_vdev_destroy(w->vdev);
    emu_vpci_destroy(w->glue);
}

static void negotiates_standby_and_reads_the_mac(void **state)
{
    (void)state;
    world *w = start(NULL);
    assert_int_equal(w->negotiations, 1);
    assert_true(w->accepted & (1ull << F_STANDBY));
    assert_true(emu_vdev_driver_features(w->vdev) & (1ull << F_STANDBY));
    assert_int_equal(emu_vdev_status(w->vdev) & 0x04, 0x04); /* DRIVER_OK */
    tcpip_stats s;
    ioctl_ok(w, IOCTL_TCPIP_STATS, NULL, 0, &s, sizeof(s));
    assert_int_equal(s.n_adapters, 1);
    assert_string_equal(s.adapter[0].name, "standby0");
    assert_memory_equal(s.adapter[0].mac, MAC_S, 6);
    assert_true(s.adapter[0].media_connected && s.adapter[0].configured);
    finish(w);
}

static void standby_off_in_the_registry_refuses_it(void **state)
{
    (void)state;
    static const char *const reg[] = { "Standby=0", NULL };
    world *w = start(reg);
    assert_int_equal(w->negotiations, 1);
    assert_false(w->accepted & (1ull << F_STANDBY));
    assert_true(w->accepted & (1ull << F_MAC));
    finish(w);
}

static void link_down(void *arg)
{
    world *w = arg;
    set_status(w->vdev, 0);
    emu_vdev_config_changed(w->vdev);
}

static void link_changes_reach_the_protocols_and_sends_fail(void **state)
{
    (void)state;
    world *w = start(NULL);
    uint32_t pps = 1000;
    ioctl_ok(w, IOCTL_TCPIP_START, &pps, sizeof(pps), NULL, 0);
    assert_int_equal(emu_run_for(w->rt, 10 * MS), EMU_OK);
    assert_int_not_equal(emu_vpci_schedule(w->glue, 0, link_down, w), 0);
    assert_int_equal(emu_run_for(w->rt, 10 * MS), EMU_OK);
    ioctl_ok(w, IOCTL_TCPIP_STOP, NULL, 0, NULL, 0);
    tcpip_stats s;
    ioctl_ok(w, IOCTL_TCPIP_STATS, NULL, 0, &s, sizeof(s));
    assert_int_equal(s.adapter[0].link_downs, 1);
    assert_false(s.adapter[0].media_connected);
    assert_true(s.adapter[0].tx_seq >= 9);
    assert_int_equal(s.adapter[0].tx_failed, s.adapter[0].tx);
    emu_vpci_stats vs;
    emu_vpci_get_stats(w->glue, &vs);
    assert_true(vs.interrupts >= 1);
    assert_int_equal(vs.lost_interrupts + vs.dma_refused, 0);
    finish(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(negotiates_standby_and_reads_the_mac),
        cmocka_unit_test(standby_off_in_the_registry_refuses_it),
        cmocka_unit_test(link_changes_reach_the_protocols_and_sends_fail),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
