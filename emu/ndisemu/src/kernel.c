/*
 * kernel.c - kernel services a miniport calls directly (Microsoft's netvmini
 * sample does): KDPCs that run as DPCs, executive spin locks (KSPIN_LOCK),
 * sequenced singly linked lists and the non-paged lookaside lists built on
 * them, interlocked doubly linked lists, and a few queries.
 *
 * A KDPC lives in the driver's memory; the runtime keeps a record per
 * initialized KDPC (by address) with its owner and queue state, so a DPC
 * still queued when its driver unloads, or one queued without
 * KeInitializeDpc, is reported. A lookaside list likewise has a record from
 * ExInitializeNPagedLookasideList to ExDeleteNPagedLookasideList; one
 * not deleted by the time its driver unloads is reported.
 */
#include "emu_internal.h"

#include <stdlib.h>

typedef struct emu_kdpc {
    struct emu_kdpc *next;
    PKDPC dpc;
    emu_driver *drv;
    emu_task *task;
    bool queued, running;
} emu_kdpc;

typedef struct emu_lookaside {
    struct emu_lookaside *next;
    PNPAGED_LOOKASIDE_LIST l;
    emu_driver *drv;
    bool deleted;
} emu_lookaside;

/* rt->mu */
static emu_kdpc *g_dpcs;
static emu_lookaside *g_lookasides;
static unsigned g_dpcs_running;

static emu_kdpc *kdpc_find(PKDPC dpc)
{
    for (emu_kdpc *k = g_dpcs; k; k = k->next) {
        if (k->dpc == dpc)
            return k;
    }
    return NULL;
}

static emu_lookaside *lookaside_find(const void *l)
{
    for (emu_lookaside *k = g_lookasides; k; k = k->next) {
        if ((const void *)k->l == l)
            return k;
    }
    return NULL;
}

/* ---- DPCs ---- */

void KeInitializeDpc(PRKDPC Dpc, PKDEFERRED_ROUTINE DeferredRoutine, PVOID DeferredContext)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("KeInitializeDpc", "%p", (void *)Dpc))
        return;
    emu_lock(rt);
    emu_kdpc *k = kdpc_find(Dpc);
    if (k && (k->queued || k->running)) {
        emu_unlock(rt);
        emu_violate(rt, "DpcReinitializedWhileQueued", "KeInitializeDpc",
                    "KDPC %p initialized again while it is queued or running", (void *)Dpc);
        return;
    }
    if (!k) {
        k = calloc(1, sizeof(*k));
        if (!k) {
            emu_unlock(rt);
            return;
        }
        k->dpc = Dpc;
        k->next = g_dpcs;
        g_dpcs = k;
    }
    k->drv = emu_self()->cur_drv;
    emu_unlock(rt);
    memset(Dpc, 0, sizeof(*Dpc));
    Dpc->Type = 0x13; /* DpcObject */
    Dpc->Importance = MediumImportance;
    Dpc->DeferredRoutine = DeferredRoutine;
    Dpc->DeferredContext = DeferredContext;
}

static void kdpc_task(emu_runtime *rt, emu_task *t)
{
    emu_kdpc *k = t->a;
    emu_lock(rt);
    k->task = NULL;
    bool live = k->queued;
    k->queued = false;
    k->running = live;
    if (live) {
        g_dpcs_running++;
        rt->cnt.dpcs++;
    }
    PKDPC dpc = k->dpc;
    PVOID a1 = dpc->SystemArgument1, a2 = dpc->SystemArgument2;
    emu_unlock(rt);
    if (!live)
        return;
    emu_dpc_latency(rt, rt->cfg.rt_dpc_latency_ns);
    emu_cb_scope s;
    emu_cb_begin(&s, "DeferredRoutine", k->drv, NULL, DISPATCH_LEVEL);
    dpc->DeferredRoutine(dpc, dpc->DeferredContext, a1, a2);
    emu_cb_end(&s);
    emu_lock(rt);
    k->running = false;
    g_dpcs_running--;
    emu_broadcast(rt);
    emu_unlock(rt);
}

BOOLEAN KeInsertQueueDpc(PRKDPC Dpc, PVOID SystemArgument1, PVOID SystemArgument2)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("KeInsertQueueDpc", "%p", (void *)Dpc))
        return FALSE;
    emu_lock(rt);
    emu_kdpc *k = kdpc_find(Dpc);
    if (!k) {
        emu_unlock(rt);
        emu_violate(rt, "DpcNotInitialized", "KeInsertQueueDpc",
                    "KDPC %p was not initialized with KeInitializeDpc", (void *)Dpc);
        return FALSE;
    }
    if (k->queued) {
        emu_unlock(rt);
        return FALSE; /* a KDPC is in the queue at most once */
    }
    k->queued = true;
    Dpc->SystemArgument1 = SystemArgument1;
    Dpc->SystemArgument2 = SystemArgument2;
    k->task = emu_task_post(rt, T_DPC, 0, kdpc_task, k, NULL, 0);
    emu_broadcast(rt);
    emu_unlock(rt);
    return TRUE;
}

BOOLEAN KeRemoveQueueDpc(PRKDPC Dpc)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("KeRemoveQueueDpc", "%p", (void *)Dpc))
        return FALSE;
    emu_lock(rt);
    emu_kdpc *k = kdpc_find(Dpc);
    bool was = k && k->queued;
    if (was) {
        k->queued = false;
        if (k->task)
            emu_task_cancel(rt, k->task);
        k->task = NULL;
    }
    emu_unlock(rt);
    return was ? TRUE : FALSE;
}

/* rt->mu held. Every KDPC queued so far has run (on Windows: on every
 * processor), NDIS timers' DPCs included: an expiry still in the timer
 * queue is not a queued DPC (cancel it first). */
static bool no_dpc_pending(emu_runtime *rt, void *arg)
{
    (void)arg;
    for (emu_kdpc *k = g_dpcs; k; k = k->next) {
        if (k->queued)
            return false;
    }
    return g_dpcs_running == 0 && rt->timer_dpcs == 0;
}

void KeFlushQueuedDpcs(void)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("KeFlushQueuedDpcs", "%s", ""))
        return;
    if (!emu_wait(rt, no_dpc_pending, NULL, EMU_WAIT_NS) && !emu_stopped(rt))
        emu_violate(rt, "OperationNotCompleted", "KeFlushQueuedDpcs", "queued DPCs did not finish");
}

void KeSetImportanceDpc(PRKDPC Dpc, KDPC_IMPORTANCE Importance)
{
    if (!emu_enter("KeSetImportanceDpc", "%p %d", (void *)Dpc, (int)Importance))
        return;
    Dpc->Importance = (UCHAR)Importance;
}

/* The runtime's CPUs are its scheduler's: a processor of group 0 below
 * KeQueryActiveProcessorCountEx is accepted (anything else is
 * STATUS_INVALID_PARAMETER, as on Windows), and the DPC runs where the
 * scheduler runs it. */
NTSTATUS KeSetTargetProcessorDpcEx(PKDPC Dpc, PPROCESSOR_NUMBER ProcNumber)
{
    if (!emu_enter("KeSetTargetProcessorDpcEx", "%p", (void *)Dpc))
        return STATUS_INVALID_PARAMETER;
    if (!ProcNumber || ProcNumber->Group != 0 || ProcNumber->Reserved != 0 ||
        ProcNumber->Number >= KeQueryActiveProcessorCountEx(0))
        return STATUS_INVALID_PARAMETER;
    return STATUS_SUCCESS;
}

/* Every DPC runs as on "CPU 0" (docs/ndisemu.md), and so does the rest:
 * processor 0 of group 0, whichever thread asks. */
ULONG KeGetCurrentProcessorNumberEx(PPROCESSOR_NUMBER ProcNumber)
{
    if (!emu_enter("KeGetCurrentProcessorNumberEx", "%p", (void *)ProcNumber))
        return 0;
    if (ProcNumber) /* _Out_opt_ */
        memset(ProcNumber, 0, sizeof(*ProcNumber));
    return 0;
}

ULONG KeQueryActiveProcessorCountEx(USHORT GroupNumber)
{
    if (!emu_enter("KeQueryActiveProcessorCountEx", "group=%u", GroupNumber))
        return 0;
    if (GroupNumber != 0 && GroupNumber != ALL_PROCESSOR_GROUPS)
        return 0;
    unsigned n = emu_rt->n_workers;
    return n ? n : 1;
}

NTSTATUS KeQueryDpcWatchdogInformation(PKDPC_WATCHDOG_INFORMATION WatchdogInformation)
{
    if (!emu_enter("KeQueryDpcWatchdogInformation", "%p", (void *)WatchdogInformation))
        return STATUS_UNSUCCESSFUL;
    memset(WatchdogInformation, 0, sizeof(*WatchdogInformation));
    /* Limits in clock ticks (15.625 ms): 20 s per DPC, 120 s cumulative;
     * the counts are what is left and nothing has been used here. */
    WatchdogInformation->DpcTimeLimit = 1280;
    WatchdogInformation->DpcTimeCount = 1280;
    WatchdogInformation->DpcWatchdogLimit = 7680;
    WatchdogInformation->DpcWatchdogCount = 7680;
    return STATUS_SUCCESS;
}

/* 100-ns units per clock tick (15.625 ms). */
ULONG KeQueryTimeIncrement(void)
{
    emu_enter("KeQueryTimeIncrement", "%s", "");
    return 156250;
}

void KeQueryTickCount(PLARGE_INTEGER CurrentCount)
{
    if (!emu_enter("KeQueryTickCount", "%p", (void *)CurrentCount))
        return;
    CurrentCount->QuadPart = (LONGLONG)(emu_time(emu_rt) / 15625000ull);
}

CCHAR RtlFindLeastSignificantBit(ULONGLONG Set)
{
    emu_enter("RtlFindLeastSignificantBit", "%llx", (unsigned long long)Set);
    return Set ? (CCHAR)__builtin_ctzll(Set) : (CCHAR)-1;
}

/* ---- executive spin locks ---- */

void KeInitializeSpinLock(PKSPIN_LOCK SpinLock)
{
    emu_enter("KeInitializeSpinLock", "%p", (void *)SpinLock);
    *SpinLock = 0;
}

KIRQL KeAcquireSpinLockRaiseToDpc(PKSPIN_LOCK SpinLock)
{
    emu_thread *t = emu_self();
    KIRQL old = t->irql;
    if (!emu_enter("KeAcquireSpinLockRaiseToDpc", "%p", (void *)SpinLock))
        return old;
    if (emu_spin_acquire(SpinLock, "KeAcquireSpinLock"))
        t->irql = DISPATCH_LEVEL;
    return old;
}

void KeReleaseSpinLock(PKSPIN_LOCK SpinLock, KIRQL NewIrql)
{
    if (!emu_enter("KeReleaseSpinLock", "%p", (void *)SpinLock))
        return;
    if (emu_spin_release(SpinLock, "KeReleaseSpinLock"))
        emu_self()->irql = NewIrql;
}

void KeAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    if (!emu_enter("KeAcquireSpinLockAtDpcLevel", "%p", (void *)SpinLock))
        return;
    emu_spin_acquire(SpinLock, "KeAcquireSpinLockAtDpcLevel");
}

void KeReleaseSpinLockFromDpcLevel(PKSPIN_LOCK SpinLock)
{
    if (!emu_enter("KeReleaseSpinLockFromDpcLevel", "%p", (void *)SpinLock))
        return;
    emu_spin_release(SpinLock, "KeReleaseSpinLockFromDpcLevel");
}

BOOLEAN KeTryToAcquireSpinLockAtDpcLevel(PKSPIN_LOCK SpinLock)
{
    if (!emu_enter("KeTryToAcquireSpinLockAtDpcLevel", "%p", (void *)SpinLock))
        return FALSE;
    return emu_spin_try_acquire(SpinLock, "KeTryToAcquireSpinLockAtDpcLevel") ? TRUE : FALSE;
}

/* ---- interlocked doubly linked lists (the lock guards the list; the
 * caller's IRQL is not changed, interrupts are off meanwhile) ---- */

PLIST_ENTRY ExInterlockedInsertTailList(PLIST_ENTRY ListHead, PLIST_ENTRY ListEntry,
                                        PKSPIN_LOCK Lock)
{
    if (!emu_enter("ExInterlockedInsertTailList", "%p", (void *)ListHead) ||
        !emu_spin_acquire(Lock, "ExInterlockedInsertTailList"))
        return NULL;
    PLIST_ENTRY prev = IsListEmpty(ListHead) ? NULL : ListHead->Blink;
    InsertTailList(ListHead, ListEntry);
    emu_spin_release(Lock, "ExInterlockedInsertTailList");
    return prev;
}

PLIST_ENTRY ExInterlockedInsertHeadList(PLIST_ENTRY ListHead, PLIST_ENTRY ListEntry,
                                        PKSPIN_LOCK Lock)
{
    if (!emu_enter("ExInterlockedInsertHeadList", "%p", (void *)ListHead) ||
        !emu_spin_acquire(Lock, "ExInterlockedInsertHeadList"))
        return NULL;
    PLIST_ENTRY prev = IsListEmpty(ListHead) ? NULL : ListHead->Flink;
    InsertHeadList(ListHead, ListEntry);
    emu_spin_release(Lock, "ExInterlockedInsertHeadList");
    return prev;
}

PLIST_ENTRY ExInterlockedRemoveHeadList(PLIST_ENTRY ListHead, PKSPIN_LOCK Lock)
{
    if (!emu_enter("ExInterlockedRemoveHeadList", "%p", (void *)ListHead) ||
        !emu_spin_acquire(Lock, "ExInterlockedRemoveHeadList"))
        return NULL;
    PLIST_ENTRY e = IsListEmpty(ListHead) ? NULL : RemoveHeadList(ListHead);
    emu_spin_release(Lock, "ExInterlockedRemoveHeadList");
    return e;
}

/* ---- sequenced singly linked lists: x64 header, Alignment's low 16 bits
 * the depth, Region the first entry (the runtime's own encoding; drivers
 * only use the calls) ---- */

static pthread_mutex_t g_slist_mu = PTHREAD_MUTEX_INITIALIZER;

/* A lookaside list's head after ExDeleteNPagedLookasideList. */
static void slist_check(PSLIST_HEADER h, const char *call)
{
    emu_runtime *rt = emu_rt;
    emu_lock(rt);
    emu_lookaside *k = lookaside_find((char *)h - offsetof(NPAGED_LOOKASIDE_LIST, L.ListHead));
    bool deleted = k && k->deleted;
    emu_unlock(rt);
    if (deleted)
        emu_violate(rt, "LookasideUseAfterDelete", call,
                    "lookaside list %p used after ExDeleteNPagedLookasideList",
                    (void *)((char *)h - offsetof(NPAGED_LOOKASIDE_LIST, L.ListHead)));
}

PSLIST_ENTRY ExpInterlockedPopEntrySList(PSLIST_HEADER ListHead)
{
    if (!emu_enter("ExpInterlockedPopEntrySList", "%p", (void *)ListHead))
        return NULL;
    slist_check(ListHead, "ExpInterlockedPopEntrySList");
    pthread_mutex_lock(&g_slist_mu);
    PSLIST_ENTRY e = (PSLIST_ENTRY)(uintptr_t)ListHead->Region;
    if (e) {
        ListHead->Region = (ULONGLONG)(uintptr_t)e->Next;
        ListHead->Alignment =
            (ListHead->Alignment & ~0xffffull) | (((ListHead->Alignment & 0xffff) - 1) & 0xffff);
    }
    pthread_mutex_unlock(&g_slist_mu);
    return e;
}

PSLIST_ENTRY ExpInterlockedPushEntrySList(PSLIST_HEADER ListHead, PSLIST_ENTRY ListEntry)
{
    if (!emu_enter("ExpInterlockedPushEntrySList", "%p", (void *)ListHead))
        return NULL;
    slist_check(ListHead, "ExpInterlockedPushEntrySList");
    pthread_mutex_lock(&g_slist_mu);
    PSLIST_ENTRY first = (PSLIST_ENTRY)(uintptr_t)ListHead->Region;
    ListEntry->Next = first;
    ListHead->Region = (ULONGLONG)(uintptr_t)ListEntry;
    ListHead->Alignment =
        (ListHead->Alignment & ~0xffffull) | (((ListHead->Alignment & 0xffff) + 1) & 0xffff);
    pthread_mutex_unlock(&g_slist_mu);
    return first;
}

PSLIST_ENTRY ExpInterlockedFlushSList(PSLIST_HEADER ListHead)
{
    if (!emu_enter("ExpInterlockedFlushSList", "%p", (void *)ListHead))
        return NULL;
    pthread_mutex_lock(&g_slist_mu);
    PSLIST_ENTRY first = (PSLIST_ENTRY)(uintptr_t)ListHead->Region;
    ListHead->Region = 0;
    ListHead->Alignment &= ~0xffffull;
    pthread_mutex_unlock(&g_slist_mu);
    return first;
}

USHORT ExQueryDepthSList(PSLIST_HEADER SListHead)
{
    if (!emu_enter("ExQueryDepthSList", "%p", (void *)SListHead))
        return 0;
    return (USHORT)(SListHead->Alignment & 0xffff);
}

/* ---- non-paged lookaside lists ---- */

/* The default allocate and free routines: pool memory charged to the
 * driver whose code runs (ExAllocatePoolWithTag / ExFreePool). */
static PVOID lookaside_default_alloc(POOL_TYPE PoolType, SIZE_T NumberOfBytes, ULONG Tag)
{
    (void)PoolType;
    PVOID p = NULL;
    if (NumberOfBytes > 0xffffffffu ||
        NdisAllocateMemoryWithTag(&p, (UINT)NumberOfBytes, Tag) != NDIS_STATUS_SUCCESS)
        return NULL;
    return p;
}

static void lookaside_default_free(PVOID Buffer)
{
    NdisFreeMemory(Buffer, 0, 0);
}

void ExInitializeNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside, PALLOCATE_FUNCTION Allocate,
                                     PFREE_FUNCTION Free, ULONG Flags, SIZE_T Size, ULONG Tag,
                                     USHORT Depth)
{
    emu_runtime *rt = emu_rt;
    (void)Depth; /* the system picks the depth (4 on a new list) */
    if (!emu_enter("ExInitializeNPagedLookasideList", "%p size=%zu tag=%08x", (void *)Lookaside,
                   (size_t)Size, Tag))
        return;
    emu_lock(rt);
    emu_lookaside *k = lookaside_find(Lookaside);
    if (k && !k->deleted) {
        emu_unlock(rt);
        emu_violate(rt, "LookasideInitTwice", "ExInitializeNPagedLookasideList",
                    "lookaside list %p initialized again without ExDeleteNPagedLookasideList",
                    (void *)Lookaside);
        return;
    }
    if (!k) {
        k = calloc(1, sizeof(*k));
        if (!k) {
            emu_unlock(rt);
            return;
        }
        k->l = Lookaside;
        k->next = g_lookasides;
        g_lookasides = k;
    }
    k->deleted = false;
    k->drv = emu_self()->cur_drv;
    emu_unlock(rt);
    memset(Lookaside, 0, sizeof(*Lookaside));
    Lookaside->L.Depth = 4;
    Lookaside->L.MaximumDepth = 256;
    Lookaside->L.Type = (POOL_TYPE)(NonPagedPoolExecute | (Flags & POOL_NX_ALLOCATION));
    Lookaside->L.Tag = Tag;
    Lookaside->L.Size =
        (ULONG)(Size < LOOKASIDE_MINIMUM_BLOCK_SIZE ? LOOKASIDE_MINIMUM_BLOCK_SIZE : Size);
    Lookaside->L.Allocate = Allocate ? Allocate : lookaside_default_alloc;
    Lookaside->L.Free = Free ? Free : lookaside_default_free;
    InitializeListHead(&Lookaside->L.ListEntry);
}

void ExDeleteNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("ExDeleteNPagedLookasideList", "%p", (void *)Lookaside))
        return;
    emu_lock(rt);
    emu_lookaside *k = lookaside_find(Lookaside);
    bool ok = k && !k->deleted;
    emu_unlock(rt);
    if (!ok) {
        emu_violate(rt, k ? "LookasideUseAfterDelete" : "LookasideNotInitialized",
                    "ExDeleteNPagedLookasideList",
                    k ? "lookaside list %p deleted twice"
                      : "lookaside list %p was not initialized with "
                        "ExInitializeNPagedLookasideList",
                    (void *)Lookaside);
        return;
    }
    /* The entries the list holds go back through its free routine. */
    PSLIST_ENTRY e;
    while ((e = ExpInterlockedPopEntrySList(&Lookaside->L.ListHead)) != NULL)
        Lookaside->L.Free(e);
    emu_lock(rt);
    k->deleted = true;
    emu_unlock(rt);
}

/* ---- unload checks and teardown ---- */

bool emu_kernel_unload_check(emu_runtime *rt, emu_driver *drv)
{
    emu_lock(rt);
    void *live_list = NULL, *queued = NULL;
    for (emu_lookaside *k = g_lookasides; k && !live_list; k = k->next) {
        if (k->drv == drv && !k->deleted)
            live_list = k->l;
    }
    for (emu_kdpc *k = g_dpcs; k && !queued; k = k->next) {
        if (k->drv == drv && (k->queued || k->running))
            queued = k->dpc;
    }
    emu_unlock(rt);
    if (live_list) {
        emu_violate(rt, "LookasideNotDeleted", "driver unload",
                    "%s: lookaside list %p was not deleted (ExDeleteNPagedLookasideList)",
                    drv->desc.service, live_list);
        return false;
    }
    if (queued) {
        emu_violate(rt, "DpcQueuedAtUnload", "driver unload",
                    "%s: KDPC %p is still queued (KeRemoveQueueDpc or KeFlushQueuedDpcs "
                    "before unloading)",
                    drv->desc.service, queued);
        return false;
    }
    return true;
}

void emu_kernel_free_all(void)
{
    while (g_dpcs) {
        emu_kdpc *k = g_dpcs;
        g_dpcs = k->next;
        free(k);
    }
    while (g_lookasides) {
        emu_lookaside *k = g_lookasides;
        g_lookasides = k->next;
        free(k);
    }
    g_dpcs_running = 0;
}

/* ---- NDIS queries ---- */

ULONG NdisGetSharedDataAlignment(void)
{
    emu_enter("NdisGetSharedDataAlignment", "%s", "");
    return SYSTEM_CACHE_ALIGNMENT_SIZE;
}

UINT NdisGetVersion(void)
{
    emu_enter("NdisGetVersion", "%s", "");
    return NDIS_RUNTIME_VERSION_630;
}
