"""tokamax_c: libkernels' autotuned kernels from Python, zero-copy.

Attention (and its backward), grouped GEMM (ragged dot), MoE permute /
unpermute (and unpermute's backward) and paged attention on NumPy arrays
(``ml_dtypes.bfloat16`` for bf16) or any ``__dlpack__`` tensor; the JAX
integration, with the same kernels inside ``jax.jit`` as XLA FFI custom
calls and gradients, is :mod:`tokamax_c.jax`. docs/python.md has the guide.
"""

from ._errors import (
    CacheError,
    DeviceError,
    InternalError,
    InvalidArgumentError,
    OutOfMemoryError,
    TokamaxError,
    UnsupportedError,
)
from ._context import Context, default_context, describe, set_default_context
from ._ops import (
    attention,
    attention_backward,
    grouped_gemm,
    moe_permute,
    moe_unpermute,
    moe_unpermute_backward,
    paged_attention,
)
from ._introspect import Plan, config_space, impls, ops, plan, supports, time_call, version

__version__ = "0.1.0"

__all__ = [
    "Context",
    "default_context",
    "set_default_context",
    "describe",
    "attention",
    "attention_backward",
    "grouped_gemm",
    "moe_permute",
    "moe_unpermute",
    "moe_unpermute_backward",
    "paged_attention",
    "Plan",
    "plan",
    "supports",
    "impls",
    "config_space",
    "ops",
    "version",
    "time_call",
    "TokamaxError",
    "InvalidArgumentError",
    "UnsupportedError",
    "OutOfMemoryError",
    "DeviceError",
    "CacheError",
    "InternalError",
]
