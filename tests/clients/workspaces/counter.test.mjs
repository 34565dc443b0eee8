// A near-workspaces suite in its usual shape (ava; a Worker per test; createSubAccount,
// deploy, call, view, viewState, patchState), run against `outlayer serve`: the only
// change from a near-sandbox suite is `outlayerWorker()` for `Worker.init()`.
import { readFileSync } from "node:fs";
import test from "ava";
import { hashContract, ONE_NEAR } from "near-workspaces";
import { example, outlayerWorker } from "./outlayer.mjs";

const COUNTER_JS = example("counter.js");

test.beforeEach(async (t) => {
  const worker = t.context.worker = await outlayerWorker();
  const root = worker.rootAccount;
  const contract = await root.createSubAccount("test-account");
  await contract.deploy(COUNTER_JS);
  t.context.accounts = { root, contract, alice: await root.createSubAccount("alice") };
});

test.afterEach.always(async (t) => {
  await t.context.worker.tearDown().catch((error) => {
    console.log("Failed to stop the Worker:", error);
  });
});

test("increment returns the new count and logs it", async (t) => {
  const { contract, alice } = t.context.accounts;
  t.is(await alice.call(contract, "increment", {}), 1);
  const result = await alice.callRaw(contract, "increment", {});
  t.true(result.succeeded);
  t.deepEqual(result.logs, ["Counter incremented to 2"]);
  t.is(result.parseResult(), 2);
  t.is(await contract.view("get_count", {}), 2);
});

test("viewState reads the contract's storage", async (t) => {
  const { contract, alice } = t.context.accounts;
  await alice.call(contract, "increment", {});
  await alice.call(contract, "decrement", {});
  await alice.call(contract, "decrement", {});
  t.is((await contract.viewState()).getRaw("count").toString(), "-1");
  const raw = await contract.viewStateRaw();
  t.deepEqual(raw.map((r) => Buffer.from(r.key, "base64").toString()), ["count"]);
  t.deepEqual(await contract.viewStateRaw("zz"), []);
});

test("patchState rewrites storage without a transaction", async (t) => {
  const { contract, alice } = t.context.accounts;
  await contract.patchState("count", "41");
  t.is(await contract.view("get_count"), 41);
  t.is(await alice.call(contract, "increment", {}), 42);
});

test("the deployed code is the JS module", async (t) => {
  const { contract } = t.context.accounts;
  const code = readFileSync(COUNTER_JS);
  t.deepEqual(await contract.viewCode(), code);
  t.is((await contract.accountView()).code_hash, hashContract(code));
});

test("an unknown method fails the call with the VM's error", async (t) => {
  const { contract, alice } = t.context.accounts;
  const result = await alice.callRaw(contract, "no_such_method", {});
  t.true(result.failed);
  t.regex(JSON.stringify(result.Failure), /MethodNotFound/);
  await t.throwsAsync(alice.call(contract, "no_such_method", {}));
});

test("each Worker has a root of its own", async (t) => {
  const { root } = t.context.accounts;
  t.regex(root.accountId, /^w-[0-9a-f]{16}\.test\.near$/);
  t.is((await root.getAccount(`alice.${root.accountId}`).balance()).total,
       (100n * 10n ** 24n).toString(), "new accounts get 100 NEAR, as on near-sandbox");
});

test("Workers started together get roots of their own", async (t) => {
  const workers = await Promise.all(
    Array.from({ length: 12 }, () => outlayerWorker({ rootBalance: 10n * ONE_NEAR })));
  const roots = workers.map((worker) => worker.rootAccount);
  t.is(new Set(roots.map((root) => root.accountId)).size, roots.length);
  for (const root of roots) {
    t.true(await root.exists());
  }
});
