/* Counter merging: deltas folded into per-path sums so the total is monotonic. */
#include <string.h>

#include "fo_stats.h"

#define TOP_BIT_64 ((uint64_t)1 << 63)

void fo_stats_init(fo_stats *s)
{
    memset(s, 0, sizeof(*s));
}

/* How far a counter moved from last to now, given the width it wraps at. */
static uint64_t counter_delta(uint64_t last, uint64_t now, unsigned width_bits, bool *reset)
{
    if (width_bits < 64) {
        uint64_t mask = ((uint64_t)1 << width_bits) - 1;
        return ((now & mask) - (last & mask)) & mask;
    }
    if (now >= last)
        return now - last;
    /* A 64-bit counter only wraps from the top of its range; from anywhere
     * lower, going down means the source restarted its counters at zero. */
    if (last & TOP_BIT_64)
        return now - last; /* modulo 2^64 */
    *reset = true;
    return now;
}

void fo_stats_path_sample(fo_stats_path *p, const fo_counters *raw, unsigned width_bits,
                          uint64_t *resets_seen)
{
    if (width_bits != 32)
        width_bits = 64;
    if (p->have_last) {
        bool reset = false;
        for (unsigned i = 0; i < FO_STAT_COUNT; i++)
            p->sum.v[i] += counter_delta(p->last.v[i], raw->v[i], width_bits, &reset);
        if (reset)
            (*resets_seen)++;
    }
    p->last = *raw;
    p->have_last = true;
}

void fo_stats_path_rebase(fo_stats_path *p)
{
    p->have_last = false;
}

void fo_stats_total(const fo_stats *s, fo_counters *out)
{
    for (unsigned i = 0; i < FO_STAT_COUNT; i++)
        out->v[i] = s->standby.sum.v[i] + s->primary.sum.v[i];
}
