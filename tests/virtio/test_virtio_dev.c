/*
 * The device model on its own: a hand-written "raw driver" builds rings the
 * library never would, to check that the model treats driver mistakes as
 * device errors (DEVICE_NEEDS_RESET, stopped queue, no stray access), and
 * checks MSI-X masking, the PCI configuration access window, BAR sizing,
 * register access rules and the request helpers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vio_harness.h"

#define F(bit) VIO_FEATURE(bit)
#define QSIZE  8

typedef struct raw {
    vio_harness *h;
    uint32_t common; /* BAR offsets of the structures */
    uint32_t notify;
    vio_dma ring;
    vio_dma data;
    vio_desc *desc;
    uint16_t *avail;
    volatile uint16_t *used;
    uint16_t avail_idx;
} raw;

static uint32_t cap_offset(vio_harness *h, int type)
{
    uint8_t pos = vh_find_cap(h, 0x09, type);
    assert_int_not_equal(pos, 0);
    return emu_vdev_cfg_read(h->dev, pos + 8u, 4);
}

static void cw(raw *r, uint32_t off, unsigned size, uint64_t v)
{
    emu_vdev_mmio_write(r->h->dev, 0, r->common + off, size, v);
}

static uint64_t cr(raw *r, uint32_t off, unsigned size)
{
    return emu_vdev_mmio_read(r->h->dev, 0, r->common + off, size);
}

/* Negotiates `features` and sets DRIVER_OK, without any queue. */
static void raw_start(raw *r, uint64_t features)
{
    cw(r, VIO_COMMON_STATUS, 1, 0);
    cw(r, VIO_COMMON_STATUS, 1, VIO_STATUS_ACKNOWLEDGE | VIO_STATUS_DRIVER);
    cw(r, VIO_COMMON_GFSELECT, 4, 0);
    cw(r, VIO_COMMON_GF, 4, (uint32_t)features);
    cw(r, VIO_COMMON_GFSELECT, 4, 1);
    cw(r, VIO_COMMON_GF, 4, (uint32_t)(features >> 32));
    cw(r, VIO_COMMON_STATUS, 1, 0x0B);
    cw(r, VIO_COMMON_MSIX, 2, 2);
}

/* Programs queue 0 (size QSIZE) over r->ring and enables it. */
static void raw_queue(raw *r, uint16_t size)
{
    cw(r, VIO_COMMON_Q_SELECT, 2, 0);
    cw(r, VIO_COMMON_Q_SIZE, 2, size);
    cw(r, VIO_COMMON_Q_MSIX, 2, 0);
    cw(r, VIO_COMMON_Q_DESCLO, 8, r->ring.pa);
    cw(r, VIO_COMMON_Q_AVAILLO, 8, r->ring.pa + 256);
    cw(r, VIO_COMMON_Q_USEDLO, 8, r->ring.pa + 512);
    cw(r, VIO_COMMON_Q_ENABLE, 2, 1);
}

static raw *raw_up(uint64_t features)
{
    raw *r = test_calloc(1, sizeof(*r));

    r->h = vh_create(NULL);
    assert_non_null(r->h);
    r->common = cap_offset(r->h, VIO_PCI_CAP_COMMON_CFG);
    r->notify = cap_offset(r->h, VIO_PCI_CAP_NOTIFY_CFG);
    assert_true(vh_dma_alloc(r->h, 1024, &r->ring));
    assert_true(vh_dma_alloc(r->h, 8192, &r->data));
    r->desc = r->ring.va;
    r->avail = (uint16_t *)((uint8_t *)r->ring.va + 256);
    r->used = (volatile uint16_t *)((uint8_t *)r->ring.va + 512);
    raw_start(r, features | F(VIO_F_VERSION_1));
    raw_queue(r, QSIZE);
    assert_true(emu_vdev_queue_enabled(r->h->dev, 0));
    cw(r, VIO_COMMON_STATUS, 1, 0x0F);
    return r;
}

static void raw_down(raw *r)
{
    vh_dma_free(r->h, &r->ring);
    vh_dma_free(r->h, &r->data);
    assert_true(vh_destroy(r->h));
    test_free(r);
}

static uint64_t data_pa(raw *r, uint32_t off)
{
    return r->data.pa + off;
}

static void set_desc(vio_desc *d, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    d->addr = addr;
    d->len = len;
    d->flags = flags;
    d->next = next;
}

static void publish(raw *r, uint16_t head)
{
    r->avail[2 + (r->avail_idx & (QSIZE - 1))] = head;
    r->avail[1] = ++r->avail_idx;
}

/* Runs the queue; the mistake set up by the caller must stop it with `err`. */
static void expect_driver_error(raw *r, emu_vdev_error err)
{
    const emu_vdev_stats *s = emu_vdev_get_stats(r->h->dev);
    uint64_t popped = r->h->popped[0];

    emu_vdev_process_queue(r->h->dev, 0);
    assert_int_equal(r->h->popped[0], popped);
    assert_int_equal(s->driver_errors, 1);
    assert_string_equal(emu_vdev_error_name(s->last_error), emu_vdev_error_name(err));
    assert_true(emu_vdev_status(r->h->dev) & VIO_STATUS_DEVICE_NEEDS_RESET);
    assert_int_equal(r->h->msix_raised[2], 1); /* configuration-change interrupt */
    assert_int_equal(r->used[1], 0);
    /* Stopped: a correct buffer is not looked at until reset. */
    set_desc(&r->desc[0], data_pa(r, 0), 16, 0, 0);
    publish(r, 0);
    emu_vdev_process_queue(r->h->dev, 0);
    assert_int_equal(r->h->popped[0], popped);
    assert_int_equal(vh_check_guards(r->h), 0);
}

static void bad_buffer_address(void **state)
{
    raw *r = raw_up(0);

    (void)state;
    set_desc(&r->desc[0], 0x1000, 16, 0, 0); /* not guest memory */
    publish(r, 0);
    expect_driver_error(r, EMU_VDEV_ERR_DESC_ADDRESS);
    raw_down(r);

    r = raw_up(0); /* starts inside guest memory, runs past its end */
    set_desc(&r->desc[0], data_pa(r, 8000), 400, 0, 0);
    publish(r, 0);
    expect_driver_error(r, EMU_VDEV_ERR_DESC_ADDRESS);
    raw_down(r);
}

static void bad_avail_ring(void **state)
{
    raw *r = raw_up(0);

    (void)state;
    r->avail[1] = QSIZE + 1; /* more new entries than the ring holds */
    expect_driver_error(r, EMU_VDEV_ERR_AVAIL_IDX);
    raw_down(r);

    r = raw_up(0);
    publish(r, QSIZE); /* head out of range */
    expect_driver_error(r, EMU_VDEV_ERR_HEAD);
    raw_down(r);
}

static void bad_chains(void **state)
{
    raw *r = raw_up(0);

    (void)state;
    set_desc(&r->desc[0], data_pa(r, 0), 16, VIO_DESC_F_NEXT, QSIZE);
    publish(r, 0);
    expect_driver_error(r, EMU_VDEV_ERR_DESC_NEXT);
    raw_down(r);

    r = raw_up(0);
    set_desc(&r->desc[0], data_pa(r, 0), 16, VIO_DESC_F_NEXT, 1);
    set_desc(&r->desc[1], data_pa(r, 16), 16, VIO_DESC_F_NEXT, 0);
    publish(r, 0);
    expect_driver_error(r, EMU_VDEV_ERR_DESC_LOOP);
    raw_down(r);

    r = raw_up(0);
    set_desc(&r->desc[0], data_pa(r, 0), 16, VIO_DESC_F_NEXT | VIO_DESC_F_WRITE, 1);
    set_desc(&r->desc[1], data_pa(r, 16), 16, 0, 0); /* readable after writable */
    publish(r, 0);
    expect_driver_error(r, EMU_VDEV_ERR_DESC_ORDER);
    raw_down(r);

    r = raw_up(0);
    set_desc(&r->desc[0], data_pa(r, 0), 16, VIO_DESC_F_NEXT, 1);
    set_desc(&r->desc[1], data_pa(r, 16), 0xFFFFFFF8u, 0, 0);
    publish(r, 0);
    expect_driver_error(r, EMU_VDEV_ERR_LEN_OVERFLOW);
    raw_down(r);
}

static void bad_indirect_tables(void **state)
{
    raw *r = raw_up(0); /* INDIRECT_DESC not negotiated */
    vio_desc *table;
    uint32_t i;

    (void)state;
    set_desc(&r->desc[0], data_pa(r, 0), 32, VIO_DESC_F_INDIRECT, 0);
    publish(r, 0);
    expect_driver_error(r, EMU_VDEV_ERR_INDIRECT);
    raw_down(r);

    r = raw_up(F(VIO_F_INDIRECT_DESC)); /* INDIRECT together with NEXT */
    set_desc(&r->desc[0], data_pa(r, 0), 32, VIO_DESC_F_INDIRECT | VIO_DESC_F_NEXT, 1);
    publish(r, 0);
    expect_driver_error(r, EMU_VDEV_ERR_INDIRECT);
    raw_down(r);

    r = raw_up(F(VIO_F_INDIRECT_DESC)); /* table length not whole descriptors */
    set_desc(&r->desc[0], data_pa(r, 0), 24, VIO_DESC_F_INDIRECT, 0);
    publish(r, 0);
    expect_driver_error(r, EMU_VDEV_ERR_INDIRECT);
    raw_down(r);

    r = raw_up(F(VIO_F_INDIRECT_DESC)); /* an indirect table inside one */
    table = (vio_desc *)r->data.va;
    set_desc(&table[0], data_pa(r, 1024), 16, VIO_DESC_F_INDIRECT, 0);
    set_desc(&r->desc[0], data_pa(r, 0), 16, VIO_DESC_F_INDIRECT, 0);
    publish(r, 0);
    expect_driver_error(r, EMU_VDEV_ERR_INDIRECT);
    raw_down(r);

    r = raw_up(F(VIO_F_INDIRECT_DESC)); /* more segments than the model takes */
    table = (vio_desc *)r->data.va;
    for (i = 0; i <= EMU_VDEV_MAX_SEGS; i++)
        set_desc(&table[i], data_pa(r, 4096 + 8 * i), 8, VIO_DESC_F_NEXT, (uint16_t)(i + 1));
    table[EMU_VDEV_MAX_SEGS].flags = 0;
    set_desc(&r->desc[0], data_pa(r, 0), 16 * (EMU_VDEV_MAX_SEGS + 1), VIO_DESC_F_INDIRECT, 0);
    publish(r, 0);
    expect_driver_error(r, EMU_VDEV_ERR_CHAIN_LONG);
    raw_down(r);

    r = raw_up(F(VIO_F_INDIRECT_DESC)); /* next beyond the table */
    table = (vio_desc *)r->data.va;
    set_desc(&table[0], data_pa(r, 1024), 16, VIO_DESC_F_NEXT, 2);
    set_desc(&r->desc[0], data_pa(r, 0), 32, VIO_DESC_F_INDIRECT, 0);
    publish(r, 0);
    expect_driver_error(r, EMU_VDEV_ERR_DESC_NEXT);
    raw_down(r);
}

static void bad_queue_enable(void **state)
{
    raw *r = raw_up(0);
    const emu_vdev_stats *s = emu_vdev_get_stats(r->h->dev);

    (void)state;
    cw(r, VIO_COMMON_Q_SELECT, 2, 1);
    cw(r, VIO_COMMON_Q_SIZE, 2, 3); /* not a power of two */
    cw(r, VIO_COMMON_Q_ENABLE, 2, 1);
    assert_false(emu_vdev_queue_enabled(r->h->dev, 1));
    assert_int_equal(s->last_error, EMU_VDEV_ERR_QUEUE_SIZE);
    raw_down(r);

    r = raw_up(0);
    s = emu_vdev_get_stats(r->h->dev);
    cw(r, VIO_COMMON_Q_SELECT, 2, 1);
    cw(r, VIO_COMMON_Q_DESCLO, 4, 0x2000); /* not guest memory */
    cw(r, VIO_COMMON_Q_ENABLE, 2, 1);
    assert_false(emu_vdev_queue_enabled(r->h->dev, 1));
    assert_int_equal(s->last_error, EMU_VDEV_ERR_RING_ADDRESS);
    assert_true(emu_vdev_status(r->h->dev) & VIO_STATUS_DEVICE_NEEDS_RESET);
    raw_down(r);
}

static void well_formed_chain_reaches_the_personality(void **state)
{
    raw *r = raw_up(F(VIO_F_INDIRECT_DESC));
    vio_desc *table = (vio_desc *)r->data.va;
    uint8_t *d = r->data.va;
    volatile uint32_t *elem;

    (void)state;
    /* A direct readable segment, then an indirect table with one more
     * readable and two writable segments. */
    memcpy(d + 1024, "abc", 3);
    memcpy(d + 2048, "defgh", 5);
    set_desc(&r->desc[3], data_pa(r, 1024), 3, VIO_DESC_F_NEXT, 5);
    set_desc(&r->desc[5], data_pa(r, 0), 48, VIO_DESC_F_INDIRECT, 0);
    set_desc(&table[0], data_pa(r, 2048), 5, VIO_DESC_F_NEXT, 2);
    set_desc(&table[2], data_pa(r, 3072), 4, VIO_DESC_F_NEXT | VIO_DESC_F_WRITE, 1);
    set_desc(&table[1], data_pa(r, 4096), 16, VIO_DESC_F_WRITE, 0);
    publish(r, 3);
    emu_vdev_process_queue(r->h->dev, 0);
    assert_int_equal(r->h->popped[0], 1);
    assert_int_equal(r->used[1], 1);
    elem = (volatile uint32_t *)&r->used[2];
    assert_int_equal(elem[0], 3);
    assert_int_equal(elem[1], 8);
    assert_memory_equal(d + 3072, "abcd", 4);
    assert_memory_equal(d + 4096, "efgh", 4);
    assert_int_equal(emu_vdev_get_stats(r->h->dev)->driver_errors, 0);
    assert_int_equal(r->h->msix_raised[0], 1);
    raw_down(r);
}

static void msix_mask_holds_then_releases_messages(void **state)
{
    raw *r = raw_up(0);
    uint8_t msix = vh_find_cap(r->h, 0x11, 0);
    uint32_t table = emu_vdev_cfg_read(r->h->dev, msix + 4u, 4) & ~7u;
    uint32_t pba = emu_vdev_cfg_read(r->h->dev, msix + 8u, 4) & ~7u;

    (void)state;
    assert_int_equal(emu_vdev_cfg_read(r->h->dev, msix + 2u, 2) & 0x7FF, 2); /* 3 vectors */
    emu_vdev_mmio_write(r->h->dev, 0, table + 12, 4, 1);                     /* mask vector 0 */
    set_desc(&r->desc[0], data_pa(r, 0), 16, 0, 0);
    publish(r, 0);
    emu_vdev_process_queue(r->h->dev, 0);
    assert_int_equal(r->h->msix_raised[0], 0);
    assert_int_equal(emu_vdev_mmio_read(r->h->dev, 0, pba, 4), 1);
    assert_int_equal(emu_vdev_get_stats(r->h->dev)->msix_held, 1);
    emu_vdev_mmio_write(r->h->dev, 0, table + 12, 4, 0); /* unmask: delivered */
    assert_int_equal(r->h->msix_raised[0], 1);
    assert_int_equal(emu_vdev_mmio_read(r->h->dev, 0, pba, 4), 0);

    /* The function mask holds every vector the same way. */
    emu_vdev_cfg_write(r->h->dev, msix + 2u, 2, 0xC000);
    set_desc(&r->desc[1], data_pa(r, 0), 16, 0, 0);
    publish(r, 1);
    emu_vdev_process_queue(r->h->dev, 0);
    assert_int_equal(r->h->msix_raised[0], 1);
    emu_vdev_cfg_write(r->h->dev, msix + 2u, 2, 0x8000);
    assert_int_equal(r->h->msix_raised[0], 2);
    raw_down(r);
}

static void pci_cfg_window_reaches_the_registers(void **state)
{
    raw *r = raw_up(0);
    uint8_t cap = vh_find_cap(r->h, 0x09, VIO_PCI_CAP_PCI_CFG);

    (void)state;
    emu_vdev_cfg_write(r->h->dev, cap + 4u, 1, 0);
    emu_vdev_cfg_write(r->h->dev, cap + 8u, 4, r->common + VIO_COMMON_NUMQ);
    emu_vdev_cfg_write(r->h->dev, cap + 12u, 4, 2);
    assert_int_equal(emu_vdev_cfg_read(r->h->dev, cap + 16u, 4), 2);
    emu_vdev_cfg_write(r->h->dev, cap + 8u, 4, r->common + VIO_COMMON_STATUS);
    emu_vdev_cfg_write(r->h->dev, cap + 12u, 4, 1);
    emu_vdev_cfg_write(r->h->dev, cap + 16u, 4, 0); /* a reset through the window */
    assert_int_equal(emu_vdev_status(r->h->dev), 0);
    emu_vdev_cfg_write(r->h->dev, cap + 12u, 4, 3); /* no 3-byte accesses */
    assert_int_equal(emu_vdev_cfg_read(r->h->dev, cap + 16u, 4), 0);
    assert_int_equal(emu_vdev_get_stats(r->h->dev)->bad_accesses, 1);
    raw_down(r);
}

static void bar_sizing_and_address(void **state)
{
    vio_harness *h = vh_create(NULL);

    (void)state;
    emu_vdev_cfg_write(h->dev, 0x10, 4, 0xFFFFFFFFu);
    emu_vdev_cfg_write(h->dev, 0x14, 4, 0xFFFFFFFFu);
    assert_int_equal(emu_vdev_cfg_read(h->dev, 0x10, 4), (~(EMU_VDEV_BAR0_SIZE - 1) | 4u));
    assert_int_equal(emu_vdev_cfg_read(h->dev, 0x14, 4), 0xFFFFFFFFu);
    emu_vdev_cfg_write(h->dev, 0x10, 4, 0xFEB04000u);
    emu_vdev_cfg_write(h->dev, 0x14, 4, 0x1);
    assert_true(emu_vdev_bar_address(h->dev, 0) == 0x1FEB04000ull);
    assert_true(emu_vdev_bar_address(h->dev, 2) == 0);
    assert_int_equal(emu_vdev_cfg_read(h->dev, 0x00, 2), 0x1AF4);
    assert_int_equal(emu_vdev_cfg_read(h->dev, 0x02, 2), 0x1040 + VH_DEVICE_TYPE);
    assert_true(emu_vdev_cfg_read(h->dev, 0x08, 1) >= 1); /* modern revision */
    assert_true(vh_destroy(h));
}

static void bad_register_accesses_are_counted(void **state)
{
    raw *r = raw_up(0);
    const emu_vdev_stats *s = emu_vdev_get_stats(r->h->dev);
    uint64_t before = s->bad_accesses;

    (void)state;
    assert_true(emu_vdev_mmio_read(r->h->dev, 0, r->common + 1, 2) == 0xFFFF); /* unaligned */
    assert_true(emu_vdev_mmio_read(r->h->dev, 0, r->common, 3) == 0xFFFFFF);
    assert_true(emu_vdev_mmio_read(r->h->dev, 0, EMU_VDEV_BAR0_SIZE, 4) == 0xFFFFFFFFu);
    assert_true(emu_vdev_mmio_read(r->h->dev, 2, 0, 4) == 0xFFFFFFFFu);
    cw(r, VIO_COMMON_STATUS, 2, 0); /* status is one byte: no reset */
    assert_int_equal(emu_vdev_status(r->h->dev), 0x0F);
    assert_true(emu_vdev_cfg_read(r->h->dev, 255, 2) == 0xFFFF);
    assert_int_equal(s->bad_accesses, before + 6);
    /* A 64-bit access is two 32-bit halves. */
    cw(r, VIO_COMMON_Q_SELECT, 2, 1);
    cw(r, VIO_COMMON_Q_DESCLO, 8, 0x123456789ABCDEF0ull);
    assert_true(cr(r, VIO_COMMON_Q_DESCLO, 4) == 0x9ABCDEF0u);
    assert_true(cr(r, VIO_COMMON_Q_DESCHI, 4) == 0x12345678u);
    assert_true(cr(r, VIO_COMMON_Q_DESCLO, 8) == 0x123456789ABCDEF0ull);
    /* Notifying a queue that does not exist is ignored. */
    emu_vdev_mmio_write(r->h->dev, 0, r->notify + 4 * 7, 2, 7);
    assert_int_equal(s->notifies, 0);
    raw_down(r);
}

static void push_from_before_a_reset_is_ignored(void **state)
{
    raw *r = raw_up(0);
    emu_vdev_req stale;

    (void)state;
    r->h->mode[0] = VH_HOLD;
    set_desc(&r->desc[0], data_pa(r, 0), 16, VIO_DESC_F_WRITE, 0);
    publish(r, 0);
    emu_vdev_process_queue(r->h->dev, 0);
    assert_int_equal(r->h->nheld[0], 1);
    stale = r->h->held[0][0];
    cw(r, VIO_COMMON_STATUS, 1, 0);
    assert_int_equal(r->h->nheld[0], 0); /* the personality dropped it */
    memset(r->ring.va, 0, 1024);
    r->avail_idx = 0;
    raw_start(r, F(VIO_F_VERSION_1));
    raw_queue(r, QSIZE);
    cw(r, VIO_COMMON_STATUS, 1, 0x0F);
    emu_vdev_push(r->h->dev, &stale, 16);
    assert_int_equal(r->used[1], 0);
    assert_int_equal(emu_vdev_get_stats(r->h->dev)->pushed, 0);
    raw_down(r);
}

static void features_outside_the_offer_are_refused(void **state)
{
    raw *r = raw_up(0);

    (void)state;
    raw_start(r, F(VIO_F_VERSION_1) | F(40)); /* bit 40 was never offered */
    assert_false(emu_vdev_status(r->h->dev) & VIO_STATUS_FEATURES_OK);
    assert_true(emu_vdev_driver_features(r->h->dev) == 0);
    raw_start(r, F(3)); /* no VERSION_1 */
    assert_false(emu_vdev_status(r->h->dev) & VIO_STATUS_FEATURES_OK);
    raw_start(r, F(VIO_F_VERSION_1));
    assert_true(emu_vdev_status(r->h->dev) & VIO_STATUS_FEATURES_OK);
    raw_down(r);
}

static void request_helpers_span_segments(void **state)
{
    uint8_t a[4] = "abcd", b[3] = "efg", w1[2], w2[5];
    emu_vdev_req req = {
        .nseg = 4,
        .n_readable = 2,
        .readable_len = 7,
        .writable_len = 7,
        .seg = { { a, 4, false }, { b, 3, false }, { w1, 2, true }, { w2, 5, true } },
    };
    uint8_t out[8] = { 0 };

    (void)state;
    assert_int_equal(emu_vdev_req_read(&req, 2, out, 8), 5);
    assert_memory_equal(out, "cdefg", 5);
    assert_int_equal(emu_vdev_req_read(&req, 7, out, 1), 0);
    assert_int_equal(emu_vdev_req_write(&req, 1, "XYZUVW", 6), 6);
    assert_memory_equal(w1 + 1, "X", 1);
    assert_memory_equal(w2, "YZUVW", 5);
    assert_int_equal(emu_vdev_req_write(&req, 6, "12", 2), 1);
    assert_memory_equal(w2 + 4, "1", 1);
}

static void buffers_posted_before_driver_ok_are_seen_at_driver_ok(void **state)
{
    vh_params p = { .process_on_notify = true };
    vio_harness *h = vh_create(&p);
    vio_vq_params qp = { .index = 0, .msix_vector = 0 };
    vio_dev *dev = NULL;
    vio_vq *vq = NULL;
    vio_dma buf;
    vio_sg sg;
    void *token = NULL;
    uint32_t len;
    int t;

    (void)state;
    assert_int_equal(vh_driver_init(h, 0, &dev), VIO_OK);
    assert_int_equal(vio_vq_create(dev, &qp, &vq), VIO_OK);
    assert_true(vh_dma_alloc(h, 64, &buf));
    sg = (vio_sg){ buf.pa, 64 };
    assert_int_equal(vio_vq_add(vq, &sg, 1, 0, &t, VIO_ADD_DIRECT), VIO_OK);
    assert_true(vio_vq_kick(vq));
    assert_int_equal(h->popped[0], 0); /* not before DRIVER_OK */
    assert_int_equal(vio_dev_driver_ok(dev), VIO_OK);
    assert_int_equal(h->popped[0], 1);
    assert_int_equal(vio_vq_get_used(vq, &token, &len), VIO_OK);
    assert_ptr_equal(token, &t);
    assert_int_equal(vio_dev_reset(dev), VIO_OK);
    vio_vq_destroy(vq);
    vio_dev_destroy(dev);
    vh_dma_free(h, &buf);
    assert_true(vh_destroy(h));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_buffer_address),
        cmocka_unit_test(bad_avail_ring),
        cmocka_unit_test(bad_chains),
        cmocka_unit_test(bad_indirect_tables),
        cmocka_unit_test(bad_queue_enable),
        cmocka_unit_test(well_formed_chain_reaches_the_personality),
        cmocka_unit_test(msix_mask_holds_then_releases_messages),
        cmocka_unit_test(pci_cfg_window_reaches_the_registers),
        cmocka_unit_test(bar_sizing_and_address),
        cmocka_unit_test(bad_register_accesses_are_counted),
        cmocka_unit_test(push_from_before_a_reset_is_ignored),
        cmocka_unit_test(features_outside_the_offer_are_refused),
        cmocka_unit_test(request_helpers_span_segments),
        cmocka_unit_test(buffers_posted_before_driver_ok_are_seen_at_driver_ok),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
