/* Status strings and canonical identities (vsvc_common.h). */
#include <stdio.h>
#include <string.h>

#include "vsvc_common.h"

const char *vsvc_strerror(int status)
{
    switch (status) {
    case VSVC_OK:
        return "success";
    case VSVC_OK_REBOOT:
        return "success, reboot required";
    case VSVC_E_INVAL:
        return "invalid argument or malformed input";
    case VSVC_E_NOMEM:
        return "out of memory";
    case VSVC_E_FULL:
        return "capacity exhausted";
    case VSVC_E_DUPLICATE:
        return "duplicate entry";
    case VSVC_E_NOTFOUND:
        return "not found";
    case VSVC_E_BUSY:
        return "configuration locked by another process";
    case VSVC_E_IO:
        return "system call failed";
    case VSVC_E_VERSION:
        return "ABI version mismatch";
    case VSVC_E_SIZE:
        return "wrong buffer size";
    case VSVC_E_STATE:
        return "operation not valid in this state";
    default:
        return "unknown error";
    }
}

int vsvc_copy(char *dst, size_t cap, const char *src)
{
    size_t n;
    if (dst == NULL || cap == 0)
        return VSVC_E_INVAL;
    dst[0] = '\0';
    if (src == NULL)
        return VSVC_E_INVAL;
    n = strlen(src);
    if (n >= cap)
        return VSVC_E_INVAL;
    memcpy(dst, src, n + 1);
    return VSVC_OK;
}

int vsvc_id_canonical(const char *in, char out[VSVC_ID_LEN])
{
    /* Positions of the dashes inside "{8-4-4-4-12}". */
    static const char shape[] = "{XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX}";
    static const char digits[] = "0123456789ABCDEF";
    size_t i;

    out[0] = '\0';
    if (in == NULL || strlen(in) != sizeof(shape) - 1)
        return VSVC_E_INVAL;
    for (i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'X') {
            int v = vfo_ctl_hex_digit((uint16_t)(unsigned char)in[i]);
            if (v < 0) {
                out[0] = '\0';
                return VSVC_E_INVAL;
            }
            out[i] = digits[v];
        } else if (in[i] == shape[i]) {
            out[i] = in[i];
        } else {
            out[0] = '\0';
            return VSVC_E_INVAL;
        }
    }
    out[sizeof(shape) - 1] = '\0';
    return VSVC_OK;
}

void vsvc_id_from_guid(const struct vfo_ctl_guid *g, char out[VSVC_ID_LEN])
{
    if (vfo_ctl_guid_is_zero(g)) {
        out[0] = '\0';
        return;
    }
    snprintf(out, VSVC_ID_LEN, "{%08X-%04X-%04X-%02X%02X-%02X%02X%02X%02X%02X%02X}",
             (unsigned)g->data1, (unsigned)g->data2, (unsigned)g->data3, g->data4[0], g->data4[1],
             g->data4[2], g->data4[3], g->data4[4], g->data4[5], g->data4[6], g->data4[7]);
}

void vsvc_mac_format(const uint8_t mac[6], char out[VSVC_MAC_STR_LEN])
{
    snprintf(out, VSVC_MAC_STR_LEN, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
             mac[4], mac[5]);
}

bool vsvc_mac_is_zero(const uint8_t mac[6])
{
    static const uint8_t zero[6];
    return memcmp(mac, zero, sizeof(zero)) == 0;
}

int vsvc_component_canonical(const char *in, char out[VSVC_NAME_LEN])
{
    size_t i, n;
    out[0] = '\0';
    if (in == NULL)
        return VSVC_E_INVAL;
    n = strlen(in);
    if (n == 0 || n >= VSVC_NAME_LEN)
        return VSVC_E_INVAL;
    for (i = 0; i < n; i++) {
        char c = in[i];
        /* '>' separates path elements and '|' keys in the registry store. */
        if (c <= ' ' || c > '~' || c == '>' || c == '|') {
            out[0] = '\0';
            return VSVC_E_INVAL;
        }
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[n] = '\0';
    return VSVC_OK;
}
