"""NEAR's gas counter: burnt vs used gas, the two limits, a per-cost profile, and wasm fuel.

Semantics follow nearcore's ``GasCounter``:

- ``burnt`` is gas spent executing; ``used`` = burnt + gas prepaid to new promises.
- Burning past ``min(max_gas_burnt, prepaid_gas - promises_gas)`` fails. The failed charge
  still burns up to the hard limit ``min(prepaid_gas, max_gas_burnt)`` (never more than was
  paid for), and the error is GasLimitExceeded when max_gas_burnt was crossed (even if
  prepaid was crossed too), else GasExceeded.
- View calls have unlimited prepaid gas (u64::MAX); only max_gas_burnt (the view cap) binds.
- Amounts are u64: anything that would not fit raises IntegerOverflow.

Wasm instructions are wasmtime fuel, one unit per instruction, priced
``wasm_regular_op_cost``. The host keeps the guest's fuel equal to `remaining_fuel()`:

1. before the guest starts: ``meter.set_fuel(gas.remaining_fuel())``;
2. on entry to every syscall: ``gas.sync_fuel(meter.get_fuel())`` charges what the guest
   ran since the fuel was last set (the gas state cannot change while the guest runs, so
   the fuel last set is exactly `remaining_fuel()` now, and nothing else is tracked);
3. after the handler: ``meter.set_fuel(gas.remaining_fuel())``;
4. when the guest returns: ``gas.sync_fuel(meter.get_fuel())`` once more;
5. on an out-of-fuel trap: ``gas.exhaust_fuel()`` burns to the limit and raises.

Because ``remaining_fuel`` rounds down, the guest can never run an instruction it cannot pay
for, so step 2 never fails on gas.
"""

from __future__ import annotations

from typing import NoReturn

from outlayer.errors import GasExceeded, GasLimitExceeded, HostError, IntegerOverflow, InternalError
from outlayer.vm.params import DEFAULT_PARAMS, EXT_COST_NAMES, U64_MAX, Params

#: Profile entry for wasm instructions (fuel), after the ext costs.
WASM_OP = "wasm_regular_op"
#: Every name a profile can hold, in order: ext costs, then wasm instructions.
PROFILE_NAMES: tuple[str, ...] = (*EXT_COST_NAMES, WASM_OP)
#: Index of each profile name; VMLogic charges by index on its hot paths.
COST_ID: dict[str, int] = {name: i for i, name in enumerate(PROFILE_NAMES)}
WASM_OP_ID = COST_ID[WASM_OP]


#: cost tables by Params object (kept alive here): a counter is made per call, the table
#: only per Params
_COST_TABLES: dict[int, tuple[Params, tuple[int, ...]]] = {}


def _cost_table(params: Params) -> tuple[int, ...]:
    """Ext costs in `EXT_COST_NAMES` order, then the wasm op cost."""
    hit = _COST_TABLES.get(id(params))
    if hit is not None and hit[0] is params:
        return hit[1]
    costs = params.ext_costs()
    table = tuple(costs[name] for name in EXT_COST_NAMES) + (params.wasm_regular_op_cost,)
    if len(_COST_TABLES) > 64:
        _COST_TABLES.clear()
    _COST_TABLES[id(params)] = (params, table)
    return table


class GasCounter:
    """Gas burnt and used by one contract call, with NEAR's limits and a per-cost profile."""

    __slots__ = (
        "burnt",
        "promises_gas",
        "prepaid_gas",
        "max_gas_burnt",
        "is_view",
        "limit",
        "op_cost",
        "_cost",
        "_units",
        "_lost",
        "_actions",
    )

    def __init__(
        self,
        prepaid_gas: int,
        max_gas_burnt: int,
        params: Params = DEFAULT_PARAMS,
        is_view: bool = False,
    ) -> None:
        if not (0 <= prepaid_gas <= U64_MAX and 0 <= max_gas_burnt <= U64_MAX):
            raise ValueError("prepaid_gas and max_gas_burnt must be u64")
        self.prepaid_gas = U64_MAX if is_view else prepaid_gas
        self.max_gas_burnt = max_gas_burnt
        self.is_view = is_view
        self.burnt = 0
        self.promises_gas = 0
        #: Burnt gas may grow up to here (nearcore's fast_counter.gas_limit).
        self.limit = min(max_gas_burnt, self.prepaid_gas)
        self.op_cost = params.wasm_regular_op_cost
        self._cost: list[int] = list(_cost_table(params))
        self._units: list[int] = [0] * len(PROFILE_NAMES)
        self._lost: list[int] = [0] * len(PROFILE_NAMES)  # clamped part of failed charges
        self._actions: dict[str, int] = {}

    # --- reading ------------------------------------------------------------------------

    @property
    def used(self) -> int:
        return self.burnt + self.promises_gas

    def remaining_gas(self) -> int:
        """Gas that can still be burnt before a limit is hit."""
        return max(0, self.limit - self.burnt)

    def profile(self) -> dict[str, tuple[int, int]]:
        """(units charged, gas burnt) per cost name, non-zero entries only, table order.

        Units are 1 per base charge and n per per-byte (per-block, per-element, per-op)
        charge; gas is what was actually burnt, so a charge cut at the limit counts less.
        Action fees appear as ``action:<name>`` with units 0.
        """
        out: dict[str, tuple[int, int]] = {}
        for i, name in enumerate(PROFILE_NAMES):
            units = self._units[i]
            if units:
                out[name] = (units, units * self._cost[i] + self._lost[i])
        for name, gas in self._actions.items():
            out[f"action:{name}"] = (0, gas)
        return out

    # --- charging -----------------------------------------------------------------------

    def burn(self, gas: int) -> None:
        """Burn `gas` (counts toward burnt and used), without a profile entry."""
        if gas < 0:
            raise IntegerOverflow("negative gas")
        new_burnt = self.burnt + gas
        if new_burnt <= self.limit:
            self.burnt = new_burnt
            return
        if new_burnt > U64_MAX:
            raise IntegerOverflow("Integer overflow.")
        raise self._process_gas_limit(new_burnt, new_burnt + self.promises_gas)

    def pay_base(self, name: str) -> None:
        """Charge the ext cost `name` once."""
        self.pay(COST_ID[name], 1)

    def pay_per(self, name: str, n: int) -> None:
        """Charge the ext cost `name` `n` times (per byte, block, element...)."""
        if n < 0:
            raise IntegerOverflow("negative count")
        self.pay(COST_ID[name], n)

    def pay(self, cost_id: int, n: int = 1) -> None:
        """Charge cost number `cost_id` (see `COST_ID`) `n` >= 0 times; the hot-path form
        (callers pass lengths, so `n` is not checked)."""
        new_burnt = self.burnt + self._cost[cost_id] * n
        if new_burnt <= self.limit:
            self.burnt = new_burnt
            self._units[cost_id] += n
            return
        self._pay_failed(cost_id, n)

    def _pay_failed(self, cost_id: int, n: int) -> NoReturn:
        gas = self._cost[cost_id] * n
        if n < 0 or gas > U64_MAX:
            raise IntegerOverflow("Integer overflow.")
        self._units[cost_id] += n
        before = self.burnt
        try:
            self.burn(gas)
        finally:
            self._lost[cost_id] += (self.burnt - before) - gas
        raise AssertionError("unreachable: a failed charge always raises")  # pragma: no cover

    def pay_action(self, burn_gas: int, use_gas: int, name: str) -> None:
        """Burn `burn_gas` and reserve `use_gas` - `burn_gas` for a promise (nearcore's
        pay_action_accumulated / deduct_gas)."""
        if not 0 <= burn_gas <= use_gas:
            raise InternalError("action gas: burnt must not exceed used")
        before = self.burnt
        try:
            self._deduct(burn_gas, use_gas)
        finally:
            self._actions[name] = self._actions.get(name, 0) + self.burnt - before

    def prepay(self, use_gas: int) -> None:
        """Reserve gas for a promise without burning it."""
        self._deduct(0, use_gas)

    def _deduct(self, burn_gas: int, use_gas: int) -> None:
        promises_gas = use_gas - burn_gas
        new_promises = self.promises_gas + promises_gas
        new_burnt = self.burnt + burn_gas
        new_used = new_burnt + new_promises
        if new_promises > U64_MAX or new_burnt > U64_MAX or new_used > U64_MAX:
            raise IntegerOverflow("Integer overflow.")
        if new_burnt <= self.max_gas_burnt and new_used <= self.prepaid_gas:
            if promises_gas and not self.is_view:
                self.limit = min(self.max_gas_burnt, self.prepaid_gas - new_promises)
            self.burnt = new_burnt
            self.promises_gas = new_promises
            return
        raise self._process_gas_limit(new_burnt, new_used)

    def _process_gas_limit(self, new_burnt: int, new_used: int) -> HostError:
        """Clamp burnt/used to what was paid for and name the limit that was crossed."""
        hard_burnt_limit = min(self.prepaid_gas, self.max_gas_burnt)
        self.burnt = min(new_burnt, hard_burnt_limit)
        # never more used than paid for; a view prepays nothing (u64::MAX here, so that only
        # max_gas_burnt binds): what it may use is what it may burn, as nearcore's view
        # prepaid gas is its max_gas_burnt
        used_limit = hard_burnt_limit if self.is_view else self.prepaid_gas
        self.promises_gas = max(0, min(used_limit, new_used) - self.burnt)
        if new_burnt > self.max_gas_burnt:
            return GasLimitExceeded(
                "Exceeded the maximum amount of gas allowed to burn per contract."
            )
        return GasExceeded("Exceeded the prepaid gas.")

    # --- wasm fuel ----------------------------------------------------------------------

    def remaining_fuel(self) -> int:
        """Wasm instructions the guest may still run: floor(remaining gas / op cost), >= 0."""
        op_cost = self.op_cost
        if op_cost <= 0:
            return U64_MAX
        remaining = self.limit - self.burnt
        return remaining // op_cost if remaining > 0 else 0

    def pay_wasm_fuel(self, units: int) -> None:
        """Burn `units` wasm instructions."""
        if units:
            self.pay(WASM_OP_ID, units)

    def sync_fuel(self, current_fuel: int) -> None:
        """Charge the instructions run since the guest's fuel was set to `remaining_fuel()`.

        Afterwards `remaining_fuel()` equals `current_fuel` again. Runs at every syscall.
        """
        op_cost = self.op_cost
        if op_cost <= 0:
            return
        remaining = self.limit - self.burnt
        given = remaining // op_cost if remaining > 0 else 0
        if 0 <= current_fuel < given:
            # (given - current) * op_cost <= remaining: always affordable, no limit check
            ran = given - current_fuel
            self.burnt += ran * op_cost
            self._units[WASM_OP_ID] += ran
        elif current_fuel != given:
            raise InternalError(
                f"guest fuel {current_fuel} is outside 0..{given}, the gas budget: the host "
                "did not set the fuel to remaining_fuel() after charging gas"
            )

    def exhaust_fuel(self) -> NoReturn:
        """The guest trapped out of fuel: it wanted one instruction more than it could pay.

        Burns up to the hard limit and raises GasExceeded or GasLimitExceeded.
        """
        units = self.remaining_fuel() + 1
        if self.op_cost > 0:
            self.pay(WASM_OP_ID, units)
        raise self._process_gas_limit(self.limit + 1, self.limit + 1 + self.promises_gas)
