"""Gas and NEAR amounts as users type them (`300T`, `30Tgas`, `1.5NEAR`) and as we show them.

One parser for the CLI and the Python API, so `"300T"` means the same everywhere.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from outlayer.errors import UserError

TGAS = 10**12
#: yoctoNEAR in one NEAR.
NEAR = 10**24
U128_MAX = (1 << 128) - 1

_GAS_UNITS = {"": 1, "gas": 1, "k": 10**3, "kgas": 10**3, "m": 10**6, "mgas": 10**6,
              "g": 10**9, "ggas": 10**9, "t": TGAS, "tgas": TGAS, "p": 10**15, "pgas": 10**15}
_AMOUNT_UNITS = {"": 1, "yocto": 1, "yoctonear": 1, "n": NEAR, "near": NEAR}
_NUMBER = re.compile(r"^\s*([0-9][0-9_]*(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def _parse(text: str | int, units: dict[str, int], what: str, example: str) -> int:
    if isinstance(text, bool):
        raise UserError(f"{what} must be a number, not {text!r}")
    if isinstance(text, int):
        value = text
    else:
        match = _NUMBER.match(str(text))
        unit = match.group(2).lower() if match else None
        if match is None or unit not in units:
            raise UserError(f"{what} {text!r} is not understood; write e.g. {example}")
        try:
            exact = Decimal(match.group(1).replace("_", "")) * units[unit]
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
            raise UserError(f"{what} {text!r} is not a number") from exc
        if exact != exact.to_integral_value():
            raise UserError(f"{what} {text!r} is not a whole number of units")
        value = int(exact)
    if value < 0:
        raise UserError(f"{what} must not be negative (got {value})")
    return value


def parse_gas(text: str | int) -> int:
    """Gas from an integer or a string with an optional unit: `300T`, `30Tgas`, `5G`."""
    return _parse(text, _GAS_UNITS, "gas", "300T, 30Tgas or 300000000000000")


def parse_amount(text: str | int) -> int:
    """yoctoNEAR from an integer or `1.5NEAR` / `2N`; at most u128."""
    value = _parse(text, _AMOUNT_UNITS, "amount", "1000000000000000000000000 or 1NEAR")
    if value > U128_MAX:
        raise UserError(f"amount {value} does not fit in u128 (NEAR balances are u128)")
    return value


def format_tgas(gas: int) -> str:
    """Gas as Tgas, four decimals at most, to tell small calls apart (`2.6413 Tgas`, `300 Tgas`)."""
    text = f"{gas / TGAS:.4f}".rstrip("0").rstrip(".")
    return f"{text} Tgas"


def format_near(yocto: int) -> str:
    """yoctoNEAR as NEAR, exact (no float rounding): `1.5 NEAR`."""
    whole, frac = divmod(yocto, NEAR)
    text = f"{whole}.{frac:024d}".rstrip("0").rstrip(".")
    return f"{text} NEAR"
