/*
 * miniprot_oid.c - IOCTL_MINIPROT_OID: an arbitrary OID request (query,
 * set or method; any OID, buffer length and content) from the control
 * device to the adapter below, the way a user-mode tool reaches a miniport
 * through a protocol. Each request gets its own NDIS_OID_REQUEST and an
 * InformationBuffer of exactly the length asked for, so a miniport that
 * reads or writes past InformationBufferLength touches memory it does not
 * own. The IRP pends until the request completes; several may be in
 * flight at once.
 */
#include "miniprot.h"
#include "miniprot_int.h"
#include "nu_object.h"

typedef struct pt_oid_io {
    NDIS_OID_REQUEST req; /* first: the completion finds the rest from it */
    ULONG magic;
    PIRP irp;
    void *ref;
    PUCHAR buf;
    ULONG buf_len;
} pt_oid_io;

#define PT_OID_MAGIC 0x4F494F50u /* "POIO" */

static void finish(pt_oid_io *io, NDIS_STATUS st)
{
    PIRP irp = io->irp;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    ULONG out = sp->Parameters.DeviceIoControl.OutputBufferLength;
    PUCHAR sys = irp->AssociatedIrp.SystemBuffer;
    ULONG info = 0;
    if (out >= sizeof(miniprot_oid_result)) {
        miniprot_oid_result res;
        res.status = (int)st;
        res.written = io->req.DATA.METHOD_INFORMATION.BytesWritten;
        res.read = io->req.DATA.METHOD_INFORMATION.BytesRead;
        res.needed = io->req.DATA.METHOD_INFORMATION.BytesNeeded;
        if (io->req.RequestType != NdisRequestMethod) {
            res.written = io->req.DATA.QUERY_INFORMATION.BytesWritten;
            res.read = io->req.DATA.SET_INFORMATION.BytesRead;
            res.needed = io->req.DATA.QUERY_INFORMATION.BytesNeeded;
        }
        NdisMoveMemory(sys, &res, sizeof(res));
        info = sizeof(res);
        ULONG n = out - info < io->buf_len ? out - info : io->buf_len;
        if (n)
            NdisMoveMemory(sys + info, io->buf, n);
        info += n;
    }
    pt_put_binding(io->ref);
    if (io->buf)
        NdisFreeMemoryWithTagPriority(pt_protocol_handle(), io->buf, PT_TAG);
    NdisFreeMemoryWithTagPriority(pt_protocol_handle(), io, PT_TAG);
    irp->IoStatus.Status = STATUS_SUCCESS; /* the NDIS status is in the result */
    irp->IoStatus.Information = info;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

static void fill_request(pt_oid_io *io, const miniprot_oid *q)
{
    PNDIS_OID_REQUEST r = &io->req;
    NU_INIT_HEADER(&r->Header, NDIS_OBJECT_TYPE_OID_REQUEST, NDIS_OID_REQUEST_REVISION_1,
                   NDIS_SIZEOF_OID_REQUEST_REVISION_1);
    r->RequestType = (NDIS_REQUEST_TYPE)q->type;
    r->RequestId = io;
    if (q->type == NdisRequestMethod) {
        r->DATA.METHOD_INFORMATION.Oid = q->oid;
        r->DATA.METHOD_INFORMATION.MethodId = q->method_id;
        r->DATA.METHOD_INFORMATION.InformationBuffer = io->buf;
        r->DATA.METHOD_INFORMATION.InputBufferLength = q->in_len;
        r->DATA.METHOD_INFORMATION.OutputBufferLength = q->buf_len;
    } else {
        r->DATA.QUERY_INFORMATION.Oid = q->oid;
        r->DATA.QUERY_INFORMATION.InformationBuffer = io->buf;
        r->DATA.QUERY_INFORMATION.InformationBufferLength = q->buf_len;
    }
}

static NTSTATUS check(const miniprot_oid *q, ULONG in)
{
    if (q->type != NdisRequestQueryInformation && q->type != NdisRequestSetInformation &&
        q->type != NdisRequestQueryStatistics && q->type != NdisRequestMethod)
        return STATUS_INVALID_PARAMETER;
    if (q->buf_len > MINIPROT_OID_MAX_BUF || q->in_len > q->buf_len || in - sizeof(*q) < q->in_len)
        return STATUS_INVALID_PARAMETER;
    return STATUS_SUCCESS;
}

NTSTATUS pt_oid_io_start(PIRP irp, PIO_STACK_LOCATION sp)
{
    ULONG in = sp->Parameters.DeviceIoControl.InputBufferLength;
    PUCHAR sys = irp->AssociatedIrp.SystemBuffer;
    miniprot_oid q;
    if (in < sizeof(q))
        return STATUS_INVALID_PARAMETER;
    NdisMoveMemory(&q, sys, sizeof(q));
    NTSTATUS bad = check(&q, in);
    if (bad != STATUS_SUCCESS)
        return bad;
    pt_oid_io *io = NdisAllocateMemoryWithTagPriority(pt_protocol_handle(), sizeof(*io), PT_TAG,
                                                      NormalPoolPriority);
    if (!io)
        return STATUS_INSUFFICIENT_RESOURCES;
    NdisZeroMemory(io, sizeof(*io));
    io->magic = PT_OID_MAGIC;
    io->irp = irp;
    io->buf_len = q.buf_len;
    if (q.buf_len) {
        io->buf = NdisAllocateMemoryWithTagPriority(pt_protocol_handle(), q.buf_len, PT_TAG,
                                                    NormalPoolPriority);
        if (!io->buf) {
            NdisFreeMemoryWithTagPriority(pt_protocol_handle(), io, PT_TAG);
            return STATUS_INSUFFICIENT_RESOURCES;
        }
        NdisZeroMemory(io->buf, q.buf_len);
        if (q.in_len)
            NdisMoveMemory(io->buf, sys + sizeof(q), q.in_len);
    }
    NDIS_HANDLE h = pt_get_open_binding(&io->ref);
    if (!h) {
        if (io->buf)
            NdisFreeMemoryWithTagPriority(pt_protocol_handle(), io->buf, PT_TAG);
        NdisFreeMemoryWithTagPriority(pt_protocol_handle(), io, PT_TAG);
        return STATUS_DEVICE_NOT_READY;
    }
    fill_request(io, &q);
    IoMarkIrpPending(irp);
    NDIS_STATUS st = NdisOidRequest(h, &io->req);
    if (st != NDIS_STATUS_PENDING)
        finish(io, st);
    return STATUS_PENDING;
}

BOOLEAN pt_oid_io_complete(PNDIS_OID_REQUEST r, NDIS_STATUS st)
{
    pt_oid_io *io = (pt_oid_io *)r;
    /* The binding's own requests carry no RequestId: test it first. */
    if (r->RequestId != (PVOID)r || io->magic != PT_OID_MAGIC)
        return FALSE;
    finish(io, st);
    return TRUE;
}
