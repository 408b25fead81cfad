/* registry.h: the ordered implementation list of each op, and what an
 * implementation record is. Implementations (impls/<backend>/) export plain
 * functions; impls/registry_<op>.c wraps them into these records. */
#ifndef TK_IMPLS_REGISTRY_H
#define TK_IMPLS_REGISTRY_H

#include <stddef.h>

#include "../kernels/runtime/context.h"
#include "../kernels/runtime/problem.h"

#define TK_MAX_PARAMS 8

typedef enum { TK_BACKEND_CPU = 0, TK_BACKEND_CUDA = 1 } tk_backend;

/* One named integer parameter and its candidate values. */
typedef struct {
  const char *name;
  const int *values;
  int n_values;
} tk_param_def;

/* Values of a config, in the order of its space's params. */
typedef struct {
  int n;
  int v[TK_MAX_PARAMS];
} tk_config;

/* A config space: the params and a validity predicate (NULL = every
 * combination is valid). valid() writes why a config is not valid. */
typedef struct {
  int n_params;
  const tk_param_def *params;
  int (*valid)(const tk_problem *p, const tk_config *c, char *why, size_t why_len);
} tk_config_space;

typedef struct tk_impl {
  const char *name;              /* "reference", "cpu", "cuda_tiled", ... */
  tk_backend backend;
  const tk_config_space *space;  /* never NULL; n_params may be 0 */
  /* 1 if it can run p on dev; else 0 with the reason in why. Called only
   * for problems on the impl's backend. */
  int (*supports)(const tk_problem *p, const tk_device_info *dev, char *why, size_t why_len);
  /* A good config for p (must be valid in space). */
  void (*heuristic)(const tk_problem *p, const tk_device_info *dev, tk_config *c);
  /* Scratch bytes run() needs (host memory for CPU, device memory for CUDA). */
  size_t (*workspace)(const tk_problem *p, const tk_config *c);
  tk_status (*run)(const tk_problem *p, const tk_config *c, const tk_exec *ex, void *workspace);
} tk_impl;

/* The op's implementations, fastest-first, reference last; *count set. */
const tk_impl *const *tk_registry(tk_op op, int *count);

/* The op's implementation called name, or NULL. */
const tk_impl *tk_registry_find(tk_op op, const char *name);

/* Value of param `name` in c under space s, or fallback if s has none. */
int tk_config_get(const tk_config_space *s, const tk_config *c, const char *name, int fallback);

#endif
