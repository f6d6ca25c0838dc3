/*
 * The device is not trusted: every way a device can corrupt the used ring
 * must be rejected with its own error code and counter, break the queue,
 * write nothing to shared memory, touch nothing outside the ring (guard
 * zones and AddressSanitizer watch), lose no buffer (all come back exactly
 * once after a reset) and leave a queue that works again after restart.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "vio_harness.h"

#define F(bit)     VIO_FEATURE(bit)
#define MAX_TOKENS 16

typedef struct rig {
    vio_harness *h;
    vio_dev *dev;
    vio_vq *vq;
    vio_dma buf;
    int tokens[MAX_TOKENS];
    uint32_t added;
} rig;

static rig *rig_up(uint16_t queue_size)
{
    vh_params p = { .queue_size = queue_size, .process_on_notify = true };
    vio_vq_params qp = { .index = 0, .msix_vector = 0, .indirect_max = 4 };
    rig *r = test_calloc(1, sizeof(*r));

    r->h = vh_create(&p);
    assert_non_null(r->h);
    r->h->mode[0] = VH_HOLD;
    assert_int_equal(vh_driver_init(r->h, F(VIO_F_EVENT_IDX) | F(VIO_F_INDIRECT_DESC), &r->dev),
                     VIO_OK);
    assert_int_equal(vio_vq_create(r->dev, &qp, &r->vq), VIO_OK);
    assert_int_equal(vio_dev_driver_ok(r->dev), VIO_OK);
    assert_true(vh_dma_alloc(r->h, 4096, &r->buf));
    return r;
}

/* Adds a buffer of n_out readable and n_in writable 32-byte segments. */
static void add(rig *r, uint16_t n_out, uint16_t n_in, vio_add_mode mode)
{
    vio_sg sg[4];
    uint16_t i;

    for (i = 0; i < n_out + n_in; i++)
        sg[i] = (vio_sg){ r->buf.pa + 32u * (r->added * 4u + i), 32 };
    assert_int_equal(vio_vq_add(r->vq, sg, n_out, n_in, &r->tokens[r->added], mode), VIO_OK);
    r->added++;
}

static void post(rig *r)
{
    vio_vq_kick(r->vq);
    assert_int_equal(r->h->nheld[0], vio_vq_in_flight(r->vq));
}

static uint64_t error_count(const vio_vq_stats *s)
{
    return s->err_used_id_range + s->err_used_id_not_in_flight + s->err_used_len +
           s->err_used_idx_jump;
}

static uint64_t counter_for(const vio_vq_stats *s, vio_status st)
{
    switch (st) {
    case VIO_E_USED_ID_RANGE:
        return s->err_used_id_range;
    case VIO_E_USED_ID_NOT_IN_FLIGHT:
        return s->err_used_id_not_in_flight;
    case VIO_E_USED_LEN:
        return s->err_used_len;
    case VIO_E_USED_IDX_JUMP:
        return s->err_used_idx_jump;
    default:
        return UINT64_MAX;
    }
}

/* The next get_used must fail with `expect`; then everything the header
 * promises about a broken queue is checked, the device is reset, every
 * buffer not yet returned comes back exactly once, and the queue is used
 * again. */
static void expect_rejected(rig *r, vio_status expect)
{
    const vio_vq_stats *stats = vio_vq_get_stats(r->vq);
    uint16_t in_flight = vio_vq_in_flight(r->vq);
    uint16_t num_free = vio_vq_num_free(r->vq);
    uint64_t shared = vh_dma_digest(r->h);
    void *token = (void *)&expect;
    uint32_t len = 0xDEADBEEF;
    uint32_t seen[MAX_TOKENS] = { 0 };
    uint32_t i, back = 0;
    uint64_t notifies = r->h->notify_count[0];

    assert_int_equal(vio_vq_get_used(r->vq, &token, &len), expect);
    /* Nothing handed out, nothing written to shared memory, nothing freed. */
    assert_ptr_equal(token, &expect);
    assert_int_equal(len, 0xDEADBEEF);
    assert_true(vh_dma_digest(r->h) == shared);
    assert_int_equal(vio_vq_in_flight(r->vq), in_flight);
    assert_int_equal(vio_vq_num_free(r->vq), num_free);
    assert_true(vio_vq_is_broken(r->vq));
    assert_int_equal(vio_vq_broken_reason(r->vq), expect);
    assert_int_equal(counter_for(stats, expect), 1);
    assert_int_equal(error_count(stats), 1);

    /* A broken queue stays quiet: no buffers, no writes, no notifications. */
    assert_int_equal(vio_vq_get_used(r->vq, &token, &len), VIO_E_BROKEN);
    assert_false(vio_vq_has_used(r->vq));
    assert_int_equal(
        vio_vq_add(r->vq, &(vio_sg){ r->buf.pa, 8 }, 1, 0, &r->tokens[0], VIO_ADD_DIRECT),
        VIO_E_BROKEN);
    assert_false(vio_vq_kick(r->vq));
    assert_true(vio_vq_enable_cb(r->vq));
    vio_vq_disable_cb(r->vq);
    assert_int_equal(vio_vq_enable_cb_delayed(r->vq), true);
    assert_true(vh_dma_digest(r->h) == shared);
    assert_int_equal(r->h->notify_count[0], notifies);
    assert_int_equal(error_count(stats), 1);
    assert_int_equal(vh_check_guards(r->h), 0);

    /* Recovery: reset, every buffer not returned comes back exactly once. */
    assert_int_equal(vio_dev_reset(r->dev), VIO_OK);
    while ((token = vio_vq_detach_unused(r->vq)) != NULL) {
        i = (uint32_t)((int *)token - r->tokens);
        assert_true(i < r->added);
        seen[i]++;
        back++;
    }
    assert_int_equal(back, in_flight);
    for (i = 0; i < r->added; i++)
        assert_true(seen[i] <= 1);
    assert_false(vio_vq_is_broken(r->vq));
    assert_int_equal(vio_vq_num_free(r->vq), vio_vq_size(r->vq));

    /* And the queue works again. */
    r->h->mode[0] = VH_ECHO;
    assert_int_equal(vio_dev_begin_init(r->dev), VIO_OK);
    assert_int_equal(vio_dev_negotiate(r->dev, F(VIO_F_EVENT_IDX), NULL), VIO_OK);
    assert_int_equal(vio_vq_restart(r->vq), VIO_OK);
    assert_int_equal(vio_dev_driver_ok(r->dev), VIO_OK);
    r->added = 0;
    add(r, 1, 1, VIO_ADD_DIRECT);
    vio_vq_kick(r->vq);
    assert_int_equal(vio_vq_get_used(r->vq, &token, &len), VIO_OK);
    assert_ptr_equal(token, &r->tokens[0]);
    assert_int_equal(len, 32);
}

static void rig_down(rig *r)
{
    vh_driver_teardown(r->h, r->dev, &r->vq, 1);
    vh_dma_free(r->h, &r->buf);
    assert_int_equal(r->h->bad_register_accesses, 0);
    assert_true(vh_destroy(r->h));
    test_free(r);
}

static void arm(rig *r, emu_vdev_fault fault, uint32_t value)
{
    emu_vdev_inject_fault(r->h->dev, fault, 0, value, 1);
}

/* Three buffers of different shapes in flight; the device completes one
 * with `fault` armed (`value`), and get_used must say `expect`. */
static void reject_faulty_completion(emu_vdev_fault fault, uint32_t value, vio_status expect)
{
    rig *r = rig_up(16);

    add(r, 1, 1, VIO_ADD_DIRECT);
    add(r, 2, 1, VIO_ADD_INDIRECT);
    add(r, 1, 0, VIO_ADD_DIRECT);
    post(r);
    arm(r, fault, value);
    vh_complete_held(r->h, 0, 1, 0);
    expect_rejected(r, expect);
    rig_down(r);
}

static void used_id_out_of_range(void **state)
{
    const uint32_t ids[] = { 16, 17, 0x8000, 0xFFFFFFFFu };
    unsigned k;

    (void)state;
    for (k = 0; k < sizeof(ids) / sizeof(ids[0]); k++)
        reject_faulty_completion(EMU_VDEV_FAULT_USED_ID, ids[k], VIO_E_USED_ID_RANGE);
}

static void used_id_of_a_free_descriptor(void **state)
{
    rig *r = rig_up(16);
    uint32_t free_id = 0;
    bool head;

    (void)state;
    add(r, 1, 0, VIO_ADD_DIRECT);
    add(r, 1, 1, VIO_ADD_INDIRECT);
    post(r);
    /* Both buffers use one ring descriptor: any other index is free. */
    do {
        head = free_id == r->h->held[0][0].head || free_id == r->h->held[0][1].head;
        free_id += head;
    } while (head);
    arm(r, EMU_VDEV_FAULT_USED_ID, free_id);
    vh_complete_held(r->h, 0, 1, 0);
    expect_rejected(r, VIO_E_USED_ID_NOT_IN_FLIGHT);
    rig_down(r);
}

static void used_id_inside_a_chain(void **state)
{
    rig *r = rig_up(8);
    bool used[8] = { false };
    uint32_t i, member = 8;

    (void)state;
    /* One 2-descriptor chain and six single ones fill all 8 descriptors, so
     * the one index that is no buffer's head is the chain's second link. */
    add(r, 1, 1, VIO_ADD_DIRECT);
    for (i = 0; i < 6; i++)
        add(r, 1, 0, VIO_ADD_DIRECT);
    assert_int_equal(vio_vq_num_free(r->vq), 0);
    post(r);
    for (i = 0; i < r->h->nheld[0]; i++)
        used[r->h->held[0][i].head] = true;
    for (i = 0; i < 8; i++)
        if (!used[i])
            member = i;
    assert_true(member < 8);
    arm(r, EMU_VDEV_FAULT_USED_ID, member);
    vh_complete_held(r->h, 0, 1, 0);
    expect_rejected(r, VIO_E_USED_ID_NOT_IN_FLIGHT);
    rig_down(r);
}

static void used_id_completed_twice(void **state)
{
    rig *r = rig_up(16);
    void *token;
    uint32_t len;

    (void)state;
    add(r, 1, 1, VIO_ADD_DIRECT);
    add(r, 1, 1, VIO_ADD_DIRECT);
    post(r);
    /* The first buffer completes properly and is taken by the driver; then
     * the device claims it again instead of the second. */
    emu_vdev_inject_fault(r->h->dev, EMU_VDEV_FAULT_USED_ID, 0, r->h->held[0][0].head, 2);
    vh_complete_held(r->h, 0, 1, 0);
    assert_int_equal(vio_vq_get_used(r->vq, &token, &len), VIO_OK);
    assert_ptr_equal(token, &r->tokens[0]);
    vh_complete_held(r->h, 0, 1, 0);
    expect_rejected(r, VIO_E_USED_ID_NOT_IN_FLIGHT);
    rig_down(r);
}

static void used_len_beyond_writable_bytes(void **state)
{
    rig *r;
    void *token;
    uint32_t len = 0;

    (void)state;
    /* 32 writable bytes (direct): 32 is fine, 33 is not. */
    r = rig_up(16);
    add(r, 1, 1, VIO_ADD_DIRECT);
    add(r, 1, 1, VIO_ADD_DIRECT);
    post(r);
    arm(r, EMU_VDEV_FAULT_USED_LEN, 32);
    vh_complete_held(r->h, 0, 1, 0);
    assert_int_equal(vio_vq_get_used(r->vq, &token, &len), VIO_OK);
    assert_int_equal(len, 32);
    arm(r, EMU_VDEV_FAULT_USED_LEN, 33);
    vh_complete_held(r->h, 0, 1, 0);
    expect_rejected(r, VIO_E_USED_LEN);
    rig_down(r);

    /* 64 writable bytes behind an indirect table. */
    r = rig_up(16);
    add(r, 2, 2, VIO_ADD_INDIRECT);
    post(r);
    arm(r, EMU_VDEV_FAULT_USED_LEN, 65);
    vh_complete_held(r->h, 0, 1, 0);
    expect_rejected(r, VIO_E_USED_LEN);
    rig_down(r);

    /* A device-readable-only buffer: the device may not claim to have written. */
    r = rig_up(16);
    add(r, 2, 0, VIO_ADD_DIRECT);
    post(r);
    arm(r, EMU_VDEV_FAULT_USED_LEN, 1);
    vh_complete_held(r->h, 0, 1, 0);
    expect_rejected(r, VIO_E_USED_LEN);
    rig_down(r);
}

static void used_index_jumps_past_buffers_in_flight(void **state)
{
    const uint32_t jumps[] = { 3, 16, 300, 0x8000 };
    unsigned k;

    (void)state;
    /* One entry plus a jump: claims more used buffers than are in flight. */
    for (k = 0; k < sizeof(jumps) / sizeof(jumps[0]); k++)
        reject_faulty_completion(EMU_VDEV_FAULT_USED_IDX_JUMP, jumps[k], VIO_E_USED_IDX_JUMP);
}

static void used_index_may_reach_every_buffer_in_flight(void **state)
{
    rig *r = rig_up(16);
    void *token;
    uint32_t len, n = 0;

    (void)state;
    add(r, 1, 1, VIO_ADD_DIRECT);
    add(r, 1, 1, VIO_ADD_INDIRECT);
    add(r, 1, 0, VIO_ADD_DIRECT);
    post(r);
    vh_complete_held(r->h, 0, 3, 0); /* the boundary: all three at once */
    while (vio_vq_get_used(r->vq, &token, &len) == VIO_OK)
        n++;
    assert_int_equal(n, 3);
    assert_false(vio_vq_is_broken(r->vq));
    assert_int_equal(error_count(vio_vq_get_stats(r->vq)), 0);
    rig_down(r);
}

static void status_names_are_distinct(void **state)
{
    int i, j;

    (void)state;
    for (i = 0; i < VIO_STATUS_COUNT; i++) {
        assert_non_null(strstr(vio_status_name((vio_status)i), "VIO_"));
        for (j = 0; j < i; j++)
            assert_string_not_equal(vio_status_name((vio_status)i), vio_status_name((vio_status)j));
    }
    assert_string_equal(vio_status_name(VIO_E_USED_LEN), "VIO_E_USED_LEN");
    assert_string_equal(vio_status_name((vio_status)999), "VIO_E_UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(used_id_out_of_range),
        cmocka_unit_test(used_id_of_a_free_descriptor),
        cmocka_unit_test(used_id_inside_a_chain),
        cmocka_unit_test(used_id_completed_twice),
        cmocka_unit_test(used_len_beyond_writable_bytes),
        cmocka_unit_test(used_index_jumps_past_buffers_in_flight),
        cmocka_unit_test(used_index_may_reach_every_buffer_in_flight),
        cmocka_unit_test(status_names_are_distinct),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
