/*
 * hv_migrate.c - the migration state machine of the hypervisor model
 * (QEMU's migration/migration.c as far as failover sees it, plus the
 * virtio-net migration notifier): setup with primary unplug, wait-unplug
 * polling, pre-copy, stop-and-copy, resume on the destination with the
 * announcements and the destination's primaries, and cancellation.
 */
#include "hv_int.h"

#include <stdio.h>
#include <string.h>

#include "netframe.h"

#define MS 1000000ull

const char *hv_mig_name(mig_state s)
{
    static const char *const names[] = { "none",       "setup",     "wait-unplug",
                                         "active",     "device",    "completed",
                                         "cancelling", "cancelled", "failed" };
    return names[s];
}

static void set_state(emu_hv *hv, mig_state s)
{
    hv->mig = s;
    hv_event(hv, "MIGRATION", hv_mig_name(s), NULL);
    if (s == MIG_COMPLETED || s == MIG_CANCELLED || s == MIG_FAILED)
        hv->mig_end_ns = emu_now_ns(hv->rt);
}

static void step(void *arg);

static void arm(emu_hv *hv, uint64_t delay)
{
    hv->mig_timer = emu_schedule(hv->rt, delay, step, hv);
}

/* The virtio-net migration notifier at setup: unplug each visible primary
 * of a standby that negotiated failover, and hide it again. */
static void unplug_primaries(emu_hv *hv)
{
    for (unsigned i = 0; i < hv->n_primary; i++) {
        hv_primary *p = &hv->primary[i];
        hv_standby *s = hv_pair_of(hv, p);
        bool visible = p->state == DS_PLUGGING || p->state == DS_PLUGGED;
        if (!s || !s->failover || s->primary_hidden || !visible)
            continue;
        if (hv_unplug_primary(hv, p, hv->cfg.surprise_unplug) == EMU_OK) {
            p->by_migration = true;
            s->primary_hidden = true;
            hv_event(hv, "UNPLUG_PRIMARY", p->id, "%s",
                     hv->cfg.surprise_unplug ? "surprise removal" : "eject request");
        } else {
            hv_event(hv, "UNPLUG_FAILED", p->id, "could not unplug");
        }
    }
}

/* After a failed or cancelled migration: the primaries come back. */
static void replug_primaries(emu_hv *hv)
{
    for (unsigned i = 0; i < hv->n_primary; i++) {
        hv_primary *p = &hv->primary[i];
        hv_standby *s = hv_pair_of(hv, p);
        if (!p->by_migration)
            continue;
        p->by_migration = false;
        if (s)
            s->primary_hidden = false;
        if (p->state == DS_UNPLUGGED) {
            hv_plug_primary(hv, p);
        } else if (p->state == DS_UNPLUG_PENDING) {
            /* The guest never finished the eject: the card simply stays. */
            p->state = DS_PLUGGED;
            p->eject_on_added = p->surprise_on_added = false;
            hv_event(hv, "PRIMARY_KEPT", p->id, "unplug never completed");
        }
    }
}

static void send_rarp(hv_standby *s)
{
    uint8_t frame[NF_ETH_MIN];
    const uint8_t *mac = emu_stbnic_mac(s->nic);
    nf_arp a = { .op = NF_RARP_REQUEST };
    memcpy(a.sha, mac, 6);
    memcpy(a.tha, mac, 6);
    size_t len = nf_build_arp(frame, sizeof(frame), nf_broadcast, &a, true);
    emu_port *port = emu_stbnic_port(s->nic);
    if (port && len)
        emu_port_send(port, frame, len);
}

/* QEMU's self-announce after an incoming migration (announce-initial 50 ms,
 * -step 100 ms, -max 550 ms, -rounds 5): a RARP per NIC each round, the
 * first 50 ms after the resume, then 150, 250, 350, 450 ms apart; the first
 * round also asks the guest to announce (ANNOUNCE, when negotiated). */
static void announce_round(void *arg)
{
    emu_hv *hv = arg;
    hv_lock(hv);
    unsigned round = hv->announce_round++;
    for (unsigned i = 0; i < hv->n_standby; i++) {
        hv_standby *s = &hv->standby[i];
        if (s->state != DS_PLUGGED)
            continue;
        send_rarp(s);
        if (round == 0 && emu_stbnic_announce(s->nic))
            hv_event(hv, "ANNOUNCE", s->id, "guest asked to announce");
    }
    if (round + 1 < hv->cfg.announce_rounds) {
        uint64_t delay = 50 * MS + 100 * MS * (round + 1);
        emu_schedule(hv->rt, delay > 550 * MS ? 550 * MS : delay, announce_round, hv);
    }
    hv_unlock(hv);
}

static void move_ports(emu_hv *hv, const char *from, const char *to)
{
    for (unsigned i = 0; i < hv->n_standby; i++) {
        hv_standby *s = &hv->standby[i];
        emu_port_set_up(hv_port(hv, from, "tap", s->index), false);
        emu_port *p = hv_port(hv, to, "tap", s->index);
        emu_port_set_up(p, true);
        emu_stbnic_set_port(s->nic, p);
    }
    for (unsigned i = 0; i < hv->n_primary; i++) {
        hv_primary *p = &hv->primary[i];
        hv_standby *s = hv_pair_of(hv, p);
        bool migratable = !s || !s->failover;
        if (migratable && p->vf && p->state != DS_UNPLUGGED) {
            /* Migrated with the guest (the qtest's virtio-net primary). */
            emu_vfdev_set_port(p->vf, hv_port(hv, to, "vf", p->index));
            snprintf(p->vf_host, sizeof(p->vf_host), "%s", to);
        }
    }
}

/* The destination loads the standby's state: a negotiated STANDBY makes
 * its (new) primary visible, as virtio_net_set_features does there. */
static void destination_primaries(emu_hv *hv)
{
    for (unsigned i = 0; i < hv->n_standby; i++) {
        hv_standby *s = &hv->standby[i];
        if (!s->failover)
            continue;
        s->primary_hidden = !s->negotiated;
        if (s->negotiated)
            hv_event(hv, "FAILOVER_NEGOTIATED", s->id, "on %s", hv->host);
    }
    for (unsigned i = 0; i < hv->n_primary; i++) {
        hv_primary *p = &hv->primary[i];
        hv_standby *s = hv_pair_of(hv, p);
        if (!s || !s->failover)
            continue;
        p->by_migration = false;
        p->migrated = true;
        if (p->cfg.no_destination_vf) {
            hv_retire_vf(hv, p);
            p->state = DS_ABSENT;
        } else if (s->primary_hidden) {
            hv_retire_vf(hv, p);
            p->state = DS_HIDDEN;
        } else {
            hv_plug_primary(hv, p);
        }
    }
}

static void complete(emu_hv *hv)
{
    set_state(hv, MIG_COMPLETED);
    char from[HV_HOST_LEN];
    snprintf(from, sizeof(from), "%s", hv->host);
    snprintf(hv->host, sizeof(hv->host), "%s", hv->dst);
    move_ports(hv, from, hv->host);
    hv_event(hv, "RESUME", hv->host, NULL);
    if (!hv->guest_stopped)
        emu_guest_freeze(hv->rt, false);
    destination_primaries(hv);
    hv->announce_round = 0;
    if (hv->cfg.announce_rounds != UINT32_MAX)
        emu_schedule(hv->rt, 50 * MS, announce_round, hv);
}

static void stop_and_copy(emu_hv *hv)
{
    set_state(hv, MIG_DEVICE);
    hv_event(hv, "STOP", hv->host, NULL);
    emu_guest_freeze(hv->rt, true);
    for (unsigned i = 0; i < hv->n_standby; i++)
        emu_port_set_up(hv_port(hv, hv->host, "tap", hv->standby[i].index), false);
    arm(hv, hv->downtime_ns);
}

static void cancelled(emu_hv *hv)
{
    set_state(hv, MIG_CANCELLED);
    replug_primaries(hv);
}

/* wait-unplug / cancelling: polled like QEMU's migration thread does. */
static void poll_unplug(emu_hv *hv)
{
    bool pending = hv_unplug_pending(hv);
    uint64_t now = emu_now_ns(hv->rt);
    if (hv->mig == MIG_CANCELLING) {
        if (!pending || now >= hv->cancel_deadline_ns)
            cancelled(hv);
        else
            arm(hv, hv->cfg.poll_ns);
        return;
    }
    if (pending) {
        if (emu_guest_frozen(hv->rt) && !hv->paused_reported) {
            hv->paused_reported = true;
            hv_event(hv, "WAIT_UNPLUG_STALLED", "guest",
                     "the guest is paused: it cannot eject the primary");
        }
        arm(hv, hv->cfg.poll_ns);
        return;
    }
    set_state(hv, MIG_ACTIVE);
    arm(hv, hv->precopy_ns);
}

static void step(void *arg)
{
    emu_hv *hv = arg;
    hv_lock(hv);
    hv->mig_timer = 0;
    switch (hv->mig) {
    case MIG_SETUP:
        if (hv_unplug_pending(hv)) {
            set_state(hv, MIG_WAIT_UNPLUG);
            arm(hv, hv->cfg.poll_ns);
        } else {
            set_state(hv, MIG_ACTIVE);
            arm(hv, hv->precopy_ns);
        }
        break;
    case MIG_WAIT_UNPLUG:
    case MIG_CANCELLING:
        poll_unplug(hv);
        break;
    case MIG_ACTIVE:
        stop_and_copy(hv);
        break;
    case MIG_DEVICE:
        complete(hv);
        break;
    default:
        break;
    }
    hv_unlock(hv);
}

int emu_hv_migrate(emu_hv *hv, const emu_hv_migrate_params *p)
{
    if (!p || !p->dst || strlen(p->dst) >= HV_HOST_LEN)
        return EMU_ERR_INVAL;
    hv_lock(hv);
    int err = EMU_OK;
    if (!hv->booted || strcmp(p->dst, hv->host) == 0)
        err = EMU_ERR_INVAL;
    else if (hv->mig != MIG_NONE && hv->mig != MIG_COMPLETED && hv->mig != MIG_CANCELLED &&
             hv->mig != MIG_FAILED)
        err = EMU_ERR_BUSY;
    if (!err) {
        snprintf(hv->dst, sizeof(hv->dst), "%s", p->dst);
        hv->downtime_ns = p->downtime_ns ? p->downtime_ns : hv->cfg.downtime_ns;
        hv->precopy_ns = p->precopy_ns ? p->precopy_ns : hv->cfg.precopy_ns;
        hv->mig_start_ns = emu_now_ns(hv->rt);
        hv->mig_end_ns = 0;
        hv->paused_reported = false;
        set_state(hv, MIG_SETUP);
        unplug_primaries(hv);
        arm(hv, 0);
    }
    hv_unlock(hv);
    return err;
}

int emu_hv_migrate_cancel(emu_hv *hv)
{
    hv_lock(hv);
    int err = EMU_OK;
    switch (hv->mig) {
    case MIG_SETUP:
    case MIG_WAIT_UNPLUG:
        /* The unplug already started must end before the card can come back. */
        set_state(hv, MIG_CANCELLING);
        hv->cancel_deadline_ns = emu_now_ns(hv->rt) + hv->cfg.cancel_wait_ns;
        if (hv->mig_timer)
            emu_cancel(hv->rt, hv->mig_timer);
        arm(hv, hv->cfg.poll_ns);
        break;
    case MIG_ACTIVE:
    case MIG_DEVICE:
        if (hv->mig_timer)
            emu_cancel(hv->rt, hv->mig_timer);
        hv->mig_timer = 0;
        if (hv->mig == MIG_DEVICE) {
            for (unsigned i = 0; i < hv->n_standby; i++)
                emu_port_set_up(hv_port(hv, hv->host, "tap", hv->standby[i].index), true);
            hv_event(hv, "RESUME", hv->host, "on the source");
            if (!hv->guest_stopped)
                emu_guest_freeze(hv->rt, false);
        }
        set_state(hv, MIG_CANCELLING);
        cancelled(hv);
        break;
    default:
        err = EMU_ERR_BUSY;
    }
    hv_unlock(hv);
    return err;
}

void emu_hv_stop(emu_hv *hv)
{
    hv_lock(hv);
    if (!hv->guest_stopped) {
        hv->guest_stopped = true;
        emu_guest_freeze(hv->rt, true);
        hv_event(hv, "STOP", hv->host, "paused");
    }
    hv_unlock(hv);
}

void emu_hv_cont(emu_hv *hv)
{
    hv_lock(hv);
    if (hv->guest_stopped) {
        hv->guest_stopped = false;
        if (hv->mig != MIG_DEVICE)
            emu_guest_freeze(hv->rt, false);
        hv_event(hv, "RESUME", hv->host, "continued");
    }
    hv_unlock(hv);
}

const char *emu_hv_migration_status(emu_hv *hv)
{
    hv_lock(hv);
    const char *n = hv_mig_name(hv->mig);
    hv_unlock(hv);
    return n;
}

uint64_t emu_hv_migration_time_ns(emu_hv *hv)
{
    hv_lock(hv);
    uint64_t end = hv->mig_end_ns ? hv->mig_end_ns : emu_now_ns(hv->rt);
    uint64_t t = hv->mig == MIG_NONE ? 0 : end - hv->mig_start_ns;
    hv_unlock(hv);
    return t;
}
