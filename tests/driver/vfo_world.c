/*
 * vfo_world.c - see vfo_world.h.
 */
#include "vfo_world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint64_t vw_last_pnp_ns;

void vw_mac(unsigned i, uint8_t mac[6])
{
    static const uint8_t base[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    memcpy(mac, base, 6);
    mac[5] = (uint8_t)(mac[5] + i);
}

int vw_start(vfo_world *w, uint64_t seed)
{
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC, .seed = seed };
    return vw_start_cfg(w, &cfg, NULL);
}

/* The runtime of the world started last and not yet destroyed. A test
 * whose assertion failed jumped out without vw_destroy: its runtime still
 * holds NDIS's one global, and every later test's emu_create would fail
 * (EMU_ERR_BUSY), hiding their own results. The next start destroys it
 * (its device models leak: they may still be attached to it). */
static emu_runtime *g_live_rt;

int vw_start_cfg(vfo_world *w, const emu_config *cfg, const char *mp_desc)
{
    memset(w, 0, sizeof(*w));
    if (g_live_rt) {
        fprintf(stderr, "vfo_world: a previous test left its runtime (it failed?): destroyed\n");
        emu_destroy(g_live_rt);
        g_live_rt = NULL;
    }
    int err = emu_create(cfg, &w->rt);
    if (!err)
        g_live_rt = w->rt;
    if (!err && getenv("VW_TRACE"))
        emu_trace(w->rt, EMU_TRACE_TEXT, stderr);
    if (!err)
        err = emu_load_driver(w->rt, VFO_SO, NULL, &w->vfo);
    if (!err)
        err = emu_load_driver(w->rt, MINIMP_SO, mp_desc, &w->mp);
    if (!err)
        err = emu_load_driver(w->rt, MINIPROT_SO, NULL, &w->pt);
    if (!err)
        err = emu_run_until_idle(w->rt);
    /* vfo's control device comes with its first adapter: vw_ctl opens it. */
    if (!err)
        err = emu_ctl_open(w->rt, MINIPROT_DEVICE, &w->pt_ctl);
    return err;
}

int vw_add_virtio(vfo_world *w, unsigned i, const vnet_pci_opts *o, const char *const *extra_reg)
{
    vnet_pci_opts def = { .standby = true, .loopback = true };
    unsigned n = 0;
    if (!o) {
        vw_mac(i, def.mac);
        o = &def;
    }
    if (!w->vn[i])
        w->vn[i] = vnet_pci_create(o);
    if (!w->vn[i])
        return EMU_ERR_NOMEM;
    snprintf(w->vn_name[i], sizeof(w->vn_name[i]), "virtio%u", i);
    snprintf(w->vn_reg[i], sizeof(w->vn_reg[i]),
             "NetCfgInstanceId={0E5B2C41-9D3A-4F7B-8C12-6A4E1B9D3C7%u}", i);
    w->vn_regs[i][n++] = w->vn_reg[i];
    for (unsigned k = 0; extra_reg && extra_reg[k] && n < 3; k++)
        w->vn_regs[i][n++] = extra_reg[k];
    w->vn_regs[i][n] = NULL;
    vnet_pci_desc(w->vn[i], w->vn_name[i], w->vn_regs[i], &w->vn_desc[i]);
    int err = emu_add_device(w->rt, &w->vn_desc[i], &w->vfo_ad[i]);
    return err ? err : emu_run_until_idle(w->rt);
}

int vw_remove_virtio(vfo_world *w, unsigned i, bool surprise)
{
    int err = surprise ? emu_surprise_remove(w->rt, w->vfo_ad[i])
                       : emu_remove_device(w->rt, w->vfo_ad[i]);
    w->vfo_ad[i] = NULL;
    return err ? err : emu_run_until_idle(w->rt);
}

int vw_plug_vf(vfo_world *w, unsigned i, const uint8_t mac[6])
{
    if (!w->vf[i])
        w->vf[i] = loopnic_create(mac);
    if (!w->vf[i])
        return EMU_ERR_NOMEM;
    snprintf(w->vf_name[i], sizeof(w->vf_name[i]), "{5A1F0C3E-7B2D-4E8A-9C61-0D4B3A2E1F0%u}", i);
    loopnic_device_desc(w->vf[i], w->vf_name[i], &w->vf_desc[i]);
    w->vf_desc[i].service = emu_driver_service(w->mp);
    uint64_t t0 = emu_now_ns(w->rt);
    int err = emu_add_device(w->rt, &w->vf_desc[i], &w->vf_ad[i]);
    vw_last_pnp_ns = emu_now_ns(w->rt) - t0;
    if (!err) {
        err = emu_netcfg_set_path(w->rt, "MINIPROT", emu_adapter_id(w->vf_ad[i]), false);
        if (err == EMU_ERR_NOTFOUND) /* an ndisvf VF: the test protocol has no path to it */
            err = EMU_OK;
    }
    return err;
}

int vw_add_vf(vfo_world *w, unsigned i, const uint8_t mac[6])
{
    int err = vw_plug_vf(w, i, mac);
    return err ? err : emu_run_until_idle(w->rt);
}

int vw_remove_vf(vfo_world *w, unsigned i, bool surprise)
{
    uint64_t t0 = emu_now_ns(w->rt);
    int err =
        surprise ? emu_surprise_remove(w->rt, w->vf_ad[i]) : emu_remove_device(w->rt, w->vf_ad[i]);
    vw_last_pnp_ns = emu_now_ns(w->rt) - t0;
    w->vf_ad[i] = NULL;
    return err ? err : emu_run_until_idle(w->rt);
}

emu_ctl *vw_ctl(vfo_world *w)
{
    if (!w->ctl && emu_ctl_open(w->rt, "vfo", &w->ctl) != EMU_OK)
        w->ctl = NULL;
    return w->ctl;
}

int vw_pairs(vfo_world *w, struct vfo_ctl_pairs *p)
{
    struct vfo_ctl_request rq = { VFO_CTL_ABI_VERSION, sizeof(rq), 0 };
    size_t ret = 0;
    int32_t nt = -1;
    if (!vw_ctl(w))
        return EMU_ERR_NOTFOUND;
    int err =
        emu_ctl_ioctl(w->ctl, IOCTL_VFO_QUERY_PAIRS, &rq, sizeof(rq), p, sizeof(*p), &ret, &nt);
    if (!err && nt == VW_STATUS_DELETE_PENDING) {
        /* The device went with vfo's last adapter and may be back: reopen. */
        emu_ctl_close(w->ctl);
        w->ctl = NULL;
        if (!vw_ctl(w))
            return EMU_ERR_NOTFOUND;
        err =
            emu_ctl_ioctl(w->ctl, IOCTL_VFO_QUERY_PAIRS, &rq, sizeof(rq), p, sizeof(*p), &ret, &nt);
    }
    if (err)
        return err;
    if (nt != 0 || vfo_ctl_check_pairs_reply(p, (uint32_t)ret) != VFO_CTL_CHECK_OK)
        return EMU_ERR_DRIVER;
    return EMU_OK;
}

int vw_pt_filter(vfo_world *w, uint32_t filter)
{
    size_t ret;
    int32_t nt;
    int err = emu_ctl_ioctl(w->pt_ctl, IOCTL_MINIPROT_SET_FILTER, &filter, sizeof(filter), NULL, 0,
                            &ret, &nt);
    if (!err && nt != 0)
        err = EMU_ERR_DRIVER;
    return err ? err : emu_run_until_idle(w->rt);
}

int vw_pt_send(vfo_world *w, unsigned n, unsigned len, bool run)
{
    uint8_t frame[1514];
    if (len < 60 || len > sizeof(frame))
        return EMU_ERR_INVAL;
    for (unsigned i = 0; i < n; i++) {
        memset(frame, 0, sizeof(frame));
        vw_mac(0, frame);
        vw_mac(0, frame + 6);
        frame[12] = 0x88;
        frame[13] = 0xB5; /* local experimental ethertype */
        frame[14] = (uint8_t)i;
        size_t ret;
        int32_t nt;
        int err = emu_ctl_ioctl(w->pt_ctl, IOCTL_MINIPROT_SEND, frame, len, NULL, 0, &ret, &nt);
        if (err)
            return err;
        if (nt != 0)
            return EMU_ERR_DRIVER;
    }
    return run ? emu_run_until_idle(w->rt) : EMU_OK;
}

int vw_pt_stats(vfo_world *w, miniprot_stats *st)
{
    size_t ret;
    int32_t nt;
    int err = emu_ctl_ioctl(w->pt_ctl, IOCTL_MINIPROT_STATS, NULL, 0, st, sizeof(*st), &ret, &nt);
    return err ? err : (nt == 0 && ret == sizeof(*st)) ? EMU_OK : EMU_ERR_DRIVER;
}

int vw_finish(vfo_world *w)
{
    if (w->ctl)
        emu_ctl_close(w->ctl);
    if (w->pt_ctl)
        emu_ctl_close(w->pt_ctl);
    w->ctl = w->pt_ctl = NULL;
    int err = emu_shutdown(w->rt);
    return err ? err : emu_failed(w->rt) ? EMU_ERR_STOPPED : EMU_OK;
}

void vw_destroy(vfo_world *w)
{
    if (w->rt)
        emu_destroy(w->rt);
    if (w->rt == g_live_rt)
        g_live_rt = NULL;
    for (unsigned i = 0; i < VW_MAX; i++) {
        vnet_pci_destroy(w->vn[i]);
        if (w->vf[i])
            loopnic_destroy(w->vf[i]);
    }
    memset(w, 0, sizeof(*w));
}
