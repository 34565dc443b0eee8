"""The pytest plugin (entry point ``pytest11: outlayer``): sandbox fixtures.

- `sandbox`: a fresh in-memory `Sandbox` per test, closed afterwards;
- `sandbox_factory`: call it (with `Sandbox` keyword arguments, e.g. ``gas_price=...``)
  for more sandboxes in one test; all are closed afterwards.

``pytest --outlayer-verify`` also replays every sandbox's history when its test ends and
fails the test on the first divergence (slower; for checking the chain itself).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from outlayer.testing.sandbox import Sandbox


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("outlayer").addoption(
        "--outlayer-verify", action="store_true", default=False,
        help="replay every sandbox's history at teardown (outlayer verify) and fail the "
             "test on a divergence")


def _finish(request: pytest.FixtureRequest, boxes: list[Sandbox]) -> None:
    """Close the sandboxes; with --outlayer-verify, first replay each one's history."""
    failures = []
    for box in boxes:
        try:
            if request.config.getoption("--outlayer-verify"):
                report = box.verify()
                if report.divergence is not None:
                    failures.append(report.divergence.message())
        finally:
            box.close()
    if failures:
        pytest.fail("outlayer verify: " + "; ".join(failures))


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    """An isolated in-memory chain with a funded root account (`sandbox.root`)."""
    from outlayer.testing.sandbox import Sandbox

    box = Sandbox()
    yield box
    _finish(request, [box])


@pytest.fixture
def sandbox_factory(request: pytest.FixtureRequest) -> Iterator[Callable[..., Sandbox]]:
    """Make sandboxes with options: ``sandbox_factory(gas_price=10**8)``."""
    from outlayer.testing.sandbox import Sandbox

    made: list[Sandbox] = []

    def make(**options: Any) -> Sandbox:
        box = Sandbox(**options)
        made.append(box)
        return box

    yield make
    _finish(request, made)
