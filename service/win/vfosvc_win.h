/*
 * vfosvc_win.h - the commands of vfosvc.exe (main_win.c dispatches them).
 */
#ifndef VFOSVC_WIN_H
#define VFOSVC_WIN_H

#include "util_win.h"
#include "vsvc_cli.h"

/* service_win.c: the service loop, under the SCM ("run") or in a console. */
int cmd_run_service(void);
int cmd_console(void);

/* install_win.c */
int cmd_install(const struct vsvc_cli *cli);
int cmd_uninstall(const struct vsvc_cli *cli);

/* status_win.c */
int cmd_status(void);
/* "running", "stopped", "not installed", ... */
const char *service_state_text(void);

#endif /* VFOSVC_WIN_H */
