"""VMLogic: NEAR's host functions with NEAR's semantics, gas and limits.

One method per syscall of `outlayer.syscalls.SYSCALLS`, named and parametered as the table
says; arguments are u64 ints, results an int or None. Errors are raised as the
`outlayer.errors` classes; the host turns the first one into the call's outcome with
`VMLogic.outcome(error)`.

The order of charges and checks inside each method follows nearcore's ``logic.rs``, so the
gas burnt before an error is what NEAR would burn. Storage never writes through: changes
gather in a `StorageOverlay` (see there for the trie-node gas model). Promises never leave
the call either: they gather in a `PromiseDag` (outlayer.vm.promises), and `outcome()`
hands the receipts to the chain, which runs them (outlayer.vm.receipts has the types).

Fuel protocol for the host (see `outlayer.vm.gas`):
``set_fuel(logic.gas.remaining_fuel())`` before the guest starts; at each syscall
``logic.sync_fuel_in(get_fuel())``, the handler, ``set_fuel(logic.gas.remaining_fuel())``;
``logic.sync_fuel_in(get_fuel())`` when the guest returns; ``logic.on_out_of_fuel()`` on an
out-of-fuel trap.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import NoReturn

from outlayer import syscalls
from outlayer.errors import (
    GUEST_ERRORS,
    BadUTF8,
    BadUTF16,
    BalanceExceeded,
    CannotReturnJointPromise,
    ContractSizeExceeded,
    DataIdMalformed,
    ECRecoverError,
    Ed25519VerifyInvalidInput,
    EmptyMethodName,
    GuestPanic,
    HostError,
    IntegerOverflow,
    InternalError,
    InvalidAccountId,
    InvalidPromiseResultIndex,
    InvalidPublicKey,
    InvalidRegisterId,
    KeyLengthExceeded,
    MemoryAccessViolation,
    NewReceiptValidationError,
    NumberInputDataDependenciesExceeded,
    NumberOfLogsExceeded,
    OutLayerError,
    ProhibitedInView,
    ReturnedValueLengthExceeded,
    TotalLogLengthExceeded,
    UnsupportedHostFunction,
    ValueLengthExceeded,
    YieldPayloadLength,
)
from outlayer.vm import alt_bn128, crypto
from outlayer.vm.account_id import is_valid_account_id
from outlayer.vm.context import VMContext
from outlayer.vm.gas import COST_ID, GasCounter
from outlayer.vm.interfaces import ChainView, MemoryLike, StorageView
from outlayer.vm.outcome import OutcomeError, VMOutcome
from outlayer.vm.overlay import StorageOverlay
from outlayer.vm.params import DEFAULT_PARAMS, U64_MAX, Fee, Params
from outlayer.vm.promises import (
    PromiseDag,
    method_name,
    parse_public_key,
    split_method_names,
    validate_receipt,
)
from outlayer.vm.receipts import (
    AddKey,
    CreateAccount,
    DeleteAccount,
    DeleteKey,
    DeployContract,
    FullAccess,
    FunctionCall,
    FunctionCallPermission,
    NewReceipt,
    Stake,
    Transfer,
    yield_data_id,
)
from outlayer.vm.registers import Registers

_BASE = COST_ID["base"]
_RM_BASE = COST_ID["read_memory_base"]
_RM_BYTE = COST_ID["read_memory_byte"]
_WM_BASE = COST_ID["write_memory_base"]
_WM_BYTE = COST_ID["write_memory_byte"]
_RR_BASE = COST_ID["read_register_base"]
_RR_BYTE = COST_ID["read_register_byte"]
_WR_BASE = COST_ID["write_register_base"]
_WR_BYTE = COST_ID["write_register_byte"]
_UTF8_BASE = COST_ID["utf8_decoding_base"]
_UTF8_BYTE = COST_ID["utf8_decoding_byte"]
_UTF16_BASE = COST_ID["utf16_decoding_base"]
_UTF16_BYTE = COST_ID["utf16_decoding_byte"]
_LOG_BASE = COST_ID["log_base"]
_LOG_BYTE = COST_ID["log_byte"]
_SW_BASE = COST_ID["storage_write_base"]
_SW_KEY = COST_ID["storage_write_key_byte"]
_SW_VALUE = COST_ID["storage_write_value_byte"]
_SW_EVICTED = COST_ID["storage_write_evicted_byte"]
_SR_BASE = COST_ID["storage_read_base"]
_SR_KEY = COST_ID["storage_read_key_byte"]
_SR_VALUE = COST_ID["storage_read_value_byte"]
_SRM_BASE = COST_ID["storage_remove_base"]
_SRM_KEY = COST_ID["storage_remove_key_byte"]
_SRM_VALUE = COST_ID["storage_remove_ret_value_byte"]
_SHK_BASE = COST_ID["storage_has_key_base"]
_SHK_KEY = COST_ID["storage_has_key_byte"]
_TTN = COST_ID["touching_trie_node"]
_CACHED_TN = COST_ID["read_cached_trie_node"]
_TOUCH_COST = (None, _CACHED_TN, _TTN)  # indexed by overlay TOUCH_* value
_SHA256_BASE = COST_ID["sha256_base"]
_SHA256_BYTE = COST_ID["sha256_byte"]
_KECCAK256_BASE = COST_ID["keccak256_base"]
_KECCAK256_BYTE = COST_ID["keccak256_byte"]
_KECCAK512_BASE = COST_ID["keccak512_base"]
_KECCAK512_BYTE = COST_ID["keccak512_byte"]
_RIPEMD_BASE = COST_ID["ripemd160_base"]
_RIPEMD_BLOCK = COST_ID["ripemd160_block"]
_ECRECOVER_BASE = COST_ID["ecrecover_base"]
_ED25519_BASE = COST_ID["ed25519_verify_base"]
_ED25519_BYTE = COST_ID["ed25519_verify_byte"]
_VALIDATOR_STAKE = COST_ID["validator_stake_base"]
_VALIDATOR_TOTAL_STAKE = COST_ID["validator_total_stake_base"]
_CONTRACT_LOADING_BASE = COST_ID["contract_loading_base"]
_CONTRACT_LOADING_BYTES = COST_ID["contract_loading_bytes"]
_PROMISE_AND_BASE = COST_ID["promise_and_base"]
_PROMISE_AND_PER = COST_ID["promise_and_per_promise"]
_PROMISE_RETURN = COST_ID["promise_return"]
_YIELD_CREATE_BASE = COST_ID["yield_create_base"]
_YIELD_CREATE_BYTE = COST_ID["yield_create_byte"]
_YIELD_RESUME_BASE = COST_ID["yield_resume_base"]
_YIELD_RESUME_BYTE = COST_ID["yield_resume_byte"]
_BN_MULTIEXP_BASE = COST_ID["alt_bn128_g1_multiexp_base"]
_BN_MULTIEXP_ELEMENT = COST_ID["alt_bn128_g1_multiexp_element"]
_BN_SUM_BASE = COST_ID["alt_bn128_g1_sum_base"]
_BN_SUM_ELEMENT = COST_ID["alt_bn128_g1_sum_element"]
_BN_PAIRING_BASE = COST_ID["alt_bn128_pairing_check_base"]
_BN_PAIRING_ELEMENT = COST_ID["alt_bn128_pairing_check_element"]
_len = len  # for methods whose NEAR parameter is named `len`


class Deprecated(HostError):
    """A host function NEAR still links but no longer serves (the storage iterators)."""

    kind = "Deprecated"


class VMLogic:
    """The NEAR host state of one contract call: gas, registers, storage overlay, logs,
    and the promises it creates."""

    def __init__(
        self,
        context: VMContext,
        storage: StorageView,
        memory: MemoryLike,
        params: Params = DEFAULT_PARAMS,
        chain: ChainView | None = None,
        trace: list[tuple[str, tuple[int, ...], int, int]] | None = None,
    ) -> None:
        self.context = context
        #: when a list: the dispatcher appends (syscall, args, gas burnt before, after) per
        #: host call (`outlayer replay`); None (the default) costs one check per syscall
        self.trace = trace
        self.memory = memory  # settable: the host may attach the instance's memory later
        self.params = params
        self.chain = chain  # None: promise_yield_resume only finds this call's own yields
        self.dag = PromiseDag(params)
        self.returned_promise: int | None = None  # receipt index given to promise_return
        self.is_view = context.is_view
        max_burnt = params.max_gas_burnt_view if context.is_view else params.max_gas_burnt
        self.gas = GasCounter(context.prepaid_gas, max_burnt, params, context.is_view)
        self.registers = Registers(params)
        self.overlay = StorageOverlay(storage)
        self.logs: list[str] = []
        self.total_log_length = 0
        self.return_data: bytes | None = None
        self.current_storage_usage = context.storage_usage
        self.current_account_balance = context.account_balance  # includes attached_deposit
        self._max_key_len = params.max_length_storage_key
        self._max_value_len = params.max_length_storage_value
        self._extra_bytes_record = params.storage_num_extra_bytes_record
        # Hot-path constants: the fast paths charge a whole syscall in one step when it
        # provably fits under the limit, and fall back to the step-by-step form otherwise.
        p = params
        worst_touch = max(p.touching_trie_node, p.read_cached_trie_node)
        self._touch_gas = (0, p.read_cached_trie_node, p.touching_trie_node)
        self._rd_fixed = p.base + p.storage_read_base + p.read_memory_base
        self._rd_per_key = p.read_memory_byte + p.storage_read_key_byte
        self._rd_worst = self._rd_fixed + worst_touch
        self._wr_fixed = p.base + p.storage_write_base + 2 * p.read_memory_base
        self._wr_per_key = p.read_memory_byte + p.storage_write_key_byte
        self._wr_per_value = p.read_memory_byte + p.storage_write_value_byte
        self._wr_worst = self._wr_fixed + worst_touch
        self._hit_per_byte = p.storage_read_value_byte + p.write_register_byte
        self._evict_per_byte = p.storage_write_evicted_byte + p.write_register_byte
        self._set_reg_base = p.write_register_base
        self._rr_fixed = p.base + p.read_register_base + p.write_memory_base
        self._rr_per_byte = p.read_register_byte + p.write_memory_byte
        self._log_fixed = p.base + p.utf8_decoding_base + p.read_memory_base + p.log_base
        self._log_per_byte = p.read_memory_byte + p.utf8_decoding_byte + p.log_byte
        self._max_logs = p.max_number_logs
        self._max_log_total = p.max_total_log_length

    # =========================================================================
    # host-side entry points (not syscalls)
    # =========================================================================

    def sync_fuel_in(self, current_fuel: int) -> None:
        """Charge the wasm instructions run since the host last set the fuel."""
        self.gas.sync_fuel(current_fuel)

    def on_out_of_fuel(self) -> NoReturn:
        """The guest trapped out of fuel: burn to the limit and raise the gas error."""
        self.gas.exhaust_fuel()

    def pay_contract_loading(self, code_len: int) -> None:
        """NEAR's contract loading fee, charged before the contract runs."""
        self.gas.pay(_CONTRACT_LOADING_BYTES, code_len)
        self.gas.pay(_CONTRACT_LOADING_BASE)

    def outcome(self, error: OutLayerError | None = None) -> VMOutcome:
        """The call's outcome; with `error`, nothing is committable (see outcome.py).

        On success, as nearcore's runtime does after a function call: the prepaid gas the
        call left unused goes to its function calls with gas_weight > 0 (and counts as
        used), then every new receipt is validated; an invalid one fails the call with
        NewReceiptValidationError (burnt gas stays, receipts are dropped).
        """
        receipts: tuple[NewReceipt, ...] = ()
        distributed = 0
        if error is None and self.dag.receipts:
            unused = self.context.prepaid_gas - self.gas.used
            receipts, distributed = self.dag.finish(unused)
            try:
                for receipt in receipts:
                    validate_receipt(receipt, self.params)
            except NewReceiptValidationError as exc:
                error, receipts, distributed = exc, (), 0
        failed = error is not None
        attempted = MappingProxyType(self.overlay.sorted_changes())
        return VMOutcome(
            return_data=None if failed else self.return_data,
            logs=tuple(self.logs),
            burnt_gas=self.gas.burnt,
            used_gas=self.gas.used + distributed,
            storage_changes=MappingProxyType({}) if failed else attempted,
            attempted_changes=attempted,
            storage_usage=self.context.storage_usage if failed else self.current_storage_usage,
            error=OutcomeError.of(error) if error is not None else None,
            profile=MappingProxyType(self.gas.profile()),
            access_log=tuple(self.overlay.access_log),
            params_name=self.params.name,
            receipts=receipts,
            returned_promise=None if failed else self.returned_promise,
            yield_resumes=() if failed else tuple(self.dag.resumes),
            balance=self.context.account_balance if failed else self.current_account_balance,
        )

    #: nearcore's name for the same step.
    compute_outcome = outcome

    # =========================================================================
    # helpers: memory, registers, strings (gas as nearcore's vmstate.rs)
    # =========================================================================

    def _read_memory(self, ptr: int, length: int) -> bytes:
        pay = self.gas.pay
        pay(_RM_BASE)
        pay(_RM_BYTE, length)
        return self.memory.read(ptr, length)

    def _write_memory(self, ptr: int, data: bytes) -> None:
        pay = self.gas.pay
        pay(_WM_BASE)
        pay(_WM_BYTE, len(data))
        self.memory.write(ptr, data)

    def _memory_or_register(self, ptr: int, length: int) -> bytes:
        """`length` bytes at `ptr`, or register `ptr` when `length` is u64::MAX."""
        pay = self.gas.pay
        if length == U64_MAX:
            data = self.registers.data.get(ptr)
            if data is None:
                raise InvalidRegisterId(f"Accessed invalid register id: {ptr}")
            pay(_RR_BASE)
            pay(_RR_BYTE, len(data))
            return data
        pay(_RM_BASE)
        pay(_RM_BYTE, length)
        return self.memory.read(ptr, length)

    def _set_register(self, register_id: int, data: bytes) -> None:
        pay = self.gas.pay
        pay(_WR_BASE)
        pay(_WR_BYTE, len(data))
        self.registers.set(register_id, data)

    def _write_u128(self, ptr: int, value: int) -> None:
        self._write_memory(ptr, value.to_bytes(16, "little"))

    def _check_not_view(self, name: str) -> None:
        if self.is_view:
            raise ProhibitedInView(f"{name} is not allowed in view calls")

    def _total_log_length_exceeded(self, add_len: int) -> TotalLogLengthExceeded:
        return TotalLogLengthExceeded(
            f"The length of a log message {self.total_log_length + add_len} exceeds the limit "
            f"{self.params.max_total_log_length}"
        )

    def _max_string_len(self) -> int:
        return max(0, self.params.max_total_log_length - self.total_log_length)

    def _utf8_string(self, length: int, ptr: int) -> tuple[str, int]:
        """Decode UTF-8 at ptr (NUL-terminated if length is u64::MAX); (text, byte length)."""
        self.gas.pay(_UTF8_BASE)
        max_len = self._max_string_len()
        if length != U64_MAX:
            if length > max_len:
                raise self._total_log_length_exceeded(length)
            buf = self._read_memory(ptr, length)
        else:
            buf = self._nul_terminated(ptr, max_len)
        self.gas.pay(_UTF8_BYTE, len(buf))
        try:
            return buf.decode("utf-8"), len(buf)
        except UnicodeDecodeError:
            raise BadUTF8("String encoding is bad UTF-8 sequence.") from None

    def _nul_terminated(self, ptr: int, max_len: int) -> bytes:
        """Bytes up to a NUL, at most max_len; each byte examined costs a 1-byte memory read."""
        gas = self.gas
        per_byte = gas._cost[_RM_BASE] + gas._cost[_RM_BYTE]
        try:
            chunk = self.memory.read(ptr, max_len + 1)
        except MemoryAccessViolation:
            chunk = None
        if chunk is not None:
            end = chunk.find(0)
            examined = end + 1 if end >= 0 else max_len + 1
            if per_byte * examined <= gas.remaining_gas():  # else charge byte by byte
                gas.pay(_RM_BASE, examined)
                gas.pay(_RM_BYTE, examined)
                if end < 0:
                    raise self._total_log_length_exceeded(max_len + 1)
                return chunk[:end]
        buf = bytearray()
        for i in range(max_len + 1):
            byte = self._read_memory(ptr + i, 1)[0]
            if byte == 0:
                return bytes(buf)
            if i == max_len:
                raise self._total_log_length_exceeded(max_len + 1)
            buf.append(byte)
        raise AssertionError("unreachable")  # pragma: no cover

    def _utf16_string(self, length: int, ptr: int) -> tuple[str, int]:
        """Decode UTF-16LE at ptr (NUL-terminated if length is u64::MAX); (text, utf8 len)."""
        self.gas.pay(_UTF16_BASE)
        max_len = self._max_string_len()
        if length == U64_MAX:
            length = 0
            while self._read_memory(ptr + length, 2) != b"\x00\x00":
                length += 2
                if length > max_len:
                    raise self._total_log_length_exceeded(length)
            buf = self.memory.read(ptr, length)
        else:
            buf = self._read_memory(ptr, length)
        if length % 2:
            raise BadUTF16("String encoding is bad UTF-16 sequence.")
        if length > max_len:
            raise self._total_log_length_exceeded(length)
        self.gas.pay(_UTF16_BYTE, length)
        try:
            text = buf.decode("utf-16-le")
        except UnicodeDecodeError:
            raise BadUTF16("String encoding is bad UTF-16 sequence.") from None
        return text, len(text.encode("utf-8"))

    def _push_log(self, message: str, size: int) -> None:
        total = self.total_log_length + size
        if total > self.params.max_total_log_length:
            raise self._total_log_length_exceeded(size)
        self.total_log_length = total
        self.logs.append(message)

    def _check_can_log(self) -> None:
        limit = self.params.max_number_logs
        if len(self.logs) >= limit:
            raise NumberOfLogsExceeded(f"The number of logs will exceed the limit {limit}")

    def _account_id(self, ptr: int, length: int) -> str:
        data = self._memory_or_register(ptr, length)
        pay = self.gas.pay
        pay(_UTF8_BASE)
        pay(_UTF8_BYTE, len(data))
        try:
            account_id = data.decode("utf-8")
        except UnicodeDecodeError:
            raise BadUTF8("String encoding is bad UTF-8 sequence.") from None
        if not is_valid_account_id(account_id):
            raise InvalidAccountId(f"invalid account id {account_id!r}")
        return account_id

    def _usage_underflow(self) -> NoReturn:
        """The committed state disagrees with context.storage_usage (nearcore's
        InconsistentStateError): a fault of the simulator, not of the contract."""
        raise InternalError(
            f"storage_usage went negative ({self.current_storage_usage}): the context's "
            "storage_usage does not cover the account's stored records"
        )

    # =========================================================================
    # storage (400-406)
    # =========================================================================

    def storage_read(self, key_len: int, key_ptr: int, register_id: int) -> int:
        gas = self.gas
        burnt = gas.burnt
        if (
            key_len > self._max_key_len  # also the register form (u64::MAX)
            or burnt + self._rd_worst + key_len * self._rd_per_key > gas.limit
        ):
            return self._storage_read_exact(key_len, key_ptr, register_id)
        try:
            key = self.memory.read(key_ptr, key_len)
        except MemoryAccessViolation:
            return self._storage_read_exact(key_len, key_ptr, register_id)
        value, touch = self.overlay.read(key)
        units = gas._units
        units[_BASE] += 1
        units[_SR_BASE] += 1
        units[_RM_BASE] += 1
        units[_RM_BYTE] += key_len
        units[_SR_KEY] += key_len
        burnt += self._rd_fixed + key_len * self._rd_per_key
        if touch:
            units[_TOUCH_COST[touch]] += 1
            burnt += self._touch_gas[touch]
        gas.burnt = burnt
        if value is None:
            return 0
        size = len(value)
        if burnt + self._set_reg_base + size * self._hit_per_byte > gas.limit:
            gas.pay(_SR_VALUE, size)
            self._set_register(register_id, value)
            raise AssertionError("unreachable: the charges above exceed the limit")
        gas.burnt = burnt + self._set_reg_base + size * self._hit_per_byte
        units[_SR_VALUE] += size
        units[_WR_BASE] += 1
        units[_WR_BYTE] += size
        self.registers.set(register_id, value)
        return 1

    def outlayer_storage_read_into(self, key_len: int, key_ptr: int, register_id: int,
                                   buf_len: int, buf_ptr: int) -> int:
        """The JS bridge's storage read: one host call, the gas of NEAR's three."""
        if not self.storage_read(key_len, key_ptr, register_id):
            return U64_MAX
        size = self.register_len(register_id)
        if size <= buf_len:
            self.read_register(register_id, buf_ptr)
        return size

    def _storage_read_exact(self, key_len: int, key_ptr: int, register_id: int) -> int:
        """storage_read charged step by step, exactly as nearcore orders it."""
        pay = self.gas.pay
        pay(_BASE)
        pay(_SR_BASE)
        key = self._memory_or_register(key_ptr, key_len)
        if len(key) > self._max_key_len:
            raise KeyLengthExceeded(
                f"The length of a storage key {len(key)} exceeds the limit {self._max_key_len}"
            )
        pay(_SR_KEY, len(key))
        value, touch = self.overlay.read(key)
        if touch:
            pay(_TOUCH_COST[touch])
        if value is None:
            return 0
        pay(_SR_VALUE, len(value))
        self._set_register(register_id, value)
        return 1

    def storage_write(
        self, key_len: int, key_ptr: int, value_len: int, value_ptr: int, register_id: int
    ) -> int:
        gas = self.gas
        burnt = gas.burnt
        if (
            self.is_view
            or key_len > self._max_key_len  # also the register forms (u64::MAX)
            or value_len > self._max_value_len
            or burnt + self._wr_worst + key_len * self._wr_per_key + value_len * self._wr_per_value
            > gas.limit
        ):
            return self._storage_write_exact(key_len, key_ptr, value_len, value_ptr, register_id)
        try:
            key = self.memory.read(key_ptr, key_len)
            value = self.memory.read(value_ptr, value_len)
        except MemoryAccessViolation:
            return self._storage_write_exact(key_len, key_ptr, value_len, value_ptr, register_id)
        old, touch = self.overlay.write(key, value)
        units = gas._units
        units[_BASE] += 1
        units[_SW_BASE] += 1
        units[_RM_BASE] += 2
        units[_RM_BYTE] += key_len + value_len
        units[_SW_KEY] += key_len
        units[_SW_VALUE] += value_len
        burnt += self._wr_fixed + key_len * self._wr_per_key + value_len * self._wr_per_value
        if touch:
            units[_TOUCH_COST[touch]] += 1
            burnt += self._touch_gas[touch]
        gas.burnt = burnt
        if old is None:
            self.current_storage_usage += key_len + value_len + self._extra_bytes_record
            return 0
        size = len(old)
        if burnt + self._set_reg_base + size * self._evict_per_byte > gas.limit:
            gas.pay(_SW_EVICTED, size)
            self.current_storage_usage += value_len - size
            self._set_register(register_id, old)
            raise AssertionError("unreachable: the charges above exceed the limit")
        gas.burnt = burnt + self._set_reg_base + size * self._evict_per_byte
        units[_SW_EVICTED] += size
        units[_WR_BASE] += 1
        units[_WR_BYTE] += size
        self.current_storage_usage += value_len - size
        if self.current_storage_usage < 0:
            self._usage_underflow()
        self.registers.set(register_id, old)
        return 1

    def _storage_write_exact(
        self, key_len: int, key_ptr: int, value_len: int, value_ptr: int, register_id: int
    ) -> int:
        """storage_write charged step by step, exactly as nearcore orders it."""
        pay = self.gas.pay
        pay(_BASE)
        if self.is_view:
            raise ProhibitedInView("storage_write is not allowed in view calls")
        pay(_SW_BASE)
        key = self._memory_or_register(key_ptr, key_len)
        if len(key) > self._max_key_len:
            raise KeyLengthExceeded(
                f"The length of a storage key {len(key)} exceeds the limit {self._max_key_len}"
            )
        value = self._memory_or_register(value_ptr, value_len)
        if len(value) > self._max_value_len:
            raise ValueLengthExceeded(
                f"The length of a storage value {len(value)} exceeds the limit "
                f"{self._max_value_len}"
            )
        pay(_SW_KEY, len(key))
        pay(_SW_VALUE, len(value))
        old, touch = self.overlay.write(key, value)
        if touch:
            pay(_TOUCH_COST[touch])
        if old is None:
            self.current_storage_usage += len(key) + len(value) + self._extra_bytes_record
            return 0
        pay(_SW_EVICTED, len(old))
        self.current_storage_usage += len(value) - len(old)
        if self.current_storage_usage < 0:
            self._usage_underflow()
        self._set_register(register_id, old)
        return 1

    def storage_remove(self, key_len: int, key_ptr: int, register_id: int) -> int:
        pay = self.gas.pay
        pay(_BASE)
        self._check_not_view("storage_remove")
        pay(_SRM_BASE)
        key = self._memory_or_register(key_ptr, key_len)
        if len(key) > self._max_key_len:
            raise KeyLengthExceeded(
                f"The length of a storage key {len(key)} exceeds the limit {self._max_key_len}"
            )
        pay(_SRM_KEY, len(key))
        old, touch = self.overlay.remove(key)
        if touch:
            pay(_TOUCH_COST[touch])
        if old is None:
            return 0
        pay(_SRM_VALUE, len(old))
        self.current_storage_usage -= len(key) + len(old) + self._extra_bytes_record
        if self.current_storage_usage < 0:
            self._usage_underflow()
        self._set_register(register_id, old)
        return 1

    def storage_has_key(self, key_len: int, key_ptr: int) -> int:
        pay = self.gas.pay
        pay(_BASE)
        pay(_SHK_BASE)
        key = self._memory_or_register(key_ptr, key_len)
        if len(key) > self._max_key_len:
            raise KeyLengthExceeded(
                f"The length of a storage key {len(key)} exceeds the limit {self._max_key_len}"
            )
        pay(_SHK_KEY, len(key))
        present, touch = self.overlay.has_key(key)
        if touch:
            pay(_TOUCH_COST[touch])
        return 1 if present else 0

    def log_utf8(self, len: int, ptr: int) -> None:
        gas = self.gas
        new_burnt = gas.burnt + self._log_fixed + len * self._log_per_byte
        new_total = self.total_log_length + len
        if (
            new_burnt <= gas.limit
            and new_total <= self._max_log_total  # also rules out the NUL form (u64::MAX)
            and _len(self.logs) < self._max_logs
        ):
            try:
                message = self.memory.read(ptr, len).decode("utf-8")
            except (MemoryAccessViolation, UnicodeDecodeError):
                return self._log_utf8_exact(len, ptr)  # charges as far as nearcore, raises
            gas.burnt = new_burnt
            units = gas._units
            units[_BASE] += 1
            units[_UTF8_BASE] += 1
            units[_RM_BASE] += 1
            units[_RM_BYTE] += len
            units[_UTF8_BYTE] += len
            units[_LOG_BASE] += 1
            units[_LOG_BYTE] += len
            self.total_log_length = new_total
            self.logs.append(message)
            return None
        return self._log_utf8_exact(len, ptr)

    def log_text(self, message: str) -> None:
        """A log line the guest wrote to stdout/stderr: priced and limited as log_utf8."""
        data = message.encode("utf-8")
        pay = self.gas.pay
        pay(_BASE)
        self._check_can_log()
        pay(_UTF8_BASE)
        pay(_UTF8_BYTE, _len(data))
        pay(_LOG_BASE)
        pay(_LOG_BYTE, _len(data))
        self._push_log(message, _len(data))

    def _log_utf8_exact(self, len: int, ptr: int) -> None:
        self.gas.pay(_BASE)
        self._check_can_log()
        message, size = self._utf8_string(len, ptr)
        pay = self.gas.pay
        pay(_LOG_BASE)
        pay(_LOG_BYTE, size)
        self._push_log(message, size)

    def log_utf16(self, len: int, ptr: int) -> None:
        self.gas.pay(_BASE)
        self._check_can_log()
        message, size = self._utf16_string(len, ptr)
        pay = self.gas.pay
        pay(_LOG_BASE)
        pay(_LOG_BYTE, size)
        self._push_log(message, size)

    def storage_usage(self) -> int:
        self.gas.pay(_BASE)
        return self.current_storage_usage

    # NEAR still links the storage iterators, but every call fails (no gas is charged)

    def storage_iter_prefix(self, prefix_len: int, prefix_ptr: int) -> int:
        raise Deprecated("Attempted to call deprecated host function storage_iter_prefix")

    def storage_iter_range(self, start_len: int, start_ptr: int, end_len: int,
                           end_ptr: int) -> int:
        raise Deprecated("Attempted to call deprecated host function storage_iter_range")

    def storage_iter_next(self, iterator_id: int, key_register_id: int,
                          value_register_id: int) -> int:
        raise Deprecated("Attempted to call deprecated host function storage_iter_next")

    # =========================================================================
    # context (410-425)
    # =========================================================================

    def current_account_id(self, register_id: int) -> None:
        self.gas.pay(_BASE)
        self._set_register(register_id, self.context.current_account_id.encode())

    def signer_account_id(self, register_id: int) -> None:
        self.gas.pay(_BASE)
        self._check_not_view("signer_account_id")
        self._set_register(register_id, self.context.signer_account_id.encode())

    def signer_account_pk(self, register_id: int) -> None:
        self.gas.pay(_BASE)
        self._check_not_view("signer_account_pk")
        self._set_register(register_id, bytes(self.context.signer_account_pk))

    def predecessor_account_id(self, register_id: int) -> None:
        self.gas.pay(_BASE)
        self._check_not_view("predecessor_account_id")
        self._set_register(register_id, self.context.predecessor_account_id.encode())

    def input(self, register_id: int) -> None:
        self.gas.pay(_BASE)
        self._set_register(register_id, bytes(self.context.input))

    def block_index(self) -> int:
        self.gas.pay(_BASE)
        return self.context.block_height

    def block_timestamp(self) -> int:
        self.gas.pay(_BASE)
        return self.context.block_timestamp

    def epoch_height(self) -> int:
        self.gas.pay(_BASE)
        return self.context.epoch_height

    def account_balance(self, balance_ptr: int) -> None:
        self.gas.pay(_BASE)
        self._write_u128(balance_ptr, self.current_account_balance)

    def account_locked_balance(self, balance_ptr: int) -> None:
        self.gas.pay(_BASE)
        self._write_u128(balance_ptr, self.context.account_locked_balance)

    def attached_deposit(self, balance_ptr: int) -> None:
        self.gas.pay(_BASE)
        self._check_not_view("attached_deposit")
        self._write_u128(balance_ptr, self.context.attached_deposit)

    def prepaid_gas(self) -> int:
        self.gas.pay(_BASE)
        self._check_not_view("prepaid_gas")
        return self.context.prepaid_gas

    def used_gas(self) -> int:
        self.gas.pay(_BASE)
        self._check_not_view("used_gas")
        return self.gas.used

    def random_seed(self, register_id: int) -> None:
        self.gas.pay(_BASE)
        self._set_register(register_id, bytes(self.context.random_seed))

    def validator_stake(self, account_id_len: int, account_id_ptr: int, stake_ptr: int) -> None:
        """Stake of a validator: always 0, the simulator has no validators."""
        self.gas.pay(_BASE)
        self._account_id(account_id_ptr, account_id_len)
        self.gas.pay(_VALIDATOR_STAKE)
        self._write_u128(stake_ptr, 0)

    def validator_total_stake(self, stake_ptr: int) -> None:
        """Total validator stake: always 0, the simulator has no validators."""
        self.gas.pay(_BASE)
        self.gas.pay(_VALIDATOR_TOTAL_STAKE)
        self._write_u128(stake_ptr, 0)

    # =========================================================================
    # registers (430-432)
    # =========================================================================

    def read_register(self, register_id: int, ptr: int) -> None:
        gas = self.gas
        data = self.registers.data.get(register_id)
        if data is not None:
            new_burnt = gas.burnt + self._rr_fixed + len(data) * self._rr_per_byte
            if new_burnt <= gas.limit:
                try:
                    self.memory.write(ptr, data)
                except MemoryAccessViolation:
                    return self._read_register_exact(register_id, ptr)  # charges, raises
                gas.burnt = new_burnt
                units = gas._units
                units[_BASE] += 1
                units[_RR_BASE] += 1
                units[_RR_BYTE] += len(data)
                units[_WM_BASE] += 1
                units[_WM_BYTE] += len(data)
                return
        self._read_register_exact(register_id, ptr)

    def _read_register_exact(self, register_id: int, ptr: int) -> None:
        pay = self.gas.pay
        pay(_BASE)
        data = self.registers.data.get(register_id)
        if data is None:
            raise InvalidRegisterId(f"Accessed invalid register id: {register_id}")
        pay(_RR_BASE)
        pay(_RR_BYTE, len(data))
        pay(_WM_BASE)
        pay(_WM_BYTE, len(data))
        self.memory.write(ptr, data)

    def register_len(self, register_id: int) -> int:
        self.gas.pay(_BASE)
        data = self.registers.data.get(register_id)
        return U64_MAX if data is None else len(data)

    def write_register(self, register_id: int, data_len: int, data_ptr: int) -> None:
        self.gas.pay(_BASE)
        self._set_register(register_id, self._read_memory(data_ptr, data_len))

    # =========================================================================
    # results and failure (440-442)
    # =========================================================================

    def value_return(self, value_len: int, value_ptr: int) -> None:
        self.gas.pay(_BASE)
        value = self._memory_or_register(value_ptr, value_len)
        limit = self.params.max_length_returned_data
        if len(value) > limit:
            raise ReturnedValueLengthExceeded(
                f"The length of a returned value {len(value)} exceeds the limit {limit}"
            )
        receivers = self.context.output_data_receivers
        if receivers:
            fee = self.params.data_receipt_creation_per_byte
            burn = 0
            for receiver in receivers:
                sir = receiver == self.context.current_account_id
                burn += (fee.send_fee(sir) + fee.execution) * len(value)
            self.gas.pay_action(burn, burn, "new_data_receipt_byte")
        self.return_data = value
        self.returned_promise = None  # the last of value_return / promise_return wins

    def panic(self) -> NoReturn:
        self.gas.pay(_BASE)
        raise GuestPanic("explicit guest panic")

    def panic_utf8(self, len: int, ptr: int) -> NoReturn:
        self.gas.pay(_BASE)
        message, _ = self._utf8_string(len, ptr)
        raise GuestPanic(message)

    def abort(self, msg_ptr: int, filename_ptr: int, line: int, col: int) -> NoReturn:
        """AssemblyScript's abort: UTF-16 message and file name, each preceded by its u32
        byte length; logs ``ABORT: ...`` and panics with the message (nearcore's order)."""
        self.gas.pay(_BASE)
        if msg_ptr < 4 or filename_ptr < 4:
            raise BadUTF16("String encoding is bad UTF-16 sequence.")
        self._check_can_log()
        msg_len = int.from_bytes(self._read_memory(msg_ptr - 4, 4), "little")
        filename_len = int.from_bytes(self._read_memory(filename_ptr - 4, 4), "little")
        msg, _ = self._utf16_string(msg_len, msg_ptr)
        filename, _ = self._utf16_string(filename_len, filename_ptr)
        message = f'{msg}, filename: "{filename}" line: {line} col: {col}'
        self.gas.pay(_LOG_BASE)
        self.gas.pay(_LOG_BYTE, _len(message.encode("utf-8")))
        log = f"ABORT: {message}"
        self._push_log(log, _len(log.encode("utf-8")))
        raise GuestPanic(message)

    # =========================================================================
    # hashing and signatures (450-458)
    # =========================================================================

    def sha256(self, value_len: int, value_ptr: int, register_id: int) -> None:
        self.gas.pay(_SHA256_BASE)
        value = self._memory_or_register(value_ptr, value_len)
        self.gas.pay(_SHA256_BYTE, len(value))
        self._set_register(register_id, crypto.sha256(value))

    def keccak256(self, value_len: int, value_ptr: int, register_id: int) -> None:
        self.gas.pay(_KECCAK256_BASE)
        value = self._memory_or_register(value_ptr, value_len)
        self.gas.pay(_KECCAK256_BYTE, len(value))
        self._set_register(register_id, crypto.keccak256(value))

    def keccak512(self, value_len: int, value_ptr: int, register_id: int) -> None:
        self.gas.pay(_KECCAK512_BASE)
        value = self._memory_or_register(value_ptr, value_len)
        self.gas.pay(_KECCAK512_BYTE, len(value))
        self._set_register(register_id, crypto.keccak512(value))

    def ripemd160(self, value_len: int, value_ptr: int, register_id: int) -> None:
        self.gas.pay(_RIPEMD_BASE)
        value = self._memory_or_register(value_ptr, value_len)
        self.gas.pay(_RIPEMD_BLOCK, crypto.ripemd160_blocks(len(value)))
        self._set_register(register_id, crypto.ripemd160(value))

    def ecrecover(
        self,
        hash_len: int,
        hash_ptr: int,
        sig_len: int,
        sig_ptr: int,
        v: int,
        malleability_flag: int,
        register_id: int,
    ) -> int:
        """1 and the signer's 64-byte public key in the register, or 0 if none recovers."""
        self.gas.pay(_ECRECOVER_BASE)
        signature = self._memory_or_register(sig_ptr, sig_len)
        if len(signature) != 64:
            raise ECRecoverError(
                f"ECDSA recover error: The length of the signature: {len(signature)}, exceeds "
                "the limit of 64 bytes"
            )
        if v >= 4:
            raise ECRecoverError(
                f"ECDSA recover error: V recovery byte 0 through 3 are valid but was provided {v}"
            )
        hash32 = self._memory_or_register(hash_ptr, hash_len)
        if len(hash32) != 32:
            raise ECRecoverError(
                f"ECDSA recover error: The length of the hash: {len(hash32)}, exceeds the limit "
                "of 32 bytes"
            )
        if malleability_flag not in (0, 1):
            raise ECRecoverError(
                "ECDSA recover error: Malleability flag needs to be 0 or 1, but is instead "
                f"{malleability_flag}"
            )
        key = crypto.ecrecover(hash32, signature, v, malleability_flag == 1)
        if key is None:
            return 0
        self._set_register(register_id, key)
        return 1

    def ed25519_verify(
        self,
        signature_len: int,
        signature_ptr: int,
        message_len: int,
        message_ptr: int,
        public_key_len: int,
        public_key_ptr: int,
    ) -> int:
        """1 if the signature is valid, else 0; wrong sizes are Ed25519VerifyInvalidInput."""
        self.gas.pay(_ED25519_BASE)
        signature = self._memory_or_register(signature_ptr, signature_len)
        if len(signature) != 64:
            raise Ed25519VerifyInvalidInput(
                "ED25519 signature verification error: invalid signature length"
            )
        if signature[63] & 0b1110_0000:
            return 0  # nearcore keeps ed25519-dalek 1.x's early reject (and its cost)
        message = self._memory_or_register(message_ptr, message_len)
        self.gas.pay(_ED25519_BYTE, len(message))
        public_key = self._memory_or_register(public_key_ptr, public_key_len)
        if len(public_key) != 32:
            raise Ed25519VerifyInvalidInput(
                "ED25519 signature verification error: invalid public key length"
            )
        return 1 if crypto.ed25519_verify(signature, message, public_key) else 0

    # alt_bn128 (NEAR's encodings: outlayer.vm.alt_bn128): each pays only its own base, then
    # reads the input, splits it into items (a ragged input fails before the per-item fee)

    def alt_bn128_g1_multiexp(self, value_len: int, value_ptr: int, register_id: int) -> None:
        self.gas.pay(_BN_MULTIEXP_BASE)
        items = alt_bn128.split(self._memory_or_register(value_ptr, value_len),
                                alt_bn128.MULTIEXP_ITEM)
        self.gas.pay(_BN_MULTIEXP_ELEMENT, len(items))
        self._set_register(register_id, alt_bn128.g1_multiexp(items))

    def alt_bn128_g1_sum(self, value_len: int, value_ptr: int, register_id: int) -> None:
        self.gas.pay(_BN_SUM_BASE)
        items = alt_bn128.split(self._memory_or_register(value_ptr, value_len),
                                alt_bn128.SUM_ITEM)
        self.gas.pay(_BN_SUM_ELEMENT, len(items))
        self._set_register(register_id, alt_bn128.g1_sum(items))

    def alt_bn128_pairing_check(self, value_len: int, value_ptr: int) -> int:
        self.gas.pay(_BN_PAIRING_BASE)
        items = alt_bn128.split(self._memory_or_register(value_ptr, value_len),
                                alt_bn128.PAIRING_ITEM)
        self.gas.pay(_BN_PAIRING_ELEMENT, len(items))
        return 1 if alt_bn128.pairing_check(items) else 0

    def _bls12381(self, name: str) -> NoReturn:
        raise UnsupportedHostFunction(
            f"{name}: the bls12381 host functions are not available in OutLayer yet "
            "(see docs/DIRECT_WASM.md)")

    def bls12381_g1_sum(self, value_len: int, value_ptr: int, register_id: int) -> int:
        self._bls12381("bls12381_g1_sum")

    def bls12381_g2_sum(self, value_len: int, value_ptr: int, register_id: int) -> int:
        self._bls12381("bls12381_g2_sum")

    def bls12381_g1_multiexp(self, value_len: int, value_ptr: int, register_id: int) -> int:
        self._bls12381("bls12381_g1_multiexp")

    def bls12381_g2_multiexp(self, value_len: int, value_ptr: int, register_id: int) -> int:
        self._bls12381("bls12381_g2_multiexp")

    def bls12381_map_fp_to_g1(self, value_len: int, value_ptr: int, register_id: int) -> int:
        self._bls12381("bls12381_map_fp_to_g1")

    def bls12381_map_fp2_to_g2(self, value_len: int, value_ptr: int, register_id: int) -> int:
        self._bls12381("bls12381_map_fp2_to_g2")

    def bls12381_pairing_check(self, value_len: int, value_ptr: int) -> int:
        self._bls12381("bls12381_pairing_check")

    def bls12381_g1_decompress(self, value_len: int, value_ptr: int, register_id: int) -> int:
        self._bls12381("bls12381_g1_decompress")

    def bls12381_g2_decompress(self, value_len: int, value_ptr: int, register_id: int) -> int:
        self._bls12381("bls12381_g2_decompress")

    # =========================================================================
    # promises (460-477), after nearcore's logic.rs: base, the view check, the arguments,
    # the promise lookup, then the fees; `gas` arguments are prepaid (used, not burnt)
    # =========================================================================

    def _pay_new_receipt(self, sir: bool, deps_sir: tuple[bool, ...] = ()) -> None:
        """nearcore's pay_gas_for_new_receipt: burn the receipt's send fee plus, per data
        dependency, the data receipt's base send + exec fee (a data receipt's exec is paid
        up front too); use all that plus the receipt's exec fee."""
        p = self.params
        burn = p.action_receipt_creation.send_fee(sir)
        data = p.data_receipt_creation_base
        for dep_sir in deps_sir:
            burn += data.send_fee(dep_sir) + data.execution
        self.gas.pay_action(burn, burn + p.action_receipt_creation.execution,
                            "new_action_receipt")

    def _pay_action(self, fee: Fee, sir: bool, name: str, n: int = 1) -> None:
        """An action fee `n` times: burn the send part now, reserve the exec part."""
        if n:
            burn = fee.send_fee(sir) * n
            self.gas.pay_action(burn, burn + fee.execution * n, name)

    def _read_u128(self, ptr: int) -> int:
        return int.from_bytes(self._read_memory(ptr, 16), "little")

    def _deduct_balance(self, amount: int) -> None:
        if amount > self.current_account_balance:
            raise BalanceExceeded("Exceeded the account balance.")
        self.current_account_balance -= amount

    def _receipt_for_action(self, promise_index: int) -> tuple[int, bool]:
        """The receipt an action goes to, and whether it is sent to self (sir)."""
        receipt = self.dag.receipt_of(promise_index)
        return receipt, self.dag.receiver(receipt) == self.context.current_account_id

    def _public_key(self, data: bytes) -> bytes:
        key = parse_public_key(data)
        if key is None:
            raise InvalidPublicKey("VM Logic provided an invalid public key")
        return key

    def _batch_create(self, account_id_len: int, account_id_ptr: int, name: str) -> int:
        self.gas.pay(_BASE)
        self._check_not_view(name)
        account_id = self._account_id(account_id_ptr, account_id_len)
        self._pay_new_receipt(account_id == self.context.current_account_id)
        return self.dag.push(self.dag.create_receipt(account_id))

    def _batch_then(self, promise_index: int, account_id_len: int, account_id_ptr: int,
                    name: str) -> int:
        self.gas.pay(_BASE)
        self._check_not_view(name)
        account_id = self._account_id(account_id_ptr, account_id_len)
        deps = self.dag.receipts_of(promise_index)
        self._pay_new_receipt(
            account_id == self.context.current_account_id,
            tuple(self.dag.receiver(dep) == account_id for dep in deps),
        )
        return self.dag.push(self.dag.create_receipt(account_id, deps))

    def _function_call(self, promise_index: int, function_name_len: int,
                       function_name_ptr: int, arguments_len: int, arguments_ptr: int,
                       amount_ptr: int, gas: int, gas_weight: int, name: str) -> None:
        self.gas.pay(_BASE)
        self._check_not_view(name)
        amount = self._read_u128(amount_ptr)
        method = self._memory_or_register(function_name_ptr, function_name_len)
        if not method:
            raise EmptyMethodName("Tried to call an empty method name.")
        args = self._memory_or_register(arguments_ptr, arguments_len)
        receipt, sir = self._receipt_for_action(promise_index)
        p = self.params
        self._pay_action(p.action_function_call, sir, "function_call_base")
        self._pay_action(p.action_function_call_per_byte, sir, "function_call_byte",
                         len(method) + len(args))
        self.gas.prepay(gas)
        self._deduct_balance(amount)
        call = FunctionCall(method_name(method), args, amount, gas, gas_weight)
        self.dag.append(receipt, call, gas_weight)

    def promise_create(
        self,
        account_id_len: int,
        account_id_ptr: int,
        function_name_len: int,
        function_name_ptr: int,
        arguments_len: int,
        arguments_ptr: int,
        amount_ptr: int,
        gas: int,
    ) -> int:
        """promise_batch_create + promise_batch_action_function_call (base paid twice)."""
        index = self._batch_create(account_id_len, account_id_ptr, "promise_create")
        self._function_call(index, function_name_len, function_name_ptr, arguments_len,
                            arguments_ptr, amount_ptr, gas, 0, "promise_create")
        return index

    def promise_then(
        self,
        promise_index: int,
        account_id_len: int,
        account_id_ptr: int,
        function_name_len: int,
        function_name_ptr: int,
        arguments_len: int,
        arguments_ptr: int,
        amount_ptr: int,
        gas: int,
    ) -> int:
        """promise_batch_then + promise_batch_action_function_call (base paid twice)."""
        index = self._batch_then(promise_index, account_id_len, account_id_ptr, "promise_then")
        self._function_call(index, function_name_len, function_name_ptr, arguments_len,
                            arguments_ptr, amount_ptr, gas, 0, "promise_then")
        return index

    def promise_and(self, promise_idx_ptr: int, promise_idx_count: int) -> int:
        """A joint promise over u64 LE promise indices in memory; creates no receipt."""
        pay = self.gas.pay
        pay(_BASE)
        self._check_not_view("promise_and")
        pay(_PROMISE_AND_BASE)
        size = promise_idx_count * 8
        if size > U64_MAX:
            raise IntegerOverflow("Integer overflow.")
        pay(_PROMISE_AND_PER, size)  # nearcore charges it per byte of the index array
        data = self._read_memory(promise_idx_ptr, size)
        limit = self.params.max_number_input_data_dependencies
        deps: list[int] = []
        for i in range(0, size, 8):
            deps.extend(self.dag.receipts_of(int.from_bytes(data[i : i + 8], "little")))
            if len(deps) > limit:  # in the loop, as nearcore: no huge joins are built
                raise NumberInputDataDependenciesExceeded(
                    f"The number of input data dependencies {len(deps)} exceeds the limit "
                    f"{limit}"
                )
        return self.dag.push(tuple(deps))

    def promise_batch_create(self, account_id_len: int, account_id_ptr: int) -> int:
        return self._batch_create(account_id_len, account_id_ptr, "promise_batch_create")

    def promise_batch_then(
        self, promise_index: int, account_id_len: int, account_id_ptr: int
    ) -> int:
        return self._batch_then(promise_index, account_id_len, account_id_ptr,
                                "promise_batch_then")

    def promise_batch_action_create_account(self, promise_index: int) -> None:
        self.gas.pay(_BASE)
        self._check_not_view("promise_batch_action_create_account")
        receipt, sir = self._receipt_for_action(promise_index)
        self._pay_action(self.params.action_create_account, sir, "create_account")
        self.dag.append(receipt, CreateAccount())

    def promise_batch_action_deploy_contract(
        self, promise_index: int, code_len: int, code_ptr: int
    ) -> None:
        self.gas.pay(_BASE)
        self._check_not_view("promise_batch_action_deploy_contract")
        code = self._memory_or_register(code_ptr, code_len)
        limit = self.params.max_contract_size
        if len(code) > limit:
            raise ContractSizeExceeded(
                f"The size of a contract code in DeployContract action {len(code)} exceeds "
                f"the limit {limit}"
            )
        receipt, sir = self._receipt_for_action(promise_index)
        p = self.params
        self._pay_action(p.action_deploy_contract, sir, "deploy_contract_base")
        self._pay_action(p.action_deploy_contract_per_byte, sir, "deploy_contract_byte",
                         len(code))
        self.dag.append(receipt, DeployContract(code))

    def promise_batch_action_function_call(
        self,
        promise_index: int,
        function_name_len: int,
        function_name_ptr: int,
        arguments_len: int,
        arguments_ptr: int,
        amount_ptr: int,
        gas: int,
    ) -> None:
        self._function_call(promise_index, function_name_len, function_name_ptr,
                            arguments_len, arguments_ptr, amount_ptr, gas, 0,
                            "promise_batch_action_function_call")

    def promise_batch_action_function_call_weight(
        self,
        promise_index: int,
        function_name_len: int,
        function_name_ptr: int,
        arguments_len: int,
        arguments_ptr: int,
        amount_ptr: int,
        gas: int,
        gas_weight: int,
    ) -> None:
        """A function call that also gets a gas_weight share of the caller's unused gas
        when the call ends (see `outcome`)."""
        self._function_call(promise_index, function_name_len, function_name_ptr,
                            arguments_len, arguments_ptr, amount_ptr, gas, gas_weight,
                            "promise_batch_action_function_call_weight")

    def promise_batch_action_transfer(self, promise_index: int, amount_ptr: int) -> None:
        self.gas.pay(_BASE)
        self._check_not_view("promise_batch_action_transfer")
        amount = self._read_u128(amount_ptr)
        receipt, sir = self._receipt_for_action(promise_index)
        send, execution = self._transfer_fees(self.dag.receiver(receipt), sir)
        self.gas.pay_action(send, send + execution, "transfer")
        self._deduct_balance(amount)
        self.dag.append(receipt, Transfer(amount))

    def _transfer_fees(self, receiver_id: str, sir: bool) -> tuple[int, int]:
        """(send, exec) of a Transfer; one to an implicit account also creates it."""
        fees = self.params.transfer_fees(receiver_id)
        return sum(f.send_fee(sir) for f in fees), sum(f.execution for f in fees)

    def promise_batch_action_stake(
        self, promise_index: int, amount_ptr: int, public_key_len: int, public_key_ptr: int
    ) -> None:
        self.gas.pay(_BASE)
        self._check_not_view("promise_batch_action_stake")
        amount = self._read_u128(amount_ptr)
        key = self._memory_or_register(public_key_ptr, public_key_len)
        receipt, sir = self._receipt_for_action(promise_index)
        self._pay_action(self.params.action_stake, sir, "stake")
        self.dag.append(receipt, Stake(amount, self._public_key(key)))

    def promise_batch_action_add_key_with_full_access(
        self, promise_index: int, public_key_len: int, public_key_ptr: int, nonce: int
    ) -> None:
        self.gas.pay(_BASE)
        self._check_not_view("promise_batch_action_add_key_with_full_access")
        key = self._memory_or_register(public_key_ptr, public_key_len)
        receipt, sir = self._receipt_for_action(promise_index)
        self._pay_action(self.params.action_add_full_access_key, sir, "add_full_access_key")
        self.dag.append(receipt, AddKey(self._public_key(key), nonce, FullAccess()))

    def promise_batch_action_add_key_with_function_call(
        self,
        promise_index: int,
        public_key_len: int,
        public_key_ptr: int,
        nonce: int,
        allowance_ptr: int,
        receiver_id_len: int,
        receiver_id_ptr: int,
        method_names_len: int,
        method_names_ptr: int,
    ) -> None:
        """A function-call key: allowance 0 = unlimited, method names comma-separated."""
        self.gas.pay(_BASE)
        self._check_not_view("promise_batch_action_add_key_with_function_call")
        key = self._memory_or_register(public_key_ptr, public_key_len)
        allowance = self._read_u128(allowance_ptr)
        receiver_id = self._account_id(receiver_id_ptr, receiver_id_len)
        names = split_method_names(self._memory_or_register(method_names_ptr,
                                                            method_names_len))
        receipt, sir = self._receipt_for_action(promise_index)
        p = self.params
        self._pay_action(p.action_add_function_call_key, sir, "add_function_call_key_base")
        self._pay_action(p.action_add_function_call_key_per_byte, sir,
                         "add_function_call_key_byte", sum(len(n) + 1 for n in names))
        public_key = self._public_key(key)
        permission = FunctionCallPermission(allowance or None, receiver_id,
                                            tuple(method_name(n) for n in names))
        self.dag.append(receipt, AddKey(public_key, nonce, permission))

    def promise_batch_action_delete_key(
        self, promise_index: int, public_key_len: int, public_key_ptr: int
    ) -> None:
        self.gas.pay(_BASE)
        self._check_not_view("promise_batch_action_delete_key")
        key = self._memory_or_register(public_key_ptr, public_key_len)
        receipt, sir = self._receipt_for_action(promise_index)
        self._pay_action(self.params.action_delete_key, sir, "delete_key")
        self.dag.append(receipt, DeleteKey(self._public_key(key)))

    def promise_batch_action_delete_account(
        self, promise_index: int, beneficiary_id_len: int, beneficiary_id_ptr: int
    ) -> None:
        self.gas.pay(_BASE)
        self._check_not_view("promise_batch_action_delete_account")
        beneficiary_id = self._account_id(beneficiary_id_ptr, beneficiary_id_len)
        receipt, sir = self._receipt_for_action(promise_index)
        self._pay_action(self.params.action_delete_account, sir, "delete_account")
        self.dag.append(receipt, DeleteAccount(beneficiary_id))

    def promise_results_count(self) -> int:
        self.gas.pay(_BASE)
        self._check_not_view("promise_results_count")
        return len(self.context.promise_results)

    def promise_result(self, result_idx: int, register_id: int) -> int:
        """0 not ready, 1 successful (data into the register), 2 failed."""
        self.gas.pay(_BASE)
        self._check_not_view("promise_result")
        results = self.context.promise_results
        if result_idx >= len(results):
            raise InvalidPromiseResultIndex(
                f"Accessed invalid promise result index: {result_idx}"
            )
        result = results[result_idx]
        if result.status == "successful":
            self._set_register(register_id, result.data)
            return 1
        return 2 if result.status == "failed" else 0

    def promise_return(self, promise_idx: int) -> None:
        """The call's result becomes that receipt's result (replacing any value_return)."""
        self.gas.pay(_BASE)
        self.gas.pay(_PROMISE_RETURN)  # before the view check, as nearcore
        self._check_not_view("promise_return")
        receipts = self.dag.receipts_of(promise_idx)
        if isinstance(self.dag.promises[promise_idx], tuple):
            raise CannotReturnJointPromise("Returning joint promise is currently prohibited.")
        self.returned_promise = receipts[0]
        self.return_data = None

    # =========================================================================
    # yields (478-479), NEP-519
    # =========================================================================

    def promise_yield_create(
        self,
        function_name_len: int,
        function_name_ptr: int,
        arguments_len: int,
        arguments_ptr: int,
        gas: int,
        gas_weight: int,
        register_id: int,
    ) -> int:
        """A receipt to this account that calls the method once its data id (written to the
        register) is resumed, or with a failed result after the yield timeout."""
        pay = self.gas.pay
        pay(_BASE)
        self._check_not_view("promise_yield_create")
        pay(_YIELD_CREATE_BASE)
        method = self._memory_or_register(function_name_ptr, function_name_len)
        if not method:
            raise EmptyMethodName("Tried to call an empty method name.")
        args = self._memory_or_register(arguments_ptr, arguments_len)
        size = len(method) + len(args)
        pay(_YIELD_CREATE_BYTE, size)
        self.gas.prepay(gas)
        self._pay_new_receipt(True, (True,))
        dag = self.dag
        data_id = yield_data_id(self.context.receipt_id, dag.yields_created)
        dag.yields_created += 1
        receipt = dag.create_receipt(self.context.current_account_id, (), data_id)
        dag.open_yields.add(data_id)
        index = dag.push(receipt)
        p = self.params
        self._pay_action(p.action_function_call, True, "function_call_base")
        self._pay_action(p.action_function_call_per_byte, True, "function_call_byte", size)
        dag.append(receipt, FunctionCall(method_name(method), args, 0, gas, gas_weight),
                   gas_weight)
        self._set_register(register_id, data_id)
        return index

    def promise_yield_resume(
        self, data_id_len: int, data_id_ptr: int, payload_len: int, payload_ptr: int
    ) -> int:
        """1 if a yield of this account waits for `data_id` (the payload is then delivered;
        the first one wins), else 0."""
        pay = self.gas.pay
        pay(_BASE)
        self._check_not_view("promise_yield_resume")
        pay(_YIELD_RESUME_BASE)
        pay(_YIELD_RESUME_BYTE, payload_len)  # the raw argument, as nearcore charges it
        data_id = self._memory_or_register(data_id_ptr, data_id_len)
        payload = self._memory_or_register(payload_ptr, payload_len)
        limit = self.params.max_yield_payload_size
        if len(payload) > limit:
            raise YieldPayloadLength(
                f"Yield resume payload is {len(payload)} bytes which exceeds the {limit} "
                "byte limit"
            )
        if len(data_id) != 32:
            raise DataIdMalformed("Data ID is malformed")
        dag = self.dag
        if data_id in dag.open_yields:  # a yield of this very call: resumable once
            dag.open_yields.discard(data_id)
        elif self.chain is None or not self.chain.yield_pending(
            self.context.current_account_id, data_id
        ):
            return 0
        dag.resumes.append((data_id, payload))
        return 1

    # =========================================================================
    # OutLayer guest bridge (490-499)
    # =========================================================================

    def outlayer_guest_error(self, kind: int, msg_len: int, msg_ptr: int) -> NoReturn:
        """The QuickJS bridge reports a failure: raise its error class with its message."""
        message = self._read_memory(msg_ptr, msg_len).decode("utf-8", "replace")
        name = syscalls.GUEST_ERROR_KINDS.get(kind)
        cls = GUEST_ERRORS.get(name) if name is not None else None
        if cls is None:
            raise InternalError(f"guest reported unknown error kind {kind}: {message}")
        raise cls(message)
