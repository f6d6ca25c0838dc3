/* vfo's pairs from the control device's reply (vsvc_pairs.h). */
#include <stdio.h>
#include <string.h>

#include "vsvc_pairs.h"

void vsvc_pairs_clear(struct vsvc_pairs *p)
{
    memset(p, 0, sizeof(*p));
}

static void ifid_from_ctl(struct vsvc_ifid *out, const struct vfo_ctl_ifid *in)
{
    vsvc_id_from_guid(&in->guid, out->id);
    memcpy(out->mac, in->current_mac, sizeof(out->mac));
    memcpy(out->permanent_mac, in->permanent_mac, sizeof(out->permanent_mac));
    out->net_luid = in->net_luid;
    out->if_index = in->if_index;
}

static void pair_from_ctl(struct vsvc_pair *out, const struct vfo_ctl_adapter *in)
{
    uint32_t i;
    ifid_from_ctl(&out->vfo, &in->vfo);
    ifid_from_ctl(&out->vf, &in->vf);
    out->state = in->pair_state;
    out->flags = in->flags;
    out->n_refused = in->refusal_count;
    for (i = 0; i < in->refusal_count; i++) {
        ifid_from_ctl(&out->refused[i].candidate, &in->refused[i].candidate);
        out->refused[i].reason = in->refused[i].reason;
        out->refused[i].count = in->refused[i].count;
    }
    out->counters = in->counters;
}

int vsvc_pairs_from_ctl(struct vsvc_pairs *out, const void *reply, size_t len, char *why,
                        size_t why_len)
{
    const struct vfo_ctl_pairs *r = reply;
    int check;
    uint32_t i;

    vsvc_pairs_clear(out);
    if (why_len)
        why[0] = '\0';
    if (reply == NULL || len != sizeof(*r)) {
        snprintf(why, why_len, "reply is %lu bytes, expected %lu", (unsigned long)len,
                 (unsigned long)sizeof(*r));
        return VSVC_E_SIZE;
    }
    check = vfo_ctl_check_pairs_reply(r, (uint32_t)len);
    if (check != VFO_CTL_CHECK_OK) {
        snprintf(why, why_len, "malformed reply: %s (abi %u, size %u, %u adapters)",
                 vsvc_ctl_check_name(check), (unsigned)r->abi_version, (unsigned)r->size,
                 (unsigned)r->adapter_count);
        return check == VFO_CTL_CHECK_VERSION ? VSVC_E_VERSION : VSVC_E_INVAL;
    }
    out->valid = true;
    out->generation = r->generation;
    out->flags = r->flags;
    out->bad_requests = r->bad_requests;
    out->unmatched_binds = r->unmatched_binds;
    out->count = r->adapter_count;
    for (i = 0; i < r->adapter_count; i++)
        pair_from_ctl(&out->pair[i], &r->adapters[i]);
    return VSVC_OK;
}

bool vsvc_pair_claims_vf(const struct vsvc_pair *p)
{
    return p->state != VFO_CTL_PAIR_ABSENT && p->vf.id[0] != '\0';
}

const char *vsvc_pair_state_name(uint32_t state)
{
    switch (state) {
    case VFO_CTL_PAIR_ABSENT:
        return "ABSENT";
    case VFO_CTL_PAIR_OPENING:
        return "OPENING";
    case VFO_CTL_PAIR_REPLAYING:
        return "REPLAYING";
    case VFO_CTL_PAIR_ACTIVE:
        return "ACTIVE";
    case VFO_CTL_PAIR_STANDBY_ONLY:
        return "STANDBY_ONLY";
    case VFO_CTL_PAIR_DETACHING:
        return "DETACHING";
    default:
        return "UNKNOWN";
    }
}

const char *vsvc_refusal_name(uint32_t reason)
{
    switch (reason) {
    case VFO_CTL_REFUSE_NOT_ETHERNET:
        return "not Ethernet";
    case VFO_CTL_REFUSE_IS_VFO:
        return "is a vfo adapter";
    case VFO_CTL_REFUSE_NO_STANDBY:
        return "virtio did not negotiate STANDBY";
    case VFO_CTL_REFUSE_FAILOVER_DISABLED:
        return "failover disabled on the vfo adapter";
    case VFO_CTL_REFUSE_MTU_MISMATCH:
        return "MTU mismatch";
    case VFO_CTL_REFUSE_ALREADY_PAIRED:
        return "vfo adapter already has a VF";
    case VFO_CTL_REFUSE_OPEN_FAILED:
        return "opening the VF failed";
    case VFO_CTL_REFUSE_RESOURCES:
        return "out of resources";
    case VFO_CTL_REFUSE_OTHER:
        return "other (see the driver trace)";
    default:
        return "unknown reason";
    }
}

const char *vsvc_ctl_check_name(int check)
{
    switch (check) {
    case VFO_CTL_CHECK_OK:
        return "ok";
    case VFO_CTL_CHECK_UNKNOWN_IOCTL:
        return "unknown control code";
    case VFO_CTL_CHECK_INPUT_SIZE:
        return "wrong input size";
    case VFO_CTL_CHECK_OUTPUT_SIZE:
        return "wrong output size";
    case VFO_CTL_CHECK_VERSION:
        return "ABI version or size field mismatch";
    case VFO_CTL_CHECK_RESERVED:
        return "reserved field not zero";
    case VFO_CTL_CHECK_FIELD:
        return "field out of range";
    default:
        return "unknown check";
    }
}
