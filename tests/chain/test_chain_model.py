"""Property: any sequence of successful and failed calls leaves the store equal to a model."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outlayer.chain.codec import bytes_to_text
from outlayer.chain.simulator import ContractSimulator

from .conftest import KV_CONTRACT

KEYS = st.sampled_from(["a", "b", "c", "key with spaces", "ü"])
VALUES = st.text(max_size=12)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), KEYS, VALUES),
        st.tuples(st.just("set_then_fail"), KEYS, VALUES),
        st.tuples(st.just("remove"), KEYS, st.just("")),
    ),
    max_size=12,
)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS)
def test_store_matches_model(ops: list[tuple[str, str, str]]) -> None:
    with ContractSimulator(db_path=":memory:") as sim:
        sim.deploy("kv.test", KV_CONTRACT)
        base_usage = sim.account("kv.test")["storage_usage"]
        model: dict[str, str] = {}
        failures = 0
        for op, key, value in ops:
            result = sim.call("kv.test", op, {"key": key, "value": value})
            if op == "set_then_fail":
                assert not result.ok
                failures += 1
                continue
            assert result.ok, result.error
            if op == "set":
                model[key] = value
            else:
                model.pop(key, None)
        # state() shows text, except a value it would confuse with hex ("0x...") as hex
        assert sim.state("kv.test") == {k: bytes_to_text(v.encode())
                                         for k, v in sorted(model.items())}
        extra = sum(len(k.encode()) + len(v.encode()) + 40 for k, v in model.items())
        assert sim.account("kv.test")["storage_usage"] == base_usage + extra
        calls = [t for t in sim.transactions("kv.test", limit=1000) if t["kind"] == "call"]
        assert len(calls) == len(ops)
        assert sum(t["status"] == "failure" for t in calls) == failures
