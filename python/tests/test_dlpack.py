"""Tensors that are not NumPy arrays: anything with __dlpack__ is read and
written in place, and its capsules are released after the call."""

import sys

import numpy as np
import pytest

import reference as ref
import tokamax_c as tk
from reference import assert_close, randn


class Producer:
    """A minimal DLPack producer over a NumPy array (not itself an ndarray,
    so the binding takes the __dlpack__ path)."""

    def __init__(self, a):
        self.a = a
        self.exports = 0

    def __dlpack__(self, stream=None):
        self.exports += 1
        return self.a.__dlpack__()

    def __dlpack_device__(self):
        return self.a.__dlpack_device__()


def test_dlpack_inputs_and_output_in_place(rng):
    q = randn(rng, (1, 8, 2, 16), np.float32)
    k = randn(rng, (1, 8, 1, 16), np.float32)
    out = np.zeros((1, 8, 2, 16), np.float32)
    pq, pk, pout = Producer(q), Producer(k), Producer(out)
    before = sys.getrefcount(q), sys.getrefcount(out)
    r = tk.attention(pq, pk, pk, causal=True, out=pout)
    assert r is pout and pq.exports == 1 and pk.exports == 2 and pout.exports == 1
    assert_close(out, ref.attention(q, k, k, causal=True)[0], np.float32)  # written in place
    assert (sys.getrefcount(q), sys.getrefcount(out)) == before, "a DLPack capsule was not released"


def test_dlpack_outputs_are_allocated_as_numpy(rng):
    lhs, rhs = randn(rng, (6, 4), np.float32), randn(rng, (2, 4, 3), np.float32)
    gs = np.array([2, 4], np.int32)
    out = tk.grouped_gemm(Producer(lhs), Producer(rhs), Producer(gs))
    assert isinstance(out, np.ndarray) and out.shape == (6, 3)
    assert_close(out, ref.grouped_gemm(lhs, rhs, gs), np.float32, scale=4)


def test_failed_export_names_the_argument(rng):
    class Broken:
        def __dlpack__(self, stream=None):
            raise BufferError("no memory here")

    q = randn(rng, (1, 4, 1, 8), np.float32)
    with pytest.raises(tk.InvalidArgumentError, match="attention: k could not be exported through __dlpack__: no memory here"):
        tk.attention(q, Broken(), q)


def test_torch_tensors():
    torch = pytest.importorskip("torch")
    q = torch.randn(1, 8, 2, 16)
    out = torch.empty_like(q)
    tk.attention(q, q, q, causal=True, out=out)
    want = ref.attention(q.numpy(), q.numpy(), q.numpy(), causal=True)[0]
    assert_close(out.numpy(), want, np.float32)
    qb = q.to(torch.bfloat16)
    got = tk.attention(qb, qb, qb)  # bf16 through DLPack, allocated as ml_dtypes.bfloat16
    assert got.dtype == ref.BF16


def test_cupy_arrays_need_out():
    cp = pytest.importorskip("cupy")
    q = cp.ones((1, 4, 1, 8), cp.float32)
    with pytest.raises(tk.InvalidArgumentError, match="pass out="):
        tk.attention(q, q, q)
