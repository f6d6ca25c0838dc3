/*
 * pt_oid.c - OID requests vfo makes on the VF binding: the replay of the
 * upper stack's settings (one at a time, as lib/failover issues them) and the
 * statistics samples that keep the merged counters monotonic.
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "pt_oid.tmh"
#endif

static void replay_answer(vfo_binding *b, uint32_t token, fo_oid_status st)
{
    vfo_adapter *ad = vfo_binding_pair_locked(b);
    if (!ad)
        return;
    fo_reason r = fo_primary_replay_complete(&ad->pair, token, st);
    vfo_event_end(ad, r, "replay complete");
}

static fo_oid_status map_oid_status(NDIS_STATUS st)
{
    switch (st) {
    case NDIS_STATUS_SUCCESS:
        return FO_OID_OK;
    case NDIS_STATUS_NOT_SUPPORTED:
    case NDIS_STATUS_INVALID_OID:
        return FO_OID_NOT_SUPPORTED;
    case NDIS_STATUS_INVALID_DATA:
    case NDIS_STATUS_INVALID_LENGTH:
    case NDIS_STATUS_BUFFER_TOO_SHORT:
        return FO_OID_INVALID;
    case NDIS_STATUS_REQUEST_ABORTED:
    case NDIS_STATUS_RESET_IN_PROGRESS:
    case NDIS_STATUS_ADAPTER_REMOVED:
    case NDIS_STATUS_PAUSED:
    case NDIS_STATUS_CLOSING:
    case NDIS_STATUS_LOW_POWER_STATE:
        return FO_OID_ABORTED;
    default:
        return FO_OID_FAILED;
    }
}

/* A VF without offload capabilities may refuse the offload OIDs outright; it
 * already is where vfo wants it when nothing is to be enabled. */
static fo_oid_status replay_status(const vfo_binding *b, const vfo_oid_slot *s, NDIS_STATUS st)
{
    fo_oid_status fs = map_oid_status(st);
    if (fs != FO_OID_NOT_SUPPORTED)
        return fs;
    if (s->setting == FO_SET_OFFLOAD && s->zero_payload)
        return FO_OID_OK;
    if (s->setting == FO_SET_ENCAPSULATION && b->desc.caps.offload.flags == 0)
        return FO_OID_OK;
    return fs;
}

/*
 * The engine issues the next replay step from inside the answer to this one,
 * on this same slot: the slot is read, then freed, then answered. (Answered
 * while still claimed, the next step found it busy, was answered "aborted",
 * re-issued at once, found it busy again, ... a livelock at one instant that
 * fuzz_oid found: tests/fuzz/oid/regressions.) A step that did find the slot
 * busy (the engine forgot an earlier step whose OID is still out) is answered
 * "aborted" now that the slot is free, so the engine sends it again.
 */
void vfo_binding_replay_done(vfo_binding *b, vfo_oid_slot *s, NDIS_STATUS status)
{
    fo_oid_status fs = replay_status(b, s, status);
    uint32_t token = s->token;
    if (status != NDIS_STATUS_SUCCESS)
        VFO_INFO("replay of %s: VF answered %#x", fo_setting_name(s->setting), (unsigned)status);
    vfo_lock();
    s->use = VFO_OID_FREE;
    bool waiting = b->replay_waiting;
    uint32_t waiting_token = b->replay_waiting_token;
    b->replay_waiting = false;
    vfo_unlock();
    replay_answer(b, token, fs);
    if (waiting)
        replay_answer(b, waiting_token, FO_OID_ABORTED);
}

/* The OID each replay step sets on the VF; 0 for the settings vfo never
 * records (it does not offer RSS or interrupt moderation upwards). */
static const NDIS_OID k_replay_oid[FO_SET_COUNT] = {
    [FO_SET_MULTICAST_LIST] = OID_802_3_MULTICAST_LIST,
    [FO_SET_OFFLOAD] = OID_TCP_OFFLOAD_PARAMETERS,
    [FO_SET_ENCAPSULATION] = OID_OFFLOAD_ENCAPSULATION,
    [FO_SET_VLAN_ID] = OID_GEN_VLAN_ID,
    [FO_SET_NETWORK_ADDRESSES] = OID_GEN_NETWORK_LAYER_ADDRESSES,
    [FO_SET_PM_PARAMETERS] = OID_PM_PARAMETERS,
    [FO_SET_PACKET_FILTER] = OID_GEN_CURRENT_PACKET_FILTER,
};

/* Builds the OID for one replay step into the slot; 0 when there is none.
 * Every payload is the OID's buffer as recorded, except the offloads, which
 * the engine keeps as fo_offload. */
static NDIS_OID replay_oid(vfo_oid_slot *s, const UCHAR *payload, size_t len, ULONG *out_len)
{
    NDIS_OID oid = (unsigned)s->setting < FO_SET_COUNT ? k_replay_oid[s->setting] : 0;
    *out_len = (ULONG)len;
    if (oid == OID_TCP_OFFLOAD_PARAMETERS) {
        fo_offload o;
        NdisMoveMemory(&o, payload, sizeof(o));
        s->zero_payload = (o.flags & FO_OFL_ALL) == 0;
        vfo_offload_params_to_ndis(&o, (NDIS_OFFLOAD_PARAMETERS *)s->buf);
        *out_len = NDIS_SIZEOF_OFFLOAD_PARAMETERS_REVISION_2;
    } else if (oid) {
        NdisMoveMemory(s->buf, payload, len);
    }
    return oid;
}

/* REPLAY: send one recorded setting to the VF. */
void vfo_binding_replay(vfo_adapter *ad, vfo_binding *b, const fo_action *a)
{
    UCHAR *payload = ad->replay_payload; /* only the adapter's action drainer uses it */
    vfo_oid_slot *s = &b->replay;
    size_t len = 0;
    ULONG oid_len;
    vfo_lock();
    if (!fo_primary_may_query(&ad->pair)) {
        /* The engine asked before the VF's reset began; from its
         * NDIS_STATUS_RESET_START to _END no OID goes to the VF (ResetQuiet).
         * Aborted, the setting is sent again once the reset is over. */
        vfo_unlock();
        replay_answer(b, a->u.replay.token, FO_OID_ABORTED);
        return;
    }
    if (s->use != VFO_OID_FREE) {
        /* Answered when the outstanding one completes: answered now, the
         * engine would issue it again at once, into the same busy slot. */
        b->replay_waiting = true;
        b->replay_waiting_token = a->u.replay.token;
        vfo_unlock();
        VFO_WARN("replay of %s waits for an outstanding one", fo_setting_name(a->u.replay.setting));
        return;
    }
    fo_reason r = fo_replay_payload(&ad->pair, a->u.replay.setting, payload, VFO_OID_BUF, &len);
    vfo_unlock();
    s->setting = a->u.replay.setting;
    s->token = a->u.replay.token;
    s->zero_payload = false;
    NDIS_OID oid =
        r == FO_R_OK && len <= sizeof(s->buf) ? replay_oid(s, payload, len, &oid_len) : 0;
    if (oid == 0) {
        replay_answer(b, s->token, r == FO_R_OK ? FO_OID_NOT_SUPPORTED : FO_OID_FAILED);
        return;
    }
    s->use = VFO_OID_REPLAY;
    vfo_binding_oid(b, s, NdisRequestSetInformation, oid, oid_len);
}

/* ------------------------------------------------------------------------ */
/* Statistics                                                               */

/* g_vfo.lock held: claims the statistics slot (its OID pins the binding
 * open); false when the binding is going away or the slot is busy. */
static bool claim_stats_locked(vfo_binding *b)
{
    if (vfo_get(&b->orphan) || b->closing || b->step != VFO_BS_BOUND)
        return false;
    if (b->ad && !fo_primary_may_query(&b->ad->pair))
        return false; /* the VF is being reset: no OID until it ends */
    if (b->stats.use != VFO_OID_FREE) {
        b->stats_again = true; /* asked again when the slot frees */
        return false;
    }
    b->stats.use = VFO_OID_STATS;
    b->oids_out++;
    return true;
}

static void issue_stats(vfo_binding *b)
{
    vfo_binding_oid_issue(b, &b->stats, NdisRequestQueryInformation, OID_GEN_STATISTICS,
                          sizeof(NDIS_STATISTICS_INFO));
}

/* QUERY_PRIMARY_STATS (the action drainer: ad->bind is stable). */
void vfo_binding_query_stats(vfo_binding *b)
{
    if (!b)
        return;
    vfo_lock();
    bool claimed = claim_stats_locked(b);
    vfo_unlock();
    if (claimed)
        issue_stats(b);
}

/* CheckForHang's periodic sample: any thread, so the binding is taken from
 * the adapter under the lock. */
void vfo_adapter_sample_primary(vfo_adapter *ad)
{
    vfo_lock();
    vfo_binding *b = ad->bind;
    bool claimed = b && claim_stats_locked(b);
    vfo_unlock();
    if (claimed)
        issue_stats(b);
}

void vfo_binding_stats_done(vfo_binding *b, vfo_oid_slot *s, NDIS_STATUS status)
{
    fo_counters c;
    if (status == NDIS_STATUS_SUCCESS &&
        s->req.DATA.QUERY_INFORMATION.BytesWritten >= NDIS_SIZEOF_STATISTICS_INFO_REVISION_1) {
        vfo_counters_from_ndis((const NDIS_STATISTICS_INFO *)s->buf, &c);
        vfo_adapter *ad = vfo_binding_pair_locked(b);
        if (ad) {
            fo_reason r = fo_stats_sample(&ad->pair, FO_PATH_PRIMARY, &c, 64);
            vfo_event_end(ad, r == FO_R_STALE_COMPLETION ? FO_R_OK : r, "VF statistics");
        }
    }
    /* A query asked for meanwhile goes out when the slot is free
     * (vfo_binding_oid_done). */
}
