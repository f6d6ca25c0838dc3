/*
 * filter.h - a lightweight filter in the scenarios (filter.c).
 */
#ifndef VFO_EMU_FILTER_H
#define VFO_EMU_FILTER_H

#include "cond.h"
#include "scn.h"
#include "world.h"

/* "--filter SO:DESC": that filter instead of passflt. -1: no service name
 * in DESC. */
int filter_external(world *w, const char *spec);
/* "filter ..." before boot: the filter's settings and where it sits. */
int filter_option(world *w, const scn_cmd *c);
/* Loads it (with its paths set) before the guest boots: it attaches as
 * the adapters arrive. No filter in the scenario: nothing. */
int filter_boot(world *w);
/* "filter attach|detach ID" after boot: at run time, the stack paused;
 * "filter restart [ID]" (--filter only): through the sample's control device. */
int filter_cmd(world *w, const scn_cmd *c);
/* After a run with a filter stacked from the command line (--filter-over):
 * prints what passed through it and fails the run if it never attached
 * (a filtered run that ran unfiltered would prove nothing). */
void filter_check_stacked(world *w);
/* filter.<field>, filter.over.<id> */
int filter_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen);

#endif /* VFO_EMU_FILTER_H */
