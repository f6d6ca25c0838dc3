/*
 * ndis_more.h - NDIS names Microsoft's NDIS samples use beyond what vfo and
 * the emulated drivers need: restart attributes, the NDIS 5 era memory
 * call still exported by NDIS 6, the binding's instance name,
 * further EtherTypes, status codes and the 802.11 OIDs a protocol may
 * filter. Names and values are the WDK's (ndis.h, ntddndis.h,
 * ndis/status.h, ndis/nblaccessors.h); checked by tools/ddk-conformance.
 */
#ifndef VFO_DDK_NDIS_MORE_H
#define VFO_DDK_NDIS_MORE_H

#define NDIS_STATUS_NOT_ACCEPTED      ((NDIS_STATUS)0x00010003L)
#define NDIS_STATUS_ADAPTER_NOT_READY ((NDIS_STATUS)0xC0010011L)

#define NDIS_ETH_TYPE_802_1X 0x888e
#define NDIS_ETH_TYPE_802_1Q 0x8100

#define NBL_PROT_RSVD_FLAGS NBL_FLAGS_PROTOCOL_RESERVED

#define OID_GEN_MINIPORT_RESTART_ATTRIBUTES 0x0001021D

#define OID_802_11_BSSID               0x0D010101
#define OID_802_11_SSID                0x0D010102
#define OID_802_11_INFRASTRUCTURE_MODE 0x0D010108
#define OID_802_11_ADD_WEP             0x0D010113
#define OID_802_11_REMOVE_WEP          0x0D010114
#define OID_802_11_DISASSOCIATE        0x0D010115
#define OID_802_11_AUTHENTICATION_MODE 0x0D010118
#define OID_802_11_BSSID_LIST_SCAN     0x0D01011A
#define OID_802_11_WEP_STATUS          0x0D01011B
#define OID_802_11_RELOAD_DEFAULTS     0x0D01011C
#define OID_802_11_NETWORK_TYPE_IN_USE 0x0D010204
#define OID_802_11_RSSI                0x0D010206
#define OID_802_11_SUPPORTED_RATES     0x0D01020E
#define OID_802_11_CONFIGURATION       0x0D010211
#define OID_802_11_POWER_MODE          0x0D010216
#define OID_802_11_BSSID_LIST          0x0D010217
#define OID_802_11_STATISTICS          0x0D020212

#define NDIS_OBJECT_TYPE_RESTART_GENERAL_ATTRIBUTES 0xA2
#define NDIS_RESTART_GENERAL_ATTRIBUTES_REVISION_1  1

struct _NDIS_RESTART_ATTRIBUTES {
    PNDIS_RESTART_ATTRIBUTES Next;
    NDIS_OID Oid;
    ULONG DataLength;
    DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT) UCHAR Data[1];
};
_Static_assert(sizeof(NDIS_RESTART_ATTRIBUTES) == 32, "NDIS_RESTART_ATTRIBUTES x64 size");

typedef struct _NDIS_RESTART_GENERAL_ATTRIBUTES {
    NDIS_OBJECT_HEADER Header;
    ULONG MtuSize;
    ULONG64 MaxXmitLinkSpeed;
    ULONG64 MaxRcvLinkSpeed;
    ULONG LookaheadSize;
    ULONG MacOptions;
    ULONG SupportedPacketFilters;
    ULONG MaxMulticastListSize;
    PNDIS_RECEIVE_SCALE_CAPABILITIES RecvScaleCapabilities;
    NET_IF_ACCESS_TYPE AccessType;
    ULONG Flags;
    NET_IF_CONNECTION_TYPE ConnectionType;
    ULONG SupportedStatistics;
    ULONG DataBackFillSize;
    ULONG ContextBackFillSize;
    PNDIS_OID SupportedOidList;
    ULONG SupportedOidListLength;
    ULONG MaxLookaheadSizeAccessed;
} NDIS_RESTART_GENERAL_ATTRIBUTES, *PNDIS_RESTART_GENERAL_ATTRIBUTES;
_Static_assert(sizeof(NDIS_RESTART_GENERAL_ATTRIBUTES) == 88, "NDIS_RESTART_GENERAL_ATTRIBUTES");

/* The WDK's body is MSVC's __annotation (a record in the PDB for !ndiskd,
 * "no runtime overhead or effect"); here only the sizeof remains. */
#define NDIS_DECLARE_CONTEXT_INNER(datatype, purpose) ((void)(purpose), sizeof(datatype))
#define NDIS_DECLARE_MINIPORT_DRIVER_CONTEXT(type)    NDIS_DECLARE_CONTEXT_INNER(type, 0)
#define NDIS_DECLARE_MINIPORT_ADAPTER_CONTEXT(type)   NDIS_DECLARE_CONTEXT_INNER(type, 0)
#define NDIS_DECLARE_MINIPORT_INTERRUPT_CONTEXT(type) NDIS_DECLARE_CONTEXT_INNER(type, 0)
#define NDIS_DECLARE_FILTER_DRIVER_CONTEXT(type)      NDIS_DECLARE_CONTEXT_INNER(type, 0)
#define NDIS_DECLARE_FILTER_MODULE_CONTEXT(type)      NDIS_DECLARE_CONTEXT_INNER(type, 0)
#define NDIS_DECLARE_PROTOCOL_DRIVER_CONTEXT(type)    NDIS_DECLARE_CONTEXT_INNER(type, 0)
#define NDIS_DECLARE_PROTOCOL_OPEN_CONTEXT(type)      NDIS_DECLARE_CONTEXT_INNER(type, 0)

/* The role types of the SetOptionsHandler each driver kind registers. */
typedef SET_OPTIONS(MINIPORT_SET_OPTIONS);
typedef SET_OPTIONS(PROTOCOL_SET_OPTIONS);
typedef SET_OPTIONS(FILTER_SET_OPTIONS);

/* Flag helpers (ndis/nbl.h, ndis/nblaccessors.h; NDIS_INCLUDE_LEGACY_NAMES
 * spellings included, which ndis.h always defines). */
#define NDIS_TEST_SEND_FLAG(_Flags, _Fl)  (((_Flags) & (_Fl)) == (_Fl))
#define NDIS_SET_SEND_FLAG(_Flags, _Fl)   ((_Flags) |= (_Fl))
#define NDIS_CLEAR_SEND_FLAG(_Flags, _Fl) ((_Flags) &= ~(_Fl))
#define NDIS_TEST_SEND_AT_DISPATCH_LEVEL(_Flags) \
    NDIS_TEST_SEND_FLAG((_Flags), NDIS_SEND_FLAGS_DISPATCH_LEVEL)
#define NDIS_TEST_SEND_COMPLETE_FLAG(_Flags, _Fl) (((_Flags) & (_Fl)) == (_Fl))
#define NDIS_SET_SEND_COMPLETE_FLAG(_Flags, _Fl)  ((_Flags) |= (_Fl))
#define NDIS_TEST_SEND_COMPLETE_AT_DISPATCH_LEVEL(_Flags) \
    NDIS_TEST_SEND_COMPLETE_FLAG((_Flags), NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL)
#define NDIS_TEST_RECEIVE_FLAG(_Flags, _Fl) (((_Flags) & (_Fl)) == (_Fl))
#define NDIS_SET_RECEIVE_FLAG(_Flags, _Fl)  ((_Flags) |= (_Fl))
#define NDIS_TEST_RECEIVE_AT_DISPATCH_LEVEL(_Flags) \
    NDIS_TEST_RECEIVE_FLAG((_Flags), NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL)
#define NDIS_TEST_RECEIVE_CANNOT_PEND(_Flags) \
    NDIS_TEST_RECEIVE_FLAG((_Flags), NDIS_RECEIVE_FLAGS_RESOURCES)
#define NDIS_TEST_RECEIVE_CAN_PEND(_Flags) (((_Flags)&NDIS_RECEIVE_FLAGS_RESOURCES) == 0)
#define NDIS_TEST_RETURN_FLAG(_Flags, _Fl) (((_Flags) & (_Fl)) == (_Fl))
#define NDIS_SET_RETURN_FLAG(_Flags, _Fl)  ((_Flags) |= (_Fl))
#define NDIS_TEST_RETURN_AT_DISPATCH_LEVEL(_Flags) \
    NDIS_TEST_RETURN_FLAG((_Flags), NDIS_RETURN_FLAGS_DISPATCH_LEVEL)
#define NBL_SET_PROTOCOL_RSVD_FLAG(_NBL, _F) ((_NBL)->Flags |= ((_F)&NBL_FLAGS_PROTOCOL_RESERVED))
#define NBL_CLEAR_PROTOCOL_RSVD_FLAG(_NBL, _F) \
    ((_NBL)->Flags &= ~((_F)&NBL_FLAGS_PROTOCOL_RESERVED))
#define NBL_TEST_PROTOCOL_RSVD_FLAG(_NBL, _F) \
    (((_NBL)->Flags & ((_F)&NBL_FLAGS_PROTOCOL_RESERVED)) != 0)
#define NBL_SET_PROT_RSVD_FLAG(_NBL, _F)   NBL_SET_PROTOCOL_RSVD_FLAG(_NBL, _F)
#define NBL_CLEAR_PROT_RSVD_FLAG(_NBL, _F) NBL_CLEAR_PROTOCOL_RSVD_FLAG(_NBL, _F)
#define NBL_TEST_PROT_RSVD_FLAG(_NBL, _F)  NBL_TEST_PROTOCOL_RSVD_FLAG(_NBL, _F)

/* wdm.h's: checked builds only in the WDK (DBG); a free build, as here, has
 * none. A Windows build takes them from the platform's ntddk.h. */
#if !defined(_WIN32)
#define ASSERT(exp)         ((void)0)
#define ASSERTMSG(msg, exp) ((void)0)
#define PAGED_CODE()
#define C_ASSERT(e)                       typedef char __C_ASSERT__[(e) ? 1 : -1]
#define ARGUMENT_PRESENT(ArgumentPointer) ((CHAR *)((ULONG_PTR)(ArgumentPointer)) != (CHAR *)(NULL))
#endif

/* xfilter.h: Ethernet address helpers. */
#define ETH_LENGTH_OF_ADDRESS     6
#define ETH_IS_MULTICAST(Address) (BOOLEAN)(((PUCHAR)(Address))[0] & ((UCHAR)0x01))
#define ETH_IS_BROADCAST(Address)                                            \
    ((((PUCHAR)(Address))[0] == 0xff) && (((PUCHAR)(Address))[1] == 0xff) && \
     (((PUCHAR)(Address))[2] == 0xff) && (((PUCHAR)(Address))[3] == 0xff) && \
     (((PUCHAR)(Address))[4] == 0xff) && (((PUCHAR)(Address))[5] == 0xff))
/* *_Result: 0 when equal, 1 when not. */
#define ETH_COMPARE_NETWORK_ADDRESSES_EQ(_A, _B, _Result)            \
    {                                                                \
        *(_Result) = memcmp((_A), (_B), ETH_LENGTH_OF_ADDRESS) != 0; \
    }
#define ETH_COPY_NETWORK_ADDRESS(_D, _S)           \
    {                                              \
        memcpy((_D), (_S), ETH_LENGTH_OF_ADDRESS); \
    }

#define NdisInitializeListHead(_ListHead) InitializeListHead(_ListHead)

#define OID_GEN_PROTOCOL_OPTIONS                        0x00010112
#define OID_PNP_WAKE_UP_PATTERN_LIST                    0xFD010105
#define NDIS_STATISTICS_RCV_CRC_ERROR_SUPPORTED         0x00020000
#define NDIS_STATISTICS_TRANSMIT_QUEUE_LENGTH_SUPPORTED 0x00040000
/* NdisMRegisterMiniportDriver's Flags */
#define NDIS_INTERMEDIATE_DRIVER 0x00000001
#define NDIS_WDM_DRIVER          0x00000002

/* The NDIS 6.0 read/write lock (in the driver's memory, no free call),
 * declared by the WDK only for NDIS 6.0/6.1 and legacy builds. */
#if defined(NDIS61_MINIPORT) || defined(NDIS60_MINIPORT) || defined(NDIS61) || defined(NDIS60) || \
    defined(NDIS_WRAPPER) || defined(NDIS_LEGACY_DRIVER)
typedef union _NDIS_RW_LOCK_REFCOUNT {
    ULONG RefCount;
    UCHAR cacheLine[16];
} NDIS_RW_LOCK_REFCOUNT;

typedef struct _NDIS_RW_LOCK {
    union {
        struct {
            KSPIN_LOCK SpinLock;
            PVOID Context;
        };
        UCHAR Reserved[16];
    };
    union {
        NDIS_RW_LOCK_REFCOUNT RefCount[64]; /* MAXIMUM_PROCESSORS (x64) */
        ULONG RefCountEx[sizeof(NDIS_RW_LOCK_REFCOUNT) / sizeof(ULONG) * 64];
        struct {
            KSPIN_LOCK RefCountLock;
            volatile ULONG SharedRefCount;
            volatile BOOLEAN WriterWaiting;
        };
    };
} NDIS_RW_LOCK, *PNDIS_RW_LOCK;
/* Outside ddk-conformance's NDIS 6.30 view: the numbers are asserted here
 * (wdk-offsets.sh with NDIS60 defines). */
_Static_assert(sizeof(NDIS_RW_LOCK) == 1040, "NDIS_RW_LOCK x64 size");
_Static_assert(offsetof(NDIS_RW_LOCK, Context) == 8, "NDIS_RW_LOCK.Context");
_Static_assert(offsetof(NDIS_RW_LOCK, SharedRefCount) == 24, "NDIS_RW_LOCK.SharedRefCount");
_Static_assert(offsetof(NDIS_RW_LOCK, WriterWaiting) == 28, "NDIS_RW_LOCK.WriterWaiting");

typedef struct _LOCK_STATE {
    USHORT LockState;
    KIRQL OldIrql;
} LOCK_STATE, *PLOCK_STATE;
_Static_assert(sizeof(LOCK_STATE) == 4 && offsetof(LOCK_STATE, OldIrql) == 2, "LOCK_STATE");

void NdisInitializeReadWriteLock(PNDIS_RW_LOCK Lock);
void NdisAcquireReadWriteLock(PNDIS_RW_LOCK Lock, BOOLEAN fWrite, PLOCK_STATE LockState);
void NdisReleaseReadWriteLock(PNDIS_RW_LOCK Lock, PLOCK_STATE LockState);
void NdisDprAcquireReadWriteLock(PNDIS_RW_LOCK Lock, BOOLEAN fWrite, PLOCK_STATE LockState);
void NdisDprReleaseReadWriteLock(PNDIS_RW_LOCK Lock, PLOCK_STATE LockState);
#endif

typedef KMUTEX NDIS_MUTEX, *PNDIS_MUTEX;
#define NDIS_INIT_MUTEX(_M_)     KeInitializeMutex(_M_, 0xFFFF)
#define NDIS_RELEASE_MUTEX(_M_)  KeReleaseMutex(_M_, FALSE)
#define NDIS_WAIT_FOR_MUTEX(_M_) KeWaitForSingleObject(_M_, Executive, KernelMode, FALSE, NULL)

/* Obsolete since NDIS 6 (NdisAllocateMemoryWithTagPriority) but exported. */
NDIS_STATUS NdisAllocateMemoryWithTag(PVOID *VirtualAddress, UINT Length, ULONG Tag);
/* The friendly name of the adapter under the binding (the caller frees
 * pAdapterInstanceName->Buffer with NdisFreeMemory). */
NDIS_STATUS NdisQueryAdapterInstanceName(PNDIS_STRING pAdapterInstanceName,
                                         NDIS_HANDLE NdisBindingHandle);

/* ---- what Microsoft's netvmini sample uses besides VMQ and QoS
 * (ndis_vmq.h): power profiles, pause functions, revisions, the NDIS
 * forms of lookaside lists and interlocked lists, IRQL helpers ---- */
typedef enum _NDIS_POWER_PROFILE {
    NdisPowerProfileBattery,
    NdisPowerProfileAcOnLine
} NDIS_POWER_PROFILE,
    *PNDIS_POWER_PROFILE;

#if !defined(_WIN32)
typedef enum _NDIS_SUPPORTED_PAUSE_FUNCTIONS {
    NdisPauseFunctionsUnsupported,
    NdisPauseFunctionsSendOnly,
    NdisPauseFunctionsReceiveOnly,
    NdisPauseFunctionsSendAndReceive,
    NdisPauseFunctionsUnknown
} NDIS_SUPPORTED_PAUSE_FUNCTIONS,
    *PNDIS_SUPPORTED_PAUSE_FUNCTIONS;
#endif
#define NDIS_LINK_STATE_XMIT_LINK_SPEED_AUTO_NEGOTIATED 0x00000001
#define NDIS_LINK_STATE_RCV_LINK_SPEED_AUTO_NEGOTIATED  0x00000002
#define NDIS_LINK_STATE_DUPLEX_AUTO_NEGOTIATED          0x00000004
#define NDIS_LINK_STATE_PAUSE_FUNCTIONS_AUTO_NEGOTIATED 0x00000008

#define NDIS_PM_CAPABILITIES_REVISION_1 1
#define NDIS_SIZEOF_NDIS_PM_CAPABILITIES_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_PM_CAPABILITIES, MinLinkChangeWakeUp)
#define NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_2 \
    RTL_SIZEOF_THROUGH_FIELD(NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES, InterfaceType)
#define NDIS_MINIPORT_ATTRIBUTES_CONTROLS_DEFAULT_PORT 0x00000080
#define NDIS_MINIPORT_ATTRIBUTES_NO_PAUSE_ON_SUSPEND   0x00000100

#define NDIS_INIT_FUNCTION(_F)     alloc_text(INIT, _F)
#define NDIS_PAGEABLE_FUNCTION(_F) alloc_text(PAGE, _F)

#define NdisGetPhysicalAddressHigh(_PhysicalAddress) ((_PhysicalAddress).HighPart)
#define NdisGetPhysicalAddressLow(_PhysicalAddress)  ((_PhysicalAddress).LowPart)
#define NdisAdjustMdlLength(_Mdl, _Length)           (((_Mdl)->ByteCount) = (_Length))

#define NDIS_CURRENT_IRQL()                  KeGetCurrentIrql()
#define NDIS_RAISE_IRQL_TO_DISPATCH(_pIrql_) KeRaiseIrql(DISPATCH_LEVEL, _pIrql_)
#define NDIS_LOWER_IRQL(_OldIrql_, _CurIrql_) \
    {                                         \
        if (_OldIrql_ != _CurIrql_)           \
            KeLowerIrql(_OldIrql_);           \
    }

#define NdisInterlockedInsertHeadList(_ListHead, _ListEntry, _SpinLock) \
    ExInterlockedInsertHeadList(_ListHead, _ListEntry, &(_SpinLock)->SpinLock)
#define NdisInterlockedInsertTailList(_ListHead, _ListEntry, _SpinLock) \
    ExInterlockedInsertTailList(_ListHead, _ListEntry, &(_SpinLock)->SpinLock)
#define NdisInterlockedRemoveHeadList(_ListHead, _SpinLock) \
    ExInterlockedRemoveHeadList(_ListHead, &(_SpinLock)->SpinLock)

/* The alignment NDIS wants for data shared between processors (a cache
 * line), and the runtime's NDIS version. */
NDIS_EXPORTED_ROUTINE ULONG NdisGetSharedDataAlignment(void);
NDIS_EXPORTED_ROUTINE UINT NdisGetVersion(void);
#define NDIS_RUNTIME_VERSION_630 ((6 << 16) | 30)

#define OID_GEN_RCV_DISCARDS           0x0002021B
#define OID_GEN_XMIT_DISCARDS          0x0002021C
#define OID_PM_ADD_PROTOCOL_OFFLOAD    0xFD01010D
#define OID_PM_REMOVE_PROTOCOL_OFFLOAD 0xFD01010F

typedef struct _CM_RESOURCE_LIST CM_RESOURCE_LIST, *PCM_RESOURCE_LIST;
/* A root-enumerated virtual adapter has no resources: both lists NULL. */
NDIS_EXPORTED_ROUTINE void NdisMGetDeviceProperty(NDIS_HANDLE MiniportAdapterHandle,
                                                  PDEVICE_OBJECT *PhysicalDeviceObject,
                                                  PDEVICE_OBJECT *FunctionalDeviceObject,
                                                  PDEVICE_OBJECT *NextDeviceObject,
                                                  PCM_RESOURCE_LIST *AllocatedResources,
                                                  PCM_RESOURCE_LIST *AllocatedResourcesTranslated);

#if defined(_WIN32) && !defined(POOL_NX_ALLOCATION) /* wdm.h's; mingw-w64's lacks it */
#define POOL_NX_ALLOCATION 512
#endif
/* Inline in the WDK: NDIS 6.30 and later runtimes get no-execute pool. */
FORCEINLINE void NdisInitializeNPagedLookasideList(PNPAGED_LOOKASIDE_LIST Lookaside,
                                                   PALLOCATE_FUNCTION Allocate, PFREE_FUNCTION Free,
                                                   ULONG Flags, SIZE_T Size, ULONG Tag,
                                                   USHORT Depth)
{
    if (NdisGetVersion() >= NDIS_RUNTIME_VERSION_630)
        Flags |= POOL_NX_ALLOCATION;
    ExInitializeNPagedLookasideList(Lookaside, Allocate, Free, Flags, Size, Tag, Depth);
}
#define NdisDeleteNPagedLookasideList(_L)       ExDeleteNPagedLookasideList(_L)
#define NdisAllocateFromNPagedLookasideList(_L) ExAllocateFromNPagedLookasideList(_L)
#define NdisFreeToNPagedLookasideList(_L, _E)   ExFreeToNPagedLookasideList(_L, _E)

#endif /* VFO_DDK_NDIS_MORE_H */
