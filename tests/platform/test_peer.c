/*
 * The peer host's accounting end to end: two peers exchange sequence-
 * stamped UDP through the switch while one port's egress drops, duplicates
 * and reorders exactly known numbers of frames; the logs must account for
 * each of them. Also ARP resolution and answering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "netframe.h"
#include "peer.h"

#define MS 1000000ull

typedef struct net {
    emu_runtime *rt;
    emu_switch *sw;
    emu_port *pa, *pb;
    emu_peer *a, *b;
} net;

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0x0b };
#define IP_A 0x0A000001u
#define IP_B 0x0A000002u

static int setup(void **state)
{
    static net n;
    memset(&n, 0, sizeof(n));
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = 7 };
    assert_int_equal(emu_create(&cfg, &n.rt), EMU_OK);
    n.sw = emu_switch_create();
    n.pa = emu_switch_add_port(n.sw, "peer-a");
    n.pb = emu_switch_add_port(n.sw, "peer-b");
    /* A resolves B with ARP; B knows A. B plays the guest for A. */
    emu_peer_cfg ca = { .ip = IP_A, .guest_ip = IP_B, .stream = 1 };
    memcpy(ca.mac, MAC_A, 6);
    emu_peer_cfg cb = {
        .ip = IP_B, .guest_ip = IP_A, .port = 5002, .guest_port = 5001, .stream = 2, .payload = 200
    };
    memcpy(cb.mac, MAC_B, 6);
    memcpy(cb.guest_mac, MAC_A, 6);
    n.a = emu_peer_create(n.rt, &ca);
    n.b = emu_peer_create(n.rt, &cb);
    emu_peer_attach(n.a, n.pa);
    emu_peer_attach(n.b, n.pb);
    *state = &n;
    return 0;
}

static int teardown(void **state)
{
    net *n = *state;
    emu_peer_destroy(n->a);
    emu_peer_destroy(n->b);
    assert_int_equal(emu_shutdown(n->rt), EMU_OK);
    emu_destroy(n->rt);
    emu_switch_destroy(n->sw);
    return 0;
}

static void arp_resolves_before_sending(void **state)
{
    net *n = *state;
    assert_false(emu_peer_guest_resolved(n->a));
    assert_int_equal(emu_peer_start(n->a, 1000), EMU_OK);
    assert_int_equal(emu_run_for(n->rt, 20 * MS), EMU_OK);
    emu_peer_stop(n->a);
    assert_true(emu_peer_guest_resolved(n->a));
    emu_peer_stats sa, sb;
    emu_peer_get_stats(n->a, &sa);
    emu_peer_get_stats(n->b, &sb);
    assert_int_equal(sa.arp_requests, 1);
    assert_int_equal(sb.arp_replied, 1);
    assert_true(sa.not_sent >= 1);
    /* Everything A sent once resolved arrived at B. */
    const emu_seqlog *tx = emu_peer_tx_log(n->a), *rx = emu_peer_rx_log(n->b);
    assert_true(tx->n_sent >= 15);
    emu_seqstat st;
    emu_seqstat_compute(tx->sent_ns, tx->n_sent, rx->arr, rx->n_arr, &st);
    assert_int_equal(st.received, tx->n_sent);
    assert_int_equal(st.lost, 0);
    assert_int_equal(rx->arr[0].path, emu_port_id(n->pa));
    assert_int_equal(emu_peer_start(n->a, 0), EMU_ERR_INVAL);
}

/* 1000 datagrams B -> A at 1000/s; A's port drops every 10th, doubles the
 * 13th, 26th, 39th and 52nd, and swaps the 16th, 32nd and 48th with the
 * frame after each. */
static void accounting_matches_injected_faults(void **state)
{
    net *n = *state;
    emu_impair imp = {
        .drop_every = 10, .dup_every = 13, .dup_max = 4, .swap_every = 16, .swap_max = 3
    };
    emu_port_set_impair(n->pa, &imp);
    assert_int_equal(emu_peer_start(n->b, 1000), EMU_OK);
    assert_int_equal(emu_run_for(n->rt, 1000 * MS - 1), EMU_OK);
    emu_peer_stop(n->b);
    assert_int_equal(emu_run_for(n->rt, 10 * MS), EMU_OK);
    const emu_seqlog *tx = emu_peer_tx_log(n->b), *rx = emu_peer_rx_log(n->a);
    assert_int_equal(tx->n_sent, 1000);
    emu_seqstat st;
    emu_seqstat_compute(tx->sent_ns, tx->n_sent, rx->arr, rx->n_arr, &st);
    assert_int_equal(st.sent, 1000);
    assert_int_equal(st.lost, 100);
    assert_int_equal(st.received, 900);
    assert_int_equal(st.longest_burst, 1);
    assert_int_equal(st.duplicates, 4);
    assert_int_equal(st.reorders, 3);
    assert_int_equal(st.out_of_range, 0);
    assert_int_equal(st.longest_gap_ns, 2 * MS);
    assert_int_equal(st.gap_start_ns, tx->sent_ns[8]); /* seq 9 was the first drop */
    emu_peer_stats sa;
    emu_peer_get_stats(n->a, &sa);
    assert_int_equal(sa.seq_rx, 904);
    /* A window: packets sent in [100 ms, 200 ms) of the run. */
    emu_seqstat_window(tx->sent_ns, tx->n_sent, rx->arr, rx->n_arr, tx->sent_ns[100],
                       tx->sent_ns[200], &st);
    assert_int_equal(st.sent, 100);
    assert_int_equal(st.lost, 10);
    assert_int_equal(st.duplicates, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(arp_resolves_before_sending, setup, teardown),
        cmocka_unit_test_setup_teardown(accounting_matches_injected_faults, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
