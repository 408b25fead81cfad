"""Python-side overhead of tokamax_c per call, on tiny problems.

For each op: the Python call (NumPy inputs, with out= and allocating its
outputs) against the same library call timed in C on the same arguments
(tokamax_c.time_call: the tk_<op> entry point called back to back, no
Python in the loop). Repeats are interleaved; figures are medians.
Overhead = Python call - C call; the target is under 5 us.

  python python/bench/overhead.py [--repeats 9] [--calls 3000]
"""

from __future__ import annotations

import argparse
import statistics
import timeit

import numpy as np

import tokamax_c as tk


def cases(rng):
    """(name, op, args, kwargs, out kwargs): tiny problems, random non-zero data."""
    f = lambda *s: (rng.standard_normal(s) + 3).astype(np.float32)  # noqa: E731
    q = f(1, 4, 1, 8)
    lhs, rhs, gs = f(4, 8), f(2, 8, 4), np.array([2, 2], np.int32)
    tokens, ids = f(4, 8), np.array([[0], [1], [0], [1]], np.int32)
    permuted, sizes, dest = tk.moe_permute(tokens, ids, 2)
    kc, vc = f(2, 4, 1, 8), f(2, 4, 1, 8)
    table, kv_lens, pq = np.array([[0, 1]], np.int32), np.array([5], np.int32), f(1, 1, 8)
    yield "attention", "attention", (q, q, q), {}, dict(out=np.empty_like(q))
    yield "grouped_gemm", "grouped_gemm", (lhs, rhs, gs), {}, dict(out=np.empty((4, 4), np.float32))
    yield "moe_permute", "moe_permute", (tokens, ids, 2), {}, dict(
        permuted=np.empty_like(permuted), group_sizes=np.empty_like(sizes), dest=np.empty_like(dest))
    yield "moe_unpermute", "moe_unpermute", (permuted, dest), {}, dict(out=np.empty_like(tokens))
    yield "paged_attention", "paged_attention", (pq, kc, vc, table, kv_lens), {}, dict(out=np.empty_like(pq))
    out, lse = tk.attention(q, q, q, return_lse=True)
    yield "attention_backward", "attention_backward", (q, q, q, out, q, lse), {}, dict(
        dq=np.empty_like(q), dk=np.empty_like(q), dv=np.empty_like(q))
    yield "moe_unpermute_backward", "moe_unpermute_backward", (tokens, permuted, dest), {}, dict(
        d_rows=np.empty_like(permuted))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=9)
    ap.add_argument("--calls", type=int, default=3000, help="calls per timed batch")
    a = ap.parse_args()
    rng = np.random.default_rng(0)
    ops = {name: getattr(tk, name) for name in tk.ops()}
    print(f"tokamax_c {tk.version()}, {tk.default_context().num_threads} library threads; "
          f"medians of {a.repeats} interleaved batches of {a.calls} calls; microseconds per call")
    print(f"{'op':24s} {'C call':>8s} {'Py out=':>8s} {'Py alloc':>8s} {'overhead out=':>14s} {'overhead alloc':>15s}")
    worst = 0.0
    for name, op, args, kw, outs in cases(rng):
        fn = ops[op]
        with_out = lambda: fn(*args, **kw, **outs)  # noqa: E731
        alloc = lambda: fn(*args, **kw)  # noqa: E731
        with_out(), alloc()
        c, p_out, p_alloc = [], [], []
        for _ in range(a.repeats):
            c.append(tk.time_call(op, a.calls, *args, **kw, **outs) * 1e6)
            p_out.append(timeit.timeit(with_out, number=a.calls) / a.calls * 1e6)
            p_alloc.append(timeit.timeit(alloc, number=a.calls) / a.calls * 1e6)
        mc, mo, ma = (statistics.median(x) for x in (c, p_out, p_alloc))
        worst = max(worst, ma - mc, mo - mc)
        print(f"{name:24s} {mc:8.2f} {mo:8.2f} {ma:8.2f} {mo - mc:14.2f} {ma - mc:15.2f}")
    print(f"largest Python-side overhead: {worst:.2f} us per call (target: under 5 us)")
    try:
        import jax.numpy as jnp
    except ImportError:
        return
    q = jnp.asarray((rng.standard_normal((1, 4, 1, 8)) + 3).astype(np.float32))
    out = np.empty(q.shape, np.float32)
    f = lambda: tk.attention(q, q, q, out=out)  # noqa: E731
    f()
    t = statistics.median(timeit.timeit(f, number=a.calls) / a.calls * 1e6 for _ in range(a.repeats))
    c = statistics.median(tk.time_call("attention", a.calls, q, q, q, out=out) * 1e6 for _ in range(a.repeats))
    print(f"for reference, JAX arrays into the direct call (three __dlpack__ exports): "
          f"attention {t:.2f} us against {c:.2f} us in C (inside jax.jit use tokamax_c.jax)")


if __name__ == "__main__":
    main()
