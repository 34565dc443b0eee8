// State patches through near-workspaces' usual API (updateAccount, updateAccessKey,
// updateContract, patchStateRecords: sandbox_patch_state with Account, AccessKey, Contract
// and Data records), against `outlayer serve`.
import { readFileSync } from "node:fs";
import test from "ava";
import { KeyPairEd25519, ONE_NEAR, hashContract } from "near-workspaces";
import { example, outlayerWorker } from "./outlayer.mjs";

const COUNTER = readFileSync(example("counter.js"));
const STATUS = readFileSync(example("status_message.js"));

test.beforeEach(async (t) => {
  const worker = t.context.worker = await outlayerWorker();
  t.context.root = worker.rootAccount;
  t.context.alice = await worker.rootAccount.createSubAccount("alice",
                                                              { initialBalance: 10n * ONE_NEAR });
});

test.afterEach.always(async (t) => {
  await t.context.worker?.tearDown();
});

/** The Account fields of an account's view (what an Account record carries). */
async function accountFields(account) {
  const { amount, locked, code_hash, storage_usage } = await account.accountView();
  return { amount, locked, code_hash, storage_usage };
}

test("updateAccount changes a balance; the account keeps its key and signs", async (t) => {
  const { root, alice } = t.context;
  await alice.updateAccount({ ...await accountFields(alice), amount: (77n * ONE_NEAR).toString() });
  t.is((await alice.balance()).total, (77n * ONE_NEAR).toString());
  t.true((await alice.transfer(root, ONE_NEAR)).succeeded);
  t.true(BigInt((await alice.balance()).total) < 76n * ONE_NEAR);
});

test("updateAccount makes a new account and updateAccessKey a key it signs with", async (t) => {
  const { root } = t.context;
  const carol = root.getAccount(`carol.${root.accountId}`);
  t.false(await carol.exists());
  await carol.updateAccount({ amount: (5n * ONE_NEAR).toString(), storage_usage: 100 });
  t.true(await carol.exists());
  t.is((await carol.balance()).total, (5n * ONE_NEAR).toString());
  const keyPair = KeyPairEd25519.fromRandom();
  await carol.updateAccessKey(keyPair.getPublicKey(), { nonce: 0, permission: "FullAccess" });
  await carol.setKey(keyPair);
  const key = await carol.viewAccessKey(carol.accountId, keyPair.getPublicKey());
  t.is(key.permission, "FullAccess");
  // the key's storage is counted like an AddKey's
  t.true((await carol.accountView()).storage_usage > 100);
  t.true((await carol.transfer(root, ONE_NEAR)).succeeded);
});

test("updateAccount with only an amount is refused on an account with keys", async (t) => {
  // near-workspaces fills storage_usage 0; near-sandbox would take it and underflow later
  const { alice } = t.context;
  const before = await alice.accountView();
  const error = await t.throwsAsync(alice.updateAccount({ amount: "1" }));
  t.regex(error.message, /records\[0\]\.account\.storage_usage` 0 is less than/);
  t.is((await alice.accountView()).amount, before.amount);
});

test("updateContract re-patches the same code; new code needs its own Account record",
  async (t) => {
    const { alice } = t.context;
    const contract = await alice.devDeploy(example("counter.js"),
                                           { initialBalance: 3n * ONE_NEAR });
    t.is(await alice.call(contract, "increment", {}), 1);
    await contract.updateContract(COUNTER);
    t.is(await contract.view("get_count", {}), 1);
    // near-workspaces' updateContract keeps the view's code_hash: other code fails its check
    const refused = await t.throwsAsync(contract.updateContract(STATUS));
    t.regex(refused.message, /does not equal the hash of the binary/);
    const fields = await accountFields(contract);
    const records = contract.recordBuilder()
      .account({ ...fields, code_hash: hashContract(STATUS),
                 storage_usage: fields.storage_usage - COUNTER.length + STATUS.length })
      .contract(STATUS);
    await contract.patchStateRecords(records);
    t.is((await contract.accountView()).code_hash, hashContract(STATUS));
    t.is(Buffer.from(await contract.viewCodeRaw(), "base64").toString(), STATUS.toString());
    t.is(await alice.call(contract, "set_status", { message: "patched" }), alice.accountId);
    t.is(await contract.view("get_status", { account_id: alice.accountId }), "patched");
    t.is((await contract.viewState()).getRaw("count").toString(), "1");  // storage stays
  });

test("patchStateRecords writes several kinds at once, all or none", async (t) => {
  const { root, alice } = t.context;
  const dave = root.getAccount(`dave.${root.accountId}`);
  const keyPair = KeyPairEd25519.fromRandom();
  const records = dave.recordBuilder()
    .account({ amount: (4n * ONE_NEAR).toString(), code_hash: hashContract(COUNTER),
               storage_usage: 4000 })
    .accessKey(keyPair.getPublicKey())
    .contract(COUNTER)
    .data(Buffer.from("count").toString("base64"), Buffer.from("41").toString("base64"));
  await dave.patchStateRecords(records);
  await dave.setKey(keyPair);
  t.is(await dave.call(dave, "increment", {}), 42);
  t.is(await alice.call(dave, "increment", {}), 43);
  // a receipt record refuses the whole patch, by name
  const before = await alice.accountView();
  const error = await t.throwsAsync(alice.patchStateRecords({ records: [
    { Account: { account_id: alice.accountId,
                 account: { ...await accountFields(alice), amount: "5" } } },
    { DelayedReceipt: {} },
  ] }));
  t.regex(error.message, /DelayedReceipt records cannot be patched/);
  t.is((await alice.accountView()).amount, before.amount);
});
