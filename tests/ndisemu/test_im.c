/*
 * ndisemu's intermediate (MUX) driver support, with a test IM driver of our
 * own (imdrv/imdrv.c) over the minimal miniport on the loop NIC and the
 * test protocol above its virtual miniports: the start of a virtual miniport
 * in either order of NdisIMInitializeDeviceInstanceEx and the device's
 * installation, its context, the interface stack, cancel before and after
 * MiniportInitializeEx, NdisIMDeInitializeDeviceInstance (the protocols
 * above unbind, MiniportHaltEx with NdisHaltDeviceInstanceDeInitialized),
 * per-binding parameters (a multi-string), the bind parameters' revision
 * for an NDIS 6.0 protocol; and each broken variant trips exactly its rule.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <ndis.h>

#include "imdrv.h"
#include "loopnic.h"
#include "miniprot.h"
#include "ndisemu/emu.h"
#include "ndisemu/emu_netcfg.h"

static const uint8_t k_mac[6] = { 0x02, 0, 0, 0, 0, 0x42 };
#define VM_A "ImVirtualA"
#define VM_B "ImVirtualB"

typedef struct im_env {
    emu_runtime *rt;
    loopnic *nic;
    emu_driver *mp, *pt, *im;
    emu_adapter *ad;
    emu_ctl *ctl;
    imdrv_state_t *st;
} im_env;

static im_env g_env;

static int add_nic(im_env *e)
{
    emu_device_desc dd;
    loopnic_device_desc(e->nic, "loopnic0", &dd);
    dd.service = "minimp";
    int err = emu_add_device(e->rt, &dd, &e->ad);
    /* the test protocol only above the virtual miniports */
    return err ? err : emu_netcfg_set_path(e->rt, "MINIPROT", emu_adapter_id(e->ad), false);
}

/* minimp + miniprot, the binding parameters, then the IM driver im_so; the
 * NIC before it (nic_first) or not at all. */
static int env_start(im_env *e, const char *im_so, const char *im_desc, uint64_t seed,
                     bool nic_first, const char *mode, bool quiet)
{
    memset(e, 0, sizeof(*e));
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = seed, .quiet = quiet };
    int err = emu_create(&cfg, &e->rt);
    if (err)
        return err;
    e->nic = loopnic_create(k_mac);
    err = emu_load_driver(e->rt, MINIMP_SO, DRIVER_DIR_MP "/minimp.desc", &e->mp);
    err = err ? err : emu_load_driver(e->rt, MINIPROT_SO, DRIVER_DIR_PT "/miniprot.desc", &e->pt);
    if (!err && nic_first)
        err = add_nic(e);
    err = err ? err
              : emu_set_binding_param(e->rt, "IMDRVP", "loopnic0", "UpperBindings",
                                      "\\Device\\" VM_A ",\\device\\" VM_B);
    if (!err && mode)
        err = emu_set_binding_param(e->rt, "IMDRVP", "loopnic0", "ImTestMode", mode);
    err = err ? err : emu_load_driver(e->rt, im_so, im_desc, &e->im);
    err = err ? err : emu_run_until_idle(e->rt);
    if (!err) {
        void *h = dlopen(im_so, RTLD_NOW | RTLD_NOLOAD);
        e->st = h ? dlsym(h, "imdrv_state") : NULL;
        if (h)
            dlclose(h); /* the runtime's reference keeps it loaded */
        err = e->st ? EMU_OK : EMU_ERR_NOTFOUND;
    }
    return err;
}

static void env_finish(im_env *e)
{
    if (e->ctl)
        emu_ctl_close(e->ctl);
    if (e->rt)
        emu_destroy(e->rt);
    if (e->nic)
        loopnic_destroy(e->nic);
    memset(e, 0, sizeof(*e));
}

static int teardown(void **state)
{
    (void)state;
    env_finish(&g_env);
    return 0;
}

static unsigned running_virtual(emu_runtime *rt, const char *instance)
{
    emu_adapter *ad = emu_find_adapter(rt, instance);
    return ad && emu_adapter_is_virtual(ad) && strcmp(emu_adapter_state(ad), "running") == 0;
}

static bool stack_has(emu_runtime *rt, emu_adapter *hi, emu_adapter *lo)
{
    emu_if_stack_entry e[8];
    size_t n = emu_if_stack(rt, e, 8);
    for (size_t i = 0; i < n && i < 8; i++)
        if (e[i].higher == emu_adapter_id(hi) && e[i].lower == emu_adapter_id(lo))
            return true;
    return false;
}

static miniprot_stats pt_stats(im_env *e)
{
    miniprot_stats st;
    memset(&st, 0xff, sizeof(st));
    size_t ret;
    int32_t nt;
    if (!e->ctl)
        emu_ctl_open(e->rt, MINIPROT_DEVICE, &e->ctl);
    if (e->ctl)
        emu_ctl_ioctl(e->ctl, IOCTL_MINIPROT_STATS, NULL, 0, &st, sizeof(st), &ret, &nt);
    return st;
}

/* Installed first (the driver loaded, no NIC yet: nothing asks for them),
 * then the NIC arrives: the bind asks, NDIS starts both at once. */
static void starts_installed_devices_when_asked(void **state)
{
    (void)state;
    im_env *e = &g_env;
    assert_int_equal(env_start(e, IMDRV_SO, IMDRV_DESC, 1, false, NULL, false), EMU_OK);
    assert_int_equal(emu_im_install_device(e->rt, "imdrv", VM_A, NULL), EMU_OK);
    assert_int_equal(emu_im_install_device(e->rt, "imdrv", VM_B, NULL), EMU_OK);
    assert_int_equal(emu_im_install_device(e->rt, "imdrv", VM_B, NULL), EMU_ERR_BUSY);
    assert_int_equal(emu_run_until_idle(e->rt), EMU_OK);
    assert_int_equal(e->st->inits, 0);
    assert_null(emu_find_adapter(e->rt, VM_A));

    assert_int_equal(add_nic(e), EMU_OK);
    assert_int_equal(emu_run_until_idle(e->rt), EMU_OK);
    /* the bind: an NDIS 6.0 protocol gets REVISION_1 parameters, with its
     * binding's registry section and PM capabilities */
    assert_int_equal(e->st->bind_revision, NDIS_BIND_PARAMETERS_REVISION_1);
    assert_true(e->st->bind_has_section);
    assert_true(e->st->bind_has_pm_caps);
    assert_int_equal(e->st->upper_bindings, 2); /* the multi-string's two names */
    assert_int_equal(e->st->equal_ignoring_case, 2);
    assert_int_equal(e->st->differs_with_case, 2);
    assert_int_equal(e->st->asked, 2);
    assert_int_equal(e->st->again_status, NDIS_STATUS_NOT_ACCEPTED);
    /* both started, each with its own context, no resources */
    assert_int_equal(e->st->inits, 2);
    assert_int_equal(e->st->inits_with_context, 2);
    assert_int_equal(e->st->inits_without_resources, 2);
    assert_true(running_virtual(e->rt, VM_A));
    assert_true(running_virtual(e->rt, VM_B));
    assert_false(emu_adapter_is_virtual(e->ad));
    /* the interface stack: each over the NIC; an unknown index refused */
    assert_int_equal(e->st->stack_add_status, NDIS_STATUS_SUCCESS);
    assert_int_equal(e->st->stack_add_unknown_status, NDIS_STATUS_INTERFACE_NOT_FOUND);
    assert_int_equal(emu_if_stack(e->rt, NULL, 0), 2);
    assert_true(stack_has(e->rt, emu_find_adapter(e->rt, VM_A), e->ad));
    assert_true(stack_has(e->rt, emu_find_adapter(e->rt, VM_B), e->ad));
    /* protocols bind above them; not the IM's own (its notify object's part) */
    miniprot_stats ps = pt_stats(e);
    assert_int_equal(ps.bound, 2);
    unsigned long long unbinds0 = ps.unbinds;

    /* the NIC goes: the IM unbinds and deinitializes both virtual
     * miniports; the test protocol unbinds from them first */
    assert_int_equal(emu_remove_device(e->rt, e->ad), EMU_OK);
    assert_int_equal(emu_run_until_idle(e->rt), EMU_OK);
    assert_int_equal(e->st->cancel_running_status, NDIS_STATUS_FAILURE);
    assert_int_equal(e->st->deinit_status, NDIS_STATUS_SUCCESS);
    assert_int_equal(e->st->halts, 2);
    assert_int_equal(e->st->last_halt_action, NdisHaltDeviceInstanceDeInitialized);
    assert_false(running_virtual(e->rt, VM_A));
    assert_false(running_virtual(e->rt, VM_B));
    assert_int_equal(emu_if_stack(e->rt, NULL, 0), 0);
    ps = pt_stats(e);
    assert_int_equal(ps.bound, 0);
    assert_int_equal(ps.unbinds - unbinds0, 2);

    /* a new NIC: asked again, started again */
    assert_int_equal(add_nic(e), EMU_OK);
    assert_int_equal(emu_run_until_idle(e->rt), EMU_OK);
    assert_int_equal(e->st->inits, 4);
    assert_true(running_virtual(e->rt, VM_A));
    assert_int_equal(emu_remove_device(e->rt, e->ad), EMU_OK);
    emu_ctl_close(e->ctl);
    e->ctl = NULL;
    assert_int_equal(emu_unload_driver(e->rt, e->im), EMU_OK);
    assert_int_equal(emu_shutdown(e->rt), EMU_OK);
    assert_int_equal(emu_violation_count(e->rt), 0);
}

/* Asked first (the NIC is there: the bind asks), installed later: each
 * starts when its device is installed. */
static void a_start_waits_for_the_device(void **state)
{
    (void)state;
    im_env *e = &g_env;
    assert_int_equal(env_start(e, IMDRV_SO, IMDRV_DESC, 2, true, NULL, false), EMU_OK);
    assert_int_equal(e->st->asked, 2);
    assert_int_equal(e->st->inits, 0);
    assert_null(emu_find_adapter(e->rt, VM_A));
    assert_int_equal(emu_im_install_device(e->rt, "imdrv", VM_B, NULL), EMU_OK);
    assert_int_equal(emu_run_until_idle(e->rt), EMU_OK);
    assert_int_equal(e->st->inits, 1);
    assert_true(running_virtual(e->rt, VM_B));
    assert_null(emu_find_adapter(e->rt, VM_A));
    assert_int_equal(emu_im_install_device(e->rt, "imdrv", VM_A, NULL), EMU_OK);
    assert_int_equal(emu_run_until_idle(e->rt), EMU_OK);
    assert_int_equal(e->st->inits, 2);
    assert_true(running_virtual(e->rt, VM_A));
    /* an unknown service, and a virtual device nobody asked for */
    assert_int_equal(emu_im_install_device(e->rt, "nosuch", "X", NULL), EMU_ERR_NOTFOUND);
    assert_int_equal(emu_remove_device(e->rt, e->ad), EMU_OK);
    assert_int_equal(emu_unload_driver(e->rt, e->im), EMU_OK);
    assert_int_equal(emu_shutdown(e->rt), EMU_OK);
    assert_int_equal(emu_violation_count(e->rt), 0);
}

/* ImTestMode 1: the last one's start is cancelled right after it was asked
 * for (before MiniportInitializeEx): it never starts, even once installed. */
static void a_cancelled_start_never_happens(void **state)
{
    (void)state;
    im_env *e = &g_env;
    assert_int_equal(env_start(e, IMDRV_SO, IMDRV_DESC, 3, true, "1", false), EMU_OK);
    assert_int_equal(e->st->cancel_pending_status, NDIS_STATUS_SUCCESS);
    assert_int_equal(emu_im_install_device(e->rt, "imdrv", VM_A, NULL), EMU_OK);
    assert_int_equal(emu_im_install_device(e->rt, "imdrv", VM_B, NULL), EMU_OK);
    assert_int_equal(emu_run_until_idle(e->rt), EMU_OK);
    assert_int_equal(e->st->inits, 1);
    assert_true(running_virtual(e->rt, VM_A));
    assert_null(emu_find_adapter(e->rt, VM_B));
    assert_int_equal(emu_remove_device(e->rt, e->ad), EMU_OK);
    assert_int_equal(e->st->halts, 1);
    assert_int_equal(emu_unload_driver(e->rt, e->im), EMU_OK);
    assert_int_equal(emu_shutdown(e->rt), EMU_OK);
    assert_int_equal(emu_violation_count(e->rt), 0);
}

/* Binding parameters belong to one protocol over one adapter. */
static void binding_parameters_are_per_binding(void **state)
{
    (void)state;
    im_env *e = &g_env;
    assert_int_equal(env_start(e, IMDRV_SO, IMDRV_DESC, 4, false, NULL, false), EMU_OK);
    /* another adapter's parameters: this NIC's binding sees none */
    assert_int_equal(emu_set_binding_param(e->rt, "IMDRVP", "loopnic0", "UpperBindings", ""),
                     EMU_OK);
    assert_int_equal(
        emu_set_binding_param(e->rt, "IMDRVP", "othernic", "UpperBindings", "\\Device\\" VM_A),
        EMU_OK);
    assert_int_equal(add_nic(e), EMU_OK);
    assert_int_equal(emu_run_until_idle(e->rt), EMU_OK);
    assert_int_equal(e->st->upper_bindings, 0);
    assert_int_equal(e->st->asked, 0);
    assert_int_equal(emu_remove_device(e->rt, e->ad), EMU_OK);
    assert_int_equal(emu_unload_driver(e->rt, e->im), EMU_OK);
    assert_int_equal(emu_shutdown(e->rt), EMU_OK);
    assert_int_equal(emu_violation_count(e->rt), 0);
}

static bool pt_io(im_env *e, uint32_t code, const void *in, size_t in_len, void *out,
                  size_t out_len)
{
    size_t ret;
    int32_t nt;
    if (!e->ctl && emu_ctl_open(e->rt, MINIPROT_DEVICE, &e->ctl))
        return false;
    return emu_ctl_ioctl(e->ctl, code, in, in_len, out, out_len, &ret, &nt) == EMU_OK && nt == 0;
}

static unsigned long long rx_on(im_env *e, emu_adapter *ad)
{
    uint32_t id = emu_adapter_id(ad);
    unsigned long long n = ~0ull;
    return pt_io(e, IOCTL_MINIPROT_BINDING_RX, &id, sizeof(id), &n, sizeof(n)) ? n : ~0ull;
}

/* n frames sent on the binding to `from`, addressed to MAC k_mac ^ 0x10 + to
 * in the last byte (virtual miniport `to`'s). */
static bool send_via(im_env *e, emu_adapter *from, unsigned to, unsigned n)
{
    uint32_t id = emu_adapter_id(from);
    if (!pt_io(e, IOCTL_MINIPROT_SELECT, &id, sizeof(id), NULL, 0))
        return false;
    for (unsigned i = 0; i < n; i++) {
        uint8_t f[96];
        memset(f, 0, sizeof(f));
        memcpy(f, k_mac, 6);
        f[5] ^= (uint8_t)(0x10 + to);
        memcpy(f + 6, k_mac, 6);
        f[12] = 0x88;
        f[13] = 0xB5;
        f[14] = (uint8_t)i;
        if (!pt_io(e, IOCTL_MINIPROT_SEND, f, sizeof(f), NULL, 0))
            return false;
    }
    return emu_run_until_idle(e->rt) == EMU_OK;
}

/* Frames down through the virtual miniports (NBL context, SourceHandle
 * kept) to the NIC and back up the one they are addressed to; the lower
 * binding's pause waits for sends in flight; a virtual miniport's own stack
 * restart. */
static void frames_pass_through_the_virtual_miniports(void **state)
{
    (void)state;
    im_env *e = &g_env;
    assert_int_equal(env_start(e, IMDRV_SO, IMDRV_DESC, 6, true, NULL, false), EMU_OK);
    assert_int_equal(emu_im_install_device(e->rt, "imdrv", VM_A, NULL), EMU_OK);
    assert_int_equal(emu_im_install_device(e->rt, "imdrv", VM_B, NULL), EMU_OK);
    assert_int_equal(emu_run_until_idle(e->rt), EMU_OK);
    emu_adapter *a = emu_find_adapter(e->rt, VM_A), *b = emu_find_adapter(e->rt, VM_B);
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(e->st->lower_restarts, 1);
    loopnic_stats l0, l1;
    loopnic_get_stats(e->nic, &l0);
    assert_true(send_via(e, a, 0, 8)); /* A to A */
    assert_true(send_via(e, a, 1, 5)); /* A to B */
    assert_true(send_via(e, b, 1, 3)); /* B to B */
    assert_true(send_via(e, b, 7, 2)); /* to nobody: dropped by the IM */
    loopnic_get_stats(e->nic, &l1);
    assert_int_equal(l1.tx_frames - l0.tx_frames, 18);
    assert_int_equal(e->st->frames_down, 18);
    assert_int_equal(rx_on(e, a), 8);
    assert_int_equal(rx_on(e, b), 8);
    assert_int_equal(e->st->frames_up, 16);
    assert_int_equal(e->st->frames_dropped, 2);
    /* the NIC's stack restarts: the IM's binding pauses and restarts, the
     * virtual miniports go on */
    assert_int_equal(emu_restart_stack(e->rt, e->ad), EMU_OK);
    assert_int_equal(e->st->lower_pauses, 1);
    assert_int_equal(e->st->lower_restarts, 2);
    assert_true(send_via(e, a, 1, 4));
    assert_int_equal(rx_on(e, b), 12);
    /* a virtual miniport's own stack restarts (the protocol above it pauses,
     * then the miniport) while frames come back up it */
    assert_true(send_via(e, b, 0, 3));
    assert_int_equal(emu_restart_stack(e->rt, a), EMU_OK);
    assert_true(send_via(e, b, 0, 3));
    assert_int_equal(rx_on(e, a), 14);
    uint32_t any = 0;
    assert_true(pt_io(e, IOCTL_MINIPROT_SELECT, &any, sizeof(any), NULL, 0));
    emu_ctl_close(e->ctl);
    e->ctl = NULL;
    assert_int_equal(emu_remove_device(e->rt, e->ad), EMU_OK);
    assert_int_equal(emu_unload_driver(e->rt, e->im), EMU_OK);
    assert_int_equal(emu_shutdown(e->rt), EMU_OK);
    assert_int_equal(emu_violation_count(e->rt), 0);
}

/* The system shuts down with the virtual miniports running: everything is
 * torn down in an order NDIS allows, nothing leaks. */
static void shutdown_with_virtual_miniports_running(void **state)
{
    (void)state;
    im_env *e = &g_env;
    assert_int_equal(env_start(e, IMDRV_SO, IMDRV_DESC, 5, true, NULL, false), EMU_OK);
    assert_int_equal(emu_im_install_device(e->rt, "imdrv", VM_A, NULL), EMU_OK);
    assert_int_equal(emu_im_install_device(e->rt, "imdrv", VM_B, NULL), EMU_OK);
    assert_int_equal(emu_run_until_idle(e->rt), EMU_OK);
    assert_true(running_virtual(e->rt, VM_A));
    assert_true(running_virtual(e->rt, VM_B));
    assert_int_equal(emu_shutdown(e->rt), EMU_OK);
    assert_int_equal(emu_violation_count(e->rt), 0);
    assert_int_equal(e->st->halts, 2);
}

typedef struct broken_im {
    const char *name; /* broken_im_<name> */
    const char *rule;
    const char *call;
} broken_im;

static const broken_im k_broken[] = {
    { "associate_outside_entry", "IMAssociateMiniport", "NdisIMAssociateMiniport" },
    { "not_associated", "IMDriver", "NdisIMInitializeDeviceInstanceEx" },
    { "no_im_flag", "IMDriver", "NdisIMInitializeDeviceInstanceEx" },
    { "cancel_without_init", "IMCancelInitialize", "NdisIMCancelInitializeDeviceInstance" },
    { "deinit_in_init", "IMDeInitialize", "NdisIMDeInitializeDeviceInstance" },
    { "init_under_lock", "Irql_IM_Function", "NdisIMInitializeDeviceInstanceEx" },
    { "stack_under_lock", "Irql_Interfaces_Function", "NdisIfAddIfStackEntry" },
};

/* Each broken variant, through the start and the removal, trips exactly its
 * rule (the run stops at the first violation). */
static void trips_exactly_its_rule(void **state)
{
    const broken_im *c = *state;
    char so[512], desc[512];
    snprintf(so, sizeof(so), "%s/broken_im_%s.so", IMDRV_DIR, c->name);
    snprintf(desc, sizeof(desc), "%s/broken_im_%s.desc", IMDRV_DESC_DIR, c->name);
    char service[128];
    snprintf(service, sizeof(service), "broken_im_%s", c->name);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        im_env *e = &g_env;
        int err = env_start(e, so, desc, seed, true, NULL, true);
        if (err == EMU_OK) {
            emu_im_install_device(e->rt, service, VM_A, NULL);
            emu_im_install_device(e->rt, service, VM_B, NULL);
            emu_run_until_idle(e->rt);
            if (e->ad && !emu_failed(e->rt))
                emu_remove_device(e->rt, e->ad);
            emu_shutdown(e->rt);
        }
        assert_true(emu_failed(e->rt));
        assert_int_equal(emu_violation_count(e->rt), 1);
        const emu_violation *v = emu_violation_get(e->rt, 0);
        if (strcmp(v->rule, c->rule) != 0 || strcmp(v->call, c->call) != 0)
            print_error("broken %s (seed %llu) tripped %s in %s: %s\n", c->name,
                        (unsigned long long)seed, v->rule, v->call, v->detail);
        assert_string_equal(v->rule, c->rule);
        assert_string_equal(v->call, c->call);
        env_finish(e);
    }
}

int main(void)
{
    struct CMUnitTest tests[6 + ARRAYSIZE(k_broken)];
    size_t n = 0;
    tests[n++] =
        (struct CMUnitTest)cmocka_unit_test_teardown(starts_installed_devices_when_asked, teardown);
    tests[n++] =
        (struct CMUnitTest)cmocka_unit_test_teardown(a_start_waits_for_the_device, teardown);
    tests[n++] =
        (struct CMUnitTest)cmocka_unit_test_teardown(a_cancelled_start_never_happens, teardown);
    tests[n++] =
        (struct CMUnitTest)cmocka_unit_test_teardown(binding_parameters_are_per_binding, teardown);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(
        shutdown_with_virtual_miniports_running, teardown);
    tests[n++] = (struct CMUnitTest)cmocka_unit_test_teardown(
        frames_pass_through_the_virtual_miniports, teardown);
    for (size_t i = 0; i < ARRAYSIZE(k_broken); i++) {
        struct CMUnitTest t = cmocka_unit_test_prestate_setup_teardown(
            trips_exactly_its_rule, NULL, teardown, (void *)&k_broken[i]);
        t.name = k_broken[i].name;
        tests[n++] = t;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
