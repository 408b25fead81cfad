/* fault.h: a test-only fault injector, so tests can prove the sweep and the
 * regression gate catch a slow or wrong implementation. Off unless the
 * environment variable TOKAMAX_TEST_FAULT is set (read once per process):
 *   TOKAMAX_TEST_FAULT="IMPL:slow:F"  every run of impl IMPL (CPU problems)
 *                                    takes F times as long (F > 1)
 *   TOKAMAX_TEST_FAULT="IMPL:wrong"   every run of IMPL adds 1 to the first
 *                                    element of its first floating output */
#ifndef TK_AUTOTUNE_FAULT_H
#define TK_AUTOTUNE_FAULT_H

#include "../impls/registry.h"

/* Applies the configured fault, if any, to a finished run of impl on p
 * that took run_ns. */
void tk_fault_after_run(const tk_problem *p, const tk_impl *impl, double run_ns);

/* 1 when a fault is configured for impl (so the caller times the run). */
int tk_fault_armed(const tk_impl *impl);

#endif
