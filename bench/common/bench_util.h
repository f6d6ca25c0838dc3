/*
 * bench_util.h - the small helpers every benchmark under bench/ needs: a
 * monotonic clock and command-line counts. The including file defines
 * _POSIX_C_SOURCE (clock_gettime under -std=c11) before any include.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

/* A positive decimal count from the command line; exits with status 2 and
 * a message naming `prog` otherwise. */
static inline uint64_t bench_parse_count(const char *prog, const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);

    if (*s == '\0' || *end != '\0' || v == 0) {
        fprintf(stderr, "%s: not a positive number: %s\n", prog, s);
        exit(2);
    }
    return v;
}

#endif /* BENCH_UTIL_H */
