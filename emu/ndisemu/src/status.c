/*
 * status.c - NdisMIndicateStatusEx: a miniport's status indications, and
 * the rule MiniportStatusCode on which codes a miniport may indicate.
 *
 * Some codes belong to NDIS: it indicates them to the drivers above an
 * adapter itself. NDIS_STATUS_RESET_START and _RESET_END ("Miniport drivers
 * should not call NdisMIndicateStatusEx to signal the start and finish of
 * each reset operation because NDIS notifies overlying drivers"),
 * NDIS_STATUS_OPER_STATUS ("NDIS generates this status indication; NDIS
 * miniport drivers should not generate this status indication") and
 * NDIS_STATUS_PACKET_FILTER ("NDIS generates this status indication";
 * filter drivers may, a miniport is not named). Others are NDIS 5 only:
 * NDIS_STATUS_MEDIA_CONNECT, _MEDIA_DISCONNECT, _LINK_SPEED_CHANGE (all
 * three replaced by NDIS_STATUS_LINK_STATE) and _MEDIA_BUSY, each "Not
 * supported in NDIS 6.0 and later". The pages say "should not" and "not
 * supported"; the stricter reading is a violation. Filter modules pass
 * NDIS's own indications on (NdisFIndicateStatus), so the rule is the
 * miniport's only.
 */
#include "emu_internal.h"

static const char *not_a_miniport_status(NDIS_STATUS code)
{
    switch (code) {
    case NDIS_STATUS_RESET_START:
        return "NDIS_STATUS_RESET_START, which NDIS indicates itself around MiniportResetEx";
    case NDIS_STATUS_RESET_END:
        return "NDIS_STATUS_RESET_END, which NDIS indicates itself around MiniportResetEx";
    case NDIS_STATUS_OPER_STATUS:
        return "NDIS_STATUS_OPER_STATUS, which only NDIS generates";
    case NDIS_STATUS_PACKET_FILTER:
        return "NDIS_STATUS_PACKET_FILTER, which NDIS (or a filter module) generates";
    case NDIS_STATUS_MEDIA_CONNECT:
        return "NDIS_STATUS_MEDIA_CONNECT, not supported in NDIS 6.0 and later "
               "(NDIS_STATUS_LINK_STATE replaces it)";
    case NDIS_STATUS_MEDIA_DISCONNECT:
        return "NDIS_STATUS_MEDIA_DISCONNECT, not supported in NDIS 6.0 and later "
               "(NDIS_STATUS_LINK_STATE replaces it)";
    case NDIS_STATUS_LINK_SPEED_CHANGE:
        return "NDIS_STATUS_LINK_SPEED_CHANGE, not supported in NDIS 6.0 and later "
               "(NDIS_STATUS_LINK_STATE replaces it)";
    case NDIS_STATUS_MEDIA_BUSY:
        return "NDIS_STATUS_MEDIA_BUSY, not supported in NDIS 6.0 and later";
    default:
        return NULL;
    }
}

void NdisMIndicateStatusEx(NDIS_HANDLE MiniportAdapterHandle,
                           PNDIS_STATUS_INDICATION StatusIndication)
{
    emu_runtime *rt = emu_rt;
    const char *call = "NdisMIndicateStatusEx";
    if (!emu_enter(call, "status=%#x",
                   StatusIndication ? (unsigned)StatusIndication->StatusCode : 0u))
        return;
    emu_adapter *ad = (emu_adapter *)emu_obj_check(rt, MiniportAdapterHandle, K_ADAPTER, call);
    if (!ad)
        return;
    if (!StatusIndication || StatusIndication->Header.Type != NDIS_OBJECT_TYPE_STATUS_INDICATION) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return;
    }
    const char *why = not_a_miniport_status(StatusIndication->StatusCode);
    if (why) {
        emu_violate(rt, "MiniportStatusCode", call, "%s: a miniport indicated %s", ad->instance,
                    why);
        return;
    }
    emu_lock(rt);
    if (StatusIndication->StatusCode == NDIS_STATUS_LINK_STATE &&
        StatusIndication->StatusBufferSize >= sizeof(NDIS_LINK_STATE) &&
        StatusIndication->StatusBuffer) {
        const NDIS_LINK_STATE *ls = StatusIndication->StatusBuffer;
        bool was_up = ad->link.MediaConnectState == MediaConnectStateConnected;
        bool up = ls->MediaConnectState == MediaConnectStateConnected;
        ad->link_ups += !was_up && up;
        ad->link_downs += was_up && !up;
        ad->link = *ls;
    }
    rt->cnt.status_indications++;
    emu_unlock(rt);
    emu_status_up(rt, ad, NULL, StatusIndication);
}
