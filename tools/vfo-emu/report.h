/*
 * report.h - what a run shows: the timeline of events with their virtual
 * times, the traffic results (whole run, per window between events, path
 * changes), JSON and a gnuplot chart of traffic per path.
 */
#ifndef VFO_EMU_REPORT_H
#define VFO_EMU_REPORT_H

#include <stdio.h>

#include "world.h"

typedef struct run_results run_results;

/* Reads the traffic logs (the guest must still be running): call before
 * world_finish. NULL when the run had no traffic. */
run_results *report_collect(world *w);
void report_free(run_results *r);

void report_timeline(world *w, FILE *out);
void report_results(world *w, const run_results *r, FILE *out);
int report_json(world *w, const run_results *r, const char *scenario, const char *path);
int report_plot(world *w, const char *title, const char *png);

#endif /* VFO_EMU_REPORT_H */
