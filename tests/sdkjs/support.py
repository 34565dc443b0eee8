"""Helpers of the near-sdk-js tests: the examples' paths, panics with stacks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from outlayer import CallResult

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "sdkjs"
NEAR = 10**24
ONE_YOCTO = 1


def example(name: str) -> Path:
    return EXAMPLES / name


def assert_sdk_panic(result: CallResult, message: str) -> None:
    """A failed call whose near-sdk-js code threw `message`: near-sdk-js's runtime panics
    with message + "\\n" + stack (the stack's lines point into the bundle), committing
    nothing."""
    assert result.status == "failure", result
    assert result.error is not None and result.error["kind"] == "GuestPanic", result.error
    first, _, stack = result.error["message"].partition("\n")
    assert first == message
    assert stack.startswith("    at "), stack
    assert result.result is None
    assert result.state_changes == {}


def ok(result: CallResult) -> Any:
    """The result of a call that must have succeeded."""
    assert result.status == "success", result.error
    return result.result
