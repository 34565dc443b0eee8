"""Per-contract realm options (the roadmap's NearFrozenRealm options), fixed at deploy."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from outlayer.errors import UserError

#: ol_load flag bits (guest/bridge.c); bit 0 is the bridge's native-module mode for tools
NATIVE_MODULE = 1
ALLOW_MATH_RANDOM = 2
ALLOW_DATE_NOW = 4

FETCH_REFUSED = (
    "allow_fetch is refused: a contract's result must be a function of its inputs and "
    "state, and a network response is neither (it differs between runs, replays and "
    "validators). Fetch off-chain data with an operator that resumes the contract "
    "(yield/resume), or pass it in as call arguments."
)


@dataclass(frozen=True)
class RealmOptions:
    allow_math_random: bool = False  # deterministic: derived from the block's random seed
    allow_date_now: bool = False  # returns the block timestamp

    @property
    def flags(self) -> int:
        return (ALLOW_MATH_RANDOM if self.allow_math_random else 0) | (
            ALLOW_DATE_NOW if self.allow_date_now else 0)

    def to_json(self) -> dict[str, bool]:
        return {"allow_math_random": self.allow_math_random,
                "allow_date_now": self.allow_date_now}

    @classmethod
    def parse(cls, value: Any) -> RealmOptions:
        """From a dict (JSON), refusing unknown names and allow_fetch with the reason."""
        if value is None:
            return cls()
        if isinstance(value, RealmOptions):
            return value
        if not isinstance(value, dict):
            raise UserError(f"realm options must be an object, got {type(value).__name__}")
        if value.get("allow_fetch"):
            raise UserError(FETCH_REFUSED)
        known = {"allow_math_random", "allow_date_now", "allow_fetch"}
        unknown = sorted(set(value) - known)
        if unknown:
            raise UserError(f"unknown realm option(s) {unknown}; known: {sorted(known)}")
        for key in ("allow_math_random", "allow_date_now"):
            if not isinstance(value.get(key, False), bool):
                raise UserError(f"realm option {key} must be true or false")
        return cls(bool(value.get("allow_math_random", False)),
                   bool(value.get("allow_date_now", False)))
