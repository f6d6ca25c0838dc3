/*
 * vnet_types.h - lib/vnet status codes and statistics.
 */
#ifndef VNET_TYPES_H
#define VNET_TYPES_H

#include <stdint.h>

/* Every lib/vnet function that can fail returns one of these. The VNET_E_RX_*
 * and VNET_E_CFG_* codes are verdicts on what the device handed over: each
 * has its own counter (vnet_stats) and is also kept as the last error of its
 * path, so a frame or value can be dropped without a return code. */
typedef enum vnet_status {
    VNET_OK = 0,
    VNET_E_EMPTY,            /* nothing pending */
    VNET_E_INVAL,            /* bad argument from the OS layer */
    VNET_E_NOMEM,            /* the OS could not provide memory */
    VNET_E_STATE,            /* not valid in the adapter's state (not started, stopped, ...) */
    VNET_E_UNSUPPORTED,      /* needs a feature that was not negotiated */
    VNET_E_NOT_NET,          /* the device is not a virtio network device */
    VNET_E_VIRTIO,           /* lib/virtio failed; vnet_last_vio_status() says how */
    VNET_E_BROKEN,           /* a queue was broken by the device; reset the adapter */
    VNET_E_RING_FULL,        /* transmit back-pressure: retry after completions */
    VNET_E_BUSY,             /* every control-command slot is in use */
    VNET_E_TIMEOUT,          /* the device did not answer a control command in time */
    VNET_E_CANCELLED,        /* the command or frame was dropped by a stop or reset */
    VNET_E_CTRL_REJECTED,    /* the device answered VIRTIO_NET_ERR */
    VNET_E_CTRL_BAD_ACK,     /* the ack byte is neither OK nor ERR */
    VNET_E_CTRL_NO_ACK,      /* the device returned the command without writing the ack */
    VNET_E_TX_TOO_MANY_SEGS, /* more segments than one frame may use */
    VNET_E_TX_LENGTH,        /* frame shorter than a header or longer than MTU/TSO allow */
    VNET_E_TX_OFFLOAD,       /* offload request inconsistent with the frame */
    VNET_E_RX_RUNT,          /* used length shorter than the virtio header */
    VNET_E_RX_NUM_BUFFERS,   /* num_buffers 0, > 1 without MRG_RXBUF, or > VNET_RX_MAX_SEGS */
    VNET_E_RX_FRAME_SHORT,   /* frame shorter than an Ethernet header */
    VNET_E_RX_FRAME_LONG,    /* frame longer than the MTU (or GSO) allows */
    VNET_E_RX_GSO,           /* gso_type unknown or not negotiated, or gso_size 0 */
    VNET_E_RX_CSUM,          /* NEEDS_CSUM with csum_start/offset outside the frame */
    VNET_E_RX_FLAGS,         /* checksum flags although GUEST_CSUM was not negotiated */
    VNET_E_CFG_MAC,          /* permanent MAC is multicast or all zeroes */
    VNET_E_CFG_MTU,          /* mtu outside 68..65535 */
    VNET_E_CFG_MTU_CHANGED,  /* mtu changed after it was set */
    VNET_E_CFG_SPEED,        /* speed above 0x7fffffff and not "unknown" */
    VNET_E_CFG_DUPLEX,       /* duplex neither half, full nor unknown */
    VNET_E_CFG_STATUS,       /* status bits outside LINK_UP and ANNOUNCE */
    VNET_E_CFG_ANNOUNCE,     /* ANNOUNCE set although GUEST_ANNOUNCE was not negotiated */
    VNET_E_CFG_READ,         /* the configuration could not be read consistently */
    VNET_STATUS_COUNT
} vnet_status;

/* A stable, human-readable name ("VNET_E_RX_RUNT") for logs and tests. */
const char *vnet_status_name(vnet_status status);

typedef struct vnet_rx_stats {
    uint64_t frames; /* delivered to the OS */
    uint64_t bytes;
    uint64_t buffers;        /* used buffers taken from the device */
    uint64_t merged;         /* frames that spanned more than one buffer */
    uint64_t csum_valid;     /* delivered with VNET_RXF_CSUM_VALID */
    uint64_t csum_partial;   /* delivered with VNET_RXF_CSUM_PARTIAL */
    uint64_t csum_completed; /* partial checksums completed in software */
    uint64_t gso;            /* delivered with VNET_RXF_GSO */
    uint64_t vlan;           /* delivered with VNET_RXF_VLAN */
    uint64_t dropped;        /* frames dropped for any verdict below */
    uint64_t err_runt;
    uint64_t err_num_buffers;
    uint64_t err_frame_short;
    uint64_t err_frame_long;
    uint64_t err_gso;
    uint64_t err_csum;
    uint64_t err_flags;  /* counted; the frame is still delivered, unflagged */
    uint64_t bad_return; /* vnet_rx_return of a handle the OS does not own */
    uint64_t kicks;
} vnet_rx_stats;

typedef struct vnet_tx_stats {
    uint64_t frames; /* accepted by vnet_tx */
    uint64_t bytes;
    uint64_t completed; /* tx_done callbacks */
    uint64_t copied;    /* small frames copied next to the header (one descriptor) */
    uint64_t indirect;  /* frames sent through an indirect table */
    uint64_t csum;      /* frames with a checksum offload request */
    uint64_t tso;       /* frames with a segmentation offload request */
    uint64_t vlan;      /* frames with a tag inserted */
    uint64_t ring_full; /* vnet_tx refused with VNET_E_RING_FULL */
    uint64_t resumes;   /* tx_resume callbacks after back-pressure */
    uint64_t err_segs;
    uint64_t err_length;
    uint64_t err_offload;
    uint64_t cancelled; /* frames returned by a stop */
    uint64_t kicks;
} vnet_tx_stats;

typedef struct vnet_ctrl_stats {
    uint64_t submitted;
    uint64_t ok;
    uint64_t rejected;
    uint64_t bad_ack;
    uint64_t no_ack;
    uint64_t timeouts;
    uint64_t late_answers; /* answers to commands that had already timed out */
    uint64_t cancelled;
    uint64_t busy; /* submissions refused with VNET_E_BUSY */
} vnet_ctrl_stats;

typedef struct vnet_cfg_stats {
    uint64_t refreshes;
    uint64_t link_changes;
    uint64_t announces; /* ANNOUNCE requests reported to the OS */
    uint64_t err_mac;
    uint64_t err_mtu;
    uint64_t err_mtu_changed;
    uint64_t err_speed;
    uint64_t err_duplex;
    uint64_t err_status;
    uint64_t err_announce;
    uint64_t err_read;
} vnet_cfg_stats;

typedef struct vnet_stats {
    vnet_rx_stats rx;
    vnet_tx_stats tx;
    vnet_ctrl_stats ctrl;
    vnet_cfg_stats cfg;
} vnet_stats;

#endif /* VNET_TYPES_H */
