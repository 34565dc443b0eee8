"""health, network_info, validators, EXPERIMENTAL_validators_ordered,
EXPERIMENTAL_genesis_config and the unserved light-client methods, over the node's HTTP
endpoint; the epoch and stake-proposal figures on a chain with short epochs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import base58
import pytest
from nacl.signing import SigningKey

from outlayer.chain.accounts import public_key_bytes
from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.units import parse_amount
from outlayer.service.node import Node
from outlayer.service.rpc import Rpc
from outlayer.service.views import ZERO_HASH
from outlayer.vm.receipts import Stake

OTHER_HASH = base58.b58encode(b"\x07" * 32).decode()


def is_parse_error(error: dict[str, Any], code: int = -32700) -> bool:
    return error["cause"]["name"] == "PARSE_ERROR" and error["code"] == code


def test_health_and_network_info(node):
    assert node.call("health", [])["result"] is None
    assert node.call("health", None)["result"] is None
    info = node.result("network_info", [])
    assert info == {"active_peers": [], "num_active_peers": 0, "peer_max_count": 0,
                    "sent_bytes_per_sec": 0, "received_bytes_per_sec": 0,
                    "known_producers": []}
    for method in ("health", "network_info"):
        error = node.error(method, {"verbose": True})
        assert is_parse_error(error) and method in error["data"]


def test_validators_are_empty_with_the_epoch_of_the_block(node):
    latest = node.result("status", [])["sync_info"]
    view = node.result("validators", [None])
    assert view == {"current_validators": [], "next_validators": [], "current_fishermen": [],
                    "next_fishermen": [], "current_proposals": [], "prev_epoch_kickout": [],
                    "epoch_start_height": 0, "epoch_height": 1}
    assert node.result("validators", {"block_id": latest["latest_block_hash"]}) == view
    assert node.result("validators", [latest["latest_block_height"]]) == view
    assert node.result("validators", {"epoch_id": ZERO_HASH}) == view
    assert node.result("validators", {"latest": None}) == view  # nearcore's EpochReference
    # nearcore's parse: the first of block_id, epoch_id, latest decides; others are ignored
    assert node.result("validators", {"latest": None, "block_id": 0}) == {
        **view, "epoch_start_height": 0, "epoch_height": 1}
    assert node.error("validators", {"epoch_id": OTHER_HASH, "latest": None})["cause"][
        "name"] == "UNKNOWN_EPOCH"
    assert node.result("EXPERIMENTAL_validators_ordered", [None]) == []
    assert node.result("EXPERIMENTAL_validators_ordered",
                       [latest["latest_block_hash"]]) == []
    assert node.result("EXPERIMENTAL_validators_ordered", {"block_id": 0}) == []


def test_validators_bad_input(node):
    for method in ("validators", "EXPERIMENTAL_validators_ordered"):
        unknown = node.error(method, [10**6])
        assert unknown["cause"]["name"] == "UNKNOWN_BLOCK", unknown
        assert unknown["cause"]["info"] == {"block_reference": {"block_id": 10**6}}
        assert is_parse_error(node.error(method, [1, 2]))
        assert is_parse_error(node.error(method, "latest"))
        assert is_parse_error(node.error(method, [True]))
        assert is_parse_error(node.error(method, ["not-base58-0OIl"]), -32700)
    epoch = node.error("validators", {"epoch_id": OTHER_HASH})
    assert epoch["name"] == "HANDLER_ERROR" and epoch["cause"]["name"] == "UNKNOWN_EPOCH"
    assert is_parse_error(node.error("validators", {"epoch_id": "xyz"}), -32700)
    assert is_parse_error(node.error("validators", {"epoch_id": 5}))
    forms = "[null], [block_id], {block_id}, {epoch_id} or {latest: null}"
    for params in ({"shard": 0}, "latest", ["latest"], {}, [], {"latest": True}):
        error = node.error("validators", params)
        assert is_parse_error(error) and forms in error["data"], (params, error)
    assert is_parse_error(node.error("EXPERIMENTAL_validators_ordered",
                                     {"epoch_id": ZERO_HASH}))


def test_genesis_config_comes_from_the_node_config_and_chain(node):
    genesis = node.result("EXPERIMENTAL_genesis_config", [])
    status = node.result("status", [])
    protocol = node.result("EXPERIMENTAL_protocol_config", {"finality": "final"})
    assert genesis["chain_id"] == "localnet" == status["chain_id"]
    assert genesis["protocol_version"] == status["protocol_version"]
    assert genesis["genesis_time"] == status["sync_info"]["earliest_block_time"]
    assert genesis["genesis_height"] == status["sync_info"]["earliest_block_height"] == 0
    assert genesis["epoch_length"] == protocol["epoch_length"] == 43_200
    assert genesis["min_gas_price"] == genesis["max_gas_price"] == node.result(
        "gas_price", [None])["gas_price"]
    assert genesis["transaction_validity_period"] == protocol["transaction_validity_period"]
    # the node config made by a fresh start: test.near with 1e9 NEAR
    assert genesis["total_supply"] == str(parse_amount("1000000000NEAR"))
    assert genesis["validators"] == []
    assert genesis["shard_layout"] == {"V0": {"num_shards": 1, "version": 0}}
    assert genesis["gas_limit"] == node.result("block", [0])["chunks"][0]["gas_limit"]
    assert node.result("genesis_config", None) == genesis
    assert is_parse_error(node.error("EXPERIMENTAL_genesis_config", {"finality": "final"}))


def _not_served() -> list[str]:
    """The method names docs/SERVICE.md lists as not served (its "Not served" paragraph)."""
    text = (Path(__file__).parents[2] / "docs" / "SERVICE.md").read_text(encoding="utf-8")
    paragraph = text[text.index("Not served ("):].split("\n\n", 1)[0]
    names = re.findall(r"`([A-Za-z_]+)`", paragraph)
    return sorted({n for n in names if n not in ("query", "send_tx", "wait_until")
                   and not n.isupper()})  # METHOD_NOT_FOUND: the error's name


NOT_SERVED = _not_served()


def test_the_not_served_list_is_nearcores_other_methods():
    assert {"next_light_client_block", "client_config", "EXPERIMENTAL_congestion_level",
            "maintenance_windows", "EXPERIMENTAL_split_storage_info"} <= set(NOT_SERVED)
    served = set(Rpc(None, "localnet").methods)  # type: ignore[arg-type]
    assert not served & set(NOT_SERVED)
    assert {"EXPERIMENTAL_view_account", "EXPERIMENTAL_call_function"} <= served


@pytest.mark.parametrize("method", NOT_SERVED)
def test_methods_listed_as_not_served_are_method_not_found(node, method):
    error = node.error(method, {"last_block_hash": ZERO_HASH})
    assert error["name"] == "REQUEST_VALIDATION_ERROR"
    assert error["cause"] == {"name": "METHOD_NOT_FOUND", "info": {"method_name": method}}
    assert error["code"] == -32601 and error["data"] == method


def _rpc(rpc: Rpc, method: str, params: Any) -> dict[str, Any]:
    import asyncio

    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
    return asyncio.run(rpc.handle(body.encode()))


def test_epochs_and_stake_proposals_on_short_epochs():
    """A lowered stake is a proposal until the next epoch boundary (outlayer.chain.staking);
    validators shows it, and the epoch of each block, on a chain with 5-block epochs."""
    staker = "ed25519:" + base58.b58encode(
        bytes(SigningKey(bytes(range(32))).verify_key)).decode()  # a curve point
    node = Node(lambda: ContractSimulator(db_path=":memory:", epoch_length=5))
    try:

        def stake_then_lower(sim: ContractSimulator) -> int:
            sim.create_account("val.near", "100NEAR")
            for amount in ("10NEAR", "4NEAR"):
                result = sim.transact("val.near", "val.near",
                                      [Stake(parse_amount(amount), public_key_bytes(staker))])
                assert result.ok, result.error
            return sim.height

        height = node.call(stake_then_lower)
        assert height < 5
        rpc = Rpc(node, "localnet")
        view = _rpc(rpc, "validators", [None])["result"]
        assert view["current_proposals"] == [{
            "validator_stake_struct_version": "V1", "account_id": "val.near",
            "public_key": staker, "stake": str(parse_amount("4NEAR"))}]
        assert (view["epoch_start_height"], view["epoch_height"]) == (0, 1)
        assert view["current_validators"] == view["next_validators"] == []
        assert _rpc(rpc, "validators", [1])["result"]["current_proposals"] == []
        node.call(lambda sim: sim.fast_forward(8 - sim.height))
        later = _rpc(rpc, "validators", [None])["result"]
        assert (later["epoch_start_height"], later["epoch_height"]) == (5, 2)
        assert later["current_proposals"] == []  # released at block 5
        assert _rpc(rpc, "validators", [height])["result"]["current_proposals"] == \
            view["current_proposals"]  # as of that block (time travel)
        assert _rpc(rpc, "EXPERIMENTAL_validators_ordered", [None])["result"] == []
    finally:
        node.close()
