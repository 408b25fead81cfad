/* call.h: the one path every public op entry point takes, by op: clear the
 * calling thread's error, validate the args through the op table,
 * dispatch. */
#ifndef TK_API_CALL_H
#define TK_API_CALL_H

#include "tokamax.h"

/* tk_<op>(ctx, args, opts) for op, where args points to that op's public
 * args struct. */
tk_status tk_api_call(tk_op op, tk_context *ctx, const void *args, const tk_call_options *opts);

#endif
