"""Run one method of a JavaScript contract on a throwaway state: no chain, no database.

For tests and quick experiments: `state` is the contract's storage before the call, and
the result carries what the call would have written. The context is block 1 of a fresh
chain with the simulator's defaults, so the same call gives the same result, logs, gas
and digest every time, in any process.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from outlayer.chain import blocks
from outlayer.chain.accounts import DEFAULT_BALANCE, check_account_id
from outlayer.chain.codec import encode_args, state_from_python
from outlayer.chain.modes import engine_for
from outlayer.chain.result import CallResult, run_engine
from outlayer.chain.simulator import DEFAULT_GAS, read_source
from outlayer.chain.units import TGAS, parse_amount, parse_gas
from outlayer.errors import UserError
from outlayer.host.engine import Limits
from outlayer.realm.options import RealmOptions
from outlayer.vm.context import VMContext
from outlayer.vm.params import DEFAULT_PARAMS, Params

#: the executor's result is the simulator's `CallResult` (no tx_hash; block_height 1).
ExecutionResult = CallResult


class QuickJSExecutor:
    """Runs JS contract methods in the QuickJS guest with ephemeral state."""

    def __init__(self, *, gas: int | str = DEFAULT_GAS, limits: Limits | None = None,
                 params: Params = DEFAULT_PARAMS,
                 realm: RealmOptions | dict[str, Any] | None = None) -> None:
        self.gas = parse_gas(gas)
        if not 0 < self.gas <= params.max_total_prepaid_gas:
            raise UserError(f"gas must be between 1 and {params.max_total_prepaid_gas // TGAS}"
                            f" Tgas, got {self.gas}")
        self.limits = limits or Limits()
        self.params = params
        self.realm = RealmOptions.parse(realm)
        self._engine = engine_for("quickjs")

    def execute_contract(self, js_code: str | bytes, method_name: str, args: Any = None,
                         state: Mapping[Any, Any] | None = None, *,
                         account_id: str = "contract.test", signer_id: str = "alice.test",
                         deposit: int | str = 0, is_view: bool = False) -> ExecutionResult:
        """Call `method_name` of `js_code` with `args` (dict or JSON object text).

        `state` maps str|bytes keys to str|bytes values (str = UTF-8 text). Nothing is
        kept: read `state_changes` of the result to see what the call wrote.
        """
        check_account_id(account_id, "contract account")
        check_account_id(signer_id, "signer")
        if not isinstance(method_name, str) or not method_name:
            raise UserError("method name must be a non-empty string")
        code = read_source(js_code)
        raw_args = encode_args(args, self.params.max_arguments_length)
        initial = state_from_python(state)
        amount = parse_amount(deposit)
        if is_view and amount:
            raise UserError("a view call cannot attach a deposit")
        extra = self.params.storage_num_extra_bytes_record
        usage = (self.params.storage_num_bytes_account + len(code)
                 + sum(len(k) + len(v) + extra for k, v in initial.items()))
        height = 1
        context = VMContext(
            current_account_id=account_id,
            signer_account_id=account_id if is_view else signer_id,
            predecessor_account_id=account_id if is_view else signer_id,
            input=raw_args, block_height=height,
            block_timestamp=blocks.block_timestamp(blocks.GENESIS_TIME_NS,
                                                   blocks.BLOCK_TIME_NS, height),
            epoch_height=blocks.epoch_height(height),
            account_balance=DEFAULT_BALANCE + amount, attached_deposit=amount,
            prepaid_gas=self.params.max_gas_burnt_view if is_view else self.gas,
            random_seed=blocks.block_seed(blocks.CHAIN_SEED, height),
            storage_usage=usage, is_view=is_view)
        outcome, elapsed = run_engine(self._engine, code, method_name, context,
                                      initial, self.params, self.limits,  # a dict is a StorageView
                                      self.realm)
        return CallResult.from_outcome(outcome, code=code, method=method_name, context=context,
                                       elapsed_ms=elapsed)
