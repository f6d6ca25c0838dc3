/*
 * ndis_miniport.h - the miniport driver interface: characteristics,
 * adapter attributes, initialize/pause/restart parameters, PnP, interrupts,
 * DMA, register access and the NdisM* functions. Part of the clean-room ndis.h.
 */
#ifndef VFO_DDK_NDIS_MINIPORT_H
#define VFO_DDK_NDIS_MINIPORT_H

typedef enum _NDIS_HALT_ACTION {
    NdisHaltDeviceDisabled,
    NdisHaltDeviceInstanceDeInitialized,
    NdisHaltDevicePoweredDown,
    NdisHaltDeviceSurpriseRemoved,
    NdisHaltDeviceFailed,
    NdisHaltDeviceInitializationFailed,
    NdisHaltDeviceStopped
} NDIS_HALT_ACTION,
    *PNDIS_HALT_ACTION;

typedef enum _NDIS_SHUTDOWN_ACTION {
    NdisShutdownPowerOff,
    NdisShutdownBugCheck
} NDIS_SHUTDOWN_ACTION,
    PNDIS_SHUTDOWN_ACTION; /* sic: the WDK's PNDIS_SHUTDOWN_ACTION is the enum, not a pointer */

typedef enum _NDIS_DEVICE_PNP_EVENT {
    NdisDevicePnPEventQueryRemoved,
    NdisDevicePnPEventRemoved,
    NdisDevicePnPEventSurpriseRemoved,
    NdisDevicePnPEventQueryStopped,
    NdisDevicePnPEventStopped,
    NdisDevicePnPEventPowerProfileChanged,
    NdisDevicePnPEventFilterListChanged,
    NdisDevicePnPEventMaximum
} NDIS_DEVICE_PNP_EVENT,
    *PNDIS_DEVICE_PNP_EVENT;

typedef enum _NDIS_INTERFACE_TYPE {
    NdisInterfaceInternal = 0,
    NdisInterfaceIsa = 1,
    NdisInterfaceEisa = 2,
    NdisInterfaceMca = 3,
    NdisInterfaceTurboChannel = 4,
    NdisInterfacePci = 5,
    NdisInterfacePcMcia = 8
} NDIS_INTERFACE_TYPE,
    *PNDIS_INTERFACE_TYPE;

typedef struct _NET_DEVICE_PNP_EVENT {
    NDIS_OBJECT_HEADER Header;
    NDIS_PORT_NUMBER PortNumber;
    NDIS_DEVICE_PNP_EVENT DevicePnPEvent;
    PVOID InformationBuffer;
    ULONG InformationBufferLength;
    UCHAR NdisReserved[2 * sizeof(PVOID)];
} NET_DEVICE_PNP_EVENT, *PNET_DEVICE_PNP_EVENT;

/* ---- initialize / pause / restart ---- */
typedef struct _NDIS_MINIPORT_INIT_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    PNDIS_RESOURCE_LIST AllocatedResources;
    NDIS_HANDLE IMDeviceInstanceContext;
    NDIS_HANDLE MiniportAddDeviceContext;
    NET_IFINDEX IfIndex;
    NET_LUID NetLuid;
    PVOID DefaultPortAuthStates;
    PVOID PciDeviceCustomProperties;
} NDIS_MINIPORT_INIT_PARAMETERS, *PNDIS_MINIPORT_INIT_PARAMETERS;
#define NDIS_MINIPORT_INIT_PARAMETERS_REVISION_1 1

typedef struct _NDIS_MINIPORT_PAUSE_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    ULONG PauseReason;
} NDIS_MINIPORT_PAUSE_PARAMETERS, *PNDIS_MINIPORT_PAUSE_PARAMETERS;
#define NDIS_MINIPORT_PAUSE_PARAMETERS_REVISION_1 1
#define NDIS_PAUSE_NDIS_INTERNAL                  0x00000001
#define NDIS_PAUSE_LOW_POWER                      0x00000002
#define NDIS_PAUSE_BIND_PROTOCOL                  0x00000004
#define NDIS_PAUSE_UNBIND_PROTOCOL                0x00000008
#define NDIS_PAUSE_ATTACH_FILTER                  0x00000010
#define NDIS_PAUSE_DETACH_FILTER                  0x00000020
#define NDIS_PAUSE_FILTER_RESTART_STACK           0x00000040
#define NDIS_PAUSE_MINIPORT_DEVICE_REMOVE         0x00000080

typedef struct _NDIS_MINIPORT_RESTART_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    PNDIS_RESTART_ATTRIBUTES RestartAttributes;
    ULONG Flags;
} NDIS_MINIPORT_RESTART_PARAMETERS, *PNDIS_MINIPORT_RESTART_PARAMETERS;
#define NDIS_MINIPORT_RESTART_PARAMETERS_REVISION_1 1

/* ---- adapter attributes ---- */
typedef struct _NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES {
    NDIS_OBJECT_HEADER Header;
    NDIS_HANDLE MiniportAdapterContext;
    ULONG AttributeFlags;
    UINT CheckForHangTimeInSeconds;
    NDIS_INTERFACE_TYPE InterfaceType;
} NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES, *PNDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES;
#define NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1 1
#define NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_2 2
#define NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES, InterfaceType)
#define NDIS_MINIPORT_ATTRIBUTES_HARDWARE_DEVICE       0x00000001
#define NDIS_MINIPORT_ATTRIBUTES_NDIS_WDM              0x00000002
#define NDIS_MINIPORT_ATTRIBUTES_SURPRISE_REMOVE_OK    0x00000004
#define NDIS_MINIPORT_ATTRIBUTES_NOT_CO_NDIS           0x00000008
#define NDIS_MINIPORT_ATTRIBUTES_DO_NOT_BIND_TO_ALL_CO 0x00000010
#define NDIS_MINIPORT_ATTRIBUTES_NO_HALT_ON_SUSPEND    0x00000020
#define NDIS_MINIPORT_ATTRIBUTES_BUS_MASTER            0x00000040

typedef struct _NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    NDIS_MEDIUM MediaType;
    NDIS_PHYSICAL_MEDIUM PhysicalMediumType;
    ULONG MtuSize;
    ULONG64 MaxXmitLinkSpeed;
    ULONG64 XmitLinkSpeed;
    ULONG64 MaxRcvLinkSpeed;
    ULONG64 RcvLinkSpeed;
    NDIS_MEDIA_CONNECT_STATE MediaConnectState;
    NDIS_MEDIA_DUPLEX_STATE MediaDuplexState;
    ULONG LookaheadSize;
    PNDIS_PNP_CAPABILITIES PowerManagementCapabilities;
    ULONG MacOptions;
    ULONG SupportedPacketFilters;
    ULONG MaxMulticastListSize;
    USHORT MacAddressLength;
    UCHAR PermanentMacAddress[NDIS_MAX_PHYS_ADDRESS_LENGTH];
    UCHAR CurrentMacAddress[NDIS_MAX_PHYS_ADDRESS_LENGTH];
    PNDIS_RECEIVE_SCALE_CAPABILITIES RecvScaleCapabilities;
    NET_IF_ACCESS_TYPE AccessType;
    NET_IF_DIRECTION_TYPE DirectionType;
    NET_IF_CONNECTION_TYPE ConnectionType;
    NET_IFTYPE IfType;
    BOOLEAN IfConnectorPresent;
    ULONG SupportedStatistics;
    ULONG SupportedPauseFunctions;
    ULONG DataBackFillSize;
    ULONG ContextBackFillSize;
    PNDIS_OID SupportedOidList;
    ULONG SupportedOidListLength;
    ULONG AutoNegotiationFlags;
    PNDIS_PM_CAPABILITIES PowerManagementCapabilitiesEx;
} NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, *PNDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES;
#define NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_1 1
#define NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2 2
#define NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2     \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES, \
                             PowerManagementCapabilitiesEx)
#define NDIS_STATISTICS_XMIT_OK_SUPPORTED 0x00000001
#define NDIS_STATISTICS_RCV_OK_SUPPORTED  0x00000002

typedef struct _NDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES {
    NDIS_OBJECT_HEADER Header;
    PNDIS_OFFLOAD DefaultOffloadConfiguration;
    PNDIS_OFFLOAD HardwareOffloadCapabilities;
    PVOID DefaultTcpConnectionOffloadConfiguration;
    PVOID TcpConnectionOffloadHardwareCapabilities;
} NDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES, *PNDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES;
#define NDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES_REVISION_1 1

typedef union _NDIS_MINIPORT_ADAPTER_ATTRIBUTES {
    NDIS_OBJECT_HEADER Header;
    NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES RegistrationAttributes;
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES GeneralAttributes;
    NDIS_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES OffloadAttributes;
    NDIS_MINIPORT_ADAPTER_HARDWARE_ASSIST_ATTRIBUTES HardwareAssistAttributes;
} NDIS_MINIPORT_ADAPTER_ATTRIBUTES, *PNDIS_MINIPORT_ADAPTER_ATTRIBUTES;

/* ---- miniport callbacks ---- */
typedef NDIS_STATUS SET_OPTIONS(NDIS_HANDLE NdisDriverHandle, NDIS_HANDLE DriverContext);
typedef SET_OPTIONS *SET_OPTIONS_HANDLER;
typedef NDIS_STATUS MINIPORT_INITIALIZE(NDIS_HANDLE NdisMiniportHandle,
                                        NDIS_HANDLE MiniportDriverContext,
                                        PNDIS_MINIPORT_INIT_PARAMETERS MiniportInitParameters);
typedef MINIPORT_INITIALIZE *MINIPORT_INITIALIZE_HANDLER;
typedef void MINIPORT_HALT(NDIS_HANDLE MiniportAdapterContext, NDIS_HALT_ACTION HaltAction);
typedef MINIPORT_HALT *MINIPORT_HALT_HANDLER;
typedef void MINIPORT_UNLOAD(PDRIVER_OBJECT DriverObject);
typedef MINIPORT_UNLOAD *MINIPORT_DRIVER_UNLOAD;
typedef NDIS_STATUS MINIPORT_PAUSE(NDIS_HANDLE MiniportAdapterContext,
                                   PNDIS_MINIPORT_PAUSE_PARAMETERS PauseParameters);
typedef MINIPORT_PAUSE *MINIPORT_PAUSE_HANDLER;
typedef NDIS_STATUS MINIPORT_RESTART(NDIS_HANDLE MiniportAdapterContext,
                                     PNDIS_MINIPORT_RESTART_PARAMETERS RestartParameters);
typedef MINIPORT_RESTART *MINIPORT_RESTART_HANDLER;
typedef NDIS_STATUS MINIPORT_OID_REQUEST(NDIS_HANDLE MiniportAdapterContext,
                                         PNDIS_OID_REQUEST OidRequest);
typedef MINIPORT_OID_REQUEST *MINIPORT_OID_REQUEST_HANDLER;
typedef void MINIPORT_SEND_NET_BUFFER_LISTS(NDIS_HANDLE MiniportAdapterContext,
                                            PNET_BUFFER_LIST NetBufferList,
                                            NDIS_PORT_NUMBER PortNumber, ULONG SendFlags);
typedef MINIPORT_SEND_NET_BUFFER_LISTS *MINIPORT_SEND_NET_BUFFER_LISTS_HANDLER;
typedef void MINIPORT_RETURN_NET_BUFFER_LISTS(NDIS_HANDLE MiniportAdapterContext,
                                              PNET_BUFFER_LIST NetBufferLists, ULONG ReturnFlags);
typedef MINIPORT_RETURN_NET_BUFFER_LISTS *MINIPORT_RETURN_NET_BUFFER_LISTS_HANDLER;
typedef void MINIPORT_CANCEL_SEND(NDIS_HANDLE MiniportAdapterContext, PVOID CancelId);
typedef MINIPORT_CANCEL_SEND *MINIPORT_CANCEL_SEND_HANDLER;
typedef BOOLEAN MINIPORT_CHECK_FOR_HANG(NDIS_HANDLE MiniportAdapterContext);
typedef MINIPORT_CHECK_FOR_HANG *MINIPORT_CHECK_FOR_HANG_HANDLER;
typedef NDIS_STATUS MINIPORT_RESET(NDIS_HANDLE MiniportAdapterContext, PBOOLEAN AddressingReset);
typedef MINIPORT_RESET *MINIPORT_RESET_HANDLER;
typedef void MINIPORT_DEVICE_PNP_EVENT_NOTIFY(NDIS_HANDLE MiniportAdapterContext,
                                              PNET_DEVICE_PNP_EVENT NetDevicePnPEvent);
typedef MINIPORT_DEVICE_PNP_EVENT_NOTIFY *MINIPORT_DEVICE_PNP_EVENT_NOTIFY_HANDLER;
typedef void MINIPORT_SHUTDOWN(NDIS_HANDLE MiniportAdapterContext,
                               NDIS_SHUTDOWN_ACTION ShutdownAction);
typedef MINIPORT_SHUTDOWN *MINIPORT_SHUTDOWN_HANDLER;
typedef void MINIPORT_CANCEL_OID_REQUEST(NDIS_HANDLE MiniportAdapterContext, PVOID RequestId);
typedef MINIPORT_CANCEL_OID_REQUEST *MINIPORT_CANCEL_OID_REQUEST_HANDLER;
typedef NDIS_STATUS MINIPORT_DIRECT_OID_REQUEST(NDIS_HANDLE MiniportAdapterContext,
                                                PNDIS_OID_REQUEST OidRequest);
typedef MINIPORT_DIRECT_OID_REQUEST *MINIPORT_DIRECT_OID_REQUEST_HANDLER;
typedef void MINIPORT_CANCEL_DIRECT_OID_REQUEST(NDIS_HANDLE MiniportAdapterContext,
                                                PVOID RequestId);
typedef MINIPORT_CANCEL_DIRECT_OID_REQUEST *MINIPORT_CANCEL_DIRECT_OID_REQUEST_HANDLER;

typedef struct _NDIS_MINIPORT_DRIVER_CHARACTERISTICS {
    NDIS_OBJECT_HEADER Header;
    UCHAR MajorNdisVersion;
    UCHAR MinorNdisVersion;
    UCHAR MajorDriverVersion;
    UCHAR MinorDriverVersion;
    ULONG Flags;
    SET_OPTIONS_HANDLER SetOptionsHandler;
    MINIPORT_INITIALIZE_HANDLER InitializeHandlerEx;
    MINIPORT_HALT_HANDLER HaltHandlerEx;
    MINIPORT_DRIVER_UNLOAD UnloadHandler;
    MINIPORT_PAUSE_HANDLER PauseHandler;
    MINIPORT_RESTART_HANDLER RestartHandler;
    MINIPORT_OID_REQUEST_HANDLER OidRequestHandler;
    MINIPORT_SEND_NET_BUFFER_LISTS_HANDLER SendNetBufferListsHandler;
    MINIPORT_RETURN_NET_BUFFER_LISTS_HANDLER ReturnNetBufferListsHandler;
    MINIPORT_CANCEL_SEND_HANDLER CancelSendHandler;
    MINIPORT_CHECK_FOR_HANG_HANDLER CheckForHangHandlerEx;
    MINIPORT_RESET_HANDLER ResetHandlerEx;
    MINIPORT_DEVICE_PNP_EVENT_NOTIFY_HANDLER DevicePnPEventNotifyHandler;
    MINIPORT_SHUTDOWN_HANDLER ShutdownHandlerEx;
    MINIPORT_CANCEL_OID_REQUEST_HANDLER CancelOidRequestHandler;
    MINIPORT_DIRECT_OID_REQUEST_HANDLER DirectOidRequestHandler;
    MINIPORT_CANCEL_DIRECT_OID_REQUEST_HANDLER CancelDirectOidRequestHandler;
} NDIS_MINIPORT_DRIVER_CHARACTERISTICS, *PNDIS_MINIPORT_DRIVER_CHARACTERISTICS;
#define NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1 1
#define NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2 2
#define NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, CancelOidRequestHandler)
#define NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_DRIVER_CHARACTERISTICS, CancelDirectOidRequestHandler)
#define NDIS_MINIPORT_MAJOR_VERSION 6
#define NDIS_MINIPORT_MINOR_VERSION 30

/* ---- interrupts ---- */
typedef enum _NDIS_INTERRUPT_TYPE {
    NDIS_CONNECT_LINE_BASED = 1,
    NDIS_CONNECT_MESSAGE_BASED
} NDIS_INTERRUPT_TYPE,
    *PNDIS_INTERRUPT_TYPE;

typedef BOOLEAN MINIPORT_ISR(NDIS_HANDLE MiniportInterruptContext,
                             PBOOLEAN QueueDefaultInterruptDpc, PULONG TargetProcessors);
typedef MINIPORT_ISR *MINIPORT_ISR_HANDLER;
typedef void MINIPORT_INTERRUPT_DPC(NDIS_HANDLE MiniportInterruptContext, PVOID MiniportDpcContext,
                                    PVOID ReceiveThrottleParameters, PVOID NdisReserved2);
typedef MINIPORT_INTERRUPT_DPC *MINIPORT_INTERRUPT_DPC_HANDLER;
typedef void MINIPORT_DISABLE_INTERRUPT(NDIS_HANDLE MiniportInterruptContext);
typedef MINIPORT_DISABLE_INTERRUPT *MINIPORT_DISABLE_INTERRUPT_HANDLER;
typedef void MINIPORT_ENABLE_INTERRUPT(NDIS_HANDLE MiniportInterruptContext);
typedef MINIPORT_ENABLE_INTERRUPT *MINIPORT_ENABLE_INTERRUPT_HANDLER;
typedef BOOLEAN MINIPORT_MESSAGE_INTERRUPT(NDIS_HANDLE MiniportInterruptContext, ULONG MessageId,
                                           PBOOLEAN QueueDefaultInterruptDpc,
                                           PULONG TargetProcessors);
typedef MINIPORT_MESSAGE_INTERRUPT *MINIPORT_MSI_ISR_HANDLER;
typedef void MINIPORT_MESSAGE_INTERRUPT_DPC(NDIS_HANDLE MiniportInterruptContext, ULONG MessageId,
                                            PVOID MiniportDpcContext,
                                            PVOID ReceiveThrottleParameters, PVOID NdisReserved2);
typedef MINIPORT_MESSAGE_INTERRUPT_DPC *MINIPORT_MSI_INTERRUPT_DPC_HANDLER;
typedef void MINIPORT_DISABLE_MESSAGE_INTERRUPT(NDIS_HANDLE MiniportInterruptContext,
                                                ULONG MessageId);
typedef MINIPORT_DISABLE_MESSAGE_INTERRUPT *MINIPORT_DISABLE_MSI_INTERRUPT_HANDLER;
typedef void MINIPORT_ENABLE_MESSAGE_INTERRUPT(NDIS_HANDLE MiniportInterruptContext,
                                               ULONG MessageId);
typedef MINIPORT_ENABLE_MESSAGE_INTERRUPT *MINIPORT_ENABLE_MSI_INTERRUPT_HANDLER;
typedef BOOLEAN MINIPORT_SYNCHRONIZE_INTERRUPT(NDIS_HANDLE SynchronizeContext);
typedef MINIPORT_SYNCHRONIZE_INTERRUPT *MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER;
typedef MINIPORT_SYNCHRONIZE_INTERRUPT MINIPORT_SYNCHRONIZE_MESSAGE_INTERRUPT;
typedef MINIPORT_SYNCHRONIZE_MESSAGE_INTERRUPT *MINIPORT_SYNCHRONIZE_MSI_INTERRUPT_HANDLER;

typedef struct _NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS {
    NDIS_OBJECT_HEADER Header;
    MINIPORT_ISR_HANDLER InterruptHandler;
    MINIPORT_INTERRUPT_DPC_HANDLER InterruptDpcHandler;
    MINIPORT_DISABLE_INTERRUPT_HANDLER DisableInterruptHandler;
    MINIPORT_ENABLE_INTERRUPT_HANDLER EnableInterruptHandler;
    BOOLEAN MsiSupported;
    BOOLEAN MsiSyncWithAllMessages;
    MINIPORT_MSI_ISR_HANDLER MessageInterruptHandler;
    MINIPORT_MSI_INTERRUPT_DPC_HANDLER MessageInterruptDpcHandler;
    MINIPORT_DISABLE_MSI_INTERRUPT_HANDLER DisableMessageInterruptHandler;
    MINIPORT_ENABLE_MSI_INTERRUPT_HANDLER EnableMessageInterruptHandler;
    NDIS_INTERRUPT_TYPE InterruptType;
    PIO_INTERRUPT_MESSAGE_INFO MessageInfoTable;
} NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS, *PNDIS_MINIPORT_INTERRUPT_CHARACTERISTICS;
#define NDIS_MINIPORT_INTERRUPT_REVISION_1 1
#define NDIS_SIZEOF_MINIPORT_INTERRUPT_CHARACTERISTICS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_INTERRUPT_CHARACTERISTICS, MessageInfoTable)

/* ---- DMA ---- */
typedef void MINIPORT_PROCESS_SG_LIST(PDEVICE_OBJECT pDO, PVOID Reserved, PSCATTER_GATHER_LIST pSGL,
                                      PVOID Context);
typedef MINIPORT_PROCESS_SG_LIST *MINIPORT_PROCESS_SG_LIST_HANDLER;
typedef void MINIPORT_ALLOCATE_SHARED_MEM_COMPLETE(NDIS_HANDLE MiniportAdapterContext,
                                                   PVOID VirtualAddress,
                                                   PNDIS_PHYSICAL_ADDRESS PhysicalAddress,
                                                   ULONG Length, PVOID Context);
typedef MINIPORT_ALLOCATE_SHARED_MEM_COMPLETE *MINIPORT_ALLOCATE_SHARED_MEM_COMPLETE_HANDLER;

typedef struct _NDIS_SG_DMA_DESCRIPTION {
    NDIS_OBJECT_HEADER Header;
    ULONG Flags;
    ULONG MaximumPhysicalMapping;
    MINIPORT_PROCESS_SG_LIST_HANDLER ProcessSGListHandler;
    MINIPORT_ALLOCATE_SHARED_MEM_COMPLETE_HANDLER SharedMemAllocateCompleteHandler;
    ULONG ScatterGatherListSize;
} NDIS_SG_DMA_DESCRIPTION, *PNDIS_SG_DMA_DESCRIPTION;
#define NDIS_SG_DMA_DESCRIPTION_REVISION_1 1
#define NDIS_SIZEOF_SG_DMA_DESCRIPTION_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_SG_DMA_DESCRIPTION, ScatterGatherListSize)
#define NDIS_SG_DMA_64_BIT_ADDRESS 0x00000001

/* ---- PCI configuration space ---- */
#define PCI_WHICHSPACE_CONFIG 0x0
#define PCI_WHICHSPACE_ROM    0x52696350

/* ---- NdisM* functions ---- */
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisMRegisterMiniportDriver(
    PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath, NDIS_HANDLE MiniportDriverContext,
    PNDIS_MINIPORT_DRIVER_CHARACTERISTICS Chars, PNDIS_HANDLE NdisMiniportDriverHandle);
NDIS_EXPORTED_ROUTINE void NdisMDeregisterMiniportDriver(NDIS_HANDLE NdisMiniportDriverHandle);
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisMSetMiniportAttributes(
    NDIS_HANDLE NdisMiniportHandle, PNDIS_MINIPORT_ADAPTER_ATTRIBUTES Attributes);
NDIS_EXPORTED_ROUTINE void NdisMPauseComplete(NDIS_HANDLE MiniportAdapterHandle);
NDIS_EXPORTED_ROUTINE void NdisMRestartComplete(NDIS_HANDLE MiniportAdapterHandle,
                                                NDIS_STATUS Status);
NDIS_EXPORTED_ROUTINE void NdisMOidRequestComplete(NDIS_HANDLE MiniportAdapterHandle,
                                                   PNDIS_OID_REQUEST OidRequest,
                                                   NDIS_STATUS Status);
NDIS_EXPORTED_ROUTINE void NdisMDirectOidRequestComplete(NDIS_HANDLE MiniportAdapterHandle,
                                                         PNDIS_OID_REQUEST OidRequest,
                                                         NDIS_STATUS Status);
NDIS_EXPORTED_ROUTINE void NdisMResetComplete(NDIS_HANDLE MiniportAdapterHandle, NDIS_STATUS Status,
                                              BOOLEAN AddressingReset);
#define NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL 0x00000001
NDIS_EXPORTED_ROUTINE void NdisMSendNetBufferListsComplete(NDIS_HANDLE MiniportAdapterHandle,
                                                           PNET_BUFFER_LIST NetBufferLists,
                                                           ULONG SendCompleteFlags);
#define NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL           0x00000001
#define NDIS_RECEIVE_FLAGS_RESOURCES                0x00000002
#define NDIS_RECEIVE_FLAGS_SINGLE_ETHER_TYPE        0x00000100
#define NDIS_RECEIVE_FLAGS_SINGLE_VLAN              0x00000200
#define NDIS_RECEIVE_FLAGS_PERFECT_FILTERED         0x00000400
#define NDIS_RECEIVE_FLAGS_SINGLE_QUEUE             0x00000800
#define NDIS_RECEIVE_FLAGS_SHARED_MEMORY_INFO_VALID 0x00001000
#define NDIS_RECEIVE_FLAGS_MORE_NBLS                0x00002000
#define NDIS_RETURN_FLAGS_DISPATCH_LEVEL            0x00000001
#define NDIS_RETURN_FLAGS_SINGLE_QUEUE              0x00000002
NDIS_EXPORTED_ROUTINE void NdisMIndicateReceiveNetBufferLists(NDIS_HANDLE MiniportAdapterHandle,
                                                              PNET_BUFFER_LIST NetBufferLists,
                                                              NDIS_PORT_NUMBER PortNumber,
                                                              ULONG NumberOfNetBufferLists,
                                                              ULONG ReceiveFlags);
NDIS_EXPORTED_ROUTINE void NdisMIndicateStatusEx(NDIS_HANDLE MiniportAdapterHandle,
                                                 PNDIS_STATUS_INDICATION StatusIndication);
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisMRemoveMiniport(NDIS_HANDLE MiniportAdapterHandle);

NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisMRegisterInterruptEx(
    NDIS_HANDLE MiniportAdapterHandle, NDIS_HANDLE MiniportInterruptContext,
    PNDIS_MINIPORT_INTERRUPT_CHARACTERISTICS Chars, PNDIS_HANDLE NdisInterruptHandle);
NDIS_EXPORTED_ROUTINE void NdisMDeregisterInterruptEx(NDIS_HANDLE NdisInterruptHandle);
NDIS_EXPORTED_ROUTINE BOOLEAN NdisMSynchronizeWithInterruptEx(
    NDIS_HANDLE NdisInterruptHandle, ULONG MessageId,
    MINIPORT_SYNCHRONIZE_INTERRUPT_HANDLER Routine, PVOID SynchronizeContext);
NDIS_EXPORTED_ROUTINE KAFFINITY NdisMQueueDpcEx(NDIS_HANDLE NdisInterruptHandle, ULONG MessageId,
                                                PGROUP_AFFINITY TargetProcessors,
                                                PVOID MiniportDpcContext);

NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisMMapIoSpace(PVOID *VirtualAddress,
                                                  NDIS_HANDLE MiniportAdapterHandle,
                                                  NDIS_PHYSICAL_ADDRESS PhysicalAddress,
                                                  UINT Length);
NDIS_EXPORTED_ROUTINE void NdisMUnmapIoSpace(NDIS_HANDLE MiniportAdapterHandle,
                                             PVOID VirtualAddress, UINT Length);
NDIS_EXPORTED_ROUTINE ULONG NdisMGetBusData(NDIS_HANDLE NdisMiniportHandle, ULONG WhichSpace,
                                            ULONG Offset, PVOID Buffer, ULONG Length);
NDIS_EXPORTED_ROUTINE ULONG NdisMSetBusData(NDIS_HANDLE NdisMiniportHandle, ULONG WhichSpace,
                                            ULONG Offset, PVOID Buffer, ULONG Length);

NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisMRegisterScatterGatherDma(
    NDIS_HANDLE MiniportAdapterHandle, PNDIS_SG_DMA_DESCRIPTION DmaDescription,
    PNDIS_HANDLE NdisMiniportDmaHandle);
NDIS_EXPORTED_ROUTINE void NdisMDeregisterScatterGatherDma(NDIS_HANDLE NdisMiniportDmaHandle);
#define NDIS_SG_LIST_WRITE_TO_DEVICE 0x000000001
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisMAllocateNetBufferSGList(NDIS_HANDLE NdisMiniportDmaHandle,
                                                               PNET_BUFFER NetBuffer, PVOID Context,
                                                               ULONG Flags,
                                                               PVOID ScatterGatherListBuffer,
                                                               ULONG ScatterGatherListBufferSize);
NDIS_EXPORTED_ROUTINE void NdisMFreeNetBufferSGList(NDIS_HANDLE NdisMiniportDmaHandle,
                                                    PSCATTER_GATHER_LIST pSGL,
                                                    PNET_BUFFER NetBuffer);
NDIS_EXPORTED_ROUTINE void NdisMAllocateSharedMemory(NDIS_HANDLE MiniportAdapterHandle,
                                                     ULONG Length, BOOLEAN Cached,
                                                     PVOID *VirtualAddress,
                                                     PNDIS_PHYSICAL_ADDRESS PhysicalAddress);
NDIS_EXPORTED_ROUTINE void NdisMFreeSharedMemory(NDIS_HANDLE MiniportAdapterHandle, ULONG Length,
                                                 BOOLEAN Cached, PVOID VirtualAddress,
                                                 NDIS_PHYSICAL_ADDRESS PhysicalAddress);

/* The system event log: netevent.h's codes under ndis.h's names. */
#define EVENT_NDIS_OUT_OF_RESOURCE       0xC0001389 /* unsigned, as 0x...L is on Windows */
#define EVENT_NDIS_HARDWARE_FAILURE      0xC000138A
#define EVENT_NDIS_DRIVER_FAILURE        0xC000138D
#define NDIS_ERROR_CODE                  ULONG
#define NDIS_ERROR_CODE_OUT_OF_RESOURCES EVENT_NDIS_OUT_OF_RESOURCE
#define NDIS_ERROR_CODE_HARDWARE_FAILURE EVENT_NDIS_HARDWARE_FAILURE
#define NDIS_ERROR_CODE_DRIVER_FAILURE   EVENT_NDIS_DRIVER_FAILURE
NDIS_EXPORTED_ROUTINE void NdisWriteErrorLogEntry(NDIS_HANDLE NdisAdapterHandle,
                                                  NDIS_ERROR_CODE ErrorCode,
                                                  ULONG NumberOfErrorValues, ...);

/* Register accessors over the kernel's READ/WRITE_REGISTER_*. As in the WDK, the
 * reads cast the register address and the writes do not: a write takes a pointer
 * of the access width (PUSHORT for a USHORT register). */
#define NdisReadRegisterUchar(r, d)   (*(d) = READ_REGISTER_UCHAR((PUCHAR)(r)))
#define NdisReadRegisterUshort(r, d)  (*(d) = READ_REGISTER_USHORT((PUSHORT)(r)))
#define NdisReadRegisterUlong(r, d)   (*(d) = READ_REGISTER_ULONG((PULONG)(r)))
#define NdisWriteRegisterUchar(r, d)  WRITE_REGISTER_UCHAR((r), (d))
#define NdisWriteRegisterUshort(r, d) WRITE_REGISTER_USHORT((r), (d))
#define NdisWriteRegisterUlong(r, d)  WRITE_REGISTER_ULONG((r), (d))

#if defined(_WIN32) && !defined(ReadULongAcquire)
static inline ULONG ReadULongAcquire(ULONG const volatile *p)
{
    ULONG v = *p;
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    return v;
}
#endif

#if defined(_WIN32)
/* mingw-w64's wdm.h has no register accessors; on x64 the WDK's are volatile accesses. */
static inline UCHAR READ_REGISTER_UCHAR(volatile UCHAR *r)
{
    return *r;
}
static inline USHORT READ_REGISTER_USHORT(volatile USHORT *r)
{
    return *r;
}
static inline ULONG READ_REGISTER_ULONG(volatile ULONG *r)
{
    return *r;
}
static inline ULONG64 READ_REGISTER_ULONG64(volatile ULONG64 *r)
{
    return *r;
}
static inline void WRITE_REGISTER_UCHAR(volatile UCHAR *r, UCHAR v)
{
    *r = v;
}
static inline void WRITE_REGISTER_USHORT(volatile USHORT *r, USHORT v)
{
    *r = v;
}
static inline void WRITE_REGISTER_ULONG(volatile ULONG *r, ULONG v)
{
    *r = v;
}
static inline void WRITE_REGISTER_ULONG64(volatile ULONG64 *r, ULONG64 v)
{
    *r = v;
}
#endif

/* Receive side throttling (NDIS 6.20): what ReceiveThrottleParameters of
 * MiniportInterruptDPC / MiniportMessageInterruptDPC points to. */
typedef struct _NDIS_RECEIVE_THROTTLE_PARAMETERS {
    ULONG MaxNblsToIndicate;
    ULONG MoreNblsPending : 1;
} NDIS_RECEIVE_THROTTLE_PARAMETERS, *PNDIS_RECEIVE_THROTTLE_PARAMETERS;
#define NDIS_INDICATE_ALL_NBLS ((ULONG)~0u) /* ~0ul on LLP64 x64: 0xFFFFFFFF */

#endif /* VFO_DDK_NDIS_MINIPORT_H */
