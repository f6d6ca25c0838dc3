/*
 * policy_int.h - the policy's private state, shared by policy.c (lifecycle,
 * sessions, applying) and plan.c (observing and deciding). Not installed:
 * nothing outside service/policy includes it.
 */
#ifndef VSVC_POLICY_INT_H
#define VSVC_POLICY_INT_H

#include "vsvc_policy.h"

#define NO_INDEX ((size_t)-1)

enum policy_mode {
    MODE_ENFORCE = 0,     /* normal reconcile */
    MODE_RESTORE_ALL = 1, /* uninstall */
};

/* What the policy remembers about one adapter between reconciles. Not
 * persistent on purpose: after a restart every VF gets a fresh grace period. */
struct watch {
    char id[VSVC_ID_LEN];
    bool seen;      /* present in the latest graph */
    bool pending;   /* unpaired, has records: restore when the grace expires */
    uint64_t since; /* when it was first seen unpaired */
    int suspect;    /* the suspect reason last logged, SUSPECT_NONE if none */
};

enum suspect_reason {
    SUSPECT_NONE = 0,
    SUSPECT_IS_VFO,     /* vfo names one of its own adapters as a VF */
    SUSPECT_MAC,        /* the adapter's MAC is not the one vfo reported */
    SUSPECT_TWO_CLAIMS, /* two vfo adapters claim it */
};

enum vf_class {
    VF_NOT_CLAIMED = 0,
    VF_PAIRED,
    VF_SUSPECT,
};

enum action {
    ACT_DISABLE, /* paired VF: protocol off (record first) */
    ACT_ENABLE,  /* paired VF: vfoprot on (record first) */
    ACT_RESTORE, /* back to the recorded state, then forget the record */
    ACT_FORGET,  /* drop a record that needs no change */
};

enum why {
    WHY_PAIRED_VF,
    WHY_UNPAIRED,
    WHY_VFOPROT_GONE,
    WHY_UNINSTALL,
    WHY_BINDING_GONE,
    WHY_ALREADY_ORIGINAL,
};

struct plan_item {
    enum action act;
    enum why why;
    size_t binding;               /* index in the graph, NO_INDEX for a vanished binding */
    size_t record;                /* index in records, NO_INDEX when none exists yet */
    const struct vsvc_pair *pair; /* ACT_DISABLE/ENABLE: the claiming pair */
    bool done;                    /* its step succeeded (set while applying) */
};

#define PLAN_MAX (VSVC_BG_MAX_BINDINGS + VSVC_STORE_MAX_RECORDS)

struct plan {
    size_t n;
    bool needs_write;       /* anything but ACT_FORGET */
    uint32_t pending;       /* unpaired VFs inside their grace period */
    uint32_t leftovers;     /* records of absent adapters */
    uint64_t next_deadline; /* earliest grace expiry; 0 when none */
    struct plan_item items[PLAN_MAX];
};

struct seen_refusal {
    char vfo_id[VSVC_ID_LEN];
    char candidate_id[VSVC_ID_LEN];
    uint32_t reason;
};

#define MAX_SEEN_REFUSALS (VFO_CTL_MAX_ADAPTERS * VFO_CTL_MAX_REFUSALS)

struct vsvc_policy {
    struct vsvc_config cfg;
    struct vsvc_policy_env env;
    bool started;
    struct vsvc_bg_graph *graph;
    struct vsvc_store_record *records; /* VSVC_STORE_MAX_RECORDS */
    size_t n_records;
    bool drop[VSVC_STORE_MAX_RECORDS]; /* scratch: records to delete after a pass */
    struct watch watch[VSVC_BG_MAX_ADAPTERS];
    size_t n_watch;
    struct seen_refusal refusals[MAX_SEEN_REFUSALS];
    size_t n_refusals;
    struct plan plan;
    struct vsvc_policy_counters counters;
    char error_text[256]; /* scratch for bg_error()/store_error() */
};

/* policy.c */
void policy_say(struct vsvc_policy *p, enum vsvc_event ev, const char *fmt, ...) VSVC_PRINTF(3, 4);
/* "{GUID} (service ixgbevf, PCI\...)" for log lines. */
void policy_describe(const struct vsvc_bg_adapter *a, char *buf, size_t len);
bool policy_adapter_has_records(const struct vsvc_policy *p, const char *adapter_id);

/* plan.c */
void plan_reset(struct plan *pl);
void plan_observe(struct vsvc_policy *p, const struct vsvc_pairs *pairs, enum policy_mode mode,
                  uint64_t now_ms);
void plan_build(struct vsvc_policy *p, const struct vsvc_pairs *pairs, enum policy_mode mode,
                uint64_t now_ms);

#endif /* VSVC_POLICY_INT_H */
