"""tokamax_c.jax: libkernels' kernels inside ``jax.jit``.

Each function is an XLA FFI custom call whose handler (C11, in
libtokamax_ffi.so, against jaxlib's ``xla/ffi/api/c_api.h``) calls the
library on XLA's buffers in place: no copy, no host round trip. Attention,
grouped GEMM, permute and unpermute have ``jax.custom_vjp`` rules, so
``jax.grad`` works through them (attention's and unpermute's through
libkernels' backward ops, tk_attention_backward and
tk_moe_unpermute_backward).
Bad inputs fail the XLA computation with the library's message.

The handlers compute in :func:`get_context` (tokamax_c's default context
unless :func:`set_context` says otherwise).
"""

from ._targets import HAVE_CUDA, TARGETS, get_context, set_context
from ._attention import attention
from ._grouped_gemm import grouped_gemm
from ._moe import moe_permute, moe_unpermute
from ._paged_attention import paged_attention

__all__ = [
    "attention",
    "grouped_gemm",
    "moe_permute",
    "moe_unpermute",
    "paged_attention",
    "set_context",
    "get_context",
    "TARGETS",
    "HAVE_CUDA",
]
