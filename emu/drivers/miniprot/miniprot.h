/*
 * miniprot.h - the minimal test protocol's control-device interface: what a
 * test sends through emu_ctl_ioctl (the way a user-mode tool would use
 * DeviceIoControl on a protocol's control device).
 */
#ifndef MINIPROT_H
#define MINIPROT_H

#define MINIPROT_DEVICE "MiniProt"

#define MINIPROT_IOCTL(n) \
    CTL_CODE(FILE_DEVICE_NETWORK, 0x800 + (n), METHOD_BUFFERED, FILE_ANY_ACCESS)
#define IOCTL_MINIPROT_SEND        MINIPROT_IOCTL(1) /* in: frame; sends on the first running binding */
#define IOCTL_MINIPROT_STATS       MINIPROT_IOCTL(2) /* out: miniprot_stats */
#define IOCTL_MINIPROT_SET_FILTER  MINIPROT_IOCTL(3) /* in: ULONG; OID set, completes when done */
#define IOCTL_MINIPROT_QUERY_MAC   MINIPROT_IOCTL(4) /* out: 6 bytes via OID query */
#define IOCTL_MINIPROT_VETO        MINIPROT_IOCTL(5) /* in: ULONG; 1 = veto query-remove */
#define IOCTL_MINIPROT_QUERY_MEDIA MINIPROT_IOCTL(6) /* out: ULONG OID_GEN_MEDIA_CONNECT_STATUS */
#define IOCTL_MINIPROT_CANCEL      MINIPROT_IOCTL(7) /* NdisCancelSendNetBufferLists on a binding */
/* in: ULONG 0 = plain sends, 1 = LSOv1, 2 = LSOv2 (MSS MINIPROT_LSO_MSS, the TCP
 * header at MINIPROT_LSO_TCP_OFFSET: an IPv4 frame without options) */
#define IOCTL_MINIPROT_SET_LSO  MINIPROT_IOCTL(8)
#define MINIPROT_LSO_MSS        536
#define MINIPROT_LSO_TCP_OFFSET 34
/* Any OID request on the first open binding (running or paused, as NDIS
 * allows): in: miniprot_oid then its input bytes; out: miniprot_oid_result
 * then the InformationBuffer as the miniport left it. The IRP pends until
 * the request completes. */
#define IOCTL_MINIPROT_OID MINIPROT_IOCTL(9)

/* Benchmarks (miniprot_burst.c). BURST: in miniprot_burst; sends `frames`
 * NBLs of `len` bytes (each `head` then zeros) on the first open binding,
 * `list` NBLs per NdisSendNetBufferLists, at most `inflight` in flight
 * (allocated before and freed after the measured loop); completes when all
 * came back. out: miniprot_burst_result (ns: the loop, from the first send
 * to the last completion, KeQueryPerformanceCounter). RX_INLINE: in ULONG;
 * 1 = return receives from the receive call instead of holding them for
 * the return timer (as a protocol that consumes them at once). */
#define IOCTL_MINIPROT_BURST     MINIPROT_IOCTL(10)
#define IOCTL_MINIPROT_RX_INLINE MINIPROT_IOCTL(11)
#define MINIPROT_BURST_MAX       1024u
/* SELECT: in ULONG IfIndex; the control device's sends and OID requests
 * use only the binding to the adapter with that IfIndex (0: any, the
 * default). BINDING_RX: in ULONG IfIndex, out ULONG64: NBLs received on
 * the binding to that adapter (STATUS_NOT_FOUND: no such binding). */
#define IOCTL_MINIPROT_SELECT     MINIPROT_IOCTL(12)
#define IOCTL_MINIPROT_BINDING_RX MINIPROT_IOCTL(13)
/* TRICKLE: in miniprot_trickle; sends `frames` frames of head, one every
 * period_ms, from a timer (STATUS_DEVICE_BUSY while one runs). */
#define IOCTL_MINIPROT_TRICKLE MINIPROT_IOCTL(14)
#define MINIPROT_TRICKLE_LEN   60u
typedef struct miniprot_trickle {
    unsigned int frames, period_ms;
    unsigned char head[MINIPROT_TRICKLE_LEN];
} miniprot_trickle;
typedef struct miniprot_burst {
    unsigned int frames, len, list, inflight;
    unsigned char head[64];
} miniprot_burst;
typedef struct miniprot_burst_result {
    unsigned long long sent, completed, ok, ns;
} miniprot_burst_result;

#define MINIPROT_OID_MAX_BUF 65536u
typedef struct miniprot_oid {
    unsigned int type; /* NDIS_REQUEST_TYPE: query, set or method */
    unsigned int oid;
    unsigned int method_id;
    unsigned int buf_len; /* InformationBufferLength (method: OutputBufferLength);
                           * 0: a NULL InformationBuffer */
    unsigned int in_len;  /* bytes that follow, copied to the buffer's start
                           * (method: InputBufferLength) */
} miniprot_oid;

typedef struct miniprot_oid_result {
    int status; /* NDIS_STATUS */
    unsigned int written, read, needed;
} miniprot_oid_result;

typedef struct miniprot_stats {
    unsigned long long sent, send_ok, send_failed, received, rx_bytes;
    unsigned long long binds, unbinds, pauses, restarts, power_events, status_events;
    unsigned int bound; /* bindings currently open */
    unsigned int last_len;
    unsigned char last_frame[64];
    unsigned long long global_events; /* PnP events with a NULL binding context */
    unsigned long long last_rx_ns;    /* KeQueryPerformanceCounter at the last receive */
    unsigned long long resets;        /* NDIS_STATUS_RESET_START indications */
    unsigned long long send_refused;  /* sends not made: no running binding, or a reset */
} miniprot_stats;

#endif /* MINIPROT_H */
