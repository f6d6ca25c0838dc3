/*
 * sync.c - IRQL, spin locks, reader/writer locks, events, time and the
 * small kernel services drivers call directly.
 *
 * A spin lock word holds 0 (free) or the owner thread's id. Deterministic
 * runs have one thread, so a held lock can only be re-acquired by its holder:
 * that is reported (SpinLock rule) instead of spinning forever.
 */
#include "emu_internal.h"

#include <sched.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* Flags_Irql: the callbacks whose flags say whether they run at
 * DISPATCH_LEVEL (NDIS_SEND_FLAGS_DISPATCH_LEVEL, ..._SEND_COMPLETE_...,
 * ..._RECEIVE_..., ..._RETURN_...). */
static bool cb_has_dispatch_flag(const char *cb)
{
    static const char *const k_flagged[] = {
        "MiniportSendNetBufferLists",    "MiniportReturnNetBufferLists",
        "ProtocolReceiveNetBufferLists", "ProtocolSendNetBufferListsComplete",
        "FilterSendNetBufferLists",      "FilterSendNetBufferListsComplete",
        "FilterReceiveNetBufferLists",   "FilterReturnNetBufferLists",
    };
    for (size_t i = 0; cb && i < sizeof(k_flagged) / sizeof(k_flagged[0]); i++) {
        if (strcmp(cb, k_flagged[i]) == 0)
            return true;
    }
    return false;
}

/* Also NDIS_CURRENT_IRQL(). Within a callback that was given a dispatch
 * level flag the driver must not test the IRQL (Flags_Irql; "Dispatch IRQL
 * Tracking": the flag is set from the IRQL the caller knows, not by
 * testing it): the flag it was handed is the answer, and what the callback
 * passes on is that flag or what its own design knows. */
KIRQL KeGetCurrentIrql(void)
{
    emu_thread *t = emu_self();
    if (emu_rt && cb_has_dispatch_flag(t->cb))
        emu_violate(emu_rt, "Flags_Irql", "KeGetCurrentIrql",
                    "called within %s, whose flags say whether it runs at DISPATCH_LEVEL: "
                    "use the flag it was given",
                    t->cb);
    return t->irql;
}

void KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql)
{
    emu_thread *t = emu_self();
    emu_enter("KeRaiseIrql", "to=%u", NewIrql);
    if (NewIrql < t->irql)
        emu_violate(emu_rt, "IrqlKeRaiseLower", "KeRaiseIrql",
                    "raising to IRQL %u from the higher IRQL %u", NewIrql, t->irql);
    *OldIrql = t->irql;
    t->irql = NewIrql;
}

void KeLowerIrql(KIRQL NewIrql)
{
    emu_thread *t = emu_self();
    emu_enter("KeLowerIrql", "to=%u", NewIrql);
    if (NewIrql > t->irql)
        emu_violate(emu_rt, "IrqlKeRaiseLower", "KeLowerIrql",
                    "lowering to IRQL %u from the lower IRQL %u", NewIrql, t->irql);
    t->irql = NewIrql;
}

static uint64_t spin_owner_id(void)
{
    return (uint64_t)emu_self()->tid;
}

/* Real time, after the run stopped: a holder still running finishes its
 * handler and releases, so the lock is still waited for (giving up at once
 * let two threads into the driver's critical section while the run wound
 * down); only one never released within this long is abandoned. */
#define SPIN_STOPPED_WAIT_NS 1000000000ull

/* False when the lock was not taken (the run stops). */
bool emu_spin_acquire(PKSPIN_LOCK l, const char *call)
{
    emu_runtime *rt = emu_rt;
    uint64_t me = spin_owner_id();
    uint64_t cur = __atomic_load_n(l, __ATOMIC_SEQ_CST);
    uint64_t stopped_at = 0;
    if (cur == me) {
        emu_violate(rt, "SpinLock", call, "spin lock %p acquired again by its holder", (void *)l);
        return false;
    }
    for (;;) {
        uint64_t expected = 0;
        if (__atomic_compare_exchange_n(l, &expected, me, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            break;
        bool det = rt->cfg.sched == EMU_SCHED_DETERMINISTIC;
        if (!det && emu_stopped(rt) && stopped_at == 0)
            stopped_at = emu_time(rt);
        if (det || (stopped_at && emu_time(rt) - stopped_at > SPIN_STOPPED_WAIT_NS)) {
            emu_violate(rt, "SpinLock", call,
                        "spin lock %p is held by a context that is not running (left held "
                        "after a handler returned?)",
                        (void *)l);
            return false;
        }
        sched_yield();
    }
    emu_self()->locks_held++;
    emu_lockdep_acquired(l, call);
    return true;
}

/* KeTryToAcquireSpinLockAtDpcLevel: false (not taken) when another holds
 * it; its holder trying again is still the SpinLock rule. */
bool emu_spin_try_acquire(PKSPIN_LOCK l, const char *call)
{
    uint64_t me = spin_owner_id();
    if (__atomic_load_n(l, __ATOMIC_SEQ_CST) == me) {
        emu_violate(emu_rt, "SpinLock", call, "spin lock %p acquired again by its holder",
                    (void *)l);
        return false;
    }
    uint64_t expected = 0;
    if (!__atomic_compare_exchange_n(l, &expected, me, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return false;
    emu_self()->locks_held++;
    emu_lockdep_acquired(l, call);
    return true;
}

bool emu_spin_release(PKSPIN_LOCK l, const char *call)
{
    uint64_t me = spin_owner_id();
    uint64_t cur = __atomic_load_n(l, __ATOMIC_SEQ_CST);
    if (cur != me) {
        emu_violate(emu_rt, "SpinLock", call,
                    cur ? "spin lock %p released by a thread that does not hold it"
                        : "spin lock %p released but it is not held",
                    (void *)l);
        return false;
    }
    emu_lockdep_released(l);
    __atomic_store_n(l, 0, __ATOMIC_RELEASE);
    emu_self()->locks_held--;
    return true;
}

void NdisAllocateSpinLock(PNDIS_SPIN_LOCK SpinLock)
{
    emu_enter("NdisAllocateSpinLock", "%p", (void *)SpinLock);
    SpinLock->SpinLock = 0;
    SpinLock->OldIrql = 0;
}

void NdisFreeSpinLock(PNDIS_SPIN_LOCK SpinLock)
{
    emu_enter("NdisFreeSpinLock", "%p", (void *)SpinLock);
    if (SpinLock->SpinLock != 0)
        emu_violate(emu_rt, "SpinLock", "NdisFreeSpinLock", "freeing held spin lock %p",
                    (void *)SpinLock);
    emu_lockdep_forget(SpinLock);
}

void NdisAcquireSpinLock(PNDIS_SPIN_LOCK SpinLock)
{
    if (!emu_enter("NdisAcquireSpinLock", "%p", (void *)SpinLock))
        return;
    emu_thread *t = emu_self();
    KIRQL old = t->irql;
    if (!emu_spin_acquire(&SpinLock->SpinLock, "NdisAcquireSpinLock"))
        return;
    t->irql = DISPATCH_LEVEL;
    SpinLock->OldIrql = old;
}

void NdisReleaseSpinLock(PNDIS_SPIN_LOCK SpinLock)
{
    if (!emu_enter("NdisReleaseSpinLock", "%p", (void *)SpinLock))
        return;
    KIRQL old = SpinLock->OldIrql;
    if (emu_spin_release(&SpinLock->SpinLock, "NdisReleaseSpinLock"))
        emu_self()->irql = old;
}

void NdisDprAcquireSpinLock(PNDIS_SPIN_LOCK SpinLock)
{
    if (!emu_enter("NdisDprAcquireSpinLock", "%p", (void *)SpinLock))
        return;
    emu_spin_acquire(&SpinLock->SpinLock, "NdisDprAcquireSpinLock");
}

void NdisDprReleaseSpinLock(PNDIS_SPIN_LOCK SpinLock)
{
    if (!emu_enter("NdisDprReleaseSpinLock", "%p", (void *)SpinLock))
        return;
    emu_spin_release(&SpinLock->SpinLock, "NdisDprReleaseSpinLock");
}

/* ---- reader/writer locks ---- */

typedef struct emu_rwlock {
    emu_obj obj;
    pthread_rwlock_t rw;
    uint32_t writer;  /* thread id of the writer */
    uint32_t readers; /* count */
} emu_rwlock;

PNDIS_RW_LOCK_EX NdisAllocateRWLock(NDIS_HANDLE NdisHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisAllocateRWLock", "%p", NdisHandle))
        return NULL;
    if (!emu_handle_kind(rt, NdisHandle, EMU_HK_MEMORY, "NdisAllocateRWLock"))
        return NULL;
    emu_adapter *ad;
    emu_driver *drv = emu_handle_driver(NdisHandle, &ad);
    emu_lock(rt);
    emu_rwlock *l = emu_obj_new(rt, sizeof(*l), K_RWLOCK, drv, ad, 0);
    if (l)
        pthread_rwlock_init(&l->rw, NULL);
    emu_unlock(rt);
    return (PNDIS_RW_LOCK_EX)l;
}

void NdisFreeRWLock(PNDIS_RW_LOCK_EX Lock)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisFreeRWLock", "%p", (void *)Lock))
        return;
    emu_rwlock *l = (emu_rwlock *)emu_obj_check(rt, Lock, K_RWLOCK, "NdisFreeRWLock");
    if (!l)
        return;
    emu_lock(rt);
    emu_obj_kill(rt, &l->obj);
    emu_unlock(rt);
    emu_lockdep_forget(l);
}

static void rw_acquire(PNDIS_RW_LOCK_EX Lock, PLOCK_STATE_EX st, UCHAR flags, bool write)
{
    emu_runtime *rt = emu_rt;
    const char *call = write ? "NdisAcquireRWLockWrite" : "NdisAcquireRWLockRead";
    if (!emu_enter(call, "%p", (void *)Lock))
        return;
    emu_rwlock *l = (emu_rwlock *)emu_obj_check(rt, Lock, K_RWLOCK, call);
    if (!l)
        return;
    emu_thread *t = emu_self();
    if ((flags & NDIS_RWL_AT_DISPATCH_LEVEL) && t->irql != DISPATCH_LEVEL) {
        emu_violate(rt, "Irql_Synch_Function", call, "NDIS_RWL_AT_DISPATCH_LEVEL passed at IRQL %u",
                    t->irql);
        return;
    }
    if (__atomic_load_n(&l->writer, __ATOMIC_SEQ_CST) == t->tid) {
        emu_violate(rt, "SpinLock", call, "RW lock %p acquired again by its writer", (void *)Lock);
        return;
    }
    int busy = write ? pthread_rwlock_trywrlock(&l->rw) : pthread_rwlock_tryrdlock(&l->rw);
    if (busy) {
        if (rt->cfg.sched == EMU_SCHED_DETERMINISTIC) {
            emu_violate(rt, "SpinLock", call, "RW lock %p is held by a context that is not running",
                        (void *)Lock);
            return;
        }
        if (write)
            pthread_rwlock_wrlock(&l->rw);
        else
            pthread_rwlock_rdlock(&l->rw);
    }
    if (write)
        __atomic_store_n(&l->writer, t->tid, __ATOMIC_SEQ_CST);
    else
        __atomic_add_fetch(&l->readers, 1, __ATOMIC_SEQ_CST);
    st->OldIrql = t->irql;
    st->LockState = write ? 2 : 1;
    st->Flags = flags;
    t->irql = DISPATCH_LEVEL;
    t->locks_held++;
    emu_lockdep_acquired(l, call);
}

void NdisAcquireRWLockRead(PNDIS_RW_LOCK_EX Lock, PLOCK_STATE_EX LockState, UCHAR Flags)
{
    rw_acquire(Lock, LockState, Flags, false);
}

void NdisAcquireRWLockWrite(PNDIS_RW_LOCK_EX Lock, PLOCK_STATE_EX LockState, UCHAR Flags)
{
    rw_acquire(Lock, LockState, Flags, true);
}

void NdisReleaseRWLock(PNDIS_RW_LOCK_EX Lock, PLOCK_STATE_EX LockState)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisReleaseRWLock", "%p", (void *)Lock))
        return;
    emu_rwlock *l = (emu_rwlock *)emu_obj_check(rt, Lock, K_RWLOCK, "NdisReleaseRWLock");
    if (!l)
        return;
    emu_thread *t = emu_self();
    if (LockState->LockState == 2) {
        if (__atomic_load_n(&l->writer, __ATOMIC_SEQ_CST) != t->tid) {
            emu_violate(rt, "SpinLock", "NdisReleaseRWLock",
                        "write lock released by a thread that does not hold it");
            return;
        }
        __atomic_store_n(&l->writer, 0, __ATOMIC_SEQ_CST);
    } else if (LockState->LockState == 1) {
        __atomic_sub_fetch(&l->readers, 1, __ATOMIC_SEQ_CST);
    } else {
        emu_violate(rt, "SpinLock", "NdisReleaseRWLock", "lock state does not hold the lock");
        return;
    }
    LockState->LockState = 0;
    emu_lockdep_released(l);
    pthread_rwlock_unlock(&l->rw);
    t->locks_held--;
    t->irql = LockState->OldIrql;
}

/* ---- events: Header[0] = magic, Header[1] = signalled ---- */

#define EVENT_MAGIC 0x45564e54u

void NdisInitializeEvent(PNDIS_EVENT Event)
{
    emu_enter("NdisInitializeEvent", "%p", (void *)Event);
    __atomic_store_n(&Event->Event.Header[1], 0, __ATOMIC_SEQ_CST);
    Event->Event.Header[0] = EVENT_MAGIC;
}

static bool event_ok(PNDIS_EVENT e, const char *call)
{
    if (e->Event.Header[0] != EVENT_MAGIC) {
        emu_violate(emu_rt, "HandleAfterClose", call, "event %p was not initialized", (void *)e);
        return false;
    }
    return true;
}

void NdisSetEvent(PNDIS_EVENT Event)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisSetEvent", "%p", (void *)Event) || !event_ok(Event, "NdisSetEvent"))
        return;
    emu_lock(rt);
    __atomic_store_n(&Event->Event.Header[1], 1, __ATOMIC_SEQ_CST);
    emu_broadcast(rt);
    emu_unlock(rt);
}

void NdisResetEvent(PNDIS_EVENT Event)
{
    if (!emu_enter("NdisResetEvent", "%p", (void *)Event) || !event_ok(Event, "NdisResetEvent"))
        return;
    __atomic_store_n(&Event->Event.Header[1], 0, __ATOMIC_SEQ_CST);
}

static bool event_signalled(emu_runtime *rt, void *arg)
{
    (void)rt;
    return __atomic_load_n(&((PNDIS_EVENT)arg)->Event.Header[1], __ATOMIC_SEQ_CST) != 0;
}

BOOLEAN NdisWaitEvent(PNDIS_EVENT Event, UINT MsToWait)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisWaitEvent", "%p ms=%u", (void *)Event, MsToWait) ||
        !event_ok(Event, "NdisWaitEvent"))
        return FALSE;
    uint64_t timeout = MsToWait ? (uint64_t)MsToWait * 1000000ull : EMU_WAIT_NS;
    bool ok = emu_wait(rt, event_signalled, Event, timeout);
    if (!ok && MsToWait == 0 && !emu_stopped(rt))
        emu_violate(rt, "OperationNotCompleted", "NdisWaitEvent",
                    "infinite wait on event %p that nothing will signal", (void *)Event);
    return ok ? TRUE : FALSE;
}

/* ---- time ---- */

static bool never(emu_runtime *rt, void *arg)
{
    (void)rt;
    (void)arg;
    return false;
}

void NdisMSleep(ULONG MicrosecondsToSleep)
{
    if (!emu_enter("NdisMSleep", "us=%u", MicrosecondsToSleep))
        return;
    emu_wait(emu_rt, never, NULL, (uint64_t)MicrosecondsToSleep * 1000ull);
}

/* NdisStallExecution_Delay: never more than 50 us at a time (the rule's
 * words for NdisStallExecution; "Avoid Polling Devices" asks the same of
 * KeStallExecutionProcessor, the stricter reading holds both to it). A
 * longer wait sleeps (NdisMSleep) or rearms a timer. */
#define EMU_MAX_STALL_US 50

static void stall(ULONG us, const char *call)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter(call, "us=%u", us))
        return;
    if (us > EMU_MAX_STALL_US) {
        emu_violate(rt, "NdisStallExecution_Delay", call,
                    "a busy wait of %u us; at most %u us at a time", (unsigned)us,
                    (unsigned)EMU_MAX_STALL_US);
        return;
    }
    emu_dpc_run *run = emu_self()->dpc;
    if (run) /* a busy wait is the DPC's time */
        run->cost_ns += (uint64_t)us * 1000ull;
    if (rt->cfg.sched == EMU_SCHED_DETERMINISTIC) {
        /* A busy wait: time passes, nothing else runs on this "CPU". */
        __atomic_add_fetch(&rt->now, (uint64_t)us * 1000ull, __ATOMIC_SEQ_CST);
    } else {
        struct timespec ts = { 0, (long)us * 1000 };
        nanosleep(&ts, NULL);
    }
}

void NdisStallExecution(UINT MicrosecondsToStall)
{
    stall(MicrosecondsToStall, "NdisStallExecution");
}

void KeStallExecutionProcessor(ULONG MicroSeconds)
{
    stall(MicroSeconds, "KeStallExecutionProcessor");
}

/* 100 ns units since 1601-01-01; the emulated machine boots at 2024-01-01. */
#define EMU_BOOT_SYSTIME 133485408000000000ll

void NdisGetCurrentSystemTime(PLARGE_INTEGER SystemTime)
{
    SystemTime->QuadPart = EMU_BOOT_SYSTIME + (LONGLONG)(emu_time(emu_rt) / 100);
}

void NdisGetSystemUpTimeEx(PLARGE_INTEGER SystemUpTime)
{
    SystemUpTime->QuadPart = (LONGLONG)(emu_time(emu_rt) / 1000000ull);
}

LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency)
{
    LARGE_INTEGER v;
    if (PerformanceFrequency)
        PerformanceFrequency->QuadPart = 10000000;
    v.QuadPart = (LONGLONG)(emu_time(emu_rt) / 100);
    return v;
}

ULONG DbgPrint(const char *Format, ...)
{
    char buf[256];
    va_list ap;
    va_start(ap, Format);
    vsnprintf(buf, sizeof(buf), Format, ap);
    va_end(ap);
    emu_tracef(emu_rt, "dbg", "DbgPrint", "%s", buf);
    return 0;
}

void NdisInitUnicodeString(PNDIS_STRING Destination, PCWSTR Source)
{
    if (!emu_enter("NdisInitUnicodeString", "%p", (void *)Destination))
        return;
    size_t n = 0;
    while (Source && Source[n])
        n++;
    Destination->Buffer = (PWSTR)Source;
    Destination->Length = (USHORT)(n * 2);
    Destination->MaximumLength = (USHORT)(n * 2 + 2);
}
