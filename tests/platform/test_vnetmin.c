/*
 * The minimal virtio-net miniport (vnetmin, on lib/vnet) and the TCP/IP
 * stand-in on the standby NIC (the virtio-net device model behind the PCI
 * glue), plugged through the PCI bus, exchanging the sequence-stamped
 * stream with the peer host: feature negotiation with and without STANDBY,
 * the MAC from the device, a lossless stream both ways with every queue's
 * interrupt on its own MSI-X vector, link down/up through the
 * configuration interrupt, surprise removal under traffic (every send
 * completes: none vanish, pause is not left waiting) and a graceful eject.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include <ndis.h>

#include "pcibus.h"
#include "guest_test.h"
#include "peer.h"
#include "stbnic.h"

#define GUEST_IP 0x0A000002u
#define PEER_IP  0x0A000001u
#define F_MAC    5

static const uint8_t MAC_G[6] = { 0x52, 0x54, 0x00, 0x22, 0x22, 0x22 };
static const uint8_t MAC_P[6] = { 0x52, 0x54, 0x00, 0x99, 0x00, 0x01 };

typedef struct world {
    emu_runtime *rt;
    emu_ctl *ctl;
    emu_switch *sw;
    emu_stbnic *nic;
    emu_peer *peer;
    emu_pcibus *bus;
    unsigned events[8];
} world;

static void on_slot(void *ctx, unsigned slot, emu_slot_event ev, int status)
{
    world *w = ctx;
    (void)slot;
    (void)status;
    w->events[ev]++;
}

/* A world with the NIC plugged and its driver started; `registry` is the
 * adapter's registry ("Standby=0"). */
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
    tcpip_config tc = { .ip = GUEST_IP, .netmask = 0xFFFFFF00u, .peer_ip = PEER_IP, .stream = 2 };
    memcpy(tc.peer_mac, MAC_P, 6);
    guest_ioctl_ok(w.ctl, IOCTL_TCPIP_CONFIG, &tc, sizeof(tc), NULL, 0);
    w.sw = emu_switch_create();
    emu_stbnic_cfg nc = { .registry = registry };
    memcpy(nc.mac, MAC_G, 6);
    w.nic = emu_stbnic_create(&nc);
    assert_non_null(w.nic);
    emu_stbnic_offer_standby(w.nic, true);
    emu_stbnic_set_port(w.nic, emu_switch_add_port(w.sw, "tap0"));
    emu_peer_cfg pc = { .ip = PEER_IP, .guest_ip = GUEST_IP, .stream = 1 };
    memcpy(pc.mac, MAC_P, 6);
    memcpy(pc.guest_mac, MAC_G, 6);
    w.peer = emu_peer_create(w.rt, &pc);
    emu_peer_attach(w.peer, emu_switch_add_port(w.sw, "peer"));
    w.bus = emu_pcibus_create(w.rt, 4, on_slot, &w);
    emu_device_desc desc;
    emu_stbnic_device_desc(w.nic, "standby0", &desc);
    assert_string_equal(desc.pnp_id, "PCI\\VEN_1AF4&DEV_1041");
    assert_int_equal(emu_pcibus_plug(w.bus, 0, &desc), EMU_OK);
    assert_int_equal(emu_run_for(w.rt, 10 * MS), EMU_OK);
    assert_int_equal(emu_pcibus_state(w.bus, 0), EMU_SLOT_PRESENT);
    return &w;
}

static void finish(world *w)
{
    emu_peer_stop(w->peer);
    emu_ctl_close(w->ctl);
    assert_int_equal(emu_shutdown(w->rt), EMU_OK);
    assert_false(emu_failed(w->rt));
    emu_destroy(w->rt);
    emu_pcibus_destroy(w->bus);
    emu_peer_destroy(w->peer);
    emu_stbnic_destroy(w->nic);
    emu_switch_destroy(w->sw);
}

static void negotiates_standby_and_reads_the_mac(void **state)
{
    (void)state;
    world *w = start(NULL);
    uint64_t f = emu_stbnic_driver_features(w->nic);
    assert_true(f & (1ull << EMU_STBNIC_F_STANDBY));
    assert_true(f & (1ull << F_MAC));
    emu_stbnic_stats ns;
    emu_stbnic_get_stats(w->nic, &ns);
    assert_int_equal(ns.negotiations, 1);
    tcpip_stats s;
    guest_stats(w->ctl, &s);
    assert_int_equal(s.n_adapters, 1);
    assert_string_equal(s.adapter[0].name, "standby0");
    assert_memory_equal(s.adapter[0].mac, MAC_G, 6);
    assert_true(s.adapter[0].media_connected && s.adapter[0].configured);
    assert_int_equal(s.adapter[0].link_speed, 1000000000ull);
    finish(w);
}

static void standby_off_in_the_registry_refuses_it(void **state)
{
    (void)state;
    static const char *const reg[] = { "Standby=0", NULL };
    world *w = start(reg);
    uint64_t f = emu_stbnic_driver_features(w->nic);
    assert_false(f & (1ull << EMU_STBNIC_F_STANDBY));
    assert_true(f & (1ull << F_MAC));
    finish(w);
}

static void stream_both_ways_without_loss(void **state)
{
    (void)state;
    world *w = start(NULL);
    emu_peer_stats ps;
    emu_peer_get_stats(w->peer, &ps);
    assert_int_equal(ps.garp_rx, 1); /* the stand-in's gratuitous ARP on bind */
    guest_exchange(w->rt, w->ctl, w->peer, 300);
    tcpip_stats s;
    guest_stats(w->ctl, &s);
    assert_int_equal(s.seq_sent, 300);
    assert_int_equal(s.adapter[0].tx_failed, 0);
    assert_int_equal(emu_peer_rx_log(w->peer)->n_arr, 300);
    assert_true(s.seq_received >= 300);
    assert_int_equal(s.seq_received, emu_peer_tx_log(w->peer)->n_sent);
    emu_stbnic_stats ns;
    emu_stbnic_get_stats(w->nic, &ns);
    assert_int_equal(ns.rx_dropped + ns.rx_refused, 0);
    /* Receive, transmit and configuration each on their own vector
     * (the glue programmed MSI-X as the bus driver does). */
    emu_vpci_stats vs;
    emu_vpci_get_stats(emu_stbnic_glue(w->nic), &vs);
    assert_true(vs.by_vector[0] >= 1 && vs.by_vector[1] >= 1);
    assert_int_equal(vs.by_vector[2], 0); /* no control queue */
    assert_int_equal(vs.lost_interrupts + vs.dma_refused, 0);
    finish(w);
}

static void link_down_fails_sends_and_up_restores(void **state)
{
    (void)state;
    world *w = start(NULL);
    uint32_t pps = 1000;
    guest_ioctl_ok(w->ctl, IOCTL_TCPIP_START, &pps, sizeof(pps), NULL, 0);
    assert_int_equal(emu_run_for(w->rt, 10 * MS), EMU_OK);
    emu_stbnic_set_link(w->nic, false);
    assert_int_equal(emu_run_for(w->rt, 10 * MS), EMU_OK);
    tcpip_stats s;
    guest_stats(w->ctl, &s);
    assert_int_equal(s.adapter[0].link_downs, 1);
    assert_false(s.adapter[0].media_connected);
    uint64_t arrived = emu_peer_rx_log(w->peer)->n_arr;
    assert_true(arrived >= 9);
    emu_stbnic_set_link(w->nic, true);
    assert_int_equal(emu_run_for(w->rt, 10 * MS), EMU_OK);
    guest_ioctl_ok(w->ctl, IOCTL_TCPIP_STOP, NULL, 0, NULL, 0);
    assert_int_equal(emu_run_for(w->rt, 5 * MS), EMU_OK);
    guest_stats(w->ctl, &s);
    assert_int_equal(s.adapter[0].link_ups, 1);
    assert_true(s.adapter[0].media_connected);
    assert_true(emu_peer_rx_log(w->peer)->n_arr >= arrived + 9);
    /* Whatever was not delivered was refused, except what the driver queued
     * before the configuration interrupt reached it: the device drops what
     * a link-down NIC transmits, as QEMU does (one datagram at 1000/s). */
    uint64_t accounted = emu_peer_rx_log(w->peer)->n_arr + s.adapter[0].tx_failed;
    assert_true(accounted <= s.adapter[0].tx_seq && s.adapter[0].tx_seq - accounted <= 1);
    assert_true(s.seq_not_sent >= 8); /* no route while the link was down */
    emu_vpci_stats vs;
    emu_vpci_get_stats(emu_stbnic_glue(w->nic), &vs);
    assert_int_equal(vs.by_vector[3], 2);
    finish(w);
}

static void surprise_removal_completes_every_send(void **state)
{
    (void)state;
    world *w = start(NULL);
    uint32_t pps = 2000;
    guest_ioctl_ok(w->ctl, IOCTL_TCPIP_START, &pps, sizeof(pps), NULL, 0);
    assert_int_equal(emu_run_for(w->rt, 20 * MS + 700), EMU_OK);
    assert_int_equal(emu_pcibus_surprise(w->bus, 0), EMU_OK);
    assert_int_equal(emu_run_for(w->rt, 20 * MS), EMU_OK);
    guest_ioctl_ok(w->ctl, IOCTL_TCPIP_STOP, NULL, 0, NULL, 0);
    assert_int_equal(w->events[EMU_SLOT_REMOVED], 1);
    assert_int_equal(emu_pcibus_state(w->bus, 0), EMU_SLOT_EMPTY);
    tcpip_stats s;
    guest_stats(w->ctl, &s);
    assert_false(s.adapter[0].bound);
    assert_int_equal(s.adapter[0].unbinds, 1);
    assert_int_equal(emu_peer_rx_log(w->peer)->n_arr + s.adapter[0].tx_failed, s.adapter[0].tx_seq);
    /* Back again, and ejected gracefully. */
    emu_device_desc desc;
    emu_stbnic_device_desc(w->nic, "standby0", &desc);
    assert_int_equal(emu_pcibus_plug(w->bus, 0, &desc), EMU_OK);
    assert_int_equal(emu_run_for(w->rt, 10 * MS), EMU_OK);
    guest_stats(w->ctl, &s);
    assert_int_equal(s.adapter[0].binds, 2);
    assert_true(s.adapter[0].media_connected);
    assert_int_equal(emu_pcibus_eject(w->bus, 0), EMU_OK);
    assert_int_equal(emu_run_for(w->rt, 5 * MS), EMU_OK);
    assert_int_equal(w->events[EMU_SLOT_EJECTED], 1);
    finish(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(negotiates_standby_and_reads_the_mac),
        cmocka_unit_test(standby_off_in_the_registry_refuses_it),
        cmocka_unit_test(stream_both_ways_without_loss),
        cmocka_unit_test(link_down_fails_sends_and_up_restores),
        cmocka_unit_test(surprise_removal_completes_every_send),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
