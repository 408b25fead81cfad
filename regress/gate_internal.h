/* gate_internal.h: what the gate's files share. */
#ifndef TK_REGRESS_GATE_INTERNAL_H
#define TK_REGRESS_GATE_INTERNAL_H

#include "cache/cache.h"
#include "regress/case.h"
#include "regress/gate.h"

typedef enum {
  TK_GATE_PASS,
  TK_GATE_NEW,          /* no baseline result to compare with (timed, numerics fine) */
  TK_GATE_SKIP,         /* the impl does not run this case here */
  TK_GATE_WRONG,        /* numerics failed against the reference */
  TK_GATE_ERR_GREW,     /* error grew beyond the baseline's */
  TK_GATE_SLOWER,
  TK_GATE_FASTER        /* faster than the band allows: refresh the baseline */
} tk_gate_verdict;

/* One implementation on one case. */
typedef struct {
  char spec[512], impl[64], config[256];
  tk_case *c;               /* owned by the case list, not the item */
  tk_plan *plan;
  int memory_bound;         /* normalise by the copy anchor, else the FMA anchor */
  int numerics_ok;
  char reason[512];
  double max_err, tol;
  int batch;                /* calls per timed sample */
  double *samples;          /* per-call ns, n_samples long */
  int n_samples;
  double median_ns, norm;   /* norm: median / anchor median */
  /* comparison with the baseline */
  int have_base;
  double base_norm, ratio, p_slower, p_faster, band, base_err;
  tk_gate_verdict verdict;
  char why[256];
} tk_gate_item;

typedef struct {
  tk_context *ctx;
  tk_gate_item *items;
  int n;
  double anchor_copy_ns, anchor_fma_ns;   /* medians over the repetitions */
  double *copy_samples, *fma_samples;
  int n_anchor;
  int64_t run_id, base_run;
  char base_fingerprint[512], fingerprint[512];
  char git_rev[64];
} tk_gate_run_data;

/* Times every item with interleaved repetitions and the anchors. */
int tk_gate_measure(tk_gate_run_data *g, const tk_gate_options *o);

/* Loads the baseline run and sets every item's verdict; prints notes to
 * stderr. Returns 0, or 1 with the message printed when no usable baseline
 * exists in performance mode. */
int tk_gate_compare(tk_gate_run_data *g, tk_cache *cache, const tk_gate_options *o,
                    const char *suite);

/* Writes the table (stdout), JSON and markdown + SVG report as asked. */
int tk_gate_report(const tk_gate_run_data *g, tk_cache *cache, const tk_gate_options *o,
                   const char *suite);

/* "pass", "new", "skip", "WRONG", "ERROR GREW", "SLOWER", "FASTER". */
const char *tk_gate_verdict_name(tk_gate_verdict v);

/* The samples of an item normalised by its anchor, into out (n_samples). */
void tk_gate_normalised(const tk_gate_item *it, const tk_gate_run_data *g, double *out);

#endif
