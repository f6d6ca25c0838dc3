/*
 * vfo_eventlog.h - what vfo.sys writes to the system event log
 * (NdisWriteErrorLogEntry): the NDIS error code says what happened, the
 * first value where. Shared with the tests that read the entries back.
 */
#ifndef VFO_EVENTLOG_H
#define VFO_EVENTLOG_H

/* NDIS_ERROR_CODE_OUT_OF_RESOURCES, values: this, the bytes asked for. */
#define VFO_ERRLOG_SHARED_MEMORY 0x56464F01u /* "VFO" 1: NdisMAllocateSharedMemory failed */
/* NDIS_ERROR_CODE_HARDWARE_FAILURE, values: this, the frames in flight. */
#define VFO_ERRLOG_TX_STALLED 0x56464F02u /* "VFO" 2: the host stopped serving virtio TX */

#endif /* VFO_EVENTLOG_H */
