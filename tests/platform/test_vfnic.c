/*
 * The VF miniport and the TCP/IP stand-in on the emulated VF, plugged
 * through the PCI bus, exchanging the sequence-stamped stream with the peer
 * host: a clean stream, link down/up, a PF-imposed reset, offload limits,
 * surprise removal under traffic (sends fail, none vanish), a graceful
 * eject, and a wire that refuses frames (they wait in the ring, then go out
 * or fail when the VF is pulled); the verifier stays clean, nothing leaks.
 * MiniportPause racing vfnic's own completions on another processor, which
 * ndisemu's scheduler does not interleave, is test_vfnic_pause's.
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
#include "vfdev.h"

#define GUEST_IP 0x0A000002u
#define PEER_IP  0x0A000001u

static const uint8_t MAC_G[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
static const uint8_t MAC_P[6] = { 0x52, 0x54, 0x00, 0x99, 0x00, 0x01 };

typedef struct world {
    emu_runtime *rt;
    emu_driver *vfnic, *tcpip;
    emu_ctl *ctl;
    emu_switch *sw;
    emu_vfdev *vf;
    emu_peer *peer;
    emu_pcibus *bus;
    unsigned events[8];
    int last_status;
    uint64_t stale_doorbells; /* the test's own: every other one is vfnic's fault */
} world;

static void on_slot(void *ctx, unsigned slot, emu_slot_event ev, int status)
{
    world *w = ctx;
    (void)slot;
    w->events[ev]++;
    w->last_status = status;
}

static int setup(void **state)
{
    static world w;
    memset(&w, 0, sizeof(w));
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = 11 };
    assert_int_equal(emu_create(&cfg, &w.rt), EMU_OK);
    assert_int_equal(emu_load_driver(w.rt, VFNIC_SO, NULL, &w.vfnic), EMU_OK);
    assert_int_equal(emu_load_driver(w.rt, TCPIP_SO, NULL, &w.tcpip), EMU_OK);
    assert_int_equal(emu_ctl_open(w.rt, TCPIP_DEVICE, &w.ctl), EMU_OK);
    tcpip_config tc = { .ip = GUEST_IP, .netmask = 0xFFFFFF00u, .peer_ip = PEER_IP, .stream = 2 };
    memcpy(tc.peer_mac, MAC_P, 6);
    guest_ioctl_ok(w.ctl, IOCTL_TCPIP_CONFIG, &tc, sizeof(tc), NULL, 0);
    w.sw = emu_switch_create();
    emu_vfdev_cfg vc = { .model = EMU_VF_X540, .link_up = true };
    memcpy(vc.mac, MAC_G, 6);
    w.vf = emu_vfdev_create(&vc);
    emu_vfdev_set_port(w.vf, emu_switch_add_port(w.sw, "vf0"));
    emu_peer_cfg pc = { .ip = PEER_IP, .guest_ip = GUEST_IP, .stream = 1 };
    memcpy(pc.mac, MAC_P, 6);
    memcpy(pc.guest_mac, MAC_G, 6);
    w.peer = emu_peer_create(w.rt, &pc);
    emu_peer_attach(w.peer, emu_switch_add_port(w.sw, "peer"));
    w.bus = emu_pcibus_create(w.rt, 4, on_slot, &w);
    *state = &w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    emu_vfdev_stats vs;
    emu_vfdev_get_stats(w->vf, &vs);
    assert_int_equal(vs.bad_doorbells, w->stale_doorbells);
    emu_peer_stop(w->peer);
    emu_ctl_close(w->ctl);
    assert_int_equal(emu_shutdown(w->rt), EMU_OK);
    assert_false(emu_failed(w->rt));
    emu_destroy(w->rt);
    emu_pcibus_destroy(w->bus);
    emu_peer_destroy(w->peer);
    emu_vfdev_destroy(w->vf);
    emu_switch_destroy(w->sw);
    return 0;
}

static void plug_vf(world *w, const char *const *registry)
{
    emu_device_desc d;
    emu_vfdev_device_desc(w->vf, "vf0", &d);
    d.registry = registry;
    assert_int_equal(emu_pcibus_plug(w->bus, 0, &d), EMU_OK);
    assert_int_equal(emu_run_for(w->rt, 10 * MS), EMU_OK);
    assert_int_equal(emu_pcibus_state(w->bus, 0), EMU_SLOT_PRESENT);
}

/* The guest's arrivals, read back through the control device. */
static size_t guest_arrivals(world *w, emu_seq_arrival *out, size_t max)
{
    tcpip_arrival buf[256];
    size_t n = 0;
    for (;;) {
        uint64_t first = n;
        int32_t nt;
        size_t ret;
        assert_int_equal(emu_ctl_ioctl(w->ctl, IOCTL_TCPIP_READ_RX, &first, sizeof(first), buf,
                                       sizeof(buf), &ret, &nt),
                         EMU_OK);
        size_t got = ret / sizeof(buf[0]);
        for (size_t i = 0; i < got && n < max; i++, n++)
            out[n] = (emu_seq_arrival){ buf[i].seq, buf[i].t_ns, buf[i].adapter };
        if (got < 256)
            return n;
    }
}

/* The guest's stream: its whole send log (s: its statistics) against the
 * peer's arrivals. */
static void guest_stream_at_peer(world *w, const tcpip_stats *s, emu_seqstat *out)
{
    static uint64_t sent_ns[4096];
    uint64_t first = 0;
    int32_t nt;
    size_t ret;
    assert_int_equal(emu_ctl_ioctl(w->ctl, IOCTL_TCPIP_READ_TX, &first, sizeof(first), sent_ns,
                                   sizeof(sent_ns), &ret, &nt),
                     EMU_OK);
    assert_int_equal(ret / sizeof(uint64_t), s->seq_sent);
    const emu_seqlog *prx = emu_peer_rx_log(w->peer);
    emu_seqstat_compute(sent_ns, s->seq_sent, prx->arr, prx->n_arr, out);
}

static void stream_both_ways_without_loss(void **state)
{
    world *w = *state;
    plug_vf(w, NULL);
    tcpip_stats s;
    guest_stats(w->ctl, &s);
    assert_int_equal(s.n_adapters, 1);
    assert_string_equal(s.adapter[0].name, "vf0");
    assert_true(s.adapter[0].bound && s.adapter[0].running && s.adapter[0].configured);
    assert_memory_equal(s.adapter[0].mac, MAC_G, 6);
    assert_int_equal(s.adapter[0].link_speed, 10000000000ull);
    assert_int_equal(s.adapter[0].packet_filter, NDIS_PACKET_TYPE_DIRECTED |
                                                     NDIS_PACKET_TYPE_MULTICAST |
                                                     NDIS_PACKET_TYPE_BROADCAST);
    /* A VF miniport does not take network-layer addresses. */
    assert_int_equal(s.adapter[0].oid_failures, 1);
    assert_int_equal(s.adapter[0].last_oid_failed, OID_GEN_NETWORK_LAYER_ADDRESSES);
    emu_peer_stats ps;
    emu_peer_get_stats(w->peer, &ps);
    assert_int_equal(ps.garp_rx, 1);

    guest_exchange(w->rt, w->ctl, w->peer, 500);
    guest_stats(w->ctl, &s);
    assert_int_equal(s.seq_sent, 500);
    assert_int_equal(s.adapter[0].tx_failed, 0);
    const emu_seqlog *ptx = emu_peer_tx_log(w->peer);
    static emu_seq_arrival arr[4096];
    size_t n = guest_arrivals(w, arr, 4096);
    emu_seqstat in, out;
    emu_seqstat_compute(ptx->sent_ns, ptx->n_sent, arr, n, &in);
    assert_true(in.sent >= 500);
    assert_int_equal(in.received, in.sent);
    assert_int_equal(in.lost + in.duplicates + in.reorders, 0);
    guest_stream_at_peer(w, &s, &out);
    assert_int_equal(out.received, 500);
    assert_int_equal(out.lost + out.duplicates + out.reorders, 0);
    assert_int_equal(out.longest_gap_ns, 1 * MS);
}

static void link_down_up_is_indicated_and_blocks_traffic(void **state)
{
    world *w = *state;
    plug_vf(w, NULL);
    emu_vfdev_set_link(w->vf, false);
    assert_int_equal(emu_run_for(w->rt, 5 * MS), EMU_OK);
    tcpip_stats s;
    guest_stats(w->ctl, &s);
    assert_int_equal(s.adapter[0].link_downs, 1);
    assert_false(s.adapter[0].media_connected);
    guest_exchange(w->rt, w->ctl, w->peer, 100);
    guest_stats(w->ctl, &s);
    assert_int_equal(s.seq_sent, 0);
    assert_true(s.seq_not_sent >= 99);
    emu_vfdev_set_link(w->vf, true);
    assert_int_equal(emu_run_for(w->rt, 5 * MS), EMU_OK);
    guest_stats(w->ctl, &s);
    assert_int_equal(s.adapter[0].link_ups, 1);
    guest_exchange(w->rt, w->ctl, w->peer, 100);
    guest_stats(w->ctl, &s);
    assert_int_equal(s.seq_sent, 100);
    assert_int_equal(emu_peer_rx_log(w->peer)->n_arr, 100);
}

static void pf_reset_is_recovered(void **state)
{
    world *w = *state;
    plug_vf(w, NULL);
    uint32_t pps = 1000;
    guest_ioctl_ok(w->ctl, IOCTL_TCPIP_START, &pps, sizeof(pps), NULL, 0);
    assert_int_equal(emu_run_for(w->rt, 50 * MS), EMU_OK);
    emu_vfdev_pf_reset(w->vf);
    assert_int_equal(emu_run_for(w->rt, 50 * MS), EMU_OK);
    guest_ioctl_ok(w->ctl, IOCTL_TCPIP_STOP, NULL, 0, NULL, 0);
    assert_int_equal(emu_run_for(w->rt, 5 * MS), EMU_OK);
    tcpip_stats s;
    guest_stats(w->ctl, &s);
    assert_int_equal(s.adapter[0].link_downs, 1);
    assert_int_equal(s.adapter[0].link_ups, 1);
    assert_true(s.adapter[0].running && s.adapter[0].media_connected);
    /* Every datagram handed over either arrived or was failed back. */
    uint64_t arrived = emu_peer_rx_log(w->peer)->n_arr;
    assert_int_equal(arrived + s.adapter[0].tx_failed, s.adapter[0].tx_seq);
    assert_true(arrived >= 90);
    emu_vfdev_stats vs;
    emu_vfdev_get_stats(w->vf, &vs);
    assert_int_equal(vs.resets, 1);
}

/* The registry narrows what the hardware offers, as the standardized
 * keywords do. */
static void registry_keywords_narrow_offloads(void **state)
{
    world *w = *state;
    static const char *const reg[] = { "*LsoV2IPv4=0", "*RSS=0", "*TCPChecksumOffloadIPv4=2",
                                       NULL };
    plug_vf(w, reg);
    tcpip_stats s;
    guest_stats(w->ctl, &s);
    assert_false(s.adapter[0].lso_v2_ip4);
    assert_true(s.adapter[0].lso_v2_ip6);
    assert_false(s.adapter[0].csum_tx_tcp4); /* 2: receive only */
    assert_int_equal(s.adapter[0].rss_queues, 0);
    emu_nc_adapter list[4];
    assert_int_equal(emu_netcfg_adapters(w->rt, list, 4), 1);
    assert_string_equal(list[0].upper_range, "ndis5");
    assert_memory_equal(list[0].mac, MAC_G, 6);
}

static void hardware_defaults_are_offered(void **state)
{
    world *w = *state;
    plug_vf(w, NULL);
    tcpip_stats s;
    guest_stats(w->ctl, &s);
    assert_true(s.adapter[0].lso_v2_ip4 && s.adapter[0].lso_v2_ip6 && s.adapter[0].csum_tx_tcp4);
    assert_int_equal(s.adapter[0].rss_queues, 2); /* X540 VF */
}

/* The carrier as the owner heard of it (calibrated link-up delay). */
typedef struct carrier_log {
    unsigned ups, downs;
    uint64_t last_wait;
} carrier_log;

static void on_carrier(void *ctx, emu_vfdev *vf, bool up, uint64_t wait_ns)
{
    carrier_log *l = ctx;
    (void)vf;
    if (up)
        l->ups++;
    else
        l->downs++;
    l->last_wait = wait_ns;
}

/* A VF whose link takes `delay` to come up after every attach, reset and
 * PF link change, in place of the setup's one. */
static void use_slow_link_vf(world *w, uint64_t delay, carrier_log *log)
{
    emu_vfdev_destroy(w->vf);
    emu_vfdev_cfg vc = { .model = EMU_VF_X540, .link_up = true, .link_up_delay_ns = delay };
    memcpy(vc.mac, MAC_G, 6);
    w->vf = emu_vfdev_create(&vc);
    emu_vfdev_set_port(w->vf, emu_switch_add_port(w->sw, "vf1"));
    emu_vfdev_set_carrier_fn(w->vf, on_carrier, log);
}

static void media_is(world *w, bool connected, uint32_t ups, uint32_t downs)
{
    tcpip_stats s;
    guest_stats(w->ctl, &s);
    assert_int_equal(s.adapter[0].media_connected, connected);
    assert_int_equal(s.adapter[0].link_ups, ups);
    assert_int_equal(s.adapter[0].link_downs, downs);
    assert_int_equal(emu_vfdev_carrier(w->vf), connected);
}

static void link_up_delay_after_attach_link_up_and_reset(void **state)
{
    world *w = *state;
    static carrier_log log;
    memset(&log, 0, sizeof(log));
    use_slow_link_vf(w, 100 * MS, &log);
    plug_vf(w, NULL); /* 10 ms: the driver runs, the link is still negotiating */
    media_is(w, false, 0, 0);
    assert_int_equal(log.downs, 1);
    assert_int_equal(log.last_wait, 100 * MS);
    assert_int_equal(emu_run_for(w->rt, 85 * MS), EMU_OK);
    media_is(w, false, 0, 0);
    assert_int_equal(emu_run_for(w->rt, 10 * MS), EMU_OK);
    media_is(w, true, 1, 0);
    assert_int_equal(log.ups, 1);
    /* The PF's link down: the carrier drops at once; up: the delay again. */
    emu_vfdev_set_link(w->vf, false);
    assert_int_equal(emu_run_for(w->rt, 5 * MS), EMU_OK);
    media_is(w, false, 1, 1);
    assert_int_equal(log.last_wait, 0);
    emu_vfdev_set_link(w->vf, true);
    assert_int_equal(emu_run_for(w->rt, 90 * MS), EMU_OK);
    media_is(w, false, 1, 1);
    assert_int_equal(emu_run_for(w->rt, 15 * MS), EMU_OK);
    media_is(w, true, 2, 1);
    /* A PF reset: the driver recovers at once, the link after the delay. */
    emu_vfdev_pf_reset(w->vf);
    assert_int_equal(emu_run_for(w->rt, 50 * MS), EMU_OK);
    media_is(w, false, 2, 2);
    assert_int_equal(emu_run_for(w->rt, 60 * MS), EMU_OK);
    media_is(w, true, 3, 2);
    assert_int_equal(log.ups, 3);
    assert_int_equal(log.downs, 3);
}

static void link_that_never_comes_up(void **state)
{
    world *w = *state;
    static carrier_log log;
    memset(&log, 0, sizeof(log));
    use_slow_link_vf(w, EMU_VFDEV_LINK_NEVER, &log);
    plug_vf(w, NULL);
    assert_int_equal(emu_run_for(w->rt, 10000 * MS), EMU_OK);
    media_is(w, false, 0, 0);
    assert_int_equal(log.ups, 0);
    assert_int_equal(log.last_wait, EMU_VFDEV_LINK_NEVER);
    guest_exchange(w->rt, w->ctl, w->peer, 50);
    emu_vfdev_stats vs;
    emu_vfdev_get_stats(w->vf, &vs);
    assert_int_equal(vs.tx_frames, 0); /* nothing leaves a VF without a link */
}

/* A hot-add the guest enumerates later: the slot is ADDING until then. */
static void probe_delay_defers_the_add(void **state)
{
    world *w = *state;
    emu_device_desc d;
    emu_vfdev_device_desc(w->vf, "vf0", &d);
    assert_int_equal(emu_pcibus_plug_after(w->bus, 0, &d, 200 * MS), EMU_OK);
    assert_int_equal(emu_run_for(w->rt, 190 * MS), EMU_OK);
    assert_int_equal(emu_pcibus_state(w->bus, 0), EMU_SLOT_ADDING);
    assert_null(emu_find_adapter(w->rt, "vf0"));
    assert_int_equal(w->events[EMU_SLOT_ADDED], 0);
    assert_int_equal(emu_run_for(w->rt, 20 * MS), EMU_OK);
    assert_int_equal(emu_pcibus_state(w->bus, 0), EMU_SLOT_PRESENT);
    assert_non_null(emu_find_adapter(w->rt, "vf0"));
    assert_int_equal(w->events[EMU_SLOT_ADDED], 1);
}

static void surprise_removal_fails_sends_and_unbinds(void **state)
{
    world *w = *state;
    plug_vf(w, NULL);
    uint32_t pps = 2000;
    guest_ioctl_ok(w->ctl, IOCTL_TCPIP_START, &pps, sizeof(pps), NULL, 0);
    assert_int_equal(emu_run_for(w->rt, 20 * MS + 1500), EMU_OK);
    emu_vfdev_pull(w->vf);
    assert_int_equal(emu_pcibus_surprise(w->bus, 0), EMU_OK);
    assert_int_equal(emu_run_for(w->rt, 20 * MS), EMU_OK);
    guest_ioctl_ok(w->ctl, IOCTL_TCPIP_STOP, NULL, 0, NULL, 0);
    assert_int_equal(w->events[EMU_SLOT_REMOVED], 1);
    assert_int_equal(emu_pcibus_state(w->bus, 0), EMU_SLOT_EMPTY);
    tcpip_stats s;
    guest_stats(w->ctl, &s);
    assert_false(s.adapter[0].bound);
    assert_int_equal(s.adapter[0].unbinds, 1);
    uint64_t arrived = emu_peer_rx_log(w->peer)->n_arr;
    assert_int_equal(arrived + s.adapter[0].tx_failed, s.adapter[0].tx_seq);
    assert_true(s.seq_not_sent > 0); /* no route once it was gone */
    /* Back again, and ejected gracefully. */
    plug_vf(w, NULL);
    guest_stats(w->ctl, &s);
    assert_int_equal(s.n_adapters, 1);
    assert_int_equal(s.adapter[0].binds, 2);
    assert_int_equal(emu_pcibus_eject(w->bus, 0), EMU_OK);
    assert_int_equal(emu_run_for(w->rt, 5 * MS), EMU_OK);
    assert_int_equal(w->events[EMU_SLOT_EJECTED], 1);
    assert_null(emu_find_adapter(w->rt, "vf0"));
}

/* ---- a wire that refuses frames (a real interface going down under the VF) ---- */

/* The VF's port and the wire on a switch of their own; the wire relays
 * into the peer's switch unless it refuses, as netport does when the
 * interface under it stops taking frames (vfo-real: eth0 being ejected). */
typedef struct wire {
    emu_port *vf_side, *uplink;
    bool refusing;
    unsigned refusals, passed;
} wire;

static bool wire_out(void *ctx, const uint8_t *frame, size_t len, unsigned from_port)
{
    wire *wr = ctx;
    (void)from_port;
    if (wr->refusing) {
        wr->refusals++;
        return false;
    }
    wr->passed++;
    emu_port_send(wr->uplink, frame, len);
    return true;
}

static void wire_in(void *ctx, const uint8_t *frame, size_t len, unsigned from_port)
{
    wire *wr = ctx;
    (void)from_port;
    if (!wr->refusing)
        emu_port_send(wr->vf_side, frame, len);
}

static emu_switch *put_vf_behind_wire(world *w, wire *wr)
{
    emu_switch *sw2 = emu_switch_create();
    emu_vfdev_set_port(w->vf, emu_switch_add_port(sw2, "vf"));
    wr->vf_side = emu_switch_add_port(sw2, "wire");
    wr->uplink = emu_switch_add_port(w->sw, "uplink");
    emu_port_connect_checked(wr->vf_side, wire_out, wr);
    emu_port_connect(wr->uplink, wire_in, wr);
    return sw2;
}

static void unwire(world *w, wire *wr, emu_switch *sw2)
{
    emu_port_connect(wr->uplink, NULL, NULL);
    emu_vfdev_set_port(w->vf, NULL);
    emu_switch_destroy(sw2);
}

/* Stops the guest's stream; every datagram it handed over arrived at the
 * peer (none failed back): its send log against the peer's arrivals. */
static void stop_stream_all_arrived(world *w, emu_seqstat *out)
{
    guest_ioctl_ok(w->ctl, IOCTL_TCPIP_STOP, NULL, 0, NULL, 0);
    assert_int_equal(emu_run_for(w->rt, 10 * MS), EMU_OK);
    tcpip_stats s;
    guest_stats(w->ctl, &s);
    assert_int_equal(s.adapter[0].tx_failed, 0);
    assert_int_equal(emu_peer_rx_log(w->peer)->n_arr, s.adapter[0].tx_seq);
    guest_stream_at_peer(w, &s, out);
}

/* A frame the wire refused stays in the VF's ring (its descriptor is not
 * written back: the driver does not complete the send) and goes out once
 * the wire takes frames again: nothing is reported sent that was not. */
static void refused_frames_wait_for_the_wire(void **state)
{
    world *w = *state;
    static wire wr;
    memset(&wr, 0, sizeof(wr));
    emu_switch *sw2 = put_vf_behind_wire(w, &wr);
    plug_vf(w, NULL);
    uint32_t pps = 20000;
    guest_ioctl_ok(w->ctl, IOCTL_TCPIP_START, &pps, sizeof(pps), NULL, 0);
    assert_int_equal(emu_run_for(w->rt, 20 * MS), EMU_OK);
    wr.refusing = true;
    assert_int_equal(emu_run_for(w->rt, 30 * MS), EMU_OK);
    tcpip_stats s;
    guest_stats(w->ctl, &s);
    uint64_t arrived = emu_peer_rx_log(w->peer)->n_arr;
    /* More than the ring holds: the rest waits in the driver's backlog
     * (failing them would make vfo move them to virtio). */
    assert_true(s.adapter[0].tx_seq >= arrived + 2 * 256);
    assert_int_equal(s.adapter[0].tx_failed, 0);
    wr.refusing = false;
    assert_int_equal(emu_run_for(w->rt, 20 * MS), EMU_OK);
    emu_seqstat out;
    stop_stream_all_arrived(w, &out);
    assert_int_equal(out.lost + out.duplicates + out.reorders, 0);
    emu_vfdev_stats vs;
    emu_vfdev_get_stats(w->vf, &vs);
    assert_true(vs.tx_refused >= 25); /* about once a millisecond */
    assert_true(wr.refusals >= 25);
    assert_true(out.received >= 1000);
    assert_int_equal(vs.tx_frames, wr.passed); /* sent = what the wire took */
    unwire(w, &wr, sw2);
}

/* The wire refuses and then the VF is pulled (vfo-real: the guest kernel
 * stops eth0, then deletes it): what waited in the ring is failed to the
 * protocol (vfo re-sends it on virtio), never reported sent. */
static void refused_frames_fail_when_the_vf_is_pulled(void **state)
{
    world *w = *state;
    static wire wr;
    memset(&wr, 0, sizeof(wr));
    emu_switch *sw2 = put_vf_behind_wire(w, &wr);
    plug_vf(w, NULL);
    uint32_t pps = 1000;
    guest_ioctl_ok(w->ctl, IOCTL_TCPIP_START, &pps, sizeof(pps), NULL, 0);
    assert_int_equal(emu_run_for(w->rt, 20 * MS), EMU_OK);
    wr.refusing = true;
    assert_int_equal(emu_run_for(w->rt, 10 * MS), EMU_OK);
    emu_vfdev_pull(w->vf);
    assert_int_equal(emu_pcibus_surprise(w->bus, 0), EMU_OK);
    assert_int_equal(emu_run_for(w->rt, 20 * MS), EMU_OK);
    guest_ioctl_ok(w->ctl, IOCTL_TCPIP_STOP, NULL, 0, NULL, 0);
    assert_int_equal(w->events[EMU_SLOT_REMOVED], 1);
    tcpip_stats s;
    guest_stats(w->ctl, &s);
    uint64_t arrived = emu_peer_rx_log(w->peer)->n_arr;
    assert_true(s.adapter[0].tx_failed >= 5);
    assert_int_equal(arrived + s.adapter[0].tx_failed, s.adapter[0].tx_seq);
    emu_vfdev_stats vs;
    emu_vfdev_get_stats(w->vf, &vs);
    assert_int_equal(vs.tx_frames, wr.passed);
    unwire(w, &wr, sw2);
}

/* A tail written behind the last one (a stale doorbell) or past the ring
 * is refused and counted; the device goes on from its own head, so no
 * frame goes out twice. The device model once took any tail: behind its
 * head, it walked the ring's old descriptors until its index wrapped (this
 * test then failed at once: the tail read back was the one past the ring). */
static void stale_doorbell_is_refused(void **state)
{
    world *w = *state;
    plug_vf(w, NULL);
    uint32_t pps = 1000;
    guest_ioctl_ok(w->ctl, IOCTL_TCPIP_START, &pps, sizeof(pps), NULL, 0);
    assert_int_equal(emu_run_for(w->rt, 20 * MS), EMU_OK);
    emu_device_desc d;
    emu_vfdev_device_desc(w->vf, "vf0", &d);
    uint32_t tail = (uint32_t)d.ops->mmio_read(d.dev, 0, VFDEV_TX_TAIL, 4);
    assert_true(tail >= 10);
    d.ops->mmio_write(d.dev, 0, VFDEV_TX_TAIL, 4, tail - 1);
    d.ops->mmio_write(d.dev, 0, VFDEV_TX_TAIL, 4, tail + 4096);
    uint32_t rx_tail = (uint32_t)d.ops->mmio_read(d.dev, 0, VFDEV_RX_TAIL, 4);
    d.ops->mmio_write(d.dev, 0, VFDEV_RX_TAIL, 4, rx_tail - 1);
    w->stale_doorbells = 3;
    assert_int_equal(d.ops->mmio_read(d.dev, 0, VFDEV_TX_TAIL, 4), tail);
    assert_int_equal(d.ops->mmio_read(d.dev, 0, VFDEV_RX_TAIL, 4), rx_tail);
    assert_int_equal(emu_run_for(w->rt, 20 * MS), EMU_OK);
    emu_seqstat out;
    stop_stream_all_arrived(w, &out);
    assert_true(out.received >= 30);
    assert_int_equal(out.lost + out.duplicates + out.reorders, 0);
    emu_vfdev_stats vs;
    emu_vfdev_get_stats(w->vf, &vs);
    assert_int_equal(vs.bad_doorbells, 3);
    assert_int_equal(vs.tx_frames, out.received + 1); /* and the gratuitous ARP */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(stream_both_ways_without_loss, setup, teardown),
        cmocka_unit_test_setup_teardown(link_down_up_is_indicated_and_blocks_traffic, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(pf_reset_is_recovered, setup, teardown),
        cmocka_unit_test_setup_teardown(link_up_delay_after_attach_link_up_and_reset, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(link_that_never_comes_up, setup, teardown),
        cmocka_unit_test_setup_teardown(probe_delay_defers_the_add, setup, teardown),
        cmocka_unit_test_setup_teardown(registry_keywords_narrow_offloads, setup, teardown),
        cmocka_unit_test_setup_teardown(hardware_defaults_are_offered, setup, teardown),
        cmocka_unit_test_setup_teardown(surprise_removal_fails_sends_and_unbinds, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_frames_wait_for_the_wire, setup, teardown),
        cmocka_unit_test_setup_teardown(refused_frames_fail_when_the_vf_is_pulled, setup, teardown),
        cmocka_unit_test_setup_teardown(stale_doorbell_is_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
