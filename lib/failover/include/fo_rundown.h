/*
 * fo_rundown.h - the per-binding reference gate between the data path and
 * the control path.
 *
 * One 32-bit word holds three gate bits and a reference count:
 *   FO_RD_OPEN  receives (and TX) may take references: the binding runs;
 *   FO_RD_TX    TX may take references: the pair is ACTIVE (implies OPEN);
 *   FO_RD_BRIEF a receive may take references for the duration of its
 *               indication only (handed up copied, given back to the VF
 *               before the indication returns): the binding is bound and
 *               vfo's miniport runs, even while the binding pauses, when
 *               NDIS still indicates to it ("Pausing a Binding");
 *   refs        NBLs lent across the edges (sent to the primary and not yet
 *               completed, received from it and not yet returned), and
 *               receives being handed up briefly.
 * Taking a reference is one compare-and-swap that checks the gate and adds,
 * so a reference is never taken once the control path has closed the gate:
 * that is the "no send after detach starts" guarantee. When the gate is
 * closed and the count reaches zero the binding is drained; one party sees
 * that edge (the closer when refs were already zero, otherwise the last
 * releaser), and the control path can always re-check the level. With OPEN
 * closed and BRIEF still open (the binding pauses), each brief receive that
 * brings the count back to zero reports the edge again: the control path's
 * check is by level, so a repeated edge costs a look and nothing else.
 *
 * Fast-path functions are safe on any CPU concurrently with each other and
 * with fo_rundown_set_gate(). model/fo_rundown.pml model-checks this protocol.
 */
#ifndef FO_RUNDOWN_H
#define FO_RUNDOWN_H

#include <stdbool.h>
#include <stdint.h>

#include "vfo_osdep.h"

enum {
    FO_RD_TX = 0x1,
    FO_RD_OPEN = 0x2,
    FO_RD_BRIEF = 0x4,
    FO_RD_GATE_MASK = 0x7,
    FO_RD_REF_SHIFT = 3,
    FO_RD_REF_MAX = 0x0fffffff, /* 28 bits of references */
};

typedef struct fo_rundown {
    vfo_atomic32 word;
} fo_rundown;

typedef enum fo_rd_release {
    FO_RD_RELEASED = 0, /* references dropped; nothing else to do */
    FO_RD_DRAINED,      /* the last reference of a closed gate: tell the control path */
    FO_RD_UNDERFLOW     /* more released than held: refused, nothing changed */
} fo_rd_release;

static inline void fo_rundown_init(fo_rundown *rd)
{
    vfo_atomic32_store(&rd->word, 0);
}

static inline uint32_t fo_rundown_refs(const fo_rundown *rd)
{
    return (uint32_t)vfo_atomic32_load(&rd->word) >> FO_RD_REF_SHIFT;
}

static inline uint32_t fo_rundown_gate(const fo_rundown *rd)
{
    return (uint32_t)vfo_atomic32_load(&rd->word) & FO_RD_GATE_MASK;
}

/* Takes n references if every bit of `need` (FO_RD_TX, FO_RD_OPEN or
 * FO_RD_BRIEF) is set. */
static inline bool fo_rundown_acquire(fo_rundown *rd, uint32_t need, uint32_t n)
{
    int32_t old = vfo_atomic32_load(&rd->word);
    for (;;) {
        uint32_t w = (uint32_t)old;
        if (VFO_UNLIKELY((w & need) != need))
            return false;
        if (VFO_UNLIKELY(n > FO_RD_REF_MAX - (w >> FO_RD_REF_SHIFT)))
            return false;
        int32_t want = (int32_t)(w + (n << FO_RD_REF_SHIFT));
        int32_t seen = vfo_atomic32_cas(&rd->word, old, want);
        if (VFO_LIKELY(seen == old))
            return true;
        old = seen;
    }
}

static inline fo_rd_release fo_rundown_release(fo_rundown *rd, uint32_t n)
{
    int32_t old = vfo_atomic32_load(&rd->word);
    for (;;) {
        uint32_t w = (uint32_t)old;
        if (VFO_UNLIKELY(n > (w >> FO_RD_REF_SHIFT)))
            return FO_RD_UNDERFLOW;
        uint32_t nw = w - (n << FO_RD_REF_SHIFT);
        int32_t seen = vfo_atomic32_cas(&rd->word, old, (int32_t)nw);
        if (VFO_LIKELY(seen == old))
            return (nw >> FO_RD_REF_SHIFT) == 0 && !(nw & FO_RD_OPEN) ? FO_RD_DRAINED
                                                                      : FO_RD_RELEASED;
        old = seen;
    }
}

/* Control path: sets the gate bits to `gate` (FO_RD_TX without FO_RD_OPEN is
 * widened to both). Returns the reference count at the moment of the change. */
static inline uint32_t fo_rundown_set_gate(fo_rundown *rd, uint32_t gate)
{
    if (gate & FO_RD_TX)
        gate |= FO_RD_OPEN;
    int32_t old = vfo_atomic32_load(&rd->word);
    for (;;) {
        uint32_t w = (uint32_t)old;
        int32_t want = (int32_t)((w & ~(uint32_t)FO_RD_GATE_MASK) | gate);
        int32_t seen = vfo_atomic32_cas(&rd->word, old, want);
        if (seen == old)
            return w >> FO_RD_REF_SHIFT;
        old = seen;
    }
}

/* Closed and empty: nothing is lent across the edges and nothing can be. */
static inline bool fo_rundown_drained(const fo_rundown *rd)
{
    uint32_t w = (uint32_t)vfo_atomic32_load(&rd->word);
    return !(w & FO_RD_OPEN) && (w >> FO_RD_REF_SHIFT) == 0;
}

#endif /* FO_RUNDOWN_H */
