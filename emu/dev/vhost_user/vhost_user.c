/*
 * vhost_user.c - see vhost_user.h.
 */
#define _GNU_SOURCE
#include "vhost_user.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HDR_SIZE       12u
#define FLAG_VERSION   0x1u
#define FLAG_REPLY     0x4u
#define FLAG_NEED_REPL 0x8u
#define MAX_PAYLOAD    (8u + EMU_VHU_MAX_REGIONS * 32u)
#define INVALID_FD_BIT (1ull << 8)

typedef struct vhu_msg {
    uint32_t request;
    uint32_t flags;
    uint32_t size;
    uint8_t payload[MAX_PAYLOAD];
} vhu_msg;

static bool fail(emu_vhu_conn *c, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->last_error, sizeof(c->last_error), fmt, ap);
    va_end(ap);
    c->errors++;
    return false;
}

static void put_u32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4); /* the protocol is little-endian, as is every host we run on */
}

static void put_u64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

bool emu_vhu_connect(emu_vhu_conn *c, const char *path, int timeout_ms)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    struct timespec pause = { 0, 10 * 1000 * 1000 };
    int waited = 0;

    memset(c, 0, sizeof(*c));
    c->sock = -1;
    if (strlen(path) >= sizeof(sa.sun_path))
        return fail(c, "socket path too long: %s", path);
    memcpy(sa.sun_path, path, strlen(path) + 1);
    for (;;) {
        c->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (c->sock < 0)
            return fail(c, "socket: %s", strerror(errno));
        if (connect(c->sock, (struct sockaddr *)&sa, sizeof(sa)) == 0)
            return true;
        close(c->sock);
        c->sock = -1;
        if (waited >= timeout_ms)
            return fail(c, "connect %s: %s", path, strerror(errno));
        nanosleep(&pause, NULL);
        waited += 10;
    }
}

void emu_vhu_close(emu_vhu_conn *c)
{
    if (c->sock >= 0)
        close(c->sock);
    c->sock = -1;
}

static bool send_msg(emu_vhu_conn *c, const vhu_msg *m, const int *fds, unsigned nfds)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * EMU_VHU_MAX_REGIONS)];
        struct cmsghdr align;
    } ctl;
    uint8_t hdr[HDR_SIZE];
    struct iovec iov[2] = { { hdr, HDR_SIZE }, { (void *)m->payload, m->size } };
    struct msghdr mh = { .msg_iov = iov, .msg_iovlen = m->size ? 2 : 1 };
    ssize_t n;

    put_u32(hdr, m->request);
    put_u32(hdr + 4, m->flags);
    put_u32(hdr + 8, m->size);
    if (nfds) {
        struct cmsghdr *cm;

        memset(&ctl, 0, sizeof(ctl));
        mh.msg_control = ctl.buf;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
        memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
    }
    n = sendmsg(c->sock, &mh, MSG_NOSIGNAL);
    if (n != (ssize_t)(HDR_SIZE + m->size))
        return fail(c, "send request %u: %s", m->request, n < 0 ? strerror(errno) : "short write");
    return true;
}

static bool read_full(emu_vhu_conn *c, void *buf, size_t len)
{
    size_t done = 0;

    while (done < len) {
        ssize_t n = read(c->sock, (uint8_t *)buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return fail(c, "back end closed the connection or read failed: %s",
                        n < 0 ? strerror(errno) : "end of file");
        done += (size_t)n;
    }
    return true;
}

/* Reads the reply to `request`; its payload must be `size` bytes. */
static bool recv_reply(emu_vhu_conn *c, uint32_t request, vhu_msg *r, uint32_t size)
{
    uint8_t hdr[HDR_SIZE];

    if (!read_full(c, hdr, HDR_SIZE))
        return false;
    memcpy(&r->request, hdr, 4);
    memcpy(&r->flags, hdr + 4, 4);
    memcpy(&r->size, hdr + 8, 4);
    if (r->request != request || !(r->flags & FLAG_REPLY) || r->size != size)
        return fail(c, "bad reply to request %u: request %u flags %#x size %u", request, r->request,
                    r->flags, r->size);
    return read_full(c, r->payload, size);
}

/* Sends a request that expects no answer; with REPLY_ACK asks for one and
 * turns a non-zero status into a failure naming the request. */
static bool request(emu_vhu_conn *c, vhu_msg *m, const int *fds, unsigned nfds)
{
    vhu_msg r;

    m->flags = FLAG_VERSION | (c->reply_ack ? FLAG_NEED_REPL : 0);
    if (!send_msg(c, m, fds, nfds))
        return false;
    if (!c->reply_ack)
        return true;
    if (!recv_reply(c, m->request, &r, 8))
        return false;
    if (get_u64(r.payload) != 0)
        return fail(c, "back end refused request %u (status %llu)", m->request,
                    (unsigned long long)get_u64(r.payload));
    return true;
}

bool emu_vhu_get_u64(emu_vhu_conn *c, uint32_t req, uint64_t *value)
{
    vhu_msg m = { .request = req, .flags = FLAG_VERSION };
    vhu_msg r;

    if (!send_msg(c, &m, NULL, 0) || !recv_reply(c, req, &r, 8))
        return false;
    *value = get_u64(r.payload);
    return true;
}

bool emu_vhu_get_vring_base(emu_vhu_conn *c, uint32_t index, uint32_t *base)
{
    vhu_msg m = { .request = EMU_VHU_GET_VRING_BASE, .flags = FLAG_VERSION, .size = 8 };
    vhu_msg r;

    put_u32(m.payload, index);
    put_u32(m.payload + 4, 0);
    if (!send_msg(c, &m, NULL, 0) || !recv_reply(c, m.request, &r, 8))
        return false;
    memcpy(base, r.payload + 4, 4);
    return true;
}

bool emu_vhu_set_u64(emu_vhu_conn *c, uint32_t req, uint64_t value)
{
    vhu_msg m = { .request = req, .size = 8 };

    put_u64(m.payload, value);
    if (req == EMU_VHU_SET_PROTOCOL_FEATURES) {
        /* Sent before REPLY_ACK is in force, so never asks for an answer. */
        m.flags = FLAG_VERSION;
        if (!send_msg(c, &m, NULL, 0))
            return false;
        c->protocol_features = value;
        c->reply_ack = (value >> EMU_VHU_PF_REPLY_ACK) & 1;
        return true;
    }
    return request(c, &m, NULL, 0);
}

bool emu_vhu_set_owner(emu_vhu_conn *c)
{
    vhu_msg m = { .request = EMU_VHU_SET_OWNER };
    return request(c, &m, NULL, 0);
}

bool emu_vhu_set_mem_table(emu_vhu_conn *c, const emu_vhu_region *regions, unsigned n)
{
    vhu_msg m = { .request = EMU_VHU_SET_MEM_TABLE };
    int fds[EMU_VHU_MAX_REGIONS];
    unsigned i;

    if (n == 0 || n > EMU_VHU_MAX_REGIONS)
        return fail(c, "memory table with %u regions", n);
    put_u32(m.payload, n);
    put_u32(m.payload + 4, 0);
    for (i = 0; i < n; i++) {
        uint8_t *r = m.payload + 8 + 32 * i;
        put_u64(r, regions[i].gpa);
        put_u64(r + 8, regions[i].size);
        put_u64(r + 16, regions[i].user_addr);
        put_u64(r + 24, regions[i].mmap_offset);
        fds[i] = regions[i].fd;
    }
    /* The payload always holds room for the full table. */
    m.size = 8 + 32 * EMU_VHU_MAX_REGIONS;
    return request(c, &m, fds, n);
}

bool emu_vhu_set_vring_state(emu_vhu_conn *c, uint32_t req, uint32_t index, uint32_t num)
{
    vhu_msg m = { .request = req, .size = 8 };

    put_u32(m.payload, index);
    put_u32(m.payload + 4, num);
    return request(c, &m, NULL, 0);
}

bool emu_vhu_set_vring_addr(emu_vhu_conn *c, uint32_t index, uint64_t desc, uint64_t used,
                            uint64_t avail)
{
    vhu_msg m = { .request = EMU_VHU_SET_VRING_ADDR, .size = 40 };

    put_u32(m.payload, index);
    put_u32(m.payload + 4, 0); /* no logging */
    put_u64(m.payload + 8, desc);
    put_u64(m.payload + 16, used);
    put_u64(m.payload + 24, avail);
    put_u64(m.payload + 32, 0);
    return request(c, &m, NULL, 0);
}

bool emu_vhu_set_vring_fd(emu_vhu_conn *c, uint32_t req, uint32_t index, int fd)
{
    vhu_msg m = { .request = req, .size = 8 };

    put_u64(m.payload, (uint64_t)index | (fd < 0 ? INVALID_FD_BIT : 0));
    return request(c, &m, &fd, fd < 0 ? 0 : 1);
}
