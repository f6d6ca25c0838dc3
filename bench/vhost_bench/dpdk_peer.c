/*
 * dpdk_peer - DPDK's own virtio front end (net_virtio_user, from Debian's
 * dpdk package) doing what vhost_bench makes lib/vnet do, on the same
 * vhost-user back end, so the two can be compared: the same loops, the
 * same batches, the same clock.
 *
 *   tx    send `batch` frames per rte_eth_tx_burst (retrying the rest while
 *         the ring is full)
 *   rx    take up to `batch` frames per rte_eth_rx_burst and free them
 *   both  send `batch` frames, then receive until `batch` came back
 *
 * Frames: the 14-byte Ethernet header is written into each mbuf, the rest
 * of the frame is not touched (lib/vnet's benchmark does not touch payload
 * either). No offloads are requested.
 *
 * Usage: dpdk_peer <EAL arguments> -- --mode tx|rx|both --size N --batch N --ms N
 * Prints one line: "dpdk_peer: frames=N ns=T cpu_ns=C" (C: CPU time of the
 * measuring thread, which shows how much of the wall time it was running).
 */
#define _GNU_SOURCE /* clock_gettime under -std=c11 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>

#define RING      256
#define MAX_BATCH 64
#define POOL_SIZE 8191

static double clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

typedef struct peer {
    uint16_t port;
    struct rte_mempool *pool;
    unsigned size, batch;
    uint8_t header[14];
} peer;

static int port_up(peer *p)
{
    struct rte_eth_conf conf;

    memset(&conf, 0, sizeof(conf));
    if (rte_eth_dev_count_avail() < 1)
        return -1;
    p->port = 0;
    if (rte_eth_dev_configure(p->port, 1, 1, &conf) != 0 ||
        rte_eth_rx_queue_setup(p->port, 0, RING, rte_socket_id(), NULL, p->pool) != 0 ||
        rte_eth_tx_queue_setup(p->port, 0, RING, rte_socket_id(), NULL) != 0)
        return -1;
    return rte_eth_dev_start(p->port);
}

static void send_batch(peer *p)
{
    struct rte_mbuf *m[MAX_BATCH];
    unsigned i, sent = 0;

    while (rte_pktmbuf_alloc_bulk(p->pool, m, p->batch) != 0)
        ; /* the back end still holds them: wait */
    for (i = 0; i < p->batch; i++) {
        memcpy(rte_pktmbuf_mtod(m[i], uint8_t *), p->header, sizeof(p->header));
        m[i]->data_len = (uint16_t)p->size;
        m[i]->pkt_len = p->size;
    }
    while (sent < p->batch)
        sent += rte_eth_tx_burst(p->port, 0, m + sent, (uint16_t)(p->batch - sent));
}

static uint64_t receive(peer *p, unsigned want)
{
    struct rte_mbuf *m[MAX_BATCH];
    uint16_t n = rte_eth_rx_burst(p->port, 0, m, (uint16_t)want);

    rte_pktmbuf_free_bulk(m, n);
    return n;
}

static uint64_t one_round(peer *p, const char *mode)
{
    uint64_t got = 0;
    unsigned spins;

    if (!strcmp(mode, "tx")) {
        send_batch(p);
        return p->batch;
    }
    if (!strcmp(mode, "rx"))
        return receive(p, p->batch);
    send_batch(p);
    for (spins = 0; got < p->batch && spins < 100000000u; spins++)
        got += receive(p, p->batch - (unsigned)got); /* a lost frame must not hang us */
    return got;
}

int main(int argc, char **argv)
{
    const char *mode = "tx";
    unsigned ms = 1000, i;
    uint64_t frames = 0, rounds = 0;
    double t0, t_end, cpu0;
    peer p = { .size = 64, .batch = 32 };
    int used = rte_eal_init(argc, argv);

    if (used < 0) {
        fprintf(stderr, "dpdk_peer: EAL initialisation failed\n");
        return 1;
    }
    for (i = (unsigned)used + 1; i + 1 < (unsigned)argc; i += 2) {
        if (!strcmp(argv[i], "--mode"))
            mode = argv[i + 1];
        else if (!strcmp(argv[i], "--size"))
            p.size = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch"))
            p.batch = (unsigned)atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--ms"))
            ms = (unsigned)atoi(argv[i + 1]);
    }
    if (p.batch == 0 || p.batch > MAX_BATCH || p.size < 60 || p.size > 1514) {
        fprintf(stderr, "dpdk_peer: batch 1-%d, size 60-1514\n", MAX_BATCH);
        return 2;
    }
    memset(p.header, 0xFF, 6);
    memcpy(p.header + 6, "\x02\x00\x00\x00\x00\x01\x88\xb5", 8);
    p.pool = rte_pktmbuf_pool_create("peer", POOL_SIZE, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                     (int)rte_socket_id());
    if (!p.pool || port_up(&p) != 0) {
        fprintf(stderr, "dpdk_peer: port set-up failed\n");
        return 1;
    }
    /* Warm up for a tenth of the time, then measure. */
    t_end = now_ns() + ms * 1e5;
    while (now_ns() < t_end)
        one_round(&p, mode);
    t0 = now_ns();
    cpu0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    t_end = t0 + ms * 1e6;
    do {
        frames += one_round(&p, mode);
    } while ((++rounds & 15) || now_ns() < t_end);
    t0 = now_ns() - t0;
    printf("dpdk_peer: frames=%llu ns=%.0f cpu_ns=%.0f\n", (unsigned long long)frames, t0,
           clock_ns(CLOCK_THREAD_CPUTIME_ID) - cpu0);
    fflush(stdout);
    rte_eth_dev_stop(p.port);
    rte_eth_dev_close(p.port);
    rte_eal_cleanup();
    return 0;
}
