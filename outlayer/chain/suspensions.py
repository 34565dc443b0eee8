"""Calls suspended at an await, and the `__ol_resume` receipts that continue them.

When a JS method ends with NEAR promises awaited, the guest bridge makes one callback
receipt on the contract's own account — a FunctionCall of the reserved method
``__ol_resume`` that depends on every promise the part made — returns it
(`promise_return`), and the runner hands the instance's memory back as
`VMOutcome.suspension`. The receipt engine stores it under the callback's receipt id
(`record`, once the receipt ids are known and the receipt succeeded); when that receipt
runs, `take` removes it and the engine runs the method on by ``runner.run(...,
resume=...)``. Nobody else can reach it: a receipt resumes only the suspension stored
under its own id, from its own account, so a transaction calling ``__ol_resume`` fails in
its receipt with MethodNotFound (a transaction may name any method, as on NEAR: a JS
contract cannot export ``__ol_*`` names, so other such calls are MethodNotFound too), and
a contract's own promises may not call them (the guest refuses them).

docs/EXECUTION_MODEL.md, "Await", says what is atomic.
"""

from __future__ import annotations

from dataclasses import dataclass

from outlayer.chain.outcomes import ActionError
from outlayer.chain.receipts import ActionReceipt
from outlayer.chain.store import StateStore
from outlayer.vm.receipts import FunctionCall

#: the callback method of a suspended call (guest/promises.h OL_RESUME_METHOD)
RESUME_METHOD = "__ol_resume"
#: method names OutLayer keeps for itself (the deploy-time transform refuses such exports)
RESERVED_PREFIX = "__ol_"


@dataclass(frozen=True)
class Resume:
    """What an `__ol_resume` receipt found: the suspension, or why there is none."""

    body: bytes | None
    error: str | None = None

    def action_error(self, index: int) -> ActionError:
        return ActionError.function_call("MethodNotFound", self.error or "", index)


def take(store: StateStore, r: ActionReceipt) -> Resume | None:
    """For a receipt that calls `__ol_resume`: its suspension, removed from the store (so
    it is gone whether the resumed part succeeds or fails). None for any other receipt."""
    if not any(isinstance(a, FunctionCall) and a.method_name == RESUME_METHOD
               for a in r.actions):
        return None
    if r.predecessor_id != r.receiver_id:
        return Resume(None, f"{RESUME_METHOD} is reserved for OutLayer's await: only an "
                            f"account's own callback may call it, not {r.predecessor_id}")
    found = store.take_suspension(r.id)
    if found is None or found[0] != r.receiver_id:
        return Resume(None, f"{RESUME_METHOD} is reserved for OutLayer's await: receipt "
                            f"{r.id} has no suspended call of {r.receiver_id} to resume")
    return Resume(found[1])


def record(store: StateStore, receipt_id: str, account_id: str, height: int,
           body: bytes) -> None:
    """Keep a suspension until its callback receipt `receipt_id` runs."""
    store.put_suspension(receipt_id, account_id, height, body)


__all__ = ["RESUME_METHOD", "RESERVED_PREFIX", "Resume", "take", "record"]
