/*
 * announce.c - SEND_ANNOUNCE: gratuitous ARP per IPv4 address, unsolicited
 * NA per IPv6 address (a RARP when none is known), built by lib/vnet and
 * sent on the path lib/failover names, in NBLs from the adapter's own pool.
 * They tell the host's switches where the MAC lives after a migration or a
 * path switch.
 *
 * Each frame is vfo's own memory under its own MDL, chained to an NBL+NB
 * from a pool with DataSize 0: NdisAllocateNetBufferAndNetBufferList wants
 * exactly that (a NET_BUFFER with no MDL describes no data).
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "announce.tmh"
#endif

bool vfo_announce_init(vfo_adapter *ad)
{
    ad->own_pool = vfo_nbl_pool(ad->handle, VFO_TAG_MISC, 0);
    return ad->own_pool != NULL;
}

void vfo_announce_free(vfo_adapter *ad)
{
    if (ad->own_pool)
        NdisFreeNetBufferListPool(ad->own_pool);
    ad->own_pool = NULL;
}

/* A completed send: vfo's own announcement frame is freed here (true);
 * anything else belongs to the upper stack (false). */
bool vfo_own_nbl_done(const vfo_adapter *ad, PNET_BUFFER_LIST nbl)
{
    if (nbl->NdisPoolHandle != ad->own_pool)
        return false;
    PMDL mdl = NET_BUFFER_FIRST_MDL(NET_BUFFER_LIST_FIRST_NB(nbl));
    PVOID va = NULL;
    ULONG len = 0;
    NdisQueryMdl(mdl, &va, &len, NormalPagePriority);
    NdisFreeNetBufferList(nbl);
    NdisFreeMdl(mdl);
    vfo_free(ad->handle, va, VFO_TAG_MISC);
    return true;
}

static PNET_BUFFER_LIST frame_nbl(vfo_adapter *ad, const UCHAR *frame, ULONG len)
{
    PUCHAR buf = vfo_alloc(ad->handle, len, VFO_TAG_MISC);
    PMDL mdl = buf ? NdisAllocateMdl(ad->handle, buf, len) : NULL;
    PNET_BUFFER_LIST nbl =
        mdl ? NdisAllocateNetBufferAndNetBufferList(ad->own_pool, 0, 0, mdl, 0, len) : NULL;
    if (!nbl) {
        if (mdl)
            NdisFreeMdl(mdl);
        vfo_free(ad->handle, buf, VFO_TAG_MISC);
        return NULL;
    }
    NdisMoveMemory(buf, frame, len);
    nbl->SourceHandle = ad->handle;
    return nbl;
}

/* The frames of one announcement, chained; *count receives how many. */
static PNET_BUFFER_LIST build(vfo_adapter *ad, ULONG *count)
{
    UCHAR v4[VFO_MAX_ADDRS][4], v6[VFO_MAX_ADDRS][16], frame[VNET_ANNOUNCE_FRAME_MAX];
    vnet_announce_src src;
    PNET_BUFFER_LIST head = NULL, *tail = &head;
    vfo_lock();
    NdisMoveMemory(v4, ad->ipv4, sizeof(v4));
    NdisMoveMemory(v6, ad->ipv6, sizeof(v6));
    src.n_ipv4 = ad->n_ipv4;
    src.n_ipv6 = ad->n_ipv6;
    vfo_unlock();
    NdisMoveMemory(src.mac, ad->cur_mac, 6);
    src.ipv4 = (const uint8_t(*)[4])v4;
    src.ipv6 = (const uint8_t(*)[16])v6;
    *count = 0;
    uint32_t n = vnet_announce_count(&src);
    for (uint32_t i = 0; i < n; i++) {
        size_t len = 0;
        if (vnet_announce_frame(&src, i, frame, sizeof(frame), &len) != VNET_OK)
            continue;
        PNET_BUFFER_LIST nbl = frame_nbl(ad, frame, (ULONG)len);
        if (!nbl)
            break;
        vfo_nbl_append(&tail, nbl);
        (*count)++;
    }
    return head;
}

/* On the VF each frame needs a reference like any send; frames the gate
 * refuses (TX just left the VF) go on virtio instead. */
static void send_on_primary(vfo_adapter *ad, PNET_BUFFER_LIST frames, bool at_dispatch)
{
    PNET_BUFFER_LIST vf = NULL, sb = NULL, *vf_tail = &vf, *sb_tail = &sb;
    for (PNET_BUFFER_LIST nbl = frames, next; nbl; nbl = next) {
        next = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        if (fo_select_tx(&ad->pair, NULL) == FO_TX_PRIMARY) {
            nbl->SourceHandle = ad->bind->handle;
            vfo_nbl_append(&vf_tail, nbl);
        } else {
            vfo_nbl_append(&sb_tail, nbl);
        }
    }
    if (vf)
        NdisSendNetBufferLists(ad->bind->handle, vf, NDIS_DEFAULT_PORT_NUMBER,
                               at_dispatch ? NDIS_SEND_FLAGS_DISPATCH_LEVEL : 0);
    if (sb)
        vfo_tx_standby(ad, sb, at_dispatch);
}

void vfo_announce_send(vfo_adapter *ad, fo_path path, bool at_dispatch)
{
    ULONG n;
    PNET_BUFFER_LIST frames = build(ad, &n);
    if (!frames)
        return;
    vfo_count(&ad->ctr.announces, (LONG64)n);
    VFO_DEBUG("announce: %lu frame(s) on %s", (unsigned long)n,
              path == FO_PATH_PRIMARY ? "the VF" : "virtio");
    if (path == FO_PATH_PRIMARY)
        send_on_primary(ad, frames, at_dispatch);
    else
        vfo_tx_standby(ad, frames, at_dispatch);
}
