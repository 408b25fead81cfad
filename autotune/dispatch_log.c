/* dispatch_log.c: the dispatch log of TOKAMAX_LOG=debug, like oneDNN's
 * ONEDNN_VERBOSE: one block per distinct (problem key, call options), the
 * first time a call of it is dispatched in the process. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "autotune/dispatch.h"
#include "autotune/tuned_map.h"
#include "runtime/json.h"
#include "runtime/status.h"

/* Hashes of what was logged (open addressing; 0 = empty). Past LOGGED_MAX
 * distinct problems nothing more is logged, and the log says so once. */
enum { LOGGED_MAX = 4096 };
static uint64_t logged[2 * LOGGED_MAX];
static int n_logged;
static pthread_mutex_t logged_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t fnv(uint64_t h, const char *s) {
  for (; s && *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return (h ^ 0xff) * 1099511628211ull; /* a separator, so "ab"+"" != "a"+"b" */
}

/* 1 the first time h is seen (and it is remembered), else 0. */
static int first_time(uint64_t h) {
  if (!h) h = 1;
  pthread_mutex_lock(&logged_lock);
  int first = 0;
  if (n_logged < LOGGED_MAX) {
    size_t i = h % (2 * LOGGED_MAX);
    while (logged[i] && logged[i] != h) i = (i + 1) % (2 * LOGGED_MAX);
    if (!logged[i]) {
      logged[i] = h;
      first = 1;
      if (++n_logged == LOGGED_MAX)
        tk_log(TK_LOG_DEBUG, "dispatch: %d distinct problems logged; no more will be", LOGGED_MAX);
    }
  }
  pthread_mutex_unlock(&logged_lock);
  return first;
}

void tk_dispatch_log(tk_context *ctx, const tk_problem *p, const tk_call_options *opts,
                     const tk_choice *c, const char *why) {
  if (tk_log_level() < TK_LOG_DEBUG) return;
  char key[TK_TUNED_KEY_MAX], config[256], msg[4096];
  tk_problem_key(p, key, sizeof key);
  const char *impls = opts && opts->impl ? opts->impl : "auto";
  const char *forced = opts && opts->config ? opts->config : "";
  const int slot = tk_problem_device_slot(ctx, p, NULL, 0);
  uint64_t h = fnv(fnv(fnv(1469598103934665603ull ^ (uint64_t)slot, key), impls), forced);
  if (!first_time(h)) return;
  tk_text t = tk_text_init(msg, sizeof msg);
  tk_text_printf(&t, "dispatch %s (impl=%s%s%s)", key, impls, forced[0] ? " config=" : "", forced);
  int n;
  const tk_impl *const *list = tk_registry(p->op, &n);
  for (int i = 0; i < n; i++) {
    char reason[256] = "";
    int runs = tk_impl_can_run(ctx, list[i], p, reason, sizeof reason);
    tk_text_printf(&t, "\ntokamax:   %-15s %s%s", list[i]->name, runs ? "runs" : "skipped: ",
                   runs ? "" : reason);
  }
  tk_config_format(c->impl->space, &c->cfg, config, sizeof config);
  tk_text_printf(&t, "\ntokamax:   chose %s %s (%s: %s)", c->impl->name, config,
                 tk_choice_source_name(c->source), why);
  tk_log(TK_LOG_DEBUG, "%s", msg);
}
