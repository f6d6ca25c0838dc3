/*
 * fuzz_world.h - persistent-mode support for the targets that drive vfo.so
 * inside ndisemu (fuzz_oid, fuzz_ctl, fuzz_vf). One ndisemu runtime with
 * vfo, the test miniport and the test protocol loaded lives for the whole
 * process (libFuzzer cannot take a driver being dlopen'ed again for every
 * input); each input plugs its devices in, runs, and takes them out again.
 *
 * Between inputs fw_end checks, and aborts (a crash for libFuzzer) when
 * something is wrong: a verifier rule tripped, the run did not reach idle
 * (a hang), or a driver holds more memory than before the input (a leak
 * across inputs: everything an adapter or binding allocated must be gone
 * once its device is).
 */
#ifndef FUZZ_WORLD_H
#define FUZZ_WORLD_H

#include "vfo_world.h"

/* The world, started on first use. */
vfo_world *fw_get(void);
/* Loads one more driver into the world (once per process), its memory
 * checked between inputs like the others'. */
emu_driver *fw_load(vfo_world *w, const char *so);
/* Aborts with the verifier's report when a rule tripped, or when err (an
 * emu_* result of the harness's own call) says the run stopped or hung. */
void fw_check(vfo_world *w, int err, const char *what);
/* Removes every device the input left, runs until idle, and checks. */
void fw_end(vfo_world *w);

#endif
