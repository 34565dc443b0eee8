"""The simulated NEAR chain: accounts, deploy, calls and views over a persistent store.

Each call is one store transaction and one new block. On success the contract's storage
changes, its storage usage, the attached deposit and the history entry commit together.
A failed call (panic, exception, gas, limits, storage staking) commits no account, code or
storage change; it still takes its block and is recorded in the history with its error,
logs and burnt gas, as a failed transaction is on NEAR. Bad input (unknown account, bad
args, not enough balance for the deposit) is refused before anything runs and writes
nothing at all. Views never write. Gas price is zero: balances move only by deposits.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import base58

from outlayer.chain import blocks
from outlayer.chain.accounts import (
    DEFAULT_BALANCE,
    DEFAULT_SIGNER,
    DEFAULT_SIGNER_BALANCE,
    LackBalanceForState,
    NotEnoughBalance,
    check_account_id,
    check_storage_stake,
    new_account_storage_usage,
    public_key_bytes,
)
from outlayer.chain.codec import encode_args, state_to_text
from outlayer.chain.modes import check_mode, engine_for
from outlayer.chain.result import CallResult, Engine, exported_names, run_engine
from outlayer.chain.store import Account, Block, StateStore, TxRecord, open_store
from outlayer.chain.units import TGAS, parse_amount, parse_gas
from outlayer.errors import (
    AccountAlreadyExists,
    AccountNotFound,
    ContractNotDeployed,
    UserError,
)
from outlayer.host.engine import Limits
from outlayer.realm.options import RealmOptions
from outlayer.vm.context import VMContext
from outlayer.vm.params import DEFAULT_PARAMS, Params

DEFAULT_GAS = 300 * TGAS
#: a method name no contract is expected to export: the deploy-time compile check runs it.
_PROBE_METHOD = "__outlayer_deploy_probe__"
#: signer_account_pk of accounts created without a key (VMContext's default).
_NO_KEY = b"\x00" + bytes(32)


class ContractCompileError(UserError):
    """The deployed source does not parse (message carries line:column)."""

    kind = "CompileError"


class _AccountStorage:
    """The committed storage of one account, as the VM reads it (`StorageView`)."""

    __slots__ = ("_store", "_account_id")

    def __init__(self, store: StateStore, account_id: str) -> None:
        self._store = store
        self._account_id = account_id

    def get(self, key: bytes) -> bytes | None:
        return self._store.storage_get(self._account_id, key)


class _NoStorage:
    def get(self, key: bytes) -> bytes | None:
        return None


class ContractSimulator:
    """A local NEAR chain for JavaScript contracts.

    `db_path`: None = `.outlayer/state.db` in the working directory, ":memory:" = in
    memory, else a file. The chain's genesis time, block time and seed are fixed when the
    file is created; a simulator opened on an existing file keeps the stored ones.
    Not thread-safe: use one simulator per thread.
    """

    def __init__(self, execution_mode: str = "quickjs", db_path: str | Path | None = None, *,
                 genesis_time_ns: int = blocks.GENESIS_TIME_NS,
                 block_time_ns: int = blocks.BLOCK_TIME_NS,
                 chain_seed: bytes = blocks.CHAIN_SEED,
                 params: Params = DEFAULT_PARAMS, limits: Limits | None = None,
                 store: StateStore | None = None) -> None:
        self.execution_mode = check_mode(execution_mode)
        self.params = params
        self.limits = limits or Limits()
        self.store: StateStore = store if store is not None else open_store(db_path)
        self._engine: Engine | None = None
        with self.store.transaction():
            if self.store.get_meta("chain_seed") is None:
                self.store.set_meta("chain_seed", chain_seed.hex())
                self.store.set_meta("genesis_time_ns", str(genesis_time_ns))
                self.store.set_meta("block_time_ns", str(block_time_ns))
                self.store.set_meta("tx_nonce", "0")
                self.store.add_block(Block(0, genesis_time_ns, blocks.block_seed(chain_seed, 0)))
        self.chain_seed = bytes.fromhex(self._meta("chain_seed"))
        self.genesis_time_ns = int(self._meta("genesis_time_ns"))
        self.block_time_ns = int(self._meta("block_time_ns"))

    # --- chain -------------------------------------------------------------------------

    def _meta(self, key: str) -> str:
        value = self.store.get_meta(key)
        if value is None:
            raise UserError(f"the state store has no {key!r}: it was not made by OutLayer")
        return value

    @property
    def block(self) -> Block:
        """The latest block."""
        block = self.store.latest_block()
        assert block is not None, "genesis block missing"
        return block

    @property
    def height(self) -> int:
        return self.block.height

    def _next_block(self) -> Block:
        height = self.block.height + 1
        block = Block(height,
                      blocks.block_timestamp(self.genesis_time_ns, self.block_time_ns, height),
                      blocks.block_seed(self.chain_seed, height))
        self.store.add_block(block)
        return block

    def _engine_now(self) -> Engine:
        if self._engine is None:
            self._engine = engine_for(self.execution_mode)
        return self._engine

    def _tx_hash(self, **fields: Any) -> str:
        nonce = int(self._meta("tx_nonce")) + 1
        self.store.set_meta("tx_nonce", str(nonce))
        text = json.dumps({"nonce": nonce, **fields}, sort_keys=True, separators=(",", ":"))
        return base58.b58encode(hashlib.sha256(text.encode()).digest()).decode("ascii")

    def _log(self, kind: str, signer: str, receiver: str, status: str, *, height: int,
             method: str | None = None, args: bytes = b"", deposit: int = 0, gas: int = 0,
             outcome: dict[str, Any] | None = None, tx_hash: str | None = None) -> str:
        tx_hash = tx_hash or self._tx_hash(kind=kind, signer=signer, receiver=receiver,
                                           height=height, method=method, args=args.hex(),
                                           deposit=str(deposit), gas=gas)
        self.store.add_transaction(TxRecord(tx_hash, height, kind, signer, receiver, status,
                                            method, args, deposit, gas, outcome or {}))
        return tx_hash

    # --- accounts ----------------------------------------------------------------------

    def _get(self, account_id: str, role: str = "account") -> Account:
        account = self.store.get_account(account_id)
        if account is None:
            raise AccountNotFound(f"{role} {account_id!r} does not exist (create it first: "
                                  f"create_account / `outlayer create-account {account_id}`)")
        return account

    def _create(self, account_id: str, balance: int, public_key: str | None) -> Account:
        if self.store.get_account(account_id) is not None:
            raise AccountAlreadyExists(f"account {account_id!r} already exists")
        usage = new_account_storage_usage(self.params, public_key)
        try:
            check_storage_stake(account_id, balance, 0, usage, self.params)
        except LackBalanceForState as exc:
            raise UserError(f"{exc.message}; give it a larger balance") from None
        account = Account(account_id, balance, 0, None, usage, self.height, public_key)
        self.store.put_account(account)
        self._log("create_account", account_id, account_id, "success", height=self.height,
                  deposit=balance)
        return account

    def create_account(self, account_id: str, balance: int | str = DEFAULT_BALANCE, *,
                       public_key: str | None = None) -> dict[str, Any]:
        """Create an account (AccountAlreadyExists if it exists); returns `account()`."""
        check_account_id(account_id)
        amount = parse_amount(balance)
        if public_key is not None:
            public_key_bytes(public_key)
        with self.store.transaction():
            self._create(account_id, amount, public_key)
        return self.account(account_id)

    def account(self, account_id: str) -> dict[str, Any]:
        """The account record: balance and locked in yoctoNEAR (int), code hash, storage."""
        check_account_id(account_id)
        return dataclasses.asdict(self._get(account_id))

    def state(self, account_id: str) -> dict[str, str]:
        """The contract's committed storage, keys and values in the `codec` text encoding."""
        check_account_id(account_id)
        with self.store.snapshot():
            self._get(account_id)
            items = self.store.storage_items(account_id)
        return {k: v for k, v in state_to_text(dict(items)).items() if v is not None}

    def transactions(self, account_id: str | None = None, limit: int = 100
                     ) -> list[dict[str, Any]]:
        """History, oldest first: calls (failed ones too), deploys, account creations."""
        return [dataclasses.asdict(tx) for tx in self.store.transactions(account_id, limit)]

    # --- deploy ------------------------------------------------------------------------

    def deploy(self, account_id: str, source: str | bytes | Path, *, create: bool = True,
               realm: RealmOptions | dict[str, Any] | None = None) -> dict[str, Any]:
        """Store the contract code of `account_id` (created if missing, when `create`).

        `source` is the code itself (str or bytes) or a Path to a file. The code is loaded
        once in a view context first, so a syntax error is refused here with its
        line:column instead of at the first call; the exported functions are returned.
        `realm`: the contract's realm options (allow_math_random, allow_date_now).
        """
        check_account_id(account_id)
        options = RealmOptions.parse(realm)
        code = read_source(source)
        if len(code) > self.params.max_contract_size:
            raise UserError(f"contract is {len(code)} bytes, over the limit of "
                            f"{self.params.max_contract_size} bytes")
        methods = self._probe(code, options)
        with self.store.transaction():
            account = self.store.get_account(account_id)
            created = account is None
            if account is None:
                if not create:
                    self._get(account_id)
                account = self._create(account_id, DEFAULT_BALANCE, None)
            old = self.store.get_code(account.code_hash) if account.code_hash else b""
            usage = account.storage_usage - len(old or b"") + len(code)
            try:
                check_storage_stake(account_id, account.balance, account.locked, usage,
                                    self.params)
            except LackBalanceForState as exc:
                raise UserError(exc.message) from None
            account.code_hash = self.store.put_code(code)
            account.storage_usage = usage
            account.realm = json.dumps(options.to_json(), sort_keys=True)
            self.store.put_account(account)
            self._log("deploy", account_id, account_id, "success", height=self.height,
                      outcome={"code_hash": account.code_hash, "code_size": len(code)})
        return {"account_id": account_id, "code_hash": account.code_hash,
                "code_size": len(code), "created": created, "methods": methods,
                "realm": options.to_json()}

    def _probe(self, code: bytes, realm: RealmOptions) -> list[str] | None:
        """Load the code without calling anything: refuse a syntax error, list the exports."""
        block = self.block
        context = VMContext(current_account_id="deploy.probe", signer_account_id="deploy.probe",
                            predecessor_account_id="deploy.probe", input=b"{}",
                            block_height=block.height, block_timestamp=block.timestamp_ns,
                            random_seed=block.random_seed,
                            prepaid_gas=self.params.max_gas_burnt_view, is_view=True)
        outcome = self._engine_now().run(code, _PROBE_METHOD, context, _NoStorage(),
                                         params=self.params, limits=self.limits, realm=realm)
        if outcome.error is not None and outcome.error.kind == "CompileError":
            raise ContractCompileError(f"the contract does not compile: "
                                       f"{outcome.error.message}")
        return exported_names(outcome.error)

    # --- calls -------------------------------------------------------------------------

    def call(self, account_id: str, method: str, args: Any = None, *,
             signer_id: str | None = None, deposit: int | str = 0,
             gas: int | str = DEFAULT_GAS) -> CallResult:
        """Call `method` of the contract at `account_id` as a transaction from `signer_id`.

        The default signer is `test.near`. A signer that does not exist yet is created with
        1,000,000 NEAR (recorded in the history), so tests need no setup. `args` is a dict
        or a JSON object text. One new block; see the module doc for what commits.
        """
        receiver = check_account_id(account_id, "contract account")
        signer = check_account_id(DEFAULT_SIGNER if signer_id is None else signer_id, "signer")
        self._check_method(method)
        raw_args = encode_args(args, self.params.max_arguments_length)
        prepaid = self._check_gas(gas)
        amount = parse_amount(deposit)
        engine = self._engine_now()
        with self.store.transaction():
            contract, code = self._contract(receiver)
            signer_account = self.store.get_account(signer)
            if signer_account is None:  # a test convenience NEAR does not have
                signer_account = self._create(signer, DEFAULT_SIGNER_BALANCE, None)
            if signer_account.balance < amount:
                raise NotEnoughBalance(
                    f"signer {signer!r} has {signer_account.balance} yoctoNEAR, less than the "
                    f"attached deposit of {amount}")
            block = self._next_block()
            signer_balance = signer_account.balance - amount
            balance = (signer_balance if signer == receiver else contract.balance) + amount
            context = VMContext(
                current_account_id=receiver, signer_account_id=signer,
                predecessor_account_id=signer, input=raw_args,
                signer_account_pk=self._signer_pk(signer_account),
                block_height=block.height, block_timestamp=block.timestamp_ns,
                epoch_height=blocks.epoch_height(block.height), account_balance=balance,
                account_locked_balance=contract.locked, attached_deposit=amount,
                prepaid_gas=prepaid, random_seed=block.random_seed,
                storage_usage=contract.storage_usage, is_view=False)
            storage = _AccountStorage(self.store, receiver)
            outcome, elapsed = run_engine(engine, code, method, context, storage, self.params,
                                          self.limits, _realm(contract))
            tx_hash = self._tx_hash(kind="call", signer=signer, receiver=receiver,
                                    height=block.height, method=method, args=raw_args.hex(),
                                    deposit=str(amount), gas=prepaid)
            result = CallResult.from_outcome(outcome, code=code, method=method,
                                             context=context, elapsed_ms=elapsed,
                                             tx_hash=tx_hash)
            if result.ok and result.storage_usage > contract.storage_usage:
                try:
                    check_storage_stake(receiver, balance, contract.locked,
                                        result.storage_usage, self.params)
                except LackBalanceForState as exc:
                    result = result.as_failure(exc.kind, exc.message)
            if result.ok:
                self.store.apply_changes(receiver, result.raw_state_changes)
                if signer != receiver:
                    signer_account.balance = signer_balance
                    self.store.put_account(signer_account)
                contract.balance = balance
                contract.storage_usage = result.storage_usage
                self.store.put_account(contract)
            self._log("call", signer, receiver, result.status, height=block.height,
                      method=method, args=raw_args, deposit=amount, gas=prepaid,
                      outcome=result.to_json(), tx_hash=tx_hash)
        return result

    def view(self, account_id: str, method: str, args: Any = None) -> CallResult:
        """Run `method` read-only at the latest block: no block, no history, no writes."""
        receiver = check_account_id(account_id, "contract account")
        self._check_method(method)
        raw_args = encode_args(args, self.params.max_arguments_length)
        engine = self._engine_now()
        with self.store.snapshot():
            contract, code = self._contract(receiver)
            block = self.block
            context = VMContext(
                current_account_id=receiver, signer_account_id=receiver,
                predecessor_account_id=receiver, input=raw_args,
                block_height=block.height, block_timestamp=block.timestamp_ns,
                epoch_height=blocks.epoch_height(block.height),
                account_balance=contract.balance, account_locked_balance=contract.locked,
                prepaid_gas=self.params.max_gas_burnt_view, random_seed=block.random_seed,
                storage_usage=contract.storage_usage, is_view=True)
            outcome, elapsed = run_engine(engine, code, method, context,
                                          _AccountStorage(self.store, receiver), self.params,
                                          self.limits, _realm(contract))
        return CallResult.from_outcome(outcome, code=code, method=method, context=context,
                                       elapsed_ms=elapsed)

    def _contract(self, account_id: str) -> tuple[Account, bytes]:
        account = self._get(account_id, "contract account")
        code = self.store.get_code(account.code_hash) if account.code_hash else None
        if code is None:
            raise ContractNotDeployed(f"account {account_id!r} has no contract deployed "
                                      f"(deploy one first: `outlayer deploy {account_id} FILE`)")
        return account, code

    def _check_method(self, method: object) -> None:
        if not isinstance(method, str) or not method:
            raise UserError("method name must be a non-empty string")
        if len(method.encode()) > self.params.max_length_method_name:
            raise UserError(f"method name is over {self.params.max_length_method_name} bytes")

    def _check_gas(self, gas: int | str) -> int:
        prepaid = parse_gas(gas)
        limit = self.params.max_total_prepaid_gas
        if not 0 < prepaid <= limit:
            raise UserError(f"gas must be between 1 and {limit // TGAS} Tgas, got {prepaid}")
        return prepaid

    @staticmethod
    def _signer_pk(account: Account) -> bytes:
        if account.public_key is None:
            return _NO_KEY
        return public_key_bytes(account.public_key)

    # --- lifetime ----------------------------------------------------------------------

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> ContractSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _realm(account: Account) -> RealmOptions:
    return RealmOptions.parse(json.loads(account.realm))


def read_source(source: str | bytes | Path) -> bytes:
    """Contract code from text, bytes or a file; JS must be UTF-8 text."""
    if isinstance(source, Path):
        try:
            code = source.read_bytes()
        except FileNotFoundError:
            raise UserError(f"contract file not found: {source}") from None
        except IsADirectoryError:
            raise UserError(f"contract path is a directory, not a file: {source}") from None
        except OSError as exc:
            raise UserError(f"cannot read contract file {source}: {exc.strerror}") from None
    elif isinstance(source, str):
        code = source.encode("utf-8")
    elif isinstance(source, bytes | bytearray):
        code = bytes(source)
    else:
        raise UserError(f"contract source must be str, bytes or Path, not "
                        f"{type(source).__name__}")
    try:
        code.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(f"contract source is not UTF-8 text (byte {exc.start})") from None
    if not code.strip():
        raise UserError("contract source is empty")
    return code
