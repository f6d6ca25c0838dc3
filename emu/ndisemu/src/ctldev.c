/*
 * ctldev.c - control devices (NdisRegisterDeviceEx) and the user-mode side
 * that opens them and sends IRPs (emu_ctl_*).
 */
#include "emu_internal.h"

#include <stdlib.h>
#include <strings.h>

struct emu_ctl {
    emu_runtime *rt;
    emu_ctldev *dev;
    /* The FILE_OBJECT of this open, as the I/O manager creates one per
     * CreateFile: every IRP of the handle carries its address, so a driver
     * can tell its handles apart (IRP_MJ_CLEANUP ends only that handle's
     * requests). Opaque to drivers (include/ddk does not define it). */
    uint64_t file_object[32];
};

typedef struct emu_irp {
    IRP irp;
    IO_STACK_LOCATION stack[2];
    void *sysbuf;
    size_t out_len;
    bool done, completed_once;
    emu_ioctl_done_fn cb;
    void *cb_ctx;
    bool owned;
} emu_irp;

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
    if (!emu_handle_kind(rt, NdisObjectHandle, EMU_HK(K_MP_DRIVER) | EMU_HK(K_PROTOCOL),
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
    emu_ctldev *d = emu_obj_new(rt, sizeof(*d), K_CTLDEV, drv, NULL, 0);
    if (d) {
        snprintf(d->name, sizeof(d->name), "%s", name);
        snprintf(d->link, sizeof(d->link), "%s", link);
        memcpy(d->major, a->MajorFunctions, sizeof(d->major));
        d->ext_size = a->ExtensionSize;
        d->ext = calloc(1, a->ExtensionSize ? a->ExtensionSize : 1);
        d->next = rt->ctldevs;
        rt->ctldevs = d;
    }
    emu_unlock(rt);
    if (!d || !d->ext)
        return NDIS_STATUS_RESOURCES;
    *pDeviceObject = (PDEVICE_OBJECT)d;
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
    if (!d)
        return;
    emu_lock(rt);
    emu_obj_kill(rt, &d->obj);
    emu_unlock(rt);
}

PVOID NdisGetDeviceReservedExtension(PDEVICE_OBJECT DeviceObject)
{
    emu_ctldev *d = (emu_ctldev *)emu_obj_check(emu_rt, DeviceObject, K_CTLDEV,
                                                "NdisGetDeviceReservedExtension");
    return d ? d->ext : NULL;
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

void IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost)
{
    emu_runtime *rt = emu_rt;
    (void)PriorityBoost;
    if (!emu_enter("IoCompleteRequest", "irp=%p status=%#x", (void *)Irp,
                   (unsigned)Irp->IoStatus.Status))
        return;
    emu_irp *e = CONTAINING_RECORD(Irp, emu_irp, irp);
    emu_lock(rt);
    bool twice = e->completed_once;
    e->completed_once = true;
    emu_unlock(rt);
    if (twice) {
        emu_violate(rt, "DoubleCompletion", "IoCompleteRequest", "IRP %p completed twice",
                    (void *)Irp);
        return;
    }
    if (e->cb) {
        size_t n = Irp->IoStatus.Information < e->out_len ? Irp->IoStatus.Information : e->out_len;
        e->cb(e->cb_ctx, Irp->IoStatus.Status, e->sysbuf, n);
    }
    emu_lock(rt);
    e->done = true;
    bool owned = e->owned;
    emu_broadcast(rt);
    emu_unlock(rt);
    if (owned)
        irp_release(rt, e);
}

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
    e->irp.Type = 6;
    e->irp.Size = sizeof(IRP);
    e->irp.StackCount = 1;
    e->irp.CurrentLocation = 1;
    e->irp.AssociatedIrp.SystemBuffer = e->sysbuf;
    e->irp.Tail.Overlay.CurrentStackLocation = &e->stack[0];
    e->stack[0].MajorFunction = major;
    e->stack[0].DeviceObject = (PDEVICE_OBJECT)d;
    e->stack[0].FileObject = (PFILE_OBJECT)h->file_object;
    return e;
}

/* Sends the IRP at PASSIVE_LEVEL. Returns the dispatch routine's status. */
static NTSTATUS send_irp(emu_ctldev *d, emu_irp *e)
{
    UCHAR major = e->stack[0].MajorFunction;
    if (!d->major[major]) {
        e->irp.IoStatus.Status =
            major == IRP_MJ_DEVICE_CONTROL ? STATUS_INVALID_DEVICE_REQUEST : STATUS_SUCCESS;
        IofCompleteRequest(&e->irp, 0);
        return e->irp.IoStatus.Status;
    }
    emu_cb_scope s;
    emu_cb_begin(&s, "DriverDispatch", d->obj.drv, NULL, PASSIVE_LEVEL);
    NTSTATUS st = d->major[major]((PDEVICE_OBJECT)d, &e->irp);
    emu_cb_end(&s);
    return st;
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
    NTSTATUS st = send_irp(h->dev, e);
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

int emu_ctl_open(emu_runtime *rt, const char *name, emu_ctl **out)
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
    if (!found)
        return EMU_ERR_NOTFOUND;
    emu_ctl *h = calloc(1, sizeof(*h));
    if (!h)
        return EMU_ERR_NOMEM;
    h->rt = rt;
    h->dev = found;
    int err = simple_irp(h, IRP_MJ_CREATE);
    if (err) {
        free(h);
        return err;
    }
    *out = h;
    return EMU_OK;
}

static emu_irp *ioctl_irp(emu_ctl *h, uint32_t code, const void *in, size_t in_len, size_t out_len)
{
    emu_irp *e = irp_new(h, IRP_MJ_DEVICE_CONTROL, in_len > out_len ? in_len : out_len);
    if (!e)
        return NULL;
    if (in_len)
        memcpy(e->sysbuf, in, in_len);
    e->out_len = out_len;
    e->stack[0].Parameters.DeviceIoControl.IoControlCode = code;
    e->stack[0].Parameters.DeviceIoControl.InputBufferLength = (ULONG)in_len;
    e->stack[0].Parameters.DeviceIoControl.OutputBufferLength = (ULONG)out_len;
    return e;
}

int emu_ctl_ioctl(emu_ctl *h, uint32_t code, const void *in, size_t in_len, void *out,
                  size_t out_len, size_t *returned, int32_t *ntstatus)
{
    if (!h || (in_len && !in) || (out_len && !out))
        return EMU_ERR_INVAL;
    emu_irp *e = ioctl_irp(h, code, in, in_len, out_len);
    if (!e)
        return EMU_ERR_NOMEM;
    NTSTATUS st = send_irp(h->dev, e);
    if (st == STATUS_PENDING && !emu_wait(h->rt, irp_done, e, EMU_WAIT_NS)) {
        /* Still pending: the IRP stays with the driver; it is freed when completed. */
        emu_lock(h->rt);
        e->owned = !e->done;
        emu_unlock(h->rt);
        if (e->owned)
            return emu_stopped(h->rt) ? EMU_ERR_STOPPED : EMU_ERR_TIMEOUT;
    }
    size_t n = e->irp.IoStatus.Information < out_len ? e->irp.IoStatus.Information : out_len;
    if (n)
        memcpy(out, e->sysbuf, n);
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
    emu_irp *e = ioctl_irp(h, code, in, in_len, out_len);
    if (!e)
        return EMU_ERR_NOMEM;
    e->cb = done;
    e->cb_ctx = ctx;
    e->owned = true;
    send_irp(h->dev, e);
    return EMU_OK;
}

void emu_ctl_close(emu_ctl *h)
{
    if (!h)
        return;
    if (!emu_obj_dead(&h->dev->obj) && !emu_stopped(h->rt)) {
        simple_irp(h, IRP_MJ_CLEANUP);
        simple_irp(h, IRP_MJ_CLOSE);
    }
    free(h);
}
