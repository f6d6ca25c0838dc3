/*
 * pcibus.c - see pcibus.h.
 */
#include "pcibus.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct slot {
    emu_pcibus *bus;
    unsigned index;
    emu_slot_state state;
    emu_device_desc desc;
    char instance[EMU_NAME_MAX], pnp[EMU_NAME_MAX], service[EMU_NAME_MAX];
    emu_adapter *ad;
} slot;

struct emu_pcibus {
    emu_runtime *rt;
    pthread_mutex_t mu;
    emu_slot_fn fn;
    void *ctx;
    uint64_t eject_delay_ns;
    unsigned n;
    slot slots[EMU_PCIBUS_MAX_SLOTS];
};

emu_pcibus *emu_pcibus_create(emu_runtime *rt, unsigned slots, emu_slot_fn fn, void *ctx)
{
    if (!rt || !slots || slots > EMU_PCIBUS_MAX_SLOTS)
        return NULL;
    emu_pcibus *bus = calloc(1, sizeof(*bus));
    if (!bus)
        return NULL;
    bus->rt = rt;
    bus->fn = fn;
    bus->ctx = ctx;
    bus->n = slots;
    for (unsigned i = 0; i < slots; i++) {
        bus->slots[i].bus = bus;
        bus->slots[i].index = i;
    }
    pthread_mutex_init(&bus->mu, NULL);
    return bus;
}

void emu_pcibus_destroy(emu_pcibus *bus)
{
    if (!bus)
        return;
    pthread_mutex_destroy(&bus->mu);
    free(bus);
}

void emu_pcibus_set_eject_delay(emu_pcibus *bus, uint64_t ns)
{
    pthread_mutex_lock(&bus->mu);
    bus->eject_delay_ns = ns;
    pthread_mutex_unlock(&bus->mu);
}

static void notify(slot *s, emu_slot_event ev, int status)
{
    if (s->bus->fn)
        s->bus->fn(s->bus->ctx, s->index, ev, status);
}

/* A device no driver claims stays in its slot (as on real hardware), with
 * no adapter: ADDED with status EMU_ERR_NOTFOUND. */
static void added(void *ctx, int status)
{
    slot *s = ctx;
    emu_pcibus *bus = s->bus;
    pthread_mutex_lock(&bus->mu);
    s->ad = status == EMU_OK ? emu_find_adapter(bus->rt, s->instance) : NULL;
    bool present = s->ad != NULL || status == EMU_ERR_NOTFOUND;
    s->state = present ? EMU_SLOT_PRESENT : EMU_SLOT_EMPTY;
    pthread_mutex_unlock(&bus->mu);
    if (s->ad)
        notify(s, EMU_SLOT_ADDED, EMU_OK);
    else
        notify(s, present ? EMU_SLOT_ADDED : EMU_SLOT_ADD_FAILED, status);
}

static void copy_desc(slot *s, const emu_device_desc *d)
{
    s->desc = *d;
    snprintf(s->instance, sizeof(s->instance), "%s", d->instance);
    snprintf(s->pnp, sizeof(s->pnp), "%s", d->pnp_id ? d->pnp_id : "");
    snprintf(s->service, sizeof(s->service), "%s", d->service ? d->service : "");
    s->desc.instance = s->instance;
    s->desc.pnp_id = d->pnp_id ? s->pnp : NULL;
    s->desc.service = d->service ? s->service : NULL;
}

/* The guest's enumeration found the hot-added device: it adds it now. */
static void probe_now(void *arg)
{
    slot *s = arg;
    emu_pcibus *bus = s->bus;
    pthread_mutex_lock(&bus->mu);
    int err = s->state == EMU_SLOT_ADDING ? emu_request_add_device(bus->rt, &s->desc, added, s)
                                          : EMU_ERR_BUSY;
    if (err)
        s->state = EMU_SLOT_EMPTY;
    pthread_mutex_unlock(&bus->mu);
    if (err)
        notify(s, EMU_SLOT_ADD_FAILED, err);
}

int emu_pcibus_plug_after(emu_pcibus *bus, unsigned slot_no, const emu_device_desc *desc,
                          uint64_t probe_delay_ns)
{
    if (slot_no >= bus->n || !desc || !desc->instance || !desc->ops)
        return EMU_ERR_INVAL;
    slot *s = &bus->slots[slot_no];
    pthread_mutex_lock(&bus->mu);
    int err = s->state == EMU_SLOT_EMPTY ? EMU_OK : EMU_ERR_BUSY;
    if (!err) {
        copy_desc(s, desc);
        s->state = EMU_SLOT_ADDING;
        if (probe_delay_ns)
            err = emu_schedule(bus->rt, probe_delay_ns, probe_now, s) ? EMU_OK : EMU_ERR_NOMEM;
        else
            err = emu_request_add_device(bus->rt, &s->desc, added, s);
        if (err)
            s->state = EMU_SLOT_EMPTY;
    }
    pthread_mutex_unlock(&bus->mu);
    return err;
}

int emu_pcibus_plug(emu_pcibus *bus, unsigned slot_no, const emu_device_desc *desc)
{
    return emu_pcibus_plug_after(bus, slot_no, desc, 0);
}

/* A removal operation finished. Whichever completion first finds the
 * adapter gone reports it, as EJECTED or REMOVED by what the slot was doing
 * (a surprise removal may overtake a pending eject); a refused eject puts
 * the slot back to PRESENT. */
static void removed(slot *s, int status, bool surprise)
{
    emu_pcibus *bus = s->bus;
    pthread_mutex_lock(&bus->mu);
    if (s->state == EMU_SLOT_EMPTY) {
        pthread_mutex_unlock(&bus->mu);
        return;
    }
    bool gone = status == EMU_OK || !emu_find_adapter(bus->rt, s->instance);
    bool was_surprise = s->state == EMU_SLOT_REMOVING;
    bool report = gone || (!surprise && !was_surprise) || (surprise && was_surprise);
    if (gone) {
        s->state = EMU_SLOT_EMPTY;
        s->ad = NULL;
    } else if (!surprise && !was_surprise) {
        s->state = EMU_SLOT_PRESENT;
    }
    pthread_mutex_unlock(&bus->mu);
    if (!report)
        return;
    if (was_surprise)
        notify(s, EMU_SLOT_REMOVED, gone ? EMU_OK : status);
    else
        notify(s, gone ? EMU_SLOT_EJECTED : EMU_SLOT_EJECT_REFUSED, gone ? EMU_OK : status);
}

static void ejected(void *ctx, int status)
{
    removed(ctx, status, false);
}

static void surprise_done(void *ctx, int status)
{
    removed(ctx, status, true);
}

/* The guest OS reacts to the eject request. */
static void eject_now(void *arg)
{
    slot *s = arg;
    emu_pcibus *bus = s->bus;
    pthread_mutex_lock(&bus->mu);
    int err = EMU_OK;
    if (s->state == EMU_SLOT_EJECTING)
        err = s->ad ? emu_request_remove(bus->rt, s->ad, false, ejected, s) : EMU_ERR_NOTFOUND;
    pthread_mutex_unlock(&bus->mu);
    if (err)
        ejected(s, err); /* no adapter (driverless card): gone at once */
}

int emu_pcibus_eject(emu_pcibus *bus, unsigned slot_no)
{
    pthread_mutex_lock(&bus->mu);
    uint64_t delay = bus->eject_delay_ns;
    pthread_mutex_unlock(&bus->mu);
    return emu_pcibus_eject_after(bus, slot_no, delay);
}

int emu_pcibus_eject_after(emu_pcibus *bus, unsigned slot_no, uint64_t delay_ns)
{
    if (slot_no >= bus->n)
        return EMU_ERR_INVAL;
    slot *s = &bus->slots[slot_no];
    pthread_mutex_lock(&bus->mu);
    int err = EMU_OK;
    if (s->state == EMU_SLOT_PRESENT) {
        s->state = EMU_SLOT_EJECTING;
        if (!emu_schedule(bus->rt, delay_ns, eject_now, s)) {
            s->state = EMU_SLOT_PRESENT;
            err = EMU_ERR_NOMEM;
        }
    } else if (s->state != EMU_SLOT_EJECTING) {
        err = EMU_ERR_BUSY;
    }
    pthread_mutex_unlock(&bus->mu);
    return err;
}

int emu_pcibus_surprise(emu_pcibus *bus, unsigned slot_no)
{
    if (slot_no >= bus->n)
        return EMU_ERR_INVAL;
    slot *s = &bus->slots[slot_no];
    pthread_mutex_lock(&bus->mu);
    int err = EMU_ERR_BUSY;
    if ((s->state == EMU_SLOT_PRESENT || s->state == EMU_SLOT_EJECTING) && !s->ad) {
        s->state = EMU_SLOT_EMPTY; /* driverless card: nothing in the guest to tear down */
        pthread_mutex_unlock(&bus->mu);
        notify(s, EMU_SLOT_REMOVED, EMU_OK);
        return EMU_OK;
    }
    if (s->state == EMU_SLOT_PRESENT || s->state == EMU_SLOT_EJECTING) {
        err = emu_request_remove(bus->rt, s->ad, true, surprise_done, s);
        if (!err)
            s->state = EMU_SLOT_REMOVING;
    }
    pthread_mutex_unlock(&bus->mu);
    return err;
}

emu_slot_state emu_pcibus_state(emu_pcibus *bus, unsigned slot_no)
{
    if (slot_no >= bus->n)
        return EMU_SLOT_EMPTY;
    pthread_mutex_lock(&bus->mu);
    emu_slot_state st = bus->slots[slot_no].state;
    pthread_mutex_unlock(&bus->mu);
    return st;
}

emu_adapter *emu_pcibus_adapter(emu_pcibus *bus, unsigned slot_no)
{
    if (slot_no >= bus->n)
        return NULL;
    pthread_mutex_lock(&bus->mu);
    emu_adapter *ad = bus->slots[slot_no].ad;
    pthread_mutex_unlock(&bus->mu);
    return ad;
}

const char *emu_pcibus_instance(emu_pcibus *bus, unsigned slot_no)
{
    if (slot_no >= bus->n)
        return NULL;
    pthread_mutex_lock(&bus->mu);
    const char *name =
        bus->slots[slot_no].state == EMU_SLOT_EMPTY ? NULL : bus->slots[slot_no].instance;
    pthread_mutex_unlock(&bus->mu);
    return name;
}

int emu_pcibus_slot_of(emu_pcibus *bus, const char *instance)
{
    int found = -1;
    pthread_mutex_lock(&bus->mu);
    for (unsigned i = 0; i < bus->n && found < 0; i++) {
        if (bus->slots[i].state != EMU_SLOT_EMPTY && strcmp(bus->slots[i].instance, instance) == 0)
            found = (int)i;
    }
    pthread_mutex_unlock(&bus->mu);
    return found;
}

const char *emu_slot_state_name(emu_slot_state s)
{
    static const char *const names[] = { "empty", "adding", "present", "ejecting", "removing" };
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const char *emu_slot_event_name(emu_slot_event e)
{
    static const char *const names[] = { "added", "add-failed", "ejected", "eject-refused",
                                         "removed" };
    return (unsigned)e < sizeof(names) / sizeof(names[0]) ? names[e] : "?";
}
