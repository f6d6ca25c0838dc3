/*
 * vsvc_policy.h - the binding policy: keeps every protocol but vfoprot off
 * each VF that vfo has paired, and puts back exactly what it changed when a
 * VF is no longer paired or vfo is being removed.
 *
 * Rules (docs/vfosvc.md explains them for administrators):
 *  1. A paired VF is an adapter that vfo's control device names as the VF of
 *     one of its pairs (state other than ABSENT), that is not a vfo adapter
 *     itself, whose MAC (when the back end knows it) is the one vfo reported,
 *     and that no second vfo adapter claims. On a paired VF, every binding
 *     path is disabled except vfoprot's, which is enabled. Filter paths and
 *     fixed paths are never touched.
 *  2. No other adapter is ever touched, whatever its MAC, driver or name,
 *     except to restore a change the service itself recorded.
 *  3. Before changing a binding the service records its previous state in the
 *     store; it forgets the record only once that state is back (or the
 *     binding no longer exists).
 *  4. A VF that is present but no longer paired gets its recorded bindings
 *     restored once it has stayed unpaired for restore_grace_ms (so a VF that
 *     re-appears and pairs again, e.g. during a migration or a flap storm,
 *     is never touched). An absent adapter keeps its records until it returns.
 *  5. When vfoprot is not installed, or on vsvc_policy_restore_all() (service
 *     uninstall), every recorded change on a present adapter is restored at
 *     once.
 *  6. The write lock is taken only when a change is due; a reconcile that
 *     finds nothing to do reads the graph and leaves.
 * Every decision is logged once, with its reason (vsvc_events.h).
 *
 * The policy has no clock and no threads: the caller passes a monotonic time
 * in milliseconds and calls it from one thread.
 */
#ifndef VSVC_POLICY_H
#define VSVC_POLICY_H

#include "vsvc_bg.h"
#include "vsvc_config.h"
#include "vsvc_events.h"
#include "vsvc_pairs.h"
#include "vsvc_store.h"

struct vsvc_policy;

struct vsvc_policy_env {
    const struct vsvc_bg_ops *bg;
    void *bg_ctx;
    const struct vsvc_store_ops *store;
    void *store_ctx;
    const struct vsvc_log_ops *log;
    void *log_ctx;
};

struct vsvc_reconcile_result {
    int status;                /* VSVC_OK, VSVC_OK_REBOOT or the first error */
    uint32_t changes;          /* binding changes committed */
    uint32_t forgotten;        /* records dropped without a change */
    uint32_t pending_restores; /* unpaired VFs waiting out the grace period */
    uint32_t leftovers;        /* records of adapters that are not present */
    uint32_t next_ms;          /* reconcile again within this many ms; 0: no deadline */
};

struct vsvc_policy_counters {
    uint64_t reconciles;
    uint64_t write_sessions; /* write locks taken */
    uint64_t lock_busy;      /* write-lock attempts that found it held */
    uint64_t changes;        /* bindings disabled/enabled on paired VFs */
    uint64_t restores;       /* bindings put back to their recorded state */
    uint64_t forgotten;      /* records dropped without a change */
    uint64_t backend_errors; /* open/read/set failures */
    uint64_t apply_errors;   /* commits that failed */
    uint64_t store_errors;   /* record writes/deletes that failed */
    uint64_t bad_records;    /* unusable records found in the store */
    uint64_t suspect_vfs;    /* claimed VFs the policy refused to touch */
};

/* NULL when out of memory or env is incomplete. cfg may be NULL (defaults). */
struct vsvc_policy *vsvc_policy_new(const struct vsvc_config *cfg,
                                    const struct vsvc_policy_env *env);
/* Frees memory only; never calls the back ends (safe after a simulated crash). */
void vsvc_policy_free(struct vsvc_policy *p);

/* Loads the store. Must succeed before reconciling. */
int vsvc_policy_start(struct vsvc_policy *p);

/* One pass: read the graph, decide, apply. pairs->valid == false means vfo's
 * control device is unavailable: nothing counts as paired. */
int vsvc_policy_reconcile(struct vsvc_policy *p, const struct vsvc_pairs *pairs, uint64_t now_ms,
                          struct vsvc_reconcile_result *res);

/* Uninstall: restore every recorded change on present adapters now.
 * res->leftovers counts records that could not be restored because their
 * adapter is absent (they stay in the store). */
int vsvc_policy_restore_all(struct vsvc_policy *p, uint64_t now_ms,
                            struct vsvc_reconcile_result *res);

const struct vsvc_policy_counters *vsvc_policy_counters(const struct vsvc_policy *p);

/* The records the policy currently holds (mirror of the store). */
size_t vsvc_policy_record_count(const struct vsvc_policy *p);
const struct vsvc_store_record *vsvc_policy_record_at(const struct vsvc_policy *p, size_t i);

#endif /* VSVC_POLICY_H */
