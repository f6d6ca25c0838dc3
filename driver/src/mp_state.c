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
    if (vfo_get(&ad->state) != VFO_MP_PAUSING || !vfo_get(&ad->upper_drained_primary) ||
        vfo_get(&ad->virtio_out) != 0)
        return;
    if (InterlockedExchange(&ad->pause_completing, 1) != 0)
        return;
    vfo_set(&ad->state, VFO_MP_PAUSED);
    VFO_DEBUG("paused");
    if (vfo_pend_done(&ad->pause_pend, NDIS_STATUS_SUCCESS))
        NdisMPauseComplete(ad->handle);
}

void vfo_upper_pause_done(vfo_adapter *ad)
{
    vfo_set(&ad->upper_drained_primary, 1);
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
    vfo_set(&ad->upper_drained_primary, 0);
    vfo_set(&ad->pause_completing, 0);
    vfo_pend_begin(&ad->pause_pend);
    vfo_set(&ad->state, VFO_MP_PAUSING);
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
    vfo_set(&ad->state, VFO_MP_RUNNING);
    vfo_lock();
    fo_reason r = fo_upper_restart(&ad->pair);
    vfo_event_end(ad, r, "miniport restart");
    vfo_tx_kick_queue(ad, false);
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
 * vnet_stop then finds it done. The caller owns the device
 * (vfo_device_acquire). */
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
    vfo_tx_complete_done(ad, false);
}

/* Reset recovery, power and removal each stop or start the device from
 * their own thread at PASSIVE_LEVEL (a work item, an OID, a PnP
 * notification, halt): one at a time, or a vnet_stop would run inside
 * another's vnet_start. */
void vfo_device_acquire(vfo_adapter *ad)
{
    while (InterlockedCompareExchange(&ad->device_owner, 1, 0) != 0)
        NdisMSleep(100);
}

void vfo_device_release(vfo_adapter *ad)
{
    InterlockedExchange(&ad->device_owner, 0);
}

/* The paths' gate. vnet_start is exclusive too (lib/vnet's contract: no
 * other call in progress), but it may sleep and allocate, so it cannot run
 * under the spin locks: it runs with the gate closed instead. The gate is
 * set under all three locks and every path reads it under its own, so a
 * path inside lib/vnet has left it once the gate is closed, and none
 * enters until it opens (returns wait on rx_deferred, sends in the queue,
 * control work for the next tick). Opening it gives the waiting returns
 * back. Before this the restart after a reset ran beside the datapath
 * (ThreadSanitizer in test_vfo_stress: vnet_start's ring restart against
 * MiniportReturnNetBufferLists' vnet_rx_return and the send path). */
static void paths_gate(vfo_adapter *ad, bool closed)
{
    NdisAcquireSpinLock(&ad->ctrl_lock);
    NdisDprAcquireSpinLock(&ad->tx_lock);
    NdisDprAcquireSpinLock(&ad->rx_lock);
    ad->resetting = closed;
    if (!closed)
        vfo_rx_return_deferred_locked(ad);
    NdisDprReleaseSpinLock(&ad->rx_lock);
    NdisDprReleaseSpinLock(&ad->tx_lock);
    NdisReleaseSpinLock(&ad->ctrl_lock);
}

/* The caller owns the device. vnet_start behind the closed gate, then the
 * link and the receive filter again (the reset forgot it). */
static bool device_restart(vfo_adapter *ad)
{
    paths_gate(ad, true);
    vnet_status vs = vnet_start(ad->vn);
    paths_gate(ad, false);
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

/* OID_PNP_SET_POWER: usually after MiniportPause (D3) and before
 * MiniportRestart (D0), but from NDIS 6.30 a miniport may be sent to low
 * power while Running (OID_PNP_SET_POWER: "handle OID_PNP_SET_POWER requests
 * ... from the Paused or Running adapter state"). Then "all pending send
 * requests" complete with NDIS_STATUS_LOW_POWER_STATE, and so does every
 * send that arrives while the device is off: vfo's own (announcements) and
 * VF sends resent to virtio included (vfo_tx_standby). Queued for a device
 * that was off, they held virtio's share of the next pause for ever (the
 * MiniportPause of a removal never completed; fuzz_oid).
 * The OID completes with SUCCESS even when virtio does not come back at D0
 * (NdisOidComplete allows SUCCESS or NOT_ACCEPTED only, and the adapter is
 * at D0 whatever its device does): virtio then stays stopped, as after a
 * failed recovery, its sends fail and its link is down; the VF, if there
 * is one, carries the traffic. */
void vfo_set_power(vfo_adapter *ad, NDIS_DEVICE_POWER_STATE d)
{
    fo_reason r;
    bool low = d != NdisDeviceStateD0;
    if (low == (vfo_get(&ad->low_power) != 0))
        return;
    if (low) {
        vfo_lock();
        r = fo_standby_set_power(&ad->pair, true);
        vfo_event_end(ad, r, "virtio low power");
        vfo_device_acquire(ad); /* low_power is the device owner's (reset_work reads it) */
        vfo_set(&ad->low_power, 1);
        vfo_device_stop(ad);
        vfo_device_release(ad);
        /* Whatever waits for the device now (the flag is seen by every
         * vfo_tx_standby that queues after this). */
        vfo_tx_fail_queued(ad, NDIS_STATUS_LOW_POWER_STATE, false);
        return;
    }
    vfo_device_acquire(ad);
    vfo_set(&ad->low_power, 0);
    vfo_set(&ad->device_dead, 0);
    bool ok = !vfo_surprise_removed(ad) && device_restart(ad);
    if (!ok)
        vfo_set(&ad->device_dead, 1);
    vfo_device_release(ad);
    /* Sends queued while the device came up (no MiniportRestart follows
     * when the stack was not paused). */
    if (ok)
        vfo_tx_kick_queue(ad, false);
    else
        vfo_tx_fail_queued(ad, NDIS_STATUS_DEVICE_FAILED, false);
    fo_link l = { ok && ad->link.link_up, vfo_link_speed_bps(ad) };
    vfo_lock();
    r = fo_standby_set_power(&ad->pair, false);
    if (r == FO_R_OK)
        r = fo_standby_link(&ad->pair, l);
    vfo_event_end(ad, r, "virtio D0");
}

/* ---- surprise removal, reset, shutdown ------------------------------------ */

/* After this no DPC touches lib/vnet: the flag is set under each path's
 * lock, so a DPC inside it finishes first and every later one sees it. */
void vfo_mark_surprise_removed(vfo_adapter *ad)
{
    NdisAcquireSpinLock(&ad->ctrl_lock);
    NdisDprAcquireSpinLock(&ad->tx_lock);
    NdisDprAcquireSpinLock(&ad->rx_lock);
    ad->surprise_removed = true;
    NdisDprReleaseSpinLock(&ad->rx_lock);
    NdisDprReleaseSpinLock(&ad->tx_lock);
    NdisReleaseSpinLock(&ad->ctrl_lock);
}

/* The flag outside the paths (it is written under all their locks). */
bool vfo_surprise_removed(vfo_adapter *ad)
{
    NdisAcquireSpinLock(&ad->ctrl_lock);
    bool gone = ad->surprise_removed;
    NdisReleaseSpinLock(&ad->ctrl_lock);
    return gone;
}

void MpDevicePnPEventNotify(NDIS_HANDLE ctx, PNET_DEVICE_PNP_EVENT ev)
{
    vfo_adapter *ad = ctx;
    if (!ev || ev->DevicePnPEvent != NdisDevicePnPEventSurpriseRemoved)
        return;
    VFO_WARN("virtio-net surprise-removed");
    vfo_mark_surprise_removed(ad);
    vfo_device_acquire(ad); /* a reset recovery in progress finishes first */
    vfo_device_stop(ad);    /* in-flight sends complete as removed; receive buffers come back */
    vfo_device_release(ad);
    vfo_tx_fail_queued(ad, NDIS_STATUS_ADAPTER_REMOVED, false);
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
    vfo_device_acquire(ad);
    if (!vfo_surprise_removed(ad) && !vfo_get(&ad->low_power)) {
        VFO_WARN("recovering the virtio device (reset)");
        vfo_count(&ad->ctr.device_resets, 1);
        paths_gate(ad, true); /* the datapath leaves lib/vnet before the stop */
        vfo_device_stop(ad);
        /* Sends wait behind the closed gate while it restarts. A failed
         * restart leaves virtio stopped until a later recovery works: what
         * waits fails, and so does every send until then (vfo_tx_standby;
         * before, they were queued for a device that never came back and
         * the next pause never ended: test_vfo_basic
         * sends_after_a_failed_recovery_fail). */
        vfo_set(&ad->device_dead, 0);
        bool ok = device_restart(ad);
        if (ok) {
            vfo_tx_kick_queue(ad, false);
            vfo_rx_schedule(ad);
        } else {
            vfo_set(&ad->device_dead, 1);
            vfo_tx_fail_queued(ad, NDIS_STATUS_DEVICE_FAILED, false);
        }
    }
    vfo_device_release(ad);
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
    if (vfo_get(&ad->halting) || InterlockedExchange(&ad->needs_reset, 1) != 0)
        return;
    vfo_work_begin(ad);
    NdisQueueIoWorkItem(ad->reset_work, reset_work, ad);
}

BOOLEAN MpCheckForHangEx(NDIS_HANDLE ctx)
{
    vfo_adapter *ad = ctx;
    /* Fresh VF counters for the merged statistics. A stalled transmit
     * queue is recovered by vfo's own reset (vfo_tx_watchdog), not NDIS's:
     * virtio's reset is vfo's business, and the VF path carries on. */
    vfo_adapter_sample_primary(ad);
    vfo_tx_watchdog(ad);
    return FALSE;
}

/* vfo's hang check never asks for a reset, but NDIS also resets a
 * miniport that holds an OID request over its checks, or for reasons of
 * its own. An NDIS 6.30 miniport holds no send across a reset (the page of
 * MiniportResetEx): the reset completes once every send vfo held has come
 * back, from the VF or from virtio, which normally takes microseconds;
 * sends meanwhile fail (NDIS_STATUS_RESET_IN_PROGRESS: the protocols hold
 * theirs from NDIS_STATUS_RESET_START on). Nothing else needs resetting:
 * virtio's own recovery is vfo's business (vfo_tx_watchdog, reset_work). */
NDIS_STATUS MpResetEx(NDIS_HANDLE ctx, PBOOLEAN addressing_reset)
{
    vfo_adapter *ad = ctx;
    *addressing_reset = FALSE;
    if (vfo_tx_reset_begin(ad))
        return NDIS_STATUS_SUCCESS;
    VFO_DEBUG("NDIS reset: waiting for the sends in flight");
    return NDIS_STATUS_PENDING;
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
