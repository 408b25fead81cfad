"""Paged attention inside jax.jit (XLA FFI); inference only (no gradient)."""

from __future__ import annotations

from typing import Optional

import jax

from .._errors import InvalidArgumentError
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
    k_scale: Optional[jax.Array] = None,
    v_scale: Optional[jax.Array] = None,
    impl: Optional[str] = None,
    config: Optional[str] = None,
) -> jax.Array:
    """Paged attention as an XLA custom call (``tk_paged_attention``), with
    the arguments of :func:`tokamax_c.paged_attention`: 8-bit caches
    (``jnp.int8`` or ``jnp.float8_e4m3fn``) take float32 ``k_scale`` and
    ``v_scale`` (both, or neither for 16/32-bit caches). Not differentiable
    (an inference op); under ``jax.vmap`` the mapped calls run one after
    another."""
    if (k_scale is None) != (v_scale is None):
        given, missing = ("k_scale", "v_scale") if v_scale is None else ("v_scale", "k_scale")
        raise InvalidArgumentError(
            "TK_ERR_INVALID_ARGUMENT",
            f"paged_attention: {given} is given without {missing}: 8-bit caches take both "
            "scales, 16/32-bit caches neither")
    shape = (q.shape[0], q.shape[1], v_cache.shape[3]) if q.ndim == 3 and v_cache.ndim == 4 else ()
    return _targets.call(
        "paged_attention", [jax.ShapeDtypeStruct(shape, q.dtype)],
        [q, k_cache, v_cache, block_table, kv_lens, cu_q_lens, k_scale, v_scale], "sequential",
        has_cu_q_lens=cu_q_lens is not None, has_kv_scale=k_scale is not None,
        scale=0.0 if scale is None else float(scale), softcap=float(softcap),
        window_left=int(window_left), impl=impl or "", config=config or "")[0]
