"""tokamax_c.jax: the FFI path inside jax.jit against the direct call (same
bits), against JAX's own ops (jax.nn.dot_product_attention with an explicit
bottom-right causal mask, jax.lax.ragged_dot) and their gradients, vmap,
and the library's messages from inside XLA."""

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402

import reference as ref  # noqa: E402
import tokamax_c as tk  # noqa: E402
import tokamax_c.jax as tkj  # noqa: E402
from reference import BF16, DTYPES, assert_close, randn  # noqa: E402

JaxError = getattr(jax.errors, "JaxRuntimeError", Exception)


def _bits(x):
    x = np.asarray(x)
    return x.view(np.uint16 if x.dtype.itemsize == 2 else np.uint32)


def _same_bits(a, b, what=""):
    assert a.shape == b.shape and a.dtype == b.dtype, what
    assert np.array_equal(_bits(a), _bits(b)), f"{what}: the FFI path differs from the direct call"


def _qkv(rng, dt, Tq, Tk):
    """GQA 4:2 attention inputs, B=2, D=32."""
    return (randn(rng, (2, Tq, 4, 32), DTYPES[dt]), randn(rng, (2, Tk, 2, 32), DTYPES[dt]),
            randn(rng, (2, Tk, 2, 32), DTYPES[dt]))


def _bottom_right_mask(Tq, Tk):
    """[Tq,Tk] causal mask aligned bottom-right (this library's), for JAX."""
    return ref.seen(Tq, Tk, True, -1, -1)


# ---------------------------------------------------------------- same bits


@pytest.mark.parametrize("dt", ["f32", "bf16"])
def test_attention_jit_bits_equal_direct(rng, dt):
    q, k, v = _qkv(rng, dt, 24, 40)
    lens = np.array([24, 11], np.int32), np.array([40, 30], np.int32)
    for kw in (dict(causal=True), dict(softcap=8.0, window_left=5, q_lens=lens[0], kv_lens=lens[1])):
        # rows past q_lens: the library leaves them unwritten; tokamax_c.jax
        # defines them (0, lse -inf)
        out = np.zeros(q.shape, q.dtype)
        lse = np.full((2, 4, 24), -np.inf, np.float32)
        tk.attention(q, k, v, out=out, lse=lse, **kw)
        ffi = jax.jit(lambda q, k, v: tkj.attention(q, k, v, return_lse=True, **kw))(q, k, v)
        _same_bits(out, np.asarray(ffi[0]), "out")
        _same_bits(lse, np.asarray(ffi[1]), "lse")
        plain = jax.jit(lambda q, k, v: tkj.attention(q, k, v, **kw))(q, k, v)
        _same_bits(tk.attention(q, k, v, out=np.zeros(q.shape, q.dtype), **kw), np.asarray(plain),
                   "out without lse")


@pytest.mark.parametrize("dt", ["f32", "bf16"])
@pytest.mark.parametrize("layout", ["nn", "nt", "tn"])
def test_grouped_gemm_jit_bits_equal_direct(rng, dt, layout):
    M, K, N, gs = 48, 32, 24, np.array([10, 0, 25, 7], np.int32)
    lhs = randn(rng, (M, K), DTYPES[dt])
    rhs = randn(rng, {"nn": (4, K, N), "nt": (4, N, K), "tn": (M, N)}[layout], DTYPES[dt])
    for out_dtype in (None, jnp.float32):
        direct = tk.grouped_gemm(lhs, rhs, gs, layout=layout, out_dtype=out_dtype)
        ffi = jax.jit(lambda a, b, g: tkj.grouped_gemm(a, b, g, layout=layout, out_dtype=out_dtype))(lhs, rhs, gs)
        _same_bits(direct, np.asarray(ffi), layout)


def test_moe_and_paged_jit_bits_equal_direct(rng):
    T, H, kk, E = 11, 32, 2, 4
    tokens = randn(rng, (T, H), BF16)
    ids = np.stack([rng.permutation(E)[:kk] for _ in range(T)]).astype(np.int32)
    w = randn(rng, (T, kk), np.float32)
    direct = tk.moe_permute(tokens, ids, E, align=4)
    ffi = jax.jit(lambda t, i: tkj.moe_permute(t, i, E, align=4))(tokens, ids)
    for a, b in zip(direct, ffi):
        _same_bits(a, np.asarray(b), "permute")
    rows = direct[0]
    _same_bits(tk.moe_unpermute(rows, direct[2], w), np.asarray(jax.jit(tkj.moe_unpermute)(rows, direct[2], w)))
    kc, vc = randn(rng, (8, 4, 2, 16), BF16), randn(rng, (8, 4, 2, 16), BF16)
    table = np.stack([rng.permutation(8)[:4] for _ in range(3)]).astype(np.int32)
    kv_lens, cu = np.array([13, 5, 16], np.int32), np.array([0, 3, 4, 9], np.int32)
    q = randn(rng, (9, 4, 16), BF16)
    direct = tk.paged_attention(q, kc, vc, table, kv_lens, cu_q_lens=cu)
    ffi = jax.jit(lambda *a: tkj.paged_attention(*a, cu_q_lens=cu))(q, kc, vc, table, kv_lens)
    _same_bits(direct, np.asarray(ffi), "paged")
    assert_close(direct, ref.paged_attention(q, kc, vc, table, kv_lens, cu), BF16)


def _paged_8bit(rng, cache, per_token):
    """test_ops.py's 8-bit paged inputs: caches [12,4,2,16] of int8 or
    float8_e4m3fn (finite: the NaN pattern left out), float32 scales per
    token and KV head or [1], 3 sequences."""
    shape = (12, 4, 2, 16)
    if cache == "int8":
        kc, vc = (rng.integers(-127, 128, shape).astype(np.int8) for _ in range(2))
    else:
        kc, vc = (np.clip(randn(rng, shape, np.float32) * 100, -448, 448).astype(jnp.float8_e4m3fn)
                  for _ in range(2))
    sshape = shape[:3] if per_token else (1,)
    ks, vs = (rng.uniform(0.005, 0.02, sshape).astype(np.float32) for _ in range(2))
    table = np.stack([rng.permutation(12)[:4] for _ in range(3)]).astype(np.int32)
    return kc, vc, ks, vs, table, np.array([13, 5, 16], np.int32)


@pytest.mark.parametrize("dt", ["f32", "bf16"])
@pytest.mark.parametrize("cache", ["int8", "float8_e4m3fn"])
@pytest.mark.parametrize("per_token", [False, True])
def test_paged_8bit_jit_bits_equal_direct(rng, dt, cache, per_token):
    kc, vc, ks, vs, table, kv_lens = _paged_8bit(rng, cache, per_token)
    kc_j, vc_j = jnp.asarray(kc), jnp.asarray(vc)
    assert kc_j.dtype == {"int8": jnp.int8, "float8_e4m3fn": jnp.float8_e4m3fn}[cache]
    assert np.count_nonzero(kc.astype(np.float32)) and np.count_nonzero(vc.astype(np.float32))
    dq = lambda c, s: c.astype(np.float32) * (s[..., None] if per_token else s[0])
    for cu in (None, np.array([0, 3, 4, 9], np.int32)):  # decode; prefill (both optional slots)
        q = randn(rng, (3 if cu is None else 9, 4, 16), DTYPES[dt])
        direct = tk.paged_attention(q, kc, vc, table, kv_lens, cu_q_lens=cu, k_scale=ks, v_scale=vs)
        ffi = jax.jit(lambda q, kc, vc, ks, vs: tkj.paged_attention(
            q, kc, vc, table, kv_lens, cu_q_lens=cu, k_scale=ks, v_scale=vs))(q, kc_j, vc_j, ks, vs)
        _same_bits(direct, np.asarray(ffi), f"paged {cache}")
        assert np.count_nonzero(direct.astype(np.float32))
        want = ref.paged_attention(q, dq(kc, ks), dq(vc, vs), table, kv_lens, cu)
        assert_close(direct, want, q.dtype, what=f"paged {cache}")


# ---------------------------------------------------------------- against JAX


@pytest.mark.parametrize("dt", ["f32", "bf16"])
@pytest.mark.parametrize("Tq, Tk", [(32, 32), (12, 40)])
def test_attention_matches_jax_with_bottom_right_mask(rng, dt, Tq, Tk):
    q, k, v = _qkv(rng, dt, Tq, Tk)
    ours = np.asarray(jax.jit(lambda q, k, v: tkj.attention(q, k, v, causal=True))(q, k, v))
    mask = jnp.asarray(_bottom_right_mask(Tq, Tk))[None, None]
    theirs = np.asarray(jax.nn.dot_product_attention(q, k, v, mask=mask))
    assert_close(ours, ref.f64(theirs), DTYPES[dt], scale=2, what="vs JAX")
    assert_close(ours, ref.attention(q, k, v, causal=True)[0], DTYPES[dt], what="vs float64")
    if Tq != Tk:  # JAX's is_causal aligns top-left: another mask
        top_left = np.asarray(jax.nn.dot_product_attention(q, k, v, is_causal=True))
        assert np.abs(ref.f64(top_left) - ref.f64(ours)).max() > 0.1


@pytest.mark.parametrize("dt", ["f32", "bf16"])
def test_grouped_gemm_matches_ragged_dot(rng, dt):
    lhs = randn(rng, (64, 32), DTYPES[dt])
    rhs = randn(rng, (5, 32, 16), DTYPES[dt])
    gs = np.array([12, 0, 30, 9, 5], np.int32)  # 56 of 64 rows: the rest are zero in both
    ours = np.asarray(jax.jit(tkj.grouped_gemm)(lhs, rhs, gs))
    theirs = np.asarray(jax.lax.ragged_dot(lhs, rhs, gs, preferred_element_type=jnp.float32))
    assert_close(ours, ref.f64(theirs), DTYPES[dt], scale=np.abs(theirs).max() / 4)
    assert (ours[56:] == 0).all() and (theirs[56:] == 0).all()


# ---------------------------------------------------------------- gradients


def _ragged_ref(layout, lhs, rhs, gs):
    """A pure-JAX ragged dot of each layout (JAX differentiates it itself)."""
    if layout == "nn":
        return jax.lax.ragged_dot(lhs, rhs, gs, preferred_element_type=jnp.float32)
    if layout == "nt":
        return jax.lax.ragged_dot(lhs, jnp.swapaxes(rhs, 1, 2), gs, preferred_element_type=jnp.float32)
    ends = jnp.cumsum(gs)
    row = jnp.arange(lhs.shape[0])
    onehot = ((row[None] >= (ends - gs)[:, None]) & (row[None] < ends[:, None])).astype(jnp.float32)
    return jnp.einsum("mk,mn,gm->gkn", lhs.astype(jnp.float32), rhs.astype(jnp.float32), onehot)


@pytest.mark.parametrize("dt", ["f32", "bf16"])
@pytest.mark.parametrize("layout", ["nn", "nt", "tn"])
def test_grouped_gemm_grad_matches_jax(rng, dt, layout):
    M, K, N = 40, 24, 16
    gs = np.array([9, 0, 20, 6], np.int32)
    lhs = randn(rng, (M, K), DTYPES[dt])
    rhs = randn(rng, {"nn": (4, K, N), "nt": (4, N, K), "tn": (M, N)}[layout], DTYPES[dt])
    w = randn(rng, {"tn": (4, K, N)}.get(layout, (M, N)), np.float32)

    def loss(f):
        return lambda a, b: (f(a, b).astype(jnp.float32) * w).sum()

    ours = jax.jit(jax.grad(loss(lambda a, b: tkj.grouped_gemm(a, b, gs, layout=layout, out_dtype=jnp.float32)),
                            argnums=(0, 1)))(lhs, rhs)
    theirs = jax.grad(loss(lambda a, b: _ragged_ref(layout, a, b, gs)), argnums=(0, 1))(lhs, rhs)
    for name, a, b, like in (("d_lhs", ours[0], theirs[0], lhs), ("d_rhs", ours[1], theirs[1], rhs)):
        assert a.dtype == like.dtype and a.shape == like.shape, name
        b = ref.f64(b)
        assert_close(a, b, DTYPES[dt], scale=np.abs(b).max() / 2, what=f"{layout} {name}")


def test_permute_grad_is_unpermute(rng):
    T, H, kk, E = 10, 16, 2, 4
    tokens = randn(rng, (T, H), np.float32)
    ids = np.stack([rng.permutation(E)[:kk] for _ in range(T)]).astype(np.int32)
    _, _, dest = tk.moe_permute(tokens, ids, E, align=2)
    R = T * kk + E
    w = randn(rng, (R, H), np.float32)
    ours = jax.jit(jax.grad(lambda t: (tkj.moe_permute(t, ids, E, align=2)[0] * w).sum()))(tokens)

    def permute_ref(t):  # scatter each (token, slot) to its row
        return jnp.zeros((R, H)).at[dest.reshape(-1)].set(jnp.repeat(t, kk, axis=0))

    theirs = jax.grad(lambda t: (permute_ref(t) * w).sum())(tokens)
    assert_close(ours, ref.f64(theirs), np.float32, scale=4)


def test_unpermute_grad_matches_jax(rng):
    T, H, kk, E = 10, 16, 2, 4
    tokens = randn(rng, (T, H), np.float32)
    ids = np.stack([rng.permutation(E)[:kk] for _ in range(T)]).astype(np.int32)
    rows, _, dest = tk.moe_permute(tokens, ids, E)
    weights = randn(rng, (T, kk), np.float32)
    c = randn(rng, (T, H), np.float32)
    ours = jax.jit(jax.grad(lambda r, wt: (tkj.moe_unpermute(r, dest, wt) * c).sum(), argnums=(0, 1)))(rows, weights)
    theirs = jax.grad(lambda r, wt: (jnp.einsum("ts,tsh->th", wt, r[dest]) * c).sum(), argnums=(0, 1))(rows, weights)
    for a, b in zip(ours, theirs):
        assert_close(a, ref.f64(b), np.float32, scale=4)


@pytest.mark.parametrize("dt", ["f32", "bf16"])
@pytest.mark.parametrize("Tq, Tk", [(24, 24), (10, 33)])
def test_attention_grad_matches_jax(rng, dt, Tq, Tk):
    q, k, v = _qkv(rng, dt, Tq, Tk)
    c = randn(rng, (2, Tq, 4, 32), np.float32)
    mask = jnp.asarray(_bottom_right_mask(Tq, Tk))[None, None]

    def loss(f):
        return lambda q, k, v: (f(q, k, v).astype(jnp.float32) * c).sum()

    ours = jax.jit(jax.grad(loss(lambda q, k, v: tkj.attention(q, k, v, causal=True)), argnums=(0, 1, 2)))(q, k, v)
    f32 = [x.astype(np.float32) for x in (q, k, v)]
    theirs = jax.grad(loss(lambda q, k, v: jax.nn.dot_product_attention(q, k, v, mask=mask)),
                      argnums=(0, 1, 2))(*f32)
    for name, a, b, like in zip(("dq", "dk", "dv"), ours, theirs, (q, k, v)):
        assert a.dtype == like.dtype and a.shape == like.shape, name
        b = ref.f64(b)
        assert_close(a, b, DTYPES[dt], scale=np.abs(b).max() / 2, what=name)


# ---------------------------------------------------------------- vmap


def test_attention_vmap_folds_into_batch(rng):
    q = randn(rng, (3, 2, 16, 4, 32), np.float32)
    k = randn(rng, (2, 20, 2, 32), np.float32)  # not mapped: broadcast to every batch
    v = randn(rng, (3, 2, 20, 2, 32), np.float32)
    kv_lens = np.array([[20, 7], [13, 20], [1, 2]], np.int32)
    f = jax.jit(jax.vmap(lambda q, v, kl: tkj.attention(q, k, v, causal=True, kv_lens=kl)))
    got = np.asarray(f(q, v, kv_lens))
    for i in range(3):
        _same_bits(got[i], tk.attention(q[i], k, v[i], causal=True, kv_lens=kv_lens[i]), f"vmap item {i}")


def test_grouped_gemm_vmap_runs_each(rng):
    lhs = randn(rng, (3, 16, 8), np.float32)
    rhs = randn(rng, (3, 2, 8, 4), np.float32)
    gs = np.array([[8, 8], [3, 10], [0, 16]], np.int32)
    got = np.asarray(jax.jit(jax.vmap(tkj.grouped_gemm))(lhs, rhs, gs))
    for i in range(3):
        _same_bits(got[i], tk.grouped_gemm(lhs[i], rhs[i], gs[i]), f"vmap item {i}")


# ---------------------------------------------------------------- errors, DLPack


def test_bad_input_inside_jit_has_the_library_message(rng):
    q = randn(rng, (1, 8, 4, 16), np.float32)
    k = randn(rng, (1, 8, 3, 16), np.float32)
    with pytest.raises(JaxError, match="TK_ERR_INVALID_ARGUMENT: attention: k has 3 heads, which does not divide q's 4"):
        jax.jit(lambda q, k: tkj.attention(q, k, k))(q, k).block_until_ready()
    with pytest.raises(JaxError, match="attention: q has dtype int32, expected float32"):
        jax.jit(lambda q: tkj.attention(q, q, q))(np.ones((1, 4, 1, 8), np.int32)).block_until_ready()
    with pytest.raises(JaxError, match="attention: q has rank 3"):
        jax.jit(lambda q, k: tkj.attention(q, k, k))(q[0], k).block_until_ready()
    lhs, rhs = randn(rng, (8, 4), np.float32), randn(rng, (2, 4, 4), np.float32)
    with pytest.raises(JaxError, match="grouped_gemm: group_sizes sum to 10, more than lhs's M=8 rows"):
        jax.jit(tkj.grouped_gemm)(lhs, rhs, np.array([5, 5], np.int32)).block_until_ready()
    with pytest.raises(JaxError, match="attention: impl 'nope' is not an implementation"):
        jax.jit(lambda q: tkj.attention(q, q, q, impl="nope"))(q).block_until_ready()


def test_paged_scales_mismatched_inside_jit(rng):
    kc, vc, ks, vs, table, kv_lens = _paged_8bit(rng, "int8", True)
    q = randn(rng, (3, 4, 16), np.float32)
    paged = lambda q, kc, vc, **kw: jax.jit(lambda q, kc, vc: tkj.paged_attention(
        q, kc, vc, table, kv_lens, **kw))(q, kc, vc).block_until_ready()
    with pytest.raises(tk.InvalidArgumentError, match="k_scale is given without v_scale"):
        paged(q, kc, vc, k_scale=ks)
    with pytest.raises(tk.InvalidArgumentError, match="v_scale is given without k_scale"):
        paged(q, kc, vc, v_scale=vs)
    with pytest.raises(JaxError, match="paged_attention: k_scale is NULL, but k_cache is int8"):
        paged(q, kc, vc)
    kb, vb = randn(rng, kc.shape, BF16), randn(rng, vc.shape, BF16)
    with pytest.raises(JaxError, match="paged_attention: k_scale is given, but k_cache is bfloat16"):
        paged(q.astype(BF16), kb, vb, k_scale=ks, v_scale=vs)
    with pytest.raises(JaxError, match="paged_attention: k_scale has dtype int32, expected float32"):
        paged(q, kc, vc, k_scale=ks.astype(np.int32), v_scale=vs)
    with pytest.raises(JaxError, match="paged_attention: v_scale .*Hkv"):
        paged(q, kc, vc, k_scale=ks, v_scale=vs[:, :, :1])
    with pytest.raises(JaxError, match="v_cache has dtype float8_e4m3fn"):
        paged(q, kc, vc.astype(np.float32).astype(jnp.float8_e4m3fn), k_scale=ks, v_scale=vs)


def test_forced_impl_inside_jit(rng):
    q = randn(rng, (1, 16, 2, 32), np.float32)
    for impl, config in (("reference", None), ("cpu", "block_q=64")):
        got = jax.jit(lambda q: tkj.attention(q, q, q, causal=True, impl=impl, config=config))(q)
        _same_bits(np.asarray(got), tk.attention(q, q, q, causal=True, impl=impl, config=config), impl)


def test_jax_arrays_into_the_direct_call(rng):
    q = jnp.asarray(randn(rng, (1, 8, 2, 16), BF16))
    out = tk.attention(q, q, q, causal=True)  # DLPack: read in place
    assert isinstance(out, np.ndarray) and out.dtype == BF16
    assert_close(out, ref.attention(np.asarray(q), np.asarray(q), np.asarray(q), causal=True)[0], BF16)
    with pytest.raises(tk.InvalidArgumentError, match="out is a JAX array, which is immutable"):
        tk.attention(q, q, q, out=jnp.zeros_like(q))


def test_set_context(rng):
    ctx = tk.Context(num_threads=1, cache_path=":memory:")
    try:
        tkj.set_context(ctx)
        assert tkj.get_context() is ctx
        q = randn(rng, (1, 8, 2, 16), np.float32)
        got = jax.jit(lambda q: tkj.attention(q, q, q))(q)
        assert_close(np.asarray(got), ref.attention(q, q, q)[0], np.float32)
    finally:
        tkj.set_context(None)
    assert tkj.get_context() is tk.default_context()


def test_rows_that_see_no_key_are_zero_inside_jit(rng):
    # causal, 3 valid keys for 6 queries: rows 0-2 see none (JAX's own
    # attention gives such rows the mean of v instead: docs/python.md)
    q = randn(rng, (1, 6, 1, 8), np.float32)
    out, lse = jax.jit(lambda q: tkj.attention(q, q, q, causal=True, kv_lens=jnp.array([3], jnp.int32),
                                               return_lse=True))(q)
    assert (np.asarray(out)[0, :3] == 0).all() and np.isneginf(np.asarray(lse)[0, 0, :3]).all()
    assert (np.asarray(out)[0, 3:] != 0).all()
