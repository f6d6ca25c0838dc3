/*
 * seqstat.h - accounting of a sequence-stamped stream: from the sender's log
 * (the send time of every sequence number, 0..n-1) and the receiver's log
 * (every arrival, in arrival order, with the path it came in on), what a run
 * lost, its longest burst of consecutive losses, the longest gap between
 * arrivals, duplicates and reorders; for the whole run and for time
 * windows (between two events of a scenario's timeline).
 *
 * Definitions (docs/scenarios.md repeats them):
 *  - lost: sequence numbers sent and never received;
 *  - longest loss burst: the most consecutive sequence numbers lost;
 *  - duplicate: an arrival of a sequence number that already arrived;
 *  - reorder: a first arrival of a sequence number lower than one that
 *    arrived before it;
 *  - longest gap: the longest time between consecutive arrivals, counting
 *    from the first send and up to the last send, so losses at either end
 *    of the stream show as a gap too.
 * A window [from, to) counts the packets sent in it (lost, bursts, arrivals
 * of those packets) and the gaps that start in it.
 *
 * Pure C, no OS dependency. Not thread-safe: the owner serializes.
 */
#ifndef EMU_SEQSTAT_H
#define EMU_SEQSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct emu_seq_arrival {
    uint64_t seq;
    uint64_t t_ns;
    uint32_t path; /* receiver-defined: adapter or switch port the packet came in on */
} emu_seq_arrival;

/* A growable log: the sender's send times or the receiver's arrivals. */
typedef struct emu_seqlog {
    uint64_t *sent_ns; /* sender: index = sequence number */
    size_t n_sent, cap_sent;
    emu_seq_arrival *arr; /* receiver: in arrival order */
    size_t n_arr, cap_arr;
    uint64_t dropped; /* entries that did not fit (allocation failed) */
} emu_seqlog;

void emu_seqlog_init(emu_seqlog *log);
void emu_seqlog_free(emu_seqlog *log);
void emu_seqlog_reset(emu_seqlog *log);
/* Sender side: the next sequence number is n_sent; returns it. */
uint64_t emu_seqlog_sent(emu_seqlog *log, uint64_t t_ns);
/* Receiver side. */
void emu_seqlog_arrived(emu_seqlog *log, uint64_t seq, uint64_t t_ns, uint32_t path);

typedef struct emu_seqstat {
    uint64_t sent;     /* packets sent in the window */
    uint64_t received; /* distinct packets of the window received */
    uint64_t lost;
    uint64_t longest_burst;   /* packets */
    uint64_t burst_first_seq; /* where that burst starts */
    uint64_t longest_gap_ns;
    uint64_t gap_start_ns; /* when that gap starts */
    uint64_t duplicates;
    uint64_t reorders;
    uint64_t out_of_range; /* arrivals of sequence numbers never sent (bad input) */
} emu_seqstat;

/* The whole stream: window [0, UINT64_MAX). */
void emu_seqstat_compute(const uint64_t *sent_ns, size_t n_sent, const emu_seq_arrival *arr,
                         size_t n_arr, emu_seqstat *out);
/* Packets sent in [from_ns, to_ns), gaps starting in it. */
void emu_seqstat_window(const uint64_t *sent_ns, size_t n_sent, const emu_seq_arrival *arr,
                        size_t n_arr, uint64_t from_ns, uint64_t to_ns, emu_seqstat *out);

/* Per path: arrivals on `path` in [from_ns, to_ns) (duplicates included),
 * and the first and last of them (0 when none). */
typedef struct emu_seqpath {
    uint64_t received;
    uint64_t first_ns, last_ns;
} emu_seqpath;
void emu_seqstat_path(const emu_seq_arrival *arr, size_t n_arr, uint32_t path, uint64_t from_ns,
                      uint64_t to_ns, emu_seqpath *out);

#endif /* EMU_SEQSTAT_H */
