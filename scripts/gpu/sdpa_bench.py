#!/usr/bin/env python3
"""sdpa_bench.py: PyTorch's scaled_dot_product_attention on the dense
attention shapes of a suite (scripts/gpu/run.sh: cuda_attention_perf), each
backend that takes the shape (FlashAttention-2, cuDNN, memory-efficient),
timed with CUDA events: median of interleaved repeats after warm-up, on
random data (never zeros). With --ours (tokamax-bench's Google Benchmark
JSON of the same suite), prints per shape our best implementation's median
beside SDPA's best and the ratio (SDPA time / ours: above 1 means ours is
faster), plus TFLOP/s of both. Stops starting new shapes once --budget
seconds have passed, and says which were left out.

usage: sdpa_bench.py --suite FILE [--ours JSON] [--budget S] [--reps N]
"""
import argparse
import json
import sys
import time


def attention_specs(path):
    """The suite's dense attention lines as (spec text, dict of keys)."""
    specs = []
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if not line.startswith("attention "):
            continue
        keys = dict(kv.split("=", 1) for kv in line.split()[1:])
        specs.append((line, keys))
    return specs


def flops(k):
    """Multiply-adds x 2 of Q K^T and P V (halved for causal square shapes)."""
    b, tq, tk, h = int(k["B"]), int(k["Tq"]), int(k["Tk"]), int(k["Hq"])
    d = int(k["D"])
    dv = int(k.get("Dv", 0)) or d
    f = 2.0 * b * h * tq * tk * (d + dv)
    if k.get("causal") == "1" and tq == tk:
        f /= 2
    return f


def our_medians(path):
    """run_name prefix (spec/impl) -> median ms from tokamax-bench JSON."""
    out = {}
    try:
        data = json.load(open(path))
    except (OSError, ValueError) as e:
        print(f"ours: cannot read {path}: {e}")
        return out
    for b in data.get("benchmarks", []):
        if b.get("aggregate_name") != "median":
            continue
        spec_impl = b["run_name"].rsplit("/", 1)[0]  # drop /manual_time
        unit = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}[b.get("time_unit", "ms")]
        out[spec_impl] = b["real_time"] * unit
    return out


def time_backend(torch, fn, reps):
    """Median ms of fn over reps timed calls (3 warm-up calls first)."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
    times.sort()
    return times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", required=True)
    ap.add_argument("--ours")
    ap.add_argument("--budget", type=float, default=35.0)
    ap.add_argument("--reps", type=int, default=10)
    a = ap.parse_args()
    t0 = time.time()
    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel
    import torch.nn.functional as F

    print(f"torch {torch.__version__} (CUDA {torch.version.cuda}), {torch.cuda.get_device_name(0)}")
    backends = [("flash2", SDPBackend.FLASH_ATTENTION), ("cudnn", SDPBackend.CUDNN_ATTENTION),
                ("efficient", SDPBackend.EFFICIENT_ATTENTION)]
    ours = our_medians(a.ours) if a.ours else {}
    rows, left_out = [], []
    for spec, k in attention_specs(a.suite):
        if time.time() - t0 > a.budget:
            left_out.append(spec)
            continue
        dt = {"bf16": torch.bfloat16, "f16": torch.float16}.get(k.get("dtype", "bf16"))
        if dt is None or k.get("varlen") == "1" or k.get("wl", "-1") != "-1" or k.get("wr", "-1") != "-1":
            print(f"{spec}: not an SDPA shape (dtype, varlen or window); skipped")
            continue
        b, tq, tk = int(k["B"]), int(k["Tq"]), int(k["Tk"])
        hq, hkv, d = int(k.get("Hq", 4)), int(k.get("Hkv", 2)), int(k.get("D", 64))
        dv = int(k.get("Dv", 0)) or d
        g = torch.Generator(device="cuda").manual_seed(1)
        q = torch.randn(b, hq, tq, d, device="cuda", dtype=dt, generator=g)
        kk = torch.randn(b, hkv, tk, d, device="cuda", dtype=dt, generator=g)
        v = torch.randn(b, hkv, tk, dv, device="cuda", dtype=dt, generator=g)
        causal = k.get("causal") == "1"
        best = None
        for name, be in backends:
            def call():
                with sdpa_kernel([be]):
                    return F.scaled_dot_product_attention(q, kk, v, is_causal=causal,
                                                          enable_gqa=hkv != hq)
            try:
                ms = time_backend(torch, call, a.reps)
            except RuntimeError as e:
                print(f"{spec} | sdpa {name}: not available ({str(e).splitlines()[0][:100]})")
                continue
            print(f"{spec} | sdpa {name}: {ms:.3f} ms, {flops(k) / ms / 1e9:.1f} TFLOP/s")
            if best is None or ms < best[1]:
                best = (name, ms)
        mine = [(impl, ours[f"{spec}/{impl}"]) for impl in ("cuda_pipelined", "cuda_tiled")
                if f"{spec}/{impl}" in ours]
        rows.append((spec, best, min(mine, key=lambda x: x[1]) if mine else None, flops(k)))
        del q, kk, v
        torch.cuda.empty_cache()
    print()
    print("| shape | SDPA best | ms | TFLOP/s | ours best | ms | TFLOP/s | SDPA ms / ours ms |")
    print("|---|---|---|---|---|---|---|---|")
    for spec, best, mine, f in rows:
        bs = f"{best[0]} | {best[1]:.3f} | {f / best[1] / 1e9:.1f}" if best else "none | - | -"
        ms = f"{mine[0]} | {mine[1]:.3f} | {f / mine[1] / 1e9:.1f}" if mine else "not timed | - | -"
        ratio = f"{best[1] / mine[1]:.2f}x" if best and mine else "-"
        print(f"| {spec[len('attention '):]} | {bs} | {ms} | {ratio} |")
    for spec in left_out:
        print(f"left out (budget of {a.budget:.0f}s spent): {spec}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
