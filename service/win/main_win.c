/*
 * main_win.c - vfosvc.exe's entry point: the wide command line, converted to
 * UTF-8 and parsed by the portable core (vsvc_cli.h), picks a command.
 */
#include <stdio.h>
#include <stdlib.h>

#include "vfosvc_win.h"

#define MAX_ARGS 16

/* The CRT calls it (-municode); declared for -Wmissing-prototypes. */
int wmain(int argc, wchar_t **wargv);

int wmain(int argc, wchar_t **wargv)
{
    static char storage[MAX_ARGS][VSVC_CLI_PATH_LEN];
    char *argv[MAX_ARGS];
    struct vsvc_cli cli;
    char err[256];
    int i;

    if (argc > MAX_ARGS) {
        con_err("vfosvc: too many arguments\n%s", vsvc_cli_usage());
        return 2;
    }
    for (i = 0; i < argc; i++) {
        if (!utf8_from_wide(wargv[i], storage[i], VSVC_CLI_PATH_LEN)) {
            con_err("vfosvc: argument %d is too long or not valid text", i);
            return 2;
        }
        argv[i] = storage[i];
    }
    if (vsvc_cli_parse(argc, argv, &cli, err, sizeof(err)) != VSVC_OK) {
        con_err("vfosvc: %s\n%s", err, vsvc_cli_usage());
        return 2;
    }
    switch (cli.cmd) {
    case VSVC_CMD_INSTALL:
        return cmd_install(&cli);
    case VSVC_CMD_UNINSTALL:
        return cmd_uninstall(&cli);
    case VSVC_CMD_STATUS:
        return cmd_status();
    case VSVC_CMD_CONSOLE:
        return cmd_console();
    case VSVC_CMD_RUN:
        return cmd_run_service();
    case VSVC_CMD_HELP:
    default:
        fputs(vsvc_cli_usage(), stdout);
        return 0;
    }
}
