// near-api-js, unmodified, against a live `outlayer serve`: the chain-info and state-change
// methods (validators, chunk, receipt, block and account changes, light client).
//   node chain_info.mjs <rpc url> <key file of test.near> <contract file>
// Deploys the contract to test.near, calls it once, then reads that call's block through
// the provider; prints one JSON report (tests/service/test_rpc_changes.py checks it).
import { readFileSync } from "node:fs";
import { Account, JsonRpcProvider, actions } from "near-api-js";

const [url, keyFile, contractFile] = process.argv.slice(2);
const credentials = JSON.parse(readFileSync(keyFile, "utf8"));
const provider = new JsonRpcProvider({ url }, { retries: 1 });
const root = new Account(credentials.account_id, provider, credentials.private_key);
const self = credentials.account_id;

const report = {};
const deployed = await root.deployContract(new Uint8Array(readFileSync(contractFile)));
report.deploy_block = deployed.transaction_outcome.block_hash;
const call = await root.signAndSendTransaction({
  receiverId: self, actions: [actions.functionCall("increment", {}, 30_000_000_000_000n, 0n)],
});
const blockId = call.transaction_outcome.block_hash;
report.call_block = blockId;
report.call_tx = call.transaction_outcome.id;
report.call_receipt = call.receipts_outcome[0].id;

report.validators = await provider.viewValidators();
report.validators_at = await provider.viewValidators({ blockId });
report.block_changes = await provider.blockChanges({ blockId });
report.account_changes = await provider.accountChanges([self], { blockId });
report.access_key_changes = await provider.accessKeyChanges([self], { blockId });
report.single_key_changes = await provider.singleAccessKeyChanges(
  [{ account_id: self, public_key: credentials.public_key }], { blockId });
report.state_changes = await provider.contractStateChanges([self], { blockId });
report.code_changes = await provider.contractCodeChanges([self], { blockId: report.deploy_block });
report.final_changes = await provider.blockChanges({ finality: "final" });

const block = await provider.viewBlock({ blockId });
report.chunk_hash = block.chunks[0].chunk_hash;
report.chunk = await provider.viewChunk(report.chunk_hash);
// by block: near-api-js sends [[height, shard_id]], nearcore's form
report.chunk_by_height = await provider.viewChunk([block.header.height, 0]);
report.chunk_by_block_hash = await provider.viewChunk([blockId, 0]);
report.receipt = await provider.viewTransactionReceipt(report.call_receipt);

async function failure(fn) {
  try { await fn(); return null; } catch (e) { return e.constructor.name + ": " + e.message; }
}
report.light_client_error = await failure(
  () => provider.nextLightClientBlock({ last_block_hash: blockId }));
report.unknown_chunk_error = await failure(
  () => provider.viewChunk("11111111111111111111111111111111"));
console.log(JSON.stringify(report));
