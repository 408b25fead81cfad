/* execute.h: running a choice on a validated problem: its workspace (host
 * or stream-ordered device memory) around the implementation's run, and
 * the test-only fault hook (autotune/fault.h) when one is configured. */
#ifndef TK_AUTOTUNE_EXECUTE_H
#define TK_AUTOTUNE_EXECUTE_H

#include "autotune/choose.h"

/* Runs c on p with ctx's pool, device facts and stream. */
tk_status tk_execute(tk_context *ctx, const tk_problem *p, const tk_choice *c);

#endif
