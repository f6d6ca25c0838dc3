/*
 * irp.h - an IRP as the I/O manager allocates it (ctldev.c builds them for
 * the user-mode side, iostack.c passes them down a device stack and back).
 */
#ifndef EMU_IRP_H
#define EMU_IRP_H

#include "emu_internal.h"

/* The most stack locations an IRP gets (the deepest device stack). */
#define EMU_IRP_MAX_STACK 8
#define EMU_IRP_MAGIC     0x49525021u

typedef struct emu_irp emu_irp;
struct emu_ctl;

struct emu_irp {
    IRP irp;
    /* Right below location 1 (stack[0]): a driver that addresses a location
     * below the lowest one (IoGetNextIrpStackLocation, IoSetCompletionRoutine,
     * IoCopyCurrentIrpStackLocationToNext with none left) writes here, not
     * past the allocation; IoCallDriver and IoCompleteRequest notice. */
    IO_STACK_LOCATION guard;
    IO_STACK_LOCATION stack[EMU_IRP_MAX_STACK];
    IO_STACK_LOCATION *io; /* the location the I/O manager filled (the first driver's) */
    uint32_t magic;
    /* For the pending rules: the dispatch routines running on it (nesting
     * through IoCallDriver), whether each passed it down, and which
     * locations carried SL_PENDING_RETURNED when completion passed them. */
    unsigned depth;
    bool passed[EMU_IRP_MAX_STACK + 2];
    bool marked[EMU_IRP_MAX_STACK + 2];
    void *sysbuf;
    MDL *mdl; /* direct I/O: the MDL describing the caller's buffer */
    /* METHOD_IN/OUT_DIRECT and METHOD_NEITHER IOCTLs: the caller's output
     * buffer, apart from the input (NULL: the output is in sysbuf). */
    void *outbuf;
    size_t out_len;
    bool done, completed_once;
    emu_ioctl_done_fn cb;
    void *cb_ctx;
    bool owned;
    struct emu_ctl *h; /* the handle it was sent on; NULL once it let go (rt->mu) */
    emu_irp *next_pending;
    emu_driver *drv;
};

/* iostack.c: the device on top of dev's stack (dev itself when none is
 * attached). rt->mu not needed: attachments change at PASSIVE_LEVEL. */
DEVICE_OBJECT *emu_io_top(DEVICE_OBJECT *dev);
/* Calls the dispatch routine of the device at the IRP's current location
 * (the one IoCallDriver or the I/O manager just set). */
NTSTATUS emu_io_dispatch(emu_runtime *rt, emu_irp *e, KIRQL irql); /* ctldev.c */
/* The driver owning a device object (NULL: not a device of ndisemu's). */
emu_driver *emu_io_driver_of_device(emu_runtime *rt, const DEVICE_OBJECT *dev);
/* IoCompleteRequest's walk up the stack: the completion routines, in
 * order. False when a routine took the IRP back (STATUS_MORE_PROCESSING_
 * REQUIRED) or a rule broke: the I/O manager's completion must not run. */
bool emu_io_complete_stack(emu_runtime *rt, emu_irp *e);
/* After a dispatch routine at location loc (nesting depth) returned st:
 * rules MarkIrpPending and MarkIrpPending2. */
void emu_io_check_pending(emu_runtime *rt, emu_irp *e, CHAR loc, unsigned depth, NTSTATUS st);

#endif /* EMU_IRP_H */
