/* The "vfosvc status" report (vsvc_status.h). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "vsvc_status.h"

#define LINE 512

struct out {
    vsvc_emit_fn emit;
    void *ctx;
};

static void line(const struct out *o, const char *fmt, ...) VSVC_PRINTF(2, 3);

static void line(const struct out *o, const char *fmt, ...)
{
    char buf[LINE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    o->emit(o->ctx, buf);
}

static const struct vsvc_store_record *find_record(const struct vsvc_status_input *in,
                                                   const char *adapter_id, const char *path)
{
    size_t i;
    for (i = 0; i < in->n_records; i++) {
        if (strcmp(in->records[i].adapter_id, adapter_id) == 0 &&
            strcmp(in->records[i].path, path) == 0)
            return &in->records[i];
    }
    return NULL;
}

static void header(const struct out *o, const struct vsvc_status_input *in)
{
    const struct vsvc_pairs *pr = in->pairs;

    line(o, "vfosvc service: %s", in->service_state ? in->service_state : "unknown");
    if (in->graph == NULL)
        line(o, "binding configuration: unreadable: %s",
             in->graph_error ? in->graph_error : "unknown error");
    else
        line(o, "vfoprot protocol: %s",
             vsvc_bg_has_component(in->graph, VSVC_VFOPROT_ID) ? "installed" : "not installed");
    if (pr == NULL || !pr->valid)
        line(o, "vfo control device: unavailable: %s",
             in->pairs_error ? in->pairs_error : "not queried");
    else
        line(o,
             "vfo control device: ABI %u, generation %llu, %u vfo adapter(s)%s, %llu bad "
             "request(s), %llu unmatched bind(s)",
             (unsigned)VFO_CTL_ABI_VERSION, (unsigned long long)pr->generation, (unsigned)pr->count,
             (pr->flags & VFO_CTL_PAIRS_TRUNCATED) ? " (truncated)" : "",
             (unsigned long long)pr->bad_requests, (unsigned long long)pr->unmatched_binds);
    if (in->records_error != NULL)
        line(o, "remembered binding changes: unreadable: %s", in->records_error);
    else
        line(o, "remembered binding changes: %lu", (unsigned long)in->n_records);
}

static void flags_text(uint32_t flags, char *buf, size_t len)
{
    snprintf(buf, len, "%s%s%s%s", (flags & VFO_CTL_ADAPTER_FAILOVER_ENABLED) ? " failover" : "",
             (flags & VFO_CTL_ADAPTER_STANDBY_NEGOTIATED) ? " standby" : "",
             (flags & VFO_CTL_ADAPTER_LINK_UP) ? " link-up" : " link-down",
             (flags & VFO_CTL_ADAPTER_TX_ON_PRIMARY) ? " tx-on-vf" : " tx-on-virtio");
}

/* One binding of a paired VF, with what vfosvc did or will do about it. */
static void binding_line(const struct out *o, const struct vsvc_status_input *in,
                         const struct vsvc_bg_binding *b)
{
    const struct vsvc_store_record *r = find_record(in, b->adapter_id, b->path);
    bool want = strcmp(b->owner, VSVC_VFOPROT_ID) == 0;
    const char *note;
    char was[48] = "";

    if (b->kind == VSVC_BG_FILTER)
        note = "filter, left alone";
    else if (b->fixed)
        note = "fixed binding, cannot be changed";
    else if (b->enabled != want)
        note = "not yet as vfosvc wants it";
    else if (r != NULL)
        note = "set by vfosvc";
    else
        note = "already as vfosvc wants it";
    if (r != NULL)
        snprintf(was, sizeof(was), ", was %s", r->was_enabled ? "enabled" : "disabled");
    line(o, "    %-28s %-9s %s%s", b->path, b->enabled ? "enabled" : "disabled", note, was);
}

static void vf_lines(const struct out *o, const struct vsvc_status_input *in,
                     const struct vsvc_pair *p)
{
    const struct vsvc_bg_adapter *a;
    char mac[VSVC_MAC_STR_LEN];
    size_t i;

    if (!vsvc_pair_claims_vf(p)) {
        line(o, "  VF: none");
        return;
    }
    vsvc_mac_format(p->vf.mac, mac);
    a = in->graph ? vsvc_bg_find_adapter(in->graph, p->vf.id) : NULL;
    if (a == NULL) {
        line(o, "  VF %s MAC %s: not in the binding configuration", p->vf.id, mac);
        return;
    }
    line(o, "  VF %s MAC %s service %s (%s)", p->vf.id, mac, a->service[0] ? a->service : "?",
         a->pnp_id[0] ? a->pnp_id : "no PnP id");
    for (i = 0; i < in->graph->n_bindings; i++) {
        if (strcmp(in->graph->bindings[i].adapter_id, a->id) == 0)
            binding_line(o, in, &in->graph->bindings[i]);
    }
}

static void pair_lines(const struct out *o, const struct vsvc_status_input *in,
                       const struct vsvc_pair *p)
{
    const struct vfo_ctl_counters *c = &p->counters;
    char mac[VSVC_MAC_STR_LEN], flags[96];
    uint32_t i;

    vsvc_mac_format(p->vfo.mac, mac);
    flags_text(p->flags, flags, sizeof(flags));
    o->emit(o->ctx, "");
    line(o, "vfo adapter %s MAC %s state %s:%s", p->vfo.id[0] ? p->vfo.id : "(unnamed)", mac,
         vsvc_pair_state_name(p->state), flags);
    vf_lines(o, in, p);
    for (i = 0; i < p->n_refused; i++) {
        const struct vsvc_refusal *r = &p->refused[i];
        vsvc_mac_format(r->candidate.mac, mac);
        line(o, "  refused %s MAC %s: %s (%u time(s))",
             r->candidate.id[0] ? r->candidate.id : "(unnamed)", mac, vsvc_refusal_name(r->reason),
             (unsigned)r->count);
    }
    line(o,
         "  counters: attaches %llu, detaches %llu, to-vf %llu, to-virtio %llu, "
         "tx vf/virtio %llu/%llu, rx vf/virtio %llu/%llu, resent %llu, replay-failures %llu, "
         "refusals %llu, announces %llu",
         (unsigned long long)c->attaches, (unsigned long long)c->detaches,
         (unsigned long long)c->switches_to_primary, (unsigned long long)c->switches_to_standby,
         (unsigned long long)c->tx_primary_packets, (unsigned long long)c->tx_standby_packets,
         (unsigned long long)c->rx_primary_packets, (unsigned long long)c->rx_standby_packets,
         (unsigned long long)c->tx_resent_on_standby, (unsigned long long)c->replay_failures,
         (unsigned long long)c->refusals, (unsigned long long)c->announces);
}

static bool claimed_by_vfo(const struct vsvc_pairs *pr, const char *adapter_id)
{
    uint32_t i;
    for (i = 0; pr != NULL && pr->valid && i < pr->count; i++) {
        if (vsvc_pair_claims_vf(&pr->pair[i]) && strcmp(pr->pair[i].vf.id, adapter_id) == 0)
            return true;
    }
    return false;
}

/* Changes vfosvc remembers on adapters that are not paired VFs right now:
 * the ones it will restore, or is waiting to see again. */
static void other_records(const struct out *o, const struct vsvc_status_input *in)
{
    bool titled = false;
    size_t i;

    for (i = 0; i < in->n_records; i++) {
        const struct vsvc_store_record *r = &in->records[i];
        const struct vsvc_bg_binding *b;
        const char *now;
        if (claimed_by_vfo(in->pairs, r->adapter_id))
            continue;
        if (!titled) {
            o->emit(o->ctx, "");
            line(o, "remembered changes on adapters that are not paired VFs now:");
            titled = true;
        }
        b = in->graph ? vsvc_bg_find_binding(in->graph, r->adapter_id, r->path) : NULL;
        if (in->graph == NULL)
            now = "state unknown";
        else if (vsvc_bg_find_adapter(in->graph, r->adapter_id) == NULL)
            now = "adapter not present";
        else if (b == NULL)
            now = "binding no longer exists";
        else
            now = b->enabled ? "now enabled" : "now disabled";
        line(o, "  %s %s: was %s, %s", r->adapter_id, r->path,
             r->was_enabled ? "enabled" : "disabled", now);
    }
}

void vsvc_status_report(const struct vsvc_status_input *in, vsvc_emit_fn emit, void *ctx)
{
    struct out o = { emit, ctx };
    uint32_t i;

    header(&o, in);
    for (i = 0; in->pairs != NULL && in->pairs->valid && i < in->pairs->count; i++)
        pair_lines(&o, in, &in->pairs->pair[i]);
    other_records(&o, in);
}
