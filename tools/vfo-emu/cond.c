/*
 * cond.c - evaluating scenario conditions (cond.h).
 */
#include "cond.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter.h"
#include "guest.h"
#include "scn.h"
#include "svc.h"

static void num(cval *v, uint64_t n)
{
    v->is_num = true;
    v->num = n;
    snprintf(v->str, sizeof(v->str), "%llu", (unsigned long long)n);
}

static void str(cval *v, const char *s)
{
    v->is_num = false;
    snprintf(v->str, sizeof(v->str), "%s", s);
}

void cond_set_num(cval *v, uint64_t n)
{
    num(v, n);
}

void cond_set_word(cval *v, const char *s)
{
    str(v, s);
}

static void dur(cval *v, uint64_t ns)
{
    v->is_num = true;
    v->num = ns;
    snprintf(v->str, sizeof(v->str), "%.3fms", (double)ns / 1e6);
}

/* A subject's named numbers: one table per kind of subject. */
typedef struct named {
    const char *name;
    uint64_t v;
} named;

/* Looks `name` up in a table of n entries; -1 with a message if absent. */
static int pick(const named *t, size_t n, const char *name, const char *what, cval *v, char *err,
                size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(name, t[i].name) == 0) {
            num(v, t[i].v);
            return 0;
        }
    }
    snprintf(err, errlen, "no %s field '%s'", what, name);
    return -1;
}

#define PICK(t, name, what) pick(t, sizeof(t) / sizeof(t[0]), name, what, v, err, errlen)

/* "a.b.c" -> parts; returns the count. */
static unsigned split_dots(const char *s, char parts[4][64])
{
    unsigned n = 0;
    while (n < 4) {
        const char *dot = strchr(s, '.');
        size_t len = dot ? (size_t)(dot - s) : strlen(s);
        if (len >= 64)
            len = 63;
        memcpy(parts[n], s, len);
        parts[n][len] = '\0';
        n++;
        if (!dot)
            break;
        s = dot + 1;
    }
    return n;
}

/* ---- the TCP/IP stand-in ---- */

static bool adapter_field(const tcpip_adapter_stats *a, const char *f, uint64_t *out)
{
    const named t[] = {
        { "tx", a->tx },
        { "tx_ok", a->tx_ok },
        { "tx_failed", a->tx_failed },
        { "tx_seq", a->tx_seq },
        { "rx_frames", a->rx_frames },
        { "rx_seq", a->rx_seq },
        { "rx_arp", a->rx_arp },
        { "rx_other", a->rx_other },
        { "link_downs", a->link_downs },
        { "link_ups", a->link_ups },
        { "status", a->status_indications },
        { "oid_failures", a->oid_failures },
        { "bound", a->bound },
        { "running", a->running },
        { "media", a->media_connected },
        { "configured", a->configured },
        { "binds", a->binds },
        { "unbinds", a->unbinds },
        { "lso4", a->lso_v2_ip4 },
        { "lso6", a->lso_v2_ip6 },
        { "csum4", a->csum_tx_tcp4 },
        { "rss", a->rss_queues },
        { "offload_changes", a->offload_changes },
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (strcmp(f, t[i].name) == 0) {
            *out = t[i].v;
            return true;
        }
    }
    return false;
}

/* An adapter by instance, or every instance of a hypervisor device id
 * ("hostdev0" covers "hostdev0.src" and "hostdev0.dst"), or "all". */
static bool adapter_matches(const char *name, const char *which)
{
    size_t n = strlen(which);
    return strcmp(which, "all") == 0 || strcmp(name, which) == 0 ||
           (strncmp(name, which, n) == 0 && name[n] == '.');
}

static int tcpip_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen)
{
    tcpip_stats s;
    if (world_tcpip_stats(w, &s)) {
        snprintf(err, errlen, "the TCP/IP stand-in is not loaded");
        return -1;
    }
    if (n == 2) {
        const named g[] = { { "seq_sent", s.seq_sent },
                            { "seq_received", s.seq_received },
                            { "seq_not_sent", s.seq_not_sent },
                            { "garps", s.garps },
                            { "arp_replies", s.arp_replies },
                            { "adapters", s.n_adapters },
                            { "chains_sent", s.chains_sent },
                            { "lso_sent", s.lso_sent },
                            { "lso_bytes_sent", s.lso_bytes_sent },
                            { "lso_not_offered", s.lso_not_offered },
                            { "lso_bad_completions", s.lso_bad_completions },
                            { "csum_sent", s.csum_sent },
                            { "tcp_bytes_sent", s.tcp_bytes_sent } };
        return PICK(g, p[1], "tcpip");
    } else if (n == 3 || n == 4) {
        /* tcpip.<id>.<field> (every instance of the device) or
         * tcpip.<id>.<host>.<field> (the instance "<id>.<host>") */
        char which[130];
        snprintf(which, sizeof(which), n == 4 ? "%s.%s" : "%s", p[1], p[2]);
        const char *field = p[n - 1];
        uint64_t total = 0, x;
        for (uint32_t i = 0; i < s.n_adapters; i++) {
            if (!adapter_matches(s.adapter[i].name, which))
                continue;
            if (!adapter_field(&s.adapter[i], field, &x)) {
                snprintf(err, errlen, "no adapter field '%s'", field);
                return -1;
            }
            total += x;
        }
        num(v, total);
        return 0;
    }
    snprintf(err, errlen, "unknown tcpip subject");
    return -1;
}

/* ---- traffic ---- */

static int traffic_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen)
{
    bool in = strcmp(p[1], "in") == 0;
    if (n != 3 || (!in && strcmp(p[1], "out") != 0)) {
        snprintf(err, errlen, "traffic.in.<metric> or traffic.out.<metric>");
        return -1;
    }
    dir_logs d;
    if (traffic_logs(w, in, &d)) {
        snprintf(err, errlen, "cannot read the traffic logs");
        return -1;
    }
    emu_seqstat st;
    emu_seqstat_compute(d.sent, d.n_sent, d.arr, d.n_arr, &st);
    traffic_logs_free(&d);
    if (strcmp(p[2], "gap") == 0) {
        dur(v, st.longest_gap_ns);
        return 0;
    }
    const named t[] = { { "sent", st.sent },
                        { "received", st.received },
                        { "lost", st.lost },
                        { "burst", st.longest_burst },
                        { "dups", st.duplicates },
                        { "reorders", st.reorders },
                        { "strangers", st.out_of_range } };
    return PICK(t, p[2], "traffic");
}

/* ---- switch, peer, devices ---- */

static int switch_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen)
{
    emu_port *port = n == 3 ? emu_fabric_port(w->net, p[1]) : NULL;
    if (!port) {
        snprintf(err, errlen, "switch.<port>.<field> with an existing port");
        return -1;
    }
    emu_port_stats s;
    emu_port_get_stats(port, &s);
    const named t[] = { { "rx", s.rx_frames },
                        { "tx", s.tx_frames },
                        { "flooded", s.flooded },
                        { "drop_down", s.drop_down },
                        { "drop_spoof", s.drop_spoof },
                        { "drop_no_station", s.drop_no_station },
                        { "drop_hairpin", s.drop_hairpin } };
    return PICK(t, p[2], "switch port");
}

static int peer_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen)
{
    if (n != 2) {
        snprintf(err, errlen, "peer.<field>");
        return -1;
    }
    emu_peer_stats s;
    emu_peer_get_stats(w->peer, &s);
    const named t[] = { { "garp", s.garp_rx },
                        { "rarp", s.rarp_rx },
                        { "arp_replied", s.arp_replied },
                        { "seq_rx", s.seq_rx },
                        { "frames", s.frames_rx },
                        { "tcp_rx", s.tcp_rx },
                        { "tcp_bytes", s.tcp_bytes },
                        { "tcp_bad_len", s.tcp_bad_len },
                        { "tcp_bad_csum", s.tcp_bad_csum } };
    return PICK(t, p[1], "peer");
}

static int vf_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen)
{
    emu_vfdev *vf = n == 3 ? emu_hv_vf(w->hv, p[1]) : NULL;
    if (!vf && n == 3 && strcmp(p[2], "carrier") == 0 && emu_hv_visible(w->hv, p[1]) == false) {
        num(v, 0); /* hidden or gone: no VF, no carrier */
        return 0;
    }
    if (!vf) {
        snprintf(err, errlen, "vf.<primary id>.<field> for a primary with a VF");
        return -1;
    }
    emu_vfdev_stats s;
    emu_vfdev_get_stats(vf, &s);
    const named t[] = { { "tx", s.tx_frames },
                        { "rx", s.rx_frames },
                        { "resets", s.resets },
                        { "tx_lost", s.tx_lost },
                        { "rx_no_buffer", s.rx_no_buffer },
                        { "carrier", emu_vfdev_carrier(vf) } };
    return PICK(t, p[2], "vf");
}

/* model.net_failover.<field>: what Linux's receive rule would have done
 * with this run's traffic (nfmodel.h; a model, not a Linux run). */
static int model_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen)
{
    if (n != 3 || strcmp(p[1], "net_failover") != 0) {
        snprintf(err, errlen, "model.net_failover.<field>");
        return -1;
    }
    const named t[] = {
        { "in_lost", __atomic_load_n(&w->nf.would_drop, __ATOMIC_RELAXED) },
        { "in_on_virtio", __atomic_load_n(&w->nf.on_standby, __ATOMIC_RELAXED) },
    };
    return PICK(t, p[2], "model.net_failover");
}

static int adapter_subject(world *w, const char *id, cval *v)
{
    const char *inst = emu_hv_instance(w->hv, id);
    emu_adapter *ad = emu_find_adapter(w->rt, inst ? inst : id);
    str(v, ad ? emu_adapter_state(ad) : "absent");
    return 0;
}

static int standby_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen)
{
    emu_stbnic *nic = n == 3 ? emu_hv_nic(w->hv, p[1]) : NULL;
    if (!nic || strcmp(p[2], "standby_acked") != 0) {
        snprintf(err, errlen, "standby.<id>.standby_acked");
        return -1;
    }
    str(v, emu_stbnic_driver_features(nic) & (1ull << EMU_STBNIC_F_STANDBY) ? "yes" : "no");
    return 0;
}

static int saved_subject(world *w, const char *name, cval *v, char *err, size_t errlen)
{
    for (unsigned i = 0; i < w->n_saved; i++) {
        if (strcmp(w->saved[i].name, name) == 0) {
            num(v, w->saved[i].v);
            return 0;
        }
    }
    snprintf(err, errlen, "nothing saved as '%s'", name);
    return -1;
}

int cond_save(world *w, const char *name, const char *subject, char *err, size_t errlen)
{
    cval v;
    if (cond_subject(w, subject, &v, err, errlen))
        return -1;
    if (!v.is_num || strlen(name) >= sizeof(w->saved[0].name)) {
        snprintf(err, errlen, "only a number can be saved, under a short name");
        return -1;
    }
    unsigned i = 0;
    while (i < w->n_saved && strcmp(w->saved[i].name, name) != 0)
        i++;
    if (i == WORLD_MAX_SAVED) {
        snprintf(err, errlen, "at most %d saved values", WORLD_MAX_SAVED);
        return -1;
    }
    snprintf(w->saved[i].name, sizeof(w->saved[i].name), "%s", name);
    w->saved[i].v = v.num;
    w->n_saved += i == w->n_saved;
    return 0;
}

int cond_subject(world *w, const char *subject, cval *v, char *err, size_t errlen)
{
    char p[4][64];
    unsigned n = split_dots(subject, p);
    if (strcmp(subject, "migration") == 0) {
        str(v, emu_hv_migration_status(w->hv));
    } else if (strcmp(subject, "migration.time") == 0) {
        dur(v, emu_hv_migration_time_ns(w->hv));
    } else if (strcmp(subject, "verifier") == 0) {
        str(v, emu_violation_count(w->rt) ? emu_violation_get(w->rt, 0)->rule : "clean");
    } else if (strcmp(subject, "frozen") == 0) {
        str(v, emu_guest_frozen(w->rt) ? "yes" : "no");
    } else if (strcmp(subject, "host") == 0) {
        str(v, emu_hv_host(w->hv));
    } else if (strcmp(subject, "now") == 0) {
        dur(v, emu_now_ns(w->rt));
    } else if (n == 2 && strcmp(p[0], "dev") == 0) {
        str(v, emu_hv_device_state(w->hv, p[1]));
    } else if (n == 2 && strcmp(p[0], "visible") == 0) {
        str(v, emu_hv_visible(w->hv, p[1]) ? "yes" : "no");
    } else if (n == 2 && strcmp(p[0], "adapter") == 0) {
        return adapter_subject(w, p[1], v);
    } else if ((n == 2 || n == 3) && strcmp(p[0], "events") == 0) {
        num(v, emu_hv_count(w->hv, p[1], n == 3 ? p[2] : NULL));
    } else if (strcmp(p[0], "tcpip") == 0) {
        return tcpip_subject(w, p, n, v, err, errlen);
    } else if (strcmp(p[0], "traffic") == 0) {
        return traffic_subject(w, p, n, v, err, errlen);
    } else if (strcmp(p[0], "switch") == 0) {
        return switch_subject(w, p, n, v, err, errlen);
    } else if (strcmp(p[0], "peer") == 0) {
        return peer_subject(w, p, n, v, err, errlen);
    } else if (strcmp(p[0], "vf") == 0) {
        return vf_subject(w, p, n, v, err, errlen);
    } else if (strcmp(p[0], "model") == 0) {
        return model_subject(w, p, n, v, err, errlen);
    } else if (strcmp(p[0], "standby") == 0) {
        return standby_subject(w, p, n, v, err, errlen);
    } else if (strcmp(p[0], "service") == 0 || strcmp(p[0], "binding") == 0) {
        return svc_subject(w, p, n, v, err, errlen);
    } else if (strcmp(p[0], "filter") == 0) {
        return filter_subject(w, p, n, v, err, errlen);
    } else if (n == 2 && strcmp(p[0], "saved") == 0) {
        return saved_subject(w, p[1], v, err, errlen);
    } else {
        int r = guest_subject(w, p, n, v, err, errlen);
        if (r > 0)
            snprintf(err, errlen, "unknown subject '%s'", subject);
        return r ? -1 : 0;
    }
    return 0;
}

static int compare(uint64_t a, const char *op, uint64_t b)
{
    if (strcmp(op, "==") == 0)
        return a == b;
    if (strcmp(op, "!=") == 0)
        return a != b;
    if (strcmp(op, "<") == 0)
        return a < b;
    if (strcmp(op, "<=") == 0)
        return a <= b;
    if (strcmp(op, ">") == 0)
        return a > b;
    if (strcmp(op, ">=") == 0)
        return a >= b;
    return -1;
}

int cond_check(world *w, const char *subject, const char *op, const char *value, char *seen,
               size_t seenlen, char *err, size_t errlen)
{
    cval v, ref;
    if (cond_subject(w, subject, &v, err, errlen))
        return -1;
    snprintf(seen, seenlen, "%s", v.str);
    uint64_t want;
    if (value[0] == '@') {
        /* another subject's value */
        if (cond_subject(w, value + 1, &ref, err, errlen))
            return -1;
        if (ref.is_num != v.is_num) {
            snprintf(err, errlen, "'%s' and '%s' are not comparable", subject, value + 1);
            return -1;
        }
        snprintf(seen + strlen(seen), seenlen - strlen(seen), " (%s = %s)", value + 1, ref.str);
        value = ref.str;
        if (v.is_num) {
            int r = compare(v.num, op, ref.num);
            if (r < 0)
                snprintf(err, errlen, "unknown operator '%s'", op);
            return r;
        }
    }
    if (v.is_num) {
        if (!scn_duration(value, &want)) {
            snprintf(err, errlen, "'%s' is not a number or a duration", value);
            return -1;
        }
        int r = compare(v.num, op, want);
        if (r < 0)
            snprintf(err, errlen, "unknown operator '%s'", op);
        return r;
    }
    if (strcmp(op, "==") == 0)
        return strcmp(v.str, value) == 0;
    if (strcmp(op, "!=") == 0)
        return strcmp(v.str, value) != 0;
    snprintf(err, errlen, "'%s' is a word: only == and != apply", subject);
    return -1;
}
