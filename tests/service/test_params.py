"""Missing or wrong-typed params are nearcore's REQUEST_VALIDATION_ERROR / PARSE_ERROR
(code -32700, as nearcore's RpcParseError), with messages in JSON's words, never Python's
type names."""

from __future__ import annotations

import re

import pytest

PYTHON_WORDS = re.compile(r"NoneType|\b(int|str|dict|list|bool|float|None|True|False)\b")
VIEW = {"request_type": "view_account", "finality": "final"}

BAD = [
    ("query", VIEW, "missing field `account_id`"),
    ("query", {**VIEW, "account_id": None}, "missing field `account_id`"),
    ("query", {**VIEW, "account_id": 5}, "`account_id` must be a string, got a number"),
    ("query", {**VIEW, "account_id": ["a"]}, "`account_id` must be a string, got an array"),
    ("query", {"finality": "final", "account_id": "test.near"},
     "missing field `request_type`"),
    ("query", {**VIEW, "request_type": None, "account_id": "test.near"},
     "missing field `request_type`"),
    ("query", {**VIEW, "request_type": 7, "account_id": "test.near"},
     "unknown request_type 7"),
    ("query", {**VIEW, "finality": None, "account_id": "test.near"}, "unknown finality null"),
    ("query", {**VIEW, "finality": True, "account_id": "test.near"}, "unknown finality true"),
    ("query", {"request_type": "call_function", "finality": "final",
               "account_id": "test.near"}, "missing field `method_name`"),
    ("query", {"request_type": "call_function", "finality": "final",
               "account_id": "test.near", "method_name": 1}, "got a number"),
    ("query", {"request_type": "view_access_key", "finality": "final",
               "account_id": "test.near"}, "missing field `public_key`"),
    ("query", {"request_type": "view_state", "finality": "final", "account_id": "test.near",
               "prefix_base64": False}, "must be a base64 string, got a boolean"),
    ("query", {"request_type": "view_state", "finality": "final", "account_id": "test.near"},
     "missing field `prefix_base64`"),
    ("EXPERIMENTAL_view_state", {"finality": "final", "account_id": "test.near"},
     "missing field `prefix_base64`"),
    ("query", "view_account", "query takes an object of params, got a string"),
    ("send_tx", {"signed_tx_base64": None}, "must be a base64 string, got null"),
    ("send_tx", {"signed_tx_base64": "", "wait_until": None}, "unknown wait_until null"),
    ("send_tx", 3, "send_tx takes an object of params, got a number"),
    ("tx", {"tx_hash": "x"}, "missing field `sender_account_id`"),
    ("tx", {"tx_hash": 1, "sender_account_id": "test.near"}, "got a number"),
    ("tx", {"tx_hash": "x", "sender_account_id": "a", "wait_until": "SOON"},
     'unknown wait_until "SOON"'),
    ("sandbox_patch_state", {"records": [{"Data": {"data_key": "", "value": ""}}]},
     "missing field `records[0].account_id`"),
    ("sandbox_fast_forward", None, "got null"),
]


@pytest.mark.parametrize(("method", "params", "says"), BAD,
                         ids=[f"{m}-{i}" for i, (m, _, _) in enumerate(BAD)])
def test_bad_params_are_request_validation_errors(node, method, params, says):
    reply = node.http.post("/", json={"jsonrpc": "2.0", "id": 1, "method": method,
                                      "params": params}).json()
    error = reply["error"]
    assert error["name"] == "REQUEST_VALIDATION_ERROR", error
    assert error["cause"]["name"] == "PARSE_ERROR"
    assert error["code"] == -32700 and error["message"] == "Parse error"
    message = error["cause"]["info"]["error_message"]
    assert says in message, message
    assert not PYTHON_WORDS.search(message), message
    assert error["data"] == message


def test_an_invalid_account_id_string_is_still_invalid_account(node):
    error = node.error("query", {**VIEW, "account_id": "Not Valid"})
    assert error["cause"]["name"] == "INVALID_ACCOUNT"
    assert error["cause"]["info"]["requested_account_id"] == "Not Valid"


def _by_block(method: str, block_id: object) -> object:
    """The params of `method` naming the block `block_id`."""
    return {"block": {"block_id": block_id},
            "query": {**VIEW, "account_id": "test.near", "block_id": block_id},
            "EXPERIMENTAL_view_account": {"account_id": "test.near", "block_id": block_id},
            "EXPERIMENTAL_changes_in_block": {"block_id": block_id},
            "EXPERIMENTAL_changes": {"block_id": block_id, "changes_type": "account_changes",
                                     "account_ids": ["test.near"]},
            "EXPERIMENTAL_protocol_config": {"block_id": block_id},
            "chunk": {"block_id": block_id, "shard_id": 0},
            "gas_price": [block_id],
            "validators": {"block_id": block_id},
            "EXPERIMENTAL_validators_ordered": [block_id]}[method]


BLOCK_METHODS = ["block", "query", "EXPERIMENTAL_view_account", "EXPERIMENTAL_changes_in_block",
                 "EXPERIMENTAL_changes", "EXPERIMENTAL_protocol_config", "chunk", "gas_price",
                 "validators", "EXPERIMENTAL_validators_ordered"]


@pytest.mark.parametrize("method", BLOCK_METHODS)
def test_a_malformed_block_id_is_a_parse_error_everywhere(node, method):
    """nearcore's BlockId is a u64 or a base58 32-byte hash: anything else fails its parse
    (-32700), and only a well-formed id of no block is UNKNOWN_BLOCK."""
    for bad in ("abc", -1, 2**64, True, 1.5, None, "0OIl" * 11, [3]):
        if method in ("gas_price", "EXPERIMENTAL_validators_ordered") and bad is None:
            continue  # [null]: the latest block
        error = node.error(method, _by_block(method, bad))
        assert error["name"] == "REQUEST_VALIDATION_ERROR", (bad, error)
        assert error["cause"]["name"] == "PARSE_ERROR" and error["code"] == -32700, (bad, error)
        assert "block_id" in error["data"], error
    for unknown in (10**6, 2**63, 2**64 - 1, "1" * 32, "5" * 44):
        error = node.error(method, _by_block(method, unknown))
        assert error["cause"]["name"] == "UNKNOWN_BLOCK", (unknown, error)
        assert error["code"] == -32000


def test_every_params_parse_failure_has_one_code(node):
    """A bad hash, bad base64 and a wrong shape are all nearcore's RpcParseError."""
    refusals = [("tx", {"tx_hash": "0OIl", "sender_account_id": "test.near"}),
                ("tx", {"tx_hash": 5, "sender_account_id": "test.near"}),
                ("EXPERIMENTAL_receipt", {"receipt_id": "abc"}),
                ("EXPERIMENTAL_receipt", {}),
                ("chunk", {"chunk_id": "abc"}),
                ("chunk", {"chunk_id": 5}),
                ("validators", {"epoch_id": "abc"}),
                ("send_tx", {"signed_tx_base64": "%%%"}),
                ("send_tx", {"signed_tx_base64": "AAAA"}),
                ("query", {**VIEW, "request_type": "view_state", "account_id": "test.near",
                           "prefix_base64": "%%"}),
                ("query", {"request_type": "view_account", "account_id": "test.near"})]
    for method, params in refusals:
        error = node.error(method, params)
        assert (error["name"], error["cause"]["name"], error["code"], error["message"]) == \
            ("REQUEST_VALIDATION_ERROR", "PARSE_ERROR", -32700, "Parse error"), (method, error)


def test_the_first_block_reference_key_decides_as_in_nearcore(node):
    """nearcore reads BlockReference from a sorted map: block_id, then finality, then
    sync_checkpoint; the first present decides, even when its value is bad."""
    node.result("sandbox_fast_forward", {"delta_height": 3})
    latest = node.result("block", {"finality": "final"})["header"]["height"]
    assert latest >= 3
    for params in ({"finality": "final", "block_id": 1}, {"block_id": 1, "finality": "final"},
                   {"sync_checkpoint": "genesis", "block_id": 1}):
        assert node.result("block", params)["header"]["height"] == 1
        view = node.result("query", {**VIEW, **params, "account_id": "test.near"})
        assert view["block_height"] == 1
        changes = node.result("EXPERIMENTAL_changes_in_block", params)
        assert changes["block_hash"] == node.result("block", [1])["header"]["hash"]
    assert node.result("block", {"finality": "final", "sync_checkpoint": "genesis"})[
        "header"]["height"] == latest
    for checkpoint in ("genesis", "earliest_available"):
        assert node.result("block", {"sync_checkpoint": checkpoint})["header"]["height"] == 0
    for params, says in (({"block_id": None, "finality": "final"}, "block_id"),
                         ({"finality": None, "sync_checkpoint": "genesis"}, "finality"),
                         ({"sync_checkpoint": "latest"}, "unknown sync_checkpoint"),
                         ({}, "one of `block_id`, `finality` or `sync_checkpoint`")):
        error = node.error("block", params)
        assert error["code"] == -32700 and says in error["data"], (params, error)
