/*
 * pcibus.h - a PCI(e) bus with hotplug slots, the way a hypervisor plugs
 * devices into a running guest.
 *
 * plug: the device appears; ndisemu adds the adapter (the guest's PnP
 *   manager starts the driver, binds protocols). A hot-add can be given
 *   the guest OS's enumeration time (plug-to-probe: the ACPI hotplug event,
 *   the bus rescan, the driver's probe): the slot is ADDING until then.
 * eject: an ACPI-style eject request. After the guest OS's reaction time
 *   (eject_delay, default 0) the guest runs query-remove (a driver may veto:
 *   the device then stays, EJECT_REFUSED) and the removal; EJECTED when done.
 *   While the guest is frozen nothing happens, as with a paused VM.
 * surprise: the device is yanked (ndisemu's surprise removal); REMOVED when
 *   the guest has finished tearing it down.
 * The owner (a hypervisor model) hears about every completion through one
 * callback, from platform or PnP context, with the bus unlocked.
 */
#ifndef EMU_PCIBUS_H
#define EMU_PCIBUS_H

#include <stdbool.h>
#include <stdint.h>

#include "ndisemu/emu.h"

#define EMU_PCIBUS_MAX_SLOTS 16

typedef struct emu_pcibus emu_pcibus;

typedef enum emu_slot_state {
    EMU_SLOT_EMPTY,
    EMU_SLOT_ADDING,
    EMU_SLOT_PRESENT,
    EMU_SLOT_EJECTING, /* eject requested, the guest has not finished it */
    EMU_SLOT_REMOVING, /* surprise removal in progress */
} emu_slot_state;

typedef enum emu_slot_event {
    EMU_SLOT_ADDED,      /* status EMU_ERR_NOTFOUND: present, but no driver claimed it */
    EMU_SLOT_ADD_FAILED, /* status says why (EMU_ERR_DRIVER, EMU_ERR_NOTFOUND...) */
    EMU_SLOT_EJECTED,
    EMU_SLOT_EJECT_REFUSED, /* vetoed in query-remove; the device stays */
    EMU_SLOT_REMOVED,       /* surprise removal finished */
} emu_slot_event;

typedef void (*emu_slot_fn)(void *ctx, unsigned slot, emu_slot_event ev, int status);

emu_pcibus *emu_pcibus_create(emu_runtime *rt, unsigned slots, emu_slot_fn fn, void *ctx);
void emu_pcibus_destroy(emu_pcibus *bus);
void emu_pcibus_set_eject_delay(emu_pcibus *bus, uint64_t ns);

/* EMU_OK, EMU_ERR_INVAL (no such slot, bad desc) or EMU_ERR_BUSY (state). */
int emu_pcibus_plug(emu_pcibus *bus, unsigned slot, const emu_device_desc *desc);
/* The same, the guest adding the device probe_delay_ns later. */
int emu_pcibus_plug_after(emu_pcibus *bus, unsigned slot, const emu_device_desc *desc,
                          uint64_t probe_delay_ns);
int emu_pcibus_eject(emu_pcibus *bus, unsigned slot);
/* The same, with this eject's own guest reaction time. */
int emu_pcibus_eject_after(emu_pcibus *bus, unsigned slot, uint64_t delay_ns);
int emu_pcibus_surprise(emu_pcibus *bus, unsigned slot);

emu_slot_state emu_pcibus_state(emu_pcibus *bus, unsigned slot);
/* The guest's adapter for the slot (NULL unless added and not yet removed). */
emu_adapter *emu_pcibus_adapter(emu_pcibus *bus, unsigned slot);
const char *emu_pcibus_instance(emu_pcibus *bus, unsigned slot);
/* Slot holding that instance, or -1. */
int emu_pcibus_slot_of(emu_pcibus *bus, const char *instance);

const char *emu_slot_state_name(emu_slot_state s);
const char *emu_slot_event_name(emu_slot_event e);

#endif /* EMU_PCIBUS_H */
