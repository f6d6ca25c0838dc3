/* Capability intersection and the per-packet "can this path send it" check. */
#include "fo_caps.h"

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static uint32_t max_u32(uint32_t a, uint32_t b)
{
    return a > b ? a : b;
}

/* One LSO version: present only when both sides have it with a usable size. */
static void lso_intersect(uint32_t *flags, uint32_t bit, uint32_t a_max, uint32_t a_min,
                          uint32_t b_max, uint32_t b_min, uint32_t *out_max, uint32_t *out_min)
{
    uint32_t mx = min_u32(a_max, b_max);
    if (!(*flags & bit) || mx == 0) {
        *flags &= ~bit;
        *out_max = 0;
        *out_min = 0;
        return;
    }
    *out_max = mx;
    *out_min = max_u32(a_min, b_min);
}

void fo_offload_intersect(const fo_offload *a, const fo_offload *b, fo_offload *out)
{
    fo_offload r;
    r.flags = a->flags & b->flags & FO_OFL_ALL;
    lso_intersect(&r.flags, FO_OFL_LSO4, a->lso4_max_size, a->lso4_min_segs, b->lso4_max_size,
                  b->lso4_min_segs, &r.lso4_max_size, &r.lso4_min_segs);
    lso_intersect(&r.flags, FO_OFL_LSO6, a->lso6_max_size, a->lso6_min_segs, b->lso6_max_size,
                  b->lso6_min_segs, &r.lso6_max_size, &r.lso6_min_segs);
    *out = r;
}

void fo_caps_intersect(const fo_caps *a, const fo_caps *b, fo_caps *out)
{
    fo_caps r;
    fo_offload_intersect(&a->offload, &b->offload, &r.offload);
    r.rss.hash_types = a->rss.hash_types & b->rss.hash_types & FO_RSS_HASH_ALL;
    r.rss.table_max = (uint16_t)min_u32(a->rss.table_max, b->rss.table_max);
    r.rss.queues = (uint16_t)min_u32(a->rss.queues, b->rss.queues);
    if (r.rss.hash_types == 0 || r.rss.table_max == 0 || r.rss.queues == 0)
        r.rss = (fo_rss_caps){ 0, 0, 0 };
    *out = r;
}

bool fo_offload_equal(const fo_offload *a, const fo_offload *b)
{
    return a->flags == b->flags && a->lso4_max_size == b->lso4_max_size &&
           a->lso4_min_segs == b->lso4_min_segs && a->lso6_max_size == b->lso6_max_size &&
           a->lso6_min_segs == b->lso6_min_segs;
}

static bool lso_fits(uint32_t size, uint32_t segs, uint32_t max, uint32_t min_segs)
{
    return size <= max && segs >= min_segs;
}

bool fo_offload_can_send(const fo_offload *o, const fo_tx_meta *m)
{
    uint32_t want = m->offloads & FO_OFL_TX_MASK;
    if (want & ~o->flags)
        return false;
    if ((want & FO_OFL_LSO4) &&
        !lso_fits(m->lso_size, m->lso_segs, o->lso4_max_size, o->lso4_min_segs))
        return false;
    if ((want & FO_OFL_LSO6) &&
        !lso_fits(m->lso_size, m->lso_segs, o->lso6_max_size, o->lso6_min_segs))
        return false;
    return true;
}
