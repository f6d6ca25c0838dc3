/*
 * passflt.h - the pass-through test filter's control-device interface.
 *
 * passflt is an NDIS 6.30 modifying lightweight filter that passes
 * everything through, and (from its configuration: the [registry] section
 * of its description) may hold sends and receives for HoldNblMs, pend OID
 * requests for PendOidMs, fail FilterAttach (FailAttach = 1), or take
 * itself out of the receive path (BypassReceive = 1, through
 * FilterSetModuleOptions).
 */
#ifndef PASSFLT_H
#define PASSFLT_H

#define PASSFLT_DEVICE "PassFlt"

/* CTL_CODE(FILE_DEVICE_NETWORK (0x12), 0x840 + n, METHOD_BUFFERED, FILE_ANY_ACCESS),
 * spelled out: user-mode callers (vfo-emu) have no WDK headers. */
#define PASSFLT_IOCTL(n)    ((0x12u << 16) | ((0x840u + (n)) << 2))
#define IOCTL_PASSFLT_STATS PASSFLT_IOCTL(1) /* out: passflt_stats */

typedef struct passflt_stats {
    unsigned long long attaches, attach_failures, detaches, pauses, restarts;
    unsigned long long tx_passed, tx_held, rx_passed, rx_held;
    unsigned long long oids, oids_pended, status, net_pnp, device_pnp;
    unsigned int modules; /* attached now */
} passflt_stats;

#endif /* PASSFLT_H */
