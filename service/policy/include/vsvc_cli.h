/*
 * vsvc_cli.h - vfosvc's command line:
 *   vfosvc install [--inf PATH]   register the service and install vfoprot
 *   vfosvc uninstall [--force]    restore bindings, remove vfoprot and the service
 *   vfosvc status                 show pairs, VF bindings and remembered changes
 *   vfosvc console                run the service loop in this console (debugging)
 *   vfosvc run                    the entry the Service Control Manager starts
 *   vfosvc help
 * Arguments arrive as UTF-8 (the glue converts from the wide command line).
 */
#ifndef VSVC_CLI_H
#define VSVC_CLI_H

#include "vsvc_common.h"

#define VSVC_CLI_PATH_LEN 1024

enum vsvc_cmd {
    VSVC_CMD_HELP = 0,
    VSVC_CMD_INSTALL,
    VSVC_CMD_UNINSTALL,
    VSVC_CMD_STATUS,
    VSVC_CMD_CONSOLE,
    VSVC_CMD_RUN,
};

struct vsvc_cli {
    enum vsvc_cmd cmd;
    char inf_path[VSVC_CLI_PATH_LEN]; /* install: "" = vfoprot.inf next to vfosvc.exe */
    bool force;                       /* uninstall: go on despite unrestorable records */
};

/* VSVC_E_INVAL with err[] explaining the mistake; the caller then prints
 * vsvc_cli_usage() and exits with status 2. */
int vsvc_cli_parse(int argc, char **argv, struct vsvc_cli *out, char *err, size_t err_len);
const char *vsvc_cli_usage(void);

#endif /* VSVC_CLI_H */
