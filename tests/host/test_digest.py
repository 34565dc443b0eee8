"""The result digest keeps its value (version 1): results recorded before stay comparable."""

from __future__ import annotations

from outlayer.digest import call_digest
from outlayer.vm.context import PromiseResult, VMContext
from outlayer.vm.outcome import OutcomeError, VMOutcome

CODE = b"export function f() {}"
CONTEXT = VMContext("c.test", "s.test", "p.test", input=b'{"a":1}', block_height=7,
                    attached_deposit=10**24, output_data_receivers=("r.test",),
                    promise_results=(PromiseResult("successful", b"\x01"),
                                     PromiseResult("failed")))


def _outcome(**changes: object) -> VMOutcome:
    fields: dict[str, object] = dict(
        return_data=b"42", logs=("hi \u2603",), burnt_gas=123, used_gas=456,
        storage_changes={b"b": None, b"a": b"1"}, attempted_changes={}, storage_usage=9,
        error=None, profile={}, params_name="nearcore",
        access_log=(("read", b"a", None), ("write", b"a", b"1"), ("remove", b"b", None)))
    fields.update(changes)
    return VMOutcome(**fields)  # type: ignore[arg-type]


def test_digest_values_are_those_of_version_1() -> None:
    # computed by the original construction (json.dumps of the documented object)
    assert call_digest(CODE, "f", CONTEXT, _outcome()) == (
        "de3650a02f02f0db01b5235608cc7429e5b7f4b3c16a898195dcf6c3c1ab4cba")
    failed = _outcome(return_data=None, logs=(), burnt_gas=5, used_gas=5, storage_changes={},
                      storage_usage=0, access_log=(),
                      error=OutcomeError("WasmTrap", 'guest "trapped"'))
    assert call_digest(CODE, "f", CONTEXT, failed) == (
        "df9510017e8197677ed6a58ff2649b2241673ed82c5fd5f414b034c5aa0a4262")


def test_digest_follows_every_input() -> None:
    base = call_digest(CODE, "f", CONTEXT, _outcome())
    assert call_digest(CODE + b" ", "f", CONTEXT, _outcome()) != base
    assert call_digest(CODE, "g", CONTEXT, _outcome()) != base
    assert call_digest(CODE, "f", CONTEXT, _outcome(used_gas=457)) != base
    other = VMContext("c.test", "s.test", "p.test", input=b'{"a":1}', block_height=8)
    assert call_digest(CODE, "f", other, _outcome()) != base
