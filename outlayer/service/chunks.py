"""The `chunk` and `EXPERIMENTAL_receipt` methods: a block's one chunk and its receipts.

OutLayer has one shard, so every block has exactly one chunk. Its header is the block view's
`chunks[0]` (`views.block_view`), named by `views.chunk_hash` (the block hash under a fixed
mask, so a chunk hash leads back to its block). The chunk lists the block's transactions, as
nearcore's SignedTransactionView, and the receipts that ran in the block, as ReceiptView.

Receipts are rebuilt exactly from what the chain records: a transaction's own receipt from
the transaction (the block's history entry), every other receipt from its stored JSON body,
which the state change log keeps from when it was queued, postponed or yielded.
"""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

import base58

from outlayer.chain import receipts as rc
from outlayer.chain import signed
from outlayer.chain.accounts import public_key_str
from outlayer.chain.runtime import Transaction
from outlayer.chain.simulator import ContractSimulator
from outlayer.chain.store import Block, StateChange
from outlayer.errors import json_type
from outlayer.service import errors, views
from outlayer.service.rpc import _block_by_id, _shown, hash32

if TYPE_CHECKING:
    from outlayer.service.rpc import Handler, Params, Rpc

log = logging.getLogger("outlayer.service")


# --- transactions and receipts of a block ---------------------------------------------------


def txs_at(sim: ContractSimulator, height: int) -> tuple[list[Transaction], dict[str, str]]:
    """The block's transactions in order, and the raw signed bytes (hex) of those a client
    signed, by hash."""
    txs: list[Transaction] = []
    raw: dict[str, str] = {}
    for entry in sim.store.history(height, height):
        if entry.kind == "signed_tx":
            raw[entry.body["tx_hash"]] = entry.body["raw"]
        elif entry.kind == "block":
            txs.extend(Transaction.from_json(t) for t in entry.body["txs"])
    return txs, raw


def transaction_view(tx: Transaction, raw_hex: str | None) -> dict[str, Any]:
    """SignedTransactionView; a transaction the simulator made itself (CLI, playground) has
    no signature or nonce: they show as null and 0."""
    if raw_hex is not None:
        return views.transaction_view(signed.decode_signed(bytes.fromhex(raw_hex)))
    return {"signer_id": tx.signer_id, "public_key": public_key_str(tx.signer_public_key),
            "nonce": 0, "receiver_id": tx.receiver_id,
            "actions": [views.action_view(a) for a in tx.actions], "priority_fee": 0,
            "signature": None, "hash": tx.tx_hash}


def receipt_view(receipt: rc.Receipt) -> dict[str, Any]:
    """nearcore's ReceiptView."""
    if isinstance(receipt, rc.DataReceipt):
        body: dict[str, Any] = {"Data": {
            "data_id": rc.b58(receipt.data_id),
            "data": None if receipt.data is None else views.b64(receipt.data),
            "is_promise_resume": receipt.is_resume}}
    else:
        body = {"Action": {
            "signer_id": receipt.signer_id,
            "signer_public_key": public_key_str(receipt.signer_public_key),
            "gas_price": str(receipt.gas_price),
            "output_data_receivers": [{"data_id": rc.b58(r.data_id),
                                       "receiver_id": r.receiver_id}
                                      for r in receipt.output_data_receivers],
            "input_data_ids": [rc.b58(d) for d in receipt.input_data_ids],
            "actions": [views.action_view(a) for a in receipt.actions],
            "is_promise_yield": receipt.is_yield}}
    return {"predecessor_id": receipt.predecessor_id, "receiver_id": receipt.receiver_id,
            "receipt_id": receipt.id, "receipt": body, "priority": 0}


def _body_in(change: StateChange, receipt_id: str) -> str | None:
    """The JSON of receipt `receipt_id` if this row change queued, postponed or yielded it."""
    row = change.row
    if row is None:
        return None
    if change.table == "receipt_queue" and row[2] == receipt_id:
        return str(row[4])
    if change.table == "postponed_receipts" and row[0] == receipt_id:
        return str(row[4])
    if change.table == "yields" and json.loads(row[5])["receipt_id"] == receipt_id:
        return str(row[5])
    return None


def _stored_body(sim: ContractSimulator, receipt_id: str, heights: range) -> str | None:
    """The receipt's JSON as the state change log kept it in one of `heights`."""
    for height in heights:
        for change in sim.store.state_changes(height):
            body = _body_in(change, receipt_id)
            if body is not None:
                return body
    return None


def receipt_of(sim: ContractSimulator, record: dict[str, Any],
               tree: list[dict[str, Any]] | None = None) -> rc.Receipt | None:
    """The receipt an outcome record (kind "receipt") executed; `tree`: the outcome records
    of its transaction, if read already."""
    receipt_id, tx_hash = record["id"], record["tx_hash"]
    tree = sim.store.outcomes(tx_hash) if tree is None else tree
    parent = next((r for r in tree if receipt_id in r["receipt_ids"]), None)
    if parent is not None and parent["kind"] == "transaction":
        txs, _ = txs_at(sim, int(parent["block_height"]))
        tx = next((t for t in txs if t.tx_hash == tx_hash), None)
        if tx is not None:  # the receipt `ReceiptRuntime._convert` makes of it
            return rc.ActionReceipt(
                receipt_id=rc.tx_receipt_id(tx_hash), predecessor_id=tx.signer_id,
                receiver_id=tx.receiver_id, signer_id=tx.signer_id,
                signer_public_key=tx.signer_public_key, gas_price=sim.gas_price,
                actions=list(tx.actions), tx_hash=tx_hash)
    ran = int(record["block_height"])
    first = int(parent["block_height"]) if parent is not None else ran - 1
    body = _stored_body(sim, receipt_id, range(max(first, 0), ran + 1))
    return None if body is None else rc.loads(body)


def _block_receipts(sim: ContractSimulator, height: int) -> list[dict[str, Any]]:
    trees: dict[str, list[dict[str, Any]]] = {}
    out = []
    for record in sim.store.outcomes_at(height):
        if record["kind"] != "receipt":
            continue
        tree = trees.get(record["tx_hash"])
        if tree is None:
            tree = trees[record["tx_hash"]] = sim.store.outcomes(record["tx_hash"])
        receipt = receipt_of(sim, record, tree)
        if receipt is None:  # its body is not in the log (cannot happen on a schema-4 chain)
            log.warning("block %d: receipt %s not found in the state change log", height,
                        record["id"])
            continue
        out.append(receipt_view(receipt))
    return out


# --- chunk --------------------------------------------------------------------------------


def chunk_view(sim: ContractSimulator, block: Block) -> dict[str, Any]:
    """nearcore's ChunkView of the block's one chunk."""
    with sim.store.snapshot():
        prev = sim.store.get_block(block.height - 1) if block.height > 0 else None
        view = views.block_view(block, prev, sim.gas_price, views.burnt_in(sim.store,
                                                                          block.height))
        txs, raw = txs_at(sim, block.height)
        receipts = _block_receipts(sim, block.height)
    return {"author": view["author"], "header": view["chunks"][0],
            "transactions": [transaction_view(t, raw.get(t.tx_hash)) for t in txs],
            "receipts": receipts}


#: the chunk params nearcore's RpcChunkRequest parses
CHUNK_FORMS = "{chunk_id}, {block_id, shard_id}, [chunk_hash] or [[block_id, shard_id]]"


def _chunk_block(sim: ContractSimulator, params: Params) -> Block:
    """The block of the chunk a request names, in nearcore's forms: an object (ChunkReference:
    {block_id, shard_id} or {chunk_id}), [chunk_hash] (near-api-js's viewChunk(hash)) or
    [[block_id, shard_id]] (near-api-js's viewChunk([height, shard])). A flat
    [block_id, shard_id] nearcore refuses, and so does this node."""
    if isinstance(params, list):
        if len(params) != 1:
            raise errors.bad_params(f"chunk takes {CHUNK_FORMS}, got an array of "
                                    f"{len(params)}")
        (only,) = params
        if isinstance(only, list):
            if len(only) != 2:
                raise errors.bad_params(f"chunk takes [[block_id, shard_id]]: got "
                                        f"{_shown(params)}")
            params = {"block_id": only[0], "shard_id": only[1]}
        else:
            params = {"chunk_id": only}
    if not isinstance(params, dict):
        raise errors.bad_params(f"chunk takes {CHUNK_FORMS}, got {json_type(params)}")
    if "block_id" in params and "shard_id" in params:
        shard_id = params["shard_id"]
        if isinstance(shard_id, bool) or not isinstance(shard_id, int) or shard_id < 0:
            raise errors.bad_params(f"`shard_id` must be a shard number, got "
                                    f"{_shown(shard_id)}")
        block = _block_by_id(sim, params["block_id"])
        if shard_id != 0:
            raise errors.handler("INVALID_SHARD_ID", {"shard_id": shard_id},
                                 f"Shard id {shard_id} does not exist")
        return block
    if "chunk_id" in params:
        chunk_id = hash32(params["chunk_id"], "chunk_id")
        block = sim.store.block_by_hash(views.chunk_hash(base58.b58decode(chunk_id)))
        if block is None or block.hash is None:
            raise errors.handler("UNKNOWN_CHUNK", {"chunk_hash": chunk_id},
                                 f"Chunk Missing (unavailable on the node): "
                                 f"ChunkHash(`{chunk_id}`) \n Cause: Unknown")
        return block
    missing = "shard_id" if "block_id" in params else "block_id"
    raise errors.bad_params(f"chunk takes {CHUNK_FORMS}: missing field `{missing}`")


def _chunk(sim: ContractSimulator, params: Params) -> dict[str, Any]:
    return chunk_view(sim, _chunk_block(sim, params))


# --- receipt --------------------------------------------------------------------------------


def _receipt(sim: ContractSimulator, receipt_id: str) -> dict[str, Any]:
    with sim.store.snapshot():
        record = sim.store.outcome(receipt_id)
        receipt = None
        if record is not None and record["kind"] == "receipt":
            receipt = receipt_of(sim, record)
        if receipt is None:  # not run yet: in flight
            for _height, body in sim.store.queued_receipts():
                queued = rc.loads(body)
                if queued.id == receipt_id:
                    receipt = queued
            for text in sim.store.postponed_receipts():
                waiting = rc.loads(text)
                if waiting.id == receipt_id:
                    receipt = waiting
            for pending in sim.store.pending_yields():
                yielded = rc.loads(pending.receipt)
                if yielded.id == receipt_id:
                    receipt = yielded
    if receipt is None:
        raise errors.handler("UNKNOWN_RECEIPT", {"receipt_id": receipt_id},
                             f"Receipt with id {receipt_id} has never been observed on this "
                             "node")
    return receipt_view(receipt)


# --- handlers -------------------------------------------------------------------------------


async def chunk(rpc: Rpc, params: Params) -> Any:
    return await rpc.node.run(_chunk, params)


async def receipt(rpc: Rpc, params: Params) -> Any:
    if isinstance(params, list) and len(params) == 1:
        params = {"receipt_id": params[0]}
    if not isinstance(params, dict):
        raise errors.bad_params(f"EXPERIMENTAL_receipt takes {{receipt_id}}, got "
                                f"{json_type(params)}")
    if "receipt_id" not in params:
        raise errors.bad_params("missing field `receipt_id`")
    return await rpc.node.run(_receipt, hash32(params["receipt_id"], "receipt_id"))


METHODS: dict[str, Handler] = {"chunk": chunk, "EXPERIMENTAL_receipt": receipt}
