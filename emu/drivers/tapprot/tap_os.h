/*
 * tap_os.h - the Linux side of tapprot: a TAP interface of the kernel the
 * driver runs in, its carrier, and a thread that reads the frames the
 * kernel's TCP/IP sends into it. No NDIS types here (tapprot.c holds those).
 */
#ifndef TAP_OS_H
#define TAP_OS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct tap_os tap_os;
/* A frame the kernel sent through the TAP; called on the reader thread. */
typedef void (*tap_frame_fn)(void *ctx, const uint8_t *frame, size_t len);

/* Creates (or attaches to) TAP `name` with MAC `mac`, up, carrier off. NULL
 * with the reason in err (no /dev/net/tun: "modprobe tun"). */
tap_os *tap_open(const char *name, const uint8_t mac[6], char *err, size_t errlen);
/* Starts the reader thread; fn runs on it for every frame. */
int tap_start(tap_os *t, tap_frame_fn fn, void *ctx);
/* Stops the reader (waits for it) and closes the TAP. */
void tap_close(tap_os *t);
int tap_set_carrier(tap_os *t, bool up);
/* One frame to the kernel; -1 when the TAP refused it. */
int tap_write(tap_os *t, const void *frame, size_t len);

#endif /* TAP_OS_H */
