/*
 * vio_spec.h - constants and wire layouts of the virtio 1.x specification
 * that the driver side needs: feature bits, device status bits, the PCI
 * modern transport (capabilities, common configuration) and the split
 * virtqueue. Everything here is little-endian on the wire; vfo's targets
 * (x86-64, arm64) are little-endian, which the check below enforces rather
 * than paying for byte swaps nobody needs.
 */
#ifndef VIO_SPEC_H
#define VIO_SPEC_H

#include <stdint.h>

#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__)
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lib/virtio assumes a little-endian CPU (virtio 1.x structures are little-endian)"
#endif
#endif

#define VIO_FEATURE(bit) ((uint64_t)1 << (bit))

/* Transport and ring feature bits (spec: "Reserved Feature Bits"). Bits
 * 24..41 belong to the transport; everything else is device-specific. */
#define VIO_F_INDIRECT_DESC     28
#define VIO_F_EVENT_IDX         29
#define VIO_F_VERSION_1         32
#define VIO_F_ACCESS_PLATFORM   33
#define VIO_F_RING_PACKED       34
#define VIO_F_IN_ORDER          35
#define VIO_F_ORDER_PLATFORM    36
#define VIO_F_SR_IOV            37
#define VIO_F_NOTIFICATION_DATA 38
#define VIO_F_TRANSPORT_FIRST   24
#define VIO_F_TRANSPORT_LAST    41

/* Device status register bits. */
#define VIO_STATUS_ACKNOWLEDGE        0x01
#define VIO_STATUS_DRIVER             0x02
#define VIO_STATUS_DRIVER_OK          0x04
#define VIO_STATUS_FEATURES_OK        0x08
#define VIO_STATUS_DEVICE_NEEDS_RESET 0x40
#define VIO_STATUS_FAILED             0x80

/* "No MSI-X vector" for config_msix_vector and queue_msix_vector. */
#define VIO_MSI_NO_VECTOR 0xFFFF

/* ISR status bits (read-to-clear; only meaningful without MSI-X). */
#define VIO_ISR_QUEUE  0x01
#define VIO_ISR_CONFIG 0x02

/* PCI identity of virtio devices. Modern devices use 0x1040 + device type;
 * transitional ones 0x1000..0x103F with the type in the subsystem id. */
#define VIO_PCI_VENDOR_ID             0x1AF4
#define VIO_PCI_MODERN_DEVICE_ID_BASE 0x1040
#define VIO_PCI_MODERN_DEVICE_ID_LAST 0x107F
#define VIO_PCI_TRANSITIONAL_ID_FIRST 0x1000
#define VIO_PCI_TRANSITIONAL_ID_LAST  0x103F

/* Standard PCI configuration header offsets the transport reads. */
#define VIO_PCI_CFG_VENDOR_ID    0x00
#define VIO_PCI_CFG_DEVICE_ID    0x02
#define VIO_PCI_CFG_STATUS       0x06
#define VIO_PCI_CFG_SUBSYSTEM_ID 0x2E
#define VIO_PCI_CFG_CAP_PTR      0x34
#define VIO_PCI_STATUS_CAP_LIST  0x0010
#define VIO_PCI_CAP_ID_VENDOR    0x09

/* virtio_pci_cap: the vendor capability that locates each structure. */
#define VIO_PCI_CAP_OFF_LEN        2
#define VIO_PCI_CAP_OFF_CFG_TYPE   3
#define VIO_PCI_CAP_OFF_BAR        4
#define VIO_PCI_CAP_OFF_OFFSET     8
#define VIO_PCI_CAP_OFF_LENGTH     12
#define VIO_PCI_CAP_OFF_NOTIFY_MUL 16 /* notify capability only */
#define VIO_PCI_CAP_LEN            16
#define VIO_PCI_NOTIFY_CAP_LEN     20
#define VIO_PCI_CFG_CAP_LEN        20
#define VIO_PCI_MAX_BAR            5

#define VIO_PCI_CAP_COMMON_CFG 1
#define VIO_PCI_CAP_NOTIFY_CFG 2
#define VIO_PCI_CAP_ISR_CFG    3
#define VIO_PCI_CAP_DEVICE_CFG 4
#define VIO_PCI_CAP_PCI_CFG    5

/* virtio_pci_common_cfg register offsets (virtio 1.0 layout). */
#define VIO_COMMON_DFSELECT      0x00 /* le32 device_feature_select */
#define VIO_COMMON_DF            0x04 /* le32 device_feature (RO) */
#define VIO_COMMON_GFSELECT      0x08 /* le32 driver_feature_select */
#define VIO_COMMON_GF            0x0C /* le32 driver_feature */
#define VIO_COMMON_MSIX          0x10 /* le16 config_msix_vector */
#define VIO_COMMON_NUMQ          0x12 /* le16 num_queues (RO) */
#define VIO_COMMON_STATUS        0x14 /* u8 device_status */
#define VIO_COMMON_CFGGENERATION 0x15 /* u8 config_generation (RO) */
#define VIO_COMMON_Q_SELECT      0x16 /* le16 queue_select */
#define VIO_COMMON_Q_SIZE        0x18 /* le16 queue_size */
#define VIO_COMMON_Q_MSIX        0x1A /* le16 queue_msix_vector */
#define VIO_COMMON_Q_ENABLE      0x1C /* le16 queue_enable */
#define VIO_COMMON_Q_NOFF        0x1E /* le16 queue_notify_off (RO) */
#define VIO_COMMON_Q_DESCLO      0x20 /* le64 queue_desc, as two le32 */
#define VIO_COMMON_Q_DESCHI      0x24
#define VIO_COMMON_Q_AVAILLO     0x28 /* le64 queue_driver */
#define VIO_COMMON_Q_AVAILHI     0x2C
#define VIO_COMMON_Q_USEDLO      0x30 /* le64 queue_device */
#define VIO_COMMON_Q_USEDHI      0x34
#define VIO_COMMON_CFG_SIZE      0x38

/* Split virtqueue. */
#define VIO_DESC_F_NEXT     0x1
#define VIO_DESC_F_WRITE    0x2
#define VIO_DESC_F_INDIRECT 0x4

#define VIO_AVAIL_F_NO_INTERRUPT 0x1
#define VIO_USED_F_NO_NOTIFY     0x1

#define VIO_QUEUE_SIZE_MAX 32768

typedef struct vio_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} vio_desc;

typedef struct vio_used_elem {
    uint32_t id;
    uint32_t len;
} vio_used_elem;

/* Ring byte sizes for a queue of n entries, event-index words included. */
#define VIO_DESC_TABLE_BYTES(n) ((uint32_t)(n)*16u)
#define VIO_AVAIL_RING_BYTES(n) (6u + 2u * (uint32_t)(n))
#define VIO_USED_RING_BYTES(n)  (6u + 8u * (uint32_t)(n))

/* The event-index rule shared by both directions: should the side that moved
 * its index from old_idx to new_idx signal the other side, which asked to be
 * signalled once event_idx is passed? (All arithmetic is modulo 2^16.) */
static inline int vio_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
    return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

#endif /* VIO_SPEC_H */
