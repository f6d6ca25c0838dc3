/*
 * fo_stats.h - one monotonic set of interface counters for the upper stack.
 *
 * The upper stack sees standby + primary. Each path's counters are sampled by
 * the glue (virtio's from vnet, the primary's from OID_GEN_STATISTICS on the
 * binding) and folded in as deltas, so the sum never goes backwards: not when
 * a primary detaches (its contribution stays), not when a new one attaches
 * (its first sample is a baseline), not when a counter wraps at 32 or 64 bits.
 */
#ifndef FO_STATS_H
#define FO_STATS_H

#include <stdbool.h>
#include <stdint.h>

/* The 14 NDIS ifHC counters plus errors and discards (NDIS_STATISTICS_INFO). */
typedef enum fo_stat {
    FO_STAT_IN_OCTETS = 0,
    FO_STAT_IN_UCAST_PKTS,
    FO_STAT_IN_MCAST_PKTS,
    FO_STAT_IN_BCAST_PKTS,
    FO_STAT_OUT_OCTETS,
    FO_STAT_OUT_UCAST_PKTS,
    FO_STAT_OUT_MCAST_PKTS,
    FO_STAT_OUT_BCAST_PKTS,
    FO_STAT_IN_UCAST_OCTETS,
    FO_STAT_IN_MCAST_OCTETS,
    FO_STAT_IN_BCAST_OCTETS,
    FO_STAT_OUT_UCAST_OCTETS,
    FO_STAT_OUT_MCAST_OCTETS,
    FO_STAT_OUT_BCAST_OCTETS,
    FO_STAT_IN_ERRORS,
    FO_STAT_IN_DISCARDS,
    FO_STAT_OUT_ERRORS,
    FO_STAT_OUT_DISCARDS,
    FO_STAT_COUNT
} fo_stat;

typedef struct fo_counters {
    uint64_t v[FO_STAT_COUNT];
} fo_counters;

/* Per-path accumulation state; private to lib/failover. */
typedef struct fo_stats_path {
    bool have_last;   /* false: the next sample is a baseline */
    fo_counters last; /* previous raw sample */
    fo_counters sum;  /* everything this path ever contributed */
} fo_stats_path;

typedef struct fo_stats {
    fo_stats_path standby;
    fo_stats_path primary;
    uint64_t resets_seen; /* 64-bit samples that went down from low values */
} fo_stats;

void fo_stats_init(fo_stats *s);

/* Folds one raw sample of a path in. width_bits is the counters' width as the
 * source reports them (32 or 64); a smaller value than the previous sample is a
 * wrap at that width, except a 64-bit counter that drops from below 2^63,
 * which can only be a reset: then the new value is counted from zero. */
void fo_stats_path_sample(fo_stats_path *p, const fo_counters *raw, unsigned width_bits,
                          uint64_t *resets_seen);

/* The next sample of this path is a baseline (new primary, or its counters reset). */
void fo_stats_path_rebase(fo_stats_path *p);

/* out = standby + primary, modulo 2^64. */
void fo_stats_total(const fo_stats *s, fo_counters *out);

#endif /* FO_STATS_H */
