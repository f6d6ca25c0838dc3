/*
 * vio_status.c - names of the status codes, for logs and test messages.
 */
#include "vio_types.h"

static const char *const vio_status_names[VIO_STATUS_COUNT] = {
    [VIO_OK] = "VIO_OK",
    [VIO_E_EMPTY] = "VIO_E_EMPTY",
    [VIO_E_INVAL] = "VIO_E_INVAL",
    [VIO_E_NOMEM] = "VIO_E_NOMEM",
    [VIO_E_NOSPC] = "VIO_E_NOSPC",
    [VIO_E_BUSY] = "VIO_E_BUSY",
    [VIO_E_BROKEN] = "VIO_E_BROKEN",
    [VIO_E_NOT_VIRTIO] = "VIO_E_NOT_VIRTIO",
    [VIO_E_CAP_MISSING] = "VIO_E_CAP_MISSING",
    [VIO_E_CAP_INVALID] = "VIO_E_CAP_INVALID",
    [VIO_E_MAP_FAILED] = "VIO_E_MAP_FAILED",
    [VIO_E_RESET_TIMEOUT] = "VIO_E_RESET_TIMEOUT",
    [VIO_E_NO_VERSION_1] = "VIO_E_NO_VERSION_1",
    [VIO_E_FEATURES_REFUSED] = "VIO_E_FEATURES_REFUSED",
    [VIO_E_DEVICE_NEEDS_RESET] = "VIO_E_DEVICE_NEEDS_RESET",
    [VIO_E_CONFIG_UNSTABLE] = "VIO_E_CONFIG_UNSTABLE",
    [VIO_E_RANGE] = "VIO_E_RANGE",
    [VIO_E_QUEUE_UNAVAILABLE] = "VIO_E_QUEUE_UNAVAILABLE",
    [VIO_E_MSIX_VECTOR] = "VIO_E_MSIX_VECTOR",
    [VIO_E_NOTIFY_RANGE] = "VIO_E_NOTIFY_RANGE",
    [VIO_E_USED_ID_RANGE] = "VIO_E_USED_ID_RANGE",
    [VIO_E_USED_ID_NOT_IN_FLIGHT] = "VIO_E_USED_ID_NOT_IN_FLIGHT",
    [VIO_E_USED_LEN] = "VIO_E_USED_LEN",
    [VIO_E_USED_IDX_JUMP] = "VIO_E_USED_IDX_JUMP",
};

const char *vio_status_name(vio_status status)
{
    if ((unsigned)status >= VIO_STATUS_COUNT || !vio_status_names[status])
        return "VIO_E_UNKNOWN";
    return vio_status_names[status];
}
