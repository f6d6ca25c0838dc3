/*
 * vfo-emu's scenario parser (tools/vfo-emu/scn_parse.c): the input is the
 * text of a scenario file. A parse either fails with a message or yields
 * commands whose words are terminated strings within the documented limits
 * and whose "repeat" blocks point at their "end"; every word then also goes
 * through the helpers that read values out of words (durations, key=value).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_parsed(const scn_file *f)
{
    for (size_t i = 0; i < f->n; i++) {
        const scn_cmd *c = &f->cmds[i];
        uint64_t ns;
        if (c->argc == 0 || c->argc > SCN_MAX_WORDS)
            abort();
        for (unsigned w = 0; w < c->argc; w++) {
            if (memchr(c->argv[w], '\0', SCN_WORD_LEN) == NULL)
                abort();
            (void)scn_duration(c->argv[w], &ns);
            (void)scn_kv(c->argv[w], "seed");
        }
        (void)scn_opt(c, 1, "seed");
        if (strcmp(c->argv[0], "repeat") == 0 &&
            (c->end <= i || c->end >= f->n || strcmp(f->cmds[c->end].argv[0], "end") != 0))
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    char err[256];
    scn_file f;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    err[0] = '\0';
    if (scn_parse_text(text, "fuzz.scn", &f, err, sizeof(err)) == 0) {
        check_parsed(&f);
        scn_free(&f);
    } else if (err[0] == '\0') {
        abort(); /* a rejection always says why */
    }
    free(text);
    return 0;
}
