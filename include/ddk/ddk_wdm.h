/*
 * ddk_wdm.h - the WDM/ntddk subset an NDIS 6.30 driver needs, for builds that
 * have no Windows kernel headers (Linux, where drivers run on ndisemu).
 *
 * Written from the documented names and layouts on learn.microsoft.com; widths
 * are Windows x64 (LLP64): ULONG and LONG are 32-bit, pointers 64-bit.
 * With mingw-w64 this header is not used: ndis.h includes mingw's <ntddk.h>.
 *
 * Kernel services that a real kernel provides (IRQL, register access, time,
 * IoCompleteRequest, DbgPrint) are declared here and implemented by the
 * ndisemu runtime; pure macros and inline helpers (Interlocked*, list heads,
 * Rtl memory helpers) are defined here.
 */
#ifndef DDK_WDM_H
#define DDK_WDM_H

#if defined(_WIN32)
#error "ddk_wdm.h is for non-Windows builds; ndis.h includes the platform's ntddk.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- SAL and decoration macros: documentation only here ---- */
#define IN
#define OUT
#define OPTIONAL
#define _In_
#define _In_opt_
#define _Out_
#define _Out_opt_
#define _Inout_
#define _Inout_opt_
#define _In_reads_bytes_(x)
#define _Out_writes_bytes_(x)
#define _IRQL_requires_(x)
#define _IRQL_requires_max_(x)
#define _Function_class_(x)
#define _Use_decl_annotations_
/* More of the WDK's SAL / driver annotations (sal.h, driverspecs.h), so code
 * written for the WDK compiles here; without PREfast they expand to nothing,
 * as in the WDK. */
#define _In_reads_(x)
#define _In_reads_opt_(x)
#define _In_reads_bytes_opt_(x)
#define _Out_writes_(x)
#define _Out_writes_opt_(x)
#define _Out_writes_bytes_opt_(x)
#define _Out_writes_bytes_to_(x, y)
#define _Inout_updates_(x)
#define _Inout_updates_bytes_(x)
#define _Outptr_
#define _Outptr_result_maybenull_
#define _Outptr_result_bytebuffer_(x)
#define _Ret_maybenull_
#define _Must_inspect_result_
#define _Success_(x)
#define _When_(x, y)
#define _At_(x, y)
#define _Pre_notnull_
#define _Post_invalid_
#define _Post_
#define __fallthrough
#define _Analysis_mode_(mode)
#define _Deref_out_range_(op, e)
#define _Field_size_(x)
#define _Field_size_bytes_(x)
#define _Analysis_assume_(x)
#define _Requires_lock_held_(x)
#define _Requires_lock_not_held_(x)
#define _Acquires_lock_(x)
#define _Releases_lock_(x)
#define _IRQL_requires_min_(x)
#define _IRQL_raises_(x)
#define _IRQL_saves_
#define _IRQL_restores_
#define _IRQL_saves_global_(x, y)
#define _IRQL_restores_global_(x, y)
#define _IRQL_uses_cancel_
#define _Dispatch_type_(x)
#define __drv_allocatesMem(x)
#define __drv_freesMem(x)
#define __drv_aliasesMem
#define UNALIGNED
#define NTAPI
#define NTKERNELAPI
/* __declspec(align()) also goes between struct and its tag, as in
 * `typedef struct DECLSPEC_CACHEALIGN _X {...}`: gcc's attribute does too. */
#define DECLSPEC_ALIGN(x)         __attribute__((aligned(x)))
#define UNREFERENCED_PARAMETER(p) ((void)(p))
#define FORCEINLINE               static inline

/* ---- base types (Windows x64 widths) ---- */
typedef void VOID, *PVOID;
typedef char CHAR, *PCHAR, CCHAR;
typedef unsigned char UCHAR, *PUCHAR, BOOLEAN, *PBOOLEAN, KIRQL, *PKIRQL;
typedef short SHORT, CSHORT;
typedef unsigned short USHORT, *PUSHORT, WCHAR, *PWCHAR, *PWSTR;
typedef const unsigned short *PCWSTR;
typedef int LONG, *PLONG, INT;
typedef unsigned int ULONG, *PULONG, UINT, *PUINT;
typedef long long LONGLONG, LONG64, *PLONG64;
typedef unsigned long long ULONGLONG, ULONG64, *PULONG64, DWORD64;
typedef intptr_t LONG_PTR;
typedef uintptr_t ULONG_PTR, *PULONG_PTR, KAFFINITY;
typedef size_t SIZE_T, *PSIZE_T;
typedef LONG NTSTATUS, *PNTSTATUS;
typedef CHAR KPROCESSOR_MODE;
typedef ULONG_PTR KSPIN_LOCK, *PKSPIN_LOCK;

_Static_assert(sizeof(ULONG) == 4, "ULONG is 32-bit on Windows x64");
_Static_assert(sizeof(LONG) == 4, "LONG is 32-bit on Windows x64");
_Static_assert(sizeof(WCHAR) == 2, "WCHAR is UTF-16");
_Static_assert(sizeof(PVOID) == 8, "ndisemu targets 64-bit only");

#define TRUE  1
#define FALSE 0
#ifndef NULL
#define NULL ((void *)0)
#endif

typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    LONGLONG QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER, PHYSICAL_ADDRESS, *PPHYSICAL_ADDRESS;

typedef union _ULARGE_INTEGER {
    struct {
        ULONG LowPart;
        ULONG HighPart;
    };
    ULONGLONG QuadPart;
} ULARGE_INTEGER, *PULARGE_INTEGER;

typedef struct _GUID {
    ULONG Data1;
    USHORT Data2;
    USHORT Data3;
    UCHAR Data4[8];
} GUID, *PGUID;
typedef const GUID *LPCGUID;

typedef struct _UNICODE_STRING {
    USHORT Length;
    USHORT MaximumLength;
    PWSTR Buffer;
} UNICODE_STRING, *PUNICODE_STRING;
typedef const UNICODE_STRING *PCUNICODE_STRING;
_Static_assert(sizeof(UNICODE_STRING) == 16, "UNICODE_STRING x64");

typedef struct _LIST_ENTRY {
    struct _LIST_ENTRY *Flink;
    struct _LIST_ENTRY *Blink;
} LIST_ENTRY, *PLIST_ENTRY;

typedef struct _SINGLE_LIST_ENTRY {
    struct _SINGLE_LIST_ENTRY *Next;
} SINGLE_LIST_ENTRY, *PSINGLE_LIST_ENTRY;

/* x64 SLIST_HEADER: 16 bytes, 16-byte aligned. */
typedef union _SLIST_HEADER {
    struct {
        DECLSPEC_ALIGN(16) ULONGLONG Alignment;
        ULONGLONG Region;
    };
} SLIST_HEADER, *PSLIST_HEADER;
_Static_assert(sizeof(SLIST_HEADER) == 16, "SLIST_HEADER x64");

/* ---- status codes ---- */
#define STATUS_SUCCESS                ((NTSTATUS)0x00000000L)
#define STATUS_PENDING                ((NTSTATUS)0x00000103L)
#define STATUS_UNSUCCESSFUL           ((NTSTATUS)0xC0000001L)
#define STATUS_NOT_IMPLEMENTED        ((NTSTATUS)0xC0000002L)
#define STATUS_INVALID_PARAMETER      ((NTSTATUS)0xC000000DL)
#define STATUS_INVALID_DEVICE_REQUEST ((NTSTATUS)0xC0000010L)
#define STATUS_ACCESS_DENIED          ((NTSTATUS)0xC0000022L)
#define STATUS_BUFFER_TOO_SMALL       ((NTSTATUS)0xC0000023L)
#define STATUS_INSUFFICIENT_RESOURCES ((NTSTATUS)0xC000009AL)
#define STATUS_NOT_SUPPORTED          ((NTSTATUS)0xC00000BBL)
#define STATUS_DEVICE_NOT_READY       ((NTSTATUS)0xC00000A3L)
#define STATUS_CANCELLED              ((NTSTATUS)0xC0000120L)
#define STATUS_NOT_FOUND              ((NTSTATUS)0xC0000225L)
#define NT_SUCCESS(s)                 (((NTSTATUS)(s)) >= 0)

/* ---- IRQL ---- */
#define PASSIVE_LEVEL  0
#define LOW_LEVEL      0
#define APC_LEVEL      1
#define DISPATCH_LEVEL 2
#define HIGH_LEVEL     15

KIRQL KeGetCurrentIrql(void);
void KeRaiseIrql(KIRQL NewIrql, PKIRQL OldIrql);
void KeLowerIrql(KIRQL NewIrql);
void KeStallExecutionProcessor(ULONG MicroSeconds);
LARGE_INTEGER KeQueryPerformanceCounter(PLARGE_INTEGER PerformanceFrequency);
ULONG DbgPrint(const char *Format, ...) __attribute__((format(printf, 1, 2)));

/* ---- memory helpers ---- */
#define RtlCopyMemory(d, s, n)         memcpy((d), (s), (n))
#define RtlMoveMemory(d, s, n)         memmove((d), (s), (n))
#define RtlZeroMemory(d, n)            memset((d), 0, (n))
#define RtlFillMemory(d, n, v)         memset((d), (v), (n))
#define RtlEqualMemory(a, b, n)        (memcmp((a), (b), (n)) == 0)
#define FIELD_OFFSET(t, f)             ((LONG)offsetof(t, f))
#define RTL_FIELD_SIZE(t, f)           (sizeof(((t *)0)->f))
#define RTL_SIZEOF_THROUGH_FIELD(t, f) (offsetof(t, f) + RTL_FIELD_SIZE(t, f))
#define CONTAINING_RECORD(a, t, f)     ((t *)((char *)(a)-offsetof(t, f)))
#define ARRAYSIZE(a)                   (sizeof(a) / sizeof((a)[0]))
#define ALIGN_UP_BY(l, a)              (((ULONG_PTR)(l) + (a)-1) & ~((ULONG_PTR)(a)-1))
#define ALIGN_UP(length, type)         ALIGN_UP_BY(length, sizeof(type))
#define PAGE_SIZE                      0x1000
#define PAGE_SHIFT                     12
#define BYTES_TO_PAGES(Size)           (((Size) >> PAGE_SHIFT) + (((Size) & (PAGE_SIZE - 1)) != 0))
#define MEMORY_ALLOCATION_ALIGNMENT    16

/* ---- interlocked operations (sequentially consistent, like the kernel's) ---- */
static inline LONG InterlockedIncrement(LONG volatile *p)
{
    return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedDecrement(LONG volatile *p)
{
    return __atomic_sub_fetch(p, 1, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedExchange(LONG volatile *p, LONG v)
{
    return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedExchangeAdd(LONG volatile *p, LONG v)
{
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedCompareExchange(LONG volatile *p, LONG x, LONG cmp)
{
    __atomic_compare_exchange_n(p, &cmp, x, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return cmp;
}
static inline LONG InterlockedOr(LONG volatile *p, LONG v)
{
    return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);
}
static inline LONG InterlockedAnd(LONG volatile *p, LONG v)
{
    return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedIncrement64(LONG64 volatile *p)
{
    return __atomic_add_fetch(p, 1, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedDecrement64(LONG64 volatile *p)
{
    return __atomic_sub_fetch(p, 1, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedExchangeAdd64(LONG64 volatile *p, LONG64 v)
{
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}
static inline LONG64 InterlockedCompareExchange64(LONG64 volatile *p, LONG64 x, LONG64 cmp)
{
    __atomic_compare_exchange_n(p, &cmp, x, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return cmp;
}
static inline PVOID InterlockedExchangePointer(PVOID volatile *p, PVOID v)
{
    return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST);
}
static inline PVOID InterlockedCompareExchangePointer(PVOID volatile *p, PVOID x, PVOID cmp)
{
    __atomic_compare_exchange_n(p, &cmp, x, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return cmp;
}
#define KeMemoryBarrier() __atomic_thread_fence(__ATOMIC_SEQ_CST)
static inline ULONG ReadULongAcquire(ULONG const volatile *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

/* ---- doubly linked lists ---- */
static inline void InitializeListHead(PLIST_ENTRY h)
{
    h->Flink = h->Blink = h;
}
static inline BOOLEAN IsListEmpty(const LIST_ENTRY *h)
{
    return h->Flink == h;
}
static inline BOOLEAN RemoveEntryList(PLIST_ENTRY e)
{
    PLIST_ENTRY f = e->Flink, b = e->Blink;
    b->Flink = f;
    f->Blink = b;
    return f == b;
}
static inline PLIST_ENTRY RemoveHeadList(PLIST_ENTRY h)
{
    PLIST_ENTRY e = h->Flink;
    RemoveEntryList(e);
    return e;
}
static inline PLIST_ENTRY RemoveTailList(PLIST_ENTRY h)
{
    PLIST_ENTRY e = h->Blink;
    RemoveEntryList(e);
    return e;
}
static inline void InsertTailList(PLIST_ENTRY h, PLIST_ENTRY e)
{
    PLIST_ENTRY b = h->Blink;
    e->Flink = h;
    e->Blink = b;
    b->Flink = e;
    h->Blink = e;
}
static inline void InsertHeadList(PLIST_ENTRY h, PLIST_ENTRY e)
{
    PLIST_ENTRY f = h->Flink;
    e->Flink = f;
    e->Blink = h;
    f->Blink = e;
    h->Flink = e;
}

/* ---- MDL ---- */
typedef struct _MDL {
    struct _MDL *Next;
    CSHORT Size;
    CSHORT MdlFlags;
    struct _EPROCESS *Process;
    PVOID MappedSystemVa;
    PVOID StartVa;
    ULONG ByteCount;
    ULONG ByteOffset;
} MDL, *PMDL;
_Static_assert(sizeof(MDL) == 48, "MDL x64 size");
_Static_assert(offsetof(MDL, MappedSystemVa) == 24, "MDL.MappedSystemVa");
_Static_assert(offsetof(MDL, ByteCount) == 40, "MDL.ByteCount");

#define MDL_MAPPED_TO_SYSTEM_VA     0x0001
#define MDL_SOURCE_IS_NONPAGED_POOL 0x0004

typedef enum _MM_PAGE_PRIORITY {
    LowPagePriority,
    NormalPagePriority = 16,
    HighPagePriority = 32
} MM_PAGE_PRIORITY;
#define MdlMappingNoExecute 0x40000000

#define MmGetMdlByteCount(m)      ((m)->ByteCount)
#define MmGetMdlByteOffset(m)     ((m)->ByteOffset)
#define MmGetMdlVirtualAddress(m) ((PVOID)((PCHAR)((m)->StartVa) + (m)->ByteOffset))
/* Every MDL ndisemu hands out is mapped to "system VA" (host memory). */
#define MmGetSystemAddressForMdlSafe(m, prio) ((void)(prio), (m)->MappedSystemVa)

/* ---- pool ---- */
typedef enum _EX_POOL_PRIORITY {
    LowPoolPriority,
    LowPoolPrioritySpecialPoolOverrun = 8,
    LowPoolPrioritySpecialPoolUnderrun = 9,
    NormalPoolPriority = 16,
    NormalPoolPrioritySpecialPoolOverrun = 24,
    NormalPoolPrioritySpecialPoolUnderrun = 25,
    HighPoolPriority = 32,
    HighPoolPrioritySpecialPoolOverrun = 40,
    HighPoolPrioritySpecialPoolUnderrun = 41
} EX_POOL_PRIORITY;

/* ---- dispatcher objects: storage only, the runtime owns the contents ---- */
typedef struct _KEVENT {
    ULONG_PTR Header[3];
} KEVENT, *PKEVENT;
_Static_assert(sizeof(KEVENT) == 24, "KEVENT x64 size");

typedef struct _KDPC *PKDPC;
typedef struct _KINTERRUPT *PKINTERRUPT;
typedef struct _EPROCESS *PEPROCESS;
typedef struct _ETHREAD *PETHREAD;
typedef struct _FILE_OBJECT *PFILE_OBJECT;
typedef struct _DRIVER_EXTENSION *PDRIVER_EXTENSION;

/* ---- I/O manager subset: what a control device's dispatch routine touches ---- */
typedef struct _IO_STATUS_BLOCK {
    union {
        NTSTATUS Status;
        PVOID Pointer;
    };
    ULONG_PTR Information;
} IO_STATUS_BLOCK, *PIO_STATUS_BLOCK;

struct _DEVICE_OBJECT;
struct _DRIVER_OBJECT;
struct _IRP;
typedef NTSTATUS DRIVER_DISPATCH(struct _DEVICE_OBJECT *DeviceObject, struct _IRP *Irp);
typedef DRIVER_DISPATCH *PDRIVER_DISPATCH;
typedef void DRIVER_UNLOAD(struct _DRIVER_OBJECT *DriverObject);
typedef DRIVER_UNLOAD *PDRIVER_UNLOAD;
typedef void DRIVER_CANCEL(struct _DEVICE_OBJECT *DeviceObject, struct _IRP *Irp);
typedef DRIVER_CANCEL *PDRIVER_CANCEL;
typedef NTSTATUS DRIVER_INITIALIZE(struct _DRIVER_OBJECT *DriverObject,
                                   PUNICODE_STRING RegistryPath);
typedef DRIVER_INITIALIZE *PDRIVER_INITIALIZE;

#define IRP_MJ_CREATE           0x00
#define IRP_MJ_CLOSE            0x02
#define IRP_MJ_READ             0x03
#define IRP_MJ_WRITE            0x04
#define IRP_MJ_DEVICE_CONTROL   0x0e
#define IRP_MJ_CLEANUP          0x12
#define IRP_MJ_MAXIMUM_FUNCTION 0x1b

typedef struct _DRIVER_OBJECT {
    CSHORT Type;
    CSHORT Size;
    struct _DEVICE_OBJECT *DeviceObject;
    ULONG Flags;
    PVOID DriverStart;
    ULONG DriverSize;
    PVOID DriverSection;
    PDRIVER_EXTENSION DriverExtension;
    UNICODE_STRING DriverName;
    PUNICODE_STRING HardwareDatabase;
    PVOID FastIoDispatch;
    PDRIVER_INITIALIZE DriverInit;
    PVOID DriverStartIo;
    PDRIVER_UNLOAD DriverUnload;
    PDRIVER_DISPATCH MajorFunction[IRP_MJ_MAXIMUM_FUNCTION + 1];
} DRIVER_OBJECT, *PDRIVER_OBJECT;
_Static_assert(offsetof(DRIVER_OBJECT, DriverUnload) == 104, "DRIVER_OBJECT.DriverUnload");
_Static_assert(sizeof(DRIVER_OBJECT) == 0x150, "DRIVER_OBJECT x64 size");

/* Drivers only pass DEVICE_OBJECT pointers around; the runtime owns it. */
typedef struct _DEVICE_OBJECT DEVICE_OBJECT, *PDEVICE_OBJECT;
#include "ddk_io.h"
#include "ddk_ke.h"

#define METHOD_BUFFERED     0
#define METHOD_IN_DIRECT    1
#define METHOD_OUT_DIRECT   2
#define METHOD_NEITHER      3
#define FILE_ANY_ACCESS     0
#define FILE_READ_ACCESS    1
#define FILE_WRITE_ACCESS   2
#define FILE_DEVICE_NETWORK 0x00000012
#define FILE_DEVICE_UNKNOWN 0x00000022
#define CTL_CODE(type, func, method, access) \
    (((ULONG)(type) << 16) | ((ULONG)(access) << 14) | ((ULONG)(func) << 2) | (ULONG)(method))

typedef struct _IO_STACK_LOCATION {
    UCHAR MajorFunction;
    UCHAR MinorFunction;
    UCHAR Flags;
    UCHAR Control;
    union {
        struct {
            ULONG OutputBufferLength;
            DECLSPEC_ALIGN(8) ULONG InputBufferLength; /* POINTER_ALIGNMENT */
            DECLSPEC_ALIGN(8) ULONG IoControlCode;     /* POINTER_ALIGNMENT */
            PVOID Type3InputBuffer;
        } DeviceIoControl;
        struct {
            ULONG Length;
            DECLSPEC_ALIGN(8) ULONG Key; /* POINTER_ALIGNMENT */
            ULONG Flags;
            LARGE_INTEGER ByteOffset;
        } Read;
        struct {
            ULONG Length;
            DECLSPEC_ALIGN(8) ULONG Key; /* POINTER_ALIGNMENT */
            ULONG Flags;
            LARGE_INTEGER ByteOffset;
        } Write;
        struct {
            PVOID Argument1;
            PVOID Argument2;
            PVOID Argument3;
            PVOID Argument4;
        } Others;
    } Parameters;
    PDEVICE_OBJECT DeviceObject;
    PFILE_OBJECT FileObject;
    PVOID CompletionRoutine;
    PVOID Context;
} IO_STACK_LOCATION, *PIO_STACK_LOCATION;
_Static_assert(sizeof(IO_STACK_LOCATION) == 0x48, "IO_STACK_LOCATION x64 size");
_Static_assert(offsetof(IO_STACK_LOCATION, Parameters.DeviceIoControl.IoControlCode) == 24,
               "IO_STACK_LOCATION.IoControlCode");

typedef struct _IRP {
    DECLSPEC_ALIGN(MEMORY_ALLOCATION_ALIGNMENT) CSHORT Type; /* the WDK aligns the IRP to 16 */
    USHORT Size;
    PMDL MdlAddress;
    ULONG Flags;
    union {
        struct _IRP *MasterIrp;
        LONG IrpCount;
        PVOID SystemBuffer;
    } AssociatedIrp;
    LIST_ENTRY ThreadListEntry;
    IO_STATUS_BLOCK IoStatus;
    KPROCESSOR_MODE RequestorMode;
    BOOLEAN PendingReturned;
    CHAR StackCount;
    CHAR CurrentLocation;
    BOOLEAN Cancel;
    KIRQL CancelIrql;
    CCHAR ApcEnvironment;
    UCHAR AllocationFlags;
    PIO_STATUS_BLOCK UserIosb;
    PKEVENT UserEvent;
    union {
        struct {
            PVOID UserApcRoutine;
            PVOID UserApcContext;
        } AsynchronousParameters;
        LARGE_INTEGER AllocationSize;
    } Overlay;
    PVOID CancelRoutine;
    PVOID UserBuffer;
    union {
        struct {
            union {
                PVOID DriverContext[4];
            };
            PETHREAD Thread;
            PCHAR AuxiliaryBuffer;
            struct {
                LIST_ENTRY ListEntry;
                union {
                    struct _IO_STACK_LOCATION *CurrentStackLocation;
                    ULONG PacketType;
                };
            };
            PFILE_OBJECT OriginalFileObject;
        } Overlay;
        UCHAR Apc[88]; /* KAPC */
    } Tail;
} IRP, *PIRP;
_Static_assert(sizeof(IRP) == 0xD0, "IRP x64 size");
_Static_assert(offsetof(IRP, IoStatus) == 48, "IRP.IoStatus");
_Static_assert(offsetof(IRP, Tail.Overlay.CurrentStackLocation) == 184, "IRP.CurrentStackLocation");

#define IO_NO_INCREMENT 0

/* IO_STACK_LOCATION.Control */
#define SL_PENDING_RETURNED  0x01
#define SL_ERROR_RETURNED    0x02
#define SL_INVOKE_ON_CANCEL  0x20
#define SL_INVOKE_ON_SUCCESS 0x40
#define SL_INVOKE_ON_ERROR   0x80

#define STATUS_MORE_PROCESSING_REQUIRED ((NTSTATUS)0xC0000016L)
#define STATUS_CONTINUE_COMPLETION      STATUS_SUCCESS

typedef NTSTATUS IO_COMPLETION_ROUTINE(PDEVICE_OBJECT DeviceObject, struct _IRP *Irp,
                                       PVOID Context);
typedef IO_COMPLETION_ROUTINE *PIO_COMPLETION_ROUTINE;

/* The stack locations follow the IRP; the highest-numbered one is the first
 * driver's, location 1 the lowest. CurrentLocation counts down as the IRP
 * goes down (IoCallDriver), up again as it completes. These are inline in
 * the WDK too: what they do is visible to the I/O manager only through
 * CurrentLocation and the locations' contents. */
static inline PIO_STACK_LOCATION IoGetCurrentIrpStackLocation(PIRP irp)
{
    return irp->Tail.Overlay.CurrentStackLocation;
}
static inline PIO_STACK_LOCATION IoGetNextIrpStackLocation(PIRP irp)
{
    return irp->Tail.Overlay.CurrentStackLocation - 1;
}
static inline void IoSetNextIrpStackLocation(PIRP irp)
{
    irp->CurrentLocation--;
    irp->Tail.Overlay.CurrentStackLocation--;
}
static inline void IoSkipCurrentIrpStackLocation(PIRP irp)
{
    irp->CurrentLocation++;
    irp->Tail.Overlay.CurrentStackLocation++;
}
/* The parameters and the file object, not the completion routine. */
static inline void IoCopyCurrentIrpStackLocationToNext(PIRP irp)
{
    PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(irp);
    memcpy(next, IoGetCurrentIrpStackLocation(irp), offsetof(IO_STACK_LOCATION, CompletionRoutine));
    next->Control = 0;
}
static inline void IoSetCompletionRoutine(PIRP irp, PIO_COMPLETION_ROUTINE CompletionRoutine,
                                          PVOID Context, BOOLEAN InvokeOnSuccess,
                                          BOOLEAN InvokeOnError, BOOLEAN InvokeOnCancel)
{
    PIO_STACK_LOCATION next = IoGetNextIrpStackLocation(irp);
    next->CompletionRoutine = (PVOID)CompletionRoutine;
    next->Context = Context;
    next->Control = (UCHAR)((InvokeOnSuccess ? SL_INVOKE_ON_SUCCESS : 0) |
                            (InvokeOnError ? SL_INVOKE_ON_ERROR : 0) |
                            (InvokeOnCancel ? SL_INVOKE_ON_CANCEL : 0));
}
static inline void IoMarkIrpPending(PIRP irp)
{
    IoGetCurrentIrpStackLocation(irp)->Control |= SL_PENDING_RETURNED;
}
void IofCompleteRequest(PIRP Irp, CCHAR PriorityBoost);
#define IoCompleteRequest(irp, boost) IofCompleteRequest((irp), (boost))
NTSTATUS IofCallDriver(PDEVICE_OBJECT DeviceObject, PIRP Irp);
#define IoCallDriver(a, b) IofCallDriver(a, b)
NTSTATUS IoSetCompletionRoutineEx(PDEVICE_OBJECT DeviceObject, PIRP Irp,
                                  PIO_COMPLETION_ROUTINE CompletionRoutine, PVOID Context,
                                  BOOLEAN InvokeOnSuccess, BOOLEAN InvokeOnError,
                                  BOOLEAN InvokeOnCancel);
PDEVICE_OBJECT IoAttachDeviceToDeviceStack(PDEVICE_OBJECT SourceDevice,
                                           PDEVICE_OBJECT TargetDevice);
void IoDetachDevice(PDEVICE_OBJECT TargetDevice);

/* ---- hardware resources handed to MiniportInitializeEx ---- */
#define CmResourceTypeNull             0
#define CmResourceTypePort             1
#define CmResourceTypeInterrupt        2
#define CmResourceTypeMemory           3
#define CM_RESOURCE_INTERRUPT_LATCHED  1
#define CM_RESOURCE_INTERRUPT_MESSAGE  2
#define CmResourceShareDeviceExclusive 1

#pragma pack(push, 4)
typedef struct _CM_PARTIAL_RESOURCE_DESCRIPTOR {
    UCHAR Type;
    UCHAR ShareDisposition;
    USHORT Flags;
    union {
        struct {
            PHYSICAL_ADDRESS Start;
            ULONG Length;
        } Generic, Port, Memory;
        struct {
            ULONG Level;
            ULONG Vector;
            KAFFINITY Affinity;
        } Interrupt;
        struct {
            union {
                struct {
                    USHORT Group;
                    USHORT MessageCount;
                    ULONG Vector;
                    KAFFINITY Affinity;
                } Raw;
                struct {
                    ULONG Level;
                    ULONG Vector;
                    KAFFINITY Affinity;
                } Translated;
            };
        } MessageInterrupt;
        struct {
            ULONG Data[3];
        } DevicePrivate;
    } u;
} CM_PARTIAL_RESOURCE_DESCRIPTOR, *PCM_PARTIAL_RESOURCE_DESCRIPTOR;
#pragma pack(pop)
_Static_assert(sizeof(CM_PARTIAL_RESOURCE_DESCRIPTOR) == 20, "CM_PARTIAL_RESOURCE_DESCRIPTOR");

typedef struct _CM_PARTIAL_RESOURCE_LIST {
    USHORT Version;
    USHORT Revision;
    ULONG Count;
    CM_PARTIAL_RESOURCE_DESCRIPTOR PartialDescriptors[1];
} CM_PARTIAL_RESOURCE_LIST, *PCM_PARTIAL_RESOURCE_LIST;
_Static_assert(offsetof(CM_PARTIAL_RESOURCE_LIST, PartialDescriptors) == 8, "CM list header");

/* ---- DMA ---- */
typedef struct _SCATTER_GATHER_ELEMENT {
    PHYSICAL_ADDRESS Address;
    ULONG Length;
    ULONG_PTR Reserved;
} SCATTER_GATHER_ELEMENT, *PSCATTER_GATHER_ELEMENT;
_Static_assert(sizeof(SCATTER_GATHER_ELEMENT) == 24, "SCATTER_GATHER_ELEMENT x64");

typedef struct _SCATTER_GATHER_LIST {
    ULONG NumberOfElements;
    ULONG_PTR Reserved;
    SCATTER_GATHER_ELEMENT Elements[];
} SCATTER_GATHER_LIST, *PSCATTER_GATHER_LIST;
_Static_assert(sizeof(SCATTER_GATHER_LIST) == 16, "SCATTER_GATHER_LIST header x64");

typedef struct _GROUP_AFFINITY {
    KAFFINITY Mask;
    USHORT Group;
    USHORT Reserved[3];
} GROUP_AFFINITY, *PGROUP_AFFINITY;

/* ---- message-signalled interrupts ---- */
typedef enum _KINTERRUPT_MODE { LevelSensitive, Latched } KINTERRUPT_MODE;
typedef enum _KINTERRUPT_POLARITY {
    InterruptPolarityUnknown,
    InterruptActiveHigh,
    InterruptActiveLow
} KINTERRUPT_POLARITY;

typedef struct _IO_INTERRUPT_MESSAGE_INFO_ENTRY {
    PHYSICAL_ADDRESS MessageAddress;
    KAFFINITY TargetProcessorSet;
    PKINTERRUPT InterruptObject;
    ULONG MessageData;
    ULONG Vector;
    KIRQL Irql;
    KINTERRUPT_MODE Mode;
    KINTERRUPT_POLARITY Polarity;
} IO_INTERRUPT_MESSAGE_INFO_ENTRY, *PIO_INTERRUPT_MESSAGE_INFO_ENTRY;

typedef struct _IO_INTERRUPT_MESSAGE_INFO {
    KIRQL UnifiedIrql;
    ULONG MessageCount;
    IO_INTERRUPT_MESSAGE_INFO_ENTRY MessageInfo[1];
} IO_INTERRUPT_MESSAGE_INFO, *PIO_INTERRUPT_MESSAGE_INFO;

/* ---- register access: traps into the runtime, which routes to the device ---- */
UCHAR READ_REGISTER_UCHAR(volatile UCHAR *Register);
USHORT READ_REGISTER_USHORT(volatile USHORT *Register);
ULONG READ_REGISTER_ULONG(volatile ULONG *Register);
ULONG64 READ_REGISTER_ULONG64(volatile ULONG64 *Register);
void WRITE_REGISTER_UCHAR(volatile UCHAR *Register, UCHAR Value);
void WRITE_REGISTER_USHORT(volatile USHORT *Register, USHORT Value);
void WRITE_REGISTER_ULONG(volatile ULONG *Register, ULONG Value);
void WRITE_REGISTER_ULONG64(volatile ULONG64 *Register, ULONG64 Value);

/* ---- IRP cancellation (wdm.h) ---- */
typedef void DRIVER_CANCEL(struct _DEVICE_OBJECT *DeviceObject, struct _IRP *Irp);
typedef DRIVER_CANCEL *PDRIVER_CANCEL;
/* The system cancel spin lock: acquiring raises to DISPATCH_LEVEL; a Cancel
 * routine is called holding it and releases it with Irp->CancelIrql. */
void IoAcquireCancelSpinLock(PKIRQL Irql);
void IoReleaseCancelSpinLock(KIRQL Irql);
/* Inline in wdm.h: an interlocked exchange of Irp->CancelRoutine. */
FORCEINLINE PDRIVER_CANCEL IoSetCancelRoutine(PIRP Irp, PDRIVER_CANCEL CancelRoutine)
{
    return (PDRIVER_CANCEL)InterlockedExchangePointer((PVOID volatile *)&Irp->CancelRoutine,
                                                      (PVOID)CancelRoutine);
}

#endif /* DDK_WDM_H */
