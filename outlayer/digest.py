"""The result digest: one sha256 that pins everything a call consumed and produced.

Two runs with the same inputs must give the same digest in any process, on any machine.
Construction (version 1): sha256 of the canonical JSON (keys sorted, no spaces, ASCII)
of the object below; byte strings are lowercase hex, u64/u128 numbers decimal strings,
tuples lists, and a dataclass (the PromiseResults of a callback's context) an object of its
fields: {"status": "successful"|"failed"|"not_ready", "data": hex}.

    {"v": 1, "code_hash": sha256(code), "method": ..., "input": hex,
     "context": {every VMContext field except input},
     "access_log": [[op, key, value|null], ...]   (storage reads/writes/removes in order),
     "storage_changes": [[key, value|null], ...]  (what was committed, sorted by key),
     "result": hex|null, "logs": [...], "gas_burnt": ..., "gas_used": ...,
     "error": {"kind", "message"}|null, "params": the gas table's name}
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from typing import Any

from outlayer.vm.context import VMContext
from outlayer.vm.outcome import VMOutcome

DIGEST_VERSION = 1


def _plain(value: Any) -> Any:
    kind = type(value)
    if kind is bytes:
        return value.hex()
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        return str(value)
    if kind is tuple and not value:
        return []
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # e.g. PromiseResult in VMContext.promise_results: {"data": hex, "status": ...}
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"no canonical form for {type(value).__name__}")


#: the context's fields, "input" aside (it has its own entry), in the order json.dumps
#: sorts them: looked up once, not per call
_CONTEXT_FIELDS = tuple(sorted(f.name for f in dataclasses.fields(VMContext)
                               if f.name != "input"))
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


@functools.lru_cache(maxsize=16)
def _code_hash(code: bytes) -> str:
    """sha256 of a contract's code, once per distinct code (a call repeats its contract's):
    the lookup hashes the bytes with Python's cached hash, not sha256 again."""
    return hashlib.sha256(code).hexdigest()


def call_digest(code: bytes, method: str, context: VMContext, outcome: VMOutcome) -> str:
    ctx = {name: _plain(getattr(context, name)) for name in _CONTEXT_FIELDS}
    error = outcome.error
    ret = outcome.return_data
    doc = {
        "v": DIGEST_VERSION,
        "code_hash": _code_hash(code),
        "method": method,
        "input": context.input.hex(),
        "context": ctx,
        "access_log": [[str(op), k.hex(), None if v is None else v.hex()]
                       for op, k, v in outcome.access_log],
        "storage_changes": [[k.hex(), None if v is None else v.hex()]
                            for k, v in sorted(outcome.storage_changes.items())],
        "result": None if ret is None else ret.hex(),
        "logs": list(outcome.logs),
        "gas_burnt": str(outcome.burnt_gas),
        "gas_used": str(outcome.used_gas),
        "error": None if error is None else {"kind": error.kind, "message": error.message},
        "params": outcome.params_name,
    }
    return hashlib.sha256(_ENCODER.encode(doc).encode()).hexdigest()
