/*
 * vsvc_store.h - the persistent memory of what the service changed.
 *
 * One record per binding the service changed: which binding (adapter id +
 * path, the binding graph's key) and the state it had before. The policy
 * writes a record BEFORE it changes the binding and deletes it only after
 * the original state is back, so a crash or reboot at any point leaves either
 * nothing changed or a record that lets the next run finish the job.
 *
 * Back ends: the registry on Windows (service/win/store_reg.c), memory in
 * tests and ndisemu (below). put() must be durable when it returns VSVC_OK.
 */
#ifndef VSVC_STORE_H
#define VSVC_STORE_H

#include "vsvc_common.h"

#define VSVC_STORE_MAX_RECORDS 1024

struct vsvc_store_record {
    char adapter_id[VSVC_ID_LEN];
    char path[VSVC_PATH_LEN];
    bool was_enabled; /* the binding's state before the service changed it */
};

struct vsvc_store_ops {
    /* All records, at most cap; VSVC_E_FULL when more exist. Records that
     * cannot be parsed are skipped by the back end and reported by count in
     * *bad (so the policy can log them). */
    int (*load)(void *ctx, struct vsvc_store_record *out, size_t cap, size_t *count, size_t *bad);
    /* Insert or replace the record with the same key. Durable on VSVC_OK. */
    int (*put)(void *ctx, const struct vsvc_store_record *rec);
    /* Delete by key; VSVC_OK when there was none. */
    int (*remove)(void *ctx, const char *adapter_id, const char *path);
    /* Optional (may be NULL): detail of the last failure, for the log. */
    const char *(*last_error)(void *ctx);
};

/* A memory store: outlives any policy that uses it, the way the registry
 * outlives a service process. */
struct vsvc_mem_store;

struct vsvc_mem_store *vsvc_mem_store_new(size_t capacity);
void vsvc_mem_store_free(struct vsvc_mem_store *s);
size_t vsvc_mem_store_count(const struct vsvc_mem_store *s);
const struct vsvc_store_record *vsvc_mem_store_at(const struct vsvc_mem_store *s, size_t i);
extern const struct vsvc_store_ops vsvc_mem_store_ops;

#endif /* VSVC_STORE_H */
