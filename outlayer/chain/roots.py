"""Merkle roots that make a block's state and outcomes checkable (docs/EXECUTION_MODEL.md,
"Verifiable history", is the specification; keep the two in step).

Every hash is a tagged hash: ``H(tag, f1, ..., fn) = sha256(lp(tag) || lp(f1) || ... ||
lp(fn))`` with ``lp(x) = len(x) as u32 LE || x``, so no two different field lists (or
domains) hash the same bytes. A Merkle root over an ordered list of leaf hashes pairs
neighbours level by level with ``H("outlayer/merkle/node", left, right)``; an odd last
element moves up unchanged; the root is ``H("outlayer/merkle/root", n as u64 LE, top)``
(top = b"" for the empty list), so the leaf count is committed too.
"""

from __future__ import annotations

import functools
import hashlib
import json
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import base58

if TYPE_CHECKING:
    from outlayer.chain.store import AccessKeyRecord, Account, SQLiteStore

NODE = "outlayer/merkle/node"
ROOT = "outlayer/merkle/root"
ZERO_HASH = bytes(32)


def _lp(data: bytes) -> bytes:
    return len(data).to_bytes(4, "little") + data


def tagged_hash(tag: str, *fields: bytes) -> bytes:
    """sha256(lp(tag) || lp(field)...): the one hash every root is made of."""
    h = _tag_state(tag).copy()  # the tag's part hashed once
    update, pack = h.update, _U32.pack
    for f in fields:
        update(pack(len(f)))
        update(f)
    return h.digest()


_U32 = struct.Struct("<I")


@functools.lru_cache(maxsize=128)
def _tag_state(tag: str) -> Any:
    return hashlib.sha256(_lp(tag.encode("ascii")))


def u64(n: int) -> bytes:
    return n.to_bytes(8, "little")


def u128(n: int) -> bytes:
    return n.to_bytes(16, "little")


def canonical_json(value: Any) -> bytes:
    """Keys sorted, no spaces, ASCII only: one byte string per JSON value."""
    return _CANONICAL.encode(value).encode()


#: what `json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=True)` makes a new
#: encoder for on every call
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)


#: H(NODE, a, b) for 32-byte a and b, as one prefix + one update (the hot loop)
_NODE_PREFIX = hashlib.sha256(_lp(NODE.encode("ascii")))
_LP32 = (32).to_bytes(4, "little")


def _node(left: bytes, right: bytes) -> bytes:
    if len(left) != 32 or len(right) != 32:
        return tagged_hash(NODE, left, right)
    h = _NODE_PREFIX.copy()
    h.update(_LP32 + left + _LP32 + right)
    return h.digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    level = list(leaves)
    count = len(level)
    while len(level) > 1:
        paired = [_node(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return tagged_hash(ROOT, u64(count), level[0] if level else b"")


# --- state -------------------------------------------------------------------------------


def _text(value: str | None) -> bytes:
    return b"" if value is None else value.encode("utf-8")


def account_leaf(a: Account, contract: str | None = None) -> bytes:
    """`contract`: the global contract identifier the account uses (NEP-591), a last field
    only when there is one (the leaves of other accounts stay as they were)."""
    code = _b58decode(a.code_hash) if a.code_hash else b""
    fields = [a.account_id.encode(), u128(a.balance), u128(a.locked), code,
              u64(a.storage_usage), u64(a.created_height), _text(a.public_key),
              _realm_json(a.realm)]
    if contract is not None:
        fields.append(contract.encode())
    return tagged_hash("outlayer/state/account", *fields)


def global_contract_leaf(identifier: str, code_hash: str) -> bytes:
    return tagged_hash("outlayer/state/global_contract", identifier.encode(),
                       _b58decode(code_hash))


def _state(accounts: bytes, inflight: bytes, global_leaves: list[bytes]) -> bytes:
    """The state root over its parts; a chain with global contracts commits their root as
    a third part (a chain without keeps the two-part root it always had)."""
    if not global_leaves:
        return tagged_hash("outlayer/state", accounts, inflight)
    return tagged_hash("outlayer/state", accounts, inflight, merkle_root(global_leaves))


def _global_leaves(store: SQLiteStore) -> list[bytes]:
    return [global_contract_leaf(i, h) for i, h in store.global_contracts()]


@functools.lru_cache(maxsize=256)
def _realm_json(realm: str) -> bytes:
    """A stored realm option text in canonical form (a few distinct texts, hashed often)."""
    return canonical_json(json.loads(realm))


def access_key_leaf(k: AccessKeyRecord) -> bytes:
    return tagged_hash("outlayer/state/access_key", k.account_id.encode(),
                       k.public_key.encode(), u64(k.nonce), canonical_json(k.permission))


def stake_proposal_leaf(account_id: str, stake: int, public_key: str) -> bytes:
    return tagged_hash("outlayer/state/stake_proposal", account_id.encode(), u128(stake),
                       public_key.encode())


def data_leaf(account_id: str, key: bytes, value: bytes) -> bytes:
    return tagged_hash("outlayer/state/data", account_id.encode(), key, value)


def account_subroot(store: SQLiteStore, account_id: str) -> bytes | None:
    """Merkle root of one account: its record, its keys (by public key), its storage (by
    key bytes); None when the account does not exist."""
    account = store.get_account(account_id)
    if account is None:
        return None
    leaves = [account_leaf(account, store.get_account_contract(account_id))]
    proposal = store.get_stake_proposal(account_id)
    if proposal is not None:
        leaves.append(stake_proposal_leaf(account_id, *proposal))
    leaves += [access_key_leaf(k) for k in store.access_keys(account_id)]
    leaves += [data_leaf(account_id, k, v) for k, v in store.storage_items(account_id)]
    return merkle_root(leaves)


def account_top_leaf(account_id: str, subroot: bytes) -> bytes:
    return tagged_hash("outlayer/state/account_root", account_id.encode(), subroot)


def inflight_root(store: SQLiteStore) -> bytes:
    """Receipts in flight are state too: a checkpoint must carry them to continue."""
    return merkle_root([leaf for table in INFLIGHT_TABLES
                        for leaf in _inflight_leaves(store, table)])


def _inflight_leaves(store: SQLiteStore, table: str) -> list[bytes]:
    """The leaves of one table of receipts in flight, in its primary-key order."""
    rows = store.table_rows(table)
    if table == "receipt_queue":
        return [tagged_hash("outlayer/inflight/queued", u64(pos), u64(height), body.encode())
                for pos, (_seq, height, _rid, _tx, body) in enumerate(rows)]
    if table == "postponed_receipts":
        return [tagged_hash("outlayer/inflight/postponed", rid.encode(), account_id.encode(),
                            u64(pending), body.encode())
                for rid, account_id, _tx, pending, body in rows]
    if table == "postponed_data_ids":
        return [tagged_hash("outlayer/inflight/awaited", account_id.encode(), data_id,
                            rid.encode()) for account_id, data_id, rid in rows]
    if table == "received_data":
        return [tagged_hash("outlayer/inflight/data", account_id.encode(), data_id,
                            bytes([ok]), data or b"") for account_id, data_id, ok, data in rows]
    if table == "yields":
        return [tagged_hash("outlayer/inflight/yield", u64(pos), account_id.encode(), data_id,
                            u64(expires), bytes([timed_out]), body.encode())
                for pos, (_seq, account_id, data_id, expires, timed_out, body)
                in enumerate(rows)]
    assert table == "suspensions", table
    return [tagged_hash("outlayer/inflight/suspension", rid.encode(), account_id.encode(),
                        u64(height), memory) for rid, account_id, height, memory in rows]


def state_root(store: SQLiteStore, touched: Iterable[str] | None = None) -> bytes:
    """The state root. `touched`: refresh only these accounts' cached top leaves (the rest
    are unchanged since they were cached); None: recompute everything, trust no cache."""
    if touched is None:
        leaves = [_top_leaf(store, a) for a in store.account_ids()]
    else:
        for account_id in touched:
            store.put_account_root(account_id, _top_leaf(store, account_id))
        leaves = [leaf for _a, leaf in store.account_roots()]
    accounts = merkle_root([leaf for leaf in leaves if leaf is not None])
    return _state(accounts, inflight_root(store), _global_leaves(store))


def _top_leaf(store: SQLiteStore, account_id: str) -> bytes | None:
    subroot = account_subroot(store, account_id)
    return None if subroot is None else account_top_leaf(account_id, subroot)


#: the tables `inflight_root` reads, in its order
INFLIGHT_TABLES = ("receipt_queue", "postponed_receipts", "postponed_data_ids",
                   "received_data", "yields", "suspensions")


class RootCache:
    """The leaves of the last state root this process computed, so the next block re-reads
    and re-hashes only what it changed (the rows `state_changes` lists for it): the root is
    the same function of the state as `state_root`, only computed with less work.

    Valid for exactly one block, the one whose hash `block_hash` names: a block whose
    previous hash is another (another process wrote blocks, a block was rolled back, the
    first block after opening) recomputes from the store and refills the cache.
    """

    def __init__(self) -> None:
        self.block_hash: bytes | None = None
        self._tops: dict[str, bytes] = {}  # account -> top leaf
        #: account -> the leaves of its record, stake proposal (if any) and access keys
        self._heads: dict[str, tuple[bytes, list[bytes], list[bytes]]] = {}
        self._storage: dict[str, dict[bytes, bytes]] = {}  # account -> key -> data leaf
        self._inflight: dict[str, list[bytes]] = {}  # table -> its leaves
        self._globals: list[bytes] | None = None  # global contract leaves

    def state_root(self, store: SQLiteStore, height: int, prev_hash: bytes) -> bytes:
        """The state root at the end of block `height` (open, about to be sealed on top of
        the block `prev_hash`); call `sealed(hash)` once the block has its hash."""
        valid = self.block_hash is not None and self.block_hash == prev_hash
        self.block_hash = None  # a failure before `sealed` leaves the cache invalid
        if not valid:
            self._tops.clear()
            self._heads.clear()
            self._storage.clear()
            self._inflight.clear()
            self._globals = None
        touched: dict[str, set[str]] = {}  # account -> its tables that changed
        keys: dict[str, set[bytes]] = {}
        tables: set[str] = set()
        for table, account_id, pk in store.block_changes(height):
            tables.add(table)
            if account_id is not None:
                touched.setdefault(account_id, set()).add(table)
                if table == "state":
                    keys.setdefault(account_id, set()).add(bytes.fromhex(json.loads(pk)[1]))
        for account_id in sorted(touched):
            leaf = self._top_leaf(store, account_id, touched[account_id],
                                  keys.get(account_id, set()))
            store.put_account_root(account_id, leaf)
            if leaf is None:
                self._tops.pop(account_id, None)
            else:
                self._tops[account_id] = leaf
        if not valid:
            self._tops = dict(store.account_roots())
        accounts = merkle_root([self._tops[a] for a in sorted(self._tops)])
        if self._globals is None or "global_contracts" in tables:
            self._globals = _global_leaves(store)
        return _state(accounts, self._inflight_root(store, tables), self._globals)

    def sealed(self, block_hash: bytes) -> None:
        self.block_hash = block_hash

    def _top_leaf(self, store: SQLiteStore, account_id: str, tables: set[str],
                  changed: set[bytes]) -> bytes | None:
        """`account_subroot`'s leaves, re-read only from the tables (and storage keys)
        the block changed for this account."""
        head = self._heads.get(account_id)
        if head is None or "accounts" in tables or "account_contracts" in tables:
            account = store.get_account(account_id)
            if account is None:
                self._heads.pop(account_id, None)
                self._storage.pop(account_id, None)
                return None
            record = account_leaf(account, store.get_account_contract(account_id))
        else:
            record = head[0]
        if head is None or "stake_proposals" in tables:
            proposal = store.get_stake_proposal(account_id)
            stake = [] if proposal is None else [stake_proposal_leaf(account_id, *proposal)]
        else:
            stake = head[1]
        if head is None or "access_keys" in tables:
            keys = [access_key_leaf(k) for k in store.access_keys(account_id)]
        else:
            keys = head[2]
        self._heads[account_id] = (record, stake, keys)
        leaves = [record, *stake, *keys]
        data = self._storage.get(account_id)
        if data is None:  # not cached: every key, once
            data = {k: data_leaf(account_id, k, v) for k, v in store.storage_items(account_id)}
            self._storage[account_id] = data
        else:
            for key in changed:
                value = store.storage_get(account_id, key)
                if value is None:
                    data.pop(key, None)
                else:
                    data[key] = data_leaf(account_id, key, value)
        leaves += [data[k] for k in sorted(data)]
        return account_top_leaf(account_id, merkle_root(leaves))

    def _inflight_root(self, store: SQLiteStore, changed: set[str]) -> bytes:
        leaves: list[bytes] = []
        for table in INFLIGHT_TABLES:
            cached = self._inflight.get(table)
            if cached is None or table in changed:
                cached = self._inflight[table] = _inflight_leaves(store, table)
            leaves += cached
        return merkle_root(leaves)


# --- outcomes, inputs, blocks -------------------------------------------------------------


def outcome_leaf(record: dict[str, Any]) -> bytes:
    return outcome_leaf_of(canonical_json(record))


def outcome_leaf_of(encoded: bytes) -> bytes:
    """`outcome_leaf` of a record already in `canonical_json` form."""
    return tagged_hash("outlayer/outcome", encoded)


def outcomes_root(records: Iterable[dict[str, Any]]) -> bytes:
    """Over the block's outcomes (transactions converted, receipts run) in execution order."""
    return merkle_root([outcome_leaf(r) for r in records])


def input_leaf(kind: str, body: dict[str, Any]) -> bytes:
    return tagged_hash("outlayer/input", kind.encode(), canonical_json(body))


def inputs_root(entries: Iterable[tuple[str, dict[str, Any]]]) -> bytes:
    """Over what was recorded for the block (control operations, then the block itself)."""
    return merkle_root([input_leaf(kind, body) for kind, body in entries])


def config_hash(config: dict[str, Any]) -> bytes:
    """The first block's `prev_hash`: the chain's configuration, committed."""
    return tagged_hash("outlayer/chain_config", canonical_json(config))


@dataclass(frozen=True)
class BlockRoots:
    state_root: bytes
    outcomes_root: bytes
    inputs_root: bytes
    hash: bytes


def block_hash(height: int, timestamp_ns: int, random_seed: bytes, prev_hash: bytes,
               state: bytes, outcomes: bytes, inputs: bytes) -> bytes:
    return tagged_hash("outlayer/block", u64(height), u64(timestamp_ns), random_seed,
                       prev_hash, state, outcomes, inputs)


@functools.lru_cache(maxsize=4096)
def _b58decode(text: str) -> bytes:
    """Code hashes repeat block after block: decode each once."""
    return base58.b58decode(text)
