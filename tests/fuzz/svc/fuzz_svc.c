/*
 * vfosvc's inputs from others (service/policy): its command line, the
 * configuration values read from the registry (name and DWORD), and the
 * identifiers it canonicalizes (adapter GUIDs and component ids, which come
 * from INetCfg and from its records store).
 *
 * Input: byte 0 chooses the surface, the rest is split at NUL bytes into
 * strings (argv; name + 4-byte value; identifiers).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vsvc_cli.h"
#include "vsvc_common.h"
#include "vsvc_config.h"

#define FUZZ_MAX_ARGS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Splits buf (NUL-terminated at buf[len]) at NULs into at most max strings. */
static int split(char *buf, size_t len, char **out, int max)
{
    int n = 0;
    size_t i = 0;
    while (i <= len && n < max) {
        out[n++] = buf + i;
        i += strlen(buf + i) + 1;
    }
    return n;
}

static void fuzz_cli(char **args, int n)
{
    char *argv[FUZZ_MAX_ARGS + 2];
    struct vsvc_cli cli;
    char err[128];

    argv[0] = "vfosvc";
    memcpy(argv + 1, args, (size_t)n * sizeof(*args));
    argv[n + 1] = NULL;
    err[0] = '\0';
    if (vsvc_cli_parse(n + 1, argv, &cli, err, sizeof(err)) == VSVC_OK) {
        if (memchr(cli.inf_path, '\0', sizeof(cli.inf_path)) == NULL)
            abort();
    } else if (err[0] == '\0') {
        abort(); /* a rejection always says why */
    }
}

static void fuzz_config(char **args, int n)
{
    struct vsvc_config cfg, before;

    vsvc_config_default(&cfg);
    for (int i = 0; i + 1 < n; i += 2) {
        uint32_t value = 0;
        for (size_t b = 0; b < sizeof(value) && args[i + 1][b] != '\0'; b++)
            value |= (uint32_t)(uint8_t)args[i + 1][b] << (8 * b);
        before = cfg;
        if (vsvc_config_set(&cfg, args[i], value) != VSVC_OK && memcmp(&cfg, &before, sizeof(cfg)))
            abort(); /* a refused value leaves the setting unchanged */
    }
    for (size_t i = 0; vsvc_config_name(i) != NULL; i++)
        (void)vsvc_config_set(&cfg, vsvc_config_name(i), (uint32_t)i * 0x01010101u);
}

static void fuzz_ids(char **args, int n)
{
    for (int i = 0; i < n; i++) {
        char id[VSVC_ID_LEN], name[VSVC_NAME_LEN], copy[16];
        if (vsvc_id_canonical(args[i], id) == VSVC_OK && memchr(id, '\0', sizeof(id)) == NULL)
            abort();
        if (vsvc_component_canonical(args[i], name) == VSVC_OK &&
            memchr(name, '\0', sizeof(name)) == NULL)
            abort();
        if (vsvc_copy(copy, sizeof(copy), args[i]) == VSVC_OK && strlen(copy) != strlen(args[i]))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *args[FUZZ_MAX_ARGS];
    char *buf;
    int n;

    if (size < 1)
        return 0;
    buf = malloc(size);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    n = split(buf, size - 1, args, FUZZ_MAX_ARGS);
    switch (data[0] % 3) {
    case 0:
        fuzz_cli(args, n);
        break;
    case 1:
        fuzz_config(args, n);
        break;
    default:
        fuzz_ids(args, n);
        break;
    }
    free(buf);
    return 0;
}
