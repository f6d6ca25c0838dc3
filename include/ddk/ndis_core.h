/*
 * ndis_core.h - NDIS base types, status codes, object headers and the
 * general-purpose services (memory, locks, events, timers, work items,
 * configuration, time, control devices). Part of the clean-room ndis.h.
 */
#ifndef VFO_DDK_NDIS_CORE_H
#define VFO_DDK_NDIS_CORE_H

/* Import decoration of NDIS's exports (the WDK: DECLSPEC_IMPORT). */
#if defined(_WIN32)
#define NDIS_EXPORTED_ROUTINE __declspec(dllimport)
#else
#define NDIS_EXPORTED_ROUTINE
#endif
#define EXPORT

/* NDIS_SUPPORT_NDISxxx: 1 for every NDIS version up to the one the driver
 * selects (NDISxxx_MINIPORT / NDISxxx), as the WDK derives them; version-
 * conditional code written for the WDK tests these.  include/ddk carries the
 * NDIS 6.30 layouts, so a newer selection is refused rather than mislaid. */
#if defined(NDIS640_MINIPORT) || defined(NDIS640) || defined(NDIS650_MINIPORT) || \
    defined(NDIS650) || defined(NDIS660_MINIPORT) || defined(NDIS660) ||          \
    defined(NDIS680_MINIPORT) || defined(NDIS680)
#error "include/ddk describes NDIS 6.30; select NDIS630 or older"
#endif
#define NDIS_SUPPORT_NDIS686 0
#define NDIS_SUPPORT_NDIS685 0
#define NDIS_SUPPORT_NDIS684 0
#define NDIS_SUPPORT_NDIS683 0
#define NDIS_SUPPORT_NDIS682 0
#define NDIS_SUPPORT_NDIS681 0
#define NDIS_SUPPORT_NDIS680 0
#define NDIS_SUPPORT_NDIS670 0
#define NDIS_SUPPORT_NDIS660 0
#define NDIS_SUPPORT_NDIS651 0
#define NDIS_SUPPORT_NDIS650 0
#define NDIS_SUPPORT_NDIS640 0
#if defined(NDIS630_MINIPORT) || defined(NDIS630)
#define NDIS_SUPPORT_NDIS630 1
#else
#define NDIS_SUPPORT_NDIS630 0
#endif
#if NDIS_SUPPORT_NDIS630 || defined(NDIS620_MINIPORT) || defined(NDIS620)
#define NDIS_SUPPORT_NDIS620 1
#else
#define NDIS_SUPPORT_NDIS620 0
#endif
#if NDIS_SUPPORT_NDIS620 || defined(NDIS61_MINIPORT) || defined(NDIS61)
#define NDIS_SUPPORT_NDIS61 1
#else
#define NDIS_SUPPORT_NDIS61 0
#endif
#if NDIS_SUPPORT_NDIS61 || defined(NDIS60_MINIPORT) || defined(NDIS60)
#define NDIS_SUPPORT_NDIS6 1
#else
#define NDIS_SUPPORT_NDIS6 0
#endif
#define NDIS_SUPPORT_60_COMPATIBLE_API 1

/* ---- base types ---- */
typedef int NDIS_STATUS, *PNDIS_STATUS;
typedef PVOID NDIS_HANDLE, *PNDIS_HANDLE;
typedef ULONG NDIS_OID, *PNDIS_OID;
typedef ULONG NDIS_PORT_NUMBER, *PNDIS_PORT_NUMBER;
typedef UNICODE_STRING NDIS_STRING, *PNDIS_STRING;
typedef PHYSICAL_ADDRESS NDIS_PHYSICAL_ADDRESS, *PNDIS_PHYSICAL_ADDRESS;
typedef USHORT NET_FRAME_TYPE, *PNET_FRAME_TYPE;
typedef ULONG NDIS_RECEIVE_QUEUE_ID;
typedef CM_PARTIAL_RESOURCE_LIST NDIS_RESOURCE_LIST, *PNDIS_RESOURCE_LIST;

#if defined(_WIN32)
#include <ifdef.h>
typedef unsigned int UINT, *PUINT;
#else
typedef enum _NET_IF_MEDIA_CONNECT_STATE {
    MediaConnectStateUnknown,
    MediaConnectStateConnected,
    MediaConnectStateDisconnected
} NET_IF_MEDIA_CONNECT_STATE,
    *PNET_IF_MEDIA_CONNECT_STATE;
typedef enum _NET_IF_MEDIA_DUPLEX_STATE {
    MediaDuplexStateUnknown,
    MediaDuplexStateHalf,
    MediaDuplexStateFull
} NET_IF_MEDIA_DUPLEX_STATE,
    *PNET_IF_MEDIA_DUPLEX_STATE;
typedef union _NET_LUID_LH {
    ULONG64 Value;
    struct {
        ULONG64 Reserved : 24;
        ULONG64 NetLuidIndex : 24;
        ULONG64 IfType : 16;
    } Info;
} NET_LUID_LH, *PNET_LUID_LH;
typedef NET_LUID_LH NET_LUID, *PNET_LUID;
typedef ULONG NET_IFINDEX, *PNET_IFINDEX;
typedef USHORT NET_IFTYPE, *PNET_IFTYPE;
typedef ULONG NET_IF_COMPARTMENT_ID;
typedef enum _NET_IF_ACCESS_TYPE {
    NET_IF_ACCESS_LOOPBACK = 1,
    NET_IF_ACCESS_BROADCAST = 2,
    NET_IF_ACCESS_POINT_TO_POINT = 3,
    NET_IF_ACCESS_POINT_TO_MULTI_POINT = 4,
    NET_IF_ACCESS_MAXIMUM = 5
} NET_IF_ACCESS_TYPE;
typedef enum _NET_IF_DIRECTION_TYPE {
    NET_IF_DIRECTION_SENDRECEIVE,
    NET_IF_DIRECTION_SENDONLY,
    NET_IF_DIRECTION_RECEIVEONLY,
    NET_IF_DIRECTION_MAXIMUM
} NET_IF_DIRECTION_TYPE;
typedef enum _NET_IF_CONNECTION_TYPE {
    NET_IF_CONNECTION_DEDICATED = 1,
    NET_IF_CONNECTION_PASSIVE = 2,
    NET_IF_CONNECTION_DEMAND = 3,
    NET_IF_CONNECTION_MAXIMUM = 4
} NET_IF_CONNECTION_TYPE;
#endif
#define IF_TYPE_ETHERNET_CSMACD  6
#define NDIS_DEFAULT_PORT_NUMBER ((NDIS_PORT_NUMBER)0)

/* ---- status codes ---- */
#define NDIS_STATUS_SUCCESS        ((NDIS_STATUS)STATUS_SUCCESS)
#define NDIS_STATUS_PENDING        ((NDIS_STATUS)STATUS_PENDING)
#define NDIS_STATUS_NOT_RECOGNIZED ((NDIS_STATUS)0x00010001L)
#define NDIS_STATUS_NOT_COPIED     ((NDIS_STATUS)0x00010002L)
#define NDIS_STATUS_NOT_ACCEPTED   ((NDIS_STATUS)0x00010003L)
#ifndef STATUS_NDIS_INDICATION_REQUIRED
#define STATUS_NDIS_INDICATION_REQUIRED ((NTSTATUS)0x40230001L)
#endif
#define NDIS_STATUS_INDICATION_REQUIRED         ((NDIS_STATUS)STATUS_NDIS_INDICATION_REQUIRED)
#define NDIS_STATUS_RESET_START                 ((NDIS_STATUS)0x40010004L)
#define NDIS_STATUS_RESET_END                   ((NDIS_STATUS)0x40010005L)
#define NDIS_STATUS_MEDIA_CONNECT               ((NDIS_STATUS)0x4001000BL)
#define NDIS_STATUS_MEDIA_DISCONNECT            ((NDIS_STATUS)0x4001000CL)
#define NDIS_STATUS_MEDIA_BUSY                  ((NDIS_STATUS)0x40010011L)
#define NDIS_STATUS_LINK_SPEED_CHANGE           ((NDIS_STATUS)0x40010013L)
#define NDIS_STATUS_LINK_STATE                  ((NDIS_STATUS)0x40010017L)
#define NDIS_STATUS_PACKET_FILTER               ((NDIS_STATUS)0x40010024L)
#define NDIS_STATUS_OPER_STATUS                 ((NDIS_STATUS)0x40010023L)
#define NDIS_STATUS_TASK_OFFLOAD_CURRENT_CONFIG ((NDIS_STATUS)0x40020006L)
#define NDIS_STATUS_BUFFER_OVERFLOW             ((NDIS_STATUS)0x80000005L)
#define NDIS_STATUS_FAILURE                     ((NDIS_STATUS)0xC0000001L)
#define NDIS_STATUS_RESOURCES                   ((NDIS_STATUS)0xC000009AL)
#define NDIS_STATUS_NOT_SUPPORTED               ((NDIS_STATUS)0xC00000BBL)
#define NDIS_STATUS_CLOSING                     ((NDIS_STATUS)0xC0010002L)
#define NDIS_STATUS_BAD_VERSION                 ((NDIS_STATUS)0xC0010004L)
#define NDIS_STATUS_BAD_CHARACTERISTICS         ((NDIS_STATUS)0xC0010005L)
#define NDIS_STATUS_ADAPTER_NOT_FOUND           ((NDIS_STATUS)0xC0010006L)
#define NDIS_STATUS_OPEN_FAILED                 ((NDIS_STATUS)0xC0010007L)
#define NDIS_STATUS_DEVICE_FAILED               ((NDIS_STATUS)0xC0010008L)
#define NDIS_STATUS_MULTICAST_FULL              ((NDIS_STATUS)0xC0010009L)
#define NDIS_STATUS_MULTICAST_EXISTS            ((NDIS_STATUS)0xC001000AL)
#define NDIS_STATUS_MULTICAST_NOT_FOUND         ((NDIS_STATUS)0xC001000BL)
#define NDIS_STATUS_REQUEST_ABORTED             ((NDIS_STATUS)0xC001000CL)
#define NDIS_STATUS_RESET_IN_PROGRESS           ((NDIS_STATUS)0xC001000DL)
#define NDIS_STATUS_INVALID_PACKET              ((NDIS_STATUS)0xC001000FL)
#define NDIS_STATUS_INVALID_LENGTH              ((NDIS_STATUS)0xC0010014L)
#define NDIS_STATUS_INVALID_DATA                ((NDIS_STATUS)0xC0010015L)
#define NDIS_STATUS_BUFFER_TOO_SHORT            ((NDIS_STATUS)0xC0010016L)
#define NDIS_STATUS_INVALID_OID                 ((NDIS_STATUS)0xC0010017L)
#define NDIS_STATUS_ADAPTER_REMOVED             ((NDIS_STATUS)0xC0010018L)
#define NDIS_STATUS_UNSUPPORTED_MEDIA           ((NDIS_STATUS)0xC0010019L)
#define NDIS_STATUS_FILE_NOT_FOUND              ((NDIS_STATUS)0xC001001BL)
#define NDIS_STATUS_RESOURCE_CONFLICT           ((NDIS_STATUS)0xC001001EL)
#define NDIS_STATUS_INVALID_PARAMETER           ((NDIS_STATUS)STATUS_INVALID_PARAMETER)
#define NDIS_STATUS_LOW_POWER_STATE             ((NDIS_STATUS)0xC023002FL)
#define NDIS_STATUS_PAUSED                      ((NDIS_STATUS)0xC023002AL)
#define NDIS_STATUS_SEND_ABORTED                ((NDIS_STATUS)0xC023000CL)
#define NDIS_STATUS_MEDIA_DISCONNECTED          ((NDIS_STATUS)0xC023001FL)
#define NDIS_STATUS_INVALID_STATE               ((NDIS_STATUS)0xC0000184L)

/* ---- object header ---- */
typedef struct _NDIS_OBJECT_HEADER {
    UCHAR Type;
    UCHAR Revision;
    USHORT Size;
} NDIS_OBJECT_HEADER, *PNDIS_OBJECT_HEADER;

#define NDIS_OBJECT_TYPE_DEFAULT                                  0x80
#define NDIS_OBJECT_TYPE_MINIPORT_INIT_PARAMETERS                 0x81
#define NDIS_OBJECT_TYPE_SG_DMA_DESCRIPTION                       0x83
#define NDIS_OBJECT_TYPE_MINIPORT_INTERRUPT                       0x84
#define NDIS_OBJECT_TYPE_DEVICE_OBJECT_ATTRIBUTES                 0x85
#define NDIS_OBJECT_TYPE_BIND_PARAMETERS                          0x86
#define NDIS_OBJECT_TYPE_OPEN_PARAMETERS                          0x87
#define NDIS_OBJECT_TYPE_RSS_CAPABILITIES                         0x88
#define NDIS_OBJECT_TYPE_RSS_PARAMETERS                           0x89
#define NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS          0x8A
#define NDIS_OBJECT_TYPE_PROTOCOL_DRIVER_CHARACTERISTICS          0x95
#define NDIS_OBJECT_TYPE_OID_REQUEST                              0x96
#define NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS                    0x97
#define NDIS_OBJECT_TYPE_STATUS_INDICATION                        0x98
#define NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES 0x9E
#define NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES      0x9F
#define NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_OFFLOAD_ATTRIBUTES      0xA0
#define NDIS_OBJECT_TYPE_RESTART_GENERAL_ATTRIBUTES               0xA2
#define NDIS_OBJECT_TYPE_PROTOCOL_RESTART_PARAMETERS              0xA3
#define NDIS_OBJECT_TYPE_OFFLOAD                                  0xA7
#define NDIS_OBJECT_TYPE_OFFLOAD_ENCAPSULATION                    0xA8
#define NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT                     0xA9

#define NDIS_OBJECT_REVISION_1 1

/* ---- strings ---- */
#if defined(_WIN32)
#define NDIS_STRING_CONST(x)                        \
    {                                               \
        sizeof(L##x) - 2, sizeof(L##x), (PWSTR)L##x \
    }
#else
/* WCHAR is UTF-16 on every Windows target; C11 u"" literals are 16-bit here. */
#define NDIS_STRING_CONST(x)                        \
    {                                               \
        sizeof(u##x) - 2, sizeof(u##x), (PWSTR)u##x \
    }
#endif
NDIS_EXPORTED_ROUTINE void NdisInitUnicodeString(PNDIS_STRING Destination, PCWSTR Source);

/* ---- memory ---- */
NDIS_EXPORTED_ROUTINE PVOID NdisAllocateMemoryWithTagPriority(NDIS_HANDLE NdisHandle, UINT Length,
                                                              ULONG Tag, EX_POOL_PRIORITY Priority);
NDIS_EXPORTED_ROUTINE void NdisFreeMemoryWithTagPriority(NDIS_HANDLE NdisHandle,
                                                         PVOID VirtualAddress, ULONG Tag);
NDIS_EXPORTED_ROUTINE void NdisFreeMemory(PVOID VirtualAddress, UINT Length, UINT MemoryFlags);
#define NdisMoveMemory(d, s, n)  RtlCopyMemory((d), (s), (n))
#define NdisZeroMemory(d, n)     RtlZeroMemory((d), (n))
#define NdisFillMemory(d, n, v)  RtlFillMemory((d), (n), (v))
#define NdisEqualMemory(a, b, n) RtlEqualMemory((a), (b), (n))

/* ---- interlocked (macros over the kernel's Interlocked functions) ---- */
#define NdisInterlockedIncrement(p) InterlockedIncrement((LONG volatile *)(p))
#define NdisInterlockedDecrement(p) InterlockedDecrement((LONG volatile *)(p))
#define NdisInterlockedAddLargeStatistic(p, v) \
    InterlockedExchangeAdd64((LONG64 volatile *)(p), (LONG64)(v))

/* ---- spin locks ---- */
typedef struct _NDIS_SPIN_LOCK {
    KSPIN_LOCK SpinLock;
    KIRQL OldIrql;
} NDIS_SPIN_LOCK, *PNDIS_SPIN_LOCK;

NDIS_EXPORTED_ROUTINE void NdisAllocateSpinLock(PNDIS_SPIN_LOCK SpinLock);
NDIS_EXPORTED_ROUTINE void NdisFreeSpinLock(PNDIS_SPIN_LOCK SpinLock);
NDIS_EXPORTED_ROUTINE void NdisAcquireSpinLock(PNDIS_SPIN_LOCK SpinLock);
NDIS_EXPORTED_ROUTINE void NdisReleaseSpinLock(PNDIS_SPIN_LOCK SpinLock);
NDIS_EXPORTED_ROUTINE void NdisDprAcquireSpinLock(PNDIS_SPIN_LOCK SpinLock);
NDIS_EXPORTED_ROUTINE void NdisDprReleaseSpinLock(PNDIS_SPIN_LOCK SpinLock);

/* ---- reader/writer locks ---- */
typedef struct _NDIS_RW_LOCK_EX NDIS_RW_LOCK_EX, *PNDIS_RW_LOCK_EX;
typedef struct _LOCK_STATE_EX {
    KIRQL OldIrql;
    UCHAR LockState;
    UCHAR Flags;
} LOCK_STATE_EX, *PLOCK_STATE_EX;
#define NDIS_RWL_AT_DISPATCH_LEVEL 1
NDIS_EXPORTED_ROUTINE PNDIS_RW_LOCK_EX NdisAllocateRWLock(NDIS_HANDLE NdisHandle);
NDIS_EXPORTED_ROUTINE void NdisFreeRWLock(PNDIS_RW_LOCK_EX Lock);
NDIS_EXPORTED_ROUTINE void NdisAcquireRWLockRead(PNDIS_RW_LOCK_EX Lock, PLOCK_STATE_EX LockState,
                                                 UCHAR Flags);
NDIS_EXPORTED_ROUTINE void NdisAcquireRWLockWrite(PNDIS_RW_LOCK_EX Lock, PLOCK_STATE_EX LockState,
                                                  UCHAR Flags);
NDIS_EXPORTED_ROUTINE void NdisReleaseRWLock(PNDIS_RW_LOCK_EX Lock, PLOCK_STATE_EX LockState);

/* ---- events ---- */
typedef struct _NDIS_EVENT {
    KEVENT Event;
} NDIS_EVENT, *PNDIS_EVENT;
NDIS_EXPORTED_ROUTINE void NdisInitializeEvent(PNDIS_EVENT Event);
NDIS_EXPORTED_ROUTINE void NdisSetEvent(PNDIS_EVENT Event);
NDIS_EXPORTED_ROUTINE void NdisResetEvent(PNDIS_EVENT Event);
NDIS_EXPORTED_ROUTINE BOOLEAN NdisWaitEvent(PNDIS_EVENT Event, UINT MsToWait);

/* ---- time ---- */
NDIS_EXPORTED_ROUTINE void NdisMSleep(ULONG MicrosecondsToSleep);
NDIS_EXPORTED_ROUTINE void NdisStallExecution(UINT MicrosecondsToStall);
NDIS_EXPORTED_ROUTINE void NdisGetCurrentSystemTime(PLARGE_INTEGER SystemTime);
NDIS_EXPORTED_ROUTINE void NdisGetSystemUpTimeEx(PLARGE_INTEGER SystemUpTime);

/* ---- timers ---- */
typedef void NDIS_TIMER_FUNCTION(PVOID SystemSpecific1, PVOID FunctionContext,
                                 PVOID SystemSpecific2, PVOID SystemSpecific3);
typedef NDIS_TIMER_FUNCTION *PNDIS_TIMER_FUNCTION;
typedef struct _NDIS_TIMER_CHARACTERISTICS {
    NDIS_OBJECT_HEADER Header;
    ULONG AllocationTag;
    PNDIS_TIMER_FUNCTION TimerFunction;
    PVOID FunctionContext;
} NDIS_TIMER_CHARACTERISTICS, *PNDIS_TIMER_CHARACTERISTICS;
#define NDIS_TIMER_CHARACTERISTICS_REVISION_1 1
#define NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_TIMER_CHARACTERISTICS, FunctionContext)
NDIS_EXPORTED_ROUTINE NDIS_STATUS
NdisAllocateTimerObject(NDIS_HANDLE NdisHandle, PNDIS_TIMER_CHARACTERISTICS TimerCharacteristics,
                        PNDIS_HANDLE pTimerObject);
/* DueTime: negative = relative, in 100 ns units; MillisecondsPeriod 0 = one-shot. */
NDIS_EXPORTED_ROUTINE BOOLEAN NdisSetTimerObject(NDIS_HANDLE TimerObject, LARGE_INTEGER DueTime,
                                                 LONG MillisecondsPeriod, PVOID FunctionContext);
NDIS_EXPORTED_ROUTINE BOOLEAN NdisCancelTimerObject(NDIS_HANDLE TimerObject);
NDIS_EXPORTED_ROUTINE void NdisFreeTimerObject(NDIS_HANDLE TimerObject);

/* ---- work items ---- */
typedef void NDIS_IO_WORKITEM_FUNCTION(PVOID WorkItemContext, NDIS_HANDLE NdisIoWorkItemHandle);
typedef NDIS_IO_WORKITEM_FUNCTION *NDIS_IO_WORKITEM_ROUTINE;
NDIS_EXPORTED_ROUTINE NDIS_HANDLE NdisAllocateIoWorkItem(NDIS_HANDLE NdisObjectHandle);
NDIS_EXPORTED_ROUTINE void NdisQueueIoWorkItem(NDIS_HANDLE NdisIoWorkItemHandle,
                                               NDIS_IO_WORKITEM_ROUTINE Routine,
                                               PVOID WorkItemContext);
NDIS_EXPORTED_ROUTINE void NdisFreeIoWorkItem(NDIS_HANDLE NdisIoWorkItemHandle);

/* ---- configuration (registry) ---- */
typedef enum _NDIS_PARAMETER_TYPE {
    NdisParameterInteger,
    NdisParameterHexInteger,
    NdisParameterString,
    NdisParameterMultiString,
    NdisParameterBinary
} NDIS_PARAMETER_TYPE,
    *PNDIS_PARAMETER_TYPE;
typedef struct {
    USHORT Length;
    PVOID Buffer;
} BINARY_DATA;
typedef struct _NDIS_CONFIGURATION_PARAMETER {
    NDIS_PARAMETER_TYPE ParameterType;
    union {
        ULONG IntegerData;
        NDIS_STRING StringData;
        BINARY_DATA BinaryData;
    } ParameterData;
} NDIS_CONFIGURATION_PARAMETER, *PNDIS_CONFIGURATION_PARAMETER;
typedef struct _NDIS_CONFIGURATION_OBJECT {
    NDIS_OBJECT_HEADER Header;
    NDIS_HANDLE NdisHandle;
    ULONG Flags;
} NDIS_CONFIGURATION_OBJECT, *PNDIS_CONFIGURATION_OBJECT;
#define NDIS_CONFIGURATION_OBJECT_REVISION_1 1
#define NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_CONFIGURATION_OBJECT, Flags)
#define NDIS_CONFIG_FLAG_FILTER_INSTANCE_CONFIGURATION 0x00000001
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisOpenConfigurationEx(PNDIS_CONFIGURATION_OBJECT ConfigObject,
                                                          PNDIS_HANDLE ConfigurationHandle);
NDIS_EXPORTED_ROUTINE void NdisCloseConfiguration(NDIS_HANDLE ConfigurationHandle);
NDIS_EXPORTED_ROUTINE void NdisReadConfiguration(PNDIS_STATUS Status,
                                                 PNDIS_CONFIGURATION_PARAMETER *ParameterValue,
                                                 NDIS_HANDLE ConfigurationHandle,
                                                 PNDIS_STRING Keyword,
                                                 NDIS_PARAMETER_TYPE ParameterType);
NDIS_EXPORTED_ROUTINE void NdisWriteConfiguration(PNDIS_STATUS Status,
                                                  NDIS_HANDLE ConfigurationHandle,
                                                  PNDIS_STRING Keyword,
                                                  PNDIS_CONFIGURATION_PARAMETER ParameterValue);
NDIS_EXPORTED_ROUTINE void NdisReadNetworkAddress(PNDIS_STATUS Status, PVOID *NetworkAddress,
                                                  PUINT NetworkAddressLength,
                                                  NDIS_HANDLE ConfigurationHandle);

/* ---- control device objects ---- */
typedef struct _NDIS_DEVICE_OBJECT_ATTRIBUTES {
    NDIS_OBJECT_HEADER Header;
    PNDIS_STRING DeviceName;
    PNDIS_STRING SymbolicName;
    PDRIVER_DISPATCH *MajorFunctions;
    ULONG ExtensionSize;
    PCUNICODE_STRING DefaultSDDLString;
    LPCGUID DeviceClassGuid;
} NDIS_DEVICE_OBJECT_ATTRIBUTES, *PNDIS_DEVICE_OBJECT_ATTRIBUTES;
#define NDIS_DEVICE_OBJECT_ATTRIBUTES_REVISION_1 1
#define NDIS_SIZEOF_DEVICE_OBJECT_ATTRIBUTES_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_DEVICE_OBJECT_ATTRIBUTES, DeviceClassGuid)
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisRegisterDeviceEx(
    NDIS_HANDLE NdisObjectHandle, PNDIS_DEVICE_OBJECT_ATTRIBUTES DeviceObjectAttributes,
    PDEVICE_OBJECT *pDeviceObject, PNDIS_HANDLE NdisDeviceHandle);
NDIS_EXPORTED_ROUTINE void NdisDeregisterDeviceEx(NDIS_HANDLE NdisDeviceHandle);
NDIS_EXPORTED_ROUTINE PVOID NdisGetDeviceReservedExtension(PDEVICE_OBJECT DeviceObject);

/* Generic objects: an NDIS handle for components that have no other. */
typedef struct _NDIS_GENERIC_OBJECT {
    NDIS_OBJECT_HEADER Header;
    PVOID Caller;
    PVOID CallersCaller;
    PDRIVER_OBJECT DriverObject;
} NDIS_GENERIC_OBJECT, *PNDIS_GENERIC_OBJECT;
NDIS_EXPORTED_ROUTINE PNDIS_GENERIC_OBJECT NdisAllocateGenericObject(PDRIVER_OBJECT DriverObject,
                                                                     ULONG Tag, USHORT Size);
NDIS_EXPORTED_ROUTINE void NdisFreeGenericObject(PNDIS_GENERIC_OBJECT NdisObject);

/* wdm.h: a driver built with POOL_NX_OPTIN calls ExInitializeDriverRuntime
 * (DrvRtPoolNxOptIn) in DriverEntry. The WDK's version is an inline that
 * makes NonPagedPoolNx the default of the driver's own ExAllocatePool*
 * calls; NDIS drivers built against these headers allocate only through
 * NDIS, so here it has nothing to set. */
typedef enum _DRIVER_RUNTIME_INIT_FLAGS {
    DrvRtPoolNxOptIn = 0x00000001,
    LastDrvRtFlag
} DRIVER_RUNTIME_INIT_FLAGS,
    *PDRIVER_RUNTIME_INIT_FLAGS;
static inline void ExInitializeDriverRuntime(ULONG RuntimeFlags)
{
    (void)RuntimeFlags;
}

/* OID_GEN_MEDIA_CONNECT_STATUS answers one of these (ntddndis.h). */
typedef enum _NDIS_MEDIA_STATE {
    NdisMediaStateConnected,
    NdisMediaStateDisconnected
} NDIS_MEDIA_STATE,
    *PNDIS_MEDIA_STATE;

#endif /* VFO_DDK_NDIS_CORE_H */
