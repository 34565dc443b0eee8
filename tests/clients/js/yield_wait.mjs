// near-api-js, unmodified, against a live `outlayer serve --tx-timeout N`: a call that
// waits on a yield (examples/offchain_oracle.js `request_work`) resolves to the resumed
// value once the operator answers; unanswered, it fails with TransactionTimeoutError.
//   node yield_wait.mjs <rpc url> <key file of test.near> <offchain_oracle.js>
import { readFileSync } from "node:fs";
import { Account, JsonRpcProvider } from "near-api-js";

const [url, keyFile, contractFile] = process.argv.slice(2);
const credentials = JSON.parse(readFileSync(keyFile, "utf8"));
const provider = new JsonRpcProvider({ url }, { retries: 1 });
const root = new Account(credentials.account_id, provider, credentials.private_key);
const self = credentials.account_id;
const GAS = 100_000_000_000_000n;

async function failure(fn) {
  try { await fn(); return null; } catch (e) { return e.constructor.name + ": " + e.message; }
}

const report = {};
await root.deployContract(new Uint8Array(readFileSync(contractFile)));
await root.callFunction({ contractId: self, methodName: "init", args: { operator: self } });

// the request waits (default waitUntil EXECUTED_OPTIMISTIC) while the operator answers
const request = root.callFunction({
  contractId: self, methodName: "request_work", args: { task: "js" }, gas: GAS });
let waiting = [];
const deadline = Date.now() + 30_000;
while (waiting.length === 0 && Date.now() < deadline) {
  waiting = await provider.callFunction({ contractId: self, method: "pending", args: {} });
  if (waiting.length === 0) await new Promise((r) => setTimeout(r, 20));
}
report.resume = await root.callFunction({ contractId: self, methodName: "submit_result",
  args: { data_id: waiting[0].data_id, payload: { answer: 42 } }, gas: GAS });
report.resumed = await request;

// nobody answers this one
report.timeout = await failure(() => root.callFunction({
  contractId: self, methodName: "request_work", args: { task: "never" }, gas: GAS }));
console.log(JSON.stringify(report));
