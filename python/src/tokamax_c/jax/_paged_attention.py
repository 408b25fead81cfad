"""Paged attention inside jax.jit (XLA FFI); inference only (no gradient)."""

from __future__ import annotations

from typing import Optional

import jax

from . import _targets


def paged_attention(
    q: jax.Array,
    k_cache: jax.Array,
    v_cache: jax.Array,
    block_table: jax.Array,
    kv_lens: jax.Array,
    *,
    cu_q_lens: Optional[jax.Array] = None,
    scale: Optional[float] = None,
    softcap: float = 0.0,
    window_left: int = -1,
    impl: Optional[str] = None,
    config: Optional[str] = None,
) -> jax.Array:
    """Paged attention as an XLA custom call (``tk_paged_attention``), with
    the arguments of :func:`tokamax_c.paged_attention`. Not differentiable
    (an inference op); under ``jax.vmap`` the mapped calls run one after
    another."""
    shape = (q.shape[0], q.shape[1], v_cache.shape[3]) if q.ndim == 3 and v_cache.ndim == 4 else ()
    return _targets.call(
        "paged_attention", [jax.ShapeDtypeStruct(shape, q.dtype)],
        [q, k_cache, v_cache, block_table, kv_lens, cu_q_lens], "sequential",
        has_cu_q_lens=cu_q_lens is not None, scale=0.0 if scale is None else float(scale),
        softcap=float(softcap), window_left=int(window_left), impl=impl or "",
        config=config or "")[0]
