/*
 * ndis_protocol.h - the protocol driver interface: characteristics, bind and
 * open parameters, PnP event notifications and the protocol-side NDIS
 * functions. Part of the clean-room ndis.h.
 */
#ifndef VFO_DDK_NDIS_PROTOCOL_H
#define VFO_DDK_NDIS_PROTOCOL_H

typedef enum _NET_PNP_EVENT_CODE {
    NetEventSetPower,
    NetEventQueryPower,
    NetEventQueryRemoveDevice,
    NetEventCancelRemoveDevice,
    NetEventReconfigure,
    NetEventBindList,
    NetEventBindsComplete,
    NetEventPnPCapabilities,
    NetEventPause,
    NetEventRestart,
    NetEventPortActivation,
    NetEventPortDeactivation,
    NetEventIMReEnableDevice,
    NetEventNDKEnable,
    NetEventNDKDisable,
    NetEventFilterPreDetach,
    NetEventBindFailed,
    NetEventSwitchActivate,
    NetEventAllowBindsAbove,
    NetEventInhibitBindsAbove,
    NetEventAllowStart,
    NetEventRequirePause,
    NetEventUploadGftFlowEntries,
    NetEventMaximum
} NET_PNP_EVENT_CODE,
    *PNET_PNP_EVENT_CODE;

typedef enum _NET_DEVICE_POWER_STATE {
    NetDeviceStateUnspecified,
    NetDeviceStateD0,
    NetDeviceStateD1,
    NetDeviceStateD2,
    NetDeviceStateD3,
    NetDeviceStateMaximum
} NET_DEVICE_POWER_STATE,
    *PNET_DEVICE_POWER_STATE;

typedef struct _NET_PNP_EVENT {
    NET_PNP_EVENT_CODE NetEvent;
    PVOID Buffer;
    ULONG BufferLength;
    ULONG_PTR NdisReserved[4];
    ULONG_PTR TransportReserved[4];
    ULONG_PTR TdiReserved[4];
    ULONG_PTR TdiClientReserved[4];
} NET_PNP_EVENT, *PNET_PNP_EVENT;

typedef struct _NET_PNP_EVENT_NOTIFICATION {
    NDIS_OBJECT_HEADER Header;
    NDIS_PORT_NUMBER PortNumber;
    NET_PNP_EVENT NetPnPEvent;
    ULONG Flags;
} NET_PNP_EVENT_NOTIFICATION, *PNET_PNP_EVENT_NOTIFICATION;
#define NET_PNP_EVENT_NOTIFICATION_REVISION_1 1

typedef struct _NDIS_PROTOCOL_PAUSE_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    ULONG PauseReason;
} NDIS_PROTOCOL_PAUSE_PARAMETERS, *PNDIS_PROTOCOL_PAUSE_PARAMETERS;
#define NDIS_PROTOCOL_PAUSE_PARAMETERS_REVISION_1 1

typedef struct _NDIS_PROTOCOL_RESTART_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    PUCHAR FilterModuleNameBuffer;
    ULONG FilterModuleNameBufferLength;
    PNDIS_RESTART_ATTRIBUTES RestartAttributes;
    NET_IFINDEX BoundIfIndex;
    NET_LUID BoundIfNetluid;
    ULONG Flags;
} NDIS_PROTOCOL_RESTART_PARAMETERS, *PNDIS_PROTOCOL_RESTART_PARAMETERS;
#define NDIS_PROTOCOL_RESTART_PARAMETERS_REVISION_1 1

typedef struct _NDIS_BIND_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    PNDIS_STRING ProtocolSection;
    PNDIS_STRING AdapterName;
    PDEVICE_OBJECT PhysicalDeviceObject;
    NDIS_MEDIUM MediaType;
    ULONG MtuSize;
    ULONG64 MaxXmitLinkSpeed;
    ULONG64 XmitLinkSpeed;
    ULONG64 MaxRcvLinkSpeed;
    ULONG64 RcvLinkSpeed;
    NDIS_MEDIA_CONNECT_STATE MediaConnectState;
    NDIS_MEDIA_DUPLEX_STATE MediaDuplexState;
    ULONG LookaheadSize;
    PNDIS_PNP_CAPABILITIES PowerManagementCapabilities;
    ULONG SupportedPacketFilters;
    ULONG MaxMulticastListSize;
    USHORT MacAddressLength;
    UCHAR CurrentMacAddress[NDIS_MAX_PHYS_ADDRESS_LENGTH];
    NDIS_PHYSICAL_MEDIUM PhysicalMediumType;
    PNDIS_RECEIVE_SCALE_CAPABILITIES RcvScaleCapabilities;
    NET_LUID BoundIfNetluid;
    NET_IFINDEX BoundIfIndex;
    NET_LUID LowestIfNetluid;
    NET_IFINDEX LowestIfIndex;
    NET_IF_ACCESS_TYPE AccessType;
    NET_IF_DIRECTION_TYPE DirectionType;
    NET_IF_CONNECTION_TYPE ConnectionType;
    NET_IFTYPE IfType;
    BOOLEAN IfConnectorPresent;
    PNDIS_PORT ActivePorts;
    ULONG DataBackFillSize;
    ULONG ContextBackFillSize;
    ULONG MacOptions;
    NET_IF_COMPARTMENT_ID CompartmentId;
    PNDIS_OFFLOAD DefaultOffloadConfiguration;
    PNDIS_TCP_CONNECTION_OFFLOAD TcpConnectionOffloadCapabilities;
    PNDIS_STRING BoundAdapterName;
    PNDIS_HD_SPLIT_CURRENT_CONFIG HDSplitCurrentConfig;
    PNDIS_RECEIVE_FILTER_CAPABILITIES ReceiveFilterCapabilities;
    PNDIS_PM_CAPABILITIES PowerManagementCapabilitiesEx;
    PNDIS_NIC_SWITCH_CAPABILITIES NicSwitchCapabilities;
    BOOLEAN NDKEnabled;
    PNDIS_NDK_CAPABILITIES NDKCapabilities;
    PNDIS_SRIOV_CAPABILITIES SriovCapabilities;
    PNDIS_NIC_SWITCH_INFO_ARRAY NicSwitchArray;
} NDIS_BIND_PARAMETERS, *PNDIS_BIND_PARAMETERS;
#define NDIS_BIND_PARAMETERS_REVISION_1 1
#define NDIS_BIND_PARAMETERS_REVISION_2 2
#define NDIS_BIND_PARAMETERS_REVISION_3 3
#define NDIS_BIND_PARAMETERS_REVISION_4 4
#define NDIS_SIZEOF_BIND_PARAMETERS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_BIND_PARAMETERS, BoundAdapterName)
#define NDIS_SIZEOF_BIND_PARAMETERS_REVISION_4 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_BIND_PARAMETERS, NicSwitchArray)

typedef struct _NDIS_OPEN_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    PNDIS_STRING AdapterName;
    PNDIS_MEDIUM MediumArray;
    UINT MediumArraySize;
    PUINT SelectedMediumIndex;
    PNET_FRAME_TYPE FrameTypeArray;
    UINT FrameTypeArraySize;
} NDIS_OPEN_PARAMETERS, *PNDIS_OPEN_PARAMETERS;
#define NDIS_OPEN_PARAMETERS_REVISION_1 1
#define NDIS_SIZEOF_OPEN_PARAMETERS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_OPEN_PARAMETERS, FrameTypeArraySize)

/* ---- protocol callbacks ---- */
typedef NDIS_STATUS PROTOCOL_BIND_ADAPTER_EX(NDIS_HANDLE ProtocolDriverContext,
                                             NDIS_HANDLE BindContext,
                                             PNDIS_BIND_PARAMETERS BindParameters);
typedef PROTOCOL_BIND_ADAPTER_EX *BIND_HANDLER_EX;
typedef NDIS_STATUS PROTOCOL_UNBIND_ADAPTER_EX(NDIS_HANDLE UnbindContext,
                                               NDIS_HANDLE ProtocolBindingContext);
typedef PROTOCOL_UNBIND_ADAPTER_EX *UNBIND_HANDLER_EX;
typedef void PROTOCOL_OPEN_ADAPTER_COMPLETE_EX(NDIS_HANDLE ProtocolBindingContext,
                                               NDIS_STATUS Status);
typedef PROTOCOL_OPEN_ADAPTER_COMPLETE_EX *OPEN_ADAPTER_COMPLETE_HANDLER_EX;
typedef void PROTOCOL_CLOSE_ADAPTER_COMPLETE_EX(NDIS_HANDLE ProtocolBindingContext);
typedef PROTOCOL_CLOSE_ADAPTER_COMPLETE_EX *CLOSE_ADAPTER_COMPLETE_HANDLER_EX;
typedef NDIS_STATUS PROTOCOL_NET_PNP_EVENT(NDIS_HANDLE ProtocolBindingContext,
                                           PNET_PNP_EVENT_NOTIFICATION NetPnPEventNotification);
typedef PROTOCOL_NET_PNP_EVENT *NET_PNP_EVENT_HANDLER;
typedef void PROTOCOL_UNINSTALL(void);
typedef PROTOCOL_UNINSTALL *UNINSTALL_PROTOCOL_HANDLER;
typedef void PROTOCOL_OID_REQUEST_COMPLETE(NDIS_HANDLE ProtocolBindingContext,
                                           PNDIS_OID_REQUEST OidRequest, NDIS_STATUS Status);
typedef PROTOCOL_OID_REQUEST_COMPLETE *OID_REQUEST_COMPLETE_HANDLER;
typedef void PROTOCOL_STATUS_EX(NDIS_HANDLE ProtocolBindingContext,
                                PNDIS_STATUS_INDICATION StatusIndication);
typedef PROTOCOL_STATUS_EX *STATUS_HANDLER_EX;
typedef void PROTOCOL_RECEIVE_NET_BUFFER_LISTS(NDIS_HANDLE ProtocolBindingContext,
                                               PNET_BUFFER_LIST NetBufferLists,
                                               NDIS_PORT_NUMBER PortNumber,
                                               ULONG NumberOfNetBufferLists, ULONG ReceiveFlags);
typedef PROTOCOL_RECEIVE_NET_BUFFER_LISTS *RECEIVE_NET_BUFFER_LISTS_HANDLER;
typedef void PROTOCOL_SEND_NET_BUFFER_LISTS_COMPLETE(NDIS_HANDLE ProtocolBindingContext,
                                                     PNET_BUFFER_LIST NetBufferList,
                                                     ULONG SendCompleteFlags);
typedef PROTOCOL_SEND_NET_BUFFER_LISTS_COMPLETE *SEND_NET_BUFFER_LISTS_COMPLETE_HANDLER;
typedef void PROTOCOL_DIRECT_OID_REQUEST_COMPLETE(NDIS_HANDLE ProtocolBindingContext,
                                                  PNDIS_OID_REQUEST OidRequest, NDIS_STATUS Status);
typedef PROTOCOL_DIRECT_OID_REQUEST_COMPLETE *DIRECT_OID_REQUEST_COMPLETE_HANDLER;

typedef struct _NDIS_PROTOCOL_DRIVER_CHARACTERISTICS {
    NDIS_OBJECT_HEADER Header;
    UCHAR MajorNdisVersion;
    UCHAR MinorNdisVersion;
    UCHAR MajorDriverVersion;
    UCHAR MinorDriverVersion;
    ULONG Flags;
    NDIS_STRING Name;
    SET_OPTIONS_HANDLER SetOptionsHandler;
    BIND_HANDLER_EX BindAdapterHandlerEx;
    UNBIND_HANDLER_EX UnbindAdapterHandlerEx;
    OPEN_ADAPTER_COMPLETE_HANDLER_EX OpenAdapterCompleteHandlerEx;
    CLOSE_ADAPTER_COMPLETE_HANDLER_EX CloseAdapterCompleteHandlerEx;
    NET_PNP_EVENT_HANDLER NetPnPEventHandler;
    UNINSTALL_PROTOCOL_HANDLER UninstallHandler;
    OID_REQUEST_COMPLETE_HANDLER OidRequestCompleteHandler;
    STATUS_HANDLER_EX StatusHandlerEx;
    RECEIVE_NET_BUFFER_LISTS_HANDLER ReceiveNetBufferListsHandler;
    SEND_NET_BUFFER_LISTS_COMPLETE_HANDLER SendNetBufferListsCompleteHandler;
    DIRECT_OID_REQUEST_COMPLETE_HANDLER DirectOidRequestCompleteHandler;
} NDIS_PROTOCOL_DRIVER_CHARACTERISTICS, *PNDIS_PROTOCOL_DRIVER_CHARACTERISTICS;
#define NDIS_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_1 1
#define NDIS_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2 2
#define NDIS_SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_1     \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_PROTOCOL_DRIVER_CHARACTERISTICS, \
                             SendNetBufferListsCompleteHandler)
#define NDIS_SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_PROTOCOL_DRIVER_CHARACTERISTICS, DirectOidRequestCompleteHandler)
#define NDIS_PROTOCOL_MAJOR_VERSION 6
#define NDIS_PROTOCOL_MINOR_VERSION 30

/* ---- protocol-side functions ---- */
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisRegisterProtocolDriver(
    NDIS_HANDLE ProtocolDriverContext, PNDIS_PROTOCOL_DRIVER_CHARACTERISTICS Chars,
    PNDIS_HANDLE NdisProtocolHandle);
NDIS_EXPORTED_ROUTINE void NdisDeregisterProtocolDriver(NDIS_HANDLE NdisProtocolHandle);
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisOpenAdapterEx(NDIS_HANDLE NdisProtocolHandle,
                                                    NDIS_HANDLE ProtocolBindingContext,
                                                    PNDIS_OPEN_PARAMETERS OpenParameters,
                                                    NDIS_HANDLE BindContext,
                                                    PNDIS_HANDLE NdisBindingHandle);
NDIS_EXPORTED_ROUTINE void NdisCompleteBindAdapterEx(NDIS_HANDLE BindAdapterContext,
                                                     NDIS_STATUS Status);
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisCloseAdapterEx(NDIS_HANDLE NdisBindingHandle);
NDIS_EXPORTED_ROUTINE void NdisCompleteUnbindAdapterEx(NDIS_HANDLE UnbindContext);
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisUnbindAdapter(NDIS_HANDLE NdisBindingHandle);
NDIS_EXPORTED_ROUTINE void
NdisCompleteNetPnPEvent(NDIS_HANDLE NdisBindingHandle,
                        PNET_PNP_EVENT_NOTIFICATION NetPnPEventNotification, NDIS_STATUS Status);
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisOidRequest(NDIS_HANDLE NdisBindingHandle,
                                                 PNDIS_OID_REQUEST OidRequest);
NDIS_EXPORTED_ROUTINE void NdisCancelOidRequest(NDIS_HANDLE NdisBindingHandle, PVOID RequestId);
#define NDIS_SEND_FLAGS_DISPATCH_LEVEL     0x00000001
#define NDIS_SEND_FLAGS_CHECK_FOR_LOOPBACK 0x00000002
#define NDIS_SEND_FLAGS_SINGLE_QUEUE       0x00000004
NDIS_EXPORTED_ROUTINE void NdisSendNetBufferLists(NDIS_HANDLE NdisBindingHandle,
                                                  PNET_BUFFER_LIST NetBufferLists,
                                                  NDIS_PORT_NUMBER PortNumber, ULONG SendFlags);
NDIS_EXPORTED_ROUTINE void NdisReturnNetBufferLists(NDIS_HANDLE NdisBindingHandle,
                                                    PNET_BUFFER_LIST NetBufferLists,
                                                    ULONG ReturnFlags);
/* Cancelling sends by the cancel ID set with NDIS_SET_NET_BUFFER_LIST_CANCEL_ID. */
NDIS_EXPORTED_ROUTINE void NdisCancelSendNetBufferLists(NDIS_HANDLE NdisBindingHandle,
                                                        PVOID CancelId);
NDIS_EXPORTED_ROUTINE UCHAR NdisGeneratePartialCancelId(void);

/* ---- NDIS 6 lightweight filters ---- */
#define NDIS_OBJECT_TYPE_FILTER_DRIVER_CHARACTERISTICS  0x8B
#define NDIS_OBJECT_TYPE_FILTER_PARTIAL_CHARACTERISTICS 0x8C
#define NDIS_OBJECT_TYPE_FILTER_ATTRIBUTES              0x8D
#define NDIS_OBJECT_TYPE_FILTER_ATTACH_PARAMETERS       0x99
#define NDIS_OBJECT_TYPE_FILTER_PAUSE_PARAMETERS        0x9A
#define NDIS_OBJECT_TYPE_FILTER_RESTART_PARAMETERS      0x9B
#define NDIS_FILTER_MAJOR_VERSION                       6
#define NDIS_FILTER_MINOR_VERSION                       30

#define NDIS_FILTER_ATTACH_FLAGS_IGNORE_MANDATORY 0x00000001
#define NDIS_FILTER_ATTACH_PARAMETERS_REVISION_1  1
#define NDIS_FILTER_ATTACH_PARAMETERS_REVISION_2  2
#define NDIS_FILTER_ATTACH_PARAMETERS_REVISION_3  3
#define NDIS_FILTER_ATTACH_PARAMETERS_REVISION_4  4
typedef struct _NDIS_FILTER_ATTACH_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    NET_IFINDEX IfIndex;
    NET_LUID NetLuid;
    PNDIS_STRING FilterModuleGuidName;
    NET_IFINDEX BaseMiniportIfIndex;
    PNDIS_STRING BaseMiniportInstanceName;
    PNDIS_STRING BaseMiniportName;
    NDIS_MEDIA_CONNECT_STATE MediaConnectState;
    NET_IF_MEDIA_DUPLEX_STATE MediaDuplexState;
    ULONG64 XmitLinkSpeed;
    ULONG64 RcvLinkSpeed;
    NDIS_MEDIUM MiniportMediaType;
    NDIS_PHYSICAL_MEDIUM MiniportPhysicalMediaType;
    NDIS_HANDLE MiniportMediaSpecificAttributes;
    PNDIS_OFFLOAD DefaultOffloadConfiguration;
    USHORT MacAddressLength;
    UCHAR CurrentMacAddress[NDIS_MAX_PHYS_ADDRESS_LENGTH];
    NET_LUID BaseMiniportNetLuid;
    NET_IFINDEX LowerIfIndex;
    NET_LUID LowerIfNetLuid;
    ULONG Flags;
    PNDIS_HD_SPLIT_CURRENT_CONFIG HDSplitCurrentConfig;
    PNDIS_RECEIVE_FILTER_CAPABILITIES ReceiveFilterCapabilities;
    PDEVICE_OBJECT MiniportPhysicalDeviceObject;
    PNDIS_NIC_SWITCH_CAPABILITIES NicSwitchCapabilities;
    BOOLEAN BaseMiniportIfConnectorPresent;
    PNDIS_SRIOV_CAPABILITIES SriovCapabilities;
    PNDIS_NIC_SWITCH_INFO_ARRAY NicSwitchArray;
} NDIS_FILTER_ATTACH_PARAMETERS, *PNDIS_FILTER_ATTACH_PARAMETERS;
#define NDIS_SIZEOF_FILTER_ATTACH_PARAMETERS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_FILTER_ATTACH_PARAMETERS, Flags)
#define NDIS_SIZEOF_FILTER_ATTACH_PARAMETERS_REVISION_2 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_FILTER_ATTACH_PARAMETERS, HDSplitCurrentConfig)
#define NDIS_SIZEOF_FILTER_ATTACH_PARAMETERS_REVISION_3 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_FILTER_ATTACH_PARAMETERS, NicSwitchCapabilities)
#define NDIS_SIZEOF_FILTER_ATTACH_PARAMETERS_REVISION_4 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_FILTER_ATTACH_PARAMETERS, NicSwitchArray)

#define NDIS_FILTER_RESTART_PARAMETERS_REVISION_1 1
typedef struct _NDIS_FILTER_RESTART_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    NDIS_MEDIUM MiniportMediaType;
    NDIS_PHYSICAL_MEDIUM MiniportPhysicalMediaType;
    PNDIS_RESTART_ATTRIBUTES RestartAttributes;
    NET_IFINDEX LowerIfIndex;
    NET_LUID LowerIfNetLuid;
    ULONG Flags;
} NDIS_FILTER_RESTART_PARAMETERS, *PNDIS_FILTER_RESTART_PARAMETERS;
#define NDIS_SIZEOF__FILTER_RESTART_PARAMETERS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_FILTER_RESTART_PARAMETERS, Flags)

#define NDIS_FILTER_PAUSE_PARAMETERS_REVISION_1 1
typedef struct _NDIS_FILTER_PAUSE_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    ULONG PauseReason;
} NDIS_FILTER_PAUSE_PARAMETERS, *PNDIS_FILTER_PAUSE_PARAMETERS;
#define NDIS_SIZEOF_FILTER_PAUSE_PARAMETERS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_FILTER_PAUSE_PARAMETERS, PauseReason)

typedef NDIS_STATUS FILTER_ATTACH(NDIS_HANDLE NdisFilterHandle, NDIS_HANDLE FilterDriverContext,
                                  PNDIS_FILTER_ATTACH_PARAMETERS AttachParameters);
typedef FILTER_ATTACH *FILTER_ATTACH_HANDLER;
typedef void FILTER_DETACH(NDIS_HANDLE FilterModuleContext);
typedef FILTER_DETACH *FILTER_DETACH_HANDLER;
typedef NDIS_STATUS FILTER_SET_MODULE_OPTIONS(NDIS_HANDLE FilterModuleContext);
typedef FILTER_SET_MODULE_OPTIONS *FILTER_SET_FILTER_MODULE_OPTIONS_HANDLER;
typedef NDIS_STATUS FILTER_RESTART(NDIS_HANDLE FilterModuleContext,
                                   PNDIS_FILTER_RESTART_PARAMETERS RestartParameters);
typedef FILTER_RESTART *FILTER_RESTART_HANDLER;
typedef NDIS_STATUS FILTER_PAUSE(NDIS_HANDLE FilterModuleContext,
                                 PNDIS_FILTER_PAUSE_PARAMETERS PauseParameters);
typedef FILTER_PAUSE *FILTER_PAUSE_HANDLER;
typedef NDIS_STATUS FILTER_OID_REQUEST(NDIS_HANDLE FilterModuleContext,
                                       PNDIS_OID_REQUEST OidRequest);
typedef FILTER_OID_REQUEST *FILTER_OID_REQUEST_HANDLER;
typedef void FILTER_CANCEL_OID_REQUEST(NDIS_HANDLE FilterModuleContext, PVOID RequestId);
typedef FILTER_CANCEL_OID_REQUEST *FILTER_CANCEL_OID_REQUEST_HANDLER;
typedef void FILTER_SEND_NET_BUFFER_LISTS(NDIS_HANDLE FilterModuleContext,
                                          PNET_BUFFER_LIST NetBufferList,
                                          NDIS_PORT_NUMBER PortNumber, ULONG SendFlags);
typedef FILTER_SEND_NET_BUFFER_LISTS *FILTER_SEND_NET_BUFFER_LISTS_HANDLER;
typedef void FILTER_CANCEL_SEND_NET_BUFFER_LISTS(NDIS_HANDLE FilterModuleContext, PVOID CancelId);
typedef FILTER_CANCEL_SEND_NET_BUFFER_LISTS *FILTER_CANCEL_SEND_HANDLER;
typedef void FILTER_RETURN_NET_BUFFER_LISTS(NDIS_HANDLE FilterModuleContext,
                                            PNET_BUFFER_LIST NetBufferLists, ULONG ReturnFlags);
typedef FILTER_RETURN_NET_BUFFER_LISTS *FILTER_RETURN_NET_BUFFER_LISTS_HANDLER;
typedef void FILTER_SEND_NET_BUFFER_LISTS_COMPLETE(NDIS_HANDLE FilterModuleContext,
                                                   PNET_BUFFER_LIST NetBufferList,
                                                   ULONG SendCompleteFlags);
typedef FILTER_SEND_NET_BUFFER_LISTS_COMPLETE *FILTER_SEND_NET_BUFFER_LISTS_COMPLETE_HANDLER;
typedef void FILTER_RECEIVE_NET_BUFFER_LISTS(NDIS_HANDLE FilterModuleContext,
                                             PNET_BUFFER_LIST NetBufferLists,
                                             NDIS_PORT_NUMBER PortNumber,
                                             ULONG NumberOfNetBufferLists, ULONG ReceiveFlags);
typedef FILTER_RECEIVE_NET_BUFFER_LISTS *FILTER_RECEIVE_NET_BUFFER_LISTS_HANDLER;
typedef void FILTER_DEVICE_PNP_EVENT_NOTIFY(NDIS_HANDLE FilterModuleContext,
                                            PNET_DEVICE_PNP_EVENT NetDevicePnPEvent);
typedef FILTER_DEVICE_PNP_EVENT_NOTIFY *FILTER_DEVICE_PNP_EVENT_NOTIFY_HANDLER;
typedef NDIS_STATUS FILTER_NET_PNP_EVENT(NDIS_HANDLE FilterModuleContext,
                                         PNET_PNP_EVENT_NOTIFICATION NetPnPEventNotification);
typedef FILTER_NET_PNP_EVENT *FILTER_NET_PNP_EVENT_HANDLER;
typedef void FILTER_STATUS(NDIS_HANDLE FilterModuleContext,
                           PNDIS_STATUS_INDICATION StatusIndication);
typedef FILTER_STATUS *FILTER_STATUS_HANDLER;
typedef void FILTER_OID_REQUEST_COMPLETE(NDIS_HANDLE FilterModuleContext,
                                         PNDIS_OID_REQUEST OidRequest, NDIS_STATUS Status);
typedef FILTER_OID_REQUEST_COMPLETE *FILTER_OID_REQUEST_COMPLETE_HANDLER;
typedef NDIS_STATUS FILTER_DIRECT_OID_REQUEST(NDIS_HANDLE FilterModuleContext,
                                              PNDIS_OID_REQUEST OidRequest);
typedef FILTER_DIRECT_OID_REQUEST *FILTER_DIRECT_OID_REQUEST_HANDLER;
typedef void FILTER_DIRECT_OID_REQUEST_COMPLETE(NDIS_HANDLE FilterModuleContext,
                                                PNDIS_OID_REQUEST OidRequest, NDIS_STATUS Status);
typedef FILTER_DIRECT_OID_REQUEST_COMPLETE *FILTER_DIRECT_OID_REQUEST_COMPLETE_HANDLER;
typedef void FILTER_CANCEL_DIRECT_OID_REQUEST(NDIS_HANDLE FilterModuleContext, PVOID RequestId);
typedef FILTER_CANCEL_DIRECT_OID_REQUEST *FILTER_CANCEL_DIRECT_OID_REQUEST_HANDLER;

#define NDIS_FILTER_PARTIAL_CHARACTERISTICS_REVISION_1 1
typedef struct _NDIS_FILTER_PARTIAL_CHARACTERISTICS {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    FILTER_SEND_NET_BUFFER_LISTS_HANDLER SendNetBufferListsHandler;
    FILTER_SEND_NET_BUFFER_LISTS_COMPLETE_HANDLER SendNetBufferListsCompleteHandler;
    FILTER_CANCEL_SEND_HANDLER CancelSendNetBufferListsHandler;
    FILTER_RECEIVE_NET_BUFFER_LISTS_HANDLER ReceiveNetBufferListsHandler;
    FILTER_RETURN_NET_BUFFER_LISTS_HANDLER ReturnNetBufferListsHandler;
} NDIS_FILTER_PARTIAL_CHARACTERISTICS, *PNDIS_FILTER_PARTIAL_CHARACTERISTICS;
#define NDIS_SIZEOF_FILTER_PARTIAL_CHARACTERISTICS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_FILTER_PARTIAL_CHARACTERISTICS, ReturnNetBufferListsHandler)

#define NDIS_FILTER_DRIVER_MANDATORY           0x00000001
#define NDIS_FILTER_CHARACTERISTICS_REVISION_1 1
#define NDIS_FILTER_CHARACTERISTICS_REVISION_2 2
typedef struct _NDIS_FILTER_DRIVER_CHARACTERISTICS {
    NDIS_OBJECT_HEADER Header;
    UCHAR MajorNdisVersion;
    UCHAR MinorNdisVersion;
    UCHAR MajorDriverVersion;
    UCHAR MinorDriverVersion;
    ULONG Flags;
    NDIS_STRING FriendlyName;
    NDIS_STRING UniqueName;
    NDIS_STRING ServiceName;
    SET_OPTIONS_HANDLER SetOptionsHandler;
    FILTER_SET_FILTER_MODULE_OPTIONS_HANDLER SetFilterModuleOptionsHandler;
    FILTER_ATTACH_HANDLER AttachHandler;
    FILTER_DETACH_HANDLER DetachHandler;
    FILTER_RESTART_HANDLER RestartHandler;
    FILTER_PAUSE_HANDLER PauseHandler;
    FILTER_SEND_NET_BUFFER_LISTS_HANDLER SendNetBufferListsHandler;
    FILTER_SEND_NET_BUFFER_LISTS_COMPLETE_HANDLER SendNetBufferListsCompleteHandler;
    FILTER_CANCEL_SEND_HANDLER CancelSendNetBufferListsHandler;
    FILTER_RECEIVE_NET_BUFFER_LISTS_HANDLER ReceiveNetBufferListsHandler;
    FILTER_RETURN_NET_BUFFER_LISTS_HANDLER ReturnNetBufferListsHandler;
    FILTER_OID_REQUEST_HANDLER OidRequestHandler;
    FILTER_OID_REQUEST_COMPLETE_HANDLER OidRequestCompleteHandler;
    FILTER_CANCEL_OID_REQUEST_HANDLER CancelOidRequestHandler;
    FILTER_DEVICE_PNP_EVENT_NOTIFY_HANDLER DevicePnPEventNotifyHandler;
    FILTER_NET_PNP_EVENT_HANDLER NetPnPEventHandler;
    FILTER_STATUS_HANDLER StatusHandler;
    FILTER_DIRECT_OID_REQUEST_HANDLER DirectOidRequestHandler;
    FILTER_DIRECT_OID_REQUEST_COMPLETE_HANDLER DirectOidRequestCompleteHandler;
    FILTER_CANCEL_DIRECT_OID_REQUEST_HANDLER CancelDirectOidRequestHandler;
} NDIS_FILTER_DRIVER_CHARACTERISTICS, *PNDIS_FILTER_DRIVER_CHARACTERISTICS;
#define NDIS_SIZEOF_FILTER_DRIVER_CHARACTERISTICS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_FILTER_DRIVER_CHARACTERISTICS, StatusHandler)
#define NDIS_SIZEOF_FILTER_DRIVER_CHARACTERISTICS_REVISION_2 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_FILTER_DRIVER_CHARACTERISTICS, CancelDirectOidRequestHandler)

#define NDIS_FILTER_ATTRIBUTES_REVISION_1 1
typedef struct _NDIS_FILTER_ATTRIBUTES {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
} NDIS_FILTER_ATTRIBUTES, *PNDIS_FILTER_ATTRIBUTES;
#define NDIS_SIZEOF_FILTER_ATTRIBUTES_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_FILTER_ATTRIBUTES, Flags)

/* The optional handlers a driver sets from its SetOptions or (a filter's
 * NDIS_FILTER_PARTIAL_CHARACTERISTICS) FilterSetModuleOptions handler. */
typedef struct _NDIS_DRIVER_OPTIONAL_HANDLERS {
    NDIS_OBJECT_HEADER Header;
} NDIS_DRIVER_OPTIONAL_HANDLERS, *PNDIS_DRIVER_OPTIONAL_HANDLERS;
NDIS_EXPORTED_ROUTINE NDIS_STATUS
NdisSetOptionalHandlers(NDIS_HANDLE NdisHandle, PNDIS_DRIVER_OPTIONAL_HANDLERS OptionalHandlers);

NDIS_EXPORTED_ROUTINE NDIS_STATUS
NdisFRegisterFilterDriver(PDRIVER_OBJECT DriverObject, NDIS_HANDLE FilterDriverContext,
                          PNDIS_FILTER_DRIVER_CHARACTERISTICS FilterDriverCharacteristics,
                          PNDIS_HANDLE NdisFilterDriverHandle);
NDIS_EXPORTED_ROUTINE void NdisFDeregisterFilterDriver(NDIS_HANDLE NdisFilterDriverHandle);
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisFSetAttributes(NDIS_HANDLE NdisFilterHandle,
                                                     NDIS_HANDLE FilterModuleContext,
                                                     PNDIS_FILTER_ATTRIBUTES FilterAttributes);
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisFRestartFilter(NDIS_HANDLE NdisFilterHandle);
NDIS_EXPORTED_ROUTINE void NdisFSendNetBufferLists(NDIS_HANDLE NdisFilterHandle,
                                                   PNET_BUFFER_LIST NetBufferList,
                                                   NDIS_PORT_NUMBER PortNumber, ULONG SendFlags);
NDIS_EXPORTED_ROUTINE void NdisFReturnNetBufferLists(NDIS_HANDLE NdisFilterHandle,
                                                     PNET_BUFFER_LIST NetBufferLists,
                                                     ULONG ReturnFlags);
NDIS_EXPORTED_ROUTINE void NdisFSendNetBufferListsComplete(NDIS_HANDLE NdisFilterHandle,
                                                           PNET_BUFFER_LIST NetBufferList,
                                                           ULONG SendCompleteFlags);
NDIS_EXPORTED_ROUTINE void NdisFIndicateReceiveNetBufferLists(NDIS_HANDLE NdisFilterHandle,
                                                              PNET_BUFFER_LIST NetBufferLists,
                                                              NDIS_PORT_NUMBER PortNumber,
                                                              ULONG NumberOfNetBufferLists,
                                                              ULONG ReceiveFlags);
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisFOidRequest(NDIS_HANDLE NdisFilterHandle,
                                                  PNDIS_OID_REQUEST OidRequest);
NDIS_EXPORTED_ROUTINE void NdisFOidRequestComplete(NDIS_HANDLE NdisFilterHandle,
                                                   PNDIS_OID_REQUEST OidRequest,
                                                   NDIS_STATUS Status);
NDIS_EXPORTED_ROUTINE void NdisFIndicateStatus(NDIS_HANDLE NdisFilterHandle,
                                               PNDIS_STATUS_INDICATION StatusIndication);
NDIS_EXPORTED_ROUTINE void NdisFRestartComplete(NDIS_HANDLE NdisFilterHandle, NDIS_STATUS Status);
NDIS_EXPORTED_ROUTINE void NdisFPauseComplete(NDIS_HANDLE NdisFilterHandle);
NDIS_EXPORTED_ROUTINE void NdisFDevicePnPEventNotify(NDIS_HANDLE NdisFilterHandle,
                                                     PNET_DEVICE_PNP_EVENT NetDevicePnPEvent);
NDIS_EXPORTED_ROUTINE NDIS_STATUS
NdisFNetPnPEvent(NDIS_HANDLE NdisFilterHandle, PNET_PNP_EVENT_NOTIFICATION NetPnPEventNotification);
NDIS_EXPORTED_ROUTINE void NdisFCancelSendNetBufferLists(NDIS_HANDLE NdisFilterHandle,
                                                         PVOID CancelId);
NDIS_EXPORTED_ROUTINE void NdisFCancelOidRequest(NDIS_HANDLE NdisFilterHandle, PVOID RequestId);
/* A filter's copy of an OID request to pass down (NdisFOidRequest). */
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisAllocateCloneOidRequest(NDIS_HANDLE SourceHandle,
                                                              PNDIS_OID_REQUEST OidRequest,
                                                              UINT PoolTag,
                                                              PNDIS_OID_REQUEST *ClonedOidRequest);
NDIS_EXPORTED_ROUTINE void NdisFreeCloneOidRequest(NDIS_HANDLE SourceHandle,
                                                   PNDIS_OID_REQUEST Request);

#endif /* VFO_DDK_NDIS_PROTOCOL_H */
