"""Bad input raises with the library's message (or the binding's, for what
never reaches the library), and writes nothing."""

import numpy as np
import pytest

import tokamax_c as tk
from reference import randn

POISON = 777.0


@pytest.fixture
def qkv(rng):
    return (randn(rng, (1, 8, 4, 16), np.float32), randn(rng, (1, 8, 2, 16), np.float32),
            randn(rng, (1, 8, 2, 16), np.float32))


def _poisoned(shape, dtype=np.float32):
    return np.full(shape, POISON, dtype)


@pytest.mark.parametrize("mutate, message", [
    (lambda q, k, v: (q.astype(np.float64), k, v), "attention: q has dtype float64, expected float32"),
    (lambda q, k, v: (q, k[:, :, :1].repeat(3, 2), v[:, :, :1].repeat(3, 2)),
     "attention: k has 3 heads, which does not divide q's 4"),
    (lambda q, k, v: (q, k, v[:, :5]), "attention: v has Tk=5"),
    (lambda q, k, v: (q, k.astype(np.float16), v), "attention: k has dtype float16, expected float32"),
])
def test_attention_bad_tensors(qkv, mutate, message):
    q, k, v = mutate(*qkv)
    out = _poisoned((1, 8, 4, 16))
    with pytest.raises(tk.InvalidArgumentError, match=message) as e:
        tk.attention(q, k, v, out=out)
    assert e.value.status == "TK_ERR_INVALID_ARGUMENT"
    assert e.value.message.startswith("attention: ")
    assert (out == POISON).all(), "a failed call wrote its output"


def test_attention_bad_lengths_write_nothing(qkv):
    out, lse = _poisoned((1, 8, 4, 16)), _poisoned((1, 4, 8))
    with pytest.raises(tk.InvalidArgumentError, match=r"attention: q_lens\[0\] is 9, outside \[0,Tq=8\]"):
        tk.attention(*qkv, q_lens=np.array([9], np.int32), out=out, lse=lse)
    assert (out == POISON).all() and (lse == POISON).all()
    with pytest.raises(tk.InvalidArgumentError, match="attention: kv_lens has dtype int64, expected int32"):
        tk.attention(*qkv, kv_lens=np.array([3], np.int64))


def test_attention_bad_out(qkv):
    with pytest.raises(tk.InvalidArgumentError, match=r"attention: out has Dv=15 .*expected 16 \(v's Dv\)"):
        tk.attention(*qkv, out=np.empty((1, 8, 4, 15), np.float32))
    ro = _poisoned((1, 8, 4, 16))
    ro.flags.writeable = False
    with pytest.raises(tk.InvalidArgumentError, match="attention: out is a read-only NumPy array"):
        tk.attention(*qkv, out=ro)


def test_bad_rank_reaches_the_library(qkv):
    q, k, v = qkv
    with pytest.raises(tk.InvalidArgumentError, match=r"attention: q has rank 3, expected 4 \(\[B,Tq,Hq,D\]\)"):
        tk.attention(q[0], k, v)


def test_not_a_tensor(qkv):
    q, k, v = qkv
    with pytest.raises(tk.InvalidArgumentError,
                       match="attention: q is a list, which is neither a NumPy array nor has __dlpack__"):
        tk.attention(q.tolist(), k, v)
    with pytest.raises(tk.InvalidArgumentError, match="attention: v has NumPy dtype bool"):
        tk.attention(q, k, v > 0)
    with pytest.raises(TypeError, match="attention: scale must be a number"):
        tk.attention(q, k, v, scale="big")


def test_bad_options(qkv):
    with pytest.raises(tk.InvalidArgumentError, match="attention: impl 'nope' is not an implementation"):
        tk.attention(*qkv, impl="nope")
    with pytest.raises(tk.InvalidArgumentError, match="block_q=7 is not one of its candidate values"):
        tk.attention(*qkv, impl="cpu", config="block_q=7")


def test_grouped_gemm_bad_group_sizes(rng):
    lhs, rhs = randn(rng, (8, 16), np.float32), randn(rng, (2, 16, 3), np.float32)
    out = _poisoned((8, 3))
    with pytest.raises(tk.InvalidArgumentError, match="grouped_gemm: group_sizes sum to 10, more than lhs's M=8 rows"):
        tk.grouped_gemm(lhs, rhs, np.array([5, 5], np.int32), out=out)
    with pytest.raises(tk.InvalidArgumentError, match=r"grouped_gemm: group_sizes\[1\] is -1, expected >= 0"):
        tk.grouped_gemm(lhs, rhs, np.array([5, -1], np.int32), out=out)
    assert (out == POISON).all()
    with pytest.raises(tk.InvalidArgumentError, match="grouped_gemm: layout is 'tt'"):
        tk.grouped_gemm(lhs, rhs, np.array([5, 3], np.int32), layout="tt")
    with pytest.raises(tk.InvalidArgumentError, match="grouped_gemm: out_dtype is float16"):
        tk.grouped_gemm(lhs, rhs, np.array([5, 3], np.int32), out_dtype=np.float16)


def test_moe_bad_expert(rng):
    tokens = randn(rng, (8, 16), np.float32)
    with pytest.raises(tk.InvalidArgumentError, match=r"moe_permute: expert_ids\[0,1\] is 5, outside \[0,num_experts=4\)"):
        tk.moe_permute(tokens, np.array([[0, 5]] * 8, np.int32), 4)


def test_error_is_picklable_and_typed():
    import pickle

    e = tk.InvalidArgumentError("TK_ERR_INVALID_ARGUMENT", "attention: q is NULL")
    e2 = pickle.loads(pickle.dumps(e))
    assert isinstance(e2, ValueError) and isinstance(e2, tk.TokamaxError)
    assert e2.status == e.status and e2.message == e.message
    assert str(e2) == "TK_ERR_INVALID_ARGUMENT: attention: q is NULL"
