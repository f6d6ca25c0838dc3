/*
 * vnet_ctrl.c - the control queue: asynchronous commands in a fixed set of
 * DMA slots, answers validated, a timeout path driven by the OS's timer.
 *
 * A command is {class, command, data} in one device-readable descriptor
 * and one device-writable ack byte, preset to a value the device never
 * writes, so "no answer" and "garbage answer" are told apart. A command
 * that times out is completed towards the OS at once, but its slot stays
 * with the device until the device returns it (a late answer) or is reset:
 * the device may still write into that memory.
 */
#include "vnet_internal.h"

#define ACK_UNSET 0xA5u

vnet_status vnet_ctrl_build(vnet *n)
{
    vnet_ctrlq *q = &n->ctrl;
    vio_vq_params qp = { 0 };
    vio_status vst;
    uint32_t i;

    qp.index = VNET_Q_CTRL;
    qp.max_size = n->params.ctrl_ring;
    qp.msix_vector = n->params.vectors.ctrl;
    vst = vio_vq_create(n->dev, &qp, &q->vq);
    if (vst != VIO_OK)
        return vnet_vio_error(n, vst);
    if (!n->ops->dma_alloc(n->os, VNET_CTRL_SLOTS * VNET_CTRL_SLOT_BYTES, 64, &q->mem))
        return VNET_E_NOMEM;
    for (i = 0; i < VNET_CTRL_SLOTS; i++) {
        q->slots[i].state = VNET_CTRL_FREE;
        q->slots[i].va = (uint8_t *)q->mem.va + i * VNET_CTRL_SLOT_BYTES;
        q->slots[i].pa = q->mem.pa + i * VNET_CTRL_SLOT_BYTES;
    }
    return VNET_OK;
}

void vnet_ctrl_free(vnet *n)
{
    vnet_ctrlq *q = &n->ctrl;

    if (q->vq)
        vio_vq_destroy(q->vq);
    if (q->mem.va)
        n->ops->dma_free(n->os, &q->mem);
    memset(q, 0, sizeof(*q));
}

typedef struct ctrl_completion {
    vnet_ctrl_done_fn done;
    void *cookie;
    vnet_ctrl_op op;
    vnet_status status;
} ctrl_completion;

/* Frees the slot first, so the callback may submit a new command. */
static ctrl_completion retire(vnet_ctrl_slot *s, vnet_status status)
{
    ctrl_completion c = { s->done, s->cookie, s->op, status };

    s->state = VNET_CTRL_FREE;
    s->done = NULL;
    s->cookie = NULL;
    return c;
}

static void deliver(vnet *n, const ctrl_completion *c)
{
    if (c->done)
        c->done(n->cb_ctx, c->cookie, c->op, c->status);
}

void vnet_ctrl_detach(vnet *n)
{
    vnet_ctrlq *q = &n->ctrl;
    ctrl_completion done[VNET_CTRL_SLOTS];
    unsigned count = 0, i;
    void *token;

    if (!q->vq)
        return;
    while ((token = vio_vq_detach_unused(q->vq)) != NULL) {
        vnet_ctrl_slot *s = token;
        if (s->state == VNET_CTRL_PENDING) {
            q->stats.cancelled++;
            done[count++] = retire(s, VNET_E_CANCELLED);
        } else {
            retire(s, VNET_E_CANCELLED);
        }
    }
    q->pending = 0;
    q->abandoned = 0;
    for (i = 0; i < count; i++)
        deliver(n, &done[i]);
}

/* ---- submission ----------------------------------------------------------------- */

static vnet_status usable(const vnet *n, unsigned feature)
{
    if (!n->started)
        return VNET_E_STATE;
    if (!vnet_feat(n, VNET_F_CTRL_VQ) || !vnet_feat(n, feature))
        return VNET_E_UNSUPPORTED;
    if (vio_vq_is_broken(n->ctrl.vq))
        return VNET_E_BROKEN;
    return VNET_OK;
}

static vnet_ctrl_slot *free_slot(vnet_ctrlq *q)
{
    uint32_t i;

    for (i = 0; i < VNET_CTRL_SLOTS; i++)
        if (q->slots[i].state == VNET_CTRL_FREE)
            return &q->slots[i];
    return NULL;
}

/* Takes a slot and writes the class and command; the caller writes `len`
 * bytes of data at va + 2 and calls post(). */
static vnet_ctrl_slot *claim(vnet *n, vnet_ctrl_op op, uint8_t cls, uint8_t cmd,
                             vnet_ctrl_done_fn done, void *cookie)
{
    vnet_ctrl_slot *s = free_slot(&n->ctrl);

    if (!s) {
        n->ctrl.stats.busy++;
        return NULL;
    }
    s->op = op;
    s->done = done;
    s->cookie = cookie;
    s->age_ms = 0;
    s->va[0] = cls;
    s->va[1] = cmd;
    s->va[VNET_CTRL_ACK_OFF] = ACK_UNSET;
    return s;
}

static vnet_status post(vnet *n, vnet_ctrl_slot *s, uint32_t len)
{
    vnet_ctrlq *q = &n->ctrl;
    vio_sg sg[2] = { { s->pa, 2 + len }, { s->pa + VNET_CTRL_ACK_OFF, 1 } };
    vio_status vst = vio_vq_add(q->vq, sg, 1, 1, s, VIO_ADD_DIRECT);

    if (vst != VIO_OK) {
        s->done = NULL;
        vnet_vio_error(n, vst);
        return vst == VIO_E_NOSPC ? VNET_E_BUSY : VNET_E_BROKEN;
    }
    s->state = VNET_CTRL_PENDING;
    q->pending++;
    q->stats.submitted++;
    vio_vq_kick(q->vq);
    return VNET_OK;
}

static vnet_status submit(vnet *n, vnet_ctrl_op op, uint8_t cls, uint8_t cmd, const void *data,
                          uint32_t len, vnet_ctrl_done_fn done, void *cookie)
{
    vnet_ctrl_slot *s = claim(n, op, cls, cmd, done, cookie);

    if (!s)
        return VNET_E_BUSY;
    if (len)
        memcpy(s->va + 2, data, len);
    return post(n, s, len);
}

vnet_status vnet_ctrl_set_mac(vnet *n, const uint8_t mac[6], vnet_ctrl_done_fn done, void *cookie)
{
    vnet_status st = usable(n, VNET_F_CTRL_MAC_ADDR);

    if (st != VNET_OK)
        return st;
    if (!mac || !vnet_mac_usable(mac))
        return VNET_E_INVAL;
    return submit(n, VNET_CTRL_OP_SET_MAC, VNET_CTRL_MAC, VNET_CTRL_MAC_ADDR_SET, mac, 6, done,
                  cookie);
}

/* Entries of one table must all be unicast (want_multicast false) or all
 * multicast. */
static bool table_valid(const uint8_t *macs, uint32_t count, bool want_multicast)
{
    uint32_t i;

    if (count > VNET_MAC_TABLE_MAX || (count && !macs))
        return false;
    for (i = 0; i < count; i++)
        if (((macs[i * 6] & 1u) != 0) != want_multicast)
            return false;
    return true;
}

static uint8_t *put_table(uint8_t *p, const uint8_t *macs, uint32_t count)
{
    p[0] = (uint8_t)count;
    p[1] = (uint8_t)(count >> 8);
    p[2] = (uint8_t)(count >> 16);
    p[3] = (uint8_t)(count >> 24);
    if (count)
        memcpy(p + 4, macs, (size_t)count * 6);
    return p + 4 + (size_t)count * 6;
}

vnet_status vnet_ctrl_set_mac_table(vnet *n, const uint8_t *uc, uint32_t n_uc, const uint8_t *mc,
                                    uint32_t n_mc, vnet_ctrl_done_fn done, void *cookie)
{
    vnet_status st = usable(n, VNET_F_CTRL_RX);
    vnet_ctrl_slot *s;
    uint8_t *end;

    if (st != VNET_OK)
        return st;
    if (!table_valid(uc, n_uc, false) || !table_valid(mc, n_mc, true))
        return VNET_E_INVAL;
    s = claim(n, VNET_CTRL_OP_MAC_TABLE, VNET_CTRL_MAC, VNET_CTRL_MAC_TABLE_SET, done, cookie);
    if (!s)
        return VNET_E_BUSY;
    end = put_table(put_table(s->va + 2, uc, n_uc), mc, n_mc);
    return post(n, s, (uint32_t)(end - (s->va + 2)));
}

static vnet_status rx_mode(vnet *n, vnet_ctrl_op op, uint8_t cmd, bool on, vnet_ctrl_done_fn done,
                           void *cookie)
{
    vnet_status st = usable(n, VNET_F_CTRL_RX);
    uint8_t value = on ? 1 : 0;

    if (st != VNET_OK)
        return st;
    return submit(n, op, VNET_CTRL_RX, cmd, &value, 1, done, cookie);
}

vnet_status vnet_ctrl_set_promisc(vnet *n, bool on, vnet_ctrl_done_fn done, void *cookie)
{
    return rx_mode(n, VNET_CTRL_OP_PROMISC, VNET_CTRL_RX_PROMISC, on, done, cookie);
}

vnet_status vnet_ctrl_set_allmulti(vnet *n, bool on, vnet_ctrl_done_fn done, void *cookie)
{
    return rx_mode(n, VNET_CTRL_OP_ALLMULTI, VNET_CTRL_RX_ALLMULTI, on, done, cookie);
}

vnet_status vnet_ctrl_vlan(vnet *n, uint16_t vid, bool add, vnet_ctrl_done_fn done, void *cookie)
{
    vnet_status st = usable(n, VNET_F_CTRL_VLAN);
    uint8_t le[2] = { (uint8_t)vid, (uint8_t)(vid >> 8) };

    if (st != VNET_OK)
        return st;
    if (vid > VNET_VLAN_VID_MAX)
        return VNET_E_INVAL;
    return submit(n, add ? VNET_CTRL_OP_VLAN_ADD : VNET_CTRL_OP_VLAN_DEL, VNET_CTRL_VLAN,
                  add ? VNET_CTRL_VLAN_ADD : VNET_CTRL_VLAN_DEL, le, 2, done, cookie);
}

vnet_status vnet_ctrl_announce_ack(vnet *n, vnet_ctrl_done_fn done, void *cookie)
{
    vnet_status st = usable(n, VNET_F_GUEST_ANNOUNCE);

    if (st != VNET_OK)
        return st;
    return submit(n, VNET_CTRL_OP_ANNOUNCE_ACK, VNET_CTRL_ANNOUNCE, VNET_CTRL_ANNOUNCE_ACK, NULL, 0,
                  done, cookie);
}

/* ---- answers and timeouts ------------------------------------------------------------ */

static vnet_status verdict(vnet_ctrlq *q, const vnet_ctrl_slot *s, uint32_t len)
{
    uint8_t ack = s->va[VNET_CTRL_ACK_OFF];

    if (len == 0) {
        q->stats.no_ack++;
        return VNET_E_CTRL_NO_ACK;
    }
    if (ack == VNET_CTRL_ACK_OK) {
        q->stats.ok++;
        return VNET_OK;
    }
    if (ack == VNET_CTRL_ACK_ERR) {
        q->stats.rejected++;
        return VNET_E_CTRL_REJECTED;
    }
    q->stats.bad_ack++;
    return VNET_E_CTRL_BAD_ACK;
}

unsigned vnet_ctrl_poll(vnet *n)
{
    vnet_ctrlq *q = &n->ctrl;
    unsigned done = 0;

    if (!n->started || !q->vq)
        return 0;
    for (;;) {
        void *token;
        uint32_t len;
        vnet_ctrl_slot *s;
        ctrl_completion c;
        vio_status vst = vio_vq_get_used(q->vq, &token, &len);

        if (vst != VIO_OK) {
            if (vst != VIO_E_EMPTY)
                vnet_vio_error(n, vst);
            return done;
        }
        s = token;
        if (s->state == VNET_CTRL_ABANDONED) {
            q->stats.late_answers++;
            q->abandoned--;
            retire(s, VNET_OK);
            continue;
        }
        c = retire(s, verdict(q, s, len));
        q->pending--;
        if (c.status == VNET_OK && c.op == VNET_CTRL_OP_ANNOUNCE_ACK)
            vnet_cfg_announce_acked(n);
        deliver(n, &c);
        done++;
    }
}

unsigned vnet_ctrl_tick(vnet *n, uint32_t elapsed_ms)
{
    vnet_ctrlq *q = &n->ctrl;
    ctrl_completion expired[VNET_CTRL_SLOTS];
    unsigned count = 0, i;

    if (!n->started || !q->vq)
        return 0;
    for (i = 0; i < VNET_CTRL_SLOTS; i++) {
        vnet_ctrl_slot *s = &q->slots[i];

        if (s->state != VNET_CTRL_PENDING)
            continue;
        s->age_ms = elapsed_ms > UINT32_MAX - s->age_ms ? UINT32_MAX : s->age_ms + elapsed_ms;
        if (s->age_ms < n->params.ctrl_timeout_ms)
            continue;
        expired[count] = (ctrl_completion){ s->done, s->cookie, s->op, VNET_E_TIMEOUT };
        s->state = VNET_CTRL_ABANDONED;
        s->done = NULL;
        q->pending--;
        q->abandoned++;
        q->stats.timeouts++;
        count++;
    }
    /* Callbacks last: a command they submit must not age in this tick. */
    for (i = 0; i < count; i++)
        deliver(n, &expired[i]);
    return count;
}

uint32_t vnet_ctrl_pending(const vnet *n)
{
    return n->ctrl.pending;
}
