// Accounts, balances, transfers, deletion, keys, fast-forward and cross-contract calls
// through near-workspaces' usual API, against `outlayer serve`.
import test from "ava";
import { KeyPairEd25519, ONE_NEAR } from "near-workspaces";
import { transactions } from "near-api-js";
import { example, outlayerWorker } from "./outlayer.mjs";

const { functionCallAccessKey } = transactions;

test.beforeEach(async (t) => {
  const worker = t.context.worker = await outlayerWorker();
  const root = worker.rootAccount;
  t.context.root = root;
  t.context.alice = await root.createSubAccount("alice", { initialBalance: 10n * ONE_NEAR });
  t.context.bob = await root.createSubAccount("bob", { initialBalance: 10n * ONE_NEAR });
});

test("sub-accounts exist with their initial balance and the key near-workspaces made",
  async (t) => {
    const { root, alice } = t.context;
    t.is(alice.accountId, `alice.${root.accountId}`);
    t.true(await alice.exists());
    t.false(await root.getAccount(`carol.${root.accountId}`).exists());
    const balance = await alice.balance();
    t.is(balance.total, (10n * ONE_NEAR).toString());
    t.is(BigInt(balance.staked), 0n);
    t.true(BigInt(balance.stateStaked) > 0n);
    t.is(BigInt(balance.available), 10n * ONE_NEAR - BigInt(balance.stateStaked));
    const keys = await alice.viewAccessKeys(alice.accountId);
    t.deepEqual(keys.keys.map((k) => k.public_key),
                [(await alice.getKey()).getPublicKey().toString()]);
    t.is(keys.keys[0].access_key.permission, "FullAccess");
  });

test.afterEach.always(async (t) => {
  await t.context.worker?.tearDown();
});

test("a transfer moves exactly the deposit; the sender also pays gas", async (t) => {
  const { alice, bob } = t.context;
  const aliceBefore = BigInt((await alice.balance()).total);
  const bobBefore = BigInt((await bob.balance()).total);
  const result = await alice.transfer(bob, 3n * ONE_NEAR);
  t.true(result.succeeded);
  t.is(BigInt((await bob.balance()).total), bobBefore + 3n * ONE_NEAR);
  const aliceAfter = BigInt((await alice.balance()).total);
  t.true(aliceAfter < aliceBefore - 3n * ONE_NEAR, "gas is paid on top of the deposit");
  t.true(aliceAfter > aliceBefore - 3n * ONE_NEAR - ONE_NEAR / 100n);
});

test("a transfer over the balance is refused and moves nothing", async (t) => {
  const { alice, bob } = t.context;
  const bobBefore = (await bob.balance()).total;
  const error = await t.throwsAsync(alice.transfer(bob, 1000n * ONE_NEAR));
  t.regex(error.message, /does not have enough balance/);
  t.is((await bob.balance()).total, bobBefore);
});

test("account.delete sends what is left to the beneficiary", async (t) => {
  const { alice, bob } = t.context;
  const bobBefore = BigInt((await bob.balance()).total);
  const result = await alice.delete(bob.accountId);
  t.true(result.succeeded);
  t.false(await alice.exists());
  const gained = BigInt((await bob.balance()).total) - bobBefore;
  t.true(gained > 9n * ONE_NEAR && gained < 10n * ONE_NEAR, `bob gained ${gained}`);
  t.is(await alice.getKey(), null, "near-workspaces forgets the deleted account's key");
});

test("createSubAccount with a given key pair signs with it", async (t) => {
  const { root } = t.context;
  const keyPair = KeyPairEd25519.fromRandom();
  const carol = await root.createSubAccount("carol", { keyPair, initialBalance: ONE_NEAR });
  const key = await carol.viewAccessKey(carol.accountId, keyPair.getPublicKey());
  t.is(key.permission, "FullAccess");
  t.true((await carol.transfer(root, ONE_NEAR / 10n)).succeeded);
});

test("a batch adds a function-call key and deletes it", async (t) => {
  const { alice, bob } = t.context;
  const keyPair = KeyPairEd25519.fromRandom();
  const added = await alice.batch(alice)
    .addKey(keyPair.getPublicKey(), functionCallAccessKey(bob.accountId, ["increment"], ONE_NEAR))
    .transact();
  t.true(added.succeeded);
  const key = await alice.viewAccessKey(alice.accountId, keyPair.getPublicKey());
  t.deepEqual(key.permission, { FunctionCall: {
    allowance: ONE_NEAR.toString(), receiver_id: bob.accountId, method_names: ["increment"] } });
  t.is((await alice.viewAccessKeys(alice.accountId)).keys.length, 2);
  t.true((await alice.batch(alice).deleteKey(keyPair.getPublicKey()).transact()).succeeded);
  t.is((await alice.viewAccessKeys(alice.accountId)).keys.length, 1);
});

test("fastForward moves the chain ahead; contracts see the new height", async (t) => {
  const { worker } = t.context;
  const { alice } = t.context;
  const voting = await alice.devDeploy(example("voting.js"), { initialBalance: 5n * ONE_NEAR });
  const question = { question: "Tabs or spaces?", options: ["tabs", "spaces"] };
  t.is(await alice.call(voting, "create_poll", question), 1);
  const before = (await worker.provider.block({ finality: "final" })).header;
  await worker.provider.fastForward(1000);
  const after = (await worker.provider.block({ finality: "final" })).header;
  t.true(after.height >= before.height + 1000, `${before.height} -> ${after.height}`);
  t.true(BigInt(after.timestamp_nanosec) > BigInt(before.timestamp_nanosec));
  t.is(await alice.call(voting, "create_poll", question), 2);
  const first = JSON.parse((await voting.viewState()).getRaw("poll:1").toString());
  const second = JSON.parse((await voting.viewState()).getRaw("poll:2").toString());
  t.true(second.created_at >= first.created_at + 1000);
});

test("a cross-contract call runs its receipts and returns the callback's value", async (t) => {
  const { root, alice } = t.context;
  const counters = [];
  for (const name of ["c1", "c2"]) {
    const counter = await root.createSubAccount(name, { initialBalance: 3n * ONE_NEAR });
    await counter.deploy(example("counter.js"));
    counters.push(counter.accountId);
  }
  await alice.call(counters[1], "increment", {});
  const cross = await root.devDeploy(example("cross_counter.js"),
                                     { initialBalance: 3n * ONE_NEAR });
  const result = await alice.callRaw(cross, "sum", { counters }, { gas: 300_000_000_000_000n });
  t.true(result.succeeded, JSON.stringify(result.Failure));
  t.deepEqual(result.parseResult(), { total: 3, values: [1, 2], failed: [] });
  t.true(result.receipts_outcomes.length >= 4);
  t.is(await root.getAccount(counters[0]).view("get_count"), 1);
});
