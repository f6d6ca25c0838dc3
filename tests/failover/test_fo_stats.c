/* One monotonic set of counters across attach/detach cycles and counter
 * wraps (issue 4, item 7). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "fo_harness.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* A path's counters as the source reports them. */
typedef struct source {
    fo_counters raw; /* full 64-bit running values; reported masked to width */
    unsigned width;
} source;

static void traffic(source *s, fo_counters *truth, uint64_t max_step)
{
    for (int i = 0; i < FO_STAT_COUNT; i++) {
        uint64_t d = next_rand() % max_step;
        s->raw.v[i] += d;
        truth->v[i] += d;
    }
}

static fo_reason sample(fo_path path, const source *s)
{
    fo_counters c = s->raw;
    if (s->width == 32)
        for (int i = 0; i < FO_STAT_COUNT; i++)
            c.v[i] &= 0xffffffffull;
    return fo_stats_sample(P(), path, &c, s->width);
}

static void assert_total(const fo_counters *truth, fo_counters *prev)
{
    fo_counters now;
    fo_upper_stats(P(), &now);
    for (int i = 0; i < FO_STAT_COUNT; i++) {
        assert_true(now.v[i] >= prev->v[i]);  /* never backwards */
        assert_true(now.v[i] == truth->v[i]); /* and exactly the traffic */
    }
    *prev = now;
}

static void monotonic_across_1000_cycles_with_wraps(void **state)
{
    (void)state;
    fo_counters truth = { { 0 } }, prev = { { 0 } };
    source standby = { { { 0 } }, 64 };
    for (int cycle = 0; cycle < 1000; cycle++) {
        /* every new VF starts its counters somewhere else; a third of them
         * are 32-bit sources near 2^32, a third 64-bit near 2^64 */
        source vf;
        vf.width = (cycle % 3 == 0) ? 32 : 64;
        for (int i = 0; i < FO_STAT_COUNT; i++) {
            uint64_t top = vf.width == 32 ? ((uint64_t)1 << 32) : 0; /* 0 - x wraps */
            vf.raw.v[i] = (cycle % 3 == 2) ? next_rand() % 1000 : top - 1 - next_rand() % 5000;
        }
        h_attach(&H, 0, &VF);
        assert_int_equal(sample(FO_PATH_PRIMARY, &vf), FO_R_OK); /* the baseline */
        assert_total(&truth, &prev);
        for (int k = 0; k < 4; k++) {
            traffic(&vf, &truth, 4000);
            traffic(&standby, &truth, 50);
            assert_int_equal(sample(FO_PATH_PRIMARY, &vf), FO_R_OK);
            assert_int_equal(sample(FO_PATH_STANDBY, &standby), FO_R_OK);
            assert_total(&truth, &prev);
        }
        traffic(&vf, &truth, 4000);
        assert_int_equal(h_after(&H, 0, fo_primary_pause(P())), FO_R_OK);
        assert_int_equal(h_after(&H, 0, fo_primary_unbind(P())), FO_R_OK);
        /* the glue answers FO_ACT_QUERY_PRIMARY_STATS before the close completes */
        assert_int_equal(sample(FO_PATH_PRIMARY, &vf), FO_R_OK);
        assert_int_equal(h_after(&H, 0, fo_primary_close_complete(P())), FO_R_OK);
        assert_total(&truth, &prev);
        /* nothing of the old VF moves the total any more */
        traffic(&vf, &truth, 1);
        assert_int_equal(sample(FO_PATH_PRIMARY, &vf), FO_R_STALE_COMPLETION);
        for (int i = 0; i < FO_STAT_COUNT; i++)
            truth.v[i] = prev.v[i];
        assert_total(&truth, &prev);
        h_clear_log(&H);
    }
    fo_pair_info info;
    fo_pair_get_info(P(), &info);
    assert_int_equal(info.attaches, 1000);
    assert_int_equal(info.detaches, 1000);
}

static void same_vf_reattached_is_not_counted_twice(void **state)
{
    (void)state;
    fo_counters truth = { { 0 } }, prev = { { 0 } };
    source vf = { { { 0 } }, 64 };
    for (int round = 0; round < 3; round++) {
        h_attach(&H, 0, &VF);
        sample(FO_PATH_PRIMARY, &vf);
        traffic(&vf, &truth, 100000);
        sample(FO_PATH_PRIMARY, &vf);
        assert_total(&truth, &prev);
        h_detach(&H, 0);
        traffic(&vf, &truth, 100000); /* while not ours: TCP/IP's business */
        for (int i = 0; i < FO_STAT_COUNT; i++)
            truth.v[i] = prev.v[i];
    }
    assert_total(&truth, &prev);
}

static void counter_reset_counts_from_zero(void **state)
{
    (void)state;
    fo_counters truth = { { 0 } }, prev = { { 0 } };
    source vf = { { { 0 } }, 64 };
    h_attach(&H, 0, &VF);
    for (int i = 0; i < FO_STAT_COUNT; i++)
        vf.raw.v[i] = 1000000;
    sample(FO_PATH_PRIMARY, &vf);
    traffic(&vf, &truth, 1000);
    sample(FO_PATH_PRIMARY, &vf);
    /* the VF restarts its counters (a driver reload behind our back) */
    memset(&vf.raw, 0, sizeof(vf.raw));
    traffic(&vf, &truth, 1000);
    sample(FO_PATH_PRIMARY, &vf);
    assert_total(&truth, &prev);
    fo_pair_info info;
    fo_pair_get_info(P(), &info);
    assert_int_equal(info.counter_resets, 1);

    /* after a reset the engine knows of, the next sample is a baseline */
    assert_int_equal(h_after(&H, 0, fo_primary_reset(P(), true)), FO_R_OK);
    assert_int_equal(h_after(&H, 0, fo_primary_reset(P(), false)), FO_R_OK);
    vf.raw.v[0] = 77; /* whatever it reports now */
    sample(FO_PATH_PRIMARY, &vf);
    assert_total(&truth, &prev);
}

static void standby_first_sample_counts_whole(void **state)
{
    (void)state;
    fo_counters c = { { 0 } };
    c.v[FO_STAT_OUT_UCAST_PKTS] = 12;
    assert_int_equal(fo_stats_sample(P(), FO_PATH_STANDBY, &c, 64), FO_R_OK);
    fo_counters t;
    fo_upper_stats(P(), &t);
    assert_true(t.v[FO_STAT_OUT_UCAST_PKTS] == 12);
}

static void bad_samples_are_refused(void **state)
{
    (void)state;
    fo_counters c = { { 0 } };
    assert_int_equal(fo_stats_sample(P(), FO_PATH_STANDBY, NULL, 64), FO_R_INVALID_ARGUMENT);
    assert_int_equal(fo_stats_sample(P(), FO_PATH_STANDBY, &c, 16), FO_R_INVALID_ARGUMENT);
    assert_int_equal(fo_stats_sample(P(), (fo_path)7, &c, 64), FO_R_INVALID_ARGUMENT);
    assert_int_equal(fo_stats_sample(P(), FO_PATH_PRIMARY, &c, 64), FO_R_STALE_COMPLETION);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(monotonic_across_1000_cycles_with_wraps, h_setup),
        cmocka_unit_test_setup(same_vf_reattached_is_not_counted_twice, h_setup),
        cmocka_unit_test_setup(counter_reset_counts_from_zero, h_setup),
        cmocka_unit_test_setup(standby_first_sample_counts_whole, h_setup),
        cmocka_unit_test_setup(bad_samples_are_refused, h_setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
