/*
 * vfo_ctl.h - the user/kernel ABI of vfo.sys's control device.
 *
 * Shared by vfo.sys (which implements it), vfosvc.exe (the binding service,
 * its main client) and diagnostics. Self-contained on purpose: fixed-width
 * types only, no Windows header, so the portable service core, ndisemu and
 * the WDK build all include the very same file.
 *
 * Device
 *   kernel name   \Device\vfo            (NdisRegisterDeviceEx, once per driver)
 *   symbolic link \DosDevices\Global\vfo
 *   user path     \\.\vfo                 (CreateFileW, GENERIC_READ is enough)
 *   security      VFO_CTL_SDDL: SYSTEM and Administrators only.
 *   Several handles may be open at once (service + a "vfosvc status").
 *   Nothing on this device controls the data path: it only reports.
 *
 * Requests (all METHOD_BUFFERED, FILE_READ_ACCESS; codes computed below
 * exactly as CTL_CODE does, device type FILE_DEVICE_NETWORK, functions in the
 * vendor range 0x800+):
 *
 *   IOCTL_VFO_QUERY_VERSION  in: nothing (length 0)
 *                            out: struct vfo_ctl_version, exact size
 *                            Frozen across ABI versions, so any client can ask
 *                            first and refuse politely on a mismatch.
 *   IOCTL_VFO_QUERY_PAIRS    in: struct vfo_ctl_request, exact size
 *                            out: struct vfo_ctl_pairs, exact size
 *                            One snapshot of every vfo adapter, its pair and
 *                            its refused candidates, plus counters.
 *   IOCTL_VFO_WAIT_CHANGE    in: struct vfo_ctl_wait (generation the caller knows)
 *                            out: struct vfo_ctl_wait (current generation)
 *                            Completes as soon as the generation differs from
 *                            the caller's (at once if it already does). Pends
 *                            otherwise; the driver supports IRP cancellation
 *                            (CancelIoEx) and completes every pending wait with
 *                            STATUS_CANCELLED when the control device goes away.
 *                            At most VFO_CTL_MAX_WAITERS may pend at once; one
 *                            more fails with STATUS_DEVICE_BUSY.
 *   IOCTL_VFO_QUERY_DEVICES  in: struct vfo_ctl_request, exact size
 *                            out: struct vfo_ctl_devices, exact size
 *                            Per vfo adapter, what its virtio device did
 *                            wrong (malformed rings, unreadable or invalid
 *                            configuration, control answers) and the
 *                            recoveries it cost. Added within ABI 1: a
 *                            driver without it answers
 *                            STATUS_INVALID_DEVICE_REQUEST.
 *
 * Buffer rules (strict, so both sides validate the same way; see
 * vfo_ctl_check_request() and vfo_ctl_check_*_reply() below):
 *   - Input and output lengths must EQUAL the sizes above; anything else fails
 *     with STATUS_INVALID_BUFFER_SIZE and nothing is written. There is no
 *     "ask for the size first" protocol: vfo_ctl_pairs has a fixed capacity.
 *   - Every request and reply struct starts with abi_version and size; the
 *     driver refuses abi_version != VFO_CTL_ABI_VERSION or a wrong size field
 *     with STATUS_REVISION_MISMATCH; reserved fields must be zero
 *     (STATUS_INVALID_PARAMETER). Unknown codes: STATUS_INVALID_DEVICE_REQUEST.
 *   - On success the driver writes the whole reply and sets Information to its
 *     exact size; reserved fields and unused array entries are zero.
 *   - Every refused request increments vfo_ctl_pairs.bad_requests.
 *   Win32 callers see ERROR_INVALID_USER_BUFFER, ERROR_REVISION_MISMATCH,
 *   ERROR_INVALID_PARAMETER, ERROR_INVALID_FUNCTION, ERROR_OPERATION_ABORTED
 *   and ERROR_BUSY respectively.
 *
 * Identities
 *   An interface is named by its NetCfgInstanceId GUID. For a VF that is the
 *   GUID in NDIS_BIND_PARAMETERS.AdapterName ("\DEVICE\{GUID}"); for a vfo
 *   adapter it is the "NetCfgInstanceId" value of its driver key (readable
 *   with NdisReadConfiguration). INetCfg reports the same GUID
 *   (INetCfgComponent::GetInstanceGuid), which is how the service finds the
 *   adapter in the binding graph. GUIDs use the Windows GUID memory layout.
 *   An adapter name without a GUID (only in emulation) gets a derived one:
 *   vfo_ctl_guid_of_adapter_name() below is the one rule every side uses.
 *
 * Generation
 *   vfo_ctl_pairs.generation changes whenever anything in the reply other than
 *   counters changes (an adapter comes or goes, a pair changes state or VF, a
 *   candidate is refused or forgotten). It never goes back to an earlier value
 *   while the driver stays loaded; a reload may restart it, which a client
 *   notices because its WAIT_CHANGE completes with a different value.
 *
 * Refused candidates
 *   A candidate is listed on the vfo adapter whose MAC it matched but which
 *   refused it, with the reason. Adapters whose MAC matches no vfo adapter are
 *   not candidates and are only counted (unmatched_binds); neither is a vfo
 *   adapter offered to vfo itself. Each vfo adapter keeps the
 *   VFO_CTL_MAX_REFUSALS most recent distinct candidates; a candidate leaves
 *   the list when it pairs later, when newer refusals push it out, or when
 *   the vfo adapter goes away (a refused bind leaves no binding behind whose
 *   removal the driver could see).
 *
 * Byte order: native (little-endian x64, the only target). Packing: natural;
 * every struct is laid out without implicit padding and its size and field
 * offsets are asserted at the end of this file.
 */
#ifndef VFO_CTL_H
#define VFO_CTL_H

#include <stddef.h>
#include <stdint.h>

#define VFO_CTL_ABI_VERSION 1u

/* Names (wide literals: only Windows code uses them). */
#define VFO_CTL_NT_DEVICE_NAME_W L"\\Device\\vfo"
#define VFO_CTL_SYMBOLIC_NAME_W  L"\\DosDevices\\Global\\vfo"
#define VFO_CTL_USER_PATH_W      L"\\\\.\\vfo"
#define VFO_CTL_USER_PATH        "\\\\.\\vfo"
/* Protected DACL: generic all for LocalSystem (SY) and Administrators (BA). */
#define VFO_CTL_SDDL_W L"D:P(A;;GA;;;SY)(A;;GA;;;BA)"

/* CTL_CODE(DeviceType, Function, Method, Access), as winioctl.h defines it. */
#define VFO_CTL_FILE_DEVICE_NETWORK 0x00000012u
#define VFO_CTL_METHOD_BUFFERED     0u
#define VFO_CTL_FILE_READ_ACCESS    1u
#define VFO_CTL_CODE(function)                                                                    \
    ((VFO_CTL_FILE_DEVICE_NETWORK << 16) | (VFO_CTL_FILE_READ_ACCESS << 14) | ((function) << 2) | \
     VFO_CTL_METHOD_BUFFERED)

#define IOCTL_VFO_QUERY_VERSION VFO_CTL_CODE(0x800u) /* 0x00126000 */
#define IOCTL_VFO_QUERY_PAIRS   VFO_CTL_CODE(0x801u) /* 0x00126004 */
#define IOCTL_VFO_WAIT_CHANGE   VFO_CTL_CODE(0x802u) /* 0x00126008 */
#define IOCTL_VFO_QUERY_DEVICES VFO_CTL_CODE(0x803u) /* 0x0012600C */

/* Capacities. Fixed so that every buffer has one legal size. */
#define VFO_CTL_MAX_ADAPTERS 64u /* vfo adapters in one reply */
#define VFO_CTL_MAX_REFUSALS 4u  /* refused candidates kept per vfo adapter */
#define VFO_CTL_MAX_WAITERS  8u  /* WAIT_CHANGE requests pending at once */

/* Pair state of a vfo adapter: the failover engine's state of its primary
 * (DESIGN.md). Anything but ABSENT means vfo has claimed the VF. */
enum vfo_ctl_pair_state {
    VFO_CTL_PAIR_ABSENT = 0,       /* no VF; vf identity is all zero */
    VFO_CTL_PAIR_OPENING = 1,      /* VF accepted, binding being opened */
    VFO_CTL_PAIR_REPLAYING = 2,    /* upper-stack settings being replayed to the VF */
    VFO_CTL_PAIR_ACTIVE = 3,       /* traffic uses the VF */
    VFO_CTL_PAIR_STANDBY_ONLY = 4, /* VF bound but unusable (paused, link down, replay failed) */
    VFO_CTL_PAIR_DETACHING = 5,    /* VF leaving: draining, then closing */
};
#define VFO_CTL_PAIR_STATE_MAX 5u

/* Why a candidate whose MAC matched was not paired. */
enum vfo_ctl_refusal_reason {
    VFO_CTL_REFUSE_NOT_ETHERNET = 1,      /* medium is not 802.3 */
    VFO_CTL_REFUSE_IS_VFO = 2,            /* the candidate is itself a vfo adapter */
    VFO_CTL_REFUSE_NO_STANDBY = 3,        /* virtio did not negotiate VIRTIO_NET_F_STANDBY */
    VFO_CTL_REFUSE_FAILOVER_DISABLED = 4, /* the adapter's Failover keyword is off */
    VFO_CTL_REFUSE_MTU_MISMATCH = 5,      /* MTUs differ and policy does not adjust */
    VFO_CTL_REFUSE_ALREADY_PAIRED = 6,    /* this vfo adapter already has a primary */
    VFO_CTL_REFUSE_OPEN_FAILED = 7,       /* NdisOpenAdapterEx failed */
    VFO_CTL_REFUSE_RESOURCES = 8,         /* out of memory or another resource */
    VFO_CTL_REFUSE_OTHER = 255,           /* anything else; see the driver's trace */
};

/* vfo_ctl_adapter.flags */
#define VFO_CTL_ADAPTER_FAILOVER_ENABLED   0x1u /* Failover keyword on */
#define VFO_CTL_ADAPTER_STANDBY_NEGOTIATED 0x2u /* VIRTIO_NET_F_STANDBY accepted */
#define VFO_CTL_ADAPTER_LINK_UP            0x4u /* link reported to Windows */
#define VFO_CTL_ADAPTER_TX_ON_PRIMARY      0x8u /* transmit currently uses the VF */
#define VFO_CTL_ADAPTER_FLAGS_KNOWN        0xfu

/* vfo_ctl_pairs.flags */
#define VFO_CTL_PAIRS_TRUNCATED   0x1u /* more vfo adapters exist than fit */
#define VFO_CTL_PAIRS_FLAGS_KNOWN 0x1u

/* Windows GUID memory layout. All zero = none/unknown. */
struct vfo_ctl_guid {
    uint32_t data1;
    uint16_t data2;
    uint16_t data3;
    uint8_t data4[8];
};

/* One network interface. Zero fields are unknown. */
struct vfo_ctl_ifid {
    struct vfo_ctl_guid guid; /* NetCfgInstanceId */
    uint64_t net_luid;        /* NET_LUID.Value */
    uint32_t if_index;        /* NET_IFINDEX */
    uint8_t current_mac[6];   /* current station address */
    uint8_t permanent_mac[6]; /* burned-in address */
};

struct vfo_ctl_refusal {
    struct vfo_ctl_ifid candidate;
    uint32_t reason; /* enum vfo_ctl_refusal_reason */
    uint32_t count;  /* times this candidate was refused since it appeared */
};

/* Monotonic while the driver is loaded; never reset by a pair change. */
struct vfo_ctl_counters {
    uint64_t attaches;             /* VF bindings that reached ACTIVE, each once */
    uint64_t detaches;             /* times a VF detached (any cause) */
    uint64_t switches_to_primary;  /* transmit moved onto the VF */
    uint64_t switches_to_standby;  /* transmit moved back to virtio */
    uint64_t tx_primary_packets;   /* sent through the VF */
    uint64_t tx_standby_packets;   /* sent through virtio */
    uint64_t rx_primary_packets;   /* received from the VF */
    uint64_t rx_standby_packets;   /* received from virtio */
    uint64_t tx_resent_on_standby; /* VF failed them while leaving; resent on virtio */
    uint64_t replay_failures;      /* the VF rejected a replayed setting */
    uint64_t refusals;             /* candidates refused (all reasons) */
    uint64_t announces;            /* gratuitous ARP / unsolicited NA frames sent */
};

/* One vfo adapter (one virtio-net NIC). */
struct vfo_ctl_adapter {
    struct vfo_ctl_ifid vfo; /* this vfo adapter */
    struct vfo_ctl_ifid vf;  /* its paired VF; all zero when pair_state is ABSENT */
    uint32_t pair_state;     /* enum vfo_ctl_pair_state */
    uint32_t flags;          /* VFO_CTL_ADAPTER_* */
    uint32_t refusal_count;  /* valid entries in refused[], <= VFO_CTL_MAX_REFUSALS */
    uint32_t reserved;       /* zero */
    struct vfo_ctl_refusal refused[VFO_CTL_MAX_REFUSALS];
    struct vfo_ctl_counters counters;
};

/* IOCTL_VFO_QUERY_VERSION reply. Frozen: never changes with the ABI. */
struct vfo_ctl_version {
    uint32_t abi_version;    /* VFO_CTL_ABI_VERSION of the driver */
    uint32_t size;           /* sizeof(struct vfo_ctl_version) */
    uint32_t driver_version; /* (major << 16) | minor */
    uint32_t pairs_size;     /* sizeof(struct vfo_ctl_pairs) in the driver's ABI */
};

/* IOCTL_VFO_QUERY_PAIRS request. */
struct vfo_ctl_request {
    uint32_t abi_version; /* VFO_CTL_ABI_VERSION */
    uint32_t size;        /* sizeof(struct vfo_ctl_request) */
    uint64_t reserved;    /* zero */
};

/* IOCTL_VFO_QUERY_PAIRS reply. */
struct vfo_ctl_pairs {
    uint32_t abi_version;     /* VFO_CTL_ABI_VERSION */
    uint32_t size;            /* sizeof(struct vfo_ctl_pairs) */
    uint64_t generation;      /* see "Generation" above */
    uint32_t adapter_count;   /* valid entries in adapters[] */
    uint32_t flags;           /* VFO_CTL_PAIRS_* */
    uint64_t bad_requests;    /* control requests refused (bad size, version, code) */
    uint64_t unmatched_binds; /* bind attempts whose MAC matched no vfo adapter */
    uint64_t reserved;        /* zero */
    struct vfo_ctl_adapter adapters[VFO_CTL_MAX_ADAPTERS];
};

/* Malformed input from one adapter's virtio device, as lib/virtio and
 * lib/vnet found it. Monotonic while the adapter exists. */
struct vfo_ctl_device_errors {
    uint64_t used_id_range;         /* a used entry named a descriptor outside the ring */
    uint64_t used_id_not_in_flight; /* ... a descriptor that was not in flight */
    uint64_t used_len;              /* a used length beyond what was posted */
    uint64_t used_idx_jump;         /* the used index moved past the buffers in flight */
    uint64_t config_read_failures;  /* configuration reads that gave up (unstable generation) */
    uint64_t config_invalid;        /* invalid configuration values (MAC, MTU, speed, ...) */
    uint64_t ctrl_bad_answers;      /* control answers neither OK nor ERR, or missing */
    uint64_t ctrl_timeouts;         /* control commands the device never answered */
    uint64_t rx_malformed;          /* received frames dropped as malformed */
    uint64_t device_resets;         /* recoveries: the device was reset and restarted */
};

struct vfo_ctl_device {
    struct vfo_ctl_ifid vfo; /* the vfo adapter, as in vfo_ctl_pairs */
    struct vfo_ctl_device_errors errors;
};

/* IOCTL_VFO_QUERY_DEVICES reply (the same adapters, in the same order, as
 * a QUERY_PAIRS at the same moment). */
struct vfo_ctl_devices {
    uint32_t abi_version;   /* VFO_CTL_ABI_VERSION */
    uint32_t size;          /* sizeof(struct vfo_ctl_devices) */
    uint32_t adapter_count; /* valid entries in adapters[] */
    uint32_t flags;         /* VFO_CTL_PAIRS_TRUNCATED */
    struct vfo_ctl_device adapters[VFO_CTL_MAX_ADAPTERS];
};

/* IOCTL_VFO_WAIT_CHANGE request and reply. */
struct vfo_ctl_wait {
    uint32_t abi_version; /* VFO_CTL_ABI_VERSION */
    uint32_t size;        /* sizeof(struct vfo_ctl_wait) */
    uint64_t generation;  /* in: the generation the caller knows; out: current */
};

/* ---- Validation shared by both sides -------------------------------------- */

enum vfo_ctl_check {
    VFO_CTL_CHECK_OK = 0,
    VFO_CTL_CHECK_UNKNOWN_IOCTL = 1, /* STATUS_INVALID_DEVICE_REQUEST */
    VFO_CTL_CHECK_INPUT_SIZE = 2,    /* STATUS_INVALID_BUFFER_SIZE */
    VFO_CTL_CHECK_OUTPUT_SIZE = 3,   /* STATUS_INVALID_BUFFER_SIZE */
    VFO_CTL_CHECK_VERSION = 4,       /* STATUS_REVISION_MISMATCH (version or size field) */
    VFO_CTL_CHECK_RESERVED = 5,      /* STATUS_INVALID_PARAMETER */
    VFO_CTL_CHECK_FIELD = 6,         /* reply only: a field is out of range */
};

#if defined(_MSC_VER) && !defined(__cplusplus)
#define VFO_CTL_INLINE static __inline
#else
#define VFO_CTL_INLINE static inline
#endif

/* Driver side: may this request be served? `in` is the system buffer
 * (METHOD_BUFFERED, so suitably aligned); it may be NULL when in_len is 0. */
VFO_CTL_INLINE int vfo_ctl_check_request(uint32_t ioctl, const void *in, uint32_t in_len,
                                         uint32_t out_len)
{
    switch (ioctl) {
    case IOCTL_VFO_QUERY_VERSION:
        if (in_len != 0)
            return VFO_CTL_CHECK_INPUT_SIZE;
        if (out_len != sizeof(struct vfo_ctl_version))
            return VFO_CTL_CHECK_OUTPUT_SIZE;
        return VFO_CTL_CHECK_OK;
    case IOCTL_VFO_QUERY_PAIRS: {
        const struct vfo_ctl_request *r = (const struct vfo_ctl_request *)in;
        if (in_len != sizeof(*r) || r == NULL)
            return VFO_CTL_CHECK_INPUT_SIZE;
        if (out_len != sizeof(struct vfo_ctl_pairs))
            return VFO_CTL_CHECK_OUTPUT_SIZE;
        if (r->abi_version != VFO_CTL_ABI_VERSION || r->size != sizeof(*r))
            return VFO_CTL_CHECK_VERSION;
        if (r->reserved != 0)
            return VFO_CTL_CHECK_RESERVED;
        return VFO_CTL_CHECK_OK;
    }
    case IOCTL_VFO_QUERY_DEVICES: {
        const struct vfo_ctl_request *r = (const struct vfo_ctl_request *)in;
        if (in_len != sizeof(*r) || r == NULL)
            return VFO_CTL_CHECK_INPUT_SIZE;
        if (out_len != sizeof(struct vfo_ctl_devices))
            return VFO_CTL_CHECK_OUTPUT_SIZE;
        if (r->abi_version != VFO_CTL_ABI_VERSION || r->size != sizeof(*r))
            return VFO_CTL_CHECK_VERSION;
        if (r->reserved != 0)
            return VFO_CTL_CHECK_RESERVED;
        return VFO_CTL_CHECK_OK;
    }
    case IOCTL_VFO_WAIT_CHANGE: {
        const struct vfo_ctl_wait *w = (const struct vfo_ctl_wait *)in;
        if (in_len != sizeof(*w) || w == NULL)
            return VFO_CTL_CHECK_INPUT_SIZE;
        if (out_len != sizeof(struct vfo_ctl_wait))
            return VFO_CTL_CHECK_OUTPUT_SIZE;
        if (w->abi_version != VFO_CTL_ABI_VERSION || w->size != sizeof(*w))
            return VFO_CTL_CHECK_VERSION;
        return VFO_CTL_CHECK_OK;
    }
    default:
        return VFO_CTL_CHECK_UNKNOWN_IOCTL;
    }
}

VFO_CTL_INLINE int vfo_ctl_guid_is_zero(const struct vfo_ctl_guid *g)
{
    const uint8_t *b = (const uint8_t *)g;
    size_t i;
    for (i = 0; i < sizeof(*g); i++) {
        if (b[i] != 0)
            return 0;
    }
    return 1;
}

/* ---- Naming an adapter by the GUID in its NDIS name ----
 * Shared by vfo.sys (which reports the VF so) and every binding back end
 * that must find the same adapter (vfosvc's ndisemu back end), so both sides
 * name an adapter with one rule. Names are UTF-16 code units. */

VFO_CTL_INLINE int vfo_ctl_hex_digit(uint16_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

VFO_CTL_INLINE int vfo_ctl_hex_field(const uint16_t *s, unsigned digits, uint64_t *out)
{
    uint64_t v = 0;
    unsigned i;
    for (i = 0; i < digits; i++) {
        int d = vfo_ctl_hex_digit(s[i]);
        if (d < 0)
            return 0;
        v = (v << 4) | (uint64_t)d;
    }
    *out = v;
    return 1;
}

/* Finds "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" anywhere in s (chars long);
 * 1 and *out set when found, 0 otherwise. */
VFO_CTL_INLINE int vfo_ctl_guid_parse(const uint16_t *s, uint32_t chars, struct vfo_ctl_guid *out)
{
    uint32_t i;
    for (i = 0; i + 38 <= chars; i++) {
        const uint16_t *g = s + i;
        uint64_t a, b, c, d, e;
        int k;
        if (g[0] != '{' || g[9] != '-' || g[14] != '-' || g[19] != '-' || g[24] != '-' ||
            g[37] != '}')
            continue;
        if (!vfo_ctl_hex_field(g + 1, 8, &a) || !vfo_ctl_hex_field(g + 10, 4, &b) ||
            !vfo_ctl_hex_field(g + 15, 4, &c) || !vfo_ctl_hex_field(g + 20, 4, &d) ||
            !vfo_ctl_hex_field(g + 25, 12, &e))
            continue;
        out->data1 = (uint32_t)a;
        out->data2 = (uint16_t)b;
        out->data3 = (uint16_t)c;
        out->data4[0] = (uint8_t)(d >> 8);
        out->data4[1] = (uint8_t)d;
        for (k = 0; k < 6; k++)
            out->data4[2 + k] = (uint8_t)(e >> (40 - 8 * k));
        return 1;
    }
    return 0;
}

VFO_CTL_INLINE uint64_t vfo_ctl_fnv1a(const uint16_t *s, uint32_t chars, uint64_t h)
{
    uint32_t i;
    for (i = 0; i < chars; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

/* The GUID that names an adapter, from its NDIS adapter name
 * ("\DEVICE\{GUID}"). Windows always names adapters so; an emulated adapter
 * may not, and then a stable GUID is derived from the whole name (two FNV-1a
 * hashes, marked as an RFC 9562 version 8 GUID), so a claimed VF is never
 * reported unnamed. An empty name gives the zero GUID. */
VFO_CTL_INLINE void vfo_ctl_guid_of_adapter_name(const uint16_t *name, uint32_t chars,
                                                 struct vfo_ctl_guid *out)
{
    uint64_t h1, h2;
    int k;
    out->data1 = 0;
    out->data2 = 0;
    out->data3 = 0;
    for (k = 0; k < 8; k++)
        out->data4[k] = 0;
    if (name == NULL || chars == 0 || vfo_ctl_guid_parse(name, chars, out))
        return;
    h1 = vfo_ctl_fnv1a(name, chars, 0xcbf29ce484222325ull);
    h2 = vfo_ctl_fnv1a(name, chars, 0x84222325cbf29ce4ull);
    out->data1 = (uint32_t)(h1 >> 32);
    out->data2 = (uint16_t)(h1 >> 16);
    out->data3 = (uint16_t)((h1 & 0x0fff) | 0x8000);
    for (k = 0; k < 8; k++)
        out->data4[k] = (uint8_t)(h2 >> (56 - 8 * k));
    out->data4[0] = (uint8_t)((out->data4[0] & 0x3f) | 0x80);
}

/* Client side: is this QUERY_VERSION reply usable? */
VFO_CTL_INLINE int vfo_ctl_check_version_reply(const struct vfo_ctl_version *v, uint32_t bytes)
{
    if (bytes != sizeof(*v))
        return VFO_CTL_CHECK_OUTPUT_SIZE;
    if (v->size != sizeof(*v))
        return VFO_CTL_CHECK_FIELD;
    if (v->abi_version != VFO_CTL_ABI_VERSION || v->pairs_size != sizeof(struct vfo_ctl_pairs))
        return VFO_CTL_CHECK_VERSION;
    return VFO_CTL_CHECK_OK;
}

/* Client side: is this QUERY_PAIRS reply well formed? Checks every rule the
 * driver promises above, so a broken driver is reported, never trusted. */
VFO_CTL_INLINE int vfo_ctl_check_pairs_reply(const struct vfo_ctl_pairs *p, uint32_t bytes)
{
    uint32_t i;
    if (bytes != sizeof(*p))
        return VFO_CTL_CHECK_OUTPUT_SIZE;
    if (p->abi_version != VFO_CTL_ABI_VERSION || p->size != sizeof(*p))
        return VFO_CTL_CHECK_VERSION;
    if (p->reserved != 0)
        return VFO_CTL_CHECK_RESERVED;
    if (p->adapter_count > VFO_CTL_MAX_ADAPTERS || (p->flags & ~VFO_CTL_PAIRS_FLAGS_KNOWN) != 0)
        return VFO_CTL_CHECK_FIELD;
    for (i = 0; i < p->adapter_count; i++) {
        const struct vfo_ctl_adapter *a = &p->adapters[i];
        int absent = a->pair_state == VFO_CTL_PAIR_ABSENT;
        if (a->reserved != 0)
            return VFO_CTL_CHECK_RESERVED;
        if (a->pair_state > VFO_CTL_PAIR_STATE_MAX || a->refusal_count > VFO_CTL_MAX_REFUSALS ||
            (a->flags & ~VFO_CTL_ADAPTER_FLAGS_KNOWN) != 0)
            return VFO_CTL_CHECK_FIELD;
        /* A claimed VF must be named; an absent one must not be. */
        if (absent != vfo_ctl_guid_is_zero(&a->vf.guid))
            return VFO_CTL_CHECK_FIELD;
    }
    return VFO_CTL_CHECK_OK;
}

/* Client side: is this QUERY_DEVICES reply well formed? */
VFO_CTL_INLINE int vfo_ctl_check_devices_reply(const struct vfo_ctl_devices *d, uint32_t bytes)
{
    if (bytes != sizeof(*d))
        return VFO_CTL_CHECK_OUTPUT_SIZE;
    if (d->abi_version != VFO_CTL_ABI_VERSION || d->size != sizeof(*d))
        return VFO_CTL_CHECK_VERSION;
    if (d->adapter_count > VFO_CTL_MAX_ADAPTERS || (d->flags & ~VFO_CTL_PAIRS_TRUNCATED))
        return VFO_CTL_CHECK_FIELD;
    return VFO_CTL_CHECK_OK;
}

/* Client side: is this WAIT_CHANGE reply well formed? */
VFO_CTL_INLINE int vfo_ctl_check_wait_reply(const struct vfo_ctl_wait *w, uint32_t bytes)
{
    if (bytes != sizeof(*w))
        return VFO_CTL_CHECK_OUTPUT_SIZE;
    if (w->abi_version != VFO_CTL_ABI_VERSION || w->size != sizeof(*w))
        return VFO_CTL_CHECK_VERSION;
    return VFO_CTL_CHECK_OK;
}

/* ---- Layout: any change here is an ABI change (bump VFO_CTL_ABI_VERSION) --- */

#define VFO_CTL_ASSERT(name, cond) typedef char vfo_ctl_assert_##name[(cond) ? 1 : -1]

VFO_CTL_ASSERT(guid_size, sizeof(struct vfo_ctl_guid) == 16);
VFO_CTL_ASSERT(ifid_size, sizeof(struct vfo_ctl_ifid) == 40);
VFO_CTL_ASSERT(ifid_luid, offsetof(struct vfo_ctl_ifid, net_luid) == 16);
VFO_CTL_ASSERT(ifid_index, offsetof(struct vfo_ctl_ifid, if_index) == 24);
VFO_CTL_ASSERT(ifid_cur, offsetof(struct vfo_ctl_ifid, current_mac) == 28);
VFO_CTL_ASSERT(ifid_perm, offsetof(struct vfo_ctl_ifid, permanent_mac) == 34);
VFO_CTL_ASSERT(refusal_size, sizeof(struct vfo_ctl_refusal) == 48);
VFO_CTL_ASSERT(counters_size, sizeof(struct vfo_ctl_counters) == 96);
VFO_CTL_ASSERT(adapter_vf, offsetof(struct vfo_ctl_adapter, vf) == 40);
VFO_CTL_ASSERT(adapter_state, offsetof(struct vfo_ctl_adapter, pair_state) == 80);
VFO_CTL_ASSERT(adapter_refused, offsetof(struct vfo_ctl_adapter, refused) == 96);
VFO_CTL_ASSERT(adapter_counters, offsetof(struct vfo_ctl_adapter, counters) == 288);
VFO_CTL_ASSERT(adapter_size, sizeof(struct vfo_ctl_adapter) == 384);
VFO_CTL_ASSERT(version_size, sizeof(struct vfo_ctl_version) == 16);
VFO_CTL_ASSERT(request_size, sizeof(struct vfo_ctl_request) == 16);
VFO_CTL_ASSERT(wait_size, sizeof(struct vfo_ctl_wait) == 16);
VFO_CTL_ASSERT(pairs_adapters, offsetof(struct vfo_ctl_pairs, adapters) == 48);
VFO_CTL_ASSERT(pairs_size, sizeof(struct vfo_ctl_pairs) == 48 + 64 * 384);
VFO_CTL_ASSERT(device_errors_size, sizeof(struct vfo_ctl_device_errors) == 80);
VFO_CTL_ASSERT(device_size, sizeof(struct vfo_ctl_device) == 120);
VFO_CTL_ASSERT(devices_adapters, offsetof(struct vfo_ctl_devices, adapters) == 16);
VFO_CTL_ASSERT(devices_size, sizeof(struct vfo_ctl_devices) == 16 + 64 * 120);

#endif /* VFO_CTL_H */
