/*
 * miniprot_int.h - what miniprot.c shares with miniprot_oid.c (the
 * control device's arbitrary OID requests).
 */
#ifndef MINIPROT_INT_H
#define MINIPROT_INT_H

#include <ndis.h>

#define PT_TAG 'torP'

/* For NdisAllocateMemoryWithTagPriority. */
NDIS_HANDLE pt_protocol_handle(void);

/* The NDIS binding handle of the first binding that is open and not
 * closing (running or paused), holding a user reference on it that
 * pt_put_binding gives back; NULL when there is none. */
NDIS_HANDLE pt_get_open_binding(void **ref);
void pt_put_binding(void *ref);

/* IOCTL_MINIPROT_OID: returns STATUS_PENDING when the request pends (the
 * IRP then completes from pt_oid_io_complete). */
NTSTATUS pt_oid_io_start(PIRP irp, PIO_STACK_LOCATION sp);
/* An OID request completed: true when it was one of pt_oid_io_start's. */
BOOLEAN pt_oid_io_complete(PNDIS_OID_REQUEST r, NDIS_STATUS st);

/* miniprot_burst.c: IOCTL_MINIPROT_BURST (PASSIVE_LEVEL), and the send
 * completion of its NBLs: true when nbl was one (then it is taken). */
NTSTATUS pt_burst_io(const UCHAR *in, ULONG in_len, UCHAR *out, ULONG out_len, ULONG *info);
BOOLEAN pt_burst_complete(PNET_BUFFER_LIST nbl);
ULONG64 pt_now_ns(void);

/* miniprot.c: one frame on the running binding (any IRQL <= DISPATCH_LEVEL);
 * a timer of the protocol's. */
NTSTATUS pt_send_frame(const UCHAR *frame, ULONG len);
NDIS_STATUS pt_alloc_timer(PNDIS_TIMER_FUNCTION fn, PVOID ctx, NDIS_HANDLE *out);

/* miniprot_trickle.c: IOCTL_MINIPROT_TRICKLE; its timer lives from
 * DriverEntry to unload. */
NDIS_STATUS pt_trickle_init(void);
void pt_trickle_free(void);
NTSTATUS pt_trickle_io(const UCHAR *in, ULONG in_len);

#endif
