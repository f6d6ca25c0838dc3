/*
 * ctl.c - the control device (\Device\vfo, \\.\vfo) of driver/include/
 * vfo_ctl.h: version, a snapshot of every pair, and a wait for the next
 * change. It only reports; nothing on it reaches the data path. Only SYSTEM
 * and Administrators may open it (VFO_CTL_SDDL), and every request is checked
 * with vfo_ctl_check_request() before anything is read or written.
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "ctl.tmh"
#endif

#ifndef STATUS_INVALID_BUFFER_SIZE
#define STATUS_INVALID_BUFFER_SIZE ((NTSTATUS)0xC0000206L)
#endif
#ifndef STATUS_REVISION_MISMATCH
#define STATUS_REVISION_MISMATCH ((NTSTATUS)0xC0000059L)
#endif
#ifndef STATUS_DELETE_PENDING
#define STATUS_DELETE_PENDING ((NTSTATUS)0xC0000056L)
#endif
#ifndef STATUS_DEVICE_BUSY
#define STATUS_DEVICE_BUSY ((NTSTATUS)0x80000011L)
#endif

#define VFO_CTL_READY (2 * VFO_CTL_MAX_WAITERS)

static DRIVER_DISPATCH vfo_ctl_dispatch;

/* Waits whose generation moved, completed outside the lock (vfo_ctl_flush). */
static PIRP g_ready[VFO_CTL_READY];

uint32_t vfo_ctl_reason(fo_reason r)
{
    switch (r) {
    case FO_R_NOT_ETHERNET:
        return VFO_CTL_REFUSE_NOT_ETHERNET;
    case FO_R_IS_VFO_ADAPTER:
        return VFO_CTL_REFUSE_IS_VFO;
    case FO_R_STANDBY_NOT_NEGOTIATED:
        return VFO_CTL_REFUSE_NO_STANDBY;
    case FO_R_FAILOVER_DISABLED:
        return VFO_CTL_REFUSE_FAILOVER_DISABLED;
    case FO_R_MTU_MISMATCH:
        return VFO_CTL_REFUSE_MTU_MISMATCH;
    case FO_R_STANDBY_HAS_PRIMARY:
        return VFO_CTL_REFUSE_ALREADY_PAIRED;
    case FO_R_OPEN_FAILED:
        return VFO_CTL_REFUSE_OPEN_FAILED;
    default:
        return VFO_CTL_REFUSE_OTHER;
    }
}

/* g_vfo.lock held. Keeps the candidate in the adapter's list of the most
 * recent distinct refusals (the oldest leaves when it is full). */
void vfo_refusal_record_locked(vfo_adapter *ad, const vfo_binding *b, fo_reason why)
{
    uint32_t reason = vfo_ctl_reason(why);
    for (ULONG i = 0; i < ad->n_refused; i++) {
        vfo_refused *r = &ad->refused[i];
        if (NdisEqualMemory(&r->id.guid, &b->id.guid, sizeof(r->id.guid)) &&
            NdisEqualMemory(r->id.permanent_mac, b->id.permanent_mac, 6)) {
            r->count++;
            if (r->reason != reason) {
                r->reason = reason;
                vfo_generation_bump_locked();
            }
            return;
        }
    }
    if (ad->n_refused == VFO_CTL_MAX_REFUSALS) {
        for (ULONG i = 1; i < VFO_CTL_MAX_REFUSALS; i++)
            ad->refused[i - 1] = ad->refused[i];
        ad->n_refused--;
    }
    vfo_refused *r = &ad->refused[ad->n_refused++];
    r->id = b->id;
    r->reason = reason;
    r->count = 1;
    vfo_generation_bump_locked();
}

/* g_vfo.lock held: the candidate paired after all. */
void vfo_refusal_forget_locked(vfo_adapter *ad, const UCHAR mac[6])
{
    ULONG k = 0;
    for (ULONG i = 0; i < ad->n_refused; i++) {
        if (NdisEqualMemory(ad->refused[i].id.permanent_mac, mac, 6))
            continue;
        ad->refused[k++] = ad->refused[i];
    }
    if (k != ad->n_refused) {
        ad->n_refused = k;
        vfo_generation_bump_locked();
    }
}

/* ---- snapshot ---------------------------------------------------------- */

static void fill_vfo_ifid(const vfo_adapter *ad, struct vfo_ctl_ifid *id)
{
    id->guid = ad->guid;
    id->net_luid = ad->luid.Value;
    id->if_index = ad->if_index;
    NdisMoveMemory(id->current_mac, ad->cur_mac, 6);
    NdisMoveMemory(id->permanent_mac, ad->perm_mac, 6);
}

static void fill_counters(const vfo_adapter *ad, const fo_pair_info *info,
                          struct vfo_ctl_counters *c)
{
    c->attaches = vfo_count_get(&ad->ctr.attaches);
    c->detaches = vfo_count_get(&ad->ctr.detaches);
    c->switches_to_primary = vfo_count_get(&ad->ctr.to_primary);
    c->switches_to_standby = vfo_count_get(&ad->ctr.to_standby);
    c->tx_primary_packets = vfo_count_get(&ad->ctr.tx_primary);
    c->tx_standby_packets = vfo_count_get(&ad->ctr.tx_standby);
    c->rx_primary_packets = vfo_count_get(&ad->ctr.rx_primary);
    c->rx_standby_packets = vfo_count_get(&ad->ctr.rx_standby);
    c->tx_resent_on_standby = info->tx_resends;
    c->replay_failures = vfo_count_get(&ad->ctr.replay_failures);
    c->refusals = vfo_count_get(&ad->ctr.refusals);
    c->announces = vfo_count_get(&ad->ctr.announces);
}

/* g_vfo.lock held. */
static void fill_adapter(vfo_adapter *ad, struct vfo_ctl_adapter *out)
{
    fo_pair_info info;
    fo_pair_get_info(&ad->pair, &info);
    fill_vfo_ifid(ad, &out->vfo);
    out->pair_state = (uint32_t)info.state;
    if (info.state != FO_ABSENT && ad->bind)
        out->vf = ad->bind->id;
    out->flags =
        (ad->cfg.failover ? VFO_CTL_ADAPTER_FAILOVER_ENABLED : 0) |
        (vnet_has_feature(ad->vn, VNET_F_STANDBY) ? VFO_CTL_ADAPTER_STANDBY_NEGOTIATED : 0) |
        (info.link.up ? VFO_CTL_ADAPTER_LINK_UP : 0) |
        (info.tx_path == FO_PATH_PRIMARY ? VFO_CTL_ADAPTER_TX_ON_PRIMARY : 0);
    out->refusal_count = ad->n_refused;
    for (ULONG i = 0; i < ad->n_refused; i++) {
        out->refused[i].candidate = ad->refused[i].id;
        out->refused[i].reason = ad->refused[i].reason;
        out->refused[i].count = ad->refused[i].count;
    }
    fill_counters(ad, &info, &out->counters);
}

static void query_pairs(struct vfo_ctl_pairs *p)
{
    NdisZeroMemory(p, sizeof(*p));
    p->abi_version = VFO_CTL_ABI_VERSION;
    p->size = sizeof(*p);
    vfo_lock();
    p->generation = (uint64_t)g_vfo.generation;
    p->bad_requests = (uint64_t)g_vfo.bad_requests;
    p->unmatched_binds = (uint64_t)g_vfo.unmatched_binds;
    for (LIST_ENTRY *e = g_vfo.adapters.Flink; e != &g_vfo.adapters; e = e->Flink) {
        if (p->adapter_count == VFO_CTL_MAX_ADAPTERS) {
            p->flags |= VFO_CTL_PAIRS_TRUNCATED;
            break;
        }
        fill_adapter(CONTAINING_RECORD(e, vfo_adapter, entry), &p->adapters[p->adapter_count++]);
    }
    vfo_unlock();
}

static void fill_device(vfo_adapter *ad, struct vfo_ctl_device *out)
{
    struct vfo_ctl_device_errors *e = &out->errors;
    fill_vfo_ifid(ad, &out->vfo);
    e->used_id_range = vfo_count_get(&ad->ctr.used_id_range);
    e->used_id_not_in_flight = vfo_count_get(&ad->ctr.used_id_not_in_flight);
    e->used_len = vfo_count_get(&ad->ctr.used_len);
    e->used_idx_jump = vfo_count_get(&ad->ctr.used_idx_jump);
    e->device_resets = vfo_count_get(&ad->ctr.device_resets);
    if (ad->vn) {
        /* Each path writes its own counters under its lock; one lock at
         * a time (g_vfo.lock held: DISPATCH_LEVEL already). */
        vnet_stats s;
        NdisDprAcquireSpinLock(&ad->rx_lock);
        vnet_get_rx_stats(ad->vn, &s.rx);
        NdisDprReleaseSpinLock(&ad->rx_lock);
        NdisDprAcquireSpinLock(&ad->ctrl_lock);
        vnet_get_ctrl_stats(ad->vn, &s.ctrl, &s.cfg);
        NdisDprReleaseSpinLock(&ad->ctrl_lock);
        e->config_read_failures = s.cfg.err_read;
        e->config_invalid = s.cfg.err_mac + s.cfg.err_mtu + s.cfg.err_mtu_changed +
                            s.cfg.err_speed + s.cfg.err_duplex + s.cfg.err_status +
                            s.cfg.err_announce;
        e->ctrl_bad_answers = s.ctrl.bad_ack + s.ctrl.no_ack;
        e->ctrl_timeouts = s.ctrl.timeouts;
        e->rx_malformed = s.rx.err_runt + s.rx.err_num_buffers + s.rx.err_frame_short +
                          s.rx.err_frame_long + s.rx.err_gso + s.rx.err_csum;
    }
}

static void query_devices(struct vfo_ctl_devices *d)
{
    NdisZeroMemory(d, sizeof(*d));
    d->abi_version = VFO_CTL_ABI_VERSION;
    d->size = sizeof(*d);
    vfo_lock();
    for (LIST_ENTRY *e = g_vfo.adapters.Flink; e != &g_vfo.adapters; e = e->Flink) {
        if (d->adapter_count == VFO_CTL_MAX_ADAPTERS) {
            d->flags |= VFO_CTL_PAIRS_TRUNCATED;
            break;
        }
        fill_device(CONTAINING_RECORD(e, vfo_adapter, entry), &d->adapters[d->adapter_count++]);
    }
    vfo_unlock();
}

/* ---- waiters ------------------------------------------------------------- */

static void complete_irp(PIRP irp, NTSTATUS st, ULONG_PTR info)
{
    irp->IoStatus.Status = st;
    irp->IoStatus.Information = info;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

static void answer_wait(PIRP irp, uint64_t generation)
{
    struct vfo_ctl_wait *w = irp->AssociatedIrp.SystemBuffer;
    w->abi_version = VFO_CTL_ABI_VERSION;
    w->size = sizeof(*w);
    w->generation = generation;
    complete_irp(irp, STATUS_SUCCESS, sizeof(*w));
}

/*
 * The waiting IRPs form one cancel-safe queue (g_vfo.waiters, under
 * g_vfo.lock), kept by hand as Microsoft documents for a driver-managed
 * queue with a driver-supplied lock (IoCsq is not used):
 *   - an IRP enters the queue first, then gets its cancel routine; if it
 *     was cancelled meanwhile and the routine can still be taken back, it
 *     leaves again and completes cancelled;
 *   - whoever takes an IRP out (a change, cleanup, the device going away)
 *     first takes its cancel routine back with IoSetCancelRoutine(NULL); a
 *     NULL answer means the cancel routine runs or will run: the IRP stays
 *     in the queue for it;
 *   - the cancel routine takes the IRP out of the queue and completes it.
 * So an IRP is always either in the queue (the cancel routine can find it)
 * or owned by exactly one path that completes it.
 */
static DRIVER_CANCEL vfo_ctl_cancel;
static void vfo_ctl_cancel(PDEVICE_OBJECT dev, PIRP irp)
{
    bool mine = false;
    (void)dev;
    IoReleaseCancelSpinLock(irp->CancelIrql);
    vfo_lock();
    for (ULONG i = 0; i < VFO_CTL_MAX_WAITERS; i++) {
        if (g_vfo.waiters[i] == irp) {
            g_vfo.waiters[i] = NULL;
            mine = true;
        }
    }
    vfo_unlock();
    /* Not in the queue: cannot happen (see above); never complete twice. */
    if (mine)
        complete_irp(irp, STATUS_CANCELLED, 0);
}

/* g_vfo.lock held: true when the IRP in slot i is ours to complete (its
 * cancel routine taken back); it is then out of the queue. */
static bool take_waiter_locked(ULONG i)
{
    if (IoSetCancelRoutine(g_vfo.waiters[i], NULL) == NULL)
        return false; /* cancelled: its cancel routine takes it out */
    g_vfo.waiters[i] = NULL;
    return true;
}

/* g_vfo.lock held: the generation moved; waiting IRPs become ready. */
void vfo_ctl_wake_locked(void)
{
    for (ULONG i = 0; i < VFO_CTL_MAX_WAITERS; i++) {
        if (!g_vfo.waiters[i])
            continue;
        for (ULONG k = 0; k < VFO_CTL_READY; k++) {
            if (g_ready[k])
                continue;
            PIRP irp = g_vfo.waiters[i];
            if (take_waiter_locked(i))
                g_ready[k] = irp;
            break;
        }
    }
}

/* Completes the ready waits; called with no lock held. They left the queue
 * with their cancel routine taken back: no cancel can reach them now. */
void vfo_ctl_flush(void)
{
    PIRP done[VFO_CTL_READY];
    ULONG n = 0;
    vfo_lock();
    uint64_t gen = (uint64_t)g_vfo.generation;
    for (ULONG k = 0; k < VFO_CTL_READY; k++) {
        if (g_ready[k])
            done[n++] = g_ready[k];
        g_ready[k] = NULL;
    }
    vfo_unlock();
    for (ULONG i = 0; i < n; i++)
        answer_wait(done[i], gen);
}

static NTSTATUS start_wait(PIRP irp)
{
    const struct vfo_ctl_wait *w = irp->AssociatedIrp.SystemBuffer;
    vfo_lock();
    uint64_t gen = (uint64_t)g_vfo.generation;
    if (w->generation != gen) {
        vfo_unlock();
        answer_wait(irp, gen);
        return STATUS_SUCCESS;
    }
    for (ULONG i = 0; i < VFO_CTL_MAX_WAITERS; i++) {
        if (g_vfo.waiters[i])
            continue;
        IoMarkIrpPending(irp);
        g_vfo.waiters[i] = irp; /* in the queue before it is cancelable */
        IoSetCancelRoutine(irp, vfo_ctl_cancel);
        if (irp->Cancel && take_waiter_locked(i)) {
            vfo_unlock(); /* cancelled before it was queued: ours */
            complete_irp(irp, STATUS_CANCELLED, 0);
            return STATUS_PENDING;
        }
        vfo_unlock();
        return STATUS_PENDING;
    }
    g_vfo.bad_requests++;
    vfo_unlock();
    complete_irp(irp, STATUS_DEVICE_BUSY, 0);
    return STATUS_DEVICE_BUSY;
}

/* Every wait of this handle (or, with all, every wait) ends cancelled. */
static void cancel_waits(PFILE_OBJECT file, bool all)
{
    PIRP done[VFO_CTL_MAX_WAITERS];
    ULONG n = 0;
    vfo_lock();
    for (ULONG i = 0; i < VFO_CTL_MAX_WAITERS; i++) {
        PIRP irp = g_vfo.waiters[i];
        if (irp && (all || IoGetCurrentIrpStackLocation(irp)->FileObject == file) &&
            take_waiter_locked(i))
            done[n++] = irp;
    }
    vfo_unlock();
    for (ULONG i = 0; i < n; i++)
        complete_irp(done[i], STATUS_CANCELLED, 0);
}

/* ---- dispatch ------------------------------------------------------------ */

static NTSTATUS check_status(int check)
{
    switch (check) {
    case VFO_CTL_CHECK_UNKNOWN_IOCTL:
        return STATUS_INVALID_DEVICE_REQUEST;
    case VFO_CTL_CHECK_INPUT_SIZE:
    case VFO_CTL_CHECK_OUTPUT_SIZE:
        return STATUS_INVALID_BUFFER_SIZE;
    case VFO_CTL_CHECK_VERSION:
        return STATUS_REVISION_MISMATCH;
    default:
        return STATUS_INVALID_PARAMETER;
    }
}

static NTSTATUS device_control(PIRP irp, PIO_STACK_LOCATION sl)
{
    ULONG code = sl->Parameters.DeviceIoControl.IoControlCode;
    ULONG in_len = sl->Parameters.DeviceIoControl.InputBufferLength;
    ULONG out_len = sl->Parameters.DeviceIoControl.OutputBufferLength;
    PVOID buf = irp->AssociatedIrp.SystemBuffer;
    int check = vfo_ctl_check_request(code, in_len ? buf : NULL, in_len, out_len);
    if (check == VFO_CTL_CHECK_OK && out_len && !buf)
        check = VFO_CTL_CHECK_OUTPUT_SIZE;
    if (check != VFO_CTL_CHECK_OK) {
        NTSTATUS st = check_status(check);
        vfo_lock();
        g_vfo.bad_requests++;
        vfo_unlock();
        complete_irp(irp, st, 0);
        return st;
    }
    switch (code) {
    case IOCTL_VFO_QUERY_VERSION: {
        struct vfo_ctl_version *v = buf;
        v->abi_version = VFO_CTL_ABI_VERSION;
        v->size = sizeof(*v);
        v->driver_version = ((uint32_t)VFO_MAJOR_VERSION << 16) | VFO_MINOR_VERSION;
        v->pairs_size = sizeof(struct vfo_ctl_pairs);
        complete_irp(irp, STATUS_SUCCESS, sizeof(*v));
        return STATUS_SUCCESS;
    }
    case IOCTL_VFO_QUERY_PAIRS:
        query_pairs(buf);
        complete_irp(irp, STATUS_SUCCESS, sizeof(struct vfo_ctl_pairs));
        return STATUS_SUCCESS;
    case IOCTL_VFO_QUERY_DEVICES:
        query_devices(buf);
        complete_irp(irp, STATUS_SUCCESS, sizeof(struct vfo_ctl_devices));
        return STATUS_SUCCESS;
    default: /* IOCTL_VFO_WAIT_CHANGE */
        return start_wait(irp);
    }
}

static NTSTATUS vfo_ctl_dispatch(PDEVICE_OBJECT dev, PIRP irp)
{
    PIO_STACK_LOCATION sl = IoGetCurrentIrpStackLocation(irp);
    (void)dev;
    switch (sl->MajorFunction) {
    case IRP_MJ_CREATE:
    case IRP_MJ_CLOSE:
        complete_irp(irp, STATUS_SUCCESS, 0);
        return STATUS_SUCCESS;
    case IRP_MJ_CLEANUP:
        cancel_waits(sl->FileObject, false);
        complete_irp(irp, STATUS_SUCCESS, 0);
        return STATUS_SUCCESS;
    case IRP_MJ_DEVICE_CONTROL:
        if (!g_vfo.ctl_handle) {
            /* Deregistered with the last adapter, reached through a handle
             * still open: refuse, so the program closes it (an open handle
             * keeps the device object, and with it vfo, from going). */
            complete_irp(irp, STATUS_DELETE_PENDING, 0);
            return STATUS_DELETE_PENDING;
        }
        return device_control(irp, sl);
    default:
        complete_irp(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
        return STATUS_INVALID_DEVICE_REQUEST;
    }
}

static NDIS_STATUS ctl_register(void)
{
    static PDRIVER_DISPATCH major[IRP_MJ_MAXIMUM_FUNCTION + 1];
    /* Narrow literals: NDIS_STRING_CONST widens them for the platform. */
    static NDIS_STRING name = NDIS_STRING_CONST("\\Device\\vfo");
    static NDIS_STRING link = NDIS_STRING_CONST("\\DosDevices\\Global\\vfo");
    static NDIS_STRING sddl = NDIS_STRING_CONST("D:P(A;;GA;;;SY)(A;;GA;;;BA)");
    NDIS_DEVICE_OBJECT_ATTRIBUTES a;
    major[IRP_MJ_CREATE] = vfo_ctl_dispatch;
    major[IRP_MJ_CLOSE] = vfo_ctl_dispatch;
    major[IRP_MJ_CLEANUP] = vfo_ctl_dispatch;
    major[IRP_MJ_DEVICE_CONTROL] = vfo_ctl_dispatch;
    NdisZeroMemory(&a, sizeof(a));
    VFO_INIT_HEADER(&a.Header, NDIS_OBJECT_TYPE_DEVICE_OBJECT_ATTRIBUTES,
                    NDIS_DEVICE_OBJECT_ATTRIBUTES_REVISION_1,
                    NDIS_SIZEOF_DEVICE_OBJECT_ATTRIBUTES_REVISION_1);
    a.DeviceName = &name;
    a.SymbolicName = &link;
    a.MajorFunctions = major;
    a.DefaultSDDLString = &sddl;
    return NdisRegisterDeviceEx(g_vfo.mp_driver, &a, &g_vfo.ctl_device, &g_vfo.ctl_handle);
}

static void ctl_deregister(void)
{
    if (!g_vfo.ctl_handle)
        return;
    cancel_waits(NULL, true);
    vfo_ctl_flush();
    NdisDeregisterDeviceEx(g_vfo.ctl_handle);
    g_vfo.ctl_handle = NULL;
    g_vfo.ctl_device = NULL;
}

/*
 * The control device exists while vfo drives an adapter: registered when the
 * first one initializes, deregistered when the last one halts. A device
 * object keeps a PnP driver loaded (the system unloads a miniport driver
 * only when its devices are gone), so one registered in DriverEntry would
 * make every update or uninstall wait for a reboot; Microsoft's mux sample
 * ties its device to its adapters for that reason. Without an adapter there
 * is nothing to report: vfosvc treats "no device" as "no vfo adapter" and
 * opens it again when an adapter arrives (docs/vfosvc.md).
 *
 * Initialize and halt of different adapters may run at once: a gate (taken
 * at PASSIVE_LEVEL, where both run) orders the count and the calls.
 */
static LONG g_ctl_gate;
static ULONG g_ctl_users;

static void ctl_gate_enter(void)
{
    while (InterlockedCompareExchange(&g_ctl_gate, 1, 0) != 0)
        NdisMSleep(1000);
}

static void ctl_gate_leave(void)
{
    InterlockedExchange(&g_ctl_gate, 0);
}

/* MiniportInitializeEx succeeded. */
void vfo_ctl_adapter_up(void)
{
    ctl_gate_enter();
    if (g_ctl_users++ == 0) {
        NDIS_STATUS st = ctl_register();
        /* The data path does not need it: run without (the service then
         * reports the device unavailable). */
        if (st != NDIS_STATUS_SUCCESS) {
            g_vfo.ctl_handle = NULL;
            VFO_ERR("control device not registered (%#x); pairs cannot be queried", (unsigned)st);
        }
    }
    ctl_gate_leave();
}

/* MiniportHaltEx is done with the adapter. */
void vfo_ctl_adapter_down(void)
{
    ctl_gate_enter();
    if (g_ctl_users > 0 && --g_ctl_users == 0)
        ctl_deregister();
    ctl_gate_leave();
}

/* Unload: every adapter halted, so nothing is registered; kept for a
 * driver whose counts went wrong rather than leave a device behind. */
void vfo_ctl_unload(void)
{
    ctl_deregister();
    g_ctl_users = 0;
}
