/*
 * iostack.c - device stacks: IRPs passed from driver to driver with
 * IoCallDriver, one IO_STACK_LOCATION each, and completed back up through
 * the completion routines (IoSetCompletionRoutine[Ex]); devices attached
 * over others (IoAttachDeviceToDeviceStack, IoDetachDevice), so an open of
 * the lower device's name reaches the top of its stack first; and
 * IoCreateDeviceSecure (its SDDL string checked at every open, as
 * NdisRegisterDeviceEx's DefaultSDDLString is).
 *
 * The I/O manager's bookkeeping, from the WDK's documentation: an IRP has
 * StackCount locations, the first driver's the highest; CurrentLocation
 * counts down by one per IoCallDriver and up by one per location its
 * completion passes. What drivers do with the inline helpers
 * (IoSkipCurrentIrpStackLocation, IoCopyCurrentIrpStackLocationToNext,
 * IoSetCompletionRoutine) shows in CurrentLocation and the locations; the
 * verifier checks it where the I/O manager sees the IRP: IoCallDriver and
 * IoCompleteRequest (docs/ndisemu.md, "The I/O manager").
 */
#include "irp.h"

#include <strings.h>

#include <wdmsec.h>

DEVICE_OBJECT *emu_io_top(DEVICE_OBJECT *dev)
{
    for (unsigned n = 0; dev && dev->AttachedDevice && n < 64; n++)
        dev = dev->AttachedDevice;
    return dev;
}

emu_driver *emu_io_driver_of_device(emu_runtime *rt, const DEVICE_OBJECT *dev)
{
    emu_ctldev *d = dev ? emu_ctldev_of(rt, dev) : NULL;
    return d ? d->obj.drv : NULL;
}

static bool guard_clean(const emu_irp *e)
{
    static const IO_STACK_LOCATION zero;
    return memcmp(&e->guard, &zero, sizeof(zero)) == 0;
}

/* The IRP as a driver hands it back: one of ndisemu's, its location within
 * the stack, nothing written below location 1. */
static emu_irp *irp_check(emu_runtime *rt, PIRP Irp, const char *call, bool calling)
{
    emu_irp *e = Irp ? CONTAINING_RECORD(Irp, emu_irp, irp) : NULL;
    if (!e || e->magic != EMU_IRP_MAGIC) {
        emu_violate(rt, "HandleAfterClose", call, "%p is not an IRP the I/O manager allocated",
                    (void *)Irp);
        return NULL;
    }
    if (!guard_clean(e) || Irp->CurrentLocation < (calling ? 2 : 1)) {
        /* bug check 0x35, NO_MORE_IRP_STACK_LOCATIONS */
        emu_violate(rt, "NoMoreIrpStackLocations", call,
                    "IRP %p has no stack location left for the next driver (StackCount %d, "
                    "CurrentLocation %d%s): the target device's StackSize was not counted",
                    (void *)Irp, Irp->StackCount, Irp->CurrentLocation,
                    guard_clean(e) ? "" : ", a location below the lowest was written");
        return NULL;
    }
    if (Irp->CurrentLocation > Irp->StackCount + 1 ||
        Irp->Tail.Overlay.CurrentStackLocation != &e->stack[Irp->CurrentLocation - 1]) {
        emu_violate(rt, "IrpStackLocationSkip", call,
                    "IRP %p: CurrentLocation %d of StackCount %d: the driver skipped past its own "
                    "stack location (IoSkipCurrentIrpStackLocation needs CurrentLocation <= "
                    "StackCount) or moved the stack pointer by hand",
                    (void *)Irp, Irp->CurrentLocation, Irp->StackCount);
        return NULL;
    }
    return e;
}

NTSTATUS IofCallDriver(PDEVICE_OBJECT DeviceObject, PIRP Irp)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("IoCallDriver", "dev=%p irp=%p", (void *)DeviceObject, (void *)Irp))
        return STATUS_UNSUCCESSFUL;
    emu_irp *e = irp_check(rt, Irp, "IoCallDriver", true);
    if (!e)
        return STATUS_INVALID_PARAMETER;
    if (!emu_ctldev_of(rt, DeviceObject)) {
        emu_violate(rt, "HandleAfterClose", "IoCallDriver", "%p is not a device object",
                    (void *)DeviceObject);
        return STATUS_INVALID_PARAMETER;
    }
    if (e->depth < ARRAYSIZE(e->passed))
        e->passed[e->depth] = true; /* the dispatch routine running passed it down */
    /* IoSetNextIrpStackLocation, then the target's location names it. */
    Irp->CurrentLocation--;
    Irp->Tail.Overlay.CurrentStackLocation--;
    Irp->Tail.Overlay.CurrentStackLocation->DeviceObject = DeviceObject;
    return emu_io_dispatch(rt, e, emu_self()->irql);
}

NTSTATUS IoSetCompletionRoutineEx(PDEVICE_OBJECT DeviceObject, PIRP Irp,
                                  PIO_COMPLETION_ROUTINE CompletionRoutine, PVOID Context,
                                  BOOLEAN InvokeOnSuccess, BOOLEAN InvokeOnError,
                                  BOOLEAN InvokeOnCancel)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("IoSetCompletionRoutineEx", "irp=%p", (void *)Irp))
        return STATUS_UNSUCCESSFUL;
    if (!emu_ctldev_of(rt, DeviceObject) || !CompletionRoutine)
        return STATUS_INVALID_PARAMETER;
    /* Windows wraps the routine so that its driver cannot unload before it
     * ran; ndisemu's unload already waits for the driver's IRPs. */
    IoSetCompletionRoutine(Irp, CompletionRoutine, Context, InvokeOnSuccess, InvokeOnError,
                           InvokeOnCancel);
    return STATUS_SUCCESS;
}

bool emu_io_complete_stack(emu_runtime *rt, emu_irp *e)
{
    IRP *irp = &e->irp;
    if (!irp_check(rt, irp, "IoCompleteRequest", false))
        return false;
    while (irp->CurrentLocation <= irp->StackCount) {
        IO_STACK_LOCATION *sp = irp->Tail.Overlay.CurrentStackLocation;
        PIO_COMPLETION_ROUTINE fn = (PIO_COMPLETION_ROUTINE)sp->CompletionRoutine;
        PVOID ctx = sp->Context;
        UCHAR control = sp->Control;
        irp->PendingReturned = (control & SL_PENDING_RETURNED) != 0;
        if (irp->PendingReturned && irp->CurrentLocation >= 1)
            e->marked[(int)irp->CurrentLocation] = true;
        /* the location is done with: cleared as the I/O manager does */
        sp->CompletionRoutine = NULL;
        sp->Context = NULL;
        sp->Control = 0;
        irp->CurrentLocation++;
        irp->Tail.Overlay.CurrentStackLocation++;
        NTSTATUS st = irp->IoStatus.Status;
        bool call = fn && ((NT_SUCCESS(st) && (control & SL_INVOKE_ON_SUCCESS)) ||
                           (!NT_SUCCESS(st) && (control & SL_INVOKE_ON_ERROR)) ||
                           (irp->Cancel && (control & SL_INVOKE_ON_CANCEL)));
        bool inside = irp->CurrentLocation <= irp->StackCount;
        if (!call) {
            /* a driver without a routine: the pending mark goes up with it */
            if (inside && irp->PendingReturned)
                IoMarkIrpPending(irp);
            continue;
        }
        /* The routine runs for the driver that set it, with its device: the
         * location above (none when the first driver set it). */
        PDEVICE_OBJECT dev = inside ? irp->Tail.Overlay.CurrentStackLocation->DeviceObject : NULL;
        emu_driver *drv = emu_io_driver_of_device(rt, dev);
        emu_cb_scope s;
        emu_cb_begin(&s, "IoCompletion", drv ? drv : e->drv, NULL, emu_self()->irql);
        NTSTATUS r = fn(dev, irp, ctx);
        emu_cb_end(&s);
        if (r == STATUS_MORE_PROCESSING_REQUIRED)
            return false; /* the driver owns the IRP again */
        if (r != STATUS_CONTINUE_COMPLETION) {
            emu_violate(rt, "CompletionRoutineStatus", "IoCompletion",
                        "a completion routine of IRP %p returned %#x: it must return "
                        "STATUS_MORE_PROCESSING_REQUIRED or STATUS_CONTINUE_COMPLETION",
                        (void *)irp, (unsigned)r);
            return false;
        }
        if (irp->PendingReturned && inside &&
            !(irp->Tail.Overlay.CurrentStackLocation->Control & SL_PENDING_RETURNED)) {
            emu_violate(rt, "CompletionPendingNotMarked", "IoCompletion",
                        "IRP %p came back with PendingReturned and its completion routine "
                        "continued the completion without IoMarkIrpPending",
                        (void *)irp);
            return false;
        }
    }
    return true;
}

PDEVICE_OBJECT IoAttachDeviceToDeviceStack(PDEVICE_OBJECT SourceDevice, PDEVICE_OBJECT TargetDevice)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("IoAttachDeviceToDeviceStack", "src=%p target=%p", (void *)SourceDevice,
                   (void *)TargetDevice))
        return NULL;
    emu_ctldev *src = emu_ctldev_of(rt, SourceDevice);
    emu_ctldev *tgt = emu_ctldev_of(rt, TargetDevice);
    if (!src || !tgt || emu_obj_dead(&src->obj) || SourceDevice == TargetDevice) {
        emu_violate(rt, "HandleAfterClose", "IoAttachDeviceToDeviceStack",
                    "%p or %p is not a live device object (or both are the same)",
                    (void *)SourceDevice, (void *)TargetDevice);
        return NULL;
    }
    if (src->attached_to || SourceDevice->AttachedDevice) {
        emu_violate(rt, "AttachAttachedDevice", "IoAttachDeviceToDeviceStack",
                    "%s is already in a device stack: a device object is attached once", src->name);
        return NULL;
    }
    emu_lock(rt);
    DEVICE_OBJECT *top = emu_io_top(TargetDevice);
    emu_ctldev *td = NULL;
    for (emu_ctldev *d = rt->ctldevs; d; d = d->next)
        if (d->devobj == top)
            td = d;
    if (!td || emu_obj_dead(&td->obj)) {
        emu_unlock(rt);
        return NULL; /* being deleted: nothing to attach to */
    }
    top->AttachedDevice = SourceDevice;
    src->attached_to = top;
    SourceDevice->StackSize = (CCHAR)(top->StackSize + 1);
    SourceDevice->AlignmentRequirement = top->AlignmentRequirement;
    SourceDevice->SectorSize = top->SectorSize;
    emu_ctldev_resync(td);
    emu_ctldev_resync(src);
    emu_unlock(rt);
    return top;
}

void IoDetachDevice(PDEVICE_OBJECT TargetDevice)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("IoDetachDevice", "target=%p", (void *)TargetDevice))
        return;
    emu_ctldev *tgt = emu_ctldev_of(rt, TargetDevice);
    if (!tgt) {
        emu_violate(rt, "HandleAfterClose", "IoDetachDevice", "%p is not a device object",
                    (void *)TargetDevice);
        return;
    }
    emu_ctldev *src =
        TargetDevice->AttachedDevice ? emu_ctldev_of(rt, TargetDevice->AttachedDevice) : NULL;
    if (!src || src->attached_to != TargetDevice) {
        emu_violate(rt, "DetachNotAttached", "IoDetachDevice",
                    "nothing is attached to %s: IoDetachDevice takes the device "
                    "IoAttachDeviceToDeviceStack returned",
                    tgt->name);
        return;
    }
    emu_lock(rt);
    TargetDevice->AttachedDevice = NULL;
    src->attached_to = NULL;
    emu_ctldev_resync(tgt);
    emu_unlock(rt);
}

NTSTATUS WdmlibIoCreateDeviceSecure(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize,
                                    PUNICODE_STRING DeviceName, DEVICE_TYPE DeviceType,
                                    ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                                    PCUNICODE_STRING DefaultSDDLString, LPCGUID DeviceClassGuid,
                                    PDEVICE_OBJECT *DeviceObject)
{
    emu_runtime *rt = emu_rt;
    (void)DeviceClassGuid; /* the class's registry override: none in ndisemu */
    if (!emu_enter("IoCreateDeviceSecure", "-"))
        return STATUS_UNSUCCESSFUL;
    /* "only creates named device objects"; the SDDL string is required */
    if (!DeviceName || !DeviceName->Length || !DefaultSDDLString || !DefaultSDDLString->Length)
        return STATUS_INVALID_PARAMETER;
    char sddl[EMU_NAME_MAX * 2];
    bool truncated = DefaultSDDLString->Length / 2 >= sizeof(sddl);
    emu_wstr_to_ascii(DefaultSDDLString, sddl, sizeof(sddl));
    if (strncasecmp(sddl, "D:", 2) != 0)
        return STATUS_INVALID_PARAMETER; /* the device SDDL subset starts with its DACL */
    NTSTATUS st = IoCreateDevice(DriverObject, DeviceExtensionSize, DeviceName, DeviceType,
                                 DeviceCharacteristics, Exclusive, DeviceObject);
    if (!NT_SUCCESS(st))
        return st;
    emu_ctldev *d = emu_ctldev_of(rt, *DeviceObject);
    emu_lock(rt);
    snprintf(d->sddl, sizeof(d->sddl), "%s", sddl);
    d->sddl_truncated = truncated;
    emu_unlock(rt);
    return STATUS_SUCCESS;
}

void emu_io_check_pending(emu_runtime *rt, emu_irp *e, CHAR loc, unsigned depth, NTSTATUS st)
{
    if (loc < 1 || loc > EMU_IRP_MAX_STACK)
        return;
    /* marked: the location carries the bit now, or carried it when the
     * completion passed it (and cleared it) */
    bool marked = e->marked[(int)loc] || (e->stack[loc - 1].Control & SL_PENDING_RETURNED);
    bool passed = depth < ARRAYSIZE(e->passed) && e->passed[depth];
    if (st == STATUS_PENDING && !marked && !passed)
        emu_violate(rt, "MarkIrpPending2", "DriverDispatch",
                    "a dispatch routine returned STATUS_PENDING for IRP %p without "
                    "IoMarkIrpPending and without passing it down",
                    (void *)&e->irp);
    else if (st != STATUS_PENDING && marked)
        emu_violate(rt, "MarkIrpPending", "DriverDispatch",
                    "a dispatch routine marked IRP %p pending (IoMarkIrpPending) and returned "
                    "%#x, not STATUS_PENDING",
                    (void *)&e->irp, (unsigned)st);
}
