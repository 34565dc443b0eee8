"""An engine that runs Python "contracts" against the real VMLogic host functions.

No wasm and no JS: a contract method is a Python function given a `Host`, which calls
VMLogic's promise, yield, storage, log and return functions exactly as a guest would
(arguments in a bytearray memory). The outcome is VMLogic's own, so the receipt engine is
tested with NEAR's real gas, balances, data ids and limits for promises.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from outlayer.errors import GuestPanic, HostError
from outlayer.vm.context import VMContext
from outlayer.vm.interfaces import ChainView, StorageView
from outlayer.vm.logic import VMLogic
from outlayer.vm.outcome import VMOutcome
from outlayer.vm.params import DEFAULT_PARAMS, TGAS, Params

_REGISTER = 7


class _Memory(bytearray):
    def read(self, ptr: int, length: int) -> bytes:
        return bytes(self[ptr:ptr + length])

    def write(self, ptr: int, data: bytes) -> None:
        self[ptr:ptr + len(data)] = data


class Host:
    """A guest's view of VMLogic, with Python values."""

    def __init__(self, logic: VMLogic, memory: _Memory) -> None:
        self.logic = logic
        self.memory = memory
        self._next = 64

    def _put(self, data: bytes) -> tuple[int, int]:
        ptr = self._next
        self.memory.write(ptr, data)
        self._next += len(data) + 8
        return len(data), ptr

    def _text(self, value: str | bytes) -> tuple[int, int]:
        return self._put(value.encode() if isinstance(value, str) else value)

    def _u128(self, value: int) -> int:
        return self._put(value.to_bytes(16, "little"))[1]

    @property
    def args(self) -> Any:
        return json.loads(self.logic.context.input or b"{}")

    def write(self, key: str, value: str) -> None:
        self.logic.storage_write(*self._text(key), *self._text(value), _REGISTER)

    def log(self, line: str) -> None:
        self.logic.log_utf8(*self._text(line))

    def panic(self, message: str) -> None:
        self.logic.panic_utf8(*self._text(message))

    def ret(self, value: Any) -> None:
        self.logic.value_return(*self._text(json.dumps(value)))

    def create(self, account: str, method: str, args: Any = None, *, deposit: int = 0,
               gas: int = 20 * TGAS) -> int:
        return self.logic.promise_create(*self._text(account), *self._text(method),
                                         *self._text(json.dumps(args or {})),
                                         self._u128(deposit), gas)

    def then(self, index: int, account: str, method: str, args: Any = None, *,
             deposit: int = 0, gas: int = 20 * TGAS) -> int:
        return self.logic.promise_then(index, *self._text(account), *self._text(method),
                                       *self._text(json.dumps(args or {})),
                                       self._u128(deposit), gas)

    def and_(self, *indices: int) -> int:
        raw = b"".join(i.to_bytes(8, "little") for i in indices)
        length, ptr = self._put(raw)
        return self.logic.promise_and(ptr, len(indices))

    def results(self) -> list[tuple[int, bytes | None]]:
        out = []
        for i in range(self.logic.promise_results_count()):
            status = self.logic.promise_result(i, _REGISTER)
            out.append((status, self.logic.registers.get(_REGISTER) if status == 1 else None))
        return out

    def promise_return(self, index: int) -> None:
        self.logic.promise_return(index)

    def yield_create(self, method: str, args: Any = None, *, gas: int = 20 * TGAS
                     ) -> tuple[int, bytes]:
        index = self.logic.promise_yield_create(*self._text(method),
                                                *self._text(json.dumps(args or {})),
                                                gas, 0, _REGISTER)
        data_id = self.logic.registers.get(_REGISTER)
        assert data_id is not None
        return index, data_id

    def yield_resume(self, data_id: bytes, payload: bytes) -> bool:
        return self.logic.promise_yield_resume(*self._put(data_id), *self._put(payload)) == 1


Method = Callable[[Host], None]


class LogicEngine:
    """`Engine` running `contracts[name][method](host)` on a real VMLogic."""

    def __init__(self) -> None:
        self.contracts: dict[str, dict[str, Method]] = {}

    def contract(self, name: str, **methods: Method) -> str:
        self.contracts[name] = dict(methods)
        return f"logic:{name}"

    def run(self, code: bytes, method: str, context: VMContext, storage: StorageView,
            params: Params = DEFAULT_PARAMS, limits: Any = None, *, realm: Any = None,
            chain: ChainView | None = None) -> VMOutcome:
        memory = _Memory(1 << 16)
        logic = VMLogic(context, storage, memory, params, chain)
        methods = self.contracts.get(code.decode().removeprefix("logic:"), {})
        error: HostError | None = None
        try:
            if method not in methods:
                raise GuestPanic(f"no method {method}")
            methods[method](Host(logic, memory))
        except HostError as exc:
            error = exc
        return logic.outcome(error)
