"""Delegate actions (NEP-366 meta-transactions): sign one, and run it as nearcore does.

A user (the *sender*) signs a `DelegateAction` off-chain: "run these actions on
`receiver_id` as me, with my key's nonce `nonce`, until block `max_block_height`". A
*relayer* puts the `SignedDelegate` in a transaction of its own whose receiver is the
sender, signs that, and pays for everything.

The sender's signature is over sha256(borsh(u32 2^30 + 366) || borsh(DelegateAction)) (the
NEP-461 prefix keeps a signed delegate action from ever being a valid transaction).

The relayer's transaction makes a receipt on the sender's account; its Delegate action
(nearcore's ``apply_delegate_action``) checks, in this order, each failure a NEAR
ActionError of the receipt (nothing of it is written):

1. the signature (``DelegateActionInvalidSignature``);
2. the block height is at most `max_block_height` (``DelegateActionExpired``);
3. `sender_id` is the account the receipt runs on, i.e. the transaction's receiver
   (``DelegateActionSenderDoesNotMatchTxReceiver``);
4. the sender has the access key (``DelegateActionAccessKeyError`` ``AccessKeyNotFound``),
   the nonce is above the key's (``DelegateActionInvalidNonce``) and below
   height * 10^6 (``DelegateActionNonceTooLarge``); a function-call key allows one
   FunctionCall to its receiver, of one of its methods, without deposit
   (``DelegateActionAccessKeyError`` with the InvalidAccessKeyError variant). Its
   allowance is not charged: the relayer pays.

Then the key's nonce becomes the delegate action's and a new action receipt goes from
`sender_id` (its predecessor) to `receiver_id` with the inner actions; its signer is the
relayer, who gets its unused gas back. The relayer's transaction prepaid all of it (see
`outlayer.chain.receipts`): the Delegate send fee plus the inner actions' send fees at
conversion, and the inner receipt's send fees, exec fees and function-call gas, plus the
inner deposits. If the inner receipt fails, its deposits go back to its predecessor, the
sender (as on NEAR: a relayer should check what it relays); if the Delegate action fails,
they go back to the relayer with its unused gas.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from nacl.signing import SigningKey

from outlayer.chain import receipts as rc
from outlayer.chain.accounts import (
    ACCESS_KEY_NONCE_RANGE_MULTIPLIER,
    check_account_id,
    public_key_str,
)
from outlayer.chain.outcomes import ActionError
from outlayer.chain.receipts import ActionReceipt
from outlayer.chain.signed import (
    DelegateAction,
    SignedDelegate,
    encode_delegate_action,
    function_call_key_refusal,
    signature_ok,
)
from outlayer.chain.store import AccessKeyRecord, StateStore
from outlayer.errors import UserError
from outlayer.vm.params import Params
from outlayer.vm.receipts import Action

#: NEP-461's prefix of a signed delegate action: on-chain messages start at 2^30, + NEP 366
NEP_366_DISCRIMINANT = (1 << 30) + 366


def signing_hash(delegate: DelegateAction) -> bytes:
    """What the sender signs (nearcore's get_nep461_hash)."""
    return hashlib.sha256(NEP_366_DISCRIMINANT.to_bytes(4, "little")
                          + encode_delegate_action(delegate)).digest()


def sign_delegate(secret_seed: bytes, sender_id: str, receiver_id: str,
                  actions: Sequence[Action], *, nonce: int, max_block_height: int
                  ) -> SignedDelegate:
    """A delegate action signed with an ed25519 key (its 32-byte seed), ready for a relayer
    to put in its transaction (`signed.sign(..., receiver_id=sender_id, [it])`) or in
    `ContractSimulator.transact(relayer, sender_id, [it])`. `nonce` must be above the key's
    (see `view_access_key`) and below the next block height * 10^6."""
    from outlayer.chain.actions import validate_actions  # actions imports signed

    if len(secret_seed) != 32:
        raise UserError(f"an ed25519 secret seed is 32 bytes, got {len(secret_seed)}")
    check_account_id(sender_id, "delegate sender")
    check_account_id(receiver_id, "delegate receiver")
    if not isinstance(actions, list | tuple):
        raise UserError(f"a delegate action's actions must be a list of actions, not "
                        f"{type(actions).__name__}")
    # what the relayer's transaction would refuse (a nested delegate, a non-action, NEAR's
    # limits), refused now, when the sender can still fix it
    validate_actions(list(actions), delegated=True)
    for name, value in (("nonce", nonce), ("max_block_height", max_block_height)):
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 1 << 64:
            raise UserError(f"the delegate action's {name} must be a u64, got {value!r}")
    key = SigningKey(secret_seed)
    delegate = DelegateAction(sender_id, receiver_id, tuple(actions), nonce,
                              max_block_height, b"\x00" + bytes(key.verify_key))
    return SignedDelegate(delegate, b"\x00" + key.sign(signing_hash(delegate)).signature)


def verify(signed_delegate: SignedDelegate) -> bool:
    """Whether the sender's key signed this delegate action (nearcore's verify())."""
    d = signed_delegate.delegate_action
    return signature_ok(d.public_key, signed_delegate.signature, signing_hash(d))


def flat_actions(actions: Iterable[Any]) -> list[Any]:
    """The actions with each delegate action's inner actions after it (for rules that hold
    for every action a transaction runs, e.g. OutLayer's reserved method names)."""
    out: list[Any] = []
    for action in actions:
        out.append(action)
        if isinstance(action, SignedDelegate):
            out.extend(action.delegate_action.actions)
    return out


@dataclass(frozen=True)
class Applied:
    """A delegate action that passed: the receipt it sends and the gas it accounts for."""

    receipt: ActionReceipt
    #: the inner receipt's send fees, prepaid and burnt now (nearcore: burnt and used)
    send_fees: int
    #: what the inner receipt carries (its exec fees and gas): used now, burnt by it
    carried: int


def apply(store: StateStore, params: Params, r: ActionReceipt, action: SignedDelegate,
          height: int, index: int) -> ActionError | Applied:
    """Run action `index` of receipt `r` (a Delegate) at block `height`: an ActionError,
    or the receipt it sends (the sender's key nonce is then written; the caller's
    savepoint drops that write if a later action of `r` fails)."""
    d = action.delegate_action
    if not verify(action):
        return ActionError("DelegateActionInvalidSignature",
                           f"the delegate action's signature does not verify for "
                           f"{public_key_str(d.public_key)}", index,
                           "DelegateActionInvalidSignature")
    if height > d.max_block_height:
        return ActionError("DelegateActionExpired",
                           f"the delegate action was valid until block {d.max_block_height}, "
                           f"this is block {height}", index, "DelegateActionExpired")
    if d.sender_id != r.receiver_id:
        return ActionError("DelegateActionSenderDoesNotMatchTxReceiver",
                           f"the delegate action's sender {d.sender_id} is not the "
                           f"transaction's receiver {r.receiver_id}", index,
                           {"DelegateActionSenderDoesNotMatchTxReceiver": {
                               "sender_id": d.sender_id, "receiver_id": r.receiver_id}})
    error = _check_key(store, d, height, index)
    if isinstance(error, ActionError):
        return error
    store.put_access_key(error)
    inner = list(d.actions)
    receipt = ActionReceipt(b"", d.sender_id, d.receiver_id, r.signer_id,
                            r.signer_public_key, r.gas_price, inner)
    send, execution = rc.delegated_gas(params, d)
    return Applied(receipt, send, rc.total_prepaid_gas(inner) + execution)


def _check_key(store: StateStore, d: DelegateAction, height: int, index: int
               ) -> ActionError | AccessKeyRecord:
    """nearcore's validate_delegate_action_key: the key's record with its new nonce."""
    public_key = public_key_str(d.public_key)

    def key_error(detail: Any, message: str) -> ActionError:
        return ActionError("DelegateActionAccessKeyError", message, index,
                           {"DelegateActionAccessKeyError": detail})

    key = store.get_access_key(d.sender_id, public_key)
    if key is None:
        return key_error({"AccessKeyNotFound": {"account_id": d.sender_id,
                                                "public_key": public_key}},
                         f"account {d.sender_id} has no access key {public_key}")
    if d.nonce <= key.nonce:
        return ActionError("DelegateActionInvalidNonce",
                           f"the delegate action's nonce {d.nonce} is not above the access "
                           f"key's nonce {key.nonce}", index,
                           {"DelegateActionInvalidNonce": {"delegate_nonce": d.nonce,
                                                           "ak_nonce": key.nonce}})
    upper = height * ACCESS_KEY_NONCE_RANGE_MULTIPLIER
    if d.nonce >= upper:
        return ActionError("DelegateActionNonceTooLarge",
                           f"the delegate action's nonce {d.nonce} is too large (must be "
                           f"below {upper} at block {height})", index,
                           {"DelegateActionNonceTooLarge": {"delegate_nonce": d.nonce,
                                                            "upper_bound": upper}})
    if key.permission != "FullAccess":
        refusal = function_call_key_refusal(key.permission["FunctionCall"], d.receiver_id,
                                            d.actions, deposit_last=True)
        if refusal is not None:
            return key_error(*refusal)
    return AccessKeyRecord(key.account_id, key.public_key, d.nonce, key.permission)


__all__ = ["NEP_366_DISCRIMINANT", "Applied", "apply", "flat_actions", "sign_delegate",
           "signing_hash", "verify"]
