/*
 * vnet_status.c - names of the status codes, for logs and test messages.
 */
#include "vnet_types.h"

static const char *const vnet_status_names[VNET_STATUS_COUNT] = {
    [VNET_OK] = "VNET_OK",
    [VNET_E_EMPTY] = "VNET_E_EMPTY",
    [VNET_E_INVAL] = "VNET_E_INVAL",
    [VNET_E_NOMEM] = "VNET_E_NOMEM",
    [VNET_E_STATE] = "VNET_E_STATE",
    [VNET_E_UNSUPPORTED] = "VNET_E_UNSUPPORTED",
    [VNET_E_NOT_NET] = "VNET_E_NOT_NET",
    [VNET_E_VIRTIO] = "VNET_E_VIRTIO",
    [VNET_E_BROKEN] = "VNET_E_BROKEN",
    [VNET_E_RING_FULL] = "VNET_E_RING_FULL",
    [VNET_E_BUSY] = "VNET_E_BUSY",
    [VNET_E_TIMEOUT] = "VNET_E_TIMEOUT",
    [VNET_E_CANCELLED] = "VNET_E_CANCELLED",
    [VNET_E_CTRL_REJECTED] = "VNET_E_CTRL_REJECTED",
    [VNET_E_CTRL_BAD_ACK] = "VNET_E_CTRL_BAD_ACK",
    [VNET_E_CTRL_NO_ACK] = "VNET_E_CTRL_NO_ACK",
    [VNET_E_TX_TOO_MANY_SEGS] = "VNET_E_TX_TOO_MANY_SEGS",
    [VNET_E_TX_LENGTH] = "VNET_E_TX_LENGTH",
    [VNET_E_TX_OFFLOAD] = "VNET_E_TX_OFFLOAD",
    [VNET_E_RX_RUNT] = "VNET_E_RX_RUNT",
    [VNET_E_RX_NUM_BUFFERS] = "VNET_E_RX_NUM_BUFFERS",
    [VNET_E_RX_FRAME_SHORT] = "VNET_E_RX_FRAME_SHORT",
    [VNET_E_RX_FRAME_LONG] = "VNET_E_RX_FRAME_LONG",
    [VNET_E_RX_GSO] = "VNET_E_RX_GSO",
    [VNET_E_RX_CSUM] = "VNET_E_RX_CSUM",
    [VNET_E_RX_FLAGS] = "VNET_E_RX_FLAGS",
    [VNET_E_CFG_MAC] = "VNET_E_CFG_MAC",
    [VNET_E_CFG_MTU] = "VNET_E_CFG_MTU",
    [VNET_E_CFG_MTU_CHANGED] = "VNET_E_CFG_MTU_CHANGED",
    [VNET_E_CFG_SPEED] = "VNET_E_CFG_SPEED",
    [VNET_E_CFG_DUPLEX] = "VNET_E_CFG_DUPLEX",
    [VNET_E_CFG_STATUS] = "VNET_E_CFG_STATUS",
    [VNET_E_CFG_ANNOUNCE] = "VNET_E_CFG_ANNOUNCE",
    [VNET_E_CFG_READ] = "VNET_E_CFG_READ",
};

const char *vnet_status_name(vnet_status status)
{
    if ((unsigned)status >= VNET_STATUS_COUNT || !vnet_status_names[status])
        return "VNET_E_UNKNOWN";
    return vnet_status_names[status];
}
