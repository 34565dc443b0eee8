"""Execution outcomes and transaction outcome trees, shaped like NEAR's RPC views.

One `ExecutionOutcome` per transaction (its conversion into a receipt) and per executed
action receipt: NEAR's ExecutionOutcomeWithIdView (id, block, outcome.status / logs /
receipt_ids / gas_burnt / tokens_burnt / executor_id). `FinalOutcome` is NEAR's
FinalExecutionOutcomeView: the final status, the transaction outcome and the receipt
outcomes.

Statuses, as NEAR's JSON shows them:

- ``{"SuccessValue": "<base64>"}``: the receipt returned a value (empty: returned nothing);
- ``{"SuccessReceiptId": "<id>"}``: it returned a promise (promise_return): its result is
  that receipt's;
- ``{"Failure": {"ActionError": {"index": i, "kind": {...}}}}``: action `i` failed (index
  None: the receipt failed after its actions, e.g. LackBalanceForState). A contract's own
  failure is ``{"FunctionCallError": {"<kind>": "<message>"}}`` with OutLayer's error kind
  (JSException, GuestPanic, GasExceeded, ...).

The final status follows NEAR: start at the transaction's receipt and follow
SuccessReceiptId links; the first SuccessValue or Failure on that path is the result; a
receipt on the path that has not run yet makes it ``Started``. Failures off that path
(e.g. a callback-less cross-contract call that failed) do not fail the transaction.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

SUCCESS_VALUE = "SuccessValue"
SUCCESS_RECEIPT_ID = "SuccessReceiptId"
FAILURE = "Failure"
STARTED = "Started"
NOT_STARTED = "NotStarted"


@dataclass
class ActionError:
    """Why a receipt failed: NEAR's ActionError, plus OutLayer's flat kind/message."""

    kind: str  # OutLayer's name: JSException, AccountDoesNotExist, LackBalanceForState, ...
    message: str
    index: int | None = None  # the failing action; None: after the actions
    #: NEAR's ActionErrorKind JSON, e.g. {"AccountDoesNotExist": {"account_id": "x"}}, or
    #: the name of a variant without fields (``"DelegateActionExpired"``)
    detail: dict[str, Any] | str = field(default_factory=dict)
    #: a call whose new receipt broke NEAR's rules: nearcore's ReceiptValidationError JSON
    #: (from outlayer.vm.promises.InvalidNewReceipt; `detail` keeps OutLayer's flat form)
    receipt_error: Any = None

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "message": self.message}

    def to_json(self) -> dict[str, Any]:
        return {"ActionError": {"index": self.index, "kind": self.detail or {self.kind: {}}}}

    @classmethod
    def function_call(cls, kind: str, message: str, index: int,
                      receipt_error: Any = None) -> ActionError:
        return cls(kind, message, index, {"FunctionCallError": {kind: message}}, receipt_error)

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ActionError:
        return cls(doc["kind"], doc["message"], doc.get("index"), doc.get("detail") or {},
                   doc.get("receipt_error"))


@dataclass
class ExecutionOutcome:
    """One transaction conversion or one executed receipt."""

    id: str  # tx hash or receipt id
    kind: str  # "transaction" | "receipt"
    tx_hash: str
    block_height: int
    executor_id: str
    predecessor_id: str
    status: str  # SuccessValue | SuccessReceiptId | Failure
    value: bytes | None = None  # SuccessValue
    receipt_id: str | None = None  # SuccessReceiptId
    error: ActionError | None = None  # Failure
    logs: list[str] = field(default_factory=list)
    receipt_ids: list[str] = field(default_factory=list)
    gas_burnt: int = 0
    tokens_burnt: int = 0
    #: the receipt's actions, summarized (method names, deposits, sizes; no code or args)
    actions: list[dict[str, Any]] = field(default_factory=list)
    #: "refund" for a receipt from `system` (deposit or gas refund), "yield" for a
    #: promise_yield_create callback, else "action"
    receipt_kind: str = "action"
    #: input data the receipt consumed, in order: "successful" / "failed"
    promise_results: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status != FAILURE

    def status_json(self) -> dict[str, Any]:
        if self.status == SUCCESS_VALUE:
            return {SUCCESS_VALUE: base64.b64encode(self.value or b"").decode("ascii")}
        if self.status == SUCCESS_RECEIPT_ID:
            return {SUCCESS_RECEIPT_ID: self.receipt_id}
        assert self.error is not None
        return {FAILURE: self.error.to_json()}

    def to_json(self) -> dict[str, Any]:
        """NEAR's ExecutionOutcomeWithIdView, plus a few OutLayer fields (block_height,
        predecessor_id, actions, receipt_kind, error)."""
        return {
            "id": self.id,
            "block_height": self.block_height,
            "outcome": {
                "executor_id": self.executor_id,
                "predecessor_id": self.predecessor_id,
                "status": self.status_json(),
                "logs": list(self.logs),
                "receipt_ids": list(self.receipt_ids),
                "gas_burnt": self.gas_burnt,
                "tokens_burnt": str(self.tokens_burnt),
            },
            "actions": list(self.actions),
            "receipt_kind": self.receipt_kind,
            "promise_results": list(self.promise_results),
            "error": None if self.error is None else self.error.to_dict(),
        }

    # storage form (exact, round-trips)
    def to_record(self) -> dict[str, Any]:
        return {
            "id": self.id, "kind": self.kind, "tx_hash": self.tx_hash,
            "block_height": self.block_height, "executor_id": self.executor_id,
            "predecessor_id": self.predecessor_id, "status": self.status,
            "value": None if self.value is None else self.value.hex(),
            "receipt_id": self.receipt_id,
            "error": None if self.error is None else {
                "kind": self.error.kind, "message": self.error.message,
                "index": self.error.index, "detail": self.error.detail,
                **({} if self.error.receipt_error is None
                   else {"receipt_error": self.error.receipt_error})},
            "logs": self.logs, "receipt_ids": self.receipt_ids, "gas_burnt": self.gas_burnt,
            "tokens_burnt": str(self.tokens_burnt), "actions": self.actions,
            "receipt_kind": self.receipt_kind, "promise_results": self.promise_results,
        }

    @classmethod
    def from_record(cls, doc: dict[str, Any]) -> ExecutionOutcome:
        return cls(
            id=doc["id"], kind=doc["kind"], tx_hash=doc["tx_hash"],
            block_height=int(doc["block_height"]), executor_id=doc["executor_id"],
            predecessor_id=doc["predecessor_id"], status=doc["status"],
            value=None if doc["value"] is None else bytes.fromhex(doc["value"]),
            receipt_id=doc["receipt_id"],
            error=None if doc["error"] is None else ActionError.from_json(doc["error"]),
            logs=list(doc["logs"]), receipt_ids=list(doc["receipt_ids"]),
            gas_burnt=int(doc["gas_burnt"]), tokens_burnt=int(doc["tokens_burnt"]),
            actions=list(doc["actions"]), receipt_kind=doc["receipt_kind"],
            promise_results=list(doc["promise_results"]))


@dataclass
class FinalOutcome:
    """A transaction and every receipt of its tree that has run (NEAR's
    FinalExecutionOutcomeView). `receipts_outcome` is in tree order (depth first, children
    in the order their parent made them), as NEAR's RPC lists them; `execution_order` is
    the order they ran in."""

    transaction_outcome: ExecutionOutcome
    receipts_outcome: list[ExecutionOutcome]
    execution_order: list[ExecutionOutcome]
    status: str  # SuccessValue | Failure | Started | NotStarted
    value: bytes | None = None
    error: ActionError | None = None

    @property
    def tx_hash(self) -> str:
        return self.transaction_outcome.id

    @property
    def logs(self) -> list[str]:
        """Every receipt's logs, in execution order."""
        return [line for o in self.execution_order for line in o.logs]

    @property
    def total_gas_burnt(self) -> int:
        return self.transaction_outcome.gas_burnt + sum(o.gas_burnt for o in self.execution_order)

    @property
    def tokens_burnt(self) -> int:
        return (self.transaction_outcome.tokens_burnt
                + sum(o.tokens_burnt for o in self.execution_order))

    @property
    def failures(self) -> list[ExecutionOutcome]:
        """Every receipt of the tree that failed (on the result path or not)."""
        return [o for o in self.execution_order if not o.ok]

    def status_json(self) -> Any:
        if self.status == SUCCESS_VALUE:
            return {SUCCESS_VALUE: base64.b64encode(self.value or b"").decode("ascii")}
        if self.status == FAILURE:
            assert self.error is not None
            return {FAILURE: self.error.to_json()}
        return self.status

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status_json(),
            "transaction_outcome": self.transaction_outcome.to_json(),
            "receipts_outcome": [o.to_json() for o in self.receipts_outcome],
            "total_gas_burnt": self.total_gas_burnt,
            "tokens_burnt": str(self.tokens_burnt),
        }

    @classmethod
    def assemble(cls, records: list[dict[str, Any]]) -> FinalOutcome:
        """From the stored outcomes of one transaction (execution order, tx first)."""
        outcomes = [ExecutionOutcome.from_record(r) for r in records]
        tx = next(o for o in outcomes if o.kind == "transaction")
        receipts = [o for o in outcomes if o.kind == "receipt"]
        by_id = {o.id: o for o in receipts}
        tree: list[ExecutionOutcome] = []
        seen: set[str] = set()

        def walk(ids: list[str]) -> None:
            for rid in ids:
                node = by_id.get(rid)
                if node is None or rid in seen:
                    continue
                seen.add(rid)
                tree.append(node)
                walk(node.receipt_ids)

        walk(tx.receipt_ids)
        # receipts of the tree reached otherwise (e.g. a yield callback made by a receipt
        # that has run) are all linked; anything unlinked goes last, in execution order
        tree.extend(o for o in receipts if o.id not in seen)
        status, value, error = final_status(tx, by_id)
        return cls(tx, tree, receipts, status, value, error)


def final_status(tx: ExecutionOutcome, by_id: dict[str, ExecutionOutcome]
                 ) -> tuple[str, bytes | None, ActionError | None]:
    looking_for = tx.receipt_ids[0] if tx.receipt_ids else None
    if looking_for is None:
        return NOT_STARTED, None, None
    hops = 0
    while hops <= len(by_id):
        node = by_id.get(looking_for)
        if node is None:
            return (NOT_STARTED if not by_id else STARTED), None, None
        if node.status == SUCCESS_VALUE:
            return SUCCESS_VALUE, node.value or b"", None
        if node.status == FAILURE:
            return FAILURE, None, node.error
        assert node.receipt_id is not None
        looking_for = node.receipt_id
        hops += 1
    return STARTED, None, None
