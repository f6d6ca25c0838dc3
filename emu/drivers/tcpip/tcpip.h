/*
 * tcpip.h - the control interface of the TCP/IP stand-in protocol driver:
 * what the scenario runner sends through emu_ctl_ioctl (as a user-mode tool
 * would use DeviceIoControl on a driver's control device).
 *
 * The stand-in binds like tcpip.sys (LowerRange ndis5: every adapter whose
 * UpperRange has ndis5), sets on each binding what tcpip.sys sets (lookahead,
 * multicast list, packet filter, OID_GEN_NETWORK_LAYER_ADDRESSES), announces
 * itself with a gratuitous ARP, answers ARP for its address, sends the
 * sequence-stamped UDP stream to the peer and logs the peer's stream.
 * Everything is counted per adapter (by instance name, kept across unbind
 * and rebind), so a test sees which adapters TCP/IP used.
 *
 * Sends go out of one binding, chosen as Windows picks a route among
 * interfaces on the same subnet by automatic metric: the running binding
 * with media connected and the highest link speed, the earliest bound on a
 * tie. Times in the logs are ns of the runtime's clock
 * (KeQueryPerformanceCounter), the same clock as the runner's.
 */
#ifndef TCPIP_STANDIN_H
#define TCPIP_STANDIN_H

#include <stdint.h>

#define TCPIP_DEVICE       "TcpipStandIn"
#define TCPIP_MAX_ADAPTERS 16
#define TCPIP_NAME_LEN     64

/* CTL_CODE(FILE_DEVICE_NETWORK, 0x880 + n, METHOD_BUFFERED, FILE_ANY_ACCESS), spelled
 * out so that user-mode tools need no DDK header. */
#define TCPIP_IOCTL(n)         ((0x12u << 16) | ((0x880u + (n)) << 2))
#define IOCTL_TCPIP_CONFIG     TCPIP_IOCTL(1) /* in: tcpip_config; resets logs and counters */
#define IOCTL_TCPIP_START      TCPIP_IOCTL(2) /* in: uint32_t datagrams per second */
#define IOCTL_TCPIP_STOP       TCPIP_IOCTL(3)
#define IOCTL_TCPIP_STATS      TCPIP_IOCTL(4) /* out: tcpip_stats */
#define IOCTL_TCPIP_READ_TX    TCPIP_IOCTL(5) /* in: uint64_t first seq; out: uint64_t send times */
#define IOCTL_TCPIP_READ_RX    TCPIP_IOCTL(6) /* in: uint64_t first entry; out: tcpip_arrival[] */
#define IOCTL_TCPIP_CLEAR_LOGS TCPIP_IOCTL(7)

typedef struct tcpip_config {
    uint32_t ip, netmask, peer_ip; /* host byte order */
    uint8_t peer_mac[6];           /* all zeros: resolve with ARP */
    uint16_t port, peer_port;      /* UDP; 0 = 5002 and 5001 */
    uint32_t stream;               /* stamped into what the guest sends */
    uint32_t payload;              /* UDP payload bytes; 0 = 64 */
    uint32_t log_capacity;         /* entries per log; 0 = 65536; at most 1048576 */
    /* Nonzero: seeds which stream datagrams go out as long MDL chains (about
     * one in four, 32..48 pieces), as Windows TCP/IP's often are. */
    uint32_t shape_seed;
    /* Nonzero: each tick also one TCP large send of this many payload bytes
     * (at most 60000), in Windows' LSOv2 form (tcpip_shape.c), when the
     * route's adapter offers LSOv2 for IPv4, and one 500-byte segment with
     * a TCP checksum offload request when it offers that. */
    uint32_t lso_bytes;
} tcpip_config;

typedef struct tcpip_arrival {
    uint64_t seq;
    uint64_t t_ns;
    uint32_t adapter; /* index into tcpip_stats.adapter */
    uint32_t reserved;
} tcpip_arrival;

typedef struct tcpip_adapter_stats {
    char name[TCPIP_NAME_LEN]; /* the adapter's instance name */
    uint8_t mac[6];
    uint8_t bound, running, media_connected, configured; /* configured: all OIDs done */
    uint32_t binds, unbinds;
    uint64_t link_speed;
    uint64_t tx, tx_ok, tx_failed, tx_seq; /* tx_seq: stream datagrams sent on it */
    uint64_t rx_frames, rx_seq, rx_arp, rx_other;
    uint64_t link_downs, link_ups, status_indications; /* media disconnect/connect indications */
    /* The offloads it offers: at bind (bind parameters), then as it indicates
     * changes (NDIS_STATUS_TASK_OFFLOAD_CURRENT_CONFIG, counted) */
    uint8_t csum_tx_tcp4, lso_v2_ip4, lso_v2_ip6, rss_queues;
    uint64_t offload_changes;
    uint64_t oid_failures; /* OIDs the adapter refused (NOT_SUPPORTED included) */
    uint32_t last_oid_failed;
    uint32_t packet_filter;
    /* When the last binding to it was opened and when the last one was
     * closed (runtime clock, ns; 0 = never): the span TCP/IP had an
     * interface on it. */
    uint64_t bound_ns, unbound_ns;
} tcpip_adapter_stats;

typedef struct tcpip_stats {
    uint64_t seq_sent;     /* stream datagrams handed to NDIS (= entries of the TX log) */
    uint64_t seq_not_sent; /* ticks with no route: nothing bound/running or peer unresolved */
    uint64_t seq_received;
    uint64_t log_overflow; /* entries that did not fit a log */
    uint64_t arp_replies, arp_requests, garps;
    uint32_t peer_resolved, sending;
    uint32_t n_adapters;
    uint32_t tx_adapter;               /* index of the adapter the last datagram left on; ~0 none */
    uint64_t chains_sent;              /* stream datagrams sent as MDL chains of 32 or more */
    uint64_t lso_sent, lso_bytes_sent; /* large sends and their TCP payload bytes */
    uint64_t csum_sent;                /* TCP segments with a checksum offload request */
    uint64_t tcp_bytes_sent;           /* TCP payload bytes of both kinds */
    uint64_t lso_not_offered;          /* ticks with no LSOv2 on the route */
    uint64_t lso_bad_completions;      /* completed with the LSOv2 info not reset */
    tcpip_adapter_stats adapter[TCPIP_MAX_ADAPTERS];
} tcpip_stats;

#endif /* TCPIP_STANDIN_H */
