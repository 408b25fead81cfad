"""The exceptions tokamax_c raises for a failed library call."""

from __future__ import annotations

from . import _C

__all__ = [
    "TokamaxError",
    "InvalidArgumentError",
    "UnsupportedError",
    "OutOfMemoryError",
    "DeviceError",
    "CacheError",
    "InternalError",
]


class TokamaxError(RuntimeError):
    """A libkernels call failed.

    Attributes:
      status: the tk_status name, e.g. ``"TK_ERR_INVALID_ARGUMENT"``.
      message: the library's message (``tk_last_error()``), naming the
        argument and what is wrong, e.g. ``"attention: k has 3 heads, which
        does not divide q's 4"``.

    On a failed call no output has been written.
    """

    def __init__(self, status: str, message: str):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message

    def __reduce__(self):
        return (type(self), (self.status, self.message))


class InvalidArgumentError(TokamaxError, ValueError):
    """TK_ERR_INVALID_ARGUMENT: a bad shape, dtype, stride, value or name."""


class UnsupportedError(TokamaxError):
    """TK_ERR_UNSUPPORTED: valid, but no (chosen) implementation runs it here."""


class OutOfMemoryError(TokamaxError, MemoryError):
    """TK_ERR_OUT_OF_MEMORY: the workspace could not be allocated."""


class DeviceError(TokamaxError):
    """TK_ERR_DEVICE: a CUDA or driver failure."""


class CacheError(TokamaxError):
    """TK_ERR_CACHE: the tuning cache could not be used."""


class InternalError(TokamaxError):
    """TK_ERR_INTERNAL: a bug in the library; please report it."""


# tk_status values (include/tokamax.h) -> the class raised for them.
_C._set_error_classes(
    TokamaxError,
    {
        1: InvalidArgumentError,
        2: UnsupportedError,
        3: OutOfMemoryError,
        4: DeviceError,
        5: CacheError,
        6: InternalError,
    },
)
