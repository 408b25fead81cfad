/* fault.h: a test-only fault injector, so tests can prove the sweep and the
 * regression gate catch a slow or wrong implementation. Off unless the
 * environment variable TOKAMAX_TEST_FAULT is set when the first context is
 * created (read once per process):
 *   TOKAMAX_TEST_FAULT="IMPL:slow:F"  every run of impl IMPL (CPU problems)
 *                                    takes F times as long (F > 1)
 *   TOKAMAX_TEST_FAULT="IMPL:wrong"   every run of IMPL adds 1 to the first
 *                                    element of its first floating output */
#ifndef TK_AUTOTUNE_FAULT_H
#define TK_AUTOTUNE_FAULT_H

#include "kernels/impl.h"

/* Reads TOKAMAX_TEST_FAULT (once per process; tk_context_create calls it). */
void tk_fault_init(void);

/* Nonzero once tk_fault_init found a fault configured: the one test the
 * executor makes on every run when none is. */
extern int tk_fault_configured;

/* 1 when the configured fault applies to impl (so the caller times the run). */
int tk_fault_armed(const tk_impl *impl);

/* Applies the configured fault, if any, to a finished run of impl on p
 * that took run_ns. */
void tk_fault_after_run(const tk_problem *p, const tk_impl *impl, double run_ns);

#endif
