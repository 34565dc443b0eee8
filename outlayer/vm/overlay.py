"""The call's storage overlay: buffered changes over committed state, plus the access log.

VMLogic never writes through to the `StorageView`. Every write or remove lands in
`changes`; the caller commits them only if the call succeeds. Every access is appended to
`access_log` in order, for the result digest.

Trie-node model (gas). nearcore charges ``touching_trie_node`` per node on the trie path
of a key it looks up in committed state, ``read_cached_trie_node`` per node it had already
touched in the chunk, and nothing for a key already in the receipt's own pending changes
(TrieUpdate answers those from memory). The trie's shape is not part of the simulator, so
we count each lookup as ONE node:

- key already written or removed in this call: no trie charge;
- first lookup of a key in committed state: 1 x touching_trie_node;
- later lookups of that key in the same call: 1 x read_cached_trie_node.

Every storage op does one lookup (storage_write and storage_remove look up the old value
first, as nearcore does). The model is deterministic and depends only on the call's own
sequence of accesses.
"""

from __future__ import annotations

from typing import Literal

from outlayer.vm.interfaces import StorageView

#: Trie charge of a lookup: none (pending change), cached node, fresh node.
TOUCH_NONE, TOUCH_CACHED, TOUCH_TRIE = 0, 1, 2

AccessOp = Literal["read", "has_key", "write", "remove"]
#: (op, key, value): for read/has_key/remove the value present before the op (None if
#: absent); for write the value written.
AccessEntry = tuple[AccessOp, bytes, bytes | None]


class StorageOverlay:
    """Pending changes (key -> value, None = removed) over a read-only committed view."""

    __slots__ = ("view", "changes", "access_log", "_committed")

    def __init__(self, view: StorageView) -> None:
        self.view = view
        self.changes: dict[bytes, bytes | None] = {}
        self.access_log: list[AccessEntry] = []
        self._committed: dict[bytes, bytes | None] = {}  # committed values looked up so far

    def _lookup(self, key: bytes) -> tuple[bytes | None, int]:
        changes = self.changes
        if key in changes:
            return changes[key], TOUCH_NONE
        committed = self._committed
        if key in committed:
            return committed[key], TOUCH_CACHED
        value = self.view.get(key)
        committed[key] = value
        return value, TOUCH_TRIE

    def read(self, key: bytes) -> tuple[bytes | None, int]:
        """The current value of `key` and the lookup's trie charge."""
        value, touch = self._lookup(key)
        self.access_log.append(("read", key, value))
        return value, touch

    def has_key(self, key: bytes) -> tuple[bool, int]:
        value, touch = self._lookup(key)
        self.access_log.append(("has_key", key, value))
        return value is not None, touch

    def write(self, key: bytes, value: bytes) -> tuple[bytes | None, int]:
        """Set `key`; returns the value it replaced (None if new) and the trie charge."""
        old, touch = self._lookup(key)
        self.changes[key] = value
        self.access_log.append(("write", key, value))
        return old, touch

    def remove(self, key: bytes) -> tuple[bytes | None, int]:
        """Remove `key` (recorded even if absent, like nearcore); returns the old value."""
        old, touch = self._lookup(key)
        self.changes[key] = None
        self.access_log.append(("remove", key, old))
        return old, touch

    def sorted_changes(self) -> dict[bytes, bytes | None]:
        """Pending changes ordered by key (bytewise), as committed and digested."""
        return dict(sorted(self.changes.items()))
