"""NEAR's alt_bn128 host functions (EIP-196/197 curve operations) with NEAR's encodings.

NEAR encodes every field element and scalar as 32 bytes little-endian (EIP-196/197 use
big-endian), a G1 point as x || y, a G2 point as x || y with each Fq2 element written
real part first, and the point at infinity as all zeros. Inputs are packed arrays:
multiexp items are (G1, Fr) = 96 bytes, sum items (sign byte, G1) = 65 bytes, pairing items
(G1, G2) = 192 bytes. Checks follow nearcore's ``alt_bn128.rs`` (the `bn` crate): a
coordinate must be below the field modulus, a point on the curve, a G2 point in the
prime-order subgroup, a scalar below the group order, a sign byte 0 or 1.

The arithmetic comes from py_ecc (the Ethereum Foundation's reference implementation); it
is pure Python, so a pairing takes a fraction of a second, which gas makes expensive
anyway (5.1 Tgas per pair).
"""

from __future__ import annotations

import sys

#: py_ecc raises the interpreter's recursion limit to 100,000 when imported. C code that
#: recurses once per nesting level (json.loads, repr, json.dumps) then runs the native stack
#: (8 MiB) out at ~65,000 levels and kills the process with SIGSEGV instead of raising
#: RecursionError. The curve code used here recurses at most once per scalar bit (<= 256
#: levels), so the limit is put back right after the import.
_RECURSION_LIMIT = sys.getrecursionlimit()

from py_ecc.optimized_bn128 import (  # noqa: E402
    FQ,
    FQ2,
    FQ12,
    Z1,
    add,
    b,
    b2,
    curve_order,
    field_modulus,
    final_exponentiate,
    is_inf,
    is_on_curve,
    multiply,
    neg,
    normalize,
    pairing,
)

from outlayer.errors import HostError  # noqa: E402

sys.setrecursionlimit(_RECURSION_LIMIT)

SCALAR_SIZE = 32
POINT_SIZE = 64
MULTIEXP_ITEM = POINT_SIZE + SCALAR_SIZE
SUM_ITEM = 1 + POINT_SIZE
PAIRING_ITEM = 3 * POINT_SIZE


class AltBn128InvalidInput(HostError):
    """Malformed alt_bn128 input: length, field element, point or scalar."""

    kind = "AltBn128InvalidInput"


def split(data: bytes, size: int) -> list[bytes]:
    """`data` as items of `size` bytes; a ragged tail is AltBn128InvalidInput."""
    if len(data) % size:
        raise AltBn128InvalidInput(
            f"invalid input length {len(data)}: not a multiple of the item size {size}")
    return [data[i:i + size] for i in range(0, len(data), size)]


def _invalid(what: str, raw: bytes) -> AltBn128InvalidInput:
    return AltBn128InvalidInput(f"invalid {what}: {raw.hex()}")


def _fq(raw: bytes) -> int:
    value = int.from_bytes(raw, "little")
    if value >= field_modulus:
        raise _invalid("fq", raw)
    return value


def _g1(raw: bytes) -> tuple[FQ, FQ, FQ]:
    x, y = _fq(raw[:32]), _fq(raw[32:64])
    if x == 0 and y == 0:
        return Z1
    point = (FQ(x), FQ(y), FQ.one())
    if not is_on_curve(point, b):
        raise _invalid("g1", raw)
    return point


def _g2(raw: bytes) -> tuple[FQ2, FQ2, FQ2]:
    c = [_fq(raw[i:i + 32]) for i in range(0, 128, 32)]
    if not any(c):
        return (FQ2.one(), FQ2.one(), FQ2.zero())
    point = (FQ2([c[0], c[1]]), FQ2([c[2], c[3]]), FQ2.one())
    if not is_on_curve(point, b2) or not is_inf(multiply(point, curve_order)):
        raise _invalid("g2", raw)
    return point


def _fr(raw: bytes) -> int:
    value = int.from_bytes(raw, "little")
    if value >= curve_order:
        raise _invalid("fr", raw)
    return value


def _encode_g1(point: tuple[FQ, FQ, FQ]) -> bytes:
    if is_inf(point):
        return bytes(POINT_SIZE)
    x, y = normalize(point)
    return int(x).to_bytes(32, "little") + int(y).to_bytes(32, "little")


def g1_multiexp(items: list[bytes]) -> bytes:
    """sum of scalar_i * G1_i over (G1, Fr) items, as a 64-byte G1 point."""
    pairs = [(_g1(item[:POINT_SIZE]), _fr(item[POINT_SIZE:])) for item in items]
    acc = Z1
    for point, scalar in pairs:
        acc = add(acc, multiply(point, scalar))
    return _encode_g1(acc)


def g1_sum(items: list[bytes]) -> bytes:
    """sum of (-1)^sign_i * G1_i over (sign byte, G1) items, as a 64-byte G1 point."""
    signed = []
    for item in items:
        if item[0] not in (0, 1):
            raise _invalid("bool", item[:1])
        signed.append((item[0] == 1, _g1(item[1:])))
    acc = Z1
    for negative, point in signed:
        acc = add(acc, neg(point) if negative else point)
    return _encode_g1(acc)


def pairing_check(items: list[bytes]) -> bool:
    """Whether the product of e(G1_i, G2_i) over the items is 1."""
    pairs = [(_g1(item[:POINT_SIZE]), _g2(item[POINT_SIZE:])) for item in items]
    acc = FQ12.one()
    for p1, p2 in pairs:
        acc = acc * pairing(p2, p1, final_exponentiate=False)
    return bool(final_exponentiate(acc) == FQ12.one())
