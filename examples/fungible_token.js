// Fungible token: the core of NEP-141 (plus NEP-148 metadata and NEP-297 events).
//
// Demonstrates: u128 amounts as decimal strings handled with BigInt, attached deposits
// (ft_transfer requires exactly 1 yoctoNEAR, as NEP-141 does), one-time initialization,
// event logs in the NEP-297 format, an async view.
//
// Not covered here: storage registration (NEP-145) and ft_transfer_call, which needs
// cross-contract promises.
//
// Storage layout (UTF-8 text keys and values):
//   "owner_id"         -> the account that received the initial supply
//   "total_supply"     -> u128, decimal; its presence means "initialized"
//   "metadata"         -> JSON of the NEP-148 FungibleTokenMetadata
//   "b:<account_id>"   -> the account's balance, u128 decimal; absent means 0 (a balance
//                         that drops to 0 is removed, freeing its storage)
//
//   outlayer deploy ft.test examples/fungible_token.js
//   outlayer call ft.test new --signer ft.test \
//       --args '{"owner_id": "alice.test", "total_supply": "1000000"}'
//   outlayer call ft.test ft_transfer --signer alice.test --deposit 1 \
//       --args '{"receiver_id": "bob.test", "amount": "250"}'
//   outlayer view ft.test ft_balance_of --args '{"account_id": "bob.test"}'

const U128_MAX = (1n << 128n) - 1n;
const ONE_YOCTO = 1n;
const ACCOUNT_ID = /^(([a-z\d]+[-_])*[a-z\d]+\.)*([a-z\d]+[-_])*[a-z\d]+$/;

const DEFAULT_METADATA = {
  spec: 'ft-1.0.0',
  name: 'OutLayer Example Token',
  symbol: 'OLT',
  icon: null,
  reference: null,
  reference_hash: null,
  decimals: 24,
};

// --- helpers --------------------------------------------------------------------------

function accountId(value, name) {
  if (typeof value !== 'string' || value.length < 2 || value.length > 64 ||
      !ACCOUNT_ID.test(value)) {
    near.panic(`${name} must be a valid NEAR account id, got ${JSON.stringify(value)}`);
  }
  return value;
}

// A u128 given as a decimal string (NEP-141 passes amounts as strings: JSON numbers lose
// precision above 2^53).
function u128(value, name) {
  if (typeof value !== 'string' || !/^[0-9]{1,39}$/.test(value)) {
    near.panic(`${name} must be a string of decimal digits (a u128), ` +
               `got ${JSON.stringify(value)}`);
  }
  const amount = BigInt(value);
  if (amount > U128_MAX) {
    near.panic(`${name} does not fit in a u128`);
  }
  return amount;
}

function optionalMemo(memo) {
  if (memo !== undefined && memo !== null && typeof memo !== 'string') {
    near.panic('memo must be a string or null');
  }
  return typeof memo === 'string' ? memo : null;
}

function assertOneYocto() {
  if (near.attachedDeposit() !== ONE_YOCTO) {
    near.panic('Requires attached deposit of exactly 1 yoctoNEAR');
  }
}

function assertInitialized() {
  if (!near.storageHasKey('total_supply')) {
    near.panic('The contract is not initialized: call new first');
  }
}

function balanceKey(account) {
  return 'b:' + account;
}

function balanceOf(account) {
  const stored = near.storageRead(balanceKey(account));
  return stored === null ? 0n : BigInt(stored);
}

function setBalance(account, amount) {
  if (amount === 0n) {
    near.storageRemove(balanceKey(account));
  } else {
    near.storageWrite(balanceKey(account), amount.toString());
  }
}

// NEP-297: `EVENT_JSON:` + {standard, version, event, data}.
function emit(event, data) {
  near.log('EVENT_JSON:' + JSON.stringify({ standard: 'nep141', version: '1.0.0', event, data }));
}

// --- initialization -------------------------------------------------------------------

// new({owner_id, total_supply, metadata?}): once, by the contract account itself; the whole
// supply goes to owner_id.
function init(args) {
  if (near.storageHasKey('total_supply')) {
    near.panic('The contract is already initialized');
  }
  if (near.predecessorAccountId() !== near.currentAccountId()) {
    near.panic('new can only be called by the contract account itself');
  }
  const owner = accountId(args.owner_id, 'owner_id');
  const supply = u128(args.total_supply, 'total_supply');
  const metadata = args.metadata === undefined ? DEFAULT_METADATA : args.metadata;
  if (metadata === null || typeof metadata !== 'object' || metadata.spec !== 'ft-1.0.0' ||
      typeof metadata.name !== 'string' || typeof metadata.symbol !== 'string' ||
      !Number.isInteger(metadata.decimals) || metadata.decimals < 0 || metadata.decimals > 255) {
    near.panic('metadata must be a NEP-148 object: spec "ft-1.0.0", name, symbol, decimals');
  }
  near.storageWrite('owner_id', owner);
  near.storageWrite('metadata', JSON.stringify(metadata));
  near.storageWrite('total_supply', supply.toString());
  setBalance(owner, supply);
  emit('ft_mint', [{ owner_id: owner, amount: supply.toString(),
                     memo: 'new tokens are minted' }]);
}

// `new` is a reserved word, but a module can still export a function under that name.
export { init as new };

// --- NEP-141 core ---------------------------------------------------------------------

// ft_transfer({receiver_id, amount, memo?}): move `amount` from the caller to receiver_id.
export function ft_transfer(args) {
  assertOneYocto();
  assertInitialized();
  const sender = near.predecessorAccountId();
  const receiver = accountId(args.receiver_id, 'receiver_id');
  if (sender === receiver) {
    near.panic('Sender and receiver should be different');
  }
  const amount = u128(args.amount, 'amount');
  if (amount === 0n) {
    near.panic('The amount should be a positive number');
  }
  const memo = optionalMemo(args.memo);
  const senderBalance = balanceOf(sender);
  if (senderBalance < amount) {
    near.panic(`The account doesn't have enough balance: ${sender} has ${senderBalance}, ` +
               `needs ${amount}`);
  }
  setBalance(sender, senderBalance - amount);
  // cannot overflow: the sum of all balances is the total supply, itself a u128
  setBalance(receiver, balanceOf(receiver) + amount);
  const event = { old_owner_id: sender, new_owner_id: receiver, amount: amount.toString() };
  if (memo !== null) {
    event.memo = memo;
  }
  emit('ft_transfer', [event]);
}

// ft_total_supply() (view): u128 decimal string.
export function ft_total_supply() {
  assertInitialized();
  return near.storageRead('total_supply');
}

// ft_balance_of({account_id}) (view): u128 decimal string ("0" for unknown accounts).
export function ft_balance_of(args) {
  assertInitialized();
  return balanceOf(accountId(args.account_id, 'account_id')).toString();
}

// ft_metadata() (view, NEP-148). Async to show that exported async functions work: the
// runtime drains the job queue and returns the settled value.
export async function ft_metadata() {
  assertInitialized();
  const text = await Promise.resolve(near.storageRead('metadata'));
  return JSON.parse(text);
}
