/*
 * world.c - building, booting and observing the emulated world (world.h).
 */
#include "world.h"

#include "filter.h"
#include "guest.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "netframe.h"
#include "svc.h"

static const uint8_t k_peer_mac[6] = { 0x52, 0x54, 0x00, 0xee, 0x00, 0x01 };
#define DEFAULT_PEER_IP  0x0A000001u /* 10.0.0.1 */
#define DEFAULT_GUEST_IP 0x0A000002u /* 10.0.0.2 */

static void set_path(drv_path *d, const char *so, const char *desc)
{
    snprintf(d->so, sizeof(d->so), "%s", so);
    snprintf(d->desc, sizeof(d->desc), "%s", desc ? desc : "");
}

const char *world_driver_alias(const char *name)
{
    return strcmp(name, "vnetmin") == 0 ? VFO_EMU_VNETMIN_SO : name;
}

void world_defaults(world *w, FILE *out)
{
    memset(w, 0, sizeof(*w));
    w->out = out;
    w->o.seed = 1;
    w->o.rate = 1000;
    w->o.payload = 64;
    w->o.tcpip = true;
    /* The platform's timings as measured on real QEMU (hv.h); a scenario's
     * "set" changes them, saying why. */
    w->o.hv.eject_delay_ns = EMU_HV_DEFAULT_EJECT_DELAY_NS;
    w->o.hv.probe_delay_ns = EMU_HV_DEFAULT_PROBE_DELAY_NS;
    w->o.hv.link_up_delay_ns = EMU_HV_DEFAULT_LINK_UP_DELAY_NS;
    snprintf(w->o.vf_range, sizeof(w->o.vf_range), "ndis5");
    snprintf(w->o.first_host, sizeof(w->o.first_host), "src");
    set_path(&w->standby, VFO_EMU_STANDBY_SO, NULL);
    set_path(&w->vf, VFO_EMU_VFNIC_SO, NULL);
    set_path(&w->tcpip, VFO_EMU_TCPIP_SO, NULL);
    snprintf(w->peer_name, sizeof(w->peer_name), "peer0");
    memcpy(w->peer_cfg.mac, k_peer_mac, 6);
    w->peer_cfg.ip = DEFAULT_PEER_IP;
    w->peer_cfg.stream = 1;
    w->guest_ip = DEFAULT_GUEST_IP;
}

void world_fail(world *w, unsigned line, const char *fmt, ...)
{
    char msg[220];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (w->n_failures < WORLD_MAX_FAILURES)
        snprintf(w->failures[w->n_failures], sizeof(w->failures[0]), "line %u: %s", line, msg);
    w->n_failures++;
    if (w->out)
        fprintf(w->out, "FAIL line %u: %s\n", line, msg);
}

static void on_event(void *ctx, const emu_hv_event *e)
{
    world *w = ctx;
    nfmodel_event(w, e);
    if (w->o.progress && w->out)
        fprintf(w->out, "  %10.3f ms  %-20s %-14s %s\n", (double)e->t_ns / 1e6, e->kind, e->subject,
                e->detail);
}

int world_create(world *w)
{
    emu_config cfg = { .sched = EMU_SCHED_DETERMINISTIC,
                       .seed = w->o.seed,
                       .report = w->out,
                       .rx_max_nbls = w->o.rx_max_nbls };
    int err = emu_create(&cfg, &w->rt);
    if (err)
        return err;
    if (w->o.trace)
        emu_trace(w->rt, EMU_TRACE_TEXT, stderr);
    w->net = emu_fabric_create();
    w->hv = w->net ? emu_hv_create(w->rt, w->net, w->o.first_host, &w->o.hv) : NULL;
    if (!w->hv)
        return EMU_ERR_NOMEM;
    nfmodel_init(&w->nf, w->peer_cfg.stream);
    emu_hv_set_event_fn(w->hv, on_event, w);
    return EMU_OK;
}

/* ---- port samples for the plot and per-path figures ---- */

/* Which series a port counts in: -1 for ports that do not face the guest. */
static int port_class(const emu_port *p)
{
    const char *n = emu_port_name(p);
    return strstr(n, "-vf") ? 0 : strstr(n, "-tap") ? 1 : -1;
}

static void sum_ports(world *w, port_sample *s)
{
    for (size_t i = 1; i < emu_fabric_switch_count(w->net); i++) {
        emu_switch *sw = emu_fabric_switch_at(w->net, i);
        for (size_t k = 0; k < emu_switch_port_count(sw); k++) {
            emu_port *p = emu_switch_port_at(sw, k);
            int cls = port_class(p);
            if (cls < 0)
                continue;
            emu_port_stats st;
            emu_port_get_stats(p, &st);
            s->frames[cls == 0 ? PATH_OUT_VF : PATH_OUT_TAP] += st.rx_frames;
            s->frames[cls == 0 ? PATH_IN_VF : PATH_IN_TAP] += st.tx_frames;
        }
    }
}

static void sample(void *arg)
{
    world *w = arg;
    if (w->n_samples == w->cap_samples) {
        size_t cap = w->cap_samples ? 2 * w->cap_samples : 1024;
        port_sample *s = realloc(w->samples, cap * sizeof(*s));
        if (!s)
            return;
        w->samples = s;
        w->cap_samples = cap;
    }
    port_sample *s = &w->samples[w->n_samples++];
    memset(s, 0, sizeof(*s));
    s->t_ns = emu_now_ns(w->rt);
    sum_ports(w, s);
    guest_watch_tick(w);
    w->sample_timer = emu_schedule(w->rt, SAMPLE_NS, sample, w);
}

static int load(world *w, const drv_path *d, emu_driver **out)
{
    emu_driver *drv;
    int err = emu_load_driver(w->rt, d->so, d->desc[0] ? d->desc : NULL, &drv);
    if (!err && out)
        *out = drv;
    if (err && w->out)
        fprintf(w->out, "vfo-emu: cannot load %s: %s\n", d->so, emu_strerror(err));
    return err;
}

static int configure_tcpip(world *w)
{
    int err = emu_ctl_open(w->rt, TCPIP_DEVICE, &w->tcpip_ctl);
    if (err)
        return err;
    tcpip_config c = { .ip = w->guest_ip,
                       .netmask = 0xFFFFFF00u,
                       .peer_ip = w->peer_cfg.ip,
                       .stream = 2,
                       .payload = w->o.payload,
                       .log_capacity = TCPIP_LOG_ENTRIES,
                       /* some datagrams as long MDL chains, the seed says which */
                       .shape_seed = (uint32_t)w->o.seed | 1u,
                       .lso_bytes = w->o.lso_bytes };
    memcpy(c.peer_mac, w->peer_cfg.mac, 6);
    return world_tcpip_ioctl(w, IOCTL_TCPIP_CONFIG, &c, sizeof(c));
}

int world_boot(world *w)
{
    if (strcmp(w->o.vf_range, "ndisvf") == 0 && !w->vf.desc[0])
        snprintf(w->vf.desc, sizeof(w->vf.desc), "%s", VFO_EMU_VFNIC_NDISVF_DESC);
    /* "none": the guest has no driver for the standby NIC (qtest's idle guest). */
    int err = strcmp(w->standby.so, "none") == 0 ? EMU_OK : load(w, &w->standby, &w->standby_drv);
    if (!err)
        err = load(w, &w->vf, NULL);
    if (!err && w->o.tcpip)
        err = load(w, &w->tcpip, NULL);
    for (unsigned i = 0; !err && i < w->n_extra; i++)
        err = load(w, &w->extra[i], NULL);
    if (!err)
        err = filter_boot(w);
    if (err)
        return err;
    w->peer_cfg.guest_ip = w->guest_ip;
    w->peer = emu_peer_create(w->rt, &w->peer_cfg);
    if (!w->peer)
        return EMU_ERR_NOMEM;
    char port[48];
    snprintf(port, sizeof(port), "peer-%s", w->peer_name);
    emu_peer_attach(w->peer, emu_switch_add_port(emu_fabric_tor(w->net), port));
    if (w->o.tcpip && (err = configure_tcpip(w)))
        return err;
    w->sample_timer = emu_schedule(w->rt, 0, sample, w);
    w->booted = true;
    if (w->standby_drv)
        guest_watch_start(w);
    return emu_hv_boot(w->hv);
}

void world_finish(world *w)
{
    if (!w->rt || w->finished)
        return;
    w->finished = true;
    svc_finish(w);
    if (w->peer)
        emu_peer_stop(w->peer);
    if (w->tcpip_ctl)
        emu_ctl_close(w->tcpip_ctl);
    w->tcpip_ctl = NULL;
    guest_watch_stop(w);
    if (w->sample_timer)
        emu_cancel(w->rt, w->sample_timer);
    w->end_ns = emu_now_ns(w->rt);
    if (emu_failed(w->rt))
        return;
    if (emu_shutdown(w->rt) != EMU_OK)
        world_fail(w, 0, "shutdown: %s",
                   emu_violation_count(w->rt) ? emu_violation_get(w->rt, 0)->rule : "failed");
}

void world_destroy(world *w)
{
    world_finish(w);
    svc_destroy(w);
    if (w->rt)
        emu_destroy(w->rt);
    emu_hv_destroy(w->hv);
    emu_peer_destroy(w->peer);
    emu_fabric_destroy(w->net);
    free(w->samples);
    guest_watch_free(w);
    w->rt = NULL;
}

/* ---- the TCP/IP stand-in ---- */

int world_tcpip_ioctl(world *w, uint32_t code, const void *in, size_t in_len)
{
    if (!w->tcpip_ctl)
        return EMU_ERR_NOTFOUND;
    int32_t nt;
    size_t ret;
    int err = emu_ctl_ioctl(w->tcpip_ctl, code, in, in_len, NULL, 0, &ret, &nt);
    return err ? err : nt ? EMU_ERR_DRIVER : EMU_OK;
}

int world_tcpip_stats(world *w, tcpip_stats *s)
{
    memset(s, 0, sizeof(*s));
    if (!w->tcpip_ctl)
        return EMU_ERR_NOTFOUND;
    int32_t nt;
    size_t ret;
    int err = emu_ctl_ioctl(w->tcpip_ctl, IOCTL_TCPIP_STATS, NULL, 0, s, sizeof(*s), &ret, &nt);
    return err ? err : nt || ret != sizeof(*s) ? EMU_ERR_DRIVER : EMU_OK;
}

/* Reads a log in chunks: entries of `size` bytes starting at index 0. */
static int read_log(world *w, uint32_t code, size_t size, void **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!w->tcpip_ctl)
        return EMU_OK;
    size_t chunk = 4096, cap = 0;
    for (;;) {
        if (*n + chunk > cap) {
            cap = (*n + chunk) * 2;
            void *grown = realloc(*out, cap * size);
            if (!grown)
                return EMU_ERR_NOMEM;
            *out = grown;
        }
        uint64_t first = *n;
        int32_t nt;
        size_t ret;
        int err = emu_ctl_ioctl(w->tcpip_ctl, code, &first, sizeof(first), (char *)*out + *n * size,
                                chunk * size, &ret, &nt);
        if (err || nt)
            return err ? err : EMU_ERR_DRIVER;
        *n += ret / size;
        if (ret / size < chunk)
            return EMU_OK;
    }
}

int world_tcpip_tx_log(world *w, uint64_t **sent, size_t *n)
{
    return read_log(w, IOCTL_TCPIP_READ_TX, sizeof(uint64_t), (void **)sent, n);
}

int world_tcpip_rx_log(world *w, emu_seq_arrival **arr, size_t *n)
{
    tcpip_arrival *raw;
    int err = read_log(w, IOCTL_TCPIP_READ_RX, sizeof(tcpip_arrival), (void **)&raw, n);
    if (err) {
        free(raw);
        return err;
    }
    *arr = malloc((*n ? *n : 1) * sizeof(**arr));
    if (!*arr) {
        free(raw);
        return EMU_ERR_NOMEM;
    }
    for (size_t i = 0; i < *n; i++)
        (*arr)[i] = (emu_seq_arrival){ raw[i].seq, raw[i].t_ns, raw[i].adapter };
    free(raw);
    return EMU_OK;
}

int world_traffic(world *w, bool start, uint32_t rate, bool in, bool out)
{
    int err = EMU_OK;
    if (!start) {
        if (w->traffic_out && w->tcpip_ctl)
            err = world_tcpip_ioctl(w, IOCTL_TCPIP_STOP, NULL, 0);
        if (w->traffic_in)
            emu_peer_stop(w->peer);
        w->traffic_on = false;
        w->traffic_stop_ns = emu_now_ns(w->rt);
        emu_hv_note(w->hv, "TRAFFIC", "stop", NULL);
        return err;
    }
    w->traffic_in = in;
    w->traffic_out = out && w->tcpip_ctl;
    if (w->traffic_out)
        err = world_tcpip_ioctl(w, IOCTL_TCPIP_START, &rate, sizeof(rate));
    if (!err && in)
        err = emu_peer_start(w->peer, rate);
    if (!err) {
        w->traffic_on = true;
        w->traffic_start_ns = emu_now_ns(w->rt);
        char detail[48];
        snprintf(detail, sizeof(detail), "%u/s %s", rate,
                 in && out ? "both ways"
                 : in      ? "peer to guest"
                           : "guest to peer");
        emu_hv_note(w->hv, "TRAFFIC", "start", detail);
    }
    return err;
}

/* ---- the two streams' logs ---- */

int traffic_logs(world *w, bool in, dir_logs *d)
{
    memset(d, 0, sizeof(*d));
    if (in) {
        const emu_seqlog *tx = emu_peer_tx_log(w->peer);
        d->sent = tx->sent_ns;
        d->n_sent = tx->n_sent;
        d->own_arr = true;
        return world_tcpip_rx_log(w, &d->arr, &d->n_arr);
    }
    const emu_seqlog *rx = emu_peer_rx_log(w->peer);
    d->arr = rx->arr;
    d->n_arr = rx->n_arr;
    d->own_sent = true;
    return world_tcpip_tx_log(w, &d->sent, &d->n_sent);
}

void traffic_logs_free(dir_logs *d)
{
    if (d->own_sent)
        free(d->sent);
    if (d->own_arr)
        free(d->arr);
    memset(d, 0, sizeof(*d));
}
