/*
 * fo_bench: nanoseconds per packet of the failover engine's fast path.
 *
 *   fo_bench                 wall-clock figures (best and median of 7 runs)
 *   fo_bench --callgrind N   N calls of each case, untimed, for
 *                            callgrind's instruction counts (callgrind.sh)
 *
 * Cases (one pair, primary ACTIVE unless said otherwise):
 *   select_tx/standby    fo_select_tx with no primary: one load
 *   select_tx/primary    fo_select_tx taking the primary (one CAS); the
 *                        references are released 256 at a time
 *   select_tx/offload    the same for a packet asking for TCP checksum + LSO
 *   rx_accept            fo_rx_accept(p, 1), released 256 at a time
 *   tx round trip        fo_select_tx + fo_primary_release(p, 1) per packet
 *   rx round trip        fo_rx_accept(p, 1) + fo_primary_release(p, 1)
 *   2 threads round trip the tx round trip on two CPUs sharing one pair
 * Figures are reported, never asserted (they depend on the machine).
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fo_engine.h"

#define BATCH 256
#define RUNS  7

static fo_registry reg;
static fo_pair standby_only, active;

static void drain_and_answer(fo_pair *p)
{
    fo_action a[FO_ACTION_QUEUE];
    size_t n;
    bool again = true;
    while (again) {
        again = false;
        while ((n = fo_take_actions(p, a, FO_ACTION_QUEUE)) > 0)
            for (size_t i = 0; i < n; i++)
                if (a[i].kind == FO_ACT_REPLAY) {
                    fo_primary_replay_complete(p, a[i].u.replay.token, FO_OID_OK);
                    again = true;
                }
    }
}

static void make_pair(fo_pair *p, uint8_t last, bool with_primary)
{
    fo_config cfg;
    fo_standby_desc sd;
    memset(&sd, 0, sizeof(sd));
    fo_config_default(&cfg);
    const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, last };
    memcpy(sd.mac, mac, 6);
    sd.net_luid = last;
    sd.mtu = 1500;
    sd.standby_negotiated = true;
    sd.caps.offload = (fo_offload){ FO_OFL_ALL, 65535, 2, 65535, 2 };
    sd.link = (fo_link){ true, 1000000000ull };
    if (fo_pair_init(p, &reg, &cfg, &sd) != FO_R_OK || fo_upper_restart(p) != FO_R_OK)
        abort();
    drain_and_answer(p);
    if (!with_primary)
        return;
    fo_adapter_desc d;
    memset(&d, 0, sizeof(d));
    memcpy(d.permanent_mac, mac, 6);
    d.net_luid = 0x1000u + last;
    d.mtu = 1500;
    d.caps = sd.caps;
    d.link = (fo_link){ true, 10000000000ull };
    fo_pair *out;
    if (fo_bind_candidate(&reg, &d, &out) != FO_R_OK || out != p)
        abort();
    fo_primary_open_complete(p, true);
    fo_primary_restart(p);
    drain_and_answer(p);
    fo_pair_info info;
    fo_pair_get_info(p, &info);
    if (info.state != FO_ACTIVE)
        abort();
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static volatile unsigned sink; /* keeps results alive */

static void case_select_standby(uint64_t n)
{
    unsigned acc = 0;
    for (uint64_t i = 0; i < n; i++)
        acc += fo_select_tx(&standby_only, NULL);
    sink = acc;
}

static void select_batched(uint64_t n, const fo_tx_meta *meta)
{
    unsigned acc = 0;
    for (uint64_t i = 0; i < n; i += BATCH) {
        for (unsigned k = 0; k < BATCH; k++)
            acc += fo_select_tx(&active, meta);
        fo_primary_release(&active, BATCH);
    }
    sink = acc;
}

static void case_select_primary(uint64_t n)
{
    select_batched(n, NULL);
}

static void case_select_offload(uint64_t n)
{
    static const fo_tx_meta m = { FO_OFL_TX_TCP4_CSUM | FO_OFL_LSO4, 60000, 42 };
    select_batched(n, &m);
}

static void case_rx_accept(uint64_t n)
{
    unsigned acc = 0;
    for (uint64_t i = 0; i < n; i += BATCH) {
        for (unsigned k = 0; k < BATCH; k++)
            acc += fo_rx_accept(&active, 1);
        fo_primary_release(&active, BATCH);
    }
    sink = acc;
}

static void case_tx_round_trip(uint64_t n)
{
    unsigned acc = 0;
    for (uint64_t i = 0; i < n; i++) {
        acc += fo_select_tx(&active, NULL);
        acc += fo_primary_release(&active, 1);
    }
    sink = acc;
}

static void case_rx_round_trip(uint64_t n)
{
    unsigned acc = 0;
    for (uint64_t i = 0; i < n; i++) {
        acc += fo_rx_accept(&active, 1);
        acc += fo_primary_release(&active, 1);
    }
    sink = acc;
}

static void *round_trip_thread(void *arg)
{
    case_tx_round_trip(*(uint64_t *)arg);
    return NULL;
}

/* Both CPUs hammer the same pair: the cost of sharing its cache line. */
static void case_two_threads(uint64_t n)
{
    pthread_t t;
    uint64_t half = n / 2;
    if (pthread_create(&t, NULL, round_trip_thread, &half) != 0)
        abort();
    case_tx_round_trip(half);
    pthread_join(t, NULL);
}

static const struct {
    const char *name;
    void (*fn)(uint64_t);
    bool per_thread_pair; /* reported per packet over both threads */
} cases[] = {
    { "select_tx/standby", case_select_standby, false },
    { "select_tx/primary", case_select_primary, false },
    { "select_tx/offload", case_select_offload, false },
    { "rx_accept", case_rx_accept, false },
    { "tx round trip", case_tx_round_trip, false },
    { "rx round trip", case_rx_round_trip, false },
    { "2 threads round trip", case_two_threads, true },
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    fo_registry_init(&reg);
    make_pair(&standby_only, 1, false);
    make_pair(&active, 2, true);
    size_t ncases = sizeof(cases) / sizeof(cases[0]);

    if (argc == 3 && !strcmp(argv[1], "--callgrind")) {
        uint64_t n = strtoull(argv[2], NULL, 0);
        for (size_t c = 0; c + 1 < ncases; c++) /* single-threaded cases only */
            cases[c].fn(n);
        return 0;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--callgrind N]\n", argv[0]);
        return 2;
    }

    const uint64_t n = 20 * 1000 * 1000;
    printf("%-22s %10s %10s   (ns per packet, %llu packets per run, %d runs)\n", "case", "best",
           "median", (unsigned long long)n, RUNS);
    for (size_t c = 0; c < ncases; c++) {
        double t[RUNS];
        cases[c].fn(n / 10); /* warm up */
        for (int r = 0; r < RUNS; r++) {
            double t0 = now_ns();
            cases[c].fn(n);
            t[r] = (now_ns() - t0) / (double)n;
        }
        qsort(t, RUNS, sizeof(t[0]), cmp_double);
        printf("%-22s %10.2f %10.2f\n", cases[c].name, t[0], t[RUNS / 2]);
    }
    fo_pair_info info;
    fo_pair_get_info(&active, &info);
    return info.inflight == 0 && info.state == FO_ACTIVE ? 0 : 1;
}
