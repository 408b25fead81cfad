/* log.c: opt-in logging to stderr, controlled by $TOKAMAX_LOG. */
#include "runtime/status.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

static pthread_once_t tk_log_once = PTHREAD_ONCE_INIT;
static int tk_log_level_value = TK_LOG_OFF;

/* Reads $TOKAMAX_LOG (case-insensitive "info" or "debug"). */
static void read_log_level(void) {
  const char *v = getenv("TOKAMAX_LOG");
  if (!v) return;
  if (strcasecmp(v, "debug") == 0)
    tk_log_level_value = TK_LOG_DEBUG;
  else if (strcasecmp(v, "info") == 0)
    tk_log_level_value = TK_LOG_INFO;
}

int tk_log_level(void) {
  pthread_once(&tk_log_once, read_log_level);
  return tk_log_level_value;
}

/* Formats the whole line first so lines of concurrent threads don't mix. */
void tk_log(int level, const char *fmt, ...) {
  if (level <= TK_LOG_OFF || level > tk_log_level()) return;
  char line[2048];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(stderr, "tokamax: %s\n", line);
}
