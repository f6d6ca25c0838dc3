/* vfosvc's command line (vsvc_cli.h). */
#include <stdio.h>
#include <string.h>

#include "vsvc_cli.h"

static const struct {
    const char *name;
    enum vsvc_cmd cmd;
} commands[] = {
    { "install", VSVC_CMD_INSTALL }, { "uninstall", VSVC_CMD_UNINSTALL },
    { "status", VSVC_CMD_STATUS },   { "console", VSVC_CMD_CONSOLE },
    { "run", VSVC_CMD_RUN },         { "help", VSVC_CMD_HELP },
    { "--help", VSVC_CMD_HELP },     { "-h", VSVC_CMD_HELP },
};

const char *vsvc_cli_usage(void)
{
    return "usage: vfosvc <command>\n"
           "  install [--inf PATH]  register the vfosvc service and install the vfoprot\n"
           "                        protocol from PATH (default: vfoprot.inf next to vfosvc.exe)\n"
           "  uninstall [--force]   restore every binding vfosvc changed, then remove vfoprot\n"
           "                        and the service; --force goes on when an adapter whose\n"
           "                        bindings were changed is not present\n"
           "  status                show vfo's pairs, the bindings of each paired VF and the\n"
           "                        changes vfosvc remembers\n"
           "  console               run the service loop in this console (Ctrl+C stops it)\n"
           "  run                   entry point used by the Service Control Manager\n"
           "  help                  this text\n";
}

static int fail(char *err, size_t err_len, const char *what, const char *arg)
{
    snprintf(err, err_len, "%s: '%s'", what, arg);
    return VSVC_E_INVAL;
}

/* Options valid after a command; each command accepts only its own. */
static int parse_options(int argc, char **argv, struct vsvc_cli *out, char *err, size_t err_len)
{
    int i;
    for (i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (out->cmd == VSVC_CMD_INSTALL && strcmp(a, "--inf") == 0) {
            if (i + 1 >= argc || argv[i + 1][0] == '\0')
                return fail(err, err_len, "--inf needs a path", a);
            if (out->inf_path[0] != '\0')
                return fail(err, err_len, "--inf given twice", argv[i + 1]);
            if (vsvc_copy(out->inf_path, sizeof(out->inf_path), argv[++i]) != VSVC_OK)
                return fail(err, err_len, "INF path too long", "--inf");
        } else if (out->cmd == VSVC_CMD_UNINSTALL && strcmp(a, "--force") == 0) {
            out->force = true;
        } else {
            return fail(err, err_len, "unexpected argument", a);
        }
    }
    return VSVC_OK;
}

int vsvc_cli_parse(int argc, char **argv, struct vsvc_cli *out, char *err, size_t err_len)
{
    size_t i;

    memset(out, 0, sizeof(*out));
    if (err_len)
        err[0] = '\0';
    if (argc < 2 || argv == NULL || argv[1] == NULL) {
        snprintf(err, err_len, "no command given");
        return VSVC_E_INVAL;
    }
    for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (strcmp(argv[1], commands[i].name) == 0) {
            out->cmd = commands[i].cmd;
            return parse_options(argc, argv, out, err, err_len);
        }
    }
    return fail(err, err_len, "unknown command", argv[1]);
}
