/*
 * tap_os.c - a Linux TAP interface for tapprot (tap_os.h).
 */
#include "tap_os.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_arp.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct tap_os {
    int fd, quit_fd;
    char name[IFNAMSIZ];
    pthread_t thread;
    bool running;
    tap_frame_fn fn;
    void *ctx;
};

static int if_ioctl(unsigned long req, struct ifreq *ifr)
{
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return -1;
    int r = ioctl(s, req, ifr);
    close(s);
    return r;
}

tap_os *tap_open(const char *name, const uint8_t mac[6], char *err, size_t errlen)
{
    tap_os *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->quit_fd = -1;
    t->fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (t->fd < 0) {
        snprintf(err, errlen, "/dev/net/tun: %s (modprobe tun)", strerror(errno));
        free(t);
        return NULL;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) {
        snprintf(err, errlen, "TUNSETIFF %s: %s", name, strerror(errno));
        tap_close(t);
        return NULL;
    }
    snprintf(t->name, sizeof(t->name), "%s", ifr.ifr_name);
    tap_set_carrier(t, false);
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->name);
    ifr.ifr_hwaddr.sa_family = ARPHRD_ETHER;
    memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
    if (if_ioctl(SIOCSIFHWADDR, &ifr) < 0) {
        snprintf(err, errlen, "setting %s's MAC: %s", t->name, strerror(errno));
        tap_close(t);
        return NULL;
    }
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", t->name);
    if (if_ioctl(SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        (void)if_ioctl(SIOCSIFFLAGS, &ifr);
    }
    t->quit_fd = eventfd(0, EFD_CLOEXEC);
    return t;
}

static void *reader_main(void *arg)
{
    tap_os *t = arg;
    uint8_t buf[65536];
    struct pollfd fds[2] = { { t->fd, POLLIN, 0 }, { t->quit_fd, POLLIN, 0 } };
    for (;;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        if (!(fds[0].revents & POLLIN))
            continue;
        ssize_t n = read(t->fd, buf, sizeof(buf));
        if (n > 0)
            t->fn(t->ctx, buf, (size_t)n);
    }
    return NULL;
}

int tap_start(tap_os *t, tap_frame_fn fn, void *ctx)
{
    t->fn = fn;
    t->ctx = ctx;
    if (t->quit_fd < 0 || pthread_create(&t->thread, NULL, reader_main, t) != 0)
        return -1;
    t->running = true;
    return 0;
}

void tap_close(tap_os *t)
{
    if (!t)
        return;
    if (t->running) {
        uint64_t one = 1;
        if (write(t->quit_fd, &one, sizeof(one)) == sizeof(one))
            pthread_join(t->thread, NULL);
    }
    if (t->quit_fd >= 0)
        close(t->quit_fd);
    close(t->fd);
    free(t);
}

int tap_set_carrier(tap_os *t, bool up)
{
    int on = up ? 1 : 0;
    return ioctl(t->fd, TUNSETCARRIER, &on);
}

int tap_write(tap_os *t, const void *frame, size_t len)
{
    return write(t->fd, frame, len) == (ssize_t)len ? 0 : -1;
}
