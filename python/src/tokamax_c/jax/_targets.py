"""The XLA FFI targets of tokamax_c.jax: libtokamax_ffi.so's C handlers,
registered with jax.ffi for the CPU (and CUDA when libkernels is built with
CUDA), and the context they compute in."""

from __future__ import annotations

import ctypes
import os
from typing import Any, Optional, Sequence

import jax
import numpy as np

from .. import _C
from .._context import Context, default_context

PREFIX = "tokamax_c_"

_LIB = ctypes.CDLL(os.path.join(os.path.dirname(os.path.dirname(__file__)), "libtokamax_ffi.so"))
_LIB.tkffi_set_context.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
_LIB.tkffi_set_context.restype = None

#: The ops with FFI handlers.
TARGETS = ("attention", "attention_backward", "grouped_gemm", "moe_permute", "moe_unpermute",
           "moe_unpermute_backward", "paged_attention")

#: Whether libkernels has CUDA implementations (then the CUDA handlers are registered).
HAVE_CUDA = any(impl.startswith("cuda") for impl in _C.impl_list("attention"))


def _register() -> None:
    for name in TARGETS:
        jax.ffi.register_ffi_target(
            PREFIX + name, jax.ffi.pycapsule(getattr(_LIB, f"tkffi_{name}_cpu")), platform="cpu"
        )
        if HAVE_CUDA:
            jax.ffi.register_ffi_target(
                PREFIX + name, jax.ffi.pycapsule(getattr(_LIB, f"tkffi_{name}_cuda")),
                platform="CUDA",
            )


_context: Optional[Context] = None


def set_context(context: Optional[Context]) -> None:
    """Makes ``context`` the one the FFI handlers compute CPU calls in
    (None: tokamax_c's default context). CUDA calls get one context per XLA
    stream, created with this context's options. Set it before running
    computations that use it; it is kept alive here."""
    global _context
    if context is None:
        context = default_context()
    if not isinstance(context, _C.Context):
        raise TypeError(f"expected a tokamax_c.Context, not {type(context).__name__}")
    path = context.cache_path
    _LIB.tkffi_set_context(
        context.address, None if path is None else os.fsencode(path),
        context.requested_threads, int(context.tune_on_miss),
    )
    _context = context


def get_context() -> Context:
    """The context the FFI handlers compute CPU calls in."""
    assert _context is not None
    return _context


def call(name: str, results: Sequence[jax.ShapeDtypeStruct], args: Sequence[Any],
         vmap_method: str, **attrs: Any) -> Any:
    """jax.ffi.ffi_call of target ``name`` with ``args`` (None entries
    dropped: the handler learns what is present from the has_* attributes);
    ints and floats pass as int32 / float32 attributes, strings as strings."""
    encoded = {}
    for key, value in attrs.items():
        if isinstance(value, (bool, int, np.integer)):
            encoded[key] = np.int32(value)
        elif isinstance(value, (float, np.floating)):
            encoded[key] = np.float32(value)
        else:
            encoded[key] = value
    fn = jax.ffi.ffi_call(PREFIX + name, list(results), vmap_method=vmap_method)
    return fn(*[a for a in args if a is not None], **encoded)


_register()
set_context(None)
