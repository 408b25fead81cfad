/* case_device.c: a case's tensors mirrored in CUDA device memory: the
 * copies, the op's args over them, and a run that poisons the device
 * outputs, waits, and brings every buffer back for the host-side checks. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/call.h"
#include "kernels/op_desc.h"
#include "regress/case_internal.h"
#if TK_HAVE_CUDA
#include "runtime/cuda/cuda_memory.h"
#endif

struct tk_case_device {
  tk_case *c;
  int device;
  void *buf[TK_CASE_MAX_TENSORS];   /* device copy of c->t[i] (outputs: guard included) */
  DLTensor dl[TK_CASE_MAX_TENSORS]; /* c->t[i].dl over buf[i] */
  /* The case's args struct (c->args) with its tensors retargeted to dl. */
  _Alignas(max_align_t) unsigned char args[sizeof ((tk_case *)0)->args];
};

const void *tk_case_device_args(const tk_case_device *d) { return d->args; }

#if TK_HAVE_CUDA

/* Device bytes of tensor t: its elements, and the guard after an output. */
static size_t device_bytes(const tk_case_tensor *t) {
  return t->data_bytes + (t->is_output ? TK_CASE_GUARD : 0);
}

/* Points every tensor field of d->args (a copy of the case's args) at the
 * device DLTensor of the same case tensor. */
static void retarget_args(tk_case_device *d) {
  memcpy(d->args, &d->c->args, sizeof d->args);
  const tk_op_desc *desc = tk_op_desc_of(d->c->p.op);
  for (int k = 0; k < desc->n_tensors; k++) {
    const size_t f = desc->tensors[k].args_offset;
    const DLTensor *host;
    memcpy(&host, d->args + f, sizeof host);
    for (int i = 0; host && i < d->c->n_tensors; i++)
      if (host == &d->c->t[i].dl) {
        const DLTensor *dev = &d->dl[i];
        memcpy(d->args + f, &dev, sizeof dev);
        break;
      }
  }
}

void tk_case_device_destroy(tk_case_device *d) {
  if (!d) return;
  for (int i = 0; i < TK_CASE_MAX_TENSORS; i++) tk_cuda_free(d->device, d->buf[i]);
  free(d);
}

tk_status tk_case_device_create(tk_case *c, int device, tk_case_device **out, char *err,
                                size_t err_len) {
  tk_case_device *d = calloc(1, sizeof *d);
  if (!d) return tk_case_err(TK_ERR_OUT_OF_MEMORY, err, err_len, "out of memory");
  d->c = c;
  d->device = device;
  for (int i = 0; i < c->n_tensors; i++) {
    const tk_case_tensor *t = &c->t[i];
    tk_status s = tk_cuda_malloc(device, device_bytes(t), &d->buf[i]);
    if (s == TK_OK && !t->is_output) s = tk_cuda_copy_to_device(d->buf[i], t->buf, t->data_bytes);
    if (s != TK_OK) {
      tk_case_device_destroy(d);
      return tk_case_err(s, err, err_len, "%s on device %d: %s", t->name, device, tk_last_error());
    }
    d->dl[i] = t->dl;
    d->dl[i].data = d->buf[i];
    d->dl[i].device.device_type = kDLCUDA;
    d->dl[i].device.device_id = device;
  }
  retarget_args(d);
  *out = d;
  return TK_OK;
}

/* Uploads output t's poisoned image: the NaN pattern on every element
 * (stride gaps too) and the guard bytes after them. */
static tk_status upload_poison(const tk_case_tensor *t, void *dst) {
  size_t bytes = device_bytes(t), es = (size_t)tk_dtype_size(t->dtype);
  unsigned char *image = malloc(bytes), pattern[4];
  if (!image) return TK_ERR_OUT_OF_MEMORY;
  tk_case_poison_element(t->dtype, pattern);
  for (size_t e = 0; e < t->data_bytes / es; e++) memcpy(image + e * es, pattern, es);
  memset(image + t->data_bytes, TK_CASE_GUARD_BYTE, TK_CASE_GUARD);
  tk_status s = tk_cuda_copy_to_device(dst, image, bytes);
  free(image);
  return s;
}

tk_status tk_case_run_device(tk_case_device *d, tk_context *ctx, const tk_call_options *opts) {
  tk_case *c = d->c;
  for (int i = 0; i < c->n_tensors; i++)
    if (c->t[i].is_output) {
      tk_status s = upload_poison(&c->t[i], d->buf[i]);
      if (s != TK_OK) return s;
    }
  tk_status st = tk_api_call(d->c->p.op, ctx, d->args, opts);
  char msg[512] = "";
  if (st != TK_OK) snprintf(msg, sizeof msg, "%s", tk_last_error());
  tk_status sync = tk_cuda_synchronize(d->device);
  if (st == TK_OK) st = sync;
  for (int i = 0; i < c->n_tensors; i++) {
    tk_case_tensor *t = &c->t[i];
    tk_status s = tk_cuda_copy_to_host(t->buf, d->buf[i], t->is_output ? device_bytes(t) : t->data_bytes);
    if (st == TK_OK) st = s;
  }
  if (msg[0]) tk_fail(st, "%s", msg); /* the run's own message, not a later copy's */
  return st;
}

#else /* built without CUDA */

void tk_case_device_destroy(tk_case_device *d) { free(d); }

tk_status tk_case_device_create(tk_case *c, int device, tk_case_device **out, char *err,
                                size_t err_len) {
  (void)c;
  (void)device;
  *out = NULL;
  return tk_case_err(TK_ERR_UNSUPPORTED, err, err_len, "this library was built without CUDA");
}

tk_status tk_case_run_device(tk_case_device *d, tk_context *ctx, const tk_call_options *opts) {
  (void)d;
  (void)ctx;
  (void)opts;
  return tk_fail(TK_ERR_UNSUPPORTED, "this library was built without CUDA");
}

#endif
