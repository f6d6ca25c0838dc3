/*
 * work.h - work in flight, and an event a waiter (halt) blocks on until
 * none is left.
 *
 * The count and the event change together under the caller's lock, so at
 * every moment no begin or end is running the event is set exactly while
 * the count is 0. Each half of the old form (the event reset, then an
 * interlocked increment; an interlocked decrement, then the event set) left a
 * window another CPU's end or begin could fall into, leaving the event set
 * with work outstanding: halt then did not wait for it (issue 13 item 11).
 * tests/driver/test_vfo_work.c runs these functions in every interleaving
 * of their NDIS calls.
 */
#ifndef VFO_WORK_H
#define VFO_WORK_H

#include <ndis.h>

typedef struct vfo_work_track {
    LONG out;        /* work begun and not yet ended (under the lock) */
    NDIS_EVENT idle; /* set while out is 0 */
} vfo_work_track;

static inline void vfo_work_track_init(vfo_work_track *t)
{
    t->out = 0;
    NdisInitializeEvent(&t->idle);
    NdisSetEvent(&t->idle);
}

static inline void vfo_work_track_begin(vfo_work_track *t, PNDIS_SPIN_LOCK lock)
{
    NdisAcquireSpinLock(lock);
    if (t->out++ == 0)
        NdisResetEvent(&t->idle);
    NdisReleaseSpinLock(lock);
}

static inline void vfo_work_track_end(vfo_work_track *t, PNDIS_SPIN_LOCK lock)
{
    NdisAcquireSpinLock(lock);
    if (--t->out == 0)
        NdisSetEvent(&t->idle);
    NdisReleaseSpinLock(lock);
}

/* PASSIVE_LEVEL: returns once no work is outstanding. */
static inline void vfo_work_track_wait(vfo_work_track *t)
{
    NdisWaitEvent(&t->idle, 0);
}

#endif
