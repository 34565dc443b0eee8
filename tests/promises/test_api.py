"""The promise API on `near`: argument forms, the actions it builds, NearPromise."""

from __future__ import annotations

import base58
import pytest

from outlayer.vm.receipts import (
    AddKey,
    CreateAccount,
    DeleteAccount,
    DeleteKey,
    DeployContract,
    FullAccess,
    FunctionCall,
    FunctionCallPermission,
    Transfer,
)

from .conftest import TGAS, RunFn

KEY32 = bytes(range(32))
ED25519 = "ed25519:" + base58.b58encode(KEY32).decode()
SECP = "secp256k1:" + base58.b58encode(bytes(range(64))).decode()

API = """
export function create(args) {
  const p = near.promiseCreate('pool.test', 'get', args.call_args, args.amount, args.gas);
  return {index: p.index, frozen: Object.isFrozen(p), json: JSON.stringify(p),
          then: typeof p.then, tag: Object.prototype.toString.call(p)};
}
export function bytes_args() {
  near.promiseCreate('pool.test', 'get', new Uint8Array([0, 1, 255]), 0, 5n);
}
export function amounts() {
  near.promiseCreate('a.test', 'm', {}, 7n, 1);
  near.promiseCreate('a.test', 'm', {}, '8', 1);
  near.promiseCreate('a.test', 'm', {}, 9, 1);
  near.promiseCreate('a.test', 'm', {}, '340282366920938463463374607431768211455', 1);
}
export function bad_amount(args) {
  near.promiseCreate('a.test', 'm', {}, args.amount === 'neg' ? -1n : args.amount, 1);
}
export function bad_gas() {
  near.promiseCreate('a.test', 'm', {}, 0, 1n << 64n);
}
export function chain() {
  const a = near.promiseCreate('a.test', 'm', {}, 0, 5n * 10n ** 12n);
  const b = near.promiseCreate('b.test', 'm', {}, 0, 5n * 10n ** 12n);
  const both = near.promiseAnd(a, b.index);
  const three = near.promiseAnd([a, b]);
  const cb = near.promiseThen(both, near.currentAccountId(), 'on_both', {n: 2}, 0, 5n * 10n ** 12n);
  near.promiseThen(three, near.currentAccountId(), 'on_three', '', 0, 5n * 10n ** 12n);
  return {both: both.index, three: three.index, cb: cb.index};
}
export function batch(args) {
  const p = near.promiseBatchCreate('sub.me.test');
  near.promiseBatchActionCreateAccount(p);
  near.promiseBatchActionTransfer(p.index, 10n ** 24n);
  near.promiseBatchActionDeployContract(p, 'export function f() {}');
  near.promiseBatchActionAddKeyWithFullAccess(p, args.ed, 0);
  near.promiseBatchActionAddKeyWithFunctionCall(p, new Uint8Array([0, ...args.raw]), 3n,
    '5', 'x.test', ['a', 'b']);
  near.promiseBatchActionAddKeyWithFunctionCall(p, args.secp, 0, null, 'x.test', 'c,d');
  near.promiseBatchActionDeleteKey(p, args.ed);
  near.promiseBatchActionFunctionCall(p, 'init', {owner: 'me.test'}, 1, 3n * 10n ** 12n);
  near.promiseBatchActionFunctionCallWeight(p, 'later', '', 0, 0, 2);
  const q = near.promiseBatchThen(p, 'beneficiary.test');
  near.promiseBatchActionDeleteAccount(q, 'me.test');
}
export function reserved(args) {
  if (args.how === 'create') near.promiseCreate(near.currentAccountId(), '__ol_resume', {}, 0, 1);
  const p = near.promiseBatchCreate(near.currentAccountId());
  near.promiseBatchActionFunctionCallWeight(p, '__ol_' + 'resume', '', 0, 0, 1);
}
export function bad_key() {
  const p = near.promiseBatchCreate('x.test');
  near.promiseBatchActionAddKeyWithFullAccess(p, 'ed25519:0OIl', 0);
}
export function returned() {
  near.promiseCreate('a.test', 'first', {}, 0, 5n * 10n ** 12n);
  return near.promiseCreate('b.test', 'second', {}, 0, 5n * 10n ** 12n);
}
export function return_twice() {
  const p = near.promiseCreate('a.test', 'm', {}, 0, 5n * 10n ** 12n);
  near.promiseReturn(p);
}
export async function return_before_await() {
  const p = near.promiseCreate('a.test', 'm', {}, 0, 5n * 10n ** 12n);
  near.promiseReturn(p);
  await p;
}
export function no_results() {
  return near.promiseResultsCount();
}
export function yield_create() {
  const y = near.promiseYieldCreate('on_result', {task: 't'}, 5n * 10n ** 12n, 0);
  return {index: y.promise.index, id: y.dataId.length, frozen: Object.isFrozen(y)};
}
export function not_a_promise() {
  near.promiseThen({index: 0}, 'a.test', 'm', {}, 0, 1);
}
export function empty_and() {
  near.promiseAnd();
}
"""


def test_promise_create_builds_a_function_call(run: RunFn) -> None:
    out = run(API, "create", {"call_args": {"a": [1, "x"]}, "amount": "12", "gas": 7 * TGAS})
    assert out.error is None, out.error
    assert out.return_data == (b'{"index":0,"frozen":true,"json":"{\\"index\\":0}",'
                               b'"then":"function","tag":"[object NearPromise]"}')
    (receipt,) = out.receipts
    assert receipt.receiver_id == "pool.test"
    assert receipt.actions == [FunctionCall("get", b'{"a":[1,"x"]}', 12, 7 * TGAS)]


@pytest.mark.parametrize(("call_args", "raw"), [("plain text", b"plain text"),
                                                (None, b""), ([1, 2], b"[1,2]")])
def test_args_forms(run: RunFn, call_args: object, raw: bytes) -> None:
    out = run(API, "create", {"call_args": call_args, "amount": 0, "gas": 1})
    assert out.error is None, out.error
    action = out.receipts[0].actions[0]
    assert isinstance(action, FunctionCall) and action.args == raw


def test_uint8array_args(run: RunFn) -> None:
    out = run(API, "bytes_args")
    assert out.receipts[0].actions[0] == FunctionCall("get", b"\x00\x01\xff", 0, 5)


def test_amount_forms_up_to_u128_max(run: RunFn) -> None:
    out = run(API, "amounts", account_balance=1 << 129)
    assert out.error is None, out.error
    assert [r.actions[0].deposit for r in out.receipts] == [7, 8, 9, (1 << 128) - 1]


@pytest.mark.parametrize(("amount", "kind", "text"), [
    ("neg", "JSException", "RangeError"),
    ("1.5", "JSException", "from 0 to 2^128 - 1"),
    ("340282366920938463463374607431768211456", "JSException", "from 0 to 2^128 - 1"),
    (1.5, "JSException", "safe integer"),
    (True, "JSException", "TypeError"),
])
def test_bad_amounts(run: RunFn, amount: object, kind: str, text: str) -> None:
    out = run(API, "bad_amount", {"amount": amount})
    assert out.error is not None and out.error.kind == kind
    assert text in out.error.message


def test_gas_over_u64(run: RunFn) -> None:
    out = run(API, "bad_gas")
    assert out.error is not None and "2^64 - 1" in out.error.message


def test_and_then_dependencies(run: RunFn) -> None:
    out = run(API, "chain")
    assert out.error is None, out.error
    assert out.return_data == b'{"both":2,"three":3,"cb":4}'
    receivers = [(r.receiver_id, r.depends_on) for r in out.receipts]
    assert receivers == [("a.test", ()), ("b.test", ()), ("me.test", (0, 1)),
                         ("me.test", (0, 1))]
    assert out.receipts[2].actions[0].args == b'{"n":2}'
    assert out.receipts[3].actions[0].args == b""


def test_batch_actions(run: RunFn) -> None:
    out = run(API, "batch", {"ed": ED25519, "raw": list(KEY32), "secp": SECP},
              account_balance=10 * 10**24)
    assert out.error is None, out.error
    first, second = out.receipts
    borsh = b"\x00" + KEY32
    assert first.receiver_id == "sub.me.test"
    assert first.actions[:8] == [
        CreateAccount(),
        Transfer(10**24),
        DeployContract(b"export function f() {}"),
        AddKey(borsh, 0, FullAccess()),
        AddKey(borsh, 3, FunctionCallPermission(5, "x.test", ("a", "b"))),
        AddKey(b"\x01" + bytes(range(64)), 0, FunctionCallPermission(None, "x.test",
                                                                       ("c", "d"))),
        DeleteKey(borsh),
        FunctionCall("init", b'{"owner":"me.test"}', 1, 3 * TGAS),
    ]
    later = first.actions[8]
    assert isinstance(later, FunctionCall) and later.method_name == "later"
    assert later.gas_weight == 2 and later.gas > 0  # all the unused gas
    assert second.receiver_id == "beneficiary.test" and second.depends_on == (0,)
    assert second.actions == [DeleteAccount("me.test")]


@pytest.mark.parametrize("how", ["create", "batch"])
def test_reserved_method_names_are_refused(run: RunFn, how: str) -> None:
    out = run(API, "reserved", {"how": how})
    assert out.error is not None and out.error.kind == "JSException"
    assert "reserved for OutLayer" in out.error.message
    assert out.receipts == ()


def test_bad_public_key(run: RunFn) -> None:
    out = run(API, "bad_key")
    assert out.error is not None and "invalid public key" in out.error.message


def test_a_returned_near_promise_is_promise_return(run: RunFn) -> None:
    out = run(API, "returned")
    assert out.error is None, out.error
    assert out.returned_promise == 1 and out.return_data is None


def test_promise_return(run: RunFn) -> None:
    out = run(API, "return_twice")
    assert out.error is None and out.returned_promise == 0


def test_promise_return_before_an_await_is_refused(run: RunFn) -> None:
    out = run(API, "return_before_await")
    assert out.error is not None and out.error.kind == "JSException"
    assert "promiseReturn was called before an await" in out.error.message
    assert out.suspension is None and out.receipts == ()


def test_results_count_outside_a_callback(run: RunFn) -> None:
    assert run(API, "no_results").return_data == b"0"


def test_yield_create(run: RunFn) -> None:
    out = run(API, "yield_create")
    assert out.error is None, out.error
    assert out.return_data == b'{"index":0,"id":32,"frozen":true}'
    (receipt,) = out.receipts
    assert receipt.yield_data_id is not None and len(receipt.yield_data_id) == 32


def test_a_look_alike_is_not_a_promise(run: RunFn) -> None:
    out = run(API, "not_a_promise")
    assert out.error is not None and "must be a NearPromise or a promise index" in \
        out.error.message


def test_promise_and_needs_a_promise(run: RunFn) -> None:
    out = run(API, "empty_and")
    assert out.error is not None and "needs at least one promise" in out.error.message


def test_near_promise_prototype_is_frozen(run: RunFn) -> None:
    src = """
    export function f() {
      const p = near.promiseCreate('a.test', 'm', {}, 0, 1);
      const proto = Object.getPrototypeOf(p);
      let replaced = true;
      try { proto.then = () => 1; } catch (e) { replaced = false; }
      return [Object.isFrozen(proto), Object.isFrozen(proto.then), replaced,
              Object.keys(p), p.index];
    }
    """
    out = run(src, "f")
    assert out.return_data == b'[true,true,false,["index"],0]'
