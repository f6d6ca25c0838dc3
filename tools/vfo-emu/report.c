/*
 * report.c - timeline, traffic results and JSON (report.h). The chart is in
 * plot.c.
 */
#include "report.h"

#include <stdlib.h>
#include <string.h>

#define MAX_WINDOWS 32
#define MAX_CHANGES 16

typedef struct window {
    uint64_t from, to;
    char label[64];
} window;

typedef struct path_change {
    unsigned from_port, to_port;
    uint64_t last_ns, first_ns;
} path_change;

struct run_results {
    emu_seqstat in, out;
    window win[MAX_WINDOWS];
    emu_seqstat win_in[MAX_WINDOWS], win_out[MAX_WINDOWS];
    unsigned n_win;
    path_change chg[MAX_CHANGES];
    unsigned n_chg;
};
typedef struct run_results results;

void report_timeline(world *w, FILE *out)
{
    const emu_hv_event *ev;
    size_t n = emu_hv_events(w->hv, &ev);
    fprintf(out, "timeline (virtual time)\n");
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %10.3f ms  %-20s %-14s %s\n", (double)ev[i].t_ns / 1e6, ev[i].kind,
                ev[i].subject, ev[i].detail);
}

/* Events that start a window of the per-event figures. */
static bool splits(const emu_hv_event *e)
{
    static const char *const kinds[] = { "UNPLUG_PRIMARY", "DEVICE_DELETED", "STOP",
                                         "RESUME",         "DEVICE_ADDED",   "VF_LINK",
                                         "VF_RESET",       "DEVICE_DEL",     "MARK",
                                         "STANDBY_LINK",   "VF_CARRIER" };
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strcmp(e->kind, kinds[i]) == 0)
            return true;
    }
    return strcmp(e->kind, "MIGRATION") == 0 && strcmp(e->subject, "cancelled") == 0;
}

static void make_windows(world *w, results *r)
{
    const emu_hv_event *ev;
    size_t n = emu_hv_events(w->hv, &ev);
    uint64_t start = w->traffic_start_ns,
             stop = w->traffic_stop_ns > start ? w->traffic_stop_ns : emu_now_ns(w->rt);
    r->n_win = 0;
    window *cur = &r->win[r->n_win++];
    cur->from = start;
    snprintf(cur->label, sizeof(cur->label), "traffic start");
    for (size_t i = 0; i < n && r->n_win < MAX_WINDOWS; i++) {
        if (ev[i].t_ns <= start || ev[i].t_ns >= stop || !splits(&ev[i]))
            continue;
        if (ev[i].t_ns == cur->from) {
            strncat(cur->label, ", ", sizeof(cur->label) - strlen(cur->label) - 1);
            strncat(cur->label, ev[i].kind, sizeof(cur->label) - strlen(cur->label) - 1);
            continue;
        }
        cur->to = ev[i].t_ns;
        cur = &r->win[r->n_win++];
        cur->from = ev[i].t_ns;
        snprintf(cur->label, sizeof(cur->label), "%s %s", ev[i].kind, ev[i].subject);
    }
    cur->to = stop;
}

static void find_changes(const dir_logs *d, results *r)
{
    r->n_chg = 0;
    for (size_t i = 1; i < d->n_arr && r->n_chg < MAX_CHANGES; i++) {
        if (d->arr[i].path == d->arr[i - 1].path)
            continue;
        path_change *c = &r->chg[r->n_chg++];
        c->from_port = d->arr[i - 1].path;
        c->to_port = d->arr[i].path;
        c->last_ns = d->arr[i - 1].t_ns;
        c->first_ns = d->arr[i].t_ns;
    }
}

run_results *report_collect(world *w)
{
    if (!w->traffic_start_ns)
        return NULL;
    results *r = calloc(1, sizeof(*r));
    dir_logs in, out;
    if (!r || traffic_logs(w, true, &in)) {
        free(r);
        return NULL;
    }
    if (traffic_logs(w, false, &out)) {
        traffic_logs_free(&in);
        free(r);
        return NULL;
    }
    emu_seqstat_compute(in.sent, in.n_sent, in.arr, in.n_arr, &r->in);
    emu_seqstat_compute(out.sent, out.n_sent, out.arr, out.n_arr, &r->out);
    make_windows(w, r);
    for (unsigned i = 0; i < r->n_win; i++) {
        emu_seqstat_window(in.sent, in.n_sent, in.arr, in.n_arr, r->win[i].from, r->win[i].to,
                           &r->win_in[i]);
        emu_seqstat_window(out.sent, out.n_sent, out.arr, out.n_arr, r->win[i].from, r->win[i].to,
                           &r->win_out[i]);
    }
    find_changes(&out, r);
    traffic_logs_free(&in);
    traffic_logs_free(&out);
    return r;
}

void report_free(run_results *r)
{
    free(r);
}

static const char *port_name(world *w, unsigned id)
{
    emu_port *p = emu_fabric_port_by_id(w->net, id);
    return p ? emu_port_name(p) : "?";
}

static void row(FILE *out, const char *label, uint64_t a, uint64_t b)
{
    fprintf(out, "  %-24s %14llu %14llu\n", label, (unsigned long long)a, (unsigned long long)b);
}

void report_results(world *w, const run_results *rr, FILE *out)
{
    if (!rr)
        return;
    const results r = *rr;
    fprintf(out, "results (virtual time)       peer -> guest  guest -> peer\n");
    row(out, "sent", r.in.sent, r.out.sent);
    row(out, "received", r.in.received, r.out.received);
    row(out, "lost", r.in.lost, r.out.lost);
    row(out, "longest loss burst", r.in.longest_burst, r.out.longest_burst);
    fprintf(out, "  %-24s %11.3f ms %11.3f ms\n", "longest gap", (double)r.in.longest_gap_ns / 1e6,
            (double)r.out.longest_gap_ns / 1e6);
    row(out, "duplicates", r.in.duplicates, r.out.duplicates);
    row(out, "reorders", r.in.reorders, r.out.reorders);
    fprintf(out, "path changes of guest -> peer (switch ingress port), time to switch\n");
    if (!r.n_chg)
        fprintf(out, "  none\n");
    for (unsigned i = 0; i < r.n_chg; i++)
        fprintf(out, "  %-10s -> %-10s %10.3f ms  (last at %.3f ms, first at %.3f ms)\n",
                port_name(w, r.chg[i].from_port), port_name(w, r.chg[i].to_port),
                (double)(r.chg[i].first_ns - r.chg[i].last_ns) / 1e6,
                (double)r.chg[i].last_ns / 1e6, (double)r.chg[i].first_ns / 1e6);
    fprintf(out, "MODEL, not a Linux run: Linux net_failover's receive rule on this run's traffic\n"
                 "  (drivers/net/net_failover.c drops what arrives on virtio while a VF is\n"
                 "  registered, whatever its link; docs/scenarios.md)\n");
    fprintf(out, "  %-40s %10llu\n", "peer -> guest datagrams on virtio",
            (unsigned long long)__atomic_load_n(&w->nf.on_standby, __ATOMIC_RELAXED));
    fprintf(out, "  %-40s %10llu   (this run lost %llu)\n",
            "of these net_failover would have dropped",
            (unsigned long long)__atomic_load_n(&w->nf.would_drop, __ATOMIC_RELAXED),
            (unsigned long long)r.in.lost);
    fprintf(out,
            "per event (packets sent in the window)   in: lost gap dups | out: lost gap dups\n");
    for (unsigned i = 0; i < r.n_win; i++)
        fprintf(out, "  %10.3f ms %-28.28s %6llu %9.3f %4llu | %6llu %9.3f %4llu\n",
                (double)r.win[i].from / 1e6, r.win[i].label, (unsigned long long)r.win_in[i].lost,
                (double)r.win_in[i].longest_gap_ns / 1e6,
                (unsigned long long)r.win_in[i].duplicates, (unsigned long long)r.win_out[i].lost,
                (double)r.win_out[i].longest_gap_ns / 1e6,
                (unsigned long long)r.win_out[i].duplicates);
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 0x20)
            fprintf(f, "\\u%04x", (unsigned char)*s);
        else
            fputc(*s, f);
    }
    fputc('"', f);
}

static void json_stat(FILE *f, const char *name, const emu_seqstat *s, bool last)
{
    fprintf(f,
            "    \"%s\": {\"sent\": %llu, \"received\": %llu, \"lost\": %llu, "
            "\"longest_burst\": %llu, \"longest_gap_ms\": %.3f, \"duplicates\": %llu, "
            "\"reorders\": %llu}%s\n",
            name, (unsigned long long)s->sent, (unsigned long long)s->received,
            (unsigned long long)s->lost, (unsigned long long)s->longest_burst,
            (double)s->longest_gap_ns / 1e6, (unsigned long long)s->duplicates,
            (unsigned long long)s->reorders, last ? "" : ",");
}

static void json_events(world *w, FILE *f)
{
    const emu_hv_event *ev;
    size_t n = emu_hv_events(w->hv, &ev);
    fprintf(f, "  \"events\": [\n");
    for (size_t i = 0; i < n; i++) {
        fprintf(f, "    {\"t_ms\": %.3f, \"kind\": ", (double)ev[i].t_ns / 1e6);
        json_str(f, ev[i].kind);
        fprintf(f, ", \"subject\": ");
        json_str(f, ev[i].subject);
        fprintf(f, ", \"detail\": ");
        json_str(f, ev[i].detail);
        fprintf(f, "}%s\n", i + 1 < n ? "," : "");
    }
    fprintf(f, "  ],\n");
}

static void json_traffic(world *w, FILE *f, const results *r)
{
    fprintf(f, "  \"traffic\": {\n");
    json_stat(f, "in", &r->in, false);
    json_stat(f, "out", &r->out, false);
    fprintf(f, "    \"path_changes\": [");
    for (unsigned i = 0; i < r->n_chg; i++) {
        fprintf(f, "%s{\"from\": ", i ? ", " : "");
        json_str(f, port_name(w, r->chg[i].from_port));
        fprintf(f, ", \"to\": ");
        json_str(f, port_name(w, r->chg[i].to_port));
        fprintf(f, ", \"switch_ms\": %.3f, \"at_ms\": %.3f}",
                (double)(r->chg[i].first_ns - r->chg[i].last_ns) / 1e6,
                (double)r->chg[i].last_ns / 1e6);
    }
    fprintf(f, "],\n    \"windows\": [\n");
    for (unsigned i = 0; i < r->n_win; i++) {
        fprintf(f, "      {\"from_ms\": %.3f, \"to_ms\": %.3f, \"label\": ",
                (double)r->win[i].from / 1e6, (double)r->win[i].to / 1e6);
        json_str(f, r->win[i].label);
        fprintf(f,
                ", \"in_lost\": %llu, \"in_gap_ms\": %.3f, \"out_lost\": %llu, "
                "\"out_gap_ms\": %.3f}%s\n",
                (unsigned long long)r->win_in[i].lost, (double)r->win_in[i].longest_gap_ns / 1e6,
                (unsigned long long)r->win_out[i].lost, (double)r->win_out[i].longest_gap_ns / 1e6,
                i + 1 < r->n_win ? "," : "");
    }
    fprintf(f, "    ],\n    \"model_net_failover\": {\"in_on_virtio\": %llu, \"in_lost\": %llu}\n",
            (unsigned long long)__atomic_load_n(&w->nf.on_standby, __ATOMIC_RELAXED),
            (unsigned long long)__atomic_load_n(&w->nf.would_drop, __ATOMIC_RELAXED));
    fprintf(f, "  },\n");
}

int report_json(world *w, const run_results *r, const char *scenario, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fprintf(f, "{\n  \"scenario\": ");
    json_str(f, scenario);
    fprintf(f, ",\n  \"seed\": %llu,\n  \"passed\": %s,\n  \"verifier\": ",
            (unsigned long long)w->o.seed, w->n_failures ? "false" : "true");
    json_str(f, emu_violation_count(w->rt) ? emu_violation_get(w->rt, 0)->rule : "clean");
    fprintf(f, ",\n  \"failures\": [");
    for (unsigned i = 0; i < w->n_failures && i < WORLD_MAX_FAILURES; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_str(f, w->failures[i]);
    }
    fprintf(f, "],\n  \"migration_status\": ");
    json_str(f, emu_hv_migration_status(w->hv));
    fprintf(f, ",\n  \"migration_time_ms\": %.3f,\n",
            (double)emu_hv_migration_time_ns(w->hv) / 1e6);
    json_events(w, f);
    if (r)
        json_traffic(w, f, r);
    fprintf(f, "  \"virtual_time_ms\": %.3f\n}\n", (double)w->end_ns / 1e6);
    return fclose(f) ? -1 : 0;
}
