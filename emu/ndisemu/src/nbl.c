/*
 * nbl.c - NET_BUFFER_LIST / NET_BUFFER pools, MDLs, NBL context areas and
 * the data-start helpers. Every NBL and NB carries a hidden header (its
 * "ext") in front of it: ownership frames for the verifier, its pool, and
 * whether it is live.
 */
#include "emu_internal.h"

#include <stdlib.h>

#define NBL_MAGIC 0x4e424c58u
#define NB_MAGIC  0x4e425858u

/* Freed NBLs stay readable for a while (a ring of the most recent ones), so
 * a completion or return of an NBL its owner already freed is reported as
 * the ownership bug it is, not as a use-after-free crash. */
#define NBL_QUARANTINE 4096
static emu_nbl_ext *quarantine[NBL_QUARANTINE];
static unsigned quarantine_pos;

static void nbl_release(emu_nbl_ext *x)
{
    emu_nbl_ext *old = quarantine[quarantine_pos % NBL_QUARANTINE];
    quarantine[quarantine_pos++ % NBL_QUARANTINE] = x;
    emu_tfree(old);
}

/* Called before the tracked memory is freed as a whole. */
void emu_nbl_quarantine_free(void)
{
    for (unsigned i = 0; i < NBL_QUARANTINE; i++)
        quarantine[i] = NULL;
    quarantine_pos = 0;
}

emu_nbl_ext *emu_nbl_ext_of(emu_runtime *rt, PNET_BUFFER_LIST nbl, const char *call)
{
    return emu_nbl_ext_rule(rt, nbl, call, "HandleAfterClose");
}

emu_nbl_ext *emu_nbl_ext_rule(emu_runtime *rt, PNET_BUFFER_LIST nbl, const char *call,
                              const char *freed_rule)
{
    if (!nbl) {
        emu_violate(rt, "HandleAfterClose", call, "NULL NET_BUFFER_LIST");
        return NULL;
    }
    emu_nbl_ext *x = CONTAINING_RECORD(nbl, emu_nbl_ext, nbl);
    if (x->magic != NBL_MAGIC) {
        emu_violate(rt, "HandleAfterClose", call, "NBL %p was not allocated from an NDIS pool",
                    (void *)nbl);
        return NULL;
    }
    if (!x->live) {
        emu_violate(rt, freed_rule, call, "NBL %p used after NdisFreeNetBufferList", (void *)nbl);
        return NULL;
    }
    return x;
}

static emu_nb_ext *nb_ext_of(PNET_BUFFER nb)
{
    emu_nb_ext *x = CONTAINING_RECORD(nb, emu_nb_ext, nb);
    return x->magic == NB_MAGIC ? x : NULL;
}

/* NblAllocationParameters: the preconditions the NBL/NB allocation pages
 * state. Reports and returns false when one is broken. */
#define NBL_RULE "NblAllocationParameters"

static bool aligned_ctx(emu_runtime *rt, USHORT size, USHORT backfill, const char *call)
{
    if (size % MEMORY_ALLOCATION_ALIGNMENT == 0 && backfill % MEMORY_ALLOCATION_ALIGNMENT == 0)
        return true;
    emu_violate(rt, NBL_RULE, call,
                "context size %u / backfill %u: each must be a multiple of "
                "MEMORY_ALLOCATION_ALIGNMENT (%u)",
                size, backfill, (unsigned)MEMORY_ALLOCATION_ALIGNMENT);
    return false;
}

/* "If MdlChain is NULL, DataOffset and DataLength must be 0": a NET_BUFFER
 * with no MDL describes no data. */
static bool nb_data_ok(emu_runtime *rt, PMDL chain, ULONG off, SIZE_T len, const char *call)
{
    if (chain || (off == 0 && len == 0))
        return true;
    emu_violate(rt, NBL_RULE, call,
                "MdlChain is NULL but DataOffset %u / DataLength %zu are not 0: the "
                "NET_BUFFER would describe data that no MDL maps",
                off, (size_t)len);
    return false;
}

static NDIS_HANDLE pool_alloc(NDIS_HANDLE NdisHandle, const NDIS_OBJECT_HEADER *hdr, bool nb_pool,
                              const char *call)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter(call, "handle=%p", NdisHandle))
        return NULL;
    if (!emu_handle_kind(rt, NdisHandle, EMU_HK_POOL, call))
        return NULL;
    emu_adapter *ad;
    emu_driver *drv = emu_handle_driver(NdisHandle, &ad);
    if (!drv || !hdr || hdr->Type != NDIS_OBJECT_TYPE_DEFAULT) {
        __atomic_add_fetch(&rt->bad_input, 1, __ATOMIC_RELAXED);
        return NULL;
    }
    /* A pool created with an adapter handle belongs to that adapter (and is
     * leak-checked at its halt); one created with a driver handle belongs to
     * the driver even when created inside an adapter's callback. */
    if (!nb_pool) {
        PNET_BUFFER_LIST_POOL_PARAMETERS q = (PNET_BUFFER_LIST_POOL_PARAMETERS)hdr;
        if (!aligned_ctx(rt, q->ContextSize, 0, call))
            return NULL;
        /* DataSize sizes the data NDIS allocates with each pool NB; a pool
         * without NBs has none to size (the stricter reading: 0). */
        if (q->DataSize && !q->fAllocateNetBuffer) {
            emu_violate(rt, NBL_RULE, call,
                        "DataSize %u without fAllocateNetBuffer: the pool has no NET_BUFFER "
                        "for the data",
                        q->DataSize);
            return NULL;
        }
    }
    emu_obj *h = emu_obj_peek(NdisHandle);
    emu_adapter *owner = h && h->kind == K_ADAPTER ? ad : NULL;
    emu_lock(rt);
    emu_nbl_pool *p = emu_obj_new(rt, sizeof(*p), nb_pool ? K_NB_POOL : K_NBL_POOL, drv, owner, 0);
    if (p) {
        p->is_nb_pool = nb_pool;
        if (nb_pool) {
            const NET_BUFFER_POOL_PARAMETERS *q = (const NET_BUFFER_POOL_PARAMETERS *)hdr;
            p->p.PoolTag = q->PoolTag;
            p->p.DataSize = q->DataSize;
        } else {
            p->p = *(const NET_BUFFER_LIST_POOL_PARAMETERS *)hdr;
        }
    }
    emu_unlock(rt);
    return p;
}

NDIS_HANDLE NdisAllocateNetBufferListPool(NDIS_HANDLE NdisHandle,
                                          const NET_BUFFER_LIST_POOL_PARAMETERS *Parameters)
{
    return pool_alloc(NdisHandle, &Parameters->Header, false, "NdisAllocateNetBufferListPool");
}

NDIS_HANDLE NdisAllocateNetBufferPool(NDIS_HANDLE NdisHandle,
                                      const NET_BUFFER_POOL_PARAMETERS *Parameters)
{
    return pool_alloc(NdisHandle, &Parameters->Header, true, "NdisAllocateNetBufferPool");
}

static void pool_free(NDIS_HANDLE PoolHandle, emu_kind kind, const char *call)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter(call, "pool=%p", PoolHandle))
        return;
    emu_nbl_pool *p = (emu_nbl_pool *)emu_obj_check(rt, PoolHandle, kind, call);
    if (!p)
        return;
    emu_lock(rt);
    uint64_t live = p->live;
    if (!live)
        emu_obj_kill(rt, &p->obj);
    emu_unlock(rt);
    if (live)
        emu_violate(rt, "LeakAtUnload", call, "pool freed with %llu NBL/NB still allocated",
                    (unsigned long long)live);
}

void NdisFreeNetBufferListPool(NDIS_HANDLE PoolHandle)
{
    pool_free(PoolHandle, K_NBL_POOL, "NdisFreeNetBufferListPool");
}

void NdisFreeNetBufferPool(NDIS_HANDLE PoolHandle)
{
    pool_free(PoolHandle, K_NB_POOL, "NdisFreeNetBufferPool");
}

/* ---- MDLs ---- */

static PMDL mdl_new(PVOID va, ULONG len)
{
    PMDL m = emu_talloc(sizeof(*m));
    if (!m)
        return NULL;
    m->Size = (CSHORT)sizeof(MDL);
    m->MdlFlags = MDL_SOURCE_IS_NONPAGED_POOL | MDL_MAPPED_TO_SYSTEM_VA;
    m->MappedSystemVa = va;
    m->StartVa = (PVOID)((uintptr_t)va & ~(uintptr_t)(PAGE_SIZE - 1));
    m->ByteOffset = (ULONG)((uintptr_t)va & (PAGE_SIZE - 1));
    m->ByteCount = len;
    return m;
}

PMDL NdisAllocateMdl(NDIS_HANDLE NdisHandle, PVOID VirtualAddress, ULONG Length)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisAllocateMdl", "va=%p len=%u", VirtualAddress, Length))
        return NULL;
    if (!emu_handle_kind(rt, NdisHandle, EMU_HK_MEMORY, "NdisAllocateMdl"))
        return NULL;
    emu_adapter *ad;
    emu_driver *drv = emu_handle_driver(NdisHandle, &ad);
    /* MDLs are charged through a hidden pool allocation so leaks show up. */
    if (!drv) {
        emu_violate(rt, "HandleAfterClose", "NdisAllocateMdl", "bad NdisHandle %p", NdisHandle);
        return NULL;
    }
    (void)ad;
    PMDL m = mdl_new(VirtualAddress, Length);
    if (!m)
        return NULL;
    PMDL *slot =
        NdisAllocateMemoryWithTagPriority(NdisHandle, sizeof(PMDL), 'ldMN', NormalPoolPriority);
    if (!slot) {
        emu_tfree(m);
        return NULL;
    }
    *slot = m;
    m->Process = (struct _EPROCESS *)slot; /* back-pointer to the charge */
    return m;
}

void NdisFreeMdl(PMDL Mdl)
{
    if (!emu_enter("NdisFreeMdl", "%p", (void *)Mdl))
        return;
    if (!Mdl || !Mdl->Process) {
        emu_violate(emu_rt, "HandleAfterClose", "NdisFreeMdl",
                    "MDL %p was not allocated by NdisAllocateMdl", (void *)Mdl);
        return;
    }
    NdisFreeMemoryWithTagPriority(NULL, Mdl->Process, 'ldMN');
    Mdl->Process = NULL;
    emu_tfree(Mdl);
}

/* ---- NET_BUFFER ---- */

static void nb_set_data(PNET_BUFFER nb, PMDL chain, ULONG offset, SIZE_T len)
{
    nb->MdlChain = chain;
    nb->DataOffset = offset;
    nb->DataLength = (ULONG)len;
    nb->CurrentMdl = chain;
    nb->CurrentMdlOffset = offset;
    while (nb->CurrentMdl && nb->CurrentMdlOffset >= nb->CurrentMdl->ByteCount &&
           nb->CurrentMdl->Next) {
        nb->CurrentMdlOffset -= nb->CurrentMdl->ByteCount;
        nb->CurrentMdl = nb->CurrentMdl->Next;
    }
}

static PNET_BUFFER nb_new(emu_runtime *rt, emu_nbl_pool *p, PMDL chain, ULONG off, SIZE_T len)
{
    emu_nb_ext *x = emu_talloc(sizeof(*x));
    if (!x)
        return NULL;
    x->magic = NB_MAGIC;
    x->live = true;
    x->pool = p;
    nb_set_data(&x->nb, chain, off, len);
    x->nb.NdisPoolHandle = p;
    emu_lock(rt);
    if (p) {
        p->live++;
        emu_charge(rt, p->obj.drv, p->obj.ad, p->p.PoolTag,
                   (int64_t)(sizeof(*x) + (x->data ? p->p.DataSize : 0)), 1);
    }
    emu_unlock(rt);
    return &x->nb;
}

static void nb_free(emu_runtime *rt, PNET_BUFFER nb)
{
    emu_nb_ext *x = nb_ext_of(nb);
    if (!x || !x->live) {
        emu_violate(rt, "HandleAfterClose", "NdisFreeNetBuffer",
                    "NET_BUFFER %p is not a live NDIS NET_BUFFER", (void *)nb);
        return;
    }
    emu_lock(rt);
    if (x->pool) {
        x->pool->live--;
        emu_charge(rt, x->pool->obj.drv, x->pool->obj.ad, x->pool->p.PoolTag,
                   -(int64_t)(sizeof(*x) + (x->data ? x->pool->p.DataSize : 0)), -1);
    }
    emu_unlock(rt);
    x->magic = 0;
    emu_tfree(x->own_mdl);
    emu_tfree(x->data);
    emu_tfree(x);
}

PNET_BUFFER NdisAllocateNetBuffer(NDIS_HANDLE PoolHandle, PMDL MdlChain, ULONG DataOffset,
                                  SIZE_T DataLength)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisAllocateNetBuffer", "pool=%p len=%zu", PoolHandle, (size_t)DataLength))
        return NULL;
    emu_nbl_pool *p =
        (emu_nbl_pool *)emu_obj_check(rt, PoolHandle, K_NB_POOL, "NdisAllocateNetBuffer");
    if (!p || !nb_data_ok(rt, MdlChain, DataOffset, DataLength, "NdisAllocateNetBuffer"))
        return NULL;
    /* The pool's DataSize is for NdisAllocateNetBufferMdlAndData only. */
    return nb_new(rt, p, MdlChain, DataOffset, DataLength);
}

void NdisFreeNetBuffer(PNET_BUFFER NetBuffer)
{
    if (!emu_enter("NdisFreeNetBuffer", "%p", (void *)NetBuffer))
        return;
    nb_free(emu_rt, NetBuffer);
}

/* ---- NET_BUFFER_LIST ---- */

/* What an NBL costs its driver: ndisemu's own bookkeeping (the ownership
 * frames, the event history of nbl_hist.c) is not the driver's memory. */
#define NBL_CHARGE (sizeof(emu_nbl_ext) - sizeof(((emu_nbl_ext *)0)->hist))

static PNET_BUFFER_LIST_CONTEXT ctx_block(USHORT size)
{
    PNET_BUFFER_LIST_CONTEXT c = emu_talloc(sizeof(*c) + size);
    if (!c)
        return NULL;
    c->Size = size;
    c->Offset = size;
    return c;
}

static PNET_BUFFER_LIST nbl_new(emu_runtime *rt, emu_nbl_pool *p, USHORT ctx_size, USHORT backfill)
{
    emu_nbl_ext *x = emu_talloc(sizeof(*x));
    if (!x)
        return NULL;
    x->magic = NBL_MAGIC;
    x->live = true;
    x->pool = p;
    USHORT pre = (USHORT)(p->p.ContextSize + ctx_size + backfill);
    if (pre) {
        x->first_ctx = ctx_block(pre);
        if (!x->first_ctx) {
            emu_tfree(x);
            return NULL;
        }
        x->nbl.Context = x->first_ctx;
    }
    x->nbl.NdisPoolHandle = p;
    emu_lock(rt);
    p->live++;
    emu_charge(rt, p->obj.drv, p->obj.ad, p->p.PoolTag, (int64_t)(NBL_CHARGE + pre), 1);
    emu_nbl_live_add(rt, x);
    emu_nbl_note(rt, x, NBL_EV_ALLOC, 0, "from pool %p (tag %#x)", (void *)p,
                 (unsigned)p->p.PoolTag);
    emu_unlock(rt);
    if (ctx_size)
        x->first_ctx->Offset = (USHORT)(x->first_ctx->Offset - ctx_size);
    x->alloc_ctx = ctx_size;
    return &x->nbl;
}

PNET_BUFFER_LIST NdisAllocateNetBufferList(NDIS_HANDLE PoolHandle, USHORT ContextSize,
                                           USHORT ContextBackFill)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisAllocateNetBufferList", "pool=%p ctx=%u", PoolHandle, ContextSize))
        return NULL;
    emu_nbl_pool *p =
        (emu_nbl_pool *)emu_obj_check(rt, PoolHandle, K_NBL_POOL, "NdisAllocateNetBufferList");
    if (!p || !aligned_ctx(rt, ContextSize, ContextBackFill, "NdisAllocateNetBufferList"))
        return NULL;
    PNET_BUFFER_LIST nbl = nbl_new(rt, p, ContextSize, ContextBackFill);
    if (!nbl || !p->p.fAllocateNetBuffer)
        return nbl;
    /* A pool with fAllocateNetBuffer preallocates one NET_BUFFER with each
     * NBL, and with a DataSize also its MDL and data. */
    PNET_BUFFER nb = nb_new(rt, NULL, NULL, 0, 0);
    if (nb && p->p.DataSize) { /* the NB then describes all DataSize bytes */
        emu_nb_ext *x = nb_ext_of(nb);
        x->data = emu_talloc(p->p.DataSize);
        x->own_mdl = x->data ? mdl_new(x->data, p->p.DataSize) : NULL;
        if (!x->own_mdl) {
            emu_tfree(x->data);
            x->data = NULL;
        } else {
            nb_set_data(nb, x->own_mdl, 0, p->p.DataSize);
        }
    }
    if (!nb || (p->p.DataSize && !nb->MdlChain)) {
        if (nb)
            nb_free(rt, nb);
        NdisFreeNetBufferList(nbl);
        return NULL;
    }
    nbl->FirstNetBuffer = nb;
    CONTAINING_RECORD(nbl, emu_nbl_ext, nbl)->data = (void *)nb; /* freed with the NBL */
    return nbl;
}

PNET_BUFFER_LIST NdisAllocateNetBufferAndNetBufferList(NDIS_HANDLE PoolHandle, USHORT ContextSize,
                                                       USHORT ContextBackFill, PMDL MdlChain,
                                                       ULONG DataOffset, SIZE_T DataLength)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisAllocateNetBufferAndNetBufferList", "pool=%p len=%zu", PoolHandle,
                   (size_t)DataLength))
        return NULL;
    emu_nbl_pool *p = (emu_nbl_pool *)emu_obj_check(rt, PoolHandle, K_NBL_POOL,
                                                    "NdisAllocateNetBufferAndNetBufferList");
    if (!p)
        return NULL;
    const char *call = "NdisAllocateNetBufferAndNetBufferList";
    /* The pool "must have been" created with fAllocateNetBuffer TRUE and
     * DataSize 0: the caller describes the data with its own MDL chain. */
    if (!p->p.fAllocateNetBuffer || p->p.DataSize) {
        emu_violate(rt, NBL_RULE, call,
                    "pool %p has fAllocateNetBuffer %u and DataSize %u; this function needs "
                    "TRUE and 0",
                    PoolHandle, (unsigned)p->p.fAllocateNetBuffer, p->p.DataSize);
        return NULL;
    }
    if (!aligned_ctx(rt, ContextSize, ContextBackFill, call) ||
        !nb_data_ok(rt, MdlChain, DataOffset, DataLength, call))
        return NULL;
    PNET_BUFFER_LIST nbl = nbl_new(rt, p, ContextSize, ContextBackFill);
    if (!nbl)
        return NULL;
    PNET_BUFFER nb = nb_new(rt, NULL, MdlChain, DataOffset, DataLength);
    if (!nb) {
        NdisFreeNetBufferList(nbl);
        return NULL;
    }
    nbl->FirstNetBuffer = nb;
    CONTAINING_RECORD(nbl, emu_nbl_ext, nbl)->data = (void *)nb; /* freed with the NBL */
    return nbl;
}

void NdisFreeNetBufferList(PNET_BUFFER_LIST NetBufferList)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisFreeNetBufferList", "%p", (void *)NetBufferList))
        return;
    emu_nbl_ext *x = emu_nbl_ext_of(rt, NetBufferList, "NdisFreeNetBufferList");
    if (!x)
        return;
    if (x->depth > 0) {
        emu_violate(rt,
                    x->fr[x->depth - 1].kind == F_SEND ? "NblSendCompleteOnce" : "NblReturnOnce",
                    "NdisFreeNetBufferList", "NBL %p freed while %s", (void *)NetBufferList,
                    x->fr[x->depth - 1].kind == F_SEND ? "a miniport still owns it (sent, "
                                                         "not completed)"
                                                       : "indicated and not yet returned");
        return;
    }
    /* Context a driver allocated after the NBL must be freed before the NBL
     * goes back; the ContextSize given to the allocation call goes with it. */
    PNET_BUFFER_LIST_CONTEXT c0 = x->first_ctx;
    if (NetBufferList->Context != c0 || (c0 && c0->Size - c0->Offset > x->alloc_ctx)) {
        emu_violate(rt, "NblContextBalanced", "NdisFreeNetBufferList",
                    "NBL %p freed with NBL context still allocated", (void *)NetBufferList);
        return;
    }
    PNET_BUFFER own_nb = x->data;
    USHORT pre = x->first_ctx ? x->first_ctx->Size : 0;
    emu_lock(rt);
    x->pool->live--;
    emu_charge(rt, x->pool->obj.drv, x->pool->obj.ad, x->pool->p.PoolTag,
               -(int64_t)(NBL_CHARGE + pre), -1);
    x->live = false;
    emu_nbl_note(rt, x, NBL_EV_FREE, 0, "%s", "");
    emu_nbl_live_del(rt, x);
    emu_unlock(rt);
    if (own_nb)
        nb_free(rt, own_nb);
    emu_tfree(x->first_ctx);
    x->first_ctx = NULL;
    emu_lock(rt);
    nbl_release(x);
    emu_unlock(rt);
}

/* ---- context areas: grow backwards from the end of a context block ---- */

NDIS_STATUS NdisAllocateNetBufferListContext(PNET_BUFFER_LIST NetBufferList, USHORT ContextSize,
                                             USHORT ContextBackFill, ULONG PoolTag)
{
    emu_runtime *rt = emu_rt;
    (void)PoolTag;
    if (!emu_enter("NdisAllocateNetBufferListContext", "nbl=%p size=%u", (void *)NetBufferList,
                   ContextSize))
        return NDIS_STATUS_FAILURE;
    emu_nbl_ext *x = emu_nbl_ext_of(rt, NetBufferList, "NdisAllocateNetBufferListContext");
    if (!x)
        return NDIS_STATUS_FAILURE;
    if (!aligned_ctx(rt, ContextSize, ContextBackFill, "NdisAllocateNetBufferListContext"))
        return NDIS_STATUS_INVALID_PARAMETER;
    PNET_BUFFER_LIST_CONTEXT c = NetBufferList->Context;
    if (c && c->Offset >= ContextSize) {
        c->Offset = (USHORT)(c->Offset - ContextSize);
        return NDIS_STATUS_SUCCESS;
    }
    PNET_BUFFER_LIST_CONTEXT n = ctx_block((USHORT)(ContextSize + ContextBackFill));
    if (!n)
        return NDIS_STATUS_RESOURCES;
    n->Offset = (USHORT)(n->Size - ContextSize);
    n->Next = c;
    NetBufferList->Context = n;
    return NDIS_STATUS_SUCCESS;
}

void NdisFreeNetBufferListContext(PNET_BUFFER_LIST NetBufferList, USHORT ContextSize)
{
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisFreeNetBufferListContext", "nbl=%p size=%u", (void *)NetBufferList,
                   ContextSize))
        return;
    emu_nbl_ext *x = emu_nbl_ext_of(rt, NetBufferList, "NdisFreeNetBufferListContext");
    if (!x)
        return;
    PNET_BUFFER_LIST_CONTEXT c = NetBufferList->Context;
    if (!c || (USHORT)(c->Size - c->Offset) < ContextSize) {
        emu_violate(rt, "NblContextBalanced", "NdisFreeNetBufferListContext",
                    "freeing %u bytes of NBL context that were not allocated", ContextSize);
        return;
    }
    c->Offset = (USHORT)(c->Offset + ContextSize);
    if (c->Offset == c->Size && c != x->first_ctx) {
        NetBufferList->Context = c->Next;
        emu_tfree(c);
    }
}

/* ---- data start ---- */

NDIS_STATUS NdisRetreatNetBufferDataStart(PNET_BUFFER NetBuffer, ULONG DataOffsetDelta,
                                          ULONG DataBackFill,
                                          NET_BUFFER_ALLOCATE_MDL_HANDLER AllocateMdlHandler)
{
    (void)AllocateMdlHandler;
    if (!emu_enter("NdisRetreatNetBufferDataStart", "nb=%p delta=%u", (void *)NetBuffer,
                   DataOffsetDelta))
        return NDIS_STATUS_FAILURE;
    if (NetBuffer->DataOffset >= DataOffsetDelta) {
        nb_set_data(NetBuffer, NetBuffer->MdlChain, NetBuffer->DataOffset - DataOffsetDelta,
                    NetBuffer->DataLength + DataOffsetDelta);
        return NDIS_STATUS_SUCCESS;
    }
    /* Not enough unused space: prepend a new MDL (NDIS allocates it). */
    ULONG need = DataOffsetDelta - NetBuffer->DataOffset;
    ULONG size = need + DataBackFill;
    void *buf = emu_talloc(size);
    PMDL m = buf ? mdl_new(buf, size) : NULL;
    if (!m) {
        emu_tfree(buf);
        return NDIS_STATUS_RESOURCES;
    }
    m->MdlFlags |= 0x4000; /* ndisemu: MDL owned by NDIS */
    m->Next = NetBuffer->MdlChain;
    nb_set_data(NetBuffer, m, DataBackFill, NetBuffer->DataLength + DataOffsetDelta);
    return NDIS_STATUS_SUCCESS;
}

void NdisAdvanceNetBufferDataStart(PNET_BUFFER NetBuffer, ULONG DataOffsetDelta, BOOLEAN FreeMdl,
                                   NET_BUFFER_FREE_MDL_HANDLER FreeMdlHandler)
{
    (void)FreeMdlHandler;
    if (!emu_enter("NdisAdvanceNetBufferDataStart", "nb=%p delta=%u", (void *)NetBuffer,
                   DataOffsetDelta))
        return;
    if (DataOffsetDelta > NetBuffer->DataLength) {
        __atomic_add_fetch(&emu_rt->bad_input, 1, __ATOMIC_RELAXED);
        return;
    }
    ULONG off = NetBuffer->DataOffset + DataOffsetDelta;
    PMDL chain = NetBuffer->MdlChain;
    /* Drop the MDLs NdisRetreatNetBufferDataStart added once they are empty. */
    while (FreeMdl && chain && (chain->MdlFlags & 0x4000) && off >= chain->ByteCount) {
        PMDL next = chain->Next;
        off -= chain->ByteCount;
        emu_tfree(chain->MappedSystemVa);
        emu_tfree(chain);
        chain = next;
    }
    nb_set_data(NetBuffer, chain, off, NetBuffer->DataLength - DataOffsetDelta);
}

NDIS_STATUS NdisRetreatNetBufferListDataStart(PNET_BUFFER_LIST NetBufferList, ULONG DataOffsetDelta,
                                              ULONG DataBackFill,
                                              NET_BUFFER_ALLOCATE_MDL_HANDLER AllocateMdlHandler,
                                              NET_BUFFER_FREE_MDL_HANDLER FreeMdlHandler)
{
    for (PNET_BUFFER nb = NetBufferList->FirstNetBuffer; nb; nb = nb->Next) {
        NDIS_STATUS st =
            NdisRetreatNetBufferDataStart(nb, DataOffsetDelta, DataBackFill, AllocateMdlHandler);
        if (st != NDIS_STATUS_SUCCESS) {
            for (PNET_BUFFER b = NetBufferList->FirstNetBuffer; b != nb; b = b->Next)
                NdisAdvanceNetBufferDataStart(b, DataOffsetDelta, TRUE, FreeMdlHandler);
            return st;
        }
    }
    return NDIS_STATUS_SUCCESS;
}

void NdisAdvanceNetBufferListDataStart(PNET_BUFFER_LIST NetBufferList, ULONG DataOffsetDelta,
                                       BOOLEAN FreeMdl,
                                       NET_BUFFER_FREE_MDL_HANDLER FreeMdlMdlHandler)
{
    for (PNET_BUFFER nb = NetBufferList->FirstNetBuffer; nb; nb = nb->Next)
        NdisAdvanceNetBufferDataStart(nb, DataOffsetDelta, FreeMdl, FreeMdlMdlHandler);
}

/* Copies up to len bytes starting `skip` bytes into the NB's data. */
ULONG emu_nb_copy_out(const NET_BUFFER *nb, ULONG skip, void *dst, ULONG len)
{
    PMDL m = nb->CurrentMdl;
    ULONG off = nb->CurrentMdlOffset + skip;
    ULONG done = 0;
    while (m && off >= m->ByteCount) {
        off -= m->ByteCount;
        m = m->Next;
    }
    while (m && done < len) {
        ULONG n = m->ByteCount - off;
        if (n > len - done)
            n = len - done;
        memcpy((UCHAR *)dst + done, (UCHAR *)m->MappedSystemVa + off, n);
        done += n;
        off = 0;
        m = m->Next;
    }
    return done;
}

PVOID NdisGetDataBuffer(PNET_BUFFER NetBuffer, ULONG BytesNeeded, PVOID Storage,
                        ULONG AlignMultiple, ULONG AlignOffset)
{
    if (!emu_enter("NdisGetDataBuffer", "nb=%p bytes=%u", (void *)NetBuffer, BytesNeeded))
        return NULL;
    emu_runtime *rt = emu_rt;
    /* AlignMultiple: "expressed in power of two", 0 for none; AlignOffset:
     * "the offset, in bytes, from the alignment multiple". */
    if ((AlignMultiple & (AlignMultiple - 1)) != 0 ||
        (AlignMultiple > 1 && AlignOffset >= AlignMultiple)) {
        emu_violate(rt, "NdisGetDataBuffer", "NdisGetDataBuffer",
                    "AlignMultiple %u with AlignOffset %u: the multiple is a power of two (or 0) "
                    "and the offset lies below it",
                    AlignMultiple, AlignOffset);
        return NULL;
    }
    /* "The return value can also be NULL due to a low resource condition
     * where a data buffer cannot be mapped. This may occur even if the data
     * is contiguous or the Storage parameter is non-NULL." */
    if (rt->cfg.data_buffer_fail_pct) {
        emu_lock(rt); /* the seeded generator */
        bool fail = emu_rand(rt) % 100 < rt->cfg.data_buffer_fail_pct;
        rt->cnt.data_buffer_failures += fail;
        emu_unlock(rt);
        if (fail)
            return NULL;
    }
    if (BytesNeeded == 0 || BytesNeeded > NetBuffer->DataLength || !NetBuffer->CurrentMdl)
        return NULL;
    PMDL m = NetBuffer->CurrentMdl;
    UCHAR *p = (UCHAR *)m->MappedSystemVa + NetBuffer->CurrentMdlOffset;
    bool aligned = AlignMultiple <= 1 || ((uintptr_t)p % AlignMultiple) == AlignOffset;
    if (m->ByteCount - NetBuffer->CurrentMdlOffset >= BytesNeeded && aligned)
        return p;
    if (!Storage)
        return NULL;
    emu_nb_copy_out(NetBuffer, 0, Storage, BytesNeeded);
    return Storage;
}

NDIS_STATUS NdisCopyFromNetBufferToNetBuffer(PNET_BUFFER Destination, ULONG DestinationOffset,
                                             ULONG BytesToCopy, const NET_BUFFER *Source,
                                             ULONG SourceOffset, PULONG BytesCopied)
{
    if (!emu_enter("NdisCopyFromNetBufferToNetBuffer", "dst=%p src=%p n=%u", (void *)Destination,
                   (void *)Source, BytesToCopy))
        return NDIS_STATUS_FAILURE;
    *BytesCopied = 0;
    if (SourceOffset > Source->DataLength || DestinationOffset > Destination->DataLength)
        return NDIS_STATUS_INVALID_LENGTH;
    ULONG n = BytesToCopy;
    if (n > Source->DataLength - SourceOffset)
        n = Source->DataLength - SourceOffset;
    if (n > Destination->DataLength - DestinationOffset)
        n = Destination->DataLength - DestinationOffset;
    UCHAR *tmp = malloc(n ? n : 1);
    if (!tmp)
        return NDIS_STATUS_RESOURCES;
    emu_nb_copy_out(Source, SourceOffset, tmp, n);
    /* write into the destination MDL chain */
    PMDL m = Destination->CurrentMdl;
    ULONG off = Destination->CurrentMdlOffset + DestinationOffset, done = 0;
    while (m && off >= m->ByteCount) {
        off -= m->ByteCount;
        m = m->Next;
    }
    while (m && done < n) {
        ULONG k = m->ByteCount - off;
        if (k > n - done)
            k = n - done;
        memcpy((UCHAR *)m->MappedSystemVa + off, tmp + done, k);
        done += k;
        off = 0;
        m = m->Next;
    }
    free(tmp);
    *BytesCopied = done;
    return NDIS_STATUS_SUCCESS;
}

/* ---- clones: new NBL/NBs that share the original's MDLs ---- */

PNET_BUFFER_LIST NdisAllocateCloneNetBufferList(PNET_BUFFER_LIST OriginalNetBufferList,
                                                NDIS_HANDLE NetBufferListPoolHandle,
                                                NDIS_HANDLE NetBufferPoolHandle,
                                                ULONG AllocateCloneFlags)
{
    emu_runtime *rt = emu_rt;
    (void)AllocateCloneFlags;
    if (!emu_enter("NdisAllocateCloneNetBufferList", "nbl=%p", (void *)OriginalNetBufferList))
        return NULL;
    emu_nbl_pool *p = (emu_nbl_pool *)emu_obj_check(rt, NetBufferListPoolHandle, K_NBL_POOL,
                                                    "NdisAllocateCloneNetBufferList");
    emu_nbl_pool *nbp = NetBufferPoolHandle
                            ? (emu_nbl_pool *)emu_obj_check(rt, NetBufferPoolHandle, K_NB_POOL,
                                                            "NdisAllocateCloneNetBufferList")
                            : NULL;
    if (!p)
        return NULL;
    PNET_BUFFER_LIST c = nbl_new(rt, p, 0, 0);
    if (!c)
        return NULL;
    PNET_BUFFER *tail = &c->FirstNetBuffer;
    for (PNET_BUFFER nb = OriginalNetBufferList->FirstNetBuffer; nb; nb = nb->Next) {
        PNET_BUFFER n = nb_new(rt, nbp, nb->MdlChain, nb->DataOffset, nb->DataLength);
        if (!n) {
            NdisFreeCloneNetBufferList(c, 0);
            return NULL;
        }
        *tail = n;
        tail = &n->Next;
    }
    c->ParentNetBufferList = OriginalNetBufferList;
    c->SourceHandle = OriginalNetBufferList->SourceHandle;
    memcpy(c->NetBufferListInfo, OriginalNetBufferList->NetBufferListInfo,
           sizeof(c->NetBufferListInfo));
    return c;
}

void NdisFreeCloneNetBufferList(PNET_BUFFER_LIST CloneNetBufferList, ULONG FreeCloneFlags)
{
    (void)FreeCloneFlags;
    emu_runtime *rt = emu_rt;
    if (!emu_enter("NdisFreeCloneNetBufferList", "nbl=%p", (void *)CloneNetBufferList))
        return;
    emu_nbl_ext *x = emu_nbl_ext_of(rt, CloneNetBufferList, "NdisFreeCloneNetBufferList");
    if (!x)
        return;
    for (PNET_BUFFER nb = CloneNetBufferList->FirstNetBuffer, n; nb; nb = n) {
        n = nb->Next;
        nb_free(rt, nb);
    }
    CloneNetBufferList->FirstNetBuffer = NULL;
    NdisFreeNetBufferList(CloneNetBufferList);
}
