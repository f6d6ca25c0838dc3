/*
 * kdrv.h - the control interface of kdrv, the software (root-enumerated)
 * test miniport of test_ndisemu_kernel: each IOCTL runs one of the kernel
 * services a miniport may call directly and reports what it observed.
 */
#ifndef KDRV_H
#define KDRV_H

#define KDRV_DEVICE   "KDrv"
#define KDRV_IOCTL(n) CTL_CODE(FILE_DEVICE_NETWORK, 0x900 + (n), METHOD_BUFFERED, FILE_ANY_ACCESS)
/* KeInitializeDpc + KeInsertQueueDpc twice (out: kdrv_dpc_queue) */
#define IOCTL_KDRV_DPC_QUEUE KDRV_IOCTL(1)
/* KeInsertQueueDpc then KeRemoveQueueDpc (out: kdrv_dpc_queue) */
#define IOCTL_KDRV_DPC_REMOVE KDRV_IOCTL(2)
/* out: kdrv_dpc_stats: what the DPC routine saw */
#define IOCTL_KDRV_DPC_STATS KDRV_IOCTL(3)
/* a lookaside list's life (out: kdrv_lookaside) */
#define IOCTL_KDRV_LOOKASIDE KDRV_IOCTL(4)
/* executive spin locks and interlocked lists (out: kdrv_spin) */
#define IOCTL_KDRV_SPIN KDRV_IOCTL(5)
/* out: kdrv_adapter: what MiniportInitializeEx found */
#define IOCTL_KDRV_ADAPTER KDRV_IOCTL(6)
/* an NDIS timer set due at once and cancelled, until two cancels missed
 * their expiry or 64 tries (out: kdrv_timer_miss) */
#define IOCTL_KDRV_TIMER_MISS KDRV_IOCTL(7)
/* out: unsigned int, the timer callbacks that ran */
#define IOCTL_KDRV_TIMER_RUNS KDRV_IOCTL(8)
/* a miss as above, the timer set again 100 ns ahead, KeFlushQueuedDpcs, a
 * 10 ms sleep (out: kdrv_timer_join) */
#define IOCTL_KDRV_TIMER_JOIN KDRV_IOCTL(9)

typedef struct kdrv_dpc_queue {
    unsigned char first, second; /* KeInsertQueueDpc's (or KeRemoveQueueDpc's) results */
} kdrv_dpc_queue;

typedef struct kdrv_dpc_stats {
    unsigned int runs;
    unsigned char irql;    /* at the last run */
    unsigned char args_ok; /* Context, SystemArgument1, SystemArgument2 as queued */
} kdrv_dpc_stats;

typedef struct kdrv_lookaside {
    unsigned int distinct;         /* of 6 entries allocated at once */
    unsigned int depth_after_free; /* ExQueryDepthSList after the 6 frees */
    unsigned int total_allocates, allocate_misses, total_frees, free_misses;
    unsigned char reused; /* the next allocation is an entry the list held */
} kdrv_lookaside;

typedef struct kdrv_spin {
    unsigned char irql_held, irql_after;    /* KeAcquireSpinLock, KeReleaseSpinLock */
    unsigned char try_free, try_busy_other; /* KeTryToAcquireSpinLockAtDpcLevel */
    unsigned char fifo;                     /* ExInterlocked* keep the order */
} kdrv_spin;

typedef struct kdrv_adapter {
    unsigned char initialized;
    unsigned char pdo;          /* NdisMGetDeviceProperty gave a PDO */
    unsigned char no_resources; /* no translated resource list in the init parameters */
    int interrupt_status;       /* NdisMRegisterInterruptEx's */
} kdrv_adapter;

typedef struct kdrv_timer_miss {
    unsigned int tries;
    unsigned int misses; /* NdisCancelTimerObject returned FALSE */
} kdrv_timer_miss;

typedef struct kdrv_timer_join {
    unsigned int missed;           /* 1: a cancel returned FALSE within 64 tries */
    unsigned int runs_after_flush; /* callbacks since the IOCTL began, after KeFlushQueuedDpcs */
    unsigned int runs_after_sleep; /* and after the sleep: 1 when the second expiry joined */
} kdrv_timer_join;

#endif /* KDRV_H */
