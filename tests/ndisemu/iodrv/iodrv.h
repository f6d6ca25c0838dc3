/* iodrv: a driver that creates its own devices with IoCreateDevice (as a
 * WDM protocol such as Microsoft's ndisprot does) for test_ndisemu_iomgr:
 * one device per buffering mode, READ pended until a WRITE on any handle
 * of the device supplies data, cancel routines, cleanup of a handle's
 * reads, an exclusive device. Interface shared with the test. */
#ifndef IODRV_H
#define IODRV_H

#define IODRV_DIRECT    "\\Device\\IoDrvDirect"
#define IODRV_BUFFERED  "\\Device\\IoDrvBuffered"
#define IODRV_NEITHER   "\\Device\\IoDrvNeither"
#define IODRV_EXCLUSIVE "\\Device\\IoDrvExclusive"
#define IODRV_LINK      "IoDrvDirectLink" /* \DosDevices\IoDrvDirectLink -> IODRV_DIRECT */

/* METHOD_BUFFERED: out = the results of DriverEntry's self-checks (one
 * ULONG, IODRV_CHECK_* bits, all set when each call returned what the
 * documentation says) and, second ULONG, the number of open handles. */
#define IODRV_IOCTL_CHECKS         0x00222000u /* CTL_CODE(FILE_DEVICE_UNKNOWN, 0x800, BUFFERED, ANY) */
#define IODRV_CHECK_COLLISION      0x01u /* a second device of a name: OBJECT_NAME_COLLISION */
#define IODRV_CHECK_LINK_NOTARGET  0x02u /* a link to no device: OBJECT_NAME_NOT_FOUND */
#define IODRV_CHECK_UNLINK_MISSING 0x04u /* deleting a link that is not there: NOT_FOUND */
#define IODRV_CHECK_INITSTRING     0x08u /* RtlInitUnicodeString's lengths */
#define IODRV_CHECK_LAYOUT         0x10u /* DeviceObject fields IoCreateDevice set */
#define IODRV_CHECK_CREATE_FO      0x20u /* IRP_MJ_CREATE: FileObject->DeviceObject is ours */
#define IODRV_CHECK_RWLOCK         0x40u /* NDIS 6.0 RW lock: IRQL raised and restored */
#define IODRV_CHECK_KMUTEX         0x80u /* kernel mutex: recursive wait, release */
#define IODRV_CHECKS_ALL           0xFFu

/* The other transfer methods: the driver checks the buffers are where the
 * method puts them and writes the input reversed to the output (for
 * IN_DIRECT the output buffer must arrive holding the input: data the
 * caller passes through it). STATUS_INVALID_PARAMETER otherwise. */
#define IODRV_IOCTL_IN_DIRECT  0x00222005u /* CTL_CODE(UNKNOWN, 0x801, METHOD_IN_DIRECT, ANY) */
#define IODRV_IOCTL_OUT_DIRECT 0x0022200Au /* CTL_CODE(UNKNOWN, 0x802, METHOD_OUT_DIRECT, ANY) */
#define IODRV_IOCTL_NEITHER    0x0022200Fu /* CTL_CODE(UNKNOWN, 0x803, METHOD_NEITHER, ANY) */

#endif
