/*
 * iodrv.c - see iodrv.h. IODRV_BREAK selects one deliberate contract
 * violation: 1 = DriverUnload leaves a device object (LeakAtUnload),
 * 2 = KeLeaveCriticalRegion without KeEnterCriticalRegion (CriticalRegions),
 * 3 = a pended read completed by the write with its cancel routine still
 * set (CancelRoutineAtCompletion), 4 = IRP_MJ_CREATE writes
 * DeviceObject->DeviceType, a field only the I/O manager sets
 * (DeviceObjectField), 5 = the NDIS 6.0 RW lock taken for writing while
 * this thread holds it for reading (SpinLock: never granted), 6 = a kernel
 * mutex released once more than it was acquired (MutexNotOwned).
 */
#define NDIS60 1 /* the NDIS 6.0 read/write lock is declared for NDIS 6.0 builds */
#include <ndis.h>

#include "iodrv.h"

#ifndef IODRV_BREAK
#define IODRV_BREAK 0
#endif

/* NDIS_STRING_CONST pastes its argument: expand the names first. */
#define WSTRING(x) NDIS_STRING_CONST(x)

enum { DEV_DIRECT, DEV_BUFFERED, DEV_NEITHER, DEV_EXCLUSIVE, DEV_COUNT };

typedef struct dev_ext {
    int kind;
    NDIS_SPIN_LOCK lock;
    LIST_ENTRY reads; /* pended IRP_MJ_READs (Tail.Overlay.ListEntry) */
    UCHAR data[256];  /* one frame written while no read was pending */
    ULONG data_len;
    LONG handles;
} dev_ext;

static PDEVICE_OBJECT g_dev[DEV_COUNT];
static ULONG g_checks;
static DRIVER_DISPATCH io_create, io_close, io_cleanup, io_read, io_write, io_ioctl;
static DRIVER_CANCEL io_cancel_read;
static DRIVER_UNLOAD io_unload;
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);

static NTSTATUS complete(PIRP irp, NTSTATUS st, ULONG_PTR info)
{
    irp->IoStatus.Status = st;
    irp->IoStatus.Information = info;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return st;
}

/* The caller's buffer as this device's buffering presents it; NULL when the
 * I/O manager did not present it the way the device's Flags ask for. */
static PUCHAR irp_buffer(PDEVICE_OBJECT dev, PIRP irp, ULONG len)
{
    if (len == 0)
        return NULL;
    if (dev->Flags & DO_DIRECT_IO) {
        if (!irp->MdlAddress || irp->AssociatedIrp.SystemBuffer || irp->UserBuffer ||
            MmGetMdlByteCount(irp->MdlAddress) != len)
            return NULL;
        return MmGetSystemAddressForMdlSafe(irp->MdlAddress, NormalPagePriority);
    }
    if (dev->Flags & DO_BUFFERED_IO)
        return irp->MdlAddress || irp->UserBuffer ? NULL : irp->AssociatedIrp.SystemBuffer;
    return irp->MdlAddress || irp->AssociatedIrp.SystemBuffer ? NULL : irp->UserBuffer;
}

static NTSTATUS io_create(PDEVICE_OBJECT dev, PIRP irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    dev_ext *x = dev->DeviceExtension;
    PVOID ctx = NULL;
    if (sp->FileObject && sp->FileObject->DeviceObject == dev)
        g_checks |= IODRV_CHECK_CREATE_FO;
#if IODRV_BREAK == 4
    dev->DeviceType = FILE_DEVICE_NETWORK;
#endif
    if (NdisAllocateMemoryWithTag(&ctx, 16, 'vDoI') != NDIS_STATUS_SUCCESS)
        return complete(irp, STATUS_INSUFFICIENT_RESOURCES, 0);
    sp->FileObject->FsContext = ctx;
    InterlockedIncrement(&x->handles);
    return complete(irp, STATUS_SUCCESS, 0);
}

static NTSTATUS io_close(PDEVICE_OBJECT dev, PIRP irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    dev_ext *x = dev->DeviceExtension;
    if (sp->FileObject->FsContext)
        NdisFreeMemory(sp->FileObject->FsContext, 0, 0);
    sp->FileObject->FsContext = NULL;
    InterlockedDecrement(&x->handles);
    return complete(irp, STATUS_SUCCESS, 0);
}

static void io_cancel_read(PDEVICE_OBJECT dev, PIRP irp)
{
    dev_ext *x = dev->DeviceExtension;
    IoReleaseCancelSpinLock(irp->CancelIrql);
    NdisAcquireSpinLock(&x->lock);
    RemoveEntryList(&irp->Tail.Overlay.ListEntry);
    NdisReleaseSpinLock(&x->lock);
    complete(irp, STATUS_CANCELLED, 0);
}

static NTSTATUS io_read(PDEVICE_OBJECT dev, PIRP irp)
{
    dev_ext *x = dev->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    ULONG len = sp->Parameters.Read.Length;
    PUCHAR buf = irp_buffer(dev, irp, len);
    if (!buf)
        return complete(irp, STATUS_INVALID_PARAMETER, 0);
    NdisAcquireSpinLock(&x->lock);
    if (x->data_len) {
        ULONG n = x->data_len < len ? x->data_len : len;
        NdisMoveMemory(buf, x->data, n);
        x->data_len = 0;
        NdisReleaseSpinLock(&x->lock);
        return complete(irp, STATUS_SUCCESS, n);
    }
    IoMarkIrpPending(irp);
    IoSetCancelRoutine(irp, io_cancel_read);
    if (irp->Cancel && IoSetCancelRoutine(irp, NULL)) {
        NdisReleaseSpinLock(&x->lock);
        complete(irp, STATUS_CANCELLED, 0);
        return STATUS_PENDING;
    }
    InsertTailList(&x->reads, &irp->Tail.Overlay.ListEntry);
    NdisReleaseSpinLock(&x->lock);
    return STATUS_PENDING;
}

/* A pended read this driver now owns (its cancel routine taken back), or
 * NULL. file: only that handle's (cleanup), or NULL for any. */
static PIRP take_read(dev_ext *x, PFILE_OBJECT file)
{
    PIRP found = NULL;
    NdisAcquireSpinLock(&x->lock);
    for (PLIST_ENTRY e = x->reads.Flink; e != &x->reads && !found; e = e->Flink) {
        PIRP irp = CONTAINING_RECORD(e, IRP, Tail.Overlay.ListEntry);
        if (file && IoGetCurrentIrpStackLocation(irp)->FileObject != file)
            continue;
#if IODRV_BREAK == 3
        found = irp;
#else
        if (IoSetCancelRoutine(irp, NULL) == NULL)
            continue; /* its cancel routine runs: it removes and completes it */
        found = irp;
#endif
        RemoveEntryList(e);
    }
    NdisReleaseSpinLock(&x->lock);
    return found;
}

static NTSTATUS io_write(PDEVICE_OBJECT dev, PIRP irp)
{
    dev_ext *x = dev->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    ULONG len = sp->Parameters.Write.Length;
    PUCHAR buf = irp_buffer(dev, irp, len);
    if (!buf || len > sizeof(x->data))
        return complete(irp, STATUS_INVALID_PARAMETER, 0);
    PIRP rd = take_read(x, NULL);
    if (rd) {
        ULONG rlen = IoGetCurrentIrpStackLocation(rd)->Parameters.Read.Length;
        ULONG n = len < rlen ? len : rlen;
        NdisMoveMemory(irp_buffer(dev, rd, rlen), buf, n);
        complete(rd, STATUS_SUCCESS, n);
    } else {
        NdisAcquireSpinLock(&x->lock);
        NdisMoveMemory(x->data, buf, len);
        x->data_len = len;
        NdisReleaseSpinLock(&x->lock);
    }
    return complete(irp, STATUS_SUCCESS, len);
}

static NTSTATUS io_cleanup(PDEVICE_OBJECT dev, PIRP irp)
{
    dev_ext *x = dev->DeviceExtension;
    PFILE_OBJECT file = IoGetCurrentIrpStackLocation(irp)->FileObject;
    for (PIRP rd; (rd = take_read(x, file)) != NULL;)
        complete(rd, STATUS_CANCELLED, 0);
    return complete(irp, STATUS_SUCCESS, 0);
}

/* METHOD_IN_DIRECT, METHOD_OUT_DIRECT, METHOD_NEITHER: see iodrv.h. */
static NTSTATUS io_ioctl_method(PIRP irp, PIO_STACK_LOCATION sp)
{
    ULONG code = sp->Parameters.DeviceIoControl.IoControlCode;
    ULONG in_len = sp->Parameters.DeviceIoControl.InputBufferLength;
    ULONG out_len = sp->Parameters.DeviceIoControl.OutputBufferLength;
    PUCHAR in, out;
    if (code == IODRV_IOCTL_NEITHER) {
        in = sp->Parameters.DeviceIoControl.Type3InputBuffer;
        out = irp->UserBuffer;
        if (irp->AssociatedIrp.SystemBuffer || irp->MdlAddress)
            return complete(irp, STATUS_INVALID_PARAMETER, 0);
    } else {
        in = irp->AssociatedIrp.SystemBuffer;
        if (!irp->MdlAddress || irp->UserBuffer || MmGetMdlByteCount(irp->MdlAddress) != out_len)
            return complete(irp, STATUS_INVALID_PARAMETER, 0);
        out = MmGetSystemAddressForMdlSafe(irp->MdlAddress, NormalPagePriority);
    }
    if (!in || !out || in_len == 0 || in_len > out_len || in_len > 64)
        return complete(irp, STATUS_INVALID_PARAMETER, 0);
    if (code == IODRV_IOCTL_IN_DIRECT && !NdisEqualMemory(in, out, in_len))
        return complete(irp, STATUS_INVALID_PARAMETER, 0);
    UCHAR tmp[64];
    for (ULONG i = 0; i < in_len; i++)
        tmp[i] = in[in_len - 1 - i];
    NdisMoveMemory(out, tmp, in_len);
    return complete(irp, STATUS_SUCCESS, in_len);
}

static NTSTATUS io_ioctl(PDEVICE_OBJECT dev, PIRP irp)
{
    dev_ext *x = dev->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    ULONG code = sp->Parameters.DeviceIoControl.IoControlCode;
    if (code == IODRV_IOCTL_IN_DIRECT || code == IODRV_IOCTL_OUT_DIRECT ||
        code == IODRV_IOCTL_NEITHER)
        return io_ioctl_method(irp, sp);
    if (code != IODRV_IOCTL_CHECKS ||
        sp->Parameters.DeviceIoControl.OutputBufferLength < 2 * sizeof(ULONG))
        return complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    ULONG *out = irp->AssociatedIrp.SystemBuffer;
    out[0] = g_checks;
    out[1] = (ULONG)x->handles;
    return complete(irp, STATUS_SUCCESS, 2 * sizeof(ULONG));
}

static void io_unload(PDRIVER_OBJECT DriverObject)
{
    UNICODE_STRING link = WSTRING("\\DosDevices\\" IODRV_LINK);
    (void)DriverObject;
    IoDeleteSymbolicLink(&link);
    for (int i = 0; i < DEV_COUNT; i++) {
        if (!g_dev[i])
            continue;
        dev_ext *x = g_dev[i]->DeviceExtension;
        NdisFreeSpinLock(&x->lock);
#if IODRV_BREAK == 1
        if (i == DEV_NEITHER)
            continue;
#endif
        IoDeleteDevice(g_dev[i]);
        g_dev[i] = NULL;
    }
}

static NTSTATUS make_device(PDRIVER_OBJECT drv, int kind, PUNICODE_STRING name, BOOLEAN exclusive)
{
    PDEVICE_OBJECT dev = NULL;
    NTSTATUS st = IoCreateDevice(drv, sizeof(dev_ext), name, FILE_DEVICE_UNKNOWN,
                                 FILE_DEVICE_SECURE_OPEN, exclusive, &dev);
    if (!NT_SUCCESS(st))
        return st;
    dev_ext *x = dev->DeviceExtension;
    NdisZeroMemory(x, sizeof(*x));
    x->kind = kind;
    NdisAllocateSpinLock(&x->lock);
    InitializeListHead(&x->reads);
    if (kind == DEV_DIRECT || kind == DEV_EXCLUSIVE)
        dev->Flags |= DO_DIRECT_IO;
    else if (kind == DEV_BUFFERED)
        dev->Flags |= DO_BUFFERED_IO;
    if (kind == DEV_DIRECT && dev->Type == 3 && dev->DriverObject == drv &&
        drv->DeviceObject == dev && dev->DeviceExtension == (PVOID)(dev + 1) &&
        (dev->Flags & DO_DEVICE_INITIALIZING) && dev->DeviceType == FILE_DEVICE_UNKNOWN &&
        dev->Characteristics == FILE_DEVICE_SECURE_OPEN)
        g_checks |= IODRV_CHECK_LAYOUT;
    g_dev[kind] = dev;
    return STATUS_SUCCESS;
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING direct = WSTRING(IODRV_DIRECT);
    UNICODE_STRING buffered = WSTRING(IODRV_BUFFERED);
    UNICODE_STRING neither = WSTRING(IODRV_NEITHER);
    UNICODE_STRING exclusive = WSTRING(IODRV_EXCLUSIVE);
    UNICODE_STRING link = WSTRING("\\DosDevices\\" IODRV_LINK);
    UNICODE_STRING nolink = NDIS_STRING_CONST("\\DosDevices\\IoDrvNothing");
    UNICODE_STRING nodev = NDIS_STRING_CONST("\\Device\\IoDrvNothing");
    UNICODE_STRING u;
    (void)RegistryPath;
    NTSTATUS st = make_device(DriverObject, DEV_DIRECT, &direct, FALSE);
    if (NT_SUCCESS(st))
        st = make_device(DriverObject, DEV_BUFFERED, &buffered, FALSE);
    if (NT_SUCCESS(st))
        st = make_device(DriverObject, DEV_NEITHER, &neither, FALSE);
    if (NT_SUCCESS(st))
        st = make_device(DriverObject, DEV_EXCLUSIVE, &exclusive, TRUE);
    if (NT_SUCCESS(st))
        st = IoCreateSymbolicLink(&link, &direct);
    if (!NT_SUCCESS(st)) {
        io_unload(DriverObject);
        return st;
    }
    PDEVICE_OBJECT again = NULL;
    if (IoCreateDevice(DriverObject, 0, &direct, FILE_DEVICE_UNKNOWN, 0, FALSE, &again) ==
        STATUS_OBJECT_NAME_COLLISION)
        g_checks |= IODRV_CHECK_COLLISION;
    if (IoCreateSymbolicLink(&nolink, &nodev) == STATUS_OBJECT_NAME_NOT_FOUND)
        g_checks |= IODRV_CHECK_LINK_NOTARGET;
    if (IoDeleteSymbolicLink(&nolink) == STATUS_OBJECT_NAME_NOT_FOUND)
        g_checks |= IODRV_CHECK_UNLINK_MISSING;
    RtlInitUnicodeString(&u, (PCWSTR)u"abc");
    if (u.Length == 6 && u.MaximumLength == 8 && u.Buffer && u.Buffer[0] == 'a')
        g_checks |= IODRV_CHECK_INITSTRING;
    {
        static NDIS_RW_LOCK rw;
        LOCK_STATE a, b;
        NdisInitializeReadWriteLock(&rw);
        NdisAcquireReadWriteLock(&rw, FALSE, &a);
        KIRQL held = KeGetCurrentIrql();
#if IODRV_BREAK == 5
        NdisAcquireReadWriteLock(&rw, TRUE, &b);
#endif
        NdisReleaseReadWriteLock(&rw, &a);
        KIRQL after = KeGetCurrentIrql();
        NdisAcquireReadWriteLock(&rw, TRUE, &b);
        KIRQL wheld = KeGetCurrentIrql();
        NdisReleaseReadWriteLock(&rw, &b);
        if (held == DISPATCH_LEVEL && wheld == DISPATCH_LEVEL && after == PASSIVE_LEVEL &&
            KeGetCurrentIrql() == PASSIVE_LEVEL)
            g_checks |= IODRV_CHECK_RWLOCK;
    }
    {
        static KMUTEX mu;
        LARGE_INTEGER zero = { .QuadPart = 0 };
        NDIS_INIT_MUTEX(&mu);
        NTSTATUS a = NDIS_WAIT_FOR_MUTEX(&mu);
        NTSTATUS b = KeWaitForSingleObject(&mu, Executive, KernelMode, FALSE, &zero);
        LONG r1 = KeReleaseMutex(&mu, FALSE);
        LONG r2 = KeReleaseMutex(&mu, FALSE);
#if IODRV_BREAK == 6
        NDIS_RELEASE_MUTEX(&mu);
#endif
        if (a == STATUS_SUCCESS && b == STATUS_SUCCESS && r1 == 2 && r2 == 1)
            g_checks |= IODRV_CHECK_KMUTEX;
    }
    KeEnterCriticalRegion();
    KeLeaveCriticalRegion();
#if IODRV_BREAK == 2
    KeLeaveCriticalRegion();
#endif
    for (int i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        DriverObject->MajorFunction[i] = NULL;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = io_create;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = io_close;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = io_cleanup;
    DriverObject->MajorFunction[IRP_MJ_READ] = io_read;
    DriverObject->MajorFunction[IRP_MJ_WRITE] = io_write;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = io_ioctl;
    DriverObject->DriverUnload = io_unload;
    return STATUS_SUCCESS;
}
