"""Tests that need a program outside Python (Debian's chromium, Node.js) skip, with the
reason, where it is missing; with ``OUTLAYER_REQUIRE_ALL=1`` (CI sets it) the missing
program fails the test instead, so a broken setup cannot pass as a row of skips."""

from __future__ import annotations

import os
from typing import NoReturn

#: the environment variable that turns "missing, skipped" into "missing, failed"
REQUIRE_ALL = "OUTLAYER_REQUIRE_ALL"


def require_all() -> bool:
    """Whether every test must run (``OUTLAYER_REQUIRE_ALL=1``)."""
    return os.environ.get(REQUIRE_ALL, "").strip() == "1"


def missing(reason: str) -> NoReturn:
    """Skip the current test because `reason`, or fail it when `require_all()`."""
    import pytest

    if require_all():
        pytest.fail(f"{reason} ({REQUIRE_ALL}=1 requires it)", pytrace=False)
    pytest.skip(reason)
