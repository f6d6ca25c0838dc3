/*
 * irql.c - the IRQL each NDIS (and kernel) function the runtime exports may
 * be called at, and the DDI compliance rule a call outside it breaks.
 *
 * Source: each function's reference page on learn.microsoft.com (its
 * "IRQL" and "DDI compliance rules" requirements), checked against the
 * lists of the Irql_*_Function rule pages. Where a function's page names
 * no IRQL rule, the rule of its family is used and marked "(family)".
 * "Any level" is recorded as [PASSIVE, HIGH]: never a violation.
 */
#include "emu_internal.h"

#include <stdlib.h>

#define P  PASSIVE_LEVEL
#define A  APC_LEVEL
#define D  DISPATCH_LEVEL
#define DI EMU_DIRQL
#define H  HIGH_LEVEL

#define GATHER "Irql_Gather_DMA_Function"
#define INTR   "Irql_Interrupt_Function"
#define MINI   "Irql_Miniport_Driver_Function"
#define MISC   "Irql_Miscellaneous_Function"
#define NB     "Irql_NetBuffer_Function"
#define OID    "Irql_OID_Function"
#define PROT   "Irql_Protocol_Driver_Function"
#define SENDRC "Irql_SendRcv_Function"
#define STATUS "Irql_StatusIndication_Function"
#define SYNCH  "Irql_Synch_Function"
#define TIMER  "Irql_Timer_Function"
#define FILTER "Irql_Filter_Driver_Function"
#define IM     "Irql_IM_Function"
#define IFS    "Irql_Interfaces_Function"

/* Sorted by name (strcmp): looked up with bsearch. */
static const emu_irql_rule k_rules[] = {
    { "ExDeleteNPagedLookasideList", MISC, P, D },     /* (family) */
    { "ExInitializeNPagedLookasideList", MISC, P, D }, /* (family) */
    { "ExInterlockedInsertHeadList", MISC, P, H },     /* any level (interrupts off) */
    { "ExInterlockedInsertTailList", MISC, P, H },     /* any level (interrupts off) */
    { "ExInterlockedRemoveHeadList", MISC, P, H },     /* any level (interrupts off) */
    { "ExQueryDepthSList", MISC, P, H },               /* any level */
    { "ExpInterlockedFlushSList", MISC, P, D },        /* (family) */
    { "ExpInterlockedPopEntrySList", MISC, P, D },     /* (family) */
    { "ExpInterlockedPushEntrySList", MISC, P, D },    /* (family) */
    { "IoAcquireCancelSpinLock", "CancelSpinLock", P, D },
    { "IoAttachDeviceToDeviceStack", MISC, P, D }, /* (family) */
    { "IoCallDriver", MISC, P, D },                /* (family) */
    { "IoCompleteRequest", MISC, P, D },           /* (family) */
    { "IoCreateDevice", MISC, P, P },              /* (family) */
    { "IoCreateDeviceSecure", MISC, P, P },        /* (family) */
    { "IoCreateSymbolicLink", MISC, P, P },        /* (family) */
    { "IoDeleteDevice", MISC, P, P },              /* (family) */
    { "IoDeleteSymbolicLink", MISC, P, P },        /* (family) */
    { "IoDetachDevice", MISC, P, P },              /* (family) */
    { "IoReleaseCancelSpinLock", "CancelSpinLock", D, D },
    { "IoSetCompletionRoutineEx", MISC, P, D },          /* (family) */
    { "KeAcquireSpinLockAtDpcLevel", SYNCH, D, H },      /* >= DISPATCH */
    { "KeAcquireSpinLockRaiseToDpc", SYNCH, P, D },      /* (family) */
    { "KeEnterCriticalRegion", MISC, P, A },             /* (family) */
    { "KeFlushQueuedDpcs", MISC, P, P },                 /* (family) */
    { "KeGetCurrentProcessorNumberEx", MISC, P, H },     /* any level */
    { "KeInitializeDpc", MISC, P, H },                   /* any level */
    { "KeInitializeMutex", MISC, P, P },                 /* (family) */
    { "KeInitializeSpinLock", SYNCH, P, H },             /* any level */
    { "KeInsertQueueDpc", MISC, P, H },                  /* any level */
    { "KeLeaveCriticalRegion", MISC, P, A },             /* (family) */
    { "KeLowerIrql", "IrqlKeRaiseLower", P, H },         /* any level */
    { "KeQueryActiveProcessorCountEx", MISC, P, H },     /* any level */
    { "KeQueryDpcWatchdogInformation", MISC, D, H },     /* >= DISPATCH */
    { "KeQueryTickCount", MISC, P, H },                  /* any level */
    { "KeQueryTimeIncrement", MISC, P, H },              /* any level */
    { "KeRaiseIrql", "IrqlKeRaiseLower", P, H },         /* any level */
    { "KeReleaseMutex", MISC, P, D },                    /* (family) */
    { "KeReleaseSpinLock", SYNCH, D, D },                /* (family) */
    { "KeReleaseSpinLockFromDpcLevel", SYNCH, D, H },    /* >= DISPATCH */
    { "KeRemoveQueueDpc", MISC, P, H },                  /* any level */
    { "KeSetImportanceDpc", MISC, P, H },                /* any level */
    { "KeSetTargetProcessorDpcEx", MISC, P, H },         /* any level */
    { "KeStallExecutionProcessor", MISC, P, H },         /* any level */
    { "KeTryToAcquireSpinLockAtDpcLevel", SYNCH, D, H }, /* >= DISPATCH */
    { "KeWaitForSingleObject", MISC, P, A },   /* (family); <= DISPATCH only with a zero timeout */
    { "NdisAcquireRWLockRead", SYNCH, P, D },  /* (family) */
    { "NdisAcquireRWLockWrite", SYNCH, P, D }, /* (family) */
    { "NdisAcquireReadWriteLock", SYNCH, P, D },
    { "NdisAcquireSpinLock", SYNCH, P, D },
    { "NdisAdvanceNetBufferDataStart", NB, P, D },
    { "NdisAllocateCloneNetBufferList", NB, P, D },
    { "NdisAllocateCloneOidRequest", OID, P, D }, /* (family) */
    { "NdisAllocateGenericObject", MISC, P, D },
    { "NdisAllocateIoWorkItem", MISC, P, D },
    { "NdisAllocateMdl", NB, P, D },
    { "NdisAllocateMemoryWithTag", MISC, P, D },
    { "NdisAllocateMemoryWithTagPriority", MISC, P, D },
    { "NdisAllocateNetBuffer", NB, P, D },
    { "NdisAllocateNetBufferAndNetBufferList", NB, P, D },
    { "NdisAllocateNetBufferList", NB, P, D },
    { "NdisAllocateNetBufferListContext", NB, P, D },
    { "NdisAllocateNetBufferListPool", NB, P, D },
    { "NdisAllocateNetBufferPool", NB, P, D },
    { "NdisAllocateRWLock", SYNCH, P, D },      /* (family) */
    { "NdisAllocateSharedMemory", MINI, P, P }, /* (family) */
    { "NdisAllocateSpinLock", SYNCH, P, H },    /* any level */
    { "NdisAllocateTimerObject", TIMER, P, D },
    { "NdisCancelOidRequest", OID, P, D },
    { "NdisCancelSendNetBufferLists", SENDRC, P, D },
    { "NdisCancelTimerObject", TIMER, P, D }, /* PASSIVE for a periodic timer */
    { "NdisCloseAdapterEx", PROT, P, P },
    { "NdisCloseConfiguration", MISC, P, P },
    { "NdisCompleteBindAdapterEx", PROT, P, D },
    { "NdisCompleteNetPnPEvent", PROT, P, P },
    { "NdisCompleteUnbindAdapterEx", PROT, P, D },
    { "NdisCopyFromNetBufferToNetBuffer", NB, P, D },
    { "NdisDeregisterDeviceEx", MISC, P, P },
    { "NdisDeregisterProtocolDriver", PROT, P, P },
    { "NdisDprAcquireReadWriteLock", SYNCH, D, D },
    { "NdisDprAcquireSpinLock", SYNCH, D, D },
    { "NdisDprReleaseReadWriteLock", SYNCH, D, D },
    { "NdisDprReleaseSpinLock", SYNCH, P, D }, /* DISPATCH while the lock is held */
    { "NdisFCancelOidRequest", FILTER, P, D },
    { "NdisFCancelSendNetBufferLists", FILTER, P, D },
    { "NdisFDeregisterFilterDriver", FILTER, P, P },
    { "NdisFDevicePnPEventNotify", FILTER, P, P },
    { "NdisFIndicateReceiveNetBufferLists", FILTER, P, D },
    { "NdisFIndicateStatus", FILTER, P, D },
    { "NdisFNetPnPEvent", FILTER, P, P },
    { "NdisFOidRequest", FILTER, P, D },
    { "NdisFOidRequestComplete", FILTER, P, D },
    { "NdisFPauseComplete", FILTER, P, D },
    { "NdisFRegisterFilterDriver", FILTER, P, P },
    { "NdisFRestartComplete", FILTER, P, P },
    { "NdisFRestartFilter", FILTER, P, D },
    { "NdisFReturnNetBufferLists", FILTER, P, D },
    { "NdisFSendNetBufferLists", FILTER, P, D },
    { "NdisFSendNetBufferListsComplete", FILTER, P, D },
    { "NdisFSetAttributes", FILTER, P, P },
    { "NdisFreeCloneNetBufferList", NB, P, D },
    { "NdisFreeCloneOidRequest", OID, P, D }, /* (family) */
    { "NdisFreeGenericObject", MISC, P, D },
    { "NdisFreeIoWorkItem", MISC, P, D },
    { "NdisFreeMdl", NB, P, D },
    { "NdisFreeMemory", MISC, P, D },                /* nonpaged, non-contiguous memory */
    { "NdisFreeMemoryWithTagPriority", MISC, P, D }, /* (family) */
    { "NdisFreeNetBuffer", NB, P, D },
    { "NdisFreeNetBufferList", NB, P, D },
    { "NdisFreeNetBufferListContext", NB, P, D },
    { "NdisFreeNetBufferListPool", NB, P, D },
    { "NdisFreeNetBufferPool", NB, P, D },
    { "NdisFreeRWLock", SYNCH, P, D },      /* (family) */
    { "NdisFreeSharedMemory", MINI, P, P }, /* (family) */
    { "NdisFreeSpinLock", MISC, P, H },     /* any level */
    { "NdisFreeTimerObject", TIMER, P, D },
    { "NdisGeneratePartialCancelId", SENDRC, P, D }, /* (family) */
    { "NdisGetDataBuffer", NB, P, D },
    { "NdisGetSharedDataAlignment", MISC, P, D }, /* (family) */
    { "NdisGetVersion", MISC, P, H },             /* any level */
    { "NdisIMAssociateMiniport", IM, P, P },
    { "NdisIMCancelInitializeDeviceInstance", IM, P, P },
    { "NdisIMDeInitializeDeviceInstance", IM, P, P },
    { "NdisIMInitializeDeviceInstanceEx", IM, P, P },
    { "NdisIfAddIfStackEntry", IFS, P, P },
    { "NdisIfDeleteIfStackEntry", IFS, P, P },
    { "NdisInitUnicodeString", MISC, P, D }, /* nonpaged destination */
    { "NdisInitializeEvent", SYNCH, P, H },  /* any level */
    { "NdisInitializeReadWriteLock", SYNCH, P, D },
    { "NdisMAllocateNetBufferSGList", GATHER, D, D },
    { "NdisMAllocateSharedMemory", MINI, P, P }, /* (family) */
    { "NdisMDeregisterInterruptEx", INTR, P, P },
    { "NdisMDeregisterMiniportDriver", MINI, P, P },
    { "NdisMDeregisterScatterGatherDma", GATHER, P, P },
    { "NdisMFreeNetBufferSGList", GATHER, D, D },
    { "NdisMFreeSharedMemory", MINI, P, D },
    { "NdisMGetBusData", MINI, P, H },        /* any level */
    { "NdisMGetDeviceProperty", MINI, P, P }, /* (family) */
    { "NdisMIndicateReceiveNetBufferLists", SENDRC, P, D },
    { "NdisMIndicateStatusEx", STATUS, P, D },
    { "NdisMMapIoSpace", MINI, P, P },
    { "NdisMOidRequestComplete", OID, P, D },
    { "NdisMPauseComplete", MINI, P, D },
    { "NdisMQueueDpcEx", INTR, P, H }, /* any level */
    { "NdisMRegisterInterruptEx", INTR, P, P },
    { "NdisMRegisterMiniportDriver", MINI, P, P },
    { "NdisMRegisterScatterGatherDma", GATHER, P, P },
    { "NdisMRemoveMiniport", MINI, P, D },
    { "NdisMResetComplete", MINI, P, D },
    { "NdisMRestartComplete", MINI, P, D },
    { "NdisMSendNetBufferListsComplete", SENDRC, P, D },
    { "NdisMSetBusData", MINI, P, H }, /* any level */
    { "NdisMSetMiniportAttributes", MINI, P, P },
    { "NdisMSleep", MINI, P, A },                       /* < DISPATCH_LEVEL */
    { "NdisMSynchronizeWithInterruptEx", INTR, P, DI }, /* (family) */
    { "NdisMUnmapIoSpace", MINI, P, P },
    { "NdisOidRequest", OID, P, D },
    { "NdisOpenAdapterEx", PROT, P, P },
    { "NdisOpenConfigurationEx", MISC, P, P },
    { "NdisQueryAdapterInstanceName", PROT, P, P }, /* (family) */
    { "NdisQueueIoWorkItem", MISC, P, D },
    { "NdisReEnumerateProtocolBindings", PROT, P, P },
    { "NdisReadConfiguration", MISC, P, P },
    { "NdisReadNetworkAddress", MISC, P, P },
    { "NdisRegisterDeviceEx", MISC, P, P },
    { "NdisRegisterProtocolDriver", PROT, P, P },
    { "NdisReleaseRWLock", SYNCH, P, D }, /* (family); DISPATCH while held */
    { "NdisReleaseReadWriteLock", SYNCH, D, D },
    { "NdisReleaseSpinLock", SYNCH, P, D }, /* DISPATCH while the lock is held */
    { "NdisResetEvent", SYNCH, P, D },
    { "NdisRetreatNetBufferDataStart", NB, P, D },
    { "NdisReturnNetBufferLists", SENDRC, P, D },
    { "NdisSendNetBufferLists", SENDRC, P, D },
    { "NdisSetEvent", SYNCH, P, D },
    { "NdisSetOptionalHandlers", MISC, P, P }, /* (family) */
    { "NdisSetTimerObject", TIMER, P, D },
    { "NdisStallExecution", MISC, P, H }, /* any level */
    { "NdisUnbindAdapter", PROT, P, D },
    { "NdisWaitEvent", MISC, P, P },
    { "NdisWriteConfiguration", MISC, P, P },
    { "NdisWriteErrorLogEntry", MISC, P, D },
    { "RtlEqualUnicodeString", MISC, P, P },      /* (family: NdisEqualString) */
    { "RtlFindLeastSignificantBit", MISC, P, H }, /* any level */
    { "RtlInitUnicodeString", MISC, P, D },       /* (family) */
    { "RtlUpcaseUnicodeString", MISC, P, P },     /* (family: NdisUpcaseUnicodeString) */
};

static int by_name(const void *key, const void *elem)
{
    return strcmp(key, ((const emu_irql_rule *)elem)->fn);
}

const emu_irql_rule *emu_irql_rule_of(const char *fn)
{
    const emu_irql_rule *r = bsearch(fn, k_rules, ARRAYSIZE(k_rules), sizeof(k_rules[0]), by_name);
    if (!r) {
        /* A runtime bug (an exported function without its entry), not a
         * driver's: stop loudly rather than check nothing. */
        fprintf(stderr, "ndisemu: internal error: no IRQL entry for %s\n", fn);
        abort();
    }
    return r;
}

bool emu_irql_table_sorted(void)
{
    for (size_t i = 1; i < ARRAYSIZE(k_rules); i++) {
        if (strcmp(k_rules[i - 1].fn, k_rules[i].fn) >= 0)
            return false;
    }
    return true;
}
