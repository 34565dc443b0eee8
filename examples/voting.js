// Voting: anyone creates a poll; every account votes once per poll; the creator may close
// it; anyone reads the results.
//
// Demonstrates: several record types under prefixed keys, a "one per account" rule checked
// with near.storageHasKey, counters kept in storage, a creator-only action.
//
// Storage layout (UTF-8 text keys and values):
//   "polls"                      -> number of polls created, decimal (poll ids are 1..polls)
//   "poll:<id>"                  -> JSON {"question", "options", "creator", "created_at",
//                                   "closed"} (created_at = block height)
//   "tally:<id>"                 -> JSON array of vote counts, one per option
//   "vote:<id>:<account_id>"     -> index of the option the account chose
//
//   outlayer deploy vote.test examples/voting.js
//   outlayer call vote.test create_poll --signer alice.test \
//       --args '{"question": "Tabs or spaces?", "options": ["tabs", "spaces"]}'
//   outlayer call vote.test vote --signer bob.test --args '{"poll_id": 1, "option": "tabs"}'
//   outlayer view vote.test results --args '{"poll_id": 1}'

const MAX_QUESTION_LENGTH = 200;
const MAX_OPTION_LENGTH = 100;
const MIN_OPTIONS = 2;
const MAX_OPTIONS = 10;

function readJson(key) {
  const text = near.storageRead(key);
  return text === null ? null : JSON.parse(text);
}

function writeJson(key, value) {
  near.storageWrite(key, JSON.stringify(value));
}

function pollId(value) {
  const n = typeof value === 'string' && /^[0-9]{1,15}$/.test(value) ? Number(value) : value;
  if (!Number.isSafeInteger(n) || n < 1) {
    near.panic(`poll_id must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return n;
}

function getPoll(id) {
  const poll = readJson('poll:' + id);
  if (poll === null) {
    near.panic(`Poll ${id} does not exist`);
  }
  return poll;
}

// create_poll({question, options}): returns the new poll's id.
export function create_poll(args) {
  const { question, options } = args;
  if (typeof question !== 'string' || question.trim().length === 0 ||
      question.length > MAX_QUESTION_LENGTH) {
    near.panic(`question must be a non-empty string of at most ${MAX_QUESTION_LENGTH} ` +
               'characters');
  }
  if (!Array.isArray(options) || options.length < MIN_OPTIONS || options.length > MAX_OPTIONS) {
    near.panic(`options must be an array of ${MIN_OPTIONS} to ${MAX_OPTIONS} strings`);
  }
  for (const option of options) {
    if (typeof option !== 'string' || option.trim().length === 0 ||
        option.length > MAX_OPTION_LENGTH) {
      near.panic(`every option must be a non-empty string of at most ${MAX_OPTION_LENGTH} ` +
                 `characters, got ${JSON.stringify(option)}`);
    }
  }
  if (new Set(options).size !== options.length) {
    near.panic('options must be distinct');
  }
  const id = Number(near.storageRead('polls') || '0') + 1;
  const creator = near.predecessorAccountId();
  writeJson('poll:' + id, {
    question, options, creator, created_at: Number(near.blockHeight()), closed: false,
  });
  writeJson('tally:' + id, options.map(() => 0));
  near.storageWrite('polls', id.toString());
  near.log(`${creator} created poll ${id}: ${question}`);
  return id;
}

// vote({poll_id, option}): `option` is the option's text or its 0-based index.
export function vote(args) {
  const id = pollId(args.poll_id);
  const poll = getPoll(id);
  if (poll.closed) {
    near.panic(`Poll ${id} is closed`);
  }
  const { option } = args;
  const choice = typeof option === 'string' ? poll.options.indexOf(option) : option;
  if (!Number.isInteger(choice) || choice < 0 || choice >= poll.options.length) {
    near.panic(`Poll ${id} has no option ${JSON.stringify(option)}; options: ` +
               poll.options.map((o) => JSON.stringify(o)).join(', '));
  }
  const voter = near.predecessorAccountId();
  const voteKey = `vote:${id}:${voter}`;
  if (near.storageHasKey(voteKey)) {
    near.panic(`${voter} has already voted in poll ${id}`);
  }
  near.storageWrite(voteKey, choice.toString());
  const tally = readJson('tally:' + id);
  tally[choice] += 1;
  writeJson('tally:' + id, tally);
  near.log(`${voter} voted for ${JSON.stringify(poll.options[choice])} in poll ${id}`);
}

// close_poll({poll_id}): the creator stops the voting.
export function close_poll(args) {
  const id = pollId(args.poll_id);
  const poll = getPoll(id);
  const caller = near.predecessorAccountId();
  if (caller !== poll.creator) {
    near.panic(`Only the creator ${poll.creator} can close poll ${id}`);
  }
  if (poll.closed) {
    near.panic(`Poll ${id} is already closed`);
  }
  poll.closed = true;
  writeJson('poll:' + id, poll);
  near.log(`${caller} closed poll ${id}`);
}

// results({poll_id}) (view): the counts per option and the leading options.
export function results(args) {
  const id = pollId(args.poll_id);
  const poll = getPoll(id);
  const tally = readJson('tally:' + id);
  const total = tally.reduce((a, b) => a + b, 0);
  const top = Math.max(...tally);
  return {
    poll_id: id,
    question: poll.question,
    closed: poll.closed,
    options: poll.options.map((option, i) => ({ option, votes: tally[i] })),
    total_votes: total,
    leaders: total === 0 ? [] : poll.options.filter((_, i) => tally[i] === top),
  };
}

// get_vote({poll_id, account_id}) (view): the option the account chose, or null.
export function get_vote(args) {
  const id = pollId(args.poll_id);
  const poll = getPoll(id);
  if (typeof args.account_id !== 'string') {
    near.panic('account_id must be a string');
  }
  const choice = near.storageRead(`vote:${id}:${args.account_id}`);
  return choice === null ? null : poll.options[Number(choice)];
}

// poll_count() (view).
export function poll_count() {
  return Number(near.storageRead('polls') || '0');
}
