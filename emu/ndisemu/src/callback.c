/*
 * callback.c - entering and leaving a driver callback. The scope sets the
 * thread's IRQL and "current adapter/driver" (used to attribute memory and
 * to check lock discipline) and checks on the way out that the driver left
 * no spin lock held and the IRQL where it found it.
 */
#include "emu_internal.h"

void emu_cb_begin(emu_cb_scope *s, const char *name, emu_driver *drv, emu_adapter *ad, KIRQL irql)
{
    emu_thread *t = emu_self();
    s->saved = *t;
    s->name = name;
    s->irql = irql;
    t->irql = irql;
    t->cur_drv = drv;
    t->cur_ad = ad;
    t->locks_held = 0;
    t->depth++;
    emu_tracef(emu_rt, "cb", name, "%s", emu_adapter_label(ad));
}

void emu_cb_end(emu_cb_scope *s)
{
    emu_thread *t = emu_self();
    emu_runtime *rt = emu_rt;
    if (t->locks_held > 0) {
        emu_violate(rt, "SpinlockRelease", s->name,
                    "returned holding %d spin lock(s); a handler must release its locks "
                    "before it exits",
                    t->locks_held);
    } else if (t->irql != s->irql) {
        emu_violate(rt, "IrqlRestored", s->name,
                    "entered at IRQL %u, returned at IRQL %u (raised without lowering)", s->irql,
                    t->irql);
    }
    *t = s->saved;
}
