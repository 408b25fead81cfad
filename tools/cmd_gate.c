/* cmd_gate.c: `tokamax-tune gate`: the numerics and performance regression
 * gate over a suite (regress/gate.h, docs/gate.md). Exit 0 pass, 1 fail. */
#include <stdio.h>
#include <stdlib.h>

#include "tools/cli_args.h"
#include "tools/commands.h"
#include "regress/gate.h"

int tk_cmd_gate(int argc, char **argv) {
  tk_gate_options g = tk_gate_defaults();
  const char *band = NULL, *alpha = NULL;
  int baseline_run = -1, numerics = 0;
  g.suite = "ci";
  const tk_cli_opt opts[] = {
      {"suite", TK_OPT_STRING, "NAME|PATH", "suite (default ci; nightly for everything)", &g.suite, 0},
      {"numerics", TK_OPT_FLAG, NULL, "numerics only: no timing, no baseline (every push)", &numerics, 0},
      {"db", TK_OPT_STRING, "PATH", "history database (default: the tuning cache)", &g.db, 0},
      {"impl", TK_OPT_STRING, "A,B", "only these implementations", &g.impls, 0},
      {"reps", TK_OPT_INT, "N", "interleaved timing repetitions (default 11, at least 9)", &g.reps, 1},
      {"band", TK_OPT_STRING, "F", "noise band: ratios within 1 +- F never fail (default 0.2)", &band, 0},
      {"alpha", TK_OPT_STRING, "P", "significance of the U test (default 0.01)", &alpha, 0},
      {"set-baseline", TK_OPT_FLAG, NULL, "make this run the suite's baseline", &g.set_baseline, 0},
      {"baseline-run", TK_OPT_INT, "ID", "compare with this run instead of the baseline", &baseline_run, 0},
      {"git-rev", TK_OPT_STRING, "REV", "revision to record (default: git rev-parse)", &g.git_rev, 0},
      {"json", TK_OPT_STRING, "FILE", "also write the results as JSON", &g.json_path, 0},
      {"report", TK_OPT_STRING, "DIR", "also write DIR/report.md with SVG history charts", &g.report_dir, 0},
      {"threads", TK_OPT_INT, "N", "worker threads (default 0: one per physical core)", &g.threads, 0},
      {"quiet", TK_OPT_FLAG, NULL, "no progress output", &g.quiet, 0},
  };
  const tk_cli_cmd cmd = {"gate", "numerics and performance regression gate over a suite", opts,
                          (int)(sizeof opts / sizeof opts[0]), NULL, 0, 0, NULL, NULL};
  int rc = tk_cli_parse(&cmd, argc, argv);
  if (rc >= 0) return rc;
  g.numerics_only = numerics;
  g.baseline_run = baseline_run;
  char *end;
  if (band && (g.band = strtod(band, &end), *end || !(g.band > 0 && g.band < 10))) {
    tk_cli_error("gate: --band '%s' must be a number in (0, 10)", band);
    return 2;
  }
  if (alpha && (g.alpha = strtod(alpha, &end), *end || !(g.alpha > 0 && g.alpha < 1))) {
    tk_cli_error("gate: --alpha '%s' must be a number in (0, 1)", alpha);
    return 2;
  }
  return tk_gate_run(&g);
}
