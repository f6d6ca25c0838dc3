/* Read-only views for the glue: what to advertise, report and show. */
#include "fo_internal.h"

void fo_upper_caps(const fo_pair *p, fo_caps *out)
{
    *out = p->standby.caps;
}

void fo_upper_stats(const fo_pair *p, fo_counters *out)
{
    fo_stats_total(&p->stats, out);
}

void fo_pair_get_info(const fo_pair *p, fo_pair_info *out)
{
    out->state = p->state;
    out->why = p->state == FO_ACTIVE ? FO_R_OK : fo_pair_blocker(p);
    out->tx_path = fo_logical_path(p);
    out->link = p->shown_link;
    out->inflight = fo_rundown_refs(&p->rd);
    out->gate_open = (fo_rundown_gate(&p->rd) & FO_RD_OPEN) != 0;
    out->tx_open = (fo_rundown_gate(&p->rd) & FO_RD_TX) != 0;
    out->rejected = p->rejected;
    out->last_rejected = p->last_rejected;
    out->last_error = p->last_error;
    out->attaches = p->n_attach;
    out->detaches = p->n_detach;
    out->replay_rejects = p->n_replay_rejects;
    out->advisory_unsupported = p->n_advisory_unsupported;
    out->bad_events = p->n_bad_events;
    out->stale_completions = p->n_stale;
    out->invalid_settings = p->n_invalid_settings;
    out->queue_full = p->n_queue_full;
    out->tx_resends = (uint64_t)vfo_atomic64_load(&p->tx_resends);
    out->tx_offload_fallbacks = (uint64_t)vfo_atomic64_load(&p->tx_offload_fallbacks);
    out->release_underflows = (uint64_t)vfo_atomic64_load(&p->release_underflows);
    out->counter_resets = p->stats.resets_seen;
}
