/*
 * minimp_hostile.c - the hostile VF (hostile_mp: minimp built with
 * MINIMP_HOSTILE): a miniport from another vendor that indicates what a
 * protocol bound to it must survive. Frames it receives with the local
 * experimental EtherType 0x88B6 are not data but a recipe (the bytes after
 * the Ethernet header), which the fuzz_vf target sends through vfo:
 *
 *   r[0] bits: 0 split the buffer into r[1]+1 MDLs (up to 256 of at
 *        least 8 bytes each); 1 set the NET_BUFFER's
 *        DataOffset/DataLength from r[2..5] (anywhere inside the MDL
 *        chain, DataLength 0 included); 2 fill the NBL's OOB information
 *        (checksum, LSO, 802.1Q, hash, ...) with r[6..]; 3 a status
 *        indication after the receive: StatusCode by r[14], its buffer of
 *        exactly r[15] bytes (0: none) filled from r[16..].
 *
 * Geometry stays inside the buffer the MDLs describe: an NB that points
 * past its MDL chain is not something a protocol can check (NDIS itself
 * reads such an NB out of bounds), so it is not indicated. Everything is
 * undone when the NBL comes back (mp_hostile_restore).
 */
#include "minimp.h"

#ifdef MINIMP_HOSTILE

#define HOSTILE_TYPE_HI 0x88
#define HOSTILE_TYPE_LO 0xB6
#define RECIPE_AT       14
#define RECIPE_LEN      MP_RECIPE_LEN

/* The codes a miniport may indicate (ndisemu's MiniportStatusCode: not
 * NDIS's own RESET_START/_END, OPER_STATUS or PACKET_FILTER, nor the NDIS 5
 * MEDIA_CONNECT/_DISCONNECT): the link state in half the slots, as vfo acts on
 * it, the offload configuration, and two codes nobody defined. */
static const NDIS_STATUS k_status[8] = {
    NDIS_STATUS_LINK_STATE, NDIS_STATUS_TASK_OFFLOAD_CURRENT_CONFIG,
    NDIS_STATUS_LINK_STATE, (NDIS_STATUS)0x40010099L,
    NDIS_STATUS_LINK_STATE, NDIS_STATUS_TASK_OFFLOAD_CURRENT_CONFIG,
    NDIS_STATUS_LINK_STATE, (NDIS_STATUS)0x40020000L,
};

static ULONG le16(const UCHAR *p)
{
    return (ULONG)p[0] | (ULONG)p[1] << 8;
}

/* Replaces the NB's single MDL by n MDLs over the same buffer. */
static void split_mdls(mp_adapter *a, PNET_BUFFER nb, UCHAR *va, ULONG n)
{
    ULONG each = MP_BUF_SIZE / n, done = 0;
    PMDL head = NULL, *tail = &head;
    for (ULONG i = 0; i < n; i++) {
        ULONG len = i + 1 == n ? MP_BUF_SIZE - done : each;
        PMDL m = NdisAllocateMdl(a->handle, va + done, len);
        if (!m)
            break;
        *tail = m;
        tail = &m->Next;
        done += len;
    }
    if (done != MP_BUF_SIZE) { /* out of MDLs: keep the original */
        while (head) {
            PMDL next = head->Next;
            NdisFreeMdl(head);
            head = next;
        }
        return;
    }
    NET_BUFFER_FIRST_MDL(nb) = head;
    NET_BUFFER_CURRENT_MDL(nb) = head;
    NET_BUFFER_CURRENT_MDL_OFFSET(nb) = 0;
}

/* DataOffset/DataLength anywhere inside the buffer; the current MDL and
 * its offset follow DataOffset as NDIS requires. */
static void set_geometry(PNET_BUFFER nb, ULONG off, ULONG len)
{
    off %= MP_BUF_SIZE + 1;
    len %= MP_BUF_SIZE - off + 1;
    PMDL m = NET_BUFFER_FIRST_MDL(nb);
    ULONG skip = off;
    while (m && m->Next && skip >= MmGetMdlByteCount(m)) {
        skip -= MmGetMdlByteCount(m);
        m = m->Next;
    }
    NET_BUFFER_DATA_OFFSET(nb) = off;
    NET_BUFFER_DATA_LENGTH(nb) = len;
    NET_BUFFER_CURRENT_MDL(nb) = m;
    NET_BUFFER_CURRENT_MDL_OFFSET(nb) = skip;
}

static void fill_info(PNET_BUFFER_LIST nbl, const UCHAR *r)
{
    static const int ids[4] = { TcpIpChecksumNetBufferListInfo, TcpLargeSendNetBufferListInfo,
                                Ieee8021QNetBufferListInfo, NetBufferListHashValue };
    for (int i = 0; i < 4; i++)
        NET_BUFFER_LIST_INFO(nbl, ids[i]) = (PVOID)(ULONG_PTR)le16(r + 2 * i);
    NET_BUFFER_LIST_INFO(nbl, NetBufferListHashInfo) = (PVOID)(ULONG_PTR)r[0];
}

/* The status indication a recipe asks for (at DISPATCH_LEVEL, no lock). */
static void indicate_status(mp_adapter *a, const UCHAR *r)
{
    NDIS_STATUS_INDICATION si;
    ULONG size = r[1] % 64;
    PUCHAR buf = NULL;
    if (size) {
        buf = NdisAllocateMemoryWithTagPriority(a->handle, size, MP_TAG, NormalPoolPriority);
        if (!buf)
            return;
        NdisMoveMemory(buf, r + 2, size < RECIPE_LEN - 16 ? size : RECIPE_LEN - 16);
    }
    NdisZeroMemory(&si, sizeof(si));
    NU_INIT_HEADER(&si.Header, NDIS_OBJECT_TYPE_STATUS_INDICATION,
                   NDIS_STATUS_INDICATION_REVISION_1, NDIS_SIZEOF_STATUS_INDICATION_REVISION_1);
    si.SourceHandle = a->handle;
    si.StatusCode = k_status[r[0] % 8];
    si.StatusBuffer = buf;
    si.StatusBufferSize = size;
    NdisMIndicateStatusEx(a->handle, &si);
    if (buf)
        NdisFreeMemoryWithTagPriority(a->handle, buf, MP_TAG);
}

/* Before the indication: mangles each recipe NBL of the chain; the status
 * indications they ask for are copied to status[] (n_status of them). */
ULONG mp_hostile_rx(mp_adapter *a, PNET_BUFFER_LIST chain, UCHAR status[][RECIPE_LEN], ULONG max)
{
    ULONG n_status = 0;
    for (PNET_BUFFER_LIST nbl = chain; nbl; nbl = NET_BUFFER_LIST_NEXT_NBL(nbl)) {
        PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
        ULONG buf = (ULONG)(ULONG_PTR)NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0];
        UCHAR *va = a->rx_bufs + (SIZE_T)buf * MP_BUF_SIZE;
        UCHAR r[RECIPE_LEN];
        if (NET_BUFFER_DATA_LENGTH(nb) < RECIPE_AT || va[12] != HOSTILE_TYPE_HI ||
            va[13] != HOSTILE_TYPE_LO)
            continue;
        NdisMoveMemory(r, va + RECIPE_AT, RECIPE_LEN);
        if (r[0] & 1)
            split_mdls(a, nb, va, (ULONG)r[1] + 1);
        if (r[0] & 2)
            set_geometry(nb, le16(r + 2), le16(r + 4));
        if (r[0] & 4)
            fill_info(nbl, r + 6);
        if ((r[0] & 8) && n_status < max)
            NdisMoveMemory(status[n_status++], r + 14, RECIPE_LEN - 14);
    }
    return n_status;
}

void mp_hostile_status(mp_adapter *a, UCHAR status[][RECIPE_LEN], ULONG n)
{
    for (ULONG i = 0; i < n; i++)
        indicate_status(a, status[i]);
}

/* The NBL came back: its own MDL, geometry and an empty OOB area again. */
void mp_hostile_restore(mp_adapter *a, PNET_BUFFER_LIST nbl)
{
    ULONG buf = (ULONG)(ULONG_PTR)NET_BUFFER_LIST_MINIPORT_RESERVED(nbl)[0];
    PNET_BUFFER nb = NET_BUFFER_LIST_FIRST_NB(nbl);
    PMDL m = NET_BUFFER_FIRST_MDL(nb);
    if (m != a->rx_mdl[buf]) {
        while (m) {
            PMDL next = m->Next;
            NdisFreeMdl(m);
            m = next;
        }
    }
    NET_BUFFER_FIRST_MDL(nb) = a->rx_mdl[buf];
    NET_BUFFER_CURRENT_MDL(nb) = a->rx_mdl[buf];
    NET_BUFFER_CURRENT_MDL_OFFSET(nb) = 0;
    NET_BUFFER_DATA_OFFSET(nb) = 0;
    NdisZeroMemory(nbl->NetBufferListInfo, sizeof(nbl->NetBufferListInfo));
}

#endif /* MINIMP_HOSTILE */
