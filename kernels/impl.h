/* impl.h: what an implementation of an op is, as the registry lists it and
 * the chooser, tuner and executor use it: a record of plain functions over
 * a validated problem, and its config space.
 *
 * A config is a plain C struct of int fields, one per parameter. Its space
 * names each field with its candidate values and offsetof (TK_PARAM), so
 * one generic routine (autotune/config.h) parses, validates, prints,
 * enumerates and stores every implementation's configs; an implementation
 * reads and writes only its own struct. Records are defined with
 * designated initialisers in impls/<backend>/<op>_record.c. */
#ifndef TK_KERNELS_IMPL_H
#define TK_KERNELS_IMPL_H

#include <stddef.h>

#include "kernels/problem.h"
#include "runtime/context.h"

/* The most parameters (int fields) a config struct has. */
#define TK_MAX_PARAMS 8

typedef enum { TK_BACKEND_CPU = 0, TK_BACKEND_CUDA = 1 } tk_backend;

/* One named int field of a config struct and its candidate values. */
typedef struct {
  const char *name;
  const int *values;
  int n_values;
  size_t offset; /* offsetof(config struct, field) */
} tk_param_def;

/* A parameter of config struct `type`, field `field`, with the candidate
 * values given after it: TK_PARAM(tk_cpu_attn_config, block_q, 16, 64, 128). */
#define TK_PARAM(type, field, ...)                                                  \
  {#field, (const int[]){__VA_ARGS__}, (int)(sizeof((int[]){__VA_ARGS__}) / sizeof(int)), \
   offsetof(type, field)}

/* A config space: the params of a config struct and a validity predicate
 * (NULL = every combination of candidates is valid). valid() gets the
 * struct and writes why it is not valid. */
typedef struct {
  int n_params;
  const tk_param_def *params;
  size_t size; /* sizeof the config struct */
  int (*valid)(const tk_problem *p, const void *config, char *why, size_t why_len);
} tk_config_space;

/* The initialiser of the space of config struct `type` with params[] (a
 * static array of TK_PARAM of `type`) and predicate valid_fn, checked at
 * compile time to name every field, at file scope:
 *   static const tk_config_space space = TK_CONFIG_SPACE(my_config, params, valid);
 * (the expansion ends the declaration and adds the _Static_assert). */
#define TK_CONFIG_SPACE(type, params, valid_fn)                                    \
  {(int)(sizeof params / sizeof params[0]), params, sizeof(type), valid_fn};       \
  _Static_assert(sizeof(type) == sizeof params / sizeof params[0] * sizeof(int) && \
                     sizeof params / sizeof params[0] <= TK_MAX_PARAMS,            \
                 #type ": at most TK_MAX_PARAMS int fields, each one a param")

typedef struct tk_impl {
  const char *name;             /* "reference", "cpu", "cuda_tiled", ... */
  tk_backend backend;
  const tk_config_space *space; /* never NULL */
  /* 1 if it can run p on dev; else 0 with the reason in why. Called only
   * for problems on the impl's backend and device. */
  int (*supports)(const tk_problem *p, const tk_device_info *dev, char *why, size_t why_len);
  /* Writes a good config for p (valid in space) into config (the space's
   * struct, zeroed). */
  void (*heuristic)(const tk_problem *p, const tk_device_info *dev, void *config);
  /* Scratch bytes run() needs (host memory for CPU, device memory for
   * CUDA); NULL: none. */
  size_t (*workspace)(const tk_problem *p, const void *config);
  tk_status (*run)(const tk_problem *p, const void *config, const tk_exec *ex, void *workspace);
} tk_impl;

#endif
