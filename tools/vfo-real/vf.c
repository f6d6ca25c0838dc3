/*
 * vf.c - the failover primary on real hardware: the guest kernel's NIC (the
 * e1000e QEMU hot-plugs once vfo acknowledges STANDBY) becomes the wire of
 * an emulated SR-IOV VF (emu/dev/vfdev) that the VF miniport (vfnic) drives.
 * The interface's arrival is a PnP arrival, its carrier the VF's link, its
 * disappearance (the guest kernel's ACPI hotplug ejects it without asking
 * user space) a surprise removal: what Windows would do with a VF.
 */
#include <string.h>

#include "real.h"

#define VF_INSTANCE_FMT "vf-%s"

static char g_instance[40];

/* Platform work: the VF's link follows the interface's carrier. Carrier
 * changes that came while the adapter was still being added are applied
 * now: a link change between the miniport's first read of the link and
 * its interrupt being connected would be lost (as on real hardware). */
static void apply_link(void *ctx)
{
    real *r = ctx;
    pthread_mutex_lock(&r->vf_mu);
    if (r->vf.dev && r->vf.ad)
        emu_vfdev_set_link(r->vf.dev, r->vf.link_up);
    pthread_mutex_unlock(&r->vf_mu);
}

static void added(void *ctx, int status)
{
    real *r = ctx;
    pthread_mutex_lock(&r->vf_mu);
    r->vf.ad = status == EMU_OK ? emu_find_adapter(r->rt, g_instance) : NULL;
    pthread_mutex_unlock(&r->vf_mu);
    real_event(r, "VF_ADDED", "%s: %s", g_instance, status ? emu_strerror(status) : "bound");
    emu_schedule(r->rt, 0, apply_link, r);
}

static void print_stats(real *r, bool force);

static void removed(void *ctx, int status)
{
    real *r = ctx;
    print_stats(r, true); /* the last figures of this VF's wire */
    pthread_mutex_lock(&r->vf_mu);
    emu_netport_close(r->vf.port);
    r->vf.port = NULL;
    /* Only a removal that finished lets go of the device: one the verifier
     * stopped (or that failed) leaves the adapter, and with it the device's
     * registers and DMA, to ndisemu until emu_destroy; real_vf_teardown
     * destroys the device after that. */
    if (status == EMU_OK) {
        emu_vfdev_destroy(r->vf.dev);
        memset(&r->vf, 0, sizeof(r->vf));
    } else {
        r->vf.ad = NULL; /* stays plugged: no new VF over a device still held */
    }
    pthread_mutex_unlock(&r->vf_mu);
    real_event(r, "VF_REMOVED", "%s: %s", g_instance, status ? emu_strerror(status) : "halted");
}

static bool is_candidate(real *r, const emu_netwatch_event *ev)
{
    if (r->o.vf_if)
        return strcmp(ev->ifname, r->o.vf_if) == 0;
    return r->have_mac && memcmp(ev->mac, r->mac, 6) == 0 && strcmp(ev->ifname, "vfo0") != 0;
}

static void plug(real *r, const emu_netwatch_event *ev)
{
    char err[200];
    emu_vfdev_cfg cfg;
    memset(&cfg, 0, sizeof(cfg));
    cfg.model = EMU_VF_X540;
    memcpy(cfg.mac, ev->mac, 6);
    cfg.link_up = ev->up;
    real_vf *vf = &r->vf;
    vf->dev = emu_vfdev_create(&cfg);
    if (!vf->dev) {
        real_event(r, "VF_ERROR", "%s: no memory for the VF", ev->ifname);
        return;
    }
    emu_vfdev_set_port(vf->dev, r->vf_port);
    vf->port = emu_netport_open(r->rt, ev->ifname, r->wire_port, err, sizeof(err));
    if (!vf->port) {
        real_event(r, "VF_ERROR", "%s", err);
        emu_vfdev_destroy(vf->dev);
        vf->dev = NULL;
        return;
    }
    snprintf(vf->ifname, sizeof(vf->ifname), "%s", ev->ifname);
    vf->ifindex = ev->ifindex;
    vf->plugged = true;
    vf->link_up = ev->up;
    snprintf(g_instance, sizeof(g_instance), VF_INSTANCE_FMT, ev->ifname);
    emu_device_desc desc;
    emu_vfdev_device_desc(vf->dev, g_instance, &desc);
    real_event(r, "VF_ARRIVAL", "%s ifindex %d (RTM_NEWLINK), carrier %s: PnP arrival of %s",
               ev->ifname, ev->ifindex, ev->up ? "up" : "down", g_instance);
    int e = emu_request_add_device(r->rt, &desc, added, r);
    if (e)
        real_event(r, "VF_ERROR", "adding %s: %s", g_instance, emu_strerror(e));
}

void real_vf_event(void *ctx, const emu_netwatch_event *ev)
{
    real *r = ctx;
    pthread_mutex_lock(&r->vf_mu);
    real_vf *vf = &r->vf;
    bool ours = vf->plugged && vf->ifindex == ev->ifindex;
    switch (ev->kind) {
    case EMU_NETIF_PRESENT:
        if (!vf->plugged && is_candidate(r, ev))
            plug(r, ev);
        break;
    case EMU_NETIF_CARRIER:
        if (ours && vf->link_up != ev->up) {
            vf->link_up = ev->up;
            real_event(r, "VF_LINK", "%s carrier %s", vf->ifname, ev->up ? "up" : "down");
            if (vf->ad) /* else: applied once the adapter is there (apply_link) */
                emu_vfdev_set_link(vf->dev, ev->up);
        }
        break;
    case EMU_NETIF_GONE:
        if (ours && vf->ad) {
            real_event(r, "VF_GONE", "%s (RTM_DELLINK): surprise removal", vf->ifname);
            emu_vfdev_pull(vf->dev);
            emu_adapter *ad = vf->ad;
            vf->ad = NULL;
            vf->ifindex = -1;
            emu_request_remove(r->rt, ad, true, removed, r);
        }
        break;
    }
    pthread_mutex_unlock(&r->vf_mu);
}

void real_vf_stats(real *r)
{
    print_stats(r, false);
}

static void print_stats(real *r, bool force)
{
    static uint64_t last;
    pthread_mutex_lock(&r->vf_mu);
    if (r->vf.dev && r->vf.port) {
        emu_vfdev_stats vs;
        emu_netport_stats ns;
        emu_vfdev_get_stats(r->vf.dev, &vs);
        emu_netport_get_stats(r->vf.port, &ns);
        uint64_t sum = vs.tx_frames + vs.tx_refused + vs.bad_doorbells + ns.tx_frames +
                       ns.tx_refused + ns.tx_errors;
        if (sum != last || force) {
            last = sum;
            real_event(r, "VF_STATS",
                       "%s: vf tx %llu refused %llu lost %llu bad doorbells %llu; wire tx %llu "
                       "refused %llu unconfirmed %llu errors %llu rx %llu",
                       r->vf.ifname, (unsigned long long)vs.tx_frames,
                       (unsigned long long)vs.tx_refused, (unsigned long long)vs.tx_lost,
                       (unsigned long long)vs.bad_doorbells, (unsigned long long)ns.tx_frames,
                       (unsigned long long)ns.tx_refused, (unsigned long long)ns.tx_unconfirmed,
                       (unsigned long long)ns.tx_errors, (unsigned long long)ns.rx_frames);
        }
    }
    pthread_mutex_unlock(&r->vf_mu);
}

void real_vf_unwire(real *r)
{
    /* Before the runtime goes: its receive thread schedules platform work. */
    pthread_mutex_lock(&r->vf_mu);
    emu_netport_close(r->vf.port);
    r->vf.port = NULL;
    pthread_mutex_unlock(&r->vf_mu);
}

void real_vf_teardown(real *r)
{
    /* After emu_destroy: nothing of ndisemu refers to the device any more. */
    emu_vfdev_destroy(r->vf.dev);
    memset(&r->vf, 0, sizeof(r->vf));
}
