/*
 * ctldev.c - control devices (NdisRegisterDeviceEx) and the user-mode side
 * that opens them and sends IRPs (emu_ctl_*): the I/O manager's part.
 *
 * Cancellation is modelled as Windows does it: CancelIoEx, process exit and
 * IoCancelIrp set Irp->Cancel, take the cancel routine out of the IRP with
 * the system cancel spin lock held and call it at DISPATCH_LEVEL still
 * holding that lock (the routine releases it with Irp->CancelIrql). The
 * verifier then checks what the I/O manager depends on: a cancel routine
 * releases the cancel spin lock; no IRP is completed with a cancel routine
 * still set; IRP_MJ_CLEANUP leaves no IRP of its handle pending; an IRP
 * cancelled at process exit completes.
 */
#include "emu_internal.h"
#include "irp.h"

#include <sched.h>
#include <stdlib.h>
#include <strings.h>

#define EMU_STATUS_DELETE_PENDING ((NTSTATUS)0xC0000056L)

struct emu_ctl {
    emu_runtime *rt;
    emu_ctldev *dev;
    emu_irp *pending; /* IRPs sent on this handle and not completed (rt->mu) */
    /* The FILE_OBJECT of this open, as the I/O manager creates one per
     * CreateFile (the WDK's layout): every IRP of the handle carries its
     * address, so a driver can tell its handles apart (IRP_MJ_CLEANUP ends
     * only that handle's requests) and keep its context in FsContext. */
    FILE_OBJECT file_object;
};

static const char *basename_of(const char *s)
{
    const char *b = strrchr(s, '\\');
    return b ? b + 1 : s;
}

NDIS_STATUS NdisRegisterDeviceEx(NDIS_HANDLE NdisObjectHandle,
                                 PNDIS_DEVICE_OBJECT_ATTRIBUTES DeviceObjectAttributes,
                                 PDEVICE_OBJECT *pDeviceObject, PNDIS_HANDLE NdisDeviceHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisRegisterDeviceEx", "-"))
        return NDIS_STATUS_FAILURE;
    /* The page lists a miniport or filter driver handle. A protocol driver
     * handle is still accepted: on Windows a protocol creates its device
     * with IoCreateDevice, which ndisemu does not model yet, and the test
     * protocols have no other way to a control device (docs/ndisemu.md). */
    if (!emu_handle_kind(rt, NdisObjectHandle,
                         EMU_HK(K_MP_DRIVER) | EMU_HK(K_PROTOCOL) | EMU_HK(K_FILTER_DRIVER),
                         "NdisRegisterDeviceEx"))
        return NDIS_STATUS_FAILURE;
    emu_adapter *ad;
    emu_driver *drv = emu_handle_driver(NdisObjectHandle, &ad);
    PNDIS_DEVICE_OBJECT_ATTRIBUTES a = DeviceObjectAttributes;
    if (!drv || !a || !a->DeviceName || !a->MajorFunctions || !pDeviceObject || !NdisDeviceHandle ||
        a->Header.Type != NDIS_OBJECT_TYPE_DEVICE_OBJECT_ATTRIBUTES)
        return NDIS_STATUS_INVALID_PARAMETER;
    char name[EMU_NAME_MAX], link[EMU_NAME_MAX] = "";
    emu_wstr_to_ascii(a->DeviceName, name, sizeof(name));
    if (a->SymbolicName)
        emu_wstr_to_ascii(a->SymbolicName, link, sizeof(link));
    emu_lock(rt);
    for (emu_ctldev *d = rt->ctldevs; d; d = d->next) {
        if (!emu_obj_dead(&d->obj) && strcasecmp(d->name, name) == 0) {
            emu_unlock(rt);
            return NDIS_STATUS_RESOURCE_CONFLICT;
        }
    }
    emu_unlock(rt);
    emu_ctldev *d = emu_ctldev_new(rt, drv, name, 0);
    if (d) {
        emu_lock(rt);
        snprintf(d->link, sizeof(d->link), "%s", link);
        if (a->DefaultSDDLString) {
            d->sddl_truncated = a->DefaultSDDLString->Length / 2 >= sizeof(d->sddl);
            emu_wstr_to_ascii(a->DefaultSDDLString, d->sddl, sizeof(d->sddl));
        }
        memcpy(d->major, a->MajorFunctions, sizeof(d->major));
        d->ext_size = a->ExtensionSize;
        d->ext = calloc(1, a->ExtensionSize ? a->ExtensionSize : 1);
        d->devobj->DeviceType = FILE_DEVICE_NETWORK;
        emu_ctldev_resync(d);
        emu_unlock(rt);
    }
    if (!d || !d->ext)
        return NDIS_STATUS_RESOURCES;
    *pDeviceObject = d->devobj;
    *NdisDeviceHandle = d;
    return NDIS_STATUS_SUCCESS;
}

void NdisDeregisterDeviceEx(NDIS_HANDLE NdisDeviceHandle)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisDeregisterDeviceEx", "-"))
        return;
    emu_ctldev *d =
        (emu_ctldev *)emu_obj_check(rt, NdisDeviceHandle, K_CTLDEV, "NdisDeregisterDeviceEx");
    if (!d || !emu_ctldev_check_fields(rt, d, "NdisDeregisterDeviceEx"))
        return;
    emu_lock(rt);
    emu_obj_kill(rt, &d->obj);
    emu_unlock(rt);
}

/* ---- the fields of a DEVICE_OBJECT only the I/O manager writes ----
 * A driver sets Flags (DO_BUFFERED_IO, DO_DIRECT_IO, clearing
 * DO_DEVICE_INITIALIZING ...), AlignmentRequirement, SectorSize, StackSize
 * and Characteristics, and initializes Dpc (IoInitializeDpcRequest); the
 * rest is the I/O manager's ("DEVICE_OBJECT structure": "set by the I/O
 * manager", the opaque members). Checked after every dispatch and cancel
 * routine and when the device is deleted. */
typedef struct devobj_field {
    const char *name;
    size_t off, len;
} devobj_field;
#define DOF(f)                                                          \
    {                                                                   \
#f, offsetof(DEVICE_OBJECT, f), sizeof(((DEVICE_OBJECT *)0)->f) \
    }
static const devobj_field k_devobj_fields[] = {
    DOF(Type),
    DOF(Size),
    DOF(ReferenceCount),
    DOF(DriverObject),
    DOF(NextDevice),
    DOF(AttachedDevice),
    DOF(CurrentIrp),
    DOF(Timer),
    DOF(Vpb),
    DOF(DeviceExtension),
    DOF(DeviceType),
    DOF(Queue),
    DOF(DeviceQueue),
    DOF(ActiveThreadCount),
    DOF(SecurityDescriptor),
    DOF(DeviceLock),
    DOF(DeviceObjectExtension),
    DOF(Reserved),
};
#undef DOF

void emu_ctldev_resync(emu_ctldev *d)
{
    if (d->devobj)
        d->shadow = *d->devobj;
}

bool emu_ctldev_check_fields(emu_runtime *rt, emu_ctldev *d, const char *where)
{
    if (!d || !d->devobj)
        return true;
    const unsigned char *now = (const unsigned char *)d->devobj;
    const unsigned char *was = (const unsigned char *)&d->shadow;
    for (size_t i = 0; i < ARRAYSIZE(k_devobj_fields); i++) {
        const devobj_field *f = &k_devobj_fields[i];
        if (memcmp(now + f->off, was + f->off, f->len) != 0) {
            emu_violate(rt, "DeviceObjectField", where,
                        "the driver wrote DEVICE_OBJECT.%s of %s, a field only the I/O manager "
                        "sets",
                        f->name, d->name);
            memcpy((unsigned char *)&d->shadow + f->off, now + f->off, f->len);
            return false;
        }
    }
    return true;
}

emu_ctldev *emu_ctldev_of(emu_runtime *rt, const DEVICE_OBJECT *devobj)
{
    emu_ctldev *found = NULL;
    emu_lock(rt);
    for (emu_ctldev *d = rt->ctldevs; d && !found; d = d->next)
        if (d->devobj == devobj)
            found = d;
    emu_unlock(rt);
    return found;
}

emu_ctldev *emu_ctldev_new(emu_runtime *rt, emu_driver *drv, const char *name, ULONG ext_size)
{
    size_t len = (sizeof(DEVICE_OBJECT) + ext_size + 15) & ~(size_t)15;
    DEVICE_OBJECT *o = aligned_alloc(16, len);
    if (!o)
        return NULL;
    memset(o, 0, len);
    o->Type = 3; /* IO_TYPE_DEVICE */
    o->Size = (USHORT)(sizeof(DEVICE_OBJECT) + ext_size);
    o->ReferenceCount = 0;
    o->DriverObject = &drv->drvobj;
    o->DeviceExtension = ext_size ? (void *)(o + 1) : NULL;
    o->StackSize = 1;
    emu_lock(rt);
    emu_ctldev *d = emu_obj_new(rt, sizeof(*d), K_CTLDEV, drv, NULL, 0);
    if (d) {
        snprintf(d->name, sizeof(d->name), "%s", name);
        d->devobj = o;
        emu_ctldev_resync(d);
        d->next = rt->ctldevs;
        rt->ctldevs = d;
    }
    emu_unlock(rt);
    if (!d)
        free(o);
    return d;
}

PVOID NdisGetDeviceReservedExtension(PDEVICE_OBJECT DeviceObject)
{
    emu_ctldev *d = emu_ctldev_of(emu_rt, DeviceObject);
    if (!d || d->io_device) {
        emu_violate(emu_rt, "HandleAfterClose", "NdisGetDeviceReservedExtension",
                    "%p is not a device object NdisRegisterDeviceEx created", (void *)DeviceObject);
        return NULL;
    }
    return d->ext;
}

/* IRPs are not freed at once but parked in a ring of recently finished
 * ones: a driver completing an IRP again is then reported (DoubleCompletion)
 * rather than writing into freed memory. */
#define IRP_QUARANTINE 64
static emu_irp *irp_quarantine[IRP_QUARANTINE];
static unsigned irp_quarantine_pos;

static void irp_release(emu_runtime *rt, emu_irp *e)
{
    emu_lock(rt);
    emu_irp *old = irp_quarantine[irp_quarantine_pos % IRP_QUARANTINE];
    irp_quarantine[irp_quarantine_pos++ % IRP_QUARANTINE] = e;
    emu_unlock(rt);
    if (old) {
        if (old->mdl)
            emu_tfree(old->mdl);
        if (old->outbuf)
            emu_tfree(old->outbuf);
        emu_tfree(old->sysbuf);
        emu_tfree(old);
    }
}

/* Before the tracked memory is freed as a whole (emu_destroy). */
void emu_irp_quarantine_free(void)
{
    for (unsigned i = 0; i < IRP_QUARANTINE; i++)
        irp_quarantine[i] = NULL;
    irp_quarantine_pos = 0;
}

/* rt->mu held. */
static void pending_unlink(emu_irp *e)
{
    if (!e->h)
        return;
    for (emu_irp **pp = &e->h->pending; *pp; pp = &(*pp)->next_pending) {
        if (*pp == e) {
            *pp = e->next_pending;
            break;
        }
    }
    e->next_pending = NULL;
}

void IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost)
{
    emu_runtime *rt = emu_rt;
    (void)PriorityBoost;
    if (!emu_enter("IoCompleteRequest", "irp=%p status=%#x", (void *)Irp,
                   (unsigned)Irp->IoStatus.Status) ||
        !emu_spin_lock_safe("IoCompleteRequest"))
        return;
    emu_irp *e = CONTAINING_RECORD(Irp, emu_irp, irp);
    emu_lock(rt);
    bool twice = e->completed_once;
    emu_unlock(rt);
    if (twice) {
        emu_violate(rt, "DoubleCompletion", "IoCompleteRequest", "IRP %p completed twice",
                    (void *)Irp);
        return;
    }
    if (__atomic_load_n(&Irp->CancelRoutine, __ATOMIC_SEQ_CST) != NULL) {
        /* The I/O manager would call the routine for an IRP that is gone. */
        emu_violate(rt, "CancelRoutineAtCompletion", "IoCompleteRequest",
                    "IRP %p completed with its cancel routine still set (clear it with "
                    "IoSetCancelRoutine(Irp, NULL) and own the IRP first)",
                    (void *)Irp);
        return;
    }
    /* Up the device stack: each driver's completion routine (one may take
     * the IRP back, and complete it again later). */
    if (!emu_io_complete_stack(rt, e))
        return;
    emu_lock(rt);
    e->completed_once = true;
    pending_unlink(e);
    emu_unlock(rt);
    if (e->cb) {
        size_t n = Irp->IoStatus.Information < e->out_len ? Irp->IoStatus.Information : e->out_len;
        e->cb(e->cb_ctx, Irp->IoStatus.Status, e->outbuf ? e->outbuf : e->sysbuf, n);
    }
    emu_lock(rt);
    e->done = true;
    bool owned = e->owned;
    emu_broadcast(rt);
    emu_unlock(rt);
    if (owned)
        irp_release(rt, e);
}

/* ---- the system cancel spin lock ---- */

/* The holder's thread id (0: free). One per system, as in Windows. */
static uint32_t g_cancel_owner;

static bool cancel_lock_take(emu_runtime *rt, const char *call)
{
    emu_thread *t = emu_self();
    if (__atomic_load_n(&g_cancel_owner, __ATOMIC_SEQ_CST) == t->tid) {
        emu_violate(rt, "CancelSpinLock", call,
                    "the cancel spin lock acquired again by its holder");
        return false;
    }
    for (;;) {
        uint32_t expected = 0;
        if (__atomic_compare_exchange_n(&g_cancel_owner, &expected, t->tid, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED))
            break;
        if (rt->cfg.sched == EMU_SCHED_DETERMINISTIC || emu_stopped(rt)) {
            emu_violate(rt, "CancelSpinLock", call,
                        "the cancel spin lock is held by a context that is not running (left "
                        "held after a routine returned?)");
            return false;
        }
        sched_yield();
    }
    t->irql = DISPATCH_LEVEL;
    emu_lockdep_acquired(&g_cancel_owner, call);
    return true;
}

bool emu_spin_lock_safe(const char *call)
{
    emu_thread *t = emu_self();
    bool cancel = __atomic_load_n(&g_cancel_owner, __ATOMIC_SEQ_CST) == t->tid;
    if (t->locks_held == 0 && !cancel)
        return true;
    emu_violate(emu_rt, "SpinLockSafe", call,
                "called holding %s; release it first (the completion can call back into the "
                "driver, which takes it again: a deadlock)",
                cancel ? "the cancel spin lock" : "a spin lock");
    return false;
}

static void cancel_lock_give(KIRQL irql)
{
    emu_lockdep_released(&g_cancel_owner);
    __atomic_store_n(&g_cancel_owner, 0, __ATOMIC_RELEASE);
    emu_self()->irql = irql;
}

/* After a dispatch or cancel routine: it must not return holding the lock
 * (CancelSpinlockRelease). Released here so the report is the only one. */
static bool cancel_lock_check_released(const char *routine)
{
    emu_thread *t = emu_self();
    if (__atomic_load_n(&g_cancel_owner, __ATOMIC_SEQ_CST) != t->tid)
        return true;
    emu_violate(emu_rt, "CancelSpinlockRelease", routine,
                "returned holding the cancel spin lock (release it with "
                "IoReleaseCancelSpinLock(Irp->CancelIrql))");
    cancel_lock_give(t->irql);
    return false;
}

void IoAcquireCancelSpinLock(PKIRQL Irql)
{
    if (!emu_enter("IoAcquireCancelSpinLock", "-"))
        return;
    KIRQL old = emu_self()->irql;
    if (cancel_lock_take(emu_rt, "IoAcquireCancelSpinLock") && Irql)
        *Irql = old;
}

void IoReleaseCancelSpinLock(KIRQL Irql)
{
    if (!emu_enter("IoReleaseCancelSpinLock", "irql=%u", Irql))
        return;
    if (__atomic_load_n(&g_cancel_owner, __ATOMIC_SEQ_CST) != emu_self()->tid) {
        emu_violate(emu_rt, "CancelSpinLock", "IoReleaseCancelSpinLock",
                    "the cancel spin lock released by a thread that does not hold it");
        return;
    }
    cancel_lock_give(Irql);
}

/* IoCancelIrp as the I/O manager runs it, from PASSIVE_LEVEL with no lock
 * held: Cancel set and the routine taken out under the cancel spin lock,
 * then called at DISPATCH_LEVEL still holding it. True if a routine ran. */
static bool cancel_irp(emu_runtime *rt, emu_irp *e)
{
    emu_thread *t = emu_self();
    KIRQL old = t->irql;
    emu_tracef(rt, "call", "IoCancelIrp", "irp=%p", (void *)&e->irp);
    if (!cancel_lock_take(rt, "IoCancelIrp"))
        return false;
    e->irp.Cancel = TRUE;
    PDRIVER_CANCEL fn = IoSetCancelRoutine(&e->irp, NULL);
    if (!fn) {
        cancel_lock_give(old); /* not cancelable now: the driver sees Cancel later */
        return false;
    }
    e->irp.CancelIrql = old;
    /* The routine gets the device at the IRP's current location: the
     * driver that set it holds the IRP there. */
    PDEVICE_OBJECT dev = e->irp.CurrentLocation >= 1 && e->irp.CurrentLocation <= e->irp.StackCount
                             ? e->irp.Tail.Overlay.CurrentStackLocation->DeviceObject
                             : e->io->DeviceObject;
    emu_driver *drv = emu_io_driver_of_device(rt, dev);
    emu_cb_scope s;
    emu_cb_begin(&s, "DriverCancel", drv ? drv : e->drv, NULL, DISPATCH_LEVEL);
    fn(dev, &e->irp);
    cancel_lock_check_released("DriverCancel");
    emu_ctldev_check_fields(rt, emu_ctldev_of(rt, dev), "DriverCancel");
    t->irql = DISPATCH_LEVEL; /* what the scope expects: the release lowered it */
    emu_cb_end(&s);
    emu_lockdep_released(&g_cancel_owner); /* the scope restored the held stack */
    t->irql = old;
    return true;
}

/* Cancels every IRP pending on the handle (CancelIoEx with no OVERLAPPED). */
static unsigned cancel_pending(emu_ctl *h)
{
    emu_runtime *rt = h->rt;
    emu_irp *batch[64];
    unsigned n = 0, called = 0;
    emu_lock(rt);
    for (emu_irp *e = h->pending; e && n < 64; e = e->next_pending)
        batch[n++] = e;
    emu_unlock(rt);
    for (unsigned i = 0; i < n && !emu_stopped(rt); i++) {
        emu_lock(rt);
        bool still = batch[i]->h == h && !batch[i]->completed_once;
        emu_unlock(rt);
        if (still && cancel_irp(rt, batch[i]))
            called++;
    }
    return called;
}

static bool none_pending(emu_runtime *rt, void *arg)
{
    (void)rt;
    return ((emu_ctl *)arg)->pending == NULL;
}

/* rt->mu held. */
static unsigned count_pending(const emu_ctl *h)
{
    unsigned n = 0;
    for (const emu_irp *e = h->pending; e; e = e->next_pending)
        n++;
    return n;
}

/* The I/O manager waits for the handle's IRPs (IRP_MJ_CLOSE comes only
 * after the last one): false, after reporting rule, when some never end. */
/* How long a cancelled (or cleaned-up) IRP may take to complete. Windows
 * waits for it at thread exit and close; the stricter reading of "the
 * Cancel routine completes the IRP" is that cancellation itself ends it,
 * not some later event the driver happens to see (a wait for a change
 * completed by the next change would hang the exit until then). */
#define EMU_CANCEL_WAIT_NS (1000ull * 1000 * 1000)

static bool wait_pending_gone(emu_ctl *h, const char *rule, const char *call, const char *what)
{
    emu_runtime *rt = h->rt;
    if (emu_wait(rt, none_pending, h, EMU_CANCEL_WAIT_NS))
        return true;
    if (emu_stopped(rt))
        return false;
    emu_lock(rt);
    unsigned n = count_pending(h);
    emu_unlock(rt);
    emu_violate(rt, rule, call, "%u IRP(s) still pending 1 s %s: the I/O manager waits for them", n,
                what);
    return false;
}

/* rt->mu held: the handle is gone; IRPs still pending no longer refer to it. */
static void pending_release(emu_ctl *h)
{
    for (emu_irp *e = h->pending, *next; e; e = next) {
        next = e->next_pending;
        e->h = NULL;
        e->next_pending = NULL;
    }
    h->pending = NULL;
}

int emu_ctl_cancel(emu_ctl *h)
{
    if (!h)
        return EMU_ERR_INVAL;
    if (emu_stopped(h->rt))
        return EMU_ERR_STOPPED;
    cancel_pending(h);
    return emu_stopped(h->rt) ? EMU_ERR_STOPPED : EMU_OK;
}

unsigned emu_ctl_pending(emu_ctl *h)
{
    if (!h)
        return 0;
    emu_lock(h->rt);
    unsigned n = count_pending(h);
    emu_unlock(h->rt);
    return n;
}

/* rt->mu held. */
int emu_ctldev_unload_blocker(emu_runtime *rt, const emu_driver *drv)
{
    int why = EMU_UNLOAD_OK;
    for (emu_ctldev *d = rt->ctldevs; d; d = d->next) {
        if (d->obj.drv != drv)
            continue;
        if (!emu_obj_dead(&d->obj))
            return EMU_UNLOAD_DEVICE_OBJECT;
        if (d->handles)
            why = EMU_UNLOAD_OPEN_HANDLE;
    }
    return why;
}

void emu_ctldev_drop_handles(emu_runtime *rt, const emu_driver *drv)
{
    emu_lock(rt);
    for (emu_ctldev *d = rt->ctldevs; d; d = d->next)
        if (d->obj.drv == drv && emu_obj_dead(&d->obj))
            d->handles = 0;
    emu_unlock(rt);
}

/* ---- user mode ---- */

static emu_irp *irp_new(emu_ctl *h, UCHAR major, size_t buflen)
{
    emu_ctldev *d = h->dev;
    emu_irp *e = emu_talloc(sizeof(*e));
    if (!e)
        return NULL;
    e->sysbuf = emu_talloc(buflen ? buflen : 1);
    if (!e->sysbuf) {
        emu_tfree(e);
        return NULL;
    }
    /* As many locations as the device on top of the opened one's stack
     * asks for (its StackSize); the I/O manager fills the highest, the
     * first driver's, and makes it current (IoCallDriver's decrement). */
    DEVICE_OBJECT *top = emu_io_top(d->devobj);
    CCHAR n = top->StackSize < 1 ? 1 : top->StackSize;
    if (n > EMU_IRP_MAX_STACK)
        n = EMU_IRP_MAX_STACK;
    e->magic = EMU_IRP_MAGIC;
    e->irp.Type = 6;
    e->irp.Size = (USHORT)(sizeof(IRP) + n * sizeof(IO_STACK_LOCATION));
    e->irp.StackCount = n;
    e->irp.CurrentLocation = n;
    e->irp.AssociatedIrp.SystemBuffer = e->sysbuf;
    e->io = &e->stack[n - 1];
    e->irp.Tail.Overlay.CurrentStackLocation = e->io;
    e->io->MajorFunction = major;
    e->io->DeviceObject = top;
    e->io->FileObject = &h->file_object;
    emu_driver *tdrv = emu_io_driver_of_device(h->rt, top);
    e->drv = tdrv ? tdrv : d->obj.drv;
    return e;
}

NTSTATUS emu_io_dispatch(emu_runtime *rt, emu_irp *e, KIRQL irql)
{
    IO_STACK_LOCATION *sp = e->irp.Tail.Overlay.CurrentStackLocation;
    UCHAR major = sp->MajorFunction;
    emu_ctldev *d = emu_ctldev_of(rt, sp->DeviceObject);
    if (!d || major > IRP_MJ_MAXIMUM_FUNCTION) {
        e->irp.IoStatus.Status = STATUS_INVALID_DEVICE_REQUEST;
        IofCompleteRequest(&e->irp, 0);
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    /* An IoCreateDevice device is served by its driver object's table, read
     * per IRP as the I/O manager does (entries left NULL here are
     * IopInvalidDeviceRequest on Windows); NDIS's own devices by the table
     * given to NdisRegisterDeviceEx, with CREATE/CLOSE/CLEANUP succeeding
     * when the driver leaves them out. */
    PDRIVER_DISPATCH fn = d->io_device ? d->obj.drv->drvobj.MajorFunction[major] : d->major[major];
    if (!fn) {
        e->irp.IoStatus.Status = d->io_device || major == IRP_MJ_DEVICE_CONTROL ||
                                         major == IRP_MJ_READ || major == IRP_MJ_WRITE
                                     ? STATUS_INVALID_DEVICE_REQUEST
                                     : STATUS_SUCCESS;
        NTSTATUS st = e->irp.IoStatus.Status;
        IofCompleteRequest(&e->irp, 0);
        return st;
    }
    CHAR loc = e->irp.CurrentLocation;
    unsigned depth = ++e->depth;
    if (depth < ARRAYSIZE(e->passed))
        e->passed[depth] = false;
    if (depth == 1)
        memset(e->marked, 0, sizeof(e->marked));
    emu_cb_scope s;
    emu_cb_begin(&s, "DriverDispatch", d->obj.drv, NULL, irql);
    NTSTATUS st = fn(d->devobj, &e->irp);
    cancel_lock_check_released("DriverDispatch");
    emu_ctldev_check_fields(rt, d, "DriverDispatch");
    emu_cb_end(&s);
    /* (e stays valid: a completed IRP is parked in the quarantine ring) */
    e->depth--;
    emu_io_check_pending(rt, e, loc, depth, st);
    return st;
}

/* Sends the IRP at PASSIVE_LEVEL to the top of the opened device's stack.
 * Returns the dispatch routine's status. */
static NTSTATUS send_irp(emu_ctl *h, emu_irp *e)
{
    emu_ctldev *d = h->dev;
    emu_runtime *rt = h->rt;
    if (emu_obj_dead(&d->obj)) {
        /* Deregistered (delete pending): the stricter reading is that an
         * IRP on a handle still open no longer reaches the driver, which
         * may be unloading. The program sees the error and closes. */
        e->irp.IoStatus.Status = EMU_STATUS_DELETE_PENDING;
        IofCompleteRequest(&e->irp, 0);
        return EMU_STATUS_DELETE_PENDING;
    }
    emu_lock(rt);
    e->h = h;
    e->next_pending = h->pending;
    h->pending = e;
    emu_unlock(rt);
    return emu_io_dispatch(rt, e, PASSIVE_LEVEL);
}

static bool irp_done(emu_runtime *rt, void *arg)
{
    (void)rt;
    return ((emu_irp *)arg)->done;
}

static int simple_irp(emu_ctl *h, UCHAR major)
{
    emu_irp *e = irp_new(h, major, 0);
    if (!e)
        return EMU_ERR_NOMEM;
    NTSTATUS st = send_irp(h, e);
    if (st == STATUS_PENDING)
        emu_wait(h->rt, irp_done, e, EMU_WAIT_NS);
    emu_lock(h->rt);
    bool done = e->done;
    e->owned = !done; /* still pending: freed when the driver completes it */
    emu_unlock(h->rt);
    if (!done)
        return emu_stopped(h->rt) ? EMU_ERR_STOPPED : EMU_ERR_TIMEOUT;
    st = e->irp.IoStatus.Status;
    irp_release(h->rt, e);
    return NT_SUCCESS(st) ? EMU_OK : EMU_ERR_DRIVER;
}

/* The SIDs a caller's token holds (SDDL aliases). */
static bool caller_has(emu_caller who, const char *sid, size_t n)
{
    static const char *const user[] = { "WD", "AU", "BU", "IU", NULL };
    static const char *const admin[] = { "WD", "AU", "BU", "IU", "BA", NULL };
    static const char *const system[] = { "WD", "AU", "SY", "BA", NULL };
    const char *const *set = who == EMU_CALLER_SYSTEM  ? system
                             : who == EMU_CALLER_ADMIN ? admin
                                                       : user;
    for (unsigned i = 0; set[i]; i++)
        if (strlen(set[i]) == n && strncmp(set[i], sid, n) == 0)
            return true;
    return false;
}

/* The DACL of an SDDL string grants who some access: one of its ACEs
 * "(A;flags;rights;object;inherit;SID)" allows a SID the caller holds with
 * rights that are not empty. Deny ACEs and everything else the model
 * cannot read grant nothing. */
static bool sddl_grants(const char *sddl, emu_caller who)
{
    const char *p = strstr(sddl, "D:");
    if (!p)
        return false; /* no DACL given in the string: the stricter reading */
    for (p = strchr(p, '('); p; p = strchr(p + 1, '(')) {
        const char *end = strchr(p, ')');
        const char *f[6];
        size_t len[6];
        unsigned k = 0;
        if (!end)
            return false;
        for (const char *q = p + 1; k < 6 && q <= end; k++) {
            const char *semi = memchr(q, ';', (size_t)(end - q));
            const char *stop = semi ? semi : end;
            f[k] = q;
            len[k] = (size_t)(stop - q);
            q = stop + 1;
        }
        if (k == 6 && len[0] == 1 && f[0][0] == 'A' && len[2] > 0 && caller_has(who, f[5], len[5]))
            return true;
    }
    return false;
}

int emu_ctl_open(emu_runtime *rt, const char *name, emu_ctl **out)
{
    return emu_ctl_open_as(rt, name, EMU_CALLER_ADMIN, out);
}

int emu_ctl_open_as(emu_runtime *rt, const char *name, emu_caller who, emu_ctl **out)
{
    if (!name || !out)
        return EMU_ERR_INVAL;
    emu_ctldev *found = NULL;
    emu_lock(rt);
    for (emu_ctldev *d = rt->ctldevs; d && !found; d = d->next) {
        if (emu_obj_dead(&d->obj))
            continue;
        if (strcasecmp(d->name, name) == 0 || strcasecmp(d->link, name) == 0 ||
            strcasecmp(basename_of(d->name), name) == 0 ||
            (d->link[0] && strcasecmp(basename_of(d->link), name) == 0))
            found = d;
    }
    emu_unlock(rt);
    if (!found || (found->devobj->Flags & DO_DEVICE_INITIALIZING))
        return EMU_ERR_NOTFOUND; /* still initializing: the I/O manager refuses opens */
    emu_lock(rt);
    bool taken = found->exclusive && found->handles > 0;
    emu_unlock(rt);
    if (taken)
        return EMU_ERR_ACCESS; /* an exclusive device already open: STATUS_ACCESS_DENIED */
    if ((found->sddl[0] || found->sddl_truncated) &&
        (found->sddl_truncated || !sddl_grants(found->sddl, who)))
        return EMU_ERR_ACCESS;
    emu_ctl *h = calloc(1, sizeof(*h));
    if (!h)
        return EMU_ERR_NOMEM;
    h->rt = rt;
    h->dev = found;
    h->file_object.Type = 5; /* IO_TYPE_FILE */
    h->file_object.Size = (CSHORT)sizeof(FILE_OBJECT);
    h->file_object.DeviceObject = found->devobj;
    h->file_object.ReadAccess = h->file_object.WriteAccess = TRUE;
    int err = simple_irp(h, IRP_MJ_CREATE);
    if (err) {
        free(h);
        return err;
    }
    emu_lock(rt);
    found->handles++;
    emu_unlock(rt);
    *out = h;
    return EMU_OK;
}

/* An MDL of buf, mapped (MmGetSystemAddressForMdlSafe gives buf). */
static MDL *mdl_of(void *buf, size_t len)
{
    MDL *m = emu_talloc(sizeof(MDL));
    if (!m)
        return NULL;
    memset(m, 0, sizeof(*m));
    uintptr_t va = (uintptr_t)buf;
    m->Size = (CSHORT)sizeof(MDL);
    m->MdlFlags = MDL_MAPPED_TO_SYSTEM_VA;
    m->StartVa = (PVOID)(va & ~(uintptr_t)(PAGE_SIZE - 1));
    m->ByteOffset = (ULONG)(va & (PAGE_SIZE - 1));
    m->ByteCount = (ULONG)len;
    m->MappedSystemVa = buf;
    return m;
}

/* The buffers as the IOCTL's transfer method has the I/O manager present
 * them: METHOD_BUFFERED one SystemBuffer for input and output;
 * METHOD_IN_DIRECT/OUT_DIRECT the input in SystemBuffer, the output
 * buffer (out_init's contents: for IN_DIRECT it carries data to the
 * driver) described by MdlAddress; METHOD_NEITHER the input at
 * Parameters.DeviceIoControl.Type3InputBuffer, the output at UserBuffer. */
static emu_irp *ioctl_irp(emu_ctl *h, uint32_t code, const void *in, size_t in_len,
                          const void *out_init, size_t out_len)
{
    ULONG method = code & 3;
    size_t sys_len = method == METHOD_BUFFERED ? (in_len > out_len ? in_len : out_len) : in_len;
    emu_irp *e = irp_new(h, IRP_MJ_DEVICE_CONTROL, sys_len);
    if (!e)
        return NULL;
    if (in_len)
        memcpy(e->sysbuf, in, in_len);
    e->out_len = out_len;
    e->io->Parameters.DeviceIoControl.IoControlCode = code;
    e->io->Parameters.DeviceIoControl.InputBufferLength = (ULONG)in_len;
    e->io->Parameters.DeviceIoControl.OutputBufferLength = (ULONG)out_len;
    if (method == METHOD_BUFFERED)
        return e;
    if (in_len == 0)
        e->irp.AssociatedIrp.SystemBuffer = NULL;
    if (out_len) {
        e->outbuf = emu_talloc(out_len);
        if (!e->outbuf)
            goto nomem;
        if (out_init)
            memcpy(e->outbuf, out_init, out_len);
        else
            memset(e->outbuf, 0, out_len);
    }
    if (method == METHOD_NEITHER) {
        e->irp.AssociatedIrp.SystemBuffer = NULL;
        e->io->Parameters.DeviceIoControl.Type3InputBuffer = in_len ? e->sysbuf : NULL;
        e->irp.UserBuffer = e->outbuf;
    } else if (out_len) {
        e->mdl = mdl_of(e->outbuf, out_len);
        if (!e->mdl)
            goto nomem;
        e->irp.MdlAddress = e->mdl;
    }
    return e;
nomem:
    if (e->outbuf)
        emu_tfree(e->outbuf);
    emu_tfree(e->sysbuf);
    emu_tfree(e);
    return NULL;
}

/* Sends e and waits for its completion (EMU_OK: the caller reads and
 * releases it). Still pending after the wait: the IRP stays with the
 * driver, freed when it completes, and the caller gets the error. */
static int send_and_wait(emu_ctl *h, emu_irp *e)
{
    NTSTATUS st = send_irp(h, e);
    if (st == STATUS_PENDING && !emu_wait(h->rt, irp_done, e, EMU_WAIT_NS)) {
        emu_lock(h->rt);
        e->owned = !e->done;
        emu_unlock(h->rt);
        if (e->owned)
            return emu_stopped(h->rt) ? EMU_ERR_STOPPED : EMU_ERR_TIMEOUT;
    }
    return EMU_OK;
}

/* Sends e with a completion callback: the IRP belongs to the I/O manager
 * until the driver completes it, then the callback gets its result. */
static int send_async(emu_ctl *h, emu_irp *e, emu_ioctl_done_fn done, void *ctx)
{
    if (!e)
        return EMU_ERR_NOMEM;
    e->cb = done;
    e->cb_ctx = ctx;
    e->owned = true;
    send_irp(h, e);
    return EMU_OK;
}

int emu_ctl_ioctl(emu_ctl *h, uint32_t code, const void *in, size_t in_len, void *out,
                  size_t out_len, size_t *returned, int32_t *ntstatus)
{
    if (!h || (in_len && !in) || (out_len && !out))
        return EMU_ERR_INVAL;
    emu_irp *e = ioctl_irp(h, code, in, in_len, out, out_len);
    if (!e)
        return EMU_ERR_NOMEM;
    int err = send_and_wait(h, e);
    if (err)
        return err;
    size_t n = e->irp.IoStatus.Information < out_len ? e->irp.IoStatus.Information : out_len;
    if (n)
        memcpy(out, e->outbuf ? e->outbuf : e->sysbuf, n);
    if (returned)
        *returned = n;
    if (ntstatus)
        *ntstatus = e->irp.IoStatus.Status;
    irp_release(h->rt, e);
    return EMU_OK;
}

int emu_ctl_ioctl_async(emu_ctl *h, uint32_t code, const void *in, size_t in_len, size_t out_len,
                        emu_ioctl_done_fn done, void *ctx)
{
    if (!h || !done || (in_len && !in))
        return EMU_ERR_INVAL;
    return send_async(h, ioctl_irp(h, code, in, in_len, NULL, out_len), done, ctx);
}

/* ---- READ / WRITE ---- */

/* The caller's buffer (sysbuf) as the device's buffering presents it. */
static emu_irp *rw_irp(emu_ctl *h, UCHAR major, const void *data, size_t len)
{
    emu_irp *e = irp_new(h, major, len);
    if (!e)
        return NULL;
    if (data && len)
        memcpy(e->sysbuf, data, len);
    e->out_len = len;
    ULONG flags = h->dev->devobj->Flags;
    e->irp.AssociatedIrp.SystemBuffer = NULL;
    if (flags & DO_BUFFERED_IO) {
        e->irp.AssociatedIrp.SystemBuffer = e->sysbuf;
    } else if (flags & DO_DIRECT_IO) {
        if (len) {
            e->mdl = mdl_of(e->sysbuf, len);
            if (!e->mdl) {
                emu_tfree(e->sysbuf);
                emu_tfree(e);
                return NULL;
            }
            e->irp.MdlAddress = e->mdl;
        }
    } else {
        e->irp.UserBuffer = e->sysbuf;
    }
    if (major == IRP_MJ_READ)
        e->io->Parameters.Read.Length = (ULONG)len;
    else
        e->io->Parameters.Write.Length = (ULONG)len;
    return e;
}

static int rw_sync(emu_ctl *h, UCHAR major, const void *data, void *out, size_t len,
                   size_t *returned, int32_t *ntstatus)
{
    if (!h || (len && !data && !out))
        return EMU_ERR_INVAL;
    emu_irp *e = rw_irp(h, major, data, len);
    if (!e)
        return EMU_ERR_NOMEM;
    int err = send_and_wait(h, e);
    if (err)
        return err;
    size_t n = e->irp.IoStatus.Information < len ? e->irp.IoStatus.Information : len;
    if (out && n)
        memcpy(out, e->sysbuf, n);
    if (returned)
        *returned = major == IRP_MJ_WRITE ? e->irp.IoStatus.Information : n;
    if (ntstatus)
        *ntstatus = e->irp.IoStatus.Status;
    irp_release(h->rt, e);
    return EMU_OK;
}

int emu_ctl_read(emu_ctl *h, void *buf, size_t len, size_t *returned, int32_t *ntstatus)
{
    return rw_sync(h, IRP_MJ_READ, NULL, buf, len, returned, ntstatus);
}

int emu_ctl_write(emu_ctl *h, const void *buf, size_t len, size_t *returned, int32_t *ntstatus)
{
    return rw_sync(h, IRP_MJ_WRITE, buf, NULL, len, returned, ntstatus);
}

static int rw_async(emu_ctl *h, UCHAR major, const void *data, size_t len, emu_ioctl_done_fn done,
                    void *ctx)
{
    if (!h || !done || (len && major == IRP_MJ_WRITE && !data))
        return EMU_ERR_INVAL;
    return send_async(h, rw_irp(h, major, data, len), done, ctx);
}

int emu_ctl_read_async(emu_ctl *h, size_t len, emu_ioctl_done_fn done, void *ctx)
{
    return rw_async(h, IRP_MJ_READ, NULL, len, done, ctx);
}

int emu_ctl_write_async(emu_ctl *h, const void *buf, size_t len, emu_ioctl_done_fn done, void *ctx)
{
    return rw_async(h, IRP_MJ_WRITE, buf, len, done, ctx);
}

/* The last handle of a file object goes: IRP_MJ_CLEANUP, which must end
 * every IRP of the handle (the driver's DispatchCleanup cancels them), then
 * IRP_MJ_CLOSE once none is left. */
static void close_handle(emu_ctl *h, const char *rule, const char *what)
{
    emu_runtime *rt = h->rt;
    if (!emu_obj_dead(&h->dev->obj) && !emu_stopped(rt)) {
        simple_irp(h, IRP_MJ_CLEANUP);
        if (wait_pending_gone(h, rule, "IRP_MJ_CLEANUP", what))
            simple_irp(h, IRP_MJ_CLOSE);
    }
    emu_lock(rt);
    pending_release(h);
    if (h->dev->handles)
        h->dev->handles--;
    emu_unlock(rt);
    free(h);
}

void emu_ctl_close(emu_ctl *h)
{
    if (h)
        close_handle(h, "CleanupPendingIrp", "after IRP_MJ_CLEANUP of their handle");
}

/* Process exit: the I/O manager cancels every IRP the process has pending
 * and waits for each to complete before it closes the handles. */
void emu_ctl_exit(emu_ctl *h)
{
    if (!h)
        return;
    emu_runtime *rt = h->rt;
    if (!emu_obj_dead(&h->dev->obj) && !emu_stopped(rt)) {
        cancel_pending(h);
        if (!emu_stopped(rt))
            wait_pending_gone(h, "CancelledIrpNotCompleted", "IoCancelIrp",
                              "after their cancellation at process exit");
    }
    close_handle(h, "CleanupPendingIrp", "after IRP_MJ_CLEANUP of their handle");
}
