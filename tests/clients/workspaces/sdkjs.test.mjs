// A near-sdk-js contract (examples/sdkjs/counter.ts, bundled by `outlayer build`) through
// near-workspaces, against `outlayer serve`. OUTLAYER_SDKJS_COUNTER: the bundle's path.
import test from "ava";
import { TransactionError } from "near-workspaces";
import { outlayerWorker } from "./outlayer.mjs";

const BUNDLE = process.env.OUTLAYER_SDKJS_COUNTER;

test.before(() => {
  if (!BUNDLE) {
    throw new Error("set OUTLAYER_SDKJS_COUNTER to the bundle of examples/sdkjs/counter.ts "
                    + "(`outlayer build examples/sdkjs/counter.ts`)");
  }
});

test.beforeEach(async (t) => {
  const worker = t.context.worker = await outlayerWorker();
  const root = worker.rootAccount;
  t.context.root = root;
  t.context.counter = await root.devDeploy(BUNDLE, { method: "init", args: { start: 5 } });
  t.context.alice = await root.createSubAccount("alice");
});

test.afterEach.always(async (t) => {
  await t.context.worker?.tearDown();
});

test("devDeploy with an init call; call and view go through the decorators", async (t) => {
  const { root, counter, alice } = t.context;
  t.is(await counter.view("get_count", {}), 5);
  t.is(await alice.call(counter, "increment", { by: 2 }), 7);
  const result = await alice.callRaw(counter, "increment", {});
  t.deepEqual(result.logs, ["count is now 8"]);
  const state = JSON.parse((await counter.viewState()).getRaw("STATE").toString());
  t.deepEqual(state, { count: 8, owner: root.accountId });
});

test("a contract panic is a TransactionError with the contract's message", async (t) => {
  const { counter, alice } = t.context;
  await counter.patchState("STATE", JSON.stringify({ count: 0, owner: alice.accountId }));
  t.is(await counter.view("get_count"), 0);
  const error = await t.throwsAsync(alice.call(counter, "decrement", {}),
                                    { instanceOf: TransactionError });
  t.regex(error.message, /the count is already 0/);
  t.is(await counter.view("get_count"), 0);
});

test("a private method refuses other callers and accepts the contract itself", async (t) => {
  const { counter, alice } = t.context;
  const refused = await alice.callRaw(counter, "reset", {});
  t.true(refused.failed);
  t.regex(JSON.stringify(refused.Failure), /private/i);
  t.is(await counter.view("get_count"), 5);
  t.true((await counter.callRaw(counter, "reset", {})).succeeded);
  t.is(await counter.view("get_count"), 0);
});
