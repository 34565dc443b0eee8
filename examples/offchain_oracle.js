// Off-chain work with yield/resume (NEP-519): the pattern OutLayer exists for.
//
// A user asks for work (`request_work`); the contract yields: it makes a callback
// (`on_result`) that waits for data nobody on chain has yet, and returns that callback as
// the request's result, so the user's transaction stays open. An off-chain worker reads
// the pending requests, does the work, and the operator account submits the answer
// (`submit_result`), which resumes the yield: `on_result` runs with the payload, stores
// it, and its return value becomes the user's transaction result. Nobody answers within
// 200 blocks: `on_result` runs with a failed result (the timeout) instead.
//
//   init({operator})                       who may submit results
//   request_work({task})                   -> (when resumed) {task, result} or {task, timeout}
//   pending()                              -> [{data_id, task, requester}] (a view)
//   submit_result({data_id, payload})      operator only; -> true if a request was waiting
//   get_result({task})                     -> the stored answer, or null (a view)
//
// Data ids cross JSON as hex strings (near.promiseYieldResume takes hex or a Uint8Array).

const CALLBACK_GAS = 20_000_000_000_000n;

function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

function pendingList() {
  return JSON.parse(near.storageRead('pending') || '[]');
}

export function init({ operator }) {
  if (near.storageRead('operator') !== null) near.panic('already initialized');
  near.storageWrite('operator', operator);
}

export function request_work({ task }) {
  if (typeof task !== 'string' || task.length === 0) near.panic('task must be a string');
  const requester = near.predecessorAccountId();
  const { promise, dataId } = near.promiseYieldCreate('on_result', { task, requester },
    CALLBACK_GAS, 0);
  const list = pendingList();
  list.push({ data_id: hex(dataId), task, requester });
  near.storageWrite('pending', JSON.stringify(list));
  near.log(`request ${hex(dataId)}: ${task}`);
  near.promiseReturn(promise); // the requester's result is on_result's
}

export function pending() {
  return pendingList();
}

export function submit_result({ data_id, payload }) {
  if (near.predecessorAccountId() !== near.storageRead('operator')) {
    near.panic('only the operator may submit results');
  }
  return near.promiseYieldResume(data_id, JSON.stringify(payload));
}

export function on_result({ task, requester }) {
  if (near.predecessorAccountId() !== near.currentAccountId()) {
    near.panic('on_result is a callback: only the contract itself may call it');
  }
  const list = pendingList();
  const at = list.findIndex((r) => r.task === task && r.requester === requester);
  if (at >= 0) list.splice(at, 1);
  near.storageWrite('pending', JSON.stringify(list));
  const r = near.promiseResult(0);
  if (r.status !== 'successful') {
    near.log(`request for ${requester} timed out: ${task}`);
    near.storageWrite(`result:${task}`, JSON.stringify({ timeout: true }));
    return { task, timeout: true };
  }
  const result = JSON.parse(r.value);
  near.storageWrite(`result:${task}`, JSON.stringify({ result }));
  near.log(`result for ${requester}: ${task}`);
  return { task, result };
}

export function get_result({ task }) {
  return JSON.parse(near.storageRead(`result:${task}`) || 'null');
}
