/*
 * evq.c - an ordered hand-over queue to platform work (evq.h).
 */
#include "evq.h"

#include <stdlib.h>
#include <string.h>

void evq_init(evq *q, emu_runtime *rt, unsigned max_pending, evq_fn fn, void *ctx)
{
    memset(q, 0, sizeof(*q));
    q->rt = rt;
    q->max_pending = max_pending;
    q->fn = fn;
    q->ctx = ctx;
    pthread_mutex_init(&q->mu, NULL);
}

static void drain(void *arg)
{
    evq *q = arg;
    for (;;) {
        pthread_mutex_lock(&q->mu);
        evq_item *it = q->head;
        if (!it) {
            q->scheduled = false;
            pthread_mutex_unlock(&q->mu);
            return;
        }
        q->head = it->next;
        if (!q->head)
            q->tail = NULL;
        q->pending--;
        pthread_mutex_unlock(&q->mu);
        q->fn(q->ctx, it->data, it->len);
        free(it);
    }
}

bool evq_push(evq *q, const void *data, size_t len)
{
    evq_item *it = malloc(sizeof(*it) + len);
    pthread_mutex_lock(&q->mu);
    if (!it || q->pending >= q->max_pending) {
        q->dropped++;
        pthread_mutex_unlock(&q->mu);
        free(it);
        return false;
    }
    it->next = NULL;
    it->len = len;
    memcpy(it->data, data, len);
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->pending++;
    bool kick = !q->scheduled;
    q->scheduled = true;
    pthread_mutex_unlock(&q->mu);
    if (kick)
        emu_schedule(q->rt, 0, drain, q);
    return true;
}

void evq_clear(evq *q)
{
    pthread_mutex_lock(&q->mu);
    for (evq_item *it = q->head, *n; it; it = n) {
        n = it->next;
        free(it);
    }
    q->head = q->tail = NULL;
    q->pending = 0;
    pthread_mutex_unlock(&q->mu);
}
