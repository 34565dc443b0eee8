// What a near-workspaces suite changes to run against `outlayer serve`: how it makes its
// Worker. near-workspaces' "custom" network talks to a node that is already running (its
// "sandbox" network always spawns a near-sandbox binary of its own), configured by:
//   OUTLAYER_RPC       the node's JSON-RPC address (`outlayer serve` prints it)
//   OUTLAYER_ROOT_KEY  the root account's key file, near-cli format
//                      (`outlayer serve` writes .outlayer/keys/localnet/test.near.json)
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { KeyPair, keyStores } from "near-api-js";
import { ONE_NEAR, Worker } from "near-workspaces";

/** Worker.init's config for the node: network "custom", its address, root account and key. */
export async function outlayerConfig() {
  const rpcAddr = process.env.OUTLAYER_RPC;
  const keyFile = process.env.OUTLAYER_ROOT_KEY;
  if (!rpcAddr || !keyFile) {
    throw new Error("set OUTLAYER_RPC (the `outlayer serve` address) and OUTLAYER_ROOT_KEY "
                    + "(its root key file, .outlayer/keys/localnet/test.near.json)");
  }
  const credentials = JSON.parse(readFileSync(keyFile, "utf8"));
  // the custom network's default key store is a new empty one on every access, so the
  // suite passes its own: the keys of the accounts the tests create are kept here too
  const keyStore = new keyStores.InMemoryKeyStore();
  await keyStore.setKey("custom", credentials.account_id,
                        KeyPair.fromString(credentials.private_key));
  // new accounts get 100 NEAR unless told otherwise, as on near-sandbox
  return { network: "custom", rpcAddr, rootAccountId: credentials.account_id, keyStore,
           initialBalance: 100n * ONE_NEAR };
}

/**
 * `Worker.init()` for `outlayer serve`: a Worker whose root account is a fresh account
 * (w-<random>.test.near, `rootBalance` yoctoNEAR), so tests that each make their own
 * Worker and reuse account names (`root.createSubAccount("alice")`) do not collide on the
 * one shared node, as each near-sandbox Worker has a chain of its own.
 *
 * The name has 64 random bits. near-workspaces' `devCreateAccount` is not used: its names
 * are the clock's millisecond and about 3,000 possible suffixes. Tests that start together
 * share that millisecond, so two of them got the same name about once in a hundred runs,
 * and the second creation failed with AccountAlreadyExists.
 */
export async function outlayerWorker({ rootBalance = 1000n * ONE_NEAR } = {}) {
  const config = await outlayerConfig();
  const shared = await Worker.init(config);
  const name = `w-${randomBytes(8).toString("hex")}`;
  const root = await oneAtATime(
    () => shared.rootAccount.createSubAccount(name, { initialBalance: rootBalance }));
  return Worker.init({ ...config, rootAccountId: root.accountId });
}

// Every root is made by the genesis account's one key. near-api-js signs with the key's
// nonce + 1, so transactions sent together collide (InvalidNonce) and retry with backoff,
// 12 times at most: a suite that starts dozens of Workers at once could run out. This
// process sends them one at a time (ava runs each test file in a process of its own).
let queue = Promise.resolve();
function oneAtATime(task) {
  const run = queue.then(task, task);
  queue = run.catch(() => {});
  return run;
}

/** A contract of the repo's examples/ folder (OutLayer JS contracts: the code is the module). */
export function example(name) {
  return fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url));
}
