/*
 * virtio_net_dev_rx.c - frames from the world into the driver's receive
 * buffers: QEMU's receive filter, the virtio header the negotiated
 * features allow, and buffer placement (one buffer, or merged across
 * several with MRG_RXBUF). Receive buffers are popped ahead into a stash,
 * so a frame that needs more buffers than are available waits without
 * losing the ones already taken.
 */
#include "virtio_net_dev_internal.h"

/* ---- the receive filter (QEMU's receive_filter) -------------------------- */

void emu_vnet_filter_reset(emu_vnet *d)
{
    memcpy(d->mac, d->params.mac, 6);
    d->promisc = true; /* QEMU resets to promiscuous "for compatibility" */
    d->allmulti = false;
    d->uni_overflow = false;
    d->multi_overflow = false;
    d->n_uc = 0;
    d->n_mc = 0;
    memset(d->uc, 0, sizeof(d->uc));
    memset(d->mc, 0, sizeof(d->mc));
    memset(d->vlans, 0, sizeof(d->vlans));
}

static bool in_table(const uint8_t (*table)[6], uint32_t n, const uint8_t *mac)
{
    uint32_t i;

    for (i = 0; i < n; i++)
        if (memcmp(table[i], mac, 6) == 0)
            return true;
    return false;
}

static bool filter_accepts(const emu_vnet *d, const uint8_t *f, size_t len)
{
    static const uint8_t bcast[6] = { 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF };

    if (d->promisc)
        return true;
    if (len >= 16 && emu_vnet_be16(f + 12) == 0x8100 &&
        !emu_vnet_vlan_allowed(d, emu_vnet_be16(f + 14) & 0xFFF))
        return false;
    if (f[0] & 1) {
        if (memcmp(f, bcast, 6) == 0 || d->allmulti || d->multi_overflow)
            return true;
        return in_table(d->mc, d->n_mc, f);
    }
    if (d->uni_overflow || memcmp(f, d->mac, 6) == 0)
        return true;
    return in_table(d->uc, d->n_uc, f);
}

/* ---- checks on what the world hands over ---------------------------------------- */

bool emu_vnet_accepts_gso(const emu_vnet *d, uint8_t gso_type)
{
    if (gso_type == EMU_VNET_GSO_TCPV4)
        return emu_vnet_has(d, EMU_VNET_F_GUEST_TSO4);
    if (gso_type == EMU_VNET_GSO_TCPV6)
        return emu_vnet_has(d, EMU_VNET_F_GUEST_TSO6);
    return false; /* ECN and UDP are not implemented */
}

static emu_vnet_rx_result check_frame(const emu_vnet *d, size_t len, const emu_vnet_meta *m)
{
    size_t limit = emu_vnet_has(d, EMU_VNET_F_MTU) ? d->params.mtu + 18u : EMU_VNET_GSO_MAX;

    if (len < 14)
        return EMU_VNET_RX_BAD_FRAME;
    if ((m->flags & EMU_VNET_META_CSUM_PARTIAL) && (size_t)m->csum_start + m->csum_offset + 2 > len)
        return EMU_VNET_RX_BAD_FRAME;
    if (m->gso_type == EMU_VNET_GSO_NONE)
        return len <= limit ? EMU_VNET_RX_DELIVERED : EMU_VNET_RX_BAD_FRAME;
    if (m->gso_type != EMU_VNET_GSO_TCPV4 && m->gso_type != EMU_VNET_GSO_TCPV6 &&
        !(m->gso_type & EMU_VNET_GSO_ECN))
        return EMU_VNET_RX_BAD_FRAME;
    if (!emu_vnet_accepts_gso(d, m->gso_type))
        return EMU_VNET_RX_UNSUPPORTED;
    if (m->gso_size == 0 || !(m->flags & EMU_VNET_META_CSUM_PARTIAL) || len > EMU_VNET_GSO_MAX)
        return EMU_VNET_RX_BAD_FRAME;
    return EMU_VNET_RX_DELIVERED;
}

/* ---- the header ---------------------------------------------------------------- */

/* Header for the driver; may finish a checksum into the staging buffer,
 * in which case *src points there. */
static emu_vnet_hdr make_header(emu_vnet *d, const emu_vnet_meta *m, const uint8_t **src,
                                size_t len)
{
    emu_vnet_hdr h;

    memset(&h, 0, sizeof(h));
    if (m->flags & EMU_VNET_META_CSUM_PARTIAL) {
        if (d->guest_csum) {
            h.flags = EMU_VNET_HDR_NEEDS_CSUM;
            h.csum_start = m->csum_start;
            h.csum_offset = m->csum_offset;
        } else {
            memcpy(d->staging, *src, len);
            emu_vnet_csum_complete(d->staging, len, m->csum_start, m->csum_offset);
            *src = d->staging;
            d->stats.rx_csum_completed++;
        }
    } else if ((m->flags & EMU_VNET_META_CSUM_VALID) && d->guest_csum) {
        h.flags = EMU_VNET_HDR_DATA_VALID;
    }
    if (m->gso_type != EMU_VNET_GSO_NONE) {
        h.gso_type = m->gso_type;
        h.gso_size = m->gso_size;
        h.hdr_len = m->hdr_len;
    }
    return h;
}

static void apply_header_faults(emu_vnet *d, emu_vnet_hdr *h)
{
    uint32_t v;

    if (emu_vnet_fault_take(d, EMU_VNET_FAULT_RX_FLAGS, &v))
        h->flags = (uint8_t)v;
    if (emu_vnet_fault_take(d, EMU_VNET_FAULT_RX_GSO_TYPE, &v))
        h->gso_type = (uint8_t)v;
    if (emu_vnet_fault_take(d, EMU_VNET_FAULT_RX_GSO_SIZE, &v))
        h->gso_size = (uint16_t)v;
    if (emu_vnet_fault_take(d, EMU_VNET_FAULT_RX_CSUM_START, &v)) {
        h->flags |= EMU_VNET_HDR_NEEDS_CSUM;
        h->csum_start = (uint16_t)v;
        h->csum_offset = 16;
    }
    if (emu_vnet_fault_take(d, EMU_VNET_FAULT_RX_NUM_BUFFERS, &v))
        h->num_buffers = (uint16_t)v;
}

/* ---- buffers --------------------------------------------------------------------- */

static emu_vdev_req *stash_at(emu_vnet *d, uint32_t i)
{
    return &d->rx_stash.reqs[(d->rx_stash.head + i) % d->rx_stash.cap];
}

/* Makes sure the stash holds buffer number i; EMU_VNET_RX_DELIVERED if so. */
static emu_vnet_rx_result stash_fill(emu_vnet *d, uint32_t i)
{
    emu_vnet_held *s = &d->rx_stash;
    emu_vdev_req *req;

    if (i < s->count)
        return EMU_VNET_RX_DELIVERED;
    if (s->count == s->cap)
        return EMU_VNET_RX_BAD_FRAME; /* needs more buffers than the ring has */
    req = stash_at(d, s->count);
    switch (emu_vdev_pop(d->vdev, EMU_VNET_QUEUE_RX, req)) {
    case EMU_VDEV_POP_EMPTY:
        return EMU_VNET_RX_NO_BUFFERS;
    case EMU_VDEV_POP_ERROR:
        return EMU_VNET_RX_NOT_READY;
    default:
        break;
    }
    if (req->n_readable || req->writable_len < EMU_VNET_HDR_LEN) {
        /* Receive buffers are write-only and hold at least a header. */
        d->stats.rx_bad_buffer++;
        emu_vdev_needs_reset(d->vdev);
        return EMU_VNET_RX_NOT_READY;
    }
    s->count++;
    return EMU_VNET_RX_DELIVERED;
}

/* How many stashed buffers the frame takes (popping more if needed). */
static emu_vnet_rx_result reserve(emu_vnet *d, size_t need, uint32_t *nbuf)
{
    size_t room = 0;
    uint32_t k = 0;

    while (room < need) {
        emu_vnet_rx_result r = stash_fill(d, k);
        if (r != EMU_VNET_RX_DELIVERED)
            return r;
        room += stash_at(d, k)->writable_len;
        k++;
        if (!d->mergeable)
            break;
    }
    if (room < need)
        return EMU_VNET_RX_BAD_FRAME; /* a single buffer too small: it stays for the next */
    *nbuf = k;
    return EMU_VNET_RX_DELIVERED;
}

/* Copies header then frame across the reserved buffers and returns them. */
static void place(emu_vnet *d, const emu_vnet_hdr *h, const uint8_t *src, size_t len, uint32_t nbuf)
{
    size_t done = 0;
    uint32_t i, v;
    bool hold_tail = nbuf > 1 && emu_vnet_fault_take(d, EMU_VNET_FAULT_RX_HOLD_TAIL, NULL);

    for (i = 0; i < nbuf; i++) {
        const emu_vdev_req *req = stash_at(d, i);
        size_t at = 0, room = req->writable_len, take;

        if (i == 0) {
            emu_vdev_req_write(req, 0, h, EMU_VNET_HDR_LEN);
            at = EMU_VNET_HDR_LEN;
        }
        take = room - at < len - done ? room - at : len - done;
        emu_vdev_req_write(req, at, src + done, take);
        done += take;
        v = (uint32_t)(at + take);
        if (i == 0 && emu_vnet_fault_take(d, EMU_VNET_FAULT_RX_USED_LEN, &v))
            v = v > req->writable_len ? req->writable_len : v;
        if (hold_tail && i == nbuf - 1 && emu_vnet_hold(&d->held[EMU_VNET_QUEUE_RX], req, v))
            continue;
        emu_vdev_push(d->vdev, req, v);
    }
    d->rx_stash.head = (d->rx_stash.head + nbuf) % d->rx_stash.cap;
    d->rx_stash.count -= nbuf;
    emu_vdev_signal(d->vdev, EMU_VNET_QUEUE_RX);
}

static emu_vnet_rx_result count(emu_vnet *d, emu_vnet_rx_result r, size_t len)
{
    switch (r) {
    case EMU_VNET_RX_DELIVERED:
        d->stats.rx_frames++;
        d->stats.rx_bytes += len;
        break;
    case EMU_VNET_RX_NO_BUFFERS:
        d->stats.rx_no_buffers++;
        break;
    case EMU_VNET_RX_NOT_READY:
        d->stats.rx_not_ready++;
        break;
    case EMU_VNET_RX_FILTERED:
        d->stats.rx_filtered++;
        break;
    case EMU_VNET_RX_LINK_DOWN:
        d->stats.rx_link_down++;
        break;
    case EMU_VNET_RX_UNSUPPORTED:
        d->stats.rx_unsupported++;
        break;
    default:
        d->stats.rx_bad_frame++;
        break;
    }
    return r;
}

static bool rx_ready(const emu_vnet *d)
{
    uint8_t status = emu_vdev_status(d->vdev);

    return (status & 0x04) && !(status & 0x40) &&
           emu_vdev_queue_enabled(d->vdev, EMU_VNET_QUEUE_RX);
}

emu_vnet_rx_result emu_vnet_receive(emu_vnet *d, const uint8_t *frame, size_t len,
                                    const emu_vnet_meta *meta)
{
    static const emu_vnet_meta none = { 0 };
    const emu_vnet_meta *m = meta ? meta : &none;
    const uint8_t *src = frame;
    emu_vnet_rx_result r;
    emu_vnet_hdr h;
    uint32_t nbuf = 0;

    if (!rx_ready(d))
        return count(d, EMU_VNET_RX_NOT_READY, len);
    if (!(d->status & EMU_VNET_S_LINK_UP))
        return count(d, EMU_VNET_RX_LINK_DOWN, len);
    if (!frame)
        return count(d, EMU_VNET_RX_BAD_FRAME, len);
    r = check_frame(d, len, m);
    if (r != EMU_VNET_RX_DELIVERED)
        return count(d, r, len);
    if (!filter_accepts(d, frame, len))
        return count(d, EMU_VNET_RX_FILTERED, len);
    r = reserve(d, EMU_VNET_HDR_LEN + len, &nbuf);
    if (r != EMU_VNET_RX_DELIVERED)
        return count(d, r, len);
    h = make_header(d, m, &src, len);
    h.num_buffers = (uint16_t)(d->mergeable ? nbuf : 1);
    apply_header_faults(d, &h);
    place(d, &h, src, len, nbuf);
    return count(d, EMU_VNET_RX_DELIVERED, len);
}

/* The driver made receive buffers available: the backend may retry. */
void emu_vnet_rx_process(emu_vdev *dev, void *ctx, uint16_t queue)
{
    emu_vnet *d = ctx;

    (void)dev;
    (void)queue;
    if (d->backend && d->backend->rx_ready)
        d->backend->rx_ready(d->backend_ctx, d);
}
