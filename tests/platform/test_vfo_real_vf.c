/*
 * vfo-real's VF (tools/vfo-real/vf.c) in ndisemu, without QEMU or a real
 * interface: the interface's RTM_DELLINK is a surprise removal of the VF
 * adapter, and the emulated VF device is let go only when that removal
 * finished. A removal the verifier stopped leaves the adapter, and with it
 * the device's registers and DMA, to ndisemu until emu_destroy: the device
 * must survive until the teardown after that (the lab's CI run crashed in
 * vfo-real's teardown when the removal callback freed it; docs/results.md).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "real.h"

#define MS 1000000ull

static const uint8_t MAC_G[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* The timeline vfo-real prints (main.c's real_event), kept for the test. */
static char g_removed[200];
static unsigned g_removed_count;

void real_event(real *r, const char *what, const char *fmt, ...)
{
    (void)r;
    if (strcmp(what, "VF_REMOVED") != 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_removed, sizeof(g_removed), fmt, ap);
    va_end(ap);
    g_removed_count++;
}

typedef struct world {
    real r;
    emu_driver *vfnic, *pt;
} world;

/* The VF as vf.c's plug() makes it for an interface, minus the interface's
 * socket (no wire: nothing is sent in this test), with the protocol `pt`
 * bound to it. */
static void setup_vf(world *w, const char *protocol_so)
{
    memset(w, 0, sizeof(*w));
    memset(g_removed, 0, sizeof(g_removed));
    g_removed_count = 0;
    real *r = &w->r;
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = 5, .quiet = true };
    assert_int_equal(emu_create(&cfg, &r->rt), EMU_OK);
    assert_int_equal(emu_load_driver(r->rt, VFNIC_SO, NULL, &w->vfnic), EMU_OK);
    assert_int_equal(emu_load_driver(r->rt, protocol_so, NULL, &w->pt), EMU_OK);
    pthread_mutex_init(&r->vf_mu, NULL);
    pthread_mutex_init(&r->out_mu, NULL);
    r->sw = emu_switch_create();
    r->vf_port = emu_switch_add_port(r->sw, "vf");
    emu_vfdev_cfg vc = { .model = EMU_VF_X540, .link_up = true };
    memcpy(vc.mac, MAC_G, 6);
    r->vf.dev = emu_vfdev_create(&vc);
    emu_vfdev_set_port(r->vf.dev, r->vf_port);
    snprintf(r->vf.ifname, sizeof(r->vf.ifname), "eth9");
    r->vf.ifindex = 9;
    r->vf.plugged = true;
    r->vf.link_up = true;
    emu_device_desc d;
    emu_vfdev_device_desc(r->vf.dev, "vf-eth9", &d);
    assert_int_equal(emu_add_device(r->rt, &d, &r->vf.ad), EMU_OK);
    assert_int_equal(emu_run_for(r->rt, 10 * MS), EMU_OK);
}

/* Platform work: the guest kernel deleted eth9 (netwatch's event). */
static void dellink(void *arg)
{
    emu_netwatch_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.kind = EMU_NETIF_GONE;
    ev.ifindex = 9;
    snprintf(ev.ifname, sizeof(ev.ifname), "eth9");
    real_vf_event(arg, &ev);
}

static void teardown_vf(world *w)
{
    emu_destroy(w->r.rt);
    real_vf_teardown(&w->r);
    assert_null(w->r.vf.dev);
    emu_switch_destroy(w->r.sw);
    pthread_mutex_destroy(&w->r.vf_mu);
    pthread_mutex_destroy(&w->r.out_mu);
}

/* The control: a removal that finished frees the device at once. */
static void finished_removal_lets_the_device_go(void **state)
{
    (void)state;
    static world w;
    setup_vf(&w, MINIPROT_SO);
    emu_schedule(w.r.rt, 0, dellink, &w.r);
    assert_int_equal(emu_run_for(w.r.rt, 100 * MS), EMU_OK);
    assert_int_equal(g_removed_count, 1);
    assert_non_null(strstr(g_removed, "halted"));
    assert_false(emu_failed(w.r.rt));
    assert_null(w.r.vf.dev); /* destroyed by the removal callback */
    assert_false(w.r.vf.plugged);
    assert_int_equal(emu_shutdown(w.r.rt), EMU_OK);
    teardown_vf(&w);
}

/* The protocol on the VF breaks an NDIS rule in its unbind: the verifier
 * stops the run in the middle of the surprise removal. The device stays
 * (ndisemu still holds the adapter) and no new VF may be plugged over it;
 * the teardown after emu_destroy frees it. */
static void stopped_removal_keeps_the_device(void **state)
{
    (void)state;
    static world w;
    setup_vf(&w, BROKEN_PT_UNBIND_SO);
    emu_vfdev *dev = w.r.vf.dev;
    emu_schedule(w.r.rt, 0, dellink, &w.r);
    emu_run_for(w.r.rt, 100 * MS);
    assert_true(emu_failed(w.r.rt));
    assert_string_equal(emu_violation_get(w.r.rt, 0)->rule, "DoubleComplete");
    assert_int_equal(g_removed_count, 1);
    assert_null(strstr(g_removed, "halted"));
    assert_ptr_equal(w.r.vf.dev, dev); /* kept for ndisemu */
    assert_null(w.r.vf.ad);
    assert_true(w.r.vf.plugged); /* no new VF over a device still held */
    emu_vfdev_stats st;
    emu_vfdev_get_stats(dev, &st); /* still a live object */
    teardown_vf(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finished_removal_lets_the_device_go),
        cmocka_unit_test(stopped_removal_keeps_the_device),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
