/*
 * seqstat.c - see seqstat.h.
 */
#include "seqstat.h"

#include <stdlib.h>
#include <string.h>

void emu_seqlog_init(emu_seqlog *log)
{
    memset(log, 0, sizeof(*log));
}

void emu_seqlog_free(emu_seqlog *log)
{
    free(log->sent_ns);
    free(log->arr);
    emu_seqlog_init(log);
}

void emu_seqlog_reset(emu_seqlog *log)
{
    log->n_sent = log->n_arr = 0;
    log->dropped = 0;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 1024;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

uint64_t emu_seqlog_sent(emu_seqlog *log, uint64_t t_ns)
{
    uint64_t seq = log->n_sent;
    if (!grow((void **)&log->sent_ns, &log->cap_sent, log->n_sent + 1, sizeof(uint64_t))) {
        log->dropped++;
        return seq;
    }
    log->sent_ns[log->n_sent++] = t_ns;
    return seq;
}

void emu_seqlog_arrived(emu_seqlog *log, uint64_t seq, uint64_t t_ns, uint32_t path)
{
    if (!grow((void **)&log->arr, &log->cap_arr, log->n_arr + 1, sizeof(emu_seq_arrival))) {
        log->dropped++;
        return;
    }
    log->arr[log->n_arr++] = (emu_seq_arrival){ .seq = seq, .t_ns = t_ns, .path = path };
}

static bool in_window(uint64_t t, uint64_t from, uint64_t to)
{
    return t >= from && t < to;
}

/* Lost packets and the longest burst among the packets sent in the window. */
static void count_losses(const uint64_t *sent_ns, size_t n_sent, const uint8_t *seen, uint64_t from,
                         uint64_t to, emu_seqstat *out)
{
    uint64_t run = 0;
    for (size_t s = 0; s < n_sent; s++) {
        if (!in_window(sent_ns[s], from, to)) {
            run = 0;
            continue;
        }
        out->sent++;
        if (seen[s]) {
            out->received++;
            run = 0;
            continue;
        }
        out->lost++;
        if (++run > out->longest_burst) {
            out->longest_burst = run;
            out->burst_first_seq = s + 1 - run;
        }
    }
}

static void note_gap(emu_seqstat *out, uint64_t start, uint64_t end, uint64_t from, uint64_t to)
{
    if (end > start && in_window(start, from, to) && end - start > out->longest_gap_ns) {
        out->longest_gap_ns = end - start;
        out->gap_start_ns = start;
    }
}

void emu_seqstat_window(const uint64_t *sent_ns, size_t n_sent, const emu_seq_arrival *arr,
                        size_t n_arr, uint64_t from_ns, uint64_t to_ns, emu_seqstat *out)
{
    memset(out, 0, sizeof(*out));
    uint8_t *seen = n_sent ? calloc(n_sent, 1) : NULL;
    if (n_sent && !seen)
        return;
    uint64_t highest = 0, prev_t = n_sent ? sent_ns[0] : 0;
    bool any = false;
    for (size_t i = 0; i < n_arr; i++) {
        const emu_seq_arrival *a = &arr[i];
        if (a->seq >= n_sent) {
            out->out_of_range++;
            continue;
        }
        bool counted = in_window(sent_ns[a->seq], from_ns, to_ns);
        if (seen[a->seq]) {
            out->duplicates += counted;
        } else {
            if (any && a->seq < highest)
                out->reorders += counted;
            seen[a->seq] = 1;
        }
        if (!any || a->seq > highest)
            highest = a->seq;
        any = true;
        note_gap(out, prev_t, a->t_ns, from_ns, to_ns);
        prev_t = a->t_ns;
    }
    if (n_sent)
        note_gap(out, prev_t, sent_ns[n_sent - 1], from_ns, to_ns);
    count_losses(sent_ns, n_sent, seen, from_ns, to_ns, out);
    free(seen);
}

void emu_seqstat_compute(const uint64_t *sent_ns, size_t n_sent, const emu_seq_arrival *arr,
                         size_t n_arr, emu_seqstat *out)
{
    emu_seqstat_window(sent_ns, n_sent, arr, n_arr, 0, UINT64_MAX, out);
}

void emu_seqstat_path(const emu_seq_arrival *arr, size_t n_arr, uint32_t path, uint64_t from_ns,
                      uint64_t to_ns, emu_seqpath *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < n_arr; i++) {
        if (arr[i].path != path || !in_window(arr[i].t_ns, from_ns, to_ns))
            continue;
        if (!out->received++)
            out->first_ns = arr[i].t_ns;
        out->last_ns = arr[i].t_ns;
    }
}
