/* call.c: validate and dispatch, for every op. */
#include "api/call.h"

#include "autotune/dispatch.h"
#include "runtime/status.h"

tk_status tk_api_call(tk_op op, tk_context *ctx, const void *args, const tk_call_options *opts) {
  tk_clear_error();
  tk_problem problem;
  tk_status s = tk_problem_validate(op, args, 1, &problem);
  return s == TK_OK ? tk_dispatch(ctx, &problem, opts) : s;
}
