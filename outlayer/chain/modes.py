"""Execution modes: which engine runs a deployed contract.

Code picks its engine by its bytes in every mode: wasm (``\\0asm``) runs on the direct
engine (NEAR wasm contracts on the `env` imports, `outlayer.direct`), anything else is a
JavaScript module for QuickJS. The mode names the chain's primary engine, which gives the
chain its `engine_id`: "quickjs" (the default) or "direct". "posix" (a POSIX guest layer)
comes in a later issue.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from typing import Any

from outlayer.chain.accounts import UnsupportedExecutionMode
from outlayer.chain.result import Engine
from outlayer.direct.prepare import is_wasm
from outlayer.vm.context import VMContext
from outlayer.vm.interfaces import StorageView
from outlayer.vm.outcome import VMOutcome
from outlayer.vm.params import DEFAULT_PARAMS, Params


def _quickjs() -> Any:
    from outlayer.js.runner import runtime  # imported late: loads wasmtime and the guest

    return runtime()


def _direct() -> Any:
    from outlayer.direct.runner import runtime

    return runtime()


class CodeEngine:
    """Runs each contract on the engine its code asks for: wasm on the direct engine,
    JavaScript on QuickJS (each loaded on first use)."""

    def __init__(self, mode: str) -> None:
        self.mode = mode

    @property
    def quickjs(self) -> Any:
        return _quickjs()

    @property
    def direct(self) -> Any:
        return _direct()

    @property
    def engine_id(self) -> str:
        """quickjs mode: the QuickJS boot snapshot's id, as before direct mode existed;
        direct mode: the direct engine's id with it (JS contracts still run on QuickJS)."""
        if self.mode == "quickjs":
            return str(self.quickjs.engine_id)
        text = f"direct:{self.direct.engine_id}\0quickjs:{self.quickjs.engine_id}"
        return hashlib.sha256(text.encode()).hexdigest()

    def run(self, code: bytes, method: str, context: VMContext, storage: StorageView,
            params: Params = DEFAULT_PARAMS, limits: Any = None, *, realm: Any = None,
            **extra: Any) -> VMOutcome:
        """`extra`: what the chosen engine takes (chain=, trace=, resume=, snapshot=...)."""
        engine = self.direct if is_wasm(code) else self.quickjs
        outcome: VMOutcome = engine.run(code, method, context, storage, params=params,
                                        limits=limits, realm=realm, **extra)
        return outcome


_engines: dict[str, CodeEngine] = {}
_lock = threading.Lock()


def _code_engine(mode: str) -> Callable[[], Engine]:
    def make() -> Engine:
        with _lock:
            if mode not in _engines:
                _engines[mode] = CodeEngine(mode)
            return _engines[mode]

    return make


ENGINES: dict[str, Callable[[], Engine]] = {
    "quickjs": _code_engine("quickjs"),
    "direct": _code_engine("direct"),
}
PLANNED = {
    "posix": "contracts run on the POSIX guest layer",
}


def check_mode(mode: str) -> str:
    """The mode if it can run now; else a clear error naming the supported ones."""
    if mode in ENGINES:
        return mode
    supported = ", ".join(repr(m) for m in ENGINES)
    if mode in PLANNED:
        raise UnsupportedExecutionMode(
            f"execution_mode {mode!r} ({PLANNED[mode]}) is planned but not available yet; "
            f"supported now: {supported}")
    raise UnsupportedExecutionMode(f"unknown execution_mode {mode!r}; supported now: "
                                   f"{supported} (planned: {', '.join(PLANNED)})")


def engine_for(mode: str) -> Engine:
    return ENGINES[check_mode(mode)]()
