/*
 * mp_state.c - the miniport's states: pause (which waits for the virtio side
 * and, through lib/failover, for every VF NBL lent up or sent down), restart,
 * power, surprise removal, shutdown, reset and hang checks; and the status
 * indications the engine asks for.
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "mp_state.tmh"
#endif

ULONG64 vfo_link_speed_bps(const vfo_adapter *ad)
{
    if (ad->link.speed_mbps == VNET_SPEED_UNKNOWN || ad->link.speed_mbps == 0)
        return VFO_DEFAULT_SPEED_BPS;
    return (ULONG64)ad->link.speed_mbps * 1000000ull;
}

/* MiniportPause completes when both shares are back: the engine's (VF NBLs)
 * and virtio's (sends in its ring or queue, receives lent up). Whoever sees
 * that last completes it, once. */
void vfo_pause_check(vfo_adapter *ad)
{
    if (ad->state != VFO_MP_PAUSING || !ad->upper_drained_primary || ad->virtio_out != 0)
        return;
    if (InterlockedExchange(&ad->pause_completing, 1) != 0)
        return;
    ad->state = VFO_MP_PAUSED;
    VFO_DEBUG("paused");
    if (vfo_pend_done(&ad->pause_pend, NDIS_STATUS_SUCCESS))
        NdisMPauseComplete(ad->handle);
}

void vfo_upper_pause_done(vfo_adapter *ad)
{
    ad->upper_drained_primary = true;
    vfo_pause_check(ad);
}

void vfo_virtio_put(vfo_adapter *ad, LONG n)
{
    if (InterlockedExchangeAdd(&ad->virtio_out, -n) == n)
        vfo_pause_check(ad);
}

NDIS_STATUS MpPause(NDIS_HANDLE ctx, PNDIS_MINIPORT_PAUSE_PARAMETERS params)
{
    vfo_adapter *ad = ctx;
    (void)params;
    ad->upper_drained_primary = false;
    ad->pause_completing = 0;
    vfo_pend_begin(&ad->pause_pend);
    ad->state = VFO_MP_PAUSING;
    vfo_lock();
    fo_reason r = fo_upper_pause(&ad->pair); /* closes the VF gate; COMPLETE_UPPER_PAUSE */
    vfo_event_end(ad, r, "miniport pause");
    if (r != FO_R_OK)
        vfo_upper_pause_done(ad); /* the engine holds nothing back */
    vfo_pause_check(ad);
    return vfo_pend_end(&ad->pause_pend);
}

NDIS_STATUS MpRestart(NDIS_HANDLE ctx, PNDIS_MINIPORT_RESTART_PARAMETERS params)
{
    vfo_adapter *ad = ctx;
    (void)params;
    ad->state = VFO_MP_RUNNING;
    vfo_lock();
    fo_reason r = fo_upper_restart(&ad->pair);
    vfo_event_end(ad, r, "miniport restart");
    vfo_tx_kick_queue(ad);
    vfo_rx_schedule(ad); /* frames that arrived while paused */
    return NDIS_STATUS_SUCCESS;
}

void vfo_indicate_status(vfo_adapter *ad, NDIS_STATUS code, PVOID buf, ULONG len)
{
    NDIS_STATUS_INDICATION si;
    NdisZeroMemory(&si, sizeof(si));
    VFO_INIT_HEADER(&si.Header, NDIS_OBJECT_TYPE_STATUS_INDICATION,
                    NDIS_STATUS_INDICATION_REVISION_1, NDIS_SIZEOF_STATUS_INDICATION_REVISION_1);
    si.SourceHandle = ad->handle;
    si.StatusCode = code;
    si.StatusBuffer = buf;
    si.StatusBufferSize = len;
    NdisMIndicateStatusEx(ad->handle, &si);
}

void vfo_link_state_fill(fo_link link, NDIS_LINK_STATE *ls)
{
    NdisZeroMemory(ls, sizeof(*ls));
    VFO_INIT_HEADER(&ls->Header, NDIS_OBJECT_TYPE_DEFAULT, NDIS_LINK_STATE_REVISION_1,
                    NDIS_SIZEOF_LINK_STATE_REVISION_1);
    ls->MediaConnectState = link.up ? MediaConnectStateConnected : MediaConnectStateDisconnected;
    ls->MediaDuplexState = MediaDuplexStateFull;
    ls->XmitLinkSpeed = ls->RcvLinkSpeed =
        link.up && link.speed_bps ? link.speed_bps : NDIS_LINK_SPEED_UNKNOWN;
}

/* INDICATE_LINK: what TCP/IP sees never drops while paths switch. */
void vfo_indicate_link(vfo_adapter *ad, fo_link link)
{
    NDIS_LINK_STATE ls;
    vfo_link_state_fill(link, &ls);
    VFO_INFO("link %s to the upper stack", link.up ? "up" : "down");
    vfo_indicate_status(ad, NDIS_STATUS_LINK_STATE, &ls, sizeof(ls));
}

/* INDICATE_OFFLOAD: narrowed before TX moves to the VF, widened after. */
void vfo_indicate_offload(vfo_adapter *ad, const fo_offload *o)
{
    NDIS_OFFLOAD no;
    ad->offload_now = *o;
    vfo_offload_to_ndis(o, &no);
    vfo_indicate_status(ad, NDIS_STATUS_TASK_OFFLOAD_CURRENT_CONFIG, &no, sizeof(no));
}

/* ---- power ---------------------------------------------------------------- */

/* lib/vnet's locking contract: vnet_stop detaches every path, and each
 * path's state belongs to its lock (tx_done runs "with the TX lock held";
 * MiniportReturnNetBufferLists returns receive buffers under the RX lock on
 * any CPU). So the stop holds all three, in the adapter's order ctrl, tx,
 * rx. The device is reset first, at PASSIVE_LEVEL without them, because
 * the reset may sleep while it waits for the device; the reset inside
 * vnet_stop then finds it done. */
void vfo_device_stop(vfo_adapter *ad)
{
    if (!ad->vn || !vnet_is_started(ad->vn))
        return;
    vio_dev_reset(vnet_vio_dev(ad->vn));
    NdisAcquireSpinLock(&ad->ctrl_lock);
    NdisDprAcquireSpinLock(&ad->tx_lock);
    NdisDprAcquireSpinLock(&ad->rx_lock);
    vnet_stop(ad->vn);
    NdisDprReleaseSpinLock(&ad->rx_lock);
    NdisDprReleaseSpinLock(&ad->tx_lock);
    NdisReleaseSpinLock(&ad->ctrl_lock);
    vfo_tx_complete_done(ad);
}

static void device_stop(vfo_adapter *ad)
{
    vfo_device_stop(ad);
}

static bool device_restart(vfo_adapter *ad)
{
    vnet_status vs = vnet_start(ad->vn);
    if (vs != VNET_OK) {
        VFO_ERR("virtio-net restart failed: %s", vnet_status_name(vs));
        return false;
    }
    NdisAcquireSpinLock(&ad->ctrl_lock);
    vnet_link_info_get(ad->vn, &ad->link);
    NdisReleaseSpinLock(&ad->ctrl_lock);
    vfo_rx_filter_apply(ad);
    return true;
}

/* OID_PNP_SET_POWER, after MiniportPause (D3) or before MiniportRestart (D0). */
NDIS_STATUS vfo_set_power(vfo_adapter *ad, NDIS_DEVICE_POWER_STATE d)
{
    fo_reason r;
    bool low = d != NdisDeviceStateD0;
    if (low == ad->low_power)
        return NDIS_STATUS_SUCCESS;
    if (low) {
        vfo_lock();
        r = fo_standby_set_power(&ad->pair, true);
        vfo_event_end(ad, r, "virtio low power");
        ad->low_power = true;
        device_stop(ad);
        return NDIS_STATUS_SUCCESS;
    }
    ad->low_power = false;
    bool ok = !ad->surprise_removed && device_restart(ad);
    fo_link l = { ok && ad->link.link_up, vfo_link_speed_bps(ad) };
    vfo_lock();
    r = fo_standby_set_power(&ad->pair, false);
    if (r == FO_R_OK)
        r = fo_standby_link(&ad->pair, l);
    vfo_event_end(ad, r, "virtio D0");
    return ok ? NDIS_STATUS_SUCCESS : NDIS_STATUS_DEVICE_FAILED;
}

/* ---- surprise removal, reset, shutdown ------------------------------------ */

/* After this no DPC touches lib/vnet: each path's lock is taken once, so a
 * DPC inside it finishes and every later one sees the flag. */
static void fence_paths(vfo_adapter *ad)
{
    NdisAcquireSpinLock(&ad->tx_lock);
    NdisReleaseSpinLock(&ad->tx_lock);
    NdisAcquireSpinLock(&ad->rx_lock);
    NdisReleaseSpinLock(&ad->rx_lock);
    NdisAcquireSpinLock(&ad->ctrl_lock);
    NdisReleaseSpinLock(&ad->ctrl_lock);
}

void MpDevicePnPEventNotify(NDIS_HANDLE ctx, PNET_DEVICE_PNP_EVENT ev)
{
    vfo_adapter *ad = ctx;
    if (!ev || ev->DevicePnPEvent != NdisDevicePnPEventSurpriseRemoved)
        return;
    VFO_WARN("virtio-net surprise-removed");
    ad->surprise_removed = true;
    fence_paths(ad);
    device_stop(ad); /* in-flight sends complete as removed; receive buffers come back */
    vfo_tx_fail_queued(ad, NDIS_STATUS_ADAPTER_REMOVED);
    fo_link down = { false, 0 };
    vfo_lock();
    fo_reason r = fo_standby_link(&ad->pair, down);
    vfo_event_end(ad, r, "virtio removed");
}

static NDIS_IO_WORKITEM_FUNCTION reset_work;
static void reset_work(PVOID ctx, NDIS_HANDLE work)
{
    vfo_adapter *ad = ctx;
    (void)work;
    if (!ad->surprise_removed && !ad->low_power) {
        VFO_WARN("recovering the virtio device (reset)");
        vfo_count(&ad->ctr.device_resets, 1);
        ad->resetting = true;
        fence_paths(ad);
        device_stop(ad);
        bool ok = device_restart(ad);
        ad->resetting = false;
        if (ok) {
            vfo_tx_kick_queue(ad);
            vfo_rx_schedule(ad);
        } else {
            vfo_tx_fail_queued(ad, NDIS_STATUS_DEVICE_FAILED);
        }
    }
    InterlockedExchange(&ad->needs_reset, 0);
    vfo_work_end(ad);
}

void vfo_note_ring_error(vfo_adapter *ad, const char *queue)
{
    vio_status vs = vnet_last_vio_status(ad->vn);
    switch (vs) {
    case VIO_E_USED_ID_RANGE:
        vfo_count(&ad->ctr.used_id_range, 1);
        break;
    case VIO_E_USED_ID_NOT_IN_FLIGHT:
        vfo_count(&ad->ctr.used_id_not_in_flight, 1);
        break;
    case VIO_E_USED_LEN:
        vfo_count(&ad->ctr.used_len, 1);
        break;
    case VIO_E_USED_IDX_JUMP:
        vfo_count(&ad->ctr.used_idx_jump, 1);
        break;
    default:
        break;
    }
    VFO_WARN("virtio %s queue broken: %s", queue, vio_status_name(vs));
}

void vfo_request_reset(vfo_adapter *ad)
{
    if (ad->halting || InterlockedExchange(&ad->needs_reset, 1) != 0)
        return;
    vfo_work_begin(ad);
    NdisQueueIoWorkItem(ad->reset_work, reset_work, ad);
}

BOOLEAN MpCheckForHangEx(NDIS_HANDLE ctx)
{
    vfo_adapter *ad = ctx;
    /* Fresh VF counters for the merged statistics; nothing here hangs. */
    vfo_adapter_sample_primary(ad);
    return FALSE;
}

NDIS_STATUS MpResetEx(NDIS_HANDLE ctx, PBOOLEAN addressing_reset)
{
    (void)ctx;
    *addressing_reset = FALSE;
    return NDIS_STATUS_SUCCESS;
}

/* May run at any IRQL up to HIGH_LEVEL on a bug check: no locks, no waits,
 * only quiesce the device (a reset stops all DMA). */
/* PASSIVE_LEVEL at power-off, HIGH_LEVEL at a bugcheck: no lock, no wait.
 * The device must stop DMA into memory Windows is about to reuse (or to
 * dump): a virtio reset (status 0) does that; FAILED alone does not. */
void MpShutdownEx(NDIS_HANDLE ctx, NDIS_SHUTDOWN_ACTION action)
{
    vfo_adapter *ad = ctx;
    (void)action;
    if (ad->vn && !ad->surprise_removed)
        vio_dev_reset_nowait(vnet_vio_dev(ad->vn));
}
