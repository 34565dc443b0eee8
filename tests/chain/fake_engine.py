"""A hand-made engine for the receipt-engine tests: contracts are Python functions.

A contract is deployed as the code ``fake:<name>``; `FakeEngine.contracts[name][method]`
is a function ``(call: FakeCall) -> value`` that reads and writes storage, logs, burns gas
and makes receipts the way VMLogic's promise functions would, and returns the method's
value (bytes, str, or anything JSON). Raising `Fail` fails the call. The engine returns an
outcome with VMOutcome's fields plus the promise fields (`receipts`, `returned_promise`,
`yield_resumes`) the receipt engine consumes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from outlayer.vm.context import VMContext
from outlayer.vm.interfaces import StorageView
from outlayer.vm.outcome import OutcomeError
from outlayer.vm.params import DEFAULT_PARAMS, Params
from outlayer.vm.receipts import Action, FunctionCall, NewReceipt, PromiseResult, Transfer

TGAS = 10**12
#: what every fake call burns unless it burns more
BASE_BURN = TGAS


@dataclass(frozen=True)
class FakeOutcome:
    return_data: bytes | None
    logs: tuple[str, ...]
    burnt_gas: int
    used_gas: int
    storage_changes: Mapping[bytes, bytes | None]
    attempted_changes: Mapping[bytes, bytes | None]
    storage_usage: int
    error: OutcomeError | None
    profile: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    access_log: tuple[Any, ...] = ()
    params_name: str = "fake"
    receipts: tuple[NewReceipt, ...] = ()
    returned_promise: int | None = None
    yield_resumes: tuple[tuple[bytes, bytes], ...] = ()
    balance: int = 0

    @property
    def ok(self) -> bool:
        return self.error is None


class Fail(Exception):
    def __init__(self, kind: str = "GuestPanic", message: str = "failed") -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class FakeCall:
    """What a fake method sees and does (a tiny VMLogic)."""

    def __init__(self, context: VMContext, storage: StorageView, chain: Any,
                 params: Params) -> None:
        self.context = context
        self.storage = storage
        self.chain = chain
        self.params = params
        self.writes: dict[bytes, bytes | None] = {}
        self.logs: list[str] = []
        self.burnt = BASE_BURN
        self.receipts: list[NewReceipt] = []
        self.returned: int | None = None
        self.resumes: list[tuple[bytes, bytes]] = []
        self._yields = 0

    # context
    @property
    def args(self) -> Any:
        return json.loads(self.context.input or b"{}")

    @property
    def results(self) -> tuple[PromiseResult, ...]:
        return tuple(getattr(self.context, "promise_results", ()))

    # storage
    def read(self, key: str) -> str | None:
        k = key.encode()
        if k in self.writes:
            value = self.writes[k]
        else:
            value = self.storage.get(k)
        return None if value is None else value.decode()

    def write(self, key: str, value: str) -> None:
        self.writes[key.encode()] = value.encode()

    def remove(self, key: str) -> None:
        self.writes[key.encode()] = None

    def log(self, line: str) -> None:
        self.logs.append(line)

    def burn(self, gas: int) -> None:
        self.burnt += gas

    # promises (indices are receipt indices: joint promises are expressed as depends_on)
    def batch(self, receiver_id: str, *actions: Action, after: tuple[int, ...] = ()) -> int:
        self.receipts.append(NewReceipt(receiver_id, list(actions), tuple(after)))
        return len(self.receipts) - 1

    def call(self, receiver_id: str, method: str, args: Any = None, *, deposit: int = 0,
             gas: int = 10 * TGAS, after: tuple[int, ...] = ()) -> int:
        raw = json.dumps(args if args is not None else {}).encode()
        return self.batch(receiver_id, FunctionCall(method, raw, deposit, gas), after=after)

    def then(self, after: int | tuple[int, ...], method: str, args: Any = None, *,
             gas: int = 10 * TGAS) -> int:
        deps = (after,) if isinstance(after, int) else tuple(after)
        return self.call(self.context.current_account_id, method, args, gas=gas, after=deps)

    def return_promise(self, index: int) -> None:
        self.returned = index

    def yield_create(self, method: str, args: Any = None, *, gas: int = 10 * TGAS
                     ) -> tuple[int, bytes]:
        receipt_id = getattr(self.context, "receipt_id", bytes(32))
        data_id = hashlib.sha256(b"fake-yield" + receipt_id + bytes([self._yields])).digest()
        self._yields += 1
        raw = json.dumps(args if args is not None else {}).encode()
        self.receipts.append(NewReceipt(self.context.current_account_id,
                                        [FunctionCall(method, raw, 0, gas)],
                                        yield_data_id=data_id))
        return len(self.receipts) - 1, data_id

    def yield_resume(self, data_id: bytes, payload: bytes) -> bool:
        if self.chain is None or not self.chain.yield_pending(
                self.context.current_account_id, data_id):
            return False
        self.resumes.append((data_id, payload))
        return True


Method = Callable[[FakeCall], Any]


class FakeEngine:
    """`Engine` whose contracts are `contracts[name][method]` functions."""

    def __init__(self) -> None:
        self.contracts: dict[str, dict[str, Method]] = {}
        self.calls: list[tuple[str, str, VMContext]] = []

    def contract(self, name: str, **methods: Method) -> str:
        self.contracts[name] = dict(methods)
        return f"fake:{name}"

    def run(self, code: bytes, method: str, context: VMContext, storage: StorageView,
            params: Params = DEFAULT_PARAMS, limits: Any = None, *, realm: Any = None,
            chain: Any = None) -> FakeOutcome:
        name = code.decode().removeprefix("fake:")
        methods = self.contracts.get(name, {})
        call = FakeCall(context, storage, chain, params)
        if method not in methods:
            return _failed(call, "MethodNotFound", json.dumps(sorted(methods)))
        self.calls.append((context.current_account_id, method, context))
        try:
            value = methods[method](call)
        except Fail as exc:
            return _failed(call, exc.kind, exc.message)
        used = call.burnt + sum(a.gas for r in call.receipts for a in r.actions
                                if isinstance(a, FunctionCall))
        if used > context.prepaid_gas:
            return _failed(call, "GasExceeded", "Exceeded the prepaid gas.",
                           burnt=context.prepaid_gas)
        usage = context.storage_usage
        extra = params.storage_num_extra_bytes_record
        for key, new in call.writes.items():
            old = storage.get(key)
            if old is not None:
                usage -= len(key) + len(old) + extra
            if new is not None:
                usage += len(key) + len(new) + extra
        if value is None:
            data = None
        elif isinstance(value, bytes):
            data = value
        else:
            data = json.dumps(value).encode()
        changes = MappingProxyType(dict(sorted(call.writes.items())))
        outgoing = sum(a.deposit for r in call.receipts for a in r.actions
                       if isinstance(a, FunctionCall | Transfer))
        if outgoing > context.account_balance:
            return _failed(call, "BalanceExceeded", "Exceeded the account balance.")
        return FakeOutcome(
            return_data=data, logs=tuple(call.logs), burnt_gas=call.burnt, used_gas=used,
            storage_changes=changes, attempted_changes=changes, storage_usage=usage,
            error=None, receipts=tuple(call.receipts), returned_promise=call.returned,
            yield_resumes=tuple(call.resumes), balance=context.account_balance - outgoing)


def _failed(call: FakeCall, kind: str, message: str, burnt: int | None = None) -> FakeOutcome:
    changes = MappingProxyType(dict(sorted(call.writes.items())))
    spent = call.burnt if burnt is None else burnt
    return FakeOutcome(
        return_data=None, logs=tuple(call.logs), burnt_gas=spent, used_gas=spent,
        storage_changes=MappingProxyType({}), attempted_changes=changes,
        storage_usage=call.context.storage_usage, error=OutcomeError(kind, message),
        balance=call.context.account_balance)
