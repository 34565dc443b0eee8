// Guest book: anyone signs it; a message with at least 0.01 NEAR attached is "premium".
//
// Demonstrates: the attached deposit as a BigInt in yoctoNEAR, the block height, an
// append-only list in storage (a length key plus one key per item), a paginated async
// view.
//
// Storage layout (UTF-8 text keys and values):
//   "len"     -> number of messages, decimal
//   "m:<i>"   -> JSON {"premium", "sender", "text", "block_height"} of message i (0-based)
//
//   outlayer deploy guestbook.test examples/guest_book.js
//   outlayer call guestbook.test add_message --signer alice.test \
//       --deposit 10000000000000000000000 --args '{"text": "hello"}'
//   outlayer view guestbook.test get_messages --args '{"from_index": 0, "limit": 10}'

const PREMIUM_DEPOSIT = 10n ** 22n; // 0.01 NEAR in yoctoNEAR (1 NEAR = 10^24 yocto)
const MAX_TEXT_LENGTH = 1000;
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;

function count() {
  return Number(near.storageRead('len') || '0');
}

function integer(value, name, fallback) {
  if (value === undefined || value === null) {
    return fallback;
  }
  const n = typeof value === 'string' && /^[0-9]{1,15}$/.test(value) ? Number(value) : value;
  if (!Number.isSafeInteger(n) || n < 0) {
    near.panic(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

// add_message({text}): append a message from the caller; returns its index.
export function add_message(args) {
  const text = args.text;
  if (typeof text !== 'string' || text.trim().length === 0) {
    near.panic('text must be a non-empty string');
  }
  if (text.length > MAX_TEXT_LENGTH) {
    near.panic(`text is ${text.length} characters long, over the limit of ${MAX_TEXT_LENGTH}`);
  }
  const message = {
    premium: near.attachedDeposit() >= PREMIUM_DEPOSIT,
    sender: near.predecessorAccountId(),
    text,
    block_height: Number(near.blockHeight()),
  };
  const i = count();
  near.storageWrite('m:' + i, JSON.stringify(message));
  near.storageWrite('len', (i + 1).toString());
  near.log(`${message.premium ? 'Premium message' : 'Message'} #${i} from ${message.sender}`);
  return i;
}

// Stand-in for an asynchronous source: resolves on the next turn of the job queue.
async function readMessage(i) {
  await null;
  return JSON.parse(near.storageRead('m:' + i));
}

// get_messages({from_index?, limit?}) (view, async): messages from_index .. from_index+limit.
export async function get_messages(args) {
  const from = integer(args.from_index, 'from_index', 0);
  const limit = integer(args.limit, 'limit', DEFAULT_LIMIT);
  if (limit === 0 || limit > MAX_LIMIT) {
    near.panic(`limit must be between 1 and ${MAX_LIMIT}`);
  }
  const end = Math.min(count(), from + limit);
  const reads = [];
  for (let i = from; i < end; i++) {
    reads.push(readMessage(i));
  }
  return Promise.all(reads);
}

// total_messages() (view).
export function total_messages() {
  return count();
}
