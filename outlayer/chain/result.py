"""The result of one contract call, shaped in one place for the simulator and the executor.

`run_engine` times an engine run; `CallResult.from_outcome` turns the engine's `VMOutcome`
into what users see: the decoded JSON result, logs, gas, a `kind`/`message` error, the
state changes in the text encoding of `outlayer.chain.codec`, and a digest over everything
deterministic about the call.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from outlayer.chain.codec import bytes_to_text, decode_result, state_to_text
from outlayer.chain.outcomes import ExecutionOutcome, FinalOutcome
from outlayer.digest import call_digest

if TYPE_CHECKING:
    from outlayer.host.engine import Limits
    from outlayer.realm.options import RealmOptions
    from outlayer.vm.context import VMContext
    from outlayer.vm.interfaces import StorageView
    from outlayer.vm.outcome import VMOutcome
    from outlayer.vm.params import Params

SUCCESS = "success"
FAILURE = "failure"
#: a transaction whose result waits on a yield resume (or its timeout)
PENDING = "pending"


class Engine(Protocol):
    """What runs one method of deployed code: QuickJS today, direct wasm and POSIX later.

    The chain passes ``chain=`` (an object with ``yield_pending(account_id, data_id)``, for
    promise_yield_resume) only to engines whose `run` accepts that keyword.
    """

    def run(self, code: bytes, method: str, context: VMContext, storage: StorageView,
            params: Params = ..., limits: Limits | None = ...,
            *, realm: RealmOptions | None = ...) -> VMOutcome: ...


@dataclass
class CallResult:
    """One call's outcome.

    `state_changes` maps each written key to its new value, or None for a removed key;
    keys and values are UTF-8 text when unambiguous, else ``0x`` + hex (see `codec`). It is
    empty after a failure (nothing is committed); `attempted_changes` then shows what the
    call tried to write. `digest` is `outlayer.digest.call_digest`: equal inputs give an
    equal digest in any process. `execution_time_ms` is host wall-clock time, the one
    non-deterministic field.

    For a transaction on the simulated chain (`ContractSimulator.call` / `transact`):

    - `status`, `result`, `return_data` and `error` are the transaction's final result
      (NEAR's FinalExecutionStatus): through promise_return chains, the value of the last
      receipt on the result path, or the failure that ended it; `status` is "pending"
      while that path waits on a yield resume;
    - `logs`: every receipt's logs, in execution order;
    - `gas_burnt` / `gas_used`, `state_changes`, `attempted_changes`, `storage_usage`,
      `digest`, `block_height`: the called method's own run (the transaction's first
      function call), as before; `total_gas_burnt` / `tokens_burnt`: the whole transaction
      (conversion, every receipt, refunds);
    - `transaction_outcome`, `receipts_outcome` (tree order), `final_status` (NEAR's JSON
      form) and `outcome` (the whole `FinalOutcome`).
    """

    status: str
    result: Any = None
    return_data: bytes | None = None
    logs: list[str] = field(default_factory=list)
    gas_burnt: int = 0
    gas_used: int = 0
    error: dict[str, str] | None = None
    execution_time_ms: float = 0.0
    state_changes: dict[str, str | None] = field(default_factory=dict)
    attempted_changes: dict[str, str | None] = field(default_factory=dict)
    block_height: int = 0
    tx_hash: str | None = None
    digest: str | None = None
    storage_usage: int = 0
    #: the committed changes as raw bytes (what the simulator writes).
    raw_state_changes: dict[bytes, bytes | None] = field(default_factory=dict, repr=False)
    transaction_outcome: ExecutionOutcome | None = None
    receipts_outcome: list[ExecutionOutcome] = field(default_factory=list)
    #: NEAR's FinalExecutionStatus JSON: {"SuccessValue": b64} | {"Failure": ...} | "Started"
    final_status: Any = None
    total_gas_burnt: int = 0
    tokens_burnt: int = 0
    outcome: FinalOutcome | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return self.status == SUCCESS

    @property
    def pending(self) -> bool:
        return self.status == PENDING

    @property
    def receipt_failures(self) -> list[dict[str, Any]]:
        """Every failed receipt of the transaction (on the result path or not):
        receipt id, executor and error."""
        return [{"receipt_id": o.id, "executor_id": o.executor_id,
                 **(o.error.to_dict() if o.error else {})}
                for o in (self.outcome.failures if self.outcome else [])]

    @classmethod
    def from_outcome(cls, outcome: VMOutcome, *, code: bytes, method: str,
                     context: VMContext, elapsed_ms: float, tx_hash: str | None = None
                     ) -> CallResult:
        error = error_dict(outcome.error, method)
        changes = dict(outcome.storage_changes)
        return cls(
            status=FAILURE if error else SUCCESS,
            result=None if error else decode_result(outcome.return_data),
            return_data=outcome.return_data,
            logs=list(outcome.logs),
            gas_burnt=outcome.burnt_gas,
            gas_used=outcome.used_gas,
            error=error,
            execution_time_ms=elapsed_ms,
            state_changes=state_to_text(changes),
            attempted_changes=state_to_text(dict(outcome.attempted_changes)) if error else {},
            block_height=context.block_height,
            tx_hash=tx_hash,
            digest=call_digest(code, method, context, outcome),
            storage_usage=outcome.storage_usage,
            raw_state_changes=changes,
        )

    def as_failure(self, kind: str, message: str) -> CallResult:
        """The same run, failed by the chain after it ended (e.g. storage staking)."""
        return dataclasses.replace(
            self, status=FAILURE, result=None, return_data=None,
            error={"kind": kind, "message": message}, state_changes={},
            attempted_changes=self.state_changes, raw_state_changes={})

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the CLI's ``--json``); bytes follow the `codec` text encoding."""
        return {
            "status": self.status,
            "result": self.result,
            "logs": list(self.logs),
            "gas_burnt": self.gas_burnt,
            "gas_used": self.gas_used,
            "error": self.error,
            "execution_time_ms": round(self.execution_time_ms, 3),
            "state_changes": dict(self.state_changes),
            "attempted_changes": dict(self.attempted_changes),
            "block_height": self.block_height,
            "tx_hash": self.tx_hash,
            "digest": self.digest,
            "return_data": None if self.return_data is None else bytes_to_text(self.return_data),
            "final_status": self.final_status,
            "total_gas_burnt": self.total_gas_burnt,
            "tokens_burnt": str(self.tokens_burnt),
            "transaction_outcome": (None if self.transaction_outcome is None
                                    else self.transaction_outcome.to_json()),
            "receipts_outcome": [o.to_json() for o in self.receipts_outcome],
        }


def run_engine(engine: Engine, code: bytes, method: str, context: VMContext,
               storage: StorageView, params: Params, limits: Limits | None,
               realm: RealmOptions | None = None, **extra: Any) -> tuple[VMOutcome, float]:
    """Run once and measure host time in milliseconds (`extra`: e.g. ``chain=``)."""
    start = time.perf_counter()
    outcome = engine.run(code, method, context, storage, params=params, limits=limits,
                         realm=realm, **extra)
    return outcome, (time.perf_counter() - start) * 1000.0


def error_dict(error: Any, method: str = "") -> dict[str, str] | None:
    """The outcome's error as ``{"kind", "message"}``, with readable unknown-method messages."""
    if error is None:
        return None
    if isinstance(error, dict):
        data = {"kind": str(error.get("kind")), "message": str(error.get("message"))}
    elif hasattr(error, "kind") and hasattr(error, "message"):
        data = {"kind": str(error.kind), "message": str(error.message)}
    else:
        data = {"kind": type(error).__name__, "message": str(error)}
    if data["kind"] == "MethodNotFound":
        data["message"] = _method_not_found(data["message"], method)
    return data


def exported_names(error: Any) -> list[str] | None:
    """The exported function names a MethodNotFound error carries, if it carries them."""
    if error is None or getattr(error, "kind", None) != "MethodNotFound":
        return None
    try:
        names = json.loads(error.message)
    except (json.JSONDecodeError, TypeError):
        return None
    return [str(n) for n in names] if isinstance(names, list) else None


def _method_not_found(message: str, method: str) -> str:
    """The guest reports exported names as a JSON list; say it in words."""
    try:
        names = json.loads(message)
    except (json.JSONDecodeError, TypeError):
        return message
    if not isinstance(names, list):
        return message
    listed = ", ".join(str(n) for n in names) or "(none)"
    what = f"no function named {method!r}" if method else "no such function"
    return f"the contract exports {what}; exported functions: {listed}"
