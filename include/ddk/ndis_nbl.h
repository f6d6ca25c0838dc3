/*
 * ndis_nbl.h - NET_BUFFER_LIST, NET_BUFFER, their pools, accessor macros and
 * helper functions. Part of the clean-room ndis.h. Layouts: Windows x64.
 */
#ifndef VFO_DDK_NDIS_NBL_H
#define VFO_DDK_NDIS_NBL_H

typedef struct _NET_BUFFER NET_BUFFER, *PNET_BUFFER;
typedef struct _NET_BUFFER_LIST NET_BUFFER_LIST, *PNET_BUFFER_LIST;
typedef struct _NET_BUFFER_LIST_CONTEXT NET_BUFFER_LIST_CONTEXT, *PNET_BUFFER_LIST_CONTEXT;
typedef struct _NET_BUFFER_SHARED_MEMORY NET_BUFFER_SHARED_MEMORY, *PNET_BUFFER_SHARED_MEMORY;

typedef union _NET_BUFFER_DATA_LENGTH {
    ULONG DataLength;
    SIZE_T stDataLength;
} NET_BUFFER_DATA_LENGTH;

typedef struct _NET_BUFFER_DATA {
    PNET_BUFFER Next;
    PMDL CurrentMdl;
    ULONG CurrentMdlOffset;
    union {
        ULONG DataLength;
        SIZE_T stDataLength;
    };
    PMDL MdlChain;
    ULONG DataOffset;
} NET_BUFFER_DATA, *PNET_BUFFER_DATA;

typedef union _NET_BUFFER_HEADER {
    struct {
        PNET_BUFFER Next;
        PMDL CurrentMdl;
        ULONG CurrentMdlOffset;
        union {
            ULONG DataLength;
            SIZE_T stDataLength;
        };
        PMDL MdlChain;
        ULONG DataOffset;
    };
    SLIST_HEADER Link;
} NET_BUFFER_HEADER, *PNET_BUFFER_HEADER;

struct _NET_BUFFER {
    union {
        struct {
            PNET_BUFFER Next;
            PMDL CurrentMdl;
            ULONG CurrentMdlOffset;
            union {
                ULONG DataLength;
                SIZE_T stDataLength;
            };
            PMDL MdlChain;
            ULONG DataOffset;
        };
        SLIST_HEADER Link;
        NET_BUFFER_HEADER NetBufferHeader;
    };
    USHORT ChecksumBias;
    USHORT Reserved;
    NDIS_HANDLE NdisPoolHandle;
    DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT) PVOID NdisReserved[2];
    DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT) PVOID ProtocolReserved[6];
    DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT) PVOID MiniportReserved[4];
    NDIS_PHYSICAL_ADDRESS DataPhysicalAddress;
    union {
        PNET_BUFFER_SHARED_MEMORY SharedMemoryInfo;
        PSCATTER_GATHER_LIST ScatterGatherList;
    };
};

struct _NET_BUFFER_LIST_CONTEXT {
    PNET_BUFFER_LIST_CONTEXT Next;
    USHORT Size;
    USHORT Offset;
    DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT) UCHAR ContextData[];
};

typedef enum _NDIS_NET_BUFFER_LIST_INFO {
    TcpIpChecksumNetBufferListInfo,
    TcpOffloadBytesTransferred = TcpIpChecksumNetBufferListInfo,
    IPsecOffloadV1NetBufferListInfo,
    TcpLargeSendNetBufferListInfo,
    TcpReceiveNoPush = TcpLargeSendNetBufferListInfo,
    ClassificationHandleNetBufferListInfo,
    Ieee8021QNetBufferListInfo,
    NetBufferListCancelId,
    MediaSpecificInformation,
    NetBufferListFrameType,
    NetBufferListProtocolId = NetBufferListFrameType,
    NetBufferListHashValue,
    NetBufferListHashInfo,
    WfpNetBufferListInfo,
    IPsecOffloadV2NetBufferListInfo = IPsecOffloadV1NetBufferListInfo,
    IPsecOffloadV2TunnelNetBufferListInfo = WfpNetBufferListInfo + 1,
    IPsecOffloadV2HeaderNetBufferListInfo,
    NetBufferListCorrelationId,
    NetBufferListFilteringInfo,
    MediaSpecificInformationEx,
    NblOriginalInterfaceIfIndex,
    NblReAuthWfpFlowContext = NblOriginalInterfaceIfIndex,
    TcpReceiveBytesTransferred,
    SwitchForwardingReserved,
    SwitchForwardingDetail,
    VirtualSubnetInfo,
    IMReserved,
    TcpRecvSegCoalesceInfo,
    RscTcpTimestampDelta,
    TcpSendOffloadsSupplementalNetBufferListInfo = RscTcpTimestampDelta,
    MaxNetBufferListInfo
} NDIS_NET_BUFFER_LIST_INFO,
    *PNDIS_NET_BUFFER_LIST_INFO;

typedef struct _NET_BUFFER_LIST_DATA {
    PNET_BUFFER_LIST Next;
    PNET_BUFFER FirstNetBuffer;
} NET_BUFFER_LIST_DATA, *PNET_BUFFER_LIST_DATA;

typedef union _NET_BUFFER_LIST_HEADER {
    struct {
        PNET_BUFFER_LIST Next;
        PNET_BUFFER FirstNetBuffer;
    };
    SLIST_HEADER Link;
} NET_BUFFER_LIST_HEADER, *PNET_BUFFER_LIST_HEADER;

struct _NET_BUFFER_LIST {
    union {
        struct {
            PNET_BUFFER_LIST Next;
            PNET_BUFFER FirstNetBuffer;
        };
        SLIST_HEADER Link;
        NET_BUFFER_LIST_HEADER NetBufferListHeader;
    };
    PNET_BUFFER_LIST_CONTEXT Context;
    PNET_BUFFER_LIST ParentNetBufferList;
    NDIS_HANDLE NdisPoolHandle;
    DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT) PVOID NdisReserved[2];
    DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT) PVOID ProtocolReserved[4];
    DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT) PVOID MiniportReserved[2];
    PVOID Scratch;
    NDIS_HANDLE SourceHandle;
    ULONG NblFlags;
    LONG ChildRefCount;
    ULONG Flags;
    union {
        NDIS_STATUS Status;
        ULONG NdisReserved2;
    };
    PVOID NetBufferListInfo[MaxNetBufferListInfo];
};

/* ---- NET_BUFFER accessors ---- */
#define NET_BUFFER_NEXT_NB(nb)            ((nb)->Next)
#define NET_BUFFER_FIRST_MDL(nb)          ((nb)->MdlChain)
#define NET_BUFFER_DATA_LENGTH(nb)        ((nb)->DataLength)
#define NET_BUFFER_DATA_OFFSET(nb)        ((nb)->DataOffset)
#define NET_BUFFER_CURRENT_MDL(nb)        ((nb)->CurrentMdl)
#define NET_BUFFER_CURRENT_MDL_OFFSET(nb) ((nb)->CurrentMdlOffset)
#define NET_BUFFER_PROTOCOL_RESERVED(nb)  ((nb)->ProtocolReserved)
#define NET_BUFFER_MINIPORT_RESERVED(nb)  ((nb)->MiniportReserved)
#define NET_BUFFER_CHECKSUM_BIAS(nb)      ((nb)->ChecksumBias)

/* ---- NET_BUFFER_LIST accessors ---- */
#define NET_BUFFER_LIST_NEXT_NBL(nbl)          ((nbl)->Next)
#define NET_BUFFER_LIST_FIRST_NB(nbl)          ((nbl)->FirstNetBuffer)
#define NET_BUFFER_LIST_FLAGS(nbl)             ((nbl)->Flags)
#define NET_BUFFER_LIST_NBL_FLAGS(nbl)         ((nbl)->NblFlags)
#define NET_BUFFER_LIST_PROTOCOL_RESERVED(nbl) ((nbl)->ProtocolReserved)
#define NET_BUFFER_LIST_MINIPORT_RESERVED(nbl) ((nbl)->MiniportReserved)
#define NET_BUFFER_LIST_CONTEXT_DATA_START(nbl) \
    ((PUCHAR)(((nbl)->Context)->ContextData + ((nbl)->Context)->Offset))
#define NET_BUFFER_LIST_CONTEXT_DATA_SIZE(nbl) (((nbl)->Context)->Size - ((nbl)->Context)->Offset)
#define NET_BUFFER_LIST_INFO(nbl, id)          ((nbl)->NetBufferListInfo[(id)])
#define NET_BUFFER_LIST_STATUS(nbl)            ((nbl)->Status)
#define NDIS_SET_NET_BUFFER_LIST_CANCEL_ID(nbl, id) \
    (NET_BUFFER_LIST_INFO((nbl), NetBufferListCancelId) = (id))
#define NDIS_GET_NET_BUFFER_LIST_CANCEL_ID(nbl) (NET_BUFFER_LIST_INFO((nbl), NetBufferListCancelId))

/* NBL flags owned by the driver that allocated the NBL (documented ranges). */
#define NBL_FLAGS_PROTOCOL_RESERVED 0xFFF00003
#define NBL_FLAGS_MINIPORT_RESERVED 0x0000F000
#define NBL_FLAGS_SCRATCH           0x000F0000
#define NBL_FLAGS_NDIS_RESERVED     0x00000FFC
#define NDIS_NBL_FLAGS_IS_IPV4      0x00000200
#define NDIS_NBL_FLAGS_IS_IPV6      0x00000400

/* ---- pools ---- */
typedef struct _NET_BUFFER_LIST_POOL_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    UCHAR ProtocolId;
    BOOLEAN fAllocateNetBuffer;
    USHORT ContextSize;
    ULONG PoolTag;
    ULONG DataSize;
} NET_BUFFER_LIST_POOL_PARAMETERS, *PNET_BUFFER_LIST_POOL_PARAMETERS;
#define NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1 1
#define NDIS_SIZEOF_NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NET_BUFFER_LIST_POOL_PARAMETERS, DataSize)

typedef struct _NET_BUFFER_POOL_PARAMETERS {
    NDIS_OBJECT_HEADER Header;
    ULONG PoolTag;
    ULONG DataSize;
} NET_BUFFER_POOL_PARAMETERS, *PNET_BUFFER_POOL_PARAMETERS;
#define NET_BUFFER_POOL_PARAMETERS_REVISION_1 1
#define NDIS_SIZEOF_NET_BUFFER_POOL_PARAMETERS_REVISION_1 \
    RTL_SIZEOF_THROUGH_FIELD(NET_BUFFER_POOL_PARAMETERS, DataSize)

#define NDIS_PROTOCOL_ID_DEFAULT 0x00
#define NDIS_PROTOCOL_ID_TCP_IP  0x02
#define NDIS_PROTOCOL_ID_IPX     0x06
#define NDIS_PROTOCOL_ID_NBF     0x07
#define NDIS_PROTOCOL_ID_MAX     0x0F

typedef PMDL NET_BUFFER_ALLOCATE_MDL(PULONG BufferSize);
typedef NET_BUFFER_ALLOCATE_MDL *NET_BUFFER_ALLOCATE_MDL_HANDLER;
typedef void NET_BUFFER_FREE_MDL(PMDL Mdl);
typedef NET_BUFFER_FREE_MDL *NET_BUFFER_FREE_MDL_HANDLER;

NDIS_EXPORTED_ROUTINE NDIS_HANDLE NdisAllocateNetBufferListPool(
    NDIS_HANDLE NdisHandle, const NET_BUFFER_LIST_POOL_PARAMETERS *Parameters);
NDIS_EXPORTED_ROUTINE void NdisFreeNetBufferListPool(NDIS_HANDLE PoolHandle);
NDIS_EXPORTED_ROUTINE NDIS_HANDLE
NdisAllocateNetBufferPool(NDIS_HANDLE NdisHandle, const NET_BUFFER_POOL_PARAMETERS *Parameters);
NDIS_EXPORTED_ROUTINE void NdisFreeNetBufferPool(NDIS_HANDLE PoolHandle);
NDIS_EXPORTED_ROUTINE PNET_BUFFER_LIST NdisAllocateNetBufferList(NDIS_HANDLE PoolHandle,
                                                                 USHORT ContextSize,
                                                                 USHORT ContextBackFill);
NDIS_EXPORTED_ROUTINE PNET_BUFFER_LIST NdisAllocateNetBufferAndNetBufferList(
    NDIS_HANDLE PoolHandle, USHORT ContextSize, USHORT ContextBackFill, PMDL MdlChain,
    ULONG DataOffset, SIZE_T DataLength);
NDIS_EXPORTED_ROUTINE void NdisFreeNetBufferList(PNET_BUFFER_LIST NetBufferList);
NDIS_EXPORTED_ROUTINE PNET_BUFFER NdisAllocateNetBuffer(NDIS_HANDLE PoolHandle, PMDL MdlChain,
                                                        ULONG DataOffset, SIZE_T DataLength);
NDIS_EXPORTED_ROUTINE void NdisFreeNetBuffer(PNET_BUFFER NetBuffer);
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisAllocateNetBufferListContext(PNET_BUFFER_LIST NetBufferList,
                                                                   USHORT ContextSize,
                                                                   USHORT ContextBackFill,
                                                                   ULONG PoolTag);
NDIS_EXPORTED_ROUTINE void NdisFreeNetBufferListContext(PNET_BUFFER_LIST NetBufferList,
                                                        USHORT ContextSize);
NDIS_EXPORTED_ROUTINE NDIS_STATUS
NdisRetreatNetBufferDataStart(PNET_BUFFER NetBuffer, ULONG DataOffsetDelta, ULONG DataBackFill,
                              NET_BUFFER_ALLOCATE_MDL_HANDLER AllocateMdlHandler);
NDIS_EXPORTED_ROUTINE void
NdisAdvanceNetBufferDataStart(PNET_BUFFER NetBuffer, ULONG DataOffsetDelta, BOOLEAN FreeMdl,
                              NET_BUFFER_FREE_MDL_HANDLER FreeMdlHandler);
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisRetreatNetBufferListDataStart(
    PNET_BUFFER_LIST NetBufferList, ULONG DataOffsetDelta, ULONG DataBackFill,
    NET_BUFFER_ALLOCATE_MDL_HANDLER AllocateMdlHandler, NET_BUFFER_FREE_MDL_HANDLER FreeMdlHandler);
NDIS_EXPORTED_ROUTINE void
NdisAdvanceNetBufferListDataStart(PNET_BUFFER_LIST NetBufferList, ULONG DataOffsetDelta,
                                  BOOLEAN FreeMdl, NET_BUFFER_FREE_MDL_HANDLER FreeMdlMdlHandler);
NDIS_EXPORTED_ROUTINE PVOID NdisGetDataBuffer(PNET_BUFFER NetBuffer, ULONG BytesNeeded,
                                              PVOID Storage, ULONG AlignMultiple,
                                              ULONG AlignOffset);
#define NDIS_CLONE_FLAGS_RESERVED          0x00000001
#define NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS 0x00000002
NDIS_EXPORTED_ROUTINE PNET_BUFFER_LIST NdisAllocateCloneNetBufferList(
    PNET_BUFFER_LIST OriginalNetBufferList, NDIS_HANDLE NetBufferListPoolHandle,
    NDIS_HANDLE NetBufferPoolHandle, ULONG AllocateCloneFlags);
NDIS_EXPORTED_ROUTINE void NdisFreeCloneNetBufferList(PNET_BUFFER_LIST CloneNetBufferList,
                                                      ULONG FreeCloneFlags);
NDIS_EXPORTED_ROUTINE NDIS_STATUS NdisCopyFromNetBufferToNetBuffer(
    PNET_BUFFER Destination, ULONG DestinationOffset, ULONG BytesToCopy, const NET_BUFFER *Source,
    ULONG SourceOffset, PULONG BytesCopied);

/* ---- MDLs ---- */
NDIS_EXPORTED_ROUTINE PMDL NdisAllocateMdl(NDIS_HANDLE NdisHandle, PVOID VirtualAddress,
                                           ULONG Length);
NDIS_EXPORTED_ROUTINE void NdisFreeMdl(PMDL Mdl);
#define NDIS_MDL_LINKAGE(m)       ((m)->Next)
#define NdisGetNextMdl(cur, next) (*(next) = (cur)->Next)
/* A macro in the WDK: the address is stored through (PVOID *), so any
 * pointer-to-pointer may be passed. */
#define NdisQueryMdl(_Mdl, _VirtualAddress, _Length, _Priority)                          \
    do {                                                                                 \
        if ((_VirtualAddress) != NULL)                                                   \
            *(PVOID *)(_VirtualAddress) = MmGetSystemAddressForMdlSafe(_Mdl, _Priority); \
        *(_Length) = MmGetMdlByteCount(_Mdl);                                            \
    } while (0)
#define NdisQueryMdlOffset(m, off, len) \
    do {                                \
        *(off) = MmGetMdlByteOffset(m); \
        *(len) = MmGetMdlByteCount(m);  \
    } while (0)

#endif /* VFO_DDK_NDIS_NBL_H */
