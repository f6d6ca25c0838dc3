/*
 * lib/virtio against a hostile device. The input is a program: the driver
 * adds buffers of any shape (direct, indirect), kicks, reaps, toggles
 * interrupt suppression, reads the ISR and the device configuration and
 * recovers by reset, while the device completes held buffers in any order
 * with any length, corrupts used-ring ids, lengths and the used index, and
 * replaces any register value the driver reads (common configuration, ISR).
 *
 * Checked after every operation: a buffer comes back (get_used or
 * detach_unused) at most once and only while in flight; a reported length
 * never exceeds the buffer's writable bytes; a broken queue refuses adds;
 * at the end every buffer came back exactly once, no guard byte changed,
 * no register access fell outside a window and nothing leaked.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vio_harness.h"

#define F(bit)    VIO_FEATURE(bit)
#define MAX_BUFS  64
#define SEG_BYTES 32u
#define MAX_SEGS  4
#define MAX_OPS   256

typedef struct input {
    const uint8_t *p;
    size_t n, pos;
} input;

static uint8_t u8(input *in)
{
    return in->pos < in->n ? in->p[in->pos++] : 0;
}
static uint32_t u32(input *in)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)u8(in) << (8 * i);
    return v;
}

typedef enum buf_state { B_FREE, B_IN_FLIGHT } buf_state;

typedef struct fz {
    input in;
    vio_harness *h;
    vio_dev *dev;
    vio_vq *vq;
    vio_dma mem;
    buf_state state[MAX_BUFS];
    uint32_t writable[MAX_BUFS];
    uint32_t corrupt_reads; /* register reads still to replace from the input */
} fz;

static uint64_t hostile_read(void *ctx, uint64_t bar_off, unsigned width, uint64_t value)
{
    fz *z = ctx;
    (void)bar_off;
    if (z->corrupt_reads == 0)
        return value;
    z->corrupt_reads--;
    uint64_t v = u32(&z->in);
    return width >= 8 ? v : v & ((1ull << (8 * width)) - 1);
}

/* A token came back: it must be one of ours, in flight, with a sane length. */
static void returned(fz *z, void *token, const uint32_t *len)
{
    uintptr_t i = (uintptr_t)((buf_state *)token - z->state);
    if ((buf_state *)token < z->state || i >= MAX_BUFS || z->state[i] != B_IN_FLIGHT)
        abort();
    if (len && *len > z->writable[i])
        abort();
    z->state[i] = B_FREE;
}

static void op_add(fz *z)
{
    uint8_t shape = u8(&z->in);
    uint16_t n_out = shape & 3, n_in = (shape >> 2) & 3;
    vio_add_mode mode = (vio_add_mode)((shape >> 4) % 3);
    vio_sg sg[MAX_SEGS * 2];
    unsigned i;

    for (i = 0; i < MAX_BUFS && z->state[i] != B_FREE; i++)
        ;
    if (i == MAX_BUFS || n_out + n_in == 0)
        return;
    for (uint16_t k = 0; k < n_out + n_in; k++)
        sg[k] = (vio_sg){ z->mem.pa + SEG_BYTES * ((i * MAX_SEGS + k) % 128u), SEG_BYTES };
    vio_status st = vio_vq_add(z->vq, sg, n_out, n_in, &z->state[i], mode);
    if (st == VIO_OK) {
        z->state[i] = B_IN_FLIGHT;
        z->writable[i] = n_in * SEG_BYTES;
    } else if (vio_vq_is_broken(z->vq) && st != VIO_E_BROKEN) {
        abort(); /* a broken queue refuses with VIO_E_BROKEN */
    }
}

static void op_reap(fz *z)
{
    void *token;
    uint32_t len;
    for (unsigned k = 0; k < MAX_BUFS + 1; k++) {
        if (vio_vq_get_used(z->vq, &token, &len) != VIO_OK)
            return;
        returned(z, token, &len);
    }
}

/* Reset, every buffer not returned comes back, and the queue is brought
 * up again (which may fail against corrupted registers: then it stays down). */
static void op_recover(fz *z)
{
    void *token;
    if (vio_dev_reset(z->dev) != VIO_OK)
        return; /* the device never acknowledged (corrupted status reads) */
    while ((token = vio_vq_detach_unused(z->vq)) != NULL)
        returned(z, token, NULL);
    for (unsigned i = 0; i < MAX_BUFS; i++)
        if (z->state[i] != B_FREE)
            abort(); /* lost across the reset */
    if (vio_dev_begin_init(z->dev) == VIO_OK &&
        vio_dev_negotiate(z->dev, F(VIO_F_EVENT_IDX) | F(VIO_F_INDIRECT_DESC), NULL) == VIO_OK &&
        vio_vq_restart(z->vq) == VIO_OK)
        (void)vio_dev_driver_ok(z->dev);
}

static void fault(fz *z, emu_vdev_fault f)
{
    uint32_t value = u32(&z->in);
    emu_vdev_inject_fault(z->h->dev, f, 0, value, 1u + (u8(&z->in) & 3));
}

static void one_op(fz *z, uint8_t op)
{
    uint8_t cfg[16];
    switch (op % 14) {
    case 0:
    case 1:
        op_add(z);
        break;
    case 2:
        vio_vq_kick(z->vq);
        break;
    case 3:
        if (z->h->nheld[0])
            vh_complete_one(z->h, 0, u8(&z->in) % z->h->nheld[0], u32(&z->in));
        break;
    case 4:
        vh_complete_held(z->h, 0, u8(&z->in) & 7, u32(&z->in));
        break;
    case 5:
        op_reap(z);
        break;
    case 6:
        fault(z, EMU_VDEV_FAULT_USED_ID);
        break;
    case 7:
        fault(z, EMU_VDEV_FAULT_USED_LEN);
        break;
    case 8:
        fault(z, EMU_VDEV_FAULT_USED_IDX_JUMP);
        break;
    case 9:
        z->corrupt_reads = u8(&z->in) & 7;
        break;
    case 10:
        (void)vio_dev_read_isr(z->dev);
        (void)vio_dev_needs_reset(z->dev);
        (void)vio_dev_config_read(z->dev, u8(&z->in) & 15, cfg, 1u + (u8(&z->in) & 15));
        break;
    case 11:
        switch (u8(&z->in) % 3) {
        case 0:
            vio_vq_disable_cb(z->vq);
            break;
        case 1:
            (void)vio_vq_enable_cb(z->vq);
            break;
        default:
            (void)vio_vq_enable_cb_delayed(z->vq);
            break;
        }
        (void)vio_vq_has_used(z->vq);
        break;
    case 12:
        fault(z, EMU_VDEV_FAULT_CONFIG_CHURN);
        break;
    default:
        op_recover(z);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz z;
    uint8_t setup;
    memset(&z, 0, sizeof(z));
    z.in = (input){ data, size, 0 };
    setup = u8(&z.in);

    vh_params p = { .queue_size = (uint16_t)(2u << (setup & 7)), .process_on_notify = true };
    vio_vq_params qp = { .index = 0, .msix_vector = 0, .indirect_max = MAX_SEGS * 2 };
    uint64_t wanted =
        ((setup & 0x40) ? F(VIO_F_EVENT_IDX) : 0) | ((setup & 0x80) ? F(VIO_F_INDIRECT_DESC) : 0);

    z.h = vh_create(&p);
    if (!z.h)
        abort();
    z.h->mode[0] = VH_HOLD;
    z.h->read_hook = hostile_read;
    z.h->read_hook_ctx = &z;
    z.corrupt_reads = (setup & 0x08) ? u8(&z.in) & 15 : 0; /* during bring-up too */
    if (!vh_dma_alloc(z.h, SEG_BYTES * 128u, &z.mem))
        abort();
    vio_status st = vh_driver_init(z.h, wanted, &z.dev);
    if (st == VIO_OK)
        st = vio_vq_create(z.dev, &qp, &z.vq);
    if (st == VIO_OK)
        st = vio_dev_driver_ok(z.dev);
    if (st == VIO_OK) {
        for (unsigned k = 0; k < MAX_OPS && z.in.pos < z.in.n; k++)
            one_op(&z, u8(&z.in));
    }
    z.corrupt_reads = 0;
    if (z.vq) {
        void *token;
        vio_dev_reset(z.dev);
        while ((token = vio_vq_detach_unused(z.vq)) != NULL)
            returned(&z, token, NULL);
        for (unsigned i = 0; i < MAX_BUFS; i++)
            if (z.state[i] != B_FREE)
                abort(); /* a buffer never came back */
        vio_vq_destroy(z.vq);
    }
    if (z.dev)
        vio_dev_destroy(z.dev);
    vh_dma_free(z.h, &z.mem);
    if (z.h->bad_register_accesses != 0 || vh_check_guards(z.h) != 0)
        abort();
    if (!vh_destroy(z.h))
        abort(); /* leak, bad free or guard corruption */
    return 0;
}
