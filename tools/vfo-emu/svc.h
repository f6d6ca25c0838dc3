/*
 * svc.h - vfosvc in a scenario (docs/scenarios.md, "The binding service"):
 * the "service" command, the "service..." and "binding..." conditions, and
 * running virtual time with the service scheduled as a guest process.
 */
#ifndef VFO_EMU_SVC_H
#define VFO_EMU_SVC_H

#include "cond.h"
#include "scn.h"
#include "world.h"

/* service start [Name=value...] | stop | uninstall. 0, or -1 when it could
 * not be carried out. */
int svc_cmd(world *w, const scn_cmd *c);
/* "service", "service.<counter>", "service.log.<EVENT>",
 * "binding.<protocol>.<device>[.<host>]". */
int svc_subject(world *w, char p[4][64], unsigned n, cval *v, char *err, size_t errlen);
/* emu_run_for, with the service's reconciles run when they fall due. */
int svc_run_for(world *w, uint64_t ns);
/* Stops the service (before the runtime shuts down) / frees its store. */
void svc_finish(world *w);
void svc_destroy(world *w);

#endif /* VFO_EMU_SVC_H */
