/*
 * mssamples_ndisprot.c - Microsoft's ndisprot (NDIS 6.30 protocol, WDM
 * device) through its scenario (docs/mssamples.md), and through an NDIS
 * reset of the miniport under it. The IOCTL codes and the binding query's
 * layout are written here from protuser.h's documented values
 * (FILE_DEVICE_NETWORK, functions 0x200..0x205, METHOD_BUFFERED,
 * read|write access; NDISPROT_QUERY_BINDING is five ULONGs followed by the
 * names).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ndis.h>

#include "loopnic.h"
#include "mssamples_run.h"
#include "ndisemu/emu.h"

#define NPROT_IOCTL(fn) \
    CTL_CODE(FILE_DEVICE_NETWORK, fn, METHOD_BUFFERED, FILE_READ_ACCESS | FILE_WRITE_ACCESS)
#define NPROT_OPEN_DEVICE     NPROT_IOCTL(0x200)
#define NPROT_QUERY_OID_VALUE NPROT_IOCTL(0x201)
#define NPROT_QUERY_BINDING   NPROT_IOCTL(0x203)
#define NPROT_BIND_WAIT       NPROT_IOCTL(0x204)
/* ndisprot compares the frame's EtherType field, read as a little-endian
 * USHORT, with 0x8e88: 0x888e (802.1X) on the wire. */
#define NPROT_ETHERTYPE 0x888e

struct nprot_query_binding {
    uint32_t index, name_off, name_len, descr_off, descr_len;
};

struct io_result {
    bool done;
    int32_t status;
    size_t n;
    uint8_t data[1600];
};

static void io_done(void *ctx, int32_t ntstatus, const void *out, size_t returned)
{
    struct io_result *r = ctx;
    r->done = true;
    r->status = ntstatus;
    r->n = returned < sizeof(r->data) ? returned : sizeof(r->data);
    if (out && r->n)
        memcpy(r->data, out, r->n);
}

static void make_frame(uint8_t *f, size_t len, uint8_t seq)
{
    memset(f, 0, len);
    memcpy(f, k_mac, 6);     /* to the adapter itself: the loop NIC brings it back */
    memcpy(f + 6, k_mac, 6); /* from the adapter's own address */
    f[12] = NPROT_ETHERTYPE >> 8;
    f[13] = NPROT_ETHERTYPE & 0xff;
    for (size_t i = 14; i < len; i++)
        f[i] = (uint8_t)(seq + i);
}

/* ndisprot over ndisemu's minimal miniport on a loop NIC, bound, its device
 * opened and the binding opened (IOCTL_NDISPROT_OPEN_DEVICE); *h NULL when
 * a step failed. */
typedef struct nprot_world {
    emu_runtime *rt;
    loopnic *nic;
    emu_driver *pt;
    emu_ctl *h;
} nprot_world;

static int ndisprot_start(nprot_world *w, const char *so, const char *dir, uint64_t seed)
{
    char desc[512];
    memset(w, 0, sizeof(*w));
    /* ndisprot630.inf: a protocol, LowerRange "ndis5,ndis4,ndis5_prot", UpperRange noupper;
     * NdisRegisterProtocolDriver's Name is NDISPROT. */
    if (write_desc(dir, "ndisprot",
                   "service = ndisprot\n[protocol NDISPROT]\nlower = ndis5,ndis4,ndis5_prot\n"
                   "upper = noupper\n",
                   desc, sizeof(desc)))
        return 2;
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = seed, .report = stdout };
    if (emu_create(&cfg, &w->rt))
        return 2;
    emu_runtime *rt = w->rt;
    if (getenv("MSSAMPLES_TRACE"))
        emu_trace(rt, EMU_TRACE_TEXT, stdout);
    w->nic = loopnic_create(k_mac);
    emu_driver *mp = NULL;
    emu_adapter *ad = NULL;
    emu_device_desc dd;
    int err = emu_load_driver(rt, MSSAMPLES_MINIMP_SO, MSSAMPLES_MINIMP_DESC, &mp);
    step(!err, "load ndisemu's minimal miniport (minimp, loop NIC) [%s]", emu_strerror(err));
    loopnic_device_desc(w->nic, "loopnic0", &dd);
    dd.service = "minimp";
    err = err ? err : emu_add_device(rt, &dd, &ad);
    err = err ? err : emu_run_until_idle(rt);
    step(!err, "add the loop NIC [%s]", emu_strerror(err));
    err = err ? err : emu_load_driver(rt, so, desc, &w->pt);
    err = err ? err : emu_run_until_idle(rt);
    step(!err,
         "load ndisprot: DriverEntry (IoCreateDevice, IoCreateSymbolicLink, "
         "NdisRegisterProtocolDriver), bind [%s]",
         emu_strerror(err));
    emu_ctl *h = NULL;
    if (!err) {
        err = emu_ctl_open(rt, "\\Device\\Ndisprot", &h);
        step(!err, "open \\Device\\Ndisprot (IRP_MJ_CREATE) [%s]", emu_strerror(err));
    }
    int32_t nt = -1;
    size_t ret = 0;
    bool opened = false;
    if (h) {
        err = emu_ctl_ioctl(h, NPROT_BIND_WAIT, NULL, 0, NULL, 0, &ret, &nt);
        step(!err && nt == 0,
             "IOCTL_NDISPROT_BIND_WAIT returns (NetEventBindsComplete seen) "
             "[%s, status %#x]",
             emu_strerror(err), (unsigned)nt);
        uint8_t qb[512] = { 0 };
        err = emu_ctl_ioctl(h, NPROT_QUERY_BINDING, qb, sizeof(struct nprot_query_binding), qb,
                            sizeof(qb), &ret, &nt);
        struct nprot_query_binding b;
        memcpy(&b, qb, sizeof(b));
        bool qok = !err && nt == 0 && b.name_len > 0 && b.name_off + b.name_len <= ret;
        char name[128] = "";
        for (uint32_t i = 0; qok && i < b.name_len / 2 && i + 1 < sizeof(name); i++)
            name[i] = (char)qb[b.name_off + 2 * i];
        step(qok, "IOCTL_NDISPROT_QUERY_BINDING 0: \"%s\" [%s, status %#x]", name,
             emu_strerror(err), (unsigned)nt);
        if (qok) {
            err = emu_ctl_ioctl(h, NPROT_OPEN_DEVICE, qb + b.name_off, b.name_len, NULL, 0, &ret,
                                &nt);
            opened = !err && nt == 0;
            step(opened, "IOCTL_NDISPROT_OPEN_DEVICE [%s, status %#x]", emu_strerror(err),
                 (unsigned)nt);
        }
    }
    if (h && !opened)
        emu_ctl_close(h);
    w->h = opened ? h : NULL;
    return 0;
}

static void ndisprot_finish(nprot_world *w)
{
    emu_destroy(w->rt);
    loopnic_destroy(w->nic);
}

/* The NIC hangs; NDIS resets the minimal miniport (2.5 s, pended) and tells
 * ndisprot (NDIS_STATUS_RESET_START). A WriteFile in the middle of the
 * reset: ndisprot records NPROTO_RESET_IN_PROGRESS but its write path
 * tests only NPROTO_BIND_ACTIVE, so it sends, which the reset's status
 * page asks a protocol not to do: ndisemu reports ResetQuiet. The one
 * expected violation, in a runtime of its own. */
static int run_ndisprot_reset(const char *so, const char *dir, uint64_t seed)
{
    nprot_world w;
    int rc = ndisprot_start(&w, so, dir, seed);
    if (rc)
        return rc;
    if (w.h) {
        loopnic_fault(w.nic);
        emu_counters c;
        int err = emu_run_for(w.rt, 1500ull * 1000 * 1000); /* hang check: every second */
        emu_get_counters(w.rt, &c);
        step(!err && c.resets == 1,
             "the NIC hangs: NDIS resets the miniport, NDIS_STATUS_RESET_START to ndisprot "
             "[%s, %llu reset(s)]",
             emu_strerror(err), (unsigned long long)c.resets);
        uint8_t frame[100];
        make_frame(frame, sizeof(frame), 3);
        size_t ret = 0;
        int32_t nt = -1;
        emu_ctl_write(w.h, frame, sizeof(frame), &ret, &nt);
        const emu_violation *v = emu_violation_get(w.rt, 0);
        step(v && strcmp(v->rule, "ResetQuiet") == 0 &&
                 strcmp(v->call, "NdisSendNetBufferLists") == 0,
             "WriteFile during the reset: ndisprot sends anyway (it tests NPROTO_BIND_ACTIVE, "
             "not NPROTO_RESET_IN_PROGRESS): ResetQuiet reported, as expected [%s in %s]",
             v ? v->rule : "no violation", v ? v->call : "-");
        g_expected += v != NULL;
    }
    ndisprot_finish(&w);
    return 0;
}

int run_ndisprot(const char *so, const char *dir, uint64_t seed)
{
    nprot_world w;
    int started = ndisprot_start(&w, so, dir, seed);
    if (started)
        return started;
    emu_runtime *rt = w.rt;
    loopnic *nic = w.nic;
    emu_ctl *h = w.h;
    emu_driver *pt = w.pt;
    int err = 0;
    int32_t nt = -1;
    size_t ret = 0;
    if (h) {
        /* NDISPROT_QUERY_OID: Oid, PortNumber, then the data. */
        uint8_t q[8 + 6] = { 0 };
        uint32_t oid = 0x01010102; /* OID_802_3_CURRENT_ADDRESS */
        memcpy(q, &oid, 4);
        err = emu_ctl_ioctl(h, NPROT_QUERY_OID_VALUE, q, sizeof(q), q, sizeof(q), &ret, &nt);
        step(!err && nt == 0 && memcmp(q + 8, k_mac, 6) == 0,
             "IOCTL_NDISPROT_QUERY_OID_VALUE OID_802_3_CURRENT_ADDRESS = the NIC's MAC [%s, "
             "status %#x]",
             emu_strerror(err), (unsigned)nt);

        /* A read pended first, then a write: the frame goes out on the wire,
         * the loop NIC brings it back as a receive, and the read gets it. */
        loopnic_stats s0, s1;
        loopnic_get_stats(nic, &s0);
        struct io_result rd = { 0 };
        err = emu_ctl_read_async(h, 1514, io_done, &rd);
        emu_run_until_idle(rt);
        step(!err && !rd.done, "ReadFile pends (no frame yet) [%s]", emu_strerror(err));
        uint8_t frame[200];
        make_frame(frame, sizeof(frame), 7);
        err = emu_ctl_write(h, frame, sizeof(frame), &ret, &nt);
        emu_run_until_idle(rt);
        loopnic_get_stats(nic, &s1);
        step(!err && nt == 0 && ret == sizeof(frame) && s1.tx_frames == s0.tx_frames + 1,
             "WriteFile of a %zu-byte frame: on the wire (NIC sent %llu) [%s, status %#x, "
             "written %zu]",
             sizeof(frame), (unsigned long long)(s1.tx_frames - s0.tx_frames), emu_strerror(err),
             (unsigned)nt, ret);
        step(rd.done && rd.status == 0 && rd.n == sizeof(frame) &&
                 memcmp(rd.data, frame, sizeof(frame)) == 0,
             "the frame received back (NIC received %llu) completes the pended read: %zu bytes, "
             "identical [status %#x]",
             (unsigned long long)(s1.rx_frames - s0.rx_frames), rd.n, (unsigned)rd.status);

        /* A frame received with no read pending is queued; the next read gets it. */
        make_frame(frame, 64, 9);
        err = emu_ctl_write(h, frame, 64, &ret, &nt);
        emu_run_until_idle(rt);
        uint8_t buf[1514];
        int32_t rnt = -1;
        err = err ? err : emu_ctl_read(h, buf, sizeof(buf), &ret, &rnt);
        step(!err && rnt == 0 && ret == 64 && memcmp(buf, frame, 64) == 0,
             "a frame received while no read was pending is queued and read later: %zu bytes "
             "[%s, status %#x]",
             ret, emu_strerror(err), (unsigned)rnt);

        /* A pending read cancelled (CancelIoEx): its cancel routine completes it. */
        struct io_result rc = { 0 };
        err = emu_ctl_read_async(h, 1514, io_done, &rc);
        emu_run_until_idle(rt);
        bool pended = !rc.done && emu_ctl_pending(h) == 1;
        err = err ? err : emu_ctl_cancel(h);
        emu_run_until_idle(rt);
        step(pended && rc.done && rc.status == (int32_t)STATUS_CANCELLED,
             "CancelIoEx on a pending read: completed STATUS_CANCELLED [%s, status %#x]",
             emu_strerror(err), (unsigned)rc.status);

        /* A read left pending at close: IRP_MJ_CLEANUP must end it. */
        struct io_result rl = { 0 };
        emu_ctl_read_async(h, 1514, io_done, &rl);
        emu_run_until_idle(rt);
        emu_ctl_close(h);
        emu_run_until_idle(rt);
        step(rl.done && !emu_failed(rt),
             "CloseHandle with a read pending: cleanup completes it "
             "(status %#x), close",
             (unsigned)rl.status);
    }
    if (pt) {
        err = emu_unload_driver(rt, pt);
        step(!err,
             "unload ndisprot: unbind, DriverUnload (IoDeleteSymbolicLink, "
             "IoDeleteDevice, NdisDeregisterProtocolDriver) [%s]",
             emu_strerror(err));
    }
    err = emu_shutdown(rt);
    step(!err && emu_violation_count(rt) == 0,
         "shutdown: halt, unload, leak checks [%s, %zu "
         "violation(s)]",
         emu_strerror(err), emu_violation_count(rt));
    ndisprot_finish(&w);
    return run_ndisprot_reset(so, dir, seed);
}
