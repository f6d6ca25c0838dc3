/*
 * mp_intr.c - interrupts: MSI-X with one message (and one DPC) per queue
 * plus one for configuration changes when four are granted (the vectors
 * lib/vnet programs: rx 0, tx 1, ctrl 2, config 3), one shared message
 * otherwise, or the INTx line with the ISR status register. Also the control
 * queue's timeout tick and the device configuration-change handling.
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "mp_intr.tmh"
#endif

#define VFO_MSG_RX        0
#define VFO_MSG_TX        1
#define VFO_MSG_CTRL      2
#define VFO_MSG_CONFIG    3
#define VFO_MSG_PER_QUEUE 4 /* messages needed for one per queue + config */
#define VFO_CTRL_TICK_MS  100

static void ctrl_poll(vfo_adapter *ad)
{
    NdisDprAcquireSpinLock(&ad->ctrl_lock);
    if (!ad->resetting && ad->vn && vnet_is_started(ad->vn)) {
        vnet_ctrl_poll(ad->vn);
        vfo_rx_filter_retry(ad);
        if (ad->ctrl_timer_armed && vnet_ctrl_pending(ad->vn) == 0) {
            /* Nothing left to age. A tick whose DPC is already queued still
             * runs; it finds nothing pending. */
            ad->ctrl_timer_armed = false;
            NdisCancelTimerObject(ad->ctrl_timer);
        }
        vfo_ctrl_tick_start(ad);
    }
    NdisDprReleaseSpinLock(&ad->ctrl_lock);
}

/* The receive DPC again, on the processor that asks (NdisMQueueDpcEx's
 * TargetProcessors is not optional: NDIS reads the group and mask). */
static void queue_rx_dpc(vfo_adapter *ad, ULONG msg)
{
    PROCESSOR_NUMBER pn;
    GROUP_AFFINITY here;
    NdisZeroMemory(&here, sizeof(here));
    KeGetCurrentProcessorNumberEx(&pn);
    here.Group = pn.Group;
    here.Mask = (KAFFINITY)1 << pn.Number;
    NdisMQueueDpcEx(ad->intr, msg, &here, NULL);
}

/* Receive side throttling: at most what NDIS allows this DPC. Frames left
 * over run in the DPC NDIS queues again for MoreNblsPending; when NDIS left
 * the number to us (NDIS_INDICATE_ALL_NBLS, or no parameters before NDIS
 * 6.20) MoreNblsPending must stay FALSE and we queue the DPC ourselves:
 * either way each DPC stays short (no DPC watchdog under a flood). */
static void rx_dpc(vfo_adapter *ad, ULONG msg, PNDIS_RECEIVE_THROTTLE_PARAMETERS tp)
{
    ULONG max = tp ? tp->MaxNblsToIndicate : NDIS_INDICATE_ALL_NBLS;
    if (!vfo_rx_poll(ad, max))
        return;
    if (max != NDIS_INDICATE_ALL_NBLS)
        tp->MoreNblsPending = 1;
    else
        queue_rx_dpc(ad, msg);
}

/* Frames that arrived while nothing polled (paused, resetting): the
 * receive DPC takes them, within its throttle. */
void vfo_rx_schedule(vfo_adapter *ad)
{
    if (ad->intr)
        queue_rx_dpc(ad, ad->os.msix_granted >= VFO_MSG_PER_QUEUE ? VFO_MSG_RX : 0);
}

static void service_all(vfo_adapter *ad, bool config, ULONG msg,
                        PNDIS_RECEIVE_THROTTLE_PARAMETERS tp)
{
    rx_dpc(ad, msg, tp);
    vfo_tx_reap(ad);
    ctrl_poll(ad);
    if (config)
        vfo_config_changed(ad);
}

static MINIPORT_MESSAGE_INTERRUPT MpMessageIsr;
static BOOLEAN MpMessageIsr(NDIS_HANDLE ctx, ULONG msg, PBOOLEAN queue_dpc, PULONG targets)
{
    (void)ctx;
    (void)msg;
    (void)targets;
    *queue_dpc = TRUE; /* MSI-X: the message itself says which queue */
    return TRUE;
}

static MINIPORT_MESSAGE_INTERRUPT_DPC MpMessageDpc;
static void MpMessageDpc(NDIS_HANDLE ctx, ULONG msg, PVOID dpc_ctx, PVOID throttle, PVOID reserved)
{
    vfo_adapter *ad = ctx;
    (void)dpc_ctx;
    (void)reserved;
    if (ad->os.msix_granted < VFO_MSG_PER_QUEUE) {
        service_all(ad, true, msg, throttle);
        return;
    }
    switch (msg) {
    case VFO_MSG_RX:
        rx_dpc(ad, msg, throttle);
        break;
    case VFO_MSG_TX:
        vfo_tx_reap(ad);
        break;
    case VFO_MSG_CTRL:
        ctrl_poll(ad);
        break;
    case VFO_MSG_CONFIG:
        vfo_config_changed(ad);
        break;
    default:
        break;
    }
}

static MINIPORT_DISABLE_MESSAGE_INTERRUPT MpDisableMessage;
static void MpDisableMessage(NDIS_HANDLE ctx, ULONG msg)
{
    (void)ctx;
    (void)msg;
}

static MINIPORT_ENABLE_MESSAGE_INTERRUPT MpEnableMessage;
static void MpEnableMessage(NDIS_HANDLE ctx, ULONG msg)
{
    (void)ctx;
    (void)msg;
}

/* INTx: reading the ISR status register acknowledges the interrupt. */
static MINIPORT_ISR MpIsr;
static BOOLEAN MpIsr(NDIS_HANDLE ctx, PBOOLEAN queue_dpc, PULONG targets)
{
    vfo_adapter *ad = ctx;
    (void)targets;
    *queue_dpc = FALSE;
    if (!ad->vn || ad->surprise_removed)
        return FALSE;
    uint8_t isr = vio_dev_read_isr(vnet_vio_dev(ad->vn));
    if (isr == 0 || isr == 0xFF) /* not ours, or the device is gone */
        return FALSE;
    InterlockedOr(&ad->isr_bits, isr);
    *queue_dpc = TRUE;
    return TRUE;
}

static MINIPORT_INTERRUPT_DPC MpDpc;
static void MpDpc(NDIS_HANDLE ctx, PVOID dpc_ctx, PVOID throttle, PVOID reserved)
{
    vfo_adapter *ad = ctx;
    (void)dpc_ctx;
    (void)reserved;
    LONG bits = InterlockedExchange(&ad->isr_bits, 0);
    service_all(ad, (bits & VIO_ISR_CONFIG) != 0, 0, throttle);
}

static MINIPORT_DISABLE_INTERRUPT MpDisableInterrupt;
static void MpDisableInterrupt(NDIS_HANDLE ctx)
{
    (void)ctx;
}

static MINIPORT_ENABLE_INTERRUPT MpEnableInterrupt;
static void MpEnableInterrupt(NDIS_HANDLE ctx)
{
    (void)ctx;
}

/* ctrl_lock held (halt's ctrl_stopped is read under it). */
static void ctrl_timer_set(vfo_adapter *ad)
{
    LARGE_INTEGER due;
    due.QuadPart = -(LONGLONG)VFO_CTRL_TICK_MS * 10000; /* relative, 100 ns units */
    NdisSetTimerObject(ad->ctrl_timer, due, 0, NULL);
}

/* While control commands are outstanding: age them, and recover the device
 * when one timed out (it holds the slot until a reset). */
static NDIS_TIMER_FUNCTION ctrl_tick;
static void ctrl_tick(PVOID s1, PVOID ctx, PVOID s2, PVOID s3)
{
    vfo_adapter *ad = ctx;
    unsigned timed_out = 0;
    bool again = false;
    (void)s1;
    (void)s2;
    (void)s3;
    NdisDprAcquireSpinLock(&ad->ctrl_lock);
    if (!ad->ctrl_stopped && !ad->resetting && ad->vn && vnet_is_started(ad->vn)) {
        vnet_ctrl_poll(ad->vn);
        timed_out = vnet_ctrl_tick(ad->vn, VFO_CTRL_TICK_MS);
        vfo_rx_filter_retry(ad);
        again = vnet_ctrl_pending(ad->vn) > 0;
    }
    ad->ctrl_timer_armed = again;
    if (again)
        ctrl_timer_set(ad);
    NdisDprReleaseSpinLock(&ad->ctrl_lock);
    if (timed_out) {
        VFO_WARN("%u control command(s) timed out: resetting the device", timed_out);
        vfo_request_reset(ad);
    }
}

/* ctrl_lock held: starts the timeout tick when commands are outstanding and
 * it is not running. Set under the lock that halt's ctrl_stopped is set
 * under, so after it no expiry is set again. */
void vfo_ctrl_tick_start(vfo_adapter *ad)
{
    if (ad->ctrl_stopped || ad->resetting || ad->ctrl_timer_armed || vnet_ctrl_pending(ad->vn) == 0)
        return;
    ad->ctrl_timer_armed = true;
    ctrl_timer_set(ad);
}

/* Halt, after the device stopped: nobody sets the tick again (ctrl_stopped,
 * under ctrl_lock like every set), a set expiry is cancelled, and
 * KeFlushQueuedDpcs waits for one whose DPC is queued or running. Only then
 * may the timer be freed: NdisCancelTimerObject does not wait for a one-shot
 * timer's callback. Waiting for a count of callbacks instead cannot work: a
 * timer has one DPC, and an expiry that fires while it is still queued
 * joins it (two sets, one callback). */
static void ctrl_tick_quiesce(vfo_adapter *ad)
{
    NdisAcquireSpinLock(&ad->ctrl_lock);
    ad->ctrl_stopped = true;
    NdisCancelTimerObject(ad->ctrl_timer);
    NdisReleaseSpinLock(&ad->ctrl_lock);
    KeFlushQueuedDpcs();
}

NDIS_STATUS vfo_intr_register(vfo_adapter *ad)
{
    NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS ic;
    NdisZeroMemory(&ic, sizeof(ic));
    VFO_INIT_HEADER(&ic.Header, NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT,
                    NDIS_MINIPORT_INTERRUPT_REVISION_1,
                    NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1);
    ic.InterruptHandler = MpIsr;
    ic.InterruptDpcHandler = MpDpc;
    ic.DisableInterruptHandler = MpDisableInterrupt;
    ic.EnableInterruptHandler = MpEnableInterrupt;
    ic.MsiSupported = TRUE;
    ic.MsiSyncWithAllMessages = TRUE;
    ic.MessageInterruptHandler = MpMessageIsr;
    ic.MessageInterruptDpcHandler = MpMessageDpc;
    ic.DisableMessageInterruptHandler = MpDisableMessage;
    ic.EnableMessageInterruptHandler = MpEnableMessage;
    if (!vfo_timer_alloc(ad->handle, ctrl_tick, ad, &ad->ctrl_timer))
        return NDIS_STATUS_RESOURCES;
    ad->reset_work = NdisAllocateIoWorkItem(ad->handle);
    if (!ad->reset_work)
        return NDIS_STATUS_RESOURCES;
    NDIS_STATUS st = NdisMRegisterInterruptEx(ad->handle, ad, &ic, &ad->intr);
    if (st != NDIS_STATUS_SUCCESS) {
        ad->intr = NULL;
        VFO_ERR("NdisMRegisterInterruptEx failed %#x", (unsigned)st);
        return st;
    }
    if (ic.InterruptType == NDIS_CONNECT_MESSAGE_BASED && ic.MessageInfoTable) {
        ad->msix = true;
        ad->os.msix_granted = ic.MessageInfoTable->MessageCount;
    }
    VFO_INFO("interrupts: %s, %lu message(s)", ad->msix ? "MSI-X" : "line",
             (unsigned long)ad->os.msix_granted);
    return NDIS_STATUS_SUCCESS;
}

void vfo_intr_deregister(vfo_adapter *ad)
{
    if (ad->intr)
        NdisMDeregisterInterruptEx(ad->intr);
    ad->intr = NULL;
    if (ad->ctrl_timer) {
        ctrl_tick_quiesce(ad);
        NdisFreeTimerObject(ad->ctrl_timer);
    }
    ad->ctrl_timer = NULL;
    if (ad->reset_work)
        NdisFreeIoWorkItem(ad->reset_work);
    ad->reset_work = NULL;
}

/* DISPATCH_LEVEL: the device's configuration changed (link, speed,
 * ANNOUNCE after a migration, DEVICE_NEEDS_RESET). */
void vfo_config_changed(vfo_adapter *ad)
{
    uint32_t chg = 0;
    vnet_link_info li;
    NdisDprAcquireSpinLock(&ad->ctrl_lock);
    if (ad->resetting || !ad->vn || !vnet_is_started(ad->vn) || ad->surprise_removed) {
        NdisDprReleaseSpinLock(&ad->ctrl_lock);
        return;
    }
    vnet_status vs = vnet_config_refresh(ad->vn, &chg);
    vnet_link_info_get(ad->vn, &li);
    ad->link = li;
    NdisDprReleaseSpinLock(&ad->ctrl_lock);
    if (vs != VNET_OK)
        VFO_WARN("configuration refresh: %s", vnet_status_name(vs));
    if (chg & (VNET_CHG_LINK | VNET_CHG_SPEED)) {
        fo_link l = { li.link_up, vfo_link_speed_bps(ad) };
        vfo_lock();
        fo_reason r = fo_standby_link(&ad->pair, l);
        vfo_event_end(ad, r, "virtio link");
    }
    if (chg & VNET_CHG_ANNOUNCE) {
        VFO_INFO("the host asks for an announcement (migration)");
        vfo_lock();
        fo_reason r = fo_standby_announce(&ad->pair);
        vfo_event_end(ad, r, "virtio announce");
        NdisDprAcquireSpinLock(&ad->ctrl_lock);
        vnet_status as = VNET_E_STATE; /* a reset began meanwhile: nothing to acknowledge */
        if (!ad->resetting && vnet_is_started(ad->vn))
            as = vnet_ctrl_announce_ack(ad->vn, NULL, NULL);
        vfo_ctrl_tick_start(ad);
        NdisDprReleaseSpinLock(&ad->ctrl_lock);
        if (as != VNET_OK)
            VFO_WARN("announce acknowledgement not sent: %s", vnet_status_name(as));
    }
    if (chg & VNET_CHG_NEEDS_RESET)
        vfo_request_reset(ad);
}
