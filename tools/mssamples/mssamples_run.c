/*
 * mssamples_run - one of Microsoft's NDIS samples through its scenario in
 * ndisemu, deterministic scheduler, verifier on:
 *
 *   mssamples_run <sample> <sample.so> <work dir> [seed]
 *
 * Prints one line per step and a last line "<n> steps, verifier clean";
 * exits 0 only when every step passed and no rule tripped (through the
 * final emu_shutdown's leak checks), but for a violation a step expects,
 * in a runtime of its own (ndisprot during a reset: "as expected"), which
 * the last line then counts.
 *
 * The samples' own headers are not used: the IOCTL codes and structure
 * layouts of their user interfaces are written here from their documented
 * values (ndisprot's protuser.h: FILE_DEVICE_NETWORK, functions 0x200..0x205,
 * METHOD_BUFFERED, read|write access; NDISPROT_QUERY_BINDING is five ULONGs
 * followed by the names; the filter sample's filteruser.h: FILE_DEVICE_
 * PHYSICAL_NETCARD, functions 0..13, METHOD_BUFFERED, any access; the
 * instance list is USHORT length + name, repeated).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndis.h>

#include "loopnic.h"
#include "miniprot.h"
#include "ndisemu/emu.h"
#include "ndisemu/emu_netcfg.h"
#include "mssamples_run.h"

int g_steps, g_failed;
int g_expected; /* violations a step expected, each in its own runtime */

void step(bool ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    g_steps++;
    if (!ok)
        g_failed++;
}

const uint8_t k_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

int write_desc(const char *dir, const char *name, const char *text, char *path, size_t n)
{
    snprintf(path, n, "%s/%s.desc", dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    fclose(f);
    return 0;
}

/* ---- filter (NDIS 6.30 lightweight filter, modifying, mandatory) ---- */

#define FLT_IOCTL(fn) \
    CTL_CODE(0x17 /* FILE_DEVICE_PHYSICAL_NETCARD */, fn, METHOD_BUFFERED, FILE_ANY_ACCESS)
#define FLT_RESTART_ONE         FLT_IOCTL(1) /* in: a module name as the list gives it */
#define FLT_ENUMERATE_INSTANCES FLT_IOCTL(2)
#define FLT_SERVICE             "ndislwf"

/* n frames from the test protocol to the NIC's own address; the loop NIC
 * brings each back. True when all came back up to the protocol. */
static bool traffic(emu_runtime *rt, emu_ctl *pt, unsigned n, unsigned long long *received)
{
    miniprot_stats st0, st1;
    size_t ret;
    int32_t nt;
    if (emu_ctl_ioctl(pt, IOCTL_MINIPROT_STATS, NULL, 0, &st0, sizeof(st0), &ret, &nt))
        return false;
    for (unsigned i = 0; i < n; i++) {
        uint8_t f[128];
        memset(f, 0, sizeof(f));
        memcpy(f, k_mac, 6);
        memcpy(f + 6, k_mac, 6);
        f[12] = 0x88;
        f[13] = 0xB5;
        f[14] = (uint8_t)i;
        if (emu_ctl_ioctl(pt, IOCTL_MINIPROT_SEND, f, sizeof(f), NULL, 0, &ret, &nt) || nt)
            return false;
    }
    emu_run_until_idle(rt);
    if (emu_ctl_ioctl(pt, IOCTL_MINIPROT_STATS, NULL, 0, &st1, sizeof(st1), &ret, &nt))
        return false;
    *received = st1.received - st0.received;
    return *received == n;
}

static bool stack_has(emu_runtime *rt, emu_adapter *ad, const char *service)
{
    const char *names[8];
    int n = emu_filter_stack(rt, ad, names, 8);
    for (int i = 0; i < n && i < 8; i++)
        if (strcmp(names[i], service) == 0)
            return true;
    return false;
}

static int run_filter(const char *so, const char *dir, uint64_t seed)
{
    char desc[512];
    /* netlwf.inf: service NdisLwf, FilterClass compression, FilterType 2
     * (modifying), FilterRunType 1 (mandatory), FilterMediaTypes
     * "ethernet, wan, ppip". */
    if (write_desc(dir, FLT_SERVICE,
                   "service = " FLT_SERVICE "\n[filter]\nclass = compression\ntype = modifying\n"
                   "runtype = mandatory\nmedia = ethernet,wan,ppip\n",
                   desc, sizeof(desc)))
        return 2;
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = seed, .report = stdout };
    emu_runtime *rt;
    if (emu_create(&cfg, &rt))
        return 2;
    if (getenv("MSSAMPLES_TRACE"))
        emu_trace(rt, EMU_TRACE_TEXT, stdout);
    loopnic *nic = loopnic_create(k_mac);
    emu_driver *mp = NULL, *pt = NULL, *flt = NULL;
    emu_adapter *ad = NULL;
    emu_device_desc dd;
    int err = emu_load_driver(rt, MSSAMPLES_MINIMP_SO, MSSAMPLES_MINIMP_DESC, &mp);
    err = err ? err : emu_load_driver(rt, MSSAMPLES_MINIPROT_SO, MSSAMPLES_MINIPROT_DESC, &pt);
    step(!err, "load ndisemu's minimal miniport and test protocol [%s]", emu_strerror(err));
    err = err ? err : emu_load_driver(rt, so, desc, &flt);
    err = err ? err : emu_run_until_idle(rt);
    step(!err,
         "load the filter: DriverEntry (NdisFRegisterFilterDriver, NdisRegisterDeviceEx) "
         "[%s]",
         emu_strerror(err));
    loopnic_device_desc(nic, "loopnic0", &dd);
    dd.service = "minimp";
    err = err ? err : emu_add_device(rt, &dd, &ad);
    err = err ? err : emu_run_until_idle(rt);
    step(!err && ad && stack_has(rt, ad, FLT_SERVICE),
         "add the loop NIC: the filter attaches over it (FilterAttach, FilterRestart), the "
         "protocol binds above [%s]",
         emu_strerror(err));
    emu_ctl *ptc = NULL, *fc = NULL;
    unsigned long long got = 0;
    bool ok;
    if (!err)
        err = emu_ctl_open(rt, MINIPROT_DEVICE, &ptc);
    if (ptc) {
        ok = traffic(rt, ptc, 20, &got);
        step(ok,
             "20 frames sent and received through the filter (%llu "
             "came back)",
             got);
        err = emu_ctl_open(rt, "\\Device\\NDISLWF", &fc);
        step(!err, "open the filter's control device \\Device\\NDISLWF [%s]", emu_strerror(err));
    }
    if (fc) {
        uint8_t buf[1024];
        size_t ret = 0;
        int32_t nt = -1;
        err = emu_ctl_ioctl(fc, FLT_ENUMERATE_INSTANCES, NULL, 0, buf, sizeof(buf), &ret, &nt);
        unsigned short l0 = 0;
        if (ret >= 2)
            memcpy(&l0, buf, 2);
        char name[80] = "";
        for (unsigned i = 0; i < l0 / 2 && i + 1 < sizeof(name) && 2 + 2 * i < ret; i++)
            name[i] = (char)buf[2 + 2 * i];
        step(!err && nt == 0 && ret >= 2 && l0 > 0 && ret == 2u + l0,
             "IOCTL_FILTER_ENUMERATE_ALL_INSTANCES: one module \"%s\" [%s, status %#x]", name,
             emu_strerror(err), (unsigned)nt);
        miniprot_stats s0, s1;
        emu_ctl_ioctl(ptc, IOCTL_MINIPROT_STATS, NULL, 0, &s0, sizeof(s0), &ret, &nt);
        err = emu_ctl_ioctl(fc, FLT_RESTART_ONE, buf + 2, l0, NULL, 0, &ret, &nt);
        emu_run_until_idle(rt);
        emu_ctl_ioctl(ptc, IOCTL_MINIPROT_STATS, NULL, 0, &s1, sizeof(s1), &ret, &nt);
        step(!err && s1.pauses > s0.pauses && s1.restarts > s0.restarts &&
                 stack_has(rt, ad, FLT_SERVICE),
             "IOCTL_FILTER_RESTART_ONE_INSTANCE (NdisFRestartFilter): the stack paused and "
             "restarted, "
             "the protocol saw %llu pause(s), %llu restart(s) [%s]",
             s1.pauses - s0.pauses, s1.restarts - s0.restarts, emu_strerror(err));
        ok = traffic(rt, ptc, 10, &got);
        step(ok, "10 frames after the restart (%llu came back)", got);
        emu_ctl_close(fc);
    }
    if (ptc) {
        err = emu_filter_set_path(rt, FLT_SERVICE, "loopnic0", false);
        emu_run_until_idle(rt);
        step(!err && !stack_has(rt, ad, FLT_SERVICE),
             "detach at run time (FilterPause, FilterDetach; the binding above paused and "
             "restarted) [%s]",
             emu_strerror(err));
        ok = traffic(rt, ptc, 10, &got);
        step(ok, "10 frames with the filter detached (%llu came back)", got);
        err = emu_filter_set_path(rt, FLT_SERVICE, "loopnic0", true);
        emu_run_until_idle(rt);
        step(!err && stack_has(rt, ad, FLT_SERVICE), "attach again at run time [%s]",
             emu_strerror(err));
        ok = traffic(rt, ptc, 10, &got);
        step(ok, "10 frames through the filter again (%llu came back)", got);
        emu_ctl_close(ptc);
    }
    if (ad) {
        err = emu_remove_device(rt, ad);
        emu_run_until_idle(rt);
        step(!err, "remove the NIC: unbind, FilterDetach, halt [%s]", emu_strerror(err));
    }
    if (flt) {
        err = emu_unload_driver(rt, flt);
        step(!err,
             "unload the filter: FilterUnload (NdisDeregisterDeviceEx, "
             "NdisFDeregisterFilterDriver) [%s]",
             emu_strerror(err));
    }
    err = emu_shutdown(rt);
    step(!err && emu_violation_count(rt) == 0,
         "shutdown: unload, leak checks [%s, %zu violation(s)]", emu_strerror(err),
         emu_violation_count(rt));
    emu_destroy(rt);
    loopnic_destroy(nic);
    return 0;
}

/* ---- netvmini ---- */

#define NVM_SERVICE "netvmini"

static bool nvm_stats(emu_ctl *pt, miniprot_stats *st)
{
    size_t ret;
    int32_t nt;
    return emu_ctl_ioctl(pt, IOCTL_MINIPROT_STATS, NULL, 0, st, sizeof(*st), &ret, &nt) == 0 &&
           nt == 0;
}

/* n broadcast frames from the test protocol's sending binding; the
 * scheduler is not run, so they may still be in the miniport. */
static bool nvm_send(emu_ctl *pt, unsigned n)
{
    size_t ret;
    int32_t nt;
    for (unsigned i = 0; i < n; i++) {
        uint8_t f[100];
        memset(f, 0, sizeof(f));
        memset(f, 0xff, 6);
        memcpy(f + 6, k_mac, 6);
        f[12] = 0x88;
        f[13] = 0xB5;
        f[14] = (uint8_t)i;
        if (emu_ctl_ioctl(pt, IOCTL_MINIPROT_SEND, f, sizeof(f), NULL, 0, &ret, &nt) || nt)
            return false;
    }
    return true;
}

/* n frames (nvm_send), then everything runs; returns how many the
 * protocol received (on any binding). */
static bool nvm_traffic(emu_runtime *rt, emu_ctl *pt, unsigned n, unsigned long long *received)
{
    miniprot_stats st0, st1;
    if (!nvm_stats(pt, &st0) || !nvm_send(pt, n))
        return false;
    emu_run_until_idle(rt);
    if (!nvm_stats(pt, &st1))
        return false;
    *received = st1.received - st0.received;
    return *received == n;
}

/* An OID request through the test protocol (its first open binding):
 * status, and the buffer as the miniport left it. */
static int nvm_oid(emu_ctl *pt, unsigned type, unsigned oid, const void *in, unsigned in_len,
                   unsigned buf_len, void *out, size_t out_len)
{
    uint8_t req[sizeof(miniprot_oid) + 64];
    uint8_t res[sizeof(miniprot_oid_result) + 256];
    miniprot_oid o = { .type = type, .oid = oid, .buf_len = buf_len, .in_len = in_len };
    memcpy(req, &o, sizeof(o));
    if (in_len)
        memcpy(req + sizeof(o), in, in_len);
    size_t ret = 0;
    int32_t nt;
    if (emu_ctl_ioctl(pt, IOCTL_MINIPROT_OID, req, sizeof(o) + in_len, res, sizeof(res), &ret,
                      &nt) ||
        nt || ret < sizeof(miniprot_oid_result))
        return -1;
    miniprot_oid_result r;
    memcpy(&r, res, sizeof(r));
    if (out)
        memcpy(out, res + sizeof(r), out_len < ret - sizeof(r) ? out_len : ret - sizeof(r));
    return r.status;
}

/* NDIS resets netvmini0 (emu_request_reset: as after a hang check that
 * returned TRUE) right after 8 sends, before its simulated NIC completed
 * them all: its MPResetEx completes the sends it queued
 * (NDIS_STATUS_RESET_IN_PROGRESS) and pends the reset until its NIC is
 * idle, which ndisemu's ResetWithOutstanding (NDIS 6.30) checks;
 * ProtocolStatusEx sees RESET_START and RESET_END, and every send comes
 * back to the protocol. */
static void nvm_reset(emu_runtime *rt, emu_ctl *ptc, emu_adapter *ad)
{
    miniprot_stats st0, st1;
    emu_counters c0, c1;
    emu_get_counters(rt, &c0);
    /* the scheduler does not run meanwhile: netvmini's send-complete
     * timer has not fired when the reset is queued */
    bool ok = nvm_stats(ptc, &st0) && nvm_send(ptc, 8);
    int err = ok ? emu_request_reset(rt, ad, NULL, NULL) : EMU_ERR_INVAL;
    ok = ok && !err && emu_run_until_idle(rt) == EMU_OK && nvm_stats(ptc, &st1);
    emu_get_counters(rt, &c1);
    unsigned long long sent = st1.sent - st0.sent, good = st1.send_ok - st0.send_ok,
                       failed = st1.send_failed - st0.send_failed,
                       held = c1.reset_held_sends - c0.reset_held_sends;
    step(ok && c1.resets - c0.resets == 1 && st1.resets - st0.resets == 1 && sent == 8 &&
             good + failed == sent && emu_violation_count(rt) == 0,
         "NDIS resets netvmini0 right after 8 sends: RESET_START and _END to the protocol; "
         "netvmini held %llu of them as MPResetEx began and completed every one before the "
         "reset ended (%llu sent OK, %llu failed back) [%s, %llu reset(s), %zu violation(s)]",
         held, good, failed, emu_strerror(err), (unsigned long long)(c1.resets - c0.resets),
         emu_violation_count(rt));
    unsigned long long got = 0;
    bool ok2 = nvm_traffic(rt, ptc, 10, &got);
    step(ok2, "10 frames after the reset (%llu received)", got);
}

static int run_netvmini(const char *so, const char *dir, uint64_t seed)
{
    char desc[512];
    /* netvmini630.inf: a root-enumerated (root\\NetVMini630) Ethernet
     * adapter, UpperRange ndis5, LowerRange ethernet. */
    if (write_desc(dir, NVM_SERVICE,
                   "service = " NVM_SERVICE "\n[miniport]\nupper = ndis5\nlower = ethernet\n"
                   "pnpid = root\\NetVMini630\n",
                   desc, sizeof(desc)))
        return 2;
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = seed, .report = stdout };
    emu_runtime *rt;
    if (emu_create(&cfg, &rt))
        return 2;
    if (getenv("MSSAMPLES_TRACE"))
        emu_trace(rt, EMU_TRACE_TEXT, stdout);
    emu_driver *nvm = NULL, *pt = NULL;
    emu_adapter *ad[2] = { NULL, NULL };
    int err = emu_load_driver(rt, so, desc, &nvm);
    err = err ? err : emu_run_until_idle(rt);
    step(!err,
         "load netvmini: DriverEntry (NdisInitializeNPagedLookasideList, "
         "NdisMRegisterMiniportDriver) [%s]",
         emu_strerror(err));
    err = err ? err : emu_load_driver(rt, MSSAMPLES_MINIPROT_SO, MSSAMPLES_MINIPROT_DESC, &pt);
    step(!err, "load ndisemu's test protocol (miniprot) [%s]", emu_strerror(err));
    for (int i = 0; i < 2 && !err; i++) {
        emu_device_desc dd;
        memset(&dd, 0, sizeof(dd));
        dd.instance = i ? "netvmini1" : "netvmini0";
        dd.pnp_id = "root\\NetVMini630"; /* no device model: root-enumerated */
        err = emu_add_device(rt, &dd, &ad[i]);
        err = err ? err : emu_run_until_idle(rt);
        step(!err,
             "add root-enumerated adapter %s (no PCI device): MiniportInitializeEx, "
             "MiniportRestart, the protocol binds [%s]",
             dd.instance, emu_strerror(err));
    }
    emu_ctl *ptc = NULL;
    unsigned long long got = 0;
    if (!err)
        err = emu_ctl_open(rt, MINIPROT_DEVICE, &ptc);
    if (ptc) {
        miniprot_stats st;
        bool ok = nvm_stats(ptc, &st) && st.bound == 2;
        step(ok, "the protocol has a binding to each adapter (%u)", ok ? st.bound : 0);
        /* The protocol sends on its first binding (netvmini0) and opens each
         * binding with no packet filter: netvmini1's binding gets one
         * (directed + broadcast) while it is the only binding, then
         * netvmini0's comes back (binding path off and on). */
        uint32_t id0 = emu_adapter_id(ad[0]);
        err = emu_netcfg_set_path(rt, "MINIPROT", id0, false);
        emu_run_until_idle(rt);
        ULONG filter = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_BROADCAST;
        size_t ret;
        int32_t nt = -1;
        if (!err)
            err = emu_ctl_ioctl(ptc, IOCTL_MINIPROT_SET_FILTER, &filter, sizeof(filter), NULL, 0,
                                &ret, &nt);
        step(!err && nt == 0,
             "OID set OID_GEN_CURRENT_PACKET_FILTER (directed, broadcast) on netvmini1 "
             "[%s, status %#x]",
             emu_strerror(err), (unsigned)nt);
        err = err ? err : emu_netcfg_set_path(rt, "MINIPROT", id0, true);
        emu_run_until_idle(rt);
        step(!err && nvm_stats(ptc, &st) && st.bound == 2,
             "the protocol binds to netvmini0 again, with no packet filter [%s]",
             emu_strerror(err));
        uint8_t mac0[6] = { 0 }, mac1[6] = { 0 };
        int s0 = nvm_oid(ptc, NdisRequestQueryInformation, OID_802_3_CURRENT_ADDRESS, NULL, 0, 6,
                         mac0, 6);
        int s1 = nvm_oid(ptc, NdisRequestQueryInformation, OID_802_3_PERMANENT_ADDRESS, NULL, 0, 6,
                         mac1, 6);
        step(s0 == 0 && s1 == 0 && memcmp(mac0, mac1, 6) == 0 && (mac0[0] & 1) == 0,
             "OID queries OID_802_3_CURRENT_ADDRESS and _PERMANENT_ADDRESS on netvmini0: "
             "%02x:%02x:%02x:%02x:%02x:%02x [%#x, %#x]",
             mac0[0], mac0[1], mac0[2], mac0[3], mac0[4], mac0[5], (unsigned)s0, (unsigned)s1);
        ULONG speed = 0, mcast[1] = { 0 };
        int s2 = nvm_oid(ptc, NdisRequestQueryInformation, OID_GEN_MAXIMUM_TOTAL_SIZE, NULL, 0,
                         sizeof(speed), &speed, sizeof(speed));
        uint8_t mc[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
        int s3 =
            nvm_oid(ptc, NdisRequestSetInformation, OID_802_3_MULTICAST_LIST, mc, 6, 6, NULL, 0);
        (void)mcast;
        step(s2 == 0 && speed >= 1514 && s3 == 0,
             "OID query OID_GEN_MAXIMUM_TOTAL_SIZE (%u) and set OID_802_3_MULTICAST_LIST [%#x, "
             "%#x]",
             (unsigned)speed, (unsigned)s2, (unsigned)s3);
        /* The sending binding is netvmini0's: its transmit counter moves by
         * the frames sent, its receive counter not (the hub does not give a
         * frame back to its sender, and its binding has no filter). */
        ULONG64 tx0 = 0, tx1 = 0, rx0 = 0, rx1 = 0;
        int q0 = nvm_oid(ptc, NdisRequestQueryInformation, OID_GEN_XMIT_OK, NULL, 0, 8, &tx0, 8);
        int q1 = nvm_oid(ptc, NdisRequestQueryInformation, OID_GEN_RCV_OK, NULL, 0, 8, &rx0, 8);
        bool ok2 = nvm_traffic(rt, ptc, 20, &got);
        int q2 = nvm_oid(ptc, NdisRequestQueryInformation, OID_GEN_XMIT_OK, NULL, 0, 8, &tx1, 8);
        int q3 = nvm_oid(ptc, NdisRequestQueryInformation, OID_GEN_RCV_OK, NULL, 0, 8, &rx1, 8);
        ok2 = ok2 && (q0 | q1 | q2 | q3) == 0 && tx1 - tx0 == 20 && rx1 == rx0;
        step(ok2,
             "20 broadcast frames sent on netvmini0 reach netvmini1 through netvmini's "
             "software hub (%llu received; netvmini0's OID_GEN_XMIT_OK +%llu, OID_GEN_RCV_OK "
             "+%llu)",
             got, (unsigned long long)(tx1 - tx0), (unsigned long long)(rx1 - rx0));
        err = emu_restart_stack(rt, ad[1]);
        emu_run_until_idle(rt);
        miniprot_stats st2;
        step(!err && nvm_stats(ptc, &st2) && st2.pauses > st.pauses && st2.restarts > st.restarts,
             "pause and restart netvmini1 (MiniportPause, MiniportRestart; the binding pauses "
             "and restarts) [%s]",
             emu_strerror(err));
        ok2 = nvm_traffic(rt, ptc, 10, &got);
        step(ok2, "10 frames after the restart (%llu received)", got);
        err = emu_set_power(rt, ad[1], 3);
        emu_run_until_idle(rt);
        step(!err, "netvmini1 to D3 (pause, OID_PNP_SET_POWER D3) [%s]", emu_strerror(err));
        ok2 = nvm_traffic(rt, ptc, 5, &got);
        step(got == 0, "5 frames while netvmini1 sleeps: none received (%llu)", got);
        err = emu_set_power(rt, ad[1], 0);
        emu_run_until_idle(rt);
        step(!err, "netvmini1 back to D0 (OID_PNP_SET_POWER D0, restart) [%s]", emu_strerror(err));
        /* The binding's packet filter survives the sleep (NDIS restores
         * what the protocol set) */
        ok2 = nvm_traffic(rt, ptc, 10, &got);
        step(ok2, "10 frames after the wake (%llu received)", got);
        nvm_reset(rt, ptc, ad[0]);
        emu_ctl_close(ptc);
    }
    for (int i = 0; i < 2; i++) {
        if (!ad[i])
            continue;
        err = emu_remove_device(rt, ad[i]);
        emu_run_until_idle(rt);
        step(!err, "remove netvmini%d: unbind, MiniportHaltEx [%s]", i, emu_strerror(err));
    }
    if (nvm) {
        err = emu_unload_driver(rt, nvm);
        step(!err,
             "unload netvmini: MiniportDriverUnload (NdisDeleteNPagedLookasideList, "
             "NdisMDeregisterMiniportDriver) [%s]",
             emu_strerror(err));
    }
    err = emu_shutdown(rt);
    step(!err && emu_violation_count(rt) == 0,
         "shutdown: unload, leak checks [%s, %zu violation(s)]", emu_strerror(err),
         emu_violation_count(rt));
    emu_destroy(rt);
    return 0;
}

/* ---- mux ---- */

/* The two VELANs of the scenario: device instance names (what the notify
 * object of the sample writes to the protocol's UpperBindings as
 * \Device\<name>) and their locally administered MAC addresses (registry
 * NetworkAddress, which the sample's MiniportInitializeEx reads). */
#define MUX_SERVICE "mux"
#define MUX_PROT    "MUXP"
static const char *const k_velan[2] = { "{5E1A0001-0000-4D55-5800-000000000001}",
                                        "{5E1A0001-0000-4D55-5800-000000000002}" };
static const char *const k_velan_reg[2][2] = { { "NetworkAddress=02000000A001", NULL },
                                               { "NetworkAddress=02000000B001", NULL } };
static const uint8_t k_velan_mac[2][6] = { { 0x02, 0, 0, 0, 0xA0, 0x01 },
                                           { 0x02, 0, 0, 0, 0xB0, 0x01 } };

static bool mux_select(emu_ctl *pt, uint32_t ifindex)
{
    size_t ret;
    int32_t nt;
    return emu_ctl_ioctl(pt, IOCTL_MINIPROT_SELECT, &ifindex, sizeof(ifindex), NULL, 0, &ret,
                         &nt) == EMU_OK &&
           nt == 0;
}

static unsigned long long mux_rx(emu_ctl *pt, uint32_t ifindex)
{
    unsigned long long n = 0;
    size_t ret;
    int32_t nt;
    if (emu_ctl_ioctl(pt, IOCTL_MINIPROT_BINDING_RX, &ifindex, sizeof(ifindex), &n, sizeof(n), &ret,
                      &nt) ||
        nt)
        return ~0ull;
    return n;
}

/* n frames sent on the VELAN with IfIndex from (from its MAC) to dst. */
static bool mux_send(emu_runtime *rt, emu_ctl *pt, uint32_t from, const uint8_t src[6],
                     const uint8_t dst[6], unsigned n)
{
    size_t ret;
    int32_t nt;
    if (!mux_select(pt, from))
        return false;
    for (unsigned i = 0; i < n; i++) {
        uint8_t f[128];
        memset(f, 0, sizeof(f));
        memcpy(f, dst, 6);
        memcpy(f + 6, src, 6);
        f[12] = 0x88;
        f[13] = 0xB5;
        f[14] = (uint8_t)i;
        if (emu_ctl_ioctl(pt, IOCTL_MINIPROT_SEND, f, sizeof(f), NULL, 0, &ret, &nt) || nt)
            return false;
    }
    emu_run_until_idle(rt);
    return true;
}

static bool if_stack_has(emu_runtime *rt, uint32_t higher, uint32_t lower)
{
    emu_if_stack_entry e[16];
    size_t n = emu_if_stack(rt, e, 16);
    for (size_t i = 0; i < n && i < 16; i++)
        if (e[i].higher == higher && e[i].lower == lower)
            return true;
    return false;
}

static unsigned live_velans(emu_runtime *rt, emu_adapter *v[2])
{
    unsigned n = 0;
    for (int i = 0; i < 2; i++) {
        v[i] = emu_find_adapter(rt, k_velan[i]);
        if (v[i] && strcmp(emu_adapter_state(v[i]), "running") == 0 && emu_adapter_is_virtual(v[i]))
            n++;
        else
            v[i] = NULL;
    }
    return n;
}

static unsigned miniprot_bound(emu_ctl *pt)
{
    miniprot_stats st;
    size_t ret;
    int32_t nt;
    if (emu_ctl_ioctl(pt, IOCTL_MINIPROT_STATS, NULL, 0, &st, sizeof(st), &ret, &nt))
        return ~0u;
    return st.bound;
}

/* The test protocol's packet filter on each VELAN (directed, broadcast:
 * mux keeps it per VELAN, the NIC promiscuous), and each VELAN's MAC. */
static bool mux_filters(emu_runtime *rt, emu_ctl *ptc, emu_adapter *v[2], uint8_t mac[2][6])
{
    size_t ret;
    int32_t nt;
    bool ok = true;
    for (int i = 0; i < 2; i++) {
        ULONG f = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_BROADCAST;
        ok =
            ok && mux_select(ptc, emu_adapter_id(v[i])) &&
            emu_ctl_ioctl(ptc, IOCTL_MINIPROT_SET_FILTER, &f, sizeof(f), NULL, 0, &ret, &nt) ==
                EMU_OK &&
            nt == 0 &&
            emu_ctl_ioctl(ptc, IOCTL_MINIPROT_QUERY_MAC, NULL, 0, mac[i], 6, &ret, &nt) == EMU_OK &&
            nt == 0 && memcmp(mac[i], k_velan_mac[i], 6) == 0;
    }
    emu_run_until_idle(rt);
    return ok;
}

/* Each VELAN receives what is addressed to it and nothing else: n frames
 * from VELAN a to each VELAN's MAC. */
static bool mux_traffic(emu_runtime *rt, emu_ctl *pt, emu_adapter *v[2], loopnic *nic, unsigned n,
                        char *what, size_t wn)
{
    uint32_t id[2] = { emu_adapter_id(v[0]), emu_adapter_id(v[1]) };
    loopnic_stats l0, l1;
    loopnic_get_stats(nic, &l0);
    unsigned long long a0 = mux_rx(pt, id[0]), b0 = mux_rx(pt, id[1]);
    bool ok = mux_send(rt, pt, id[0], k_velan_mac[0], k_velan_mac[0], n);
    unsigned long long a1 = mux_rx(pt, id[0]), b1 = mux_rx(pt, id[1]);
    ok = ok && mux_send(rt, pt, id[1], k_velan_mac[1], k_velan_mac[1], n);
    unsigned long long a2 = mux_rx(pt, id[0]), b2 = mux_rx(pt, id[1]);
    ok = ok && mux_send(rt, pt, id[0], k_velan_mac[0], k_velan_mac[1], n);
    unsigned long long a3 = mux_rx(pt, id[0]), b3 = mux_rx(pt, id[1]);
    loopnic_get_stats(nic, &l1);
    snprintf(what, wn,
             "A->A: A got %llu, B %llu; B->B: A %llu, B %llu; A->B: A %llu, B %llu; "
             "NIC sent %llu",
             a1 - a0, b1 - b0, a2 - a1, b2 - b1, a3 - a2, b3 - b2,
             (unsigned long long)(l1.tx_frames - l0.tx_frames));
    return ok && a1 - a0 == n && b1 == b0 && a2 == a1 && b2 - b1 == n && a3 == a2 && b3 - b2 == n &&
           l1.tx_frames - l0.tx_frames == 3ull * n;
}

/* How many times the trace of a run step shows a callback (a "cb" line
 * naming it). */
static unsigned trace_count(const char *trace, const char *name)
{
    unsigned n = 0;
    for (const char *p = trace; p && (p = strstr(p, name)); p += strlen(name))
        n++;
    return n;
}

static int run_mux(const char *so, const char *dir, uint64_t seed)
{
    char desc[512];
    /* mux_mp.inf: the virtual miniport MS_MUXMP (UpperRange ndis5, LowerRange
     * ethernet); muxp.inf: the protocol MS_MUXP (service MUXP, LowerRange ndis5,
     * UpperRange noupper); one mux.sys for both, the protocol's Name "MUXP". */
    if (write_desc(dir, MUX_SERVICE,
                   "service = " MUX_SERVICE "\n[miniport]\nupper = ndis5\nlower = ethernet\n"
                   "[protocol " MUX_PROT "]\nlower = ndis5\nupper = noupper\n",
                   desc, sizeof(desc)))
        return 2;
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = seed, .report = stdout };
    emu_runtime *rt;
    if (emu_create(&cfg, &rt))
        return 2;
    if (getenv("MSSAMPLES_TRACE"))
        emu_trace(rt, EMU_TRACE_TEXT, stdout);
    loopnic *nic = loopnic_create(k_mac);
    emu_driver *mp = NULL, *pt = NULL, *mux = NULL;
    emu_adapter *ad = NULL, *v[2] = { NULL, NULL };
    emu_device_desc dd;
    int err = emu_load_driver(rt, MSSAMPLES_MINIMP_SO, MSSAMPLES_MINIMP_DESC, &mp);
    loopnic_device_desc(nic, "loopnic0", &dd);
    dd.service = "minimp";
    err = err ? err : emu_add_device(rt, &dd, &ad);
    err = err ? err : emu_load_driver(rt, MSSAMPLES_MINIPROT_SO, MSSAMPLES_MINIPROT_DESC, &pt);
    /* The test protocol talks through the VELANs only (its binding to the
     * physical NIC disabled, as the sample's notify object can do). */
    err = err ? err : emu_netcfg_set_path(rt, "MINIPROT", emu_adapter_id(ad), false);
    err = err ? err : emu_run_until_idle(rt);
    step(!err,
         "load ndisemu's minimal miniport on the loop NIC and the test protocol (not bound "
         "to the NIC) [%s]",
         emu_strerror(err));
    char ub[256];
    snprintf(ub, sizeof(ub), "\\Device\\%s,\\Device\\%s", k_velan[0], k_velan[1]);
    err = err ? err : emu_set_binding_param(rt, MUX_PROT, "loopnic0", "UpperBindings", ub);
    err = err ? err : emu_load_driver(rt, so, desc, &mux);
    err = err ? err : emu_run_until_idle(rt);
    unsigned n = live_velans(rt, v);
    step(!err && n == 0,
         "load mux: DriverEntry (NdisMRegisterMiniportDriver, NdisRegisterProtocolDriver, "
         "NdisIMAssociateMiniport); MUXP binds to the NIC, reads UpperBindings (two VELANs) and "
         "calls NdisIMInitializeDeviceInstanceEx for each; not installed yet: none starts "
         "[%s, %u running]",
         emu_strerror(err), n);
    for (int i = 0; i < 2 && !err; i++)
        err = emu_im_install_device(rt, MUX_SERVICE, k_velan[i], k_velan_reg[i]);
    err = err ? err : emu_run_until_idle(rt);
    emu_ctl *ptc = NULL;
    if (!err)
        err = emu_ctl_open(rt, MINIPROT_DEVICE, &ptc);
    n = live_velans(rt, v);
    unsigned bound = ptc ? miniprot_bound(ptc) : 0;
    uint32_t nic_id = emu_adapter_id(ad);
    bool stacked = n == 2 && if_stack_has(rt, emu_adapter_id(v[0]), nic_id) &&
                   if_stack_has(rt, emu_adapter_id(v[1]), nic_id);
    step(
        !err && n == 2 && bound == 2 && stacked,
        "install the two VELAN devices (the notify object's part): NDIS calls MiniportInitializeEx "
        "with each VELAN's context, restarts them, the test protocol binds to both "
        "(%u bound); NdisIfAddIfStackEntry put each over the NIC in the interface stack "
        "(%s) [%s]",
        bound, stacked ? "yes" : "no", emu_strerror(err));
    if (n == 2 && ptc) {
        size_t ret;
        int32_t nt;
        uint8_t mac[2][6];
        bool ok = mux_filters(rt, ptc, v, mac);
        step(ok,
             "each VELAN: packet filter set (mux sets the NIC promiscuous), its own MAC from the "
             "registry's NetworkAddress (%02x:..:%02x:%02x, %02x:..:%02x:%02x)",
             mac[0][0], mac[0][4], mac[0][5], mac[1][0], mac[1][4], mac[1][5]);
        ULONG media = 99;
        ok = mux_select(ptc, emu_adapter_id(v[1])) &&
             emu_ctl_ioctl(ptc, IOCTL_MINIPROT_QUERY_MEDIA, NULL, 0, &media, sizeof(media), &ret,
                           &nt) == EMU_OK &&
             nt == 0 && media == 0 /* NdisMediaStateConnected */;
        step(ok,
             "OID pass-through: OID_GEN_MEDIA_CONNECT_STATUS on a VELAN goes down to the NIC's "
             "miniport and back (connected) [status %#x]",
             (unsigned)nt);
        char what[256];
        ok = mux_traffic(rt, ptc, v, nic, 10, what, sizeof(what));
        step(ok,
             "frames down through mux to the NIC and back up to the VELAN they are addressed "
             "to, 10 each way: %s",
             what);
        miniprot_stats s0, s1;
        emu_ctl_ioctl(ptc, IOCTL_MINIPROT_STATS, NULL, 0, &s0, sizeof(s0), &ret, &nt);
        /* Only MUXP is bound to the NIC: every ProtocolNetPnPEvent of the
         * stack restart is its binding's. */
        char *trace = NULL;
        size_t trace_len = 0;
        FILE *tf = getenv("MSSAMPLES_TRACE") ? NULL : open_memstream(&trace, &trace_len);
        if (tf)
            emu_trace(rt, EMU_TRACE_TEXT, tf);
        err = emu_restart_stack(rt, ad);
        emu_run_until_idle(rt);
        if (tf) {
            emu_trace(rt, EMU_TRACE_OFF, NULL);
            fclose(tf);
        }
        unsigned pnp = trace_count(trace, "ProtocolNetPnPEvent"),
                 mpause = trace_count(trace, "MiniportPause");
        free(trace);
        emu_ctl_ioctl(ptc, IOCTL_MINIPROT_STATS, NULL, 0, &s1, sizeof(s1), &ret, &nt);
        ok = !err && (getenv("MSSAMPLES_TRACE") || (pnp == 2 && mpause == 1)) &&
             s1.pauses == s0.pauses && mux_traffic(rt, ptc, v, nic, 5, what, sizeof(what));
        step(ok,
             "pause and restart of the NIC's stack: MUXP's binding gets NetEventPause and "
             "NetEventRestart (%u ProtocolNetPnPEvent, %u MiniportPause), the VELANs go on "
             "running (the test protocol above saw %llu pause); then 5 frames each way: %s [%s]",
             pnp, mpause, s1.pauses - s0.pauses, what, emu_strerror(err));
        /* Unbinding MUXP from the NIC (the path disabled): its
         * ProtocolUnbindAdapterEx calls NdisIMDeInitializeDeviceInstance for
         * each VELAN: the test protocol unbinds from them, they halt. */
        err = emu_netcfg_set_path(rt, MUX_PROT, nic_id, false);
        emu_run_until_idle(rt);
        n = live_velans(rt, v);
        bound = miniprot_bound(ptc);
        emu_if_stack_entry e[4];
        size_t ns = emu_if_stack(rt, e, 4);
        step(!err && n == 0 && bound == 0 && ns == 0,
             "unbind MUXP from the NIC: NdisIMDeInitializeDeviceInstance for each VELAN (the "
             "test protocol unbinds, MiniportHaltEx, NdisIfDeleteIfStackEntry); %u VELAN(s) "
             "left, %u binding(s), %zu stack entries [%s]",
             n, bound, ns, emu_strerror(err));
        err = emu_netcfg_set_path(rt, MUX_PROT, nic_id, true);
        emu_run_until_idle(rt);
        n = live_velans(rt, v);
        bound = miniprot_bound(ptc);
        ok = !err && n == 2 && bound == 2 && mux_filters(rt, ptc, v, mac) &&
             mux_traffic(rt, ptc, v, nic, 5, what, sizeof(what));
        step(ok,
             "bind again: both VELANs start again, the protocol binds, 5 frames each way: %s [%s]",
             n == 2 ? what : "-", emu_strerror(err));
        mux_select(ptc, 0);
        emu_ctl_close(ptc);
    }
    if (ad) {
        err = emu_remove_device(rt, ad);
        emu_run_until_idle(rt);
        n = live_velans(rt, v);
        step(!err && n == 0,
             "remove the NIC: MUXP unbinds, the VELANs are deinitialized and halt [%s, %u left]",
             emu_strerror(err), n);
    }
    if (mux) {
        err = emu_unload_driver(rt, mux);
        step(!err,
             "unload mux: MiniportDriverUnload (NdisDeregisterProtocolDriver, "
             "NdisMDeregisterMiniportDriver) [%s]",
             emu_strerror(err));
    }
    err = emu_shutdown(rt);
    step(!err && emu_violation_count(rt) == 0,
         "shutdown: unload, leak checks [%s, %zu violation(s)]", emu_strerror(err),
         emu_violation_count(rt));
    emu_destroy(rt);
    loopnic_destroy(nic);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: %s <sample> <sample.so> <work dir> [seed]\n", argv[0]);
        return 2;
    }
    uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 0) : 1;
    int rc;
    if (strcmp(argv[1], "ndisprot") == 0) {
        rc = run_ndisprot(argv[2], argv[3], seed);
    } else if (strcmp(argv[1], "netvmini") == 0) {
        rc = run_netvmini(argv[2], argv[3], seed);
    } else if (strcmp(argv[1], "filter") == 0) {
        rc = run_filter(argv[2], argv[3], seed);
    } else if (strcmp(argv[1], "mux") == 0) {
        rc = run_mux(argv[2], argv[3], seed);
    } else {
        printf("FAIL no scenario for sample %s yet\n", argv[1]);
        return 1;
    }
    if (rc)
        return rc;
    if (g_failed) {
        printf("%d of %d steps FAILED\n", g_failed, g_steps);
        return 1;
    }
    if (g_expected)
        printf("%d steps, verifier clean but for %d expected violation(s)\n", g_steps, g_expected);
    else
        printf("%d steps, verifier clean\n", g_steps);
    return 0;
}
