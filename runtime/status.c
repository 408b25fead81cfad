/* status.c: status names, the thread-local error message, the version. */
#include "runtime/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char tk_error_message[1024];

const char *tk_status_string(tk_status s) {
  switch (s) {
    case TK_OK: return "TK_OK";
    case TK_ERR_INVALID_ARGUMENT: return "TK_ERR_INVALID_ARGUMENT";
    case TK_ERR_UNSUPPORTED: return "TK_ERR_UNSUPPORTED";
    case TK_ERR_OUT_OF_MEMORY: return "TK_ERR_OUT_OF_MEMORY";
    case TK_ERR_DEVICE: return "TK_ERR_DEVICE";
    case TK_ERR_CACHE: return "TK_ERR_CACHE";
    case TK_ERR_INTERNAL: return "TK_ERR_INTERNAL";
  }
  return "TK_STATUS_UNKNOWN";
}

/* Reads only: a caller may ask for the message and the status name in
 * either order without losing the message. */
const char *tk_last_error(void) { return tk_error_message; }

#define TK_STR_(x) #x
#define TK_STR(x) TK_STR_(x)
const char *tk_version(void) {
  return TK_STR(TOKAMAX_VERSION_MAJOR) "." TK_STR(TOKAMAX_VERSION_MINOR) "." TK_STR(
      TOKAMAX_VERSION_PATCH);
}

/* Formats into a local buffer first, so the previous message may be an
 * argument ("plan: %s", tk_last_error()). */
tk_status tk_fail(tk_status s, const char *fmt, ...) {
  char msg[sizeof tk_error_message];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  strcpy(tk_error_message, msg);
  tk_log(TK_LOG_DEBUG, "%s: %s", tk_status_string(s), tk_error_message);
  return s;
}

void tk_clear_error(void) { tk_error_message[0] = '\0'; }
