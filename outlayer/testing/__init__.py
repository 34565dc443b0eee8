"""Testing JavaScript NEAR contracts from Python, near-workspaces style (docs/TESTING.md).

`Sandbox` is an isolated chain per test; the pytest plugin (`outlayer.testing.plugin`,
registered as the ``outlayer`` pytest11 entry point) gives the `sandbox` and
`sandbox_factory` fixtures.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Account", "Contract", "Sandbox", "TransactionFailed", "TxResult", "ViewResult"]

if TYPE_CHECKING:
    from outlayer.testing.sandbox import (
        Account,
        Contract,
        Sandbox,
        TransactionFailed,
        TxResult,
        ViewResult,
    )


def __getattr__(name: str) -> Any:
    """Imported on first use: loading the plugin must not load the chain (or wasmtime)."""
    if name in __all__:
        from outlayer.testing import sandbox

        return getattr(sandbox, name)
    raise AttributeError(f"module 'outlayer.testing' has no attribute {name!r}")
