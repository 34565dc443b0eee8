"""Bad input to the JSON-RPC endpoint: every case is a JSON-RPC error, nothing is written."""

from __future__ import annotations

import base64

import base58
import pytest

from outlayer.chain import signed
from outlayer.service.rpc import MAX_BODY_BYTES
from outlayer.vm.receipts import DeployContract, FunctionCall, Transfer

from .test_signed_flow import COUNTER, send


def chain_mark(node):
    """What any write would change: the latest block and test.near's account and key."""
    status = node.result("status", [])["sync_info"]
    account = node.result("query", {"request_type": "view_account", "finality": "final",
                                    "account_id": "test.near"})
    keys = node.result("query", {"request_type": "view_access_key_list", "finality": "final",
                                 "account_id": "test.near"})
    return status["latest_block_hash"], account["amount"], account["code_hash"], keys["keys"]


def raw_post(node, body: bytes, **headers):
    return node.http.post("/", content=body, headers={"content-type": "application/json",
                                                      **headers})


@pytest.mark.parametrize("body, cause, code", [
    (b"{not json", "PARSE_ERROR", -32700),
    (b"\xff\xfe", "PARSE_ERROR", -32700),
    (b"[]", "PARSE_ERROR", -32600),
    (b'[{"jsonrpc":"2.0","id":1,"method":"status","params":[]}]', "PARSE_ERROR", -32600),
    (b'{"id":1,"method":"status","params":[]}', "PARSE_ERROR", -32600),
    (b'{"jsonrpc":"2.0","id":1,"method":7}', "PARSE_ERROR", -32600),
    (b'{"jsonrpc":"2.0","id":1,"method":"no_such_method","params":{}}', "METHOD_NOT_FOUND",
     -32601),
    (b'{"jsonrpc":"2.0","id":1,"method":"status","params":' + b"[" * 100_000 + b"]" * 100_000
     + b"}", "PARSE_ERROR", -32700),
    (b'{"jsonrpc":"2.0","id":1,"method":"status","params":[' + b"9" * 10_000 + b"]}",
     "PARSE_ERROR", -32700),
])
def test_malformed_requests(node, body, cause, code):
    before = chain_mark(node)
    response = raw_post(node, body)
    assert response.status_code == 200
    error = response.json()["error"]
    assert error["cause"]["name"] == cause and error["code"] == code
    assert error["name"] == "REQUEST_VALIDATION_ERROR" and error["message"]
    assert chain_mark(node) == before


@pytest.mark.parametrize("method, params, needle", [
    ("query", ["account/test.near", ""], "object"),
    ("query", {"finality": "final", "account_id": "test.near"}, "request_type"),
    ("query", {"request_type": "view_everything", "finality": "final",
               "account_id": "test.near"}, "request_type"),
    ("query", {"request_type": "view_account", "account_id": "test.near"}, "finality"),
    ("query", {"request_type": "view_account", "finality": "soon",
               "account_id": "test.near"}, "finality"),
    ("query", {"request_type": "call_function", "finality": "final",
               "account_id": "test.near", "args_base64": ""}, "method_name"),
    ("block", {"finality": 3}, "finality"),
    ("block", [1, 2], "block"),
    ("gas_price", "now", "gas_price"),
    ("send_tx", ["AAAA"], "object"),
    ("send_tx", {"signed_tx_base64": 12}, "base64"),
    ("send_tx", {"signed_tx_base64": "AAAA", "wait_until": "SOMEDAY"}, "wait_until"),
    ("broadcast_tx_commit", [], "signed_tx_base64"),
    ("tx", {"tx_hash": "abc"}, "sender_account_id"),
    ("tx", ["abc"], "tx_hash"),
    ("sandbox_fast_forward", {"delta_height": -1}, "delta_height"),
    ("sandbox_fast_forward", {"delta_height": "3"}, "delta_height"),
    ("sandbox_patch_state", {"records": [{"Account": {}}]}, "records[0].account_id"),
])
def test_wrong_param_shapes(node, method, params, needle):
    before = chain_mark(node)
    error = node.error(method, params)
    assert error["name"] == "REQUEST_VALIDATION_ERROR", error
    assert needle in error["data"], error
    assert chain_mark(node) == before


@pytest.mark.parametrize("payload, needle", [
    ("not base64!", "base64"),
    (base64.b64encode(b"").decode(), "empty"),
    (base64.b64encode(b"\x05\x00\x00\x00abc").decode(), "ends inside"),
    (base64.b64encode(b"\x02\x01\x00\x00" + bytes(40)).decode(), "version"),
])
def test_bad_base64_or_borsh(node, payload, needle):
    before = chain_mark(node)
    for method, params in (("send_tx", {"signed_tx_base64": payload}),
                           ("broadcast_tx_commit", [payload]),
                           ("broadcast_tx_async", [payload])):
        error = node.error(method, params)
        assert error["cause"]["name"] == "PARSE_ERROR", error
        assert needle in error["data"], error
    assert chain_mark(node) == before


def _signed(node, actions, nonce=1, *, seed=None, signer="test.near", receiver="test.near",
            block_hash=None):
    return signed.sign(seed or node.seed[:32], signer, nonce, receiver,
                       block_hash or node.block_hash(), actions)


def _invalid_tx(node, raw):
    error = node.error("send_tx", {"signed_tx_base64": base64.b64encode(raw).decode()})
    assert error["name"] == "HANDLER_ERROR" and error["cause"]["name"] == "INVALID_TRANSACTION"
    return error["data"]["TxExecutionError"]["InvalidTxError"]


def test_borsh_trailing_bytes_and_bad_tags(node):
    raw = _signed(node, [Transfer(1)])
    for bad in (raw + b"\x00", raw[:-1]):
        error = node.error("send_tx", {"signed_tx_base64": base64.b64encode(bad).decode()})
        assert error["cause"]["name"] == "PARSE_ERROR"
    stx = signed.decode_signed(raw)
    # the action tag byte sits right before the signature-less tail: make it unknown
    action_at = len(stx.tx_bytes) - 17
    assert raw[action_at] == 3  # Transfer
    bad = raw[:action_at] + b"\x63" + raw[action_at + 1:]
    error = node.error("send_tx", {"signed_tx_base64": base64.b64encode(bad).decode()})
    assert "unknown action type 99" in error["data"]


def test_bad_signatures(node):
    before = chain_mark(node)
    raw = _signed(node, [Transfer(1)])
    flipped = raw[:-1] + bytes([raw[-1] ^ 1])
    assert _invalid_tx(node, flipped) == "InvalidSignature"
    other = bytes(range(32))
    stx = signed.decode_signed(_signed(node, [Transfer(1)], seed=other))
    # someone else's signature over the same transaction bytes as test.near's key
    forged = signed.decode_signed(raw).tx_bytes + stx.signature
    assert _invalid_tx(node, forged) == "InvalidSignature"
    # a tx whose bytes changed after signing (the nonce)
    tampered = bytearray(raw)
    nonce_at = 4 + len("test.near") + 33
    tampered[nonce_at] ^= 0x10
    assert _invalid_tx(node, bytes(tampered)) == "InvalidSignature"
    assert chain_mark(node) == before


def test_resent_transaction_runs_once(node):
    raw = _signed(node, [DeployContract(COUNTER)], nonce=1)
    first = node.result("send_tx", {"signed_tx_base64": base64.b64encode(raw).decode()})
    mark = chain_mark(node)
    again = node.result("broadcast_tx_commit", [base64.b64encode(raw).decode()])
    assert again == first
    assert chain_mark(node) == mark


def test_refused_transactions_write_nothing(node):
    send(node, [DeployContract(COUNTER)], nonce=3)
    before = chain_mark(node)
    other = bytes(range(32))
    cases = [
        (_signed(node, [Transfer(1)], nonce=3), {"InvalidNonce": {"tx_nonce": 3, "ak_nonce": 3}}),
        (_signed(node, [Transfer(1)], nonce=2), {"InvalidNonce": {"tx_nonce": 2, "ak_nonce": 3}}),
        (_signed(node, [Transfer(1)], block_hash=bytes(32)), "Expired"),
        (_signed(node, [Transfer(1)], seed=other, signer="ghost.near"),
         {"SignerDoesNotExist": {"signer_id": "ghost.near"}}),
        (_signed(node, [Transfer(10**38)], nonce=4), None),  # NotEnoughBalance
    ]
    for raw, detail in cases:
        got = _invalid_tx(node, raw)
        if detail is None:
            assert set(got) == {"NotEnoughBalance"}, got
        else:
            assert got == detail
    key = _invalid_tx(node, _signed(node, [Transfer(1)], seed=other, nonce=4))
    assert list(key["InvalidAccessKeyError"]) == ["AccessKeyNotFound"]
    height = node.result("status", [])["sync_info"]["latest_block_height"]
    too_far = (height + 1) * 1_000_000
    assert list(_invalid_tx(node, _signed(node, [Transfer(1)], nonce=too_far))) == \
        ["NonceTooLarge"]
    bad_ids = _invalid_tx(node, _signed(node, [Transfer(1)], nonce=4, receiver="Bad!Id"))
    assert bad_ids == {"InvalidReceiverId": {"receiver_id": "Bad!Id"}}
    too_big = _invalid_tx(node, _signed(node, [DeployContract(b"x" * (4 * 2**20 + 1))], nonce=4))
    assert "TransactionSizeExceeded" in too_big, too_big  # checked before the actions, as nearcore
    assert chain_mark(node) == before
    # the nonce was not used up by the refusals
    reply, _ = send(node, [FunctionCall("increment", b"{}", 0, 30 * 10**12)], nonce=4)
    assert reply["result"]["status"] == {"SuccessValue": base64.b64encode(b"1").decode()}


def test_oversized_body_is_refused_unread(node):
    before = chain_mark(node)
    body = b'{"jsonrpc":"2.0","id":1,"method":"status","params":["' + \
        b"a" * MAX_BODY_BYTES + b'"]}'
    response = raw_post(node, body)
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == -32600 and str(MAX_BODY_BYTES) in error["data"]
    assert chain_mark(node) == before


def test_oversized_chunked_body_is_cut_off(node):
    chunk = b"a" * 2**20
    sent = 0

    def body():
        nonlocal sent
        yield b'{"jsonrpc":"2.0","id":1,"method":"status","params":["'
        while sent < 4 * MAX_BODY_BYTES:  # more than the node reads
            sent += len(chunk)
            yield chunk
        yield b'"]}'

    response = node.http.post("/", content=body(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == -32600


def test_unknown_accounts_blocks_keys_and_transactions(node):
    for kind in ("view_account", "view_code", "view_state", "view_access_key_list"):
        error = node.error("query", {"request_type": kind, "finality": "final",
                                     "account_id": "nobody.near", "prefix_base64": ""})
        assert error["cause"]["name"] == "UNKNOWN_ACCOUNT", error
        assert error["cause"]["info"]["requested_account_id"] == "nobody.near"
    error = node.error("query", {"request_type": "call_function", "finality": "final",
                                 "account_id": "nobody.near", "method_name": "get",
                                 "args_base64": ""})
    assert error["cause"]["name"] == "UNKNOWN_ACCOUNT"
    error = node.error("query", {"request_type": "view_account", "finality": "final",
                                 "account_id": "Not An Id"})
    assert error["cause"]["name"] == "INVALID_ACCOUNT"
    error = node.error("query", {"request_type": "view_code", "finality": "final",
                                 "account_id": "test.near"})
    assert error["cause"]["name"] == "NO_CONTRACT_CODE"
    unknown = "ed25519:" + base58.b58encode(bytes(32)).decode()
    key = {"finality": "final", "account_id": "test.near", "public_key": unknown}
    # nearcore's backward-compatible form: `query` answers this one as a result
    viewed = node.result("query", {"request_type": "view_access_key", **key})
    assert viewed["error"] == f"access key {unknown} does not exist while viewing"
    assert viewed["logs"] == [] and {"block_height", "block_hash"} <= viewed.keys()
    error = node.error("EXPERIMENTAL_view_access_key", key)
    assert error["cause"]["name"] == "UNKNOWN_ACCESS_KEY"
    error = node.error("query", {"request_type": "view_access_key", "finality": "final",
                                 "account_id": "test.near", "public_key": "ed25519:0OIl"})
    assert error["cause"]["name"] == "PARSE_ERROR"
    for block_id in (10**6, base58.b58encode(bytes(32)).decode()):
        error = node.error("block", {"block_id": block_id})
        assert error["cause"]["name"] == "UNKNOWN_BLOCK"
    missing = base58.b58encode(bytes(32)).decode()
    error = node.error("tx", {"tx_hash": missing, "sender_account_id": "test.near"})
    assert error["cause"]["name"] == "UNKNOWN_TRANSACTION"
    error = node.error("sandbox_patch_state", {"records": [{"Data": {
        "account_id": "nobody.near", "data_key": "AA==", "value": ""}}]})
    assert error["cause"]["name"] == "UNKNOWN_ACCOUNT"


def test_contract_errors_in_views(node):
    """`query` answers a failing view as nearcore does: a result whose `error` is the
    FunctionCallError as Rust prints it (the text near-api-js matches); the
    EXPERIMENTAL_call_function method answers the same as a CONTRACT_EXECUTION_ERROR."""
    send(node, [DeployContract(COUNTER)], nonce=1)

    def failure(method, args=b""):
        params = {"finality": "final", "account_id": "test.near", "method_name": method,
                  "args_base64": base64.b64encode(args).decode()}
        error = node.error("EXPERIMENTAL_call_function", params)
        assert error["cause"]["name"] == "CONTRACT_EXECUTION_ERROR"
        return node.result("query", {"request_type": "call_function", **params})["error"]

    assert failure("no_such") == \
        "wasm execution failed with error: MethodResolveError(MethodNotFound)"
    assert failure("increment").startswith(  # a view cannot write
        "wasm execution failed with error: HostError(ProhibitedInView")
    assert failure("get_count", b"[1,2").startswith(
        "wasm execution failed with error: ExecutionError(")
