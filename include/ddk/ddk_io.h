/*
 * ddk_io.h - the I/O manager's objects and calls a driver that creates its
 * own device (IoCreateDevice) uses: DEVICE_OBJECT and FILE_OBJECT with the
 * WDK's x64 layouts, KDPC and KDEVICE_QUEUE (members of DEVICE_OBJECT), the
 * READ/WRITE parameters of IO_STACK_LOCATION (in ddk_wdm.h), and the
 * status codes and flags those paths use. Names and values are the WDK's
 * (wdm.h, ntddk.h, ntstatus.h, ntdef.h); checked by tools/ddk-conformance.
 */
#ifndef VFO_DDK_IO_H
#define VFO_DDK_IO_H

#define _IRQL_requires_same_
#define _Inout_updates_bytes_to_(x, y)
#define _Field_size_bytes_part_(x, y)
#define _In_range_(x, y)

#define UNICODE_NULL ((WCHAR)0)
/* A counted string initializer from a literal (ntdef.h): Length without
 * the terminator, MaximumLength with it. */
#define RTL_CONSTANT_STRING(s)                            \
    {                                                     \
        sizeof(s) - sizeof((s)[0]), sizeof(s), (PWSTR)(s) \
    }

#define STATUS_TIMEOUT               ((NTSTATUS)0x00000102L)
#define STATUS_BUFFER_OVERFLOW       ((NTSTATUS)0x80000005L)
#define STATUS_DEVICE_BUSY           ((NTSTATUS)0x80000011L)
#define STATUS_NO_MORE_ENTRIES       ((NTSTATUS)0x8000001AL)
#define STATUS_INVALID_HANDLE        ((NTSTATUS)0xC0000008L)
#define STATUS_OBJECT_NAME_INVALID   ((NTSTATUS)0xC0000033L)
#define STATUS_OBJECT_NAME_NOT_FOUND ((NTSTATUS)0xC0000034L)
#define STATUS_OBJECT_NAME_COLLISION ((NTSTATUS)0xC0000035L)
#define STATUS_DELETE_PENDING        ((NTSTATUS)0xC0000056L)
#define STATUS_DEVICE_NOT_CONNECTED  ((NTSTATUS)0xC000009DL)
#define STATUS_INVALID_USER_BUFFER   ((NTSTATUS)0xC00000E8L)
#define STATUS_INVALID_DEVICE_STATE  ((NTSTATUS)0xC0000184L)
#define STATUS_INVALID_BUFFER_SIZE   ((NTSTATUS)0xC0000206L)

#define DEVICE_TYPE ULONG

/* DEVICE_OBJECT.Flags */
#define DO_BUFFERED_IO               0x00000004
#define DO_EXCLUSIVE                 0x00000008
#define DO_DIRECT_IO                 0x00000010
#define DO_DEVICE_INITIALIZING       0x00000080
#define FILE_DEVICE_PHYSICAL_NETCARD 0x00000017
/* IoCreateDevice's DeviceCharacteristics */
#define FILE_DEVICE_SECURE_OPEN 0x00000100

#define IO_NETWORK_INCREMENT 2

typedef void KDEFERRED_ROUTINE(struct _KDPC *Dpc, PVOID DeferredContext, PVOID SystemArgument1,
                               PVOID SystemArgument2);
typedef KDEFERRED_ROUTINE *PKDEFERRED_ROUTINE;

typedef struct _KDPC {
    union {
        ULONG TargetInfoAsUlong;
        struct {
            UCHAR Type;
            UCHAR Importance;
            volatile USHORT Number;
        };
    };
    SINGLE_LIST_ENTRY DpcListEntry;
    KAFFINITY ProcessorHistory;
    PKDEFERRED_ROUTINE DeferredRoutine;
    PVOID DeferredContext;
    PVOID SystemArgument1;
    PVOID SystemArgument2;
    PVOID DpcData;
} KDPC, *PRKDPC;
_Static_assert(sizeof(KDPC) == 64, "KDPC x64 size");

typedef struct _KDEVICE_QUEUE {
    CSHORT Type;
    CSHORT Size;
    LIST_ENTRY DeviceListHead;
    KSPIN_LOCK Lock;
    union {
        BOOLEAN Busy;
        struct {
            LONG64 Reserved : 8;
            LONG64 Hint : 56;
        };
    };
} KDEVICE_QUEUE, *PKDEVICE_QUEUE;
_Static_assert(sizeof(KDEVICE_QUEUE) == 40, "KDEVICE_QUEUE x64 size");

typedef struct _VPB *PVPB;
typedef struct _IO_TIMER *PIO_TIMER;
typedef PVOID PSECURITY_DESCRIPTOR;
typedef struct _SECTION_OBJECT_POINTERS *PSECTION_OBJECT_POINTERS;
typedef struct _IO_COMPLETION_CONTEXT *PIO_COMPLETION_CONTEXT;

struct _DEVICE_OBJECT {
    DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT) CSHORT Type; /* the WDK aligns it to 16 */
    USHORT Size;
    LONG ReferenceCount;
    struct _DRIVER_OBJECT *DriverObject;
    struct _DEVICE_OBJECT *NextDevice;
    struct _DEVICE_OBJECT *AttachedDevice;
    struct _IRP *CurrentIrp;
    PIO_TIMER Timer;
    ULONG Flags;
    ULONG Characteristics;
    PVPB Vpb;
    PVOID DeviceExtension;
    DEVICE_TYPE DeviceType;
    CCHAR StackSize;
    union {
        LIST_ENTRY ListEntry;
        UCHAR Wcb[72]; /* WAIT_CONTEXT_BLOCK (system DMA), not declared here */
    } Queue;
    ULONG AlignmentRequirement;
    KDEVICE_QUEUE DeviceQueue;
    KDPC Dpc;
    ULONG ActiveThreadCount;
    PSECURITY_DESCRIPTOR SecurityDescriptor;
    KEVENT DeviceLock;
    USHORT SectorSize;
    USHORT Spare1;
    struct _DEVOBJ_EXTENSION *DeviceObjectExtension;
    PVOID Reserved;
};
_Static_assert(sizeof(DEVICE_OBJECT) == 0x150, "DEVICE_OBJECT x64 size");
_Static_assert(offsetof(DEVICE_OBJECT, Flags) == 48, "DEVICE_OBJECT.Flags");
_Static_assert(offsetof(DEVICE_OBJECT, Dpc) == 200, "DEVICE_OBJECT.Dpc");

typedef struct _FILE_OBJECT {
    CSHORT Type;
    CSHORT Size;
    PDEVICE_OBJECT DeviceObject;
    PVPB Vpb;
    PVOID FsContext;
    PVOID FsContext2;
    PSECTION_OBJECT_POINTERS SectionObjectPointer;
    PVOID PrivateCacheMap;
    NTSTATUS FinalStatus;
    struct _FILE_OBJECT *RelatedFileObject;
    BOOLEAN LockOperation;
    BOOLEAN DeletePending;
    BOOLEAN ReadAccess;
    BOOLEAN WriteAccess;
    BOOLEAN DeleteAccess;
    BOOLEAN SharedRead;
    BOOLEAN SharedWrite;
    BOOLEAN SharedDelete;
    ULONG Flags;
    UNICODE_STRING FileName;
    LARGE_INTEGER CurrentByteOffset;
    volatile ULONG Waiters;
    volatile ULONG Busy;
    PVOID LastLock;
    KEVENT Lock;
    KEVENT Event;
    volatile PIO_COMPLETION_CONTEXT CompletionContext;
    KSPIN_LOCK IrpListLock;
    LIST_ENTRY IrpList;
    volatile PVOID FileObjectExtension;
} FILE_OBJECT;
_Static_assert(sizeof(FILE_OBJECT) == 216, "FILE_OBJECT x64 size");
_Static_assert(offsetof(FILE_OBJECT, FsContext) == 24, "FILE_OBJECT.FsContext");

/* Kernel mutexes (wdm.h). Storage only, as KEVENT: the runtime owns the
 * dispatcher header; the layout is the WDK's KMUTANT. */
typedef struct _KMUTANT {
    ULONG_PTR Header[3]; /* DISPATCHER_HEADER */
    LIST_ENTRY MutantListEntry;
    struct _KTHREAD *OwnerThread;
    UCHAR MutantFlags;
    UCHAR ApcDisable;
} KMUTANT, *PKMUTANT, *PRKMUTANT, KMUTEX, *PKMUTEX, *PRKMUTEX;
_Static_assert(sizeof(KMUTANT) == 56, "KMUTANT x64 size");

typedef enum _KWAIT_REASON { Executive = 0 } KWAIT_REASON;
typedef enum _MODE { KernelMode, UserMode, MaximumMode } MODE;

void KeInitializeMutex(PRKMUTEX Mutex, ULONG Level);
LONG KeReleaseMutex(PRKMUTEX Mutex, BOOLEAN Wait);
/* ndisemu waits on kernel mutexes only (the other dispatcher objects a
 * driver has are NDIS events, waited with NdisWaitEvent). */
NTSTATUS KeWaitForSingleObject(PVOID Object, KWAIT_REASON WaitReason, KPROCESSOR_MODE WaitMode,
                               BOOLEAN Alertable, PLARGE_INTEGER Timeout);

/* I/O manager (wdm.h) */
NTSTATUS IoCreateDevice(PDRIVER_OBJECT DriverObject, ULONG DeviceExtensionSize,
                        PUNICODE_STRING DeviceName, DEVICE_TYPE DeviceType,
                        ULONG DeviceCharacteristics, BOOLEAN Exclusive,
                        PDEVICE_OBJECT *DeviceObject);
void IoDeleteDevice(PDEVICE_OBJECT DeviceObject);
NTSTATUS IoCreateSymbolicLink(PUNICODE_STRING SymbolicLinkName, PUNICODE_STRING DeviceName);
NTSTATUS IoDeleteSymbolicLink(PUNICODE_STRING SymbolicLinkName);
void KeEnterCriticalRegion(void);
void KeLeaveCriticalRegion(void);
void RtlInitUnicodeString(PUNICODE_STRING DestinationString, PCWSTR SourceString);
/* wdm.h, ntddk.h */
BOOLEAN RtlEqualUnicodeString(PCUNICODE_STRING String1, PCUNICODE_STRING String2,
                              BOOLEAN CaseInSensitive);
NTSTATUS RtlUpcaseUnicodeString(PUNICODE_STRING DestinationString, PCUNICODE_STRING SourceString,
                                BOOLEAN AllocateDestinationString);

#endif /* VFO_DDK_IO_H */
