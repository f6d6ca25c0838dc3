/*
 * ndis_vmq.h - NDIS 6.20/6.30 receive filtering (VMQ), NIC switch and QoS
 * (DCB) names a miniport that advertises those capabilities uses, as
 * Microsoft's netvmini sample does: capabilities, queue and filter
 * parameters, the hardware assist attributes, shared memory, the 802.1Q and
 * filtering NBL information. Names, values and x64 layouts are the WDK's
 * (ntddndis.h, ndis.h, ndis/nbl8021q.h, ndis/nicswitchtypes.h); checked by
 * tools/ddk-conformance. Layouts are NDIS 6.30's (REVISION_2 where 6.30
 * added fields).
 */
#ifndef VFO_DDK_NDIS_VMQ_H
#define VFO_DDK_NDIS_VMQ_H

typedef ULONG NDIS_NIC_SWITCH_VPORT_ID, *PNDIS_NIC_SWITCH_VPORT_ID;
#if !defined(_WIN32) /* ifdef.h and basetsd.h: a Windows build has the platform's */
#define IF_MAX_STRING_SIZE 256
typedef struct _IF_COUNTED_STRING_LH {
    USHORT Length; /* in bytes */
    WCHAR String[IF_MAX_STRING_SIZE + 1];
} IF_COUNTED_STRING_LH, *PIF_COUNTED_STRING_LH;
typedef IF_COUNTED_STRING_LH IF_COUNTED_STRING;
typedef IF_COUNTED_STRING *PIF_COUNTED_STRING;
typedef unsigned int UINT32;
#endif
typedef IF_COUNTED_STRING NDIS_IF_COUNTED_STRING, *PNDIS_IF_COUNTED_STRING;
typedef ULONG NODE_REQUIREMENT;

#define NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES 0xAF
#define NDIS_OBJECT_TYPE_QOS_CAPABILITIES                            0xB5
#define NDIS_OBJECT_TYPE_QOS_PARAMETERS                              0xB6
#define NDIS_OBJECT_TYPE_QOS_CLASSIFICATION_ELEMENT                  0xB7

#define OID_RECEIVE_FILTER_HARDWARE_CAPABILITIES     0x00010221
#define OID_RECEIVE_FILTER_GLOBAL_PARAMETERS         0x00010222
#define OID_RECEIVE_FILTER_ALLOCATE_QUEUE            0x00010223
#define OID_RECEIVE_FILTER_FREE_QUEUE                0x00010224
#define OID_RECEIVE_FILTER_ENUM_QUEUES               0x00010225
#define OID_RECEIVE_FILTER_QUEUE_PARAMETERS          0x00010226
#define OID_RECEIVE_FILTER_SET_FILTER                0x00010227
#define OID_RECEIVE_FILTER_CLEAR_FILTER              0x00010228
#define OID_RECEIVE_FILTER_ENUM_FILTERS              0x00010229
#define OID_RECEIVE_FILTER_PARAMETERS                0x0001022A
#define OID_RECEIVE_FILTER_QUEUE_ALLOCATION_COMPLETE 0x0001022B
#define OID_RECEIVE_FILTER_CURRENT_CAPABILITIES      0x0001022D
#define OID_NIC_SWITCH_HARDWARE_CAPABILITIES         0x0001022E
#define OID_NIC_SWITCH_CURRENT_CAPABILITIES          0x0001022F
#define OID_NIC_SWITCH_DELETE_SWITCH                 0x00010239
#define OID_NIC_SWITCH_FREE_VF                       0x00010246
#define OID_QOS_HARDWARE_CAPABILITIES                0xFC050001
#define OID_QOS_CURRENT_CAPABILITIES                 0xFC050002
#define OID_QOS_PARAMETERS                           0xFC050003
#define OID_QOS_OPERATIONAL_PARAMETERS               0xFC050004
#define OID_QOS_REMOTE_PARAMETERS                    0xFC050005

#define NDIS_STATUS_RECEIVE_QUEUE_STATE               ((NDIS_STATUS)0x4002000DL)
#define NDIS_STATUS_QOS_OPERATIONAL_PARAMETERS_CHANGE ((NDIS_STATUS)0x400200A0L)
#define NDIS_STATUS_INVALID_ADDRESS                   ((NDIS_STATUS)0xC0010022L)
#define STATUS_NDIS_NO_QUEUES                         ((NTSTATUS)0xC0230031L)
#define NDIS_STATUS_NO_QUEUES                         ((NDIS_STATUS)STATUS_NDIS_NO_QUEUES)

/* ---- receive filter capabilities ---- */
#define NDIS_RECEIVE_FILTER_MAC_HEADER_SUPPORTED                        0x00000001
#define NDIS_RECEIVE_FILTER_IPV4_HEADER_SUPPORTED                       0x00000002
#define NDIS_RECEIVE_FILTER_IPV6_HEADER_SUPPORTED                       0x00000004
#define NDIS_RECEIVE_FILTER_ARP_HEADER_SUPPORTED                        0x00000008
#define NDIS_RECEIVE_FILTER_UDP_HEADER_SUPPORTED                        0x00000010
#define NDIS_RECEIVE_FILTER_MAC_HEADER_DEST_ADDR_SUPPORTED              0x00000001
#define NDIS_RECEIVE_FILTER_MAC_HEADER_SOURCE_ADDR_SUPPORTED            0x00000002
#define NDIS_RECEIVE_FILTER_MAC_HEADER_PROTOCOL_SUPPORTED               0x00000004
#define NDIS_RECEIVE_FILTER_MAC_HEADER_VLAN_ID_SUPPORTED                0x00000008
#define NDIS_RECEIVE_FILTER_MAC_HEADER_PRIORITY_SUPPORTED               0x00000010
#define NDIS_RECEIVE_FILTER_MAC_HEADER_PACKET_TYPE_SUPPORTED            0x00000020
#define NDIS_RECEIVE_FILTER_TEST_HEADER_FIELD_EQUAL_SUPPORTED           0x00000001
#define NDIS_RECEIVE_FILTER_TEST_HEADER_FIELD_MASK_EQUAL_SUPPORTED      0x00000002
#define NDIS_RECEIVE_FILTER_TEST_HEADER_FIELD_NOT_EQUAL_SUPPORTED       0x00000004
#define NDIS_RECEIVE_FILTER_MSI_X_SUPPORTED                             0x00000001
#define NDIS_RECEIVE_FILTER_VM_QUEUE_SUPPORTED                          0x00000002
#define NDIS_RECEIVE_FILTER_LOOKAHEAD_SPLIT_SUPPORTED                   0x00000004
#define NDIS_RECEIVE_FILTER_DYNAMIC_PROCESSOR_AFFINITY_CHANGE_SUPPORTED 0x00000008
#define NDIS_RECEIVE_FILTER_INTERRUPT_VECTOR_COALESCING_SUPPORTED       0x00000010
#define NDIS_RECEIVE_FILTER_VMQ_FILTERS_ENABLED                         0x00000001
#define NDIS_RECEIVE_FILTER_PACKET_COALESCING_FILTERS_ENABLED           0x00000002
#define NDIS_RECEIVE_FILTER_VM_QUEUES_ENABLED                           0x00000001
#define NDIS_RECEIVE_FILTER_CAPABILITIES_REVISION_1                     1
#define NDIS_RECEIVE_FILTER_CAPABILITIES_REVISION_2                     2

struct _NDIS_RECEIVE_FILTER_CAPABILITIES {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    ULONG EnabledFilterTypes;
    ULONG EnabledQueueTypes;
    ULONG NumQueues;
    ULONG SupportedQueueProperties;
    ULONG SupportedFilterTests;
    ULONG SupportedHeaders;
    ULONG SupportedMacHeaderFields;
    ULONG MaxMacHeaderFilters;
    ULONG MaxQueueGroups;
    ULONG MaxQueuesPerQueueGroup;
    ULONG MinLookaheadSplitSize;
    ULONG MaxLookaheadSplitSize;
    ULONG SupportedARPHeaderFields;
    ULONG SupportedIPv4HeaderFields;
    ULONG SupportedIPv6HeaderFields;
    ULONG SupportedUdpHeaderFields;
    ULONG MaxFieldTestsPerPacketCoalescingFilter;
    ULONG MaxPacketCoalescingFilters;
    ULONG NdisReserved;
};
#define NDIS_SIZEOF_RECEIVE_FILTER_CAPABILITIES_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_RECEIVE_FILTER_CAPABILITIES, MaxLookaheadSplitSize)
#define NDIS_SIZEOF_RECEIVE_FILTER_CAPABILITIES_REVISION_2 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_RECEIVE_FILTER_CAPABILITIES, NdisReserved)

/* ---- NIC switch capabilities ---- */
#define NDIS_NIC_SWITCH_CAPABILITIES_REVISION_1 1
#define NDIS_NIC_SWITCH_CAPABILITIES_REVISION_2 2
struct _NDIS_NIC_SWITCH_CAPABILITIES {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    ULONG NdisReserved1;
    ULONG NumTotalMacAddresses;
    ULONG NumMacAddressesPerPort;
    ULONG NumVlansPerPort;
    ULONG NdisReserved2;
    ULONG NdisReserved3;
    ULONG NicSwitchCapabilities;
    ULONG MaxNumSwitches;
    ULONG MaxNumVPorts;
    ULONG NdisReserved4;
    ULONG MaxNumVFs;
    ULONG MaxNumQueuePairs;
    ULONG NdisReserved5;
    ULONG NdisReserved6;
    ULONG NdisReserved7;
    ULONG MaxNumQueuePairsPerNonDefaultVPort;
    ULONG NdisReserved8;
    ULONG NdisReserved9;
    ULONG NdisReserved10;
    ULONG NdisReserved11;
    ULONG NdisReserved12;
    ULONG MaxNumMacAddresses;
    ULONG NdisReserved13;
    ULONG NdisReserved14;
    ULONG NdisReserved15;
    ULONG NdisReserved16;
    ULONG NdisReserved17;
};
#define NDIS_SIZEOF_NIC_SWITCH_CAPABILITIES_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_NIC_SWITCH_CAPABILITIES, NdisReserved3)
#define NDIS_SIZEOF_NIC_SWITCH_CAPABILITIES_REVISION_2 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_NIC_SWITCH_CAPABILITIES, NdisReserved17)

/* ---- queues and filters ---- */
typedef ULONG NDIS_RECEIVE_QUEUE_ID, *PNDIS_RECEIVE_QUEUE_ID;
typedef ULONG NDIS_RECEIVE_QUEUE_GROUP_ID, *PNDIS_RECEIVE_QUEUE_GROUP_ID;
typedef ULONG NDIS_RECEIVE_FILTER_ID, *PNDIS_RECEIVE_FILTER_ID;
#define NDIS_DEFAULT_RECEIVE_QUEUE_ID       0
#define NDIS_DEFAULT_RECEIVE_QUEUE_GROUP_ID 0
#define NDIS_DEFAULT_RECEIVE_FILTER_ID      0

typedef enum _NDIS_RECEIVE_FILTER_TYPE {
    NdisReceiveFilterTypeUndefined,
    NdisReceiveFilterTypeVMQueue,
    NdisReceiveFilterTypePacketCoalescing,
    NdisReceiveFilterTypeMaximum
} NDIS_RECEIVE_FILTER_TYPE,
    *PNDIS_RECEIVE_FILTER_TYPE;

typedef enum _NDIS_FRAME_HEADER {
    NdisFrameHeaderUndefined,
    NdisFrameHeaderMac,
    NdisFrameHeaderArp,
    NdisFrameHeaderIPv4,
    NdisFrameHeaderIPv6,
    NdisFrameHeaderUdp,
    NdisFrameHeaderMaximum
} NDIS_FRAME_HEADER,
    *PNDIS_FRAME_HEADER;

typedef enum _NDIS_MAC_HEADER_FIELD {
    NdisMacHeaderFieldUndefined,
    NdisMacHeaderFieldDestinationAddress,
    NdisMacHeaderFieldSourceAddress,
    NdisMacHeaderFieldProtocol,
    NdisMacHeaderFieldVlanId,
    NdisMacHeaderFieldPriority,
    NdisMacHeaderFieldPacketType,
    NdisMacHeaderFieldMaximum
} NDIS_MAC_HEADER_FIELD,
    *PNDIS_MAC_HEADER_FIELD;

typedef enum _NDIS_ARP_HEADER_FIELD {
    NdisARPHeaderFieldUndefined,
    NdisARPHeaderFieldOperation,
    NdisARPHeaderFieldSPA,
    NdisARPHeaderFieldTPA,
    NdisARPHeaderFieldMaximum
} NDIS_ARP_HEADER_FIELD,
    *PNDIS_ARP_HEADER_FIELD;

typedef enum _NDIS_IPV4_HEADER_FIELD {
    NdisIPv4HeaderFieldUndefined,
    NdisIPv4HeaderFieldProtocol,
    NdisIPv4HeaderFieldMaximum
} NDIS_IPV4_HEADER_FIELD,
    *PNDIS_IPV4_HEADER_FIELD;

typedef enum _NDIS_IPV6_HEADER_FIELD {
    NdisIPv6HeaderFieldUndefined,
    NdisIPv6HeaderFieldProtocol,
    NdisIPv6HeaderFieldMaximum
} NDIS_IPV6_HEADER_FIELD,
    *PNDIS_IPV6_HEADER_FIELD;

typedef enum _NDIS_UDP_HEADER_FIELD {
    NdisUdpHeaderFieldUndefined,
    NdisUdpHeaderFieldDestinationPort,
    NdisUdpHeaderFieldMaximum
} NDIS_UDP_HEADER_FIELD,
    *PNDIS_UDP_HEADER_FIELD;

typedef enum _NDIS_RECEIVE_FILTER_TEST {
    NdisReceiveFilterTestUndefined,
    NdisReceiveFilterTestEqual,
    NdisReceiveFilterTestMaskEqual,
    NdisReceiveFilterTestNotEqual,
    NdisReceiveFilterTestMaximum
} NDIS_RECEIVE_FILTER_TEST,
    *PNDIS_RECEIVE_FILTER_TEST;

#define NDIS_RECEIVE_FILTER_FIELD_MAC_HEADER_VLAN_UNTAGGED_OR_ZERO 0x00000001
#define NDIS_RECEIVE_FILTER_FIELD_PARAMETERS_REVISION_1            1
#define NDIS_RECEIVE_FILTER_FIELD_PARAMETERS_REVISION_2            2

typedef struct _NDIS_RECEIVE_FILTER_FIELD_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    NDIS_FRAME_HEADER FrameHeader;
    NDIS_RECEIVE_FILTER_TEST ReceiveFilterTest;
    union _HEADER_FIELD {
        NDIS_MAC_HEADER_FIELD MacHeaderField;
        NDIS_ARP_HEADER_FIELD ArpHeaderField;
        NDIS_IPV4_HEADER_FIELD IPv4HeaderField;
        NDIS_IPV6_HEADER_FIELD IPv6HeaderField;
        NDIS_UDP_HEADER_FIELD UdpHeaderField;
    } HeaderField;
    union _FIELD_VALUE {
        UCHAR FieldByteValue;
        USHORT FieldShortValue;
        ULONG FieldLongValue;
        ULONG64 FieldLong64Value;
        UCHAR FieldByteArrayValue[16];
    } FieldValue;
    union _RESULT_VALUE {
        UCHAR ResultByteValue;
        USHORT ResultShortValue;
        ULONG ResultLongValue;
        ULONG64 ResultLong64Value;
        UCHAR ResultByteArrayValue[16];
    } ResultValue;
} NDIS_RECEIVE_FILTER_FIELD_PARAMETERS, *PNDIS_RECEIVE_FILTER_FIELD_PARAMETERS;

#define NDIS_RECEIVE_FILTER_PARAMETERS_REVISION_1 1
#define NDIS_RECEIVE_FILTER_PARAMETERS_REVISION_2 2
typedef struct _NDIS_RECEIVE_FILTER_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    NDIS_RECEIVE_FILTER_TYPE FilterType;
    NDIS_RECEIVE_QUEUE_ID QueueId;
    NDIS_RECEIVE_FILTER_ID FilterId;
    ULONG FieldParametersArrayOffset;
    ULONG FieldParametersArrayNumElements;
    ULONG FieldParametersArrayElementSize;
    ULONG RequestedFilterIdBitCount;
    ULONG MaxCoalescingDelay;
    NDIS_NIC_SWITCH_VPORT_ID VPortId;
} NDIS_RECEIVE_FILTER_PARAMETERS, *PNDIS_RECEIVE_FILTER_PARAMETERS;
#define NDIS_SIZEOF_RECEIVE_FILTER_PARAMETERS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_RECEIVE_FILTER_PARAMETERS, RequestedFilterIdBitCount)
#define NDIS_SIZEOF_RECEIVE_FILTER_PARAMETERS_REVISION_2 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_RECEIVE_FILTER_PARAMETERS, VPortId)

#define NDIS_RECEIVE_FILTER_CLEAR_PARAMETERS_REVISION_1 1
typedef struct _NDIS_RECEIVE_FILTER_CLEAR_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    NDIS_RECEIVE_QUEUE_ID QueueId;
    NDIS_RECEIVE_FILTER_ID FilterId;
} NDIS_RECEIVE_FILTER_CLEAR_PARAMETERS, *PNDIS_RECEIVE_FILTER_CLEAR_PARAMETERS;
#define NDIS_SIZEOF_RECEIVE_FILTER_CLEAR_PARAMETERS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_RECEIVE_FILTER_CLEAR_PARAMETERS, FilterId)

typedef enum _NDIS_RECEIVE_QUEUE_TYPE {
    NdisReceiveQueueTypeUnspecified,
    NdisReceiveQueueTypeVMQueue,
    NdisReceiveQueueTypeMaximum
} NDIS_RECEIVE_QUEUE_TYPE,
    *PNDIS_RECEIVE_QUEUE_TYPE;

#define NDIS_RECEIVE_QUEUE_PARAMETERS_PER_QUEUE_RECEIVE_INDICATION           0x00000001
#define NDIS_RECEIVE_QUEUE_PARAMETERS_LOOKAHEAD_SPLIT_REQUIRED               0x00000002
#define NDIS_RECEIVE_QUEUE_PARAMETERS_FLAGS_CHANGED                          0x00010000
#define NDIS_RECEIVE_QUEUE_PARAMETERS_PROCESSOR_AFFINITY_CHANGED             0x00020000
#define NDIS_RECEIVE_QUEUE_PARAMETERS_SUGGESTED_RECV_BUFFER_NUMBERS_CHANGED  0x00040000
#define NDIS_RECEIVE_QUEUE_PARAMETERS_NAME_CHANGED                           0x00080000
#define NDIS_RECEIVE_QUEUE_PARAMETERS_INTERRUPT_COALESCING_DOMAIN_ID_CHANGED 0x00100000
#define NDIS_RECEIVE_QUEUE_PARAMETERS_CHANGE_MASK                            0xFFFF0000

typedef NDIS_IF_COUNTED_STRING NDIS_QUEUE_NAME, *PNDIS_QUEUE_NAME;
typedef NDIS_IF_COUNTED_STRING NDIS_VM_NAME, *PNDIS_VM_NAME;

#define NDIS_RECEIVE_QUEUE_PARAMETERS_REVISION_1 1
#define NDIS_RECEIVE_QUEUE_PARAMETERS_REVISION_2 2
typedef struct _NDIS_RECEIVE_QUEUE_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    NDIS_RECEIVE_QUEUE_TYPE QueueType;
    NDIS_RECEIVE_QUEUE_ID QueueId;
    NDIS_RECEIVE_QUEUE_GROUP_ID QueueGroupId;
    GROUP_AFFINITY ProcessorAffinity;
    ULONG NumSuggestedReceiveBuffers;
    ULONG MSIXTableEntry;
    ULONG LookaheadSize;
    NDIS_VM_NAME VmName;
    NDIS_QUEUE_NAME QueueName;
    ULONG PortId;
    ULONG InterruptCoalescingDomainId;
} NDIS_RECEIVE_QUEUE_PARAMETERS, *PNDIS_RECEIVE_QUEUE_PARAMETERS;
#define NDIS_SIZEOF_RECEIVE_QUEUE_PARAMETERS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_RECEIVE_QUEUE_PARAMETERS, QueueName)
#define NDIS_SIZEOF_RECEIVE_QUEUE_PARAMETERS_REVISION_2 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_RECEIVE_QUEUE_PARAMETERS, InterruptCoalescingDomainId)

#define NDIS_RECEIVE_QUEUE_FREE_PARAMETERS_REVISION_1 1
typedef struct _NDIS_RECEIVE_QUEUE_FREE_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    NDIS_RECEIVE_QUEUE_ID QueueId;
} NDIS_RECEIVE_QUEUE_FREE_PARAMETERS, *PNDIS_RECEIVE_QUEUE_FREE_PARAMETERS;
#define NDIS_SIZEOF_RECEIVE_QUEUE_FREE_PARAMETERS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_RECEIVE_QUEUE_FREE_PARAMETERS, QueueId)

typedef enum _NDIS_RECEIVE_QUEUE_OPERATIONAL_STATE {
    NdisReceiveQueueOperationalStateUndefined,
    NdisReceiveQueueOperationalStateRunning,
    NdisReceiveQueueOperationalStatePaused,
    NdisReceiveQueueOperationalStateDmaStopped,
    NdisReceiveQueueOperationalStateMaximum
} NDIS_RECEIVE_QUEUE_OPERATIONAL_STATE,
    *PNDIS_RECEIVE_QUEUE_OPERATIONAL_STATE;

#define NDIS_RECEIVE_QUEUE_ALLOCATION_COMPLETE_PARAMETERS_REVISION_1 1
typedef struct _NDIS_RECEIVE_QUEUE_ALLOCATION_COMPLETE_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    NDIS_RECEIVE_QUEUE_ID QueueId;
    NDIS_STATUS CompletionStatus;
} NDIS_RECEIVE_QUEUE_ALLOCATION_COMPLETE_PARAMETERS,
    *PNDIS_RECEIVE_QUEUE_ALLOCATION_COMPLETE_PARAMETERS;
#define NDIS_SIZEOF_RECEIVE_QUEUE_ALLOCATION_COMPLETE_PARAMETERS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_RECEIVE_QUEUE_ALLOCATION_COMPLETE_PARAMETERS, CompletionStatus)

#define NDIS_RECEIVE_QUEUE_ALLOCATION_COMPLETE_ARRAY_REVISION_1 1
typedef struct _NDIS_RECEIVE_QUEUE_ALLOCATION_COMPLETE_ARRAY {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    ULONG FirstElementOffset;
    ULONG NumElements;
    ULONG ElementSize;
} NDIS_RECEIVE_QUEUE_ALLOCATION_COMPLETE_ARRAY, *PNDIS_RECEIVE_QUEUE_ALLOCATION_COMPLETE_ARRAY;
#define NDIS_SIZEOF_RECEIVE_QUEUE_ALLOCATION_COMPLETE_ARRAY_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_RECEIVE_QUEUE_ALLOCATION_COMPLETE_ARRAY, ElementSize)

/* NDIS_STATUS_RECEIVE_QUEUE_STATE's buffer (ndis.h) */
#define NDIS_RECEIVE_QUEUE_STATE_REVISION_1 1
typedef struct _NDIS_RECEIVE_QUEUE_STATE {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    NDIS_RECEIVE_QUEUE_ID QueueId;
    NDIS_RECEIVE_QUEUE_OPERATIONAL_STATE QueueState;
} NDIS_RECEIVE_QUEUE_STATE, *PNDIS_RECEIVE_QUEUE_STATE;
#define NDIS_SIZEOF_NDIS_RECEIVE_QUEUE_STATE_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_RECEIVE_QUEUE_STATE, QueueState)

/* ---- QoS (DCB) ---- */
#define NDIS_QOS_MAXIMUM_PRIORITIES                   8
#define NDIS_QOS_MAXIMUM_TRAFFIC_CLASSES              8
#define NDIS_QOS_CAPABILITIES_STRICT_TSA_SUPPORTED    0x00000001
#define NDIS_QOS_CAPABILITIES_MACSEC_BYPASS_SUPPORTED 0x00000002
#define NDIS_QOS_CAPABILITIES_CEE_DCBX_SUPPORTED      0x00000004
#define NDIS_QOS_CAPABILITIES_IEEE_DCBX_SUPPORTED     0x00000008
#define NDIS_QOS_CAPABILITIES_REVISION_1              1
struct _NDIS_QOS_CAPABILITIES {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    ULONG MaxNumTrafficClasses;
    ULONG MaxNumEtsCapableTrafficClasses;
    ULONG MaxNumPfcEnabledTrafficClasses;
};
typedef struct _NDIS_QOS_CAPABILITIES NDIS_QOS_CAPABILITIES, *PNDIS_QOS_CAPABILITIES;
#define NDIS_SIZEOF_QOS_CAPABILITIES_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_QOS_CAPABILITIES, MaxNumPfcEnabledTrafficClasses)

#define NDIS_QOS_CLASSIFICATION_SET_BY_MINIPORT_MASK 0xFF000000
#define NDIS_QOS_CLASSIFICATION_ENFORCED_BY_MINIPORT 0x01000000
#define NDIS_QOS_CONDITION_RESERVED                  0x0
#define NDIS_QOS_CONDITION_DEFAULT                   0x1
#define NDIS_QOS_CONDITION_TCP_PORT                  0x2
#define NDIS_QOS_CONDITION_UDP_PORT                  0x3
#define NDIS_QOS_CONDITION_TCP_OR_UDP_PORT           0x4
#define NDIS_QOS_CONDITION_ETHERTYPE                 0x5
#define NDIS_QOS_CONDITION_NETDIRECT_PORT            0x6
#define NDIS_QOS_CONDITION_MAXIMUM                   0x7
#define NDIS_QOS_ACTION_PRIORITY                     0x0
#define NDIS_QOS_ACTION_MAXIMUM                      0x1
#define NDIS_QOS_CLASSIFICATION_ELEMENT_REVISION_1   1
typedef struct _NDIS_QOS_CLASSIFICATION_ELEMENT {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    USHORT ConditionSelector;
    USHORT ConditionField;
    USHORT ActionSelector;
    USHORT ActionField;
} NDIS_QOS_CLASSIFICATION_ELEMENT, *PNDIS_QOS_CLASSIFICATION_ELEMENT;
#define NDIS_SIZEOF_QOS_CLASSIFICATION_ELEMENT_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_QOS_CLASSIFICATION_ELEMENT, ActionField)

#define NDIS_QOS_PARAMETERS_ETS_CHANGED               0x00000001
#define NDIS_QOS_PARAMETERS_ETS_CONFIGURED            0x00000002
#define NDIS_QOS_PARAMETERS_PFC_CHANGED               0x00000100
#define NDIS_QOS_PARAMETERS_PFC_CONFIGURED            0x00000200
#define NDIS_QOS_PARAMETERS_CLASSIFICATION_CHANGED    0x00010000
#define NDIS_QOS_PARAMETERS_CLASSIFICATION_CONFIGURED 0x00020000
#define NDIS_QOS_PARAMETERS_WILLING                   0x80000000
#define NDIS_QOS_TSA_STRICT                           0x0
#define NDIS_QOS_TSA_CBS                              0x1
#define NDIS_QOS_TSA_ETS                              0x2
#define NDIS_QOS_TSA_MAXIMUM                          0x3
#define NDIS_QOS_PARAMETERS_REVISION_1                1
typedef struct _NDIS_QOS_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    ULONG NumTrafficClasses;
    UCHAR PriorityAssignmentTable[NDIS_QOS_MAXIMUM_PRIORITIES];
    UCHAR TcBandwidthAssignmentTable[NDIS_QOS_MAXIMUM_TRAFFIC_CLASSES];
    UCHAR TsaAssignmentTable[NDIS_QOS_MAXIMUM_TRAFFIC_CLASSES];
    ULONG PfcEnable;
    ULONG NumClassificationElements;
    ULONG ClassificationElementSize;
    ULONG FirstClassificationElementOffset;
} NDIS_QOS_PARAMETERS, *PNDIS_QOS_PARAMETERS;
#define NDIS_SIZEOF_QOS_PARAMETERS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_QOS_PARAMETERS, FirstClassificationElementOffset)

/* ---- the hardware assist attributes (NdisMSetMiniportAttributes) ---- */
typedef struct _NDIS_HD_SPLIT_ATTRIBUTES NDIS_HD_SPLIT_ATTRIBUTES, *PNDIS_HD_SPLIT_ATTRIBUTES;
#define NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES_REVISION_1 1
#define NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES_REVISION_2 2
#define NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES_REVISION_3 3
typedef struct _NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES {
    NDIS_OBJECT_HEADER Header;
    PNDIS_HD_SPLIT_ATTRIBUTES HDSplitAttributes;
    PNDIS_RECEIVE_FILTER_CAPABILITIES HardwareReceiveFilterCapabilities;
    PNDIS_RECEIVE_FILTER_CAPABILITIES CurrentReceiveFilterCapabilities;
    PNDIS_NIC_SWITCH_CAPABILITIES HardwareNicSwitchCapabilities;
    PNDIS_NIC_SWITCH_CAPABILITIES CurrentNicSwitchCapabilities;
    PNDIS_SRIOV_CAPABILITIES HardwareSriovCapabilities;
    PNDIS_SRIOV_CAPABILITIES CurrentSriovCapabilities;
    PNDIS_QOS_CAPABILITIES HardwareQosCapabilities;
    PNDIS_QOS_CAPABILITIES CurrentQosCapabilities;
} NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES,
    *PNDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES;
#define NDIS_SIZEOF_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES, HDSplitAttributes)
#define NDIS_SIZEOF_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES_REVISION_2     \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES, \
                             CurrentNicSwitchCapabilities)
#define NDIS_SIZEOF_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES_REVISION_3     \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES, \
                             CurrentQosCapabilities)

/* ---- shared memory (VM queues) ---- */
typedef enum _NDIS_SHARED_MEMORY_USAGE {
    NdisSharedMemoryUsageUndefined,
    NdisSharedMemoryUsageXmit,
    NdisSharedMemoryUsageXmitHeader,
    NdisSharedMemoryUsageXmitData,
    NdisSharedMemoryUsageReceive,
    NdisSharedMemoryUsageReceiveLookahead,
    NdisSharedMemoryUsageReceivePostLookahead,
    NdisSharedMemoryUsageReceiveHeader,
    NdisSharedMemoryUsageReceiveData,
    NdisSharedMemoryUsageOther,
    NdisSharedMemoryUsageMax
} NDIS_SHARED_MEMORY_USAGE,
    *PNDIS_SHARED_MEMORY_USAGE;
#define NDIS_SHARED_MEM_PARAMETERS_CONTIGUOUS    0x00000001
#define NDIS_SHARED_MEMORY_PARAMETERS_REVISION_1 1
#define NDIS_SHARED_MEMORY_PARAMETERS_REVISION_2 2
typedef struct _NDIS_SHARED_MEMORY_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    NDIS_RECEIVE_QUEUE_ID QueueId;
    NDIS_HANDLE SharedMemoryHandle;
    NODE_REQUIREMENT PreferredNode;
    NDIS_SHARED_MEMORY_USAGE Usage;
    ULONG Length;
    PVOID VirtualAddress;
    ULONG SGListBufferLength;
    PSCATTER_GATHER_LIST SGListBuffer;
    NDIS_NIC_SWITCH_VPORT_ID VPortId;
} NDIS_SHARED_MEMORY_PARAMETERS, *PNDIS_SHARED_MEMORY_PARAMETERS;
#define NDIS_SIZEOF_SHARED_MEMORY_PARAMETERS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_SHARED_MEMORY_PARAMETERS, SGListBuffer)
#define NDIS_SIZEOF_SHARED_MEMORY_PARAMETERS_REVISION_2 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_SHARED_MEMORY_PARAMETERS, VPortId)

NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisAllocateSharedMemory(
    NDIS_HANDLE NdisHandle, PNDIS_SHARED_MEMORY_PARAMETERS SharedMemoryParameters,
    PNDIS_HANDLE pAllocationHandle);
NDIS_EXPORTED_ROUTINE void NdisFreeSharedMemory(NDIS_HANDLE NdisHandle,
                                                NDIS_HANDLE AllocationHandle);

struct _NET_BUFFER_SHARED_MEMORY {
    NET_BUFFER_SHARED_MEMORY *NextSharedMemorySegment;
    ULONG SharedMemoryFlags;
    NDIS_HANDLE SharedMemoryHandle;
    ULONG SharedMemoryOffset;
    ULONG SharedMemoryLength;
};

#define NET_BUFFER_FIRST_SHARED_MEM_INFO(_NB)    ((_NB)->SharedMemoryInfo)
#define NET_BUFFER_SHARED_MEM_NEXT_SEGMENT(_SHI) ((_SHI)->NextSharedMemorySegment)
#define NET_BUFFER_SHARED_MEM_FLAGS(_SHI)        ((_SHI)->SharedMemoryFlags)
#define NET_BUFFER_SHARED_MEM_HANDLE(_SHI)       ((_SHI)->SharedMemoryHandle)
#define NET_BUFFER_SHARED_MEM_OFFSET(_SHI)       ((_SHI)->SharedMemoryOffset)
#define NET_BUFFER_SHARED_MEM_LENGTH(_SHI)       ((_SHI)->SharedMemoryLength)

/* ---- per-NBL information: 802.1Q tag, receive filter and queue ---- */
typedef struct _NDIS_NET_BUFFER_LIST_8021Q_INFO {
    union {
        struct {
            UINT32 UserPriority : 3;
            UINT32 CanonicalFormatId : 1;
            UINT32 VlanId : 12;
            UINT32 Reserved : 16;
        } TagHeader;
        struct {
            UINT32 UserPriority : 3;
            UINT32 CanonicalFormatId : 1;
            UINT32 VlanId : 12;
            UINT32 WMMInfo : 4;
            UINT32 Reserved : 12;
        } WLanTagHeader;
        PVOID Value;
    };
} NDIS_NET_BUFFER_LIST_8021Q_INFO, *PNDIS_NET_BUFFER_LIST_8021Q_INFO;

typedef struct _NDIS_NET_BUFFER_LIST_FILTERING_INFO {
    union {
        struct {
            USHORT FilterId;
            union {
                USHORT QueueId;
                USHORT VPortId;
            } QueueVPortInfo;
        } FilteringInfo;
        PVOID Value;
    };
} NDIS_NET_BUFFER_LIST_FILTERING_INFO, *PNDIS_NET_BUFFER_LIST_FILTERING_INFO;
#define NET_BUFFER_LIST_RECEIVE_FILTER_ID(_NBL)                                                \
    (((PNDIS_NET_BUFFER_LIST_FILTERING_INFO)&NET_BUFFER_LIST_INFO(_NBL,                        \
                                                                  NetBufferListFilteringInfo)) \
         ->FilteringInfo.FilterId)
#define NET_BUFFER_LIST_RECEIVE_QUEUE_ID(_NBL)                                                 \
    (((PNDIS_NET_BUFFER_LIST_FILTERING_INFO)&NET_BUFFER_LIST_INFO(_NBL,                        \
                                                                  NetBufferListFilteringInfo)) \
         ->FilteringInfo.QueueVPortInfo.QueueId)
#define NET_BUFFER_LIST_RECEIVE_FILTER_VPORT_ID(_NBL)                                          \
    (((PNDIS_NET_BUFFER_LIST_FILTERING_INFO)&NET_BUFFER_LIST_INFO(_NBL,                        \
                                                                  NetBufferListFilteringInfo)) \
         ->FilteringInfo.QueueVPortInfo.VPortId)

#endif /* VFO_DDK_NDIS_VMQ_H */
