// near-workspaces' own test template, unmodified: `Worker.init()` on its default "sandbox"
// network, one Worker (one chain) per test. Run it with NEAR_SANDBOX_BIN_PATH=1 and
// NEAR_SANDBOX_BINARY_PATH=<tests/clients/workspaces/bin>, whose near-sandbox runs
// `outlayer serve`. The `before` hook refuses to go on without that launcher, so nothing
// ever tries to download near-sandbox.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { Worker } from "near-workspaces";

const COUNTER_JS = fileURLToPath(new URL("../../../../examples/counter.js", import.meta.url));

test.before(() => {
  const dir = process.env.NEAR_SANDBOX_BINARY_PATH;
  if (!process.env.NEAR_SANDBOX_BIN_PATH || !dir || !existsSync(join(dir, "near-sandbox"))) {
    throw new Error("set NEAR_SANDBOX_BIN_PATH=1 and NEAR_SANDBOX_BINARY_PATH to the folder of "
                    + "OutLayer's near-sandbox launcher (tests/clients/workspaces/bin)");
  }
});

test.beforeEach(async (t) => {
  const worker = t.context.worker = await Worker.init();
  const root = worker.rootAccount;
  const contract = await root.createSubAccount("test-account");
  await contract.deploy(COUNTER_JS);
  t.context.accounts = { root, contract };
});

test.afterEach.always(async (t) => {
  await t.context.worker.tearDown().catch((error) => {
    console.log("Failed to stop the Sandbox:", error);
  });
});

test("the root is test.near of a chain of its own", async (t) => {
  const { root, contract } = t.context.accounts;
  t.is(root.accountId, "test.near");
  t.is(contract.accountId, "test-account.test.near");
  const alice = await root.createSubAccount("alice");
  t.is((await alice.balance()).total, (100n * 10n ** 24n).toString(), "100 NEAR by default");
});

test("increments, then views", async (t) => {
  const { root, contract } = t.context.accounts;
  t.is(await root.call(contract, "increment", {}), 1);
  t.is(await contract.view("get_count", {}), 1);
});

test("a second test starts from a fresh chain", async (t) => {
  const { root, contract } = t.context.accounts;
  t.is(await contract.view("get_count", {}), 0);
  await contract.patchState("count", "9");
  t.is(await root.call(contract, "increment", {}), 10);
});
