// A DeFi strategy, await style: the same "zap" as strategy_callback.js, written as one
// async method.
//
// Each `await near.promiseCreate(...)` is a real cross-contract call: the method's receipt
// ends there, the call to the pool runs in a later block, and the method resumes in a
// callback receipt of this contract with the pool's return value (JSON-parsed), or with
// an exception when the pool's receipt failed (catch it like any other).
// docs/EXECUTION_MODEL.md ("Await") says what is committed at each await: state written
// before an await is kept even if a later step fails, like state written before a
// callback on NEAR.
//
//   zap({pool, amount, slippage_bps?})     -> {swapped, received, shares}
//   last_zap()                             -> the last zap's record (a view)

const GAS = 20_000_000_000_000n; // 20 Tgas per pool call
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

export async function zap({ pool, amount, slippage_bps = 50 }) {
  if (!/^[0-9]{1,39}$/.test(amount)) near.panic('amount must be a u128 decimal string');
  const total = BigInt(amount);

  const info = await near.promiseCreate(pool, 'get_pool_info', {}, 0, GAS);
  const reserveA = BigInt(info.reserve_a);
  const reserveB = BigInt(info.reserve_b);
  const swapIn = optimalSwap(total, reserveA, info.fee_bps);
  const expected = amountOut(swapIn, reserveA, reserveB, info.fee_bps);
  const minOut = (expected * (BPS - BigInt(slippage_bps))) / BPS;
  near.log(`zap: swapping ${swapIn} of ${total} A (expecting ${expected} B)`);

  const received = await near.promiseCreate(pool, 'swap',
    { token_in: 'A', amount_in: swapIn.toString(), min_amount_out: minOut.toString() }, 0, GAS);

  const shares = await near.promiseCreate(pool, 'add_liquidity',
    { amount_a: (total - swapIn).toString(), amount_b: received }, 0, GAS);

  const record = { pool, swapped: swapIn.toString(), received, shares };
  near.storageWrite('last_zap', JSON.stringify(record));
  return { swapped: record.swapped, received, shares };
}

export function last_zap() {
  return JSON.parse(near.storageRead('last_zap') || 'null');
}
