/*
 * virtio_net_dev_tx.c - frames the driver transmits: the virtio header is
 * checked against what was negotiated (a driver breaking the rules loses
 * the frame, counted), stripped, and the frame goes to the backend with
 * its offload metadata.
 */
#include "virtio_net_dev_internal.h"

static bool gso_negotiated(const emu_vnet *d, uint8_t gso_type)
{
    if (gso_type == EMU_VNET_GSO_TCPV4)
        return emu_vnet_has(d, EMU_VNET_F_HOST_TSO4);
    if (gso_type == EMU_VNET_GSO_TCPV6)
        return emu_vnet_has(d, EMU_VNET_F_HOST_TSO6);
    return false; /* UDP, ECN: not offered */
}

/* The driver-side rules of the spec's "Packet Transmission". Unknown flag
 * bits are ignored, as the device must. */
static bool header_ok(const emu_vnet *d, const emu_vnet_hdr *h, size_t len)
{
    size_t limit = emu_vnet_has(d, EMU_VNET_F_MTU) ? d->params.mtu + 18u : EMU_VNET_GSO_MAX;
    bool needs_csum = (h->flags & EMU_VNET_HDR_NEEDS_CSUM) != 0;

    if (len < 14)
        return false;
    if (needs_csum &&
        (!emu_vnet_has(d, EMU_VNET_F_CSUM) || (size_t)h->csum_start + h->csum_offset + 2 > len))
        return false;
    if (h->gso_type == EMU_VNET_GSO_NONE)
        return len <= limit;
    return gso_negotiated(d, h->gso_type) && needs_csum && h->gso_size != 0 &&
           len <= EMU_VNET_GSO_MAX;
}

/* The frame's bytes in one piece: straight from guest memory when the
 * driver laid them out contiguously, else gathered into staging. */
static const uint8_t *frame_bytes(emu_vnet *d, const emu_vdev_req *req, size_t len)
{
    const emu_vdev_seg *s = req->seg;

    if (req->n_readable == 1)
        return (const uint8_t *)s[0].host + EMU_VNET_HDR_LEN;
    if (req->n_readable == 2 && s[0].len == EMU_VNET_HDR_LEN)
        return s[1].host;
    emu_vdev_req_read(req, EMU_VNET_HDR_LEN, d->staging, len);
    return d->staging;
}

static void meta_from_header(const emu_vnet_hdr *h, emu_vnet_meta *m)
{
    memset(m, 0, sizeof(*m));
    if (h->flags & EMU_VNET_HDR_NEEDS_CSUM) {
        m->flags = EMU_VNET_META_CSUM_PARTIAL;
        m->csum_start = h->csum_start;
        m->csum_offset = h->csum_offset;
    }
    m->gso_type = h->gso_type;
    if (h->gso_type != EMU_VNET_GSO_NONE) {
        m->gso_size = h->gso_size;
        m->hdr_len = h->hdr_len;
    }
}

void emu_vnet_tx_process_one(emu_vnet *d, const emu_vdev_req *req)
{
    emu_vnet_hdr h;
    emu_vnet_meta m;
    size_t len;

    if (req->readable_len < EMU_VNET_HDR_LEN) {
        d->stats.tx_bad_header++;
    } else {
        emu_vdev_req_read(req, 0, &h, EMU_VNET_HDR_LEN);
        len = req->readable_len - EMU_VNET_HDR_LEN;
        if (!header_ok(d, &h, len)) {
            d->stats.tx_bad_header++;
        } else if (!(d->status & EMU_VNET_S_LINK_UP)) {
            d->stats.tx_link_down++; /* QEMU drops what a link-down NIC sends */
        } else if (!d->backend || !d->backend->transmit) {
            d->stats.tx_no_backend++;
        } else {
            meta_from_header(&h, &m);
            d->stats.tx_frames++;
            d->stats.tx_bytes += len;
            d->backend->transmit(d->backend_ctx, d, frame_bytes(d, req, len), len, &m);
        }
    }
    emu_vdev_push(d->vdev, req, 0);
}

void emu_vnet_tx_process(emu_vdev *dev, void *ctx, uint16_t queue)
{
    emu_vnet *d = ctx;
    emu_vdev_req req;

    while (emu_vdev_pop(dev, queue, &req) == EMU_VDEV_POP_OK) {
        if (d->faults[EMU_VNET_FAULT_TX_HOLD].count &&
            emu_vnet_hold(&d->held[EMU_VNET_QUEUE_TX], &req, 0)) {
            emu_vnet_fault_take(d, EMU_VNET_FAULT_TX_HOLD, NULL);
            continue;
        }
        emu_vnet_tx_process_one(d, &req);
    }
    emu_vdev_signal(dev, queue);
}
