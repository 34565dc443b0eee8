"""How bytes from contract storage are shown as text, and how call arguments become bytes.

Storage keys and values are raw bytes. For people and JSON we show a byte string as its
UTF-8 text when it is valid UTF-8 and does not start with ``0x``; otherwise as ``0x`` +
lowercase hex. The rule is exact both ways: `text_to_bytes(bytes_to_text(b)) == b` for
every `b`, so `outlayer state` output can be fed back as `outlayer run --state`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from outlayer.errors import UserError

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def bytes_to_text(data: bytes) -> str:
    """UTF-8 text when unambiguous, else ``0x`` + hex (see the module doc)."""
    if not data.startswith(b"0x"):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return "0x" + data.hex()


def text_to_bytes(text: str) -> bytes:
    """The inverse of `bytes_to_text`: ``0x`` + even-length hex is bytes, anything else UTF-8."""
    body = text[2:]
    if text.startswith("0x") and len(body) % 2 == 0 and _HEX_DIGITS.issuperset(body):
        return bytes.fromhex(body)
    return text.encode("utf-8")


def to_bytes(value: str | bytes, what: str) -> bytes:
    """A Python-API key or value: `str` is UTF-8 text as written, `bytes` are taken as they are."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise UserError(f"{what} must be str or bytes, not {type(value).__name__}")


def state_from_python(state: Mapping[Any, Any] | None) -> dict[bytes, bytes]:
    """An initial state given as a dict of str|bytes -> str|bytes (str = UTF-8 text)."""
    if state is None:
        return {}
    if not isinstance(state, Mapping):
        raise UserError(f"state must be a dict of key -> value, not {type(state).__name__}")
    return {to_bytes(k, "state key"): to_bytes(v, f"state value of {k!r}")
            for k, v in state.items()}


def state_from_json(text: str) -> dict[bytes, bytes]:
    """An initial state as a JSON object of strings, in the encoding of `bytes_to_text`."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"state is not valid JSON: {exc.msg} at line {exc.lineno} column "
                        f"{exc.colno}") from exc
    if not isinstance(data, dict):
        raise UserError(f"state must be a JSON object of key -> value strings, got {_kind(data)}")
    out: dict[bytes, bytes] = {}
    for key, value in data.items():
        if not isinstance(value, str):
            raise UserError(f"state value of {key!r} must be a string, got {_kind(value)}")
        out[text_to_bytes(key)] = text_to_bytes(value)
    return out


def state_to_text(state: Mapping[bytes, bytes | None]) -> dict[str, str | None]:
    """Keys and values through `bytes_to_text`, sorted by raw key; None (removed) stays None."""
    return {bytes_to_text(k): (None if v is None else bytes_to_text(v))
            for k, v in sorted(state.items())}


def encode_args(args: Any, max_length: int) -> bytes:
    """Call arguments as the contract's input bytes: a dict, or a JSON text of an object.

    A JSON text is passed through byte for byte (as NEAR passes a transaction's args);
    a dict is serialized compactly. `None` means no arguments: ``{}``.
    """
    if args is None:
        raw = b"{}"
    elif isinstance(args, dict):
        try:
            raw = json.dumps(args, separators=(",", ":"), ensure_ascii=False,
                             allow_nan=False).encode("utf-8")
        except (TypeError, ValueError) as exc:
            raise UserError(f"args cannot be serialized as JSON: {exc}") from exc
        except RecursionError:
            raise UserError("args are nested too deeply to serialize") from None
    elif isinstance(args, str | bytes | bytearray):
        raw = args.encode("utf-8") if isinstance(args, str) else bytes(args)
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except UnicodeDecodeError as exc:
            raise UserError(f"args are not UTF-8 text: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise UserError(f"args are not valid JSON: {exc.msg} at line {exc.lineno} "
                            f"column {exc.colno} (args must be a JSON object, e.g. "
                            "'{\"amount\": 1}')") from exc
        except RecursionError:
            # JSON nested deeper than Python's parser goes: its first byte says its kind. An
            # object goes to the contract byte for byte, as NEAR passes a transaction's args
            # (the contract parses them itself); anything else is refused as shallower
            # non-objects are
            first = raw.lstrip(b" \t\n\r")[:1]
            if first != b"{":
                kind = "an array" if first == b"[" else "a value that is not an object"
                raise UserError(f"args must be a JSON object (e.g. '{{\"amount\": 1}}'), got "
                                f"{kind} (nested too deeply to parse further)") from None
            data = {}
        if not isinstance(data, dict):
            raise UserError(f"args must be a JSON object (e.g. '{{\"amount\": 1}}'), "
                            f"got {_kind(data)}")
    else:
        raise UserError(f"args must be a dict or a JSON object text, not {type(args).__name__}")
    if len(raw) > max_length:
        raise UserError(f"args are {len(raw)} bytes, over the limit of {max_length} bytes "
                        "(max_arguments_length)")
    return raw


def decode_result(data: bytes | None) -> Any:
    """The JSON value a method returned (None when it returned nothing)."""
    if data is None:
        return None
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return bytes_to_text(data)  # not JSON (a direct-wasm contract may return raw bytes)
    except RecursionError:
        # valid JSON nested deeper than Python's parser goes: hand back the text itself
        return bytes_to_text(data)


def _reject_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not JSON", name, 0)


def _kind(value: Any) -> str:
    names = {list: "an array", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null", dict: "an object"}
    return names.get(type(value), type(value).__name__)
