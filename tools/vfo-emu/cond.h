/*
 * cond.h - the conditions of "expect" and "wait": "<subject> <op> <value>",
 * where the subject names something observable in the world
 * (docs/scenarios.md lists them) and the value is a number, a duration or
 * a word.
 */
#ifndef VFO_EMU_COND_H
#define VFO_EMU_COND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "world.h"

typedef struct cval {
    bool is_num;
    uint64_t num;
    char str[64];
} cval;

/* Sets a subject's value: a number or a word. */
void cond_set_num(cval *v, uint64_t n);
void cond_set_word(cval *v, const char *s);

/* Evaluates a subject; -1 with a message for an unknown one. */
int cond_subject(world *w, const char *subject, cval *out, char *err, size_t errlen);
/* "save NAME SUBJECT": keeps a number, read back as saved.NAME. */
int cond_save(world *w, const char *name, const char *subject, char *err, size_t errlen);
/* 1 true, 0 false, -1 error (message in err). `seen` gets the subject's value. */
int cond_check(world *w, const char *subject, const char *op, const char *value, char *seen,
               size_t seenlen, char *err, size_t errlen);

#endif /* VFO_EMU_COND_H */
