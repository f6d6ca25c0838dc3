/*
 * vhost_user.h - the front-end ("master") side of the vhost-user protocol
 * over a unix stream socket: the messages a virtio device's owner sends to
 * hand a device's rings to a back end in another process (DPDK's vhost
 * library, QEMU's vhost-user back ends, ...).
 *
 * Facts from the vhost-user specification (QEMU docs/interop/vhost-user.rst):
 * a message is a 12-byte header (request, flags, payload size, all 32-bit
 * little-endian) and a payload; file descriptors travel as SCM_RIGHTS
 * ancillary data of the same sendmsg. Flags carry the version (1) in bits
 * 0-1, "reply" in bit 2 and "need reply" in bit 3. With the REPLY_ACK
 * protocol feature every request sent with "need reply" is answered with a
 * u64 that is zero on success, which is how a refused request shows.
 *
 * Errors are reported, never fatal: every call returns false on a failure,
 * counts it and keeps a line describing the last one.
 */
#ifndef EMU_VHOST_USER_H
#define EMU_VHOST_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Request codes. */
enum {
    EMU_VHU_GET_FEATURES = 1,
    EMU_VHU_SET_FEATURES = 2,
    EMU_VHU_SET_OWNER = 3,
    EMU_VHU_SET_MEM_TABLE = 5,
    EMU_VHU_SET_VRING_NUM = 8,
    EMU_VHU_SET_VRING_ADDR = 9,
    EMU_VHU_SET_VRING_BASE = 10,
    EMU_VHU_GET_VRING_BASE = 11,
    EMU_VHU_SET_VRING_KICK = 12,
    EMU_VHU_SET_VRING_CALL = 13,
    EMU_VHU_GET_PROTOCOL_FEATURES = 15,
    EMU_VHU_SET_PROTOCOL_FEATURES = 16,
    EMU_VHU_SET_VRING_ENABLE = 18,
    EMU_VHU_SET_STATUS = 39,
};

/* Feature bit (in GET/SET_FEATURES) that enables protocol features. */
#define EMU_VHU_F_PROTOCOL_FEATURES 30
/* Protocol feature bits. */
#define EMU_VHU_PF_REPLY_ACK 3
#define EMU_VHU_PF_STATUS    16

#define EMU_VHU_MAX_REGIONS 8

typedef struct emu_vhu_region {
    uint64_t gpa;
    uint64_t size;
    uint64_t user_addr; /* the front end's virtual address of the region */
    uint64_t mmap_offset;
    int fd;
} emu_vhu_region;

typedef struct emu_vhu_conn {
    int sock;
    uint64_t protocol_features; /* as negotiated */
    bool reply_ack;
    uint64_t errors;
    char last_error[160];
} emu_vhu_conn;

/* Connects to the back end's listening socket, retrying until it exists or
 * `timeout_ms` passed. */
bool emu_vhu_connect(emu_vhu_conn *c, const char *path, int timeout_ms);
void emu_vhu_close(emu_vhu_conn *c);

/* GET_FEATURES / GET_PROTOCOL_FEATURES / GET_VRING_BASE: requests answered
 * with a u64 (GET_VRING_BASE: a vring state whose num is returned). */
bool emu_vhu_get_u64(emu_vhu_conn *c, uint32_t request, uint64_t *value);
bool emu_vhu_get_vring_base(emu_vhu_conn *c, uint32_t index, uint32_t *base);
/* SET_FEATURES, SET_PROTOCOL_FEATURES, SET_STATUS: a u64 payload. */
bool emu_vhu_set_u64(emu_vhu_conn *c, uint32_t request, uint64_t value);
bool emu_vhu_set_owner(emu_vhu_conn *c);
bool emu_vhu_set_mem_table(emu_vhu_conn *c, const emu_vhu_region *regions, unsigned n);
/* SET_VRING_NUM, SET_VRING_BASE, SET_VRING_ENABLE: a vring state. */
bool emu_vhu_set_vring_state(emu_vhu_conn *c, uint32_t request, uint32_t index, uint32_t num);
/* Ring addresses in the front end's virtual address space. */
bool emu_vhu_set_vring_addr(emu_vhu_conn *c, uint32_t index, uint64_t desc, uint64_t used,
                            uint64_t avail);
/* SET_VRING_KICK / SET_VRING_CALL with an eventfd. */
bool emu_vhu_set_vring_fd(emu_vhu_conn *c, uint32_t request, uint32_t index, int fd);

#endif /* EMU_VHOST_USER_H */
