/*
 * lso.c - rule LsoTransmitComplete: a miniport that completes a large send
 * leaves in NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO what the page
 * (ndis/nbllso.h) asks of it:
 *   LSOv2: LsoV2TransmitComplete.Type still NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE
 *          and LsoV2TransmitComplete.Reserved zero ("when a send operation is
 *          complete, the miniport driver must set this member to zero");
 *   LSOv1: LsoV1TransmitComplete.Type still NDIS_TCP_LARGE_SEND_OFFLOAD_V1_TYPE
 *          and TcpPayload written ("a miniport driver writes the TCP payload
 *          size before completing the send of an LSO packet").
 * Stricter readings: every completion counts, a failed one too (the page
 * says "when a send operation is complete"); a successful LSOv1 send reports
 * exactly the TCP payload bytes of its NET_BUFFER, a failed one no more than
 * that (the miniport may not have sent them all).
 */
#include "emu_internal.h"

#define LSO_NONE 0
#define LSO_V1   (1 + NDIS_TCP_LARGE_SEND_OFFLOAD_V1_TYPE)
#define LSO_V2   (1 + NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE)

/* TCP payload bytes of the NB: its data past the TCP header (whose length
 * is the data offset nibble; less than 20 bytes counts as 20). */
static uint32_t tcp_payload(PNET_BUFFER_LIST nbl, ULONG tcp_offset)
{
    PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
    UCHAR doff = 0;
    if (!nb || emu_nb_copy_out(nb, tcp_offset + 12, &doff, 1) != 1)
        return 0;
    ULONG hdr = (ULONG)(doff >> 4) * 4u;
    if (hdr < 20)
        hdr = 20;
    ULONG len = NET_BUFFER_DATA_LENGTH(nb);
    return len > tcp_offset + hdr ? len - tcp_offset - hdr : 0;
}

void emu_lso_note_send(nbl_frame *f, PNET_BUFFER_LIST nbl)
{
    NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO lso;
    lso.Value = NET_BUFFER_LIST_INFO(nbl, TcpLargeSendNetBufferListInfo);
    f->lso = LSO_NONE;
    if (lso.LsoV1Transmit.MSS == 0) /* the MSS sits at the same bits in both versions */
        return;
    f->lso = (uint8_t)(1 + lso.Transmit.Type);
    f->lso_payload = tcp_payload(nbl, lso.LsoV1Transmit.TcpHeaderOffset);
}

bool emu_lso_complete_ok(emu_runtime *rt, const nbl_frame *f, PNET_BUFFER_LIST nbl,
                         const char *instance, const char *call)
{
    NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO lso;
    lso.Value = NET_BUFFER_LIST_INFO(nbl, TcpLargeSendNetBufferListInfo);
    if (f->lso == LSO_V2 &&
        (lso.LsoV2TransmitComplete.Type != NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE ||
         lso.LsoV2TransmitComplete.Reserved != 0)) {
        emu_violate(rt, "LsoTransmitComplete", call,
                    "%s: LSOv2 NBL %p completed with LsoV2TransmitComplete Type %u Reserved %#x; "
                    "the miniport must leave Type NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE and set "
                    "Reserved to zero",
                    instance, (void *)nbl, (unsigned)lso.LsoV2TransmitComplete.Type,
                    (unsigned)lso.LsoV2TransmitComplete.Reserved);
        return false;
    }
    if (f->lso == LSO_V1) {
        bool ok = NET_BUFFER_LIST_STATUS(nbl) == NDIS_STATUS_SUCCESS
                      ? lso.LsoV1TransmitComplete.TcpPayload == f->lso_payload
                      : lso.LsoV1TransmitComplete.TcpPayload <= f->lso_payload;
        if (!ok || lso.LsoV1TransmitComplete.Type != NDIS_TCP_LARGE_SEND_OFFLOAD_V1_TYPE) {
            emu_violate(rt, "LsoTransmitComplete", call,
                        "%s: LSOv1 NBL %p (status %#x) completed with TcpPayload %u and Type %u; "
                        "the miniport must write the %u TCP payload bytes it sent and leave "
                        "Type NDIS_TCP_LARGE_SEND_OFFLOAD_V1_TYPE",
                        instance, (void *)nbl, (unsigned)NET_BUFFER_LIST_STATUS(nbl),
                        (unsigned)lso.LsoV1TransmitComplete.TcpPayload,
                        (unsigned)lso.LsoV1TransmitComplete.Type, (unsigned)f->lso_payload);
            return false;
        }
    }
    return true;
}
