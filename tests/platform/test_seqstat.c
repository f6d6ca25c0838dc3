/*
 * seqstat on synthetic streams with known losses, bursts, gaps, duplicates
 * and reorders, whole-run and windowed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "seqstat.h"

#define MS 1000000ull

/* 100 packets sent 1 ms apart from t = 1 s; arrival = send + 100 us. */
static emu_seqlog stream(void)
{
    emu_seqlog log;
    emu_seqlog_init(&log);
    for (uint64_t s = 0; s < 100; s++)
        assert_int_equal(emu_seqlog_sent(&log, 1000 * MS + s * MS), s);
    return log;
}

static void arrive(emu_seqlog *log, uint64_t seq, uint32_t path)
{
    emu_seqlog_arrived(log, seq, log->sent_ns[seq] + 100000, path);
}

static void clean_stream_has_no_loss(void **state)
{
    (void)state;
    emu_seqlog log = stream();
    for (uint64_t s = 0; s < 100; s++)
        arrive(&log, s, 1);
    emu_seqstat st;
    emu_seqstat_compute(log.sent_ns, log.n_sent, log.arr, log.n_arr, &st);
    assert_int_equal(st.sent, 100);
    assert_int_equal(st.received, 100);
    assert_int_equal(st.lost + st.duplicates + st.reorders + st.out_of_range, 0);
    assert_int_equal(st.longest_gap_ns, 1 * MS);
    emu_seqlog_free(&log);
}

static void burst_and_gap_are_located(void **state)
{
    (void)state;
    emu_seqlog log = stream();
    for (uint64_t s = 0; s < 100; s++) {
        if (s < 40 || s >= 50)
            arrive(&log, s, 1);
    }
    emu_seqstat st;
    emu_seqstat_compute(log.sent_ns, log.n_sent, log.arr, log.n_arr, &st);
    assert_int_equal(st.lost, 10);
    assert_int_equal(st.longest_burst, 10);
    assert_int_equal(st.burst_first_seq, 40);
    assert_int_equal(st.longest_gap_ns, 11 * MS);
    assert_int_equal(st.gap_start_ns, log.sent_ns[39] + 100000);
    emu_seqlog_free(&log);
}

static void losses_at_the_ends_show_as_gaps(void **state)
{
    (void)state;
    emu_seqlog log = stream();
    for (uint64_t s = 3; s < 95; s++)
        arrive(&log, s, 1);
    emu_seqstat st;
    emu_seqstat_compute(log.sent_ns, log.n_sent, log.arr, log.n_arr, &st);
    assert_int_equal(st.lost, 8);
    assert_int_equal(st.longest_burst, 5);
    assert_int_equal(st.burst_first_seq, 95);
    /* From the last arrival (94 + 100 us) to the last send (99). */
    assert_int_equal(st.longest_gap_ns, 5 * MS - 100000);
    emu_seqlog_free(&log);
}

static void duplicates_reorders_and_strangers_are_counted(void **state)
{
    (void)state;
    emu_seqlog log = stream();
    uint64_t order[] = { 0, 1, 2, 4, 3, 3, 5, 7, 6, 6, 8, 9, 250 };
    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        emu_seqlog_arrived(&log, order[i], 1000 * MS + i * MS, 1);
    emu_seqstat st;
    emu_seqstat_compute(log.sent_ns, 10, log.arr, log.n_arr, &st);
    assert_int_equal(st.sent, 10);
    assert_int_equal(st.received, 10);
    assert_int_equal(st.lost, 0);
    assert_int_equal(st.duplicates, 2);
    assert_int_equal(st.reorders, 2);
    assert_int_equal(st.out_of_range, 1);
    emu_seqlog_free(&log);
}

static void windows_split_a_run_by_send_time(void **state)
{
    (void)state;
    emu_seqlog log = stream();
    for (uint64_t s = 0; s < 100; s++) {
        if (s % 10 != 0 || s < 50)
            arrive(&log, s, s < 60 ? 1 : 2);
    }
    emu_seqstat st;
    emu_seqstat_window(log.sent_ns, log.n_sent, log.arr, log.n_arr, log.sent_ns[50],
                       log.sent_ns[80], &st);
    assert_int_equal(st.sent, 30);
    assert_int_equal(st.lost, 3); /* 50, 60, 70 */
    assert_int_equal(st.longest_gap_ns, 2 * MS);
    emu_seqstat_window(log.sent_ns, log.n_sent, log.arr, log.n_arr, 0, log.sent_ns[50], &st);
    assert_int_equal(st.sent, 50);
    assert_int_equal(st.lost, 0);
    emu_seqpath p1, p2;
    emu_seqstat_path(log.arr, log.n_arr, 2, 0, UINT64_MAX, &p2);
    emu_seqstat_path(log.arr, log.n_arr, 1, 0, UINT64_MAX, &p1);
    assert_int_equal(p1.received, 59);
    assert_int_equal(p2.received, 36);
    assert_int_equal(p2.first_ns, log.sent_ns[61] + 100000);
    assert_int_equal(p1.last_ns, log.sent_ns[59] + 100000);
    emu_seqlog_free(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(clean_stream_has_no_loss),
        cmocka_unit_test(burst_and_gap_are_located),
        cmocka_unit_test(losses_at_the_ends_show_as_gaps),
        cmocka_unit_test(duplicates_reorders_and_strangers_are_counted),
        cmocka_unit_test(windows_split_a_run_by_send_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
