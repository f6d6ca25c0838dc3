/*
 * exec.h - running a parsed scenario against a world.
 */
#ifndef VFO_EMU_EXEC_H
#define VFO_EMU_EXEC_H

#include "scn.h"
#include "world.h"

/* Applies the option commands (set, driver, peer, guest) found before
 * "boot"; the caller's command-line choices already in w win. */
int exec_options(world *w, const scn_file *f);
/* Runs every other command in order. Returns the number of failures
 * (expectations, command errors, verifier violations). */
unsigned exec_run(world *w, const scn_file *f);

#endif /* VFO_EMU_EXEC_H */
