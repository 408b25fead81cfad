"""Attention inside jax.jit (XLA FFI), differentiable through
tk_attention_backward, batched under jax.vmap by folding into B."""

from __future__ import annotations

import functools
from typing import Any, NamedTuple, Optional

import jax
import jax.numpy as jnp

from . import _targets


class _Params(NamedTuple):
    """The non-differentiable arguments (hashable: custom_vjp's nondiff)."""

    causal: bool
    window_left: int
    window_right: int
    softcap: float
    scale: float
    return_lse: bool
    impl: str
    config: str


def _lse_shape(q: Any) -> tuple:
    """[B,Hq,Tq] of q [B,Tq,Hq,D] (a placeholder for malformed q: the
    handler's library call then names what is wrong)."""
    s = tuple(q.shape)
    return (*s[:-3], s[-2], s[-3]) if len(s) >= 3 else ()


def _mask_attrs(p: _Params) -> dict:
    return dict(causal=p.causal, window_left=p.window_left, window_right=p.window_right,
                softcap=p.softcap, scale=p.scale, impl=p.impl, config=p.config)


def _rows_below(lens, x):
    """bool [B,T]: rows of x ([B,T,...]) below each batch's valid length."""
    return jnp.arange(x.shape[1])[None, :] < lens[:, None]


def _forward(p: _Params, q, k, v, q_lens, kv_lens, with_lse: bool):
    out = jax.ShapeDtypeStruct((*q.shape[:-1], v.shape[-1]) if q.ndim and v.ndim else (), q.dtype)
    results = [out] + ([jax.ShapeDtypeStruct(_lse_shape(q), jnp.float32)] if with_lse else [])
    r = _targets.call("attention", results, [q, k, v, q_lens, kv_lens], "broadcast_all",
                      has_q_lens=q_lens is not None, has_kv_lens=kv_lens is not None,
                      return_lse=with_lse, **_mask_attrs(p))
    out, lse = (r[0], r[1]) if with_lse else (r[0], None)
    if q_lens is not None and out.ndim == 4:
        # The library leaves rows past q_lens unwritten, and XLA's buffers
        # are not initialised: define them (output 0, lse -inf).
        valid = _rows_below(q_lens, q)
        out = jnp.where(valid[:, :, None, None], out, jnp.zeros((), out.dtype))
        if lse is not None:
            lse = jnp.where(valid[:, None, :], lse, -jnp.inf)
    return out, lse


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _attention(p: _Params, q, k, v, q_lens, kv_lens):
    out, lse = _forward(p, q, k, v, q_lens, kv_lens, p.return_lse)
    return (out, lse) if p.return_lse else out


def _attention_fwd(p: _Params, q, k, v, q_lens, kv_lens):
    out, lse = _forward(p, q, k, v, q_lens, kv_lens, True)
    return ((out, lse) if p.return_lse else out), (q, k, v, out, lse, q_lens, kv_lens)


def _attention_bwd(p: _Params, residuals, cotangent):
    q, k, v, out, lse, q_lens, kv_lens = residuals
    dout = cotangent[0] if p.return_lse else cotangent  # lse's is zero: see attention()
    results = [jax.ShapeDtypeStruct(t.shape, t.dtype) for t in (q, k, v)]
    dq, dk, dv = _targets.call(
        "attention_backward", results, [q, k, v, out, dout.astype(out.dtype), lse, q_lens, kv_lens],
        "broadcast_all", has_q_lens=q_lens is not None, has_kv_lens=kv_lens is not None,
        **_mask_attrs(p))
    if q_lens is not None:  # the gradient is zero past the valid lengths
        dq = jnp.where(_rows_below(q_lens, q)[:, :, None, None], dq, jnp.zeros((), dq.dtype))
    if kv_lens is not None:
        valid = _rows_below(kv_lens, k)[:, :, None, None]
        dk = jnp.where(valid, dk, jnp.zeros((), dk.dtype))
        dv = jnp.where(valid, dv, jnp.zeros((), dv.dtype))
    return dq, dk, dv, None, None


_attention.defvjp(_attention_fwd, _attention_bwd)


def attention(
    q: jax.Array,
    k: jax.Array,
    v: jax.Array,
    *,
    causal: bool = False,
    window_left: int = -1,
    window_right: int = -1,
    softcap: float = 0.0,
    scale: Optional[float] = None,
    q_lens: Optional[jax.Array] = None,
    kv_lens: Optional[jax.Array] = None,
    return_lse: bool = False,
    impl: Optional[str] = None,
    config: Optional[str] = None,
) -> Any:
    """Attention as an XLA custom call (``tk_attention``): the same
    arguments and conventions as :func:`tokamax_c.attention` (causal masks
    aligned bottom-right; a row that sees no key gives 0), except that rows
    past ``q_lens`` are defined here: output 0, lse -inf.

    Differentiable in q, k and v through ``tk_attention_backward`` (the
    forward saves lse); the returned lse carries no gradient
    (``stop_gradient``). Under ``jax.vmap`` the mapped axes fold into B (one
    library call).

    Returns:
      ``out`` ``[B,Tq,Hq,Dv]``, or ``(out, lse)`` with ``return_lse``.
    """
    p = _Params(bool(causal), int(window_left), int(window_right), float(softcap),
                0.0 if scale is None else float(scale), bool(return_lse), impl or "", config or "")
    r = _attention(p, q, k, v, q_lens, kv_lens)
    if return_lse:
        return r[0], jax.lax.stop_gradient(r[1])
    return r
