/*
 * scn_parse.c - reading scenario files (see scn.h, docs/scenarios.md).
 */
#include "scn.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum phase { BEFORE_BOOT, AFTER_BOOT, ANYWHERE } phase;

typedef struct cmd_rule {
    const char *name;
    unsigned min_words, max_words; /* including the command */
    phase where;
} cmd_rule;

static const cmd_rule k_rules[] = {
    { "name", 2, SCN_MAX_WORDS, BEFORE_BOOT },
    { "set", 3, 3, BEFORE_BOOT },
    { "driver", 3, 4, BEFORE_BOOT },
    { "peer", 2, 6, BEFORE_BOOT },
    { "guest", 2, 6, BEFORE_BOOT },
    { "standby", 2, 8, ANYWHERE },
    { "primary", 3, 14, ANYWHERE },
    { "boot", 1, 1, BEFORE_BOOT },
    { "run", 2, 2, AFTER_BOOT },
    { "wait", 4, 6, AFTER_BOOT },
    { "expect", 4, 4, AFTER_BOOT },
    { "migrate", 1, 5, AFTER_BOOT },
    { "migrate-cancel", 1, 1, AFTER_BOOT },
    { "stop", 1, 1, AFTER_BOOT },
    { "cont", 1, 1, AFTER_BOOT },
    { "unplug", 2, 3, AFTER_BOOT },
    { "plug", 2, 2, AFTER_BOOT },
    { "vf", 3, 4, AFTER_BOOT },
    { "link", 3, 3, AFTER_BOOT },
    { "switch", 2, 6, ANYWHERE },
    { "traffic", 2, 5, AFTER_BOOT },
    { "netcfg", 4, 4, AFTER_BOOT },
    { "mark", 2, SCN_MAX_WORDS, AFTER_BOOT },
    { "service", 2, 10, AFTER_BOOT },
    { "adapter", 3, 4, AFTER_BOOT },
    { "filter", 2, 8, ANYWHERE },
    { "save", 3, 3, AFTER_BOOT },
    { "print", 2, SCN_MAX_WORDS, AFTER_BOOT },
    { "repeat", 2, 2, AFTER_BOOT },
    { "end", 1, 1, AFTER_BOOT },
};

static const cmd_rule *rule_of(const char *name)
{
    for (size_t i = 0; i < sizeof(k_rules) / sizeof(k_rules[0]); i++) {
        if (strcmp(k_rules[i].name, name) == 0)
            return &k_rules[i];
    }
    return NULL;
}

/* Splits one line into words; false (with err) on an overlong line. */
static bool split(char *line, scn_cmd *c, char *err, size_t errlen)
{
    char *hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    c->argc = 0;
    for (char *p = line; *p;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        char *start = p;
        while (*p && !isspace((unsigned char)*p))
            p++;
        size_t len = (size_t)(p - start);
        if (c->argc == SCN_MAX_WORDS || len >= SCN_WORD_LEN) {
            snprintf(err, errlen, "line %u: too many or too long words", c->line);
            return false;
        }
        memcpy(c->argv[c->argc], start, len);
        c->argv[c->argc][len] = '\0';
        c->argc++;
    }
    return true;
}

static int check(scn_cmd *c, bool *booted, char *err, size_t errlen)
{
    const cmd_rule *r = rule_of(c->argv[0]);
    if (!r) {
        snprintf(err, errlen, "line %u: unknown command '%s'", c->line, c->argv[0]);
        return -1;
    }
    if (c->argc < r->min_words || c->argc > r->max_words) {
        snprintf(err, errlen, "line %u: '%s' takes %u to %u words, got %u", c->line, r->name,
                 r->min_words - 1, r->max_words - 1, c->argc - 1);
        return -1;
    }
    if ((r->where == BEFORE_BOOT && *booted) || (r->where == AFTER_BOOT && !*booted)) {
        snprintf(err, errlen, "line %u: '%s' belongs %s 'boot'", c->line, r->name,
                 r->where == BEFORE_BOOT ? "before" : "after");
        return -1;
    }
    if (strcmp(r->name, "boot") == 0)
        *booted = true;
    return 0;
}

static int add_line(scn_file *f, char *line, unsigned no, bool *booted, char *err, size_t errlen)
{
    scn_cmd c;
    c.line = no;
    if (!split(line, &c, err, errlen))
        return -1;
    if (c.argc == 0)
        return 0;
    if (check(&c, booted, err, errlen))
        return -1;
    if (f->n == f->cap) {
        /* Doubling: a command is 2 KiB, and growing by one copied the whole
         * array for every line (quadratic in the file's length). */
        size_t cap = f->cap ? f->cap * 2 : 16;
        scn_cmd *grown = realloc(f->cmds, cap * sizeof(*grown));
        if (!grown) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        f->cmds = grown;
        f->cap = cap;
    }
    f->cmds[f->n++] = c;
    if (strcmp(c.argv[0], "name") == 0) {
        f->name[0] = '\0';
        for (unsigned i = 1; i < c.argc; i++) {
            strncat(f->name, c.argv[i], sizeof(f->name) - strlen(f->name) - 1);
            if (i + 1 < c.argc)
                strncat(f->name, " ", sizeof(f->name) - strlen(f->name) - 1);
        }
    }
    return 0;
}

/* Pairs each "repeat" with its "end" (nested at most SCN_MAX_DEPTH deep). */
static int match_blocks(scn_file *f, char *err, size_t errlen)
{
    size_t open[SCN_MAX_DEPTH];
    unsigned depth = 0;
    for (size_t i = 0; i < f->n; i++) {
        scn_cmd *c = &f->cmds[i];
        if (strcmp(c->argv[0], "repeat") == 0) {
            char *end;
            unsigned long n = strtoul(c->argv[1], &end, 10);
            if (*end || end == c->argv[1] || n == 0 || n > 1000000) {
                snprintf(err, errlen, "line %u: 'repeat' takes a count from 1 to 1000000", c->line);
                return -1;
            }
            if (depth == SCN_MAX_DEPTH) {
                snprintf(err, errlen, "line %u: 'repeat' nested too deep", c->line);
                return -1;
            }
            open[depth++] = i;
        } else if (strcmp(c->argv[0], "end") == 0) {
            if (!depth) {
                snprintf(err, errlen, "line %u: 'end' without 'repeat'", c->line);
                return -1;
            }
            f->cmds[open[--depth]].end = i;
        }
    }
    if (depth) {
        snprintf(err, errlen, "line %u: 'repeat' without 'end'", f->cmds[open[depth - 1]].line);
        return -1;
    }
    return 0;
}

int scn_parse_text(const char *text, const char *name, scn_file *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    snprintf(out->path, sizeof(out->path), "%s", name);
    snprintf(out->name, sizeof(out->name), "%s", name);
    bool booted = false;
    unsigned no = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[1024];
        no++;
        if (len >= sizeof(line)) {
            snprintf(err, errlen, "line %u: longer than %zu characters", no, sizeof(line) - 1);
            scn_free(out);
            return -1;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        if (add_line(out, line, no, &booted, err, errlen)) {
            scn_free(out);
            return -1;
        }
        p = nl ? nl + 1 : p + len;
    }
    if (!booted) {
        snprintf(err, errlen, "no 'boot' command");
        scn_free(out);
        return -1;
    }
    if (match_blocks(out, err, errlen)) {
        scn_free(out);
        return -1;
    }
    return 0;
}

int scn_load(const char *path, scn_file *out, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char *text = NULL;
    size_t cap = 0, n = 0;
    char chunk[4096];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (n + got + 1 > cap) {
            cap = (n + got + 1) * 2;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                fclose(f);
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            text = t;
        }
        memcpy(text + n, chunk, got);
        n += got;
    }
    fclose(f);
    if (!text)
        text = calloc(1, 1);
    else
        text[n] = '\0';
    const char *base = strrchr(path, '/');
    int r = scn_parse_text(text ? text : "", base ? base + 1 : path, out, err, errlen);
    free(text);
    if (!r)
        snprintf(out->path, sizeof(out->path), "%s", path);
    return r;
}

void scn_free(scn_file *f)
{
    free(f->cmds);
    f->cmds = NULL;
    f->n = 0;
    f->cap = 0;
}

bool scn_duration(const char *s, uint64_t *ns)
{
    /* Digits with at most one '.', nothing else: strtod alone would also take
     * "nan", "inf", hex and exponents, and a NaN converted to an integer is
     * undefined behaviour. */
    size_t digits = strspn(s, "0123456789.");
    const char *dot = memchr(s, '.', digits);
    if (digits == 0 || (dot && memchr(dot + 1, '.', digits - (size_t)(dot + 1 - s))))
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end != s + digits || errno || !(v >= 0))
        return false;
    double mul = 1;
    if (strcmp(end, "s") == 0)
        mul = 1e9;
    else if (strcmp(end, "ms") == 0)
        mul = 1e6;
    else if (strcmp(end, "us") == 0)
        mul = 1e3;
    else if (strcmp(end, "ns") != 0 && *end != '\0')
        return false;
    double r = v * mul;
    if (r > 1e18)
        return false;
    *ns = (uint64_t)(r + 0.5);
    return true;
}

const char *scn_kv(const char *word, const char *key)
{
    size_t n = strlen(key);
    return strncmp(word, key, n) == 0 && word[n] == '=' ? word + n + 1 : NULL;
}

const char *scn_opt(const scn_cmd *c, unsigned from, const char *key)
{
    for (unsigned i = from; i < c->argc; i++) {
        const char *v = scn_kv(c->argv[i], key);
        if (v)
            return v;
    }
    return NULL;
}
