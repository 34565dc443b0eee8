"""examples/sdkjs/cross_contract.ts written with near-sdk-js: NearPromise calls to the
status-message example with private callbacks that read the promise result."""

from __future__ import annotations

from pathlib import Path

import pytest

from outlayer import ContractSimulator
from tests.examples.support import Cli, as_args

from .support import assert_sdk_panic, example, ok

RELAY = "relay.test"
STATUS = "status.test"


@pytest.fixture
def relay(sim: ContractSimulator) -> ContractSimulator:
    sim.deploy(STATUS, example("status_message.ts"))
    sim.deploy(RELAY, example("cross_contract.ts"))
    ok(sim.call(RELAY, "init", {"status_contract": STATUS}))
    return sim


def test_requires_init(sim: ContractSimulator) -> None:
    sim.deploy(RELAY, example("cross_contract.ts"))
    assert_sdk_panic(sim.call(RELAY, "relay_status", {"message": "x"}),
                     "Contract must be initialized")


def test_call_then_callback(relay: ContractSimulator) -> None:
    result = relay.call(RELAY, "relay_status", {"message": "via relay"}, signer_id="carol.test")
    assert ok(result) is True  # the callback's value, through promise_return
    assert result.logs == ["carol.test set_status with message via relay", "relayed: via relay"]
    assert ok(relay.view(STATUS, "get_status", {"account_id": "carol.test"})) == "via relay"
    assert ok(relay.view(RELAY, "get_outcomes")) == ["set:via relay"]


def test_the_callback_sees_a_failed_call(relay: ContractSimulator) -> None:
    result = relay.call(RELAY, "relay_status", {"message": ""}, signer_id="carol.test")
    assert ok(result) is False
    assert result.logs == ["the status contract refused: "]
    assert ok(relay.view(RELAY, "get_outcomes")) == ["failed:"]
    assert relay.state(STATUS) == {}


def test_a_value_comes_back_through_the_callback(relay: ContractSimulator) -> None:
    ok(relay.call(STATUS, "set_status", {"message": "hi"}, signer_id="dave.test"))
    assert ok(relay.call(RELAY, "query_status", {"account_id": "dave.test"})) == "hi"
    assert ok(relay.view(RELAY, "get_last_seen", {"account_id": "dave.test"})) == "hi"
    assert ok(relay.call(RELAY, "query_status", {"account_id": "nobody.test"})) is None


@pytest.mark.parametrize("method", ["on_status_set", "on_status"])
def test_callbacks_are_private(relay: ContractSimulator, method: str) -> None:
    result = relay.call(RELAY, method, {"message": "x", "account_id": "x"},
                        signer_id="mallory.test")
    assert_sdk_panic(result, "Function is private")


def test_through_the_cli(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "state.db")
    cli("deploy", STATUS, example("status_message.ts"))
    cli("deploy", RELAY, example("cross_contract.ts"))
    cli("call", RELAY, "init", "--args", as_args(status_contract=STATUS))
    called = cli("call", RELAY, "relay_status", "--args", as_args(message="cli"),
                 "--signer", "erin.test")
    assert called["result"] is True
    assert cli("view", RELAY, "get_outcomes")["result"] == ["set:cli"]
