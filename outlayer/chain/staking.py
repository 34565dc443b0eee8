"""Staking on a one-node chain: the Stake action and what an epoch boundary does to it.

The Stake action follows nearcore's `action_stake` (runtime/runtime/src/actions.rs):

- the key must be an ed25519 key on the curve (`UnsuitableStakingKey`; nearcore refuses it
  when validating the transaction or the receipt; a transaction is refused here too, a
  contract's Stake receipt fails with it);
- increment = max(stake - locked, 0); a balance below the increment fails with
  `TriesToStake` {account_id, stake, locked, balance};
- stake 0 with nothing locked fails with `TriesToUnstake`;
- otherwise the stake is the account's proposal. Raising it moves the increment from the
  balance to `locked` at once, as on NEAR. Lowering it (or 0: unstaking) keeps the tokens
  locked until the next epoch boundary, where locked becomes the proposal and the
  difference returns to the balance.

What a single-node chain cannot do: there is no validator set, so nothing is elected, no
seat price exists (NEAR's `InsufficientStake`, stake below a tenth of the seat price, never
happens), no rewards are paid and nobody is kicked out. NEAR returns decreased stake once the
epochs that used it are over (two to three epoch boundaries later); the simulator has no such
epochs in flight and returns it at the first boundary. Storage staking counts balance +
locked, as nearcore's `get_insufficient_storage_stake` does.
"""

from __future__ import annotations

from outlayer.chain.accounts import public_key_str
from outlayer.chain.outcomes import ActionError
from outlayer.chain.store import Account, StateStore
from outlayer.vm.receipts import Stake

_P = 2**255 - 19
_D = -121665 * pow(121666, _P - 2, _P) % _P


def is_valid_staking_key(public_key: bytes) -> bool:
    """An ed25519 key (borsh: type byte 0 + 32 bytes) that decompresses to a curve point,
    as nearcore's `is_valid_staking_key` requires."""
    if len(public_key) != 33 or public_key[0] != 0:
        return False
    y = int.from_bytes(public_key[1:], "little") & ((1 << 255) - 1)
    y2 = y * y % _P
    # x^2 = (y^2 - 1) / (d y^2 + 1) must have a root (Euler's criterion)
    w = (y2 - 1) * pow(_D * y2 + 1, _P - 2, _P) % _P
    return w == 0 or pow(w, (_P - 1) // 2, _P) == 1


def apply_stake(store: StateStore, account: Account, action: Stake, index: int
                ) -> ActionError | None:
    """Run one Stake action on `account` (updated in place; the caller stores it)."""
    account_id = account.account_id
    if not is_valid_staking_key(action.public_key):
        key = action.public_key.hex()
        return ActionError("UnsuitableStakingKey", f"the staking key {key} is not an "
                           "ed25519 key on the curve", index,
                           {"UnsuitableStakingKey": {"public_key": key}})
    locked, stake = account.locked, action.stake
    increment = max(stake - locked, 0)
    if account.balance < increment:
        return ActionError(
            "TriesToStake", f"account {account_id} tries to stake {stake} yoctoNEAR, but "
            f"has {account.balance} unlocked and {locked} locked", index,
            {"TriesToStake": {"account_id": account_id, "stake": str(stake),
                              "locked": str(locked), "balance": str(account.balance)}})
    if locked == 0 and stake == 0:
        return ActionError("TriesToUnstake", f"account {account_id} has nothing staked to "
                           "unstake", index, {"TriesToUnstake": {"account_id": account_id}})
    if stake >= locked:
        account.balance -= increment
        account.locked = stake
        store.delete_stake_proposal(account_id)
    else:
        store.put_stake_proposal(account_id, stake, public_key_str(action.public_key))
    return None


def settle_epoch(store: StateStore) -> None:
    """At the first block of an epoch: every lowered stake takes effect, the difference
    returns to the balance."""
    for account_id, stake, _key in store.stake_proposals():
        store.delete_stake_proposal(account_id)
        account = store.get_account(account_id)
        if account is None or stake >= account.locked:
            continue
        account.balance += account.locked - stake
        account.locked = stake
        store.put_account(account)
