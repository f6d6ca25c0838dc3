/*
 * hv.c - the hypervisor model's devices: creation (with QEMU's hiding of a
 * failover primary), plugging through the PCI bus, feature negotiation,
 * host-side VF events, the event log and the queries. Migration is in
 * hv_migrate.c.
 */
#include "hv_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hv_lock(emu_hv *hv)
{
    pthread_mutex_lock(&hv->mu);
}

void hv_unlock(emu_hv *hv)
{
    pthread_mutex_unlock(&hv->mu);
}

void hv_event(emu_hv *hv, const char *kind, const char *subject, const char *fmt, ...)
{
    if (hv->n_events == hv->cap_events) {
        size_t cap = hv->cap_events ? 2 * hv->cap_events : 256;
        emu_hv_event *grown = realloc(hv->events, cap * sizeof(*grown));
        if (!grown) {
            hv->lost_events++;
            return;
        }
        hv->events = grown;
        hv->cap_events = cap;
    }
    emu_hv_event *e = &hv->events[hv->n_events++];
    e->t_ns = emu_now_ns(hv->rt);
    snprintf(e->kind, sizeof(e->kind), "%s", kind);
    snprintf(e->subject, sizeof(e->subject), "%s", subject ? subject : "");
    e->detail[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
        va_end(ap);
    }
    if (hv->event_fn)
        hv->event_fn(hv->event_ctx, e);
}

emu_port *hv_port(emu_hv *hv, const char *host, const char *kind, unsigned index)
{
    return emu_fabric_host_port(hv->net, host, kind, index);
}

static void set_vf_mac(emu_port *port, const uint8_t *mac)
{
    if (port)
        emu_switch_set_vf_mac(emu_port_switch(port), port, mac);
}

hv_standby *hv_find_standby(emu_hv *hv, const char *id)
{
    for (unsigned i = 0; i < hv->n_standby; i++) {
        if (strcmp(hv->standby[i].id, id) == 0)
            return &hv->standby[i];
    }
    return NULL;
}

hv_primary *hv_find_primary(emu_hv *hv, const char *id)
{
    for (unsigned i = 0; i < hv->n_primary; i++) {
        if (strcmp(hv->primary[i].id, id) == 0)
            return &hv->primary[i];
    }
    return NULL;
}

/* The standby a primary names, if it exists yet (created). */
hv_standby *hv_pair_of(emu_hv *hv, const hv_primary *p)
{
    hv_standby *s = hv_find_standby(hv, p->pair);
    return s && s->created ? s : NULL;
}

static int free_slot(emu_hv *hv)
{
    for (unsigned i = 0; i < HV_SLOTS; i++) {
        if (emu_pcibus_state(hv->bus, i) == EMU_SLOT_EMPTY)
            return (int)i;
    }
    return -1;
}

/* ---- the PCI bus reports ---- */

static void primary_gone(emu_hv *hv, hv_primary *p, const char *how)
{
    bool was_pending = p->state == DS_UNPLUG_PENDING;
    p->state = DS_UNPLUGGED;
    hv_event(hv, "DEVICE_DELETED", p->id, "%s%s", how, was_pending ? "" : " (late)");
    if (hv->cfg.clear_vf_mac && p->cfg.vf_mac_assigned && p->vf)
        set_vf_mac(hv_port(hv, p->vf_host, "vf", p->index), NULL);
}

static void primary_added(emu_hv *hv, hv_primary *p, emu_slot_event ev, int status)
{
    if (ev == EMU_SLOT_ADD_FAILED) {
        p->state = DS_FAILED;
        hv_event(hv, "DEVICE_ADD_FAILED", p->id, "%s", emu_strerror(status));
        return;
    }
    p->state = DS_PLUGGED;
    hv_event(hv, "DEVICE_ADDED", p->id, "%s", status ? "no driver in the guest" : p->instance);
    if (p->eject_on_added || p->surprise_on_added) {
        bool surprise = p->surprise_on_added;
        p->eject_on_added = p->surprise_on_added = false;
        hv_unplug_primary(hv, p, surprise);
    }
}

static void standby_slot_event(emu_hv *hv, hv_standby *s, emu_slot_event ev, int status)
{
    static const char *const kinds[] = { [EMU_SLOT_ADDED] = "DEVICE_ADDED",
                                         [EMU_SLOT_ADD_FAILED] = "DEVICE_ADD_FAILED",
                                         [EMU_SLOT_EJECTED] = "DEVICE_DELETED",
                                         [EMU_SLOT_REMOVED] = "DEVICE_DELETED",
                                         [EMU_SLOT_EJECT_REFUSED] = "EJECT_REFUSED" };
    if (ev == EMU_SLOT_ADDED)
        s->state = DS_PLUGGED;
    else if (ev == EMU_SLOT_ADD_FAILED)
        s->state = DS_FAILED;
    else if (ev != EMU_SLOT_EJECT_REFUSED)
        s->state = DS_UNPLUGGED;
    hv_event(hv, kinds[ev], s->id, "%s",
             status == EMU_ERR_NOTFOUND ? "no driver in the guest" : emu_slot_event_name(ev));
}

static void slot_event(void *ctx, unsigned slot, emu_slot_event ev, int status)
{
    emu_hv *hv = ctx;
    hv_lock(hv);
    slot_owner o = hv->owner[slot];
    if (!o.primary) {
        standby_slot_event(hv, &hv->standby[o.index], ev, status);
        hv_unlock(hv);
        return;
    }
    hv_primary *p = &hv->primary[o.index];
    switch (ev) {
    case EMU_SLOT_ADDED:
    case EMU_SLOT_ADD_FAILED:
        primary_added(hv, p, ev, status);
        break;
    case EMU_SLOT_EJECTED:
        primary_gone(hv, p, "ejected");
        break;
    case EMU_SLOT_REMOVED:
        primary_gone(hv, p, "surprise-removed");
        break;
    case EMU_SLOT_EJECT_REFUSED:
        /* QEMU is not told: the unplug stays pending. */
        hv_event(hv, "EJECT_REFUSED", p->id, "%s", emu_strerror(status));
        break;
    }
    hv_unlock(hv);
}

/* ---- plugging ---- */

static int plug(emu_hv *hv, slot_owner o, const emu_device_desc *desc, uint64_t probe_delay,
                int *slot_out)
{
    int slot = free_slot(hv);
    if (slot < 0)
        return EMU_ERR_BUSY;
    hv->owner[slot] = o;
    int err = emu_pcibus_plug_after(hv->bus, (unsigned)slot, desc, probe_delay);
    if (!err)
        *slot_out = slot;
    return err;
}

typedef struct carrier_msg {
    emu_hv *hv;
    emu_vfdev *vf;
    bool up;
    uint64_t wait_ns;
} carrier_msg;

static void describe_wait(char *buf, size_t len, uint64_t wait_ns)
{
    if (wait_ns == EMU_VFDEV_LINK_NEVER)
        snprintf(buf, len, "down: the link never comes up");
    else if (wait_ns)
        snprintf(buf, len, "down: up in %.3f ms (link-up delay)", (double)wait_ns / 1e6);
    else
        snprintf(buf, len, "down: the PF's link is down");
}

/* The timeline's record of a VF's carrier (platform work: the VF told us
 * from its device work, where the hv's lock cannot be taken). */
static void carrier_work(void *arg)
{
    carrier_msg *m = arg;
    emu_hv *hv = m->hv;
    hv_lock(hv);
    for (unsigned i = 0; i < hv->n_primary; i++) {
        hv_primary *p = &hv->primary[i];
        if (p->vf != m->vf)
            continue;
        uint64_t now = emu_now_ns(hv->rt);
        if (m->up) {
            hv_event(hv, "VF_CARRIER", p->id, "up after %.3f ms down",
                     (double)(now - p->carrier_down_ns) / 1e6);
        } else {
            char what[64];
            describe_wait(what, sizeof(what), m->wait_ns);
            p->carrier_down_ns = now;
            hv_event(hv, "VF_CARRIER", p->id, "%s", what);
        }
    }
    hv_unlock(hv);
    free(m);
}

static void on_carrier(void *ctx, emu_vfdev *vf, bool up, uint64_t wait_ns)
{
    emu_hv *hv = ctx;
    carrier_msg *m = malloc(sizeof(*m));
    if (!m)
        return;
    *m = (carrier_msg){ hv, vf, up, wait_ns };
    if (!emu_schedule(hv->rt, 0, carrier_work, m))
        free(m);
}

/* The link-up delay of the primary's VF on the host it is plugged on now. */
static uint64_t link_up_delay(const emu_hv *hv, const hv_primary *p)
{
    if (p->migrated && p->cfg.dst_link_up_delay_set)
        return p->cfg.dst_link_up_delay_ns;
    return p->cfg.link_up_delay_set ? p->cfg.link_up_delay_ns : hv->cfg.link_up_delay_ns;
}

/* A VF for the primary on the current host (a new one after a migration). */
static int ensure_vf(emu_hv *hv, hv_primary *p)
{
    if (p->vf && strcmp(p->vf_host, hv->host) == 0)
        return EMU_OK;
    hv_retire_vf(hv, p);
    emu_vfdev_cfg vc = p->cfg.vf;
    vc.link_up_delay_ns = link_up_delay(hv, p);
    p->vf = emu_vfdev_create(&vc);
    if (!p->vf)
        return EMU_ERR_NOMEM;
    emu_vfdev_set_carrier_fn(p->vf, on_carrier, hv);
    snprintf(p->vf_host, sizeof(p->vf_host), "%s", hv->host);
    snprintf(p->instance, sizeof(p->instance), "%s.%s", p->id, hv->host);
    emu_vfdev_set_port(p->vf, hv_port(hv, hv->host, "vf", p->index));
    return EMU_OK;
}

int hv_plug_primary(emu_hv *hv, hv_primary *p)
{
    int err = ensure_vf(hv, p);
    if (err)
        return err;
    if (p->cfg.vf_mac_assigned)
        set_vf_mac(hv_port(hv, p->vf_host, "vf", p->index), p->cfg.vf.mac);
    emu_device_desc desc;
    emu_vfdev_device_desc(p->vf, p->instance, &desc);
    desc.registry = p->reg;
    uint64_t probe = hv->cold_plugging ? 0 : hv->cfg.probe_delay_ns;
    err = plug(hv, (slot_owner){ .primary = true, .index = (unsigned)(p - hv->primary) }, &desc,
               probe, &p->slot);
    if (err) {
        p->state = DS_FAILED;
        hv_event(hv, "DEVICE_ADD_FAILED", p->id, "%s", emu_strerror(err));
        return err;
    }
    p->state = DS_PLUGGING;
    hv_event(hv, "PRIMARY_PLUG", p->id, "%s slot %d", p->instance, p->slot);
    return EMU_OK;
}

int hv_unplug_primary(emu_hv *hv, hv_primary *p, bool surprise)
{
    if (p->state == DS_PLUGGING) {
        p->eject_on_added = !surprise;
        p->surprise_on_added = surprise;
        p->state = DS_UNPLUG_PENDING;
        return EMU_OK;
    }
    if (p->state != DS_PLUGGED && p->state != DS_UNPLUG_PENDING)
        return EMU_ERR_BUSY;
    int err;
    if (surprise) {
        emu_vfdev_pull(p->vf);
        err = emu_pcibus_surprise(hv->bus, (unsigned)p->slot);
    } else {
        uint64_t delay = p->cfg.eject_delay_ns ? p->cfg.eject_delay_ns : hv->cfg.eject_delay_ns;
        err = emu_pcibus_eject_after(hv->bus, (unsigned)p->slot, delay);
    }
    if (!err)
        p->state = DS_UNPLUG_PENDING;
    return err;
}

bool hv_unplug_pending(emu_hv *hv)
{
    for (unsigned i = 0; i < hv->n_primary; i++) {
        if (hv->primary[i].state == DS_UNPLUG_PENDING)
            return true;
    }
    return false;
}

void hv_retire_vf(emu_hv *hv, hv_primary *p)
{
    if (!p->vf)
        return;
    emu_vfdev_set_port(p->vf, NULL);
    if (hv->n_retired < sizeof(hv->retired) / sizeof(hv->retired[0]))
        hv->retired[hv->n_retired++] = p->vf;
    else
        emu_vfdev_destroy(p->vf);
    p->vf = NULL;
}

/* ---- creation (command line at boot, device_add after) ---- */

static int create_standby(emu_hv *hv, hv_standby *s)
{
    s->created = true;
    s->primary_hidden = s->failover;
    emu_stbnic_offer_standby(s->nic, s->failover);
    emu_stbnic_set_port(s->nic, hv_port(hv, hv->host, "tap", s->index));
    emu_device_desc desc;
    emu_stbnic_device_desc(s->nic, s->id, &desc);
    int err = plug(hv, (slot_owner){ .primary = false, .index = s->index }, &desc, 0, &s->slot);
    s->state = err ? DS_FAILED : DS_PLUGGING;
    return err;
}

static int create_primary(emu_hv *hv, hv_primary *p)
{
    p->created = true;
    hv_standby *s = hv_pair_of(hv, p);
    if (s && s->failover && s->primary_hidden) {
        p->state = DS_HIDDEN;
        hv_event(hv, "PRIMARY_HIDDEN", p->id, "until %s negotiates STANDBY", s->id);
        return EMU_OK;
    }
    return hv_plug_primary(hv, p);
}

static void features_work(void *arg);

typedef struct features_msg {
    emu_hv *hv;
    unsigned standby;
    uint64_t features;
} features_msg;

/* Device context: handled as platform work, as QEMU's main loop would. */
static void on_features(void *ctx, emu_stbnic *nic, uint64_t features)
{
    emu_hv *hv = ctx;
    for (unsigned i = 0; i < hv->n_standby; i++) {
        if (hv->standby[i].nic != nic)
            continue;
        features_msg *m = malloc(sizeof(*m));
        if (!m)
            return;
        *m = (features_msg){ hv, i, features };
        if (!emu_schedule(hv->rt, 0, features_work, m))
            free(m);
        return;
    }
}

static void features_work(void *arg)
{
    features_msg *m = arg;
    emu_hv *hv = m->hv;
    hv_lock(hv);
    hv_standby *s = &hv->standby[m->standby];
    if (s->failover && (m->features & (1ull << EMU_STBNIC_F_STANDBY))) {
        hv_event(hv, "FAILOVER_NEGOTIATED", s->id, NULL);
        s->primary_hidden = false;
        s->negotiated = true;
        for (unsigned i = 0; i < hv->n_primary; i++) {
            hv_primary *p = &hv->primary[i];
            if (p->state == DS_HIDDEN && strcmp(p->pair, s->id) == 0)
                hv_plug_primary(hv, p);
        }
    }
    hv_unlock(hv);
    free(m);
}

int emu_hv_add_standby(emu_hv *hv, const char *id, bool failover, const emu_stbnic_cfg *nic)
{
    if (!id || !nic || strlen(id) >= EMU_HV_ID_LEN)
        return EMU_ERR_INVAL;
    hv_lock(hv);
    int err = EMU_OK;
    if (hv_find_standby(hv, id) || hv_find_primary(hv, id) || hv->n_standby == EMU_HV_MAX_NICS)
        err = EMU_ERR_BUSY;
    hv_standby *s = err ? NULL : &hv->standby[hv->n_standby];
    if (s) {
        memset(s, 0, sizeof(*s));
        snprintf(s->id, sizeof(s->id), "%s", id);
        s->failover = failover;
        s->index = hv->n_standby;
        s->slot = -1;
        s->nic = emu_stbnic_create(nic);
        if (!s->nic)
            err = EMU_ERR_INVAL;
    }
    if (!err) {
        emu_stbnic_set_listener(s->nic, on_features, hv);
        hv->n_standby++;
        if (hv->booted)
            err = create_standby(hv, s);
        else
            hv->boot_order[hv->n_boot++] = s->index;
    }
    hv_unlock(hv);
    return err;
}

static void copy_registry(hv_primary *p, const char *const *reg)
{
    unsigned n = 0;
    for (; reg && reg[n] && n < HV_MAX_REG; n++) {
        snprintf(p->reg_store[n], sizeof(p->reg_store[n]), "%s", reg[n]);
        p->reg[n] = p->reg_store[n];
    }
    p->reg[n] = NULL;
    p->cfg.registry = p->reg;
}

int emu_hv_add_primary(emu_hv *hv, const emu_hv_primary_cfg *cfg)
{
    if (!cfg || !cfg->id || !cfg->pair || strlen(cfg->id) >= EMU_HV_ID_LEN ||
        strlen(cfg->pair) >= EMU_HV_ID_LEN)
        return EMU_ERR_INVAL;
    hv_lock(hv);
    int err = EMU_OK;
    if (hv_find_standby(hv, cfg->id) || hv_find_primary(hv, cfg->id) ||
        hv->n_primary == EMU_HV_MAX_NICS)
        err = EMU_ERR_BUSY;
    if (!err) {
        hv_primary *p = &hv->primary[hv->n_primary];
        memset(p, 0, sizeof(*p));
        p->cfg = *cfg;
        snprintf(p->id, sizeof(p->id), "%s", cfg->id);
        snprintf(p->pair, sizeof(p->pair), "%s", cfg->pair);
        p->cfg.id = p->id;
        p->cfg.pair = p->pair;
        copy_registry(p, cfg->registry);
        p->index = hv->n_primary++;
        p->slot = -1;
        if (hv->booted)
            err = create_primary(hv, p);
        else
            hv->boot_order[hv->n_boot++] = p->index | 0x100;
    }
    hv_unlock(hv);
    return err;
}

int emu_hv_boot(emu_hv *hv)
{
    hv_lock(hv);
    int err = hv->booted ? EMU_ERR_BUSY : EMU_OK;
    hv->booted = true;
    hv->cold_plugging = true;
    for (unsigned i = 0; !err && i < hv->n_boot; i++) {
        unsigned o = hv->boot_order[i];
        err = o & 0x100 ? create_primary(hv, &hv->primary[o & 0xFF])
                        : create_standby(hv, &hv->standby[o]);
    }
    hv->cold_plugging = false;
    hv_unlock(hv);
    return err;
}

emu_hv *emu_hv_create(emu_runtime *rt, emu_fabric *net, const char *host, const emu_hv_cfg *cfg)
{
    if (!rt || !net || !host || strlen(host) >= HV_HOST_LEN)
        return NULL;
    emu_hv *hv = calloc(1, sizeof(*hv));
    if (!hv)
        return NULL;
    hv->rt = rt;
    hv->net = net;
    snprintf(hv->host, sizeof(hv->host), "%s", host);
    if (cfg)
        hv->cfg = *cfg;
    if (!hv->cfg.downtime_ns)
        hv->cfg.downtime_ns = EMU_HV_DEFAULT_DOWNTIME_NS;
    if (!hv->cfg.precopy_ns)
        hv->cfg.precopy_ns = EMU_HV_DEFAULT_PRECOPY_NS;
    if (!hv->cfg.poll_ns)
        hv->cfg.poll_ns = EMU_HV_DEFAULT_POLL_NS;
    if (!hv->cfg.cancel_wait_ns)
        hv->cfg.cancel_wait_ns = 30000000000ull;
    if (!hv->cfg.announce_rounds)
        hv->cfg.announce_rounds = 5;
    pthread_mutex_init(&hv->mu, NULL);
    hv->bus = emu_pcibus_create(rt, HV_SLOTS, slot_event, hv);
    if (!hv->bus) {
        emu_hv_destroy(hv);
        return NULL;
    }
    emu_pcibus_set_eject_delay(hv->bus, hv->cfg.eject_delay_ns);
    return hv;
}

/* After emu_shutdown (the guest's adapters are gone) or before boot. */
void emu_hv_destroy(emu_hv *hv)
{
    if (!hv)
        return;
    for (unsigned i = 0; i < hv->n_standby; i++)
        emu_stbnic_destroy(hv->standby[i].nic);
    for (unsigned i = 0; i < hv->n_primary; i++)
        emu_vfdev_destroy(hv->primary[i].vf);
    for (unsigned i = 0; i < hv->n_retired; i++)
        emu_vfdev_destroy(hv->retired[i]);
    emu_pcibus_destroy(hv->bus);
    pthread_mutex_destroy(&hv->mu);
    free(hv->events);
    free(hv);
}

/* ---- host-side events ---- */

int emu_hv_vf_link(emu_hv *hv, const char *id, bool up)
{
    hv_lock(hv);
    hv_primary *p = hv_find_primary(hv, id);
    if (p && p->vf) {
        emu_vfdev_set_link(p->vf, up);
        hv_event(hv, "VF_LINK", p->id, "%s", up ? "up" : "down");
    }
    hv_unlock(hv);
    return p && p->vf ? EMU_OK : EMU_ERR_NOTFOUND;
}

int emu_hv_vf_reset(emu_hv *hv, const char *id)
{
    hv_lock(hv);
    hv_primary *p = hv_find_primary(hv, id);
    if (p && p->vf) {
        emu_vfdev_pf_reset(p->vf);
        hv_event(hv, "VF_RESET", p->id, NULL);
    }
    hv_unlock(hv);
    return p && p->vf ? EMU_OK : EMU_ERR_NOTFOUND;
}

/* device_del of a standby: the guest halts its driver for it (an eject it
 * acts on at once, or a surprise removal). Its primary stays as it is. */
static int unplug_standby(emu_hv *hv, hv_standby *s, bool surprise)
{
    if (s->state != DS_PLUGGED)
        return EMU_ERR_BUSY;
    int err = surprise ? emu_pcibus_surprise(hv->bus, (unsigned)s->slot)
                       : emu_pcibus_eject(hv->bus, (unsigned)s->slot);
    if (!err)
        s->state = DS_UNPLUG_PENDING;
    return err;
}

/* device_add of an unplugged standby: the same NIC (its MAC, its backend). */
static int replug_standby(emu_hv *hv, hv_standby *s)
{
    if (s->state != DS_UNPLUGGED && s->state != DS_FAILED)
        return EMU_ERR_BUSY;
    emu_device_desc desc;
    emu_stbnic_device_desc(s->nic, s->id, &desc);
    int err = plug(hv, (slot_owner){ .primary = false, .index = s->index }, &desc, 0, &s->slot);
    s->state = err ? DS_FAILED : DS_PLUGGING;
    return err;
}

int emu_hv_unplug(emu_hv *hv, const char *id, bool surprise)
{
    hv_lock(hv);
    hv_primary *p = hv_find_primary(hv, id);
    hv_standby *s = p ? NULL : hv_find_standby(hv, id);
    int err = p   ? hv_unplug_primary(hv, p, surprise)
              : s ? unplug_standby(hv, s, surprise)
                  : EMU_ERR_NOTFOUND;
    if (!err)
        hv_event(hv, "DEVICE_DEL", id, "%s", surprise ? "surprise" : "eject");
    hv_unlock(hv);
    return err;
}

int emu_hv_replug(emu_hv *hv, const char *id)
{
    hv_lock(hv);
    hv_primary *p = hv_find_primary(hv, id);
    hv_standby *s = p ? NULL : hv_find_standby(hv, id);
    int err = s                                                   ? replug_standby(hv, s)
              : !p                                                ? EMU_ERR_NOTFOUND
              : p->state == DS_UNPLUGGED || p->state == DS_FAILED ? hv_plug_primary(hv, p)
                                                                  : EMU_ERR_BUSY;
    hv_unlock(hv);
    return err;
}

int emu_hv_standby_link(emu_hv *hv, const char *id, bool up)
{
    hv_lock(hv);
    hv_standby *s = hv_find_standby(hv, id);
    if (s) {
        emu_stbnic_set_link(s->nic, up);
        hv_event(hv, "STANDBY_LINK", s->id, "%s", up ? "up" : "down");
    }
    hv_unlock(hv);
    return s ? EMU_OK : EMU_ERR_NOTFOUND;
}

/* ---- queries ---- */

static const char *state_name(dev_state s)
{
    static const char *const names[] = { "absent",         "hidden",    "plugging", "plugged",
                                         "unplug-pending", "unplugged", "failed" };
    return names[s];
}

static bool visible(dev_state s)
{
    return s == DS_PLUGGING || s == DS_PLUGGED || s == DS_UNPLUG_PENDING;
}

bool emu_hv_visible(emu_hv *hv, const char *id)
{
    hv_lock(hv);
    hv_standby *s = hv_find_standby(hv, id);
    hv_primary *p = hv_find_primary(hv, id);
    bool v = (s && visible(s->state)) || (p && visible(p->state));
    hv_unlock(hv);
    return v;
}

const char *emu_hv_device_state(emu_hv *hv, const char *id)
{
    hv_lock(hv);
    hv_standby *s = hv_find_standby(hv, id);
    hv_primary *p = hv_find_primary(hv, id);
    const char *n = s ? state_name(s->state) : p ? state_name(p->state) : "absent";
    hv_unlock(hv);
    return n;
}

const char *emu_hv_instance(emu_hv *hv, const char *id)
{
    hv_lock(hv);
    hv_standby *s = hv_find_standby(hv, id);
    hv_primary *p = hv_find_primary(hv, id);
    const char *n = s && visible(s->state) ? s->id : p && visible(p->state) ? p->instance : NULL;
    hv_unlock(hv);
    return n;
}

emu_vfdev *emu_hv_vf(emu_hv *hv, const char *id)
{
    hv_lock(hv);
    hv_primary *p = hv_find_primary(hv, id);
    emu_vfdev *vf = p ? p->vf : NULL;
    hv_unlock(hv);
    return vf;
}

emu_stbnic *emu_hv_nic(emu_hv *hv, const char *id)
{
    hv_lock(hv);
    hv_standby *s = hv_find_standby(hv, id);
    emu_stbnic *nic = s ? s->nic : NULL;
    hv_unlock(hv);
    return nic;
}

const char *emu_hv_host(emu_hv *hv)
{
    return hv->host;
}

size_t emu_hv_events(emu_hv *hv, const emu_hv_event **out)
{
    *out = hv->events;
    return hv->n_events;
}

size_t emu_hv_events_lost(emu_hv *hv)
{
    return hv->lost_events;
}

unsigned emu_hv_count(emu_hv *hv, const char *kind, const char *subject)
{
    unsigned n = 0;
    hv_lock(hv);
    for (size_t i = 0; i < hv->n_events; i++) {
        const emu_hv_event *e = &hv->events[i];
        n += strcmp(e->kind, kind) == 0 && (!subject || strcmp(e->subject, subject) == 0);
    }
    hv_unlock(hv);
    return n;
}

void emu_hv_note(emu_hv *hv, const char *kind, const char *subject, const char *detail)
{
    hv_lock(hv);
    hv_event(hv, kind, subject, detail ? "%s" : NULL, detail);
    hv_unlock(hv);
}

void emu_hv_set_event_fn(emu_hv *hv, emu_hv_event_fn fn, void *ctx)
{
    hv_lock(hv);
    hv->event_fn = fn;
    hv->event_ctx = ctx;
    hv_unlock(hv);
}
