/*
 * hv_int.h - the hypervisor model's state (see hv.h). hv->mu guards all of
 * it; the functions here expect it held unless they say otherwise.
 */
#ifndef EMU_HV_INT_H
#define EMU_HV_INT_H

#include <pthread.h>

#include "hv.h"
#include "pcibus.h"

#define HV_HOST_LEN 16
#define HV_MAX_REG  12
#define HV_SLOTS    EMU_PCIBUS_MAX_SLOTS

typedef enum dev_state {
    DS_ABSENT,
    DS_HIDDEN,
    DS_PLUGGING,
    DS_PLUGGED,
    DS_UNPLUG_PENDING,
    DS_UNPLUGGED,
    DS_FAILED,
} dev_state;

typedef enum mig_state {
    MIG_NONE,
    MIG_SETUP,
    MIG_WAIT_UNPLUG,
    MIG_ACTIVE,
    MIG_DEVICE,
    MIG_COMPLETED,
    MIG_CANCELLING,
    MIG_CANCELLED,
    MIG_FAILED,
} mig_state;

typedef struct hv_standby {
    char id[EMU_HV_ID_LEN];
    bool failover, created;
    bool primary_hidden; /* QEMU's failover_primary_hidden */
    bool negotiated;     /* the guest accepted STANDBY (carried over by migration) */
    unsigned index;
    int slot;
    dev_state state;
    emu_stbnic *nic;
} hv_standby;

typedef struct hv_primary {
    char id[EMU_HV_ID_LEN], pair[EMU_HV_ID_LEN];
    char instance[EMU_HV_ID_LEN + HV_HOST_LEN + 2];
    emu_hv_primary_cfg cfg;
    char reg_store[HV_MAX_REG][64];
    const char *reg[HV_MAX_REG + 1];
    bool created;
    bool by_migration;   /* unplugged by the migration setup: plugged again on failure */
    bool eject_on_added; /* unplug requested while the guest was still adding it */
    bool surprise_on_added;
    bool migrated;            /* its VF is a migration's destination VF */
    uint64_t carrier_down_ns; /* when its VF's carrier last went down */
    unsigned index;
    int slot;
    dev_state state;
    emu_vfdev *vf;
    char vf_host[HV_HOST_LEN];
} hv_primary;

typedef struct slot_owner {
    bool primary;
    unsigned index;
} slot_owner;

struct emu_hv {
    emu_runtime *rt;
    emu_fabric *net;
    emu_pcibus *bus;
    pthread_mutex_t mu;
    emu_hv_cfg cfg;
    char host[HV_HOST_LEN];
    bool booted, guest_stopped;
    bool cold_plugging; /* emu_hv_boot: devices on the command line need no hot-add */

    hv_standby standby[EMU_HV_MAX_NICS];
    hv_primary primary[EMU_HV_MAX_NICS];
    unsigned n_standby, n_primary;
    slot_owner owner[HV_SLOTS];
    /* creation order of command-line devices: index | 0x100 for primaries */
    unsigned boot_order[2 * EMU_HV_MAX_NICS], n_boot;
    emu_vfdev *retired[4 * EMU_HV_MAX_NICS];
    unsigned n_retired;

    mig_state mig;
    char dst[HV_HOST_LEN];
    uint64_t mig_start_ns, mig_end_ns, downtime_ns, precopy_ns, cancel_deadline_ns;
    uint64_t mig_timer;
    bool paused_reported;
    unsigned announce_round;

    emu_hv_event *events; /* grows as needed: a long scenario has thousands */
    size_t n_events, cap_events, lost_events;
    emu_hv_event_fn event_fn;
    void *event_ctx;
};

/* hv.c */
void hv_event(emu_hv *hv, const char *kind, const char *subject, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
emu_port *hv_port(emu_hv *hv, const char *host, const char *kind, unsigned index);
hv_standby *hv_find_standby(emu_hv *hv, const char *id);
hv_primary *hv_find_primary(emu_hv *hv, const char *id);
hv_standby *hv_pair_of(emu_hv *hv, const hv_primary *p);
int hv_plug_primary(emu_hv *hv, hv_primary *p);
int hv_unplug_primary(emu_hv *hv, hv_primary *p, bool surprise);
bool hv_unplug_pending(emu_hv *hv);
void hv_retire_vf(emu_hv *hv, hv_primary *p);

/* hv_migrate.c */
const char *hv_mig_name(mig_state s);
void hv_lock(emu_hv *hv);
void hv_unlock(emu_hv *hv);

#endif /* EMU_HV_INT_H */
