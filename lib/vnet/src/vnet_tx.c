/*
 * vnet_tx.c - the transmit path: an OS-neutral scatter list plus an offload
 * request become a virtio_net_hdr and descriptors; completions come back
 * through tx_done; a full ring is back-pressure with a resume callback.
 *
 * Each frame in flight owns a slot of DMA memory holding its header. Small
 * frames are copied behind the header (one descriptor, no indirect table
 * to fill or translate); a VLAN tag is inserted by placing the MAC
 * addresses and the tag in the slot and sending the rest of the frame from
 * offset 12. Larger scatter lists go indirect once they reach
 * tx_indirect_min descriptors, or whenever the ring is too full for a chain.
 */
#include "vnet_internal.h"

vnet_status vnet_tx_build(vnet *n)
{
    vnet_txq *q = &n->tx;
    vio_vq_params qp = { 0 };
    vio_status vst;
    uint32_t i;

    qp.index = VNET_Q_TX;
    qp.max_size = n->params.tx_ring;
    qp.msix_vector = n->params.vectors.tx;
    qp.indirect_max = VNET_TX_MAX_SEGS + 1;
    vst = vio_vq_create(n->dev, &qp, &q->vq);
    if (vst != VIO_OK)
        return vnet_vio_error(n, vst);
    q->nslots = vio_vq_size(q->vq);
    q->slots = n->ops->mem_alloc(n->os, sizeof(vnet_tx_slot) * q->nslots);
    q->free_stack = n->ops->mem_alloc(n->os, sizeof(uint32_t) * q->nslots);
    if (!q->slots || !q->free_stack ||
        !n->ops->dma_alloc(n->os, (size_t)q->nslots * VNET_TX_SLOT_BYTES, 64, &q->mem))
        return VNET_E_NOMEM;
    for (i = 0; i < q->nslots; i++) {
        q->slots[i].va = (uint8_t *)q->mem.va + (size_t)i * VNET_TX_SLOT_BYTES;
        q->slots[i].pa = q->mem.pa + (uint64_t)i * VNET_TX_SLOT_BYTES;
    }
    return VNET_OK;
}

void vnet_tx_free(vnet *n)
{
    vnet_txq *q = &n->tx;

    if (q->vq)
        vio_vq_destroy(q->vq);
    if (q->mem.va)
        n->ops->dma_free(n->os, &q->mem);
    if (q->slots)
        n->ops->mem_free(n->os, q->slots, sizeof(vnet_tx_slot) * q->nslots);
    if (q->free_stack)
        n->ops->mem_free(n->os, q->free_stack, sizeof(uint32_t) * q->nslots);
    memset(q, 0, sizeof(*q));
}

void vnet_tx_configure(vnet *n)
{
    vnet_txq *q = &n->tx;
    uint32_t i;

    q->csum = vnet_feat(n, VNET_F_CSUM);
    q->tso4 = vnet_feat(n, VNET_F_HOST_TSO4);
    q->tso6 = vnet_feat(n, VNET_F_HOST_TSO6);
    q->mtu_frame = (uint32_t)n->cfg.link.mtu + VNET_ETH_HLEN;
    q->copy_break = n->params.tx_copy_break;
    q->indirect_min = n->params.tx_indirect_min;
    q->stopped = false;
    for (i = 0; i < q->nslots; i++) {
        q->slots[i].cookie = NULL;
        q->free_stack[i] = q->nslots - 1 - i;
    }
    q->nfree = q->nslots;
}

void vnet_tx_detach(vnet *n)
{
    vnet_txq *q = &n->tx;
    void *token;

    if (!q->vq)
        return;
    while ((token = vio_vq_detach_unused(q->vq)) != NULL) {
        vnet_tx_slot *slot = token;
        void *cookie = slot->cookie;

        slot->cookie = NULL;
        q->free_stack[q->nfree++] = (uint32_t)(slot - q->slots);
        q->stats.cancelled++;
        n->cb.tx_done(n->cb_ctx, cookie, VNET_E_CANCELLED);
    }
}

/* ---- request checks ---------------------------------------------------------- */

static vnet_status reject(vnet_txq *q, vnet_status why)
{
    if (why == VNET_E_TX_TOO_MANY_SEGS)
        q->stats.err_segs++;
    else if (why == VNET_E_TX_LENGTH)
        q->stats.err_length++;
    else
        q->stats.err_offload++;
    return why;
}

static vnet_status check_offload(const vnet_txq *q, const vnet_tx_offload *o, uint32_t len)
{
    uint32_t tso = o->flags & (VNET_TXO_TSO4 | VNET_TXO_TSO6);

    if (o->flags & ~(VNET_TXO_CSUM | VNET_TXO_TSO4 | VNET_TXO_TSO6 | VNET_TXO_VLAN))
        return VNET_E_TX_OFFLOAD;
    if ((o->flags & VNET_TXO_CSUM) && !q->csum)
        return VNET_E_UNSUPPORTED;
    if (tso == (VNET_TXO_TSO4 | VNET_TXO_TSO6))
        return VNET_E_TX_OFFLOAD;
    if ((tso == VNET_TXO_TSO4 && !q->tso4) || (tso == VNET_TXO_TSO6 && !q->tso6))
        return VNET_E_UNSUPPORTED;
    if ((o->flags & (VNET_TXO_CSUM | VNET_TXO_TSO4 | VNET_TXO_TSO6)) &&
        (uint32_t)o->csum_start + o->csum_offset + 2u > len)
        return VNET_E_TX_OFFLOAD;
    if (tso && (o->mss == 0 || o->hdr_len <= o->csum_start || o->hdr_len > len))
        return VNET_E_TX_OFFLOAD;
    if (o->hdrs && (!tso || o->hdr_len > VNET_TX_COPY_MAX))
        return VNET_E_TX_OFFLOAD;
    return VNET_OK;
}

static vnet_status check_request(const vnet_txq *q, const vnet_tx_seg *segs, uint16_t nseg,
                                 const vnet_tx_offload *o, uint32_t *len_out)
{
    uint64_t len = 0;
    uint16_t i;

    if (nseg > VNET_TX_MAX_SEGS)
        return VNET_E_TX_TOO_MANY_SEGS;
    for (i = 0; i < nseg; i++)
        len += segs[i].len;
    if (len < VNET_ETH_HLEN)
        return VNET_E_TX_LENGTH;
    /* The frame may already carry a tag; one inserted here adds 4 more. */
    if (o->flags & (VNET_TXO_TSO4 | VNET_TXO_TSO6)) {
        if (len > VNET_GSO_FRAME_MAX)
            return VNET_E_TX_LENGTH;
    } else if (len > q->mtu_frame + VNET_VLAN_HLEN) {
        return VNET_E_TX_LENGTH;
    }
    *len_out = (uint32_t)len;
    return check_offload(q, o, (uint32_t)len);
}

/* ---- building the buffer --------------------------------------------------------- */

static void fill_header(uint8_t *dst, const vnet_tx_offload *o, uint32_t shift)
{
    vnet_hdr h;

    memset(&h, 0, sizeof(h));
    if (o->flags & (VNET_TXO_CSUM | VNET_TXO_TSO4 | VNET_TXO_TSO6)) {
        h.flags = VNET_HDR_F_NEEDS_CSUM;
        h.csum_start = (uint16_t)(o->csum_start + shift);
        h.csum_offset = o->csum_offset;
    }
    if (o->flags & (VNET_TXO_TSO4 | VNET_TXO_TSO6)) {
        h.gso_type = (o->flags & VNET_TXO_TSO4) ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6;
        h.gso_size = o->mss;
        h.hdr_len = (uint16_t)(o->hdr_len + shift);
    }
    memcpy(dst, &h, VNET_HDR_LEN);
}

/* Copies frame bytes [from, from + len) into dst; false if a needed
 * segment has no va. */
static bool copy_out(const vnet_tx_seg *segs, uint16_t nseg, uint32_t from, uint8_t *dst,
                     uint32_t len)
{
    uint16_t i;

    for (i = 0; i < nseg && len; i++) {
        uint32_t take;

        if (from >= segs[i].len) {
            from -= segs[i].len;
            continue;
        }
        if (!segs[i].va)
            return false;
        take = segs[i].len - from < len ? segs[i].len - from : len;
        memcpy(dst, (const uint8_t *)segs[i].va + from, take);
        dst += take;
        len -= take;
        from = 0;
    }
    return len == 0;
}

/* Writes the 12 MAC bytes and the tag: the frame continues at offset 12. */
static bool put_tagged_prefix(uint8_t *dst, const vnet_tx_seg *segs, uint16_t nseg, uint16_t tci)
{
    if (!copy_out(segs, nseg, 0, dst, 12))
        return false;
    vnet_put_be16(dst + 12, VNET_ETHERTYPE_VLAN);
    vnet_put_be16(dst + 14, tci);
    return true;
}

/* Scatter-gather entries for frame bytes from `from` onward. */
static uint16_t gather_from(const vnet_tx_seg *segs, uint16_t nseg, uint32_t from, vio_sg *sg)
{
    uint16_t i, out = 0;

    for (i = 0; i < nseg; i++) {
        if (from >= segs[i].len) {
            from -= segs[i].len;
            continue;
        }
        sg[out].addr = segs[i].pa + from;
        sg[out].len = segs[i].len - from;
        out++;
        from = 0;
    }
    return out;
}

static bool all_mapped(const vnet_tx_seg *segs, uint16_t nseg)
{
    uint16_t i;

    for (i = 0; i < nseg; i++)
        if (!segs[i].va)
            return false;
    return true;
}

static vio_add_mode choose_mode(const vnet_txq *q, uint16_t ndesc)
{
    if (ndesc == 1 || !vio_vq_can_indirect(q->vq))
        return VIO_ADD_DIRECT;
    if (ndesc >= q->indirect_min || vio_vq_num_free(q->vq) < ndesc)
        return VIO_ADD_INDIRECT;
    return VIO_ADD_DIRECT;
}

/* The caller's headers (o->hdrs, o->hdr_len bytes) next to the virtio
 * header, a tag inserted after the MACs if asked, then the frame from
 * hdr_len on. */
static uint16_t lay_out_own_headers(const vnet_tx_offload *o, uint8_t *p, const vnet_tx_seg *segs,
                                    uint16_t nseg, vio_sg *sg)
{
    const uint8_t *h = o->hdrs;
    uint32_t n = o->hdr_len;

    if (o->flags & VNET_TXO_VLAN) {
        memcpy(p, h, 12);
        vnet_put_be16(p + 12, VNET_ETHERTYPE_VLAN);
        vnet_put_be16(p + 14, o->vlan_tci);
        memcpy(p + 16, h + 12, n - 12);
        n += VNET_VLAN_HLEN;
    } else {
        memcpy(p, h, n);
    }
    sg[0].len = VNET_HDR_LEN + n;
    return (uint16_t)(1 + gather_from(segs, nseg, o->hdr_len, sg + 1));
}

/* Fills slot `s` and the descriptor list for the frame; returns the
 * number of descriptors, 0 if bytes that must be copied have no va. */
static uint16_t lay_out(vnet_txq *q, vnet_tx_slot *s, const vnet_tx_seg *segs, uint16_t nseg,
                        const vnet_tx_offload *o, uint32_t len, vio_sg *sg)
{
    bool vlan = (o->flags & VNET_TXO_VLAN) != 0;
    uint32_t shift = vlan ? VNET_VLAN_HLEN : 0;
    uint8_t *p = s->va + VNET_HDR_LEN;

    fill_header(s->va, o, shift);
    sg[0].addr = s->pa;
    if (o->hdrs) /* headers replaced (large send): copied, the rest gathered */
        return lay_out_own_headers(o, p, segs, nseg, sg);
    if (len <= q->copy_break && all_mapped(segs, nseg)) {
        if (vlan) {
            put_tagged_prefix(p, segs, nseg, o->vlan_tci);
            copy_out(segs, nseg, 12, p + 16, len - 12);
        } else {
            copy_out(segs, nseg, 0, p, len);
        }
        sg[0].len = VNET_HDR_LEN + shift + len;
        q->stats.copied++;
        return 1;
    }
    if (vlan) {
        if (!put_tagged_prefix(p, segs, nseg, o->vlan_tci))
            return 0;
        sg[0].len = VNET_HDR_LEN + 16;
        return (uint16_t)(1 + gather_from(segs, nseg, 12, sg + 1));
    }
    sg[0].len = VNET_HDR_LEN;
    return (uint16_t)(1 + gather_from(segs, nseg, 0, sg + 1));
}

static void count_offloads(vnet_txq *q, const vnet_tx_offload *o)
{
    q->stats.csum += (o->flags & VNET_TXO_CSUM) != 0;
    q->stats.tso += (o->flags & (VNET_TXO_TSO4 | VNET_TXO_TSO6)) != 0;
    q->stats.vlan += (o->flags & VNET_TXO_VLAN) != 0;
}

static vnet_status ring_full(vnet_txq *q)
{
    q->stats.ring_full++;
    if (!q->stopped) {
        q->stopped = true;
        /* Make sure completions are announced even if the OS keeps TX
         * interrupts off: the resume callback depends on them. */
        vio_vq_enable_cb_delayed(q->vq);
    }
    return VNET_E_RING_FULL;
}

vnet_status vnet_tx(vnet *n, const vnet_tx_seg *segs, uint16_t nseg, const vnet_tx_offload *off,
                    void *cookie)
{
    static const vnet_tx_offload none = { 0 };
    vnet_txq *q = &n->tx;
    vio_sg sg[VNET_TX_MAX_SEGS + 1];
    const vnet_tx_offload *o = off ? off : &none;
    vnet_tx_slot *s;
    uint32_t len, idx;
    uint16_t ndesc;
    vio_add_mode mode;
    vnet_status st;
    vio_status vst;

    if (VFO_UNLIKELY(!n->started))
        return VNET_E_STATE;
    if (VFO_UNLIKELY(!segs || nseg == 0 || !cookie))
        return VNET_E_INVAL;
    st = check_request(q, segs, nseg, o, &len);
    if (VFO_UNLIKELY(st != VNET_OK))
        return reject(q, st);
    if (VFO_UNLIKELY(q->nfree == 0))
        return ring_full(q);
    idx = q->free_stack[q->nfree - 1];
    s = &q->slots[idx];
    ndesc = lay_out(q, s, segs, nseg, o, len, sg);
    if (VFO_UNLIKELY(ndesc == 0))
        return reject(q, VNET_E_INVAL); /* a tag to insert, but no va for the MACs */
    mode = choose_mode(q, ndesc);
    vst = vio_vq_add(q->vq, sg, ndesc, 0, s, mode);
    if (VFO_UNLIKELY(vst != VIO_OK)) {
        if (vst == VIO_E_NOSPC)
            return ring_full(q);
        vnet_vio_error(n, vst);
        return VNET_E_BROKEN;
    }
    q->nfree--;
    s->cookie = cookie;
    q->stats.frames++;
    q->stats.bytes += len;
    q->stats.indirect += mode == VIO_ADD_INDIRECT;
    count_offloads(q, o);
    return VNET_OK;
}

bool vnet_tx_kick(vnet *n)
{
    if (!n->started || !vio_vq_kick(n->tx.vq))
        return false;
    n->tx.stats.kicks++;
    return true;
}

static bool room_to_resume(const vnet_txq *q)
{
    uint16_t size = vio_vq_size(q->vq);

    return q->nfree >= q->nslots / 4 && vio_vq_num_free(q->vq) >= size / 4;
}

unsigned vnet_tx_reap(vnet *n, unsigned budget)
{
    vnet_txq *q = &n->tx;
    unsigned done = 0;

    if (!n->started)
        return 0;
    while (done < budget) {
        void *token, *cookie;
        vnet_tx_slot *s;
        vio_status vst = vio_vq_get_used(q->vq, &token, NULL);

        if (vst != VIO_OK) {
            if (vst != VIO_E_EMPTY)
                vnet_vio_error(n, vst);
            break;
        }
        s = token;
        cookie = s->cookie;
        s->cookie = NULL;
        q->free_stack[q->nfree++] = (uint32_t)(s - q->slots);
        q->stats.completed++;
        n->cb.tx_done(n->cb_ctx, cookie, VNET_OK);
        done++;
    }
    if (q->stopped && room_to_resume(q)) {
        q->stopped = false;
        q->stats.resumes++;
        if (n->cb.tx_resume)
            n->cb.tx_resume(n->cb_ctx);
    }
    return done;
}

bool vnet_tx_broken(const vnet *n)
{
    return n->tx.vq && vio_vq_is_broken(n->tx.vq);
}

uint32_t vnet_tx_pending(const vnet *n)
{
    return n->tx.nslots - n->tx.nfree;
}

void vnet_tx_disable_intr(vnet *n)
{
    if (n->tx.vq)
        vio_vq_disable_cb(n->tx.vq);
}

bool vnet_tx_enable_intr(vnet *n)
{
    return !n->tx.vq || vio_vq_enable_cb(n->tx.vq);
}
