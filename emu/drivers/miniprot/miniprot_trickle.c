/*
 * miniprot_trickle.c - IOCTL_MINIPROT_TRICKLE: frames sent from a timer,
 * one per period, as a protocol's own timers send (TCP's retransmissions):
 * traffic that goes on while NDIS is busy elsewhere, a pended reset of the
 * miniport say, when no application thread runs. A send the protocol
 * cannot make now (no running binding, a reset under way) is counted as
 * refused, as the control device's are.
 */
#include <ndis.h>

#include "miniprot.h"
#include "miniprot_int.h"

static NDIS_HANDLE g_timer;
static volatile LONG g_left;   /* frames still to send */
static volatile LONG g_period; /* ms between them */
static UCHAR g_frame[MINIPROT_TRICKLE_LEN];

static void arm(void)
{
    LARGE_INTEGER due;
    due.QuadPart = -(LONGLONG)g_period * 10000;
    NdisSetTimerObject(g_timer, due, 0, NULL);
}

static void PtTrickleTimer(PVOID s1, PVOID ctx, PVOID s2, PVOID s3)
{
    UNREFERENCED_PARAMETER(s1);
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(s2);
    UNREFERENCED_PARAMETER(s3);
    LONG left = InterlockedDecrement(&g_left);
    if (left < 0) {
        InterlockedIncrement(&g_left); /* stopped meanwhile */
        return;
    }
    pt_send_frame(g_frame, sizeof(g_frame));
    if (left > 0)
        arm();
}

NDIS_STATUS pt_trickle_init(void)
{
    return pt_alloc_timer(PtTrickleTimer, NULL, &g_timer);
}

/* At unload: no callback runs afterwards (KeFlushQueuedDpcs waits for one
 * whose DPC was already queued when the cancel came). */
void pt_trickle_free(void)
{
    if (!g_timer)
        return;
    InterlockedExchange(&g_left, 0);
    NdisCancelTimerObject(g_timer);
    KeFlushQueuedDpcs();
    NdisFreeTimerObject(g_timer);
    g_timer = NULL;
}

NTSTATUS pt_trickle_io(const UCHAR *in, ULONG in_len)
{
    miniprot_trickle t;
    if (in_len < sizeof(t))
        return STATUS_INVALID_PARAMETER;
    NdisMoveMemory(&t, in, sizeof(t));
    if (t.period_ms == 0 || t.period_ms > 60000 || t.frames > 1000000)
        return STATUS_INVALID_PARAMETER;
    if (InterlockedCompareExchange(&g_left, 0, 0) != 0)
        return STATUS_DEVICE_BUSY; /* one trickle at a time */
    NdisMoveMemory(g_frame, t.head, sizeof(g_frame));
    InterlockedExchange(&g_period, (LONG)t.period_ms);
    InterlockedExchange(&g_left, (LONG)t.frames);
    if (t.frames)
        arm();
    return STATUS_SUCCESS;
}
