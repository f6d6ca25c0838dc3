/* Internal interfaces between the engine's source files. Not installed. */
#ifndef FO_INTERNAL_H
#define FO_INTERNAL_H

#include "fo_engine.h"

#define FO_SET_BIT(s) (1u << (unsigned)(s))
#define FO_SET_ALL    ((1u << FO_SET_COUNT) - 1)

/* fo_settings.c */
void fo_settings_init(fo_settings *st);
fo_reason fo_settings_record(fo_settings *st, fo_setting s, const void *data, size_t len);
/* Whether step s is pointless for this primary (an advisory feature it lacks). */
bool fo_settings_skip(fo_setting s, const fo_caps *primary);
/* Writes the payload of s as the primary should get it. primary_offload is the
 * offload configuration the primary must enable. */
fo_reason fo_settings_payload(const fo_settings *st, fo_setting s,
                              const fo_offload *primary_offload, const fo_caps *primary, void *buf,
                              size_t cap, size_t *len);

/* fo_pairing.c */
/* Asks for a re-enumeration when a refusal for `why` of a candidate with this
 * standby's MAC is on record (and marks those refusals retried). */
void fo_retry_refused(fo_pair *p, fo_reason why);

/* fo_actions.c */
void fo_emit(fo_pair *p, const fo_action *a);
void fo_emit_kind(fo_pair *p, fo_action_kind k);
void fo_report(fo_pair *p, fo_reason why, fo_setting s);

/* fo_replay.c */
void fo_replay_restart(fo_pair *p);
void fo_replay_forget(fo_pair *p);
void fo_replay_pump(fo_pair *p);

/* fo_announce.c */
void fo_announce_start(fo_pair *p);

/* fo_engine.c */
void fo_reconcile(fo_pair *p);
fo_path fo_logical_path(const fo_pair *p);
bool fo_primary_bound(const fo_pair *p);
fo_reason fo_pair_blocker(const fo_pair *p);
void fo_primary_offload(const fo_pair *p, fo_offload *out);
void fo_publish_tx_offloads(fo_pair *p, const fo_offload *o);
void fo_primary_attach(fo_pair *p, const fo_adapter_desc *cand);

#endif /* FO_INTERNAL_H */
