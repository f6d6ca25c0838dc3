/*
 * main.c - vfo-real: vfo.sys in ndisemu on real devices, inside a Linux
 * guest (docs/realdev.md).
 *
 * ndisemu runs with the real-time scheduler and its verifier. vfo.so drives
 * the guest's virtio-net PCI function itself (emu/real/pcireal: uio_pci_generic
 * with hugepage DMA and INTx, or vfio-pci behind an IOMMU with IOVAs and
 * MSI-X, whichever the guest offers); once vfo acknowledges VIRTIO_NET_F_STANDBY, QEMU
 * hot-plugs the failover primary (an e1000e), whose Linux interface becomes
 * the wire of the VF that vfo pairs with (vf.c); tapprot binds to vfo's
 * miniport and hands its frames to the guest kernel's TCP/IP through TAP
 * "vfo0". The timeline (the VF's arrival, link and removal, vfo's PAIR
 * changes) is printed as it happens; counters go to a status file. Runs
 * until SIGINT/SIGTERM (or --seconds), then removes everything in order and
 * reports the verifier's verdict: exit 0 only when it stayed clean.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "real.h"

#define VIRTIO_VENDOR     0x1af4
#define VIRTIO_NET_MODERN 0x1041
#define POLL_NS           100000000ull  /* 100 ms */
#define DMA_IOVA_BASE     0x40000000ull /* VFIO: clear of the MSI window at 0xfee00000 */

static volatile sig_atomic_t g_stop, g_fault;

static void on_signal(int sig)
{
    if (sig == SIGUSR1)
        g_fault = 1;
    else
        g_stop = 1;
}

void real_event(real *r, const char *what, const char *fmt, ...)
{
    char detail[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    double t = (double)(emu_now_ns(r->rt) - r->t0) / 1e9;
    pthread_mutex_lock(&r->out_mu);
    printf("[%9.3f] %-10s %s\n", t, what, detail);
    fflush(stdout);
    pthread_mutex_unlock(&r->out_mu);
}

static void usage(void)
{
    fprintf(stderr,
            "usage: vfo-real [--lib-dir DIR] [--vf-range ndis5|ndisvf] [--bdf DOMAIN:BUS:DEV.FN]\n"
            "                [--route auto|uio|vfio] [--vf-if IFNAME] [--status FILE]\n"
            "                [--hugepages N] [--seconds S]\n");
}

static int parse(int argc, char **argv, real_opts *o)
{
    o->lib_dir = VFO_REAL_LIB_DIR;
    o->vf_range = "ndis5";
    o->status_path = "/run/vfo-real.status";
    o->hugepages = 8;
    o->route = "auto";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            usage();
            return -1;
        }
        if (!strcmp(a, "--lib-dir"))
            o->lib_dir = v;
        else if (!strcmp(a, "--vf-range") && (!strcmp(v, "ndis5") || !strcmp(v, "ndisvf")))
            o->vf_range = v;
        else if (!strcmp(a, "--route") &&
                 (!strcmp(v, "auto") || !strcmp(v, "uio") || !strcmp(v, "vfio")))
            o->route = v;
        else if (!strcmp(a, "--bdf"))
            o->bdf = v;
        else if (!strcmp(a, "--vf-if"))
            o->vf_if = v;
        else if (!strcmp(a, "--status"))
            o->status_path = v;
        else if (!strcmp(a, "--hugepages") && atoi(v) > 0)
            o->hugepages = (unsigned)atoi(v);
        else if (!strcmp(a, "--seconds") && atof(v) > 0)
            o->seconds = atof(v);
        else {
            usage();
            return -1;
        }
        i++;
    }
    return 0;
}

static int load(real *r, const char *so, const char *desc)
{
    char so_path[512], desc_path[512];
    snprintf(so_path, sizeof(so_path), "%s/%s", r->o.lib_dir, so);
    snprintf(desc_path, sizeof(desc_path), "%s/%s", r->o.lib_dir, desc);
    int err = emu_load_driver(r->rt, so_path, desc_path, NULL);
    if (err)
        fprintf(stderr, "vfo-real: cannot load %s (%s): %s\n", so_path, desc_path,
                emu_strerror(err));
    return err;
}

/* The DMA route the guest offers for the function: VFIO when it sits
 * behind an IOMMU (uio's physical addresses would not reach memory there),
 * uio otherwise; --route forces one. */
static emu_pcireal_route choose_route(real *r, const char *bdf)
{
    if (!strcmp(r->o.route, "vfio"))
        return EMU_PCIREAL_VFIO;
    if (!strcmp(r->o.route, "uio"))
        return EMU_PCIREAL_UIO;
    return emu_pcireal_behind_iommu(bdf) ? EMU_PCIREAL_VFIO : EMU_PCIREAL_UIO;
}

/* Binds the function to the route's driver, opens it and makes its DMA memory. */
static int open_virtio(real *r, const char *bdf, emu_pcireal_route route)
{
    char err[256];
    bool vfio = route == EMU_PCIREAL_VFIO;
    if (vfio ? emu_pcireal_bind_vfio(bdf, err, sizeof(err))
             : emu_pcireal_bind_uio(bdf, err, sizeof(err))) {
        fprintf(stderr, "vfo-real: %s route: %s\n", vfio ? "VFIO" : "uio", err);
        return -1;
    }
    if (!vfio) {
        r->dma = emu_hugedma_create(r->o.hugepages, err, sizeof(err));
        if (!r->dma) {
            fprintf(stderr, "vfo-real: uio route: DMA memory: %s\n", err);
            return -1;
        }
    }
    r->pci = emu_pcireal_open(bdf, route, err, sizeof(err));
    if (!r->pci) {
        fprintf(stderr, "vfo-real: %s route: %s\n", vfio ? "VFIO" : "uio", err);
        return -1;
    }
    if (vfio) {
        r->dma = emu_hugedma_create_mapped(r->o.hugepages, DMA_IOVA_BASE, emu_pcireal_map_dma,
                                           r->pci, err, sizeof(err));
        if (!r->dma) {
            fprintf(stderr, "vfo-real: VFIO route: DMA memory: %s\n", err);
            return -1;
        }
    }
    emu_pcireal_set_dma(r->pci, emu_hugedma_ops(r->dma));
    return 0;
}

/* The virtio-net function, its DMA memory, and vfo on it. */
static int plug_virtio(real *r)
{
    char bdf[64];
    if (r->o.bdf)
        snprintf(bdf, sizeof(bdf), "%s", r->o.bdf);
    else if (emu_pcireal_find(VIRTIO_VENDOR, VIRTIO_NET_MODERN, bdf, sizeof(bdf))) {
        fprintf(stderr, "vfo-real: no virtio-net PCI function (1af4:1041) in /sys/bus/pci\n");
        return -1;
    }
    emu_pcireal_route route = choose_route(r, bdf);
    if (open_virtio(r, bdf, route))
        return -1;
    emu_device_desc desc;
    emu_pcireal_device_desc(r->pci, "virtio0", &desc);
    if (route == EMU_PCIREAL_VFIO)
        real_event(r, "VIRTIO",
                   "%s on vfio-pci (route vfio: IOMMU, %u MiB of DMA memory at IOVA %#llx, %u "
                   "MSI-X vectors): adding",
                   bdf, r->o.hugepages * 2, (unsigned long long)DMA_IOVA_BASE, desc.msix_vectors);
    else
        real_event(r, "VIRTIO",
                   "%s on uio_pci_generic (route uio: %u hugepage(s) of DMA memory, INTx): adding",
                   bdf, r->o.hugepages);
    int e = emu_add_device(r->rt, &desc, NULL);
    if (e) {
        fprintf(stderr, "vfo-real: vfo on %s: %s\n", bdf, emu_strerror(e));
        return -1;
    }
    real_event(r, "VIRTIO", "virtio0 initialized by vfo");
    return 0;
}

static int setup(real *r)
{
    emu_config cfg = { .sched = EMU_SCHED_REALTIME, .workers = 3 };
    int err = emu_create(&cfg, &r->rt);
    if (err) {
        fprintf(stderr, "vfo-real: ndisemu: %s\n", emu_strerror(err));
        return -1;
    }
    r->t0 = emu_now_ns(r->rt);
    const char *vf_desc = strcmp(r->o.vf_range, "ndisvf") ? "vfnic.desc" : "vfnic_ndisvf.desc";
    if (load(r, "vfo.so", "vfo.desc") || load(r, "vfnic.so", vf_desc) ||
        load(r, "tapprot.so", "tapprot.desc"))
        return -1;
    r->sw = emu_switch_create();
    r->vf_port = r->sw ? emu_switch_add_port(r->sw, "vf") : NULL;
    r->wire_port = r->sw ? emu_switch_add_port(r->sw, "wire") : NULL;
    if (!r->vf_port || !r->wire_port)
        return -1;
    if (plug_virtio(r))
        return -1;
    if (real_pairs_start(r)) {
        fprintf(stderr, "vfo-real: vfo's control device did not open\n");
        return -1;
    }
    r->watch = emu_netwatch_start(r->rt, real_vf_event, r);
    if (!r->watch) {
        fprintf(stderr, "vfo-real: rtnetlink: %s\n", strerror(errno));
        return -1;
    }
    return 0;
}

static void run(real *r)
{
    uint64_t until = r->o.seconds > 0 ? emu_now_ns(r->rt) + (uint64_t)(r->o.seconds * 1e9) : 0;
    unsigned tick = 0, fault_ticks = 0;
    while (!g_stop && !emu_failed(r->rt) && (!until || emu_now_ns(r->rt) < until)) {
        emu_run_for(r->rt, POLL_NS);
        real_pairs_poll(r, ++tick % 3 == 0); /* counters refreshed every 300 ms */
        if (tick % 20 == 0)
            real_vf_stats(r);
        if (g_fault) {
            g_fault = 0;
            fault_ticks = real_fault_request(r);
        } else if (fault_ticks && --fault_ticks == 0) {
            real_fault_report(r);
        }
    }
    real_fault_report(r);
}

/* Removes everything in order; 0 when the verifier stayed clean. */
static int teardown(real *r)
{
    if (!r->rt)
        return 1;
    real_event(r, "STOP", "removing adapters, unloading drivers");
    if (r->watch)
        emu_netwatch_stop(r->watch);
    real_pairs_poll(r, true);
    real_pairs_stop(r);
    real_vf_unwire(r);
    int err = emu_shutdown(r->rt);
    size_t n = emu_violation_count(r->rt);
    for (size_t i = 0; i < n; i++) {
        const emu_violation *v = emu_violation_get(r->rt, i);
        printf("VERIFIER %s in %s: %s\n", v->rule, v->call, v->detail);
    }
    emu_counters c;
    emu_get_counters(r->rt, &c);
    emu_pcireal_stats ps = { 0 };
    if (r->pci)
        emu_pcireal_get_stats(r->pci, &ps);
    printf("vfo-real: verifier %s (%zu violation(s)); interrupts %llu (from the device %llu, "
           "INTx re-armed %llu, masked MSI-X %llu), bad DMA %llu, bad register accesses %llu, "
           "config errors %llu\n",
           n || err ? "FAILED" : "clean", n, (unsigned long long)c.interrupts,
           (unsigned long long)ps.interrupts, (unsigned long long)ps.rearms,
           (unsigned long long)ps.masked, (unsigned long long)c.bad_dma,
           (unsigned long long)ps.bad_access, (unsigned long long)ps.cfg_errors);
    fflush(stdout);
    emu_destroy(r->rt);
    real_vf_teardown(r);
    emu_pcireal_close(r->pci);
    emu_hugedma_destroy(r->dma);
    emu_switch_destroy(r->sw);
    return n || err ? 1 : 0;
}

int main(int argc, char **argv)
{
    static real r;
    if (parse(argc, argv, &r.o))
        return 2;
    pthread_mutex_init(&r.out_mu, NULL);
    pthread_mutex_init(&r.vf_mu, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (setup(&r) == 0) {
        real_event(&r, "READY", "vfo on virtio0, waiting for the failover primary");
        run(&r);
    }
    return teardown(&r);
}
