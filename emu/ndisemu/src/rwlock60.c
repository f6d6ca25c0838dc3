/*
 * rwlock60.c - the NDIS 6.0 read/write lock (NDIS_RW_LOCK in the driver's
 * own memory, NdisInitializeReadWriteLock, no free call), which NDIS 6.0
 * drivers such as Microsoft's mux sample use; NDIS 6.20 replaced it with
 * NDIS_RW_LOCK_EX (sync.c).
 *
 * Real semantics: readers share, a writer excludes everyone; acquiring
 * raises to DISPATCH_LEVEL (the Dpr forms expect to be there already) and
 * the LOCK_STATE keeps the IRQL to return to. The state lives in the lock:
 * Context marks it initialized, RefCountLock holds the writer's thread id,
 * SharedRefCount the readers. A lock that cannot be had in the
 * deterministic scheduler (its holder is not running) is reported as the
 * spin locks are (SpinLock).
 */
#define NDIS60 1 /* the WDK declares NDIS_RW_LOCK for NDIS 6.0 builds only */
#include "emu_internal.h"

#include <sched.h>

#define RW60_MAGIC ((PVOID)(uintptr_t)0x52573630u) /* "RW60" */
enum { RW60_READ = 1, RW60_WRITE = 2 };

void NdisInitializeReadWriteLock(PNDIS_RW_LOCK Lock)
{
    if (!emu_enter("NdisInitializeReadWriteLock", "%p", (void *)Lock))
        return;
    memset(Lock, 0, sizeof(*Lock));
    Lock->Context = RW60_MAGIC;
}

static bool rw60_ok(PNDIS_RW_LOCK l, const char *call)
{
    if (l && l->Context == RW60_MAGIC)
        return true;
    emu_violate(emu_rt, "HandleAfterClose", call,
                "NDIS_RW_LOCK %p was not initialized (NdisInitializeReadWriteLock)", (void *)l);
    return false;
}

static void rw60_acquire(PNDIS_RW_LOCK l, BOOLEAN write, PLOCK_STATE st, const char *call, bool dpr)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter(call, "%p write=%d", (void *)l, write) || !rw60_ok(l, call))
        return;
    emu_thread *t = emu_self();
    if (dpr && t->irql != DISPATCH_LEVEL) {
        emu_violate(rt, "Irql_Synch_Function", call, "called at IRQL %u, not DISPATCH_LEVEL",
                    t->irql);
        return;
    }
    ULONG_PTR me = t->tid;
    if (__atomic_load_n(&l->RefCountLock, __ATOMIC_SEQ_CST) == me) {
        emu_violate(rt, "SpinLock", call, "NDIS_RW_LOCK %p acquired again by its writer",
                    (void *)l);
        return;
    }
    for (;;) {
        bool got;
        if (write) {
            ULONG_PTR none = 0;
            got = __atomic_compare_exchange_n(&l->RefCountLock, &none, me, false, __ATOMIC_ACQUIRE,
                                              __ATOMIC_RELAXED);
            if (got && __atomic_load_n(&l->SharedRefCount, __ATOMIC_SEQ_CST) != 0) {
                __atomic_store_n(&l->RefCountLock, 0, __ATOMIC_RELEASE);
                got = false;
            }
        } else {
            __atomic_add_fetch(&l->SharedRefCount, 1, __ATOMIC_SEQ_CST);
            got = __atomic_load_n(&l->RefCountLock, __ATOMIC_SEQ_CST) == 0;
            if (!got)
                __atomic_sub_fetch(&l->SharedRefCount, 1, __ATOMIC_SEQ_CST);
        }
        if (got)
            break;
        if (rt->cfg.sched == EMU_SCHED_DETERMINISTIC || emu_stopped(rt)) {
            emu_violate(rt, "SpinLock", call,
                        "NDIS_RW_LOCK %p is held by a context that is not running", (void *)l);
            return;
        }
        sched_yield();
    }
    st->OldIrql = t->irql;
    st->LockState = write ? RW60_WRITE : RW60_READ;
    t->irql = DISPATCH_LEVEL;
    t->locks_held++;
    emu_lockdep_acquired(l, call);
}

static void rw60_release(PNDIS_RW_LOCK l, PLOCK_STATE st, const char *call)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter(call, "%p", (void *)l) || !rw60_ok(l, call))
        return;
    emu_thread *t = emu_self();
    if (st->LockState == RW60_WRITE) {
        if (__atomic_load_n(&l->RefCountLock, __ATOMIC_SEQ_CST) != (ULONG_PTR)t->tid) {
            emu_violate(rt, "SpinLock", call,
                        "write lock released by a thread that does not hold it");
            return;
        }
        __atomic_store_n(&l->RefCountLock, 0, __ATOMIC_RELEASE);
    } else if (st->LockState == RW60_READ &&
               __atomic_load_n(&l->SharedRefCount, __ATOMIC_SEQ_CST)) {
        __atomic_sub_fetch(&l->SharedRefCount, 1, __ATOMIC_SEQ_CST);
    } else {
        emu_violate(rt, "SpinLock", call, "the LOCK_STATE does not hold NDIS_RW_LOCK %p",
                    (void *)l);
        return;
    }
    st->LockState = 0;
    emu_lockdep_released(l);
    t->locks_held--;
    t->irql = st->OldIrql;
}

void NdisAcquireReadWriteLock(PNDIS_RW_LOCK Lock, BOOLEAN fWrite, PLOCK_STATE LockState)
{
    rw60_acquire(Lock, fWrite, LockState, "NdisAcquireReadWriteLock", false);
}

void NdisReleaseReadWriteLock(PNDIS_RW_LOCK Lock, PLOCK_STATE LockState)
{
    rw60_release(Lock, LockState, "NdisReleaseReadWriteLock");
}

void NdisDprAcquireReadWriteLock(PNDIS_RW_LOCK Lock, BOOLEAN fWrite, PLOCK_STATE LockState)
{
    rw60_acquire(Lock, fWrite, LockState, "NdisDprAcquireReadWriteLock", true);
}

void NdisDprReleaseReadWriteLock(PNDIS_RW_LOCK Lock, PLOCK_STATE LockState)
{
    rw60_release(Lock, LockState, "NdisDprReleaseReadWriteLock");
}
