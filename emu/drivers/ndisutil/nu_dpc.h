/*
 * nu_dpc.h - queueing a miniport's interrupt DPC again on the processor
 * that asks (NdisMQueueDpcEx takes the processors: its TargetProcessors is
 * not optional). Header-only: minimp links no ndisutil.
 */
#ifndef NU_DPC_H
#define NU_DPC_H

#include <ndis.h>

static inline void nu_queue_dpc_here(NDIS_HANDLE intr, ULONG msg)
{
    PROCESSOR_NUMBER pn;
    GROUP_AFFINITY here;
    NdisZeroMemory(&here, sizeof(here));
    KeGetCurrentProcessorNumberEx(&pn);
    here.Group = pn.Group;
    here.Mask = (KAFFINITY)1 << pn.Number;
    NdisMQueueDpcEx(intr, msg, &here, NULL);
}

#endif /* NU_DPC_H */
