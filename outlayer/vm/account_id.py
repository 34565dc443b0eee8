"""NEAR account id rules, shared by VMLogic and the simulator.

A valid id is 2-64 characters of lowercase ``a-z``, digits and the separators ``-``, ``_``,
``.``, where a separator is never first, last, or next to another separator. Implicit
accounts (64 lowercase hex characters, or ``0x`` + 40 hex for ETH-implicit) pass the same
rules; the helpers below only tell them apart.
"""

from __future__ import annotations

import re

from outlayer.errors import InvalidAccountId

MIN_ACCOUNT_ID_LEN = 2
MAX_ACCOUNT_ID_LEN = 64

_VALID = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")
_NEAR_IMPLICIT = re.compile(r"[0-9a-f]{64}")
_ETH_IMPLICIT = re.compile(r"0x[0-9a-f]{40}")


def is_valid_account_id(account_id: str) -> bool:
    return (
        isinstance(account_id, str)
        and MIN_ACCOUNT_ID_LEN <= len(account_id) <= MAX_ACCOUNT_ID_LEN
        and _VALID.fullmatch(account_id) is not None
    )


def validate_account_id(account_id: str) -> str:
    """Return `account_id` if NEAR accepts it, else raise InvalidAccountId."""
    if not is_valid_account_id(account_id):
        raise InvalidAccountId(f"invalid account id {account_id!r}")
    return account_id


def is_near_implicit(account_id: str) -> bool:
    """A 64-hex implicit account (the hex of an ed25519 public key)."""
    return _NEAR_IMPLICIT.fullmatch(account_id) is not None


def is_eth_implicit(account_id: str) -> bool:
    """An ETH-implicit account: ``0x`` + 40 lowercase hex."""
    return _ETH_IMPLICIT.fullmatch(account_id) is not None


def is_top_level(account_id: str) -> bool:
    """No ``.`` in the id: a top-level account (implicit accounts are top-level)."""
    return "." not in account_id


def is_sub_account_of(account_id: str, parent: str) -> bool:
    """`account_id` is a direct sub-account of `parent` (``x.parent``)."""
    prefix, dot, rest = account_id.partition(".")
    return bool(dot) and bool(prefix) and rest == parent
