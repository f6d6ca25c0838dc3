/*
 * vfo_ctl.h, the control device ABI: its codes, the request checks the
 * driver applies, the reply checks the service applies, and the conversion
 * of a reply into the policy's pairs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vsvc_pairs.h"

/* The values CTL_CODE(FILE_DEVICE_NETWORK, 0x800.., METHOD_BUFFERED,
 * FILE_READ_ACCESS) gives with winioctl.h. */
static void ioctl_codes_match_ctl_code(void **state)
{
    (void)state;
    assert_int_equal(IOCTL_VFO_QUERY_VERSION, 0x00126000);
    assert_int_equal(IOCTL_VFO_QUERY_PAIRS, 0x00126004);
    assert_int_equal(IOCTL_VFO_WAIT_CHANGE, 0x00126008);
    assert_int_equal(sizeof(struct vfo_ctl_pairs), 48 + 64 * 384);
}

static void requests_must_have_exact_sizes_and_version(void **state)
{
    struct vfo_ctl_request rq = { VFO_CTL_ABI_VERSION, sizeof(rq), 0 };
    struct vfo_ctl_wait wt = { VFO_CTL_ABI_VERSION, sizeof(wt), 5 };
    const uint32_t pairs = sizeof(struct vfo_ctl_pairs);
    (void)state;

    assert_int_equal(vfo_ctl_check_request(IOCTL_VFO_QUERY_VERSION, NULL, 0, 16), 0);
    assert_int_equal(vfo_ctl_check_request(IOCTL_VFO_QUERY_VERSION, &rq, 16, 16),
                     VFO_CTL_CHECK_INPUT_SIZE);
    assert_int_equal(vfo_ctl_check_request(IOCTL_VFO_QUERY_VERSION, NULL, 0, 32),
                     VFO_CTL_CHECK_OUTPUT_SIZE);

    assert_int_equal(vfo_ctl_check_request(IOCTL_VFO_QUERY_PAIRS, &rq, sizeof(rq), pairs), 0);
    assert_int_equal(vfo_ctl_check_request(IOCTL_VFO_QUERY_PAIRS, NULL, sizeof(rq), pairs),
                     VFO_CTL_CHECK_INPUT_SIZE);
    assert_int_equal(vfo_ctl_check_request(IOCTL_VFO_QUERY_PAIRS, &rq, sizeof(rq) - 1, pairs),
                     VFO_CTL_CHECK_INPUT_SIZE);
    assert_int_equal(vfo_ctl_check_request(IOCTL_VFO_QUERY_PAIRS, &rq, sizeof(rq), pairs + 1),
                     VFO_CTL_CHECK_OUTPUT_SIZE);
    assert_int_equal(vfo_ctl_check_request(IOCTL_VFO_QUERY_PAIRS, &rq, sizeof(rq), pairs - 384),
                     VFO_CTL_CHECK_OUTPUT_SIZE);
    rq.abi_version = 2;
    assert_int_equal(vfo_ctl_check_request(IOCTL_VFO_QUERY_PAIRS, &rq, sizeof(rq), pairs),
                     VFO_CTL_CHECK_VERSION);
    rq.abi_version = VFO_CTL_ABI_VERSION;
    rq.size = 24;
    assert_int_equal(vfo_ctl_check_request(IOCTL_VFO_QUERY_PAIRS, &rq, sizeof(rq), pairs),
                     VFO_CTL_CHECK_VERSION);
    rq.size = sizeof(rq);
    rq.reserved = 1;
    assert_int_equal(vfo_ctl_check_request(IOCTL_VFO_QUERY_PAIRS, &rq, sizeof(rq), pairs),
                     VFO_CTL_CHECK_RESERVED);

    assert_int_equal(vfo_ctl_check_request(IOCTL_VFO_WAIT_CHANGE, &wt, sizeof(wt), sizeof(wt)), 0);
    assert_int_equal(vfo_ctl_check_request(IOCTL_VFO_WAIT_CHANGE, &wt, sizeof(wt), 8),
                     VFO_CTL_CHECK_OUTPUT_SIZE);
    wt.size = 8;
    assert_int_equal(vfo_ctl_check_request(IOCTL_VFO_WAIT_CHANGE, &wt, sizeof(wt), sizeof(wt)),
                     VFO_CTL_CHECK_VERSION);

    assert_int_equal(vfo_ctl_check_request(0x00126010, NULL, 0, 0), VFO_CTL_CHECK_UNKNOWN_IOCTL);
    /* Same function, other access or method: a different code, refused. */
    assert_int_equal(vfo_ctl_check_request(IOCTL_VFO_QUERY_VERSION | 3, NULL, 0, 16),
                     VFO_CTL_CHECK_UNKNOWN_IOCTL);
}

static struct vfo_ctl_pairs *good_reply(void)
{
    struct vfo_ctl_pairs *r = calloc(1, sizeof(*r));
    struct vfo_ctl_adapter *a;
    assert_non_null(r);
    r->abi_version = VFO_CTL_ABI_VERSION;
    r->size = sizeof(*r);
    r->generation = 42;
    r->adapter_count = 2;
    r->bad_requests = 3;
    a = &r->adapters[0];
    a->vfo.guid =
        (struct vfo_ctl_guid){ 0x11111111, 0x2222, 0x3333, { 0x44, 0x44, 0, 0, 0, 0, 0, 0xa1 } };
    a->vf.guid =
        (struct vfo_ctl_guid){ 0xaaaaaaaa, 0xbbbb, 0xcccc, { 0xdd, 0xdd, 0, 0, 0, 0, 0, 0xf1 } };
    memcpy(a->vf.current_mac, (uint8_t[]){ 0x52, 0x54, 0, 0x12, 0x34, 0x56 }, 6);
    a->pair_state = VFO_CTL_PAIR_ACTIVE;
    a->flags = VFO_CTL_ADAPTER_LINK_UP | VFO_CTL_ADAPTER_TX_ON_PRIMARY;
    a->refusal_count = 1;
    a->refused[0].candidate.guid.data1 = 0x99;
    a->refused[0].reason = VFO_CTL_REFUSE_MTU_MISMATCH;
    a->refused[0].count = 2;
    a->counters.attaches = 7;
    r->adapters[1].vfo.guid.data1 = 0x12;
    r->adapters[1].pair_state = VFO_CTL_PAIR_ABSENT;
    return r;
}

static void reply_is_converted_to_canonical_ids(void **state)
{
    struct vfo_ctl_pairs *r = good_reply();
    struct vsvc_pairs p;
    char why[128];
    (void)state;

    assert_int_equal(vfo_ctl_check_pairs_reply(r, sizeof(*r)), VFO_CTL_CHECK_OK);
    assert_int_equal(vsvc_pairs_from_ctl(&p, r, sizeof(*r), why, sizeof(why)), VSVC_OK);
    assert_true(p.valid);
    assert_int_equal(p.generation, 42);
    assert_int_equal(p.count, 2);
    assert_int_equal(p.bad_requests, 3);
    assert_string_equal(p.pair[0].vfo.id, "{11111111-2222-3333-4444-0000000000A1}");
    assert_string_equal(p.pair[0].vf.id, "{AAAAAAAA-BBBB-CCCC-DDDD-0000000000F1}");
    assert_int_equal(p.pair[0].vf.mac[5], 0x56);
    assert_true(vsvc_pair_claims_vf(&p.pair[0]));
    assert_int_equal(p.pair[0].n_refused, 1);
    assert_string_equal(p.pair[0].refused[0].candidate.id,
                        "{00000099-0000-0000-0000-000000000000}");
    assert_int_equal(p.pair[0].refused[0].reason, VFO_CTL_REFUSE_MTU_MISMATCH);
    assert_int_equal(p.pair[0].counters.attaches, 7);
    assert_false(vsvc_pair_claims_vf(&p.pair[1]));
    assert_string_equal(p.pair[1].vf.id, "");
    free(r);
}

/* Each promise of the header, broken once: refused with a reason, and the
 * pairs come out empty and not valid. */
static void malformed_replies_are_refused(void **state)
{
    struct vfo_ctl_pairs *r = good_reply();
    struct vsvc_pairs p;
    char why[128];
    (void)state;

#define EXPECT_BAD(mutate, restore, rc_expected)                                                 \
    do {                                                                                         \
        mutate;                                                                                  \
        assert_int_equal(vsvc_pairs_from_ctl(&p, r, sizeof(*r), why, sizeof(why)), rc_expected); \
        assert_false(p.valid);                                                                   \
        assert_int_equal(p.count, 0);                                                            \
        assert_true(why[0] != '\0');                                                             \
        restore;                                                                                 \
    } while (0)

    EXPECT_BAD(r->abi_version = 2, r->abi_version = VFO_CTL_ABI_VERSION, VSVC_E_VERSION);
    EXPECT_BAD(r->size = 100, r->size = sizeof(*r), VSVC_E_VERSION);
    EXPECT_BAD(r->reserved = 1, r->reserved = 0, VSVC_E_INVAL);
    EXPECT_BAD(r->adapter_count = VFO_CTL_MAX_ADAPTERS + 1, r->adapter_count = 2, VSVC_E_INVAL);
    EXPECT_BAD(r->flags = 0x80, r->flags = 0, VSVC_E_INVAL);
    EXPECT_BAD(r->adapters[0].pair_state = 6, r->adapters[0].pair_state = VFO_CTL_PAIR_ACTIVE,
               VSVC_E_INVAL);
    EXPECT_BAD(r->adapters[0].refusal_count = 5, r->adapters[0].refusal_count = 1, VSVC_E_INVAL);
    EXPECT_BAD(r->adapters[0].flags = 0x10, r->adapters[0].flags = 0, VSVC_E_INVAL);
    EXPECT_BAD(r->adapters[0].reserved = 9, r->adapters[0].reserved = 0, VSVC_E_INVAL);
    /* An ABSENT pair naming a VF, a claimed one naming none. */
    EXPECT_BAD(r->adapters[1].vf.guid.data3 = 1, r->adapters[1].vf.guid.data3 = 0, VSVC_E_INVAL);
    EXPECT_BAD(r->adapters[1].pair_state = VFO_CTL_PAIR_OPENING,
               r->adapters[1].pair_state = VFO_CTL_PAIR_ABSENT, VSVC_E_INVAL);
    /* Wrong length. */
    assert_int_equal(vsvc_pairs_from_ctl(&p, r, sizeof(*r) - 1, why, sizeof(why)), VSVC_E_SIZE);
    assert_int_equal(vsvc_pairs_from_ctl(&p, NULL, sizeof(*r), why, sizeof(why)), VSVC_E_SIZE);
    /* Adapters past adapter_count are not looked at. */
    r->adapters[5].pair_state = 77;
    assert_int_equal(vsvc_pairs_from_ctl(&p, r, sizeof(*r), why, sizeof(why)), VSVC_OK);
#undef EXPECT_BAD
    free(r);
}

static void version_and_wait_replies_are_checked(void **state)
{
    struct vfo_ctl_version v = { VFO_CTL_ABI_VERSION, sizeof(v), 0x10000,
                                 sizeof(struct vfo_ctl_pairs) };
    struct vfo_ctl_wait w = { VFO_CTL_ABI_VERSION, sizeof(w), 9 };
    (void)state;

    assert_int_equal(vfo_ctl_check_version_reply(&v, sizeof(v)), 0);
    assert_int_equal(vfo_ctl_check_version_reply(&v, 8), VFO_CTL_CHECK_OUTPUT_SIZE);
    v.pairs_size = 100;
    assert_int_equal(vfo_ctl_check_version_reply(&v, sizeof(v)), VFO_CTL_CHECK_VERSION);
    v.pairs_size = sizeof(struct vfo_ctl_pairs);
    v.size = 20;
    assert_int_equal(vfo_ctl_check_version_reply(&v, sizeof(v)), VFO_CTL_CHECK_FIELD);
    assert_int_equal(vfo_ctl_check_wait_reply(&w, sizeof(w)), 0);
    assert_int_equal(vfo_ctl_check_wait_reply(&w, 0), VFO_CTL_CHECK_OUTPUT_SIZE);
    w.abi_version = 0;
    assert_int_equal(vfo_ctl_check_wait_reply(&w, sizeof(w)), VFO_CTL_CHECK_VERSION);
}

static void names_cover_every_code(void **state)
{
    uint32_t s;
    (void)state;
    for (s = 0; s <= VFO_CTL_PAIR_STATE_MAX; s++)
        assert_string_not_equal(vsvc_pair_state_name(s), "UNKNOWN");
    assert_string_equal(vsvc_pair_state_name(99), "UNKNOWN");
    for (s = VFO_CTL_REFUSE_NOT_ETHERNET; s <= VFO_CTL_REFUSE_RESOURCES; s++)
        assert_string_not_equal(vsvc_refusal_name(s), "unknown reason");
    assert_string_equal(vsvc_refusal_name(0), "unknown reason");
    for (s = 0; s <= VFO_CTL_CHECK_FIELD; s++)
        assert_string_not_equal(vsvc_ctl_check_name((int)s), "unknown check");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ioctl_codes_match_ctl_code),
        cmocka_unit_test(requests_must_have_exact_sizes_and_version),
        cmocka_unit_test(reply_is_converted_to_canonical_ids),
        cmocka_unit_test(malformed_replies_are_refused),
        cmocka_unit_test(version_and_wait_replies_are_checked),
        cmocka_unit_test(names_cover_every_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
