"""Text encoding of storage bytes, argument checks, gas and amount units."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outlayer.chain.codec import (
    bytes_to_text,
    encode_args,
    state_from_json,
    state_to_text,
    text_to_bytes,
)
from outlayer.chain.units import NEAR, TGAS, format_near, parse_amount, parse_gas
from outlayer.errors import UserError


@given(st.binary(max_size=64))
def test_bytes_text_round_trip(data: bytes) -> None:
    assert text_to_bytes(bytes_to_text(data)) == data


@given(st.text(max_size=32))
def test_plain_text_shows_as_itself(text: str) -> None:
    if not text.startswith("0x"):
        assert bytes_to_text(text.encode()) == text


def test_ambiguous_and_binary_values_are_hex() -> None:
    assert bytes_to_text(b"\xff\x00") == "0xff00"
    assert bytes_to_text(b"0xab") == "0x30786162"
    assert state_to_text({b"b": None, b"a": b"1"}) == {"a": "1", "b": None}


def test_state_from_json() -> None:
    assert state_from_json('{"count": "3", "0x00ff": "0x01"}') == {b"count": b"3",
                                                                  b"\x00\xff": b"\x01"}
    with pytest.raises(UserError, match="not valid JSON"):
        state_from_json("{")
    with pytest.raises(UserError, match="must be a string"):
        state_from_json('{"count": 3}')


def test_args() -> None:
    assert encode_args(None, 100) == b"{}"
    assert json.loads(encode_args({"a": [1, "é"]}, 100)) == {"a": [1, "é"]}
    assert encode_args('{"a": 1}', 100) == b'{"a": 1}'  # passed through byte for byte
    for bad, why in [("{", "not valid JSON"), ("[1]", "got an array"), ("3", "got a number"),
                     ('{"a": NaN}', "NaN"), (3, "must be a dict")]:
        with pytest.raises(UserError, match=why):
            encode_args(bad, 100)
    with pytest.raises(UserError, match="cannot be serialized"):
        encode_args({"a": object()}, 100)
    with pytest.raises(UserError, match="over the limit"):
        encode_args({"a": "x" * 200}, 100)


def test_gas_units() -> None:
    assert parse_gas("300T") == parse_gas("300Tgas") == parse_gas(300 * TGAS) == 300 * TGAS
    assert parse_gas("30 Tgas") == 30 * TGAS
    assert parse_gas("1.5T") == 1_500_000_000_000
    assert parse_gas("5G") == 5 * 10**9
    assert parse_gas("1000") == 1000
    for bad in ["", "T", "3 bananas", "-1", "0.5"]:
        with pytest.raises(UserError):
            parse_gas(bad)


def test_amount_units() -> None:
    assert parse_amount("1NEAR") == parse_amount("1 near") == NEAR
    assert parse_amount("0.5N") == NEAR // 2
    assert parse_amount("123") == 123
    with pytest.raises(UserError, match="u128"):
        parse_amount(1 << 128)
    assert format_near(NEAR + NEAR // 2) == "1.5 NEAR"
    assert format_near(0) == "0 NEAR"
