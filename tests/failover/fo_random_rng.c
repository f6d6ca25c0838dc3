/*
 * The reproducible randomness of test_fo_random (splitmix64, one stream per
 * seed and sequence). A fuzz target (tests/fuzz/failover) links its own
 * rnd()/rnd_seed() instead, drawing the walk's choices from its input.
 */
#include "fo_random_world.h"

static uint64_t rng_state;

uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void rnd_seed(uint64_t seed, uint64_t seq)
{
    rng_state = seed * 0x100000001b3ull ^ (seq + 1) * 0x9e3779b97f4a7c15ull;
}
