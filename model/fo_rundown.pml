/*
 * fo_rundown.pml - the failover engine's rundown gate and TX path selection,
 * checked exhaustively by spin (model/CMakeLists.txt, README "Model check").
 *
 * One pair whose primary starts ACTIVE. Two CPUs send, one receives from the
 * VF, and the glue's serialized control path takes the pair through link
 * changes, a binding pause/restart and finally an unbind, while the sends and
 * receives are in flight. The shared word is fo_rundown's: TX bit, OPEN bit,
 * BRIEF bit and references counted in units of REF; every read-modify-write
 * is a compare-and-swap exactly as in lib/failover/include/fo_rundown.h.
 *
 * Processes and the C code they mirror:
 *   sender    glue MiniportSendNetBufferLists -> fo_select_tx() (fo_datapath.c:
 *             the TX look, then fo_rundown_acquire(FO_RD_TX)); the VF's send
 *             completion -> fo_tx_resend() and fo_primary_release()
 *             (fo_rundown_release); a drained edge -> fo_on_drained() request
 *   receiver  glue ProtocolReceiveNetBufferLists -> fo_rx_accept()
 *             (fo_rundown_acquire(FO_RD_OPEN)); MiniportReturnNetBufferLists ->
 *             NdisReturnNetBufferLists then fo_primary_release(); when that
 *             is refused (the binding pauses: NDIS still indicates to it),
 *             fo_rx_accept_brief() (fo_rundown_acquire(FO_RD_BRIEF)), the
 *             copied indication up, the return to the VF and the release,
 *             all inside the receive callback (vfo_rx_brief_from_primary)
 *   control   the control path under the glue's lock: fo_primary_link(),
 *             fo_primary_pause()/fo_primary_restart(), fo_primary_unbind(),
 *             each ending in fo_reconcile() (fo_engine.c: the TX bit is cleared
 *             before the state leaves ACTIVE and set after it became ACTIVE;
 *             a pause closes OPEN and TX and leaves BRIEF open, an unbind
 *             closes all three),
 *             settle_drain() (level check right after closing, then again on
 *             each fo_on_drained()), FO_ACT_CLOSE_PRIMARY -> NdisCloseAdapterEx
 *
 * Properties (issue 4, item 10):
 *   - no send and no return is issued on a closed binding (assert !closed);
 *   - every packet is completed upwards exactly once (done[]);
 *   - detach always completes and nothing deadlocks (valid end states, and the
 *     final check that the binding was closed with no reference left);
 *   - TX never selects a primary that is not ACTIVE (assert at the CAS);
 *   - no receive goes up briefly once the binding detaches (assert at the
 *     CAS), and the pause completes only with no brief receive in progress
 *     (it waits for the count to be zero, brief references included);
 *   - each full closing of the gate (BRIEF closed too: the unbind) produces
 *     exactly one drained edge. While the binding pauses (OPEN closed, BRIEF
 *     open) each brief receive that empties the count reports the edge
 *     again (brief_edges, unbounded): harmless, because the control path
 *     checks the level, and the pause's completion still never waits for an
 *     edge that does not come (valid end states).
 */

#define TX    1
#define OPEN  2
#define BRIEF 4
#define GATE  7
#define REF   8

#define NSEND 2 /* sending CPUs */
#define NPKT  2 /* packets per CPU */
#define NRX   2 /* VF receive indications */

mtype = { ACTIVE, STANDBY_ONLY, DETACHING, CLOSED };
mtype = { OK, FAILED, LEAVING };

int word = TX + OPEN + BRIEF; /* fo_rundown: the primary is ACTIVE, its gate open */
mtype state = ACTIVE;     /* fo_pair.state, written by control only */
bool closed = false;      /* NdisCloseAdapterEx was called */
bool drained_note = false; /* the fast path asked for fo_on_drained() */
byte closes = 0;          /* times control closed the gate */
byte edges = 0;           /* drained edges of full closings (closer or last releaser) */
byte brief_edges = 0;     /* drained edges seen while BRIEF stayed open (a pause) */
byte done[NSEND * NPKT];  /* upward completions per packet */
byte rx_returned = 0;

/* fo_rundown_acquire(): load, then compare-and-swap until it sticks or the
 * gate says no. */
inline acquire(need, ok)
{
    old = word;
    do
    :: (old & need) != need -> ok = false; break
    :: else ->
        atomic {
            if
            :: word == old ->
                word = old + REF;
                ok = true;
                assert(need != TX || state == ACTIVE); /* TX only on an ACTIVE primary */
                assert(need != BRIEF || (state != DETACHING && state != CLOSED))
            :: else -> old = word; ok = false
            fi
        }
        if
        :: ok -> break
        :: else -> skip
        fi
    od;
    old = 0
}

/* fo_rundown_release() of one reference; then, like the glue, turn a drained
 * edge into an fo_on_drained() request. The release's CAS loop computes the
 * new value from the value its CAS compares against, so each attempt either
 * applies "minus one reference" atomically or changes nothing: it is modeled
 * by its successful attempt. */
inline release()
{
    atomic {
        assert(word / REF >= 1); /* never below zero */
        word = word - REF;
        if
        :: word / REF == 0 && (word & OPEN) == 0 && (word & BRIEF) == 0 ->
            /* the last reference of a fully closed gate */
            edges++;
            assert(edges <= closes);
            drained_note = true
        :: word / REF == 0 && (word & OPEN) == 0 && (word & BRIEF) != 0 ->
            /* a pausing binding emptied again: the edge once more */
            brief_edges++;
            drained_note = true
        :: else -> skip
        fi
    }
}

/* fo_rundown_set_gate() from the control path, modeled by its successful CAS
 * like release(). Three shapes, so that no branch is unreachable by
 * construction: reopen_gate(g) sets bits that keep OPEN (link changes,
 * restart); pause_gate() closes OPEN and TX and keeps BRIEF (the binding
 * pauses); close_gate() closes an open gate fully and records, in the same
 * step, the closing and whether the closer owns its drained edge (no
 * reference left at that moment). */
inline reopen_gate(g)
{
    atomic { word = word - (word & GATE) + g }
}

inline pause_gate()
{
    atomic {
        assert((word & OPEN) != 0);
        word = word - (word & GATE) + BRIEF
    }
}

inline close_gate()
{
    atomic {
        assert((word & BRIEF) != 0);
        closes++;
        if
        :: word / REF == 0 -> edges++
        :: else -> skip
        fi;
        word = word - (word & GATE)
    }
}

/* settle_drain(): the level right after closing, then again on each
 * fo_on_drained(). A lost edge leaves control blocked: an invalid end state. */
inline wait_drained()
{
    if
    :: word / REF == 0 -> skip
    :: else ->
        do
        :: drained_note ->
            drained_note = false;
            if
            :: word / REF == 0 -> break
            :: else -> skip
            fi
        od
    fi;
    assert(edges <= closes) /* never two edges for one full closing */
}

proctype sender(byte id)
{
    byte k = 0;
    int old;
    bool ok, resend;
    mtype st;
    do
    :: k < NPKT ->
        /* fo_select_tx(): the look, then the CAS */
        if
        :: (word & TX) == 0 -> ok = false
        :: else -> acquire(TX, ok)
        fi;
        if
        :: ok ->
            assert(!closed); /* NdisSendNetBufferLists on an open binding */
            /* the VF completes it: fine, failed, or failed because it is leaving */
            if
            :: st = OK
            :: st = FAILED
            :: st = LEAVING
            fi;
            assert(!closed); /* the completion arrives on the open binding */
            /* fo_tx_resend() */
            resend = (st == LEAVING || (st == FAILED && (word & TX) == 0));
            /* either way the packet completes upwards once: directly, or after
             * virtio carried the resend (queued before the reference goes) */
            atomic {
                assert(done[id * NPKT + k] == 0);
                done[id * NPKT + k] = 1;
                st = OK;
                resend = false
            };
            release()
        :: else ->
            atomic { assert(done[id * NPKT + k] == 0); done[id * NPKT + k] = 1 }
        fi;
        k++
    :: else -> break
    od
}

proctype receiver()
{
    byte k = 0;
    int old;
    bool ok;
    do
    :: k < NRX && !closed -> /* the VF indicates only to an open binding */
        acquire(OPEN, ok);
        if
        :: ok ->
            /* the upper stack holds the NBL, then returns it */
            assert(!closed); /* NdisReturnNetBufferLists on an open binding */
            release()
        :: else ->
            acquire(BRIEF, ok);
            if
            :: ok ->
                /* up copied, back to the VF, released: inside the indication */
                assert(!closed);
                release()
            :: else -> skip /* returned to the VF inside the indication */
            fi
        fi;
        k++
    :: else -> break
    od;
    rx_returned = 1
}

proctype control()
{
    byte flaps = 0;
    bool paused_once = false;
    do
    :: flaps < 2 && state == ACTIVE -> /* fo_primary_link(down) */
        reopen_gate(OPEN + BRIEF); /* TX leaves before the state says so */
        state = STANDBY_ONLY;
        flaps++
    :: flaps < 2 && state == STANDBY_ONLY -> /* fo_primary_link(up) */
        state = ACTIVE;
        reopen_gate(TX + OPEN + BRIEF);
        flaps++
    :: !paused_once -> /* fo_primary_pause(), drain, complete, fo_primary_restart() */
        paused_once = true;
        pause_gate();
        state = STANDBY_ONLY;
        wait_drained(); /* FO_ACT_COMPLETE_PRIMARY_PAUSE */
        reopen_gate(OPEN + BRIEF); /* restart: link state as before */
        if
        :: flaps % 2 == 0 -> state = ACTIVE; reopen_gate(TX + OPEN + BRIEF)
        :: else -> skip
        fi
    :: break
    od;
    /* fo_primary_unbind(): close first, then DETACHING */
    close_gate();
    state = DETACHING;
    wait_drained();
    assert(word / REF == 0);
    closed = true; /* FO_ACT_CLOSE_PRIMARY */
    state = CLOSED
}

init {
    byte i;
    atomic {
        run sender(0);
        run sender(1);
        run receiver();
        run control()
    };
    (_nr_pr == 1); /* everything else ran to its end */
    assert(closed && word == 0);
    assert(edges == closes);
    for (i : 0 .. NSEND * NPKT - 1) {
        assert(done[i] == 1)
    }
}
