"""nearcore's direct view methods (EXPERIMENTAL_view_account, _view_code, _view_state,
_view_access_key, _view_access_key_list, _call_function): the `query` of that request type,
with its params and result shapes, and nearcore's RpcCallFunctionError for a failing call."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from outlayer.service.rpc import DIRECT_VIEWS
from tests.service.test_rpc_changes import deploy_and_call

ARGS = {"view_account": {}, "view_code": {}, "view_state": {"prefix_base64": ""},
        "view_access_key": {}, "view_access_key_list": {},
        "call_function": {"method_name": "get_count", "args_base64": ""}}


@pytest.fixture
def counter(node: Any) -> tuple[Any, int]:
    """test.near runs the counter, incremented once; the height of that call's block."""
    _, call = deploy_and_call(node)
    height = node.result("block", {"block_id": call["transaction_outcome"]["block_hash"]})
    return node, height["header"]["height"]


@pytest.mark.parametrize("method", sorted(DIRECT_VIEWS))
def test_a_direct_view_is_the_query_of_its_type(counter: tuple[Any, int], method: str) -> None:
    node, height = counter
    kind = DIRECT_VIEWS[method]
    args = dict(ARGS[kind])
    if kind == "view_access_key":
        args["public_key"] = node.public_key
    for reference in ({"finality": "final"}, {"block_id": height}, {"block_id": height - 1}):
        params = {"account_id": "test.near", **reference, **args}
        direct = node.result(method, params)
        assert direct == node.result("query", {"request_type": kind, **params})
        assert "block_height" in direct and "block_hash" in direct
    unknown = node.error(method, {"account_id": "nobody.test.near", "finality": "final",
                                  **args})
    assert unknown["cause"]["name"] == "UNKNOWN_ACCOUNT", unknown
    for bad in (["test.near"], "test.near", {"account_id": "test.near", **args}):
        error = node.error(method, bad)
        assert error["cause"]["name"] == "PARSE_ERROR" and error["code"] == -32700, error


def test_direct_views_read_the_contract(counter: tuple[Any, int]) -> None:
    node, _ = counter
    got = node.result("EXPERIMENTAL_call_function", {
        "account_id": "test.near", "finality": "final", "method_name": "get_count",
        "args_base64": base64.b64encode(b"{}").decode()})
    assert bytes(got["result"]) == b"1" and got["logs"] == []
    state = node.result("EXPERIMENTAL_view_state", {"account_id": "test.near",
                                                    "finality": "final", "prefix_base64": ""})
    assert state["values"]


def test_a_failing_direct_call_is_nearcores_call_function_error(counter: tuple[Any, int]
                                                               ) -> None:
    """EXPERIMENTAL_call_function's CONTRACT_EXECUTION_ERROR carries the FunctionCallError
    itself as `vm_error`; `query` answers the same failure as a result whose `error` is
    its text (nearcore's backward-compatible form)."""
    node, _ = counter
    params = {"account_id": "test.near", "finality": "final", "method_name": "no_such",
              "args_base64": ""}
    error = node.error("EXPERIMENTAL_call_function", params)
    assert error["name"] == "HANDLER_ERROR" and error["code"] == -32000
    assert error["cause"]["name"] == "CONTRACT_EXECUTION_ERROR"
    info = error["cause"]["info"]
    assert info["vm_error"] == {"MethodResolveError": "MethodNotFound"}
    assert set(info) == {"vm_error", "block_height", "block_hash"}
    assert error["data"].startswith("Function call returned an error: ")
    queried = node.result("query", {"request_type": "call_function", **params})
    assert queried == {"error": "wasm execution failed with error: "
                                "MethodResolveError(MethodNotFound)", "logs": [],
                       "block_height": info["block_height"], "block_hash": info["block_hash"]}
