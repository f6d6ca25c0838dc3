/*
 * evq.h - a queue from a thread of our own (a socket's, a device's) to
 * ndisemu's real-time scheduler: items pushed in order are handed to one
 * drain function as platform work, in order and never concurrently.
 */
#ifndef EMU_EVQ_H
#define EMU_EVQ_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "ndisemu/emu.h"

typedef struct evq_item {
    struct evq_item *next;
    size_t len;
    unsigned char data[];
} evq_item;

typedef void (*evq_fn)(void *ctx, const void *data, size_t len);

typedef struct evq {
    emu_runtime *rt;
    pthread_mutex_t mu;
    evq_item *head, *tail;
    bool scheduled;
    unsigned pending, max_pending;
    evq_fn fn;
    void *ctx;
    unsigned long long dropped; /* pushed while max_pending were waiting */
} evq;

void evq_init(evq *q, emu_runtime *rt, unsigned max_pending, evq_fn fn, void *ctx);
/* Copies data; false (and counted) when the queue is full or memory is out. */
bool evq_push(evq *q, const void *data, size_t len);
/* Drops what is queued; the caller makes sure no drain runs any more. */
void evq_clear(evq *q);

#endif /* EMU_EVQ_H */
