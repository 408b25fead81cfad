/* tk_config_sweep.h: running one case under many configs of the `cpu`
 * implementation, checking each against the reference (tests only). */
#ifndef TK_TEST_CONFIG_SWEEP_H
#define TK_TEST_CONFIG_SWEEP_H

#include <stdint.h>
#include <string.h>

#include "regress/case.h"
#include "tests/tk_test.h"

/* Writes config number i of the test's list as text. */
typedef void (*tk_config_text_fn)(int i, char *buf, size_t len);

/* Builds spec (seed), then runs it with impl "cpu" under configs 0..n-1,
 * skipping the ones the space calls invalid: each must run and pass
 * tk_case_check; with same_bits, each must also give the bits of the first.
 * Returns how many configs ran (-1 if the case could not be built). */
static inline int tk_test_sweep_configs(tk_context *ctx, const char *spec, uint64_t seed, int n,
                                        tk_config_text_fn config_text, int same_bits) {
  char err[256];
  tk_case *c = NULL;
  tk_status st = tk_case_create(spec, seed, &c, err, sizeof err);
  CHECK(st == TK_OK, "%s: %s", spec, err);
  if (st != TK_OK) return -1;
  CHECK_OK(tk_case_prepare_expected(c, ctx));
  int ran = 0;
  for (int i = 0; i < n; i++) {
    char cfg[128];
    config_text(i, cfg, sizeof cfg);
    tk_call_options o = {"cpu", cfg};
    st = tk_case_run(c, ctx, &o);
    if (st == TK_ERR_INVALID_ARGUMENT && strstr(tk_last_error(), "config: invalid")) continue;
    CHECK(st == TK_OK, "%s | %s: %s", spec, cfg, tk_last_error());
    if (st != TK_OK) continue;
    tk_case_report r;
    CHECK(tk_case_check(c, &r), "%s | %s: %s", spec, cfg, r.why);
    if (same_bits && ran == 0)
      tk_case_snapshot(c);
    else if (same_bits)
      CHECK(tk_case_same_as_snapshot(c), "%s | %s: bits differ from the first config", spec, cfg);
    ran++;
  }
  tk_case_destroy(c);
  return ran;
}

#endif
