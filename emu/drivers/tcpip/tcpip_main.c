/*
 * tcpip_main.c - the TCP/IP stand-in's driver entry, control device
 * (configuration, start/stop, statistics, logs) and unload.
 */
#include "tcpip_int.h"

tc_state g_tc;

#define MAX_LOG (1u << 20)

static void free_logs(void)
{
    if (g_tc.tx_log)
        NdisFreeMemoryWithTagPriority(g_tc.proto, g_tc.tx_log, TC_TAG);
    if (g_tc.rx_log)
        NdisFreeMemoryWithTagPriority(g_tc.proto, g_tc.rx_log, TC_TAG);
    g_tc.tx_log = NULL;
    g_tc.rx_log = NULL;
}

/* Lock held. Counters of the stream and the logs start over; adapter
 * counters stay (they describe the bindings, not the stream). */
static void clear_logs_locked(void)
{
    g_tc.n_rx = 0;
    g_tc.stats.seq_sent = g_tc.stats.seq_not_sent = g_tc.stats.seq_received = 0;
    g_tc.stats.log_overflow = 0;
}

static NTSTATUS configure(const tcpip_config *in, ULONG len)
{
    if (len < sizeof(*in) || in->ip == 0 || in->peer_ip == 0 || in->log_capacity > MAX_LOG ||
        in->payload > 1400)
        return STATUS_INVALID_PARAMETER;
    tc_set_rate(0);
    ULONG cap = in->log_capacity ? in->log_capacity : 65536;
    ULONG64 *tx = NdisAllocateMemoryWithTagPriority(g_tc.proto, cap * sizeof(ULONG64), TC_TAG,
                                                    NormalPoolPriority);
    tcpip_arrival *rx = NdisAllocateMemoryWithTagPriority(g_tc.proto, cap * sizeof(tcpip_arrival),
                                                          TC_TAG, NormalPoolPriority);
    if (!tx || !rx) {
        if (tx)
            NdisFreeMemoryWithTagPriority(g_tc.proto, tx, TC_TAG);
        if (rx)
            NdisFreeMemoryWithTagPriority(g_tc.proto, rx, TC_TAG);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    static const UCHAR zero[6];
    NdisAcquireSpinLock(&g_tc.lock);
    free_logs();
    g_tc.tx_log = tx;
    g_tc.rx_log = rx;
    g_tc.log_cap = cap;
    g_tc.cfg = *in;
    if (!g_tc.cfg.port)
        g_tc.cfg.port = 5002;
    if (!g_tc.cfg.peer_port)
        g_tc.cfg.peer_port = 5001;
    if (!g_tc.cfg.payload)
        g_tc.cfg.payload = 64;
    tc_shape_seed(in->shape_seed);
    g_tc.peer_known = !NdisEqualMemory(in->peer_mac, zero, 6);
    NdisMoveMemory(g_tc.peer_mac, in->peer_mac, 6);
    g_tc.configured = TRUE;
    clear_logs_locked();
    NdisReleaseSpinLock(&g_tc.lock);
    return STATUS_SUCCESS;
}

static NTSTATUS read_stats(UCHAR *out, ULONG out_len, ULONG *info)
{
    if (out_len < sizeof(tcpip_stats))
        return STATUS_BUFFER_TOO_SMALL;
    NdisAcquireSpinLock(&g_tc.lock);
    g_tc.stats.peer_resolved = g_tc.peer_known;
    NdisMoveMemory(out, &g_tc.stats, sizeof(tcpip_stats));
    NdisReleaseSpinLock(&g_tc.lock);
    *info = sizeof(tcpip_stats);
    return STATUS_SUCCESS;
}

/* Copies log entries [first, first + fits) into the output buffer. */
static NTSTATUS read_log(BOOLEAN tx, UCHAR *buf, ULONG in_len, ULONG out_len, ULONG *info)
{
    if (in_len < sizeof(ULONG64))
        return STATUS_INVALID_PARAMETER;
    ULONG64 first = *(ULONG64 *)buf;
    ULONG size = tx ? sizeof(ULONG64) : sizeof(tcpip_arrival);
    NdisAcquireSpinLock(&g_tc.lock);
    ULONG64 n =
        tx ? (g_tc.stats.seq_sent < g_tc.log_cap ? g_tc.stats.seq_sent : g_tc.log_cap) : g_tc.n_rx;
    ULONG64 count = first < n ? n - first : 0;
    if (count > out_len / size)
        count = out_len / size;
    if (count && tx)
        NdisMoveMemory(buf, g_tc.tx_log + first, count * size);
    else if (count)
        NdisMoveMemory(buf, g_tc.rx_log + first, count * size);
    NdisReleaseSpinLock(&g_tc.lock);
    *info = (ULONG)(count * size);
    return STATUS_SUCCESS;
}

static NTSTATUS device_control(ULONG code, UCHAR *buf, ULONG in, ULONG out, ULONG *info)
{
    switch (code) {
    case IOCTL_TCPIP_CONFIG:
        return configure((const tcpip_config *)buf, in);
    case IOCTL_TCPIP_START:
        if (in < sizeof(ULONG) || !g_tc.configured || *(ULONG *)buf == 0 || *(ULONG *)buf > 100000)
            return STATUS_INVALID_PARAMETER;
        tc_set_rate(*(ULONG *)buf);
        return STATUS_SUCCESS;
    case IOCTL_TCPIP_STOP:
        tc_set_rate(0);
        return STATUS_SUCCESS;
    case IOCTL_TCPIP_STATS:
        return read_stats(buf, out, info);
    case IOCTL_TCPIP_READ_TX:
        return read_log(TRUE, buf, in, out, info);
    case IOCTL_TCPIP_READ_RX:
        return read_log(FALSE, buf, in, out, info);
    case IOCTL_TCPIP_CLEAR_LOGS:
        NdisAcquireSpinLock(&g_tc.lock);
        clear_logs_locked();
        NdisReleaseSpinLock(&g_tc.lock);
        return STATUS_SUCCESS;
    default:
        return STATUS_INVALID_DEVICE_REQUEST;
    }
}

static NTSTATUS TcDispatch(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    NTSTATUS st = STATUS_SUCCESS;
    ULONG info = 0;
    if (sp->MajorFunction == IRP_MJ_DEVICE_CONTROL)
        st = device_control(sp->Parameters.DeviceIoControl.IoControlCode,
                            irp->AssociatedIrp.SystemBuffer,
                            sp->Parameters.DeviceIoControl.InputBufferLength,
                            sp->Parameters.DeviceIoControl.OutputBufferLength, &info);
    irp->IoStatus.Status = st;
    irp->IoStatus.Information = info;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return st;
}

static NDIS_STATUS register_device(void)
{
    static PDRIVER_DISPATCH major[IRP_MJ_MAXIMUM_FUNCTION + 1];
    major[IRP_MJ_CREATE] = TcDispatch;
    major[IRP_MJ_CLOSE] = TcDispatch;
    major[IRP_MJ_CLEANUP] = TcDispatch;
    major[IRP_MJ_DEVICE_CONTROL] = TcDispatch;
    NDIS_STRING dev = NDIS_STRING_CONST("\\Device\\TcpipStandIn");
    NDIS_STRING link = NDIS_STRING_CONST("\\DosDevices\\TcpipStandIn");
    NDIS_DEVICE_OBJECT_ATTRIBUTES da;
    NdisZeroMemory(&da, sizeof(da));
    NU_INIT_HEADER(&da.Header, NDIS_OBJECT_TYPE_DEVICE_OBJECT_ATTRIBUTES,
                   NDIS_DEVICE_OBJECT_ATTRIBUTES_REVISION_1,
                   NDIS_SIZEOF_DEVICE_OBJECT_ATTRIBUTES_REVISION_1);
    da.DeviceName = &dev;
    da.SymbolicName = &link;
    da.MajorFunctions = major;
    return NdisRegisterDeviceEx(g_tc.proto, &da, &g_tc.dev, &g_tc.dev_handle);
}

static NDIS_STATUS allocate_timer(void)
{
    NDIS_TIMER_CHARACTERISTICS tc;
    NdisZeroMemory(&tc, sizeof(tc));
    NU_INIT_HEADER(&tc.Header, NDIS_OBJECT_TYPE_TIMER_CHARACTERISTICS,
                   NDIS_TIMER_CHARACTERISTICS_REVISION_1,
                   NDIS_SIZEOF_TIMER_CHARACTERISTICS_REVISION_1);
    tc.AllocationTag = TC_TAG;
    tc.TimerFunction = tc_tick;
    return NdisAllocateTimerObject(g_tc.proto, &tc, &g_tc.timer);
}

static void TcUnload(PDRIVER_OBJECT drv)
{
    UNREFERENCED_PARAMETER(drv);
    if (g_tc.timer) {
        NdisCancelTimerObject(g_tc.timer);
        NdisFreeTimerObject(g_tc.timer);
    }
    if (g_tc.dev_handle)
        NdisDeregisterDeviceEx(g_tc.dev_handle);
    free_logs();
    NdisDeregisterProtocolDriver(g_tc.proto);
    if (g_tc.obj)
        NdisFreeGenericObject(g_tc.obj);
    NdisFreeSpinLock(&g_tc.lock);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath);

NTSTATUS DriverEntry(PDRIVER_OBJECT DriverObject, PUNICODE_STRING RegistryPath)
{
    UNREFERENCED_PARAMETER(RegistryPath);
    NdisZeroMemory(&g_tc, sizeof(g_tc));
    g_tc.stats.tx_adapter = ~0u;
    NdisAllocateSpinLock(&g_tc.lock);
    NDIS_PROTOCOL_DRIVER_CHARACTERISTICS ch;
    NdisZeroMemory(&ch, sizeof(ch));
    NU_INIT_HEADER(&ch.Header, NDIS_OBJECT_TYPE_PROTOCOL_DRIVER_CHARACTERISTICS,
                   NDIS_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2,
                   NDIS_SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2);
    ch.MajorNdisVersion = NDIS_PROTOCOL_MAJOR_VERSION;
    ch.MinorNdisVersion = NDIS_PROTOCOL_MINOR_VERSION;
    NDIS_STRING name = NDIS_STRING_CONST("TCPIP");
    ch.Name = name;
    tc_register_characteristics(&ch);
    g_tc.obj = NdisAllocateGenericObject(DriverObject, TC_TAG, 0);
    if (!g_tc.obj)
        return STATUS_UNSUCCESSFUL;
    if (NdisRegisterProtocolDriver(NULL, &ch, &g_tc.proto) != NDIS_STATUS_SUCCESS) {
        NdisFreeGenericObject(g_tc.obj);
        return STATUS_UNSUCCESSFUL;
    }
    if (allocate_timer() != NDIS_STATUS_SUCCESS || register_device() != NDIS_STATUS_SUCCESS) {
        TcUnload(DriverObject);
        return STATUS_UNSUCCESSFUL;
    }
    DriverObject->DriverUnload = TcUnload;
    return STATUS_SUCCESS;
}
