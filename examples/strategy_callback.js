// A DeFi strategy, callback style: "zap" single-token liquidity into an AMM pool.
//
// The roadmap's strategy (pool: examples/amm_pool.js): query the pool, compute the
// optimal swap, swap, add the liquidity. Each step is a cross-contract call whose result
// arrives in a callback of this contract (promiseThen to itself), the way NEAR contracts
// are usually written; strategy_await.js is the same strategy with `await`.
//
// The optimal swap: to add `amount` of A as liquidity, swap s of it for B first so that
// what is left (amount - s of A, and the B received) has exactly the pool's new ratio.
// With reserve R of A and fee f, s = (sqrt(R^2 (2 - f)^2 + 4 (1 - f) amount R)
// - R (2 - f)) / (2 (1 - f)), computed here in integers (f = fee_bps / 10000).
//
//   zap({pool, amount, slippage_bps?})     -> {swapped, received, shares}
//   last_zap()                             -> the last zap's record (a view)
//
// The strategy's tokens live in the pool's ledger (amm_pool.js deposit); it pays nothing
// itself. Callbacks refuse other callers (predecessor must be this account).

const GAS = 20_000_000_000_000n; // 20 Tgas per pool call
const CALLBACK_GAS = 120_000_000_000_000n; // a callback and the calls it makes
const BPS = 10000n;

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

function optimalSwap(amount, reserveIn, feeBps) {
  const f = BigInt(feeBps);
  const b = reserveIn * (2n * BPS - f);
  const disc = b * b + 4n * (BPS - f) * BPS * amount * reserveIn;
  return (isqrt(disc) - b) / (2n * (BPS - f));
}

function amountOut(amountIn, reserveIn, reserveOut, feeBps) {
  const inWithFee = amountIn * (BPS - BigInt(feeBps));
  return (inWithFee * reserveOut) / (reserveIn * BPS + inWithFee);
}

function onlySelf() {
  if (near.predecessorAccountId() !== near.currentAccountId()) {
    near.panic('this is a callback: only the contract itself may call it');
  }
}

// The one result of the call a callback waits for; panics with `what` if it failed.
function resultOf(what) {
  const r = near.promiseResult(0);
  if (r.status !== 'successful') near.panic(`${what} failed`);
  return JSON.parse(r.value);
}

export function zap({ pool, amount, slippage_bps = 50 }) {
  if (!/^[0-9]{1,39}$/.test(amount)) near.panic('amount must be a u128 decimal string');
  const query = near.promiseCreate(pool, 'get_pool_info', {}, 0, GAS);
  return near.promiseThen(query, near.currentAccountId(), 'on_pool_info',
    { pool, amount, slippage_bps }, 0, CALLBACK_GAS * 2n);
}

export function on_pool_info({ pool, amount, slippage_bps }) {
  onlySelf();
  const info = resultOf(`get_pool_info on ${pool}`);
  const total = BigInt(amount);
  const reserveA = BigInt(info.reserve_a);
  const reserveB = BigInt(info.reserve_b);
  const swapIn = optimalSwap(total, reserveA, info.fee_bps);
  const expected = amountOut(swapIn, reserveA, reserveB, info.fee_bps);
  const minOut = (expected * (BPS - BigInt(slippage_bps))) / BPS;
  near.log(`zap: swapping ${swapIn} of ${total} A (expecting ${expected} B)`);
  const swap = near.promiseCreate(pool, 'swap',
    { token_in: 'A', amount_in: swapIn.toString(), min_amount_out: minOut.toString() }, 0, GAS);
  return near.promiseThen(swap, near.currentAccountId(), 'on_swapped',
    { pool, amount, swapped: swapIn.toString() }, 0, CALLBACK_GAS);
}

export function on_swapped({ pool, amount, swapped }) {
  onlySelf();
  const received = resultOf(`the swap on ${pool}`);
  const rest = BigInt(amount) - BigInt(swapped);
  const add = near.promiseCreate(pool, 'add_liquidity',
    { amount_a: rest.toString(), amount_b: received }, 0, GAS);
  return near.promiseThen(add, near.currentAccountId(), 'on_added',
    { pool, swapped, received }, 0, GAS);
}

export function on_added({ pool, swapped, received }) {
  onlySelf();
  const shares = resultOf(`add_liquidity on ${pool}`);
  const record = { pool, swapped, received, shares };
  near.storageWrite('last_zap', JSON.stringify(record));
  return { swapped, received, shares };
}

export function last_zap() {
  return JSON.parse(near.storageRead('last_zap') || 'null');
}
