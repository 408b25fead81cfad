"""Every op on NumPy arrays against its float64 reference, f32 and bf16,
allocated and out= outputs, strided views, forced implementations."""

import numpy as np
import pytest

import reference as ref
import tokamax_c as tk
from reference import BF16, DTYPES, assert_close, randn

POISON = 777.0

ATTENTION_CASES = [
    dict(B=2, Tq=24, Tk=24, Hq=4, Hkv=2, D=32, Dv=32, causal=True),
    dict(B=1, Tq=9, Tk=40, Hq=2, Hkv=1, D=16, Dv=24, causal=True),          # Tq < Tk: bottom-right
    dict(B=2, Tq=17, Tk=17, Hq=3, Hkv=3, D=64, Dv=64, causal=False, softcap=5.0),
    dict(B=1, Tq=32, Tk=32, Hq=4, Hkv=1, D=32, Dv=32, causal=True, window_left=7),
    dict(B=1, Tq=16, Tk=20, Hq=2, Hkv=2, D=16, Dv=16, causal=False, window_left=3, window_right=2),
    dict(B=1, Tq=8, Tk=8, Hq=2, Hkv=1, D=32, Dv=32, causal=False, scale=0.3),
]


def _attention_inputs(rng, dtype, B, Tq, Tk, Hq, Hkv, D, Dv, **_):
    return (randn(rng, (B, Tq, Hq, D), dtype), randn(rng, (B, Tk, Hkv, D), dtype),
            randn(rng, (B, Tk, Hkv, Dv), dtype))


def _mask_kwargs(case):
    return {k: case[k] for k in ("causal", "window_left", "window_right", "softcap", "scale")
            if k in case}


@pytest.mark.parametrize("dt", ["f32", "bf16"])
@pytest.mark.parametrize("case", ATTENTION_CASES, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_attention(rng, dt, case):
    q, k, v = _attention_inputs(rng, DTYPES[dt], **case)
    kw = _mask_kwargs(case)
    out, lse = tk.attention(q, k, v, return_lse=True, **kw)
    want, want_lse, _ = ref.attention(q, k, v, **kw)
    assert out.dtype == q.dtype and out.shape == want.shape
    assert lse.dtype == np.float32 and lse.shape == want_lse.shape
    assert_close(out, want, q.dtype, what="out")
    finite = np.isfinite(want_lse)
    assert np.array_equal(np.isfinite(lse), finite)
    assert_close(lse[finite], want_lse[finite], np.float32 if dt == "f32" else BF16, what="lse")


def test_attention_varlen_writes_only_valid_rows(rng):
    case = dict(B=3, Tq=12, Tk=16, Hq=2, Hkv=1, D=16, Dv=16)
    q, k, v = _attention_inputs(rng, np.float32, **case)
    q_lens = np.array([12, 5, 0], np.int32)
    kv_lens = np.array([16, 9, 4], np.int32)
    out = np.full((3, 12, 2, 16), POISON, np.float32)
    lse = np.full((3, 2, 12), POISON, np.float32)
    r = tk.attention(q, k, v, causal=True, q_lens=q_lens, kv_lens=kv_lens, out=out, lse=lse)
    assert r[0] is out and r[1] is lse
    want, want_lse, valid = ref.attention(q, k, v, causal=True, q_lens=q_lens, kv_lens=kv_lens)
    assert_close(out[valid], want[valid], np.float32, what="valid rows")
    assert (out[~valid] == POISON).all(), "rows past q_lens were written"
    assert (lse.transpose(0, 2, 1)[~valid] == POISON).all()


def test_attention_empty_rows_are_zero(rng):
    # causal with 3 valid keys for 6 queries: diag = i - 3, so rows 0-2 see none
    q, k, v = _attention_inputs(rng, np.float32, B=1, Tq=6, Tk=6, Hq=1, Hkv=1, D=8, Dv=8)
    out, lse = tk.attention(q, k, v, causal=True, kv_lens=np.array([3], np.int32), return_lse=True)
    want, want_lse, _ = ref.attention(q, k, v, causal=True, kv_lens=np.array([3]))
    empty = ~np.isfinite(want_lse[0, 0])
    assert empty.any()
    assert (out[0, empty] == 0).all() and np.isneginf(lse[0, 0, empty]).all()
    assert_close(out, want, np.float32)


def test_attention_strided_views(rng):
    # q, k and v taken out of one fused QKV buffer: strided views, not copies
    qkv = randn(rng, (2, 10, 3, 4, 16), np.float32)
    q, k, v = qkv[:, :, 0], qkv[:, :, 1], qkv[:, :, 2]
    assert not q.flags.c_contiguous
    out = tk.attention(q, k, v, causal=True)
    assert_close(out, ref.attention(q, k, v, causal=True)[0], np.float32)


def test_out_is_written_in_place(rng):
    q, k, v = _attention_inputs(rng, np.float32, B=1, Tq=8, Tk=8, Hq=2, Hkv=2, D=16, Dv=16)
    base = np.full((2, 1, 8, 2, 16), POISON, np.float32)
    view = base[1]
    r = tk.attention(q, k, v, out=view)
    assert r is view
    assert (base[0] == POISON).all()
    assert_close(base[1], ref.attention(q, k, v)[0], np.float32)


@pytest.mark.parametrize("impl", ["cpu", "reference"])
def test_forced_impl(rng, impl):
    q, k, v = _attention_inputs(rng, np.float32, B=1, Tq=8, Tk=8, Hq=2, Hkv=1, D=16, Dv=16)
    out = tk.attention(q, k, v, causal=True, impl=impl)
    assert_close(out, ref.attention(q, k, v, causal=True)[0], np.float32)


def test_forced_config_matches_plan(rng):
    q, k, v = _attention_inputs(rng, np.float32, B=1, Tq=64, Tk=64, Hq=2, Hkv=1, D=32, Dv=32)
    p = tk.plan("attention", q, k, v, impl="cpu", config="block_q=64")
    assert p.impl == "cpu" and "block_q=64" in p.config and p.source == "forced"
    out = tk.attention(q, k, v, impl="cpu", config="block_q=64")
    assert_close(out, ref.attention(q, k, v)[0], np.float32)


def _gemm_inputs(rng, dtype, layout, M=40, K=24, N=16, sizes=(9, 0, 20, 6)):
    G = len(sizes)
    lhs = randn(rng, (M, K), dtype)
    rhs = randn(rng, {"nn": (G, K, N), "nt": (G, N, K), "tn": (M, N)}[layout], dtype)
    return lhs, rhs, np.array(sizes, np.int32)


@pytest.mark.parametrize("dt", ["f32", "bf16"])
@pytest.mark.parametrize("layout", ["nn", "nt", "tn"])
@pytest.mark.parametrize("out_dtype", [None, np.float32])
def test_grouped_gemm(rng, dt, layout, out_dtype):
    lhs, rhs, gs = _gemm_inputs(rng, DTYPES[dt], layout)
    out = tk.grouped_gemm(lhs, rhs, gs, layout=layout, out_dtype=out_dtype)
    want = ref.grouped_gemm(lhs, rhs, gs, layout)
    assert out.shape == want.shape
    assert out.dtype == (np.float32 if out_dtype else lhs.dtype)
    tol_dtype = BF16 if (dt == "bf16" and out_dtype is None) else np.float32
    assert_close(out, want, tol_dtype, scale=np.abs(want).max() / 4, what=layout)
    if layout != "tn":
        assert (out[int(gs.sum()):] == 0).all(), "rows past the groups are not zero"


@pytest.mark.parametrize("dt", ["f32", "bf16"])
@pytest.mark.parametrize("align", [1, 4])
def test_moe_permute_and_unpermute(rng, dt, align):
    T, H, kk, E = 13, 24, 2, 5
    tokens = randn(rng, (T, H), DTYPES[dt])
    ids = np.stack([rng.permutation(E)[:kk] for _ in range(T)]).astype(np.int32)
    permuted, sizes, dest = tk.moe_permute(tokens, ids, E, align=align)
    want_p, want_sizes, want_dest = ref.moe_permute(tokens, ids, E, align)
    assert permuted.dtype == tokens.dtype and sizes.dtype == np.int32 and dest.dtype == np.int32
    assert np.array_equal(sizes, want_sizes) and np.array_equal(dest, want_dest)
    assert np.array_equal(ref.f64(permuted), ref.f64(want_p)), "permute moves bits"
    weights = randn(rng, (T, kk), np.float32)
    for w in (None, weights):
        out = tk.moe_unpermute(permuted, dest, w)
        assert out.shape == (T, H) and out.dtype == tokens.dtype
        assert_close(out, ref.moe_unpermute(permuted, dest, w), tokens.dtype, scale=2, what="unpermute")


def test_moe_permute_num_rows(rng):
    tokens = randn(rng, (4, 8), np.float32)
    ids = np.array([[0], [1], [0], [1]], np.int32)
    permuted, sizes, _ = tk.moe_permute(tokens, ids, 2, num_rows=7)
    assert permuted.shape == (7, 8) and list(sizes) == [2, 2]
    assert (permuted[4:] == 0).all()


def _paged_inputs(rng, dtype, S=3, Hq=4, Hkv=2, D=16, page=4, pages=12, max_pages=4):
    kc = randn(rng, (pages, page, Hkv, D), dtype)
    vc = randn(rng, (pages, page, Hkv, D), dtype)
    table = np.stack([rng.permutation(pages)[:max_pages] for _ in range(S)]).astype(np.int32)
    kv_lens = np.array([13, 5, 16], np.int32)[:S]
    return kc, vc, table, kv_lens


@pytest.mark.parametrize("dt", ["f32", "bf16"])
@pytest.mark.parametrize("prefill", [False, True])
def test_paged_attention(rng, dt, prefill):
    kc, vc, table, kv_lens = _paged_inputs(rng, DTYPES[dt])
    cu = np.array([0, 3, 4, 9], np.int32) if prefill else None
    q = randn(rng, ((9 if prefill else 3), 4, 16), DTYPES[dt])
    out = tk.paged_attention(q, kc, vc, table, kv_lens, cu_q_lens=cu, softcap=20.0)
    want = ref.paged_attention(q, kc, vc, table, kv_lens, cu, softcap=20.0)
    assert out.shape == want.shape and out.dtype == q.dtype
    assert_close(out, want, q.dtype)


@pytest.mark.parametrize("cache", ["int8", "float8_e4m3fn"])
@pytest.mark.parametrize("per_token", [False, True])
def test_paged_attention_8bit(rng, cache, per_token):
    """8-bit caches with k_scale/v_scale equal the float32 call on the
    dequantised caches; a missing scale is refused."""
    kc32, vc32, table, kv_lens = _paged_inputs(rng, np.float32)
    if cache == "int8":
        kc = rng.integers(-127, 128, kc32.shape).astype(np.int8)
        vc = rng.integers(-127, 128, vc32.shape).astype(np.int8)
    else:
        ml_dtypes = pytest.importorskip("ml_dtypes")
        kc = (kc32 * 100).astype(ml_dtypes.float8_e4m3fn)
        vc = (vc32 * 100).astype(ml_dtypes.float8_e4m3fn)
    shape = kc.shape[:3] if per_token else (1,)
    ks = rng.uniform(0.005, 0.02, shape).astype(np.float32)
    vs = rng.uniform(0.005, 0.02, shape).astype(np.float32)
    dq = lambda c, s: c.astype(np.float32) * (s[..., None] if per_token else s[0])
    q = randn(rng, (3, 4, 16), np.float32)
    out = tk.paged_attention(q, kc, vc, table, kv_lens, k_scale=ks, v_scale=vs)
    want = ref.paged_attention(q, dq(kc, ks), dq(vc, vs), table, kv_lens)
    assert_close(out, want, q.dtype)
    with pytest.raises(tk.InvalidArgumentError, match="v_scale"):
        tk.paged_attention(q, kc, vc, table, kv_lens, k_scale=ks)


@pytest.mark.parametrize("dt", ["f32", "bf16"])
@pytest.mark.parametrize("case", ATTENTION_CASES[:5], ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()))
def test_attention_backward(rng, dt, case):
    q, k, v = _attention_inputs(rng, DTYPES[dt], **case)
    kw = _mask_kwargs(case)
    out, lse = tk.attention(q, k, v, return_lse=True, **kw)
    dout = randn(rng, out.shape, out.dtype)
    dq, dk, dv = tk.attention_backward(q, k, v, out, dout, lse, **kw)
    wq, wk, wv = ref.attention_backward(q, k, v, dout, **kw)
    for name, got, want, like in (("dq", dq, wq, q), ("dk", dk, wk, k), ("dv", dv, wv, v)):
        assert got.shape == like.shape and got.dtype == like.dtype, name
        assert_close(got, want, like.dtype, scale=np.abs(want).max() / 2, what=name)


@pytest.mark.parametrize("with_weights", [False, True])
def test_moe_unpermute_backward(rng, with_weights):
    T, H, kk, E = 9, 16, 2, 4
    tokens = randn(rng, (T, H), np.float32)
    ids = np.stack([rng.permutation(E)[:kk] for _ in range(T)]).astype(np.int32)
    rows, _, dest = tk.moe_permute(tokens, ids, E, align=2)
    w = randn(rng, (T, kk), np.float32) if with_weights else None
    dout = randn(rng, (T, H), np.float32)
    d_rows, d_weights = tk.moe_unpermute_backward(dout, rows, dest, w)
    want_rows, want_w = ref.moe_unpermute_backward(dout, rows, dest, w)
    assert_close(d_rows, want_rows, np.float32, scale=2, what="d_rows")
    if with_weights:
        assert_close(d_weights, want_w, np.float32, scale=np.abs(want_w).max(), what="d_weights")
    else:
        assert d_weights is None
