// Cross-contract counter: increment three counters (examples/counter.js) at once and sum
// what they return.
//
// `sum` is callback style: three promiseCreate, one promiseAnd over them, one promiseThen
// to this contract's `on_sum`, which reads the three results in promise order (whatever
// order they arrived in) and sees a failed counter as status 'failed'.
// `sum_await` does the same with `await near.promiseAnd(...)`: an array of the three
// values, or an exception if any counter failed.
//
//   sum({counters: ["c1.test", "c2.test", "c3.test"]})        -> {total, values, failed}
//   sum_await({counters: [...]})                               -> {total, values}
//   get_total()                                                -> the last total (a view)

const GAS = 10_000_000_000_000n; // 10 Tgas per counter

function counterList(counters) {
  if (!Array.isArray(counters) || counters.length === 0) {
    near.panic('counters must be a non-empty array of account ids');
  }
  return counters;
}

export function sum({ counters }) {
  const calls = counterList(counters).map(
    (c) => near.promiseCreate(c, 'increment', {}, 0, GAS));
  return near.promiseThen(near.promiseAnd(...calls), near.currentAccountId(), 'on_sum',
    { counters }, 0, GAS);
}

export function on_sum({ counters }) {
  if (near.predecessorAccountId() !== near.currentAccountId()) {
    near.panic('on_sum is a callback: only the contract itself may call it');
  }
  let total = 0;
  const values = [];
  const failed = [];
  for (let i = 0; i < near.promiseResultsCount(); i += 1) {
    const r = near.promiseResult(i);
    if (r.status === 'successful') {
      const v = JSON.parse(r.value);
      values.push(v);
      total += v;
    } else {
      values.push(null);
      failed.push(counters[i]);
    }
  }
  near.storageWrite('total', String(total));
  near.log(`sum of ${values.length} counters: ${total}`);
  return { total, values, failed };
}

export async function sum_await({ counters }) {
  const calls = counterList(counters).map(
    (c) => near.promiseCreate(c, 'increment', {}, 0, GAS));
  const values = await near.promiseAnd(...calls);
  const total = values.reduce((a, b) => a + b, 0);
  near.storageWrite('total', String(total));
  return { total, values };
}

export function get_total() {
  return Number(near.storageRead('total') || '0');
}
