/*
 * mssamples_run.h - what the sample scenarios of mssamples_run share: the
 * step log, the loop NIC's MAC, description files.
 */
#ifndef MSSAMPLES_RUN_H
#define MSSAMPLES_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One line per step ("ok" or "FAIL"); g_failed counts the failed ones,
 * g_expected the violations a step expected (each in a runtime of its own). */
extern int g_steps, g_failed, g_expected;
void step(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The loop NIC's MAC (minimp over loopnic). */
extern const uint8_t k_mac[6];

/* Writes dir/name.desc with text; its path in path. */
int write_desc(const char *dir, const char *name, const char *text, char *path, size_t n);

/* mssamples_ndisprot.c */
int run_ndisprot(const char *so, const char *dir, uint64_t seed);

#endif
