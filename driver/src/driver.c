/*
 * driver.c - DriverEntry and unload: one image, two NDIS registrations (the
 * virtio-net miniport and the VF protocol). The control device lives with
 * the adapters (ctl.c).
 */
#include "vfo.h"

#ifdef VFO_WPP
#include "driver.tmh"
#endif

vfo_globals g_vfo;

DRIVER_INITIALIZE DriverEntry;
MINIPORT_UNLOAD MpDriverUnload;

static void globals_init(void)
{
    NdisZeroMemory(&g_vfo, sizeof(g_vfo));
    NdisAllocateSpinLock(&g_vfo.lock);
    InitializeListHead(&g_vfo.adapters);
    InitializeListHead(&g_vfo.bindings);
    fo_registry_init(&g_vfo.reg);
    g_vfo.generation = 1;
}

/* Protocol first: NDIS unbinds every VF binding (orphaned ones included)
 * before NdisDeregisterProtocolDriver returns; the miniport then has no
 * adapters left, since NDIS halts them all before it unloads the driver. */
void MpDriverUnload(PDRIVER_OBJECT drv)
{
    VFO_INFO("unload");
    vfo_ctl_unload();
    if (g_vfo.protocol)
        NdisDeregisterProtocolDriver(g_vfo.protocol);
    g_vfo.protocol = NULL;
    if (g_vfo.mp_driver)
        NdisMDeregisterMiniportDriver(g_vfo.mp_driver);
    g_vfo.mp_driver = NULL;
    NdisFreeSpinLock(&g_vfo.lock);
    VFO_TRACE_CLEANUP(drv);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT drv, PUNICODE_STRING reg_path)
{
    /* Built with POOL_NX_OPTIN (driver/vfo.vcxproj): the opt-in needs this
     * call before any pool allocation, or NonPagedPool stays executable. */
    ExInitializeDriverRuntime(DrvRtPoolNxOptIn);
    globals_init();
    VFO_TRACE_INIT(drv, reg_path);
    VFO_INFO("DriverEntry: vfo %u.%u, NDIS %u.%u", VFO_MAJOR_VERSION, VFO_MINOR_VERSION,
             NDIS_MINIPORT_MAJOR_VERSION, NDIS_MINIPORT_MINOR_VERSION);

    NDIS_STATUS st = vfo_miniport_register(drv, reg_path);
    if (st != NDIS_STATUS_SUCCESS) {
        VFO_ERR("NdisMRegisterMiniportDriver failed %#x", (unsigned)st);
        NdisFreeSpinLock(&g_vfo.lock);
        VFO_TRACE_CLEANUP(drv);
        return st;
    }
    st = vfo_protocol_register(&g_vfo);
    if (st != NDIS_STATUS_SUCCESS) {
        VFO_ERR("NdisRegisterProtocolDriver failed %#x", (unsigned)st);
        NdisMDeregisterMiniportDriver(g_vfo.mp_driver);
        g_vfo.mp_driver = NULL;
        NdisFreeSpinLock(&g_vfo.lock);
        VFO_TRACE_CLEANUP(drv);
        return st;
    }
    /* The control device comes with the first adapter (ctl.c). */
    return STATUS_SUCCESS;
}
