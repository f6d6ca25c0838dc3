/*
 * vsvc_common.h - status codes, identity strings and limits shared by the
 * binding service's portable core (service/policy) and its back ends.
 *
 * The core is plain C11 with the standard library only, so the same code runs
 * in vfosvc.exe (Windows), in unit tests and inside ndisemu.
 */
#ifndef VSVC_COMMON_H
#define VSVC_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfo_ctl.h"

/* "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}" + NUL: an adapter's NetCfgInstanceId. */
#define VSVC_ID_LEN      40
#define VSVC_NAME_LEN    64  /* component ids ("ms_tcpip"), driver service names */
#define VSVC_PATH_LEN    128 /* binding path: component ids joined by '>' */
#define VSVC_PNP_LEN     200 /* PnP device instance id (MAX_DEVICE_ID_LEN) */
#define VSVC_MAC_STR_LEN 18

/* The fixed names vfo uses (inf/vfo.inf, inf/vfoprot.inf). */
#define VSVC_VFOPROT_ID  "vfoprot" /* vfo's NetTrans component id */
#define VSVC_VFO_SERVICE "vfo"     /* vfo's miniport driver service */

/* Lets the compiler check printf-style formats where it can. */
#if defined(__GNUC__)
#define VSVC_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define VSVC_PRINTF(fmt, args)
#endif

enum vsvc_status {
    VSVC_OK = 0,
    VSVC_OK_REBOOT = 1, /* applied; Windows needs a reboot to finish */
    VSVC_E_INVAL = -1,  /* malformed argument or input */
    VSVC_E_NOMEM = -2,
    VSVC_E_FULL = -3,      /* a fixed capacity is exhausted */
    VSVC_E_DUPLICATE = -4, /* the same key twice */
    VSVC_E_NOTFOUND = -5,
    VSVC_E_BUSY = -6,    /* another process holds the configuration write lock */
    VSVC_E_IO = -7,      /* the OS, the back end or the store failed */
    VSVC_E_VERSION = -8, /* ABI version mismatch */
    VSVC_E_SIZE = -9,    /* buffer of the wrong size */
    VSVC_E_STATE = -10,  /* not valid now (e.g. a change outside a write session) */
};

const char *vsvc_strerror(int status);

/* Copies src into dst[cap]; VSVC_E_INVAL (dst emptied) when it does not fit. */
int vsvc_copy(char *dst, size_t cap, const char *src);

/* Validates an adapter id "{8-4-4-4-12 hex}" in any case and writes its
 * canonical upper-case form. */
int vsvc_id_canonical(const char *in, char out[VSVC_ID_LEN]);

/* Formats a Windows-layout GUID as a canonical id; the zero GUID gives "". */
void vsvc_id_from_guid(const struct vfo_ctl_guid *g, char out[VSVC_ID_LEN]);

/* "52:54:00:12:34:56" */
void vsvc_mac_format(const uint8_t mac[6], char out[VSVC_MAC_STR_LEN]);
bool vsvc_mac_is_zero(const uint8_t mac[6]);

/* Validates a component id (printable ASCII, no '>' or '|', not empty) and
 * writes it in lower case: INetCfg ids are case-insensitive. */
int vsvc_component_canonical(const char *in, char out[VSVC_NAME_LEN]);

#endif /* VSVC_COMMON_H */
