"""Grouped GEMM (ragged dot) inside jax.jit (XLA FFI); its gradients are
the other two layouts (NN <-> NT/TN)."""

from __future__ import annotations

import functools
from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp
import numpy as np

from .._errors import InvalidArgumentError
from .._ops import _LAYOUTS
from . import _targets


class _Params(NamedTuple):
    layout: str
    out_dtype: Any  # a NumPy dtype, or None: lhs's
    impl: str
    config: str


def _out_shape(layout: str, lhs, rhs, group_sizes) -> tuple:
    """The output shape of the layout (a placeholder for malformed inputs:
    the handler's library call then names what is wrong)."""
    try:
        if layout == "nn":
            return (lhs.shape[0], rhs.shape[2])
        if layout == "nt":
            return (lhs.shape[0], rhs.shape[1])
        return (group_sizes.shape[0], lhs.shape[1], rhs.shape[1])
    except IndexError:
        return ()


def _gemm(layout: str, lhs, rhs, group_sizes, out_dtype, impl: str, config: str):
    shape = _out_shape(layout, lhs, rhs, group_sizes)
    return _targets.call("grouped_gemm", [jax.ShapeDtypeStruct(shape, out_dtype)],
                         [lhs, rhs, group_sizes], "sequential", layout=_LAYOUTS[layout],
                         impl=impl, config=config)[0]


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _grouped_gemm(p: _Params, lhs, rhs, group_sizes):
    return _gemm(p.layout, lhs, rhs, group_sizes, p.out_dtype or lhs.dtype, p.impl, p.config)


def _fwd(p: _Params, lhs, rhs, group_sizes):
    return _grouped_gemm(p, lhs, rhs, group_sizes), (lhs, rhs, group_sizes)


def _bwd(p: _Params, residuals, dout):
    lhs, rhs, gs = residuals
    g = dout.astype(lhs.dtype)  # the library takes one input dtype; accumulate in float32

    def gemm(layout, a, b):  # the automatic choice: the gradients are other problems
        return _gemm(layout, a, b, gs, jnp.float32, "", "")

    if p.layout == "nn":  # out[M,N] = lhs[M,K] rhs[g][K,N]
        d_lhs, d_rhs = gemm("nt", g, rhs), gemm("tn", lhs, g)
    elif p.layout == "nt":  # out[M,N] = lhs[M,K] rhs[g][N,K]^T
        d_lhs, d_rhs = gemm("nn", g, rhs), gemm("tn", g, lhs)
    else:  # out[g][K,N] = lhs_g^T rhs_g
        d_lhs, d_rhs = gemm("nt", rhs, g), gemm("nn", lhs, g)
    return d_lhs.astype(lhs.dtype), d_rhs.astype(rhs.dtype), None


_grouped_gemm.defvjp(_fwd, _bwd)


def grouped_gemm(
    lhs: jax.Array,
    rhs: jax.Array,
    group_sizes: jax.Array,
    *,
    layout: str = "nn",
    out_dtype: Any = None,
    impl: Optional[str] = None,
    config: Optional[str] = None,
) -> jax.Array:
    """Grouped GEMM as an XLA custom call (``tk_grouped_gemm``), with the
    arguments of :func:`tokamax_c.grouped_gemm`; ``layout="nn"`` is
    ``jax.lax.ragged_dot(lhs, rhs, group_sizes)``.

    Differentiable in lhs and rhs: each layout's gradients are library calls
    of the other layouts (float32 accumulation, cast to the inputs'
    dtypes). ``impl``/``config`` apply to the forward call only (the
    gradients are other problems). Under ``jax.vmap`` the mapped calls run
    one after another.
    """
    if layout not in _LAYOUTS:
        raise InvalidArgumentError(
            "TK_ERR_INVALID_ARGUMENT",
            f"grouped_gemm: layout is {layout!r}, expected 'nn', 'nt' or 'tn'")
    dt = None if out_dtype is None else np.dtype(out_dtype)
    return _grouped_gemm(_Params(layout, dt, impl or "", config or ""), lhs, rhs, group_sizes)
