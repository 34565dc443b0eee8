"""Delegate actions (NEP-366 meta-transactions) through the Python API: a relayer runs a
user's signed delegate action; every refusal is nearcore's ActionError; the relayer pays."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import base58
import pytest
from nacl.signing import SigningKey
from typer.testing import CliRunner

from outlayer.chain import actions, delegate, signed
from outlayer.chain.accounts import ACCESS_KEY_NONCE_RANGE_MULTIPLIER
from outlayer.chain.actions import ActionsInvalid
from outlayer.chain.outcomes import FinalOutcome
from outlayer.chain.runtime import NEAR_GAS_PRICE
from outlayer.chain.simulator import ContractSimulator
from outlayer.cli import app as cli
from outlayer.errors import UserError
from outlayer.vm.receipts import FunctionCall, Transfer

USER_SEED = bytes(range(32))
RELAYER_SEED = bytes(range(1, 33))
STRANGER_SEED = bytes(range(2, 34))
NEAR = 10**24

APP = """
export function whoami() {
  return {signer: near.signerAccountId(), predecessor: near.predecessorAccountId(),
          deposit: near.attachedDeposit().toString()};
}
export function note(args) { near.storageWrite("note", args.text); return args.text; }
export function fail() { throw new Error("inner failure"); }
"""


def key_of(seed: bytes) -> str:
    return "ed25519:" + base58.b58encode(bytes(SigningKey(seed).verify_key)).decode()


USER_KEY = key_of(USER_SEED)


def make_chain(db: str | Path = ":memory:", **options: Any) -> ContractSimulator:
    sim = ContractSimulator(db_path=db, gas_price=NEAR_GAS_PRICE, **options)
    sim.create_account("user.test", "10NEAR", public_key=USER_KEY)
    sim.create_account("relayer.test", "100NEAR", public_key=key_of(RELAYER_SEED))
    sim.create_account("other.test", "10NEAR")
    sim.deploy("app.test", APP)
    return sim


@pytest.fixture
def sim() -> Iterator[ContractSimulator]:
    with make_chain() as simulator:
        yield simulator


def nonce(sim: ContractSimulator, account: str = "user.test", key: str = USER_KEY) -> int:
    record = sim.store.get_access_key(account, key)
    assert record is not None
    return record.nonce


def balance(sim: ContractSimulator, account: str) -> int:
    return int(sim.account(account)["balance"])


def meta(sim: ContractSimulator, inner: list[Any], *, seed: bytes = USER_SEED,
         sender: str = "user.test", receiver: str = "app.test", at: int | None = None,
         ttl: int = 100) -> signed.SignedDelegate:
    """The user's signed delegate action with the key's next nonce (or `at`)."""
    next_nonce = at if at is not None else nonce(sim) + 1
    return delegate.sign_delegate(seed, sender, receiver, inner, nonce=next_nonce,
                                  max_block_height=sim.height + ttl)


def call(method: str, args: Any = None, deposit: int = 0) -> FunctionCall:
    return actions.function_call(method, args or {}, deposit=deposit, gas="30T")


def outcomes(final: FinalOutcome) -> list[dict[str, Any]]:
    return [o.to_json() for o in final.receipts_outcome]


def failure(result: Any) -> Any:
    assert result.final_status is not None and "Failure" in result.final_status, \
        result.final_status
    return result.final_status["Failure"]["ActionError"]


# --- success -----------------------------------------------------------------------------


def test_a_full_access_key_delegates_a_call_the_relayer_pays(sim: ContractSimulator) -> None:
    user_before, relayer_before = balance(sim, "user.test"), balance(sim, "relayer.test")
    signed_delegate = meta(sim, [call("whoami", deposit=7)], at=5)
    result = sim.transact("relayer.test", "user.test", [signed_delegate])
    assert result.final_status == {"SuccessValue": ""}  # the Delegate receipt's own result
    outer, inner, *refunds = result.receipts_outcome
    assert (outer.executor_id, outer.predecessor_id) == ("user.test", "relayer.test")
    assert (inner.executor_id, inner.predecessor_id) == ("app.test", "user.test")
    assert outer.receipt_ids == [inner.id]
    assert inner.status == "SuccessValue"
    assert delegate_result(inner) == {"signer": "relayer.test", "predecessor": "user.test",
                                      "deposit": "7"}
    assert nonce(sim) == 5  # the delegate action's nonce is the key's now
    # the user pays nothing; the relayer pays every fee, the deposit, and gets its unused
    # gas back (refund receipts to the relayer, the transaction's signer)
    assert balance(sim, "user.test") == user_before
    assert {r.executor_id for r in refunds} == {"relayer.test"}
    assert relayer_before - balance(sim, "relayer.test") == result.tokens_burnt + 7


def delegate_result(outcome: Any) -> Any:
    import base64
    import json

    return json.loads(base64.b64decode(outcome.to_json()["outcome"]["status"]["SuccessValue"]))


def test_a_function_call_key_delegates_its_one_method(sim: ContractSimulator) -> None:
    fc_seed = bytes(range(3, 35))
    sim.transact("user.test", "user.test", [actions.add_function_call_key(
        key_of(fc_seed), "app.test", ["note"], allowance="1NEAR")])
    before = sim.store.get_access_key("user.test", key_of(fc_seed))
    assert before is not None
    signed_delegate = delegate.sign_delegate(
        fc_seed, "user.test", "app.test", [call("note", {"text": "hi"})],
        nonce=before.nonce + 1, max_block_height=sim.height + 10)
    result = sim.transact("relayer.test", "user.test", [signed_delegate])
    assert result.final_status == {"SuccessValue": ""}
    assert sim.state("app.test") == {"note": "hi"}
    after = sim.store.get_access_key("user.test", key_of(fc_seed))
    assert after is not None and after.nonce == before.nonce + 1
    assert after.permission == before.permission  # the allowance is not charged


def test_the_signature_is_over_the_nep461_prefixed_borsh() -> None:
    inner = [Transfer(5)]
    signed_delegate = delegate.sign_delegate(USER_SEED, "user.test", "bob.test", inner,
                                             nonce=9, max_block_height=77)
    body = signed.encode_delegate_action(signed_delegate.delegate_action)
    assert delegate.NEP_366_DISCRIMINANT == 1_073_742_190
    digest = hashlib.sha256((2**30 + 366).to_bytes(4, "little") + body).digest()
    SigningKey(USER_SEED).verify_key.verify(digest, signed_delegate.signature[1:])
    assert delegate.verify(signed_delegate)
    # in a transaction: action tag 8, the same body, then the signature
    tx = signed.encode_transaction("relayer.test", b"\x00" + bytes(32), 1, "user.test",
                                   bytes(32), [signed_delegate])
    assert tx.endswith(b"\x08" + body + signed_delegate.signature)


def test_a_signed_relayer_transaction_runs_it(sim: ContractSimulator) -> None:
    signed_delegate = meta(sim, [call("note", {"text": "signed"})])
    raw = signed.sign(RELAYER_SEED, "relayer.test", nonce(sim, "relayer.test",
                                                          key_of(RELAYER_SEED)) + 1,
                      "user.test", sim.block.hash or b"", [signed_delegate])
    final = sim.submit_signed(raw)
    assert final.status_json() == {"SuccessValue": ""}
    assert sim.state("app.test") == {"note": "signed"}
    assert [o["outcome"]["executor_id"] for o in outcomes(final)][:2] == ["user.test",
                                                                          "app.test"]


def test_strict_receipt_delays_carry_the_delegate_receipt_across_blocks() -> None:
    with make_chain(strict_receipt_delays=True) as sim:
        result = sim.transact("relayer.test", "user.test",
                              [meta(sim, [call("note", {"text": "later"})])])
        assert result.final_status == {"SuccessValue": ""}
        outer, inner = result.receipts_outcome[:2]
        tx_height = result.transaction_outcome.block_height
        assert (outer.block_height, inner.block_height) == (tx_height + 1, tx_height + 2)
        assert sim.state("app.test") == {"note": "later"}


# --- who pays: exact fees -------------------------------------------------------------------


def test_fees_follow_nearcore(sim: ContractSimulator) -> None:
    p = sim.params
    inner = call("note", {"text": "x"})
    result = sim.transact("relayer.test", "user.test", [meta(sim, [inner])])
    fc_send = (p.action_function_call.send_not_sir
               + p.action_function_call_per_byte.send_not_sir
               * (len(inner.method_name) + len(inner.args)))
    # converting the relayer's transaction burns the receipt's, the Delegate's and the
    # inner actions' send fees
    assert result.transaction_outcome.gas_burnt == (
        p.action_receipt_creation.send_not_sir + p.action_delegate.send_not_sir + fc_send)
    # the Delegate receipt burns its exec fees and the inner receipt's (prepaid) send fees
    outer = result.receipts_outcome[0]
    assert outer.gas_burnt == (p.action_receipt_creation.execution
                               + p.action_delegate.execution + fc_send)
    assert outer.tokens_burnt == outer.gas_burnt * NEAR_GAS_PRICE
    # the Delegate receipt uses all it carried: no refund of its own
    assert not any(o.predecessor_id == "system" and o.id in outer.receipt_ids
                   for o in result.receipts_outcome)


# --- a failing inner receipt ---------------------------------------------------------------


def test_a_failed_inner_call_refunds_the_deposit_to_the_sender(sim: ContractSimulator) -> None:
    user_before, relayer_before = balance(sim, "user.test"), balance(sim, "relayer.test")
    result = sim.transact("relayer.test", "user.test", [meta(sim, [call("fail", deposit=NEAR)])])
    assert result.final_status == {"SuccessValue": ""}  # the Delegate itself passed
    inner = result.receipts_outcome[1]
    assert inner.status == "Failure" and "inner failure" in inner.error.message
    refunds = [o for o in result.receipts_outcome if o.predecessor_id == "system"]
    # NEAR's rule: the deposit goes back to the inner receipt's predecessor, the sender,
    # the unused gas to its signer, the relayer
    assert sorted(r.executor_id for r in refunds) == ["relayer.test", "user.test"]
    assert balance(sim, "user.test") == user_before + NEAR
    assert relayer_before - balance(sim, "relayer.test") == result.tokens_burnt + NEAR


# --- refusals: nearcore's ActionErrors, nothing written --------------------------------------


def refused(sim: ContractSimulator, tx_actions: list[Any], receiver: str = "user.test"
            ) -> dict[str, Any]:
    """Run the relayer's transaction, which must fail at the Delegate receipt: the user's
    key and account are as they were, no inner receipt was sent, the relayer got back
    everything but the burnt gas (deposits included)."""
    account, key = sim.account("user.test"), sim.store.get_access_key("user.test", USER_KEY)
    relayer_before = balance(sim, "relayer.test")
    notes = sim.state("app.test")
    result = sim.transact("relayer.test", receiver, tx_actions)
    error = failure(result)
    outer = result.receipts_outcome[0]
    assert outer.executor_id == receiver and outer.status == "Failure"
    assert all(o.executor_id != "app.test" for o in result.receipts_outcome)
    assert sim.account("user.test") == account
    assert sim.store.get_access_key("user.test", USER_KEY) == key
    assert sim.state("app.test") == notes
    assert relayer_before - balance(sim, "relayer.test") == result.tokens_burnt
    return error


def test_an_invalid_signature_is_refused(sim: ContractSimulator) -> None:
    good = meta(sim, [call("note", {"text": "x"}, deposit=3)])
    forged = signed.SignedDelegate(good.delegate_action,
                                   good.signature[:-1] + bytes([good.signature[-1] ^ 1]))
    assert refused(sim, [forged]) == {"index": 0, "kind": "DelegateActionInvalidSignature"}
    # signed by another key than the one it names
    other = delegate.sign_delegate(STRANGER_SEED, "user.test", "app.test", [Transfer(1)],
                                   nonce=nonce(sim) + 1, max_block_height=sim.height + 9)
    relabelled = signed.SignedDelegate(signed.DelegateAction(
        *[getattr(other.delegate_action, f) for f in
          ("sender_id", "receiver_id", "actions", "nonce", "max_block_height")],
        good.delegate_action.public_key), other.signature)
    assert refused(sim, [relabelled])["kind"] == "DelegateActionInvalidSignature"


def test_the_transaction_receiver_must_be_the_sender(sim: ContractSimulator) -> None:
    error = refused(sim, [meta(sim, [call("note", {"text": "x"})])], receiver="other.test")
    assert error == {"index": 0, "kind": {"DelegateActionSenderDoesNotMatchTxReceiver": {
        "sender_id": "user.test", "receiver_id": "other.test"}}}


def test_an_expired_delegate_action_is_refused(sim: ContractSimulator) -> None:
    # the relayer's transaction runs in the next block, one past max_block_height
    assert refused(sim, [meta(sim, [Transfer(1)], ttl=0)]) == {
        "index": 0, "kind": "DelegateActionExpired"}
    # max_block_height itself is still valid
    result = sim.transact("relayer.test", "user.test", [meta(sim, [Transfer(1)], ttl=1)])
    assert result.final_status == {"SuccessValue": ""}


def test_an_unknown_key_is_refused(sim: ContractSimulator) -> None:
    stranger = delegate.sign_delegate(STRANGER_SEED, "user.test", "app.test", [Transfer(1)],
                                      nonce=1, max_block_height=sim.height + 9)
    assert refused(sim, [stranger]) == {"index": 0, "kind": {"DelegateActionAccessKeyError": {
        "AccessKeyNotFound": {"account_id": "user.test",
                              "public_key": key_of(STRANGER_SEED)}}}}


def test_nonces_must_grow_and_stay_below_the_bound(sim: ContractSimulator) -> None:
    first = meta(sim, [call("note", {"text": "once"})], at=7)
    assert sim.transact("relayer.test", "user.test", [first]).final_status == \
        {"SuccessValue": ""}
    # the same signed delegate action again: a replay
    assert refused(sim, [first]) == {"index": 0, "kind": {"DelegateActionInvalidNonce": {
        "delegate_nonce": 7, "ak_nonce": 7}}}
    height = sim.height + 1  # the block the relayer's transaction runs in
    upper = height * ACCESS_KEY_NONCE_RANGE_MULTIPLIER
    assert refused(sim, [meta(sim, [Transfer(1)], at=upper)]) == {
        "index": 0, "kind": {"DelegateActionNonceTooLarge": {
            "delegate_nonce": upper, "upper_bound": upper}}}
    ok = sim.transact("relayer.test", "user.test", [meta(sim, [Transfer(1)], at=upper - 1)])
    assert ok.final_status == {"SuccessValue": ""} and nonce(sim) == upper - 1


@pytest.mark.parametrize(("inner", "receiver", "detail"), [
    ([Transfer(1)], "app.test", "RequiresFullAccess"),
    ([call("note", {"text": "a"}), call("note", {"text": "b"})], "app.test",
     "RequiresFullAccess"),
    ([call("note", {"text": "a"})], "other.test",
     {"ReceiverMismatch": {"tx_receiver": "other.test", "ak_receiver": "app.test"}}),
    ([call("whoami")], "app.test", {"MethodNameMismatch": {"method_name": "whoami"}}),
    ([call("note", {"text": "a"}, deposit=1)], "app.test", "DepositWithFunctionCall"),
])
def test_a_function_call_key_allows_only_its_call(sim: ContractSimulator, inner: list[Any],
                                                  receiver: str, detail: Any) -> None:
    fc_seed = bytes(range(4, 36))
    sim.transact("user.test", "user.test", [actions.add_function_call_key(
        key_of(fc_seed), "app.test", ["note"])])
    record = sim.store.get_access_key("user.test", key_of(fc_seed))
    assert record is not None
    signed_delegate = delegate.sign_delegate(fc_seed, "user.test", receiver, inner,
                                             nonce=record.nonce + 1,
                                             max_block_height=sim.height + 9)
    assert refused(sim, [signed_delegate]) == {
        "index": 0, "kind": {"DelegateActionAccessKeyError": detail}}
    assert sim.store.get_access_key("user.test", key_of(fc_seed)) == record


def test_a_later_failing_action_undoes_the_nonce_bump(sim: ContractSimulator) -> None:
    # the Delegate passes, then the relayer's DeleteKey on the user's account is refused:
    # the whole receipt is rolled back, the inner receipt is never sent
    error = refused(sim, [meta(sim, [call("note", {"text": "x"}, deposit=2)]),
                          actions.delete_key(USER_KEY)])
    assert error == {"index": 1, "kind": {"ActorNoPermission": {
        "account_id": "user.test", "actor_id": "relayer.test"}}}


def test_a_missing_sender_account_is_refused() -> None:
    with make_chain() as sim:
        ghost = delegate.sign_delegate(USER_SEED, "ghost.test", "app.test", [Transfer(1)],
                                       nonce=1, max_block_height=sim.height + 9)
        result = sim.transact("relayer.test", "ghost.test", [ghost])
        assert failure(result) == {"index": 0, "kind": {"AccountDoesNotExist": {
            "account_id": "ghost.test"}}}


# --- what the transaction may hold ----------------------------------------------------------


def unchecked_sign(seed: bytes, sender: str, receiver: str, inner: list[Any], *,
                   nonce: int, max_block_height: int) -> signed.SignedDelegate:
    """A delegate action `sign_delegate` refuses to make, signed by hand (what a client
    other than OutLayer's could still send), for the transaction's own checks."""
    key = SigningKey(seed)
    d = signed.DelegateAction(sender, receiver, tuple(inner), nonce, max_block_height,
                              b"\x00" + bytes(key.verify_key))
    return signed.SignedDelegate(d, b"\x00" + key.sign(delegate.signing_hash(d)).signature)


def test_sign_delegate_refuses_what_no_transaction_could_run(sim: ContractSimulator) -> None:
    one = meta(sim, [Transfer(1)])
    cases: list[tuple[str, str, Any, str]] = [
        ("BAD", "app.test", [Transfer(1)], "invalid delegate sender id 'BAD'"),
        ("user.test", "Not Valid", [Transfer(1)], "invalid delegate receiver id"),
        ("user.test", "app.test", [one], "cannot hold another one"),
        ("user.test", "app.test", "transfer", "must be a list of actions, not str"),
        ("user.test", "app.test", [Transfer(1), "transfer"], "action 1 is not an action"),
    ]
    for sender, receiver, inner, message in cases:
        with pytest.raises(UserError, match=message):
            delegate.sign_delegate(USER_SEED, sender, receiver, inner, nonce=99,
                                   max_block_height=9)


def test_one_delegate_per_transaction_and_none_nested(sim: ContractSimulator) -> None:
    one = meta(sim, [Transfer(1)])
    with pytest.raises(ActionsInvalid) as info:
        sim.transact("relayer.test", "user.test", [one, one])
    assert info.value.detail == "DelegateActionMustBeOnlyOne"
    nested = unchecked_sign(USER_SEED, "user.test", "app.test", [one], nonce=99,
                            max_block_height=sim.height + 9)
    with pytest.raises(UserError, match="cannot hold another"):
        sim.transact("relayer.test", "user.test", [nested])
    # the wire format cannot even say it: tag 8 inside a delegate action is no action
    tx = signed.encode_transaction("relayer.test", b"\x00" + bytes(32), 1, "user.test",
                                   bytes(32), [nested]) + b"\x00" + bytes(64)
    with pytest.raises(signed.BorshError, match="inside a delegate action"):
        signed.decode_signed(tx)


def test_inner_actions_are_validated_like_a_transaction(sim: ContractSimulator) -> None:
    zero_gas = FunctionCall("note", b"{}", 0, 0)
    with pytest.raises(ActionsInvalid) as info:
        sim.transact("relayer.test", "user.test", [meta(sim, [zero_gas])])
    assert info.value.detail == "FunctionCallZeroAttachedGas"
    heavy = [actions.function_call("note", {}, gas="200T")]
    with pytest.raises(ActionsInvalid) as info:  # the inner gas counts for the transaction
        sim.transact("relayer.test", "user.test",
                     [meta(sim, heavy), actions.function_call("whoami", gas="200T")])
    assert info.value.detail == {"TotalPrepaidGasExceeded": {
        "total_prepaid_gas": 400 * 10**12, "limit": 300 * 10**12}}
    bad_receiver = unchecked_sign(USER_SEED, "user.test", "Not Valid", [Transfer(1)],
                                  nonce=nonce(sim) + 1, max_block_height=sim.height + 9)
    with pytest.raises(ActionsInvalid) as info:
        sim.transact("relayer.test", "user.test", [bad_receiver])
    assert info.value.detail == {"InvalidAccountId": {"account_id": "Not Valid"}}
    # a delegated call of `__ol_resume` resumes nothing: it fails in its receipt
    relayed = sim.transact("relayer.test", "user.test",
                           [meta(sim, [actions.function_call("__ol_resume", {})])])
    failed = [o for o in relayed.receipts_outcome if o.error is not None]
    assert [o.executor_id for o in failed] == ["app.test"]  # the delegate's receiver
    assert "reserved for OutLayer's await" in failed[0].error.message


# --- replay ----------------------------------------------------------------------------


def test_delegate_transactions_verify_from_the_history(tmp_path: Path) -> None:
    db = tmp_path / "chain.db"
    with make_chain(db) as sim:
        sim.transact("relayer.test", "user.test", [meta(sim, [call("note", {"text": "a"})])])
        raw = signed.sign(RELAYER_SEED, "relayer.test",
                          nonce(sim, "relayer.test", key_of(RELAYER_SEED)) + 1, "user.test",
                          sim.block.hash or b"",
                          [meta(sim, [call("fail", deposit=5)])])
        sim.submit_signed(raw)
        expired = meta(sim, [Transfer(1)], ttl=0)
        assert "Failure" in sim.transact("relayer.test", "user.test",
                                         [expired]).final_status
        assert sim.verify().ok
    run = CliRunner().invoke(cli, ["--db", str(db), "verify"])
    assert run.exit_code == 0, (run.stdout, run.stderr)
    assert "✓ verified" in run.stdout
