/*
 * hv.h - a hypervisor model with QEMU's virtio-net failover semantics
 * (hw/net/virtio-net.c, migration/migration.c, docs/system/
 * virtio-net-failover.rst), driving a guest in ndisemu through a PCI bus.
 *
 * Devices, by QEMU id:
 *  - standby NICs (virtio-net, failover=on|off), backend on the host
 *    switch's port "<host>-tap<N>";
 *  - primaries (a VF with failover_pair_id=<standby id>), port
 *    "<host>-vf<N>" of the host switch (the NIC's embedded switch).
 * Failover rules (facts from QEMU):
 *  - a failover=on standby offers VIRTIO_NET_F_STANDBY and, from its
 *    creation, hides any primary created with its id as failover_pair_id;
 *  - when the guest's driver accepts features with STANDBY: event
 *    FAILOVER_NEGOTIATED, the primary is no longer hidden and a hidden
 *    primary is hot-plugged;
 *  - a primary whose standby does not exist when it is created (or is
 *    failover=off) is plugged at once (qtest params/on_mismatch, off,
 *    hotplug/1_reverse, 2_reverse);
 *  - migration setup: each visible primary of a negotiated standby is
 *    unplugged (event UNPLUG_PRIMARY; an ACPI eject, or a surprise removal
 *    when configured) and hidden again; while any unplug is pending the
 *    migration stays in "wait-unplug", polling every 250 ms with no time
 *    limit; then "active" (pre-copy), "device" (stop-and-copy: the guest is
 *    frozen for the downtime, default 300 ms; event STOP) and "completed";
 *  - a primary's hot-add reaches the guest's driver probe_delay_ns after
 *    PRIMARY_PLUG (the guest's PnP enumeration; cold-plugged ones at
 *    boot at once), and its VF's carrier comes up link_up_delay_ns after
 *    that, after a PF reset and after the PF link goes up (event
 *    VF_CARRIER down/up, so the link-down window is in the timeline);
 *  - the guest then runs on the destination (event RESUME): standby
 *    backends move to the destination's ports, RARP announcements go out
 *    (QEMU's 5 announce rounds: 50 ms after the resume, then 150, 250,
 *    350, 450 ms apart) and
 *    ANNOUNCE is set when negotiated; the destination's primary (a new VF,
 *    same MAC) is plugged for each standby that had negotiated STANDBY
 *    (FAILOVER_NEGOTIATED on the destination);
 *  - migrate_cancel during setup/wait-unplug: "cancelling" while the
 *    unplug is pending, at most 30 s, then "cancelled"; after any cancel
 *    the unplugged primaries are plugged again (the same VF).
 * A failover=off primary is migrated as a migratable device (the qtest's
 * premise): it stays plugged and its port moves with the guest.
 *
 * Everything runs as ndisemu platform work; call the API from the top
 * level (between emu_run_for calls) or from platform work.
 */
#ifndef EMU_HV_H
#define EMU_HV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ndisemu/emu.h"
#include "stbnic.h"
#include "vfdev.h"
#include "vswitch.h"

#define EMU_HV_MAX_NICS 4
#define EMU_HV_ID_LEN   32

/* Timing defaults taken from real QEMU 7.2 (TCG) with a Debian 6.1 guest
 * and an e1000e as the VF; docs/scenarios.md ("Calibration") has each
 * measured figure and its source. */
#define EMU_HV_DEFAULT_DOWNTIME_NS      290000000ull /* downtime measured 2-290 ms */
#define EMU_HV_DEFAULT_PRECOPY_NS       650000000ull /* total 0.6-1.8 s: 250 + 650 + 290 ms */
#define EMU_HV_DEFAULT_POLL_NS          250000000ull /* QEMU's wait-unplug sleep; setup 252-255 ms */
#define EMU_HV_DEFAULT_EJECT_DELAY_NS   70000000ull  /* VF link drops 66-74 ms after the request */
#define EMU_HV_DEFAULT_PROBE_DELAY_NS   215000000ull  /* new netdev 198-233 ms after RESUME */
#define EMU_HV_DEFAULT_LINK_UP_DELAY_NS 2885000000ull /* link up 3.04-3.16 s after RESUME */

typedef struct emu_hv emu_hv;

typedef struct emu_hv_cfg {
    uint64_t downtime_ns;      /* stop-and-copy; 0 = EMU_HV_DEFAULT_DOWNTIME_NS */
    uint64_t precopy_ns;       /* "active" before stop-and-copy; 0 = ..._PRECOPY_NS */
    uint64_t poll_ns;          /* wait-unplug polling; 0 = ..._POLL_NS */
    uint64_t cancel_wait_ns;   /* how long a cancelled migration waits for an unplug; 0 = 30 s */
    uint64_t eject_delay_ns;   /* the guest OS's reaction to an eject request */
    uint64_t probe_delay_ns;   /* hot-add (PRIMARY_PLUG) to the guest adding the VF */
    uint64_t link_up_delay_ns; /* a VF's carrier after attach, reset, PF link up */
    bool surprise_unplug;      /* unplug primaries by surprise removal, not an eject */
    bool clear_vf_mac;         /* clear the VF's MAC on the host once it left the guest */
    unsigned announce_rounds;  /* RARP rounds after a migration; 0 = 5; UINT32_MAX = none */
} emu_hv_cfg;

typedef struct emu_hv_event {
    uint64_t t_ns;
    char kind[24];               /* FAILOVER_NEGOTIATED, UNPLUG_PRIMARY, MIGRATION, STOP, ... */
    char subject[EMU_HV_ID_LEN]; /* device id, or the new migration status */
    char detail[64];
} emu_hv_event;

typedef struct emu_hv_primary_cfg {
    const char *id;
    const char *pair;            /* failover_pair_id: the standby's id */
    emu_vfdev_cfg vf;            /* model, MAC, caps, link */
    const char *const *registry; /* the VF adapter's registry (offload keywords...) */
    bool vf_mac_assigned;        /* the host gives the VF the MAC (steering + anti-spoof) */
    bool no_destination_vf;      /* the destination host has no VF for it */
    uint64_t eject_delay_ns;     /* the guest's reaction to this card's eject; 0 = the hv's */
    /* This card's link-up delay (EMU_VFDEV_LINK_NEVER: never), on the
     * host it starts on and on a migration's destination, when set. */
    uint64_t link_up_delay_ns, dst_link_up_delay_ns;
    bool link_up_delay_set, dst_link_up_delay_set;
} emu_hv_primary_cfg;

/* The guest starts on `host`; its devices' ports live on the fabric's host
 * switches ("<host>-tap<N>", "<host>-vf<N>"). */
emu_hv *emu_hv_create(emu_runtime *rt, emu_fabric *net, const char *host, const emu_hv_cfg *cfg);
void emu_hv_destroy(emu_hv *hv);

/* Devices. Before emu_hv_boot they are the command line (created at boot,
 * in order); after it, device_add. The hv owns the NIC and the VFs. */
int emu_hv_add_standby(emu_hv *hv, const char *id, bool failover, const emu_stbnic_cfg *nic);
int emu_hv_add_primary(emu_hv *hv, const emu_hv_primary_cfg *cfg);
/* Starts the guest's devices (cold plug). */
int emu_hv_boot(emu_hv *hv);

/* QMP-like controls. */
typedef struct emu_hv_migrate_params {
    const char *dst;      /* destination host name */
    uint64_t downtime_ns; /* 0: the hv's */
    uint64_t precopy_ns;  /* 0: the hv's */
} emu_hv_migrate_params;
int emu_hv_migrate(emu_hv *hv, const emu_hv_migrate_params *p);
int emu_hv_migrate_cancel(emu_hv *hv);
void emu_hv_stop(emu_hv *hv); /* pause the guest */
void emu_hv_cont(emu_hv *hv);

/* Host-side events on a primary's VF. */
int emu_hv_vf_link(emu_hv *hv, const char *id, bool up);
int emu_hv_vf_reset(emu_hv *hv, const char *id);
/* device_del of a primary or a standby (eject, or surprise removal) and
 * device_add of it again. */
int emu_hv_unplug(emu_hv *hv, const char *id, bool surprise);
int emu_hv_replug(emu_hv *hv, const char *id);
int emu_hv_standby_link(emu_hv *hv, const char *id, bool up);

/* Queries. */
const char *emu_hv_migration_status(emu_hv *hv);
uint64_t emu_hv_migration_time_ns(emu_hv *hv); /* since migrate, until it ended or now */
const char *emu_hv_host(emu_hv *hv);
/* On the guest's PCI bus, as query-pci shows it (qtest's check_one_card). */
bool emu_hv_visible(emu_hv *hv, const char *id);
/* "hidden", "plugging", "plugged", "unplug-pending", "unplugged", "failed", "absent". */
const char *emu_hv_device_state(emu_hv *hv, const char *id);
/* The guest adapter instance of a device now ("standby0", "hostdev0.dst"), or NULL. */
const char *emu_hv_instance(emu_hv *hv, const char *id);
emu_vfdev *emu_hv_vf(emu_hv *hv, const char *id);
emu_stbnic *emu_hv_nic(emu_hv *hv, const char *id);
size_t emu_hv_events(emu_hv *hv, const emu_hv_event **out);
/* Events that could not be recorded (out of memory): counts are wrong if any. */
size_t emu_hv_events_lost(emu_hv *hv);
unsigned emu_hv_count(emu_hv *hv, const char *kind, const char *subject);
/* Records an event from outside (the scenario runner's own markers). */
void emu_hv_note(emu_hv *hv, const char *kind, const char *subject, const char *detail);
/* Invoked for every event as it is recorded (progress output). */
typedef void (*emu_hv_event_fn)(void *ctx, const emu_hv_event *ev);
void emu_hv_set_event_fn(emu_hv *hv, emu_hv_event_fn fn, void *ctx);

#endif /* EMU_HV_H */
