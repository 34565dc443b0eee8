// Status message: every account keeps one public status line.
//
// Demonstrates: per-account storage keyed by near.predecessorAccountId(), views that take
// arguments, input validation that fails the call with near.panic (a failed call changes
// nothing), removing a key, logs.
//
// Storage layout (UTF-8 text keys and values):
//   "status:<account_id>" -> that account's message
//
//   outlayer deploy status.test examples/status_message.js
//   outlayer call status.test set_status --args '{"message": "hello"}' --signer alice.test
//   outlayer view status.test get_status --args '{"account_id": "alice.test"}'

const MAX_LENGTH = 280; // characters (Unicode code points), like a short post

function statusKey(accountId) {
  return 'status:' + accountId;
}

function requireString(value, name) {
  if (typeof value !== 'string') {
    near.panic(`${name} must be a string`);
  }
  return value;
}

// set_status({message}): store `message` as the caller's status; returns the account id.
export function set_status(args) {
  const message = requireString(args.message, 'message');
  const length = Array.from(message).length;
  if (length === 0) {
    near.panic('message must not be empty (use clear_status to remove it)');
  }
  if (length > MAX_LENGTH) {
    near.panic(`message is ${length} characters long, over the limit of ${MAX_LENGTH}`);
  }
  const accountId = near.predecessorAccountId();
  const replaced = near.storageWrite(statusKey(accountId), message);
  near.log(`${accountId} ${replaced ? 'updated' : 'set'} status: ${message}`);
  return accountId;
}

// clear_status(): remove the caller's status; returns whether there was one.
export function clear_status() {
  const accountId = near.predecessorAccountId();
  const removed = near.storageRemove(statusKey(accountId));
  if (removed) {
    near.log(`${accountId} cleared status`);
  }
  return removed;
}

// get_status({account_id}) (view): the account's message, or null.
export function get_status(args) {
  const accountId = requireString(args.account_id, 'account_id');
  return near.storageRead(statusKey(accountId));
}
