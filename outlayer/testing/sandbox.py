"""A near-workspaces style sandbox: an isolated in-memory chain per test.

    sandbox = Sandbox()
    counter = sandbox.dev_deploy(Path("examples/counter.js"))
    alice = sandbox.root.create_subaccount("alice", balance="10NEAR")
    result = alice.call(counter, "increment")
    assert result.json() == 1 and result.logs == ["Counter incremented to 1"]
    assert counter.view("get_count").json() == 1

Everything runs on `ContractSimulator` (the real receipt engine, blocks and gas), so a
sandbox's history is recorded like any chain's: `sandbox.verify()` replays it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from outlayer.chain import actions as chain_actions
from outlayer.chain.accounts import DEFAULT_BALANCE, DEFAULT_SIGNER, DEFAULT_SIGNER_BALANCE
from outlayer.chain.blocks import CHAIN_SEED
from outlayer.chain.outcomes import ExecutionOutcome, FinalOutcome
from outlayer.chain.result import CallResult, Engine
from outlayer.chain.simulator import DEFAULT_GAS, ContractSimulator, convenience_key
from outlayer.chain.units import parse_amount
from outlayer.errors import OutLayerError
from outlayer.vm.receipts import Action

if TYPE_CHECKING:
    from outlayer.chain.history import TxReplay, VerifyReport
    from outlayer.realm.options import RealmOptions

#: balance of accounts made by `create_subaccount` / `dev_deploy` unless told otherwise
SUBACCOUNT_BALANCE = 10 * 10**24


class TransactionFailed(OutLayerError):
    """`json()` / `unwrap()` of a result whose final status is a failure."""

    kind = "TransactionFailed"


def dev_public_key(account_id: str, chain_seed: bytes = CHAIN_SEED) -> str:
    """The full-access ed25519 key a sandbox account gets unless given one: the chain's
    `convenience_key` (from the chain seed and the account id), the key the simulator gives
    the accounts it makes; its secret: `Account.secret_key()`. Transactions here are not
    signed, but NEAR accounts have keys, and tests may look at them or sign over RPC."""
    return convenience_key(chain_seed, account_id)


@dataclass
class _Result:
    """What transactions and views share: status, value, error, logs."""

    raw: CallResult

    @property
    def status(self) -> str:
        """"success", "failure", or (transactions only) "pending": waits on a yield resume."""
        return self.raw.status

    @property
    def result(self) -> Any:
        """The decoded return value (None on failure or when nothing was returned)."""
        return self.raw.result

    def json(self) -> Any:
        """The return value; raises TransactionFailed when the call failed."""
        if not self.raw.ok:
            error = self.raw.error or {"kind": self.raw.status, "message": ""}
            raise TransactionFailed(f"{error['kind']}: {error['message']}")
        return self.raw.result

    @property
    def error(self) -> dict[str, str] | None:
        return self.raw.error

    @property
    def logs(self) -> list[str]:
        """Every receipt's logs, in execution order."""
        return self.raw.logs

    @property
    def state_changes(self) -> dict[str, str | None]:
        """What the called method wrote (always empty for a view)."""
        return self.raw.state_changes


@dataclass
class TxResult(_Result):
    """A transaction's final result (near-workspaces' ExecutionFinalResult)."""

    @property
    def is_success(self) -> bool:
        return self.raw.ok

    @property
    def is_failure(self) -> bool:
        return not (self.raw.ok or self.raw.pending)

    def unwrap(self) -> TxResult:
        self.json()
        return self

    @property
    def receipt_failures(self) -> list[dict[str, Any]]:
        """Every failed receipt (on the result path or not): id, executor, kind, message."""
        return self.raw.receipt_failures

    @property
    def total_gas_burnt(self) -> int:
        return self.raw.total_gas_burnt

    @property
    def tokens_burnt(self) -> int:
        return self.raw.tokens_burnt

    @property
    def gas_burnt(self) -> int:
        """The called method's own run (total_gas_burnt covers the whole transaction)."""
        return self.raw.gas_burnt

    @property
    def outcome(self) -> FinalOutcome:
        """The whole outcome tree (NEAR's FinalExecutionOutcomeView)."""
        assert self.raw.outcome is not None
        return self.raw.outcome

    @property
    def receipts_outcome(self) -> list[ExecutionOutcome]:
        return self.raw.receipts_outcome

    @property
    def tx_hash(self) -> str:
        assert self.raw.tx_hash is not None
        return self.raw.tx_hash

    @property
    def block_height(self) -> int:
        return self.raw.block_height


@dataclass
class ViewResult(_Result):
    """A view call's result."""

    @property
    def ok(self) -> bool:
        return self.raw.ok


class Account:
    """An account of a sandbox (near-workspaces' Account; a `Contract` is one with code)."""

    def __init__(self, sandbox: Sandbox, account_id: str) -> None:
        self.sandbox = sandbox
        self.id = account_id
        #: what the last `deploy` reported: code hash, size, exported methods, realm
        self.deploy_info: dict[str, Any] | None = None

    def __repr__(self) -> str:
        return f"Account({self.id!r})"

    def __str__(self) -> str:
        return self.id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Account) and (other.sandbox, other.id) == (self.sandbox,
                                                                           self.id)

    def __hash__(self) -> int:
        return hash(self.id)

    # --- transactions signed by this account ----------------------------------------------

    def call(self, contract: Account | str, method: str, args: Any = None, *,
             deposit: int | str = 0, gas: int | str = DEFAULT_GAS) -> TxResult:
        """Call `method` of `contract` in a transaction signed by this account; returns
        once every receipt it caused has run."""
        return TxResult(self.sandbox.sim.call(str(contract), method, args, signer_id=self.id,
                                              deposit=deposit, gas=gas))

    def batch(self, receiver: Account | str, actions: list[Action]) -> TxResult:
        """A transaction of several actions (see `outlayer.chain.actions`)."""
        return TxResult(self.sandbox.sim.transact(self.id, str(receiver), actions))

    def submit(self, receiver: Account | str, actions: list[Action]) -> TxResult:
        """Like `batch`, but return right after the transaction's own block (near-workspaces'
        transact_async): the receipts it caused stay in flight until later blocks run them
        (`sandbox.fast_forward`, or any later transaction); `sandbox.tx_outcome(result)`
        shows the tree as it grows."""
        return TxResult(self.sandbox.sim.submit(self.id, str(receiver), actions))

    def transfer(self, receiver: Account | str, amount: int | str) -> TxResult:
        """A Transfer; to a missing 64-hex implicit account id it creates that account."""
        return self.batch(receiver, [chain_actions.transfer(amount)])

    def stake(self, amount: int | str, public_key: str) -> TxResult:
        """Stake `amount` (0: unstake) with this validator key; a lowered stake is released
        at the next epoch boundary (`Sandbox(epoch_length=...)`)."""
        return self.batch(self.id, [chain_actions.stake(amount, public_key)])

    def create_subaccount(self, name: str, *, balance: int | str = SUBACCOUNT_BALANCE,
                          public_key: str | None = None) -> Account:
        """`name.<this account>`, created by a transaction of this account (CreateAccount,
        Transfer, AddKey) as on NEAR; raises TransactionFailed if it fails."""
        account_id = f"{name}.{self.id}"
        key = public_key or dev_public_key(account_id, self.sandbox.sim.chain_seed)
        self.batch(account_id, [chain_actions.create_account(),
                                chain_actions.transfer(parse_amount(balance)),
                                chain_actions.add_full_access_key(key)]).unwrap()
        return Account(self.sandbox, account_id)

    def deploy(self, source: str | bytes | Path,
               realm: RealmOptions | dict[str, Any] | None = None) -> Account:
        """Deploy a contract to this account (a syntax error is refused with line:column)."""
        self.deploy_info = self.sandbox.sim.deploy(self.id, source, create=False, realm=realm)
        return self

    def delete_account(self, beneficiary: Account | str) -> TxResult:
        return self.batch(self.id, [chain_actions.delete_account(str(beneficiary))])

    # --- reading -------------------------------------------------------------------------

    def view(self, method: str, args: Any = None) -> ViewResult:
        """A view call of this account's contract."""
        return self.sandbox.view(self, method, args)

    def view_state(self) -> dict[str, str]:
        return self.sandbox.view_state(self)

    def patch_state(self, key: str | bytes, value: str | bytes | None) -> None:
        self.sandbox.patch_state(self, key, value)

    def details(self) -> dict[str, Any]:
        """The account record: balance, locked, code hash, storage usage, ..."""
        return self.sandbox.sim.account(self.id)

    @property
    def balance(self) -> int:
        return int(self.details()["balance"])

    @property
    def locked(self) -> int:
        """The staked balance (yoctoNEAR)."""
        return int(self.details()["locked"])

    def keys(self) -> list[dict[str, Any]]:
        return self.sandbox.sim.access_keys(self.id)

    def secret_key(self) -> str:
        """The secret of this account's derived key (`dev_public_key`), near-cli's
        ``private_key`` form, e.g. to sign for it through `outlayer serve` on this chain."""
        return self.sandbox.sim.secret_key(self.id)


#: a deployed contract is an account with code
Contract = Account


class Sandbox:
    """An isolated chain (in memory by default) with a funded root account `test.near`.

    Keyword arguments go to `ContractSimulator` (gas_price: NEAR's unless given,
    genesis_time_ns, block_time_ns, chain_seed, epoch_length, strict_receipt_delays, params,
    limits, engine, db_path).
    """

    def __init__(self, *, db_path: str | Path = ":memory:", engine: Engine | None = None,
                 **chain: Any) -> None:
        self.sim = ContractSimulator(db_path=db_path, engine=engine, **chain)
        self._dev = 0
        if self.sim.store.get_account(DEFAULT_SIGNER) is None:
            self.sim.create_account(DEFAULT_SIGNER, DEFAULT_SIGNER_BALANCE)  # derived key
        self.root = Account(self, DEFAULT_SIGNER)

    # --- accounts ------------------------------------------------------------------------

    def dev_deploy(self, source: str | bytes | Path,
                   realm: RealmOptions | dict[str, Any] | None = None, *,
                   balance: int | str = SUBACCOUNT_BALANCE) -> Account:
        """A fresh dev account (`dev-<n>.test.near`) with the contract deployed."""
        while True:
            self._dev += 1
            account_id = f"dev-{self._dev}.{DEFAULT_SIGNER}"
            if self.sim.store.get_account(account_id) is None:
                break
        account = self.create_account(account_id, balance)
        return account.deploy(source, realm)

    def create_account(self, account_id: str, balance: int | str = DEFAULT_BALANCE, *,
                       public_key: str | None = None) -> Account:
        """Create any account directly (recorded in the history); sub-accounts made by a
        transaction: `Account.create_subaccount`."""
        self.sim.create_account(account_id, balance, public_key=public_key)  # None: derived
        return Account(self, account_id)

    def account(self, account_id: str) -> Account:
        """A handle on an existing account."""
        self.sim.account(account_id)
        return Account(self, account_id)

    # --- reading -------------------------------------------------------------------------

    def view(self, contract: Account | str, method: str, args: Any = None) -> ViewResult:
        return ViewResult(self.sim.view(str(contract), method, args))

    def view_state(self, account: Account | str) -> dict[str, str]:
        """The contract storage (keys and values as text, 0x-hex where not UTF-8)."""
        return self.sim.state(str(account))

    def state_at(self, account: Account | str, height: int) -> dict[str, str]:
        """The contract storage at the end of block `height`."""
        return self.sim.state_at(str(account), height)

    def tx_outcome(self, result: TxResult | str) -> FinalOutcome:
        """A transaction's outcome tree as it stands now (receipts that ran so far)."""
        return self.sim.tx_outcome(result.tx_hash if isinstance(result, TxResult) else result)

    def pending(self) -> dict[str, list[dict[str, Any]]]:
        """Receipts in flight: queued for a block, postponed for data, yields waiting."""
        return self.sim.pending()

    # --- chain control -------------------------------------------------------------------

    def patch_state(self, account: Account | str, key: str | bytes,
                    value: str | bytes | None) -> None:
        """Write (None: remove) one storage entry directly; recorded in the history."""
        self.sim.patch_state(str(account), key, value)

    def patch_records(self, records: list[dict[str, Any]]) -> None:
        """Write nearcore StateRecords (Account, AccessKey, Contract, Data) directly, all or
        none, as near-sandbox's sandbox_patch_state; recorded in the history."""
        self.sim.patch_records(records)

    def patch_account(self, account: Account | str, **fields: Any) -> dict[str, Any]:
        """Create or change an account record directly (amount, locked, storage_usage, ...)."""
        return self.sim.patch_account(str(account), **fields)

    def patch_access_key(self, account: Account | str, public_key: str, *, nonce: int = 0,
                         permission: Any = "FullAccess") -> None:
        """Add or replace an access key directly."""
        self.sim.patch_access_key(str(account), public_key, nonce=nonce,
                                  permission=permission)

    def patch_code(self, account: Account | str, source: str | bytes | Path) -> dict[str, Any]:
        """Install contract code on an existing account directly (no deploy transaction)."""
        return self.sim.patch_code(str(account), source)

    def fast_forward(self, blocks: int) -> list[ExecutionOutcome]:
        """Produce blocks: in-flight receipts run, yields time out."""
        return self.sim.fast_forward(blocks)

    def set_timestamp(self, timestamp_ns: int) -> None:
        """The next block's exact timestamp (ns since the Unix epoch)."""
        self.sim.set_timestamp(timestamp_ns)

    def set_block_time(self, block_time_ns: int) -> None:
        self.sim.set_block_time(block_time_ns)

    @property
    def height(self) -> int:
        return self.sim.height

    @property
    def timestamp_ns(self) -> int:
        return self.sim.block.timestamp_ns

    # --- history -------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Replay this sandbox's whole history on a fresh chain and compare."""
        return self.sim.verify()

    def replay(self, result: TxResult | str) -> TxReplay:
        """Re-execute a past transaction with a host-call trace."""
        return self.sim.replay_tx(result.tx_hash if isinstance(result, TxResult) else result)

    def close(self) -> None:
        self.sim.close()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Account", "Contract", "Sandbox", "SUBACCOUNT_BALANCE", "TransactionFailed",
           "TxResult", "ViewResult", "dev_public_key"]
