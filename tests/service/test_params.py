"""Missing or wrong-typed params are nearcore's REQUEST_VALIDATION_ERROR / PARSE_ERROR
(code -32602), with messages in JSON's words, never Python's type names."""

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
    ("query", {**VIEW, "finality": None, "account_id": "test.near"}, "`finality`"),
    ("query", {**VIEW, "finality": True, "account_id": "test.near"}, "unknown finality true"),
    ("query", {"request_type": "call_function", "finality": "final",
               "account_id": "test.near"}, "missing field `method_name`"),
    ("query", {"request_type": "call_function", "finality": "final",
               "account_id": "test.near", "method_name": 1}, "got a number"),
    ("query", {"request_type": "view_access_key", "finality": "final",
               "account_id": "test.near"}, "missing field `public_key`"),
    ("query", {"request_type": "view_state", "finality": "final", "account_id": "test.near",
               "prefix_base64": False}, "must be a base64 string, got a boolean"),
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
    assert error["code"] == -32602
    message = error["cause"]["info"]["error_message"]
    assert says in message, message
    assert not PYTHON_WORDS.search(message), message
    assert error["data"] == message


def test_an_invalid_account_id_string_is_still_invalid_account(node):
    error = node.error("query", {**VIEW, "account_id": "Not Valid"})
    assert error["cause"]["name"] == "INVALID_ACCOUNT"
    assert error["cause"]["info"]["requested_account_id"] == "Not Valid"
