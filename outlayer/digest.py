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
import hashlib
import json
from typing import Any

from outlayer.vm.context import VMContext
from outlayer.vm.outcome import VMOutcome

DIGEST_VERSION = 1


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # e.g. PromiseResult in VMContext.promise_results: {"data": hex, "status": ...}
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"no canonical form for {type(value).__name__}")


def call_digest(code: bytes, method: str, context: VMContext, outcome: VMOutcome) -> str:
    ctx = {f.name: _plain(getattr(context, f.name)) for f in dataclasses.fields(context)
           if f.name != "input"}
    doc = {
        "v": DIGEST_VERSION,
        "code_hash": hashlib.sha256(code).hexdigest(),
        "method": method,
        "input": context.input.hex(),
        "context": ctx,
        "access_log": [[str(op), k.hex(), None if v is None else v.hex()]
                       for op, k, v in outcome.access_log],
        "storage_changes": [[k.hex(), None if v is None else v.hex()]
                            for k, v in sorted(outcome.storage_changes.items())],
        "result": None if outcome.return_data is None else outcome.return_data.hex(),
        "logs": list(outcome.logs),
        "gas_burnt": str(outcome.burnt_gas),
        "gas_used": str(outcome.used_gas),
        "error": None if outcome.error is None else {"kind": outcome.error.kind,
                                                      "message": outcome.error.message},
        "params": outcome.params_name,
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()
