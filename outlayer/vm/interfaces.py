"""The narrow interfaces between VMLogic and the rest (after nearcore's MemoryLike / External)."""

from __future__ import annotations

from typing import Protocol


class MemoryLike(Protocol):
    """Guest linear memory as VMLogic sees it; out-of-bounds raises MemoryAccessViolation."""

    def read(self, ptr: int, length: int) -> bytes: ...

    def write(self, ptr: int, data: bytes) -> None: ...


class StorageView(Protocol):
    """Committed state of the current account; VMLogic buffers its own writes on top."""

    def get(self, key: bytes) -> bytes | None: ...


class FuelMeter(Protocol):
    """The wasm instruction counter of the running instance (wasmtime fuel)."""

    def get_fuel(self) -> int: ...

    def set_fuel(self, fuel: int) -> None: ...


class ChainView(Protocol):
    """What VMLogic may ask the chain beyond the account's storage."""

    def yield_pending(self, account_id: str, data_id: bytes) -> bool:
        """A yield of `account_id` waits for data `data_id` (created, not resumed, not timed
        out): only then may promise_yield_resume deliver a payload to it."""
        ...
