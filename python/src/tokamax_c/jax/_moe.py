"""MoE permute and unpermute inside jax.jit (XLA FFI): permute's gradient
is unpermute of the gradient with unit weights, unpermute's is
tk_moe_unpermute_backward."""

from __future__ import annotations

import functools
from typing import Any, NamedTuple, Optional, Tuple

import jax
import jax.numpy as jnp

from . import _targets


class _PermuteParams(NamedTuple):
    num_experts: int
    align: int
    num_rows: int
    impl: str
    config: str


def _unpermute(rows, dest, weights, impl: str = "", config: str = ""):
    shape = (dest.shape[0], rows.shape[1]) if dest.ndim == 2 and rows.ndim == 2 else ()
    return _targets.call("moe_unpermute", [jax.ShapeDtypeStruct(shape, rows.dtype)],
                         [rows, dest, weights], "sequential", has_weights=weights is not None,
                         impl=impl, config=config)[0]


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _permute(p: _PermuteParams, tokens, expert_ids):
    ok = tokens.ndim == 2 and expert_ids.ndim == 2
    results = [
        jax.ShapeDtypeStruct((p.num_rows, tokens.shape[1]) if ok else (), tokens.dtype),
        jax.ShapeDtypeStruct((p.num_experts,), jnp.int32),
        jax.ShapeDtypeStruct(expert_ids.shape, jnp.int32),
    ]
    return tuple(_targets.call("moe_permute", results, [tokens, expert_ids], "sequential",
                               num_experts=p.num_experts, align=p.align, impl=p.impl,
                               config=p.config))


def _permute_fwd(p: _PermuteParams, tokens, expert_ids):
    outs = _permute(p, tokens, expert_ids)
    return outs, outs[2]


def _permute_bwd(p: _PermuteParams, dest, cotangents):
    d_permuted = cotangents[0]  # group_sizes and dest are integers
    return _unpermute(d_permuted, dest, None), None


_permute.defvjp(_permute_fwd, _permute_bwd)


def moe_permute(
    tokens: jax.Array,
    expert_ids: jax.Array,
    num_experts: int,
    *,
    align: int = 1,
    num_rows: Optional[int] = None,
    impl: Optional[str] = None,
    config: Optional[str] = None,
) -> Tuple[jax.Array, jax.Array, jax.Array]:
    """MoE permute as an XLA custom call (``tk_moe_permute``), with the
    arguments of :func:`tokamax_c.moe_permute`: ``(permuted, group_sizes,
    dest)``; ``num_rows`` None is T*k + E*(align-1).

    Differentiable in tokens: the gradient is unpermute of the gradient
    with unit weights. Under ``jax.vmap`` the mapped calls run one after
    another.
    """
    T, k = (expert_ids.shape + (0, 0))[:2]
    rows = T * k + num_experts * (align - 1) if num_rows is None else num_rows
    p = _PermuteParams(int(num_experts), int(align), int(rows), impl or "", config or "")
    return _permute(p, tokens, expert_ids)


class _UnpermuteParams(NamedTuple):
    impl: str
    config: str


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _unpermute_vjp(p: _UnpermuteParams, rows, dest, weights):
    return _unpermute(rows, dest, weights, p.impl, p.config)


def _unpermute_fwd(p: _UnpermuteParams, rows, dest, weights):
    return _unpermute(rows, dest, weights, p.impl, p.config), (rows, dest, weights)


def _unpermute_bwd(p: _UnpermuteParams, residuals, dout):
    rows, dest, weights = residuals
    results = [jax.ShapeDtypeStruct(rows.shape, rows.dtype)]
    if weights is not None:
        results.append(jax.ShapeDtypeStruct(dest.shape, jnp.float32))
    r = _targets.call("moe_unpermute_backward", results,
                      [dout.astype(rows.dtype), rows, dest, weights], "sequential",
                      has_weights=weights is not None, impl="", config="")
    return r[0], None, (r[1] if weights is not None else None)


_unpermute_vjp.defvjp(_unpermute_fwd, _unpermute_bwd)


def moe_unpermute(
    rows: jax.Array,
    dest: jax.Array,
    weights: Optional[jax.Array] = None,
    *,
    impl: Optional[str] = None,
    config: Optional[str] = None,
) -> jax.Array:
    """MoE unpermute as an XLA custom call (``tk_moe_unpermute``), with the
    arguments of :func:`tokamax_c.moe_unpermute`.

    Differentiable in rows and weights through
    ``tk_moe_unpermute_backward``. Under ``jax.vmap`` the mapped calls run
    one after another.
    """
    return _unpermute_vjp(_UnpermuteParams(impl or "", config or ""), rows, dest, weights)
