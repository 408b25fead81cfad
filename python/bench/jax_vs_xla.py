"""tokamax_c inside jax.jit against the direct C call and against XLA's own
CPU ops, on the attention and grouped GEMM shapes of
regress/suites/bench_cpu.suite.

Per shape, three contenders on the same data:
  direct  the library call timed in C (tokamax_c.time_call, one call) on
          the very input buffers XLA holds (the JAX arrays, through
          DLPack): fresh 1 GB NumPy allocations ran up to 2x slower on
          their first calls here, a matter of memory placement, not of the
          call path
  ffi     jax.jit of tokamax_c.jax's op: XLA runs the library's kernel
          through the FFI handler (block_until_ready)
  xla     jax.jit of jax.nn.dot_product_attention (causal: is_causal, the
          same mask when Tq == Tk) or jax.lax.ragged_dot
Each timed call is preceded by a 100 ms sleep (XLA's CPU worker threads
keep spinning ~40 ms after a call and would slow whatever runs next);
rounds are interleaved, figures are medians. Ratios: ffi/direct (target
within 5%) and xla/ffi (the speed-up over XLA).

Grouped GEMM group sizes are drawn like the suite's keys (balanced, or
random with `empty` empty groups), not the C case builder's exact draw.

  python python/bench/jax_vs_xla.py [--repeats 5] [--only attention|grouped_gemm]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import time

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np

import tokamax_c as tk
import tokamax_c.jax as tkj

SUITE = os.path.join(os.path.dirname(__file__), "..", "..", "regress", "suites", "bench_cpu.suite")
DTYPES = {"f32": np.dtype(np.float32), "bf16": np.dtype(ml_dtypes.bfloat16)}


def suite_cases(only):
    """(op, {key: value}) of the suite's attention and grouped_gemm lines."""
    for line in open(SUITE):
        words = line.split("#")[0].split()
        if words and words[0] in ("attention", "grouped_gemm") and (not only or words[0] == only):
            yield words[0], dict(w.split("=", 1) for w in words[1:])


def randn(rng, shape, dtype):
    x = rng.standard_normal(shape, dtype=np.float32)
    return np.where(np.abs(x) < 1e-3, np.float32(1e-3), x).astype(dtype)


def group_sizes(rng, M, G, kind, empty):
    if kind == "balanced":
        return np.full(G, M // G, np.int32)
    w = rng.random(G)
    w[rng.permutation(G)[:empty]] = 0
    s = np.floor(M * w / w.sum()).astype(np.int64)
    for g in rng.choice(np.flatnonzero(w), M - int(s.sum())):
        s[g] += 1
    return s.astype(np.int32)


def build(op, kv, rng):
    """(label, direct call, ffi fn + args, xla fn + args, flops)."""
    dt = DTYPES[kv["dtype"]]
    if op == "attention":
        B, Tq, Tk, Hq, Hkv, D = (int(kv[k]) for k in ("B", "Tq", "Tk", "Hq", "Hkv", "D"))
        causal = kv.get("causal") == "1"
        q, k, v = randn(rng, (B, Tq, Hq, D), dt), randn(rng, (B, Tk, Hkv, D), dt), randn(rng, (B, Tk, Hkv, D), dt)
        out = np.empty(q.shape, dt)
        args = tuple(jnp.asarray(x) for x in (q, k, v))
        direct = lambda: tk.time_call("attention", 1, *args, causal=causal, out=out)  # noqa: E731
        ffi = jax.jit(lambda q, k, v: tkj.attention(q, k, v, causal=causal))
        if causal and Tq != Tk:
            mask = jnp.asarray(np.tril(np.ones((Tq, Tk), bool), Tk - Tq))[None, None]
            xla = jax.jit(lambda q, k, v: jax.nn.dot_product_attention(q, k, v, mask=mask))
        else:
            xla = jax.jit(lambda q, k, v: jax.nn.dot_product_attention(q, k, v, is_causal=causal))
        pairs = B * (Tq * (Tq + 1) // 2 if causal and Tq == Tk else Tq * Tk)
        flops = 2.0 * pairs * Hq * 2 * D
        label = f"attention {kv['dtype']} B={B} T={Tq}x{Tk} H={Hq}/{Hkv} D={D} causal={int(causal)}"
        return label, direct, (ffi, args), (xla, args), flops
    M, K, N, G = (int(kv[k]) for k in ("M", "K", "N", "G"))
    gs = group_sizes(rng, M, G, kv.get("sizes", "balanced"), int(kv.get("empty", 0)))
    lhs, rhs = randn(rng, (M, K), dt), randn(rng, (G, K, N), dt)
    out_dt = np.float32 if kv.get("out") == "f32" else dt
    out = np.empty((M, N), out_dt)
    args = (jnp.asarray(lhs), jnp.asarray(rhs), jnp.asarray(gs))
    del lhs, rhs
    direct = lambda: tk.time_call("grouped_gemm", 1, *args, out=out)  # noqa: E731
    ffi = jax.jit(lambda a, b, g: tkj.grouped_gemm(a, b, g, out_dtype=out_dt))
    xla = jax.jit(lambda a, b, g: jax.lax.ragged_dot(a, b, g, preferred_element_type=out_dt))
    label = (f"grouped_gemm {kv['dtype']} M={M} K={K} N={N} G={G} sizes={kv.get('sizes', 'balanced')}"
             f" ({int(gs.min())}..{int(gs.max())} rows)")
    return label, direct, (ffi, args), (xla, args), 2.0 * M * K * N


def timed(fn, args=None):
    """Seconds of one call after a 100 ms sleep."""
    time.sleep(0.1)
    if args is None:
        return fn()
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    return time.perf_counter() - t0


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        return " ".join(l.split(":", 1)[1].strip() for l in out.splitlines()
                        if l.startswith(("Model name", "CPU family", "Model:")))
    except OSError:
        return platform.processor()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--only", choices=["attention", "grouped_gemm"])
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')}; {cpu_model()}; jax {jax.__version__}, "
          f"{tk.default_context().num_threads} library threads; medians of {a.repeats} interleaved rounds, "
          f"100 ms sleep before each call")
    print(f"{'shape':76s} {'direct ms':>9s} {'ffi ms':>9s} {'xla ms':>9s} {'ffi/direct':>10s} "
          f"{'xla/ffi':>8s} {'GFLOP/s':>8s}")
    for op, kv in suite_cases(a.only):
        label, direct, (ffi, fargs), (xla, xargs), flops = build(op, kv, rng)
        direct(), jax.block_until_ready(ffi(*fargs)), jax.block_until_ready(xla(*xargs))  # compile, warm
        d, f, x = [], [], []
        for _ in range(a.repeats):
            d.append(timed(direct))
            f.append(timed(ffi, fargs))
            x.append(timed(xla, xargs))
        md, mf, mx = (statistics.median(v) for v in (d, f, x))
        print(f"{label:76s} {md * 1e3:9.2f} {mf * 1e3:9.2f} {mx * 1e3:9.2f} {mf / md:10.3f} "
              f"{mx / mf:7.2f}x {flops / mf / 1e9:8.1f}", flush=True)


if __name__ == "__main__":
    main()
