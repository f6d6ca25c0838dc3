/*
 * pt_events.c - what NDIS tells the protocol edge about the VF: PnP events on
 * the binding (pause, restart, power, query/cancel remove) and status
 * indications (link state, reset). Each becomes a lib/failover event; a
 * pause or a power-down completes when the engine says the binding drained.
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "pt_events.tmh"
#endif

/* Completes a PnP event held in *ev through vfo_pend. */
static void complete_pnp(vfo_binding *b, vfo_pend *p, PNET_PNP_EVENT_NOTIFICATION *ev)
{
    PNET_PNP_EVENT_NOTIFICATION n = *ev;
    if (!n)
        return;
    *ev = NULL;
    if (vfo_pend_done(p, NDIS_STATUS_SUCCESS))
        NdisCompleteNetPnPEvent(b->handle, n, NDIS_STATUS_SUCCESS);
}

void vfo_binding_complete_pause(vfo_binding *b)
{
    if (b)
        complete_pnp(b, &b->pause_pend, &b->pause_ev);
}

void vfo_binding_complete_power(vfo_binding *b)
{
    if (b)
        complete_pnp(b, &b->power_pend, &b->power_ev);
}

/* A pause or power-down: pending until the engine reports the binding
 * drained (COMPLETE_PRIMARY_PAUSE / _POWER, possibly right away). */
static NDIS_STATUS drain_event(vfo_binding *b, vfo_adapter *ad, vfo_pend *p,
                               PNET_PNP_EVENT_NOTIFICATION *slot, PNET_PNP_EVENT_NOTIFICATION n,
                               bool power)
{
    vfo_pend_begin(p);
    *slot = n;
    fo_reason r = power ? fo_primary_set_power(&ad->pair, true) : fo_primary_pause(&ad->pair);
    vfo_event_end(ad, r, power ? "VF set power (low)" : "VF pause");
    if (r != FO_R_OK)
        complete_pnp(b, p, slot); /* the engine holds nothing for it */
    return vfo_pend_end(p);
}

static NDIS_STATUS set_power(vfo_binding *b, PNET_PNP_EVENT_NOTIFICATION n)
{
    NET_DEVICE_POWER_STATE d = NetDeviceStateD0;
    if (n->NetPnPEvent.Buffer && n->NetPnPEvent.BufferLength >= sizeof(d))
        d = *(NET_DEVICE_POWER_STATE *)n->NetPnPEvent.Buffer;
    vfo_adapter *ad = vfo_binding_pair_locked(b);
    if (!ad)
        return NDIS_STATUS_SUCCESS;
    if (d != NetDeviceStateD0)
        return drain_event(b, ad, &b->power_pend, &b->power_ev, n, true);
    fo_reason r = fo_primary_set_power(&ad->pair, false);
    vfo_event_end(ad, r, "VF set power (D0)");
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS simple_event(vfo_binding *b, fo_reason (*fn)(fo_pair *), const char *what)
{
    vfo_adapter *ad = vfo_binding_pair_locked(b);
    if (ad) {
        fo_reason r = fn(&ad->pair);
        vfo_event_end(ad, r, what);
    }
    return NDIS_STATUS_SUCCESS;
}

/* An event with a NULL ProtocolBindingContext concerns the protocol as a
 * whole: NetEventBindsComplete and NetEventBindList always come so, and
 * NetEventReconfigure may. None carries a decision for vfo to refuse, and
 * the documentation wants them succeeded. A global reconfiguration may have
 * re-enabled paths: NDIS is asked to offer the bindings again (as
 * Microsoft's ndisprot sample does). */
static NDIS_STATUS global_event(PNET_PNP_EVENT_NOTIFICATION n)
{
    switch (n->NetPnPEvent.NetEvent) {
    case NetEventBindsComplete:
        VFO_INFO("NDIS offered every binding");
        break;
    case NetEventBindList:
        VFO_DEBUG("binding list changed");
        break;
    case NetEventReconfigure:
        if (g_vfo.protocol)
            NdisReEnumerateProtocolBindings(g_vfo.protocol);
        break;
    default:
        break;
    }
    return NDIS_STATUS_SUCCESS;
}

NDIS_STATUS PtNetPnPEvent(NDIS_HANDLE ctx, PNET_PNP_EVENT_NOTIFICATION n)
{
    vfo_binding *b = ctx;
    vfo_adapter *ad;
    if (!n)
        return NDIS_STATUS_INVALID_PARAMETER;
    if (!b)
        return global_event(n);
    switch (n->NetPnPEvent.NetEvent) {
    case NetEventPause:
        ad = vfo_binding_pair_locked(b);
        if (!ad) {
            b->running = false;
            return NDIS_STATUS_SUCCESS;
        }
        b->running = false;
        return drain_event(b, ad, &b->pause_pend, &b->pause_ev, n, false);
    case NetEventRestart:
        ad = vfo_binding_pair_locked(b);
        if (!ad) {
            b->running = true;
            return NDIS_STATUS_SUCCESS;
        }
        b->running = true;
        vfo_queue_primary_restart_locked(ad); /* fed to the engine once NDIS runs us */
        vfo_event_end(ad, FO_R_OK, "VF restart");
        return NDIS_STATUS_SUCCESS;
    case NetEventSetPower:
        return set_power(b, n);
    case NetEventQueryRemoveDevice:
        /* Never vetoed: QEMU waits for the eject, and TX leaves the VF now. */
        return simple_event(b, fo_primary_query_remove, "VF query remove");
    case NetEventCancelRemoveDevice:
        return simple_event(b, fo_primary_cancel_remove, "VF cancel remove");
    default:
        return NDIS_STATUS_SUCCESS;
    }
}

static void link_status(vfo_binding *b, const NDIS_STATUS_INDICATION *si)
{
    const NDIS_LINK_STATE *ls = si->StatusBuffer;
    if (!ls || si->StatusBufferSize < NDIS_SIZEOF_LINK_STATE_REVISION_1) {
        VFO_WARN("VF link indication with a short buffer (%lu bytes) ignored",
                 (unsigned long)si->StatusBufferSize);
        return;
    }
    fo_link l = { ls->MediaConnectState == MediaConnectStateConnected,
                  ls->XmitLinkSpeed == NDIS_LINK_SPEED_UNKNOWN ? 0 : ls->XmitLinkSpeed };
    vfo_adapter *ad = vfo_binding_pair_locked(b);
    if (!ad)
        return;
    fo_reason r = fo_primary_link(&ad->pair, l);
    vfo_event_end(ad, r, "VF link");
}

static void reset_status(vfo_binding *b, bool start)
{
    vfo_adapter *ad = vfo_binding_pair_locked(b);
    if (!ad)
        return;
    fo_reason r = fo_primary_reset(&ad->pair, start);
    vfo_event_end(ad, r, start ? "VF reset start" : "VF reset end");
}

void PtStatusEx(NDIS_HANDLE ctx, PNDIS_STATUS_INDICATION si)
{
    vfo_binding *b = ctx;
    if (!b || !si)
        return;
    switch (si->StatusCode) {
    case NDIS_STATUS_LINK_STATE:
        link_status(b, si);
        break;
    case NDIS_STATUS_RESET_START:
        reset_status(b, true);
        break;
    case NDIS_STATUS_RESET_END:
        reset_status(b, false);
        break;
    default:
        break; /* the VF's offload changes: its bind-time capabilities still bound it */
    }
}

/* A send failed with ADAPTER_REMOVED: the VF is gone under us (`at`: from
 * the send completion's flags). */
void vfo_binding_removed(vfo_binding *b, vfo_irql at)
{
    vfo_adapter *ad = vfo_binding_pair_locked(b);
    if (!ad)
        return;
    if (b->removed) {
        vfo_unlock();
        return;
    }
    b->removed = true;
    fo_reason r = fo_primary_surprise_removed(&ad->pair);
    vfo_event_end_at(ad, r, "VF surprise removed", at);
}
