/*
 * plan.c - the policy's decisions: which adapters are paired VFs, which
 * bindings must change, which recorded changes must be put back. Nothing
 * here touches a back end; policy.c applies the plan.
 */
#include <string.h>

#include "policy_int.h"

static bool vfoprot_installed(const struct vsvc_bg_graph *g)
{
    return vsvc_bg_has_component(g, VSVC_VFOPROT_ID);
}

static bool mac_matches(const struct vsvc_bg_adapter *a, const struct vsvc_ifid *vf)
{
    if (!a->has_mac || vsvc_mac_is_zero(vf->mac))
        return true; /* nothing to compare: the GUID alone identifies it */
    return memcmp(a->mac, vf->mac, 6) == 0 || memcmp(a->mac, vf->permanent_mac, 6) == 0;
}

/* Is this adapter a VF that vfo has paired (rule 1 of vsvc_policy.h)? */
static enum vf_class classify(const struct vsvc_bg_adapter *a, const struct vsvc_pairs *pairs,
                              const struct vsvc_pair **claim, int *suspect)
{
    const struct vsvc_pair *found = NULL;
    uint32_t i, claims = 0;

    *claim = NULL;
    *suspect = SUSPECT_NONE;
    if (!pairs->valid)
        return VF_NOT_CLAIMED;
    for (i = 0; i < pairs->count; i++) {
        const struct vsvc_pair *pr = &pairs->pair[i];
        if (vsvc_pair_claims_vf(pr) && strcmp(pr->vf.id, a->id) == 0) {
            found = pr;
            claims++;
        }
    }
    if (found == NULL)
        return VF_NOT_CLAIMED;
    *claim = found;
    if (claims > 1)
        *suspect = SUSPECT_TWO_CLAIMS;
    else if (strcmp(a->service, VSVC_VFO_SERVICE) == 0)
        *suspect = SUSPECT_IS_VFO;
    else if (!mac_matches(a, &found->vf))
        *suspect = SUSPECT_MAC;
    return *suspect == SUSPECT_NONE ? VF_PAIRED : VF_SUSPECT;
}

static struct watch *watch_find(struct vsvc_policy *p, const char *id)
{
    size_t i;
    for (i = 0; i < p->n_watch; i++) {
        if (strcmp(p->watch[i].id, id) == 0)
            return &p->watch[i];
    }
    return NULL;
}

/* The graph holds at most VSVC_BG_MAX_ADAPTERS adapters, so there is always
 * room for each of them. */
static struct watch *watch_get(struct vsvc_policy *p, const char *id)
{
    struct watch *w = watch_find(p, id);
    if (w == NULL) {
        w = &p->watch[p->n_watch++];
        memset(w, 0, sizeof(*w));
        memcpy(w->id, id, VSVC_ID_LEN);
    }
    return w;
}

static void watch_prune(struct vsvc_policy *p)
{
    size_t i = 0;
    while (i < p->n_watch) {
        struct watch *w = &p->watch[i];
        /* An adapter that left starts afresh when it returns. */
        if (!w->seen || (!w->pending && w->suspect == SUSPECT_NONE))
            *w = p->watch[--p->n_watch];
        else
            i++;
    }
}

static const char *suspect_text(int reason)
{
    switch (reason) {
    case SUSPECT_IS_VFO:
        return "it is a vfo adapter itself";
    case SUSPECT_MAC:
        return "its MAC differs from the one vfo reported";
    case SUSPECT_TWO_CLAIMS:
        return "more than one vfo adapter claims it";
    default:
        return "";
    }
}

static void observe_suspect(struct vsvc_policy *p, const struct vsvc_bg_adapter *a,
                            const struct vsvc_pair *claim, int suspect)
{
    struct watch *w = watch_get(p, a->id);
    char desc[VSVC_PNP_LEN + 128];

    w->seen = true;
    w->pending = false; /* neither enforced nor restored while in doubt */
    if (w->suspect == suspect)
        return;
    w->suspect = suspect;
    p->counters.suspect_vfs++;
    policy_describe(a, desc, sizeof(desc));
    policy_say(p, VSVC_EV_VF_SUSPECT,
               "vfo adapter %s reports %s as its VF, but %s; vfosvc leaves this adapter's "
               "bindings alone",
               claim->vfo.id, desc, suspect_text(suspect));
}

static void observe_adapter(struct vsvc_policy *p, const struct vsvc_bg_adapter *a,
                            const struct vsvc_pairs *pairs, bool restore_everything,
                            uint64_t now_ms)
{
    const struct vsvc_pair *claim;
    int suspect;
    enum vf_class cls = classify(a, pairs, &claim, &suspect);
    struct watch *w;
    char desc[VSVC_PNP_LEN + 128];

    if (cls == VF_SUSPECT) {
        observe_suspect(p, a, claim, suspect);
        return;
    }
    w = watch_find(p, a->id);
    if (w != NULL) {
        w->seen = true;
        w->suspect = SUSPECT_NONE;
    }
    policy_describe(a, desc, sizeof(desc));
    if (cls == VF_PAIRED) {
        if (w != NULL && w->pending)
            policy_say(p, VSVC_EV_RESTORE_CANCELLED,
                       "VF %s is paired again with vfo adapter %s (%s); its bindings stay "
                       "as vfosvc set them",
                       desc, claim->vfo.id, vsvc_pair_state_name(claim->state));
        if (w != NULL)
            w->pending = false;
        return;
    }
    if (!policy_adapter_has_records(p, a->id) || restore_everything) {
        if (w != NULL)
            w->pending = false;
        return;
    }
    if (w == NULL || !w->pending) {
        w = watch_get(p, a->id);
        w->seen = true;
        w->pending = true;
        w->since = now_ms;
        policy_say(p, VSVC_EV_RESTORE_PENDING,
                   "%s is no longer paired by vfo%s; the bindings vfosvc changed on it will be "
                   "restored in %u s unless vfo pairs it again",
                   desc, pairs->valid ? "" : " (vfo's control device is unavailable)",
                   (unsigned)(p->cfg.restore_grace_ms / 1000));
    }
}

static bool refusal_seen(const struct vsvc_policy *p, const char *vfo_id, const char *cand_id,
                         uint32_t reason)
{
    size_t i;
    for (i = 0; i < p->n_refusals; i++) {
        const struct seen_refusal *s = &p->refusals[i];
        if (s->reason == reason && strcmp(s->vfo_id, vfo_id) == 0 &&
            strcmp(s->candidate_id, cand_id) == 0)
            return true;
    }
    return false;
}

/* Logs each refusal once, when vfo first reports it. */
static void observe_refusals(struct vsvc_policy *p, const struct vsvc_pairs *pairs)
{
    struct seen_refusal now[MAX_SEEN_REFUSALS];
    size_t n = 0;
    uint32_t i, j;
    char mac[VSVC_MAC_STR_LEN];

    for (i = 0; pairs->valid && i < pairs->count; i++) {
        const struct vsvc_pair *pr = &pairs->pair[i];
        for (j = 0; j < pr->n_refused && n < MAX_SEEN_REFUSALS; j++) {
            const struct vsvc_refusal *r = &pr->refused[j];
            if (!refusal_seen(p, pr->vfo.id, r->candidate.id, r->reason)) {
                vsvc_mac_format(r->candidate.mac, mac);
                policy_say(p, VSVC_EV_CANDIDATE_REFUSED,
                           "vfo adapter %s did not pair with %s (MAC %s): %s; vfosvc leaves "
                           "that adapter alone",
                           pr->vfo.id, r->candidate.id[0] ? r->candidate.id : "(unnamed)", mac,
                           vsvc_refusal_name(r->reason));
            }
            memcpy(now[n].vfo_id, pr->vfo.id, VSVC_ID_LEN);
            memcpy(now[n].candidate_id, r->candidate.id, VSVC_ID_LEN);
            now[n].reason = r->reason;
            n++;
        }
    }
    memcpy(p->refusals, now, n * sizeof(now[0]));
    p->n_refusals = n;
}

void plan_observe(struct vsvc_policy *p, const struct vsvc_pairs *pairs, enum policy_mode mode,
                  uint64_t now_ms)
{
    const struct vsvc_bg_graph *g = p->graph;
    bool restore_everything = mode == MODE_RESTORE_ALL || !vfoprot_installed(g);
    size_t i;

    for (i = 0; i < p->n_watch; i++)
        p->watch[i].seen = false;
    for (i = 0; i < g->n_adapters; i++)
        observe_adapter(p, &g->adapters[i], pairs, restore_everything, now_ms);
    watch_prune(p);
    observe_refusals(p, pairs);
}

void plan_reset(struct plan *pl)
{
    pl->n = 0;
    pl->needs_write = false;
    pl->pending = 0;
    pl->leftovers = 0;
    pl->next_deadline = 0;
}

static void plan_add(struct plan *pl, enum action act, enum why why, size_t binding, size_t record,
                     const struct vsvc_pair *pair)
{
    struct plan_item *it = &pl->items[pl->n++];
    it->act = act;
    it->why = why;
    it->binding = binding;
    it->record = record;
    it->pair = pair;
    it->done = false;
    if (act != ACT_FORGET)
        pl->needs_write = true;
}

static size_t find_record(const struct vsvc_policy *p, const char *adapter_id, const char *path)
{
    size_t i;
    for (i = 0; i < p->n_records; i++) {
        if (strcmp(p->records[i].adapter_id, adapter_id) == 0 &&
            strcmp(p->records[i].path, path) == 0)
            return i;
    }
    return NO_INDEX;
}

static size_t binding_index(const struct vsvc_bg_graph *g, const char *adapter_id, const char *path)
{
    const struct vsvc_bg_binding *b = vsvc_bg_find_binding(g, adapter_id, path);
    return b ? (size_t)(b - g->bindings) : NO_INDEX;
}

/* Rule 1: on a paired VF only vfoprot stays bound. */
static void plan_enforce(struct vsvc_policy *p, const struct vsvc_bg_adapter *a,
                         const struct vsvc_pair *claim)
{
    const struct vsvc_bg_graph *g = p->graph;
    size_t i;

    for (i = 0; i < g->n_bindings; i++) {
        const struct vsvc_bg_binding *b = &g->bindings[i];
        bool want;
        if (strcmp(b->adapter_id, a->id) != 0 || b->kind == VSVC_BG_FILTER || b->fixed)
            continue;
        want = strcmp(b->owner, VSVC_VFOPROT_ID) == 0;
        if (b->enabled != want)
            plan_add(&p->plan, want ? ACT_ENABLE : ACT_DISABLE, WHY_PAIRED_VF, i,
                     find_record(p, a->id, b->path), claim);
    }
    /* A recorded binding that no longer exists has nothing left to restore. */
    for (i = 0; i < p->n_records; i++) {
        const struct vsvc_store_record *r = &p->records[i];
        if (strcmp(r->adapter_id, a->id) == 0 &&
            binding_index(g, r->adapter_id, r->path) == NO_INDEX)
            plan_add(&p->plan, ACT_FORGET, WHY_BINDING_GONE, NO_INDEX, i, NULL);
    }
}

/* Rules 3-5: put back what the records say, or forget what needs nothing. */
static void plan_restore(struct vsvc_policy *p, const struct vsvc_bg_adapter *a, enum why why)
{
    size_t i;
    for (i = 0; i < p->n_records; i++) {
        const struct vsvc_store_record *r = &p->records[i];
        size_t b;
        if (strcmp(r->adapter_id, a->id) != 0)
            continue;
        b = binding_index(p->graph, r->adapter_id, r->path);
        if (b == NO_INDEX)
            plan_add(&p->plan, ACT_FORGET, WHY_BINDING_GONE, NO_INDEX, i, NULL);
        else if (p->graph->bindings[b].enabled == r->was_enabled)
            plan_add(&p->plan, ACT_FORGET, WHY_ALREADY_ORIGINAL, b, i, NULL);
        else
            plan_add(&p->plan, ACT_RESTORE, why, b, i, NULL);
    }
}

static void plan_unpaired(struct vsvc_policy *p, const struct vsvc_bg_adapter *a, uint64_t now_ms)
{
    const struct watch *w = watch_find(p, a->id);
    uint64_t expiry;

    if (w == NULL || !w->pending)
        return;
    expiry = w->since + p->cfg.restore_grace_ms;
    if (now_ms >= expiry) {
        plan_restore(p, a, WHY_UNPAIRED);
        return;
    }
    p->plan.pending++;
    if (p->plan.next_deadline == 0 || expiry < p->plan.next_deadline)
        p->plan.next_deadline = expiry;
}

static void count_leftovers(struct vsvc_policy *p)
{
    size_t i;
    for (i = 0; i < p->n_records; i++) {
        if (vsvc_bg_find_adapter(p->graph, p->records[i].adapter_id) == NULL)
            p->plan.leftovers++;
    }
}

void plan_build(struct vsvc_policy *p, const struct vsvc_pairs *pairs, enum policy_mode mode,
                uint64_t now_ms)
{
    const struct vsvc_bg_graph *g = p->graph;
    bool uninstall = mode == MODE_RESTORE_ALL;
    bool restore_everything = uninstall || !vfoprot_installed(g);
    size_t i;

    plan_reset(&p->plan);
    for (i = 0; i < g->n_adapters; i++) {
        const struct vsvc_bg_adapter *a = &g->adapters[i];
        const struct vsvc_pair *claim;
        int suspect;
        enum vf_class cls;

        if (restore_everything) {
            plan_restore(p, a, uninstall ? WHY_UNINSTALL : WHY_VFOPROT_GONE);
            continue;
        }
        cls = classify(a, pairs, &claim, &suspect);
        if (cls == VF_PAIRED)
            plan_enforce(p, a, claim);
        else if (cls == VF_NOT_CLAIMED)
            plan_unpaired(p, a, now_ms);
    }
    count_leftovers(p);
}
