/*
 * lib/failover: the input is a sequence of choices. The walk of
 * test_fo_random (bring-up, events in any order NDIS could make them,
 * deliberately invalid calls, then quiescence) takes every random choice
 * from the input instead of splitmix64, so coverage guides it to the rare
 * orderings; every invariant of test_fo_random is checked after every event
 * (a violation prints the trace and exits, which libFuzzer reports).
 *
 * Input: each choice reads the next 2 bytes (little-endian); past the end,
 * choices come from splitmix64 seeded with a hash of the input, so every
 * input is a deterministic, finite walk.
 */
#include <stddef.h>
#include <stdint.h>

#include "fo_random_world.h"

#define FUZZ_MAX_STEPS 200

static const uint8_t *in_data;
static size_t in_size, in_pos;
static uint64_t tail_state;

uint64_t rnd(void)
{
    if (in_pos + 2 <= in_size) {
        uint64_t v = (uint64_t)in_data[in_pos] | (uint64_t)in_data[in_pos + 1] << 8;
        in_pos += 2;
        return v;
    }
    uint64_t z = (tail_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void rnd_seed(uint64_t seed, uint64_t seq)
{
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a of the input */
    for (size_t i = 0; i < in_size; i++)
        h = (h ^ in_data[i]) * 0x100000001b3ull;
    tail_state = h ^ seed ^ seq;
    in_pos = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    in_data = data;
    in_size = size;
    run_sequence(0, 0, FUZZ_MAX_STEPS);
    return 0;
}
