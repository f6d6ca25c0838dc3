/*
 * imdrv.h - what the test intermediate driver (imdrv.c) records for
 * tests/ndisemu/test_im.c, which reads it with dlsym("imdrv_state").
 */
#ifndef IMDRV_H
#define IMDRV_H

typedef struct imdrv_state_t {
    unsigned inits;                   /* MiniportInitializeEx calls */
    unsigned inits_with_context;      /* ... with the IMDeviceInstanceContext it handed in */
    unsigned inits_without_resources; /* ... with no AllocatedResources */
    unsigned halts;
    int last_halt_action;         /* NDIS_HALT_ACTION */
    unsigned upper_bindings;      /* names in the binding's UpperBindings */
    unsigned asked;               /* NdisIMInitializeDeviceInstanceEx returned SUCCESS */
    int again_status;             /* the same instance asked for again */
    int cancel_pending_status;    /* ImTestMode 1: cancelled right after asking */
    int cancel_running_status;    /* cancelled once its MiniportInitializeEx ran */
    int deinit_status;            /* NdisIMDeInitializeDeviceInstance */
    int stack_add_status;         /* NdisIfAddIfStackEntry(virtual over lower) */
    int stack_add_unknown_status; /* ... over an index no interface has */
    unsigned equal_ignoring_case, differs_with_case; /* NdisEqualString on its names */
    unsigned bind_revision;                          /* NDIS_BIND_PARAMETERS Header.Revision */
    int bind_has_section, bind_has_pm_caps;
    unsigned frames_down;                  /* sends the lower miniport completed with SUCCESS */
    unsigned frames_up;                    /* receives indicated up a virtual miniport */
    unsigned frames_dropped;               /* receives addressed to no running virtual miniport */
    unsigned lower_pauses, lower_restarts; /* of its binding to the NIC */
} imdrv_state_t;

#endif
