"""Execution modes: which engine runs a deployed contract.

Only "quickjs" exists now. "direct" (NEAR wasm contracts on the `env` imports) and "posix"
(a POSIX guest layer) come in later issues: each adds one factory to `ENGINES`.
"""

from __future__ import annotations

from collections.abc import Callable

from outlayer.chain.accounts import UnsupportedExecutionMode
from outlayer.chain.result import Engine


def _quickjs() -> Engine:
    from outlayer.js.runner import runtime  # imported late: loads wasmtime and the guest

    return runtime()


ENGINES: dict[str, Callable[[], Engine]] = {"quickjs": _quickjs}
PLANNED = {
    "direct": "NEAR wasm contracts run directly on wasmtime",
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
