/*
 * vswitch.c - see vswitch.h.
 *
 * One mutex protects the tables and counters. emu_port_send decides where a
 * frame goes under it, then delivers with it dropped, so a station may send
 * from its rx function (the peer answering ARP does so through platform work
 * anyway).
 */
#include "vswitch.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "netframe.h"

#define NAME_MAX_LEN 32

struct emu_port {
    emu_switch *sw;
    unsigned id;
    char name[NAME_MAX_LEN];
    bool up;
    emu_port_rx_fn rx;
    emu_port_rx_check_fn rx_check; /* instead of rx: a station that can refuse */
    void *ctx;
    emu_port_rx_fn observer; /* sees what the station is given */
    void *observer_ctx;
    bool has_station_mac, has_vf_mac;
    uint8_t station_mac[6], vf_mac[6];
    emu_impair imp;
    uint64_t offered; /* frames offered for egress since the impairment was set */
    uint8_t *held;    /* a frame held back by a swap */
    size_t held_len;
    unsigned held_from;
    emu_port_stats st;
};

typedef struct fdb_entry {
    bool used;
    uint8_t mac[6];
    emu_port *port;
} fdb_entry;

struct emu_switch {
    pthread_mutex_t mu;
    emu_port *ports[EMU_SWITCH_MAX_PORTS];
    size_t n_ports;
    fdb_entry fdb[EMU_SWITCH_FDB_SIZE];
    bool learning, flood_paths;
};

/* One delivery decided under the lock, made after it. */
typedef struct delivery {
    emu_port_rx_fn rx, observer;
    emu_port_rx_check_fn rx_check;
    void *ctx, *observer_ctx;
    const uint8_t *frame;
    size_t len;
    unsigned from;
    uint8_t *owned; /* freed after delivery (a released held frame) */
} delivery;

typedef struct plan {
    delivery d[3 * EMU_SWITCH_MAX_PORTS];
    unsigned n, ports, from;
} plan;

emu_switch *emu_switch_create(void)
{
    emu_switch *sw = calloc(1, sizeof(*sw));
    if (!sw)
        return NULL;
    pthread_mutex_init(&sw->mu, NULL);
    sw->learning = true;
    return sw;
}

void emu_switch_destroy(emu_switch *sw)
{
    if (!sw)
        return;
    for (size_t i = 0; i < sw->n_ports; i++) {
        free(sw->ports[i]->held);
        free(sw->ports[i]);
    }
    pthread_mutex_destroy(&sw->mu);
    free(sw);
}

static emu_port *find_port(emu_switch *sw, const char *name)
{
    for (size_t i = 0; i < sw->n_ports; i++) {
        if (strcmp(sw->ports[i]->name, name) == 0)
            return sw->ports[i];
    }
    return NULL;
}

static unsigned g_next_port_id = 1;

emu_port *emu_switch_add_port(emu_switch *sw, const char *name)
{
    if (!name || strlen(name) >= NAME_MAX_LEN)
        return NULL;
    pthread_mutex_lock(&sw->mu);
    emu_port *p = NULL;
    if (!find_port(sw, name) && sw->n_ports < EMU_SWITCH_MAX_PORTS)
        p = calloc(1, sizeof(*p));
    if (p) {
        p->sw = sw;
        p->id = __atomic_fetch_add(&g_next_port_id, 1, __ATOMIC_RELAXED);
        strcpy(p->name, name);
        p->up = true;
        sw->ports[sw->n_ports++] = p;
    }
    pthread_mutex_unlock(&sw->mu);
    return p;
}

emu_port *emu_switch_port(emu_switch *sw, const char *name)
{
    pthread_mutex_lock(&sw->mu);
    emu_port *p = find_port(sw, name);
    pthread_mutex_unlock(&sw->mu);
    return p;
}

size_t emu_switch_port_count(emu_switch *sw)
{
    pthread_mutex_lock(&sw->mu);
    size_t n = sw->n_ports;
    pthread_mutex_unlock(&sw->mu);
    return n;
}

emu_port *emu_switch_port_at(emu_switch *sw, size_t i)
{
    pthread_mutex_lock(&sw->mu);
    emu_port *p = i < sw->n_ports ? sw->ports[i] : NULL;
    pthread_mutex_unlock(&sw->mu);
    return p;
}

const char *emu_port_name(const emu_port *p)
{
    return p->name;
}

unsigned emu_port_id(const emu_port *p)
{
    return p->id;
}

void emu_port_connect(emu_port *p, emu_port_rx_fn rx, void *ctx)
{
    pthread_mutex_lock(&p->sw->mu);
    p->rx = rx;
    p->rx_check = NULL;
    p->ctx = rx ? ctx : NULL;
    pthread_mutex_unlock(&p->sw->mu);
}

void emu_port_connect_checked(emu_port *p, emu_port_rx_check_fn rx, void *ctx)
{
    pthread_mutex_lock(&p->sw->mu);
    p->rx = NULL;
    p->rx_check = rx;
    p->ctx = rx ? ctx : NULL;
    pthread_mutex_unlock(&p->sw->mu);
}

void emu_port_observe(emu_port *p, emu_port_rx_fn fn, void *ctx)
{
    pthread_mutex_lock(&p->sw->mu);
    p->observer = fn;
    p->observer_ctx = fn ? ctx : NULL;
    pthread_mutex_unlock(&p->sw->mu);
}

void emu_port_set_up(emu_port *p, bool up)
{
    pthread_mutex_lock(&p->sw->mu);
    p->up = up;
    pthread_mutex_unlock(&p->sw->mu);
}

bool emu_port_is_up(emu_port *p)
{
    pthread_mutex_lock(&p->sw->mu);
    bool up = p->up;
    pthread_mutex_unlock(&p->sw->mu);
    return up;
}

void emu_port_set_station_mac(emu_port *p, const uint8_t mac[6])
{
    pthread_mutex_lock(&p->sw->mu);
    p->has_station_mac = mac != NULL;
    if (mac)
        memcpy(p->station_mac, mac, 6);
    pthread_mutex_unlock(&p->sw->mu);
}

void emu_port_set_impair(emu_port *p, const emu_impair *imp)
{
    pthread_mutex_lock(&p->sw->mu);
    memset(&p->imp, 0, sizeof(p->imp));
    if (imp)
        p->imp = *imp;
    p->offered = 0;
    pthread_mutex_unlock(&p->sw->mu);
}

void emu_port_get_stats(emu_port *p, emu_port_stats *out)
{
    pthread_mutex_lock(&p->sw->mu);
    *out = p->st;
    pthread_mutex_unlock(&p->sw->mu);
}

/* ---- FDB ---- */

static fdb_entry *fdb_find(emu_switch *sw, const uint8_t mac[6])
{
    for (size_t i = 0; i < EMU_SWITCH_FDB_SIZE; i++) {
        if (sw->fdb[i].used && nf_mac_equal(sw->fdb[i].mac, mac))
            return &sw->fdb[i];
    }
    return NULL;
}

static int fdb_put(emu_switch *sw, const uint8_t mac[6], emu_port *p)
{
    fdb_entry *e = fdb_find(sw, mac);
    for (size_t i = 0; !e && i < EMU_SWITCH_FDB_SIZE; i++) {
        if (!sw->fdb[i].used)
            e = &sw->fdb[i];
    }
    if (!e)
        return -1;
    e->used = true;
    memcpy(e->mac, mac, 6);
    e->port = p;
    return 0;
}

void emu_switch_set_learning(emu_switch *sw, bool on)
{
    pthread_mutex_lock(&sw->mu);
    sw->learning = on;
    pthread_mutex_unlock(&sw->mu);
}

int emu_switch_fdb_set(emu_switch *sw, const uint8_t mac[6], emu_port *p)
{
    pthread_mutex_lock(&sw->mu);
    int r = fdb_put(sw, mac, p);
    pthread_mutex_unlock(&sw->mu);
    return r;
}

void emu_switch_fdb_del(emu_switch *sw, const uint8_t mac[6])
{
    pthread_mutex_lock(&sw->mu);
    fdb_entry *e = fdb_find(sw, mac);
    if (e)
        e->used = false;
    pthread_mutex_unlock(&sw->mu);
}

emu_port *emu_switch_fdb_lookup(emu_switch *sw, const uint8_t mac[6])
{
    pthread_mutex_lock(&sw->mu);
    fdb_entry *e = fdb_find(sw, mac);
    emu_port *p = e ? e->port : NULL;
    pthread_mutex_unlock(&sw->mu);
    return p;
}

void emu_switch_set_vf_mac(emu_switch *sw, emu_port *p, const uint8_t mac[6])
{
    static const uint8_t zero[6];
    pthread_mutex_lock(&sw->mu);
    p->has_vf_mac = mac && !nf_mac_equal(mac, zero);
    if (p->has_vf_mac)
        memcpy(p->vf_mac, mac, 6);
    pthread_mutex_unlock(&sw->mu);
}

void emu_switch_set_flood_paths(emu_switch *sw, bool on)
{
    pthread_mutex_lock(&sw->mu);
    sw->flood_paths = on;
    pthread_mutex_unlock(&sw->mu);
}

/* ---- forwarding ---- */

static emu_port *vf_owner(emu_switch *sw, const uint8_t mac[6])
{
    for (size_t i = 0; i < sw->n_ports; i++) {
        if (sw->ports[i]->has_vf_mac && nf_mac_equal(sw->ports[i]->vf_mac, mac))
            return sw->ports[i];
    }
    return NULL;
}

static void add_delivery(plan *pl, emu_port *p, const uint8_t *frame, size_t len, unsigned from,
                         uint8_t *owned)
{
    delivery *d = &pl->d[pl->n++];
    d->rx = p->rx;
    d->rx_check = p->rx_check;
    d->ctx = p->ctx;
    d->observer = p->observer;
    d->observer_ctx = p->observer_ctx;
    d->frame = frame;
    d->len = len;
    d->from = from;
    d->owned = owned;
    p->st.tx_frames++;
}

static bool impair_hit(uint64_t k, uint32_t every, uint32_t max, uint64_t *count)
{
    if (!every || k % every != 0 || (max && *count >= max))
        return false;
    (*count)++;
    return true;
}

/* Egress of one frame to p, through its impairment; switch locked. */
static void egress(plan *pl, emu_port *p, const uint8_t *frame, size_t len, bool flooded)
{
    if (!p->up) {
        p->st.drop_down++;
        return;
    }
    if (!p->rx && !p->rx_check) {
        p->st.drop_no_station++;
        return;
    }
    pl->ports++;
    uint64_t k = ++p->offered;
    if (impair_hit(k, p->imp.drop_every, p->imp.drop_max, &p->st.impair_drops))
        return;
    if (flooded)
        p->st.flooded++;
    uint8_t *release = p->held;
    p->held = NULL;
    if (!release && impair_hit(k, p->imp.swap_every, p->imp.swap_max, &p->st.impair_swaps)) {
        p->held = malloc(len);
        if (p->held) {
            memcpy(p->held, frame, len);
            p->held_len = len;
            p->held_from = pl->from;
            return;
        }
    }
    add_delivery(pl, p, frame, len, pl->from, NULL);
    if (impair_hit(k, p->imp.dup_every, p->imp.dup_max, &p->st.impair_dups))
        add_delivery(pl, p, frame, len, pl->from, NULL);
    if (release)
        add_delivery(pl, p, release, p->held_len, p->held_from, release);
}

static void flood(emu_switch *sw, plan *pl, emu_port *in, const uint8_t *frame, size_t len)
{
    for (size_t i = 0; i < sw->n_ports; i++) {
        if (sw->ports[i] != in)
            egress(pl, sw->ports[i], frame, len, true);
    }
}

/* Unicast to a known port, plus the other paths of that MAC when flooding. */
static void unicast(emu_switch *sw, plan *pl, emu_port *in, emu_port *to, const uint8_t *frame,
                    size_t len, const uint8_t dst[6])
{
    if (to == in)
        in->st.drop_hairpin++;
    else
        egress(pl, to, frame, len, false);
    if (!sw->flood_paths)
        return;
    for (size_t i = 0; i < sw->n_ports; i++) {
        emu_port *p = sw->ports[i];
        if (p != in && p != to && p->has_station_mac && nf_mac_equal(p->station_mac, dst))
            egress(pl, p, frame, len, true);
    }
}

static void forward(emu_switch *sw, plan *pl, emu_port *in, const uint8_t *frame, size_t len)
{
    nf_eth e;
    nf_parse_eth(frame, len, &e);
    emu_port *owner = vf_owner(sw, e.src);
    if (owner && owner != in) {
        in->st.drop_spoof++;
        return;
    }
    in->st.rx_frames++;
    if (sw->learning && !nf_mac_is_multicast(e.src))
        fdb_put(sw, e.src, in);
    if (nf_mac_is_multicast(e.dst)) {
        flood(sw, pl, in, frame, len);
        return;
    }
    emu_port *to = vf_owner(sw, e.dst);
    if (!to) {
        fdb_entry *fe = fdb_find(sw, e.dst);
        to = fe ? fe->port : NULL;
    }
    if (to)
        unicast(sw, pl, in, to, frame, len, e.dst);
    else
        flood(sw, pl, in, frame, len);
}

static unsigned port_send(emu_port *in, const uint8_t *frame, size_t len, unsigned origin,
                          unsigned *refused)
{
    emu_switch *sw = in->sw;
    if (refused)
        *refused = 0;
    plan *pl = malloc(sizeof(*pl));
    if (!pl)
        return 0;
    pl->n = pl->ports = 0;
    pl->from = origin;
    /* A frame offered to a port that is down never left the station (a
     * NIC without carrier keeps it): a checked sender learns it as refused. */
    unsigned no = 0;
    pthread_mutex_lock(&sw->mu);
    if (!frame || len < NF_ETH_HLEN || len > NF_ETH_MAX) {
        in->st.drop_bad++;
    } else if (!in->up) {
        in->st.drop_down++;
        no = 1;
    } else {
        forward(sw, pl, in, frame, len);
    }
    pthread_mutex_unlock(&sw->mu);
    for (unsigned i = 0; i < pl->n; i++) {
        if (pl->d[i].rx_check) {
            if (!pl->d[i].rx_check(pl->d[i].ctx, pl->d[i].frame, pl->d[i].len, pl->d[i].from)) {
                no++;
                free(pl->d[i].owned);
                continue;
            }
        } else {
            pl->d[i].rx(pl->d[i].ctx, pl->d[i].frame, pl->d[i].len, pl->d[i].from);
        }
        if (pl->d[i].observer)
            pl->d[i].observer(pl->d[i].observer_ctx, pl->d[i].frame, pl->d[i].len, pl->d[i].from);
        free(pl->d[i].owned);
    }
    unsigned ports = pl->ports > no ? pl->ports - no : 0; /* a down port delivered none */
    free(pl);
    if (refused)
        *refused = no;
    return ports;
}

unsigned emu_port_send(emu_port *in, const uint8_t *frame, size_t len)
{
    return port_send(in, frame, len, in->id, NULL);
}

unsigned emu_port_send_checked(emu_port *in, const uint8_t *frame, size_t len, unsigned *refused)
{
    return port_send(in, frame, len, in->id, refused);
}

emu_switch *emu_port_switch(const emu_port *p)
{
    return p->sw;
}

static void cable_rx(void *ctx, const uint8_t *frame, size_t len, unsigned from_port)
{
    port_send(ctx, frame, len, from_port, NULL);
}

void emu_port_link(emu_port *a, emu_port *b)
{
    emu_port_connect(a, cable_rx, b);
    emu_port_connect(b, cable_rx, a);
}
