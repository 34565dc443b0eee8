"""Fixtures of the realm tests."""

from __future__ import annotations

import pytest
import quickjs

from .support import ses_realm


@pytest.fixture(scope="module")
def ses() -> quickjs.Context:
    """A native SES realm: the source-text rules a real compartment applies."""
    return ses_realm()
