/*
 * test_vfo_events.c - vfo.sys in ndisemu, verifier on, one case per event
 * the driver must survive: arrival orders, pairing refusals, the VF leaving
 * under traffic (gracefully and by surprise), vfo halting or sleeping under
 * a bound VF, netcfg unbinding, two pairs, a flap storm with memory
 * accounting. Each case runs for every seed (argv[1], default 5); the link
 * TCP/IP sees is checked never to go down while paths switch.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vfo_world.h"

static unsigned g_seeds = 5;
static unsigned g_flaps = 900;
static vfo_world g_w; /* one runtime per process: a failed case leaves it to teardown */

#define FILTER (NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_BROADCAST)

static const struct vfo_ctl_adapter *pair_of(const struct vfo_ctl_pairs *p, unsigned i)
{
    assert_true(p->adapter_count > i);
    return &p->adapters[i];
}

static uint32_t state_of(vfo_world *w, unsigned i)
{
    struct vfo_ctl_pairs p;
    assert_int_equal(vw_pairs(w, &p), EMU_OK);
    return pair_of(&p, i)->pair_state;
}

static uint64_t link_downs(vfo_world *w, unsigned i)
{
    emu_link_info li;
    emu_adapter_link(w->vfo_ad[i], &li);
    assert_true(li.up);
    return li.downs;
}

/* One virtio adapter with the test protocol's filter set, and its VF. */
static void up_with_vf(vfo_world *w, uint64_t seed)
{
    uint8_t mac[6];
    vw_mac(0, mac);
    assert_int_equal(vw_start(w, seed), EMU_OK);
    assert_int_equal(vw_add_virtio(w, 0, NULL, NULL), EMU_OK);
    assert_int_equal(vw_pt_filter(w, FILTER), EMU_OK);
    assert_int_equal(vw_add_vf(w, 0, mac), EMU_OK);
    assert_int_equal(state_of(w, 0), VFO_CTL_PAIR_ACTIVE);
}

static void finish(vfo_world *w)
{
    assert_int_equal(vw_finish(w), EMU_OK);
    vw_destroy(w);
}

/* Sent == delivered: every frame came back (through the VF or virtio). */
static void all_delivered(vfo_world *w, const miniprot_stats *before, unsigned n)
{
    miniprot_stats st;
    assert_int_equal(vw_pt_stats(w, &st), EMU_OK);
    assert_int_equal(st.send_ok - before->send_ok, n);
    assert_int_equal(st.send_failed, before->send_failed);
    assert_true(st.received - before->received >= n);
}

static void vf_before_vfo(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= g_seeds; seed++) {
        vfo_world *w = &g_w;
        uint8_t mac[6];
        vw_mac(0, mac);
        assert_int_equal(vw_start(w, seed), EMU_OK);
        assert_int_equal(vw_add_vf(w, 0, mac), EMU_OK); /* refused: no vfo adapter yet */
        assert_int_equal(vw_add_virtio(w, 0, NULL, NULL), EMU_OK);
        assert_int_equal(state_of(w, 0), VFO_CTL_PAIR_ACTIVE); /* re-enumerated, paired */
        assert_int_equal(link_downs(w, 0), 0);
        finish(w);
    }
}

static void mac_mismatch_ignored(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= g_seeds; seed++) {
        vfo_world *w = &g_w;
        struct vfo_ctl_pairs p;
        uint8_t other[6];
        vw_mac(7, other);
        assert_int_equal(vw_start(w, seed), EMU_OK);
        assert_int_equal(vw_add_virtio(w, 0, NULL, NULL), EMU_OK);
        assert_int_equal(vw_pairs(w, &p), EMU_OK);
        uint64_t unmatched = p.unmatched_binds;
        assert_int_equal(vw_add_vf(w, 0, other), EMU_OK);
        assert_int_equal(vw_pairs(w, &p), EMU_OK);
        assert_int_equal(pair_of(&p, 0)->pair_state, VFO_CTL_PAIR_ABSENT);
        assert_int_equal(pair_of(&p, 0)->refusal_count, 0); /* not a candidate: only counted */
        assert_int_equal(p.unmatched_binds, unmatched + 1);
        finish(w);
    }
}

static void mtu_mismatch_refused(void **state)
{
    (void)state;
    static const char *const jumbo[] = { "*JumboPacket=9014", NULL };
    for (uint64_t seed = 1; seed <= g_seeds; seed++) {
        vfo_world *w = &g_w;
        struct vfo_ctl_pairs p;
        vnet_pci_opts o = { .standby = true, .loopback = true, .mtu = 9000 };
        vw_mac(0, o.mac);
        assert_int_equal(vw_start(w, seed), EMU_OK);
        assert_int_equal(vw_add_virtio(w, 0, &o, jumbo), EMU_OK);
        assert_int_equal(vw_add_vf(w, 0, o.mac), EMU_OK); /* the VF's MTU is 1500 */
        assert_int_equal(vw_pairs(w, &p), EMU_OK);
        const struct vfo_ctl_adapter *a = pair_of(&p, 0);
        assert_int_equal(a->pair_state, VFO_CTL_PAIR_ABSENT);
        assert_int_equal(a->refusal_count, 1);
        assert_int_equal(a->refused[0].reason, VFO_CTL_REFUSE_MTU_MISMATCH);
        assert_memory_equal(a->refused[0].candidate.permanent_mac, o.mac, 6);
        assert_int_equal(a->refused[0].candidate.guid.data1, 0x5A1F0C3Eu);
        finish(w);
    }
}

/* Frames the two wires carried (the VF's NIC and virtio's backend) that are
 * not vfo's own announcements. */
static uint64_t wire_frames(vfo_world *w)
{
    struct vfo_ctl_pairs p;
    loopnic_stats ls;
    loopnic_get_stats(w->vf[0], &ls);
    assert_int_equal(vw_pairs(w, &p), EMU_OK);
    return ls.tx_frames + w->vn[0]->tx_frames - pair_of(&p, 0)->counters.announces;
}

/* Frames in flight on the VF when it leaves: every one is completed with
 * success and reaches a wire (the VF's, or virtio's as a resend). The
 * loopback VF's own receive side closes with it, so receives are not
 * counted here. */
static void leave_under_traffic(bool surprise)
{
    for (uint64_t seed = 1; seed <= g_seeds; seed++) {
        vfo_world *w = &g_w;
        miniprot_stats before, after;
        up_with_vf(w, seed);
        assert_int_equal(vw_pt_stats(w, &before), EMU_OK);
        uint64_t wire = wire_frames(w);
        assert_int_equal(vw_pt_send(w, 32, 200, false), EMU_OK);
        assert_int_equal(vw_remove_vf(w, 0, surprise), EMU_OK);
        /* QEMU waits on the eject: it completes within 50 ms (virtual). */
        assert_true(vw_last_pnp_ns <= 50000000ull);
        assert_int_equal(vw_pt_stats(w, &after), EMU_OK);
        assert_int_equal(after.send_ok - before.send_ok, 32);
        assert_int_equal(after.send_failed, before.send_failed);
        assert_int_equal(wire_frames(w) - wire, 32);
        struct vfo_ctl_pairs p;
        assert_int_equal(vw_pairs(w, &p), EMU_OK);
        /* A surprise-removed VF fails what it held: those went out on virtio. */
        if (surprise)
            assert_true(pair_of(&p, 0)->counters.tx_resent_on_standby > 0);
        else
            assert_int_equal(pair_of(&p, 0)->counters.tx_resent_on_standby, 0);
        assert_int_equal(state_of(w, 0), VFO_CTL_PAIR_ABSENT);
        assert_int_equal(link_downs(w, 0), 0);
        /* Traffic goes on over virtio. */
        assert_int_equal(vw_pt_stats(w, &before), EMU_OK);
        assert_int_equal(vw_pt_send(w, 8, 100, true), EMU_OK);
        all_delivered(w, &before, 8);
        finish(w);
    }
}

static void eject_under_traffic(void **state)
{
    (void)state;
    leave_under_traffic(false);
}

static void surprise_under_traffic(void **state)
{
    (void)state;
    leave_under_traffic(true);
}

/* vfo halts first: the VF is given up without waiting for NDIS, and pairs
 * again when the virtio device comes back. */
static void vfo_halt_with_vf_bound(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= g_seeds; seed++) {
        vfo_world *w = &g_w;
        miniprot_stats before;
        up_with_vf(w, seed);
        assert_int_equal(vw_remove_virtio(w, 0, false), EMU_OK);
        assert_int_equal(vw_add_virtio(w, 0, NULL, NULL), EMU_OK);
        assert_int_equal(vw_pt_filter(w, FILTER), EMU_OK);
        assert_int_equal(state_of(w, 0), VFO_CTL_PAIR_ACTIVE);
        assert_int_equal(vw_pt_stats(w, &before), EMU_OK);
        assert_int_equal(vw_pt_send(w, 8, 100, true), EMU_OK);
        all_delivered(w, &before, 8);
        finish(w);
    }
}

static void d3_d0_with_vf_bound(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= g_seeds; seed++) {
        vfo_world *w = &g_w;
        miniprot_stats before;
        up_with_vf(w, seed);
        assert_int_equal(vw_pt_send(w, 4, 100, false), EMU_OK);
        assert_int_equal(emu_set_power(w->rt, w->vfo_ad[0], 3), EMU_OK);
        assert_int_equal(state_of(w, 0), VFO_CTL_PAIR_STANDBY_ONLY);
        assert_int_equal(emu_set_power(w->rt, w->vfo_ad[0], 0), EMU_OK);
        assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
        assert_int_equal(state_of(w, 0), VFO_CTL_PAIR_ACTIVE);
        assert_int_equal(vw_pt_stats(w, &before), EMU_OK);
        assert_int_equal(vw_pt_send(w, 8, 100, true), EMU_OK);
        all_delivered(w, &before, 8);
        finish(w);
    }
}

/* The VF's stack paused and restarted (NDIS does that when a filter attaches
 * or detaches under vfo's binding) and vfo's adapter through D3/D0: the pair
 * leaves ACTIVE and comes back each time, but no VF attached or detached,
 * so the control device's attaches stays 1 and detaches 0. */
static void vf_stack_restart_is_not_an_attach(void **state)
{
    (void)state;
    vfo_world *w = &g_w;
    struct vfo_ctl_pairs p;
    up_with_vf(w, 1);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(emu_restart_stack(w->rt, w->vf_ad[0]), EMU_OK);
        assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
        assert_int_equal(state_of(w, 0), VFO_CTL_PAIR_ACTIVE);
    }
    assert_int_equal(emu_set_power(w->rt, w->vfo_ad[0], 3), EMU_OK);
    assert_int_equal(state_of(w, 0), VFO_CTL_PAIR_STANDBY_ONLY);
    assert_int_equal(emu_set_power(w->rt, w->vfo_ad[0], 0), EMU_OK);
    assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
    assert_int_equal(state_of(w, 0), VFO_CTL_PAIR_ACTIVE);
    assert_int_equal(vw_pairs(w, &p), EMU_OK);
    assert_int_equal(pair_of(&p, 0)->counters.attaches, 1);
    assert_int_equal(pair_of(&p, 0)->counters.detaches, 0);
    assert_int_equal(link_downs(w, 0), 0);
    finish(w);
}

static void netcfg_unbind_rebind(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= g_seeds; seed++) {
        vfo_world *w = &g_w;
        struct vfo_ctl_pairs p;
        up_with_vf(w, seed);
        uint32_t vf = emu_adapter_id(w->vf_ad[0]);
        assert_int_equal(emu_netcfg_set_path(w->rt, "vfo", vf, false), EMU_OK);
        assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
        assert_int_equal(state_of(w, 0), VFO_CTL_PAIR_ABSENT);
        assert_int_equal(emu_netcfg_set_path(w->rt, "vfo", vf, true), EMU_OK);
        assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
        assert_int_equal(vw_pairs(w, &p), EMU_OK);
        assert_int_equal(pair_of(&p, 0)->pair_state, VFO_CTL_PAIR_ACTIVE);
        assert_int_equal(pair_of(&p, 0)->counters.attaches, 2);
        assert_int_equal(pair_of(&p, 0)->counters.detaches, 1);
        assert_int_equal(link_downs(w, 0), 0);
        /* A global reconfiguration (NULL binding context) is succeeded and
         * leaves the pair alone (each set_path above brought a NULL-context
         * NetEventBindList, DriverEntry's bind pass a NetEventBindsComplete). */
        assert_int_equal(emu_netcfg_reconfigure(w->rt, "vfo"), EMU_OK);
        assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
        assert_int_equal(vw_pairs(w, &p), EMU_OK);
        assert_int_equal(pair_of(&p, 0)->pair_state, VFO_CTL_PAIR_ACTIVE);
        assert_int_equal(pair_of(&p, 0)->counters.attaches, 2);
        finish(w);
    }
}

static void two_pairs(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= g_seeds; seed++) {
        vfo_world *w = &g_w;
        struct vfo_ctl_pairs p;
        uint8_t m0[6], m1[6];
        vw_mac(0, m0);
        vw_mac(1, m1);
        assert_int_equal(vw_start(w, seed), EMU_OK);
        assert_int_equal(vw_add_virtio(w, 0, NULL, NULL), EMU_OK);
        assert_int_equal(vw_add_virtio(w, 1, NULL, NULL), EMU_OK);
        assert_int_equal(vw_add_vf(w, 1, m1), EMU_OK);
        assert_int_equal(vw_add_vf(w, 0, m0), EMU_OK);
        assert_int_equal(vw_pairs(w, &p), EMU_OK);
        assert_int_equal(p.adapter_count, 2);
        for (unsigned i = 0; i < 2; i++) {
            const struct vfo_ctl_adapter *a = pair_of(&p, i);
            assert_int_equal(a->pair_state, VFO_CTL_PAIR_ACTIVE);
            /* each VF went to the adapter with its MAC */
            assert_memory_equal(a->vf.permanent_mac, a->vfo.permanent_mac, 6);
        }
        assert_int_equal(vw_remove_vf(w, 0, true), EMU_OK);
        assert_int_equal(vw_pairs(w, &p), EMU_OK);
        unsigned absent = 0, active = 0;
        for (unsigned i = 0; i < 2; i++) {
            absent += pair_of(&p, i)->pair_state == VFO_CTL_PAIR_ABSENT;
            active += pair_of(&p, i)->pair_state == VFO_CTL_PAIR_ACTIVE;
        }
        assert_int_equal(absent, 1);
        assert_int_equal(active, 1);
        finish(w);
    }
}

/* 900 remove/add cycles, graceful and surprise alternating: the pair comes
 * back every time and vfo's memory does not grow. */
static void flap_storm(void **state)
{
    (void)state;
    vfo_world *w = &g_w;
    emu_mem_usage ad_before, ad_after, drv_before, drv_after;
    uint8_t mac[6];
    vw_mac(0, mac);
    up_with_vf(w, 1);
    assert_int_equal(emu_adapter_mem(w->rt, w->vfo_ad[0], &ad_before), EMU_OK);
    assert_int_equal(emu_driver_mem(w->rt, w->vfo, &drv_before), EMU_OK);
    for (unsigned i = 0; i < g_flaps; i++) {
        assert_int_equal(vw_remove_vf(w, 0, i & 1), EMU_OK);
        assert_int_equal(vw_add_vf(w, 0, mac), EMU_OK);
    }
    assert_int_equal(state_of(w, 0), VFO_CTL_PAIR_ACTIVE);
    assert_int_equal(link_downs(w, 0), 0);
    assert_int_equal(emu_adapter_mem(w->rt, w->vfo_ad[0], &ad_after), EMU_OK);
    assert_int_equal(emu_driver_mem(w->rt, w->vfo, &drv_after), EMU_OK);
    assert_int_equal(ad_after.bytes, ad_before.bytes);
    assert_int_equal(ad_after.allocations, ad_before.allocations);
    assert_int_equal(drv_after.bytes, drv_before.bytes);
    struct vfo_ctl_pairs p;
    assert_int_equal(vw_pairs(w, &p), EMU_OK);
    assert_int_equal(pair_of(&p, 0)->counters.attaches, g_flaps + 1);
    assert_int_equal(pair_of(&p, 0)->counters.detaches, g_flaps);
    finish(w);
}

/* A second protocol bound to the VF beside vfo (TCP/IP before vfosvc
 * disables its path, issue #13 item 13): both get each indication, both
 * keep the NBLs a while (the test protocol returns from a timer; vfo holds
 * them while TCP/IP above it, the test protocol again, does), in either
 * order. NDIS gives each NBL back to the VF only after both returned it;
 * ndisemu's NblReturnOnce checks each return against that binding's own
 * hold, wherever vfo's indication above it stands. */
static void second_protocol_on_vf(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= g_seeds; seed++) {
        vfo_world *w = &g_w;
        miniprot_stats before, after;
        up_with_vf(w, seed);
        assert_int_equal(emu_netcfg_set_path(w->rt, "MINIPROT", emu_adapter_id(w->vf_ad[0]), true),
                         EMU_OK);
        assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
        assert_int_equal(vw_pt_stats(w, &before), EMU_OK);
        assert_int_equal(before.bound, 2);
        assert_int_equal(state_of(w, 0), VFO_CTL_PAIR_ACTIVE);
        for (unsigned k = 0; k < 8; k++) {
            assert_int_equal(vw_pt_send(w, 16, 200, false), EMU_OK);
            assert_int_equal(emu_run_for(w->rt, 300000), EMU_OK); /* 0.3 ms */
        }
        assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
        assert_int_equal(vw_pt_stats(w, &after), EMU_OK);
        assert_int_equal(after.send_ok - before.send_ok, 128);
        assert_int_equal(after.send_failed, before.send_failed);
        /* Each frame reached the test protocol twice: over vfo and on the VF. */
        assert_true(after.received - before.received >= 2 * 128);
        /* The binding service takes the path away again, then everything goes. */
        assert_int_equal(emu_netcfg_set_path(w->rt, "MINIPROT", emu_adapter_id(w->vf_ad[0]), false),
                         EMU_OK);
        assert_int_equal(emu_run_until_idle(w->rt), EMU_OK);
        assert_int_equal(state_of(w, 0), VFO_CTL_PAIR_ACTIVE);
        finish(w);
    }
}

static int teardown(void **state)
{
    (void)state;
    vw_destroy(&g_w);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        g_seeds = (unsigned)strtoul(argv[1], NULL, 10);
    if (argc > 2)
        g_flaps = (unsigned)strtoul(argv[2], NULL, 10);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(vf_before_vfo, teardown),
        cmocka_unit_test_teardown(mac_mismatch_ignored, teardown),
        cmocka_unit_test_teardown(mtu_mismatch_refused, teardown),
        cmocka_unit_test_teardown(eject_under_traffic, teardown),
        cmocka_unit_test_teardown(surprise_under_traffic, teardown),
        cmocka_unit_test_teardown(vfo_halt_with_vf_bound, teardown),
        cmocka_unit_test_teardown(d3_d0_with_vf_bound, teardown),
        cmocka_unit_test_teardown(vf_stack_restart_is_not_an_attach, teardown),
        cmocka_unit_test_teardown(netcfg_unbind_rebind, teardown),
        cmocka_unit_test_teardown(two_pairs, teardown),
        cmocka_unit_test_teardown(second_protocol_on_vf, teardown),
        cmocka_unit_test_teardown(flap_storm, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
