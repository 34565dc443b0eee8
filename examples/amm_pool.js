// An AMM pool: two tokens, constant product (x * y = k), a swap fee, liquidity shares.
//
// The roadmap's DeFi example, the pool half (strategy_callback.js and strategy_await.js
// are the strategy that trades with it). All math is integer math in BigInt on u128
// amounts, which cross JSON as decimal strings.
//
// Tokens are balances kept by the pool itself ("the pool's ledger"): `deposit` credits the
// caller (a stand-in for NEP-141 ft_transfer_call, which would need a token contract),
// `withdraw` debits it. A swap or add_liquidity spends the caller's ledger balance.
//
// Storage (UTF-8 text):
//   "pool"               -> JSON {reserve_a, reserve_b, total_shares, fee_bps}
//   "b:<token>:<acct>"   -> the account's ledger balance of token A or B (u128 decimal)
//   "s:<acct>"           -> the account's liquidity shares (u128 decimal)
//
//   outlayer deploy pool.test examples/amm_pool.js
//   outlayer call pool.test new --args '{"fee_bps": 30}'
//   outlayer call pool.test deposit --args '{"token": "A", "amount": "1000000"}'

const TOKENS = ['A', 'B'];
const BPS = 10000n;

// --- helpers --------------------------------------------------------------------------

function u128(value, name) {
  if (typeof value !== 'string' || !/^[0-9]{1,39}$/.test(value)) {
    near.panic(`${name} must be a u128 as a decimal string, got ${JSON.stringify(value)}`);
  }
  return BigInt(value);
}

function token(value) {
  if (!TOKENS.includes(value)) near.panic(`unknown token ${JSON.stringify(value)}`);
  return value;
}

function other(t) {
  return t === 'A' ? 'B' : 'A';
}

function readPool() {
  const raw = near.storageRead('pool');
  if (raw === null) near.panic('the pool is not initialized: call new first');
  const p = JSON.parse(raw);
  return {
    reserve_a: BigInt(p.reserve_a),
    reserve_b: BigInt(p.reserve_b),
    total_shares: BigInt(p.total_shares),
    fee_bps: BigInt(p.fee_bps),
  };
}

function writePool(p) {
  near.storageWrite('pool', JSON.stringify({
    reserve_a: p.reserve_a.toString(),
    reserve_b: p.reserve_b.toString(),
    total_shares: p.total_shares.toString(),
    fee_bps: p.fee_bps.toString(),
  }));
}

function balance(t, account) {
  return BigInt(near.storageRead(`b:${t}:${account}`) || '0');
}

function setBalance(t, account, amount) {
  if (amount === 0n) near.storageRemove(`b:${t}:${account}`);
  else near.storageWrite(`b:${t}:${account}`, amount.toString());
}

function spend(t, account, amount) {
  const have = balance(t, account);
  if (have < amount) near.panic(`${account} has ${have} ${t} in the pool's ledger, needs ${amount}`);
  setBalance(t, account, have - amount);
}

function shares(account) {
  return BigInt(near.storageRead(`s:${account}`) || '0');
}

// Integer square root (Newton's method): the largest r with r * r <= n.
function isqrt(n) {
  if (n < 2n) return n;
  let x = n;
  let y = (x + 1n) / 2n;
  while (y < x) {
    x = y;
    y = (x + n / x) / 2n;
  }
  return x;
}

// Constant product with the fee taken from the input: out = in' * R_out / (R_in + in'),
// in' = in * (1 - fee). Rounded down, so k never decreases.
function amountOut(amountIn, reserveIn, reserveOut, feeBps) {
  const inWithFee = amountIn * (BPS - feeBps);
  return (inWithFee * reserveOut) / (reserveIn * BPS + inWithFee);
}

// --- methods --------------------------------------------------------------------------

export function new_({ fee_bps = 30 } = {}) {
  if (near.storageRead('pool') !== null) near.panic('the pool is already initialized');
  if (!Number.isInteger(fee_bps) || fee_bps < 0 || fee_bps >= 10000) {
    near.panic('fee_bps must be an integer from 0 to 9999');
  }
  writePool({ reserve_a: 0n, reserve_b: 0n, total_shares: 0n, fee_bps: BigInt(fee_bps) });
}
export { new_ as new };

export function get_pool_info() {
  const p = readPool();
  return {
    token_a: 'A',
    token_b: 'B',
    reserve_a: p.reserve_a.toString(),
    reserve_b: p.reserve_b.toString(),
    total_shares: p.total_shares.toString(),
    fee_bps: Number(p.fee_bps),
  };
}

export function balance_of({ account_id, token: t }) {
  return balance(token(t), account_id).toString();
}

export function shares_of({ account_id }) {
  return shares(account_id).toString();
}

// The ledger's faucet: credits the caller (stands in for receiving NEP-141 tokens).
export function deposit({ token: t, amount }) {
  const caller = near.predecessorAccountId();
  const value = u128(amount, 'amount');
  setBalance(token(t), caller, balance(t, caller) + value);
  return balance(t, caller).toString();
}

export function withdraw({ token: t, amount }) {
  const caller = near.predecessorAccountId();
  spend(token(t), caller, u128(amount, 'amount'));
  return balance(t, caller).toString();
}

// Adds both tokens from the caller's ledger; returns the shares minted (a decimal string).
// The first provider gets sqrt(a * b) shares; later ones get the smaller of the two
// proportional amounts (so unbalanced liquidity is a gift to the pool).
export function add_liquidity({ amount_a, amount_b }) {
  const caller = near.predecessorAccountId();
  const a = u128(amount_a, 'amount_a');
  const b = u128(amount_b, 'amount_b');
  if (a === 0n || b === 0n) near.panic('add_liquidity needs both amounts above 0');
  const p = readPool();
  let minted;
  if (p.total_shares === 0n) {
    minted = isqrt(a * b);
  } else {
    const byA = (a * p.total_shares) / p.reserve_a;
    const byB = (b * p.total_shares) / p.reserve_b;
    minted = byA < byB ? byA : byB;
  }
  if (minted === 0n) near.panic('the amounts are too small to mint a share');
  spend('A', caller, a);
  spend('B', caller, b);
  p.reserve_a += a;
  p.reserve_b += b;
  p.total_shares += minted;
  writePool(p);
  near.storageWrite(`s:${caller}`, (shares(caller) + minted).toString());
  near.log(`${caller} added ${a} A + ${b} B for ${minted} shares`);
  return minted.toString();
}

// Swaps `amount_in` of `token_in` from the caller's ledger; fails (nothing changes) when
// the output would be below `min_amount_out`. Returns the output amount (decimal string).
export function swap({ token_in, amount_in, min_amount_out = '0' }) {
  const caller = near.predecessorAccountId();
  const tIn = token(token_in);
  const tOut = other(tIn);
  const amount = u128(amount_in, 'amount_in');
  const minOut = u128(min_amount_out, 'min_amount_out');
  const p = readPool();
  const reserveIn = tIn === 'A' ? p.reserve_a : p.reserve_b;
  const reserveOut = tIn === 'A' ? p.reserve_b : p.reserve_a;
  if (reserveIn === 0n || reserveOut === 0n) near.panic('the pool has no liquidity');
  const out = amountOut(amount, reserveIn, reserveOut, p.fee_bps);
  if (out === 0n) near.panic('amount_in is too small: the output rounds to 0');
  if (out < minOut) near.panic(`slippage: the swap gives ${out} ${tOut}, below min_amount_out ${minOut}`);
  spend(tIn, caller, amount);
  setBalance(tOut, caller, balance(tOut, caller) + out);
  if (tIn === 'A') {
    p.reserve_a += amount;
    p.reserve_b -= out;
  } else {
    p.reserve_b += amount;
    p.reserve_a -= out;
  }
  writePool(p);
  near.log(`${caller} swapped ${amount} ${tIn} for ${out} ${tOut}`);
  return out.toString();
}
