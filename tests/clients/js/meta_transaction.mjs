// near-api-js, unmodified, against a live `outlayer serve`: a meta-transaction (NEP-366).
//   node meta_transaction.mjs <rpc url> <key file of test.near> <contract file>
// test.near deploys the contract to app.<it> and creates user.<it>; the user signs a delegate
// action calling `increment` (createSignedMetaTransaction), test.near relays it
// (relayMetaTransaction) and pays; relaying the same one again is refused. Prints one JSON
// report.
import { readFileSync } from "node:fs";
import { Account, JsonRpcProvider, KeyPair, actions, nearToYocto } from "near-api-js";

const [url, keyFile, contractFile] = process.argv.slice(2);
const credentials = JSON.parse(readFileSync(keyFile, "utf8"));
const provider = new JsonRpcProvider({ url }, { retries: 1 });
const relayer = new Account(credentials.account_id, provider, credentials.private_key);

const appKey = KeyPair.fromRandom("ed25519");
const appId = `app.${credentials.account_id}`;
await relayer.createAccount({
  newAccountId: appId, publicKey: appKey.getPublicKey(), nearToTransfer: nearToYocto(20),
});
const app = new Account(appId, provider, appKey.toString());
await app.deployContract(new Uint8Array(readFileSync(contractFile)));

const userKey = KeyPair.fromRandom("ed25519");
const userId = `user.${credentials.account_id}`;
await relayer.createAccount({
  newAccountId: userId, publicKey: userKey.getPublicKey(), nearToTransfer: nearToYocto(5),
});
const user = new Account(userId, provider, userKey.toString());

const report = {};
const userBefore = (await user.getState()).balance.total;
const { signedDelegate } = await user.createSignedMetaTransaction({
  receiverId: appId, actions: [actions.functionCall("increment", {}, 30_000_000_000_000n, 0n)],
});
report.delegate_nonce = signedDelegate.delegateAction.nonce.toString();
const relayed = await relayer.relayMetaTransaction(signedDelegate);
report.status = relayed.status;
report.transaction_action = relayed.transaction.actions[0];
report.executors = relayed.receipts_outcome.map((o) => o.outcome.executor_id);
report.logs = relayed.receipts_outcome.flatMap((o) => o.outcome.logs);
report.count = await provider.callFunction({ contractId: appId, method: "get_count", args: {} });
report.user_balance_unchanged = (await user.getState()).balance.total === userBefore;
report.user_key_nonce = (await user.getAccessKey(userKey.getPublicKey())).nonce.toString();
try {
  await relayer.relayMetaTransaction(signedDelegate);
  report.replay_error = null;
} catch (e) {
  report.replay_error = e.constructor.name + ": " + e.message;
}
console.log(JSON.stringify(report, (_, v) => (typeof v === "bigint" ? v.toString() : v)));
