/*
 * exec.c - the scenario commands (docs/scenarios.md).
 */
#include "exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cond.h"
#include "filter.h"
#include "guest.h"
#include "netframe.h"
#include "svc.h"

#define WAIT_STEP_NS    1000000ull     /* "wait" re-checks every 1 ms */
#define WAIT_DEFAULT_NS 60000000000ull /* and gives up after 60 s */

static bool on_off(const char *s, bool *out)
{
    if (strcmp(s, "on") == 0 || strcmp(s, "up") == 0)
        *out = true;
    else if (strcmp(s, "off") == 0 || strcmp(s, "down") == 0)
        *out = false;
    else
        return false;
    return true;
}

static bool parse_u32(const char *s, uint32_t *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    if (end == s || *end || v > UINT32_MAX)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* ---- options (before boot) ---- */

#define DURATION_FORM "a number, then s, ms, us or ns"

/* The command's argument WHAT ("" for its only one) is a duration;
 * otherwise w->why says so. */
static bool duration_arg(world *w, const char *what, const char *v, uint64_t *ns)
{
    if (scn_duration(v, ns))
        return true;
    snprintf(w->why, sizeof(w->why), "%.24s%s'%.48s' is not a duration (" DURATION_FORM ")", what,
             what[0] ? " " : "", v);
    return false;
}

static int set_duration(world *w, const scn_cmd *c, uint64_t *field)
{
    return duration_arg(w, c->argv[1], c->argv[2], field) ? 0 : -1;
}

/* A link-up delay: a duration, or "never" (the carrier never comes up). */
static bool link_delay(world *w, const char *what, const char *v, uint64_t *ns)
{
    if (strcmp(v, "never") == 0) {
        *ns = EMU_VFDEV_LINK_NEVER;
        return true;
    }
    if (scn_duration(v, ns))
        return true;
    snprintf(w->why, sizeof(w->why),
             "%.24s '%.48s' is neither a duration (" DURATION_FORM ") nor 'never'", what, v);
    return false;
}

static int set_flag(const char *v, bool *field)
{
    return on_off(v, field) ? 0 : -1;
}

static int set_word(const char *v, const char *a, const char *b, char *field, size_t len)
{
    if (strcmp(v, a) != 0 && strcmp(v, b) != 0)
        return -1;
    snprintf(field, len, "%.*s", (int)len - 1, v);
    return 0;
}

static int set_u32(const char *v, uint32_t lo, uint32_t hi, uint32_t *field)
{
    uint32_t n;
    if (!parse_u32(v, &n) || n < lo || n > hi)
        return -1;
    *field = n;
    return 0;
}

static int set_option(world *w, const scn_cmd *c)
{
    const char *k = c->argv[1], *v = c->argv[2];
    emu_hv_cfg *h = &w->o.hv;
    char word[16];
    uint32_t n;
    if (strcmp(k, "seed") == 0) {
        if (!parse_u32(v, &n))
            return -1;
        if (!w->o.seed_from_cli)
            w->o.seed = n;
        return 0;
    }
    if (strcmp(k, "downtime") == 0)
        return set_duration(w, c, &h->downtime_ns);
    if (strcmp(k, "precopy") == 0)
        return set_duration(w, c, &h->precopy_ns);
    if (strcmp(k, "poll") == 0)
        return set_duration(w, c, &h->poll_ns);
    if (strcmp(k, "cancel-wait") == 0)
        return set_duration(w, c, &h->cancel_wait_ns);
    if (strcmp(k, "eject-delay") == 0)
        return set_duration(w, c, &h->eject_delay_ns);
    if (strcmp(k, "probe-delay") == 0)
        return set_duration(w, c, &h->probe_delay_ns);
    if (strcmp(k, "link-up-delay") == 0)
        return link_delay(w, k, v, &h->link_up_delay_ns) ? 0 : -1;
    if (strcmp(k, "unplug") == 0) {
        int r = set_word(v, "eject", "surprise", word, sizeof(word));
        h->surprise_unplug = r == 0 && strcmp(word, "surprise") == 0;
        return r;
    }
    if (strcmp(k, "clear-vf-mac") == 0)
        return set_flag(v, &h->clear_vf_mac);
    if (strcmp(k, "announce-rounds") == 0) {
        int r = set_u32(v, 0, 100, &h->announce_rounds);
        if (!r && h->announce_rounds == 0)
            h->announce_rounds = UINT32_MAX;
        return r;
    }
    if (strcmp(k, "rate") == 0)
        return set_u32(v, 1, 100000, &w->o.rate);
    if (strcmp(k, "rx-max-nbls") == 0) { /* MaxNblsToIndicate: N or all */
        if (strcmp(v, "all") == 0) {
            w->o.rx_max_nbls = EMU_RX_ALL_NBLS;
            return 0;
        }
        return set_u32(v, 1, 4096, &w->o.rx_max_nbls);
    }
    if (strcmp(k, "lso") == 0) /* TCP/IP's large send per tick, payload bytes */
        return set_u32(v, 0, 60000, &w->o.lso_bytes);
    if (strcmp(k, "payload") == 0)
        return set_u32(v, 24, 1400, &w->o.payload);
    if (strcmp(k, "tcpip") == 0)
        return set_flag(v, &w->o.tcpip);
    if (strcmp(k, "vf-range") == 0)
        return set_word(v, "ndis5", "ndisvf", w->o.vf_range, sizeof(w->o.vf_range));
    if (strcmp(k, "host") == 0 && strlen(v) < sizeof(w->o.first_host) && strlen(v) > 0) {
        memcpy(w->o.first_host, v, strlen(v) + 1);
        return 0;
    }
    if (strcmp(k, "trace") == 0) {
        bool on;
        if (!on_off(v, &on))
            return -1;
        w->o.trace |= on;
        return 0;
    }
    return -1;
}

static int driver_option(world *w, const scn_cmd *c)
{
    drv_path *d = NULL;
    if (strcmp(c->argv[1], "standby") == 0) {
        /* The command line picks the driver under test, but a guest with no
         * driver for the NIC at all (QEMU's qtests) stays without one. */
        if (w->standby_from_cli && strcmp(c->argv[2], "none") != 0)
            return 0;
        d = &w->standby;
    } else if (strcmp(c->argv[1], "vf") == 0) {
        d = &w->vf;
    } else if (strcmp(c->argv[1], "tcpip") == 0) {
        d = &w->tcpip;
    } else if (strcmp(c->argv[1], "extra") == 0 && w->n_extra < WORLD_MAX_EXTRA) {
        d = &w->extra[w->n_extra++];
    }
    if (!d)
        return -1;
    snprintf(d->so, sizeof(d->so), "%s", world_driver_alias(c->argv[2]));
    snprintf(d->desc, sizeof(d->desc), "%s", c->argc > 3 ? c->argv[3] : "");
    return 0;
}

static int peer_option(world *w, const scn_cmd *c)
{
    if (strlen(c->argv[1]) >= sizeof(w->peer_name))
        return -1;
    memcpy(w->peer_name, c->argv[1], strlen(c->argv[1]) + 1);
    for (unsigned i = 2; i < c->argc; i++) {
        const char *v;
        if ((v = scn_kv(c->argv[i], "mac")) && nf_mac_parse(v, w->peer_cfg.mac))
            continue;
        if ((v = scn_kv(c->argv[i], "ip")) && nf_ip_parse(v, &w->peer_cfg.ip))
            continue;
        return -1;
    }
    return 0;
}

static int guest_option(world *w, const scn_cmd *c)
{
    for (unsigned i = 1; i < c->argc; i++) {
        const char *v = scn_kv(c->argv[i], "ip");
        if (!v || !nf_ip_parse(v, &w->guest_ip))
            return -1;
    }
    return 0;
}

int exec_options(world *w, const scn_file *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const scn_cmd *c = &f->cmds[i];
        const char *name = c->argv[0];
        int r = 0;
        if (strcmp(name, "boot") == 0)
            break;
        if (strcmp(name, "set") == 0)
            r = set_option(w, c);
        else if (strcmp(name, "driver") == 0)
            r = driver_option(w, c);
        else if (strcmp(name, "peer") == 0)
            r = peer_option(w, c);
        else if (strcmp(name, "guest") == 0)
            r = guest_option(w, c);
        else if (strcmp(name, "filter") == 0)
            r = filter_option(w, c);
        if (r && w->why[0]) {
            world_fail(w, c->line, "bad '%s' command: %s", name, w->why);
            return -1;
        }
        if (r) {
            world_fail(w, c->line, "bad '%s' command", name);
            return -1;
        }
    }
    return 0;
}

/* ---- devices ---- */

static int add_standby(world *w, const scn_cmd *c)
{
    emu_stbnic_cfg nic = { 0 };
    bool failover = true, link = true;
    const char *reg[SCN_MAX_WORDS];
    unsigned n_reg = 0;
    for (unsigned i = 2; i < c->argc; i++) {
        const char *v;
        bool ok = true;
        if ((v = scn_kv(c->argv[i], "mac")))
            ok = nf_mac_parse(v, nic.mac);
        else if ((v = scn_kv(c->argv[i], "failover")))
            ok = on_off(v, &failover);
        else if ((v = scn_kv(c->argv[i], "link")))
            ok = on_off(v, &link);
        else if ((v = scn_kv(c->argv[i], "transitional")))
            ok = on_off(v, &nic.transitional);
        else if ((v = scn_kv(c->argv[i], "reg")) && strchr(v, '='))
            reg[n_reg++] = v;
        else
            ok = false;
        if (!ok)
            return -1;
    }
    reg[n_reg] = NULL;
    nic.link_down = !link;
    nic.registry = reg;
    return emu_hv_add_standby(w->hv, c->argv[1], failover, &nic) ? -1 : 0;
}

static int primary_word(world *w, emu_hv_primary_cfg *p, const char *word, const char **reg,
                        unsigned *n_reg)
{
    const char *v;
    if ((v = scn_kv(word, "pair")))
        p->pair = v;
    else if ((v = scn_kv(word, "mac")))
        return nf_mac_parse(v, p->vf.mac) ? 0 : -1;
    else if ((v = scn_kv(word, "model")) && (!strcmp(v, "x540") || !strcmp(v, "cx4")))
        p->vf.model = strcmp(v, "cx4") == 0 ? EMU_VF_CX4 : EMU_VF_X540;
    else if ((v = scn_kv(word, "link")))
        return on_off(v, &p->vf.link_up) ? 0 : -1;
    else if ((v = scn_kv(word, "vfmac")) && (!strcmp(v, "assigned") || !strcmp(v, "none")))
        p->vf_mac_assigned = strcmp(v, "assigned") == 0;
    else if ((v = scn_kv(word, "dst")) && (!strcmp(v, "vf") || !strcmp(v, "none")))
        p->no_destination_vf = strcmp(v, "none") == 0;
    else if ((v = scn_kv(word, "caps")))
        return parse_u32(v, &p->vf.caps) ? 0 : -1;
    else if ((v = scn_kv(word, "mtu")))
        return parse_u32(v, &p->vf.mtu) && p->vf.mtu >= 576 && p->vf.mtu <= 9216 ? 0 : -1;
    else if ((v = scn_kv(word, "eject-delay")))
        return duration_arg(w, "eject-delay", v, &p->eject_delay_ns) ? 0 : -1;
    else if ((v = scn_kv(word, "link-up-delay")))
        return (p->link_up_delay_set = link_delay(w, "link-up-delay", v, &p->link_up_delay_ns))
                   ? 0
                   : -1;
    else if ((v = scn_kv(word, "dst-link-up-delay")))
        return (p->dst_link_up_delay_set =
                    link_delay(w, "dst-link-up-delay", v, &p->dst_link_up_delay_ns))
                   ? 0
                   : -1;
    else if ((v = scn_kv(word, "reg")) && strchr(v, '=') && *n_reg < 8)
        reg[(*n_reg)++] = v;
    else
        return -1;
    return 0;
}

static int add_primary(world *w, const scn_cmd *c)
{
    emu_hv_primary_cfg p = { .id = c->argv[1], .vf_mac_assigned = true };
    p.vf.model = EMU_VF_X540;
    p.vf.link_up = true;
    const char *reg[9];
    unsigned n_reg = 0;
    for (unsigned i = 2; i < c->argc; i++) {
        if (primary_word(w, &p, c->argv[i], reg, &n_reg))
            return -1;
    }
    reg[n_reg] = NULL;
    p.registry = reg;
    return p.pair && emu_hv_add_primary(w->hv, &p) == EMU_OK ? 0 : -1;
}

/* ---- the switch ---- */

/* "<host>-<kind><N>" names a host switch port (created on first use). */
static emu_port *port_named(world *w, const char *name)
{
    emu_port *p = emu_fabric_port(w->net, name);
    if (p)
        return p;
    char host[16], kind[8];
    unsigned index;
    if (sscanf(name, "%15[^-]-%7[a-z]%u", host, kind, &index) != 3)
        return NULL;
    return emu_fabric_host_port(w->net, host, kind, index);
}

static int switch_impair(world *w, const scn_cmd *c)
{
    emu_impair imp = { 0 };
    const char *v;
    if (c->argc < 4)
        return -1;
    if ((v = scn_opt(c, 3, "drop")) && !parse_u32(v, &imp.drop_every))
        return -1;
    if ((v = scn_opt(c, 3, "dup")) && !parse_u32(v, &imp.dup_every))
        return -1;
    if ((v = scn_opt(c, 3, "swap")) && !parse_u32(v, &imp.swap_every))
        return -1;
    emu_port *p = port_named(w, c->argv[2]);
    if (!p)
        return -1;
    emu_port_set_impair(p, &imp);
    return 0;
}

static int switch_cmd(world *w, const scn_cmd *c)
{
    const char *sub = c->argv[1];
    uint8_t mac[6];
    bool b;
    if (strcmp(sub, "vf-mac") == 0 && c->argc == 4) {
        bool clear = strcmp(c->argv[3], "clear") == 0;
        if (!clear && !nf_mac_parse(c->argv[3], mac))
            return -1;
        emu_port *p = port_named(w, c->argv[2]);
        if (!p)
            return -1;
        emu_switch_set_vf_mac(emu_port_switch(p), p, clear ? NULL : mac);
        return 0;
    }
    if (strcmp(sub, "fdb") == 0 && c->argc == 4 && nf_mac_parse(c->argv[2], mac)) {
        emu_port *p = port_named(w, c->argv[3]);
        return p ? emu_switch_fdb_set(emu_port_switch(p), mac, p) : -1;
    }
    if (strcmp(sub, "impair") == 0)
        return switch_impair(w, c);
    if (c->argc < 3 || !on_off(c->argv[c->argc - 1], &b))
        return -1;
    emu_port *p = c->argc == 4 ? port_named(w, c->argv[2]) : NULL;
    if (strcmp(sub, "learning") == 0 && c->argc == 3)
        emu_fabric_set_learning(w->net, b);
    else if (strcmp(sub, "flood") == 0 && c->argc == 3)
        emu_fabric_set_flood_paths(w->net, b);
    else if (strcmp(sub, "port") == 0 && p)
        emu_port_set_up(p, b);
    else
        return -1;
    return 0;
}

/* ---- time, conditions ---- */

static bool run_time(world *w, const scn_cmd *c, uint64_t ns)
{
    int err = svc_run_for(w, ns);
    if (err || emu_failed(w->rt)) {
        world_fail(w, c->line, "verifier: %s",
                   emu_violation_count(w->rt) ? emu_violation_get(w->rt, 0)->rule
                                              : emu_strerror(err));
        return false;
    }
    return true;
}

static int expect_cmd(world *w, const scn_cmd *c)
{
    char seen[64], err[160];
    int r = cond_check(w, c->argv[1], c->argv[2], c->argv[3], seen, sizeof(seen), err, sizeof(err));
    if (r < 0)
        world_fail(w, c->line, "%s", err);
    else if (!r)
        world_fail(w, c->line, "expected %s %s %s, got %s", c->argv[1], c->argv[2], c->argv[3],
                   seen);
    return r < 0 ? -1 : 0;
}

static int wait_cmd(world *w, const scn_cmd *c)
{
    uint64_t timeout = WAIT_DEFAULT_NS, t0 = emu_now_ns(w->rt);
    const char *t = scn_opt(c, 4, "timeout");
    if ((c->argc > 4 && !t) || (t && !duration_arg(w, "timeout", t, &timeout)))
        return -1;
    char seen[64], err[160];
    for (;;) {
        int r =
            cond_check(w, c->argv[1], c->argv[2], c->argv[3], seen, sizeof(seen), err, sizeof(err));
        if (r < 0) {
            world_fail(w, c->line, "%s", err);
            return -1;
        }
        if (r)
            return 0;
        if (emu_now_ns(w->rt) - t0 >= timeout) {
            world_fail(w, c->line, "waited %.0f ms for %s %s %s; still %s", (double)timeout / 1e6,
                       c->argv[1], c->argv[2], c->argv[3], seen);
            return 0;
        }
        if (!run_time(w, c, WAIT_STEP_NS))
            return -1;
    }
}

/* ---- the guest and the hypervisor ---- */

static int migrate_cmd(world *w, const scn_cmd *c)
{
    emu_hv_migrate_params p = { 0 };
    const char *to = scn_opt(c, 1, "to"), *d = scn_opt(c, 1, "downtime"),
               *pre = scn_opt(c, 1, "precopy");
    p.dst = to ? to : strcmp(emu_hv_host(w->hv), "dst") == 0 ? "src" : "dst";
    if ((d && !duration_arg(w, "downtime", d, &p.downtime_ns)) ||
        (pre && !duration_arg(w, "precopy", pre, &p.precopy_ns)))
        return -1;
    return emu_hv_migrate(w->hv, &p) ? -1 : 0;
}

static int vf_cmd(world *w, const scn_cmd *c)
{
    bool up;
    if (strcmp(c->argv[2], "reset") == 0 && c->argc == 3)
        return emu_hv_vf_reset(w->hv, c->argv[1]) ? -1 : 0;
    if (strcmp(c->argv[2], "link") == 0 && c->argc == 4 && on_off(c->argv[3], &up))
        return emu_hv_vf_link(w->hv, c->argv[1], up) ? -1 : 0;
    return -1;
}

static int traffic_cmd(world *w, const scn_cmd *c)
{
    if (strcmp(c->argv[1], "stop") == 0)
        return world_traffic(w, false, 0, false, false) ? -1 : 0;
    if (strcmp(c->argv[1], "start") != 0)
        return -1;
    uint32_t rate = w->o.rate;
    const char *r = scn_opt(c, 2, "rate"), *dir = scn_opt(c, 2, "dir");
    if (r && (!parse_u32(r, &rate) || !rate || rate > 100000))
        return -1;
    bool in = !dir || strcmp(dir, "both") == 0 || strcmp(dir, "in") == 0;
    bool out = !dir || strcmp(dir, "both") == 0 || strcmp(dir, "out") == 0;
    if (!in && !out)
        return -1;
    /* burst=N: the peer sends N datagrams at one instant per tick (a flood) */
    uint32_t burst = 1;
    const char *b = scn_opt(c, 2, "burst");
    if (b && (!parse_u32(b, &burst) || !burst || burst > 4096 || burst > rate))
        return -1;
    emu_peer_set_burst(w->peer, burst);
    return world_traffic(w, true, rate, in, out) ? -1 : 0;
}

static int netcfg_cmd(world *w, const scn_cmd *c)
{
    bool enable;
    const char *inst = emu_hv_instance(w->hv, c->argv[2]);
    emu_adapter *ad = emu_find_adapter(w->rt, inst ? inst : c->argv[2]);
    if (!ad || !on_off(c->argv[3], &enable))
        return -1;
    return emu_netcfg_set_path(w->rt, c->argv[1], emu_adapter_id(ad), enable) ? -1 : 0;
}

static int mark_cmd(world *w, const scn_cmd *c)
{
    char text[256] = "";
    for (unsigned i = 1; i < c->argc; i++) {
        strncat(text, c->argv[i], sizeof(text) - strlen(text) - 2);
        if (i + 1 < c->argc)
            strcat(text, " ");
    }
    emu_hv_note(w->hv, "MARK", "", text);
    return 0;
}

static int save_cmd(world *w, const scn_cmd *c)
{
    char err[160];
    if (cond_save(w, c->argv[1], c->argv[2], err, sizeof(err))) {
        world_fail(w, c->line, "%s", err);
        return -3;
    }
    return 0;
}

/* print SUBJECT...: the measured values, with the virtual time. */
static int print_cmd(world *w, const scn_cmd *c)
{
    for (unsigned i = 1; i < c->argc; i++) {
        char err[160];
        cval v;
        if (cond_subject(w, c->argv[i], &v, err, sizeof(err))) {
            world_fail(w, c->line, "%s", err);
            return -3;
        }
        if (w->out)
            fprintf(w->out, "  %10.3f ms  measured %s = %s\n", (double)emu_now_ns(w->rt) / 1e6,
                    c->argv[i], v.str);
    }
    return 0;
}

static bool is_option(const char *name)
{
    return !strcmp(name, "set") || !strcmp(name, "driver") || !strcmp(name, "peer") ||
           !strcmp(name, "guest") || !strcmp(name, "name");
}

/* One command: 0 done, -1 could not be carried out, -2 time could not
 * advance (stop the run), -3 failed with its own message (go on). */
static int exec_one(world *w, const scn_cmd *c)
{
    const char *n = c->argv[0];
    uint64_t ns;
    bool up;
    if (!strcmp(n, "standby"))
        return add_standby(w, c);
    if (!strcmp(n, "primary"))
        return add_primary(w, c);
    if (!strcmp(n, "switch"))
        return switch_cmd(w, c);
    if (!strcmp(n, "boot"))
        return world_boot(w) ? -1 : 0;
    if (!strcmp(n, "run")) {
        if (!duration_arg(w, "", c->argv[1], &ns))
            return -1;
        return run_time(w, c, ns) ? 0 : -2;
    }
    if (!strcmp(n, "expect"))
        return expect_cmd(w, c);
    if (!strcmp(n, "wait"))
        return wait_cmd(w, c);
    if (!strcmp(n, "migrate"))
        return migrate_cmd(w, c);
    if (!strcmp(n, "migrate-cancel"))
        return emu_hv_migrate_cancel(w->hv) ? -1 : 0;
    if (!strcmp(n, "stop") || !strcmp(n, "cont")) {
        if (!strcmp(n, "stop"))
            emu_hv_stop(w->hv);
        else
            emu_hv_cont(w->hv);
        return 0;
    }
    if (!strcmp(n, "unplug"))
        return emu_hv_unplug(w->hv, c->argv[1], c->argc == 3 && !strcmp(c->argv[2], "surprise"))
                   ? -1
                   : 0;
    if (!strcmp(n, "plug"))
        return emu_hv_replug(w->hv, c->argv[1]) ? -1 : 0;
    if (!strcmp(n, "vf"))
        return vf_cmd(w, c);
    if (!strcmp(n, "link"))
        return on_off(c->argv[2], &up) && !emu_hv_standby_link(w->hv, c->argv[1], up) ? 0 : -1;
    if (!strcmp(n, "traffic"))
        return traffic_cmd(w, c);
    if (!strcmp(n, "netcfg"))
        return netcfg_cmd(w, c);
    if (!strcmp(n, "mark"))
        return mark_cmd(w, c);
    if (!strcmp(n, "service"))
        return svc_cmd(w, c);
    if (!strcmp(n, "adapter"))
        return guest_adapter_cmd(w, c);
    if (!strcmp(n, "filter"))
        return filter_cmd(w, c);
    if (!strcmp(n, "save"))
        return save_cmd(w, c);
    if (!strcmp(n, "print"))
        return print_cmd(w, c);
    return -1;
}

/* Commands [from, to); "repeat N" runs its block N times. false: stop the
 * run (the verifier tripped, time could not advance, the guest never
 * booted). */
static bool exec_block(world *w, const scn_file *f, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        const scn_cmd *c = &f->cmds[i];
        if (is_option(c->argv[0]) || (!w->booted && !strcmp(c->argv[0], "filter")))
            continue;
        if (!strcmp(c->argv[0], "repeat")) {
            unsigned long n = strtoul(c->argv[1], NULL, 10);
            for (unsigned long k = 0; k < n; k++) {
                if (!exec_block(w, f, i + 1, c->end))
                    return false;
            }
            i = c->end;
            continue;
        }
        int r = exec_one(w, c);
        if (r == -1 && w->why[0])
            world_fail(w, c->line, "%s: %s", c->argv[0], w->why);
        else if (r == -1)
            world_fail(w, c->line, "'%s' could not be carried out", c->argv[0]);
        w->why[0] = '\0';
        if (r == -2 || (r == -1 && !w->booted) || emu_failed(w->rt))
            return false;
    }
    return true;
}

unsigned exec_run(world *w, const scn_file *f)
{
    exec_block(w, f, 0, f->n);
    if (w->traffic_on)
        world_traffic(w, false, 0, false, false);
    tcpip_stats st;
    if (w->booted && !world_tcpip_stats(w, &st) && st.log_overflow)
        world_fail(w, 0, "the TCP/IP stand-in's logs overflowed (%llu entries lost; %u fit)",
                   (unsigned long long)st.log_overflow, TCPIP_LOG_ENTRIES);
    if (emu_hv_events_lost(w->hv))
        world_fail(w, 0, "%zu events could not be recorded", emu_hv_events_lost(w->hv));
    if (emu_failed(w->rt) && w->n_failures == 0)
        world_fail(w, 0, "verifier: %s", emu_violation_get(w->rt, 0)->rule);
    return w->n_failures;
}
