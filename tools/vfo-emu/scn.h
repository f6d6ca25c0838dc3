/*
 * scn.h - vfo-emu's scenario files: parsing (scn_parse.c) into commands,
 * and the pieces that run them (world, conditions, reports).
 *
 * A scenario is a line-based text file (docs/scenarios.md): one command per
 * line, words separated by blanks, '#' starts a comment. Commands before
 * "boot" describe the machine (cold-plugged devices, options); after it they
 * act on the running guest, advance virtual time and check expectations.
 */
#ifndef VFO_EMU_SCN_H
#define VFO_EMU_SCN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCN_MAX_WORDS 16
#define SCN_WORD_LEN  128
#define SCN_MAX_DEPTH 4 /* nested "repeat" blocks */

typedef struct scn_cmd {
    unsigned line;
    unsigned argc;
    size_t end; /* "repeat": the index of its "end" */
    char argv[SCN_MAX_WORDS][SCN_WORD_LEN];
} scn_cmd;

typedef struct scn_file {
    char path[512];
    char name[128];
    scn_cmd *cmds;
    size_t n;
    size_t cap; /* cmds has room for this many (grown by doubling) */
} scn_file;

/* Parses and checks the file: unknown commands, wrong numbers of words,
 * commands on the wrong side of "boot" are errors (message in err, with the
 * line). Returns 0 or -1. */
int scn_load(const char *path, scn_file *out, char *err, size_t errlen);
int scn_parse_text(const char *text, const char *name, scn_file *out, char *err, size_t errlen);
void scn_free(scn_file *f);

/* "250ms", "1.5s", "30s", "100us", "42ns", "7" (ns) -> ns; false when not a duration. */
bool scn_duration(const char *s, uint64_t *ns);
/* key=value word: returns the value if word starts with "key=", else NULL. */
const char *scn_kv(const char *word, const char *key);
/* Looks for key=value among words [from, argc). */
const char *scn_opt(const scn_cmd *c, unsigned from, const char *key);

#endif /* VFO_EMU_SCN_H */
