/*
 * inf_rules.h - the packaging rules of inf/vfo.inf and inf/vfoprot.inf
 * (issue 13, class 12), as cmocka tests over the INFs test_inf.c loads.
 */
#ifndef INF_RULES_H
#define INF_RULES_H

#include "inf_parse.h"

extern inf_file g_vfo, g_prot;

void driver_store_dirid(void **state);
void one_binary_one_service(void **state);
void im_platform_binding_options(void **state);
void transitional_device(void **state);
void every_section_referenced(void **state);

#endif
