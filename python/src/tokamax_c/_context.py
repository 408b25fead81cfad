"""Contexts: the detected device, the thread pool and the tuning cache."""

from __future__ import annotations

import json
import os
from typing import Any, Optional, Union

from . import _C

__all__ = ["Context", "default_context", "set_default_context", "describe"]


class Context(_C.Context):
    """A libkernels context (``tk_context``).

    Creating one detects the CPU (and CUDA devices when the library is built
    with CUDA), starts a thread pool and loads the tuning cache into memory.
    It is safe to use from several threads at once.

    Args:
      num_threads: threads to compute with; 0 is one per physical core.
      cache_path: the SQLite tuning cache. None: ``$TOKAMAX_CACHE``, else
        ``$XDG_CACHE_HOME/tokamax/tune.db`` (``~/.cache/tokamax/tune.db``);
        ``":memory:"`` for a private in-memory cache.
      tune_on_miss: sweep a shape the cache lacks on its first call and
        store the best implementation and config (``TK_TUNE_ON_MISS``);
        False (the default) takes the cache, then the heuristic.
      cuda_stream: a ``cudaStream_t`` (as an int) for CUDA calls; 0 is the
        default stream.
    """

    def __new__(
        cls,
        num_threads: int = 0,
        cache_path: Optional[Union[str, os.PathLike]] = None,
        tune_on_miss: bool = False,
        cuda_stream: int = 0,
    ) -> "Context":
        return super().__new__(cls, num_threads, cache_path, tune_on_miss, cuda_stream)

    def info(self) -> dict[str, Any]:
        """The detected device, parsed from :meth:`describe`'s JSON."""
        return json.loads(self.describe())

    def __repr__(self) -> str:
        return (
            f"Context(num_threads={self.num_threads}, cache_path={self.cache_path!r}, "
            f"tune_on_miss={self.tune_on_miss})"
        )


_default: Optional[Context] = None


def default_context() -> Context:
    """The context calls use when given none (created on first use, with
    the defaults of :class:`Context`)."""
    global _default
    if _default is None:
        _default = Context()
    return _default


def set_default_context(context: Optional[Context]) -> None:
    """Makes ``context`` the default (None: a fresh default on next use).

    ``tokamax_c.jax.set_context`` does the same for the XLA FFI handlers."""
    global _default
    if context is not None and not isinstance(context, _C.Context):
        raise TypeError(f"expected a tokamax_c.Context, not {type(context).__name__}")
    _default = context


def describe(context: Optional[Context] = None) -> dict[str, Any]:
    """The detected device of ``context`` (default: the default context) as
    a dict: what ``tokamax-tune device --json`` prints."""
    return json.loads((context or default_context()).describe())
