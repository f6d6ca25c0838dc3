/* The atomics contract lib/ relies on: return values match the Windows
 * Interlocked functions (inc/dec/add return the new value, cas and xchg the old). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "vfo_osdep.h"

static void atomic32_returns_match_interlocked(void **state)
{
    (void)state;
    vfo_atomic32 a = { 0 };
    assert_int_equal(vfo_atomic32_inc(&a), 1);
    assert_int_equal(vfo_atomic32_inc(&a), 2);
    assert_int_equal(vfo_atomic32_dec(&a), 1);
    assert_int_equal(vfo_atomic32_add(&a, 10), 11);
    assert_int_equal(vfo_atomic32_xchg(&a, 5), 11);
    assert_int_equal(vfo_atomic32_cas(&a, 4, 9), 5); /* mismatch: unchanged */
    assert_int_equal(vfo_atomic32_load(&a), 5);
    assert_int_equal(vfo_atomic32_cas(&a, 5, 9), 5); /* match: stored */
    assert_int_equal(vfo_atomic32_load(&a), 9);
    vfo_atomic32_store(&a, INT32_MIN);
    assert_int_equal(vfo_atomic32_load(&a), INT32_MIN);
}

static void atomic64_holds_values_past_32_bits(void **state)
{
    (void)state;
    vfo_atomic64 a = { 0 };
    vfo_atomic64_store(&a, (int64_t)1 << 40);
    assert_true(vfo_atomic64_add(&a, 3) == ((int64_t)1 << 40) + 3);
    assert_true(vfo_atomic64_cas(&a, 0, 7) == ((int64_t)1 << 40) + 3);
    assert_true(vfo_atomic64_cas(&a, ((int64_t)1 << 40) + 3, 7) == ((int64_t)1 << 40) + 3);
    assert_true(vfo_atomic64_load(&a) == 7);
    vfo_mb();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(atomic32_returns_match_interlocked),
        cmocka_unit_test(atomic64_holds_values_past_32_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
