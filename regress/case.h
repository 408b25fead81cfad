/* case.h: one problem of one op built from a text spec, with its own
 * buffers of random inputs (never zeros), a poisoned output with guard
 * bytes after it, and checks of an implementation's result against the
 * reference. Used by the tests, tokamax-tune check and the gate.
 *
 * Spec: the op name then key=value words, e.g.
 *   attention dtype=bf16 B=2 Tq=128 Tk=256 Hq=8 Hkv=2 D=64 causal=1
 * Keys per op (every key has a default; see docs/suites.md):
 *   attention        dtype B Tq Tk Hq Hkv D Dv causal wl wr softcap scale lse
 *                    varlen(0/1: random q_lens/kv_lens, one sequence empty) strided(0/1)
 *   grouped_gemm     dtype out(f32|same) layout(nn|nt|tn) M K N G
 *                    sizes(balanced|random|zipf|single) empty(groups forced empty)
 *                    unused(rows past the last group) strided(0/1)
 *   moe_permute      dtype T H k E align skew(0/1) empty(experts given no token)
 *   moe_unpermute    dtype T H k E align weights(0/1)
 *   paged_attention  dtype Hq Hkv D Dv page decode(sequences) prefill(sequences)
 *                    qlen(queries per prefill sequence) kvmax(longest kv) window softcap
 */
#ifndef TK_REGRESS_CASE_H
#define TK_REGRESS_CASE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/tensor.h"
#include "tokamax.h"

typedef struct tk_case tk_case;

/* What tk_case_check found. */
typedef struct {
  double max_abs_err;      /* over every checked output element */
  double max_rel_err;      /* |a-e| / max(|e|, 1) */
  double tol;              /* the loose bound used for this dtype */
  int pass;                /* every check below held */
  char why[256];           /* the first failed check, "" when pass */
} tk_case_report;

/* Builds a case from spec with inputs drawn from seed. On a bad spec returns
 * TK_ERR_INVALID_ARGUMENT with the reason in err (word and what is wrong). */
tk_status tk_case_create(const char *spec, uint64_t seed, tk_case **out, char *err, size_t err_len);
void tk_case_destroy(tk_case *c);

tk_op tk_case_op(const tk_case *c);
const char *tk_case_spec(const tk_case *c);

/* The op's args struct pointing at the case's inputs and its output
 * buffers (pass to tk_<op> or tk_plan_*). */
const void *tk_case_args(tk_case *c);

/* Computes the expected outputs with impl "reference" (once; later calls
 * reuse them). */
tk_status tk_case_prepare_expected(tk_case *c, tk_context *ctx);

/* Likewise with another host implementation as the oracle (e.g. "cpu",
 * far faster than the reference on large shapes; its own error then adds
 * to that of the implementations checked against it). */
tk_status tk_case_prepare_expected_by(tk_case *c, tk_context *ctx, const char *oracle);

/* Poisons the outputs (NaN patterns), then runs the op with opts. */
tk_status tk_case_run(tk_case *c, tk_context *ctx, const tk_call_options *opts);

/* Checks the last run against the expected outputs: per-dtype tolerance,
 * no NaN/Inf, every element that must be written was written and nothing
 * else was (rows past q_lens stay poisoned), guard bytes intact, inputs
 * unchanged. */
int tk_case_check(tk_case *c, tk_case_report *r);

/* 1 if the outputs of the last run equal, bit for bit, those of the run
 * before it (call tk_case_snapshot after the first run). */
void tk_case_snapshot(tk_case *c);
int tk_case_same_as_snapshot(const tk_case *c);

/* Useful work of the problem: floating-point operations (2 per multiply-add)
 * and bytes moved at least once (inputs read + outputs written), as the op
 * table counts them (kernels/op_desc.h). */
double tk_case_flops(const tk_case *c);
double tk_case_bytes(const tk_case *c);

/* 1 when bandwidth bounds the case's problem (judged by bytes/s). */
int tk_case_memory_bound(const tk_case *c);

/* The data dtype of its main input (what decides its compute ceiling). */
tk_dtype tk_case_dtype(const tk_case *c);

/* A suite: spec lines of a file; '#' starts a comment, blank lines skip,
 * and a line "include NAME" takes in every spec of suite NAME (a file
 * already taken in, by an earlier include or up a cycle, is skipped). */
#define TK_SUITE_MAX_CASES 65536 /* the most specs a suite may expand to */
typedef struct {
  int count;
  char **specs;
  int *line_numbers;
  char *path;
} tk_suite;

/* Loads a suite by path, or by name from regress/suites/<name>.suite (under
 * $TOKAMAX_SUITE_DIR, else the source tree). Checks every line parses; on a
 * bad line (a bad spec, a NUL byte, over 4096 bytes, includes nested over 8
 * deep, more than TK_SUITE_MAX_CASES specs in all) returns
 * TK_ERR_INVALID_ARGUMENT with "file:line: reason" in err. */
tk_status tk_suite_load(const char *name_or_path, tk_suite *s, char *err, size_t err_len);
void tk_suite_free(tk_suite *s);

/* A case's tensors mirrored in CUDA device memory (regress/case_device.c),
 * so CUDA implementations run under the same checks as host ones. */
typedef struct tk_case_device tk_case_device;

/* Copies every tensor of c (outputs with their guard bytes) to CUDA device
 * `device`. TK_ERR_UNSUPPORTED in a build without CUDA; the reason in err
 * on any failure. c must outlive the mirror. */
tk_status tk_case_device_create(tk_case *c, int device, tk_case_device **out, char *err,
                                size_t err_len);
void tk_case_device_destroy(tk_case_device *d);

/* The op's args struct over the device copies. */
const void *tk_case_device_args(const tk_case_device *d);

/* Poisons the device outputs (guards reset), runs the op on the device
 * tensors with opts, waits for the device, and copies every tensor back
 * into the case's host buffers, so tk_case_check and tk_case_snapshot judge
 * the device run (inputs included). A kernel fault is TK_ERR_DEVICE. */
tk_status tk_case_run_device(tk_case_device *d, tk_context *ctx, const tk_call_options *opts);

#endif
