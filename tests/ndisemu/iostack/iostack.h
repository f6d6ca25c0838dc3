/* iostack: a driver with a device stack of its own for test_ndisemu_iomgr:
 * an unnamed upper device attached over \Device\IoStackLower
 * (IoAttachDeviceToDeviceStack), so that opening the lower device's name
 * reaches the upper one first; the upper one passes every IRP down with
 * IoCallDriver (skipping its location, or copying it with a completion
 * routine), the lower one completes them, at once or later; and a device
 * made with IoCreateDeviceSecure. Interface shared with the test. */
#ifndef IOSTACK_H
#define IOSTACK_H

#define IOSTACK_LOWER  "\\Device\\IoStackLower"
#define IOSTACK_SECURE "\\Device\\IoStackSecure"
/* IoCreateDeviceSecure's string: SYSTEM and Administrators only */
#define IOSTACK_SDDL "D:P(A;;GA;;;SY)(A;;GA;;;BA)"

/* CTL_CODE(FILE_DEVICE_UNKNOWN, 0x900 + n, METHOD_BUFFERED, FILE_ANY_ACCESS) */
#define IOSTACK_IOCTL(n) (0x00220000u | ((0x900u + (n)) << 2))
/* The upper device copies its location to the next with a completion
 * routine; the lower one writes the input reversed to the output. */
#define IOSTACK_IOCTL_ECHO IOSTACK_IOCTL(0)
/* As ECHO, the upper device's routine (IoSetCompletionRoutineEx) takes the
 * IRP back (STATUS_MORE_PROCESSING_REQUIRED); the upper device then writes
 * 'U' over the first output byte and completes it again. */
#define IOSTACK_IOCTL_SYNC IOSTACK_IOCTL(1)
/* The lower device pends it until RELEASE; the upper routine propagates
 * the pending mark. */
#define IOSTACK_IOCTL_PEND    IOSTACK_IOCTL(2)
#define IOSTACK_IOCTL_RELEASE IOSTACK_IOCTL(3) /* skipped down: completes the pended one */
/* Answered by the upper device itself: iostack_stats. */
#define IOSTACK_IOCTL_STATS IOSTACK_IOCTL(4)

#define IOSTACK_CHECK_ATTACH_RETURN \
    0x01u /* IoAttachDeviceToDeviceStack returned the lower device */
#define IOSTACK_CHECK_STACKSIZE     0x02u /* upper StackSize == lower's + 1 */
#define IOSTACK_CHECK_ATTACHED      0x04u /* lower->AttachedDevice == upper */
#define IOSTACK_CHECK_COMPLETION_DO 0x08u /* the routine got the upper device */
#define IOSTACK_CHECK_LOWER_LOC     0x10u /* the lower device: location 1 of 2, its own device */
#define IOSTACK_CHECK_PENDING       0x20u /* the routine saw PendingReturned for the pended one */
#define IOSTACK_CHECK_SECURE        0x40u /* IoCreateDeviceSecure without an SDDL: refused */
#define IOSTACK_CHECKS_ALL          0x7Fu

typedef struct iostack_stats {
    unsigned int checks;
    unsigned int completions; /* completion routines run */
    unsigned int lower_irps;  /* IRPs the lower device dispatched */
    unsigned int upper_irps;  /* IRPs the upper device dispatched */
} iostack_stats;

#endif
