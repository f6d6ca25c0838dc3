/*
 * peer.c - see peer.h.
 */
#include "peer.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "netframe.h"

#define ARP_RETRY_NS 100000000ull /* resolve the guest every 100 ms until it answers */

struct emu_peer {
    emu_runtime *rt;
    emu_peer_cfg cfg;
    pthread_mutex_t mu;
    emu_port *port;
    bool resolved;
    bool sending;
    uint32_t pps;
    uint32_t burst; /* datagrams per tick, sent at one instant (0 = 1) */
    uint64_t tick_id, next_arp_ns;
    emu_seqlog tx, rx;
    emu_peer_stats st;
};

typedef struct reply_msg {
    emu_peer *p;
    size_t len;
    uint8_t frame[NF_ETH_MIN];
} reply_msg;

emu_peer *emu_peer_create(emu_runtime *rt, const emu_peer_cfg *cfg)
{
    static const uint8_t zero[6];
    emu_peer *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->rt = rt;
    p->cfg = *cfg;
    if (!p->cfg.port)
        p->cfg.port = 5001;
    if (!p->cfg.guest_port)
        p->cfg.guest_port = 5002;
    if (!p->cfg.payload)
        p->cfg.payload = 64;
    p->resolved = !nf_mac_equal(cfg->guest_mac, zero);
    pthread_mutex_init(&p->mu, NULL);
    emu_seqlog_init(&p->tx);
    emu_seqlog_init(&p->rx);
    return p;
}

void emu_peer_destroy(emu_peer *p)
{
    if (!p)
        return;
    emu_peer_stop(p);
    if (p->port)
        emu_port_connect(p->port, NULL, NULL);
    emu_seqlog_free(&p->tx);
    emu_seqlog_free(&p->rx);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

static void send_frame(emu_peer *p, const uint8_t *frame, size_t len)
{
    if (p->port && len)
        emu_port_send(p->port, frame, len);
}

static void send_reply(void *arg)
{
    reply_msg *m = arg;
    send_frame(m->p, m->frame, m->len);
    free(m);
}

/* Answers an ARP request for our address, from platform work so the answer
 * does not re-enter the switch inside the request's delivery. */
static void queue_arp_reply(emu_peer *p, const nf_arp *req)
{
    reply_msg *m = malloc(sizeof(*m));
    if (!m)
        return;
    nf_arp a = { .op = NF_ARP_REPLY, .spa = p->cfg.ip, .tpa = req->spa };
    memcpy(a.sha, p->cfg.mac, 6);
    memcpy(a.tha, req->sha, 6);
    m->p = p;
    m->len = nf_build_arp(m->frame, sizeof(m->frame), req->sha, &a, false);
    if (!emu_schedule(p->rt, 0, send_reply, m))
        free(m);
}

static void rx_arp(emu_peer *p, const nf_arp *a)
{
    bool garp = a->spa == a->tpa && (a->op == NF_ARP_REQUEST || a->op == NF_ARP_REPLY);
    pthread_mutex_lock(&p->mu);
    if (a->op == NF_RARP_REQUEST)
        p->st.rarp_rx++;
    else if (garp)
        p->st.garp_rx++;
    if (a->spa == p->cfg.guest_ip && a->op <= NF_ARP_REPLY) {
        memcpy(p->cfg.guest_mac, a->sha, 6);
        p->resolved = true;
    }
    bool answer = a->op == NF_ARP_REQUEST && a->tpa == p->cfg.ip && !garp;
    if (answer)
        p->st.arp_replied++;
    pthread_mutex_unlock(&p->mu);
    if (answer)
        queue_arp_reply(p, a);
}

static void rx_udp(emu_peer *p, const nf_udp *u, unsigned from_port)
{
    nf_seq s;
    pthread_mutex_lock(&p->mu);
    if (u->dst_ip != p->cfg.ip || u->dst_port != p->cfg.port) {
        p->st.other_rx++;
    } else if (!nf_parse_seq(u->payload, u->payload_len, &s)) {
        p->st.bad_rx++;
    } else {
        p->st.seq_rx++;
        emu_seqlog_arrived(&p->rx, s.seq, emu_now_ns(p->rt), from_port);
    }
    pthread_mutex_unlock(&p->mu);
}

/* TCP: counted, or dropped as a Linux host drops it. False: not TCP. */
static bool rx_tcp(emu_peer *p, const uint8_t *frame, size_t len)
{
    size_t payload = 0;
    nf_tcp_verdict v = nf_check_tcp(frame, len, &payload);
    if (v == NF_TCP_NOT_TCP)
        return false;
    pthread_mutex_lock(&p->mu);
    if (v == NF_TCP_OK) {
        p->st.tcp_rx++;
        p->st.tcp_bytes += payload;
    } else if (v == NF_TCP_BAD_LEN) {
        p->st.tcp_bad_len++;
    } else {
        p->st.tcp_bad_csum++;
    }
    pthread_mutex_unlock(&p->mu);
    return true;
}

static void peer_rx(void *ctx, const uint8_t *frame, size_t len, unsigned from_port)
{
    emu_peer *p = ctx;
    nf_eth e;
    nf_arp a;
    nf_udp u;
    pthread_mutex_lock(&p->mu);
    p->st.frames_rx++;
    pthread_mutex_unlock(&p->mu);
    if (!nf_parse_eth(frame, len, &e))
        e.type = 0;
    if (e.type == NF_ETHERTYPE_ARP || e.type == NF_ETHERTYPE_RARP) {
        if (nf_parse_arp(frame, len, &a)) {
            rx_arp(p, &a);
            return;
        }
    } else if (e.type == NF_ETHERTYPE_IP) {
        if (rx_tcp(p, frame, len))
            return;
        if (nf_parse_udp(frame, len, &u)) {
            rx_udp(p, &u, from_port);
            return;
        }
    } else {
        pthread_mutex_lock(&p->mu);
        p->st.other_rx++;
        pthread_mutex_unlock(&p->mu);
        return;
    }
    pthread_mutex_lock(&p->mu);
    p->st.bad_rx++;
    pthread_mutex_unlock(&p->mu);
}

void emu_peer_attach(emu_peer *p, emu_port *port)
{
    p->port = port;
    emu_port_set_station_mac(port, p->cfg.mac);
    emu_port_connect(port, peer_rx, p);
}

/* Builds the next frame to send, under the lock; 0 when nothing goes out. */
static size_t next_frame(emu_peer *p, uint64_t now, uint8_t *buf, size_t cap)
{
    if (!p->resolved) {
        p->st.not_sent++;
        if (now < p->next_arp_ns)
            return 0;
        p->next_arp_ns = now + ARP_RETRY_NS;
        p->st.arp_requests++;
        nf_arp a = { .op = NF_ARP_REQUEST, .spa = p->cfg.ip, .tpa = p->cfg.guest_ip };
        memcpy(a.sha, p->cfg.mac, 6);
        return nf_build_arp(buf, cap, nf_broadcast, &a, false);
    }
    nf_udp u = { .src_ip = p->cfg.ip,
                 .dst_ip = p->cfg.guest_ip,
                 .src_port = p->cfg.port,
                 .dst_port = p->cfg.guest_port };
    memcpy(u.src_mac, p->cfg.mac, 6);
    memcpy(u.dst_mac, p->cfg.guest_mac, 6);
    nf_seq s = { .stream = p->cfg.stream, .seq = p->tx.n_sent, .sent_ns = now };
    size_t len = nf_build_seq_udp(buf, cap, &u, &s, p->cfg.payload);
    if (len)
        emu_seqlog_sent(&p->tx, now);
    return len;
}

/* One tick: burst datagrams back to back (a flood arrives faster than the
 * guest's receive interrupt is served), then the next tick. */
static void tick(void *arg)
{
    emu_peer *p = arg;
    uint8_t frame[NF_ETH_MAX];
    uint64_t now = emu_now_ns(p->rt);
    pthread_mutex_lock(&p->mu);
    uint32_t burst = p->burst ? p->burst : 1;
    if (p->sending)
        p->tick_id = emu_schedule(p->rt, 1000000000ull * burst / p->pps, tick, p);
    pthread_mutex_unlock(&p->mu);
    for (uint32_t i = 0; i < burst; i++) {
        pthread_mutex_lock(&p->mu);
        size_t len = p->sending ? next_frame(p, now, frame, sizeof(frame)) : 0;
        pthread_mutex_unlock(&p->mu);
        if (!len)
            break;
        send_frame(p, frame, len);
    }
}

void emu_peer_set_burst(emu_peer *p, uint32_t burst)
{
    pthread_mutex_lock(&p->mu);
    p->burst = burst;
    pthread_mutex_unlock(&p->mu);
}

int emu_peer_start(emu_peer *p, uint32_t pps)
{
    if (!pps || pps > 1000000)
        return EMU_ERR_INVAL;
    pthread_mutex_lock(&p->mu);
    bool was = p->sending;
    p->pps = pps;
    p->sending = true;
    if (!was)
        p->tick_id = emu_schedule(p->rt, 0, tick, p);
    pthread_mutex_unlock(&p->mu);
    return EMU_OK;
}

void emu_peer_stop(emu_peer *p)
{
    pthread_mutex_lock(&p->mu);
    p->sending = false;
    if (p->tick_id)
        emu_cancel(p->rt, p->tick_id);
    p->tick_id = 0;
    pthread_mutex_unlock(&p->mu);
}

bool emu_peer_sending(emu_peer *p)
{
    pthread_mutex_lock(&p->mu);
    bool s = p->sending;
    pthread_mutex_unlock(&p->mu);
    return s;
}

const emu_seqlog *emu_peer_tx_log(emu_peer *p)
{
    return &p->tx;
}

const emu_seqlog *emu_peer_rx_log(emu_peer *p)
{
    return &p->rx;
}

void emu_peer_clear_logs(emu_peer *p)
{
    pthread_mutex_lock(&p->mu);
    emu_seqlog_reset(&p->tx);
    emu_seqlog_reset(&p->rx);
    pthread_mutex_unlock(&p->mu);
}

void emu_peer_get_stats(emu_peer *p, emu_peer_stats *out)
{
    pthread_mutex_lock(&p->mu);
    *out = p->st;
    pthread_mutex_unlock(&p->mu);
}

bool emu_peer_guest_resolved(emu_peer *p)
{
    pthread_mutex_lock(&p->mu);
    bool r = p->resolved;
    pthread_mutex_unlock(&p->mu);
    return r;
}
