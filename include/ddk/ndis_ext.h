/*
 * ndis_ext.h - the rest of what a full NDIS 6.30 Ethernet miniport and an
 * intermediate-style protocol touch beyond ndis_oid.h: more OIDs, per-packet
 * offload information, statistics flags, IPv6 network-layer addresses,
 * interrupt moderation, power-management capabilities and
 * NdisReEnumerateProtocolBindings. Part of the clean-room ndis.h; names,
 * values and layouts from the NDIS reference on learn.microsoft.com
 * (Windows x64).
 */
#ifndef VFO_DDK_NDIS_EXT_H
#define VFO_DDK_NDIS_EXT_H

/* ---- more OID codes ---- */
#define OID_GEN_SUPPORTED_GUIDS          0x00010117
#define OID_GEN_MEDIA_CAPABILITIES       0x00010201
#define OID_GEN_PHYSICAL_MEDIUM_EX       0x00010213
#define OID_GEN_VLAN_ID                  0x0001021C
#define OID_GEN_RCV_CRC_ERROR            0x0002020D
#define OID_GEN_TRANSMIT_QUEUE_LENGTH    0x0002020E
#define OID_GEN_DIRECTED_BYTES_XMIT      0x00020201
#define OID_GEN_DIRECTED_FRAMES_XMIT     0x00020202
#define OID_GEN_MULTICAST_BYTES_XMIT     0x00020203
#define OID_GEN_MULTICAST_FRAMES_XMIT    0x00020204
#define OID_GEN_BROADCAST_BYTES_XMIT     0x00020205
#define OID_GEN_BROADCAST_FRAMES_XMIT    0x00020206
#define OID_GEN_DIRECTED_BYTES_RCV       0x00020207
#define OID_GEN_DIRECTED_FRAMES_RCV      0x00020208
#define OID_GEN_MULTICAST_BYTES_RCV      0x00020209
#define OID_GEN_MULTICAST_FRAMES_RCV     0x0002020A
#define OID_GEN_BROADCAST_BYTES_RCV      0x0002020B
#define OID_GEN_BROADCAST_FRAMES_RCV     0x0002020C
#define OID_802_3_XMIT_DEFERRED          0x01020201
#define OID_802_3_XMIT_MAX_COLLISIONS    0x01020202
#define OID_802_3_RCV_OVERRUN            0x01020203
#define OID_802_3_XMIT_UNDERRUN          0x01020204
#define OID_802_3_XMIT_HEARTBEAT_FAILURE 0x01020205
#define OID_802_3_XMIT_TIMES_CRS_LOST    0x01020206
#define OID_802_3_XMIT_LATE_COLLISIONS   0x01020207
#define OID_PNP_ADD_WAKE_UP_PATTERN      0xFD010103
#define OID_PNP_REMOVE_WAKE_UP_PATTERN   0xFD010104
#define OID_PNP_ENABLE_WAKE_UP           0xFD010106
#define OID_PM_CURRENT_CAPABILITIES      0xFD010107
#define OID_PM_HARDWARE_CAPABILITIES     0xFD010108
#define OID_PM_PARAMETERS                0xFD010109
#define OID_PM_ADD_WOL_PATTERN           0xFD01010A
#define OID_PM_REMOVE_WOL_PATTERN        0xFD01010B

/* ---- NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES.SupportedStatistics ---- */
#define NDIS_STATISTICS_XMIT_ERROR_SUPPORTED            0x00000004
#define NDIS_STATISTICS_RCV_ERROR_SUPPORTED             0x00000008
#define NDIS_STATISTICS_RCV_NO_BUFFER_SUPPORTED         0x00000010
#define NDIS_STATISTICS_DIRECTED_BYTES_XMIT_SUPPORTED   0x00000020
#define NDIS_STATISTICS_DIRECTED_FRAMES_XMIT_SUPPORTED  0x00000040
#define NDIS_STATISTICS_MULTICAST_BYTES_XMIT_SUPPORTED  0x00000080
#define NDIS_STATISTICS_MULTICAST_FRAMES_XMIT_SUPPORTED 0x00000100
#define NDIS_STATISTICS_BROADCAST_BYTES_XMIT_SUPPORTED  0x00000200
#define NDIS_STATISTICS_BROADCAST_FRAMES_XMIT_SUPPORTED 0x00000400
#define NDIS_STATISTICS_DIRECTED_BYTES_RCV_SUPPORTED    0x00000800
#define NDIS_STATISTICS_DIRECTED_FRAMES_RCV_SUPPORTED   0x00001000
#define NDIS_STATISTICS_MULTICAST_BYTES_RCV_SUPPORTED   0x00002000
#define NDIS_STATISTICS_MULTICAST_FRAMES_RCV_SUPPORTED  0x00004000
#define NDIS_STATISTICS_BROADCAST_BYTES_RCV_SUPPORTED   0x00008000
#define NDIS_STATISTICS_BROADCAST_FRAMES_RCV_SUPPORTED  0x00010000
#define NDIS_STATISTICS_BYTES_RCV_SUPPORTED             0x00080000
#define NDIS_STATISTICS_BYTES_XMIT_SUPPORTED            0x00100000
#define NDIS_STATISTICS_RCV_DISCARDS_SUPPORTED          0x00200000
#define NDIS_STATISTICS_GEN_STATISTICS_SUPPORTED        0x00400000
#define NDIS_STATISTICS_XMIT_DISCARDS_SUPPORTED         0x08000000

/* ---- OID_GEN_HARDWARE_STATUS ---- */
typedef enum _NDIS_HARDWARE_STATUS {
    NdisHardwareStatusReady,
    NdisHardwareStatusInitializing,
    NdisHardwareStatusReset,
    NdisHardwareStatusClosing,
    NdisHardwareStatusNotReady
} NDIS_HARDWARE_STATUS,
    *PNDIS_HARDWARE_STATUS;

/* ---- OID_TCP_OFFLOAD_PARAMETERS (the structure is in ndis_oid.h) ---- */
#define NDIS_SIZEOF_OFFLOAD_PARAMETERS_REVISION_2 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_OFFLOAD_PARAMETERS, IPsecV2IPv4)
#define NDIS_OFFLOAD_PARAMETERS_LSOV1_DISABLED 1
#define NDIS_OFFLOAD_PARAMETERS_LSOV1_ENABLED  2

/* ---- per-packet offload information (NET_BUFFER_LIST_INFO) ---- */
typedef struct _NDIS_TCP_IP_CHECKSUM_NET_BUFFER_LIST_INFO {
    union {
        struct {
            ULONG IsIPv4 : 1;
            ULONG IsIPv6 : 1;
            ULONG TcpChecksum : 1;
            ULONG UdpChecksum : 1;
            ULONG IpHeaderChecksum : 1;
            ULONG Reserved : 11;
            ULONG TcpHeaderOffset : 10;
        } Transmit;
        struct {
            ULONG TcpChecksumFailed : 1;
            ULONG UdpChecksumFailed : 1;
            ULONG IpChecksumFailed : 1;
            ULONG TcpChecksumSucceeded : 1;
            ULONG UdpChecksumSucceeded : 1;
            ULONG IpChecksumSucceeded : 1;
            ULONG Loopback : 1;
            ULONG TcpChecksumValueInvalid : 1;
            ULONG IpChecksumValueInvalid : 1;
        } Receive;
        PVOID Value;
    };
} NDIS_TCP_IP_CHECKSUM_NET_BUFFER_LIST_INFO, *PNDIS_TCP_IP_CHECKSUM_NET_BUFFER_LIST_INFO;

#define NDIS_TCP_LARGE_SEND_OFFLOAD_V1_TYPE 0
#define NDIS_TCP_LARGE_SEND_OFFLOAD_V2_TYPE 1
#define NDIS_TCP_LARGE_SEND_OFFLOAD_IPv4    0
#define NDIS_TCP_LARGE_SEND_OFFLOAD_IPv6    1
typedef struct _NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO {
    union {
        struct {
            ULONG Unused : 30;
            ULONG Type : 1;
            ULONG Reserved2 : 1;
        } Transmit;
        struct {
            ULONG MSS : 20;
            ULONG TcpHeaderOffset : 10;
            ULONG Type : 1;
            ULONG Reserved2 : 1;
        } LsoV1Transmit;
        struct {
            ULONG TcpPayload : 30;
            ULONG Type : 1;
            ULONG Reserved2 : 1;
        } LsoV1TransmitComplete;
        struct {
            ULONG MSS : 20;
            ULONG TcpHeaderOffset : 10;
            ULONG Type : 1;
            ULONG IPVersion : 1;
        } LsoV2Transmit;
        struct {
            ULONG Reserved : 30;
            ULONG Type : 1;
            ULONG Reserved2 : 1;
        } LsoV2TransmitComplete;
        PVOID Value;
    };
} NDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO,
    *PNDIS_TCP_LARGE_SEND_OFFLOAD_NET_BUFFER_LIST_INFO;

/* ---- OID_GEN_STATISTICS: the rest of the validity flags (ndis_oid.h has the structure) ---- */
#define NDIS_STATISTICS_FLAGS_VALID_MULTICAST_FRAMES_RCV  0x00000002
#define NDIS_STATISTICS_FLAGS_VALID_BROADCAST_FRAMES_RCV  0x00000004
#define NDIS_STATISTICS_FLAGS_VALID_RCV_ERROR             0x00000020
#define NDIS_STATISTICS_FLAGS_VALID_MULTICAST_FRAMES_XMIT 0x00000080
#define NDIS_STATISTICS_FLAGS_VALID_BROADCAST_FRAMES_XMIT 0x00000100
#define NDIS_STATISTICS_FLAGS_VALID_DIRECTED_BYTES_RCV    0x00010000
#define NDIS_STATISTICS_FLAGS_VALID_MULTICAST_BYTES_RCV   0x00020000
#define NDIS_STATISTICS_FLAGS_VALID_BROADCAST_BYTES_RCV   0x00040000
#define NDIS_STATISTICS_FLAGS_VALID_DIRECTED_BYTES_XMIT   0x00080000
#define NDIS_STATISTICS_FLAGS_VALID_MULTICAST_BYTES_XMIT  0x00100000
#define NDIS_STATISTICS_FLAGS_VALID_BROADCAST_BYTES_XMIT  0x00200000

/* ---- OID_GEN_NETWORK_LAYER_ADDRESSES ---- */
typedef struct _NETWORK_ADDRESS_IP6 {
    USHORT sin6_port;
    ULONG sin6_flowinfo;
    USHORT sin6_addr[8];
    ULONG sin6_scope_id;
} NETWORK_ADDRESS_IP6, *PNETWORK_ADDRESS_IP6;
#define NETWORK_ADDRESS_LENGTH_IP6 sizeof(NETWORK_ADDRESS_IP6)
#define NDIS_PROTOCOL_ID_IP6       0x03

/* ---- OID_GEN_INTERRUPT_MODERATION ---- */
typedef enum _NDIS_INTERRUPT_MODERATION {
    NdisInterruptModerationUnknown,
    NdisInterruptModerationNotSupported,
    NdisInterruptModerationEnabled,
    NdisInterruptModerationDisabled
} NDIS_INTERRUPT_MODERATION,
    *PNDIS_INTERRUPT_MODERATION;
typedef struct _NDIS_INTERRUPT_MODERATION_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    NDIS_INTERRUPT_MODERATION InterruptModeration;
} NDIS_INTERRUPT_MODERATION_PARAMETERS, *PNDIS_INTERRUPT_MODERATION_PARAMETERS;
#define NDIS_INTERRUPT_MODERATION_PARAMETERS_REVISION_1 1
#define NDIS_SIZEOF_INTERRUPT_MODERATION_PARAMETERS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_INTERRUPT_MODERATION_PARAMETERS, InterruptModeration)

/* ---- power management (NDIS 6.20+) ---- */
struct _NDIS_PM_CAPABILITIES {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    ULONG SupportedWoLPacketPatterns;
    ULONG NumTotalWoLPatterns;
    ULONG MaxWoLPatternSize;
    ULONG MaxWoLPatternOffset;
    ULONG MaxWoLPacketSaveBuffer;
    ULONG SupportedProtocolOffloads;
    ULONG NumArpOffloadIPv4Addresses;
    ULONG NumNSOffloadIPv6Addresses;
    NDIS_DEVICE_POWER_STATE MinMagicPacketWakeUp;
    NDIS_DEVICE_POWER_STATE MinPatternWakeUp;
    NDIS_DEVICE_POWER_STATE MinLinkChangeWakeUp;
    ULONG SupportedWakeUpEvents;
    ULONG MediaSpecificWakeUpEvents;
};
#define NDIS_PM_CAPABILITIES_REVISION_2 2
#define NDIS_SIZEOF_NDIS_PM_CAPABILITIES_REVISION_2 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_PM_CAPABILITIES, MediaSpecificWakeUpEvents)

/* ---- x64 layouts of the structures above a driver fills or parses ---- */
_Static_assert(offsetof(NDIS_OFFLOAD_PARAMETERS, Flags) == 16, "NDIS_OFFLOAD_PARAMETERS.Flags");
_Static_assert(NDIS_SIZEOF_OFFLOAD_PARAMETERS_REVISION_3 == 26, "NDIS_OFFLOAD_PARAMETERS rev 3");
_Static_assert(sizeof(NDIS_OFFLOAD_ENCAPSULATION) == 28, "NDIS_OFFLOAD_ENCAPSULATION size");
_Static_assert(sizeof(NDIS_STATISTICS_INFO) == 152, "NDIS_STATISTICS_INFO size");
_Static_assert(sizeof(NETWORK_ADDRESS_IP) == 16, "NETWORK_ADDRESS_IP size");
_Static_assert(sizeof(NETWORK_ADDRESS_IP6) == 28, "NETWORK_ADDRESS_IP6 size");
_Static_assert(offsetof(NETWORK_ADDRESS_LIST, Address) == 6, "NETWORK_ADDRESS_LIST.Address");
_Static_assert(sizeof(NDIS_PM_CAPABILITIES) == 60, "NDIS_PM_CAPABILITIES size");
_Static_assert(sizeof(NDIS_TCP_IP_CHECKSUM_NET_BUFFER_LIST_INFO) == 8, "checksum NBL info");

/* ---- protocol: ask NDIS to offer the protocol's missing bindings again ---- */
NDIS_EXPORTED_ROUTINE void NdisReEnumerateProtocolBindings(NDIS_HANDLE NdisProtocolHandle);

#endif /* VFO_DDK_NDIS_EXT_H */
