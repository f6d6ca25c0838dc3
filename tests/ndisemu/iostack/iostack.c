/*
 * iostack.c - see iostack.h. IOSTACK_BREAK selects one deliberate contract
 * violation (codes 160-165, docs/ndisemu.md):
 * 160 = the upper device sets its StackSize back to 1 after attaching: the
 *       IRPs it forwards have no location left (NoMoreIrpStackLocations);
 * 161 = RELEASE skips the upper location twice (IrpStackLocationSkip);
 * 162 = ECHO's completion routine returns STATUS_PENDING
 *       (CompletionRoutineStatus);
 * 163 = unload detaches twice (DetachNotAttached);
 * 164 = DriverEntry attaches the upper device a second time
 *       (AttachAttachedDevice);
 * 165 = unload deletes the upper device without detaching it
 *       (DeleteAttachedDevice);
 * 166 = the lower device marks ECHO pending, completes it and returns
 *       STATUS_SUCCESS (MarkIrpPending);
 * 167 = the lower device pends PEND without IoMarkIrpPending
 *       (MarkIrpPending2);
 * 168 = PEND's completion routine does not carry the pending mark up
 *       (CompletionPendingNotMarked).
 */
#include <ndis.h>
#include <wdmsec.h>

#include "iostack.h"

#ifndef IOSTACK_BREAK
#define IOSTACK_BREAK 0
#endif

#define WSTRING(x) NDIS_STRING_CONST(x)

enum { DEV_LOWER = 1, DEV_UPPER, DEV_SECURE };

typedef struct dev_ext {
    int kind;
    PDEVICE_OBJECT lower; /* upper: the device below (IoAttachDeviceToDeviceStack's answer) */
} dev_ext;

static PDEVICE_OBJECT g_lower, g_upper, g_secure;
static PIRP g_pended; /* the lower device's pended IRP (one at a time) */
static iostack_stats g_stats;
static DRIVER_DISPATCH st_dispatch;
static DRIVER_UNLOAD st_unload;
static IO_COMPLETION_ROUTINE on_echo, on_sync, on_pend;
NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);

static NTSTATUS complete(PIRP irp, NTSTATUS st, ULONG_PTR info)
{
    irp->IoStatus.Status = st;
    irp->IoStatus.Information = info;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return st;
}

static NTSTATUS lower_dispatch(PDEVICE_OBJECT dev, PIRP irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    g_stats.lower_irps++;
    if (sp->DeviceObject == dev && irp->CurrentLocation == 1 && irp->StackCount == 2)
        g_stats.checks |= IOSTACK_CHECK_LOWER_LOC;
    if (sp->MajorFunction != IRP_MJ_DEVICE_CONTROL)
        return complete(irp, STATUS_SUCCESS, 0);
    ULONG code = sp->Parameters.DeviceIoControl.IoControlCode;
    ULONG in = sp->Parameters.DeviceIoControl.InputBufferLength;
    ULONG out = sp->Parameters.DeviceIoControl.OutputBufferLength;
    PUCHAR buf = irp->AssociatedIrp.SystemBuffer;
    if (code == IOSTACK_IOCTL_ECHO || code == IOSTACK_IOCTL_SYNC) {
        UCHAR tmp[64];
#if IOSTACK_BREAK == 166
        IoMarkIrpPending(irp);
#endif
        ULONG n = in < out ? in : out;
        if (n > sizeof(tmp))
            return complete(irp, STATUS_INVALID_PARAMETER, 0);
        NdisMoveMemory(tmp, buf, n);
        for (ULONG i = 0; i < n; i++)
            buf[i] = tmp[n - 1 - i];
        return complete(irp, STATUS_SUCCESS, n);
    }
    if (code == IOSTACK_IOCTL_PEND) {
        if (g_pended)
            return complete(irp, STATUS_DEVICE_BUSY, 0);
#if IOSTACK_BREAK != 167
        IoMarkIrpPending(irp);
#endif
        g_pended = irp;
        return STATUS_PENDING;
    }
    if (code == IOSTACK_IOCTL_RELEASE) {
        PIRP p = g_pended;
        g_pended = NULL;
        if (p) {
            PUCHAR pb = p->AssociatedIrp.SystemBuffer;
            ULONG pout =
                IoGetCurrentIrpStackLocation(p)->Parameters.DeviceIoControl.OutputBufferLength;
            if (pout >= 4)
                NdisMoveMemory(pb, "done", 4);
            complete(p, STATUS_SUCCESS, pout >= 4 ? 4 : 0);
        }
        return complete(irp, p ? STATUS_SUCCESS : STATUS_INVALID_DEVICE_STATE, 0);
    }
    return complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
}

static NTSTATUS on_echo(PDEVICE_OBJECT dev, PIRP irp, PVOID ctx)
{
    (void)ctx;
    g_stats.completions++;
    if (dev == g_upper)
        g_stats.checks |= IOSTACK_CHECK_COMPLETION_DO;
    if (irp->PendingReturned)
        IoMarkIrpPending(irp);
#if IOSTACK_BREAK == 162
    return STATUS_PENDING;
#else
    return STATUS_CONTINUE_COMPLETION;
#endif
}

static NTSTATUS on_sync(PDEVICE_OBJECT dev, PIRP irp, PVOID ctx)
{
    (void)dev;
    (void)irp;
    g_stats.completions++;
    *(BOOLEAN *)ctx = TRUE;
    return STATUS_MORE_PROCESSING_REQUIRED; /* the dispatch routine finishes it */
}

static NTSTATUS on_pend(PDEVICE_OBJECT dev, PIRP irp, PVOID ctx)
{
    (void)dev;
    (void)ctx;
    g_stats.completions++;
    if (irp->PendingReturned) {
        g_stats.checks |= IOSTACK_CHECK_PENDING;
#if IOSTACK_BREAK != 168
        IoMarkIrpPending(irp);
#endif
    }
    return STATUS_CONTINUE_COMPLETION;
}

static NTSTATUS upper_dispatch(PDEVICE_OBJECT dev, PIRP irp)
{
    dev_ext *x = dev->DeviceExtension;
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    g_stats.upper_irps++;
    ULONG code = sp->MajorFunction == IRP_MJ_DEVICE_CONTROL
                     ? sp->Parameters.DeviceIoControl.IoControlCode
                     : 0;
    if (code == IOSTACK_IOCTL_STATS) {
        if (sp->Parameters.DeviceIoControl.OutputBufferLength < sizeof(g_stats))
            return complete(irp, STATUS_BUFFER_TOO_SMALL, 0);
        NdisMoveMemory(irp->AssociatedIrp.SystemBuffer, &g_stats, sizeof(g_stats));
        return complete(irp, STATUS_SUCCESS, sizeof(g_stats));
    }
    if (code == IOSTACK_IOCTL_ECHO || code == IOSTACK_IOCTL_PEND) {
        IoCopyCurrentIrpStackLocationToNext(irp);
        IoSetCompletionRoutine(irp, code == IOSTACK_IOCTL_ECHO ? on_echo : on_pend, NULL, TRUE,
                               TRUE, TRUE);
        return IoCallDriver(x->lower, irp);
    }
    if (code == IOSTACK_IOCTL_SYNC) {
        BOOLEAN back = FALSE;
        IoCopyCurrentIrpStackLocationToNext(irp);
        if (IoSetCompletionRoutineEx(dev, irp, on_sync, &back, TRUE, TRUE, TRUE) != STATUS_SUCCESS)
            return complete(irp, STATUS_INSUFFICIENT_RESOURCES, 0);
        NTSTATUS st = IoCallDriver(x->lower, irp);
        if (st == STATUS_PENDING || !back)
            return complete(irp, STATUS_INVALID_DEVICE_STATE,
                            0); /* the lower one answers at once */
        if (NT_SUCCESS(irp->IoStatus.Status) && irp->IoStatus.Information)
            ((PUCHAR)irp->AssociatedIrp.SystemBuffer)[0] = 'U';
        st = irp->IoStatus.Status;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
        return st;
    }
    IoSkipCurrentIrpStackLocation(irp);
#if IOSTACK_BREAK == 161
    if (code == IOSTACK_IOCTL_RELEASE)
        IoSkipCurrentIrpStackLocation(irp);
#endif
    return IoCallDriver(x->lower, irp);
}

static NTSTATUS st_dispatch(PDEVICE_OBJECT dev, PIRP irp)
{
    dev_ext *x = dev->DeviceExtension;
    if (x->kind == DEV_UPPER)
        return upper_dispatch(dev, irp);
    if (x->kind == DEV_LOWER)
        return lower_dispatch(dev, irp);
    return complete(irp, STATUS_SUCCESS, 0); /* the secure device: opens and closes */
}

static void st_unload(PDRIVER_OBJECT DriverObject)
{
    (void)DriverObject;
    if (g_upper) {
#if IOSTACK_BREAK != 165
        IoDetachDevice(g_lower);
#endif
#if IOSTACK_BREAK == 163
        IoDetachDevice(g_lower);
#endif
        IoDeleteDevice(g_upper);
    }
    if (g_lower)
        IoDeleteDevice(g_lower);
    if (g_secure)
        IoDeleteDevice(g_secure);
    g_upper = g_lower = g_secure = NULL;
}

static NTSTATUS make(PDRIVER_OBJECT drv, int kind, PUNICODE_STRING name, PDEVICE_OBJECT *out)
{
    NTSTATUS st = IoCreateDevice(drv, sizeof(dev_ext), name, FILE_DEVICE_UNKNOWN, 0, FALSE, out);
    if (!NT_SUCCESS(st))
        return st;
    dev_ext *x = (*out)->DeviceExtension;
    x->kind = kind;
    (*out)->Flags |= DO_BUFFERED_IO;
    return STATUS_SUCCESS;
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNICODE_STRING lower = WSTRING(IOSTACK_LOWER);
    UNICODE_STRING secure = WSTRING(IOSTACK_SECURE);
    UNICODE_STRING sddl = WSTRING(IOSTACK_SDDL);
    UNICODE_STRING empty = { 0, 0, NULL };
    (void)RegistryPath;
    g_stats.checks = 0;
    NTSTATUS st = make(DriverObject, DEV_LOWER, &lower, &g_lower);
    if (NT_SUCCESS(st))
        st = make(DriverObject, DEV_UPPER, NULL, &g_upper);
    if (NT_SUCCESS(st)) {
        PDEVICE_OBJECT below = IoAttachDeviceToDeviceStack(g_upper, g_lower);
        if (!below)
            st = STATUS_UNSUCCESSFUL;
        else {
            ((dev_ext *)g_upper->DeviceExtension)->lower = below;
            if (below == g_lower)
                g_stats.checks |= IOSTACK_CHECK_ATTACH_RETURN;
            if (g_upper->StackSize == g_lower->StackSize + 1 && g_upper->StackSize == 2)
                g_stats.checks |= IOSTACK_CHECK_STACKSIZE;
            if (g_lower->AttachedDevice == g_upper)
                g_stats.checks |= IOSTACK_CHECK_ATTACHED;
#if IOSTACK_BREAK == 160
            g_upper->StackSize = 1;
#endif
        }
    }
    if (NT_SUCCESS(st)) {
        PDEVICE_OBJECT none = NULL;
        if (IoCreateDeviceSecure(DriverObject, sizeof(dev_ext), &secure, FILE_DEVICE_UNKNOWN, 0,
                                 FALSE, &empty, NULL, &none) == STATUS_INVALID_PARAMETER &&
            !none)
            g_stats.checks |= IOSTACK_CHECK_SECURE;
        st = IoCreateDeviceSecure(DriverObject, sizeof(dev_ext), &secure, FILE_DEVICE_UNKNOWN, 0,
                                  FALSE, &sddl, NULL, &g_secure);
        if (NT_SUCCESS(st))
            ((dev_ext *)g_secure->DeviceExtension)->kind = DEV_SECURE;
    }
#if IOSTACK_BREAK == 164
    if (NT_SUCCESS(st))
        IoAttachDeviceToDeviceStack(g_upper, g_secure);
#endif
    if (!NT_SUCCESS(st)) {
        st_unload(DriverObject);
        return st;
    }
    for (int i = 0; i <= IRP_MJ_MAXIMUM_FUNCTION; i++)
        DriverObject->MajorFunction[i] = NULL;
    DriverObject->MajorFunction[IRP_MJ_CREATE] = st_dispatch;
    DriverObject->MajorFunction[IRP_MJ_CLOSE] = st_dispatch;
    DriverObject->MajorFunction[IRP_MJ_CLEANUP] = st_dispatch;
    DriverObject->MajorFunction[IRP_MJ_DEVICE_CONTROL] = st_dispatch;
    DriverObject->DriverUnload = st_unload;
    return STATUS_SUCCESS;
}
