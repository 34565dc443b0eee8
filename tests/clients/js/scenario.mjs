// near-api-js, unmodified, against a live `outlayer serve`:
//   node scenario.mjs <rpc url> <key file of test.near> <contract file>
// Creates a sub-account, deploys the JS contract to it, calls, views, reads its state and
// the transaction outcome, and checks the errors a client sees; prints one JSON report.
import { readFileSync } from "node:fs";
import { Account, JsonRpcProvider, KeyPair, nearToYocto } from "near-api-js";

const [url, keyFile, contractFile] = process.argv.slice(2);
const credentials = JSON.parse(readFileSync(keyFile, "utf8"));
const provider = new JsonRpcProvider({ url }, { retries: 1 });
const root = new Account(credentials.account_id, provider, credentials.private_key);

const report = {};
const status = await provider.viewNodeStatus();
report.chain_id = status.chain_id;

const appKey = KeyPair.fromRandom("ed25519");
const appId = `app.${credentials.account_id}`;
const created = await root.createAccount({
  newAccountId: appId, publicKey: appKey.getPublicKey(), nearToTransfer: nearToYocto(50),
});
report.create_status = created.status;

const app = new Account(appId, provider, appKey.toString());
const deployed = await app.deployContract(new Uint8Array(readFileSync(contractFile)));
report.deploy_status = deployed.status;

const first = await root.callFunction({ contractId: appId, methodName: "increment", args: {} });
const raw = await root.callFunctionRaw({ contractId: appId, methodName: "increment", args: {} });
report.call_results = [first, JSON.parse(Buffer.from(raw.status.SuccessValue, "base64"))];
report.call_logs = raw.receipts_outcome.flatMap((o) => o.outcome.logs);

report.view = await provider.callFunction({ contractId: appId, method: "get_count", args: {} });
const state = await app.getContractState();
report.state = state.values.map((v) => [Buffer.from(v.key, "base64").toString(),
                                        Buffer.from(v.value, "base64").toString()]);
const code = await app.getContractCode();
report.code_size = code.code.length;

const txHash = raw.transaction_outcome.id;
const fetched = await provider.viewTransactionStatus({ txHash, accountId: credentials.account_id });
report.tx_status = fetched.status;
report.tx_signer = fetched.transaction.signer_id;
const withReceipts = await provider.viewTransactionStatusWithReceipts({
  txHash, accountId: credentials.account_id });
report.tx_receipts = withReceipts.receipts.length;

const appState = await app.getState();
report.app_balance_total = appState.balance.total.toString();
report.keys = (await app.getAccessKeyList()).keys.map((k) => k.public_key);
report.app_public_key = appKey.getPublicKey().toString();

async function failure(fn) {
  try { await fn(); return null; } catch (e) { return e.constructor.name + ": " + e.message; }
}
report.unknown_account_error = await failure(
  () => provider.viewAccount({ accountId: "nobody.test.near" }));
report.unknown_method_error = await failure(
  () => root.callFunction({ contractId: appId, methodName: "no_such_method", args: {} }));
console.log(JSON.stringify(report));
