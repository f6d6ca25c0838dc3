/*
 * vsvc_pairs.h - vfo's pairs as the policy sees them: which VF each vfo
 * adapter has claimed, converted from the control device's reply
 * (vfo_ctl.h) into canonical ids.
 */
#ifndef VSVC_PAIRS_H
#define VSVC_PAIRS_H

#include "vsvc_common.h"

struct vsvc_ifid {
    char id[VSVC_ID_LEN]; /* "" when unknown */
    uint8_t mac[6];       /* current MAC */
    uint8_t permanent_mac[6];
    uint64_t net_luid;
    uint32_t if_index;
};

struct vsvc_refusal {
    struct vsvc_ifid candidate;
    uint32_t reason; /* enum vfo_ctl_refusal_reason */
    uint32_t count;
};

struct vsvc_pair {
    struct vsvc_ifid vfo;
    struct vsvc_ifid vf; /* id "" when state is ABSENT */
    uint32_t state;      /* enum vfo_ctl_pair_state */
    uint32_t flags;      /* VFO_CTL_ADAPTER_* */
    uint32_t n_refused;
    struct vsvc_refusal refused[VFO_CTL_MAX_REFUSALS];
    struct vfo_ctl_counters counters;
};

struct vsvc_pairs {
    bool valid; /* false: vfo's control device could not be read */
    uint64_t generation;
    uint32_t flags; /* VFO_CTL_PAIRS_* */
    uint64_t bad_requests;
    uint64_t unmatched_binds;
    uint32_t count;
    struct vsvc_pair pair[VFO_CTL_MAX_ADAPTERS];
};

/* Empty and not valid ("control device unavailable"). */
void vsvc_pairs_clear(struct vsvc_pairs *p);

/* Validates a raw IOCTL_VFO_QUERY_PAIRS reply of `len` bytes with
 * vfo_ctl_check_pairs_reply() and converts it. On error *out is cleared and
 * why[] says what was wrong. */
int vsvc_pairs_from_ctl(struct vsvc_pairs *out, const void *reply, size_t len, char *why,
                        size_t why_len);

/* True when vfo has claimed a VF on this pair (state other than ABSENT). */
bool vsvc_pair_claims_vf(const struct vsvc_pair *p);

const char *vsvc_pair_state_name(uint32_t state);
const char *vsvc_refusal_name(uint32_t reason);
const char *vsvc_ctl_check_name(int check);

#endif /* VSVC_PAIRS_H */
