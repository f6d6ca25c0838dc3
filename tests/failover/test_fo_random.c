/*
 * Randomized invariant check of the failover engine (issue 4, "Done when").
 *
 * Each sequence builds a fresh registry with two pairs and drives it with a
 * random walk of events the way NDIS could order them (binds, opens, pauses,
 * unbinds, resets, removals, power, link changes, settings, timers) mixed with
 * data-path calls (sends, completions with every status, receives, returns,
 * delayed "drained" notifications) and deliberately invalid calls. After every
 * step the invariants of the Promela model are checked:
 *   I1 no send or receive is lent on a binding that is not open and running,
 *      and nothing at all once detach started;
 *   I2 every packet is completed upwards exactly once (a send the primary
 *      fails while leaving is resent, never dropped);
 *   I3 detach always completes: after the walk the sequence is driven to
 *      quiescence and every unbind, pause and power transition completes;
 *   I4 no deadlock: quiescence is reached within a bounded number of steps;
 *   I5 TX never selects a primary that is not ACTIVE;
 * plus bookkeeping checks (references equal what is out, one replay OID at a
 * time, CLOSE and pause completions only when drained, no link-down
 * indication while a path is usable, no action queue overflow, invalid calls
 * refused without effect). The simulated glue and NDIS, with the per-action
 * checks, are in fo_random_world.c; the kinds of event in fo_random_steps.c.
 *
 * Usage: test_fo_random [--sequences N] [--seed S] [--only I] [--steps M]
 * Sequence I of seed S is the same on every run and machine; a failure
 * prints the command that replays exactly it, and its step trace.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fo_random_world.h"

int main(int argc, char **argv)
{
    uint64_t sequences = 1000, seed = 1, only = UINT64_MAX;
    unsigned max_steps = 100;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--sequences"))
            sequences = strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--only"))
            only = strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--steps"))
            max_steps = (unsigned)strtoul(argv[i + 1], NULL, 0);
        else {
            fprintf(stderr, "usage: %s [--sequences N] [--seed S] [--only I] [--steps M]\n",
                    argv[0]);
            return 2;
        }
    }
    if (max_steps == 0 || max_steps > MAX_TRACE - 8) {
        fprintf(stderr, "test_fo_random: --steps must be 1..%d\n", MAX_TRACE - 8);
        return 2;
    }
    uint64_t first = only == UINT64_MAX ? 0 : only;
    uint64_t last = only == UINT64_MAX ? sequences : only + 1;
    for (uint64_t q = first; q < last; q++)
        run_sequence(seed, q, max_steps);
    printf("test_fo_random: %llu sequences (seed %llu), %llu steps, %llu sequences used the "
           "primary, %llu primary sends, %llu resends, %llu detaches: all invariants held\n",
           (unsigned long long)(last - first), (unsigned long long)seed,
           (unsigned long long)total_steps, (unsigned long long)sequences_on_primary,
           (unsigned long long)total_primary_sends, (unsigned long long)total_resends,
           (unsigned long long)total_detaches);
    /* a walk that never reaches the interesting states proves nothing */
    if (only == UINT64_MAX && sequences >= 1000 &&
        (total_primary_sends == 0 || total_resends == 0 || total_detaches == 0)) {
        fprintf(stderr, "test_fo_random: the walk did not cover sends, resends and detaches\n");
        return 1;
    }
    return 0;
}
