/*
 * Announce trains: after TX switches paths, and when virtio reports ANNOUNCE
 * after a migration, the host's switches must relearn where the MAC lives.
 * The engine has no clock: it sends the frames due now and asks the glue to
 * arm the pair's timer for the next offset.
 */
#include "fo_internal.h"

/* Frames go out only while something can carry them. */
static bool can_announce(const fo_pair *p)
{
    return p->upper_running && !p->halting && p->shown_link.up;
}

static void send_due(fo_pair *p)
{
    uint8_t count = p->cfg.announce_count;
    uint16_t now = p->cfg.announce_offset_ms[p->announce_next];
    while (p->announce_left && p->cfg.announce_offset_ms[p->announce_next] == now) {
        if (can_announce(p)) {
            fo_action a = { .kind = FO_ACT_SEND_ANNOUNCE };
            a.u.announce.path = p->shown_path;
            a.u.announce.index = p->announce_next;
            a.u.announce.count = count;
            fo_emit(p, &a);
        }
        p->announce_next++;
        p->announce_left--;
    }
    if (p->announce_left) {
        fo_action a = { .kind = FO_ACT_ARM_TIMER };
        a.u.timer.delay_ms = (uint32_t)(p->cfg.announce_offset_ms[p->announce_next] - now);
        a.u.timer.token = p->timer_token;
        fo_emit(p, &a);
    }
}

void fo_announce_start(fo_pair *p)
{
    if (p->cfg.announce_count == 0 || !can_announce(p))
        return;
    p->timer_token++; /* a new train makes any armed timer stale */
    p->announce_next = 0;
    p->announce_left = p->cfg.announce_count;
    send_due(p);
}

fo_reason fo_on_timer(fo_pair *p, uint32_t token)
{
    if (token != p->timer_token || p->announce_left == 0) {
        p->n_stale++;
        p->last_error = FO_R_STALE_COMPLETION;
        return FO_R_STALE_COMPLETION;
    }
    send_due(p);
    return FO_R_OK;
}
