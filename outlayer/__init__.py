"""OutLayer: run NEAR smart contracts written in JavaScript, deterministic, isolated, metered.

The Python API: `ContractSimulator` (a persistent local chain) and `QuickJSExecutor`
(one call on throwaway state). Both return a `CallResult`. Imported on first use, so
`import outlayer` stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["CallResult", "ContractSimulator", "ExecutionResult", "QuickJSExecutor",
           "__version__"]

_EXPORTS = {
    "CallResult": "outlayer.chain.result",
    "ContractSimulator": "outlayer.chain.simulator",
    "ExecutionResult": "outlayer.js.executor",
    "QuickJSExecutor": "outlayer.js.executor",
}

if TYPE_CHECKING:
    from outlayer.chain.result import CallResult
    from outlayer.chain.simulator import ContractSimulator
    from outlayer.js.executor import ExecutionResult, QuickJSExecutor


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'outlayer' has no attribute {name!r}")
