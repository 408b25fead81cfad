"""Float64 NumPy references of every op (DESIGN.md's semantics), and the
random inputs the tests use (never zeros)."""

from __future__ import annotations

from typing import Optional

import ml_dtypes
import numpy as np

BF16 = np.dtype(ml_dtypes.bfloat16)
DTYPES = {"f32": np.dtype(np.float32), "bf16": BF16}


def f64(x) -> np.ndarray:
    return np.asarray(x).astype(np.float64)


def randn(rng: np.random.Generator, shape, dtype, scale: float = 1.0) -> np.ndarray:
    """Normal values in dtype, none of them zero."""
    x = rng.standard_normal(shape) * scale
    x = np.where(np.abs(x) < 1e-3, 1e-3, x)
    return x.astype(dtype)


def seen(Tq: int, Tk: int, causal: bool, window_left: int, window_right: int) -> np.ndarray:
    """[Tq,Tk] bool: key j seen by query i, masks relative to the
    bottom-right diagonal diag = i + Tk - Tq."""
    i = np.arange(Tq)[:, None]
    j = np.arange(Tk)[None, :]
    diag = i + (Tk - Tq)
    m = np.ones((Tq, Tk), bool)
    if causal:
        m &= j <= diag
    if window_left >= 0:
        m &= j >= diag - window_left
    if window_right >= 0:
        m &= j <= diag + window_right
    return m


def _lens(lens, B: int, full: int) -> np.ndarray:
    return np.full(B, full) if lens is None else np.asarray(lens)


def _logits(qh, kh, scale, softcap):
    """(capped logits, the raw scaled logits) of one head."""
    x = scale * qh @ kh.T
    return (softcap * np.tanh(x / softcap) if softcap else x), x


def attention(q, k, v, *, causal=False, window_left=-1, window_right=-1, softcap=0.0,
              scale: Optional[float] = None, q_lens=None, kv_lens=None):
    """(out [B,Tq,Hq,Dv], lse [B,Hq,Tq], valid [B,Tq] rows that are written)."""
    q, k, v = f64(q), f64(k), f64(v)
    B, Tq, Hq, D = q.shape
    Tk, Hkv, Dv = k.shape[1], k.shape[2], v.shape[3]
    scale = 1 / np.sqrt(D) if scale is None else scale
    ql, kl = _lens(q_lens, B, Tq), _lens(kv_lens, B, Tk)
    out = np.zeros((B, Tq, Hq, Dv))
    lse = np.full((B, Hq, Tq), -np.inf)
    valid = np.zeros((B, Tq), bool)
    for b in range(B):
        tq, tk = int(ql[b]), int(kl[b])
        valid[b, :tq] = True
        mask = seen(tq, tk, causal, window_left, window_right)
        for h in range(Hq):
            kh = h // (Hq // Hkv)
            s, _ = _logits(q[b, :tq, h], k[b, :tk, kh], scale, softcap)
            s = np.where(mask, s, -np.inf)
            m = s.max(axis=1, initial=-np.inf)
            p = np.where(mask, np.exp(s - np.where(np.isfinite(m), m, 0)[:, None]), 0)
            l = p.sum(axis=1)
            out[b, :tq, h] = np.where(l[:, None] > 0, p @ v[b, :tk, kh] / np.maximum(l, 1e-300)[:, None], 0)
            lse[b, h, :tq] = np.where(l > 0, m + np.log(np.maximum(l, 1e-300)), -np.inf)
    return out, lse, valid


def attention_backward(q, k, v, dout, *, causal=False, window_left=-1, window_right=-1,
                       softcap=0.0, scale: Optional[float] = None, q_lens=None, kv_lens=None):
    """(dq, dk, dv) of sum(out * dout), dk/dv summed over the query heads of
    each KV head; zero outside the valid lengths."""
    q, k, v, dout = f64(q), f64(k), f64(v), f64(dout)
    B, Tq, Hq, D = q.shape
    Tk, Hkv = k.shape[1], k.shape[2]
    scale = 1 / np.sqrt(D) if scale is None else scale
    ql, kl = _lens(q_lens, B, Tq), _lens(kv_lens, B, Tk)
    dq, dk, dv = np.zeros_like(q), np.zeros_like(k), np.zeros_like(v)
    for b in range(B):
        tq, tk = int(ql[b]), int(kl[b])
        mask = seen(tq, tk, causal, window_left, window_right)
        for h in range(Hq):
            kh = h // (Hq // Hkv)
            qh, kk, vv, g = q[b, :tq, h], k[b, :tk, kh], v[b, :tk, kh], dout[b, :tq, h]
            s, x = _logits(qh, kk, scale, softcap)
            s = np.where(mask, s, -np.inf)
            m = s.max(axis=1, initial=-np.inf)
            p = np.where(mask, np.exp(s - np.where(np.isfinite(m), m, 0)[:, None]), 0)
            l = p.sum(axis=1, keepdims=True)
            p = np.where(l > 0, p / np.maximum(l, 1e-300), 0)
            dp = g @ vv.T
            ds = p * (dp - (p * dp).sum(axis=1, keepdims=True))
            if softcap:
                ds = ds * (1 - np.tanh(x / softcap) ** 2)
            dq[b, :tq, h] = scale * ds @ kk
            dk[b, :tk, kh] += scale * ds.T @ qh
            dv[b, :tk, kh] += p.T @ g
    return dq, dk, dv


def _groups(group_sizes):
    """(g, first row, end row) of each group."""
    ends = np.cumsum(group_sizes)
    return [(g, int(e - n), int(e)) for g, (n, e) in enumerate(zip(group_sizes, ends))]


def grouped_gemm(lhs, rhs, group_sizes, layout: str = "nn"):
    """Float64 result of the layout; rows past the groups are zero."""
    lhs, rhs = f64(lhs), f64(rhs)
    M, K = lhs.shape
    if layout == "tn":
        out = np.zeros((len(group_sizes), K, rhs.shape[1]))
        for g, a, e in _groups(group_sizes):
            out[g] = lhs[a:e].T @ rhs[a:e]
        return out
    N = rhs.shape[2] if layout == "nn" else rhs.shape[1]
    out = np.zeros((M, N))
    for g, a, e in _groups(group_sizes):
        out[a:e] = lhs[a:e] @ (rhs[g] if layout == "nn" else rhs[g].T)
    return out


def moe_permute(tokens, expert_ids, num_experts: int, align: int = 1, num_rows=None):
    """(permuted, group_sizes, dest): rows by expert, stable in token order,
    each expert's block padded to a multiple of align; the rest zero."""
    T, kk = expert_ids.shape
    if num_rows is None:
        num_rows = T * kk + num_experts * (align - 1)
    permuted = np.zeros((num_rows, tokens.shape[1]), tokens.dtype)
    dest = np.zeros((T, kk), np.int32)
    sizes = np.zeros(num_experts, np.int32)
    row = 0
    for e in range(num_experts):
        start = row
        for t in range(T):
            for s in range(kk):
                if expert_ids[t, s] == e:
                    permuted[row] = tokens[t]
                    dest[t, s] = row
                    row += 1
        row = start + -(-(row - start) // align) * align
        sizes[e] = row - start
    return permuted, sizes, dest


def moe_unpermute(rows, dest, weights=None):
    rows = f64(rows)
    w = np.ones(dest.shape) if weights is None else f64(weights)
    return np.einsum("ts,tsh->th", w, rows[dest])


def moe_unpermute_backward(dout, rows, dest, weights=None):
    """(d_rows, d_weights) of sum(unpermute(rows, dest, weights) * dout)."""
    dout, rows = f64(dout), f64(rows)
    w = np.ones(dest.shape) if weights is None else f64(weights)
    d_rows = np.zeros_like(rows)
    for t in range(dest.shape[0]):
        for s in range(dest.shape[1]):
            d_rows[dest[t, s]] += w[t, s] * dout[t]
    d_weights = np.einsum("th,tsh->ts", dout, rows[dest])
    return d_rows, d_weights


def paged_attention(q, k_cache, v_cache, block_table, kv_lens, cu_q_lens=None, *,
                    scale: Optional[float] = None, softcap=0.0, window_left=-1):
    """Each sequence's queries are its last q_len positions: causal,
    bottom-right aligned against kv_len."""
    q, kc, vc = f64(q), f64(k_cache), f64(v_cache)
    S = len(kv_lens)
    page = kc.shape[1]
    cu = np.arange(S + 1) if cu_q_lens is None else np.asarray(cu_q_lens)
    D = q.shape[2]
    scale = 1 / np.sqrt(D) if scale is None else scale
    out = np.zeros((q.shape[0], q.shape[1], vc.shape[3]))
    for s in range(S):
        L = int(kv_lens[s])
        pos = np.arange(L)
        pages = block_table[s, pos // page]
        k = kc[pages, pos % page]  # [L,Hkv,D]
        v = vc[pages, pos % page]
        a, e = int(cu[s]), int(cu[s + 1])
        o, _, _ = attention(q[None, a:e], k[None], v[None], causal=True, window_left=window_left,
                            softcap=softcap, scale=scale)
        out[a:e] = o[0]
    return out


def assert_close(got, want, dtype, *, scale: float = 1.0, what: str = ""):
    """Within the dtype's tolerance of the float64 reference, relative to
    scale (the reference's magnitude), and never NaN."""
    got = f64(got)
    assert not np.isnan(got).any(), f"{what}: NaN in the output"
    tol = (2e-2 if np.dtype(dtype) == BF16 else 1e-4) * max(scale, 1.0)
    err = np.abs(got - want).max(initial=0)
    assert err <= tol, f"{what}: max error {err:.3g} over tolerance {tol:.3g}"
