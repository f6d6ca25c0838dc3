/*
 * inf_parse.h - a small parser for Windows INF files, enough to check the
 * rules vfo's INFs rely on: sections, entries (key = value, or a bare
 * value list), comma-separated fields with quotes removed, comments, line
 * continuation, and %strkey% lookups in [Strings]. Section and key names
 * compare case-insensitively, as Windows compares them.
 */
#ifndef INF_PARSE_H
#define INF_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#define INF_MAX_FIELDS 8
#define INF_FIELD_LEN  160

typedef struct inf_line {
    char key[INF_FIELD_LEN]; /* "" for an entry without '=' */
    unsigned nfields;
    char field[INF_MAX_FIELDS][INF_FIELD_LEN]; /* the value part, split on ',' */
    unsigned lineno;
} inf_line;

typedef struct inf_section {
    char name[INF_FIELD_LEN];
    inf_line *lines;
    unsigned nlines;
} inf_section;

typedef struct inf_file {
    inf_section *sections;
    unsigned nsections;
    char error[256]; /* first syntax error, "" if none */
} inf_file;

/* 0 on success; -1 when the file cannot be read. Syntax errors are kept in
 * inf->error (the rest of the file is still parsed). */
int inf_load(const char *path, inf_file *inf);
void inf_free(inf_file *inf);

const inf_section *inf_section_find(const inf_file *inf, const char *name);
/* The first line with this key in the section, or NULL. */
const inf_line *inf_key(const inf_section *s, const char *key);
/* The value of [Strings] key (without the %), or NULL. */
const char *inf_string(const inf_file *inf, const char *key);
/* Every %token% used anywhere is defined in [Strings] (%% is a literal
 * percent). Returns NULL or the first undefined token. */
const char *inf_undefined_string(const inf_file *inf);

#endif
