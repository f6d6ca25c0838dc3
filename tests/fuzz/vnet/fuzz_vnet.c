/*
 * lib/vnet against a hostile virtio-net device (the emu/dev model with its
 * faults armed by the input). The input is a program mixing the device's
 * misbehaviour (receive headers with any flags, GSO type and size, checksum
 * offsets, num_buffers and used lengths; held merged tails; raw device
 * configuration bytes: MAC, status, MTU, speed, duplex, announce; control
 * answers with any ack, none, or never) with the driver's own calls
 * (receive and return, transmit and reap, control commands, configuration
 * refresh, stop and start).
 *
 * Checked: every frame lib/vnet hands up has segments inside its receive
 * slots adding up to its length, the link information stays in range, and
 * at the end (vnet_rig's rig_down) no guard byte changed, no register access
 * fell outside a window and nothing leaked.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vnet_rig.h"

#define MAX_OPS   128
#define MAX_FRAME 9100

typedef struct input {
    const uint8_t *p;
    size_t n, pos;
} input;

static uint8_t u8(input *in)
{
    return in->pos < in->n ? in->p[in->pos++] : 0;
}
static uint16_t u16(input *in)
{
    return (uint16_t)(u8(in) | u8(in) << 8);
}
static uint32_t u32(input *in)
{
    return (uint32_t)u16(in) | (uint32_t)u16(in) << 16;
}

static uint8_t frame[MAX_FRAME];

/* A frame handed up must lie inside the receive slots it names. */
static void check_frame(vnet *n, const vnet_rx_frame *f)
{
    uint32_t total = 0;
    if (f->nseg == 0 || f->nseg > VNET_RX_MAX_SEGS)
        abort();
    for (uint16_t i = 0; i < f->nseg; i++) {
        uint8_t *va;
        uint64_t pa;
        uint32_t size;
        const vnet_rx_seg *s = &f->seg[i];
        if (vnet_rx_slot_info(n, s->slot, &va, &pa, &size) != VNET_OK)
            abort();
        if (s->va < va || s->len > size || (size_t)(s->va - va) > size - s->len)
            abort();
        total += s->len;
    }
    if (total != f->len)
        abort();
}

static void drain_rx(vnet_rig *r, unsigned budget)
{
    vnet_rx_frame f;
    while (budget-- && vnet_rx_next(r->n, &f) == VNET_OK) {
        check_frame(r->n, &f);
        if (vnet_rx_return(r->n, f.handle) != VNET_OK)
            abort();
    }
    vnet_rx_kick(r->n);
}

static void op_receive(vnet_rig *r, input *in)
{
    size_t len = u16(in) % MAX_FRAME;
    emu_vnet_meta m = { 0 };
    m.flags = u8(in);
    m.gso_type = u8(in);
    m.gso_size = u16(in);
    m.hdr_len = u16(in);
    m.csum_start = u16(in);
    m.csum_offset = u16(in);
    rig_make_frame(frame, len < 14 ? 14 : len, rig_mac, u8(in));
    for (size_t i = 14; i < len && i < 64; i++)
        frame[i] = u8(in);
    (void)emu_vnet_receive(r->dev, frame, len, &m);
}

static void op_config(vnet_rig *r, input *in)
{
    uint8_t bytes[8];
    uint32_t off = u8(in) % 40, len = 1u + u8(in) % 8, changes;
    vnet_link_info li;
    for (uint32_t i = 0; i < len; i++)
        bytes[i] = u8(in);
    emu_vnet_config_poke(r->dev, off, bytes, len, u8(in) & 1);
    (void)vnet_config_refresh(r->n, &changes);
    vnet_link_info_get(r->n, &li);
    if (li.duplex != VNET_DUPLEX_FULL && li.duplex != VNET_DUPLEX_HALF &&
        li.duplex != VNET_DUPLEX_UNKNOWN)
        abort();
}

static void op_ctrl(vnet_rig *r, input *in)
{
    uint8_t mac[6], table[4 * 6];
    uint8_t which = u8(in);
    for (int i = 0; i < 6; i++)
        mac[i] = u8(in);
    for (unsigned i = 0; i < sizeof(table); i++)
        table[i] = u8(in);
    switch (which % 7) {
    case 0:
        (void)vnet_ctrl_set_mac(r->n, mac, rig_ctrl_done, r);
        break;
    case 1:
        (void)vnet_ctrl_set_promisc(r->n, mac[0] & 1, rig_ctrl_done, r);
        break;
    case 2:
        (void)vnet_ctrl_set_allmulti(r->n, mac[0] & 1, rig_ctrl_done, r);
        break;
    case 3:
        (void)vnet_ctrl_vlan(r->n, (uint16_t)(mac[0] | mac[1] << 8), mac[2] & 1, rig_ctrl_done, r);
        break;
    case 4:
        (void)vnet_ctrl_announce_ack(r->n, rig_ctrl_done, r);
        break;
    case 5:
        (void)vnet_ctrl_set_mac_table(r->n, table, mac[0] % 3, table + 12, mac[1] % 3,
                                      rig_ctrl_done, r);
        break;
    default:
        (void)vnet_ctrl_tick(r->n, u16(in));
        break;
    }
    (void)vnet_ctrl_poll(r->n);
}

static void op_send(vnet_rig *r, input *in)
{
    size_t len = 14 + u16(in) % 1500;
    vnet_tx_offload off = { 0 };
    off.flags = u8(in) & 0x0F;
    off.csum_start = u16(in);
    off.csum_offset = u16(in);
    off.mss = u16(in);
    off.hdr_len = u16(in);
    rig_make_frame(frame, len, rig_mac, u8(in));
    if (r->tx_area_used + len > RIG_TX_AREA / 2)
        r->tx_area_used = 0;
    if (r->ntx > RIG_MAX_FRAMES / 2)
        rig_clear_tx(r);
    (void)rig_send(r, frame, len, 1u + u8(in) % 4, &off, NULL);
    vnet_tx_kick(r->n);
}

static void one_op(vnet_rig *r, input *in)
{
    uint8_t op = u8(in);
    switch (op % 10) {
    case 0:
    case 1:
        op_receive(r, in);
        break;
    case 2:
        emu_vnet_inject(r->dev, (emu_vnet_fault)(u8(in) % EMU_VNET_FAULT_COUNT), u32(in),
                        1u + u8(in) % 3);
        break;
    case 3:
        drain_rx(r, u8(in));
        break;
    case 4:
        op_config(r, in);
        break;
    case 5:
        op_ctrl(r, in);
        break;
    case 6:
        op_send(r, in);
        break;
    case 7:
        (void)vnet_tx_reap(r->n, u8(in));
        rig_clear_tx(r);
        break;
    case 8:
        emu_vnet_release_held(r->dev);
        break;
    default:
        if (vnet_is_started(r->n))
            vnet_stop(r->n);
        else
            (void)vnet_start(r->n);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    input in = { data, size, 0 };
    rig_opts o = { 0 };
    uint8_t setup = u8(&in);
    vnet_rig *r;

    o.params.features_off = (uint64_t)u32(&in);
    o.mtu = (setup & 1) ? u16(&in) : 0;
    o.link_down = setup & 2;
    o.host_rarp = setup & 4;
    o.queue_size = (uint16_t)(8u << ((setup >> 3) & 3));
    o.no_start = true; /* started below: a start may fail (features_off, MTU) */
    o.params.rx_strip_vlan = setup & 0x40;
    o.params.rx_complete_csum = setup & 0x80;
    r = rig_up(&o);
    if (!(setup & 0x20) && vnet_start(r->n) != VNET_OK && vnet_is_started(r->n))
        abort(); /* a failed start leaves the adapter stopped */
    for (unsigned k = 0; k < MAX_OPS && in.pos < in.n; k++)
        one_op(r, &in);
    emu_vnet_release_held(r->dev);
    if (vnet_is_started(r->n))
        vnet_stop(r->n);
    rig_clear_tx(r);
    rig_down(r);
    return 0;
}
