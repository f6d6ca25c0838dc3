/*
 * iomgr.c - the I/O manager calls of a driver that creates its own device
 * (a protocol such as Microsoft's ndisprot: IoCreateDevice in DriverEntry,
 * its dispatch routines in DriverObject->MajorFunction), symbolic links,
 * and the small kernel and NDIS calls such drivers make beside them.
 *
 * Device objects are shared with NdisRegisterDeviceEx's (ctldev.c: the
 * same emu_ctldev, the same handles, IRPs, cancellation and verifier
 * rules); an IoCreateDevice device differs in where its dispatch routines
 * come from, its DeviceExtension, Exclusive, DO_DEVICE_INITIALIZING and
 * the buffering its Flags select for READ and WRITE.
 */
#include "emu_internal.h"

#include <stdlib.h>
#include <strings.h>

static emu_driver *driver_of(PDRIVER_OBJECT DriverObject)
{
    if (!DriverObject)
        return NULL;
    emu_driver *drv = CONTAINING_RECORD(DriverObject, emu_driver, drvobj);
    return drv->magic == EMU_MAGIC ? drv : NULL;
}

/* rt->mu held. A live device object (or its symbolic link) by name. */
static emu_ctldev *find_named(emu_runtime *rt, const char *name, bool by_link)
{
    for (emu_ctldev *d = rt->ctldevs; d; d = d->next)
        if (!emu_obj_dead(&d->obj) && strcasecmp(by_link ? d->link : d->name, name) == 0)
            return d;
    return NULL;
}

NTSTATUS IoCreateDevice(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize,
                        PUNICODE_STRING DeviceName, DEVICE_TYPE DeviceType,
                        ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                        PDEVICE_OBJECT *DeviceObject)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("IoCreateDevice", "ext=%u type=%#x", DeviceExtensionSize, DeviceType))
        return STATUS_UNSUCCESSFUL;
    emu_driver *drv = driver_of(DriverObject);
    if (!drv || !DeviceObject) {
        emu_violate(rt, "HandleAfterClose", "IoCreateDevice",
                    "DriverObject %p is not the DRIVER_OBJECT DriverEntry received",
                    (void *)DriverObject);
        return STATUS_INVALID_PARAMETER;
    }
    char name[EMU_NAME_MAX] = "";
    if (DeviceName)
        emu_wstr_to_ascii(DeviceName, name, sizeof(name));
    emu_lock(rt);
    bool taken = name[0] && find_named(rt, name, false);
    emu_unlock(rt);
    if (taken)
        return STATUS_OBJECT_NAME_COLLISION;
    emu_ctldev *d = emu_ctldev_new(rt, drv, name, DeviceExtensionSize);
    if (!d)
        return STATUS_INSUFFICIENT_RESOURCES;
    emu_lock(rt);
    DEVICE_OBJECT *o = d->devobj;
    d->io_device = true;
    d->exclusive = Exclusive;
    o->DeviceType = DeviceType;
    o->Characteristics = DeviceCharacteristics;
    /* Cleared by the I/O manager when DriverEntry returns; a device made
     * later stays unopenable until the driver clears it. */
    o->Flags = DO_DEVICE_INITIALIZING | (Exclusive ? DO_EXCLUSIVE : 0);
    o->NextDevice = DriverObject->DeviceObject;
    DriverObject->DeviceObject = o;
    emu_ctldev_resync(d);
    emu_unlock(rt);
    *DeviceObject = o;
    return STATUS_SUCCESS;
}

void IoDeleteDevice(PDEVICE_OBJECT DeviceObject)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("IoDeleteDevice", "dev=%p", (void *)DeviceObject))
        return;
    emu_ctldev *d = emu_ctldev_of(rt, DeviceObject);
    if (d && !emu_ctldev_check_fields(rt, d, "IoDeleteDevice"))
        return;
    emu_lock(rt);
    if (!d || !d->io_device || emu_obj_dead(&d->obj)) {
        emu_unlock(rt);
        emu_violate(rt, "HandleAfterClose", "IoDeleteDevice",
                    "%p is not a device object IoCreateDevice created, or was deleted",
                    (void *)DeviceObject);
        return;
    }
    if (d->attached_to || DeviceObject->AttachedDevice) {
        emu_unlock(rt);
        /* "Handling an IRP_MN_REMOVE_DEVICE Request": detach, then delete */
        emu_violate(rt, "DeleteAttachedDevice", "IoDeleteDevice",
                    "%s is still in a device stack (%s): IoDetachDevice comes first", d->name,
                    d->attached_to ? "attached to a lower device" : "a device is attached to it");
        return;
    }
    PDRIVER_OBJECT dobj = &d->obj.drv->drvobj;
    for (PDEVICE_OBJECT *pp = &dobj->DeviceObject; *pp; pp = &(*pp)->NextDevice) {
        if (*pp == DeviceObject) {
            *pp = DeviceObject->NextDevice;
            break;
        }
    }
    /* The predecessor's NextDevice changed: the I/O manager's own write. */
    for (emu_ctldev *o = rt->ctldevs; o; o = o->next)
        if (o->devobj && o->devobj->NextDevice == DeviceObject->NextDevice && o != d)
            emu_ctldev_resync(o);
    /* Delete pending until its last handle closes (ctldev.c). */
    emu_obj_kill(rt, &d->obj);
    emu_unlock(rt);
}

NTSTATUS IoCreateSymbolicLink(PUNICODE_STRING SymbolicLinkName, PUNICODE_STRING DeviceName)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("IoCreateSymbolicLink", "-"))
        return STATUS_UNSUCCESSFUL;
    if (!SymbolicLinkName || !DeviceName)
        return STATUS_INVALID_PARAMETER;
    char link[EMU_NAME_MAX], name[EMU_NAME_MAX];
    emu_wstr_to_ascii(SymbolicLinkName, link, sizeof(link));
    emu_wstr_to_ascii(DeviceName, name, sizeof(name));
    emu_lock(rt);
    NTSTATUS st = STATUS_SUCCESS;
    emu_ctldev *d = find_named(rt, name, false);
    if (find_named(rt, link, true))
        st = STATUS_OBJECT_NAME_COLLISION;
    else if (!d)
        st = STATUS_OBJECT_NAME_NOT_FOUND;
    else if (d->link[0])
        st = STATUS_OBJECT_NAME_COLLISION; /* the model keeps one link per device */
    else
        snprintf(d->link, sizeof(d->link), "%s", link);
    emu_unlock(rt);
    return st;
}

NTSTATUS IoDeleteSymbolicLink(PUNICODE_STRING SymbolicLinkName)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("IoDeleteSymbolicLink", "-"))
        return STATUS_UNSUCCESSFUL;
    if (!SymbolicLinkName)
        return STATUS_INVALID_PARAMETER;
    char link[EMU_NAME_MAX];
    emu_wstr_to_ascii(SymbolicLinkName, link, sizeof(link));
    emu_lock(rt);
    NTSTATUS st = STATUS_OBJECT_NAME_NOT_FOUND;
    for (emu_ctldev *d = rt->ctldevs; d; d = d->next) {
        if (d->link[0] && strcasecmp(d->link, link) == 0) {
            d->link[0] = 0;
            st = STATUS_SUCCESS;
            break;
        }
    }
    emu_unlock(rt);
    return st;
}

void emu_io_driver_entry_done(emu_runtime *rt, emu_driver *drv)
{
    emu_lock(rt);
    for (emu_ctldev *d = rt->ctldevs; d; d = d->next)
        if (d->obj.drv == drv && d->io_device) {
            d->devobj->Flags &= ~(ULONG)DO_DEVICE_INITIALIZING;
            /* DriverEntry may have written fields before this point too */
            emu_ctldev_check_fields(rt, d, "DriverEntry");
        }
    emu_unlock(rt);
}

/* Normal kernel APCs off for the thread. ndisemu delivers no APCs, so the
 * region changes nothing that runs; the nesting is counted per thread and
 * a leave without an enter is reported. */
static _Thread_local int t_critical_region;

void KeEnterCriticalRegion(void)
{
    if (!emu_enter("KeEnterCriticalRegion", "-"))
        return;
    t_critical_region++;
}

void KeLeaveCriticalRegion(void)
{
    if (!emu_enter("KeLeaveCriticalRegion", "-"))
        return;
    if (t_critical_region == 0) {
        emu_violate(emu_rt, "CriticalRegions", "KeLeaveCriticalRegion",
                    "KeLeaveCriticalRegion without a matching KeEnterCriticalRegion");
        return;
    }
    t_critical_region--;
}

void RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString)
{
    if (!emu_enter("RtlInitUnicodeString", "-"))
        return;
    size_t n = 0;
    if (SourceString)
        while (SourceString[n])
            n++;
    DestinationString->Buffer = (PWSTR)SourceString;
    DestinationString->Length = (USHORT)(n * sizeof(WCHAR));
    DestinationString->MaximumLength = SourceString ? (USHORT)((n + 1) * sizeof(WCHAR)) : 0;
}

NDIS_STATUS NdisQueryAdapterInstanceName(PNDIS_STRING pAdapterInstanceName,
                                         NDIS_HANDLE NdisBindingHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisQueryAdapterInstanceName", "-"))
        return NDIS_STATUS_FAILURE;
    emu_binding *b = (emu_binding *)emu_obj_check(rt, NdisBindingHandle, K_BINDING,
                                                  "NdisQueryAdapterInstanceName");
    if (!b || !pAdapterInstanceName)
        return NDIS_STATUS_INVALID_PARAMETER;
    /* The friendly name (ifAlias) of the adapter; the caller frees the
     * buffer with NdisFreeMemory. */
    const char *inst = b->ad->instance;
    size_t n = strlen(inst);
    PWSTR buf = NULL;
    if (NdisAllocateMemoryWithTag((PVOID *)&buf, (UINT)((n + 1) * sizeof(WCHAR)), 'mNsI') !=
        NDIS_STATUS_SUCCESS)
        return NDIS_STATUS_RESOURCES;
    for (size_t i = 0; i <= n; i++)
        buf[i] = (WCHAR)(unsigned char)inst[i];
    pAdapterInstanceName->Buffer = buf;
    pAdapterInstanceName->Length = (USHORT)(n * sizeof(WCHAR));
    pAdapterInstanceName->MaximumLength = (USHORT)((n + 1) * sizeof(WCHAR));
    return NDIS_STATUS_SUCCESS;
}

/* ---- kernel mutexes: Header[0] magic, Header[1] owner's thread id
 * (0: free), Header[2] recursion count ---- */

#define KMUTEX_MAGIC 0x4B4D5458u /* "KMTX" */

void KeInitializeMutex(PRKMUTEX Mutex, ULONG Level)
{
    (void)Level;
    if (!emu_enter("KeInitializeMutex", "%p", (void *)Mutex))
        return;
    memset(Mutex, 0, sizeof(*Mutex));
    Mutex->Header[0] = KMUTEX_MAGIC;
    InitializeListHead(&Mutex->MutantListEntry);
}

static bool kmutex_ok(PRKMUTEX m, const char *call)
{
    if (m && m->Header[0] == KMUTEX_MAGIC)
        return true;
    emu_violate(emu_rt, "HandleAfterClose", call,
                "%p is not a kernel mutex initialized with KeInitializeMutex (ndisemu waits "
                "only on those)",
                (void *)m);
    return false;
}

static bool kmutex_free_for(emu_runtime *rt, void *arg)
{
    (void)rt;
    PRKMUTEX m = arg;
    ULONG_PTR owner = __atomic_load_n(&m->Header[1], __ATOMIC_SEQ_CST);
    return owner == 0 || owner == emu_self()->tid;
}

NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                               BOOLEAN Alertable, PLARGE_INTEGER Timeout)
{
    emu_runtime *rt = emu_rt;
    (void)WaitReason;
    (void)WaitMode;
    (void)Alertable;
    if (!emu_enter("KeWaitForSingleObject", "%p", Object))
        return STATUS_UNSUCCESSFUL;
    PRKMUTEX m = Object;
    if (!kmutex_ok(m, "KeWaitForSingleObject"))
        return STATUS_INVALID_PARAMETER;
    /* Timeout NULL: forever; relative (negative) in 100 ns units; 0: poll. */
    uint64_t ns = EMU_WAIT_NS;
    bool forever = Timeout == NULL;
    if (Timeout)
        ns = Timeout->QuadPart < 0 ? (uint64_t)(-Timeout->QuadPart) * 100u : 0;
    ULONG_PTR me = emu_self()->tid;
    for (;;) {
        ULONG_PTR none = 0;
        if (__atomic_load_n(&m->Header[1], __ATOMIC_SEQ_CST) == me ||
            __atomic_compare_exchange_n(&m->Header[1], &none, me, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
            m->Header[2]++;
            return STATUS_SUCCESS;
        }
        if (ns == 0 || emu_stopped(rt))
            return STATUS_TIMEOUT;
        if (!emu_wait(rt, kmutex_free_for, m, ns) && !forever)
            return STATUS_TIMEOUT;
        if (emu_stopped(rt))
            return STATUS_TIMEOUT;
        if (forever && !kmutex_free_for(rt, m)) {
            emu_violate(rt, "OperationNotCompleted", "KeWaitForSingleObject",
                        "infinite wait on kernel mutex %p that its owner never releases",
                        (void *)m);
            return STATUS_TIMEOUT;
        }
    }
}

LONG KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait)
{
    emu_runtime *rt = emu_rt;
    (void)Wait;
    if (!emu_enter("KeReleaseMutex", "%p", (void *)Mutex) || !kmutex_ok(Mutex, "KeReleaseMutex"))
        return 0;
    if (__atomic_load_n(&Mutex->Header[1], __ATOMIC_SEQ_CST) != emu_self()->tid) {
        /* Windows raises STATUS_MUTANT_NOT_OWNED (a bug check in a driver). */
        emu_violate(rt, "MutexNotOwned", "KeReleaseMutex",
                    "kernel mutex %p released by a thread that does not own it", (void *)Mutex);
        return 0;
    }
    LONG prev = (LONG)Mutex->Header[2];
    if (--Mutex->Header[2] == 0) {
        __atomic_store_n(&Mutex->Header[1], 0, __ATOMIC_RELEASE);
        emu_lock(rt);
        emu_broadcast(rt);
        emu_unlock(rt);
    }
    return prev;
}
