/*
 * peer.h - a host on the network the guest talks to.
 *
 * It answers ARP for its address, sends sequence-stamped UDP datagrams to
 * the guest at a configured rate and logs every send time, and logs every
 * sequence-stamped datagram it receives from the guest with its arrival
 * time and the switch port it entered on (the guest's path). The two logs
 * (emu_seqlog) feed seqstat's loss / gap / duplicate / reorder accounting.
 * It also counts the guest's announcements (gratuitous ARP, RARP).
 *
 * Runs as ndisemu platform work (emu_schedule), so its sends interleave
 * with the guest deterministically. The logs are read from the runner's
 * thread while the scheduler is not running (between emu_run_for calls).
 */
#ifndef EMU_PEER_H
#define EMU_PEER_H

#include <stdbool.h>
#include <stdint.h>

#include "ndisemu/emu.h"
#include "seqstat.h"
#include "vswitch.h"

typedef struct emu_peer emu_peer;

typedef struct emu_peer_cfg {
    uint8_t mac[6];
    uint32_t ip;
    uint32_t guest_ip;
    uint8_t guest_mac[6]; /* all zeros: resolve with ARP before sending */
    uint16_t port;        /* the peer's UDP port; 0 = 5001 */
    uint16_t guest_port;  /* the guest's; 0 = 5002 */
    uint32_t stream;      /* stamped into what the peer sends */
    uint32_t payload;     /* UDP payload bytes; 0 = 64 */
} emu_peer_cfg;

typedef struct emu_peer_stats {
    uint64_t frames_rx;
    uint64_t seq_rx;       /* sequence-stamped datagrams from the guest */
    uint64_t arp_replied;  /* requests for our address answered */
    uint64_t arp_requests; /* requests we sent to resolve the guest */
    uint64_t garp_rx;      /* gratuitous ARP (sender = target address) from anyone */
    uint64_t rarp_rx;
    uint64_t other_rx; /* frames that are none of the above */
    uint64_t bad_rx;   /* malformed ARP/IPv4/UDP, wrong checksums, foreign streams */
    uint64_t not_sent; /* ticks skipped: guest MAC not resolved yet */
    /* TCP from the guest, checked as a Linux host's ip_rcv / tcp_v4_rcv do:
     * good segments and their payload bytes; the ones dropped for a bad
     * IPv4 Total Length / data offset, or a bad IPv4 or TCP checksum */
    uint64_t tcp_rx, tcp_bytes, tcp_bad_len, tcp_bad_csum;
} emu_peer_stats;

emu_peer *emu_peer_create(emu_runtime *rt, const emu_peer_cfg *cfg);
/* Stops sending and disconnects; call with the scheduler idle. */
void emu_peer_destroy(emu_peer *p);
/* Connects the peer to a switch port (its station MAC is set too). */
void emu_peer_attach(emu_peer *p, emu_port *port);

/* Sends to the guest at pps datagrams per second until stopped. */
int emu_peer_start(emu_peer *p, uint32_t pps);
void emu_peer_stop(emu_peer *p);
/* Datagrams per tick, sent at one virtual instant (a flood); the rate stays
 * pps on average. 0 or 1: one per tick. */
void emu_peer_set_burst(emu_peer *p, uint32_t burst);
bool emu_peer_sending(emu_peer *p);

/* Peer -> guest: send times (arrivals are the guest's to log). */
const emu_seqlog *emu_peer_tx_log(emu_peer *p);
/* Guest -> peer: arrivals, path = switch port index they came in on. */
const emu_seqlog *emu_peer_rx_log(emu_peer *p);
void emu_peer_clear_logs(emu_peer *p);
void emu_peer_get_stats(emu_peer *p, emu_peer_stats *out);
bool emu_peer_guest_resolved(emu_peer *p);

#endif /* EMU_PEER_H */
