/*
 * vnet_rx.c - the receive data path: used buffers -> validated, OS-neutral
 * frame descriptors; returned frames -> buffers posted again. Nothing here
 * allocates. Everything the device wrote (header fields, num_buffers,
 * lengths) is read once and checked; a bad frame is counted, dropped, and
 * its buffers go straight back to the device.
 */
#include "vnet_internal.h"

static vnet_status drop(vnet *n, uint32_t first, vnet_status why)
{
    vnet_rxq *q = &n->rx;
    uint32_t b = first;

    q->stats.dropped++;
    q->last_error = why;
    switch (why) {
    case VNET_E_RX_RUNT:
        q->stats.err_runt++;
        break;
    case VNET_E_RX_NUM_BUFFERS:
        q->stats.err_num_buffers++;
        break;
    case VNET_E_RX_FRAME_SHORT:
        q->stats.err_frame_short++;
        break;
    case VNET_E_RX_FRAME_LONG:
        q->stats.err_frame_long++;
        break;
    case VNET_E_RX_GSO:
        q->stats.err_gso++;
        break;
    default:
        q->stats.err_csum++;
        break;
    }
    while (b != VNET_NONE) {
        uint32_t next = q->bufs[b].next;
        q->bufs[b].next = VNET_NONE;
        vnet_rx_post(n, b);
        b = next;
    }
    return why;
}

/* Appends the data bytes of buffer `buf` (used length `len`, header
 * included when `skip` is VNET_HDR_LEN) to the frame. */
static vnet_status add_buffer(vnet_rxq *q, vnet_rx_frame *f, uint32_t buf, uint32_t len,
                              uint32_t skip)
{
    uint32_t slot = buf * q->slots_per_buf;
    uint32_t left = len - skip;
    uint32_t off = skip;

    while (left) {
        uint32_t take = q->slot_size - off < left ? q->slot_size - off : left;

        if (f->nseg == VNET_RX_MAX_SEGS)
            return VNET_E_RX_NUM_BUFFERS;
        f->seg[f->nseg].va = q->slots[slot].va + off;
        f->seg[f->nseg].len = take;
        f->seg[f->nseg].slot = slot;
        f->nseg++;
        f->len += take;
        left -= take;
        off = 0;
        slot++;
    }
    return VNET_OK;
}

/* Takes the next used buffer; *buf is VNET_NONE when none is pending. */
static vnet_status take_used(vnet *n, uint32_t *buf, uint32_t *len)
{
    vnet_rxq *q = &n->rx;
    void *token;
    vio_status vst = vio_vq_get_used(q->vq, &token, len);

    *buf = VNET_NONE;
    if (vst == VIO_E_EMPTY)
        return VNET_E_EMPTY;
    if (VFO_UNLIKELY(vst != VIO_OK)) {
        q->last_error = VNET_E_BROKEN;
        vnet_vio_error(n, vst);
        return VNET_E_BROKEN;
    }
    *buf = (uint32_t)((vnet_rx_buf *)token - q->bufs);
    q->bufs[*buf].state = VNET_RXB_IDLE;
    q->bufs[*buf].next = VNET_NONE; /* a frame cut short by a broken ring left links */
    q->posted--;
    q->stats.buffers++;
    return VNET_OK;
}

/* ---- header checks ---------------------------------------------------------- */

static bool gso_allowed(const vnet_rxq *q, uint8_t gso_type)
{
    if (gso_type == VNET_GSO_TCPV4)
        return q->gso4;
    if (gso_type == VNET_GSO_TCPV6)
        return q->gso6;
    return false; /* UDP, ECN and unknown types were never negotiated */
}

static vnet_status check_frame(const vnet_rxq *q, const vnet_hdr *h, uint32_t len)
{
    if (len < VNET_ETH_HLEN)
        return VNET_E_RX_FRAME_SHORT;
    if (h->gso_type != VNET_GSO_NONE) {
        if (!gso_allowed(q, h->gso_type) || h->gso_size == 0 || !(h->flags & VNET_HDR_F_NEEDS_CSUM))
            return VNET_E_RX_GSO;
        if (len > VNET_GSO_FRAME_MAX)
            return VNET_E_RX_FRAME_LONG;
    } else if (len > q->max_frame) {
        return VNET_E_RX_FRAME_LONG;
    }
    /* A transport checksum never starts inside the Ethernet header. */
    if ((h->flags & VNET_HDR_F_NEEDS_CSUM) &&
        (h->csum_start < VNET_ETH_HLEN || (uint32_t)h->csum_start + h->csum_offset + 2u > len))
        return VNET_E_RX_CSUM;
    return VNET_OK;
}

/* ---- frame content helpers -------------------------------------------------- */

/* Byte `off` of the frame. */
static uint8_t *frame_byte(vnet_rx_frame *f, uint32_t off)
{
    uint16_t i;

    for (i = 0; i < f->nseg; i++) {
        if (off < f->seg[i].len)
            return f->seg[i].va + off;
        off -= f->seg[i].len;
    }
    return NULL;
}

/* Fills in the checksum the device left partial: the ones' complement of
 * the sum from csum_start to the end, which already holds the pseudo-header
 * sum in the checksum field. */
static void complete_checksum(vnet_rx_frame *f, uint16_t start, uint16_t offset)
{
    uint32_t sum = 0, pos = 0;
    uint16_t i, csum;
    uint8_t *hi, *lo;

    for (i = 0; i < f->nseg; i++) {
        uint32_t seg_end = pos + f->seg[i].len;
        if (seg_end > start) {
            uint32_t from = pos > start ? pos : start;
            sum = vnet_csum_add(sum, f->seg[i].va + (from - pos), seg_end - from,
                                ((from - start) & 1u) != 0);
        }
        pos = seg_end;
    }
    csum = vnet_csum_fold(sum);
    if (csum == 0 && offset == 6)
        csum = 0xFFFF; /* UDP sends a computed zero as all ones (RFC 768) */
    hi = frame_byte(f, (uint32_t)start + offset);
    lo = frame_byte(f, (uint32_t)start + offset + 1);
    *hi = (uint8_t)(csum >> 8);
    *lo = (uint8_t)csum;
}

static void parse_vlan(const vnet_rxq *q, vnet_rx_frame *f, bool needs_csum)
{
    uint8_t tag[4];
    uint32_t i;

    if (f->len < VNET_ETH_HLEN + VNET_VLAN_HLEN)
        return;
    if (VFO_LIKELY(f->seg[0].len >= 16)) {
        memcpy(tag, f->seg[0].va + 12, 4);
    } else {
        for (i = 0; i < 4; i++)
            tag[i] = *frame_byte(f, 12 + i);
    }
    if (vnet_be16(tag) != VNET_ETHERTYPE_VLAN)
        return;
    f->vlan_tci = vnet_be16(tag + 2);
    f->flags |= VNET_RXF_VLAN;
    /* A checksum range that starts inside the tag is nonsense we do not
     * rewrite: such a frame keeps its tag. */
    if (!q->strip_vlan || f->seg[0].len < 16 || (needs_csum && f->csum_start < 16))
        return;
    /* Slide the two MAC addresses over the tag: 12 bytes, not the frame. */
    memmove(f->seg[0].va + VNET_VLAN_HLEN, f->seg[0].va, 12);
    f->seg[0].va += VNET_VLAN_HLEN;
    f->seg[0].len -= VNET_VLAN_HLEN;
    f->len -= VNET_VLAN_HLEN;
    f->csum_start = (uint16_t)(f->csum_start - VNET_VLAN_HLEN);
    if (f->hdr_len >= VNET_VLAN_HLEN)
        f->hdr_len = (uint16_t)(f->hdr_len - VNET_VLAN_HLEN);
    f->flags |= VNET_RXF_VLAN_STRIPPED;
}

static void apply_checksum_flags(vnet_rxq *q, vnet_rx_frame *f, const vnet_hdr *h)
{
    uint8_t flags = h->flags;

    if (!q->guest_csum && (flags & (VNET_HDR_F_NEEDS_CSUM | VNET_HDR_F_DATA_VALID))) {
        /* Not negotiated: trust no verdict, but a partial checksum must
         * still be finished or the frame is useless. */
        q->stats.err_flags++;
        q->last_error = VNET_E_RX_FLAGS;
        flags &= VNET_HDR_F_NEEDS_CSUM;
        if (flags) {
            complete_checksum(f, f->csum_start, f->csum_offset);
            q->stats.csum_completed++;
        }
        return;
    }
    if (flags & VNET_HDR_F_NEEDS_CSUM) {
        if (!(f->flags & VNET_RXF_GSO) && q->complete_csum) {
            complete_checksum(f, f->csum_start, f->csum_offset);
            q->stats.csum_completed++;
            f->flags |= VNET_RXF_CSUM_VALID;
        } else {
            f->flags |= VNET_RXF_CSUM_PARTIAL;
        }
    } else if (flags & VNET_HDR_F_DATA_VALID) {
        f->flags |= VNET_RXF_CSUM_VALID;
    }
}

/* ---- assembling frames ------------------------------------------------------ */

static void hand_to_os(vnet_rxq *q, vnet_rx_frame *f, uint32_t first)
{
    uint32_t b;

    for (b = first; b != VNET_NONE; b = q->bufs[b].next)
        q->bufs[b].state = VNET_RXB_OS;
    q->bufs[first].head = true;
    f->handle = first;
    q->stats.frames++;
    q->stats.bytes += f->len;
    q->stats.merged += f->nseg > 1 && q->mergeable;
    q->stats.csum_valid += (f->flags & VNET_RXF_CSUM_VALID) != 0;
    q->stats.csum_partial += (f->flags & VNET_RXF_CSUM_PARTIAL) != 0;
    q->stats.gso += (f->flags & VNET_RXF_GSO) != 0;
    q->stats.vlan += (f->flags & VNET_RXF_VLAN) != 0;
}

/* All buffers of the frame are in: validate and describe it. */
static vnet_status finish(vnet *n, vnet_rx_frame *f, const vnet_hdr *h, uint32_t first)
{
    vnet_rxq *q = &n->rx;
    vnet_status st = check_frame(q, h, f->len);

    if (VFO_UNLIKELY(st != VNET_OK))
        return drop(n, first, st);
    f->flags = 0;
    f->gso_type = (uint8_t)(h->gso_type & ~VNET_GSO_ECN);
    f->gso_size = h->gso_size;
    f->hdr_len = h->hdr_len;
    f->csum_start = h->csum_start;
    f->csum_offset = h->csum_offset;
    f->vlan_tci = 0;
    if (h->gso_type != VNET_GSO_NONE)
        f->flags |= VNET_RXF_GSO;
    parse_vlan(q, f, (h->flags & VNET_HDR_F_NEEDS_CSUM) != 0);
    apply_checksum_flags(q, f, h);
    hand_to_os(q, f, first);
    return VNET_OK;
}

/* Collects the remaining buffers of a mergeable frame; VNET_E_EMPTY if the
 * device has not returned them yet (the frame is parked in q->partial). */
static vnet_status gather(vnet *n, vnet_rx_frame *f, const vnet_hdr *h, uint32_t first,
                          uint32_t last, uint16_t have)
{
    vnet_rxq *q = &n->rx;

    while (have < h->num_buffers) {
        uint32_t buf, len;
        vnet_status st = take_used(n, &buf, &len);

        if (st != VNET_OK) {
            if (st == VNET_E_EMPTY) {
                q->partial.active = true;
                q->partial.hdr = *h;
                q->partial.first = first;
                q->partial.last = last;
                q->partial.have = have;
                q->partial.frame = *f;
            }
            return st;
        }
        q->bufs[last].next = buf;
        last = buf;
        have++;
        if (add_buffer(q, f, buf, len, 0) != VNET_OK)
            return drop(n, first, VNET_E_RX_NUM_BUFFERS);
    }
    return finish(n, f, h, first);
}

/* The first buffer of a frame: header checks that need no more buffers. */
static vnet_status begin(vnet *n, vnet_rx_frame *f, uint32_t buf, uint32_t len)
{
    vnet_rxq *q = &n->rx;
    vnet_hdr h;

    if (VFO_UNLIKELY(len < VNET_HDR_LEN))
        return drop(n, buf, VNET_E_RX_RUNT);
    memcpy(&h, q->slots[buf * q->slots_per_buf].va, VNET_HDR_LEN);
    if (VFO_UNLIKELY(h.num_buffers == 0 || h.num_buffers > VNET_RX_MAX_SEGS ||
                     (!q->mergeable && h.num_buffers != 1)))
        return drop(n, buf, VNET_E_RX_NUM_BUFFERS);
    f->nseg = 0;
    f->len = 0;
    add_buffer(q, f, buf, len, VNET_HDR_LEN);
    if (h.num_buffers == 1)
        return finish(n, f, &h, buf);
    return gather(n, f, &h, buf, buf, 1);
}

vnet_status vnet_rx_next(vnet *n, vnet_rx_frame *f)
{
    vnet_rxq *q = &n->rx;

    if (VFO_UNLIKELY(!n->started || !f))
        return VNET_E_STATE;
    for (;;) {
        uint32_t buf, len;
        vnet_status st;

        if (VFO_UNLIKELY(q->partial.active)) {
            vnet_rx_partial *p = &q->partial;
            p->active = false;
            *f = p->frame;
            st = gather(n, f, &p->hdr, p->first, p->last, p->have);
        } else {
            st = take_used(n, &buf, &len);
            if (st == VNET_OK)
                st = begin(n, f, buf, len);
        }
        if (st == VNET_OK || st == VNET_E_EMPTY || st == VNET_E_BROKEN)
            return st;
        /* A dropped frame: look at the next one. */
    }
}

vnet_status vnet_rx_return(vnet *n, uint32_t handle)
{
    vnet_rxq *q = &n->rx;
    uint32_t b = handle;

    if (handle >= q->nbufs || q->bufs[handle].state != VNET_RXB_OS || !q->bufs[handle].head) {
        q->stats.bad_return++;
        return VNET_E_INVAL;
    }
    q->bufs[handle].head = false;
    while (b != VNET_NONE) {
        uint32_t next = q->bufs[b].next;
        q->bufs[b].next = VNET_NONE;
        if (n->started)
            vnet_rx_post(n, b);
        else
            q->bufs[b].state = VNET_RXB_IDLE;
        b = next;
    }
    return VNET_OK;
}

bool vnet_rx_kick(vnet *n)
{
    if (!n->started || !vio_vq_kick(n->rx.vq))
        return false;
    n->rx.stats.kicks++;
    return true;
}

void vnet_rx_disable_intr(vnet *n)
{
    if (n->rx.vq)
        vio_vq_disable_cb(n->rx.vq);
}

bool vnet_rx_enable_intr(vnet *n)
{
    return !n->rx.vq || vio_vq_enable_cb(n->rx.vq);
}
