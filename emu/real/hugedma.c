/*
 * hugedma.c - hugepage-backed DMA memory with physical addresses (hugedma.h).
 *
 * A first-fit allocator over 256-byte chunks of each hugepage: the blocks
 * vfo-style drivers ask for are rings (KiBs, at initialization) and send
 * bounce blocks (one frame, short-lived), so a bitmap scan is plenty.
 */
#include "hugedma.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define HUGE_SIZE    (2u << 20)
#define CHUNK        256u
#define CHUNKS       (HUGE_SIZE / CHUNK)
#define PFN_MASK     ((1ull << 55) - 1)
#define PAGE_PRESENT (1ull << 63)

typedef struct huge_page {
    bool own_mapping; /* munmap it (else a slice of pages[0]'s mapping) */
    uint8_t *va;
    uint64_t pa;
    uint8_t used[CHUNKS]; /* 0 free; else the run length's first chunk holds 2, the rest 1 */
} huge_page;

struct emu_hugedma {
    pthread_mutex_t mu;
    unsigned n;
    huge_page *pages;
    emu_dma_ops ops;
    uint64_t live, failed;
    size_t mapped_len; /* create_mapped: one mapping of all pages, owned by pages[0] */
};

static int phys_of(const void *va, uint64_t *pa, char *err, size_t errlen)
{
    int fd = open("/proc/self/pagemap", O_RDONLY);
    if (fd < 0) {
        snprintf(err, errlen, "/proc/self/pagemap: %s", strerror(errno));
        return -1;
    }
    uint64_t entry = 0;
    off_t off = (off_t)((uintptr_t)va / 4096) * 8;
    ssize_t n = pread(fd, &entry, sizeof(entry), off);
    close(fd);
    if (n != (ssize_t)sizeof(entry) || !(entry & PAGE_PRESENT)) {
        snprintf(err, errlen, "hugepage not resident in /proc/self/pagemap");
        return -1;
    }
    if ((entry & PFN_MASK) == 0) {
        snprintf(err, errlen,
                 "/proc/self/pagemap hides physical frames: run as root (CAP_SYS_ADMIN)");
        return -1;
    }
    *pa = (entry & PFN_MASK) * 4096;
    return 0;
}

static void *block_alloc(void *ctx, size_t len, uint64_t *dev_addr)
{
    emu_hugedma *h = ctx;
    size_t need = (len + CHUNK - 1) / CHUNK;
    if (len == 0 || need > CHUNKS)
        return NULL;
    void *va = NULL;
    pthread_mutex_lock(&h->mu);
    for (unsigned p = 0; p < h->n && !va; p++) {
        huge_page *hp = &h->pages[p];
        for (size_t i = 0, run = 0; i < CHUNKS; i++) {
            run = hp->used[i] ? 0 : run + 1;
            if (run == need) {
                size_t first = i + 1 - need;
                memset(&hp->used[first], 1, need);
                hp->used[first] = 2;
                va = hp->va + first * CHUNK;
                *dev_addr = hp->pa + first * CHUNK;
                break;
            }
        }
    }
    if (va)
        h->live++;
    else
        h->failed++;
    pthread_mutex_unlock(&h->mu);
    return va;
}

static void block_free(void *ctx, void *va, size_t len)
{
    emu_hugedma *h = ctx;
    (void)len;
    pthread_mutex_lock(&h->mu);
    for (unsigned p = 0; p < h->n; p++) {
        huge_page *hp = &h->pages[p];
        if ((uint8_t *)va < hp->va || (uint8_t *)va >= hp->va + HUGE_SIZE)
            continue;
        size_t i = (size_t)((uint8_t *)va - hp->va) / CHUNK;
        if (hp->used[i] == 2) {
            hp->used[i] = 0;
            for (i++; i < CHUNKS && hp->used[i] == 1; i++)
                hp->used[i] = 0;
            h->live--;
        }
        break;
    }
    pthread_mutex_unlock(&h->mu);
}

emu_hugedma *emu_hugedma_create(unsigned pages, char *err, size_t errlen)
{
    emu_hugedma *h = calloc(1, sizeof(*h));
    if (!h || pages == 0 || !(h->pages = calloc(pages, sizeof(*h->pages)))) {
        snprintf(err, errlen, "out of memory");
        free(h);
        return NULL;
    }
    pthread_mutex_init(&h->mu, NULL);
    for (; h->n < pages; h->n++) {
        void *va =
            mmap(NULL, HUGE_SIZE, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_LOCKED | MAP_POPULATE, -1, 0);
        if (va == MAP_FAILED) {
            snprintf(err, errlen,
                     "no free 2 MiB hugepage (%u of %u mapped: %s): echo %u > "
                     "/proc/sys/vm/nr_hugepages",
                     h->n, pages, strerror(errno), pages);
            emu_hugedma_destroy(h);
            return NULL;
        }
        h->pages[h->n].va = va;
        h->pages[h->n].own_mapping = true;
        if (phys_of(va, &h->pages[h->n].pa, err, errlen)) {
            h->n++;
            emu_hugedma_destroy(h);
            return NULL;
        }
    }
    h->ops.alloc = block_alloc;
    h->ops.free = block_free;
    h->ops.ctx = h;
    return h;
}

emu_hugedma *emu_hugedma_create_mapped(unsigned pages, uint64_t iova, emu_dma_map_fn map,
                                       void *map_ctx, char *err, size_t errlen)
{
    emu_hugedma *h = calloc(1, sizeof(*h));
    if (!h || pages == 0 || !(h->pages = calloc(pages, sizeof(*h->pages)))) {
        snprintf(err, errlen, "out of memory");
        free(h);
        return NULL;
    }
    pthread_mutex_init(&h->mu, NULL);
    size_t len = (size_t)pages * HUGE_SIZE;
    uint8_t *va =
        mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (va == MAP_FAILED) {
        snprintf(err, errlen, "%zu bytes of DMA memory: %s", len, strerror(errno));
        emu_hugedma_destroy(h);
        return NULL;
    }
    h->mapped_len = len;
    for (; h->n < pages; h->n++) {
        h->pages[h->n].va = va + (size_t)h->n * HUGE_SIZE;
        h->pages[h->n].pa = iova + (uint64_t)h->n * HUGE_SIZE;
    }
    h->pages[0].own_mapping = true;
    if (map(map_ctx, va, len, iova, err, errlen)) {
        emu_hugedma_destroy(h);
        return NULL;
    }
    h->ops.alloc = block_alloc;
    h->ops.free = block_free;
    h->ops.ctx = h;
    return h;
}

void emu_hugedma_destroy(emu_hugedma *h)
{
    if (!h)
        return;
    for (unsigned p = 0; p < h->n; p++) {
        if (h->pages[p].own_mapping)
            munmap(h->pages[p].va, p == 0 && h->mapped_len ? h->mapped_len : HUGE_SIZE);
    }
    pthread_mutex_destroy(&h->mu);
    free(h->pages);
    free(h);
}

const emu_dma_ops *emu_hugedma_ops(emu_hugedma *h)
{
    return &h->ops;
}

void emu_hugedma_usage(emu_hugedma *h, uint64_t *live_blocks, uint64_t *failed)
{
    pthread_mutex_lock(&h->mu);
    *live_blocks = h->live;
    *failed = h->failed;
    pthread_mutex_unlock(&h->mu);
}

void *emu_hugedma_va(emu_hugedma *h, uint64_t dev_addr, size_t len)
{
    for (unsigned p = 0; p < h->n; p++) {
        uint64_t pa = h->pages[p].pa;
        if (dev_addr >= pa && len <= HUGE_SIZE && dev_addr - pa <= HUGE_SIZE - len)
            return h->pages[p].va + (dev_addr - pa);
    }
    return NULL;
}
