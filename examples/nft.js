// Non-fungible token: the core of NEP-171 (plus NEP-177 metadata, the NEP-181 enumeration
// views and NEP-297 events).
//
// Demonstrates: ownership checks on the predecessor, an index kept in storage (each owner's
// token list, updated on mint and transfer), paginated views, 1 yoctoNEAR confirmation.
//
// Not covered here: approvals (NEP-178), royalties, nft_transfer_call (it needs
// cross-contract promises), storage deposits for minting.
//
// Storage layout (UTF-8 text keys and values):
//   "owner_id"        -> the contract owner, the only account that may mint
//   "metadata"        -> JSON of the NEP-177 NFTContractMetadata; its presence means
//                        "initialized"
//   "supply"          -> number of tokens minted, decimal
//   "t:<token_id>"    -> JSON {"owner_id": ..., "metadata": ...} of one token
//   "o:<account_id>"  -> JSON array of the token ids the account owns, oldest first;
//                        removed when the account owns none
//
//   outlayer deploy nft.test examples/nft.js
//   outlayer call nft.test new --signer nft.test --args '{"owner_id": "alice.test"}'
//   outlayer call nft.test nft_mint --signer alice.test \
//       --args '{"token_id": "1", "receiver_id": "bob.test", "metadata": {"title": "One"}}'
//   outlayer call nft.test nft_transfer --signer bob.test --deposit 1 \
//       --args '{"receiver_id": "carol.test", "token_id": "1"}'
//   outlayer view nft.test nft_tokens_for_owner --args '{"account_id": "carol.test"}'

const ACCOUNT_ID = /^(([a-z\d]+[-_])*[a-z\d]+\.)*([a-z\d]+[-_])*[a-z\d]+$/;
const MAX_TOKEN_ID_LENGTH = 128;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 100;

const DEFAULT_METADATA = {
  spec: 'nft-1.0.0',
  name: 'OutLayer Example Collection',
  symbol: 'OLNFT',
  icon: null,
  base_uri: null,
  reference: null,
  reference_hash: null,
};

// --- helpers --------------------------------------------------------------------------

function accountId(value, name) {
  if (typeof value !== 'string' || value.length < 2 || value.length > 64 ||
      !ACCOUNT_ID.test(value)) {
    near.panic(`${name} must be a valid NEAR account id, got ${JSON.stringify(value)}`);
  }
  return value;
}

function tokenId(value) {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_TOKEN_ID_LENGTH) {
    near.panic(`token_id must be a non-empty string of at most ${MAX_TOKEN_ID_LENGTH} ` +
               `characters, got ${JSON.stringify(value)}`);
  }
  return value;
}

// A non-negative integer given as a number or a decimal string (NEP-181 uses U128 strings).
function index(value, name, fallback) {
  if (value === undefined || value === null) {
    return fallback;
  }
  const n = typeof value === 'string' && /^[0-9]{1,15}$/.test(value) ? Number(value) : value;
  if (!Number.isSafeInteger(n) || n < 0) {
    near.panic(`${name} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

function assertInitialized() {
  if (!near.storageHasKey('metadata')) {
    near.panic('The contract is not initialized: call new first');
  }
}

function readJson(key) {
  const text = near.storageRead(key);
  return text === null ? null : JSON.parse(text);
}

function writeJson(key, value) {
  near.storageWrite(key, JSON.stringify(value));
}

function tokensOf(account) {
  return readJson('o:' + account) || [];
}

function setTokensOf(account, ids) {
  if (ids.length === 0) {
    near.storageRemove('o:' + account);
  } else {
    writeJson('o:' + account, ids);
  }
}

// The NEP-171 Token view of a stored record.
function tokenView(id, record) {
  return { token_id: id, owner_id: record.owner_id, metadata: record.metadata };
}

function emit(event, data) {
  near.log('EVENT_JSON:' + JSON.stringify({ standard: 'nep171', version: '1.0.0', event, data }));
}

// --- initialization -------------------------------------------------------------------

// new({owner_id, metadata?}): once, by the contract account itself.
function init(args) {
  if (near.storageHasKey('metadata')) {
    near.panic('The contract is already initialized');
  }
  if (near.predecessorAccountId() !== near.currentAccountId()) {
    near.panic('new can only be called by the contract account itself');
  }
  const owner = accountId(args.owner_id, 'owner_id');
  const metadata = args.metadata === undefined ? DEFAULT_METADATA : args.metadata;
  if (metadata === null || typeof metadata !== 'object' || metadata.spec !== 'nft-1.0.0' ||
      typeof metadata.name !== 'string' || typeof metadata.symbol !== 'string') {
    near.panic('metadata must be a NEP-177 object: spec "nft-1.0.0", name, symbol');
  }
  near.storageWrite('owner_id', owner);
  writeJson('metadata', metadata);
  near.storageWrite('supply', '0');
}

export { init as new };

// --- minting and transfers ------------------------------------------------------------

// nft_mint({token_id, receiver_id, metadata?}): contract owner only; returns the token.
export function nft_mint(args) {
  assertInitialized();
  const caller = near.predecessorAccountId();
  const owner = near.storageRead('owner_id');
  if (caller !== owner) {
    near.panic(`Only the contract owner ${owner} can mint, not ${caller}`);
  }
  const id = tokenId(args.token_id);
  const receiver = accountId(args.receiver_id, 'receiver_id');
  const metadata = args.metadata === undefined ? null : args.metadata;
  if (metadata !== null && (typeof metadata !== 'object' || Array.isArray(metadata))) {
    near.panic('metadata must be a NEP-177 TokenMetadata object or null');
  }
  if (near.storageHasKey('t:' + id)) {
    near.panic(`Token ${id} already exists`);
  }
  const record = { owner_id: receiver, metadata };
  writeJson('t:' + id, record);
  setTokensOf(receiver, [...tokensOf(receiver), id]);
  near.storageWrite('supply', (Number(near.storageRead('supply')) + 1).toString());
  emit('nft_mint', [{ owner_id: receiver, token_ids: [id] }]);
  return tokenView(id, record);
}

// nft_transfer({receiver_id, token_id, approval_id?, memo?}): the token owner gives the
// token away. 1 yoctoNEAR must be attached. Without approvals only the owner may transfer,
// so approval_id has nothing to match and is ignored.
export function nft_transfer(args) {
  if (near.attachedDeposit() !== 1n) {
    near.panic('Requires attached deposit of exactly 1 yoctoNEAR');
  }
  assertInitialized();
  const id = tokenId(args.token_id);
  const receiver = accountId(args.receiver_id, 'receiver_id');
  const memo = args.memo === undefined ? null : args.memo;
  if (memo !== null && typeof memo !== 'string') {
    near.panic('memo must be a string or null');
  }
  const record = readJson('t:' + id);
  if (record === null) {
    near.panic(`Token ${id} not found`);
  }
  const sender = near.predecessorAccountId();
  if (sender !== record.owner_id) {
    near.panic(`Sender ${sender} is not the owner of token ${id}`);
  }
  if (receiver === sender) {
    near.panic('The token owner and the receiver should be different');
  }
  setTokensOf(sender, tokensOf(sender).filter((t) => t !== id));
  setTokensOf(receiver, [...tokensOf(receiver), id]);
  record.owner_id = receiver;
  writeJson('t:' + id, record);
  const event = { old_owner_id: sender, new_owner_id: receiver, token_ids: [id] };
  if (memo !== null) {
    event.memo = memo;
  }
  emit('nft_transfer', [event]);
}

// --- views ----------------------------------------------------------------------------

// nft_token({token_id}): the token, or null.
export function nft_token(args) {
  const id = tokenId(args.token_id);
  const record = readJson('t:' + id);
  return record === null ? null : tokenView(id, record);
}

// nft_tokens_for_owner({account_id, from_index?, limit?}): the account's tokens, in the
// order it received them.
export function nft_tokens_for_owner(args) {
  const account = accountId(args.account_id, 'account_id');
  const from = index(args.from_index, 'from_index', 0);
  const limit = index(args.limit, 'limit', DEFAULT_LIMIT);
  if (limit === 0 || limit > MAX_LIMIT) {
    near.panic(`limit must be between 1 and ${MAX_LIMIT}`);
  }
  return tokensOf(account).slice(from, from + limit)
    .map((id) => tokenView(id, readJson('t:' + id)));
}

// nft_supply_for_owner({account_id}): how many tokens the account owns, decimal string.
export function nft_supply_for_owner(args) {
  return tokensOf(accountId(args.account_id, 'account_id')).length.toString();
}

// nft_total_supply(): tokens minted, decimal string.
export function nft_total_supply() {
  assertInitialized();
  return near.storageRead('supply');
}

// nft_metadata(): the NEP-177 contract metadata.
export function nft_metadata() {
  assertInitialized();
  return readJson('metadata');
}
