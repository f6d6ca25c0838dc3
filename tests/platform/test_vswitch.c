/*
 * The host switch: learning and flooding, and each quirk the failover
 * depends on (VF MAC steering + anti-spoof until the host clears it, FDB
 * entries that move only when configured or learned, path flooding), plus
 * exact-count egress impairment.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "netframe.h"
#include "vswitch.h"

#define MAX_SEEN 512

/* A station that records what it receives. */
typedef struct station {
    unsigned n;
    uint8_t tag[MAX_SEEN]; /* frame[14]: which frame it was */
    unsigned from[MAX_SEEN];
} station;

static void station_rx(void *ctx, const uint8_t *frame, size_t len, unsigned from)
{
    station *s = ctx;
    assert_true(len >= NF_ETH_MIN);
    if (s->n < MAX_SEEN) {
        s->tag[s->n] = frame[14];
        s->from[s->n] = from;
    }
    s->n++;
}

static const uint8_t MAC_G[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x01 }; /* the guest */
static const uint8_t MAC_P[6] = { 0x52, 0x54, 0x00, 0x00, 0x00, 0x99 }; /* a peer */

typedef struct world {
    emu_switch *sw;
    emu_port *tap, *vf, *peer, *dst_tap;
    station s_tap, s_vf, s_peer, s_dst;
} world;

static int setup(void **state)
{
    static world w;
    memset(&w, 0, sizeof(w));
    w.sw = emu_switch_create();
    w.tap = emu_switch_add_port(w.sw, "src-tap");
    w.vf = emu_switch_add_port(w.sw, "src-vf0");
    w.peer = emu_switch_add_port(w.sw, "peer");
    w.dst_tap = emu_switch_add_port(w.sw, "dst-tap");
    emu_port_connect(w.tap, station_rx, &w.s_tap);
    emu_port_connect(w.vf, station_rx, &w.s_vf);
    emu_port_connect(w.peer, station_rx, &w.s_peer);
    emu_port_connect(w.dst_tap, station_rx, &w.s_dst);
    *state = &w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    emu_switch_destroy(w->sw);
    return 0;
}

static unsigned send_frame(emu_port *p, const uint8_t dst[6], const uint8_t src[6], uint8_t tag)
{
    uint8_t f[NF_ETH_MIN] = { 0 };
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x88;
    f[13] = 0xB5;
    f[14] = tag;
    return emu_port_send(p, f, sizeof(f));
}

static void ports_are_unique_and_named(void **state)
{
    world *w = *state;
    assert_null(emu_switch_add_port(w->sw, "peer"));
    assert_ptr_equal(emu_switch_port(w->sw, "src-vf0"), w->vf);
    assert_string_equal(emu_port_name(w->dst_tap), "dst-tap");
    assert_int_not_equal(emu_port_id(w->peer), 0);
    assert_int_not_equal(emu_port_id(w->peer), emu_port_id(w->vf));
    assert_int_equal(emu_switch_port_count(w->sw), 4);
}

static void learns_sources_and_floods_unknown_and_broadcast(void **state)
{
    world *w = *state;
    /* Unknown destination: everyone but the ingress port. */
    assert_int_equal(send_frame(w->tap, MAC_P, MAC_G, 1), 3);
    assert_int_equal(w->s_tap.n, 0);
    assert_int_equal(w->s_vf.n + w->s_peer.n + w->s_dst.n, 3);
    assert_ptr_equal(emu_switch_fdb_lookup(w->sw, MAC_G), w->tap);
    /* Known now: only the learned port. */
    assert_int_equal(send_frame(w->peer, MAC_G, MAC_P, 2), 1);
    assert_int_equal(w->s_tap.n, 1);
    assert_int_equal(w->s_tap.tag[0], 2);
    assert_int_equal(w->s_tap.from[0], emu_port_id(w->peer));
    assert_int_equal(send_frame(w->tap, MAC_P, MAC_G, 3), 1);
    assert_int_equal(w->s_peer.n, 2);
    /* Broadcast floods even when destinations are known. */
    assert_int_equal(send_frame(w->peer, nf_broadcast, MAC_P, 4), 3);
    /* Back out of its own port is a hairpin: dropped. */
    assert_int_equal(send_frame(w->tap, MAC_G, MAC_G, 5), 0);
    emu_port_stats st;
    emu_port_get_stats(w->tap, &st);
    assert_int_equal(st.drop_hairpin, 1);
    /* Runts are refused and counted. */
    uint8_t runt[10] = { 0 };
    assert_int_equal(emu_port_send(w->peer, runt, sizeof(runt)), 0);
    emu_port_get_stats(w->peer, &st);
    assert_int_equal(st.drop_bad, 1);
}

/* After a migration the guest's backend sits on another port; the switch
 * keeps sending to the old one until it learns or is told. */
static void fdb_moves_only_when_learned_or_configured(void **state)
{
    world *w = *state;
    send_frame(w->tap, MAC_P, MAC_G, 1);
    send_frame(w->peer, MAC_G, MAC_P, 2);
    assert_int_equal(w->s_tap.n, 1);
    /* The source host stops the backend: its port goes down. */
    emu_port_set_up(w->tap, false);
    send_frame(w->peer, MAC_G, MAC_P, 3);
    assert_int_equal(w->s_dst.n, 1); /* only the first, flooded frame */
    emu_port_stats st;
    emu_port_get_stats(w->tap, &st);
    assert_int_equal(st.drop_down, 1);
    assert_ptr_equal(emu_switch_fdb_lookup(w->sw, MAC_G), w->tap);
    /* Learning: the guest speaks from the destination. */
    send_frame(w->dst_tap, MAC_P, MAC_G, 4);
    assert_ptr_equal(emu_switch_fdb_lookup(w->sw, MAC_G), w->dst_tap);
    send_frame(w->peer, MAC_G, MAC_P, 5);
    assert_int_equal(w->s_dst.n, 2);
    assert_int_equal(w->s_dst.tag[1], 5);
    /* Configuring: moved back by a management layer, with learning off. */
    emu_switch_set_learning(w->sw, false);
    emu_port_set_up(w->tap, true);
    assert_int_equal(emu_switch_fdb_set(w->sw, MAC_G, w->tap), 0);
    send_frame(w->dst_tap, MAC_P, MAC_G, 6); /* would have moved it with learning on */
    assert_ptr_equal(emu_switch_fdb_lookup(w->sw, MAC_G), w->tap);
    send_frame(w->peer, MAC_G, MAC_P, 7);
    assert_int_equal(w->s_tap.n, 2);
    assert_int_equal(w->s_tap.tag[1], 7);
    emu_switch_fdb_del(w->sw, MAC_G);
    assert_null(emu_switch_fdb_lookup(w->sw, MAC_G));
}

/* The host gave the VF the guest's MAC: frames for it go to the VF port
 * only, and the guest's own frames on the virtio path are dropped, until
 * the host clears the VF MAC. */
static void vf_mac_steers_and_drops_the_virtio_path_until_cleared(void **state)
{
    world *w = *state;
    emu_switch_set_vf_mac(w->sw, w->vf, MAC_G);
    send_frame(w->tap, MAC_P, MAC_G, 1);
    emu_port_stats st;
    emu_port_get_stats(w->tap, &st);
    assert_int_equal(st.drop_spoof, 1);
    assert_int_equal(st.rx_frames, 0);
    assert_int_equal(w->s_peer.n, 0);
    assert_null(emu_switch_fdb_lookup(w->sw, MAC_G));
    /* Steered to the VF even when the FDB says otherwise. */
    emu_switch_fdb_set(w->sw, MAC_G, w->tap);
    send_frame(w->peer, MAC_G, MAC_P, 2);
    assert_int_equal(w->s_vf.n, 1);
    assert_int_equal(w->s_tap.n, 0);
    /* The VF unplugged from the guest: its port is down, the frames die there. */
    emu_port_set_up(w->vf, false);
    send_frame(w->peer, MAC_G, MAC_P, 3);
    assert_int_equal(w->s_tap.n, 0);
    emu_port_get_stats(w->vf, &st);
    assert_int_equal(st.drop_down, 1);
    /* The VF's own frames are fine. */
    emu_port_set_up(w->vf, true);
    assert_int_equal(send_frame(w->vf, MAC_P, MAC_G, 4), 1);
    /* Cleared (all zeros): the virtio path works and the FDB decides again. */
    static const uint8_t zero[6];
    emu_switch_set_vf_mac(w->sw, w->vf, zero);
    assert_int_equal(send_frame(w->tap, MAC_P, MAC_G, 5), 1);
    send_frame(w->peer, MAC_G, MAC_P, 6);
    assert_int_equal(w->s_tap.n, 1);
    assert_int_equal(w->s_tap.tag[0], 6);
}

static void flooding_to_both_paths_is_optional(void **state)
{
    world *w = *state;
    emu_port_set_station_mac(w->tap, MAC_G);
    emu_port_set_station_mac(w->vf, MAC_G);
    send_frame(w->vf, MAC_P, MAC_G, 1); /* learned on the VF port (flooded: P unknown) */
    w->s_tap.n = w->s_vf.n = 0;
    send_frame(w->peer, MAC_G, MAC_P, 2);
    assert_int_equal(w->s_vf.n, 1);
    assert_int_equal(w->s_tap.n, 0);
    emu_port_stats before, st;
    emu_port_get_stats(w->tap, &before);
    emu_switch_set_flood_paths(w->sw, true);
    assert_int_equal(send_frame(w->peer, MAC_G, MAC_P, 3), 2);
    assert_int_equal(w->s_vf.n, 2);
    assert_int_equal(w->s_tap.n, 1);
    emu_port_get_stats(w->tap, &st);
    assert_int_equal(st.flooded - before.flooded, 1);
    emu_switch_set_flood_paths(w->sw, false);
    send_frame(w->peer, MAC_G, MAC_P, 4);
    assert_int_equal(w->s_tap.n, 1);
}

/* An observer sees what the station was given, nothing else; a port
 * that is down gives (and shows) nothing. */
static void observer_sees_what_the_station_gets(void **state)
{
    world *w = *state;
    static station seen;
    memset(&seen, 0, sizeof(seen));
    emu_port_observe(w->tap, station_rx, &seen);
    send_frame(w->tap, MAC_P, MAC_G, 1); /* from the tap's station: not shown */
    assert_int_equal(send_frame(w->peer, MAC_G, MAC_P, 2), 1);
    assert_int_equal(seen.n, 1);
    assert_int_equal(seen.tag[0], 2);
    assert_int_equal(seen.from[0], emu_port_id(w->peer));
    assert_int_equal(w->s_tap.n, 1);
    emu_port_set_up(w->tap, false);
    send_frame(w->peer, MAC_G, MAC_P, 3);
    assert_int_equal(seen.n, 1);
    emu_port_set_up(w->tap, true);
    emu_port_observe(w->tap, NULL, NULL);
    send_frame(w->peer, MAC_G, MAC_P, 4);
    assert_int_equal(seen.n, 1);
    assert_int_equal(w->s_tap.n, 2);
}

static void disconnected_port_counts_drops(void **state)
{
    world *w = *state;
    emu_port_connect(w->dst_tap, NULL, NULL);
    send_frame(w->peer, nf_broadcast, MAC_P, 1);
    emu_port_stats st;
    emu_port_get_stats(w->dst_tap, &st);
    assert_int_equal(st.drop_no_station, 1);
    assert_int_equal(w->s_dst.n, 0);
}

static void impairment_drops_duplicates_and_swaps_exact_counts(void **state)
{
    world *w = *state;
    send_frame(w->tap, MAC_P, MAC_G, 0); /* learn both so frames are unicast */
    send_frame(w->peer, MAC_G, MAC_P, 0);
    w->s_tap.n = w->s_peer.n = 0;
    emu_impair imp = {
        .drop_every = 10, .dup_every = 7, .dup_max = 3, .swap_every = 11, .swap_max = 2
    };
    emu_port_set_impair(w->tap, &imp);
    for (unsigned i = 1; i <= 100; i++)
        send_frame(w->peer, MAC_G, MAC_P, (uint8_t)i);
    emu_port_stats st;
    emu_port_get_stats(w->tap, &st);
    assert_int_equal(st.impair_drops, 10);
    assert_int_equal(st.impair_dups, 3);
    assert_int_equal(st.impair_swaps, 2);
    assert_int_equal(w->s_tap.n, 100 - 10 + 3);
    /* Frame 11 was held and came after 12; 22 after 23. */
    unsigned pos11 = 0, pos12 = 0, pos22 = 0, pos23 = 0;
    for (unsigned i = 0; i < w->s_tap.n; i++) {
        if (w->s_tap.tag[i] == 11)
            pos11 = i;
        if (w->s_tap.tag[i] == 12)
            pos12 = i;
        if (w->s_tap.tag[i] == 22)
            pos22 = i;
        if (w->s_tap.tag[i] == 23)
            pos23 = i;
    }
    assert_true(pos11 == pos12 + 1);
    assert_true(pos22 == pos23 + 1);
    /* Frames 7, 14, 21 were doubled: 21 arrives twice. */
    unsigned n21 = 0, n10 = 0;
    for (unsigned i = 0; i < w->s_tap.n; i++) {
        n21 += w->s_tap.tag[i] == 21;
        n10 += w->s_tap.tag[i] == 10;
    }
    assert_int_equal(n21, 2);
    assert_int_equal(n10, 0);
}

/* vfdev's transmit checks its link, drops its lock and sends: a link-down
 * (or the VF's removal) in between takes the port down under the frame.
 * The sender must learn it did not go out, or it reports a frame sent that
 * never was (a guest datagram lost at a lab eject, #16). */
static void checked_send_from_a_down_port_is_refused(void **state)
{
    world *w = *state;
    uint8_t f[NF_ETH_MIN] = { 0 };
    memcpy(f, MAC_P, 6);
    memcpy(f + 6, MAC_G, 6);
    unsigned refused = 99;
    assert_int_equal(emu_port_send_checked(w->vf, f, sizeof(f), &refused), 3);
    assert_int_equal(refused, 0);
    emu_port_set_up(w->vf, false);
    assert_int_equal(emu_port_send_checked(w->vf, f, sizeof(f), &refused), 0);
    assert_int_equal(refused, 1);
    assert_int_equal(w->s_peer.n, 1);
    emu_port_stats st;
    emu_port_get_stats(w->vf, &st);
    assert_int_equal(st.drop_down, 1);
    /* a bad frame is not the port's state: dropped, not refused */
    emu_port_set_up(w->vf, true);
    assert_int_equal(emu_port_send_checked(w->vf, f, 10, &refused), 0);
    assert_int_equal(refused, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(ports_are_unique_and_named, setup, teardown),
        cmocka_unit_test_setup_teardown(learns_sources_and_floods_unknown_and_broadcast, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(fdb_moves_only_when_learned_or_configured, setup, teardown),
        cmocka_unit_test_setup_teardown(vf_mac_steers_and_drops_the_virtio_path_until_cleared,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(flooding_to_both_paths_is_optional, setup, teardown),
        cmocka_unit_test_setup_teardown(disconnected_port_counts_drops, setup, teardown),
        cmocka_unit_test_setup_teardown(checked_send_from_a_down_port_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(observer_sees_what_the_station_gets, setup, teardown),
        cmocka_unit_test_setup_teardown(impairment_drops_duplicates_and_swaps_exact_counts, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
