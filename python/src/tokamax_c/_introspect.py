"""What exists and what runs here: implementations, config spaces, plans."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from . import _C
from ._context import Context, default_context
from ._errors import InvalidArgumentError
from ._ops import OPS

__all__ = ["ops", "impls", "config_space", "supports", "plan", "Plan", "version"]


def version() -> str:
    """libkernels' version, e.g. ``"0.1.0"`` (``tk_version``)."""
    return _C.version()


def ops() -> List[str]:
    """The ops the extension binds, in libkernels' op-table order."""
    return _C.op_names()


def impls(op: str) -> List[str]:
    """The implementations of ``op``, fastest first, ``"reference"`` last
    (``tk_impl_list``): what is built, not what runs here (see
    :func:`supports`)."""
    return _C.impl_list(op)


def config_space(op: str, impl: str) -> Dict[str, List[int]]:
    """The config space of ``impl`` for ``op`` (``tk_impl_config_space``):
    each parameter's candidate values, e.g. ``{"block_q": [32, 64, 128], ...}``.
    A config names some of them: ``"block_q=64,block_kv=128"``."""
    space: Dict[str, List[int]] = {}
    for line in _C.config_space(op, impl).splitlines():
        name, _, values = line.partition(":")
        if name.strip():
            space[name.strip()] = [int(v) for v in values.split()]
    return space


def _op(name: str):
    try:
        return OPS[name]
    except KeyError:
        raise InvalidArgumentError(
            "TK_ERR_INVALID_ARGUMENT", f"no op named {name!r} (ops: {', '.join(OPS)})"
        ) from None


def _ask(kind: int, op: str, args: tuple, kwargs: dict, context: Optional[Context],
         impl: Optional[str] = None, iters: int = 1) -> Any:
    request = _C.Request(kind, context or default_context(), impl, iters)
    _op(op)(*args, context=request, **kwargs)
    return request.result


class Plan:
    """An implementation and configuration resolved once for one problem
    (``tk_plan``); :meth:`run` runs it on any data of that problem."""

    def __init__(self, plan: _C.Plan, run: Any):
        self._plan = plan
        self._run = run

    @property
    def op(self) -> str:
        """The op's name."""
        return self._plan.op

    @property
    def impl(self) -> str:
        """The chosen implementation."""
        return self._plan.impl

    @property
    def config(self) -> str:
        """The chosen configuration, ``"name=value,..."`` (``""``: no parameters)."""
        return self._plan.config

    @property
    def source(self) -> str:
        """Why: ``"forced"``, ``"cache"``, ``"nearest"``, ``"heuristic"`` or ``"pack"``."""
        return self._plan.source

    @property
    def problem_key(self) -> str:
        """The canonical problem key the tuning cache is keyed by."""
        return self._plan.problem_key

    @property
    def context(self) -> Context:
        """The context the plan runs in."""
        return self._plan.context

    def run(self, *args: Any, **kwargs: Any) -> Any:
        """Runs the plan: the op's arguments, as for the op's function, on
        data of the same problem (shapes, dtypes, strides and keywords
        equal); returns what the op returns. ``impl``/``config`` are the
        plan's."""
        return self._run(*args, context=self._plan, **kwargs)

    def __repr__(self) -> str:
        return f"Plan(op={self.op!r}, impl={self.impl!r}, config={self.config!r}, source={self.source!r})"


def plan(op: str, *args: Any, context: Optional[Context] = None, **kwargs: Any) -> Plan:
    """Resolves the implementation and configuration of one problem once
    (``tk_plan_create``). Arguments are the op function's (``impl=`` and
    ``config=`` force a choice), e.g.
    ``plan("attention", q, k, v, causal=True)``."""
    return Plan(_ask(_C.REQUEST_PLAN, op, args, kwargs, context), _op(op))


def supports(op: str, impl: str, *args: Any, context: Optional[Context] = None,
             **kwargs: Any) -> Tuple[bool, str]:
    """Whether implementation ``impl`` runs this problem here
    (``tk_impl_supports``): ``(True, "")`` or ``(False, reason)``. Bad
    arguments raise InvalidArgumentError."""
    why = _ask(_C.REQUEST_SUPPORTS, op, args, kwargs, context, impl)
    return (True, "") if why is None else (False, why)


def time_call(op: str, iters: int, *args: Any, context: Optional[Context] = None,
              **kwargs: Any) -> float:
    """Seconds per call of the library's entry point on these arguments,
    timed in C over ``iters`` back-to-back calls (no Python in the loop):
    the baseline of the Python-overhead benchmark."""
    return _ask(_C.REQUEST_TIME, op, args, kwargs, context, iters=iters)
