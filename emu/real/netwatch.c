/*
 * netwatch.c - interface arrival, carrier and removal from rtnetlink
 * (netwatch.h).
 */
#include "netwatch.h"

#include <errno.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "evq.h"

#define MAX_IFS 64

struct emu_netwatch {
    emu_runtime *rt;
    int fd, quit_fd;
    pthread_t thread;
    evq q;
    emu_netwatch_fn fn;
    void *ctx;
    struct {
        int ifindex;
        bool up;
    } known[MAX_IFS];
};

static void deliver(void *ctx, const void *data, size_t len)
{
    emu_netwatch *w = ctx;
    (void)len;
    w->fn(w->ctx, data);
}

static int slot_of(emu_netwatch *w, int ifindex, bool add)
{
    for (int i = 0; i < MAX_IFS; i++) {
        if (w->known[i].ifindex == ifindex)
            return i;
    }
    for (int i = 0; add && i < MAX_IFS; i++) {
        if (w->known[i].ifindex == 0) {
            w->known[i].ifindex = ifindex;
            w->known[i].up = false;
            return i;
        }
    }
    return -1;
}

static void parse_link(emu_netwatch *w, const struct nlmsghdr *h)
{
    const struct ifinfomsg *ifi = NLMSG_DATA(h);
    emu_netwatch_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.ifindex = ifi->ifi_index;
    ev.up = (ifi->ifi_flags & IFF_LOWER_UP) != 0;
    int alen = (int)IFLA_PAYLOAD(h);
    for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
        if (a->rta_type == IFLA_IFNAME)
            snprintf(ev.ifname, sizeof(ev.ifname), "%s", (const char *)RTA_DATA(a));
        else if (a->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(a) == 6)
            memcpy(ev.mac, RTA_DATA(a), 6);
    }
    if (h->nlmsg_type == RTM_DELLINK) {
        int s = slot_of(w, ev.ifindex, false);
        if (s >= 0)
            w->known[s].ifindex = 0;
        ev.kind = EMU_NETIF_GONE;
        evq_push(&w->q, &ev, sizeof(ev));
        return;
    }
    int s = slot_of(w, ev.ifindex, true);
    bool was_known = s >= 0 && w->known[s].ifindex && w->known[s].up == ev.up;
    ev.kind = EMU_NETIF_PRESENT;
    evq_push(&w->q, &ev, sizeof(ev));
    if (s >= 0 && !was_known) {
        w->known[s].up = ev.up;
        ev.kind = EMU_NETIF_CARRIER;
        evq_push(&w->q, &ev, sizeof(ev));
    }
}

static void handle(emu_netwatch *w, const char *buf, ssize_t n)
{
    int len = (int)n;
    for (const struct nlmsghdr *h = (const void *)buf; NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK)
            parse_link(w, h);
    }
}

static void *watch_main(void *arg)
{
    emu_netwatch *w = arg;
    char buf[16384];
    struct pollfd fds[2] = { { w->fd, POLLIN, 0 }, { w->quit_fd, POLLIN, 0 } };
    for (;;) {
        if (poll(fds, 2, -1) < 0 && errno != EINTR)
            break;
        if (fds[1].revents)
            break;
        ssize_t n = recv(w->fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n > 0)
            handle(w, buf, n);
    }
    return NULL;
}

static int dump_links(int fd)
{
    struct {
        struct nlmsghdr h;
        struct ifinfomsg i;
    } rq;
    memset(&rq, 0, sizeof(rq));
    rq.h.nlmsg_len = sizeof(rq);
    rq.h.nlmsg_type = RTM_GETLINK;
    rq.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    rq.i.ifi_family = AF_UNSPEC;
    return send(fd, &rq, sizeof(rq), 0) == (ssize_t)sizeof(rq) ? 0 : -1;
}

emu_netwatch *emu_netwatch_start(emu_runtime *rt, emu_netwatch_fn fn, void *ctx)
{
    emu_netwatch *w = calloc(1, sizeof(*w));
    if (!w)
        return NULL;
    w->rt = rt;
    w->fn = fn;
    w->ctx = ctx;
    w->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    struct sockaddr_nl sa;
    memset(&sa, 0, sizeof(sa));
    sa.nl_family = AF_NETLINK;
    sa.nl_groups = RTMGRP_LINK;
    w->quit_fd = eventfd(0, EFD_CLOEXEC);
    evq_init(&w->q, rt, 1024, deliver, w);
    if (w->fd < 0 || w->quit_fd < 0 || bind(w->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
        dump_links(w->fd) || pthread_create(&w->thread, NULL, watch_main, w) != 0) {
        if (w->fd >= 0)
            close(w->fd);
        if (w->quit_fd >= 0)
            close(w->quit_fd);
        free(w);
        return NULL;
    }
    return w;
}

void emu_netwatch_stop(emu_netwatch *w)
{
    if (!w)
        return;
    uint64_t one = 1;
    if (write(w->quit_fd, &one, sizeof(one)) == sizeof(one))
        pthread_join(w->thread, NULL);
    evq_clear(&w->q);
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&w->q.mu);
        bool busy = w->q.scheduled;
        pthread_mutex_unlock(&w->q.mu);
        if (!busy)
            break;
        usleep(1000);
    }
    close(w->fd);
    close(w->quit_fd);
    free(w);
}
