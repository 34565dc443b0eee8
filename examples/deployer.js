// A contract that deploys another contract: creates a sub-account, funds it, gives it a
// key, deploys code into it and initializes it, in one batch (one receipt: all of it
// happens or none of it does), then records the outcome in a callback.
//
//   set_code({code})                 store the JS source to deploy (owner only)
//   create_child({name, amount, public_key?, init_method?, init_args?})
//                                    -> {account_id, ok} once the batch has run
//   children()                       -> the sub-accounts made so far (a view)
//
// The batch to `<name>.<this account>`: CreateAccount, Transfer(amount) (the child must
// hold enough to stake its storage: 10^19 yoctoNEAR per byte, code included),
// AddKeyWithFullAccess(public_key) if given, DeployContract(code), and
// FunctionCall(init_method, init_args) if given. Only a direct sub-account can be created
// this way, and only by its parent (NEAR's rule).

const INIT_GAS = 20_000_000_000_000n;
const CALLBACK_GAS = 10_000_000_000_000n;

function owner() {
  return near.storageRead('owner') || near.currentAccountId();
}

export function set_code({ code }) {
  if (near.predecessorAccountId() !== owner()) near.panic('only the owner may set the code');
  if (typeof code !== 'string' || code.length === 0) near.panic('code must be JS source text');
  near.storageWrite('code', code);
  return code.length;
}

export function create_child({ name, amount, public_key, init_method, init_args }) {
  if (near.predecessorAccountId() !== owner()) near.panic('only the owner may deploy');
  const code = near.storageRead('code');
  if (code === null) near.panic('no code to deploy: call set_code first');
  if (!/^[a-z0-9_-]+$/.test(name)) near.panic('name must be one account-id label');
  const child = `${name}.${near.currentAccountId()}`;

  const batch = near.promiseBatchCreate(child);
  near.promiseBatchActionCreateAccount(batch);
  near.promiseBatchActionTransfer(batch, amount);
  if (public_key) near.promiseBatchActionAddKeyWithFullAccess(batch, public_key, 0);
  near.promiseBatchActionDeployContract(batch, code);
  if (init_method) {
    near.promiseBatchActionFunctionCall(batch, init_method, init_args || {}, 0, INIT_GAS);
  }
  return near.promiseThen(batch, near.currentAccountId(), 'on_child', { child }, 0,
    CALLBACK_GAS);
}

export function on_child({ child }) {
  if (near.predecessorAccountId() !== near.currentAccountId()) {
    near.panic('on_child is a callback: only the contract itself may call it');
  }
  const ok = near.promiseResult(0).status === 'successful';
  if (ok) {
    const list = JSON.parse(near.storageRead('children') || '[]');
    list.push(child);
    near.storageWrite('children', JSON.stringify(list));
  }
  near.log(ok ? `deployed ${child}` : `deploying ${child} failed`);
  return { account_id: child, ok };
}

export function children() {
  return JSON.parse(near.storageRead('children') || '[]');
}
