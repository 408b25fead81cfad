/* status.h: setting the thread-local error message, and opt-in logging. */
#ifndef TK_RUNTIME_STATUS_H
#define TK_RUNTIME_STATUS_H

#include "tokamax.h"

#if defined(__GNUC__)
#define TK_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define TK_PRINTF(a, b)
#endif

/* Returns from the enclosing function when expr is not TK_OK. */
#define TK_TRY(expr)                      \
  do {                                    \
    tk_status tk_try_ = (expr);           \
    if (tk_try_ != TK_OK) return tk_try_; \
  } while (0)

/* Sets the calling thread's tk_last_error() to the formatted message and
 * returns s, so a failing path reads `return tk_fail(TK_ERR_..., "...")`.
 * Logs the message at debug level. */
tk_status tk_fail(tk_status s, const char *fmt, ...) TK_PRINTF(2, 3);

/* Clears the calling thread's message (done at the start of every API call). */
void tk_clear_error(void);

enum { TK_LOG_OFF = 0, TK_LOG_INFO = 1, TK_LOG_DEBUG = 2 };

/* The level from $TOKAMAX_LOG ("info", "debug"; anything else is off),
 * read once. */
int tk_log_level(void);

/* Writes "tokamax: <message>\n" to stderr when level <= tk_log_level(). */
void tk_log(int level, const char *fmt, ...) TK_PRINTF(2, 3);

#endif
