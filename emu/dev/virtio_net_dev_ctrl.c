/*
 * virtio_net_dev_ctrl.c - the control queue: receive modes, MAC address and
 * MAC table (with QEMU's 64-entry table and overflow semantics), VLAN
 * filter, announce acknowledgement. A command for a feature the driver did
 * not negotiate, or with a malformed payload, is answered VIRTIO_NET_ERR.
 */
#include "virtio_net_dev_internal.h"

#define CLASS_RX       0
#define CLASS_MAC      1
#define CLASS_VLAN     2
#define CLASS_ANNOUNCE 3
#define ACK_OK         0
#define ACK_ERR        1

typedef struct command {
    uint8_t cls, cmd;
    const uint8_t *data;
    size_t len;
} command;

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t rx_mode(emu_vnet *d, const command *c)
{
    if (!emu_vnet_has(d, EMU_VNET_F_CTRL_RX) || c->len != 1)
        return ACK_ERR;
    if (c->cmd == 0)
        d->promisc = c->data[0] != 0;
    else if (c->cmd == 1)
        d->allmulti = c->data[0] != 0;
    else
        return ACK_ERR;
    return ACK_OK;
}

/* VIRTIO_NET_CTRL_MAC_TABLE_SET: two tables, each a le32 count and that
 * many addresses. Like QEMU, a table too big for the 64 entries is not
 * stored but turns on "accept all" for its kind. Nothing changes unless
 * the whole command is well formed. */
static uint8_t mac_table(emu_vnet *d, const command *c)
{
    uint64_t n1, n2;
    size_t off = 4;
    bool uo = false, mo = false;

    if (c->len < 4)
        return ACK_ERR;
    n1 = le32(c->data);
    if (n1 * 6 > c->len - off)
        return ACK_ERR;
    uo = n1 > EMU_VNET_MAC_TABLE;
    off += (size_t)n1 * 6;
    if (c->len - off < 4)
        return ACK_ERR;
    n2 = le32(c->data + off);
    off += 4;
    if (n2 * 6 != c->len - off)
        return ACK_ERR;
    if (n2 > EMU_VNET_MAC_TABLE - (uo ? 0 : n1))
        mo = true;
    d->uni_overflow = uo;
    d->multi_overflow = mo;
    d->n_uc = uo ? 0 : (uint32_t)n1;
    d->n_mc = mo ? 0 : (uint32_t)n2;
    memcpy(d->uc, c->data + 4, (size_t)d->n_uc * 6);
    memcpy(d->mc, c->data + off, (size_t)d->n_mc * 6);
    return ACK_OK;
}

static uint8_t mac_class(emu_vnet *d, const command *c)
{
    if (c->cmd == 1) {
        if (!emu_vnet_has(d, EMU_VNET_F_CTRL_MAC_ADDR) || c->len != 6)
            return ACK_ERR;
        memcpy(d->mac, c->data, 6);
        /* The spec: reflected in config mac before the command completes. */
        emu_vdev_config_set(d->vdev, EMU_VNET_CFG_MAC, d->mac, 6);
        return ACK_OK;
    }
    if (c->cmd == 0 && emu_vnet_has(d, EMU_VNET_F_CTRL_RX))
        return mac_table(d, c);
    return ACK_ERR;
}

static uint8_t vlan(emu_vnet *d, const command *c)
{
    uint16_t vid;

    if (!emu_vnet_has(d, EMU_VNET_F_CTRL_VLAN) || c->len != 2)
        return ACK_ERR;
    vid = emu_vnet_rd16(c->data);
    if (vid >= EMU_VNET_VLANS || c->cmd > 1)
        return ACK_ERR;
    if (c->cmd == 0)
        d->vlans[vid >> 5] |= 1u << (vid & 31);
    else
        d->vlans[vid >> 5] &= ~(1u << (vid & 31));
    return ACK_OK;
}

static uint8_t announce_ack(emu_vnet *d, const command *c)
{
    /* QEMU answers ERR to an ack nobody asked for. */
    if (!emu_vnet_has(d, EMU_VNET_F_GUEST_ANNOUNCE) || c->cmd != 0 ||
        !(d->status & EMU_VNET_S_ANNOUNCE))
        return ACK_ERR;
    d->status &= (uint16_t)~EMU_VNET_S_ANNOUNCE;
    emu_vnet_store_status(d, false);
    return ACK_OK;
}

static uint8_t run(emu_vnet *d, const command *c)
{
    switch (c->cls) {
    case CLASS_RX:
        return rx_mode(d, c);
    case CLASS_MAC:
        return mac_class(d, c);
    case CLASS_VLAN:
        return vlan(d, c);
    case CLASS_ANNOUNCE:
        return announce_ack(d, c);
    default:
        return ACK_ERR;
    }
}

void emu_vnet_ctrl_execute(emu_vnet *d, const emu_vdev_req *req)
{
    uint8_t head[2] = { 0xFF, 0xFF };
    uint8_t ack = ACK_ERR;
    command c;
    uint32_t v;

    if (req->writable_len < 1) {
        d->stats.ctrl_bad++;
        emu_vdev_push(d->vdev, req, 0);
        return;
    }
    if (emu_vnet_fault_take(d, EMU_VNET_FAULT_CTRL_NO_ACK, NULL)) {
        emu_vdev_push(d->vdev, req, 0);
        return;
    }
    /* Nothing we implement takes more than the staging buffer holds. */
    if (req->readable_len >= 2 && req->readable_len - 2 <= EMU_VNET_STAGING) {
        emu_vdev_req_read(req, 0, head, 2);
        c.cls = head[0];
        c.cmd = head[1];
        c.len = emu_vdev_req_read(req, 2, d->staging, req->readable_len - 2);
        c.data = d->staging;
        ack = run(d, &c);
    }
    if (ack == ACK_OK)
        d->stats.ctrl_ok++;
    else
        d->stats.ctrl_err++;
    if (emu_vnet_fault_take(d, EMU_VNET_FAULT_CTRL_ACK, &v))
        ack = (uint8_t)v;
    emu_vdev_req_write(req, 0, &ack, 1);
    emu_vdev_push(d->vdev, req, 1);
}

void emu_vnet_ctrl_process(emu_vdev *dev, void *ctx, uint16_t queue)
{
    emu_vnet *d = ctx;
    emu_vdev_req req;

    while (emu_vdev_pop(dev, queue, &req) == EMU_VDEV_POP_OK) {
        if (d->faults[EMU_VNET_FAULT_CTRL_SILENT].count &&
            emu_vnet_hold(&d->held[EMU_VNET_QUEUE_CTRL], &req, 0)) {
            emu_vnet_fault_take(d, EMU_VNET_FAULT_CTRL_SILENT, NULL);
            continue;
        }
        emu_vnet_ctrl_execute(d, &req);
    }
    emu_vdev_signal(dev, queue);
}
