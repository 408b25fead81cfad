"""The ops on NumPy arrays and DLPack tensors (libkernels' tk_<op> calls).

Every tensor argument is a NumPy array (``ml_dtypes.bfloat16`` for bf16) or
any object with ``__dlpack__`` (JAX arrays, PyTorch or CuPy tensors): the
library reads and writes its memory in place, nothing is copied. Outputs
not passed are allocated as C-contiguous NumPy arrays (so CUDA tensors need
``out=``). Keyword arguments mirror the C structs' fields (include/tokamax.h).

Every op also takes:
  impl: an implementation name (``"cpu"``, ``"reference"``, ...) or a
    comma-separated list tried in order; None chooses (``tk_call_options``).
  config: ``"name=value,..."`` for the implementation that runs; None
    chooses.
  context: the :class:`~tokamax_c.Context` to run in (None: the default),
    or a :class:`~tokamax_c.Plan` of this op to run instead.

A failed call raises :class:`~tokamax_c.TokamaxError` (an
``InvalidArgumentError`` for bad input) with the library's message, and
writes no output.
"""

from __future__ import annotations

from typing import Any, Optional, Tuple

import numpy as np

from . import _C
from ._context import default_context
from ._errors import InvalidArgumentError

__all__ = [
    "attention",
    "attention_backward",
    "grouped_gemm",
    "moe_permute",
    "moe_unpermute",
    "moe_unpermute_backward",
    "paged_attention",
]

Tensor = Any  # a NumPy array or an object with __dlpack__

_LAYOUTS = {"nn": 0, "nt": 1, "tn": 2}


def attention(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    *,
    causal: bool = False,
    window_left: int = -1,
    window_right: int = -1,
    softcap: float = 0.0,
    scale: Optional[float] = None,
    q_lens: Optional[Tensor] = None,
    kv_lens: Optional[Tensor] = None,
    return_lse: bool = False,
    out: Optional[Tensor] = None,
    lse: Optional[Tensor] = None,
    impl: Optional[str] = None,
    config: Optional[str] = None,
    context: Any = None,
) -> Any:
    """Attention (``tk_attention``): softmax(scale * q k^T, masked) v.

    Args:
      q, k, v: ``[B,Tq,Hq,D]``, ``[B,Tk,Hkv,D]``, ``[B,Tk,Hkv,Dv]``, one
        dtype (float32, float16 or bfloat16). Hq must be a multiple of Hkv
        (GQA/MQA: query head h uses KV head h // (Hq/Hkv)).
      causal: query i sees key j <= i + (Tk_b - Tq_b): aligned bottom-right,
        unlike ``jax.nn.dot_product_attention`` (top-left) when Tq != Tk.
      window_left, window_right: a sliding window around each query's
        diagonal; -1 is unbounded.
      softcap: 0 is off; else logits = softcap * tanh(logits / softcap).
      scale: None is 1/sqrt(D).
      q_lens, kv_lens: optional int32 ``[B]`` valid lengths (varlen). Rows
        past q_lens are not written; keys past kv_lens are not seen.
      return_lse: also return the float32 ``[B,Hq,Tq]`` log-sum-exp of each
        row (implied when ``lse`` is given).
      out, lse: outputs to write into instead of allocating.

    Returns:
      ``out`` (``[B,Tq,Hq,Dv]``, dtype of q), or ``(out, lse)``. A row that
      sees no key gets output 0 and lse -inf.
    """
    return _C.attention(
        context or default_context(), impl, config, q, k, v, out, lse, q_lens, kv_lens,
        0.0 if scale is None else scale, causal, window_left, window_right, softcap, return_lse,
    )


def attention_backward(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    out: Tensor,
    dout: Tensor,
    lse: Tensor,
    *,
    causal: bool = False,
    window_left: int = -1,
    window_right: int = -1,
    softcap: float = 0.0,
    scale: Optional[float] = None,
    q_lens: Optional[Tensor] = None,
    kv_lens: Optional[Tensor] = None,
    dq: Optional[Tensor] = None,
    dk: Optional[Tensor] = None,
    dv: Optional[Tensor] = None,
    impl: Optional[str] = None,
    config: Optional[str] = None,
    context: Any = None,
) -> Tuple[Any, Any, Any]:
    """The gradient of :func:`attention` (``tk_attention_backward``).

    Args:
      q, k, v, out: the forward call's inputs and output; dout: the
        gradient of out (``[B,Tq,Hq,Dv]``); lse: the forward's float32
        ``[B,Hq,Tq]`` log-sum-exp (``return_lse=True``). Every forward
        keyword must be the forward call's.
      dq, dk, dv: outputs to write into (``[B,Tq,Hq,D]``, ``[B,Tk,Hkv,D]``,
        ``[B,Tk,Hkv,Dv]``); dk and dv are summed over the query heads of
        each KV head.

    Returns:
      ``(dq, dk, dv)``.
    """
    return _C.attention_backward(
        context or default_context(), impl, config, q, k, v, out, dout, lse, dq, dk, dv,
        q_lens, kv_lens, 0.0 if scale is None else scale, causal, window_left, window_right,
        softcap,
    )


def _out_f32(op: str, out_dtype: Any) -> bool:
    """Whether out_dtype asks for float32 output (None: the input's dtype)."""
    if out_dtype is None:
        return False
    if np.dtype(out_dtype) == np.float32:
        return True
    raise InvalidArgumentError(
        "TK_ERR_INVALID_ARGUMENT",
        f"{op}: out_dtype is {np.dtype(out_dtype)}, expected None (the input's dtype) or float32",
    )


def grouped_gemm(
    lhs: Tensor,
    rhs: Tensor,
    group_sizes: Tensor,
    *,
    layout: str = "nn",
    out_dtype: Any = None,
    out: Optional[Tensor] = None,
    impl: Optional[str] = None,
    config: Optional[str] = None,
    context: Any = None,
) -> Any:
    """Grouped GEMM / ragged dot (``tk_grouped_gemm``).

    Groups are consecutive row ranges of lhs, of sizes ``group_sizes``
    (int32 ``[G]``). Layouts:

    * ``"nn"``: lhs ``[M,K]``, rhs ``[G,K,N]`` -> ``[M,N]``; rows of group g
      use rhs[g] (``jax.lax.ragged_dot``).
    * ``"nt"``: lhs ``[M,K]``, rhs ``[G,N,K]`` -> ``[M,N]`` (the gradient
      with respect to lhs).
    * ``"tn"``: lhs ``[M,K]``, rhs ``[M,N]`` -> ``[G,K,N]`` = lhs_g^T rhs_g
      (the gradient with respect to rhs).

    Rows past sum(group_sizes) are set to zero. ``out_dtype``: None is
    lhs's dtype; float32 accumulates bf16/f16 inputs into float32 output.

    Returns:
      ``out``.
    """
    try:
        code = _LAYOUTS[layout]
    except (KeyError, TypeError):
        raise InvalidArgumentError(
            "TK_ERR_INVALID_ARGUMENT",
            f"grouped_gemm: layout is {layout!r}, expected 'nn', 'nt' or 'tn'",
        ) from None
    return _C.grouped_gemm(
        context or default_context(), impl, config, lhs, rhs, group_sizes, out, code,
        _out_f32("grouped_gemm", out_dtype),
    )


def moe_permute(
    tokens: Tensor,
    expert_ids: Tensor,
    num_experts: int,
    *,
    align: int = 1,
    num_rows: Optional[int] = None,
    permuted: Optional[Tensor] = None,
    group_sizes: Optional[Tensor] = None,
    dest: Optional[Tensor] = None,
    impl: Optional[str] = None,
    config: Optional[str] = None,
    context: Any = None,
) -> Tuple[Any, Any, Any]:
    """MoE token permute (``tk_moe_permute``): rows grouped by expert.

    Args:
      tokens: ``[T,H]``; expert_ids: int32 ``[T,k]``, each in [0, num_experts).
      align: each expert's block is padded to a multiple of it (1 = none).
      num_rows: rows of ``permuted`` to allocate; None is the most permute
        can need, T*k + E*(align-1) (``tk_moe_permute_max_rows``).

    Returns:
      ``(permuted, group_sizes, dest)``: permuted ``[R,H]`` (rows grouped by
      expert, stable in token order within an expert; padding and unused
      rows zero), group_sizes int32 ``[E]`` (rows per expert, padding
      included; feeds :func:`grouped_gemm` directly), dest int32 ``[T,k]``
      (the row of permuted holding token t's slot s).
    """
    return _C.moe_permute(
        context or default_context(), impl, config, tokens, expert_ids, num_experts, align,
        -1 if num_rows is None else num_rows, permuted, group_sizes, dest,
    )


def moe_unpermute(
    rows: Tensor,
    dest: Tensor,
    weights: Optional[Tensor] = None,
    *,
    out: Optional[Tensor] = None,
    impl: Optional[str] = None,
    config: Optional[str] = None,
    context: Any = None,
) -> Any:
    """MoE unpermute (``tk_moe_unpermute``): out[t] = sum over slots s of
    weights[t,s] * rows[dest[t,s]].

    Args:
      rows: ``[R,H]`` expert outputs in permuted order; dest: int32
        ``[T,k]`` from :func:`moe_permute`; weights: optional float32
        ``[T,k]`` router weights (None = 1).

    Returns:
      ``out``, ``[T,H]`` in rows' dtype.
    """
    return _C.moe_unpermute(context or default_context(), impl, config, rows, dest, weights, out)


def moe_unpermute_backward(
    dout: Tensor,
    rows: Tensor,
    dest: Tensor,
    weights: Optional[Tensor] = None,
    *,
    d_rows: Optional[Tensor] = None,
    d_weights: Optional[Tensor] = None,
    impl: Optional[str] = None,
    config: Optional[str] = None,
    context: Any = None,
) -> Tuple[Any, Any]:
    """The gradient of :func:`moe_unpermute` (``tk_moe_unpermute_backward``).

    Args:
      dout: ``[T,H]``, the gradient of unpermute's out; rows, dest, weights:
        the forward call's.

    Returns:
      ``(d_rows, d_weights)``: d_rows ``[R,H]`` (weights[t,s] * dout[t] at
      row dest[t,s], zero where no slot points), d_weights float32 ``[T,k]``
      (dot(dout[t], rows[dest[t,s]])) when weights (or d_weights) is given,
      else None.
    """
    return _C.moe_unpermute_backward(
        context or default_context(), impl, config, dout, rows, dest, weights, d_rows, d_weights,
    )


def paged_attention(
    q: Tensor,
    k_cache: Tensor,
    v_cache: Tensor,
    block_table: Tensor,
    kv_lens: Tensor,
    *,
    cu_q_lens: Optional[Tensor] = None,
    scale: Optional[float] = None,
    softcap: float = 0.0,
    window_left: int = -1,
    k_scale: Optional[Tensor] = None,
    v_scale: Optional[Tensor] = None,
    out: Optional[Tensor] = None,
    impl: Optional[str] = None,
    config: Optional[str] = None,
    context: Any = None,
) -> Any:
    """Paged attention over a KV cache (``tk_paged_attention``): decode,
    chunked prefill, or both in one call.

    Args:
      q: ``[Tq_total,Hq,D]``, the queries of S sequences packed.
      k_cache, v_cache: ``[P,page_size,Hkv,D]`` and ``[P,page_size,Hkv,Dv]``.
      block_table: int32 ``[S,max_pages]``, page ids of each sequence.
      kv_lens: int32 ``[S]``, tokens in each sequence's cache.
      cu_q_lens: int32 ``[S+1]`` query offsets; None is decode (one query
        per sequence). A sequence's queries are its last q_len positions:
        causal, bottom-right aligned against kv_len.
      k_scale, v_scale: float32 ``[P,page_size,Hkv]`` (one per token and
        KV head) or ``[1]`` (one per tensor), required when the caches are
        8-bit (int8, or ``ml_dtypes.float8_e4m3fn``; both caches the same
        dtype) and None otherwise: a cached value x stands for x * scale.

    Returns:
      ``out``, ``[Tq_total,Hq,Dv]`` in q's dtype.
    """
    return _C.paged_attention(
        context or default_context(), impl, config, q, k_cache, v_cache, block_table, kv_lens,
        cu_q_lens, out, 0.0 if scale is None else scale, softcap, window_left, k_scale, v_scale,
    )


#: The op functions by library op name.
OPS = {
    "attention": attention,
    "attention_backward": attention_backward,
    "grouped_gemm": grouped_gemm,
    "moe_permute": moe_permute,
    "moe_unpermute": moe_unpermute,
    "moe_unpermute_backward": moe_unpermute_backward,
    "paged_attention": paged_attention,
}
