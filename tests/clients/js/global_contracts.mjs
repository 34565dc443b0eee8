// near-api-js, unmodified, against a live `outlayer serve`: global contracts (NEP-591).
//   node global_contracts.mjs <rpc url> <key file of test.near> <contract file>
// test.near creates lib.<it>, byhash.<it> and byaccount.<it>; lib deploys the contract as
// a global contract under its code hash and under its own account id
// (deployGlobalContract); byhash and byaccount use one each (useGlobalContract), then they
// are called and viewed like accounts with their own code, and the global code is read back
// (viewGlobalContractCode). Using an identifier nothing is deployed under fails. Prints one
// JSON report.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { Account, JsonRpcProvider, KeyPair, nearToYocto } from "near-api-js";

const [url, keyFile, contractFile] = process.argv.slice(2);
const credentials = JSON.parse(readFileSync(keyFile, "utf8"));
const provider = new JsonRpcProvider({ url }, { retries: 1 });
const funder = new Account(credentials.account_id, provider, credentials.private_key);
const code = new Uint8Array(readFileSync(contractFile));

async function made(name, near) {
  const key = KeyPair.fromRandom("ed25519");
  const id = `${name}.${credentials.account_id}`;
  await funder.createAccount({ newAccountId: id, publicKey: key.getPublicKey(),
                               nearToTransfer: nearToYocto(near) });
  return new Account(id, provider, key.toString());
}

const lib = await made("lib", 20);
const byHash = await made("byhash", 5);
const byAccount = await made("byaccount", 5);
const report = { lib: lib.accountId, by_hash: byHash.accountId,
                 by_account: byAccount.accountId };

const libBefore = BigInt((await provider.viewAccount({ accountId: lib.accountId,
  blockQuery: { finality: "final" } })).amount);
report.deploy_hash_status = (await lib.deployGlobalContract(code, "codeHash")).status;
report.deploy_account_status = (await lib.deployGlobalContract(code, "accountId")).status;
report.lib_spent = (libBefore - BigInt((await provider.viewAccount({ accountId: lib.accountId,
  blockQuery: { finality: "final" } })).amount)).toString();

const hashHex = createHash("sha256").update(code).digest("hex");
report.use_hash_status = (await byHash.useGlobalContract({ codeHash: hashHex })).status;
report.use_account_status =
  (await byAccount.useGlobalContract({ accountId: lib.accountId })).status;

for (const [name, account] of [["by_hash", byHash], ["by_account", byAccount]]) {
  const view = await provider.viewAccount({ accountId: account.accountId,
                                            blockQuery: { finality: "final" } });
  report[`${name}_view`] = view;
  await account.callFunction({ contractId: account.accountId, methodName: "increment",
                               args: {} });
  report[`${name}_count`] = await provider.callFunction({ contractId: account.accountId,
                                                         method: "get_count", args: {} });
  const viewed = await provider.viewContractCode({ contractId: account.accountId,
                                                   blockQuery: { finality: "final" } });
  report[`${name}_code_hash`] = viewed.hash;
  report[`${name}_code_size`] = viewed.code.length;
}
report.global_by_hash = (await provider.viewGlobalContractCode({
  identifier: { codeHash: report.by_hash_view.global_contract_hash } })).hash;
report.global_by_account = (await provider.viewGlobalContractCode({
  identifier: { accountId: lib.accountId } })).code.length;
try {
  await byHash.useGlobalContract({ accountId: `nobody.${credentials.account_id}` });
  report.unknown_error = null;
} catch (e) {
  report.unknown_error = e.constructor.name + ": " + e.message;
}
console.log(JSON.stringify(report, (_, v) => (typeof v === "bigint" ? v.toString() : v)));
