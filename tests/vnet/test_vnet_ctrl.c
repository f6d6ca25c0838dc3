/*
 * Control queue against the virtio-net model: every command and its effect
 * on the device, answers the device gets wrong, the timeout path with a
 * late answer, slots exhausted, cancellation by stop, commands whose
 * feature was not negotiated, bad arguments, and callbacks that submit.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vnet_rig.h"

#define F(bit) VIO_FEATURE(bit)

static const uint8_t new_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t uc[2][6] = { { 0x02, 0, 0, 0, 0, 1 }, { 0x02, 0, 0, 0, 0, 2 } };
static const uint8_t mc[3][6] = { { 0x01, 0x00, 0x5E, 0, 0, 1 },
                                  { 0x33, 0x33, 0, 0, 0, 1 },
                                  { 0x01, 0x80, 0xC2, 0, 0, 0x0E } };

/* Submits with the rig's recorder, polls, and checks one completion. */
static void expect_done(vnet_rig *r, vnet_status submitted, vnet_ctrl_op op, vnet_status result)
{
    uint32_t calls = r->ctrl.calls;

    assert_int_equal(submitted, VNET_OK);
    assert_int_equal(vnet_ctrl_poll(r->n), 1);
    assert_int_equal(r->ctrl.calls, calls + 1);
    assert_int_equal(r->ctrl.op, op);
    assert_int_equal(r->ctrl.status, result);
    assert_ptr_equal(r->ctrl.cookie, r);
    assert_int_equal(vnet_ctrl_pending(r->n), 0);
}

static void every_command_reaches_the_device(void **state)
{
    vnet_rig *r = rig_up(NULL);
    emu_vnet_filter flt;

    (void)state;
    emu_vnet_get_filter(r->dev, &flt);
    assert_true(flt.promisc); /* QEMU's reset state */
    expect_done(r, vnet_ctrl_set_promisc(r->n, false, rig_ctrl_done, r), VNET_CTRL_OP_PROMISC,
                VNET_OK);
    expect_done(r, vnet_ctrl_set_allmulti(r->n, true, rig_ctrl_done, r), VNET_CTRL_OP_ALLMULTI,
                VNET_OK);
    expect_done(r, vnet_ctrl_set_mac(r->n, new_mac, rig_ctrl_done, r), VNET_CTRL_OP_SET_MAC,
                VNET_OK);
    expect_done(r, vnet_ctrl_set_mac_table(r->n, &uc[0][0], 2, &mc[0][0], 3, rig_ctrl_done, r),
                VNET_CTRL_OP_MAC_TABLE, VNET_OK);
    expect_done(r, vnet_ctrl_vlan(r->n, 100, true, rig_ctrl_done, r), VNET_CTRL_OP_VLAN_ADD,
                VNET_OK);
    expect_done(r, vnet_ctrl_vlan(r->n, 4095, true, rig_ctrl_done, r), VNET_CTRL_OP_VLAN_ADD,
                VNET_OK);
    expect_done(r, vnet_ctrl_vlan(r->n, 4095, false, rig_ctrl_done, r), VNET_CTRL_OP_VLAN_DEL,
                VNET_OK);
    emu_vnet_get_filter(r->dev, &flt);
    assert_false(flt.promisc);
    assert_true(flt.allmulti);
    assert_memory_equal(flt.mac, new_mac, 6);
    assert_int_equal(flt.n_uc, 2);
    assert_int_equal(flt.n_mc, 3);
    assert_memory_equal(flt.uc, uc, sizeof(uc));
    assert_memory_equal(flt.mc, mc, sizeof(mc));
    assert_false(flt.uni_overflow || flt.multi_overflow);
    assert_true(emu_vnet_vlan_allowed(r->dev, 100));
    assert_false(emu_vnet_vlan_allowed(r->dev, 101));
    assert_false(emu_vnet_vlan_allowed(r->dev, 4095));
    /* An empty table is legal too. */
    expect_done(r, vnet_ctrl_set_mac_table(r->n, NULL, 0, NULL, 0, rig_ctrl_done, r),
                VNET_CTRL_OP_MAC_TABLE, VNET_OK);
    emu_vnet_get_filter(r->dev, &flt);
    assert_int_equal(flt.n_uc + flt.n_mc, 0);
    /* Announce: acked only while the device asks. */
    expect_done(r, vnet_ctrl_announce_ack(r->n, rig_ctrl_done, r), VNET_CTRL_OP_ANNOUNCE_ACK,
                VNET_E_CTRL_REJECTED);
    assert_true(emu_vnet_announce(r->dev));
    expect_done(r, vnet_ctrl_announce_ack(r->n, rig_ctrl_done, r), VNET_CTRL_OP_ANNOUNCE_ACK,
                VNET_OK);
    assert_false(emu_vnet_announce_pending(r->dev));
    rig_down(r);
}

static void garbled_answers(void **state)
{
    vnet_rig *r = rig_up(NULL);
    vnet_stats s;

    (void)state;
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_CTRL_ACK, 7, 1);
    expect_done(r, vnet_ctrl_set_promisc(r->n, false, rig_ctrl_done, r), VNET_CTRL_OP_PROMISC,
                VNET_E_CTRL_BAD_ACK);
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_CTRL_NO_ACK, 0, 1);
    expect_done(r, vnet_ctrl_set_promisc(r->n, false, rig_ctrl_done, r), VNET_CTRL_OP_PROMISC,
                VNET_E_CTRL_NO_ACK);
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_CTRL_ACK, 1, 1);
    expect_done(r, vnet_ctrl_set_promisc(r->n, false, rig_ctrl_done, r), VNET_CTRL_OP_PROMISC,
                VNET_E_CTRL_REJECTED);
    vnet_get_stats(r->n, &s);
    assert_int_equal(s.ctrl.bad_ack, 1);
    assert_int_equal(s.ctrl.no_ack, 1);
    assert_int_equal(s.ctrl.rejected, 1);
    assert_int_equal(s.ctrl.submitted, 3);
    rig_down(r);
}

static void silent_device_times_out_then_answers_late(void **state)
{
    rig_opts o = { .params.ctrl_timeout_ms = 1000 };
    vnet_rig *r = rig_up(&o);
    emu_vnet_filter flt;
    vnet_stats s;

    (void)state;
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_CTRL_SILENT, 0, 1);
    assert_int_equal(vnet_ctrl_set_promisc(r->n, false, rig_ctrl_done, r), VNET_OK);
    assert_int_equal(vnet_ctrl_poll(r->n), 0);
    assert_int_equal(vnet_ctrl_pending(r->n), 1);
    assert_int_equal(vnet_ctrl_tick(r->n, 600), 0);
    assert_int_equal(r->ctrl.calls, 0);
    assert_int_equal(vnet_ctrl_tick(r->n, 400), 1);
    assert_int_equal(r->ctrl.calls, 1);
    assert_int_equal(r->ctrl.status, VNET_E_TIMEOUT);
    assert_int_equal(vnet_ctrl_pending(r->n), 0);
    /* The device wakes up: the command runs, the answer is counted, the
     * OS hears nothing more. */
    emu_vnet_release_held(r->dev);
    assert_int_equal(vnet_ctrl_poll(r->n), 0);
    assert_int_equal(r->ctrl.calls, 1);
    emu_vnet_get_filter(r->dev, &flt);
    assert_false(flt.promisc);
    vnet_get_stats(r->n, &s);
    assert_int_equal(s.ctrl.timeouts, 1);
    assert_int_equal(s.ctrl.late_answers, 1);
    /* Its slot is free again. */
    expect_done(r, vnet_ctrl_set_promisc(r->n, true, rig_ctrl_done, r), VNET_CTRL_OP_PROMISC,
                VNET_OK);
    rig_down(r);
}

static void slots_held_by_a_dead_device(void **state)
{
    vnet_rig *r = rig_up(NULL);
    vnet_stats s;
    uint32_t i;

    (void)state;
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_CTRL_SILENT, 0, EMU_VDEV_FOREVER);
    for (i = 0; i < VNET_CTRL_SLOTS; i++)
        assert_int_equal(vnet_ctrl_vlan(r->n, (uint16_t)i, true, rig_ctrl_done, r), VNET_OK);
    assert_int_equal(vnet_ctrl_vlan(r->n, 9, true, rig_ctrl_done, r), VNET_E_BUSY);
    assert_int_equal(vnet_ctrl_tick(r->n, 5000), VNET_CTRL_SLOTS);
    assert_int_equal(r->ctrl.calls, VNET_CTRL_SLOTS);
    /* Timed out, but the device may still write there: no reuse. */
    assert_int_equal(vnet_ctrl_vlan(r->n, 9, true, rig_ctrl_done, r), VNET_E_BUSY);
    vnet_get_stats(r->n, &s);
    assert_int_equal(s.ctrl.busy, 2);
    /* The OS resets the adapter: everything is usable again. */
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_CTRL_SILENT, 0, 0);
    vnet_stop(r->n);
    assert_int_equal(r->ctrl.calls, VNET_CTRL_SLOTS); /* no second completion */
    assert_int_equal(vnet_start(r->n), VNET_OK);
    expect_done(r, vnet_ctrl_vlan(r->n, 9, true, rig_ctrl_done, r), VNET_CTRL_OP_VLAN_ADD, VNET_OK);
    rig_down(r);
}

static void stop_cancels_pending_commands(void **state)
{
    vnet_rig *r = rig_up(NULL);

    (void)state;
    emu_vnet_inject(r->dev, EMU_VNET_FAULT_CTRL_SILENT, 0, 2);
    assert_int_equal(vnet_ctrl_set_allmulti(r->n, true, rig_ctrl_done, r), VNET_OK);
    assert_int_equal(vnet_ctrl_set_allmulti(r->n, false, rig_ctrl_done, r), VNET_OK);
    vnet_stop(r->n);
    assert_int_equal(r->ctrl.calls, 2);
    assert_int_equal(r->ctrl.status, VNET_E_CANCELLED);
    assert_int_equal(vnet_ctrl_pending(r->n), 0);
    assert_int_equal(vnet_ctrl_set_allmulti(r->n, true, rig_ctrl_done, r), VNET_E_STATE);
    assert_int_equal(vnet_ctrl_tick(r->n, 10000), 0);
    rig_down(r);
}

static void commands_need_their_feature(void **state)
{
    rig_opts o = { .params.features_off = F(VNET_F_CTRL_VQ) };
    vnet_rig *r = rig_up(&o);

    (void)state;
    assert_int_equal(vnet_ctrl_set_promisc(r->n, false, NULL, NULL), VNET_E_UNSUPPORTED);
    assert_int_equal(vnet_ctrl_set_mac(r->n, new_mac, NULL, NULL), VNET_E_UNSUPPORTED);
    assert_int_equal(vnet_ctrl_vlan(r->n, 1, true, NULL, NULL), VNET_E_UNSUPPORTED);
    assert_int_equal(vnet_ctrl_announce_ack(r->n, NULL, NULL), VNET_E_UNSUPPORTED);
    assert_int_equal(vnet_ctrl_poll(r->n), 0);
    rig_down(r);

    o.params.features_off = F(VNET_F_CTRL_RX) | F(VNET_F_CTRL_MAC_ADDR);
    r = rig_up(&o);
    assert_int_equal(vnet_ctrl_set_promisc(r->n, false, NULL, NULL), VNET_E_UNSUPPORTED);
    assert_int_equal(vnet_ctrl_set_allmulti(r->n, false, NULL, NULL), VNET_E_UNSUPPORTED);
    assert_int_equal(vnet_ctrl_set_mac_table(r->n, NULL, 0, NULL, 0, NULL, NULL),
                     VNET_E_UNSUPPORTED);
    assert_int_equal(vnet_ctrl_set_mac(r->n, new_mac, NULL, NULL), VNET_E_UNSUPPORTED);
    assert_int_equal(vnet_ctrl_vlan(r->n, 1, true, NULL, NULL), VNET_OK); /* still there */
    assert_int_equal(vnet_ctrl_poll(r->n), 1);
    rig_down(r);
}

static void bad_arguments(void **state)
{
    static const uint8_t zero[6] = { 0 };
    static uint8_t big[65 * 6];
    vnet_rig *r = rig_up(NULL);
    uint32_t i;

    (void)state;
    for (i = 0; i < 65; i++)
        big[i * 6] = 0x02;
    assert_int_equal(vnet_ctrl_set_mac(r->n, mc[0], NULL, NULL), VNET_E_INVAL);
    assert_int_equal(vnet_ctrl_set_mac(r->n, zero, NULL, NULL), VNET_E_INVAL);
    assert_int_equal(vnet_ctrl_set_mac(r->n, NULL, NULL, NULL), VNET_E_INVAL);
    assert_int_equal(vnet_ctrl_set_mac_table(r->n, &mc[0][0], 1, NULL, 0, NULL, NULL),
                     VNET_E_INVAL);
    assert_int_equal(vnet_ctrl_set_mac_table(r->n, NULL, 0, &uc[0][0], 1, NULL, NULL),
                     VNET_E_INVAL);
    assert_int_equal(vnet_ctrl_set_mac_table(r->n, NULL, 2, NULL, 0, NULL, NULL), VNET_E_INVAL);
    assert_int_equal(vnet_ctrl_set_mac_table(r->n, big, 65, NULL, 0, NULL, NULL), VNET_E_INVAL);
    assert_int_equal(vnet_ctrl_set_mac_table(r->n, big, 64, NULL, 0, NULL, NULL), VNET_OK);
    assert_int_equal(vnet_ctrl_vlan(r->n, 4096, true, NULL, NULL), VNET_E_INVAL);
    assert_int_equal(vnet_ctrl_poll(r->n), 1);
    assert_int_equal(vnet_ctrl_pending(r->n), 0);
    rig_down(r);
}

static void chain_next(void *ctx, void *cookie, vnet_ctrl_op op, vnet_status status)
{
    vnet_rig *r = ctx;

    rig_ctrl_done(ctx, cookie, op, status);
    if (op == VNET_CTRL_OP_PROMISC)
        assert_int_equal(vnet_ctrl_set_allmulti(r->n, true, rig_ctrl_done, r), VNET_OK);
}

static void callbacks_may_submit(void **state)
{
    vnet_rig *r = rig_up(NULL);
    emu_vnet_filter flt;

    (void)state;
    assert_int_equal(vnet_ctrl_set_promisc(r->n, false, chain_next, r), VNET_OK);
    assert_int_equal(vnet_ctrl_poll(r->n), 2);
    assert_int_equal(r->ctrl.calls, 2);
    assert_int_equal(r->ctrl.op, VNET_CTRL_OP_ALLMULTI);
    emu_vnet_get_filter(r->dev, &flt);
    assert_true(flt.allmulti);
    rig_down(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_command_reaches_the_device),
        cmocka_unit_test(garbled_answers),
        cmocka_unit_test(silent_device_times_out_then_answers_late),
        cmocka_unit_test(slots_held_by_a_dead_device),
        cmocka_unit_test(stop_cancels_pending_commands),
        cmocka_unit_test(commands_need_their_feature),
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(callbacks_may_submit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
