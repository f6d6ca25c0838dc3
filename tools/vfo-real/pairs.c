/*
 * pairs.c - what vfo's control device says: a PAIR line in the timeline on
 * every change (IOCTL_VFO_WAIT_CHANGE), and the counters in a status file
 * (key=value lines) that scripts in the guest read.
 */
#include <stdlib.h>
#include <string.h>

#include "real.h"
#include "vfo_ctl.h"

static struct vfo_ctl_wait g_wait;

static void wait_done(void *ctx, int32_t nt, const void *out, size_t returned)
{
    real *r = ctx;
    (void)nt;
    (void)out;
    (void)returned;
    __atomic_store_n(&r->change, 1, __ATOMIC_RELEASE);
}

static void arm(real *r)
{
    g_wait.abi_version = VFO_CTL_ABI_VERSION;
    g_wait.size = sizeof(g_wait);
    g_wait.generation = r->generation;
    emu_ctl_ioctl_async(r->ctl, IOCTL_VFO_WAIT_CHANGE, &g_wait, sizeof(g_wait), sizeof(g_wait),
                        wait_done, r);
}

static int query(real *r, struct vfo_ctl_pairs *p)
{
    struct vfo_ctl_request rq = { VFO_CTL_ABI_VERSION, sizeof(rq), 0 };
    size_t ret = 0;
    int32_t nt = -1;
    int err =
        emu_ctl_ioctl(r->ctl, IOCTL_VFO_QUERY_PAIRS, &rq, sizeof(rq), p, sizeof(*p), &ret, &nt);
    return err || nt || vfo_ctl_check_pairs_reply(p, (uint32_t)ret) != VFO_CTL_CHECK_OK ? -1 : 0;
}

/* The virtio device's malformed-input counters (all zero if unavailable). */
static void query_errors(real *r, struct vfo_ctl_device_errors *e)
{
    struct vfo_ctl_request rq = { VFO_CTL_ABI_VERSION, sizeof(rq), 0 };
    struct vfo_ctl_devices *d = malloc(sizeof(*d));
    size_t ret = 0;
    int32_t nt = -1;
    memset(e, 0, sizeof(*e));
    if (d &&
        !emu_ctl_ioctl(r->ctl, IOCTL_VFO_QUERY_DEVICES, &rq, sizeof(rq), d, sizeof(*d), &ret,
                       &nt) &&
        !nt && vfo_ctl_check_devices_reply(d, (uint32_t)ret) == VFO_CTL_CHECK_OK &&
        d->adapter_count > 0)
        *e = d->adapters[0].errors;
    free(d);
}

static const char *state_name(uint32_t s)
{
    static const char *const n[] = { "absent", "opening",      "replaying",
                                     "active", "standby_only", "detaching" };
    return s <= VFO_CTL_PAIR_STATE_MAX ? n[s] : "?";
}

static void write_status(real *r, const struct vfo_ctl_adapter *a)
{
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%s.tmp", r->o.status_path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return;
    const struct vfo_ctl_counters *k = &a->counters;
    struct vfo_ctl_device_errors e;
    query_errors(r, &e);
    fprintf(f,
            "err_used_id_range=%llu\nerr_used_id_not_in_flight=%llu\nerr_used_len=%llu\n"
            "err_used_idx_jump=%llu\nerr_config_read=%llu\nerr_config_invalid=%llu\n"
            "err_ctrl_answers=%llu\nerr_ctrl_timeouts=%llu\nerr_rx_malformed=%llu\n"
            "device_resets=%llu\n",
            (unsigned long long)e.used_id_range, (unsigned long long)e.used_id_not_in_flight,
            (unsigned long long)e.used_len, (unsigned long long)e.used_idx_jump,
            (unsigned long long)e.config_read_failures, (unsigned long long)e.config_invalid,
            (unsigned long long)e.ctrl_bad_answers, (unsigned long long)e.ctrl_timeouts,
            (unsigned long long)e.rx_malformed, (unsigned long long)e.device_resets);
    fprintf(f,
            "state=%s\ntx_on_primary=%u\nlink_up=%u\nstandby_negotiated=%u\nattaches=%llu\n"
            "detaches=%llu\nto_primary=%llu\nto_standby=%llu\ntx_primary=%llu\n"
            "tx_standby=%llu\nrx_primary=%llu\nrx_standby=%llu\ntx_resent=%llu\n"
            "verifier_violations=%zu\n",
            state_name(a->pair_state), (a->flags & VFO_CTL_ADAPTER_TX_ON_PRIMARY) != 0,
            (a->flags & VFO_CTL_ADAPTER_LINK_UP) != 0,
            (a->flags & VFO_CTL_ADAPTER_STANDBY_NEGOTIATED) != 0, (unsigned long long)k->attaches,
            (unsigned long long)k->detaches, (unsigned long long)k->switches_to_primary,
            (unsigned long long)k->switches_to_standby, (unsigned long long)k->tx_primary_packets,
            (unsigned long long)k->tx_standby_packets, (unsigned long long)k->rx_primary_packets,
            (unsigned long long)k->rx_standby_packets, (unsigned long long)k->tx_resent_on_standby,
            emu_violation_count(r->rt));
    fclose(f);
    rename(tmp, r->o.status_path);
}

int real_pairs_start(real *r)
{
    int err = emu_ctl_open(r->rt, "vfo", &r->ctl);
    if (err)
        return err;
    struct vfo_ctl_pairs *p = malloc(sizeof(*p));
    if (p && query(r, p) == 0 && p->adapter_count > 0) {
        memcpy(r->mac, p->adapters[0].vfo.permanent_mac, 6);
        r->have_mac = true;
    }
    free(p);
    real_pairs_poll(r, true);
    return EMU_OK;
}

void real_pairs_poll(real *r, bool force)
{
    bool changed = __atomic_exchange_n(&r->change, 0, __ATOMIC_ACQ_REL) != 0;
    if (!changed && !force)
        return;
    struct vfo_ctl_pairs *p = malloc(sizeof(*p));
    if (!p || query(r, p) || p->adapter_count == 0) {
        free(p);
        if (changed || !r->seen_adapter)
            arm(r);
        return;
    }
    const struct vfo_ctl_adapter *a = &p->adapters[0];
    bool first = !r->seen_adapter;
    r->seen_adapter = true;
    if (first || p->generation != r->generation || a->pair_state != r->last_state ||
        a->flags != r->last_flags) {
        char vf[18] = "-";
        if (a->pair_state != VFO_CTL_PAIR_ABSENT)
            snprintf(vf, sizeof(vf), "%02x:%02x:%02x:%02x:%02x:%02x", a->vf.current_mac[0],
                     a->vf.current_mac[1], a->vf.current_mac[2], a->vf.current_mac[3],
                     a->vf.current_mac[4], a->vf.current_mac[5]);
        const struct vfo_ctl_counters *k = &a->counters;
        real_event(
            r, "PAIR",
            "gen %llu state %s vf %s tx %s link %s standby %s | attaches %llu detaches "
            "%llu tx vf/virtio %llu/%llu rx vf/virtio %llu/%llu",
            (unsigned long long)p->generation, state_name(a->pair_state), vf,
            (a->flags & VFO_CTL_ADAPTER_TX_ON_PRIMARY) ? "vf" : "virtio",
            (a->flags & VFO_CTL_ADAPTER_LINK_UP) ? "up" : "down",
            (a->flags & VFO_CTL_ADAPTER_STANDBY_NEGOTIATED) ? "negotiated" : "no",
            (unsigned long long)k->attaches, (unsigned long long)k->detaches,
            (unsigned long long)k->tx_primary_packets, (unsigned long long)k->tx_standby_packets,
            (unsigned long long)k->rx_primary_packets, (unsigned long long)k->rx_standby_packets);
    }
    bool rearm = changed || first;
    r->generation = p->generation;
    r->last_state = a->pair_state;
    r->last_flags = a->flags;
    if (r->o.status_path)
        write_status(r, a);
    free(p);
    if (rearm)
        arm(r);
}

void real_pairs_stop(real *r)
{
    if (r->ctl)
        emu_ctl_close(r->ctl);
    r->ctl = NULL;
}
