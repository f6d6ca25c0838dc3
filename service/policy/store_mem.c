/* The memory store (vsvc_store.h): tests and ndisemu scenarios. */
#include <stdlib.h>
#include <string.h>

#include "vsvc_store.h"

struct vsvc_mem_store {
    size_t capacity;
    size_t count;
    struct vsvc_store_record *records;
};

struct vsvc_mem_store *vsvc_mem_store_new(size_t capacity)
{
    struct vsvc_mem_store *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->records = calloc(capacity ? capacity : 1, sizeof(*s->records));
    if (s->records == NULL) {
        free(s);
        return NULL;
    }
    s->capacity = capacity;
    return s;
}

void vsvc_mem_store_free(struct vsvc_mem_store *s)
{
    if (s != NULL)
        free(s->records);
    free(s);
}

size_t vsvc_mem_store_count(const struct vsvc_mem_store *s)
{
    return s->count;
}

const struct vsvc_store_record *vsvc_mem_store_at(const struct vsvc_mem_store *s, size_t i)
{
    return i < s->count ? &s->records[i] : NULL;
}

static struct vsvc_store_record *mem_find(struct vsvc_mem_store *s, const char *adapter_id,
                                          const char *path)
{
    size_t i;
    for (i = 0; i < s->count; i++) {
        if (strcmp(s->records[i].adapter_id, adapter_id) == 0 &&
            strcmp(s->records[i].path, path) == 0)
            return &s->records[i];
    }
    return NULL;
}

static int mem_load(void *ctx, struct vsvc_store_record *out, size_t cap, size_t *count,
                    size_t *bad)
{
    struct vsvc_mem_store *s = ctx;
    *bad = 0;
    *count = 0;
    if (s->count > cap)
        return VSVC_E_FULL;
    memcpy(out, s->records, s->count * sizeof(*out));
    *count = s->count;
    return VSVC_OK;
}

static int mem_put(void *ctx, const struct vsvc_store_record *rec)
{
    struct vsvc_mem_store *s = ctx;
    struct vsvc_store_record *r = mem_find(s, rec->adapter_id, rec->path);
    if (r == NULL) {
        if (s->count == s->capacity)
            return VSVC_E_FULL;
        r = &s->records[s->count++];
    }
    *r = *rec;
    return VSVC_OK;
}

static int mem_remove(void *ctx, const char *adapter_id, const char *path)
{
    struct vsvc_mem_store *s = ctx;
    struct vsvc_store_record *r = mem_find(s, adapter_id, path);
    if (r != NULL)
        *r = s->records[--s->count];
    return VSVC_OK;
}

const struct vsvc_store_ops vsvc_mem_store_ops = {
    .load = mem_load,
    .put = mem_put,
    .remove = mem_remove,
};
