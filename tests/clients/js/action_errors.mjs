// near-api-js, unmodified, against a live `outlayer serve`: the typed errors it raises for
// transactions and receipts NEAR's action rules refuse.
//   node action_errors.mjs <rpc url> <key file of test.near> <contract file>
// The contract's `bad_promise` creates a function call with no gas. Prints one JSON report
// of "<error class>: <message>" per case.
import { readFileSync } from "node:fs";
import { Account, JsonRpcProvider, actions } from "near-api-js";

const [url, keyFile, contractFile] = process.argv.slice(2);
const credentials = JSON.parse(readFileSync(keyFile, "utf8"));
const provider = new JsonRpcProvider({ url }, { retries: 1 });
const root = new Account(credentials.account_id, provider, credentials.private_key);
const self = credentials.account_id;

async function failure(fn) {
  try { await fn(); return null; } catch (e) { return e.constructor.name + ": " + e.message; }
}

const report = {};
report.delete_not_last = await failure(() => root.signAndSendTransaction({
  receiverId: self, actions: [actions.deleteAccount("beneficiary.near"), actions.transfer(1n)],
}));
report.zero_gas = await failure(() => root.signAndSendTransaction({
  receiverId: self, actions: [actions.functionCall("anything", {}, 0n, 0n)],
}));
report.too_much_gas = await failure(() => root.signAndSendTransaction({
  receiverId: self, actions: [actions.functionCall("a", {}, 300_000_000_000_000n, 0n),
                              actions.functionCall("b", {}, 1n, 0n)],
}));
await root.deployContract(new Uint8Array(readFileSync(contractFile)));
report.new_receipt = await failure(
  () => root.callFunction({ contractId: self, methodName: "bad_promise", args: {} }));
console.log(JSON.stringify(report));
