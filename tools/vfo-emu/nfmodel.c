/*
 * nfmodel.c - see nfmodel.h. The counters are touched from the switches'
 * delivery path and read between runs of the scheduler; atomics keep them
 * whole whichever thread delivers.
 */
#include "nfmodel.h"

#include <stdio.h>
#include <string.h>

#include "netframe.h"
#include "world.h"

void nfmodel_init(nfmodel *m, uint32_t peer_stream)
{
    memset(m, 0, sizeof(*m));
    m->stream = peer_stream;
}

static void tap_delivery(void *ctx, const uint8_t *frame, size_t len, unsigned from_port)
{
    nfmodel *m = ctx;
    nf_udp u;
    nf_seq s;
    (void)from_port;
    if (!nf_parse_udp(frame, len, &u) || !nf_parse_seq(u.payload, u.payload_len, &s) ||
        s.stream != m->stream)
        return;
    __atomic_fetch_add(&m->on_standby, 1, __ATOMIC_RELAXED);
    if (__atomic_load_n(&m->n_registered, __ATOMIC_RELAXED))
        __atomic_fetch_add(&m->would_drop, 1, __ATOMIC_RELAXED);
}

/* Taps come into being as the guest moves: watch every one there is. */
static void watch_taps(world *w)
{
    for (size_t i = 1; i < emu_fabric_switch_count(w->net); i++) {
        emu_switch *sw = emu_fabric_switch_at(w->net, i);
        for (size_t k = 0; k < emu_switch_port_count(sw); k++) {
            emu_port *p = emu_switch_port_at(sw, k);
            if (strstr(emu_port_name(p), "-tap"))
                emu_port_observe(p, tap_delivery, &w->nf);
        }
    }
}

static int primary_index(nfmodel *m, const char *id, bool add)
{
    for (unsigned i = 0; i < m->n_primary; i++) {
        if (strcmp(m->primary[i], id) == 0)
            return (int)i;
    }
    if (!add || m->n_primary == EMU_HV_MAX_NICS)
        return -1;
    snprintf(m->primary[m->n_primary], EMU_HV_ID_LEN, "%s", id);
    return (int)m->n_primary++;
}

static void set_registered(nfmodel *m, int i, bool on)
{
    if (i < 0 || m->registered[i] == on)
        return;
    m->registered[i] = on;
    unsigned n = __atomic_load_n(&m->n_registered, __ATOMIC_RELAXED);
    __atomic_store_n(&m->n_registered, on ? n + 1 : n - 1, __ATOMIC_RELAXED);
}

void nfmodel_event(world *w, const emu_hv_event *e)
{
    nfmodel *m = &w->nf;
    if (strcmp(e->kind, "PRIMARY_PLUG") == 0)
        primary_index(m, e->subject, true);
    else if (strcmp(e->kind, "DEVICE_ADDED") == 0 && strchr(e->detail, '.'))
        set_registered(m, primary_index(m, e->subject, false), true); /* detail: its instance */
    else if (strcmp(e->kind, "DEVICE_DELETED") == 0)
        set_registered(m, primary_index(m, e->subject, false), false);
    watch_taps(w);
}
