"""NEAR JSON-RPC 2.0 over the node's chain: request parsing, method dispatch, error mapping.

Each method reads its params (nearcore's object form; the positional list forms that
near-api-js and older clients still send are accepted where nearcore accepts them), runs on
the chain thread (`Node.run`) and returns nearcore's result shape (`views`). Every failure is
an `RpcError` (`errors`): bad JSON, unknown methods, wrong params, bad base64 or borsh, bad
signatures, replayed nonces, unknown accounts. Nothing a request sends can crash the server
or leave partial state: chain writes happen only in `ContractSimulator.submit_signed` (one
store transaction per block) and the sandbox methods.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import base58

from outlayer.chain import blocks, global_contracts, patches, signed
from outlayer.chain.accounts import (
    BadAccountId,
    check_account_id,
    public_key_bytes,
    public_key_str,
)
from outlayer.chain.outcomes import FinalOutcome
from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.store import Block
from outlayer.errors import (
    AccountNotFound,
    ContractNotDeployed,
    OutLayerError,
    UserError,
    json_type,
)
from outlayer.service import errors, views
from outlayer.service.config import GenesisAccount
from outlayer.service.errors import RpcError
from outlayer.service.node import Node

log = logging.getLogger("outlayer.service")

#: the largest request body the node reads: a max-size contract (4 MiB) in base64 plus
#: room for the rest of the transaction and the JSON envelope.
MAX_BODY_BYTES = 8 * 1024 * 1024
FINALITIES = ("optimistic", "near-final", "final")
WAIT_UNTIL = ("NONE", "INCLUDED", "EXECUTED_OPTIMISTIC", "INCLUDED_FINAL", "EXECUTED", "FINAL")
#: wait_until values met only once the transaction's receipts have all run; the others are
#: met once it is in a block (every block is final at once on a single node)
EXECUTED = ("EXECUTED_OPTIMISTIC", "EXECUTED", "FINAL")
#: how long a request waits for a transaction to reach its wait_until before answering
#: TIMEOUT_ERROR (nearcore's RPC polling timeout is 10 s)
DEFAULT_TX_TIMEOUT = 10.0
#: a waiting request re-reads the chain at least this often (changes made outside the RPC,
#: e.g. by the playground, do not wake it)
_RECHECK_SECONDS = 0.5

Params = Any
Handler = Callable[["Rpc", Params], Awaitable[Any]]




def _shown(value: Any) -> str:
    """A param value as JSON, shortened, for messages."""
    text = json.dumps(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _obj(params: Params, method: str) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise errors.bad_params(f"{method} takes an object of params, got "
                                f"{json_type(params)}")
    return params


def _str_field(params: dict[str, Any], name: str) -> str:
    value = params.get(name)
    if not isinstance(value, str):
        raise errors.bad_params(f"missing field `{name}`" if value is None else
                                f"`{name}` must be a string, got {json_type(value)}")
    return value


def _b64(text: Any, name: str) -> bytes:
    if not isinstance(text, str):
        raise errors.bad_params(f"`{name}` must be a base64 string, got {json_type(text)}")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise errors.parse_error(f"`{name}` is not valid base64: {exc}") from None


def _account(value: Any, block: Block | None = None, name: str = "account_id") -> str:
    """A valid account id; missing or not a string: a params error (nearcore's PARSE_ERROR);
    a string NEAR refuses: INVALID_ACCOUNT."""
    if not isinstance(value, str):
        raise errors.bad_params(f"missing field `{name}`" if value is None else
                                f"`{name}` must be a string, got {json_type(value)}")
    try:
        return check_account_id(value)
    except BadAccountId as exc:
        info: dict[str, Any] = {"requested_account_id": value}
        if block is not None:
            info.update(views.at(block))
        raise errors.handler("INVALID_ACCOUNT", info, exc.message) from None


def _unknown_account(account_id: str, block: Block) -> RpcError:
    return errors.handler("UNKNOWN_ACCOUNT", {"requested_account_id": account_id,
                                              **views.at(block)},
                          f"account {account_id} does not exist while viewing")


#: the keys of nearcore's BlockReference, in the order its parse finds them: an externally
#: tagged enum flattened into the params, read from serde_json's (sorted) map, so the first
#: of these present decides and the others are ignored
BLOCK_REFERENCE_KEYS = ("block_id", "finality", "sync_checkpoint")
SYNC_CHECKPOINTS = ("genesis", "earliest_available")


def _block_ref(sim: ContractSimulator, params: dict[str, Any]) -> Block:
    """The block a request names by nearcore's BlockReference: `block_id` (height or base58
    hash), `finality` or `sync_checkpoint`; the first of them present decides (as nearcore's
    parse: `{"finality": "final", "block_id": 3}` is block 3, `{"block_id": null, ...}` a
    parse error)."""
    key = next((k for k in BLOCK_REFERENCE_KEYS if k in params), None)
    if key is None:
        raise errors.bad_params("one of `block_id`, `finality` or `sync_checkpoint` is "
                                "required")
    value = params[key]
    if key == "block_id":
        return _block_by_id(sim, value)
    if key == "finality":
        if value not in FINALITIES:
            raise errors.bad_params(f"unknown finality {_shown(value)} (use one of "
                                    f"{', '.join(FINALITIES)})")
        return sim.block  # every block is final at once on a single node
    if value not in SYNC_CHECKPOINTS:
        raise errors.bad_params(f"unknown sync_checkpoint {_shown(value)} (use one of "
                                f"{', '.join(SYNC_CHECKPOINTS)})")
    block = sim.store.get_block(sim.history_start)  # the earliest block the node has
    assert block is not None
    return block


def parse_block_id(block_id: Any) -> int | bytes:
    """nearcore's BlockId: a u64 height or a base58 32-byte hash (its bytes); anything else
    (a negative or too large number, a string that is no such hash, null) is a parse error."""
    if isinstance(block_id, int) and not isinstance(block_id, bool) and \
            0 <= block_id < 1 << 64:
        return block_id
    if isinstance(block_id, str):
        try:
            raw = base58.b58decode(block_id)
        except ValueError:
            raw = b""
        if len(raw) == 32:
            return raw
        raise errors.bad_params(f"block_id {_shown(block_id)} is neither a height nor a "
                                "base58 32-byte block hash")
    raise errors.bad_params(f"block_id must be a height (0 to 2^64-1) or a base58 block "
                            f"hash, got {_shown(block_id)}")


def _block_by_id(sim: ContractSimulator, block_id: Any) -> Block:
    """The block of a well-formed block id (`parse_block_id`), else UNKNOWN_BLOCK."""
    parsed = parse_block_id(block_id)
    if isinstance(parsed, bytes):
        block = sim.store.block_by_hash(parsed)
    else:
        block = sim.store.get_block(parsed) if parsed < 1 << 63 else None
    if block is None or block.hash is None:
        raise errors.handler("UNKNOWN_BLOCK", {"block_reference": {"block_id": block_id}},
                             f"block {block_id!r} is not known")
    return block


# --- chain-thread work ----------------------------------------------------------------------


def _status(sim: ContractSimulator, chain_id: str) -> dict[str, Any]:
    latest = sim.block
    genesis = sim.store.get_block(sim.history_start) or latest
    return {
        "version": views.NODE_VERSION, "chain_id": chain_id,
        "protocol_version": views.PROTOCOL_VERSION,
        "latest_protocol_version": views.PROTOCOL_VERSION, "rpc_addr": None,
        "validators": [], "validator_account_id": None, "validator_public_key": None,
        "node_public_key": "ed25519:" + views.b58(bytes(32)), "node_key": None,
        "uptime_sec": 0, "genesis_hash": views.block_hash(genesis),
        "sync_info": {
            "latest_block_hash": views.block_hash(latest),
            "latest_block_height": latest.height,
            "latest_state_root": views.b58(latest.state_root),
            "latest_block_time": views.iso_time(latest.timestamp_ns),
            "syncing": False,
            "earliest_block_hash": views.block_hash(genesis),
            "earliest_block_height": genesis.height,
            "earliest_block_time": views.iso_time(genesis.timestamp_ns),
            "epoch_id": views.ZERO_HASH,
            "epoch_start_height": blocks.epoch_start(latest.height, sim.epoch_length),
        },
    }


def _block(sim: ContractSimulator, params: Params) -> dict[str, Any]:
    if isinstance(params, list):  # ["<hash>"] / [height]
        if len(params) != 1:
            raise errors.bad_params("block takes [block_id] or {finality | block_id}")
        block = _block_by_id(sim, params[0])
    else:
        block = _block_ref(sim, _obj(params, "block"))
    with sim.store.snapshot():
        prev = sim.store.get_block(block.height - 1) if block.height > 0 else None
        burnt = views.burnt_in(sim.store, block.height)
    return views.block_view(block, prev, sim.gas_price, burnt)


def _gas_price(sim: ContractSimulator, params: Params) -> dict[str, Any]:
    block_id = None
    if isinstance(params, list):
        if len(params) > 1:
            raise errors.bad_params("gas_price takes [block_id or null]")
        block_id = params[0] if params else None
    elif isinstance(params, dict):
        block_id = params.get("block_id")
    elif params is not None:
        raise errors.bad_params("gas_price takes [block_id or null] or {block_id}")
    if block_id is not None:
        _block_by_id(sim, block_id)
    return {"gas_price": str(sim.gas_price)}


def _protocol_config(sim: ContractSimulator, chain_id: str, params: Params) -> dict[str, Any]:
    if isinstance(params, dict) and any(k in params for k in BLOCK_REFERENCE_KEYS):
        _block_ref(sim, params)
    p = sim.params
    return {"chain_id": chain_id, "protocol_version": views.PROTOCOL_VERSION,
            "genesis_height": 0, "epoch_length": sim.epoch_length,
            "min_gas_price": str(sim.gas_price), "max_gas_price": str(sim.gas_price),
            "transaction_validity_period": signed.TRANSACTION_VALIDITY_PERIOD,
            "minimum_stake_ratio": [1, 6250],
            "runtime_config": {
                "storage_amount_per_byte": str(p.storage_amount_per_byte),
                "wasm_config": {"limit_config": {
                    "max_contract_size": p.max_contract_size,
                    "max_transaction_size": p.max_transaction_size,
                    "max_total_prepaid_gas": p.max_total_prepaid_gas,
                    "max_arguments_length": p.max_arguments_length,
                    "max_length_method_name": p.max_length_method_name,
                    "max_actions_per_receipt": p.max_actions_per_receipt}},
            }}


def _query(sim: ContractSimulator, params: Params) -> dict[str, Any]:
    if isinstance(params, list):
        raise errors.bad_params("query takes an object: {request_type, finality | block_id, "
                                "...} (the legacy path form is not supported)")
    params = _obj(params, "query")
    kind = params.get("request_type")
    if kind is None:
        raise errors.bad_params("missing field `request_type` (one of "
                                f"{', '.join(sorted(_QUERIES))})")
    if not isinstance(kind, str) or kind not in _QUERIES:
        raise errors.bad_params(f"unknown request_type {_shown(kind)} (one of "
                                f"{', '.join(sorted(_QUERIES))})")
    block = _block_ref(sim, params)
    account_id = "" if kind == "view_global_contract_code" else \
        _account(params.get("account_id"), block)
    return _QUERIES[kind](sim, params, block, account_id)


def _account_at(sim: ContractSimulator, account_id: str, block: Block
                ) -> tuple[Any, dict[bytes, bytes] | None]:
    """The account record (and, for a past block, its storage) as of `block`."""
    if block.height == sim.height:
        account = sim.store.get_account(account_id)
        if account is None:
            raise _unknown_account(account_id, block)
        return account, None
    try:
        return sim._record_at(account_id, block.height)  # noqa: SLF001 - recorded state
    except AccountNotFound:
        raise _unknown_account(account_id, block) from None


def _view_account(sim: ContractSimulator, params: dict[str, Any], block: Block,
                  account_id: str) -> dict[str, Any]:
    account, _ = _account_at(sim, account_id, block)
    latest = block.height == sim.height
    with sim.store.snapshot():
        uses = global_contracts.account_contract(sim.store, account_id,
                                                 None if latest else block.height)
    return views.account_view(account, block, uses)


def _view_code(sim: ContractSimulator, params: dict[str, Any], block: Block,
               account_id: str) -> dict[str, Any]:
    account, _ = _account_at(sim, account_id, block)
    with sim.store.snapshot():  # local code, else the global contract it uses (NEP-591)
        found = global_contracts.contract_code(
            sim.store, account, None if block.height == sim.height else block.height)
    if found is None:
        raise errors.handler("NO_CONTRACT_CODE", {"contract_account_id": account_id,
                                                  **views.at(block)},
                             f"contract code for account {account_id} does not exist")
    digest, code = found
    return {"code_base64": views.b64(code), "hash": digest, **views.at(block)}


def _view_state(sim: ContractSimulator, params: dict[str, Any], block: Block,
                account_id: str) -> dict[str, Any]:
    if "prefix_base64" not in params:  # required, as in nearcore (no default prefix)
        raise errors.bad_params("missing field `prefix_base64`")
    prefix = _b64(params["prefix_base64"], "prefix_base64")
    account, items = _account_at(sim, account_id, block)
    if items is None:
        with sim.store.snapshot():
            items = dict(sim.store.storage_items(account_id))
    values = [{"key": views.b64(k), "value": views.b64(v)}
              for k, v in sorted(items.items()) if k.startswith(prefix)]
    return {"values": values, **views.at(block)}


def _call_function(sim: ContractSimulator, params: dict[str, Any], block: Block,
                   account_id: str) -> dict[str, Any]:
    method = _str_field(params, "method_name")
    args = _b64(params.get("args_base64", ""), "args_base64")
    past = block.height != sim.height
    _account_at(sim, account_id, block)  # UNKNOWN_ACCOUNT as of that block
    try:
        result = sim.view(account_id, method, args or None,
                          block_height=block.height if past else None)
    except ContractNotDeployed:
        raise errors.handler("NO_CONTRACT_CODE", {"contract_account_id": account_id,
                                                  **views.at(block)},
                             f"contract code for account {account_id} does not exist") from None
    except UserError as exc:  # e.g. args that are not a JSON object
        raise _execution_error(exc.kind, exc.message, block) from None
    if not result.ok:
        error = result.error or {"kind": "Error", "message": "the view failed"}
        raise _execution_error(error["kind"], error["message"], block, result.logs)
    return {"result": list(result.return_data or b""), "logs": list(result.logs),
            **views.at(block)}


def _execution_error(kind: str, message: str, block: Block,
                     logs: list[str] | None = None) -> RpcError:
    """nearcore's CONTRACT_EXECUTION_ERROR; `error` is the FunctionCallError JSON."""
    error = views.function_call_error(kind, message)
    text = f"wasm execution failed with error: {views.rust_debug(error)}"  # nearcore's text
    return errors.handler("CONTRACT_EXECUTION_ERROR",
                          {"vm_error": text, "error": error, "logs": logs or [],
                           **views.at(block)}, text)


def _keys_at(sim: ContractSimulator, account_id: str, block: Block) -> list[dict[str, Any]]:
    _account_at(sim, account_id, block)
    if block.height == sim.height:
        with sim.store.snapshot():
            return [k.to_json() for k in sim.store.access_keys(account_id)]
    with sim.store.snapshot():
        tables, _ = sim.store.state_as_of(block.height, account_id)
    return [{"public_key": row[1], "access_key": {"nonce": int(row[2]),
                                                  "permission": json.loads(row[3])}}
            for row in sorted(tables.get("access_keys", []), key=lambda r: r[1])]


def _view_access_key(sim: ContractSimulator, params: dict[str, Any], block: Block,
                     account_id: str) -> dict[str, Any]:
    text = _str_field(params, "public_key")
    try:
        key = public_key_str(public_key_bytes(text))
    except UserError as exc:
        raise errors.parse_error(exc.message) from None
    for item in _keys_at(sim, account_id, block):
        if item["public_key"] == key:
            return {**item["access_key"], **views.at(block)}
    raise errors.handler("UNKNOWN_ACCESS_KEY", {"public_key": key, **views.at(block)},
                         f"access key {key} does not exist while viewing")


def _view_access_key_list(sim: ContractSimulator, params: dict[str, Any], block: Block,
                          account_id: str) -> dict[str, Any]:
    return {"keys": _keys_at(sim, account_id, block), **views.at(block)}


def _view_global_code(sim: ContractSimulator, params: dict[str, Any], block: Block,
                      account_id: str) -> dict[str, Any]:
    """nearcore's view_global_contract_code (`code_hash`, base58) and
    view_global_contract_code_by_account_id (`account_id`): a global contract's code."""
    if account_id:
        action = global_contracts.use_action(account_id=account_id)
    else:
        text = params.get("code_hash")
        if not isinstance(text, str):
            raise errors.bad_params("missing field `code_hash`" if text is None else
                                    f"`code_hash` must be a string, got {json_type(text)}")
        try:
            action = global_contracts.use_action(code_hash_b58=text)
        except UserError as exc:
            raise errors.bad_params(exc.message) from None
    ident = global_contracts.identifier(action)
    with sim.store.snapshot():
        if block.height == sim.height:
            digest = sim.store.get_global_contract(ident)
        else:
            row = sim.store.row_as_of("global_contracts", (ident,), block.height)
            digest = None if row is None else str(row[1])
        code = None if digest is None else sim.store.get_code(digest)
    if digest is None or code is None:
        detail = global_contracts.identifier_json(ident)
        raise errors.handler("NO_GLOBAL_CONTRACT_CODE", {"identifier": detail,
                                                         **views.at(block)},
                             f"global contract code of "
                             f"{global_contracts.describe(ident)} does not exist")
    return {"code_base64": views.b64(code), "hash": digest, **views.at(block)}


_QUERIES: dict[str, Callable[[ContractSimulator, dict[str, Any], Block, str],
                             dict[str, Any]]] = {
    "view_account": _view_account, "view_code": _view_code, "view_state": _view_state,
    "call_function": _call_function, "view_access_key": _view_access_key,
    "view_access_key_list": _view_access_key_list,
    "view_global_contract_code": _view_global_code,
    "view_global_contract_code_by_account_id": _view_global_code,
}


#: nearcore's direct view methods: `query` of one request type, its params without
#: `request_type` ({account_id, finality | block_id, ...})
DIRECT_VIEWS = {f"EXPERIMENTAL_{kind}": kind for kind in (
    "view_account", "view_code", "view_state", "view_access_key", "view_access_key_list",
    "call_function")}


def _query_compat(sim: ContractSimulator, params: Params) -> dict[str, Any]:
    """`query` as nearcore answers it: a failing call_function and an unknown access key
    come back as a *result*, `{error, logs: [], block_height, block_hash}` (nearcore's
    backward-compatible form, which clients rely on: near-api-js matches the error text,
    py-near looks for `error` in the result). Every other error stays an error; the
    EXPERIMENTAL_view_* methods answer errors as errors."""
    try:
        return _query(sim, params)
    except RpcError as exc:
        if exc.cause == "CONTRACT_EXECUTION_ERROR":
            text = exc.info["vm_error"]
        elif exc.cause == "UNKNOWN_ACCESS_KEY":
            text = f"access key {exc.info['public_key']} does not exist while viewing"
        else:
            raise
        return {"error": text, "logs": [], "block_height": exc.info["block_height"],
                "block_hash": exc.info["block_hash"]}


def _direct_view(sim: ContractSimulator, method: str, params: Params) -> dict[str, Any]:
    """EXPERIMENTAL_view_account & co.: the query of that type. A failing call answers
    nearcore's RpcCallFunctionError: `vm_error` is the FunctionCallError itself."""
    request = {**_obj(params, method), "request_type": DIRECT_VIEWS[method]}
    try:
        return _query(sim, request)
    except RpcError as exc:
        if exc.cause != "CONTRACT_EXECUTION_ERROR":
            raise
        info = {"vm_error": exc.info["error"], "block_height": exc.info["block_height"],
                "block_hash": exc.info["block_hash"]}
        raise errors.handler("CONTRACT_EXECUTION_ERROR", info,
                             f"Function call returned an error: {exc.data}") from None


def _direct_handler(method: str) -> Handler:
    async def handle(rpc: Rpc, params: Params) -> Any:
        return await rpc.node.run(_direct_view, method, params)
    return handle


def _block_hashes(sim: ContractSimulator, heights: set[int]) -> dict[int, str]:
    out = {}
    for h in heights:
        block = sim.store.get_block(h)
        if block is not None:
            out[h] = views.block_hash(block)
    return out


def signed_tx_of(sim: ContractSimulator, tx_hash: str, height: int
                 ) -> signed.SignedTransaction | None:
    """The signed transaction behind `tx_hash`, from the history entry of its block."""
    for entry in sim.store.history(height, height):
        if entry.kind == "signed_tx" and entry.body.get("tx_hash") == tx_hash:
            return signed.decode_signed(bytes.fromhex(entry.body["raw"]))
    return None


def _outcome(sim: ContractSimulator, tx_hash: str, *, receipts: bool,
             ran: tuple[FinalOutcome, signed.SignedTransaction] | None = None
             ) -> dict[str, Any]:
    """The transaction's view; `ran`: its outcome and signed transaction, just run (not
    read back from the store)."""
    from outlayer.service import chunks  # it builds on this module

    final = sim.tx_outcome(tx_hash) if ran is None else ran[0]
    tx = final.transaction_outcome
    stx = signed_tx_of(sim, tx_hash, tx.block_height) if ran is None else ran[1]
    if stx is not None:
        transaction = views.transaction_view(stx)
    else:  # made by the simulator itself (CLI, playground): as `chunk` shows it
        with sim.store.snapshot():
            txs, _raw = chunks.txs_at(sim, tx.block_height)
        made = next(t for t in txs if t.tx_hash == tx_hash)
        transaction = chunks.transaction_view(made, None)
    heights = {tx.block_height} | {o.block_height for o in final.receipts_outcome}
    view = views.final_outcome_view(final, transaction, _block_hashes(sim, heights))
    if receipts:  # EXPERIMENTAL_tx_status: nearcore's ReceiptView of each, as
        with sim.store.snapshot():  # EXPERIMENTAL_receipt gives it, in receipts_outcome order
            tree = sim.store.outcomes(tx_hash)
            found = {record["id"]: chunks.receipt_of(sim, record, tree) for record in tree
                     if record["kind"] == "receipt"}
        view["receipts"] = [chunks.receipt_view(r) for r in
                            (found.get(o.id) for o in final.receipts_outcome) if r is not None]
    return view


def hash32(value: Any, name: str) -> str:
    """A base58 32-byte hash param (a transaction, receipt or chunk id), as given."""
    if not isinstance(value, str):
        raise errors.bad_params(f"`{name}` must be a base58 hash, got {json_type(value)}")
    try:
        raw = base58.b58decode(value)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise errors.parse_error(f"{name} {value!r} is not a base58 32-byte hash")
    return value


def _tx_status(sim: ContractSimulator, tx_hash: str, receipts: bool) -> dict[str, Any]:
    hash32(tx_hash, "tx_hash")
    with sim.store.snapshot():
        known = sim.store.has_outcomes(tx_hash)
    if not known:
        raise errors.handler("UNKNOWN_TRANSACTION", {"requested_transaction_hash": tx_hash},
                             f"transaction {tx_hash} does not exist")
    return _outcome(sim, tx_hash, receipts=receipts)


def _submit(sim: ContractSimulator, raw: bytes, wait: bool) -> dict[str, Any]:
    """Run a signed transaction; one already on the chain (a client resending after a
    timeout) is answered with its outcome, as nearcore does, and not run twice."""
    stx = signed.decode_signed(raw)
    with sim.store.snapshot():
        known = sim.store.has_outcomes(stx.hash)
    if known:
        return _outcome(sim, stx.hash, receipts=False)
    final = sim.submit_signed(raw, wait=wait)
    return _outcome(sim, final.tx_hash, receipts=False, ran=(final, stx))


# --- the dispatcher ---------------------------------------------------------------------

#: JSON nesting the node parses (serde_json's default recursion limit, as nearcore has)
MAX_JSON_DEPTH = 128
_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def nesting_error(body: bytes) -> str | None:
    """Why a JSON body is refused before parsing (nested deeper than MAX_JSON_DEPTH, strings
    skipped), or None: the one depth guard of the node's JSON inputs (RPC and playground)."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return None
    depth = 0
    for token in _JSON_TOKENS.finditer(body):
        first = token.group()[:1]
        if first in (b"[", b"{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return f"the request is nested too deeply (more than {MAX_JSON_DEPTH} levels)"
        elif first in (b"]", b"}"):
            depth -= 1
    return None


def _check_depth(body: bytes) -> None:
    message = nesting_error(body)
    if message is not None:
        raise errors.parse_error(message)


class Rpc:
    """The JSON-RPC endpoint of one node."""

    def __init__(self, node: Node, chain_id: str,
                 tx_timeout: float = DEFAULT_TX_TIMEOUT,
                 genesis: Sequence[GenesisAccount] = ()) -> None:
        self.node = node
        self.chain_id = chain_id
        self.tx_timeout = tx_timeout
        #: the node config's genesis accounts (EXPERIMENTAL_genesis_config's total supply)
        self.genesis = list(genesis)
        #: set (and replaced) whenever a request changed the chain: wakes waiting requests
        self._changed = asyncio.Event()
        #: transactions sent with wait_until NONE / broadcast_tx_async, still running
        self._background: set[asyncio.Task[Any]] = set()
        self.methods: dict[str, Handler] = {
            "status": Rpc._status, "block": Rpc._block, "gas_price": Rpc._gas_price,
            "query": Rpc._query, "send_tx": Rpc._send_tx,
            "broadcast_tx_commit": Rpc._broadcast_commit,
            "broadcast_tx_async": Rpc._broadcast_async, "tx": Rpc._tx,
            "EXPERIMENTAL_tx_status": Rpc._experimental_tx_status,
            "EXPERIMENTAL_protocol_config": Rpc._protocol_config,
            "sandbox_patch_state": Rpc._patch_state,
            "sandbox_fast_forward": Rpc._fast_forward,
            **{name: _direct_handler(name) for name in DIRECT_VIEWS},
        }
        # the chain-info and state-change methods live in their own modules (they import
        # this one's request helpers, hence imported here)
        from outlayer.service import chain_info, changes, chunks

        self.methods.update(chain_info.METHODS)
        self.methods.update(changes.METHODS)
        self.methods.update(chunks.METHODS)

    async def handle(self, body: bytes) -> dict[str, Any]:
        """One request body to one response object (never raises)."""
        request_id: Any = None
        try:
            try:
                _check_depth(body)
                request = json.loads(body)
            except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, huge ints
                raise errors.parse_error(f"the request is not JSON: {exc}") from None
            if not isinstance(request, dict):
                raise errors.invalid_request("a request must be one JSON-RPC object "
                                             "(batches are not supported)")
            request_id = request.get("id")
            if request.get("jsonrpc") != "2.0":
                raise errors.invalid_request('`jsonrpc` must be "2.0"')
            method = request.get("method")
            if not isinstance(method, str):
                raise errors.invalid_request("`method` must be a string")
            handler = self.methods.get(method)
            if handler is None:
                raise errors.method_not_found(method)
            result = await handler(self, request.get("params"))
            return {"jsonrpc": "2.0", "id": request_id, "result": result}
        except RpcError as exc:
            return {"jsonrpc": "2.0", "id": request_id, "error": exc.to_json()}
        except signed.InvalidTx as exc:
            return {"jsonrpc": "2.0", "id": request_id,
                    "error": errors.invalid_transaction(exc.detail, exc.message).to_json()}
        except signed.BorshError as exc:
            return {"jsonrpc": "2.0", "id": request_id,
                    "error": errors.parse_error(exc.message).to_json()}
        except AccountNotFound as exc:
            return {"jsonrpc": "2.0", "id": request_id,
                    "error": errors.handler("UNKNOWN_ACCOUNT", {}, exc.message).to_json()}
        except UserError as exc:
            return {"jsonrpc": "2.0", "id": request_id,
                    "error": errors.bad_params(f"{exc.kind}: {exc.message}").to_json()}
        except OutLayerError as exc:  # the chain failed, not the request
            log.warning("chain error: %s: %s", exc.kind, exc.message)
            return {"jsonrpc": "2.0", "id": request_id,
                    "error": errors.internal(f"{exc.kind}: {exc.message}").to_json()}
        except Exception as exc:  # a bug: answer, log, keep serving
            log.exception("internal error")
            return {"jsonrpc": "2.0", "id": request_id,
                    "error": errors.internal(f"{type(exc).__name__}: {exc}").to_json()}

    # --- methods -----------------------------------------------------------------------

    async def _status(self, params: Params) -> Any:
        return await self.node.run(_status, self.chain_id)

    async def _block(self, params: Params) -> Any:
        return await self.node.run(_block, params)

    async def _gas_price(self, params: Params) -> Any:
        return await self.node.run(_gas_price, params)

    async def _protocol_config(self, params: Params) -> Any:
        return await self.node.run(_protocol_config, self.chain_id, params)

    async def _query(self, params: Params) -> Any:
        return await self.node.run(_query_compat, params)

    @staticmethod
    def _signed_bytes(params: Params, method: str) -> tuple[bytes, str]:
        if isinstance(params, list):
            if len(params) != 1:
                raise errors.bad_params(f"{method} takes [signed_tx_base64]")
            return _b64(params[0], "signed_tx_base64"), "EXECUTED_OPTIMISTIC"
        params = _obj(params, method)
        wait = params.get("wait_until", "EXECUTED_OPTIMISTIC")
        if wait not in WAIT_UNTIL:
            raise errors.bad_params(f"unknown wait_until {_shown(wait)} (one of "
                                    f"{', '.join(WAIT_UNTIL)})")
        return _b64(params.get("signed_tx_base64"), "signed_tx_base64"), wait

    async def _send(self, raw: bytes, wait_until: str) -> Any:
        stx = signed.decode_signed(raw)  # bad borsh is answered before anything is queued
        signed.verify_signature(stx)
        if wait_until == "NONE":
            self._spawn(raw)
            return {"final_execution_status": "NONE"}
        # the transaction runs (and settles) on the chain thread; one waiting on a yield
        # is awaited here, on the event loop, while other requests (its resume) go through
        try:
            view = await self.node.run(_submit, raw, True)
        finally:
            self._wake()
        return await self._await_outcome(view, stx.hash, wait_until, receipts=False)

    def _wake(self) -> None:
        """The chain changed: waiting requests re-read their transaction."""
        self._changed.set()
        self._changed = asyncio.Event()

    async def _await_outcome(self, view: dict[str, Any], tx_hash: str, wait_until: str, *,
                             receipts: bool) -> dict[str, Any]:
        """`view` once the transaction meets `wait_until` (re-read after every change of
        the chain), or TIMEOUT_ERROR after `tx_timeout` seconds, as nearcore answers."""
        if wait_until not in EXECUTED:
            return view
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.tx_timeout
        while view["final_execution_status"] != "FINAL":
            changed = self._changed  # taken before the read: no wake-up is missed
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise errors.timeout()
            try:
                await asyncio.wait_for(changed.wait(), min(remaining, _RECHECK_SECONDS))
            except TimeoutError:
                pass
            view = await self.node.run(_tx_status, tx_hash, receipts)
        return view

    def _spawn(self, raw: bytes) -> None:
        async def run() -> None:
            try:
                await self.node.run(_submit, raw, True)
                self._wake()
            except OutLayerError as exc:  # refused: the client learns it from `tx`
                log.info("async transaction refused: %s", exc.message)
            except RuntimeError as exc:  # the node closed before the transaction ran
                log.info("async transaction dropped: %s", exc)

        task = asyncio.get_running_loop().create_task(run())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _send_tx(self, params: Params) -> Any:
        raw, wait = self._signed_bytes(_obj(params, "send_tx"), "send_tx")
        return await self._send(raw, wait)

    async def _broadcast_commit(self, params: Params) -> Any:
        raw, _ = self._signed_bytes(params, "broadcast_tx_commit")
        return await self._send(raw, "FINAL")

    async def _broadcast_async(self, params: Params) -> Any:
        raw, _ = self._signed_bytes(params, "broadcast_tx_async")
        stx = signed.decode_signed(raw)
        signed.verify_signature(stx)
        self._spawn(raw)
        return stx.hash

    async def _tx_args(self, params: Params, method: str) -> tuple[str, str]:
        """(tx hash, wait_until) of a `tx` request (nearcore's default: EXECUTED_OPTIMISTIC)."""
        if isinstance(params, list):  # [tx_hash, sender_account_id]
            if len(params) != 2 or not all(isinstance(p, str) for p in params):
                raise errors.bad_params(f"{method} takes [tx_hash, sender_account_id]")
            return params[0], "EXECUTED_OPTIMISTIC"
        params = _obj(params, method)
        wait = params.get("wait_until", "EXECUTED_OPTIMISTIC")
        if wait not in WAIT_UNTIL:
            raise errors.bad_params(f"unknown wait_until {_shown(wait)} (one of "
                                    f"{', '.join(WAIT_UNTIL)})")
        if "signed_tx_base64" in params:
            raw = _b64(params["signed_tx_base64"], "signed_tx_base64")
            return signed.decode_signed(raw).hash, wait
        _str_field(params, "sender_account_id")
        return _str_field(params, "tx_hash"), wait

    async def _tx(self, params: Params) -> Any:
        return await self._tx_view(params, "tx", receipts=False)

    async def _experimental_tx_status(self, params: Params) -> Any:
        return await self._tx_view(params, "EXPERIMENTAL_tx_status", receipts=True)

    async def _tx_view(self, params: Params, method: str, *, receipts: bool) -> Any:
        tx_hash, wait = await self._tx_args(params, method)
        view = await self.node.run(_tx_status, tx_hash, receipts)
        return await self._await_outcome(view, tx_hash, wait, receipts=receipts)

    async def _patch_state(self, params: Params) -> Any:
        params = _obj(params, "sandbox_patch_state")
        records = params.get("records")
        if not isinstance(records, list):
            raise errors.bad_params("sandbox_patch_state takes {records: [...]}")
        await self.node.run(_patch, records)
        self._wake()
        return {}

    async def _fast_forward(self, params: Params) -> Any:
        params = _obj(params, "sandbox_fast_forward")
        delta = params.get("delta_height")
        if isinstance(delta, bool) or not isinstance(delta, int) or not 0 <= delta <= 100_000:
            raise errors.bad_params("sandbox_fast_forward takes {delta_height: 0..100000}")
        await self.node.run(lambda sim, n: sim.fast_forward(n), delta)
        self._wake()  # new blocks may time out a yield a request waits on
        return {}


def _patch(sim: ContractSimulator, records: list[Any]) -> None:
    """nearcore StateRecords, all or none (`outlayer.chain.patches`): a bad record is a
    params error naming its index and field, a record of a missing account UNKNOWN_ACCOUNT."""
    try:
        sim.patch_records(records)
    except patches.PatchAccountMissing as exc:
        raise errors.handler("UNKNOWN_ACCOUNT", {"requested_account_id": exc.account_id},
                             exc.message) from None
    except UserError as exc:  # a PatchError, or code that does not load
        raise errors.bad_params(exc.message) from None
