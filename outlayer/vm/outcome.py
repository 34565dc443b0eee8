"""What one contract call produced, as VMLogic hands it to the runner (nearcore's VMOutcome).

On failure nothing may be committed, yet the changes the call tried to make are worth
showing while debugging. So there are two fields: `storage_changes` is what to commit
(always empty when `error` is set) and `attempted_changes` is the overlay as it stood when
the call ended, success or not. Likewise `storage_usage` is the committed figure (the
starting one after a failure), and `return_data` is None after a failure. Logs and burnt
gas stay, as on NEAR.

Promises: a failed call creates nothing, so `receipts` and `yield_resumes` are empty and
`balance` is the starting balance after a failure. On success `receipts[i]` is receipt
index i (see outlayer.vm.receipts), with the caller's unused gas already split among
function calls by gas_weight (and counted in `used_gas`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from outlayer.errors import OutLayerError
from outlayer.vm.overlay import AccessEntry
from outlayer.vm.receipts import NewReceipt


@dataclass(frozen=True, slots=True)
class OutcomeError:
    """The error a call ended with: the error class's NEAR name and its message;
    `receipt_error`: nearcore's ReceiptValidationError JSON when a receipt the call created
    broke NEAR's rules (outlayer.vm.promises.InvalidNewReceipt), else None."""

    kind: str
    message: str
    receipt_error: Any = None

    @classmethod
    def of(cls, error: OutLayerError) -> OutcomeError:
        return cls(error.kind, error.message, getattr(error, "receipt_error", None))


@dataclass(frozen=True, slots=True)
class VMOutcome:
    return_data: bytes | None
    logs: tuple[str, ...]
    burnt_gas: int
    used_gas: int
    #: key -> new value (None = removed), sorted by key; empty when the call failed.
    storage_changes: Mapping[bytes, bytes | None]
    #: the overlay at the end of the call, sorted by key, kept even when it failed.
    attempted_changes: Mapping[bytes, bytes | None]
    storage_usage: int
    error: OutcomeError | None
    #: cost name -> (units, gas); see GasCounter.profile.
    profile: Mapping[str, tuple[int, int]]
    #: every storage access in call order; see outlayer.vm.overlay.
    access_log: tuple[AccessEntry, ...]
    #: which parameter table priced the call (Params.name).
    params_name: str
    #: action receipts the call created, receipt index = position; empty after a failure.
    receipts: tuple[NewReceipt, ...] = ()
    #: promise_return's receipt index: the chain moves the call's output data receivers to
    #: that receipt (return_data is then None). None when the call returned a value or nothing.
    returned_promise: int | None = None
    #: (data_id, payload) per successful promise_yield_resume, in call order; a data id may
    #: be a yield of this very call (some receipts[i].yield_data_id). Empty after a failure.
    yield_resumes: tuple[tuple[bytes, bytes], ...] = ()
    #: the account balance after the deposits attached to `receipts` (nearcore's
    #: VMOutcome.balance); the starting balance after a failure.
    balance: int = 0
    #: the call suspended at an await (docs/EXECUTION_MODEL.md "Await"): its memory, an
    #: encoded suspension (outlayer.host.delta.encode_suspension) for the `__ol_resume`
    #: receipt it returned (`returned_promise`). None for every call that ended.
    suspension: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.error is None
