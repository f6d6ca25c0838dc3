/*
 * imdrv - ndisemu's test intermediate (MUX) driver: its protocol edge
 * (IMDRVP) binds to Ethernet miniports, reads the binding's UpperBindings
 * (a multi-string of \Device\<name>) and asks NDIS to start one virtual
 * miniport per name (NdisIMInitializeDeviceInstanceEx, the name upper-cased
 * with NdisUpcaseUnicodeString); each virtual miniport enters itself above
 * the lower adapter in the interface stack; unbinding deinitializes them.
 * Data path: a virtual miniport sends down the lower binding with the NBL's
 * SourceHandle kept in an NBL context until the completion comes back; the
 * lower binding's receives go up the virtual miniport whose MAC (the lower
 * one's, last byte ^ 0x10 + index) they are addressed to, one NBL at a time,
 * and are returned down when the protocol above returns them. Pauses wait
 * for what is outstanding.
 * What it saw is in imdrv_state, which tests read with dlsym.
 *
 * The binding parameter ImTestMode: 1 = cancel the last virtual miniport's
 * start right after asking for it (NdisIMCancelInitializeDeviceInstance).
 *
 * DRIVER_BREAK (codes in emu/drivers/minimp/minimp_break.h) compiles in one
 * contract violation for tests/ndisemu/test_im.c.
 */
#include <ndis.h>

#include "imdrv.h"
#include "nu_object.h"

#include "minimp_break.h"

#define IM_TAG 'mIuN'
#define IM_VMS 4

typedef struct im_vm {
    NDIS_STRING name;
    WCHAR name_buf[96];
    NDIS_HANDLE handle; /* MiniportAdapterHandle, from MiniportInitializeEx to the halt */
    NET_IFINDEX if_index;
    BOOLEAN asked, cancelled;
    UCHAR mac[6];
    /* g_lock */
    BOOLEAN running, pausing;
    ULONG sends_out, recvs_out;
} im_vm;

typedef struct im_lower {
    NDIS_HANDLE handle;
    NDIS_EVENT event;
    NDIS_STATUS status;
    NDIS_BIND_PARAMETERS bp; /* copied at bind; pointers not kept */
    NET_IFINDEX if_index;
    /* g_lock */
    BOOLEAN running, pausing;
    ULONG sends_out;
    NDIS_EVENT drained; /* sends_out reached 0 while pausing */
} im_lower;

/* The NBL context of a send on its way down. */
typedef struct im_send_ctx {
    NDIS_HANDLE source; /* the SourceHandle it came with */
    struct im_vm *vm;
} im_send_ctx;
#define IM_CTX_SIZE 16 /* a MEMORY_ALLOCATION_ALIGNMENT multiple, >= sizeof(im_send_ctx) */

imdrv_state_t imdrv_state;

static NDIS_HANDLE g_mp, g_proto;
static NDIS_SPIN_LOCK g_lock;
static im_lower g_lower; /* one lower binding: the tests have one NIC */
static im_vm g_vm[IM_VMS];
static ULONG g_nvm;

static const NDIS_OID k_oids[] = { OID_GEN_CURRENT_PACKET_FILTER, OID_802_3_CURRENT_ADDRESS };

/* ---- virtual miniport edge ---- */

static NDIS_STATUS MpInitialize(NDIS_HANDLE h, NDIS_HANDLE drvctx,
                                PNDIS_MINIPORT_INIT_PARAMETERS ip)
{
    UNREFERENCED_PARAMETER(drvctx);
    im_vm *vm = ip->IMDeviceInstanceContext;
    BOOLEAN ours = FALSE;
    for (ULONG i = 0; i < g_nvm; i++)
        ours |= vm == &g_vm[i];
    imdrv_state.inits++;
    if (!ours)
        return NDIS_STATUS_FAILURE;
    imdrv_state.inits_with_context++;
    if (ip->AllocatedResources == NULL)
        imdrv_state.inits_without_resources++;
    vm->handle = h;
    if (BROKEN(BRK_IM_DEINIT_IN_INIT))
        NdisIMDeInitializeDeviceInstance(h); /* not initialized yet */

    NDIS_MINIPORT_ADAPTER_ATTRIBUTES a;
    NdisZeroMemory(&a, sizeof(a));
    NU_INIT_HEADER(&a.RegistrationAttributes.Header,
                   NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES,
                   NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1,
                   NDIS_SIZEOF_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_1);
    a.RegistrationAttributes.MiniportAdapterContext = vm;
    NDIS_STATUS st = NdisMSetMiniportAttributes(h, &a);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    NdisZeroMemory(&a, sizeof(a));
    NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES *g = &a.GeneralAttributes;
    NU_INIT_HEADER(&g->Header, NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES,
                   NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2,
                   NDIS_SIZEOF_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2);
    g->MediaType = NdisMedium802_3;
    g->PhysicalMediumType = NdisPhysicalMediumUnspecified;
    g->MtuSize = g_lower.bp.MtuSize;
    g->MaxXmitLinkSpeed = g->XmitLinkSpeed = g_lower.bp.MaxXmitLinkSpeed;
    g->MaxRcvLinkSpeed = g->RcvLinkSpeed = g_lower.bp.MaxRcvLinkSpeed;
    g->MediaConnectState = MediaConnectStateConnected;
    g->MediaDuplexState = MediaDuplexStateFull;
    g->LookaheadSize = g_lower.bp.LookaheadSize;
    g->MacAddressLength = 6;
    NdisMoveMemory(g->CurrentMacAddress, g_lower.bp.CurrentMacAddress, 6);
    NdisMoveMemory(g->PermanentMacAddress, g_lower.bp.CurrentMacAddress, 6);
    g->CurrentMacAddress[5] ^= (UCHAR)(0x10 + (vm - g_vm));
    g->PermanentMacAddress[5] ^= (UCHAR)(0x10 + (vm - g_vm));
    NdisMoveMemory(vm->mac, g->CurrentMacAddress, 6);
    g->SupportedPacketFilters = NDIS_PACKET_TYPE_DIRECTED | NDIS_PACKET_TYPE_BROADCAST;
    g->AccessType = NET_IF_ACCESS_BROADCAST;
    g->DirectionType = NET_IF_DIRECTION_SENDRECEIVE;
    g->ConnectionType = NET_IF_CONNECTION_DEDICATED;
    g->IfType = IF_TYPE_ETHERNET_CSMACD;
    g->SupportedOidList = (PNDIS_OID)k_oids;
    g->SupportedOidListLength = sizeof(k_oids);
    st = NdisMSetMiniportAttributes(h, &a);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    /* NDIS does not know a MUX's internal binding: the driver tells it. */
    if (BROKEN(BRK_IF_STACK_UNDER_LOCK))
        NdisAcquireSpinLock(&g_lock); /* PASSIVE_LEVEL only */
    st = NdisIfAddIfStackEntry(ip->IfIndex, g_lower.if_index);
    if (BROKEN(BRK_IF_STACK_UNDER_LOCK))
        NdisReleaseSpinLock(&g_lock);
    imdrv_state.stack_add_status = st;
    if (st == NDIS_STATUS_SUCCESS)
        vm->if_index = ip->IfIndex;
    imdrv_state.stack_add_unknown_status = NdisIfAddIfStackEntry(ip->IfIndex, 0x7FFFFFF0);
    return NDIS_STATUS_SUCCESS;
}

static void MpHalt(NDIS_HANDLE ctx, NDIS_HALT_ACTION action)
{
    im_vm *vm = ctx;
    imdrv_state.halts++;
    imdrv_state.last_halt_action = action;
    if (vm->if_index)
        NdisIfDeleteIfStackEntry(vm->if_index, g_lower.if_index);
    vm->if_index = 0;
    vm->handle = NULL;
}

/* g_lock held: a pending pause of vm ends once nothing is outstanding. */
static BOOLEAN vm_pause_done_locked(im_vm *vm)
{
    if (!vm->pausing || vm->sends_out || vm->recvs_out)
        return FALSE;
    vm->pausing = FALSE;
    return TRUE;
}

static NDIS_STATUS MpPause(NDIS_HANDLE ctx, PNDIS_MINIPORT_PAUSE_PARAMETERS p)
{
    im_vm *vm = ctx;
    UNREFERENCED_PARAMETER(p);
    NdisAcquireSpinLock(&g_lock);
    vm->running = FALSE;
    vm->pausing = TRUE;
    BOOLEAN done = vm_pause_done_locked(vm);
    NdisReleaseSpinLock(&g_lock);
    return done ? NDIS_STATUS_SUCCESS : NDIS_STATUS_PENDING;
}

static NDIS_STATUS MpRestart(NDIS_HANDLE ctx, PNDIS_MINIPORT_RESTART_PARAMETERS p)
{
    im_vm *vm = ctx;
    UNREFERENCED_PARAMETER(p);
    NdisAcquireSpinLock(&g_lock);
    vm->running = TRUE;
    NdisReleaseSpinLock(&g_lock);
    return NDIS_STATUS_SUCCESS;
}

static NDIS_STATUS MpOid(NDIS_HANDLE ctx, PNDIS_OID_REQUEST r)
{
    UNREFERENCED_PARAMETER(ctx);
    if (r->RequestType == NdisRequestSetInformation &&
        r->DATA.SET_INFORMATION.Oid == OID_GEN_CURRENT_PACKET_FILTER &&
        r->DATA.SET_INFORMATION.InformationBufferLength >= sizeof(ULONG)) {
        r->DATA.SET_INFORMATION.BytesRead = sizeof(ULONG);
        return NDIS_STATUS_SUCCESS;
    }
    return NDIS_STATUS_NOT_SUPPORTED;
}

/* Each NBL down the lower binding on its own, its SourceHandle kept. */
static void MpSend(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, NDIS_PORT_NUMBER port, ULONG flags)
{
    im_vm *vm = ctx;
    UNREFERENCED_PARAMETER(port);
    ULONG cf =
        (flags & NDIS_SEND_FLAGS_DISPATCH_LEVEL) ? NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL : 0;
    while (nbls) {
        PNET_BUFFER_LIST nbl = nbls;
        nbls = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        NdisAcquireSpinLock(&g_lock);
        BOOLEAN go = vm->running && g_lower.running && g_lower.handle;
        if (go) {
            vm->sends_out++;
            g_lower.sends_out++;
        }
        NdisReleaseSpinLock(&g_lock);
        NDIS_STATUS st =
            go ? NdisAllocateNetBufferListContext(nbl, IM_CTX_SIZE, 0, IM_TAG) : NDIS_STATUS_PAUSED;
        if (st != NDIS_STATUS_SUCCESS) {
            if (go) {
                NdisAcquireSpinLock(&g_lock);
                vm->sends_out--;
                g_lower.sends_out--;
                NdisReleaseSpinLock(&g_lock);
            }
            NET_BUFFER_LIST_STATUS(nbl) = st;
            NdisMSendNetBufferListsComplete(vm->handle, nbl, cf);
            continue;
        }
        im_send_ctx *c = (im_send_ctx *)NET_BUFFER_LIST_CONTEXT_DATA_START(nbl);
        c->source = nbl->SourceHandle;
        c->vm = vm;
        nbl->SourceHandle = g_lower.handle;
        NdisSendNetBufferLists(g_lower.handle, nbl, NDIS_DEFAULT_PORT_NUMBER,
                               flags & NDIS_SEND_FLAGS_DISPATCH_LEVEL);
    }
}

/* The protocol above returns what came up: back down to the lower binding. */
static void MpReturn(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, ULONG flags)
{
    im_vm *vm = ctx;
    ULONG n = 0;
    for (PNET_BUFFER_LIST x = nbls; x; x = NET_BUFFER_LIST_NEXT_NBL(x))
        n++;
    NdisReturnNetBufferLists(
        g_lower.handle, nbls,
        (flags & NDIS_RETURN_FLAGS_DISPATCH_LEVEL) ? NDIS_RETURN_FLAGS_DISPATCH_LEVEL : 0);
    NdisAcquireSpinLock(&g_lock);
    vm->recvs_out -= n;
    BOOLEAN done = vm_pause_done_locked(vm);
    NdisReleaseSpinLock(&g_lock);
    if (done)
        NdisMPauseComplete(vm->handle);
}

static void MpCancelSend(NDIS_HANDLE ctx, PVOID id)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(id);
}

static void MpDevicePnP(NDIS_HANDLE ctx, PNET_DEVICE_PNP_EVENT e)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(e);
}

static void MpShutdown(NDIS_HANDLE ctx, NDIS_SHUTDOWN_ACTION a)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(a);
}

static void MpCancelOid(NDIS_HANDLE ctx, PVOID id)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(id);
}

static void MpUnload(PDRIVER_OBJECT d)
{
    UNREFERENCED_PARAMETER(d);
    NdisDeregisterProtocolDriver(g_proto);
    NdisMDeregisterMiniportDriver(g_mp);
    NdisFreeSpinLock(&g_lock);
}

/* ---- protocol edge ---- */

/* UpperBindings and ImTestMode of the binding (its handle's configuration). */
static ULONG read_config(NDIS_HANDLE binding, ULONG *mode)
{
    NDIS_CONFIGURATION_OBJECT co;
    NdisZeroMemory(&co, sizeof(co));
    NU_INIT_HEADER(&co.Header, NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT,
                   NDIS_CONFIGURATION_OBJECT_REVISION_1,
                   NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1);
    co.NdisHandle = binding;
    NDIS_HANDLE cfg;
    *mode = 0;
    if (NdisOpenConfigurationEx(&co, &cfg) != NDIS_STATUS_SUCCESS)
        return 0;
    NDIS_STRING mode_kw = NDIS_STRING_CONST("ImTestMode");
    NDIS_STRING ub_kw = NDIS_STRING_CONST("UpperBindings");
    NDIS_STATUS st;
    PNDIS_CONFIGURATION_PARAMETER p;
    NdisReadConfiguration(&st, &p, cfg, &mode_kw, NdisParameterInteger);
    if (st == NDIS_STATUS_SUCCESS)
        *mode = p->ParameterData.IntegerData;
    ULONG n = 0;
    NdisReadConfiguration(&st, &p, cfg, &ub_kw, NdisParameterMultiString);
    if (st == NDIS_STATUS_SUCCESS && p->ParameterType == NdisParameterMultiString) {
        PWSTR s = p->ParameterData.StringData.Buffer;
        while (*s && n < IM_VMS) {
            NDIS_STRING one;
            NdisInitUnicodeString(&one, s);
            im_vm *vm = &g_vm[n++];
            NdisZeroMemory(vm, sizeof(*vm));
            vm->name.Buffer = vm->name_buf;
            vm->name.MaximumLength = sizeof(vm->name_buf);
            if (one.Length <= sizeof(vm->name_buf) - sizeof(WCHAR) &&
                NdisUpcaseUnicodeString(&vm->name, &one) == STATUS_SUCCESS) {
                /* upper-cased: equal ignoring case, different with case */
                if (NdisEqualString(&vm->name, &one, TRUE))
                    imdrv_state.equal_ignoring_case++;
                if (!NdisEqualString(&vm->name, &one, FALSE))
                    imdrv_state.differs_with_case++;
            }
            s += one.Length / sizeof(WCHAR) + 1;
        }
    }
    NdisCloseConfiguration(cfg);
    return n;
}

static NDIS_STATUS PtBind(NDIS_HANDLE drvctx, NDIS_HANDLE bind_ctx, PNDIS_BIND_PARAMETERS bp)
{
    UNREFERENCED_PARAMETER(drvctx);
    if (g_lower.handle)
        return NDIS_STATUS_RESOURCES;
    imdrv_state.bind_revision = bp->Header.Revision;
    imdrv_state.bind_has_section = bp->ProtocolSection && bp->ProtocolSection->Length > 0;
    imdrv_state.bind_has_pm_caps = bp->PowerManagementCapabilities != NULL;
    if (BROKEN(BRK_IM_ASSOCIATE_OUTSIDE_ENTRY))
        NdisIMAssociateMiniport(g_mp, g_proto); /* belongs in DriverEntry */
    g_lower.bp = *bp;
    g_lower.bp.ProtocolSection = g_lower.bp.AdapterName = NULL;
    g_lower.if_index = bp->BoundIfIndex;
    g_lower.running = FALSE; /* paused until NetEventRestart */
    g_lower.sends_out = 0;
    NdisInitializeEvent(&g_lower.event);
    NdisInitializeEvent(&g_lower.drained);
    NDIS_MEDIUM media[1] = { NdisMedium802_3 };
    UINT sel;
    NDIS_OPEN_PARAMETERS op;
    NdisZeroMemory(&op, sizeof(op));
    NU_INIT_HEADER(&op.Header, NDIS_OBJECT_TYPE_OPEN_PARAMETERS, NDIS_OPEN_PARAMETERS_REVISION_1,
                   NDIS_SIZEOF_OPEN_PARAMETERS_REVISION_1);
    op.AdapterName = bp->AdapterName;
    op.MediumArray = media;
    op.MediumArraySize = 1;
    op.SelectedMediumIndex = &sel;
    NDIS_STATUS st = NdisOpenAdapterEx(g_proto, &g_lower, &op, bind_ctx, &g_lower.handle);
    if (st == NDIS_STATUS_PENDING) {
        NdisWaitEvent(&g_lower.event, 0);
        st = g_lower.status;
    }
    if (st != NDIS_STATUS_SUCCESS) {
        g_lower.handle = NULL;
        return st;
    }
    ULONG mode;
    g_nvm = read_config(g_lower.handle, &mode);
    imdrv_state.upper_bindings = g_nvm;
    for (ULONG i = 0; i < g_nvm; i++) {
        if (BROKEN(BRK_IM_INIT_UNDER_LOCK))
            NdisAcquireSpinLock(&g_lock); /* PASSIVE_LEVEL only */
        st = NdisIMInitializeDeviceInstanceEx(g_mp, &g_vm[i].name, &g_vm[i]);
        if (BROKEN(BRK_IM_INIT_UNDER_LOCK))
            NdisReleaseSpinLock(&g_lock);
        g_vm[i].asked = st == NDIS_STATUS_SUCCESS;
        imdrv_state.asked += g_vm[i].asked;
    }
    if (g_nvm) {
        /* asked again while its start is pending: NDIS_STATUS_NOT_ACCEPTED */
        imdrv_state.again_status = NdisIMInitializeDeviceInstanceEx(g_mp, &g_vm[0].name, &g_vm[0]);
    }
    if (mode == 1 && g_nvm) {
        im_vm *vm = &g_vm[g_nvm - 1];
        imdrv_state.cancel_pending_status = NdisIMCancelInitializeDeviceInstance(g_mp, &vm->name);
        vm->cancelled = imdrv_state.cancel_pending_status == NDIS_STATUS_SUCCESS;
    }
    if (BROKEN(BRK_IM_CANCEL_WITHOUT_INIT)) {
        NDIS_STRING never = NDIS_STRING_CONST("\\Device\\NeverAskedFor");
        NdisIMCancelInitializeDeviceInstance(g_mp, &never);
    }
    return NDIS_STATUS_SUCCESS;
}

static void PtOpenComplete(NDIS_HANDLE ctx, NDIS_STATUS st)
{
    im_lower *l = ctx;
    l->status = st;
    NdisSetEvent(&l->event);
}

static NDIS_STATUS PtUnbind(NDIS_HANDLE unbind_ctx, NDIS_HANDLE ctx)
{
    im_lower *l = ctx;
    UNREFERENCED_PARAMETER(unbind_ctx);
    for (ULONG i = 0; i < g_nvm; i++) {
        im_vm *vm = &g_vm[i];
        if (vm->handle) {
            /* its initialization began: no way to cancel it any more */
            imdrv_state.cancel_running_status =
                NdisIMCancelInitializeDeviceInstance(g_mp, &vm->name);
            imdrv_state.deinit_status = NdisIMDeInitializeDeviceInstance(vm->handle);
        } else if (vm->asked && !vm->cancelled) {
            /* asked for, never started (its device is not installed) */
            NdisIMCancelInitializeDeviceInstance(g_mp, &vm->name);
        }
    }
    g_nvm = 0;
    NdisResetEvent(&l->event);
    NDIS_STATUS st = NdisCloseAdapterEx(l->handle);
    if (st == NDIS_STATUS_PENDING)
        NdisWaitEvent(&l->event, 0);
    l->handle = NULL;
    return NDIS_STATUS_SUCCESS;
}

static void PtCloseComplete(NDIS_HANDLE ctx)
{
    im_lower *l = ctx;
    NdisSetEvent(&l->event);
}

static NDIS_STATUS PtPnP(NDIS_HANDLE ctx, PNET_PNP_EVENT_NOTIFICATION n)
{
    im_lower *l = ctx;
    if (!l)
        return NDIS_STATUS_SUCCESS; /* a global event */
    if (n->NetPnPEvent.NetEvent == NetEventPause) {
        /* no new send down; the pause completes when the sent ones are back */
        NdisAcquireSpinLock(&g_lock);
        l->running = FALSE;
        l->pausing = TRUE;
        NdisResetEvent(&l->drained);
        BOOLEAN wait = l->sends_out != 0;
        NdisReleaseSpinLock(&g_lock);
        if (wait)
            NdisWaitEvent(&l->drained, 0);
        NdisAcquireSpinLock(&g_lock);
        l->pausing = FALSE;
        NdisReleaseSpinLock(&g_lock);
        imdrv_state.lower_pauses++;
    } else if (n->NetPnPEvent.NetEvent == NetEventRestart) {
        NdisAcquireSpinLock(&g_lock);
        l->running = TRUE;
        NdisReleaseSpinLock(&g_lock);
        imdrv_state.lower_restarts++;
    }
    return NDIS_STATUS_SUCCESS;
}

static void PtOidComplete(NDIS_HANDLE ctx, PNDIS_OID_REQUEST r, NDIS_STATUS st)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(r);
    UNREFERENCED_PARAMETER(st);
}

static void PtStatus(NDIS_HANDLE ctx, PNDIS_STATUS_INDICATION s)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(s);
}

/* The running virtual miniport a frame to dst goes to, counted as lent
 * (g_lock held); NULL: none. */
static im_vm *vm_for_locked(const UCHAR *dst, BOOLEAN lend)
{
    for (ULONG i = 0; i < g_nvm; i++) {
        im_vm *vm = &g_vm[i];
        if (vm->handle && vm->running && NdisEqualMemory(vm->mac, dst, 6)) {
            if (lend)
                vm->recvs_out++;
            return vm;
        }
    }
    return NULL;
}

/* Each NBL up the virtual miniport it is addressed to, one at a time (the
 * lower miniport's own NBL: it comes back through MpReturn); the rest back. */
static void PtReceive(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, NDIS_PORT_NUMBER port, ULONG n,
                      ULONG flags)
{
    im_lower *l = ctx;
    UNREFERENCED_PARAMETER(n);
    BOOLEAN resources = (flags & NDIS_RECEIVE_FLAGS_RESOURCES) != 0;
    ULONG rf = (flags & NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL) ? NDIS_RETURN_FLAGS_DISPATCH_LEVEL : 0;
    while (nbls) {
        PNET_BUFFER_LIST nbl = nbls;
        nbls = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        UCHAR tmp[6];
        PUCHAR dst = NdisGetDataBuffer(NET_BUFFER_LIST_FIRST_NB(nbl), 6, tmp, 1, 0);
        NdisAcquireSpinLock(&g_lock);
        im_vm *vm = dst ? vm_for_locked(dst, !resources) : NULL;
        NdisReleaseSpinLock(&g_lock);
        if (vm) {
            imdrv_state.frames_up++;
            NdisMIndicateReceiveNetBufferLists(vm->handle, nbl, port, 1, flags);
        } else {
            imdrv_state.frames_dropped++;
            if (!resources)
                NdisReturnNetBufferLists(l->handle, nbl, rf);
        }
    }
}

/* A send came back: its SourceHandle restored, completed up its virtual
 * miniport. */
static void PtSendComplete(NDIS_HANDLE ctx, PNET_BUFFER_LIST nbls, ULONG flags)
{
    im_lower *l = ctx;
    ULONG cf = (flags & NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL)
                   ? NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL
                   : 0;
    while (nbls) {
        PNET_BUFFER_LIST nbl = nbls;
        nbls = NET_BUFFER_LIST_NEXT_NBL(nbl);
        NET_BUFFER_LIST_NEXT_NBL(nbl) = NULL;
        im_send_ctx *c = (im_send_ctx *)NET_BUFFER_LIST_CONTEXT_DATA_START(nbl);
        im_vm *vm = c->vm;
        nbl->SourceHandle = c->source;
        NdisFreeNetBufferListContext(nbl, IM_CTX_SIZE);
        if (NET_BUFFER_LIST_STATUS(nbl) == NDIS_STATUS_SUCCESS)
            imdrv_state.frames_down++;
        NdisMSendNetBufferListsComplete(vm->handle, nbl, cf);
        NdisAcquireSpinLock(&g_lock);
        vm->sends_out--;
        BOOLEAN done = vm_pause_done_locked(vm);
        BOOLEAN drained = --l->sends_out == 0 && l->pausing;
        NdisReleaseSpinLock(&g_lock);
        if (done)
            NdisMPauseComplete(vm->handle);
        if (drained)
            NdisSetEvent(&l->drained);
    }
}

NTSTATUS DriverEntry(PDRIVER_OBJECT drv, PUNICODE_STRING reg);
NTSTATUS DriverEntry(PDRIVER_OBJECT drv, PUNICODE_STRING reg)
{
    NdisAllocateSpinLock(&g_lock);
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS mc;
    NdisZeroMemory(&mc, sizeof(mc));
    NU_INIT_HEADER(&mc.Header, NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS,
                   NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1,
                   NDIS_SIZEOF_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_1);
    mc.MajorNdisVersion = 6;
    mc.MinorNdisVersion = 0;
    mc.Flags = BROKEN(BRK_IM_NO_IM_FLAG) ? 0 : NDIS_INTERMEDIATE_DRIVER;
    mc.InitializeHandlerEx = MpInitialize;
    mc.HaltHandlerEx = MpHalt;
    mc.UnloadHandler = MpUnload;
    mc.PauseHandler = MpPause;
    mc.RestartHandler = MpRestart;
    mc.OidRequestHandler = MpOid;
    mc.SendNetBufferListsHandler = MpSend;
    mc.ReturnNetBufferListsHandler = MpReturn;
    mc.CancelSendHandler = MpCancelSend;
    mc.DevicePnPEventNotifyHandler = MpDevicePnP;
    mc.ShutdownHandlerEx = MpShutdown;
    mc.CancelOidRequestHandler = MpCancelOid;
    NDIS_STATUS st = NdisMRegisterMiniportDriver(drv, reg, NULL, &mc, &g_mp);
    if (st != NDIS_STATUS_SUCCESS)
        return st;
    NDIS_PROTOCOL_DRIVER_CHARACTERISTICS pc;
    NdisZeroMemory(&pc, sizeof(pc));
    NU_INIT_HEADER(&pc.Header, NDIS_OBJECT_TYPE_PROTOCOL_DRIVER_CHARACTERISTICS,
                   NDIS_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_1,
                   NDIS_SIZEOF_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_1);
    pc.MajorNdisVersion = 6;
    pc.MinorNdisVersion = 0; /* an NDIS 6.0 protocol, like Microsoft's mux sample */
    NDIS_STRING name = NDIS_STRING_CONST("IMDRVP");
    pc.Name = name;
    pc.BindAdapterHandlerEx = PtBind;
    pc.UnbindAdapterHandlerEx = PtUnbind;
    pc.OpenAdapterCompleteHandlerEx = PtOpenComplete;
    pc.CloseAdapterCompleteHandlerEx = PtCloseComplete;
    pc.NetPnPEventHandler = PtPnP;
    pc.OidRequestCompleteHandler = PtOidComplete;
    pc.StatusHandlerEx = PtStatus;
    pc.ReceiveNetBufferListsHandler = PtReceive;
    pc.SendNetBufferListsCompleteHandler = PtSendComplete;
    st = NdisRegisterProtocolDriver(NULL, &pc, &g_proto);
    if (st != NDIS_STATUS_SUCCESS) {
        NdisMDeregisterMiniportDriver(g_mp);
        return st;
    }
    if (!BROKEN(BRK_IM_NOT_ASSOCIATED) && !BROKEN(BRK_IM_ASSOCIATE_OUTSIDE_ENTRY))
        NdisIMAssociateMiniport(g_mp, g_proto);
    return STATUS_SUCCESS;
}
