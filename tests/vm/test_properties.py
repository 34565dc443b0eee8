"""Property tests: storage_usage accounting, the overlay vs a model, fast vs exact paths."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outlayer.errors import HostError
from outlayer.vm.logic import VMLogic

from .conftest import VM, MakeVM

KEYS = st.binary(min_size=0, max_size=6).filter(lambda k: len(k) != 5) | st.sampled_from(
    [b"a", b"b", b"counter", b""]
)
VALUES = st.binary(max_size=40)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("write"), KEYS, VALUES),
        st.tuples(st.just("remove"), KEYS, st.none()),
        st.tuples(st.just("read"), KEYS, st.none()),
        st.tuples(st.just("has_key"), KEYS, st.none()),
        st.tuples(st.just("log"), st.binary(max_size=30), st.none()),
        st.tuples(st.just("read_register"), st.integers(0, 3), st.none()),
    ),
    max_size=40,
)
INITIAL = st.dictionaries(KEYS, VALUES, max_size=6)
FIXTURE_OK = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def record_size(key: bytes, value: bytes) -> int:
    return len(key) + len(value) + 40


def run_op(vm: VM, op: str, a: Any, b: Any, *, exact: bool = False) -> Any:
    """Apply one op through the public method, or through its step-by-step twin."""
    logic = vm.logic
    if op == "write":
        f = logic._storage_write_exact if exact else logic.storage_write
        return f(*vm.put(a), *vm.put(b), len(b) % 4)
    if op == "remove":
        return logic.storage_remove(*vm.put(a), 1)
    if op == "read":
        f = logic._storage_read_exact if exact else logic.storage_read
        return f(*vm.put(a), 2)
    if op == "has_key":
        return logic.storage_has_key(*vm.put(a))
    if op == "log":
        f = logic._log_utf8_exact if exact else logic.log_utf8
        return f(*vm.put(a))
    if op == "read_register":
        f = logic._read_register_exact if exact else logic.read_register
        return f(a, 0)
    raise AssertionError(op)


@FIXTURE_OK
@given(initial=INITIAL, ops=OPS)
def test_storage_usage_and_overlay_match_a_model(
    make_vm: MakeVM, initial: dict[bytes, bytes], ops: list[tuple[str, Any, Any]]
) -> None:
    vm = make_vm(storage=dict(initial), storage_usage=10_000)
    model = dict(initial)
    for op, a, b in ops:
        try:
            result = run_op(vm, op, a, b)
        except HostError:
            assert op in {"log", "read_register"}  # bad UTF-8, unset register
            continue
        if op == "write":
            assert result == (1 if a in model else 0)
            model[a] = b
        elif op == "remove":
            assert result == (1 if a in model else 0)
            model.pop(a, None)
        elif op == "read":
            assert result == (1 if a in model else 0)
            if a in model:
                assert vm.logic.registers.get(2) == model[a]
        elif op == "has_key":
            assert result == (1 if a in model else 0)
    logic: VMLogic = vm.logic
    expected = sum(record_size(k, v) for k, v in model.items())
    expected -= sum(record_size(k, v) for k, v in initial.items())
    assert logic.current_storage_usage - 10_000 == expected
    assert vm.storage == initial  # nothing written through
    committed = dict(initial)
    for key, value in logic.outcome().storage_changes.items():
        if value is None:
            committed.pop(key, None)
        else:
            committed[key] = value
    assert committed == model
    changes = list(logic.outcome().storage_changes)
    assert changes == sorted(changes)


@FIXTURE_OK
@given(
    initial=INITIAL,
    ops=OPS,
    prepaid=st.one_of(st.just(300 * 10**12), st.integers(0, 2 * 10**12)),
)
def test_fast_paths_charge_exactly_like_the_step_by_step_paths(
    make_vm: MakeVM, initial: dict[bytes, bytes], ops: list[tuple[str, Any, Any]], prepaid: int
) -> None:
    fast = make_vm(storage=dict(initial), prepaid_gas=prepaid)
    exact = make_vm(storage=dict(initial), prepaid_gas=prepaid)
    for op, a, b in ops:
        outcomes = []
        for vm, is_exact in ((fast, False), (exact, True)):
            try:
                outcomes.append(("ok", run_op(vm, op, a, b, exact=is_exact)))
            except HostError as err:
                outcomes.append(("error", err.kind))
        assert outcomes[0] == outcomes[1], (op, a, b)
        assert fast.logic.gas.burnt == exact.logic.gas.burnt
        assert fast.logic.gas.profile() == exact.logic.gas.profile()
        assert fast.logic.registers.data == exact.logic.registers.data
        assert fast.logic.logs == exact.logic.logs
        assert fast.logic.current_storage_usage == exact.logic.current_storage_usage
        if outcomes[0][1] in {"GasExceeded", "GasLimitExceeded"}:
            break
    assert fast.logic.overlay.access_log == exact.logic.overlay.access_log
