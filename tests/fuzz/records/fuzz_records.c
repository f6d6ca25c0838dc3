/*
 * vfosvc's records store as the policy reads it at start (vsvc_policy_start:
 * every record a back end returns is canonicalized and de-duplicated, the
 * rest counted as bad) and then acts on (reconcile: restore what a record
 * says once its VF stays unpaired). The store is what a previous run, a
 * crash half-way, an older version or an administrator with regedit left
 * behind: any adapter id, any binding path, any enabled flag, duplicates,
 * records of adapters that exist and of ones that do not. The fakes of
 * tests/service_policy stand for INetCfg and the registry. (The Windows
 * back end's own value-name parsing, service/win/store_reg.c, needs the
 * registry API and is not reached here.)
 *
 * Input: byte 0: pairing choices; then NUL-separated (id, path, flag)
 * triples. Checked: the policy keeps at most one record per key, never more
 * than the store held, and reconcile answers OK or a documented error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "world.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_INPUT 4096

/* Next NUL-terminated string of buf[*pos..len] (buf[len] is a NUL). */
static const char *next_str(const char *buf, size_t len, size_t *pos)
{
    const char *s = buf + *pos;
    if (*pos >= len)
        return "";
    *pos += strlen(s) + 1; /* buf[len] is a NUL */
    return s;
}

/* Copies what fits of src into dst[cap], always NUL-terminated. */
static void copy_cut(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void fill_store(struct world *w, const char *buf, size_t len)
{
    size_t pos = 0;
    while (pos < len) {
        struct vsvc_store_record r;
        memset(&r, 0, sizeof(r));
        copy_cut(r.adapter_id, sizeof(r.adapter_id), next_str(buf, len, &pos));
        copy_cut(r.path, sizeof(r.path), next_str(buf, len, &pos));
        r.was_enabled = (next_str(buf, len, &pos)[0] & 1) != 0;
        if (vsvc_mem_store_ops.put(w->store.mem, &r) != VSVC_OK)
            break;
    }
}

static void check_records(const struct world *w, size_t stored)
{
    size_t n = 0;
    while (vsvc_policy_record_at(w->p, n))
        n++;
    if (n > stored)
        abort();
    for (size_t i = 0; i < n; i++) {
        const struct vsvc_store_record *a = vsvc_policy_record_at(w->p, i);
        if (!memchr(a->adapter_id, '\0', sizeof(a->adapter_id)) ||
            !memchr(a->path, '\0', sizeof(a->path)))
            abort();
        for (size_t k = i + 1; k < n; k++) {
            const struct vsvc_store_record *b = vsvc_policy_record_at(w->p, k);
            if (!strcmp(a->adapter_id, b->adapter_id) && !strcmp(a->path, b->path))
                abort();
        }
    }
}

static void check_rc(int rc)
{
    if (rc != VSVC_OK && rc != VSVC_E_BUSY && rc != VSVC_E_IO && rc != VSVC_E_FULL)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char buf[MAX_INPUT + 1];
    if (size == 0)
        return 0;
    uint8_t choice = data[0];
    size_t len = size - 1 < MAX_INPUT ? size - 1 : MAX_INPUT;
    memcpy(buf, data + 1, len);
    buf[len] = '\0';
    struct world *w = world_new(choice & 1);
    fill_store(w, buf, len);
    size_t stored = vsvc_mem_store_count(w->store.mem);
    world_restart(w); /* the policy loads the store */
    check_records(w, stored);
    if (choice & 2)
        world_pair(w, V1, MAC1, VFO_CTL_PAIR_ACTIVE, F1);
    check_rc(world_reconcile(w));
    check_records(w, vsvc_mem_store_count(w->store.mem));
    if (choice & 4) {
        world_unpair_all(w);
        w->now += (uint64_t)w->cfg.restore_grace_ms * 2 + 1000;
        check_rc(world_reconcile(w));
        check_records(w, vsvc_mem_store_count(w->store.mem));
    }
    if (choice & 8) {
        struct vsvc_reconcile_result res;
        check_rc(vsvc_policy_restore_all(w->p, w->now, &res));
    }
    world_free(w);
    return 0;
}
