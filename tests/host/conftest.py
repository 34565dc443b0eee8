"""Helpers for tests that drive the real QuickJS guest through the runner."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest

from outlayer.host.engine import Limits
from outlayer.js.runner import runtime
from outlayer.vm.context import VMContext
from outlayer.vm.outcome import VMOutcome
from outlayer.vm.params import DEFAULT_PARAMS, Params


class DictStorage(dict):  # type: ignore[type-arg]
    """A StorageView over a plain dict of bytes."""

    def get(self, key: bytes) -> bytes | None:  # type: ignore[override]
        return dict.get(self, key)


RunFn = Callable[..., VMOutcome]


@pytest.fixture(scope="session")
def run() -> RunFn:
    rt = runtime()

    def _run(source: str, method: str, args: Any = None, *, storage: dict | None = None,
             params: Params = DEFAULT_PARAMS, limits: Limits | None = None,
             **context: Any) -> VMOutcome:
        ctx = VMContext(
            current_account_id=context.pop("current_account_id", "contract.test"),
            signer_account_id=context.pop("signer_account_id", "alice.test"),
            predecessor_account_id=context.pop("predecessor_account_id", "alice.test"),
            input=json.dumps(args if args is not None else {}).encode(),
            **context,
        )
        return rt.run(source.encode(), method, ctx, DictStorage(storage or {}), params, limits)

    return _run


def big_params(gas: int = 10**17) -> Params:
    return dataclasses.replace(DEFAULT_PARAMS, max_gas_burnt=gas, max_gas_burnt_view=gas)
