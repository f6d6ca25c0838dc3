/*
 * ndisutil.c - see ndisutil.h.
 */
#include "ndisutil.h"

void nu_indicate_status(NDIS_HANDLE mp, NDIS_STATUS code, PVOID buf, ULONG len)
{
    NDIS_STATUS_INDICATION si;
    NdisZeroMemory(&si, sizeof(si));
    NU_INIT_HEADER(&si.Header, NDIS_OBJECT_TYPE_STATUS_INDICATION,
                   NDIS_STATUS_INDICATION_REVISION_1, NDIS_SIZEOF_STATUS_INDICATION_REVISION_1);
    si.SourceHandle = mp;
    si.StatusCode = code;
    si.StatusBuffer = buf;
    si.StatusBufferSize = len;
    NdisMIndicateStatusEx(mp, &si);
}

void nu_link_state(NDIS_LINK_STATE *ls, BOOLEAN up, ULONG64 speed_bps)
{
    NdisZeroMemory(ls, sizeof(*ls));
    NU_INIT_HEADER(&ls->Header, NDIS_OBJECT_TYPE_DEFAULT, NDIS_LINK_STATE_REVISION_1,
                   NDIS_SIZEOF_LINK_STATE_REVISION_1);
    ls->MediaConnectState = up ? MediaConnectStateConnected : MediaConnectStateDisconnected;
    ls->MediaDuplexState = MediaDuplexStateFull;
    ls->XmitLinkSpeed = ls->RcvLinkSpeed = up ? speed_bps : NDIS_LINK_SPEED_UNKNOWN;
}

void nu_indicate_link(NDIS_HANDLE mp, BOOLEAN up, ULONG64 speed_bps)
{
    NDIS_LINK_STATE ls;
    nu_link_state(&ls, up, speed_bps);
    nu_indicate_status(mp, NDIS_STATUS_LINK_STATE, &ls, sizeof(ls));
}

NDIS_STATUS nu_answer(PNDIS_OID_REQUEST r, const void *p, ULONG len)
{
    if (r->DATA.QUERY_INFORMATION.InformationBufferLength < len) {
        r->DATA.QUERY_INFORMATION.BytesNeeded = len;
        return NDIS_STATUS_BUFFER_TOO_SHORT;
    }
    NdisMoveMemory(r->DATA.QUERY_INFORMATION.InformationBuffer, p, len);
    r->DATA.QUERY_INFORMATION.BytesWritten = len;
    return NDIS_STATUS_SUCCESS;
}

NDIS_STATUS nu_set_registration(NDIS_HANDLE mp, NDIS_HANDLE ctx, ULONG extra)
{
    NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES ra;
    NdisZeroMemory(&ra, sizeof(ra));
    NU_INIT_HEADER(&ra.Header, NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
                   NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1,
                   NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1);
    ra.MiniportAdapterContext = ctx;
    ra.AttributeFlags = NDIS_MINIPORT_ATTRIBUTES_HARDWARE_DEVICE |
                        NDIS_MINIPORT_ATTRIBUTES_SURPRISE_REMOVE_OK | extra;
    ra.InterfaceType = NdisInterfacePci;
    return NdisMSetMiniportAttributes(mp, (PNDIS_MINIPORT_ADAPTER_ATTRIBUTES)&ra);
}

void nu_ethernet_general(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES *ga, const UCHAR perm[6],
                         const UCHAR current[6], ULONG mtu, ULONG64 speed_bps, BOOLEAN up)
{
    NdisZeroMemory(ga, sizeof(*ga));
    NU_INIT_HEADER(&ga->Header, NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
                   NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2,
                   NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2);
    ga->MediaType = NdisMedium802_3;
    ga->PhysicalMediumType = NdisPhysicalMedium802_3;
    ga->MtuSize = mtu;
    ga->MaxXmitLinkSpeed = ga->MaxRcvLinkSpeed = speed_bps;
    ga->XmitLinkSpeed = ga->RcvLinkSpeed = up ? speed_bps : NDIS_LINK_SPEED_UNKNOWN;
    ga->MediaConnectState = up ? MediaConnectStateConnected : MediaConnectStateDisconnected;
    ga->MediaDuplexState = MediaDuplexStateFull;
    ga->LookaheadSize = mtu;
    ga->MacOptions = NDIS_MAC_OPTION_COPY_LOOKAHEAD_DATA | NDIS_MAC_OPTION_NO_LOOPBACK;
    ga->SupportedPacketFilters = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_MULTICAST |
                                 NDIS_PACKET_TYPE_BROADCAST | NDIS_PACKET_TYPE_PROMISCUOUS;
    ga->MaxMulticastListSize = 32;
    ga->MacAddressLength = 6;
    NdisMoveMemory(ga->PermanentMacAddress, perm, 6);
    NdisMoveMemory(ga->CurrentMacAddress, current, 6);
    ga->AccessType = NET_IF_ACCESS_BROADCAST;
    ga->DirectionType = NET_IF_DIRECTION_SENDRECEIVE;
    ga->ConnectionType = NET_IF_CONNECTION_DEDICATED;
    ga->IfType = IF_TYPE_ETHERNET_CSMACD;
    ga->IfConnectorPresent = TRUE;
}

NDIS_STATUS nu_open_config(NDIS_HANDLE mp, NDIS_HANDLE *cfg)
{
    NDIS_CONFIGURATION_OBJECT co;
    NdisZeroMemory(&co, sizeof(co));
    NU_INIT_HEADER(&co.Header, NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT,
                   NDIS_CONFIGURATION_OBJECT_REVISION_1,
                   NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1);
    co.NdisHandle = mp;
    return NdisOpenConfigurationEx(&co, cfg);
}

ULONG nu_read_int(NDIS_HANDLE cfg, const char *name, ULONG dflt)
{
    WCHAR wbuf[48];
    ULONG i = 0;
    for (; name[i] && i + 1 < sizeof(wbuf) / sizeof(wbuf[0]); i++)
        wbuf[i] = (WCHAR)name[i];
    wbuf[i] = 0;
    NDIS_STRING key;
    key.Buffer = wbuf;
    key.Length = (USHORT)(i * sizeof(WCHAR));
    key.MaximumLength = (USHORT)sizeof(wbuf);
    NDIS_STATUS st;
    PNDIS_CONFIGURATION_PARAMETER p;
    NdisReadConfiguration(&st, &p, cfg, &key, NdisParameterInteger);
    return st == NDIS_STATUS_SUCCESS ? p->ParameterData.IntegerData : dflt;
}

NDIS_STATUS nu_rx_set_alloc(NDIS_HANDLE mp, ULONG tag, UCHAR *base, ULONG size, nu_rx_set *set)
{
    NET_BUFFER_LIST_POOL_PARAMETERS pp;
    NdisZeroMemory(&pp, sizeof(pp));
    NU_INIT_HEADER(&pp.Header, NDIS_OBJECT_TYPE_DEFAULT, NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
                   NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1);
    pp.ProtocolId = NDIS_PROTOCOL_ID_DEFAULT;
    pp.fAllocateNetBuffer = TRUE;
    pp.PoolTag = tag;
    set->pool = NdisAllocateNetBufferListPool(mp, &pp);
    if (!set->pool)
        return NDIS_STATUS_RESOURCES;
    for (ULONG i = 0; i < set->count; i++) {
        set->mdl[i] = NdisAllocateMdl(mp, base + (SIZE_T)i * size, size);
        if (!set->mdl[i])
            return NDIS_STATUS_RESOURCES;
        set->nbl[i] = NdisAllocateNetBufferAndNetBufferList(set->pool, 0, 0, set->mdl[i], 0, size);
        if (!set->nbl[i])
            return NDIS_STATUS_RESOURCES;
        NET_BUFFER_LIST_MINIPORT_RESERVED(set->nbl[i])[0] = (PVOID)(ULONG_PTR)i;
    }
    return NDIS_STATUS_SUCCESS;
}

void nu_rx_set_free(nu_rx_set *set)
{
    for (ULONG i = 0; i < set->count; i++) {
        if (set->nbl[i])
            NdisFreeNetBufferList(set->nbl[i]);
        if (set->mdl[i])
            NdisFreeMdl(set->mdl[i]);
        set->nbl[i] = NULL;
        set->mdl[i] = NULL;
    }
    if (set->pool)
        NdisFreeNetBufferListPool(set->pool);
    set->pool = NULL;
}
