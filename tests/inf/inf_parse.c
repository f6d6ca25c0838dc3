/*
 * inf_parse.c - see inf_parse.h.
 */
#include "inf_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static void trim(char *s)
{
    size_t n = strlen(s), a = 0;
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    while (s[a] && isspace((unsigned char)s[a]))
        a++;
    memmove(s, s + a, n - a + 1);
}

/* Cuts a ';' comment that is not inside quotes. */
static void strip_comment(char *s)
{
    bool q = false;
    for (char *p = s; *p; p++) {
        if (*p == '"')
            q = !q;
        else if (*p == ';' && !q) {
            *p = 0;
            return;
        }
    }
}

static void unquote(char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        memmove(s, s + 1, n - 2);
        s[n - 2] = 0;
    }
}

static void copy_field(char *dst, const char *src, size_t n)
{
    if (n >= INF_FIELD_LEN)
        n = INF_FIELD_LEN - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
    trim(dst);
    unquote(dst);
}

/* Splits the value part on commas outside quotes. */
static void split_fields(const char *v, inf_line *l)
{
    const char *start = v;
    bool q = false;
    for (const char *p = v;; p++) {
        if (*p == '"')
            q = !q;
        if ((*p == ',' && !q) || !*p) {
            if (l->nfields < INF_MAX_FIELDS)
                copy_field(l->field[l->nfields++], start, (size_t)(p - start));
            if (!*p)
                break;
            start = p + 1;
        }
    }
}

static bool parse_entry(const char *text, inf_line *l)
{
    bool q = false;
    memset(l, 0, sizeof(*l));
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            q = !q;
        if (*p == '=' && !q) {
            copy_field(l->key, text, (size_t)(p - text));
            split_fields(p + 1, l);
            return true;
        }
    }
    split_fields(text, l);
    return true;
}

static inf_section *add_section(inf_file *inf, const char *name)
{
    inf_section *s = realloc(inf->sections, (inf->nsections + 1) * sizeof(*s));
    if (!s)
        return NULL;
    inf->sections = s;
    s = &inf->sections[inf->nsections++];
    memset(s, 0, sizeof(*s));
    copy_field(s->name, name, strlen(name));
    return s;
}

static void note_error(inf_file *inf, unsigned lineno, const char *what)
{
    if (!inf->error[0])
        snprintf(inf->error, sizeof(inf->error), "line %u: %s", lineno, what);
}

/* One logical line: physical lines joined while they end in '\'. */
static bool read_logical(FILE *f, char *buf, size_t cap, unsigned *lineno)
{
    size_t used = 0;
    char part[1024];
    buf[0] = 0;
    while (fgets(part, sizeof(part), f)) {
        (*lineno)++;
        strip_comment(part);
        trim(part);
        size_t n = strlen(part);
        bool more = n && part[n - 1] == '\\';
        if (more)
            part[--n] = 0;
        if (used + n + 1 < cap) {
            memcpy(buf + used, part, n + 1);
            used += n;
        }
        if (!more)
            return true;
    }
    return used > 0;
}

int inf_load(const char *path, inf_file *inf)
{
    char text[2048];
    unsigned lineno = 0;
    inf_section *cur = NULL;
    memset(inf, 0, sizeof(*inf));
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (read_logical(f, text, sizeof(text), &lineno)) {
        if (!text[0])
            continue;
        if (text[0] == '[') {
            char *end = strchr(text, ']');
            if (!end || end[1]) {
                note_error(inf, lineno, "malformed section header");
                continue;
            }
            *end = 0;
            cur = add_section(inf, text + 1);
            continue;
        }
        if (!cur) {
            note_error(inf, lineno, "entry outside any section");
            continue;
        }
        inf_line *ls = realloc(cur->lines, (cur->nlines + 1) * sizeof(*ls));
        if (!ls)
            break;
        cur->lines = ls;
        parse_entry(text, &cur->lines[cur->nlines]);
        cur->lines[cur->nlines++].lineno = lineno;
    }
    fclose(f);
    return 0;
}

void inf_free(inf_file *inf)
{
    for (unsigned i = 0; i < inf->nsections; i++)
        free(inf->sections[i].lines);
    free(inf->sections);
    memset(inf, 0, sizeof(*inf));
}

const inf_section *inf_section_find(const inf_file *inf, const char *name)
{
    for (unsigned i = 0; i < inf->nsections; i++)
        if (strcasecmp(inf->sections[i].name, name) == 0)
            return &inf->sections[i];
    return NULL;
}

const inf_line *inf_key(const inf_section *s, const char *key)
{
    for (unsigned i = 0; s && i < s->nlines; i++)
        if (strcasecmp(s->lines[i].key, key) == 0)
            return &s->lines[i];
    return NULL;
}

const char *inf_string(const inf_file *inf, const char *key)
{
    const inf_line *l = inf_key(inf_section_find(inf, "Strings"), key);
    return l && l->nfields ? l->field[0] : NULL;
}

static const char *undefined_in(const inf_file *inf, const char *s)
{
    static char token[INF_FIELD_LEN];
    for (const char *p = strchr(s, '%'); p; p = strchr(p, '%')) {
        const char *e = strchr(p + 1, '%');
        if (!e)
            return p;
        size_t n = (size_t)(e - p - 1);
        if (n > 0 && n < sizeof(token)) {
            memcpy(token, p + 1, n);
            token[n] = 0;
            /* %12%-style directory ids are numbers, not strings */
            if (!isdigit((unsigned char)token[0]) && !inf_string(inf, token))
                return token;
        }
        p = e + 1;
    }
    return NULL;
}

const char *inf_undefined_string(const inf_file *inf)
{
    for (unsigned i = 0; i < inf->nsections; i++) {
        const inf_section *s = &inf->sections[i];
        if (strcasecmp(s->name, "Strings") == 0)
            continue;
        for (unsigned k = 0; k < s->nlines; k++) {
            const char *u = undefined_in(inf, s->lines[k].key);
            for (unsigned f = 0; !u && f < s->lines[k].nfields; f++)
                u = undefined_in(inf, s->lines[k].field[f]);
            if (u)
                return u;
        }
    }
    return NULL;
}
