/*
 * guest.c - the guest's own adapter operations and what the guest can tell
 * about the driver under test (guest.h).
 */
#include "guest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vfdev.h"
#include "vfo_ctl.h"

static emu_adapter *guest_adapter(world *w, const char *id)
{
    const char *inst = emu_hv_instance(w->hv, id);
    return emu_find_adapter(w->rt, inst ? inst : id);
}

int guest_adapter_cmd(world *w, const scn_cmd *c)
{
    emu_adapter *ad = guest_adapter(w, c->argv[1]);
    const char *op = c->argv[2];
    if (!ad)
        return -1;
    int err;
    if (strcmp(op, "restart") == 0 && c->argc == 3)
        err = emu_restart_stack(w->rt, ad);
    else if (strcmp(op, "power") == 0 && c->argc == 4 &&
             (!strcmp(c->argv[3], "d3") || !strcmp(c->argv[3], "d0")))
        err = emu_set_power(w->rt, ad, c->argv[3][1] - '0');
    else
        return -1;
    if (!err)
        emu_hv_note(w->hv, "GUEST", c->argv[1], op[0] == 'r' ? "stack restarted" : c->argv[3]);
    return err ? -1 : 0;
}

/* ---- vfo's control device ---- */

static emu_ctl *watch_ctl(world *w);

/* Through the watch's handle when there is one ("wait" re-reads conditions
 * every virtual millisecond: no open and close each time). */
#define STATUS_DELETE_PENDING_NT ((int32_t)0xC0000056L)

/* vfo registers its control device with its first adapter and deregisters
 * it with its last: no device (or a stale handle) means no vfo adapter. */
static void no_pairs(struct vfo_ctl_pairs *p)
{
    memset(p, 0, sizeof(*p));
    p->abi_version = VFO_CTL_ABI_VERSION;
    p->size = sizeof(*p);
}

static int query_pairs(world *w, struct vfo_ctl_pairs *p)
{
    emu_ctl *ctl = watch_ctl(w);
    if (!ctl) {
        int err = emu_ctl_open(w->rt, "vfo", &ctl);
        if (err == EMU_ERR_NOTFOUND && w->standby_drv) {
            no_pairs(p);
            return 0;
        }
        if (err)
            return -1;
    }
    struct vfo_ctl_request rq = { VFO_CTL_ABI_VERSION, sizeof(rq), 0 };
    size_t ret = 0;
    int32_t nt = -1;
    int err = emu_ctl_ioctl(ctl, IOCTL_VFO_QUERY_PAIRS, &rq, sizeof(rq), p, sizeof(*p), &ret, &nt);
    if (ctl != watch_ctl(w))
        emu_ctl_close(ctl);
    if (!err && nt == STATUS_DELETE_PENDING_NT) {
        no_pairs(p); /* the watch lets go of its handle on the failed wait */
        return 0;
    }
    return err || nt || vfo_ctl_check_pairs_reply(p, (uint32_t)ret) != VFO_CTL_CHECK_OK ? -1 : 0;
}

static const char *pair_state_name(uint32_t s)
{
    static const char *const names[] = { "absent", "opening",      "replaying",
                                         "active", "standby_only", "detaching" };
    return s <= VFO_CTL_PAIR_STATE_MAX ? names[s] : "?";
}

static void set_num(cval *v, uint64_t n)
{
    v->is_num = true;
    v->num = n;
    snprintf(v->str, sizeof(v->str), "%llu", (unsigned long long)n);
}

static int pair_field(const struct vfo_ctl_adapter *a, const char *f, cval *v)
{
    const struct vfo_ctl_counters *k = &a->counters;
    const struct {
        const char *name;
        uint64_t v;
    } t[] = {
        { "attaches", k->attaches },
        { "detaches", k->detaches },
        { "to_primary", k->switches_to_primary },
        { "to_standby", k->switches_to_standby },
        { "tx_primary", k->tx_primary_packets },
        { "tx_standby", k->tx_standby_packets },
        { "rx_primary", k->rx_primary_packets },
        { "rx_standby", k->rx_standby_packets },
        { "tx_resent", k->tx_resent_on_standby },
        { "replay_failures", k->replay_failures },
        { "refusals", k->refusals },
        { "announces", k->announces },
        { "refused", a->refusal_count ? a->refused[0].reason : 0 },
        { "tx_on_primary", (a->flags & VFO_CTL_ADAPTER_TX_ON_PRIMARY) != 0 },
        { "standby_negotiated", (a->flags & VFO_CTL_ADAPTER_STANDBY_NEGOTIATED) != 0 },
        { "link_up", (a->flags & VFO_CTL_ADAPTER_LINK_UP) != 0 },
    };
    if (strcmp(f, "state") == 0) {
        v->is_num = false;
        snprintf(v->str, sizeof(v->str), "%s", pair_state_name(a->pair_state));
        return 0;
    }
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        if (strcmp(f, t[i].name) == 0) {
            set_num(v, t[i].v);
            return 0;
        }
    }
    return -1;
}

/* pair.<standby id>.<field>: the vfo adapter with that standby's MAC. */
static int pair_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen)
{
    emu_stbnic *nic = n == 3 ? emu_hv_nic(w->hv, p[1]) : NULL;
    struct vfo_ctl_pairs *pairs = nic ? malloc(sizeof(*pairs)) : NULL;
    if (!pairs || query_pairs(w, pairs)) {
        free(pairs);
        snprintf(err, errlen, "pair.<standby id>.<field> needs a standby and vfo's control device");
        return -1;
    }
    const struct vfo_ctl_adapter *a = NULL;
    for (uint32_t i = 0; i < pairs->adapter_count && !a; i++) {
        if (memcmp(pairs->adapters[i].vfo.permanent_mac, emu_stbnic_mac(nic), 6) == 0)
            a = &pairs->adapters[i];
    }
    int r = 0;
    if (!a) {
        v->is_num = false;
        snprintf(v->str, sizeof(v->str), "absent"); /* no vfo adapter for it (now) */
    } else if (pair_field(a, p[2], v)) {
        snprintf(err, errlen, "no pair field '%s'", p[2]);
        r = -1;
    }
    free(pairs);
    return r;
}

/* ---- the pairs' states in the timeline ----
 * An inverted call on vfo's control device (IOCTL_VFO_WAIT_CHANGE), as the
 * binding service uses it: each completion reads the pairs and notes every
 * pair whose state changed as a PAIR event, then waits again. */

#define WATCH_MAX VFO_CTL_MAX_ADAPTERS

struct guest_watch {
    world *w;
    emu_ctl *ctl;
    bool stopped;
    uint64_t generation;
    unsigned n;
    struct {
        uint8_t mac[6];
        uint32_t state;
    } seen[WATCH_MAX];
};

/* The standby whose NIC has this MAC, from the devices the timeline knows
 * (copied: noting an event may move the timeline). */
static void standby_id_of(world *w, const uint8_t *mac, char *id, size_t len)
{
    const emu_hv_event *ev;
    size_t n = emu_hv_events(w->hv, &ev);
    snprintf(id, len, "vfo");
    for (size_t i = 0; i < n; i++) {
        emu_stbnic *nic = emu_hv_nic(w->hv, ev[i].subject);
        if (nic && memcmp(emu_stbnic_mac(nic), mac, 6) == 0) {
            snprintf(id, len, "%s", ev[i].subject);
            return;
        }
    }
}

static void note_pair(struct guest_watch *g, const struct vfo_ctl_adapter *a)
{
    unsigned i = 0;
    while (i < g->n && memcmp(g->seen[i].mac, a->vfo.permanent_mac, 6) != 0)
        i++;
    bool known = i < g->n;
    if (!known && i == WATCH_MAX)
        return;
    if (known && g->seen[i].state == a->pair_state)
        return;
    if (!known) {
        memcpy(g->seen[i].mac, a->vfo.permanent_mac, 6);
        g->n++;
    }
    g->seen[i].state = a->pair_state;
    if (known || a->pair_state != VFO_CTL_PAIR_ABSENT) {
        char id[EMU_HV_ID_LEN];
        standby_id_of(g->w, a->vfo.permanent_mac, id, sizeof(id));
        emu_hv_note(g->w->hv, "PAIR", id, pair_state_name(a->pair_state));
    }
}

static void watch_arm(struct guest_watch *g);

static emu_ctl *watch_ctl(world *w)
{
    return w->watch && !w->watch->stopped ? w->watch->ctl : NULL;
}

/* The device went with vfo's last adapter (its waits end with an error):
 * let go of the handle, which would keep vfo loaded; guest_watch_tick opens
 * it again once vfo has an adapter. */
static void watch_lost(void *arg)
{
    struct guest_watch *g = arg;
    if (g->stopped || !g->ctl)
        return;
    emu_ctl_close(g->ctl);
    g->ctl = NULL;
}

static void watch_refresh(void *arg)
{
    struct guest_watch *g = arg;
    if (g->stopped || !g->ctl)
        return;
    struct vfo_ctl_pairs *p = malloc(sizeof(*p));
    if (!p || query_pairs(g->w, p) || p->adapter_count == 0) {
        free(p);
        watch_lost(g); /* failed, or the device is going with the last adapter */
        return;
    }
    for (uint32_t i = 0; i < p->adapter_count; i++)
        note_pair(g, &p->adapters[i]);
    g->generation = p->generation;
    free(p);
    watch_arm(g);
}

static void watch_changed(void *ctx, int32_t ntstatus, const void *out, size_t returned)
{
    struct guest_watch *g = ctx;
    (void)out;
    (void)returned;
    if (!g->stopped)
        emu_schedule(g->w->rt, 0, ntstatus == 0 ? watch_refresh : watch_lost, g);
}

static void watch_arm(struct guest_watch *g)
{
    struct vfo_ctl_wait in = { VFO_CTL_ABI_VERSION, sizeof(in), g->generation };
    emu_ctl_ioctl_async(g->ctl, IOCTL_VFO_WAIT_CHANGE, &in, sizeof(in), sizeof(in), watch_changed,
                        g);
}

void guest_watch_start(world *w)
{
    struct guest_watch *g = calloc(1, sizeof(*g));
    if (!g)
        return;
    g->w = w;
    w->watch = g;
    guest_watch_tick(w);
}

/* vfo's control device exists while vfo has an adapter (and a standby
 * driver other than vfo registers none): opened when it is there. */
void guest_watch_tick(world *w)
{
    struct guest_watch *g = w->watch;
    if (!g || g->stopped || g->ctl)
        return;
    if (emu_ctl_open(w->rt, "vfo", &g->ctl) != EMU_OK) {
        g->ctl = NULL;
        return;
    }
    watch_refresh(g);
}

void guest_watch_stop(world *w)
{
    struct guest_watch *g = w->watch;
    if (!g)
        return;
    g->stopped = true;
    if (g->ctl)
        emu_ctl_close(g->ctl); /* cancels the pending wait */
    g->ctl = NULL;
}

void guest_watch_free(world *w)
{
    free(w->watch);
    w->watch = NULL;
}

/* ---- ndisemu's accounting ---- */

static int mem_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen)
{
    emu_mem_usage u;
    int e = -1;
    if (n == 3 && strcmp(p[1], "driver") == 0 && w->standby_drv)
        e = emu_driver_mem(w->rt, w->standby_drv, &u);
    else if (n == 3 && guest_adapter(w, p[1]))
        e = emu_adapter_mem(w->rt, guest_adapter(w, p[1]), &u);
    if (e || (strcmp(p[2], "bytes") != 0 && strcmp(p[2], "allocations") != 0)) {
        snprintf(err, errlen, "mem.<adapter id>|driver.bytes|allocations of something present");
        return -1;
    }
    set_num(v, strcmp(p[2], "bytes") == 0 ? u.bytes : u.allocations);
    return 0;
}

/* ---- times between events ---- */

/* from..to as a duration; `none` (compared as the largest number) when
 * `to` never came. */
static void set_interval(cval *v, uint64_t from, uint64_t to, const char *none)
{
    v->is_num = true;
    v->num = to == UINT64_MAX ? UINT64_MAX : to - from;
    if (to == UINT64_MAX)
        snprintf(v->str, sizeof(v->str), "%s", none);
    else
        snprintf(v->str, sizeof(v->str), "%.3fms", (double)v->num / 1e6);
}

/* How soon a new VF carried the guest's traffic: from the primary's last
 * event of `kind` whose detail starts with `detail` (switchover: its
 * PRIMARY_PLUG; switchback: its VF's carrier coming up). */

static int first_on_vf_subject(world *w, char p[4][64], unsigned n, const char *kind,
                               const char *detail, cval *v, char *err, size_t errlen)
{
    emu_vfdev *vf = n == 2 ? emu_hv_vf(w->hv, p[1]) : NULL;
    emu_port *port = vf ? emu_vfdev_port(vf) : NULL;
    const emu_hv_event *ev;
    size_t n_ev = emu_hv_events(w->hv, &ev);
    uint64_t added = UINT64_MAX;
    for (size_t i = 0; i < n_ev; i++) {
        if (!strcmp(ev[i].kind, kind) && !strcmp(ev[i].subject, p[1]) &&
            !strncmp(ev[i].detail, detail, strlen(detail)))
            added = ev[i].t_ns;
    }
    if (!port || added == UINT64_MAX) {
        snprintf(err, errlen, "%s.<primary id> for a primary with a %s %s", p[0], kind, detail);
        return -1;
    }
    dir_logs d;
    if (traffic_logs(w, false, &d)) {
        snprintf(err, errlen, "cannot read the traffic logs");
        return -1;
    }
    uint64_t first = UINT64_MAX;
    for (size_t i = 0; i < d.n_arr; i++) {
        if (d.arr[i].path == emu_port_id(port) && d.arr[i].t_ns >= added && d.arr[i].t_ns < first)
            first = d.arr[i].t_ns;
    }
    traffic_logs_free(&d);
    set_interval(v, added, first, "never");
    return 0;
}

/* unplug.<id>: from the device's last DEVICE_DEL (or UNPLUG_PRIMARY) to
 * the DEVICE_DELETED that answered it (QEMU waits on the eject this long). */
static int unplug_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen)
{
    const emu_hv_event *ev;
    size_t n_ev = emu_hv_events(w->hv, &ev);
    uint64_t del = UINT64_MAX, done = UINT64_MAX;
    for (size_t i = 0; n == 2 && i < n_ev; i++) {
        if (strcmp(ev[i].subject, p[1]) != 0)
            continue;
        if (!strcmp(ev[i].kind, "DEVICE_DEL") || !strcmp(ev[i].kind, "UNPLUG_PRIMARY")) {
            del = ev[i].t_ns;
            done = UINT64_MAX;
        } else if (!strcmp(ev[i].kind, "DEVICE_DELETED") && del != UINT64_MAX) {
            done = ev[i].t_ns;
        }
    }
    if (del == UINT64_MAX) {
        snprintf(err, errlen, "unplug.<id> for a device that was unplugged");
        return -1;
    }
    set_interval(v, del, done, "pending");
    return 0;
}

/* exposure.<primary id>[.<host>][.frames]: how long TCP/IP had an interface
 * on a VF (Windows with two interfaces, one MAC): from the VF's arrival (the
 * PRIMARY_PLUG that brought that instance, plus the guest's plug-to-probe
 * delay when it was hot-added) to TCP/IP's binding to it closed
 * (its path disabled); `open` while TCP/IP is still bound, 0 when it never
 * bound. `.frames`: what TCP/IP sent on the VF (it sends only while bound). */
static int exposure_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen)
{
    bool frames = n >= 3 && strcmp(p[n - 1], "frames") == 0;
    unsigned parts = frames ? n - 1 : n;
    char inst[130];
    tcpip_stats s;
    if (parts < 2 || parts > 3 || world_tcpip_stats(w, &s)) {
        snprintf(err, errlen, "exposure.<primary id>[.<host>][.frames] with TCP/IP loaded");
        return -1;
    }
    const char *now = parts == 2 ? emu_hv_instance(w->hv, p[1]) : NULL;
    snprintf(inst, sizeof(inst), parts == 3 ? "%s.%s" : "%s",
             parts == 3 ? p[1]
             : now      ? now
                        : p[1],
             p[2]);
    const tcpip_adapter_stats *a = NULL;
    for (uint32_t i = 0; i < s.n_adapters && i < TCPIP_MAX_ADAPTERS; i++)
        if (strcmp(s.adapter[i].name, inst) == 0)
            a = &s.adapter[i];
    if (frames) {
        cond_set_num(v, a ? a->tx : 0);
        return 0;
    }
    if (!a || a->binds == 0) {
        set_interval(v, 0, 0, "");
        return 0;
    }
    const emu_hv_event *ev;
    size_t n_ev = emu_hv_events(w->hv, &ev);
    uint64_t arrival = UINT64_MAX;
    for (size_t i = 0; i < n_ev; i++)
        if (!strcmp(ev[i].kind, "PRIMARY_PLUG") && !strcmp(ev[i].subject, p[1]) &&
            ev[i].t_ns <= a->bound_ns)
            arrival = ev[i].t_ns;
    /* A hot-added VF reaches the guest's driver probe_delay_ns after the plug
     * (a cold-plugged one at once, so TCP/IP bound sooner): Windows sees it
     * only from then. */
    if (arrival != UINT64_MAX && arrival + w->o.hv.probe_delay_ns <= a->bound_ns)
        arrival += w->o.hv.probe_delay_ns;
    if (arrival == UINT64_MAX) {
        snprintf(err, errlen, "exposure.%s: no PRIMARY_PLUG of %s before TCP/IP bound", inst, p[1]);
        return -1;
    }
    set_interval(v, arrival, a->bound ? UINT64_MAX : a->unbound_ns, "open");
    return 0;
}

int guest_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen)
{
    if (strcmp(p[0], "exposure") == 0)
        return exposure_subject(w, p, n, v, err, errlen);
    if (strcmp(p[0], "unplug") == 0)
        return unplug_subject(w, p, n, v, err, errlen);
    if (strcmp(p[0], "pair") == 0)
        return pair_subject(w, p, n, v, err, errlen);
    if (strcmp(p[0], "mem") == 0)
        return mem_subject(w, p, n, v, err, errlen);
    if (strcmp(p[0], "switchover") == 0)
        return first_on_vf_subject(w, p, n, "PRIMARY_PLUG", "", v, err, errlen);
    if (strcmp(p[0], "switchback") == 0)
        return first_on_vf_subject(w, p, n, "VF_CARRIER", "up", v, err, errlen);
    return 1;
}
