"""Contexts, introspection, plans and the C-side timer."""

import json

import numpy as np
import pytest

import reference as ref
import tokamax_c as tk
from reference import assert_close, randn


def test_context_options(tmp_path):
    path = tmp_path / "tune.db"
    ctx = tk.Context(num_threads=1, cache_path=path, tune_on_miss=False)
    assert ctx.num_threads == 1 and ctx.requested_threads == 1
    assert ctx.cache_path == str(path) and ctx.tune_on_miss is False
    info = ctx.info()
    assert info["cpu"]["physical_cores"] >= 1 and "fingerprint" in info["cpu"]
    assert json.loads(ctx.describe()) == info
    assert "cpu" in tk.describe()


def test_context_bad_options():
    with pytest.raises(tk.InvalidArgumentError, match="tk_context_create: num_threads is -1"):
        tk.Context(num_threads=-1)
    with pytest.raises(tk.InvalidArgumentError, match="tk_context_create: cache_path is empty"):
        tk.Context(cache_path="")


def test_calls_in_a_given_context(rng):
    ctx = tk.Context(num_threads=1, cache_path=":memory:")
    q = randn(rng, (1, 8, 2, 16), np.float32)
    assert_close(tk.attention(q, q, q, context=ctx), ref.attention(q, q, q)[0], np.float32)


def test_tune_on_miss_stores_the_choice(tmp_path, rng):
    ctx = tk.Context(cache_path=tmp_path / "tune.db", tune_on_miss=True)
    lhs, rhs = randn(rng, (16, 8), np.float32), randn(rng, (2, 8, 4), np.float32)
    gs = np.array([7, 9], np.int32)
    out = tk.grouped_gemm(lhs, rhs, gs, context=ctx)  # sweeps this shape, stores the best
    assert_close(out, ref.grouped_gemm(lhs, rhs, gs), np.float32, scale=4)
    again = tk.Context(cache_path=tmp_path / "tune.db")
    assert tk.plan("grouped_gemm", lhs, rhs, gs, context=again).source == "cache"


def test_default_context_is_settable():
    ctx = tk.Context(num_threads=1)
    old = tk.default_context()
    try:
        tk.set_default_context(ctx)
        assert tk.default_context() is ctx
    finally:
        tk.set_default_context(old)
    with pytest.raises(TypeError):
        tk.set_default_context("cpu")


def test_introspection():
    assert tk.version() == "0.1.0"
    assert {"attention", "attention_backward", "grouped_gemm", "moe_permute", "moe_unpermute",
            "moe_unpermute_backward", "paged_attention"} <= set(tk.ops())
    for op in tk.ops():
        names = tk.impls(op)
        assert names[-1] == "reference" and "cpu" in names
        for impl in names:
            space = tk.config_space(op, impl)
            assert all(isinstance(v, int) for values in space.values() for v in values)
    assert tk.config_space("grouped_gemm", "reference") == {"parallel": [0, 1]}
    with pytest.raises(tk.InvalidArgumentError, match="no op named"):
        tk.impls("conv2d")


def test_plan_runs_on_new_data(rng):
    q = randn(rng, (1, 16, 2, 32), np.float32)
    p = tk.plan("attention", q, q, q, causal=True)
    assert p.op == "attention" and p.impl in tk.impls("attention")
    assert p.source in ("heuristic", "cache", "nearest", "pack")
    assert "Tq=16" in p.problem_key and "causal=1" in p.problem_key
    q2 = randn(rng, q.shape, np.float32)
    assert_close(p.run(q2, q2, q2, causal=True), ref.attention(q2, q2, q2, causal=True)[0], np.float32)
    with pytest.raises(tk.InvalidArgumentError):
        p.run(q2[:, :8], q2[:, :8], q2[:, :8], causal=True)  # another problem
    forced = tk.plan("attention", q, q, q, impl="reference")
    assert forced.impl == "reference" and forced.source == "forced"
    with pytest.raises(tk.InvalidArgumentError, match="the plan is for attention"):
        tk.grouped_gemm(q[0, :, 0], q[:, :2, 0, :4], np.array([16], np.int32), context=p._plan)


def test_supports(rng):
    q = randn(rng, (1, 8, 2, 16), np.float32)
    assert tk.supports("attention", "reference", q, q, q) == (True, "")
    if "cuda_tiled" in tk.impls("attention"):  # a CUDA build: not for host tensors
        ok, why = tk.supports("attention", "cuda_tiled", q, q, q)
        assert not ok and why
    else:
        with pytest.raises(tk.InvalidArgumentError, match="'cuda_tiled' is not an implementation"):
            tk.supports("attention", "cuda_tiled", q, q, q)


def test_time_call(rng):
    q = randn(rng, (1, 4, 1, 8), np.float32)
    t = tk.time_call("attention", 50, q, q, q, out=np.empty_like(q))
    assert 0 < t < 0.01
