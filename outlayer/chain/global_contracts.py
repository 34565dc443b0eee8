"""Global contracts (NEP-591): code deployed once, used by any number of accounts.

`DeployGlobalContract` stores code under an identifier: its code hash (mode CodeHash: the
code can never change under it) or the deploying account's id (mode AccountId: the account
updates it for every user by deploying again). It costs the deployer
``global_contract_storage_amount_per_byte`` per code byte, burnt (not staked: the deployer
may spend the rest of its balance, and the code stays when it leaves); a deployer without
that balance fails with LackBalanceForState. `UseGlobalContract` makes an account run a
global contract instead of local code: its local code (and that code's storage) is
released, the identifier's bytes (32 for a hash, the account id's length) count in its
storage instead; an identifier no contract is deployed under fails with
GlobalContractDoesNotExist. Both act on the receipt's receiver only (ActorNoPermission
otherwise), as in nearcore's runtime.

nearcore distributes a deploy to every shard with GlobalContractDistribution receipts, one
shard after another. OutLayer has one shard: the code is in place when the deploying
action succeeds (no distribution receipt), so a UseGlobalContract later in the same
receipt already finds it.

Identifiers are stored as text: ``hash:<base58 code hash>`` or ``account:<account id>``
(`outlayer.chain.store`, tables `global_contracts` and `account_contracts`).
"""

from __future__ import annotations

import base58

from outlayer.chain.outcomes import ActionError
from outlayer.chain.signed import DeployGlobalContract, UseGlobalContract
from outlayer.chain.store import Account, StateStore, code_hash
from outlayer.errors import UserError
from outlayer.vm.params import Params

#: deploy modes, as nearcore's GlobalContractDeployMode numbers them (borsh)
CODE_HASH = 0
ACCOUNT_ID = 1
MODES = {"CodeHash": CODE_HASH, "AccountId": ACCOUNT_ID}

_HASH = "hash:"
_ACCOUNT = "account:"


def identifier(action: UseGlobalContract) -> str:
    """The stored identifier an action names."""
    if action.code_hash is not None:
        return _HASH + base58.b58encode(action.code_hash).decode("ascii")
    return _ACCOUNT + (action.account_id or "")


def deployed_identifier(action: DeployGlobalContract, account_id: str) -> str:
    """The identifier a deploy by `account_id` stores its code under."""
    if action.mode == CODE_HASH:
        return _HASH + code_hash(action.code)
    return _ACCOUNT + account_id


def identifier_json(ident: str) -> dict[str, str]:
    """nearcore's GlobalContractIdentifier JSON: ``{"CodeHash": b58}`` / ``{"AccountId": id}``."""
    if ident.startswith(_HASH):
        return {"CodeHash": ident[len(_HASH):]}
    return {"AccountId": ident[len(_ACCOUNT):]}


def describe(ident: str) -> str:
    """For messages: ``code hash <b58>`` or ``account <id>``."""
    (kind, value), = identifier_json(ident).items()
    return f"{'code hash' if kind == 'CodeHash' else 'account'} {value}"


def identifier_storage(ident: str) -> int:
    """Bytes an account using `ident` is charged for (nearcore identifier_storage_usage)."""
    if ident.startswith(_HASH):
        return 32
    return len(ident[len(_ACCOUNT):].encode())


def use_action(*, code_hash_b58: str | None = None, account_id: str | None = None
               ) -> UseGlobalContract:
    """A UseGlobalContract action from a base58 code hash or an account id (one of them)."""
    if (code_hash_b58 is None) == (account_id is None):
        raise UserError("name the global contract by its code hash or by its account id "
                        "(exactly one)")
    if account_id is not None:
        return UseGlobalContract(None, account_id)
    try:
        raw = base58.b58decode(code_hash_b58 or "")
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise UserError(f"global contract code hash {code_hash_b58!r} is not the base58 of "
                        "32 bytes")
    return UseGlobalContract(raw, None)


def deploy_action(code: bytes, mode: str | int = "CodeHash") -> DeployGlobalContract:
    number = MODES.get(mode) if isinstance(mode, str) else mode
    if number not in (CODE_HASH, ACCOUNT_ID):
        raise UserError(f"global contract deploy mode must be 'CodeHash' or 'AccountId', "
                        f"got {mode!r}")
    return DeployGlobalContract(bytes(code), number)


# --- the actions (nearcore global_contracts.rs) -----------------------------------------


def apply_deploy(store: StateStore, params: Params, account: Account,
                 action: DeployGlobalContract, index: int) -> ActionError | int:
    """Burn the storage price and store the code; returns the tokens burnt."""
    cost = params.global_contract_storage_amount_per_byte * len(action.code)
    if account.balance < cost:
        return ActionError(
            "LackBalanceForState", f"account {account.account_id} needs {cost} yoctoNEAR to "
            f"deploy a global contract of {len(action.code)} bytes, it has {account.balance}",
            index, {"LackBalanceForState": {"account_id": account.account_id,
                                            "amount": str(cost)}})
    account.balance -= cost
    store.put_global_contract(deployed_identifier(action, account.account_id),
                              store.put_code(action.code))
    return cost


def apply_use(store: StateStore, account: Account, action: UseGlobalContract, index: int
              ) -> ActionError | None:
    """Point the account at a deployed global contract, releasing its old contract's bytes."""
    ident = identifier(action)
    if store.get_global_contract(ident) is None:
        detail = identifier_json(ident)
        return ActionError(
            "GlobalContractDoesNotExist", f"no global contract is deployed under "
            f"{describe(ident)}", index, {"GlobalContractDoesNotExist": {"identifier": detail}})
    release_contract(store, account)
    store.set_account_contract(account.account_id, ident)
    account.storage_usage += identifier_storage(ident)
    return None


def release_contract(store: StateStore, account: Account) -> None:
    """Take the account's contract away, local or global, with the storage it counted
    (nearcore clear_account_contract_storage_usage): before a deploy or a use."""
    account.storage_usage -= contract_storage(store, account)
    if account.code_hash is not None:
        account.code_hash = None
        account.realm = "{}"
    if store.get_account_contract(account.account_id) is not None:
        store.set_account_contract(account.account_id, None)


def contract_storage(store: StateStore, account: Account) -> int:
    """Bytes the account's contract counts in its storage usage."""
    if account.code_hash is not None:
        return len(store.get_code(account.code_hash) or b"")
    ident = store.get_account_contract(account.account_id)
    return 0 if ident is None else identifier_storage(ident)


# --- finding an account's code ----------------------------------------------------------


def contract_code(store: StateStore, account: Account, height: int | None = None
                  ) -> tuple[str, bytes] | None:
    """(code hash, code) the account runs: its local code, else the global contract it
    uses as deployed now (or at the end of block `height`); None without a contract."""
    if account.code_hash is not None:
        code = store.get_code(account.code_hash)
        return None if code is None else (account.code_hash, code)
    ident = account_contract(store, account.account_id, height)
    if ident is None:
        return None
    if height is None:
        digest = store.get_global_contract(ident)
    else:
        row = store.row_as_of("global_contracts", (ident,), height)
        digest = None if row is None else str(row[1])
    code = None if digest is None else store.get_code(digest)
    return None if digest is None or code is None else (digest, code)


def account_contract(store: StateStore, account_id: str, height: int | None = None
                     ) -> str | None:
    """The global contract identifier the account uses now (or at the end of `height`)."""
    if height is None:
        return store.get_account_contract(account_id)
    row = store.row_as_of("account_contracts", (account_id,), height)
    return None if row is None else str(row[1])


def view_fields(ident: str | None) -> dict[str, str | None]:
    """AccountView's global_contract_hash / global_contract_account_id for `ident`."""
    fields: dict[str, str | None] = {"global_contract_hash": None,
                                     "global_contract_account_id": None}
    if ident is not None:
        (kind, value), = identifier_json(ident).items()
        fields["global_contract_hash" if kind == "CodeHash"
               else "global_contract_account_id"] = value
    return fields
